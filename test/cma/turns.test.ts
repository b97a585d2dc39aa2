/** Turns of the event loop handed out one at a time (the daemon's heavy per-device steps). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Turns } from '../../src/cma/turns.js';

test('steps that take turns run one per turn of the loop, in order, with timers in between', async () => {
  const turns = new Turns();
  const seen: string[] = [];
  const steps = [0, 1, 2, 3].map(async (i) => {
    await turns.take();
    seen.push(`step ${i}`);
    // Work that wakes up next turn (a timer here, a socket read in the daemon) gets in before the next step.
    setTimeout(() => seen.push(`timer ${i}`), 0);
    const until = Date.now() + 2;
    while (Date.now() < until); // a step's synchronous work
  });
  await Promise.all(steps);
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, ['step 0', 'timer 0', 'step 1', 'timer 1', 'step 2', 'timer 2', 'step 3', 'timer 3']);
});

test('all steps at once: each in a turn of its own, every one of them run', async () => {
  const turns = new Turns();
  let running = 0;
  let overlapped = false;
  let done = 0;
  await Promise.all(
    Array.from({ length: 500 }, async () => {
      await turns.take();
      running++;
      if (running > 1) overlapped = true;
      await Promise.resolve(); // microtasks of the same step stay in its turn
      running--;
      done++;
    }),
  );
  assert.equal(done, 500);
  assert.equal(overlapped, false);
});

test('quiet: at once with no step waiting, once the waiting steps ran, or after its turns when they keep coming', async () => {
  const turns = new Turns();
  await turns.quiet(1); // nothing waiting

  let ran = 0;
  const steps = Array.from({ length: 10 }, async () => {
    await turns.take();
    ran++;
  });
  await turns.quiet(1000);
  assert.equal(ran, 10, 'every step waiting when quiet was asked ran before it resolved');
  await Promise.all(steps);

  // Steps that never stop coming: quiet still resolves after its turns.
  let stop = false;
  const endless = (async () => {
    while (!stop) await turns.take();
  })();
  let guard: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    turns.quiet(5).then(() => true),
    new Promise<boolean>((r) => (guard = setTimeout(() => r(false), 5000))),
  ]);
  clearTimeout(guard);
  stop = true;
  await endless;
  assert.equal(ended, true, 'quiet resolved while steps kept coming');
});
