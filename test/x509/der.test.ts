import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../src/wire/errors.js';
import { concat } from '../../src/wire/bytes.js';
import { decodeOid, encodeOid, encodeTlv, splitDerCertificates } from '../../src/x509/der.js';
import { at, libspdmFile } from './fixtures.js';

function assertDecodeError(fn: () => unknown, field: string, offset?: number): DecodeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DecodeError, `expected DecodeError, got ${String(caught)}`);
  assert.equal(caught.code, 'DECODE_ERROR');
  assert.equal(caught.messageName, 'CertChain');
  assert.equal(caught.field, field);
  if (offset !== undefined) assert.equal(caught.offset, offset);
  return caught;
}

test('splitDerCertificates splits libspdm bundles into the individual certificate files, as views', () => {
  for (const dir of ['ecp256', 'ecp384', 'rsa3072'] as const) {
    const bundle = libspdmFile(dir, 'bundle_responder.certchain.der');
    const certs = splitDerCertificates(bundle);
    assert.equal(certs.length, 3);
    assert.deepEqual(at(certs, 0), libspdmFile(dir, 'ca.cert.der'));
    assert.deepEqual(at(certs, 1), libspdmFile(dir, 'inter.cert.der'));
    assert.deepEqual(at(certs, 2), libspdmFile(dir, 'end_responder.cert.der'));
    for (const c of certs) assert.equal(c.buffer, bundle.buffer, 'subarray, not a copy');
  }
});

test('splitDerCertificates handles short and 1..4-byte long-form lengths', () => {
  const short = encodeTlv(0x30, new Uint8Array(5));
  const long1 = encodeTlv(0x30, new Uint8Array(0x80));
  const long2 = encodeTlv(0x30, new Uint8Array(0x100));
  const long3 = encodeTlv(0x30, new Uint8Array(0x10000));
  assert.deepEqual(long1.subarray(0, 3), Uint8Array.of(0x30, 0x81, 0x80));
  assert.deepEqual(long3.subarray(0, 5), Uint8Array.of(0x30, 0x83, 0x01, 0x00, 0x00));
  const parts = splitDerCertificates(concat([short, long1, long2, long3]));
  assert.deepEqual(
    parts.map((p) => p.length),
    [short.length, long1.length, long2.length, long3.length],
  );
  // The 4-byte form is only minimal (DER) from 16 MiB on.
  const long4 = encodeTlv(0x30, new Uint8Array(0x1000000));
  assert.deepEqual(long4.subarray(0, 6), Uint8Array.of(0x30, 0x84, 0x01, 0x00, 0x00, 0x00));
  assert.equal(at(splitDerCertificates(long4), 0).length, long4.length);
  const nonMinimal = Uint8Array.of(0x30, 0x84, 0x00, 0x00, 0x00, 0x01, 0x00);
  assert.throws(() => splitDerCertificates(nonMinimal), /non-minimal/);
});

test('splitDerCertificates rejects malformed framing with a DecodeError naming the certificate and offset', () => {
  const good = encodeTlv(0x30, Uint8Array.of(1, 2, 3));
  // Indefinite length (BER only).
  assertDecodeError(() => splitDerCertificates(Uint8Array.of(0x30, 0x80, 0x00, 0x00)), 'Certificates[0]', 1);
  // Zero-length SEQUENCE.
  assertDecodeError(
    () => splitDerCertificates(concat([good, Uint8Array.of(0x30, 0x00)])),
    'Certificates[1]',
    good.length,
  );
  // Value overruns the buffer.
  assertDecodeError(() => splitDerCertificates(Uint8Array.of(0x30, 0x05, 1, 2)), 'Certificates[0]', 0);
  assertDecodeError(() => splitDerCertificates(Uint8Array.of(0x30, 0x82, 0x01, 0x00, 1, 2, 3)), 'Certificates[0]', 0);
  // Length field longer than 4 bytes.
  assertDecodeError(() => splitDerCertificates(Uint8Array.of(0x30, 0x85, 0, 0, 0, 0, 1)), 'Certificates[0]', 1);
  // Truncated length field.
  assertDecodeError(() => splitDerCertificates(Uint8Array.of(0x30, 0x82, 0x01)), 'Certificates[0]');
  // Only a tag.
  assertDecodeError(
    () => splitDerCertificates(concat([good, Uint8Array.of(0x30)])),
    'Certificates[1]',
    good.length + 1,
  );
  // Not a SEQUENCE.
  assertDecodeError(() => splitDerCertificates(Uint8Array.of(0x04, 0x01, 0x00)), 'Certificates[0]', 0);
  // Non-minimal length (0x81 for a length below 128).
  assertDecodeError(() => splitDerCertificates(Uint8Array.of(0x30, 0x81, 0x03, 1, 2, 3)), 'Certificates[0]', 1);
  // Offsets are reported relative to an enclosing structure when asked.
  const e = (() => {
    try {
      splitDerCertificates(Uint8Array.of(0x30, 0x80), 'SpdmCertChain', 36);
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  assert.ok(e instanceof DecodeError);
  assert.equal(e.messageName, 'SpdmCertChain');
  assert.equal(e.offset, 37);
});

test('splitDerCertificates on random garbage throws only DecodeError', () => {
  let seed = 0x12345678;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  };
  for (let i = 0; i < 500; i++) {
    const g = Uint8Array.from({ length: 1 + (rnd() % 40) }, rnd);
    try {
      const parts = splitDerCertificates(g);
      // Whatever was accepted must tile the input exactly.
      assert.equal(
        parts.reduce((n, p) => n + p.length, 0),
        g.length,
      );
    } catch (e) {
      assert.ok(e instanceof DecodeError, String(e));
    }
  }
  assert.deepEqual(splitDerCertificates(new Uint8Array(0)), []);
});

test('OID encode/decode round trip, including the DMTF and CMA OIDs as the spec prints them', () => {
  const responderAuth = encodeOid('1.3.6.1.4.1.412.274.3');
  assert.deepEqual(
    responderAuth,
    Uint8Array.of(0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0x1c, 0x82, 0x12, 0x03),
  );
  assert.deepEqual(encodeOid('2.23.147'), Uint8Array.of(0x06, 0x03, 0x67, 0x81, 0x13));
  for (const oid of [
    '1.2.840.10045.4.3.2',
    '2.5.29.19',
    '1.3.101.112',
    '2.999.1234567',
    '0.9.2342.19200300.100.1.25',
  ]) {
    assert.equal(decodeOid(encodeOid(oid).subarray(2)), oid);
  }
  assert.equal(decodeOid(Uint8Array.of()), undefined);
  assert.equal(decodeOid(Uint8Array.of(0x2b, 0x86)), undefined, 'unterminated arc');
  assert.equal(decodeOid(Uint8Array.of(0x2b, 0x80, 0x01)), undefined, 'non-minimal arc');
});
