/**
 * The simulated platform with its emulators in device threads: the mailboxes answer as before,
 * whole flows run against emulators in a worker thread, a reset gives the function a fresh
 * emulator there, and closing the platform ends the threads (the process is not held open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowHandle, runFlow } from '../../src/cma/flow.js';
import { systemRandom } from '../../src/crypto/random.js';
import { loadDefaultPlatform } from '../../src/platform/default.js';
import { systemClock } from '../../src/transport/clock.js';

const GOOD = '0000:01:00.0';

async function authenticate(platform: ReturnType<typeof loadDefaultPlatform>, bdf: string) {
  const fn = (await platform.functions()).find((f) => f.bdf === bdf);
  assert.ok(fn);
  return runFlow(
    fn,
    {
      clock: systemClock,
      random: systemRandom,
      nonce: systemRandom(32),
      slot: 0,
      authenticate: { requireChallenge: true },
    },
    new FlowHandle(),
  );
}

test('flows run against emulators in a device thread, a reset gives a fresh one, close ends the threads', async () => {
  const platform = loadDefaultPlatform({ deviceThreads: 1 });
  try {
    const first = await authenticate(platform, GOOD);
    assert.equal(first.error, undefined);
    assert.equal(first.evidence?.signatures.length, 2);
    // A misbehaving model runs there too: its fault layer goes with it.
    const misbehaving = await authenticate(platform, '0000:0d:00.0');
    assert.equal(misbehaving.doe, 'cma');
    await platform.inject({ type: 'flr', bdf: GOOD });
    const again = await authenticate(platform, GOOD);
    assert.equal(again.error, undefined);
    assert.notEqual(again.evidence?.signatures[0]?.responderNonce, first.evidence?.signatures[0]?.responderNonce);
  } finally {
    await platform.close();
  }
  await assert.rejects(authenticate(platform, GOOD));
});

test('device threads refuse a custom random source (it cannot cross into a thread)', () => {
  assert.throws(() => loadDefaultPlatform({ deviceThreads: 1, random: (n) => new Uint8Array(n) }), TypeError);
  assert.throws(() => loadDefaultPlatform({ deviceThreads: 65 }), TypeError);
});
