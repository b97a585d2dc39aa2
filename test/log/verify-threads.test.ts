/**
 * Log verification split over threads (verify.ts, VerifyOptions.workers): N workers and the
 * calling thread check ranges from one queue. Whoever checks a range, the report is the same:
 * every entry read and re-verified once, a tampered entry named with its index and column.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import Database from 'better-sqlite3';
import { openLog } from '../../src/log/log.js';
import type { VerifyReport } from '../../src/log/verify.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { makeEvidence, pciFor, SUITES, tempDir, vary } from './helpers.js';

const tmp = tempDir('spdmkit-verify-threads-');
after(() => tmp.cleanup());

async function makeLog(file: string, evidences: number): Promise<void> {
  const base: Evidence[] = [];
  for (let i = 0; i < 3; i++)
    base.push(
      await makeEvidence({
        suite: SUITES[[0, 2, 3][i] as number]!,
        version: 0x12 + (i % 2),
        name: `t${i}`,
        pci: pciFor(i),
      }),
    );
  const log = await openLog(file, { keyFile: `${file}.key` });
  try {
    const batch: Evidence[] = [];
    for (let k = 0; k < evidences; k++) batch.push(vary(base[k % base.length] as Evidence, k));
    await log.appendEvidences(batch);
  } finally {
    await log.close();
  }
}

/** Flips one bit of a column of entry `seq`. */
function flip(file: string, seq: number, column: 'transcript' | 'signature'): void {
  const db = new Database(file);
  try {
    const row = db.prepare(`SELECT ${column} AS v FROM entries WHERE seq = ?`).get(seq) as { v: Buffer };
    const b = Buffer.from(row.v);
    b[b.length >> 1] = (b[b.length >> 1] as number) ^ 0x01;
    db.prepare(`UPDATE entries SET ${column} = ? WHERE seq = ?`).run(b, seq);
  } finally {
    db.close();
  }
}

/** What a report says, without what legitimately differs between runs (time, thread count). */
function findings(r: VerifyReport) {
  return {
    ok: r.ok,
    treeSize: r.treeSize,
    rootHash: r.rootHash,
    entriesRead: r.entriesRead,
    signaturesChecked: r.signaturesChecked,
    signaturesValid: r.signaturesValid,
    failingEntries: r.failingEntries,
    problems: r.problems.map((p) => ({ code: p.code, entry: p.entry, entries: p.entries, fields: p.fields })),
  };
}

test('workers and the calling thread share the ranges: the same report from 0, 1 and 2 workers, tampered entries named', async () => {
  const file = tmp.file('shared.sqlite');
  await makeLog(file, 300);
  flip(file, 37, 'transcript');
  flip(file, 411, 'transcript');
  const log = await openLog(file, { readOnly: true });
  try {
    // Small pages make many ranges (here 12), so that every thread gets some.
    const reports = [];
    for (const workers of [0, 1, 2]) reports.push(await log.verify({ workers, pageSize: 50 }));
    const [none, one, two] = reports as [VerifyReport, VerifyReport, VerifyReport];
    assert.deepEqual(
      [none.workers, one.workers, two.workers],
      [0, 1, 2],
      'workers is the number of worker threads asked for',
    );
    assert.equal(none.ok, false);
    assert.deepEqual(none.failingEntries, [37, 411]);
    for (const seq of [37, 411])
      assert.ok(
        none.problems.some((p) => p.entry === seq && p.code === 'ENTRY_ALTERED' && p.fields?.includes('transcript')),
        JSON.stringify(none.problems),
      );
    assert.equal(none.entriesRead, 600);
    // The signatures of the two altered transcripts no longer verify; every other one does, each checked once.
    assert.equal(none.signaturesChecked, 600);
    assert.equal(none.signaturesValid, 598);
    assert.deepEqual(findings(one), findings(none));
    assert.deepEqual(findings(two), findings(none));
  } finally {
    await log.close();
  }
});

test('default for a log of more than 2000 entries: one worker fewer than the cores (at most 7), and the log verifies', async () => {
  const file = tmp.file('default.sqlite');
  await makeLog(file, 1001);
  const log = await openLog(file, { readOnly: true });
  try {
    const r = await log.verify();
    assert.equal(r.ok, true, JSON.stringify(r.problems.slice(0, 5)));
    assert.equal(r.workers, Math.min(8, availableParallelism()) - 1);
    assert.equal(r.signaturesValid, 2002);
  } finally {
    await log.close();
  }
});
