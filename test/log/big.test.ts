/**
 * A 100,000-entry log: 150 real evidences from the emulator (P-256, RSA-PSS-3072 and Ed25519
 * devices, SPDM 1.2 and 1.3), each appended many times under other metadata (device name, time,
 * serial number) — every entry a distinct leaf whose device signature really verifies. Bulk
 * appends in large transactions; then full offline verification, proofs, and one edited byte found.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { openLog } from '../../src/log/log.js';
import { verifyConsistency, verifyInclusion } from '../../src/log/merkle.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { makeEvidence, pciFor, SUITES, tempDir, vary } from './helpers.js';

const tmp = tempDir('spdmkit-big-');
after(() => tmp.cleanup());

const TOTAL = 100_000;
const BASE = 150;
const PER_TX = 2_500;

test(
  `${TOTAL.toLocaleString('en')} entries: built in bulk, verified offline in full, and one altered byte is found and named`,
  // A hang guard, not a timing: on a loaded 2-core machine the full verification alone takes 90 s.
  { timeout: 600_000 },
  async () => {
    const suites = [SUITES[0]!, SUITES[2]!, SUITES[3]!];
    const base: Evidence[] = [];
    for (let i = 0; i < BASE; i++)
      base.push(
        await makeEvidence({
          suite: suites[i % 3]!,
          version: i % 2 ? 0x13 : 0x12,
          name: `fleet${i}`,
          pci: pciFor(i % 50),
        }),
      );
    const file = tmp.file('big.sqlite');
    const log = await openLog(file);
    try {
      const t0 = performance.now();
      let k = 0;
      while ((await log.size()) < TOTAL) {
        const batch: Evidence[] = [];
        for (let j = 0; j < PER_TX; j++, k++) batch.push(vary(base[k % BASE] as Evidence, k));
        await log.appendEvidences(batch);
      }
      const appendMs = performance.now() - t0;
      assert.equal(await log.size(), TOTAL);

      let progressCalls = 0;
      let lastDone = 0;
      const t1 = performance.now();
      const report = await log.verify({
        onProgress: (p) => {
          progressCalls++;
          assert.ok(p.done >= lastDone, 'progress only moves forward');
          lastDone = p.done;
        },
      });
      const verifyMs = performance.now() - t1;
      assert.equal(report.ok, true, JSON.stringify(report.problems.slice(0, 5)));
      assert.equal(report.entriesRead, TOTAL);
      assert.equal(report.signaturesValid, TOTAL, 'every device signature re-verified');
      assert.equal(report.treeHeadsChecked, TOTAL / (2 * PER_TX) + 1);
      assert.ok(progressCalls > 10);
      assert.equal(lastDone, TOTAL);

      const sth = await log.signedTreeHead();
      const p = await log.inclusionProof(77_777);
      assert.ok(verifyInclusion(77_777, TOTAL, p.leafHash, p.path, sth.rootHash));
      assert.equal(p.path.length, 17);
      const c = await log.consistencyProof(12_345);
      assert.ok(verifyConsistency(12_345, TOTAL, c.firstRoot, sth.rootHash, c.path));
      process.stderr.write(
        `# ${TOTAL} entries: append ${(appendMs / 1000).toFixed(1)} s (${Math.round(TOTAL / (appendMs / 1000))}/s in ${PER_TX}-evidence transactions), verify ${(verifyMs / 1000).toFixed(1)} s (${Math.round(TOTAL / (verifyMs / 1000))}/s)\n`,
      );
    } finally {
      await log.close();
    }

    const db = new Database(file);
    db.prepare('UPDATE entries SET transcript = ? WHERE seq = 86_420'.replace('_', '')).run(
      (() => {
        const t = Buffer.from(
          (db.prepare('SELECT transcript FROM entries WHERE seq = 86420').get() as { transcript: Buffer }).transcript,
        );
        t[40] = (t[40] as number) ^ 0x20;
        return t;
      })(),
    );
    db.close();
    const again = await openLog(file, { readOnly: true });
    try {
      const r = await again.verify();
      assert.equal(r.ok, false);
      assert.deepEqual(r.failingEntries, [86_420]);
      assert.ok(
        r.problems.some((x) => x.code === 'ENTRY_ALTERED' && x.entry === 86_420 && x.fields?.includes('transcript')),
        JSON.stringify(r.problems),
      );
    } finally {
      await again.close();
    }
  },
);
