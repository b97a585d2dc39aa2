/**
 * Crash safety of the SQLite log: a writer process is SIGKILLed at random points, again and again,
 * on one log file whose state accumulates. After every kill every acknowledged append is there,
 * the whole log verifies, and the next append works. SPDMKIT_CRASH_KILLS changes the count,
 * SPDMKIT_CRASH_SEED repeats a run's timing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Evidence } from '../../src/evidence/evidence.js';
import { makeEvidence, SUITES, tempDir } from './helpers.js';
import {
  checkAfterCrash,
  KillTally,
  prng,
  recordAcks,
  seedFromEnv,
  sleep,
  startCrashChild,
  type Ack,
  type CheckResult,
  type CrashChild,
} from './crash.js';

const tmp = tempDir('spdmkit-crash-');
after(() => tmp.cleanup());

const KILLS = Number(process.env['SPDMKIT_CRASH_KILLS'] ?? 100);

test(`SQLite: ${KILLS} SIGKILLs of a writer at random points lose no acknowledged append, and the log verifies after each`, async (t) => {
  const seed = seedFromEnv();
  const rand = prng(seed);
  const base = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'crash' });
  const evidenceFile = tmp.file('evidence.json');
  writeFileSync(evidenceFile, JSON.stringify([base]));
  const target = tmp.file('crash.sqlite');
  const keyFile = tmp.file('crash.key');
  const acked = new Map<string, Ack>();
  const t0 = performance.now();
  let kills = 0;
  let killedBeforeReady = 0;
  let childAcks = 0;
  const tally = new KillTally();
  let last: CheckResult = { size: 0, unacknowledged: 0, signaturesValid: 0, devices: new Set() };
  const writer = (round: number) =>
    startCrashChild({
      target,
      keyFile,
      evidenceFile,
      prefix: `r${round}`,
      maxAppends: 10_000,
      maxFailures: 5,
      lifetimeMs: 30_000,
    });
  // The next writer loads while the current one runs and the log is checked.
  let spare: CrashChild | undefined = writer(0);
  try {
    for (let round = 0; round < KILLS; round++) {
      const child: CrashChild = spare ?? writer(round);
      spare = round + 1 < KILLS ? writer(round + 1) : undefined;
      try {
        await child.until((ms) => ms.some((m) => m.t === 'loaded'), 30_000, 'the writer to load');
        child.go();
        if (round % 10 === 0) {
          // Now and then while the log is opened (and, on the first round, created).
          await sleep(rand() * 30);
          if (!child.messages.some((m) => m.t === 'ready')) killedBeforeReady++;
        } else {
          // A few appends in (however fast this machine is), then a random instant in the stream:
          // it lands inside transactions, inside commits and between commit and ack alike.
          const n = Math.floor(rand() * 6);
          await child.until(
            (ms) => ms.filter((m) => m.t === 'ack').length >= n && ms.some((m) => m.t === 'ready'),
            20_000,
            `${n} appends`,
          );
          await sleep(rand() * 8);
        }
        assert.ok(child.alive, `round ${round}: the writer was still running when killed: ${child.output}`);
        await child.kill();
        kills++;
        assert.ok(
          !child.messages.some((m) => m.t === 'fail'),
          `round ${round}: no append failed before the kill: ${JSON.stringify(child.messages.filter((m) => m.t === 'fail'))}`,
        );
        childAcks += recordAcks(acked, child);
      } finally {
        await child.kill();
      }
      const next: Evidence = { ...base, device: `parent-${round}` };
      last = await checkAfterCrash(target, keyFile, acked, next, `after kill ${round + 1} (seed ${seed})`);
      tally.add(child.inFlight(), last.devices);
    }
  } finally {
    await spare?.kill();
  }
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(kills, KILLS);
  t.diagnostic(
    `crash-sqlite: ${kills} SIGKILLs (${killedBeforeReady} while opening the log), ${childAcks} acknowledged appends by the killed writers + ${KILLS} by the checker, ` +
      `all present; ${last.size} entries verified after the last kill (${last.signaturesValid} device signatures), ` +
      `kills: ${tally.toString()}; ${seconds.toFixed(1)} s; seed ${seed}`,
  );
});
