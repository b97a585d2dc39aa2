/**
 * The signature log on a real PostgreSQL server (a throwaway one, test/support/postgres.ts, or
 * SPDMKIT_PG_URL): same bytes as SQLite, concurrent writer processes, tamper detection, and
 * export/import across the two backends.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import pg from 'pg';
import { openLog, type SignatureLog } from '../../src/log/log.js';
import { verifyInclusion } from '../../src/log/merkle.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { evidenceMatrix, tempDir } from './helpers.js';
import { appendConcurrently, checkConcurrentLog } from './concurrency.js';

const tmp = tempDir('spdmkit-pglog-');
let server: PostgresServer | undefined;
let evs: Evidence[] = [];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const FIXED = () => 1_790_000_000_000;

before(async () => {
  server = await startPostgres();
  evs = await evidenceMatrix('pg');
});
after(async () => {
  await server?.stop();
  tmp.cleanup();
});

async function sql(url: string, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

async function exportTo(log: SignatureLog, file: string): Promise<void> {
  const out = createWriteStream(file);
  await log.exportJsonl(out);
  out.end();
  await once(out, 'finish');
}

test('PostgreSQL and SQLite store the same entries: with the same clock, identical leaves and tree roots', async () => {
  const url = await server!.createDatabase();
  const pgLog = await openLog(url, { keyFile: tmp.file('pg1.key'), now: FIXED });
  const sqLog = await openLog(tmp.file('same.sqlite'), { now: FIXED });
  try {
    for (const ev of evs) {
      assert.deepEqual(await pgLog.appendEvidence(ev), await sqLog.appendEvidence(ev));
    }
    const a = await pgLog.signedTreeHead();
    const b = await sqLog.signedTreeHead();
    assert.equal(a.treeSize, 28);
    assert.equal(hex(a.rootHash), hex(b.rootHash));
    const report = await pgLog.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.signaturesValid, 28);
    for (const i of [0, 13, 27]) {
      const p = await pgLog.inclusionProof(i);
      assert.ok(verifyInclusion(i, 28, p.leafHash, p.path, a.rootHash));
      assert.deepEqual(await pgLog.entry(i), await sqLog.entry(i));
    }
    const tables = await sql(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    assert.deepEqual(
      tables.map((t) => t['table_name']),
      ['chains', 'entries', 'log_state', 'meta', 'sth'],
    );
  } finally {
    await pgLog.close();
    await sqLog.close();
  }
});

test('4 writer processes × 25 appends to one PostgreSQL log at the same time: nothing lost, nothing doubled', async () => {
  const url = await server!.createDatabase();
  const reports = await appendConcurrently(url, tmp.file('conc.key'), evs, tmp.file('conc.json'), 4, 25);
  await checkConcurrentLog(url, reports, () => 2);
});

test('tampering in PostgreSQL is named too: an edited signature, a dropped entry, a truncated tail, a forged head', async () => {
  const url = await server!.createDatabase();
  const key = tmp.file('tamper.key');
  const log = await openLog(url, { keyFile: key });
  try {
    await log.appendEvidences(evs);
  } finally {
    await log.close();
  }
  const verifyNow = async () => {
    const l = await openLog(url, { readOnly: true });
    try {
      return await l.verify();
    } finally {
      await l.close();
    }
  };
  await sql(url, 'UPDATE entries SET signature = set_byte(signature, 5, get_byte(signature, 5) # 1) WHERE seq = 6');
  let r = await verifyNow();
  assert.equal(r.ok, false);
  assert.ok(
    r.problems.some((p) => p.code === 'ENTRY_ALTERED' && p.entry === 6 && p.fields?.includes('signature')),
    JSON.stringify(r.problems),
  );
  assert.ok(r.problems.some((p) => p.code === 'SIGNATURE_INVALID' && p.entry === 6));
  await sql(url, 'UPDATE entries SET signature = set_byte(signature, 5, get_byte(signature, 5) # 1) WHERE seq = 6');
  assert.equal((await verifyNow()).ok, true, 'restored');

  await sql(url, 'DELETE FROM entries WHERE seq IN (3, 26, 27)');
  r = await verifyNow();
  assert.ok(r.problems.some((p) => p.code === 'ENTRY_MISSING' && p.entries?.[0] === 3));
  assert.ok(r.problems.some((p) => p.code === 'TRUNCATED' && p.entries?.[0] === 26 && p.entries[1] === 27));
  assert.deepEqual(r.failingEntries, [3, 26, 27]);

  await sql(url, 'UPDATE sth SET signature = set_byte(signature, 0, get_byte(signature, 0) # 1) WHERE tree_size = 28');
  r = await verifyNow();
  assert.ok(r.problems.some((p) => p.code === 'STH_SIGNATURE_INVALID' && p.treeSize === 28));
});

test('export from PostgreSQL → import into SQLite, and back into a fresh PostgreSQL database: the same root throughout', async () => {
  const url = await server!.createDatabase();
  const src = await openLog(url, { keyFile: tmp.file('x1.key') });
  let root = '';
  try {
    for (const ev of evs.slice(0, 8)) await src.appendEvidence(ev);
    root = hex((await src.signedTreeHead()).rootHash);
    await exportTo(src, tmp.file('pg.jsonl'));
  } finally {
    await src.close();
  }
  const sq = await openLog(tmp.file('from-pg.sqlite'));
  try {
    const r = await sq.importJsonl(createReadStream(tmp.file('pg.jsonl')));
    assert.equal(hex(r.rootHash), root);
    assert.equal((await sq.verify()).ok, true);
    await exportTo(sq, tmp.file('sq.jsonl'));
  } finally {
    await sq.close();
  }
  const url2 = await server!.createDatabase();
  const back = await openLog(url2, { keyFile: tmp.file('x2.key') });
  try {
    const r = await back.importJsonl(createReadStream(tmp.file('sq.jsonl')));
    assert.equal(hex(r.rootHash), root);
    assert.equal(hex((await back.signedTreeHead()).rootHash), root);
    assert.equal((await back.verify()).ok, true);
  } finally {
    await back.close();
  }
});
