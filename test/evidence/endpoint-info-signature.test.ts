/**
 * A signed ENDPOINT_INFO (1.3+) as an Evidence signature: it survives a JSON round trip through
 * the strict decoder and the published schema, re-verifies offline from the document alone, and
 * the analysis reads its nonces, slot, negotiation and EPInfo from the signed IL1/IL2. Every
 * forgery of the record (EPInfo, slot, kind, the signed bytes) is named. The signature comes from
 * the real requester against the real emulated device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Evidence, SignatureEvidence } from '../../src/evidence/evidence.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { analyseSignatures } from '../../src/evidence/signed-analysis.js';
import { nonceOffsets } from '../../src/cma/signature-view.js';
import { digest } from '../../src/crypto/hash.js';
import { parseEvidence } from '../../src/verifier/evidence-input.js';
import { EVIDENCE_SCHEMA } from '../../src/verifier/evidence-schema.js';
import { SchemaValidator } from '../../src/verifier/schema.js';
import { Requester } from '../../src/requester/requester.js';
import { Responder } from '../../src/responder/responder.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { edited, makeDevice, viaJson } from '../verifier/helpers.js';

/** Evidence of one connection at `version` with a signed ENDPOINT_INFO of slot 0 added to its signatures. */
async function withEndpointInfo(version: number): Promise<{ evidence: Evidence; epInfo: string }> {
  const d = makeDevice({ versions: [version] });
  const r = new Requester(new LoopbackTransport(new Responder(d.profile)), { versions: [version] });
  const e = await r.authenticate();
  const ep = await r.getEndpointInfo({ slot: 0 });
  assert.ok(ep.signature);
  const signatures: SignatureEvidence[] = [...e.signatures.filter((s) => s.kind !== 'ENDPOINT_INFO'), ep.signature];
  return { evidence: viaJson({ ...r.evidence(), signatures }), epInfo: toHex(ep.epInfo) };
}

const last = (d: { signatures: Record<string, unknown>[] }) => d.signatures.at(-1)!;
const validator = new SchemaValidator(EVIDENCE_SCHEMA);

for (const version of [0x13, 0x14]) {
  test(`SPDM ${version.toString(16)}: a signed ENDPOINT_INFO decodes, re-verifies and is read from IL1/IL2`, async () => {
    const { evidence, epInfo } = await withEndpointInfo(version);
    const parsed = parseEvidence(evidence);
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(validator.validate(evidence), []);
    const e = parsed.evidence!;
    const s = e.signatures.at(-1)!;
    assert.equal(s.kind, 'ENDPOINT_INFO');
    assert.equal(s.epInfo, epInfo);
    assert.equal(s.context, 'responder-endpoint_info signing');
    assert.ok(reverifySignatures(e).every((c) => c.ok));
    const views = analyseSignatures(e);
    const v = views.at(-1)!;
    assert.deepEqual(v.problems, []);
    assert.equal(v.valid, true);
    assert.equal(v.epInfo, epInfo);
    assert.equal(v.requesterNonce, s.requesterNonce);
    assert.equal(v.responderNonce, s.responderNonce);
    assert.equal(v.negotiated?.version, version);
    // Signed on the same connection: the same A as the CHALLENGE_AUTH.
    assert.equal(v.vca, views.find((x) => x.kind === 'CHALLENGE_AUTH')!.vca);
    // The kernel-style view finds both nonces where the codecs put them.
    const t = fromHex(s.transcript);
    const o = nonceOffsets(s, t);
    assert.equal(toHex(t.subarray(o.req, o.req + 32)), s.requesterNonce);
    assert.equal(toHex(t.subarray(o.rsp, o.rsp + 32)), s.responderNonce);
    assert.ok(o.rsp > o.req && o.req > 0);
  });
}

test('a forged ENDPOINT_INFO record is refused: EPInfo, slot, kind, signed bytes, members', async () => {
  const { evidence } = await withEndpointInfo(0x13);
  const problemsOf = (doc: unknown): readonly string[] => {
    const p = parseEvidence(doc);
    assert.ok(p.evidence, JSON.stringify(p.problems));
    const v = analyseSignatures(p.evidence).at(-1)!;
    assert.equal(v.valid, false);
    return v.problems;
  };
  // The EPInfo recorded is not the signed one (the signature still verifies: IL is unchanged).
  const otherEp = edited(evidence, (d) => void (last(d)['epInfo'] = '00000000'));
  assert.match(problemsOf(otherEp).join('\n'), /the EPInfo recorded \(00000000\) is not the one signed/);
  // An EPInfo byte changed inside the signed transcript, its hash recomputed: the signature fails.
  const forged = edited(evidence, (d) => {
    const s = last(d);
    const t = fromHex(s['transcript'] as string);
    t[t.length - 1] = t.at(-1)! ^ 0x01;
    s['transcript'] = toHex(t);
    s['transcriptHash'] = toHex(digest(s['hashAlgo'] as number, t));
    s['epInfo'] = toHex(t.subarray(t.length - (s['epInfo'] as string).length / 2));
  });
  assert.match(problemsOf(forged).join('\n'), /does not verify/);
  // Another slot recorded than the one asked and answered.
  const slot = edited(evidence, (d) => void (last(d)['slot'] = 1));
  assert.ok(problemsOf(slot).length > 0);
  // Relabelled as a MEASUREMENTS: neither the context nor the transcript is one.
  const relabelled = edited(evidence, (d) => {
    const s = last(d);
    s['kind'] = 'MEASUREMENTS';
    s['context'] = 'responder-measurements signing';
    delete s['epInfo'];
  });
  assert.match(problemsOf(relabelled).join('\n'), /cannot be decoded|does not end with/);
  // An ENDPOINT_INFO transcript appended to: the signed part ends with the EPInfo.
  const longer = edited(evidence, (d) => {
    const s = last(d);
    s['transcript'] = `${s['transcript'] as string}00`;
  });
  assert.match(problemsOf(longer).join('\n'), /cannot be decoded|transcript hash/);
  // The decoder and the schema: epInfo is required for ENDPOINT_INFO and refused beside any other kind.
  const missing = edited(evidence, (d) => void delete last(d)['epInfo']);
  const stray = edited(evidence, (d) => void (d.signatures[0]!['epInfo'] = '00'));
  const odd = edited(evidence, (d) => void (last(d)['epInfo'] = 'abc'));
  for (const [doc, re] of [
    [missing, /signatures\[\d+\]\.epInfo: is required for an ENDPOINT_INFO signature/],
    [stray, /signatures\[0\]\.epInfo: a CHALLENGE_AUTH signature has no EPInfo/],
    [odd, /signatures\[\d+\]\.epInfo: must be an even number of hex digits/],
  ] as const) {
    assert.match(parseEvidence(doc).problems.join('\n'), re);
    assert.notDeepEqual(validator.validate(doc), [], `the schema accepts what the decoder refuses: ${re}`);
  }
});
