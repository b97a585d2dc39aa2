import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DecodeError, SpdmError } from '../../src/wire/errors.js';
import { concat } from '../../src/wire/bytes.js';
import { BaseHashAlgo } from '../../src/crypto/algorithms.js';
import { decodeSpdmCertChain, encodeSpdmCertChain } from '../../src/x509/spdm-chain.js';
import { validateSpdmChain } from '../../src/x509/chain.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { at, libspdmResponderChain, flipByte } from './fixtures.js';

const certs = libspdmResponderChain('ecp256');
const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const total = 4 + 32 + certs.reduce((n, c) => n + c.length, 0);
// A moment inside the sample certificates' validity, read from them (libspdm regenerates them).
const libspdmNow = new Date(parseCertificate(at(certs, 2)).notBefore.getTime() + 24 * 3600 * 1000);

test('SPDM 1.2 chain: Length(2) Reserved(2) RootHash certs, and it decodes back', () => {
  const bytes = encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_256, certs);
  assert.equal(bytes.length, total);
  assert.equal(bytes[0]! | (bytes[1]! << 8), total);
  assert.deepEqual(bytes.subarray(2, 4), Uint8Array.of(0, 0));
  assert.deepEqual(bytes.subarray(4, 36), sha256(at(certs, 0)));
  assert.deepEqual(bytes.subarray(36), concat(certs));

  const chain = decodeSpdmCertChain(bytes, 0x12, 32);
  assert.equal(chain.raw, bytes);
  assert.equal(chain.length, total);
  assert.deepEqual(chain.rootHash, sha256(at(certs, 0)));
  assert.deepEqual(chain.certificates, certs);
  assert.equal(at(chain.certificates, 2).buffer, bytes.buffer, 'certificates are views of the input');
});

test('SPDM 1.4 chain: 4-byte Length allows chains beyond 64 KiB; 1.3 refuses to encode them', () => {
  const small = encodeSpdmCertChain(0x14, BaseHashAlgo.SHA_384, certs);
  // Little-endian 32-bit Length: below 64 KiB the bytes equal the 1.3 form.
  assert.deepEqual(small, encodeSpdmCertChain(0x13, BaseHashAlgo.SHA_384, certs));
  assert.deepEqual(decodeSpdmCertChain(small, 0x14, 48).certificates, certs);

  const many = Array.from({ length: Math.ceil(0x10000 / at(certs, 2).length) + 1 }, () => at(certs, 2));
  assert.throws(
    () => encodeSpdmCertChain(0x13, BaseHashAlgo.SHA_384, many),
    (e: unknown) => e instanceof SpdmError && e.code === 'ENCODE_ERROR',
  );
  const big = encodeSpdmCertChain(0x14, BaseHashAlgo.SHA_384, many);
  assert.ok(big.length > 0xffff);
  assert.equal(new DataView(big.buffer, big.byteOffset).getUint32(0, true), big.length);
  const chain = decodeSpdmCertChain(big, 0x14, 48);
  assert.equal(chain.certificates.length, many.length);
  assert.equal(chain.length, big.length);
  // Read as a 1.3 chain the low 16 bits no longer match the size.
  assert.throws(
    () => decodeSpdmCertChain(big, 0x13, 48),
    (e: unknown) => e instanceof DecodeError && e.field === 'Length',
  );
});

test('encodeSpdmCertChain needs a certificate', () => {
  assert.throws(
    () => encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_256, []),
    (e: unknown) => e instanceof SpdmError && e.code === 'ENCODE_ERROR',
  );
});

test('decodeSpdmCertChain: Length must equal the buffer size and a certificate must follow RootHash', () => {
  const bytes = encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_256, certs);
  const longer = concat([bytes, Uint8Array.of(0)]);
  assert.throws(
    () => decodeSpdmCertChain(longer, 0x12, 32),
    (e: unknown) => e instanceof DecodeError && e.messageName === 'SpdmCertChain' && e.field === 'Length',
  );
  const headerOnly = Uint8Array.from([36, 0, 0, 0, ...new Uint8Array(32)]);
  assert.throws(
    () => decodeSpdmCertChain(headerOnly, 0x12, 32),
    (e: unknown) => e instanceof DecodeError && e.field === 'Certificates' && e.offset === 36,
  );
  // Wrong hash size shifts the certificates: the first "certificate" no longer frames.
  assert.throws(
    () => decodeSpdmCertChain(bytes, 0x12, 48),
    (e: unknown) => e instanceof DecodeError && e.field.startsWith('Certificates['),
  );
});

test('every truncation of an encoded chain is a typed DecodeError, also with Length patched to match', () => {
  for (const version of [0x12, 0x14]) {
    const bytes = encodeSpdmCertChain(version, BaseHashAlgo.SHA_256, certs);
    const boundaries = new Set<number>();
    let off = 36;
    for (const c of certs) {
      off += c.length;
      boundaries.add(off);
    }
    for (let n = 0; n < bytes.length; n++) {
      const cut = bytes.slice(0, n);
      assert.throws(() => decodeSpdmCertChain(cut, version, 32), DecodeError, `truncated to ${n}`);
      if (n < 4) continue;
      // Patch Length so the header agrees: only cuts at certificate boundaries are valid chains.
      const view = new DataView(cut.buffer);
      if (version >= 0x14) view.setUint32(0, n, true);
      else view.setUint16(0, n, true);
      if (boundaries.has(n)) {
        const chain = decodeSpdmCertChain(cut, version, 32);
        assert.ok(chain.certificates.length >= 1);
      } else {
        assert.throws(() => decodeSpdmCertChain(cut, version, 32), DecodeError, `patched truncation to ${n}`);
      }
    }
  }
});

test('validateSpdmChain checks RootHash against the root certificate in the chain', () => {
  const bytes = encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_256, certs);
  const opts = {
    now: libspdmNow,
    role: 'responder',
    version: 0x12,
    asymId: 0x10,
    hashId: BaseHashAlgo.SHA_256,
  } as const;
  const good = validateSpdmChain(bytes, opts);
  assert.deepEqual(good.report, { ok: true, problems: [] });
  assert.equal(good.certificates.length, 3);
  assert.equal(good.certificates[0]!.subject, 'CN=DMTF libspdm ECP256 CA');

  const bad = validateSpdmChain(flipByte(bytes, 10), opts);
  assert.equal(bad.report.ok, false);
  assert.deepEqual(
    bad.report.problems.map((p) => p.code),
    ['ROOT_HASH'],
  );

  // Root omitted (1.2+): RootHash names an external root, so there is nothing to compare here.
  const noRoot = encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_256, certs.slice(1), at(certs, 0));
  assert.deepEqual(noRoot.subarray(4, 36), sha256(at(certs, 0)), 'RootHash names the omitted root');
  const v = validateSpdmChain(noRoot, opts);
  assert.deepEqual(v.report, { ok: true, problems: [] });
  assert.equal(v.certificates.length, 2);
});

test('validateSpdmChain throws CERT_INVALID naming the certificate when one does not parse', () => {
  // A well-framed SEQUENCE that is not a certificate.
  const junk = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05);
  const bytes = encodeSpdmCertChain(0x12, BaseHashAlgo.SHA_256, [at(certs, 0), junk, at(certs, 2)]);
  assert.throws(
    () =>
      validateSpdmChain(bytes, {
        now: libspdmNow,
        role: 'responder',
        version: 0x12,
        asymId: 0x10,
        hashId: BaseHashAlgo.SHA_256,
      }),
    (e: unknown) =>
      e instanceof SpdmError &&
      e.code === 'CERT_INVALID' &&
      e.details['certIndex'] === 1 &&
      e.message.startsWith('Certificates[1]'),
  );
});
