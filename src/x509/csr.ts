/**
 * PKCS#10 certification requests (RFC 2986), which SPDM's GET_CSR / CSR carry:
 *
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name,
 *                                           subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute }
 *
 * The device builds one over its own key (`buildCsr`); GET_CSR's RequesterInfo is a
 * CertificationRequestInfo the requester proposes, of which the device keeps the subject and the
 * attributes and replaces the public key with its own (`parseRequesterInfo`). The requester reads
 * a CSR back and checks it was signed with the key it names (`parseCsr`, `checkCsrSignature`).
 * Every length comes from hostile bytes, so the framing is read with the strict DER reader.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { asn1Schema } from './asn1.js';
import { SpdmError } from '../wire/errors.js';
import { decodeOid, encodeOid, encodeSequence, encodeTlv, encodeUtf8String, readTlv, Tag, type Tlv } from './der.js';
import { signerFor } from './generate.js';
import { checkSignature } from './signature.js';

const { AsnConvert } = asn1Schema();

/** [0] IMPLICIT SET OF Attribute (constructed, context-specific 0). */
const ATTRIBUTES_TAG = 0xa0;
/** commonName (2.5.4.3). */
const OID_COMMON_NAME = '2.5.4.3';

export interface CsrOptions {
  readonly privateKey: KeyObject;
  /** The key's BaseAsymAlgo bit: decides RSASSA-PSS over PKCS#1 v1.5 for an RSA key. */
  readonly asymId?: number;
  /** Subject Name DER (a SEQUENCE of RDNs). */
  readonly subject: Uint8Array;
  /** The contents of the [0] attributes (each Attribute's DER, concatenated); none by default. */
  readonly attributes?: Uint8Array;
}

export interface ParsedCsr {
  readonly der: Uint8Array;
  /** CertificationRequestInfo DER: what the signature covers. */
  readonly info: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly spki: Uint8Array;
  readonly publicKey: KeyObject;
  readonly attributes: Uint8Array;
  readonly signatureAlgorithmOid: string;
  readonly signatureAlgorithmParams?: Uint8Array;
  readonly signature: Uint8Array;
}

function csrFail(what: string): (reason: string, offset: number) => never {
  return (reason, offset) => {
    throw new SpdmError('DECODE_ERROR', `${what}: ${reason} at byte ${offset}`, { field: what, offset });
  };
}

function expectTag(t: Tlv, tag: number, what: string): Tlv {
  if (t.tag !== tag)
    throw new SpdmError('DECODE_ERROR', `${what}: tag 0x${t.tag.toString(16)}, expected 0x${tag.toString(16)}`, {
      field: what,
      offset: t.offset,
    });
  return t;
}

/** A Name with one RDN holding commonName `cn` (UTF8String). */
export function commonNameSubject(cn: string): Uint8Array {
  return encodeSequence(encodeTlv(Tag.SET, encodeSequence(encodeOid(OID_COMMON_NAME), encodeUtf8String(cn))));
}

/** A CSR over `privateKey`'s public key, signed with it. */
export function buildCsr(o: CsrOptions): Uint8Array {
  const spki = new Uint8Array(createPublicKey(o.privateKey).export({ type: 'spki', format: 'der' }));
  readTlv(o.subject, 0, csrFail('CSR subject'));
  const info = encodeSequence(
    encodeTlv(Tag.INTEGER, Uint8Array.of(0)),
    o.subject,
    spki,
    encodeTlv(ATTRIBUTES_TAG, o.attributes ?? new Uint8Array(0)),
  );
  const signer = signerFor({ privateKey: o.privateKey, ...(o.asymId !== undefined ? { asymId: o.asymId } : {}) });
  const alg = new Uint8Array(AsnConvert.serialize(signer.algorithm));
  return encodeSequence(info, alg, encodeTlv(Tag.BIT_STRING, Uint8Array.of(0), signer.sign(info)));
}

/** The version, subject, public key and attributes of a CertificationRequestInfo, as views into `info`. */
function readInfo(info: Uint8Array, what: string): { subject: Uint8Array; spki: Uint8Array; attributes: Uint8Array } {
  const fail = csrFail(what);
  const outer = expectTag(readTlv(info, 0, fail), Tag.SEQUENCE, what);
  if (outer.end !== info.length) fail(`${info.length - outer.end} byte(s) after the SEQUENCE`, outer.end);
  const body = outer.contents;
  const version = expectTag(readTlv(body, 0, fail), Tag.INTEGER, `${what}.version`);
  if (version.length !== 1 || version.contents[0] !== 0)
    throw new SpdmError('DECODE_ERROR', `${what}.version: only version 0 (v1) exists`, { field: `${what}.version` });
  const subject = expectTag(readTlv(body, version.end, fail), Tag.SEQUENCE, `${what}.subject`);
  const spki = expectTag(readTlv(body, subject.end, fail), Tag.SEQUENCE, `${what}.subjectPKInfo`);
  const attrs = expectTag(readTlv(body, spki.end, fail), ATTRIBUTES_TAG, `${what}.attributes`);
  if (attrs.end !== body.length) fail(`${body.length - attrs.end} byte(s) after the attributes`, attrs.end);
  return { subject: subject.bytes, spki: spki.bytes, attributes: attrs.contents };
}

/**
 * GET_CSR's RequesterInfo: a CertificationRequestInfo whose subject and attributes the device
 * takes (its public key is the device's to fill in). Throws SpdmError DECODE_ERROR naming the
 * field when it is not one.
 */
export function parseRequesterInfo(info: Uint8Array): { subject: Uint8Array; attributes: Uint8Array } {
  const { subject, attributes } = readInfo(info, 'RequesterInfo');
  return { subject, attributes };
}

/** Splits a CSR into its parts. Throws SpdmError DECODE_ERROR naming the field for anything malformed. */
export function parseCsr(der: Uint8Array): ParsedCsr {
  const fail = csrFail('CSR');
  const outer = expectTag(readTlv(der, 0, fail), Tag.SEQUENCE, 'CSR');
  if (outer.end !== der.length) fail(`${der.length - outer.end} byte(s) after the CertificationRequest`, outer.end);
  const body = outer.contents;
  const info = expectTag(readTlv(body, 0, fail), Tag.SEQUENCE, 'CSR.certificationRequestInfo');
  const alg = expectTag(readTlv(body, info.end, fail), Tag.SEQUENCE, 'CSR.signatureAlgorithm');
  const sig = expectTag(readTlv(body, alg.end, fail), Tag.BIT_STRING, 'CSR.signature');
  if (sig.end !== body.length) fail(`${body.length - sig.end} byte(s) after the signature`, sig.end);
  if (sig.length < 1 || sig.contents[0] !== 0)
    throw new SpdmError('DECODE_ERROR', 'CSR.signature: BIT STRING with unused bits', { field: 'CSR.signature' });
  const oid = expectTag(readTlv(alg.contents, 0, fail), Tag.OID, 'CSR.signatureAlgorithm.algorithm');
  const oidText = decodeOid(oid.contents);
  if (oidText === undefined)
    throw new SpdmError('DECODE_ERROR', 'CSR.signatureAlgorithm: malformed OID', { field: 'CSR.signatureAlgorithm' });
  const params = oid.end < alg.contents.length ? alg.contents.subarray(oid.end) : undefined;
  const parts = readInfo(info.bytes, 'CSR.certificationRequestInfo');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(parts.spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw new SpdmError(
      'DECODE_ERROR',
      `CSR.subjectPKInfo: not a public key (${e instanceof Error ? e.message : String(e)})`,
      { field: 'CSR.subjectPKInfo' },
    );
  }
  return {
    der,
    info: info.bytes,
    subjectDer: parts.subject,
    spki: parts.spki,
    publicKey,
    attributes: parts.attributes,
    signatureAlgorithmOid: oidText,
    ...(params ? { signatureAlgorithmParams: params } : {}),
    signature: sig.contents.subarray(1),
  };
}

/** Whether the CSR is signed by `key` (default: the key it names). A reason string on failure, undefined when it verifies. */
export function checkCsrSignature(csr: ParsedCsr, key: KeyObject = csr.publicKey): string | undefined {
  return checkSignature(
    {
      signatureAlgorithmOid: csr.signatureAlgorithmOid,
      ...(csr.signatureAlgorithmParams ? { signatureAlgorithmParams: csr.signatureAlgorithmParams } : {}),
      tbs: csr.info,
      signature: csr.signature,
    },
    key,
  );
}
