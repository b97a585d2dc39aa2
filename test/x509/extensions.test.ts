import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { SpdmError } from '../../src/wire/errors.js';
import { fromHex } from '../../src/wire/bytes.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { splitDerCertificates } from '../../src/x509/der.js';
import {
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeExtendedKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltNameOtherNames,
  decodeSubjectKeyIdentifier,
} from '../../src/x509/extensions.js';
import { libspdmFile } from './fixtures.js';

function certInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpdmError, `expected SpdmError, got ${String(e)}`);
    assert.equal(e.code, 'CERT_INVALID');
    assert.match(e.message, pattern);
    return true;
  });
}

const h = fromHex;

test("libspdm's sample certificates read the same as node:crypto's X509Certificate reads them", () => {
  for (const dir of ['ecp256', 'ecp384', 'rsa3072'] as const) {
    for (const bundle of ['bundle_responder.certchain.der', 'bundle_requester.certchain.der']) {
      for (const der of splitDerCertificates(libspdmFile(dir, bundle))) {
        const ours = parseCertificate(der);
        const node = new X509Certificate(der);
        assert.equal(ours.basicConstraints.cA, node.ca, `${dir} ${ours.subject}: cA`);
        assert.deepEqual(ours.extendedKeyUsage ?? [], node.keyUsage ?? [], `${dir} ${ours.subject}: EKU`);
      }
    }
  }
});

test('basicConstraints: cA, pathLen, the DEFAULT spelled out, and what is refused', () => {
  assert.deepEqual(decodeBasicConstraints(h('3000')), { cA: false });
  assert.deepEqual(decodeBasicConstraints(h('30030101ff')), { cA: true });
  assert.deepEqual(decodeBasicConstraints(h('30060101ff020101')), { cA: true, pathLen: 1 });
  assert.deepEqual(decodeBasicConstraints(h('3003010100')), { cA: false }, 'explicit cA FALSE, as some devices send');
  assert.deepEqual(decodeBasicConstraints(h('30050203008000')), { cA: false, pathLen: 0x8000 });
  certInvalid(() => decodeBasicConstraints(h('30040201')), /basicConstraints: .*overruns/);
  certInvalid(() => decodeBasicConstraints(h('300300')), /basicConstraints/);
  certInvalid(
    () => decodeBasicConstraints(h('0400')),
    /basicConstraints: BasicConstraints: expected tag 0x30, found 0x04/,
  );
  certInvalid(() => decodeBasicConstraints(h('300000')), /basicConstraints: 1 trailing byte/);
  assert.deepEqual(decodeBasicConstraints(h('3003020101')), { cA: false, pathLen: 1 });
  certInvalid(() => decodeBasicConstraints(h('30030201ff')), /pathLenConstraint: negative INTEGER/);
  certInvalid(() => decodeBasicConstraints(h('300402020001')), /non-minimal INTEGER/);
  certInvalid(() => decodeBasicConstraints(h('30020400')), /unexpected field with tag 0x04/);
  certInvalid(() => decodeBasicConstraints(h('3006020101020101')), /fields after pathLenConstraint/);
  certInvalid(() => decodeBasicConstraints(h('30040102ffff')), /cA: BOOLEAN of 2 bytes/);
  certInvalid(() => decodeBasicConstraints(h('3003020100').subarray(0, 4)), /basicConstraints/);
});

test('keyUsage: the named bits in order, empty, and malformed BIT STRINGs', () => {
  const ds = decodeKeyUsage(h('03020780'));
  assert.equal(ds.digitalSignature, true);
  assert.equal(ds.nonRepudiation, false);
  assert.equal(ds.empty, false);
  const ca = decodeKeyUsage(h('03020106'));
  assert.deepEqual([ca.keyCertSign, ca.cRLSign, ca.digitalSignature], [true, true, false]);
  const decipher = decodeKeyUsage(h('0303070080'));
  assert.deepEqual([decipher.decipherOnly, decipher.encipherOnly, decipher.empty], [true, false, false]);
  assert.equal(decodeKeyUsage(h('030100')).empty, true);
  assert.equal(decodeKeyUsage(h('03020000')).empty, true, 'a zero byte: no bit set');
  assert.equal(decodeKeyUsage(h('03020080')).digitalSignature, true, 'trailing zero bits not removed');
  certInvalid(() => decodeKeyUsage(h('0300')), /keyUsage: BIT STRING without its unused-bits octet/);
  certInvalid(() => decodeKeyUsage(h('03020880')), /keyUsage: 8 unused bits/);
  certInvalid(() => decodeKeyUsage(h('030107')), /unused bits in an empty BIT STRING/);
  certInvalid(() => decodeKeyUsage(h('03020781')), /unused bits are not zero/);
  certInvalid(() => decodeKeyUsage(h('0402078000')), /KeyUsage: expected tag 0x03/);
  certInvalid(() => decodeKeyUsage(h('0302078000')), /1 trailing byte/);
});

test('extendedKeyUsage: OIDs in order; an empty list or a non-OID member is refused by index', () => {
  assert.deepEqual(decodeExtendedKeyUsage(h('301406082b0601050507030106082b06010505070302')), [
    '1.3.6.1.5.5.7.3.1',
    '1.3.6.1.5.5.7.3.2',
  ]);
  certInvalid(() => decodeExtendedKeyUsage(h('3000')), /extendedKeyUsage: empty list/);
  certInvalid(
    () => decodeExtendedKeyUsage(h('300c06082b060105050703010400')),
    /KeyPurposeId\[1\]: expected an OBJECT IDENTIFIER/,
  );
  certInvalid(() => decodeExtendedKeyUsage(h('30020600')), /KeyPurposeId\[0\]: malformed OBJECT IDENTIFIER/);
});

test('subjectAltName: otherNames with their value TLV; other GeneralNames pass; bad framing names the part', () => {
  // dNSName "a", then otherName 2.23.147 [0] UTF8String "x".
  const names = decodeSubjectAltNameOtherNames(h('300f' + '820161' + 'a00a' + '0603678113' + 'a003' + '0c0178'));
  assert.equal(names.length, 1);
  assert.equal(names[0]?.typeId, '2.23.147');
  assert.equal(names[0]?.value.tag, 0x0c);
  assert.deepEqual([...(names[0]?.value.contents ?? [])], [0x78]);
  assert.deepEqual(decodeSubjectAltNameOtherNames(h('3003820161')), []);
  certInvalid(() => decodeSubjectAltNameOtherNames(h('3000')), /subjectAltName: empty GeneralNames/);
  certInvalid(() => decodeSubjectAltNameOtherNames(h('3003020161')), /GeneralName\[0\] has tag 0x02/);
  certInvalid(
    () => decodeSubjectAltNameOtherNames(h('300c' + 'a00a' + '0603678113' + 'a103' + '0c0178')),
    /otherName 2\.23\.147: value: expected tag 0xa0, found 0xa1/,
  );
  certInvalid(
    () => decodeSubjectAltNameOtherNames(h('300f' + 'a00d' + '0603678113' + 'a006' + '0c0178' + '0c0178')),
    /otherName 2\.23\.147: trailing data in value/,
  );
  certInvalid(
    () => decodeSubjectAltNameOtherNames(h('3007' + 'a005' + '0603678113')),
    /otherName 2\.23\.147: no value/,
  );
  certInvalid(
    () => decodeSubjectAltNameOtherNames(h('3007' + 'a005' + '0403678113')),
    /otherName type-id: expected an OBJECT IDENTIFIER/,
  );
  certInvalid(
    () => decodeSubjectAltNameOtherNames(h('300f' + 'a00d' + '0603678113' + 'a003' + '0c0178' + '0c0178')),
    /otherName 2\.23\.147: fields after the value/,
  );
});

test('key identifiers: SKI an OCTET STRING, AKI keyIdentifier [0] with [1] and [2] checked for order', () => {
  assert.deepEqual([...decodeSubjectKeyIdentifier(h('0403010203'))], [1, 2, 3]);
  certInvalid(
    () => decodeSubjectKeyIdentifier(h('0303000102')),
    /subjectKeyIdentifier: KeyIdentifier: expected tag 0x04/,
  );
  assert.deepEqual([...(decodeAuthorityKeyIdentifier(h('30058003010203')) ?? [])], [1, 2, 3]);
  assert.equal(decodeAuthorityKeyIdentifier(h('3000')), undefined);
  // keyIdentifier, authorityCertIssuer (a dNSName), authorityCertSerialNumber.
  assert.deepEqual([...(decodeAuthorityKeyIdentifier(h('300b' + '800101' + 'a103820161' + '820105')) ?? [])], [1]);
  certInvalid(() => decodeAuthorityKeyIdentifier(h('3006' + '820105' + '800101')), /field \[0\] out of order/);
  certInvalid(
    () => decodeAuthorityKeyIdentifier(h('3006' + '800101' + '800101')),
    /field \[0\] out of order or repeated/,
  );
  certInvalid(() => decodeAuthorityKeyIdentifier(h('3003' + '040101')), /unexpected field with tag 0x04/);
  certInvalid(() => decodeAuthorityKeyIdentifier(h('3002' + 'a100')), /authorityCertIssuer: empty GeneralNames/);
  certInvalid(() => decodeAuthorityKeyIdentifier(h('3002' + '8200')), /authorityCertSerialNumber: empty INTEGER/);
});
