/**
 * EAR (draft-ietf-rats-ear-04) from real verdicts: evidence collected by the requester from the
 * emulated responder, judged by verify(), then mapped, signed and verified — with jose, with our
 * verifyEar(), and with test/verifier/ear_verify.py, a JWS verifier written from the RFCs in
 * Python (`cryptography` only) that shares no code with either.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import type { Evidence } from '../../src/evidence/evidence.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { compilePolicy, type Policy } from '../../src/verifier/policy.js';
import { parsePolicyText } from '../../src/verifier/policy-loader.js';
import { cmaSanString } from '../../src/verifier/cma-san.js';
import { isSpdmError } from '../../src/wire/errors.js';
import {
  EAR_PROFILE,
  REASON_CLAIMS,
  SPDMKIT_VERSION,
  earClaims,
  earJwks,
  generateEarKey,
  measurementCategory,
  signEar,
  trustTierOf,
  verifyEar,
  type EarClaims,
} from '../../src/verifier/ear.js';
import { NOW, PCI, PCI_OTHER_MODEL, collect, edited, makeDevice, vendorRoot, viaJson } from './helpers.js';
import { repoRoot } from '../support/paths.js';

const NONCE = Buffer.alloc(32, 0xa5);
const NONCE_B64 = NONCE.toString('base64url');
const DEVICE = cmaSanString(PCI);

let evidence: Evidence;
let trust: TrustStore;
let policy: Policy;

function referencePolicy(e: Evidence, device: Record<string, unknown> = {}): Policy {
  const measurements: Record<string, string[]> = {};
  for (const m of e.measurements) if (m.index !== 6) measurements[String(m.index)] = [m.value];
  return compilePolicy({
    version: 1,
    evidence: { maxAgeSeconds: 300 },
    devices: [
      { name: 'Acme X100', match: { pci: { vendorId: '8086', deviceId: '0b25' } }, measurements, minSvn: 1, ...device },
    ],
  });
}

function appraisal(c: EarClaims) {
  const a = c.submods[DEVICE];
  assert.ok(a, `submod "${DEVICE}" in ${JSON.stringify(Object.keys(c.submods))}`);
  return a;
}

before(async () => {
  evidence = await collect(makeDevice(), { nonce: NONCE });
  trust = TrustStore.fromCertificates([vendorRoot().certificate]);
  policy = referencePolicy(evidence);
});

test('a trusted device: affirming, every appraised category affirmed, the signed nonce echoed', () => {
  const v = verify(viaJson(evidence), policy, trust, { now: NOW, expectedNonce: NONCE });
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
  const c = earClaims(v, { evidence, policy, nonce: NONCE, issuedAt: NOW });
  assert.equal(c.eat_profile, EAR_PROFILE);
  assert.equal(c.iat, Math.floor(NOW.getTime() / 1000));
  assert.equal(c.ear_status, 'affirming');
  assert.equal(c.eat_nonce, NONCE_B64);
  assert.deepEqual(c.ear_verifier_id, { developer: 'spdmkit', build: `spdmkit ${SPDMKIT_VERSION}` });
  const a = appraisal(c);
  assert.equal(a.ear_status, 'affirming');
  // Indices 1, 2, 5 are code (ROM, firmware, its version), 3 and 4 configuration: all pinned by the policy.
  assert.deepEqual(a.ear_trustworthiness_vector, {
    'instance-identity': 2,
    configuration: 2,
    executables: 2,
    hardware: 2,
  });
  assert.equal(a.eat_nonce, NONCE_B64, 'the requester nonce the device signed');
  assert.deepEqual(a.ear_appraisal_policy_ids, [policy.source ?? '']);
});

test('the policy file digest names the policy; the default policy has its own id', () => {
  const text = JSON.stringify({ version: 1, rules: { cmaSan: 'off' } });
  const p = parsePolicyText(text, { source: 'p.json' });
  const digest = '' + (p.sha256 ?? '');
  assert.match(digest, /^[0-9a-f]{64}$/);
  const v = verify(evidence, p, trust, { now: NOW });
  assert.deepEqual(appraisal(earClaims(v, { evidence, policy: p })).ear_appraisal_policy_ids, [`sha256:${digest}`]);
  const d = verify(evidence, undefined, trust, { now: NOW });
  assert.deepEqual(appraisal(earClaims(d, { evidence })).ear_appraisal_policy_ids, ['spdmkit:default-policy']);
  // Without a device entry no measurement category is appraised: only identity and hardware.
  assert.deepEqual(appraisal(earClaims(d, { evidence })).ear_trustworthiness_vector, {
    'instance-identity': 2,
    hardware: 2,
  });
});

test('a warning only (CMA SAN rule set to warn): warning tier, instance-identity in the warning range', async () => {
  const wrong = await collect(makeDevice({ san: PCI_OTHER_MODEL }), { nonce: NONCE });
  const warnPolicy = compilePolicy({ version: 1, rules: { cmaSan: 'warn' } });
  const v = verify(wrong, warnPolicy, trust, { now: NOW });
  assert.equal(v.status, 'trusted');
  assert.deepEqual(
    v.warnings.map((w) => w.code),
    ['SAN_MISMATCH'],
  );
  const c = earClaims(v, { evidence: wrong, policy: warnPolicy });
  assert.equal(c.ear_status, 'warning');
  const tv = appraisal(c).ear_trustworthiness_vector;
  assert.equal(tv['instance-identity'], -33);
  assert.equal(trustTierOf(tv['instance-identity'] ?? 0), 'warning');
  assert.equal(tv.hardware, 2, 'the chain still leads to the vendor root');
});

test('untrusted: unknown root, firmware and configuration mismatches, forged evidence', async () => {
  const otherRoot = await collect(makeDevice({ root: vendorRoot('Mallory') }), { nonce: NONCE });
  const u = earClaims(verify(otherRoot, policy, trust, { now: NOW }), { evidence: otherRoot, policy });
  assert.equal(u.ear_status, 'contraindicated');
  assert.equal(appraisal(u).ear_status, 'contraindicated');
  assert.equal(appraisal(u).ear_trustworthiness_vector['instance-identity'], 97);
  assert.equal(appraisal(u).ear_trustworthiness_vector.hardware, undefined, 'no vendor root: hardware not affirmed');

  // New firmware: indices 2 (mutable firmware) and 5 (firmware version) differ → executables.
  const patched = await collect(makeDevice({ firmwareVersion: '1.0.1' }), { nonce: NONCE });
  const vp = verify(patched, policy, trust, { now: NOW });
  assert.deepEqual(
    vp.reasons.map((r) => `${r.code}:${String(r['index'])}`),
    ['MEASUREMENT_MISMATCH:2', 'MEASUREMENT_MISMATCH:5'],
  );
  const tp = appraisal(earClaims(vp, { evidence: patched, policy })).ear_trustworthiness_vector;
  assert.equal(tp.executables, 96);
  assert.equal(tp.configuration, undefined, 'a failed comparison affirms no category');
  assert.equal(tp['instance-identity'], 2);

  // Index 3 is the hardware configuration: a different expected value → configuration.
  const fuses = referencePolicy(evidence, {
    measurements: {
      ...Object.fromEntries(
        evidence.measurements.filter((m) => m.index !== 6).map((m) => [String(m.index), [m.value]]),
      ),
      '3': ['00'.repeat(64)],
    },
  });
  const vf = verify(evidence, fuses, trust, { now: NOW });
  assert.deepEqual(
    vf.reasons.map((r) => r.code),
    ['MEASUREMENT_MISMATCH'],
  );
  const tf = appraisal(earClaims(vf, { evidence, policy: fuses })).ear_trustworthiness_vector;
  assert.equal(tf.configuration, 96);
  assert.equal(tf.executables, undefined);

  // An edited signature: SIGNATURE_INVALID → cryptographic validation failed, identity and hardware.
  const forged = edited(evidence, (d) => {
    const s = d.signatures[0] as { signature: string };
    s.signature = (s.signature.startsWith('00') ? '01' : '00') + s.signature.slice(2);
  });
  const vs = verify(forged, policy, trust, { now: NOW });
  assert.ok(
    vs.reasons.some((r) => r.code === 'SIGNATURE_INVALID'),
    JSON.stringify(vs.reasons),
  );
  const ts = appraisal(earClaims(vs, { evidence: forged, policy })).ear_trustworthiness_vector;
  assert.equal(ts['instance-identity'], 99);
  assert.equal(ts.hardware, 99);

  // The wrong challenge nonce: the identity proof is not for this challenge.
  const vn = verify(evidence, policy, trust, { now: NOW, expectedNonce: Buffer.alloc(32, 1) });
  assert.equal(appraisal(earClaims(vn, { evidence, policy })).ear_trustworthiness_vector['instance-identity'], 99);
});

test('nothing evaluated (unreadable evidence): tier none, every category "unknown elements"', () => {
  const v = verify({ format: 'nonsense' }, policy, trust, { now: NOW });
  assert.equal(v.status, 'untrusted');
  const c = earClaims(v, { evidence: { format: 'nonsense' }, policy });
  assert.equal(c.ear_status, 'none');
  const [name] = Object.keys(c.submods);
  assert.equal(name, 'device');
  assert.deepEqual(c.submods['device']?.ear_trustworthiness_vector, {
    'instance-identity': 1,
    configuration: 1,
    executables: 1,
    hardware: 1,
  });
  assert.equal(c.submods['device']?.eat_nonce, undefined);
});

test('tiers and categories follow AR4SI', () => {
  assert.deepEqual([0, 1, -1, 2, 31, -2, -32, 32, 95, -33, -96, 96, 127, -97, -128].map(trustTierOf), [
    'none',
    'none',
    'none',
    'affirming',
    'affirming',
    'affirming',
    'affirming',
    'warning',
    'warning',
    'warning',
    'warning',
    'contraindicated',
    'contraindicated',
    'contraindicated',
    'contraindicated',
  ]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, undefined].map(measurementCategory), [
    'executables',
    'executables',
    'configuration',
    'configuration',
    'executables',
    'configuration',
    'executables',
    'executables',
    'executables',
    'configuration',
    'executables',
    'executables',
  ]);
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  assert.equal(SPDMKIT_VERSION, pkg.version);
});

async function trustedEar(alg: 'ES256' | 'ES384' | 'EdDSA' = 'ES256') {
  const key = generateEarKey(alg);
  const v = verify(evidence, policy, trust, { now: NOW, expectedNonce: NONCE });
  const claims = earClaims(v, { evidence, policy, nonce: NONCE });
  const jwt = await signEar(claims, key);
  return { key, claims, jwt, jwks: await earJwks(key) };
}

function flipPayloadByte(jwt: string): string {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const payload = Buffer.from(p, 'base64url');
  // "affirming" → "affirmin" + another letter: still JSON, so only the signature can catch it.
  const text = payload.toString('utf8').replace('"affirming"', '"affirminh"');
  assert.notEqual(text, payload.toString('utf8'));
  return `${h}.${Buffer.from(text, 'utf8').toString('base64url')}.${s}`;
}

test('the JWT: typ eat+jwt, kid the RFC 7638 thumbprint; jose and verifyEar accept it', async () => {
  for (const alg of ['ES256', 'ES384', 'EdDSA'] as const) {
    const { claims, jwt, jwks } = await trustedEar(alg);
    const header = decodeProtectedHeader(jwt);
    assert.equal(header.typ, 'eat+jwt');
    assert.equal(header.alg, alg);
    const jwk = jwks.keys[0]!;
    assert.equal(header.kid, await calculateJwkThumbprint(jwk, 'sha256'));
    assert.equal(jwk.kid, header.kid);
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.alg, alg);
    assert.equal((jwk as { d?: string }).d, undefined, 'the JWKS holds the public key only');
    const r = await jwtVerify(jwt, createLocalJWKSet(jwks), { typ: 'eat+jwt' });
    assert.deepEqual(r.payload, claims);
    assert.deepEqual(await verifyEar(jwt, jwks, { nonce: NONCE }), claims);
  }
});

async function refused(p: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSpdmError(e, 'EAR_INVALID'), `EAR_INVALID, got ${String(e)}`);
    assert.equal(e.details.reason, reason, e.message);
    return true;
  });
}

test('verifyEar refuses another key, a tampered payload, a wrong nonce, an expired or unsigned token', async () => {
  const { jwt, jwks, claims } = await trustedEar();
  const other = await earJwks(generateEarKey());
  await refused(verifyEar(jwt, other), 'jwks');
  // Another key published under our kid: the signature, not the kid, decides.
  await refused(verifyEar(jwt, { keys: [{ ...other.keys[0], kid: jwks.keys[0]!.kid }] }), 'signature');
  await refused(verifyEar(flipPayloadByte(jwt), jwks), 'signature');
  await refused(verifyEar(jwt, jwks, { nonce: Buffer.alloc(32, 7) }), 'nonce');
  await refused(verifyEar('not.a.jwt!', jwks), 'header');
  await refused(verifyEar('x'.repeat(70_000), jwks), 'size');
  await refused(verifyEar(jwt, { keys: [] }), 'jwks');
  await refused(verifyEar(jwt, [jwks.keys[0]]), 'jwks');
  await refused(verifyEar(jwt, { keys: [{ ...jwks.keys[0], d: 'AAAA' }] }), 'jwks');

  const key = generateEarKey();
  const keys = await earJwks(key);
  const { kid } = keys.keys[0]!;
  const expired = await new SignJWT({ ...claims, exp: claims.iat - 10 })
    .setProtectedHeader({ alg: 'ES256', typ: 'eat+jwt', kid: kid! })
    .sign(key);
  await refused(verifyEar(expired, keys), 'expired');
  const plainJwt = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: kid! })
    .sign(key);
  await refused(verifyEar(plainJwt, keys), 'header');
  const otherProfile = await new SignJWT({ ...claims, eat_profile: 'tag:github.com,2023:veraison/ear' })
    .setProtectedHeader({ alg: 'ES256', typ: 'eat+jwt', kid: kid! })
    .sign(key);
  await refused(verifyEar(otherProfile, keys), 'profile');
  const badTier = await new SignJWT({ ...claims, submods: { d: { ear_status: 'fine' } } })
    .setProtectedHeader({ alg: 'ES256', typ: 'eat+jwt', kid: kid! })
    .sign(key);
  await refused(verifyEar(badTier, keys), 'claims');
  const none = `${Buffer.from('{"alg":"none","typ":"eat+jwt"}').toString('base64url')}.${jwt.split('.')[1]!}.`;
  await refused(verifyEar(`${none}AAAA`, jwks), 'header');
});

function python(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import cryptography, jsonschema'], { encoding: 'utf8' });
  return r.status === 0
    ? undefined
    : `python3 with cryptography and jsonschema is needed (${r.error?.message ?? r.stderr.trim()})`;
}

test('an independent verifier (Python, cryptography only) accepts our EARs and refuses forgeries', async (t) => {
  const missing = python();
  if (missing) {
    t.skip(missing);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-ear-'));
  const script = join(repoRoot(), 'test', 'verifier', 'ear_verify.py');
  const run = (jwt: string, jwks: unknown) => {
    writeFileSync(join(dir, 'ear.jwt'), jwt);
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks));
    return spawnSync('python3', [script, join(dir, 'ear.jwt'), join(dir, 'jwks.json')], { encoding: 'utf8' });
  };
  try {
    for (const alg of ['ES256', 'ES384', 'EdDSA'] as const) {
      const { jwt, jwks, claims } = await trustedEar(alg);
      const ok = run(jwt, jwks);
      assert.equal(ok.status, 0, `${alg}: ${ok.stderr}`);
      assert.deepEqual(JSON.parse(ok.stdout), claims);

      const wrong = run(jwt, { keys: [{ ...(await earJwks(generateEarKey(alg))).keys[0], kid: jwks.keys[0]!.kid }] });
      assert.equal(wrong.status, 1, `${alg} with another key: ${wrong.stdout}`);
      assert.match(wrong.stderr, /refused/);

      const flipped = run(flipPayloadByte(jwt), jwks);
      assert.equal(flipped.status, 1, `${alg} with a flipped payload byte: ${flipped.stdout}`);
      assert.match(flipped.stderr, /signature does not verify/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/ear.md gives every reason code the category and value REASON_CLAIMS has', () => {
  const doc = readFileSync(join(repoRoot(), 'docs', 'ear.md'), 'utf8');
  const seen = new Set<string>();
  for (const row of doc.split('\n').filter((l) => /^\| `[A-Z_]+`/.test(l))) {
    const [codesCell, categoryCell, valueCell] = row
      .split('|')
      .slice(1, 4)
      .map((c) => c.trim()) as [string, string, string];
    const value = Number(/^(-?\d+)/.exec(valueCell)?.[1]);
    for (const [, code] of codesCell.matchAll(/`([A-Z_]+)`/g)) {
      const m = REASON_CLAIMS[code as keyof typeof REASON_CLAIMS];
      assert.ok(m, `docs/ear.md names ${code}, which is no reason code`);
      seen.add(code!);
      assert.equal(value, m.value, `${code}: docs/ear.md says ${valueCell}`);
      const cats = m.claims.map((c) => (c === 'measurement' ? 'by measurement type' : c)).join(', ');
      assert.equal(categoryCell, cats, `${code}: docs/ear.md says ${categoryCell}`);
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(REASON_CLAIMS).sort());
});
