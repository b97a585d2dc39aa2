/**
 * libspdm's published sample chains (root → intermediate → responder leaf), the certificates its
 * emulators present: our parser and validator must accept exactly what interop peers send.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { BaseAsymAlgo, BaseHashAlgo } from '../../src/crypto/algorithms.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { chainsToRoot, validateCertChain, verifyCertSignature } from '../../src/x509/chain.js';
import { digest } from '../../src/crypto/hash.js';
import { OID_DMTF_HARDWARE_IDENTITY } from '../../src/x509/oids.js';
import { splitDerCertificates } from '../../src/x509/der.js';
import { at, codes, libspdmFile, libspdmResponderChain, parseAll } from './fixtures.js';

const DIRS = [
  { dir: 'ecp256', asym: [BaseAsymAlgo.ECDSA_P256], wrong: BaseAsymAlgo.ECDSA_P384, label: 'ECP256' },
  { dir: 'ecp384', asym: [BaseAsymAlgo.ECDSA_P384], wrong: BaseAsymAlgo.ECDSA_P256, label: 'ECP384' },
  // The rsa3072 leaf is a plain rsaEncryption 3072-bit key: usable for RSASSA-3072 and RSAPSS-3072
  // alike (libspdm's doe-rsapss3072 capture negotiates RSAPSS with this very chain).
  {
    dir: 'rsa3072',
    asym: [BaseAsymAlgo.RSASSA_3072, BaseAsymAlgo.RSAPSS_3072],
    wrong: BaseAsymAlgo.RSASSA_2048,
    label: 'RSA',
  },
] as const;

/** A moment inside every certificate's validity, read from the certificates themselves. */
function insideValidity(certs: ReturnType<typeof parseAll>): Date {
  const from = Math.max(...certs.map((c) => c.notBefore.getTime()));
  const to = Math.min(...certs.map((c) => c.notAfter.getTime()));
  assert.ok(from < to);
  return new Date(from + (to - from) / 2);
}

for (const { dir, asym, wrong, label } of DIRS) {
  test(`libspdm ${dir}: chain parses with the expected names, extensions and device info`, () => {
    const certs = parseAll(libspdmResponderChain(dir));
    const [root, inter, leaf] = [at(certs, 0), at(certs, 1), at(certs, 2)];
    assert.equal(root.subject, `CN=DMTF libspdm ${label} CA`);
    assert.equal(root.issuer, root.subject);
    assert.equal(root.selfIssued, true);
    assert.equal(inter.subject, `CN=DMTF libspdm ${label} intermediate cert`);
    assert.equal(inter.issuer, root.subject);
    assert.equal(leaf.subject, `CN=DMTF libspdm ${label} responder cert`);
    assert.equal(leaf.serialNumber, '03');
    for (const c of certs) assert.equal(c.version, 3);
    assert.deepEqual(root.basicConstraints, { present: true, critical: true, cA: true });
    assert.deepEqual(leaf.basicConstraints, { present: true, critical: true, cA: false });
    assert.equal(leaf.keyUsage?.digitalSignature, true);
    assert.equal(leaf.keyUsage?.nonRepudiation, true);
    assert.equal(leaf.keyUsage?.keyEncipherment, true);
    assert.equal(leaf.keyUsage?.keyCertSign, false);
    assert.deepEqual(leaf.extendedKeyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.9']);
    assert.equal(leaf.dmtfDeviceInfo, 'ACME:WIDGET:1234567890');
    assert.equal(leaf.pcieCmaSan, undefined);
    assert.deepEqual(leaf.spdmExtensionOids, [OID_DMTF_HARDWARE_IDENTITY]);
    assert.deepEqual(leaf.unknownCriticalExtensions, []);
    assert.equal(leaf.authorityKeyIdentifier !== undefined, true);
    // Cross-check against OpenSSL's view of the same bytes.
    const x = new X509Certificate(leaf.der);
    assert.equal(x.fingerprint256.replace(/:/g, '').toLowerCase(), leaf.fingerprintSha256);
    assert.equal(x.serialNumber.replace(/^0+/, ''), leaf.serialNumber.replace(/^0+/, '').toUpperCase());
    assert.equal(leaf.notBefore.getTime(), new Date(x.validFrom).getTime());
    assert.equal(leaf.notAfter.getTime(), new Date(x.validTo).getTime());
    assert.equal(x.publicKey.equals(leaf.publicKey), true);
  });

  test(`libspdm ${dir}: validates for a responder with the matching algorithm only`, () => {
    const certs = parseAll(libspdmResponderChain(dir));
    const now = insideValidity(certs);
    for (const asymId of asym) {
      for (const version of [0x10, 0x12, 0x13]) {
        const report = validateCertChain(certs, { now, role: 'responder', version, asymId });
        assert.deepEqual(
          report,
          { ok: true, problems: [] },
          `asym 0x${asymId.toString(16)} version 0x${version.toString(16)}`,
        );
      }
    }
    assert.deepEqual(codes(validateCertChain(certs, { now, role: 'responder', version: 0x13, asymId: wrong })), [
      'LEAF_KEY_ALGORITHM@2',
    ]);
    // The sample leaf declares hardware-identity, which the AliasCert model forbids.
    assert.deepEqual(
      codes(validateCertChain(certs, { now, role: 'responder', version: 0x13, asymId: at(asym, 0), certModel: 2 })),
      ['HARDWARE_IDENTITY_IN_ALIAS@2'],
    );
    // Outside the validity period every certificate is reported.
    const later = new Date(Math.max(...certs.map((c) => c.notAfter.getTime())) + 1000);
    assert.deepEqual(
      codes(validateCertChain(certs, { now: later, role: 'responder', version: 0x13, asymId: at(asym, 0) })),
      ['EXPIRED@0', 'EXPIRED@1', 'EXPIRED@2'],
    );
  });

  test(`libspdm ${dir}: signatures verify along the chain and match OpenSSL`, () => {
    const certs = parseAll(libspdmResponderChain(dir));
    assert.equal(verifyCertSignature(at(certs, 0), at(certs, 0)), true);
    assert.equal(verifyCertSignature(at(certs, 1), at(certs, 0)), true);
    assert.equal(verifyCertSignature(at(certs, 2), at(certs, 1)), true);
    assert.equal(verifyCertSignature(at(certs, 2), at(certs, 0)), false);
    const xs = certs.map((c) => new X509Certificate(c.der));
    assert.equal(at(xs, 2).verify(at(xs, 1).publicKey), true);
  });

  test(`libspdm ${dir}: chainsToRoot trusts ca.cert.der and nothing else`, () => {
    const certs = parseAll(libspdmResponderChain(dir));
    const now = insideValidity(certs);
    const ca = parseCertificate(libspdmFile(dir, 'ca.cert.der'));
    const direct = chainsToRoot(certs, [ca], now);
    assert.equal(direct.trusted, true);
    assert.equal(direct.anchor?.der, ca.der);

    // Root omitted from the chain (SPDM 1.2+): the intermediate is issued by the trusted root.
    const withoutRoot = certs.slice(1);
    assert.equal(chainsToRoot(withoutRoot, [ca], now).trusted, true);
    const rootHash = digest(BaseHashAlgo.SHA_256, ca.der);
    assert.equal(chainsToRoot(withoutRoot, [ca], now, { rootHash, hashId: BaseHashAlgo.SHA_256 }).trusted, true);
    const wrongHash = chainsToRoot(withoutRoot, [ca], now, {
      rootHash: new Uint8Array(32),
      hashId: BaseHashAlgo.SHA_256,
    });
    assert.deepEqual(wrongHash, { trusted: false, reason: 'RootHash matches no trusted root' });

    const otherDir = dir === 'ecp256' ? 'ecp384' : 'ecp256';
    const other = parseCertificate(libspdmFile(otherDir, 'ca.cert.der'));
    const untrusted = chainsToRoot(certs, [other], now);
    assert.equal(untrusted.trusted, false);
    assert.match(untrusted.reason ?? '', /not a trusted root/);
    assert.equal(chainsToRoot(withoutRoot, [other], now).trusted, false);
    assert.equal(chainsToRoot(certs, [], now).trusted, false);
  });
}

test('libspdm requester chains validate for the requester role', () => {
  for (const { dir, asym } of DIRS) {
    const certs = parseAll(splitDerCertificates(libspdmFile(dir, 'bundle_requester.certchain.der')));
    assert.deepEqual(at(certs, 2).der, libspdmFile(dir, 'end_requester.cert.der'));
    const report = validateCertChain(certs, {
      now: insideValidity(certs),
      role: 'requester',
      version: 0x13,
      asymId: at(asym, 0),
    });
    assert.deepEqual(report, { ok: true, problems: [] }, dir);
  }
});
