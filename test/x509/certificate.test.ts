import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AttributeTypeAndValue,
  AttributeValue,
  Extension,
  GeneralName,
  Name,
  OtherName,
  RelativeDistinguishedName,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import { BaseAsymAlgo } from '../../src/crypto/algorithms.js';
import { SpdmError } from '../../src/wire/errors.js';
import { concat } from '../../src/wire/bytes.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { encodeTlv } from '../../src/x509/der.js';
import { createCertificate, createRootCa } from '../../src/x509/generate.js';
import { OID_PCIE_CMA } from '../../src/x509/oids.js';
import { at, cachedKey, deviceChain, flipByte, libspdmFile, NOT_BEFORE } from './fixtures.js';

const P256 = BaseAsymAlgo.ECDSA_P256;

function certInvalid(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpdmError, `expected SpdmError, got ${String(e)}`);
    assert.equal(e.code, 'CERT_INVALID');
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

function leafWith(customize: Parameters<typeof createCertificate>[0]['customize']): Uint8Array {
  const chain = deviceChain(P256);
  return createCertificate({
    issuer: chain.intermediate,
    asymId: P256,
    commonName: 'leaf',
    ca: false,
    keyPair: cachedKey(P256, 2),
    notBefore: NOT_BEFORE,
    ...(customize ? { customize } : {}),
  }).certificate;
}

test('every truncation of a certificate is CERT_INVALID', () => {
  const der = libspdmFile('ecp256', 'end_responder.cert.der');
  for (let n = 0; n < der.length; n++) certInvalid(() => parseCertificate(der.subarray(0, n)));
});

test('trailing bytes after the certificate are rejected', () => {
  const der = libspdmFile('ecp256', 'end_responder.cert.der');
  certInvalid(() => parseCertificate(concat([der, Uint8Array.of(0)])), /trailing/);
});

test('random corruption yields a parse or CERT_INVALID, never a foreign exception', () => {
  const samples = [
    libspdmFile('ecp384', 'end_responder.cert.der'),
    libspdmFile('rsa3072', 'inter.cert.der'),
    at(deviceChain(P256, { pcieCmaSan: 'Vendor=1af4:Device=1234:CC=010802:REV=01' }).certificates, 2),
  ];
  for (const der of samples) {
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), (i, mask) => {
        try {
          const c = parseCertificate(flipByte(der, i, mask));
          assert.equal(typeof c.subject, 'string');
        } catch (e) {
          assert.ok(e instanceof SpdmError && e.code === 'CERT_INVALID', String(e));
        }
      }),
      { numRuns: 600, seed: 42 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.nat(der.length), (junk, at) => {
        try {
          parseCertificate(concat([der.subarray(0, at), junk]));
        } catch (e) {
          assert.ok(e instanceof SpdmError && e.code === 'CERT_INVALID', String(e));
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  }
});

test('signatureAlgorithm must equal tbsCertificate.signature', () => {
  const der = libspdmFile('ecp256', 'end_responder.cert.der');
  // The outer AlgorithmIdentifier is the last ecdsa-with-SHA256 OID in the certificate.
  const oid = Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
  const outer = Buffer.from(der).lastIndexOf(oid);
  assert.ok(outer > 300);
  certInvalid(() => parseCertificate(flipByte(der, outer + oid.length - 1, 0x01)), /signatureAlgorithm: differs/);
});

test('names render RFC 4514 style: most specific first, multi-valued RDNs, escaping, raw DER kept', () => {
  const atv = (type: string, v: string): AttributeTypeAndValue =>
    new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: v }) });
  const der = leafWith((tbs) => {
    tbs.subject = new Name([
      new RelativeDistinguishedName([
        new AttributeTypeAndValue({ type: '2.5.4.6', value: new AttributeValue({ printableString: 'US' }) }),
      ]),
      new RelativeDistinguishedName([atv('2.5.4.10', 'Acme, Inc.')]),
      new RelativeDistinguishedName([atv('2.5.4.11', 'Lab'), atv('2.5.4.3', ' #dev+1 ')]),
      new RelativeDistinguishedName([atv('1.2.3.4', 'x')]),
    ]);
  });
  const c = parseCertificate(der);
  assert.equal(c.subject, '1.2.3.4=x,OU=Lab+CN=\\ #dev\\+1\\ ,O=Acme\\, Inc.,C=US');
  assert.deepEqual(c.subjectDer, new Uint8Array(AsnConvert.serialize(AsnConvert.parse(c.subjectDer, Name))));
  assert.equal(c.issuer, 'CN=spdmkit ECDSA-P256 intermediate CA');
  assert.equal(c.selfIssued, false);
});

test('otherName values: non-UTF8String values are kept with their tag, invalid UTF-8 is CERT_INVALID', () => {
  const san = (value: Uint8Array): Extension =>
    new Extension({
      extnID: '2.5.29.17',
      extnValue: new OctetString(
        AsnConvert.serialize(
          new SubjectAlternativeName([
            new GeneralName({ otherName: new OtherName({ typeId: OID_PCIE_CMA, value: value.slice().buffer }) }),
          ]),
        ),
      ),
    });
  const replaceSan = (value: Uint8Array) =>
    leafWith((tbs) => {
      const exts = tbs.extensions ?? [];
      exts.splice(
        exts.findIndex((e) => e.extnID === '2.5.29.17'),
        1,
        san(value),
      );
    });
  const ia5 = parseCertificate(replaceSan(encodeTlv(0x16, new TextEncoder().encode('Vendor=8086'))));
  assert.equal(ia5.pcieCmaSan, undefined, 'Linux accepts only UTF8String CMA values');
  assert.deepEqual(
    ia5.otherNames.map((o) => [o.typeId, o.tag, o.value]),
    [[OID_PCIE_CMA, 0x16, undefined]],
  );
  certInvalid(
    () => parseCertificate(replaceSan(encodeTlv(0x0c, Uint8Array.of(0xff, 0xfe)))),
    /subjectAltName otherName 2\.23\.147: invalid UTF-8/,
  );
});

test('a repeated extension is CERT_INVALID (RFC 5280 4.2)', () => {
  const der = leafWith((tbs) => {
    const ku = tbs.extensions?.find((e) => e.extnID === '2.5.29.15');
    if (ku) tbs.extensions?.push(ku);
  });
  certInvalid(() => parseCertificate(der), /2\.5\.29\.15: appears more than once/);
});

test('a malformed extension value names the extension', () => {
  const der = leafWith((tbs) => {
    const bc = tbs.extensions?.find((e) => e.extnID === '2.5.29.19');
    if (bc) bc.extnValue = new OctetString(Uint8Array.of(0x30, 0x03, 0x02, 0x01));
  });
  certInvalid(() => parseCertificate(der), /basicConstraints/);
});

test('dates from 2050 on are GeneralizedTime and parse back exactly', () => {
  const notAfter = new Date('2061-02-03T04:05:06Z');
  const root = createRootCa({
    asymId: P256,
    commonName: 'long lived',
    keyPair: cachedKey(P256),
    notBefore: new Date('1999-12-31T23:59:59Z'),
    notAfter,
  });
  const c = parseCertificate(root.certificate);
  assert.equal(c.notAfter.toISOString(), notAfter.toISOString());
  assert.equal(c.notBefore.toISOString(), '1999-12-31T23:59:59.000Z');
  assert.equal(new Date(new X509Certificate(root.certificate).validTo).getTime(), notAfter.getTime());
  assert.ok(Buffer.from(root.certificate).includes(Buffer.from('20610203040506Z')));
});
