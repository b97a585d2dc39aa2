import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { BaseAsymAlgo } from '../../src/crypto/algorithms.js';
import { SpdmError } from '../../src/wire/errors.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { validateCertChain, verifyCertSignature, chainsToRoot } from '../../src/x509/chain.js';
import {
  createCertificate,
  createDeviceChain,
  createRootCa,
  DEFAULT_DEVICE_INFO,
  generateKeyPair,
  identityPublicKey,
} from '../../src/x509/generate.js';
import {
  OID_DMTF_EKU_RESPONDER_AUTH,
  OID_DMTF_HARDWARE_IDENTITY,
  OID_ECDSA_WITH_SHA256,
  OID_ECDSA_WITH_SHA384,
  OID_ECDSA_WITH_SHA512,
  OID_ED25519,
  OID_ED448,
  OID_RSASSA_PSS,
  OID_SHA256_WITH_RSA,
  OID_SHA384_WITH_RSA,
  OID_SHA512_WITH_RSA,
} from '../../src/x509/oids.js';
import { signatureScheme } from '../../src/x509/signature.js';
import { CertificateCache } from '../../src/x509/cache.js';
import { at, cachedKey, deviceChain, NOT_AFTER, NOT_BEFORE, NOW, parseAll } from './fixtures.js';

const ALGORITHMS = [
  { name: 'ECDSA P-256', asymId: BaseAsymAlgo.ECDSA_P256, sigOid: OID_ECDSA_WITH_SHA256, rsa: false },
  { name: 'ECDSA P-384', asymId: BaseAsymAlgo.ECDSA_P384, sigOid: OID_ECDSA_WITH_SHA384, rsa: false },
  { name: 'ECDSA P-521', asymId: BaseAsymAlgo.ECDSA_P521, sigOid: OID_ECDSA_WITH_SHA512, rsa: false },
  { name: 'RSASSA-2048', asymId: BaseAsymAlgo.RSASSA_2048, sigOid: OID_SHA256_WITH_RSA, rsa: true },
  { name: 'RSAPSS-3072', asymId: BaseAsymAlgo.RSAPSS_3072, sigOid: OID_RSASSA_PSS, rsa: true },
  { name: 'Ed25519', asymId: BaseAsymAlgo.EDDSA_ED25519, sigOid: OID_ED25519, rsa: false },
  { name: 'Ed448', asymId: BaseAsymAlgo.EDDSA_ED448, sigOid: OID_ED448, rsa: false },
] as const;

for (const alg of ALGORITHMS) {
  test(`generated ${alg.name} device chain validates and OpenSSL agrees`, () => {
    const chain = deviceChain(alg.asymId);
    const certs = parseAll(chain.certificates);
    assert.deepEqual(validateCertChain(certs, { now: NOW, role: 'responder', version: 0x13, asymId: alg.asymId }), {
      ok: true,
      problems: [],
    });
    for (const c of certs) assert.equal(c.signatureAlgorithmOid, alg.sigOid);
    if (alg.asymId === BaseAsymAlgo.RSAPSS_3072) {
      assert.deepEqual(signatureScheme(at(certs, 2)), { kind: 'rsa-pss', hash: 'sha384', saltLength: 48 });
    }

    // OpenSSL (node's X509Certificate) parses each certificate and verifies each link.
    const xs = chain.certificates.map((d) => new X509Certificate(d));
    const [xr, xi, xl] = [at(xs, 0), at(xs, 1), at(xs, 2)];
    assert.equal(xr.verify(xr.publicKey), true);
    assert.equal(xi.verify(xr.publicKey), true);
    assert.equal(xl.verify(xi.publicKey), true);
    assert.equal(xl.verify(xr.publicKey), false);
    assert.equal(xr.checkIssued(xr), true);
    assert.equal(xi.checkIssued(xr), true);
    assert.equal(xl.checkIssued(xi), true);
    assert.equal(xl.checkIssued(xr), false);
    assert.equal(xr.ca, true);
    assert.equal(xi.ca, true);
    assert.equal(xl.ca, false);
    assert.equal(xl.subject, chain.leaf.subject);
    assert.equal(xl.publicKey.equals(identityPublicKey(chain.leaf)), true);
    assert.equal(xl.validFrom, 'Jan  1 00:00:00 2025 GMT');
    assert.equal(xl.validTo, 'Jan  1 00:00:00 2035 GMT');

    // Our verifier agrees with OpenSSL on the same pairs.
    assert.equal(verifyCertSignature(at(certs, 0), at(certs, 0)), true);
    assert.equal(verifyCertSignature(at(certs, 1), at(certs, 0)), true);
    assert.equal(verifyCertSignature(at(certs, 2), at(certs, 1)), true);
    assert.equal(verifyCertSignature(at(certs, 2), at(certs, 0)), false);

    // Leaf profile as libspdm's sample leaf.
    const leaf = at(certs, 2);
    assert.deepEqual(leaf.basicConstraints, { present: true, critical: true, cA: false });
    assert.equal(leaf.keyUsage?.digitalSignature, true);
    assert.equal(leaf.keyUsage?.keyEncipherment, alg.rsa);
    assert.equal(leaf.keyUsage?.nonRepudiation, alg.rsa);
    assert.equal(leaf.keyUsage?.keyCertSign, false);
    assert.ok(leaf.extendedKeyUsage?.includes(OID_DMTF_EKU_RESPONDER_AUTH));
    assert.equal(leaf.dmtfDeviceInfo, DEFAULT_DEVICE_INFO);
    assert.deepEqual(leaf.spdmExtensionOids, [OID_DMTF_HARDWARE_IDENTITY]);
    assert.deepEqual(leaf.authorityKeyIdentifier, at(certs, 1).subjectKeyIdentifier);
    assert.deepEqual(at(certs, 1).authorityKeyIdentifier, at(certs, 0).subjectKeyIdentifier);
    assert.equal(at(certs, 1).keyUsage?.keyCertSign, true);
    assert.equal(chainsToRoot(certs, [at(certs, 0)], NOW).trusted, true);
  });
}

test('certificate signatures with every RSA and ECDSA digest verify (ours and OpenSSL)', () => {
  const cases = [
    { asymId: BaseAsymAlgo.RSASSA_2048, hash: 'sha256', oid: OID_SHA256_WITH_RSA },
    { asymId: BaseAsymAlgo.RSASSA_2048, hash: 'sha384', oid: OID_SHA384_WITH_RSA },
    { asymId: BaseAsymAlgo.RSASSA_2048, hash: 'sha512', oid: OID_SHA512_WITH_RSA },
    { asymId: BaseAsymAlgo.RSAPSS_2048, hash: 'sha512', oid: OID_RSASSA_PSS },
    { asymId: BaseAsymAlgo.ECDSA_P256, hash: 'sha384', oid: OID_ECDSA_WITH_SHA384 },
    { asymId: BaseAsymAlgo.ECDSA_P384, hash: 'sha512', oid: OID_ECDSA_WITH_SHA512 },
  ] as const;
  for (const c of cases) {
    // RSAPSS_2048 shares the cached RSASSA_2048 key: the scheme comes from asymId, not the key.
    const keyPair = cachedKey(c.asymId === BaseAsymAlgo.RSAPSS_2048 ? BaseAsymAlgo.RSASSA_2048 : c.asymId);
    const root = createRootCa({
      asymId: c.asymId,
      commonName: `root ${c.hash}`,
      keyPair,
      signatureHash: c.hash,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    });
    const parsed = parseCertificate(root.certificate);
    assert.equal(parsed.signatureAlgorithmOid, c.oid);
    assert.equal(verifyCertSignature(parsed, parsed), true, `${c.oid} ${c.hash}`);
    const x = new X509Certificate(root.certificate);
    assert.equal(x.verify(x.publicKey), true);
    if (c.oid === OID_RSASSA_PSS)
      assert.deepEqual(signatureScheme(parsed), { kind: 'rsa-pss', hash: 'sha512', saltLength: 64 });
  }
});

test('a PCIe CMA subjectAltName is read back exactly', () => {
  const san = 'Vendor=8086:Device=0b25:CC=120000:REV=01:SSVID=8086:SSID=0000';
  const chain = deviceChain(BaseAsymAlgo.ECDSA_P256, { pcieCmaSan: san });
  const leaf = parseCertificate(chain.leaf.certificate);
  assert.deepEqual(leaf.pcieCmaSan, [san]);
  assert.equal(leaf.dmtfDeviceInfo, DEFAULT_DEVICE_INFO);
  const cma = leaf.otherNames.find((o) => o.typeId === '2.23.147');
  assert.equal(cma?.tag, 0x0c, 'UTF8String');
  assert.equal(cma?.value, san);
  // OpenSSL sees the same otherName.
  assert.match(new X509Certificate(chain.leaf.certificate).subjectAltName ?? '', /othername:/i);
  assert.ok(
    Buffer.from(chain.leaf.certificate).includes(Buffer.from([0x06, 0x03, 0x67, 0x81, 0x13])),
    'CMA OID 2.23.147 DER',
  );
});

test('leaf options: no SAN without names, no SPDM extension without hardware identity, custom device info', () => {
  const bare = parseCertificate(
    deviceChain(BaseAsymAlgo.ECDSA_P256, { dmtfDeviceInfo: null, hardwareIdentity: false }).leaf.certificate,
  );
  assert.deepEqual(bare.otherNames, []);
  assert.equal(bare.dmtfDeviceInfo, undefined);
  assert.deepEqual(bare.spdmExtensionOids, []);
  assert.equal(
    bare.extensions.some((e) => e.oid === '2.5.29.17'),
    false,
  );
  const named = parseCertificate(
    deviceChain(BaseAsymAlgo.ECDSA_P256, { dmtfDeviceInfo: 'Acme:Gizmo:42' }).leaf.certificate,
  );
  assert.equal(named.dmtfDeviceInfo, 'Acme:Gizmo:42');
});

test('defaults: random positive 16-byte serials and validity from one day ago to ten years ahead', () => {
  const kp = cachedKey(BaseAsymAlgo.ECDSA_P256);
  const before = Date.now();
  const a = parseCertificate(
    createRootCa({ asymId: BaseAsymAlgo.ECDSA_P256, commonName: 'a', keyPair: kp }).certificate,
  );
  const b = parseCertificate(
    createRootCa({ asymId: BaseAsymAlgo.ECDSA_P256, commonName: 'a', keyPair: kp }).certificate,
  );
  assert.notEqual(a.serialNumber, b.serialNumber);
  for (const c of [a, b]) {
    assert.equal(c.serialNumber.length, 32);
    assert.ok(parseInt(c.serialNumber.slice(0, 1), 16) < 8, 'positive without a sign byte');
  }
  const day = 24 * 3600 * 1000;
  assert.ok(Math.abs(a.notBefore.getTime() - (before - day)) < 5000);
  const tenYears = new Date(a.notBefore.getTime() + day);
  tenYears.setUTCFullYear(tenYears.getUTCFullYear() + 10);
  assert.ok(Math.abs(a.notAfter.getTime() - tenYears.getTime()) < 5000);
  // An explicit serial is encoded as a positive INTEGER.
  const s = parseCertificate(
    createRootCa({ asymId: BaseAsymAlgo.ECDSA_P256, commonName: 's', keyPair: kp, serial: Uint8Array.of(0x80, 0x01) })
      .certificate,
  );
  assert.equal(s.serialNumber, '8001');
  assert.equal(new X509Certificate(s.der).serialNumber, '8001');
});

test('one root can issue several device chains; pathLen is encoded', () => {
  const root = createRootCa({
    asymId: BaseAsymAlgo.ECDSA_P384,
    commonName: 'fleet root',
    keyPair: cachedKey(BaseAsymAlgo.ECDSA_P384, 9),
    pathLen: 1,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  assert.equal(parseCertificate(root.certificate).basicConstraints.pathLen, 1);
  const d1 = createDeviceChain({
    asymId: BaseAsymAlgo.ECDSA_P256,
    root,
    names: { leaf: 'device 1' },
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const d2 = createDeviceChain({
    asymId: BaseAsymAlgo.ECDSA_P256,
    root,
    names: { leaf: 'device 2' },
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  assert.equal(d1.root, root);
  const rootParsed = parseCertificate(root.certificate);
  for (const d of [d1, d2]) {
    const certs = parseAll(d.certificates);
    assert.deepEqual(
      validateCertChain(certs, { now: NOW, role: 'responder', version: 0x13, asymId: BaseAsymAlgo.ECDSA_P256 }),
      { ok: true, problems: [] },
    );
    assert.equal(chainsToRoot(certs, [rootParsed], NOW).trusted, true);
  }
  assert.equal(parseCertificate(d2.leaf.certificate).subject, 'CN=device 2');
});

test('a chain without its root: the first certificate is checked under the trust anchor the same way through a cache, a forged anchor refused every time', () => {
  const keyPair = cachedKey(BaseAsymAlgo.ECDSA_P384, 9);
  const root = createRootCa({
    asymId: BaseAsymAlgo.ECDSA_P384,
    commonName: 'rootless fleet root',
    keyPair,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  // Same name, another key: the chain names it as issuer, but its signature is not this key's.
  const impostor = createRootCa({
    asymId: BaseAsymAlgo.ECDSA_P384,
    commonName: 'rootless fleet root',
    keyPair: cachedKey(BaseAsymAlgo.ECDSA_P384, 10),
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const d = createDeviceChain({ asymId: BaseAsymAlgo.ECDSA_P256, root, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
  const rootless = parseAll(d.certificates).slice(1);
  assert.equal(rootless[0]?.selfIssued, false);
  const trusted = parseCertificate(root.certificate);
  const forged = parseCertificate(impostor.certificate);
  const cache = new CertificateCache();
  for (let round = 0; round < 2; round++) {
    const plain = chainsToRoot(rootless, [trusted], NOW);
    const cached = chainsToRoot(rootless, [trusted], NOW, { cache });
    assert.equal(cached.trusted, true);
    assert.equal(cached.anchor, trusted);
    assert.deepEqual(cached, plain);
    const refused = chainsToRoot(rootless, [forged], NOW, { cache });
    assert.equal(refused.trusted, false);
    assert.match(refused.reason ?? '', /signature does not verify with that root's key/);
    assert.deepEqual(refused, chainsToRoot(rootless, [forged], NOW));
  }
});

test('generateKeyPair makes the key each algorithm needs', () => {
  const p521 = generateKeyPair(BaseAsymAlgo.ECDSA_P521);
  assert.equal(p521.publicKey.asymmetricKeyDetails?.namedCurve, 'secp521r1');
  const ed = generateKeyPair(BaseAsymAlgo.EDDSA_ED25519);
  assert.equal(ed.privateKey.asymmetricKeyType, 'ed25519');
  const rsa = cachedKey(BaseAsymAlgo.RSASSA_2048);
  assert.equal(rsa.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(rsa.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.throws(
    () => generateKeyPair(BaseAsymAlgo.SM2_P256),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
  );
  assert.throws(
    () => generateKeyPair(0x1234),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
  );
});

test('an intermediate of another algorithm than its root (mixed chain) validates', () => {
  const chain = createDeviceChain({
    asymId: BaseAsymAlgo.ECDSA_P256,
    rootAsymId: BaseAsymAlgo.RSASSA_2048,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    keyPairs: {
      root: cachedKey(BaseAsymAlgo.RSASSA_2048),
      intermediate: cachedKey(BaseAsymAlgo.ECDSA_P256, 1),
      leaf: cachedKey(BaseAsymAlgo.ECDSA_P256, 2),
    },
  });
  const certs = parseAll(chain.certificates);
  assert.equal(at(certs, 1).signatureAlgorithmOid, OID_SHA256_WITH_RSA);
  assert.equal(at(certs, 2).signatureAlgorithmOid, OID_ECDSA_WITH_SHA256);
  assert.deepEqual(
    validateCertChain(certs, { now: NOW, role: 'responder', version: 0x12, asymId: BaseAsymAlgo.ECDSA_P256 }),
    { ok: true, problems: [] },
  );
  assert.equal(
    new X509Certificate(at(chain.certificates, 1)).verify(new X509Certificate(at(chain.certificates, 0)).publicKey),
    true,
  );
});

test('createCertificate can be issued by a certificate it did not generate (issuer name bytes kept)', () => {
  const chain = deviceChain(BaseAsymAlgo.ECDSA_P256);
  const leaf2 = createCertificate({
    issuer: chain.intermediate,
    asymId: BaseAsymAlgo.ECDSA_P256,
    commonName: 'second',
    ca: false,
    keyPair: cachedKey(BaseAsymAlgo.ECDSA_P256, 5),
  });
  const p = parseCertificate(leaf2.certificate);
  assert.deepEqual(p.issuerDer, parseCertificate(chain.intermediate.certificate).subjectDer);
});
