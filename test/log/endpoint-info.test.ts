/**
 * Signed ENDPOINT_INFO entries in the signature log: appended with the rest of an Evidence,
 * re-verified by `verify()` (signature, and every side field against IL1/IL2), carried through a
 * JSON Lines export and import, and — rewritten before they reached the log, as a buggy requester
 * or a log-key holder would — refused, the column named. No leaf field is added: the EPInfo is in
 * the signed transcript.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import type { Evidence } from '../../src/evidence/evidence.js';
import { FIELDS } from '../../src/log/entry.js';
import { formatEntry } from '../../src/cli/log.js';
import { openLog } from '../../src/log/log.js';
import type { VerifyReport } from '../../src/log/verify.js';
import { digest } from '../../src/crypto/hash.js';
import { toHex } from '../../src/wire/bytes.js';
import { exportTo, makeEvidence, makePublicKeyEvidence, pciFor, SUITES, tempDir } from './helpers.js';

const tmp = tempDir('spdmkit-log-epinfo-');
after(() => tmp.cleanup());
let n = 0;

const chained = makeEvidence({ suite: SUITES[1]!, version: 0x13, name: 'ep', pci: pciFor(3), endpointInfo: true });
const keyed = makePublicKeyEvidence({ suite: SUITES[0]!, version: 0x13, name: 'ep-keyed', endpointInfo: true });

async function logged(...evs: Evidence[]): Promise<VerifyReport> {
  const log = await openLog(tmp.file(`ep-${++n}.sqlite`));
  try {
    for (const ev of evs) await log.appendEvidence(ev);
    return await log.verify({ workers: 0 });
  } finally {
    await log.close();
  }
}

/** `ev` with its ENDPOINT_INFO record changed by `edit`. */
function editedEp(ev: Evidence, edit: (s: Record<string, unknown>) => void): Evidence {
  const copy = structuredClone(ev) as unknown as { signatures: Record<string, unknown>[] };
  edit(copy.signatures.find((s) => s['kind'] === 'ENDPOINT_INFO')!);
  return copy as unknown as Evidence;
}

test('ENDPOINT_INFO entries (slot 0 and slot 0xFF) are appended, verify, and survive export and import', async () => {
  const evs = [await chained, await keyed];
  for (const ev of evs) assert.ok(ev.signatures.some((s) => s.kind === 'ENDPOINT_INFO'));
  const source = await openLog(tmp.file('ep-source.sqlite'));
  const file = tmp.file('ep.jsonl');
  try {
    for (const ev of evs) await source.appendEvidence(ev);
    const kinds = [];
    for (let i = 0; i < (await source.size()); i++) kinds.push((await source.entry(i)).kind);
    assert.equal(kinds.filter((k) => k === 'ENDPOINT_INFO').length, 2);
    const ep = await source.entry(kinds.indexOf('ENDPOINT_INFO'));
    assert.deepEqual(ep.measurements, []);
    assert.equal(ep.measurementSummaryHash, undefined);
    assert.equal(ep.requesterContext, undefined);
    assert.equal(ep.context, 'responder-endpoint_info signing');
    const sig = evs[0]!.signatures.find((s) => s.kind === 'ENDPOINT_INFO')!;
    assert.equal(toHex(ep.transcript), sig.transcript);
    // `spdm log show` reads the EPInfo from the signed transcript.
    assert.match(formatEntry(ep), new RegExp(`EPInfo ${sig.epInfo!} \\(${sig.epInfo!.length / 2} B, as signed\\)`));
    const report = await source.verify({ workers: 0 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.deepEqual(report.problems, []);
    assert.equal(report.signaturesValid, kinds.length);
    await exportTo(source, file);
  } finally {
    await source.close();
  }
  const target = await openLog(tmp.file('ep-target.sqlite'));
  try {
    await target.importJsonl(createReadStream(file));
    const report = await target.verify({ workers: 0 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  } finally {
    await target.close();
  }
  // The leaf format has no EPInfo field: IL carries it.
  assert.ok(!FIELDS.some((f) => /ep_?info/i.test(f.column)));
});

test('an ENDPOINT_INFO entry whose side fields are not what IL1/IL2 signed is refused, the column named', async () => {
  const ev = await chained;
  const cases: [string, (s: Record<string, unknown>) => void, string, string][] = [
    ['responder nonce', (s) => void (s['responderNonce'] = '00'.repeat(32)), 'NOT_IN_TRANSCRIPT', 'responder_nonce'],
    ['requester nonce', (s) => void (s['requesterNonce'] = '11'.repeat(32)), 'NOT_IN_TRANSCRIPT', 'requester_nonce'],
    ['slot', (s) => void (s['slot'] = 1), 'TRANSCRIPT_MISMATCH', 'slot'],
    ['kind', (s) => void (s['kind'] = 'CHALLENGE_AUTH'), 'TRANSCRIPT_MISMATCH', 'transcript'],
  ];
  for (const [name, edit, code, column] of cases) {
    const r = await logged(editedEp(ev, edit));
    assert.equal(r.ok, false, name);
    assert.ok(
      r.problems.some((p) => p.code === code && p.severity === 'error' && (p.fields ?? []).includes(column)),
      `${name}: ${JSON.stringify(r.problems)}`,
    );
  }
  // An EPInfo byte changed in the signed bytes (hash recomputed by the forger): the signature fails.
  const forged = editedEp(ev, (s) => {
    const t = Buffer.from(s['transcript'] as string, 'hex');
    t[t.length - 1] = t.at(-1)! ^ 0x01;
    s['transcript'] = t.toString('hex');
    s['transcriptHash'] = toHex(digest(s['hashAlgo'] as number, t));
  });
  const r = await logged(forged);
  assert.equal(r.ok, false);
  assert.equal(r.signaturesValid, ev.signatures.length - 1, JSON.stringify(r.problems));
  assert.ok(r.problems.some((p) => p.code === 'SIGNATURE_INVALID' && p.severity === 'error'));
});
