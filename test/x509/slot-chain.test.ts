/**
 * chainForSlot: the one reading of a slot's SPDM chain into parsed certificates and the leaf key,
 * on libspdm's real chains and on malformed ones (each refused with a typed error naming the field).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { BaseAsymAlgo, BaseHashAlgo } from '../../src/crypto/algorithms.js';
import { digest } from '../../src/crypto/hash.js';
import { concat } from '../../src/wire/bytes.js';
import { DecodeError, SpdmError } from '../../src/wire/errors.js';
import { CertificateCache } from '../../src/x509/cache.js';
import { validateSpdmChain } from '../../src/x509/chain.js';
import { chainForSlot } from '../../src/x509/slot-chain.js';
import { encodeSpdmCertChain } from '../../src/x509/spdm-chain.js';
import { at, libspdmResponderChain } from './fixtures.js';

const VECTORS = [
  { dir: 'ecp256', hashId: BaseHashAlgo.SHA_256, keyType: 'ec', label: 'ECP256' },
  { dir: 'ecp384', hashId: BaseHashAlgo.SHA_384, keyType: 'ec', label: 'ECP384' },
  { dir: 'rsa3072', hashId: BaseHashAlgo.SHA_512, keyType: 'rsa', label: 'RSA' },
] as const;

const certs = libspdmResponderChain('ecp256');
const good = encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_256, certs);
const sha256 = { version: 0x12, hashId: BaseHashAlgo.SHA_256 } as const;

/** `body` behind a 1.0–1.3 header whose Length matches, so only the body is wrong. */
function withHeader(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint16(0, out.length, true);
  out.set(body, 4);
  return out;
}

/** Asserts chainForSlot refuses `bytes` with a DecodeError on `field` of SpdmCertChain. */
function refusesField(bytes: Uint8Array, field: string, opts: { version: number; hashId: number } = sha256): void {
  assert.throws(
    () => chainForSlot(bytes, opts),
    (e: unknown) =>
      e instanceof DecodeError && e.code === 'DECODE_ERROR' && e.messageName === 'SpdmCertChain' && e.field === field,
  );
}

for (const { dir, hashId, keyType, label } of VECTORS) {
  for (const version of [0x11, 0x12, 0x13, 0x14]) {
    test(`libspdm ${dir}, SPDM ${version.toString(16)}: certificates parsed, leaf and leaf key, RootHash`, () => {
      const ders = libspdmResponderChain(dir);
      const bytes = encodeSpdmCertChain(version, hashId, ders);
      const c = chainForSlot(bytes, { version, hashId });
      assert.equal(c.certificates.length, 3);
      assert.deepEqual(
        c.certificates.map((x) => x.der),
        ders,
      );
      assert.equal(c.leaf, c.certificates[2]);
      assert.equal(c.leaf.subject, `CN=DMTF libspdm ${label} responder cert`);
      assert.equal(at(c.certificates, 0).subject, `CN=DMTF libspdm ${label} CA`);
      assert.deepEqual(c.rootHash, digest(hashId, at(ders, 0)));
      assert.equal(c.chain.raw, bytes);
      assert.equal(c.leafKey.type, 'public');
      assert.equal(c.leafKey.asymmetricKeyType, keyType);
      // The same key OpenSSL reads from the leaf (what the capture analyser used before).
      assert.ok(c.leafKey.equals(new X509Certificate(at(ders, 2)).publicKey));
    });
  }
}

test('a chain without its root (1.2+): RootHash names the external root, the leaf is still last', () => {
  const bytes = encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_256, certs.slice(1), at(certs, 0));
  const c = chainForSlot(bytes, sha256);
  assert.equal(c.certificates.length, 2);
  assert.deepEqual(c.rootHash, digest(BaseHashAlgo.SHA_256, at(certs, 0)));
  assert.equal(c.leaf.subject, 'CN=DMTF libspdm ECP256 responder cert');
});

test('parses through the cache it is given', () => {
  const cache = new CertificateCache();
  const a = chainForSlot(good, { ...sha256, cache });
  const b = chainForSlot(good, { ...sha256, cache });
  assert.equal(cache.misses, 3);
  assert.equal(cache.hits, 3);
  assert.equal(a.leaf, b.leaf);
});

test('validateSpdmChain returns the same reading, with the report', () => {
  const c = chainForSlot(good, sha256);
  const v = validateSpdmChain(good, {
    ...sha256,
    role: 'responder',
    asymId: BaseAsymAlgo.ECDSA_P256,
    now: c.leaf.notBefore,
  });
  assert.deepEqual(
    v.certificates.map((x) => x.fingerprintSha256),
    c.certificates.map((x) => x.fingerprintSha256),
  );
  assert.equal(v.leaf.fingerprintSha256, c.leaf.fingerprintSha256);
  assert.ok(v.leafKey.equals(c.leafKey));
  assert.deepEqual(v.rootHash, c.rootHash);
});

test('truncated: Length says more than the buffer holds, or the header itself is cut', () => {
  refusesField(good.subarray(0, good.length - 10), 'Length');
  refusesField(good.subarray(0, 3), 'Reserved');
  refusesField(new Uint8Array(0), 'Length');
  // 1.4 reads a 4-byte Length: two bytes are not enough.
  refusesField(good.subarray(0, 2), 'Length', { version: 0x14, hashId: BaseHashAlgo.SHA_256 });
});

test('truncated: a consistent Length over a cut-off leaf is refused at that certificate', () => {
  refusesField(withHeader(good.subarray(4, good.length - 10)), 'Certificates[2]');
});

test('wrong RootHash size: too short for RootHash, or read with the wrong hash', () => {
  refusesField(withHeader(new Uint8Array(20)), 'RootHash');
  // Only RootHash, no certificate.
  refusesField(withHeader(new Uint8Array(32)), 'Certificates');
  // A SHA-384 chain read as SHA-256: the last 16 bytes of RootHash are taken for a certificate.
  const sha384Chain = encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_384, certs);
  refusesField(sha384Chain, 'Certificates[0]');
  // And a SHA-256 chain read as SHA-384: RootHash swallows the first certificate's header.
  refusesField(good, 'Certificates[0]', { version: 0x12, hashId: BaseHashAlgo.SHA_384 });
});

test('trailing garbage after the leaf is refused, with or without a Length that covers it', () => {
  const padded = concat([good, Uint8Array.of(0xde, 0xad, 0xbe, 0xef)]);
  refusesField(padded, 'Length');
  refusesField(withHeader(padded.subarray(4)), 'Certificates[3]');
  // A lone zero byte (no length) is not a certificate either.
  refusesField(withHeader(concat([good.subarray(4), Uint8Array.of(0)])), 'Certificates[3]');
});

test('non-DER framing: indefinite length, non-minimal length, a tag that is not SEQUENCE', () => {
  const root = new Uint8Array(32);
  refusesField(withHeader(concat([root, Uint8Array.of(0x30, 0x80, 0x00, 0x00)])), 'Certificates[0]');
  refusesField(withHeader(concat([root, Uint8Array.of(0x30, 0x81, 0x03, 0x02, 0x01, 0x00)])), 'Certificates[0]');
  refusesField(withHeader(concat([root, Uint8Array.of(0x31, 0x03, 0x02, 0x01, 0x00)])), 'Certificates[0]');
});

test('a framed SEQUENCE that is not a certificate: CERT_INVALID naming its index', () => {
  const junk = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00);
  const bytes = withHeader(concat([good.subarray(4, 36), at(certs, 0), junk, at(certs, 2)]));
  assert.throws(
    () => chainForSlot(bytes, sha256),
    (e: unknown) =>
      e instanceof SpdmError &&
      !(e instanceof DecodeError) &&
      e.code === 'CERT_INVALID' &&
      e.details['certIndex'] === 1 &&
      /^Certificates\[1\]: /.test(e.message),
  );
});

test('too many certificates: LIMIT_EXCEEDED before any is parsed', () => {
  const cache = new CertificateCache();
  assert.throws(
    () => chainForSlot(good, { ...sha256, cache, maxCertificates: 2 }),
    (e: unknown) =>
      e instanceof SpdmError &&
      e.code === 'LIMIT_EXCEEDED' &&
      e.details['limit'] === 'maxCertificates' &&
      e.details['value'] === 3,
  );
  assert.equal(cache.misses, 0);
  assert.equal(chainForSlot(good, { ...sha256, maxCertificates: 3 }).certificates.length, 3);
});

test('an unknown hash algorithm: UNSUPPORTED_ALGORITHM', () => {
  assert.throws(
    () => chainForSlot(good, { version: 0x12, hashId: 0x4000 }),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
  );
});
