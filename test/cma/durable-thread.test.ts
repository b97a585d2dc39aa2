import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DurableThread } from '../../src/cma/durable-thread.js';
import { SqliteCmaStore } from '../../src/cma/store/sqlite.js';
import { ThreadedSqliteCmaStore } from '../../src/cma/store/threaded.js';
import type { AppendResult } from '../../src/log/log.js';
import { openLog } from '../../src/log/log.js';
import { SpdmError } from '../../src/wire/errors.js';
import { FakeClock } from '../pci/fake-clock.js';
import { makeEvidence, SUITES, tempDir } from '../log/helpers.js';

const TEST_WORKER = new URL('./durable-test-worker.js', import.meta.url);

function misbehaving(mode: 'stall' | 'exit' | 'slow', replyMs = 60_000): Promise<DurableThread> {
  return DurableThread.start({ kind: 'cma-store', file: mode }, { description: mode, replyMs, script: TEST_WORKER });
}

function storageError(outcome?: string) {
  return (e: unknown) =>
    e instanceof SpdmError &&
    e.code === 'STORAGE_ERROR' &&
    e.details['thread'] === true &&
    (outcome === undefined || e.details['outcome'] === outcome);
}

test('log appends in the thread: each answered append is in the log, at the indices answered, in the order handed in', async () => {
  const t = tempDir('spdmkit-durable-');
  try {
    const target = t.file('log.sqlite');
    // Created at 500 by its clock: heads never go back in time, so the appends at 1000 keep theirs.
    const created = await openLog(target, { now: () => 500 });
    await created.close();
    const thread = await DurableThread.start({ kind: 'log', target }, { description: target });
    try {
      const suite = SUITES[0]!;
      const evidences = await Promise.all(
        [0, 1, 2].map((i) => makeEvidence({ suite, version: 0x12, name: `dev${i}` })),
      );
      // Handed in back to back without waiting: the thread takes them in this order.
      const answers = await Promise.all(
        evidences.map((e) => thread.call<AppendResult[]>('append', { evidences: [e], now: 1_000 })),
      );
      let next = 0;
      for (const [i, [r]] of answers.entries()) {
        assert.equal(r!.first, next, `evidence ${i} follows the one before it`);
        assert.equal(r!.count, evidences[i]!.signatures.length);
        next += r!.count;
      }
      // Another connection (the one the daemon reads with) sees every answered entry.
      const log = await openLog(target, { readOnly: true });
      try {
        assert.equal(await log.size(), next);
        for (const [i, [r]] of answers.entries()) {
          const entry = await log.entry(r!.first);
          assert.equal(entry.device, `dev${i}`);
          assert.equal(entry.loggedAt, 1_000, "the caller's clock, not the thread's");
        }
        assert.equal((await log.verify()).ok, true);
      } finally {
        await log.close();
      }
    } finally {
      await thread.close();
    }
  } finally {
    t.cleanup();
  }
});

test('SQLITE_BUSY in the thread comes back as the typed STORAGE_ERROR (rolled back), and the thread goes on', async () => {
  const t = tempDir('spdmkit-durable-');
  try {
    const target = t.file('log.sqlite');
    await (await openLog(target)).close();
    const thread = await DurableThread.start({ kind: 'log', target, busyTimeoutMs: 50 }, { description: target });
    const evidence = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'dev' });
    const holder = new Database(target);
    try {
      holder.exec('BEGIN IMMEDIATE');
      await assert.rejects(
        thread.call('append', { evidences: [evidence], now: 1 }),
        (e: unknown) =>
          e instanceof SpdmError &&
          e.code === 'STORAGE_ERROR' &&
          e.details['cause'] === 'SQLITE_BUSY' &&
          e.details['outcome'] === 'rolled-back',
      );
      holder.exec('ROLLBACK');
      const [r] = await thread.call<AppendResult[]>('append', { evidences: [evidence], now: 2 });
      assert.equal(r!.first, 0, 'nothing of the failed append was written');
    } finally {
      holder.close();
      await thread.close();
    }
  } finally {
    t.cleanup();
  }
});

test('a thread that cannot open its database fails start() with the typed error it met', async () => {
  const t = tempDir('spdmkit-durable-');
  try {
    const target = join(t.dir, 'no-such-dir', 'log.sqlite');
    await assert.rejects(
      DurableThread.start({ kind: 'log', target }, { description: target }),
      (e: unknown) => e instanceof SpdmError && e.code === 'STORAGE_ERROR' && e.details['action'] === 'open',
    );
  } finally {
    t.cleanup();
  }
});

test('a thread that dies fails the call in flight (outcome unknown) and every later call, without waiting', async () => {
  const thread = await misbehaving('exit');
  try {
    await assert.rejects(thread.call('commit', {}), storageError('unknown'));
    await assert.rejects(thread.call('commit', {}), storageError());
  } finally {
    await thread.close();
  }
});

test('a thread that does not answer fails the call at its deadline, and every later call', async () => {
  const thread = await misbehaving('stall', 200);
  try {
    await assert.rejects(thread.call('commit', {}), storageError('unknown'));
    await assert.rejects(thread.call('commit', {}), storageError());
  } finally {
    await thread.close();
  }
});

test('the test clock holds still while a call to a durable-write thread is out', async () => {
  const clock = new FakeClock();
  const thread = await misbehaving('slow');
  try {
    let woke = false;
    const sleeper = clock.sleep(1_000).then(() => (woke = true));
    await thread.call('commit', {});
    assert.equal(woke, false, 'a 1-s timeout must not pass while the thread works');
    assert.equal(clock.now(), 0);
    await sleeper;
  } finally {
    await thread.close();
  }
});

test('the threaded CMA store: an answered commit is on disk for another connection', async () => {
  const t = tempDir('spdmkit-durable-');
  try {
    const file = t.file('cma.sqlite');
    const store = await ThreadedSqliteCmaStore.open(file);
    try {
      await store.commit({
        devices: [{ bdf: '0000:01:00.0', x: 1 }],
        events: [{ id: 1, at: '2026-01-01T00:00:00.000Z', type: 'device-added', bdf: '0000:01:00.0' } as never],
      });
      const other = new SqliteCmaStore(file);
      try {
        const loaded = await other.load({ recentEvents: 10 });
        assert.deepEqual(
          loaded.devices.map((d) => d.bdf),
          ['0000:01:00.0'],
        );
        assert.equal(loaded.lastEventId, 1);
      } finally {
        await other.close();
      }
      // And this store's own reads see it too.
      assert.equal((await store.eventsSince(0, 10)).length, 1);
    } finally {
      await store.close();
    }
  } finally {
    t.cleanup();
  }
});

test('a write that cannot be handed to the thread fails typed (rolled back), and the thread goes on', async () => {
  const thread = await misbehaving('slow');
  try {
    await assert.rejects(thread.call('commit', { f: () => 1 }), storageError('rolled-back'));
    assert.deepEqual(await thread.call('commit', { ok: 1 }), { ok: 1 });
  } finally {
    await thread.close();
  }
});
