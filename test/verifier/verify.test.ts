/** verify(): the verdict for genuine, untrusted, denied, expired, mis-named, mis-measured, stale and forged devices. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Evidence } from '../../src/evidence/evidence.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { CapabilityFlag } from '../../src/spdm/messages/capabilities.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { DenyList } from '../../src/verifier/deny-list.js';
import { compilePolicy, type Policy } from '../../src/verifier/policy.js';
import {
  COLLECTED,
  NOW,
  PCI,
  PCI_OTHER_MODEL,
  codes,
  collect,
  edited,
  makeDevice,
  vendorRoot,
  viaJson,
  type TestDevice,
} from './helpers.js';

let genuine: TestDevice;
let evidence: Evidence;
let trust: TrustStore;
let policy: Policy;

/** A policy whose device entry pins every measurement of `e` (the golden values of the model). */
function referencePolicy(e: Evidence, device: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Policy {
  const measurements: Record<string, string[]> = {};
  for (const m of e.measurements) if (m.index !== 6) measurements[String(m.index)] = [m.value];
  return compilePolicy({
    version: 1,
    evidence: { maxAgeSeconds: 300, minSpdmVersion: '1.2', requireDevicePolicy: true },
    ...top,
    devices: [
      { name: 'Acme X100', match: { pci: { vendorId: '8086', deviceId: '0b25' } }, measurements, minSvn: 1, ...device },
    ],
  });
}

before(async () => {
  genuine = makeDevice();
  evidence = await collect(genuine);
  trust = TrustStore.fromCertificates([vendorRoot().certificate]);
  policy = referencePolicy(evidence);
});

test('a genuine device is trusted, with every check listed', () => {
  const v = verify(viaJson(evidence), policy, trust, { now: NOW });
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
  assert.deepEqual(v.reasons, []);
  assert.equal(v.devicePolicy, 'Acme X100');
  const passed = v.checks.map((c) => c.code);
  for (const c of [
    'CERTIFICATE_RULES',
    'CHAIN_TRUSTED',
    'NOT_DENIED',
    'SAN_MATCH',
    'SIGNATURES_VALID',
    'EVIDENCE_FRESH',
    'VERSION_OK',
    'DEVICE_POLICY',
    'SVN_OK',
    'MEASUREMENTS_MATCH',
  ]) {
    assert.ok(passed.includes(c), `${c} in ${passed.join(',')}`);
  }
  assert.match(
    v.checks.find((c) => c.code === 'SAN_MATCH')!.message,
    /Vendor=8086:Device=0b25:CC=020000:REV=01:SSVID=8086:SSID=0001/,
  );
  // A verdict is plain JSON.
  assert.deepEqual(viaJson(v), v);
});

test('the authenticate --json wrapper is accepted as well as bare evidence', () => {
  const v = verify(viaJson({ authenticated: true, trusted: true, evidence }), policy, trust, { now: NOW });
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
  const failed = verify({ authenticated: false, reason: 'TIMEOUT: no response', errorCode: 'TIMEOUT' }, policy, trust, {
    now: NOW,
  });
  assert.deepEqual(codes(failed), ['MALFORMED_EVIDENCE']);
  assert.match(failed.reasons[0]!.message, /no evidence.*TIMEOUT/);
});

test('unknown root: CHAIN_UNTRUSTED', async () => {
  const other = makeDevice({ root: vendorRoot('Counterfeit') });
  const e = await collect(other);
  const v = verify(e, policy, trust, { now: NOW });
  assert.equal(v.status, 'untrusted');
  assert.deepEqual(codes(v), ['CHAIN_UNTRUSTED']);
  assert.match(v.reasons[0]!.message, /Counterfeit Device Root CA.*not a trusted root/);
  // Everything else about it is fine, and says so.
  assert.ok(v.checks.some((c) => c.code === 'SIGNATURES_VALID'));
});

test('denied certificate by fingerprint (leaf) and by issuer + serial (intermediate): CERT_DENIED', () => {
  const leaf = parseCertificate(genuine.leaf.certificate);
  const byFp = TrustStore.fromCertificates(
    [vendorRoot().certificate],
    new DenyList().addFingerprint(leaf.fingerprintSha256.toUpperCase().replace(/(..)(?!$)/g, '$1:')),
  );
  const v1 = verify(evidence, policy, byFp, { now: NOW });
  assert.deepEqual(codes(v1), ['CERT_DENIED']);
  assert.equal(v1.reasons[0]!['by'], 'fingerprint');
  assert.equal(v1.reasons[0]!['certIndex'], 2);
  assert.match(v1.reasons[0]!.message, /leaf "CN=Acme X100" .* deny-list by fingerprint/);

  const inter = parseCertificate(genuine.intermediate.certificate);
  const bySerial = TrustStore.fromCertificates(
    [vendorRoot().certificate],
    new DenyList().addIssuerSerial({
      issuer: inter.issuer.replace(/,/g, ', '),
      serial: `0x${inter.serialNumber.toUpperCase()}`,
    }),
  );
  const v2 = verify(evidence, policy, bySerial, { now: NOW });
  assert.deepEqual(codes(v2), ['CERT_DENIED']);
  assert.equal(v2.reasons[0]!['by'], 'issuer-serial');
  assert.equal(v2.reasons[0]!['certIndex'], 1);

  // A denied root is a denied anchor, even when the chain leads to it.
  const rootDenied = TrustStore.fromCertificates(
    [vendorRoot().certificate],
    new DenyList().addCertificate(parseCertificate(vendorRoot().certificate)),
  );
  assert.deepEqual(codes(verify(evidence, policy, rootDenied, { now: NOW })), ['CERT_DENIED']);
});

test('expired leaf: CERT_EXPIRED (at collection time, or at the verifier clock)', async () => {
  const d = makeDevice({
    leafNotBefore: new Date('2024-01-01T00:00:00Z'),
    leafNotAfter: new Date('2025-06-01T00:00:00Z'),
  });
  const e = await collect(d);
  const v = verify(e, policy, trust, { now: NOW });
  assert.deepEqual(codes(v), ['CERT_EXPIRED']);
  assert.equal(v.reasons[0]!['certIndex'], 2);
  assert.match(v.reasons[0]!.message, /leaf "CN=Acme X100" expired at 2025-06-01/);

  // Valid when collected, expired by the time of verification: only under certificateTime "now".
  const later = new Date('2040-01-01T00:00:00Z');
  const atNow = compilePolicy({ version: 1, evidence: { certificateTime: 'now' } });
  const atCollected = compilePolicy({ version: 1 });
  assert.equal(verify(evidence, atCollected, trust, { now: later }).status, 'trusted');
  assert.ok(codes(verify(evidence, atNow, trust, { now: later })).includes('CERT_EXPIRED'));

  const early = makeDevice({ leafNotBefore: new Date('2027-01-01T00:00:00Z'), leafNotAfter: NOT_AFTER_FAR });
  assert.deepEqual(codes(verify(await collect(early), policy, trust, { now: NOW })), ['CERT_NOT_YET_VALID']);
});
const NOT_AFTER_FAR = new Date('2034-01-01T00:00:00Z');

test('PCIe CMA SAN rule: another model, no SAN, no PCI identity; off and warn', async () => {
  // The leaf names device 0b26 but the function reads 0b25.
  const wrong = await collect(makeDevice({ san: PCI_OTHER_MODEL }));
  const v = verify(wrong, policy, trust, { now: NOW });
  assert.deepEqual(codes(v), ['SAN_MISMATCH']);
  assert.equal(v.reasons[0]!['expected'], 'Vendor=8086:Device=0b25:CC=020000:REV=01:SSVID=8086:SSID=0001');
  assert.deepEqual(v.reasons[0]!['found'], ['Vendor=8086:Device=0b26:CC=020000:REV=01:SSVID=8086:SSID=0001']);

  // Case matters: Linux compares byte for byte with lowercase hex.
  const upper = await collect(makeDevice({ san: 'Vendor=8086:Device=0B25:CC=020000:REV=01:SSVID=8086:SSID=0001' }));
  assert.deepEqual(codes(verify(upper, policy, trust, { now: NOW })), ['SAN_MISMATCH']);

  const none = await collect(makeDevice({ san: null }));
  assert.deepEqual(codes(verify(none, policy, trust, { now: NOW })), ['SAN_MISSING']);

  const noPci = await collect(genuine, { pci: null });
  const sanOnly = compilePolicy({ version: 1 });
  assert.deepEqual(codes(verify(noPci, sanOnly, trust, { now: NOW })), ['PCI_IDENTITY_MISSING']);

  const off = compilePolicy({ version: 1, rules: { cmaSan: 'off' } });
  assert.equal(verify(wrong, off, trust, { now: NOW }).status, 'trusted');
  assert.equal(verify(none, off, trust, { now: NOW }).status, 'trusted');
  assert.equal(verify(noPci, off, trust, { now: NOW }).status, 'trusted');

  const warn = verify(wrong, compilePolicy({ version: 1, rules: { cmaSan: 'warn' } }), trust, { now: NOW });
  assert.equal(warn.status, 'trusted');
  assert.deepEqual(
    warn.warnings.map((w) => w.code),
    ['SAN_MISMATCH'],
  );

  // Per device: a device entry can switch the rule off for its model only.
  const perDevice = referencePolicy(evidence, { rules: { cmaSan: 'off' } });
  assert.equal(verify(wrong, perDevice, trust, { now: NOW }).status, 'trusted');
});

test('measurement mismatch names the index, the expected and the actual value', async () => {
  const patched = await collect(makeDevice({ firmware: 'Acme X100', firmwareVersion: '1.0.1' }));
  const v = verify(patched, policy, trust, { now: NOW });
  assert.deepEqual(codes(v), ['MEASUREMENT_MISMATCH', 'MEASUREMENT_MISMATCH']);
  const want = evidence.measurements.find((m) => m.index === 2)!.value;
  const got = patched.measurements.find((m) => m.index === 2)!.value;
  assert.equal(v.reasons[0]!.message, `measurement 2 mismatch: expected ${want} got ${got}`);
  assert.equal(v.reasons[0]!['index'], 2);
  assert.equal(v.reasons[1]!['index'], 5);

  // A list of acceptable values: either firmware passes.
  const both = referencePolicy(evidence, {
    measurements: {
      ...Object.fromEntries(
        evidence.measurements.filter((m) => m.index !== 6).map((m) => [String(m.index), [m.value]]),
      ),
      '2': [want, got],
      '5': [
        evidence.measurements.find((m) => m.index === 5)!.value,
        patched.measurements.find((m) => m.index === 5)!.value,
      ],
    },
  });
  assert.equal(verify(patched, both, trust, { now: NOW }).status, 'trusted');

  // Ignored indices are not compared; indices neither listed nor ignored are rejected unless allowed.
  const partial = referencePolicy(evidence, {
    measurements: { '1': [evidence.measurements[0]!.value] },
    ignore: [3, 4],
  });
  const vp = verify(evidence, partial, trust, { now: NOW });
  assert.deepEqual(
    vp.reasons.map((r) => `${r.code}:${String(r['index'])}`),
    ['MEASUREMENT_UNEXPECTED:2', 'MEASUREMENT_UNEXPECTED:5'],
  );
  assert.equal(
    verify(
      evidence,
      referencePolicy(evidence, { measurements: { '1': [evidence.measurements[0]!.value] }, unlisted: 'ignore' }),
      trust,
      { now: NOW },
    ).status,
    'trusted',
  );
});

test('missing required measurement: MEASUREMENT_MISSING', () => {
  const p = referencePolicy(evidence, {
    measurements: {
      ...Object.fromEntries(
        evidence.measurements.filter((m) => m.index !== 6).map((m) => [String(m.index), [m.value]]),
      ),
      '9': ['00'.repeat(32)],
    },
  });
  const v = verify(evidence, p, trust, { now: NOW });
  assert.deepEqual(codes(v), ['MEASUREMENT_MISSING']);
  assert.match(v.reasons[0]!.message, /^measurement 9 missing/);
});

test('security version number below the minimum: SVN_TOO_LOW', async () => {
  const v = verify(evidence, referencePolicy(evidence, { minSvn: 2 }), trust, { now: NOW });
  assert.deepEqual(codes(v), ['SVN_TOO_LOW']);
  assert.equal(v.reasons[0]!.message, 'security version number 1 (measurement 6) is below the minimum 2');
  // Beyond 2^53, as a decimal string.
  assert.deepEqual(
    codes(verify(evidence, referencePolicy(evidence, { minSvn: '18446744073709551615' }), trust, { now: NOW })),
    ['SVN_TOO_LOW'],
  );
  // Version 3 firmware has SVN 3.
  const v3 = await collect(makeDevice({ firmwareVersion: '3.0.0' }));
  const p3 = referencePolicy(v3, { minSvn: 2 });
  assert.equal(verify(v3, p3, trust, { now: NOW }).status, 'trusted');
});

test('stale evidence: nonce not the expected one, too old, dated in the future', async () => {
  const nonce = new Uint8Array(32).fill(0x5a);
  const fresh = await collect(genuine, { nonce });
  assert.equal(verify(fresh, policy, trust, { now: NOW, expectedNonce: nonce }).status, 'trusted');
  assert.ok(
    verify(fresh, policy, trust, { now: NOW, expectedNonce: '5a'.repeat(32) }).checks.some(
      (c) => c.code === 'NONCE_MATCH',
    ),
  );

  // Old evidence (another nonce) replayed for a new challenge.
  const v = verify(evidence, policy, trust, { now: NOW, expectedNonce: nonce });
  assert.deepEqual(codes(v), ['NONCE_MISMATCH', 'NONCE_MISMATCH']);
  assert.match(v.reasons[0]!.message, /not the expected 5a5a/);

  // Editing the recorded nonce does not help: the nonce is read from the signed request.
  const lied = edited(evidence, (d) => {
    for (const s of d.signatures) s['requesterNonce'] = '5a'.repeat(32);
  });
  const vl = verify(lied, policy, trust, { now: NOW, expectedNonce: nonce });
  assert.ok(codes(vl).includes('NONCE_MISMATCH') && codes(vl).includes('SIGNATURE_INVALID'), JSON.stringify(codes(vl)));

  const old = verify(evidence, policy, trust, { now: new Date(COLLECTED.getTime() + 3600_000) });
  assert.deepEqual(codes(old), ['STALE_EVIDENCE']);
  assert.match(old.reasons[0]!.message, /collected 3600 s ago .* allows 300 s/);
  const future = verify(evidence, policy, trust, { now: new Date(COLLECTED.getTime() - 3600_000) });
  assert.deepEqual(codes(future), ['STALE_EVIDENCE']);
});

test('SPDM version below the minimum: VERSION_TOO_OLD', async () => {
  const e11 = await collect(makeDevice({ versions: [0x11] }));
  const v = verify(e11, referencePolicy(e11), trust, { now: NOW });
  assert.deepEqual(codes(v), ['VERSION_TOO_OLD']);
  assert.equal(v.reasons[0]!.message, 'the device negotiated SPDM 1.1, the policy requires at least 1.2');
  // Claiming a newer version in the unsigned fields is caught as well.
  const claimed = edited(e11, (d) => {
    d['versionByte'] = 0x13;
    d['version'] = '1.3';
  });
  assert.ok(codes(verify(claimed, referencePolicy(e11), trust, { now: NOW })).includes('SIGNATURE_INVALID'));
});

test('no device entry matches and the policy demands one: NO_POLICY_FOR_DEVICE', async () => {
  const other = await collect(makeDevice({ name: 'Acme Y200', san: PCI_OTHER_MODEL }), { pci: PCI_OTHER_MODEL });
  const v = verify(other, policy, trust, { now: NOW });
  assert.deepEqual(codes(v), ['NO_POLICY_FOR_DEVICE']);
  assert.match(v.reasons[0]!.message, /Device=0b26.*leaf "CN=Acme Y200"/);
  const lax = referencePolicy(evidence, {}, { evidence: { requireDevicePolicy: false } });
  assert.equal(verify(other, lax, trust, { now: NOW }).status, 'trusted');
  // Matching by certificate subject.
  const bySubject = compilePolicy({
    version: 1,
    evidence: { requireDevicePolicy: true },
    devices: [{ name: 'Y200', match: { subjectPattern: '^CN=Acme Y\\d+$' }, unlisted: 'ignore' }],
  });
  const vs = verify(other, bySubject, trust, { now: NOW });
  assert.equal(vs.status, 'trusted');
  assert.equal(vs.devicePolicy, 'Y200');
});

test('forged evidence: an edited measurement, block, signature, chain or flag is SIGNATURE_INVALID', async () => {
  const m2 = evidence.measurements.find((m) => m.index === 2)!;
  const cases: [string, unknown][] = [
    [
      'measurement value',
      edited(evidence, (d) => {
        d.measurements[1]!['value'] = evidence.measurements[0]!.value;
      }),
    ],
    [
      'measurement value and block',
      edited(evidence, (d) => {
        d.measurements[1]!['value'] = 'ab'.repeat(m2.value.length / 2);
        d.measurements[1]!['block'] =
          m2.block.slice(0, m2.block.length - m2.value.length) + 'ab'.repeat(m2.value.length / 2);
      }),
    ],
    [
      'signed transcript',
      edited(evidence, (d) => {
        const t = d.signatures[1]!['transcript'] as string;
        d.signatures[1]!['transcript'] = t.replace(m2.value, 'ab'.repeat(m2.value.length / 2));
      }),
    ],
    [
      'signature byte',
      edited(evidence, (d) => {
        const s = d.signatures[0]!['signature'] as string;
        d.signatures[0]!['signature'] = (s[0] === '0' ? '1' : '0') + s.slice(1);
      }),
    ],
  ];
  const otherChain = (await collect(makeDevice())).slots[0]!.certChain;
  cases.push([
    'certificate chain swapped for another genuine one',
    edited(evidence, (d) => {
      d.slots[0]!['certChain'] = otherChain;
    }),
  ]);
  cases.push([
    'kind relabelled',
    edited(evidence, (d) => {
      d.signatures[0]!['kind'] = 'MEASUREMENTS';
    }),
  ]);
  for (const [what, doc] of cases) {
    const v = verify(doc, policy, trust, { now: NOW });
    assert.equal(v.status, 'untrusted', what);
    assert.ok(codes(v).includes('SIGNATURE_INVALID'), `${what}: ${JSON.stringify(v.reasons)}`);
  }
  const first = verify(cases[0]![1], policy, trust, { now: NOW });
  assert.match(
    first.reasons.find((r) => r.code === 'SIGNATURE_INVALID')!.message,
    /measurement 2 .* not the signed value/,
  );

  // The requester's `verified` flag is never trusted.
  const bad = await collect(makeDevice({ misbehave: { signingKey: makeDevice().leaf.privateKey } })).catch(
    (e: unknown) => e,
  );
  assert.ok(bad instanceof Error, 'the requester itself refuses a wrong-key signature');
  const flagged = edited(evidence, (d) => {
    d.signatures[0]!['signature'] = '00'.repeat(64);
    d.signatures[0]!['verified'] = true;
  });
  assert.ok(codes(verify(flagged, policy, trust, { now: NOW })).includes('SIGNATURE_INVALID'));

  const unsigned = edited(evidence, (d) => {
    d.signatures = [];
  });
  const vu = verify(unsigned, policy, trust, { now: NOW });
  assert.ok(codes(vu).includes('SIGNATURE_MISSING'));
});

test('unsigned measurements: MEASUREMENT_UNSIGNED unless the policy allows them', () => {
  // Only CHALLENGE_AUTH left: the measurement list is the requester's word alone.
  const challengeOnly = edited(evidence, (d) => {
    d.signatures = d.signatures.filter((s) => s['kind'] === 'CHALLENGE_AUTH');
  });
  const v = verify(challengeOnly, policy, trust, { now: NOW });
  assert.ok(
    codes(v).every((c) => c === 'MEASUREMENT_UNSIGNED'),
    JSON.stringify(codes(v)),
  );
  assert.equal(codes(v).length, 6);
  const allow = referencePolicy(evidence, { evidence: { signedMeasurements: false } });
  assert.equal(verify(challengeOnly, allow, trust, { now: NOW }).status, 'trusted');
});

test('measurements read one by one are covered by the last signature', async () => {
  const e = await collect(genuine, { mode: 'one-by-one' });
  const v = verify(e, policy, trust, { now: NOW });
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
});

test('default policy (no policy file): certificate rules only', () => {
  const v = verify(evidence, undefined, trust, { now: NOW });
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
  assert.equal(v.devicePolicy, undefined);
  assert.equal(PCI.vendorId, 0x8086);
});

test('every SPDM version 1.0–1.3: the signed transcripts are understood and the device trusted', async () => {
  for (const version of [0x10, 0x11, 0x12, 0x13]) {
    const e = await collect(makeDevice({ versions: [version] }));
    assert.equal(e.versionByte, version);
    const v = verify(e, compilePolicy({ version: 1 }), trust, { now: NOW });
    assert.equal(v.status, 'trusted', `${version.toString(16)}: ${JSON.stringify(v.reasons)}`);
    assert.ok(v.checks.some((c) => c.code === 'SIGNATURES_VALID'));
  }
});

test('leaf certificate rules: KEY_USAGE, EKU (DSP0274 and the stricter responder-auth rule), HARDWARE_IDENTITY', async () => {
  const noSign = await collect(makeDevice({ leaf: { keyUsage: ['keyEncipherment'] } }));
  const v1 = verify(noSign, undefined, trust, { now: NOW });
  assert.deepEqual(codes(v1), ['KEY_USAGE']);
  assert.match(v1.reasons[0]!.message, /keyUsage lacks digitalSignature/);
  assert.equal(
    verify(noSign, compilePolicy({ version: 1, rules: { keyUsage: 'off' } }), trust, { now: NOW }).status,
    'trusted',
  );

  const requesterOnly = await collect(makeDevice({ leaf: { responderAuthEku: false, requesterAuthEku: true } }));
  assert.deepEqual(codes(verify(requesterOnly, undefined, trust, { now: NOW })), ['EKU']);

  const noDmtfEku = await collect(makeDevice({ leaf: { responderAuthEku: false } }));
  assert.equal(verify(noDmtfEku, undefined, trust, { now: NOW }).status, 'trusted');
  const strict = verify(noDmtfEku, compilePolicy({ version: 1, rules: { responderAuthEku: 'required' } }), trust, {
    now: NOW,
  });
  assert.deepEqual(codes(strict), ['EKU']);
  assert.match(strict.reasons[0]!.message, /lacks the DMTF responder-auth extended key usage/);

  // An AliasCert-model slot whose leaf claims hardware identity (SPDM 1.3 reports the model).
  const alias = makeDevice({ versions: [0x13] });
  const caps = alias.profile.capabilities;
  const aliasProfile = {
    ...alias.profile,
    // CertModel travels in CERTIFICATE only on a multi-key connection.
    capabilities: { ...caps, flags: (caps.flags & ~CapabilityFlag.MULTI_KEY_NEG) | CapabilityFlag.MULTI_KEY_ONLY },
    slots: alias.profile.slots.map((s) => ({ ...s, certModel: 2 })),
  };
  const e = await collect(aliasProfile);
  assert.equal(e.slots[0]!.certModel, 2);
  assert.deepEqual(codes(verify(e, undefined, trust, { now: NOW })), ['HARDWARE_IDENTITY']);
});
