/** The signature log on SQLite: real evidence from the emulator in, offline re-verification, proofs, keys. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import Database from 'better-sqlite3';
import { appendEvidenceToLog, openLog } from '../../src/log/log.js';
import { loadPublicKeyFile } from '../../src/log/log-key.js';
import { verifyConsistency, verifyInclusion } from '../../src/log/merkle.js';
import { verifyTreeHead } from '../../src/log/sth.js';
import { SpdmError } from '../../src/wire/errors.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { evidenceMatrix, makeEvidence, pciFor, SUITES, tempDir } from './helpers.js';

const tmp = tempDir();
after(() => tmp.cleanup());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

let matrix: Evidence[] | undefined;
async function evidences(): Promise<Evidence[]> {
  matrix ??= await evidenceMatrix('sq');
  return matrix;
}

test('every suite and SPDM version: each signature becomes one entry holding exactly what the evidence recorded, and verifies offline', async () => {
  const evs = await evidences();
  const file = tmp.file('matrix.sqlite');
  const log = await openLog(file);
  try {
    let expected = 0;
    for (const ev of evs) {
      const r = await log.appendEvidence(ev);
      assert.deepEqual(r, { first: expected, count: ev.signatures.length });
      expected += ev.signatures.length;
    }
    assert.equal(await log.size(), 28);
    let i = 0;
    for (const ev of evs) {
      for (const s of ev.signatures) {
        const e = await log.entry(i);
        assert.equal(e.index, i);
        assert.equal(e.kind, s.kind);
        assert.equal(e.version, s.version);
        assert.equal(e.asymAlgo, s.asymAlgo);
        assert.equal(e.hashAlgo, s.hashAlgo);
        assert.equal(e.context, s.context);
        assert.equal(hex(e.requesterNonce), s.requesterNonce);
        assert.equal(hex(e.responderNonce), s.responderNonce);
        assert.equal(hex(e.transcript), s.transcript);
        assert.equal(hex(e.transcriptHash), s.transcriptHash);
        assert.equal(hex(e.signature), s.signature);
        assert.equal(e.device, ev.device);
        assert.deepEqual(e.pci, ev.pci);
        assert.equal(e.collectedAt, ev.collectedAt);
        assert.equal(e.measurementHashAlgo, ev.algorithms.measurementHash);
        if (s.kind === 'MEASUREMENTS')
          assert.deepEqual(
            e.measurements.map(hex),
            ev.measurements.map((m) => m.block),
          );
        i++;
      }
    }
    const report = await log.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.signaturesChecked, 28);
    assert.equal(report.signaturesValid, 28);
    assert.equal(report.treeSize, 28);
    assert.equal(report.treeHeadsChecked, 15, 'the empty tree plus one signed head per append');
  } finally {
    await log.close();
  }
  // One file, WAL journal; chains stored once per device however many entries use them.
  const db = new Database(file, { readonly: true });
  assert.equal((db.pragma('journal_mode', { simple: true }) as string).toLowerCase(), 'wal');
  assert.equal((db.prepare('SELECT count(*) AS n FROM chains').get() as { n: number }).n, SUITES.length);
  assert.equal((db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n, 28);
  db.close();
});

test('inclusion and consistency proofs served by the log verify against its signed tree head', async () => {
  const evs = await evidences();
  const log = await openLog(tmp.file('proofs.sqlite'));
  try {
    await log.appendEvidences(evs.slice(0, 9));
    const sth = await log.signedTreeHead();
    assert.ok(verifyTreeHead(log.logKey.key, log.logKey.logId, sth));
    const n = sth.treeSize;
    for (let i = 0; i < n; i++) {
      const p = await log.inclusionProof(i);
      assert.ok(verifyInclusion(i, n, p.leafHash, p.path, sth.rootHash), `entry ${i}`);
    }
    for (const [m, k] of [
      [0, n],
      [1, n],
      [5, 11],
      [8, n],
      [n, n],
      [3, 7],
    ] as const) {
      const p = await log.consistencyProof(m, k);
      const r1 = (await log.treeHead(m)).rootHash;
      const r2 = (await log.treeHead(k)).rootHash;
      assert.ok(verifyConsistency(m, k, r1, r2, p.path), `${m} -> ${k}`);
    }
    // The head of an earlier append is consistent with the current one.
    const before = await log.signedTreeHead();
    await log.appendEvidence(evs[10] as Evidence);
    const now = await log.signedTreeHead();
    const c = await log.consistencyProof(before.treeSize, now.treeSize);
    assert.ok(verifyConsistency(before.treeSize, now.treeSize, before.rootHash, now.rootHash, c.path));
    const outOfRange = (e: unknown) => e instanceof SpdmError && e.code === 'LOG_OUT_OF_RANGE';
    await assert.rejects(log.inclusionProof(now.treeSize), outOfRange);
    await assert.rejects(log.consistencyProof(now.treeSize + 1), outOfRange);
    await assert.rejects(log.entry(now.treeSize), outOfRange);
    await assert.rejects(log.leafHashes(now.treeSize + 1), outOfRange);
    // A size or index that is no whole number is the caller's mistake.
    await assert.rejects(log.inclusionProof(-1), TypeError);
    await assert.rejects(log.consistencyProof(0.5), TypeError);
    await assert.rejects(log.entry(Number.NaN), TypeError);
  } finally {
    await log.close();
  }
});

test('the log key: created 0600 beside a new log, public half in .pub and meta; another key is refused; no key means no appends', async () => {
  const evs = await evidences();
  const file = tmp.file('keys.sqlite');
  const r = await appendEvidenceToLog(file, evs[0] as Evidence);
  assert.deepEqual({ first: r.first, count: r.count, treeSize: r.treeSize }, { first: 0, count: 2, treeSize: 2 });
  assert.equal(statSync(`${file}.key`).mode & 0o777, 0o600);
  const pub = loadPublicKeyFile(`${file}.pub`);
  assert.equal(hex(pub.logId), r.logId);

  const again = await appendEvidenceToLog(file, evs[1] as Evidence);
  assert.equal(again.first, 2);
  assert.equal(again.logId, r.logId);

  // A key that is not this log's.
  await appendEvidenceToLog(tmp.file('other.sqlite'), evs[0] as Evidence);
  await assert.rejects(
    openLog(file, { keyFile: tmp.file('other.sqlite.key') }),
    (e: unknown) =>
      e instanceof SpdmError && e.code === 'LOG_KEY_MISMATCH' && /does not belong to this log/.test(e.message),
  );

  // Without the private key the log opens for reading and verification only.
  unlinkSync(`${file}.key`);
  const log = await openLog(file);
  try {
    assert.equal(log.canAppend, false);
    await assert.rejects(
      log.appendEvidence(evs[2] as Evidence),
      (e: unknown) => e instanceof SpdmError && e.code === 'LOG_KEY_MISSING' && /no signing key/.test(e.message),
    );
    assert.equal((await log.verify({ publicKey: pub })).ok, true);
  } finally {
    await log.close();
  }
  await assert.rejects(
    openLog(tmp.file('missing.sqlite'), { readOnly: true }),
    (e: unknown) => e instanceof SpdmError && e.code === 'LOG_NOT_FOUND' && /no signature log/.test(e.message),
  );
  assert.ok(!existsSync(tmp.file('missing.sqlite')));
  assert.ok(readFileSync(`${file}.pub`, 'utf8').includes('BEGIN PUBLIC KEY'));
});

test('measurements one by one (SPDM 1.3 with requester context): the MEASUREMENTS entry carries every block its transcript covers', async () => {
  const ev = await makeEvidence({ suite: SUITES[1]!, version: 0x13, name: 'obo', pci: pciFor(9), mode: 'one-by-one' });
  const log = await openLog(tmp.file('obo.sqlite'));
  try {
    await log.appendEvidence(ev);
    const meas = await log.entry(1);
    assert.equal(meas.kind, 'MEASUREMENTS');
    assert.equal(meas.measurements.length, ev.measurements.length);
    const chal = await log.entry(0);
    assert.ok(chal.requesterContext && chal.requesterContext.length > 0, '1.3 CHALLENGE carries a requester context');
    assert.equal((await log.verify()).ok, true);
  } finally {
    await log.close();
  }
});

test('a signature that already failed at receipt is logged, and verify reports it as a warning, not as tampering', async () => {
  const ev = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'bad' });
  const s0 = ev.signatures[0]!;
  const sig = s0.signature.slice(0, 10) + (s0.signature[10] === '0' ? '1' : '0') + s0.signature.slice(11);
  const bad: Evidence = { ...ev, signatures: [{ ...s0, signature: sig, verified: false }, ...ev.signatures.slice(1)] };
  const log = await openLog(tmp.file('bad.sqlite'));
  try {
    await log.appendEvidence(bad);
    const r = await log.verify();
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.entry]),
      [['SIGNATURE_INVALID_AT_RECEIPT', 0]],
    );
    assert.equal(r.signaturesValid, 1);
  } finally {
    await log.close();
  }
});

test('appending evidence without signatures adds nothing; an unknown target format is refused', async () => {
  const ev = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'none' });
  const log = await openLog(tmp.file('empty.sqlite'));
  try {
    assert.deepEqual(await log.appendEvidence({ ...ev, signatures: [] }), { first: 0, count: 0 });
    assert.equal(await log.size(), 0);
    assert.equal((await log.verify()).ok, true);
  } finally {
    await log.close();
  }
  const other = tmp.file('not-a-log.sqlite');
  const db = new Database(other);
  db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  db.prepare('INSERT INTO meta VALUES (?, ?)').run('public_key', '00');
  db.close();
  await assert.rejects(openLog(other), SpdmError);
});
