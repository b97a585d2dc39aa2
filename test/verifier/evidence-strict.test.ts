/**
 * The evidence decoder treats the file as hostile all the way down: a member it does not know is
 * refused wherever it sits (a remote verifier must not sign off on content it never read), every
 * informational member is type-checked rather than silently coerced, and numbers and byte strings
 * are held to the ranges and sizes the SPDM fields have. Each case names the path of the bad field.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Evidence } from '../../src/evidence/evidence.js';
import { parseEvidence } from '../../src/verifier/evidence-input.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { codes, collect, edited, makeDevice, NOW, vendorRoot, viaJson } from './helpers.js';
import { hostileCases } from './evidence-cases.js';

type Rec = Record<string, unknown>;

let evidence: Evidence;

before(async () => {
  evidence = await collect(makeDevice());
});

test('every hostile variation is refused, the problem naming its path', () => {
  const trust = TrustStore.fromCertificates([vendorRoot().certificate]);
  assert.equal(verify(viaJson(evidence), undefined, trust, { now: NOW }).status, 'trusted', 'the genuine document');
  for (const [name, edit, re] of hostileCases()) {
    const doc = edited(evidence, edit);
    const { evidence: parsed, problems } = parseEvidence(doc);
    assert.equal(parsed, undefined, `${name}: accepted`);
    assert.ok(
      problems.some((p) => re.test(p)),
      `${name}: ${re} not in ${JSON.stringify(problems)}`,
    );
    const v = verify(doc, undefined, trust, { now: NOW });
    assert.deepEqual([...new Set(codes(v))], ['MALFORMED_EVIDENCE'], name);
  }
});

test('the authenticate --json wrapper: its members are known and typed, and the evidence inside is checked alike', () => {
  const wrap = (extra: Rec): Rec => ({ authenticated: true, trusted: true, evidence: viaJson(evidence), ...extra });
  assert.ok(parseEvidence(wrap({ verdict: { status: 'trusted' }, reason: 'x', errorCode: 'Y' })).evidence);
  const cases: [Rec, RegExp][] = [
    [wrap({ note: 1 }), /^document\.note: unknown member/],
    [wrap({ authenticated: 'yes' }), /^document\.authenticated: must be true or false/],
    [wrap({ reason: 5 }), /^document\.reason: must be a string/],
    [wrap({ verdict: [] }), /^document\.verdict: must be an object/],
    [{ authenticated: true, evidence: { ...viaJson(evidence), extra: true } }, /^evidence\.extra: unknown member/],
  ];
  for (const [doc, re] of cases) {
    const r = parseEvidence(doc);
    assert.equal(r.evidence, undefined, JSON.stringify(Object.keys(doc)));
    assert.ok(
      r.problems.some((p) => re.test(p)),
      `${re} not in ${JSON.stringify(r.problems)}`,
    );
  }
});

test('what the decoder returns holds only what it checked (no member passes through unread)', () => {
  const { evidence: parsed } = parseEvidence(viaJson(evidence));
  assert.ok(parsed);
  assert.deepEqual(parsed, viaJson(evidence));
});
