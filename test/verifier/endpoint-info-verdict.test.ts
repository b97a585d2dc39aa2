/**
 * The verifier judges a signed ENDPOINT_INFO like the other signatures: re-verified with the
 * slot's leaf key from the signed IL1/IL2, held to the caller's nonce, bound to the connection (the
 * same A) and the chain (the leaf key it verifies with). Tampered EPInfo or signature bytes, a
 * replayed or foreign ENDPOINT_INFO spliced in, are SIGNATURE_INVALID or NONCE_MISMATCH.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Evidence } from '../../src/evidence/evidence.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { compilePolicy } from '../../src/verifier/policy.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { NOW, codes, collect, edited, makeDevice, vendorRoot, viaJson, type TestDevice } from './helpers.js';

const NONCE = '6d'.repeat(32);
const OTHER_NONCE = '6e'.repeat(32);
let device: TestDevice;
let evidence: Evidence;
let trust: TrustStore;
const policy = compilePolicy({ version: 1 });

const epIndex = (e: { signatures: readonly { kind: unknown }[] }) =>
  e.signatures.findIndex((s) => s.kind === 'ENDPOINT_INFO');

before(async () => {
  device = makeDevice({ versions: [0x13] });
  evidence = await collect(device, { nonce: fromHex(NONCE), endpointInfo: true });
  trust = TrustStore.fromCertificates([vendorRoot().certificate]);
});

test('genuine evidence with a signed ENDPOINT_INFO is trusted over the caller nonce, the signature counted', () => {
  const v = verify(viaJson(evidence), policy, trust, { now: NOW, expectedNonce: NONCE });
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
  const sig = v.checks.find((c) => c.code === 'SIGNATURES_VALID');
  assert.match(sig?.message ?? '', /3 signatures \(CHALLENGE_AUTH, ENDPOINT_INFO, MEASUREMENTS\)/);
  assert.ok(v.checks.some((c) => c.code === 'NONCE_MATCH'));
});

test('an ENDPOINT_INFO with its EPInfo, signature or signed bytes changed is SIGNATURE_INVALID', () => {
  const i = epIndex(evidence);
  const judge = (doc: unknown) => verify(doc, policy, trust, { now: NOW, expectedNonce: NONCE });
  const cases: [string, (s: Record<string, unknown>) => void, RegExp][] = [
    ['EPInfo', (s) => void (s['epInfo'] = '01000000'), /EPInfo recorded/],
    [
      'signature',
      (s) => {
        const b = fromHex(s['signature'] as string);
        b[5] = b[5]! ^ 0x40;
        s['signature'] = toHex(b);
      },
      /does not verify/,
    ],
    ['responder nonce recorded', (s) => void (s['responderNonce'] = '00'.repeat(32)), /responder nonce recorded/],
  ];
  for (const [name, edit, re] of cases) {
    const v = judge(edited(evidence, (d) => edit(d.signatures[i]!)));
    assert.equal(v.status, 'untrusted', name);
    const bad = v.reasons.find((r) => r.code === 'SIGNATURE_INVALID');
    assert.ok(bad, `${name}: ${JSON.stringify(v.reasons)}`);
    assert.match(bad.message, /ENDPOINT_INFO/, name);
    assert.match(bad.message, re, name);
  }
});

test("an ENDPOINT_INFO from another run (same A, another nonce) is NONCE_MISMATCH; another device's is SIGNATURE_INVALID", async () => {
  const replayed = await collect(device, { nonce: fromHex(OTHER_NONCE), endpointInfo: true });
  const i = epIndex(evidence);
  const spliced = edited(
    evidence,
    (d) =>
      void (d.signatures[i] = viaJson(replayed.signatures[epIndex(replayed)]!) as unknown as Record<string, unknown>),
  );
  // On its own it verifies: the same device, over the same VCA bytes; only the nonce tells.
  assert.equal(verify(spliced, policy, trust, { now: NOW }).status, 'trusted');
  const stale = verify(spliced, policy, trust, { now: NOW, expectedNonce: NONCE });
  assert.deepEqual(codes(stale), ['NONCE_MISMATCH']);
  assert.match(stale.reasons[0]!.message, /signature 1 \(ENDPOINT_INFO\)/);
  // Another device (its own leaf key) over the same nonce: not this chain's signature.
  const foreign = await collect(makeDevice({ versions: [0x13], name: 'Acme X100' }), {
    nonce: fromHex(NONCE),
    endpointInfo: true,
  });
  const swapped = edited(
    evidence,
    (d) =>
      void (d.signatures[i] = viaJson(foreign.signatures[epIndex(foreign)]!) as unknown as Record<string, unknown>),
  );
  const v = verify(swapped, policy, trust, { now: NOW, expectedNonce: NONCE });
  assert.ok(codes(v).includes('SIGNATURE_INVALID'), JSON.stringify(v.reasons));
  assert.match(v.reasons.find((r) => r.code === 'SIGNATURE_INVALID')!.message, /ENDPOINT_INFO.*leaf key/);
});

test('a valid ENDPOINT_INFO over the nonce alone proves key possession', () => {
  const only = edited(evidence, (d) => {
    d.signatures = d.signatures.filter((s) => s['kind'] === 'ENDPOINT_INFO');
    d.measurements = [];
  });
  const v = verify(only, policy, trust, { now: NOW, expectedNonce: NONCE });
  assert.ok(!codes(v).includes('SIGNATURE_MISSING'), JSON.stringify(v.reasons));
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
});
