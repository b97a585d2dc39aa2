/**
 * Group commits: the journal writes the batches handed in together in one store transaction and
 * the signature log appends the evidences handed in together in one, each caller still hearing
 * only of its own, after it is written — with the real SQLite store and the real log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CmaEvent } from '../../src/cma/api.js';
import { batch, EventJournal } from '../../src/cma/journal.js';
import { GroupedLogAppender } from '../../src/cma/log-appender.js';
import { openCmaStore } from '../../src/cma/store/open.js';
import type { CmaStore, CommitBatch } from '../../src/cma/store/store.js';
import { openLog } from '../../src/log/log.js';
import { makeEvidence, pciFor, SUITES } from '../log/helpers.js';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** The real store, counting its transactions; `failNext` makes the next one fail (before it writes). */
async function countingStore(dir: string) {
  const real = await openCmaStore(dir);
  const seen = { commits: 0, failNext: false };
  const store: CmaStore = Object.assign(Object.create(real) as CmaStore, {
    async commit(b: CommitBatch) {
      seen.commits++;
      if (seen.failNext) {
        seen.failNext = false;
        throw new Error('disk full');
      }
      return real.commit(b);
    },
  });
  return { store, seen, real };
}

/** `fn` over a counting store in a directory of its own, closed and removed afterwards. */
async function withCountingStore(fn: (s: Awaited<ReturnType<typeof countingStore>>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-group-'));
  const s = await countingStore(dir);
  try {
    await fn(s);
  } finally {
    await s.real.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function removed(bdf: string) {
  const b = batch();
  b.events.push({ type: 'device-removed', bdf });
  return b;
}

function journalOver(store: CmaStore) {
  return new EventJournal(
    store,
    10_000,
    () => new Date(0).toISOString(),
    (e) => assert.fail(String(e)),
    () => false,
    nextTurn,
  );
}

test('batches handed in together are one transaction; ids follow the order they came in; each caller gets its own', async () => {
  await withCountingStore(async ({ store, seen, real }) => {
    const j = journalOver(store);
    const heard: CmaEvent[] = [];
    j.subscribe((e) => heard.push(e));
    const bdfs = ['0000:01:00.0', '0000:02:00.0', '0000:03:00.0', '0000:04:00.0'];
    const results = await Promise.all(bdfs.map((b) => j.commit(removed(b))));
    assert.equal(seen.commits, 1, 'one transaction for the four batches');
    assert.deepEqual(
      results.map((r) => r.map((e) => [e.id, e.bdf])),
      bdfs.map((b, i) => [[i + 1, b]]),
    );
    assert.deepEqual(
      heard.map((e) => e.id),
      [1, 2, 3, 4],
    );
    // They are in the store, as written: a reader after a restart sees the same.
    assert.deepEqual(
      (await real.eventsSince(0, 100)).map((e) => [e.id, e.bdf]),
      bdfs.map((b, i) => [i + 1, b]),
    );
    // A batch handed in later is the next transaction, its id after theirs.
    const [later] = await j.commit(removed('0000:05:00.0'));
    assert.equal(later?.id, 5);
    assert.equal(seen.commits, 2);
  });
});

test('a group whose transaction fails fails every batch in it, tells no one and uses up no id', async () => {
  await withCountingStore(async ({ store, seen, real }) => {
    const j = journalOver(store);
    const heard: CmaEvent[] = [];
    j.subscribe((e) => heard.push(e));
    seen.failNext = true;
    const outcomes = await Promise.allSettled([j.commit(removed('0000:01:00.0')), j.commit(removed('0000:02:00.0'))]);
    assert.deepEqual(
      outcomes.map((o) => o.status === 'rejected' && (o.reason as Error).message),
      ['disk full', 'disk full'],
    );
    assert.deepEqual(heard, []);
    assert.deepEqual(await real.eventsSince(0, 100), []);
    const [next] = await j.commit(removed('0000:03:00.0'));
    assert.equal(next?.id, 1);
    await j.settled();
  });
});

test('more batches than one group holds are written in several transactions, in order', async () => {
  await withCountingStore(async ({ store, seen, real }) => {
    const j = journalOver(store);
    const n = 600;
    const all = Array.from({ length: n }, (_, i) =>
      j.commit(removed(`0000:${(1 + (i >> 8)).toString(16).padStart(2, '0')}:00.${i & 7}`)),
    );
    await j.settled();
    const results = await Promise.all(all);
    assert.ok(seen.commits > 1 && seen.commits < n, `${seen.commits} transactions for ${n} batches`);
    assert.deepEqual(
      results.map((r) => r[0]?.id),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.equal((await real.eventsSince(0, 1000)).length, n);
  });
});

test('evidences appended together to the signature log land in order, each caller told its own entries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-group-'));
  const log = await openLog(join(dir, 'log.sqlite'));
  try {
    const suite = SUITES[0]!;
    const evidences = await Promise.all(
      [0, 1, 2].map((i) => makeEvidence({ suite, version: 0x12, name: `dev${i}`, pci: pciFor(i) })),
    );
    const appender = new GroupedLogAppender((g) => log.appendEvidences(g), nextTurn);
    const results = await Promise.all(evidences.map((e) => appender.append(e)));
    let first = 0;
    for (const [i, r] of results.entries()) {
      const count = evidences[i]!.signatures.length;
      assert.deepEqual(r, { first, count });
      for (let k = 0; k < count; k++) assert.equal((await log.entry(first + k)).device, `dev${i}`);
      first += count;
    }
    assert.equal(await log.size(), first);
    const report = await log.verify();
    assert.equal(report.ok, true);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
