/**
 * Defence in depth: hostile signed MEASUREMENTS the requester refuses must be refused by the
 * verifier too, from the signed bytes alone — evidence from an older or laxer requester, or from
 * another implementation, reaches the verifier without the requester's checks.
 *
 * The requester no longer produces evidence for these devices, so the evidence is assembled from
 * the recorded exchange (recorded-evidence.ts): the device's messages and signatures exactly as it
 * sent them. The same builder is checked against the real requester on the honest twin of each
 * case, so what the verifier gets is what a requester without the two checks would have recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultyDevice, findHostileCase, HOSTILE_PCI, type HostileCase } from '../../src/responder/faults/index.js';
import type { Evidence, SlotEvidence } from '../../src/evidence/evidence.js';
import type { ReasonCode } from '../../src/verifier/verdict.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { assertExpected, runCase, type Outcome } from './run.js';
import { evidenceFromExchanges, RecordingHandler } from './recorded-evidence.js';

const BACKSTOPS: readonly { name: string; reason: ReasonCode; message: RegExp }[] = [
  { name: 'measurements-wrong-slot', reason: 'SIGNATURE_INVALID', message: /answers for slot 3, slot 0 was asked/ },
  { name: 'measurements-content-changed-mid-sequence', reason: 'MEASUREMENT_MISMATCH', message: /ContentChanged/ },
];

function hostileCase(name: string): HostileCase {
  const c = findHostileCase(name);
  assert.ok(c, name);
  return c;
}

/** Runs `c` through the real requester, recording the exchange; returns the outcome and the evidence built from the recording. */
async function recorded(c: HostileCase): Promise<{ o: Outcome; evidence: Evidence }> {
  let rec: RecordingHandler | undefined;
  const o = await runCase(c, 0, (h) => (rec = new RecordingHandler(h)));
  assert.ok(rec, 'the tap was not used');
  return { o, evidence: evidenceFromExchanges(rec.exchanges, { device: c.name, pci: HOSTILE_PCI }) };
}

const chainOnly = (s: SlotEvidence) => ({
  slot: s.slot,
  digest: s.digest,
  certChain: s.certChain,
  certModel: s.certModel,
});

for (const b of BACKSTOPS) {
  test(`${b.name}: the requester refuses the device`, async () => {
    const c = hostileCase(b.name);
    const o = await runCase(c);
    assert.ok(o.fired > 0, 'the fault never fired');
    assertExpected(c, o);
  });

  test(`${b.name}: the verifier says ${b.reason} on the evidence the device's messages make`, async () => {
    const c = hostileCase(b.name);
    const { o, evidence } = await recorded(c);
    assert.ok(o.fired > 0, 'the fault never fired');
    assert.ok(
      evidence.signatures.some((s) => s.kind === 'MEASUREMENTS'),
      'the recorded exchange holds no signed MEASUREMENTS',
    );
    const verdict = verify(evidence, undefined, TrustStore.fromCertificates(o.trustAnchors), {
      expectedNonce: o.nonce,
    });
    const reasons = verdict.reasons.map((r) => `${r.code}: ${r.message}`);
    assert.equal(verdict.status, 'untrusted', 'the verifier trusted it');
    // The hostile signed MEASUREMENTS is the only thing wrong: chain, CHALLENGE_AUTH and nonce are genuine.
    assert.equal(verdict.reasons.length, 1, reasons.join('; '));
    assert.equal(verdict.reasons[0]?.code, b.reason, reasons.join('; '));
    assert.match(verdict.reasons[0]?.message ?? '', b.message);
  });

  test(`${b.name}: on the honest twin, the recorded evidence is what the requester records, and trusted`, async () => {
    const c = hostileCase(b.name);
    assert.equal(c.via, 'handler');
    const twin: HostileCase = { ...c, via: 'handler', device: () => faultyDevice(() => undefined) };
    const { o, evidence } = await recorded(twin);
    assert.equal(o.fired, 0);
    assert.ok(o.evidence, `the requester refused the honest device: ${String(o.error)}`);
    assert.deepEqual(evidence.signatures, o.evidence.signatures);
    assert.deepEqual(evidence.slots.map(chainOnly), o.evidence.slots.map(chainOnly));
    assert.deepEqual(
      evidence.measurements,
      o.evidence.measurements.map(({ typeName: _, ...m }) => m),
    );
    assert.equal(evidence.versionByte, o.evidence.versionByte);
    assert.deepEqual(
      { ...evidence.algorithms, measurementHashName: '' },
      { ...o.evidence.algorithms, measurementHashName: '' },
    );
    const verdict = verify(evidence, undefined, TrustStore.fromCertificates(o.trustAnchors), {
      expectedNonce: o.nonce,
    });
    assert.equal(verdict.status, 'trusted', verdict.reasons.map((r) => `${r.code}: ${r.message}`).join('; '));
  });
}
