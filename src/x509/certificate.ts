/**
 * X.509 certificate parsing, done once per certificate into a plain record the chain rules read.
 *
 * Framing (the Certificate and TBSCertificate SEQUENCEs, Names, Validity, SPKI) is walked with the
 * strict DER reader in der.ts so the exact signed bytes, issuer/subject Name DER and SPKI DER are
 * kept as views of the input; the extension values it interprets are decoded in extensions.ts.
 * Every failure is an SpdmError('CERT_INVALID') whose message names the field; exceptions from
 * node:crypto never escape.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { SpdmError } from '../wire/errors.js';
import { equalBytes, toHex } from '../wire/bytes.js';
import { decodeOid, readAllTlv, readTlv, Tag, type DerFail, type Tlv } from './der.js';
import { spkiPublicKey } from './spki-key.js';
import {
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeExtendedKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltNameOtherNames,
  decodeSubjectKeyIdentifier,
} from './extensions.js';
import {
  OID_CE_AUTHORITY_KEY_IDENTIFIER,
  OID_CE_BASIC_CONSTRAINTS,
  OID_CE_EXT_KEY_USAGE,
  OID_CE_KEY_USAGE,
  OID_CE_SUBJECT_ALT_NAME,
  OID_CE_SUBJECT_KEY_IDENTIFIER,
  OID_DMTF_DEVICE_INFO,
  OID_DMTF_SPDM_EXTENSION,
  OID_PCIE_CMA,
} from './oids.js';

export {
  OID_DMTF_DEVICE_INFO,
  OID_DMTF_HARDWARE_IDENTITY,
  OID_DMTF_EKU_RESPONDER_AUTH,
  OID_DMTF_EKU_REQUESTER_AUTH,
  OID_DMTF_MUTABLE_CERTIFICATE,
  OID_DMTF_SPDM_EXTENSION,
  OID_PCIE_CMA,
} from './oids.js';

export interface BasicConstraintsInfo {
  readonly present: boolean;
  readonly critical: boolean;
  /** False when the extension is absent (RFC 5280: not a CA). */
  readonly cA: boolean;
  readonly pathLen?: number;
}

export interface KeyUsageInfo {
  readonly present: true;
  readonly critical: boolean;
  readonly digitalSignature: boolean;
  readonly nonRepudiation: boolean;
  readonly keyEncipherment: boolean;
  readonly dataEncipherment: boolean;
  readonly keyAgreement: boolean;
  readonly keyCertSign: boolean;
  readonly cRLSign: boolean;
  readonly encipherOnly: boolean;
  readonly decipherOnly: boolean;
  /** No bit set at all (libspdm treats this like an absent keyUsage). */
  readonly empty: boolean;
}

/** One subjectAltName otherName. */
export interface OtherNameInfo {
  readonly typeId: string;
  /** Tag of the value inside `[0] EXPLICIT` (0x0c for UTF8String). */
  readonly tag: number;
  /** The decoded string when the value is a UTF8String. */
  readonly value?: string;
  /** DER of the value (inside the explicit tag). */
  readonly raw: Uint8Array;
}

export interface ExtensionInfo {
  readonly oid: string;
  readonly critical: boolean;
  /** Contents of extnValue (the DER of the extension's own value). */
  readonly value: Uint8Array;
}

export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** 1, 2 or 3 (the encoded value plus one). */
  readonly version: number;
  /** Lowercase hex of the serial number INTEGER (a DER sign byte 00 is dropped). */
  readonly serialNumber: string;
  /** RFC 4514-style string, most specific RDN first, e.g. "CN=leaf,O=Acme". */
  readonly subject: string;
  /** DER of the subject Name, for exact comparison. */
  readonly subjectDer: Uint8Array;
  readonly issuer: string;
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  /** DER of SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  readonly publicKeyAlgorithmOid: string;
  readonly signatureAlgorithmOid: string;
  /** DER of the AlgorithmIdentifier parameters, when present (RSASSA-PSS params, NULL for RSA). */
  readonly signatureAlgorithmParams?: Uint8Array;
  /** DER of TBSCertificate: the signed bytes. */
  readonly tbs: Uint8Array;
  /** signatureValue BIT STRING contents without the unused-bits octet. */
  readonly signature: Uint8Array;
  readonly extensions: readonly ExtensionInfo[];
  readonly basicConstraints: BasicConstraintsInfo;
  readonly keyUsage?: KeyUsageInfo;
  readonly extendedKeyUsage?: readonly string[];
  readonly otherNames: readonly OtherNameInfo[];
  /** UTF8String of the DMTF device-info otherName (1.3.6.1.4.1.412.274.1). */
  readonly dmtfDeviceInfo?: string;
  /** UTF8String values of PCI-SIG CMA otherNames (2.23.147). */
  readonly pcieCmaSan?: readonly string[];
  /** OIDs listed in the id-DMTF-SPDM-extension (e.g. hardware-identity). */
  readonly spdmExtensionOids: readonly string[];
  readonly subjectKeyIdentifier?: Uint8Array;
  readonly authorityKeyIdentifier?: Uint8Array;
  /** Critical extensions this layer does not interpret (RFC 5280: the certificate must be rejected). */
  readonly unknownCriticalExtensions: readonly string[];
  /** Issuer Name DER equals subject Name DER. */
  readonly selfIssued: boolean;
  readonly fingerprintSha256: string;
}

function invalid(field: string, reason: string, cause?: unknown): never {
  throw new SpdmError(
    'CERT_INVALID',
    `certificate ${field}: ${reason}`,
    { field },
    cause === undefined ? undefined : { cause },
  );
}

function failFor(field: string): DerFail {
  return (reason, offset) => invalid(field, `${reason} (at byte ${offset})`);
}

function expectTag(t: Tlv | undefined, tag: number, field: string): Tlv {
  if (t === undefined) invalid(field, 'missing');
  if (t.tag !== tag) invalid(field, `expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** A DER INTEGER's contents as a small non-negative number. */
function smallInteger(t: Tlv, field: string): number {
  const c = t.contents;
  if (c.length === 0 || c.length > 4) invalid(field, 'INTEGER out of range');
  if (((c[0] as number) & 0x80) !== 0) invalid(field, 'negative INTEGER');
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array, field: string): string {
  try {
    return utf8.decode(bytes);
  } catch (e) {
    return invalid(field, 'invalid UTF-8', e);
  }
}

// ---- Names ---------------------------------------------------------------------------------

/** RFC 4514 short names, plus the two non-RFC ones OpenSSL also prints by name. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.5': 'SERIALNUMBER',
  '1.2.840.113549.1.9.1': 'EMAILADDRESS',
};

function escapeRdnValue(s: string): string {
  let out = s.replace(/[\\"+,;<>]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function directoryString(t: Tlv, field: string): string | undefined {
  const c = t.contents;
  switch (t.tag) {
    case Tag.UTF8_STRING:
      return decodeUtf8(c, field);
    case Tag.PRINTABLE_STRING:
    case Tag.IA5_STRING:
    case Tag.TELETEX_STRING:
      return Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('latin1');
    case Tag.BMP_STRING: {
      if (c.length % 2 !== 0) invalid(field, 'BMPString of odd length');
      let s = '';
      for (let i = 0; i < c.length; i += 2) s += String.fromCharCode(((c[i] as number) << 8) | (c[i + 1] as number));
      return s;
    }
    case Tag.UNIVERSAL_STRING: {
      if (c.length % 4 !== 0) invalid(field, 'UniversalString length not a multiple of 4');
      let s = '';
      for (let i = 0; i < c.length; i += 4) {
        const cp =
          (c[i] as number) * 0x1000000 +
          (((c[i + 1] as number) << 16) | ((c[i + 2] as number) << 8) | (c[i + 3] as number));
        if (cp > 0x10ffff) invalid(field, 'UniversalString code point out of range');
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return undefined;
  }
}

/** Readable form of a Name: RDNs in reverse (RFC 4514) order, multi-valued RDNs joined with '+'. */
function nameToString(name: Tlv, field: string): string {
  const fail = failFor(field);
  const rdns: string[] = [];
  for (const set of readAllTlv(name.contents, fail)) {
    if (set.tag !== Tag.SET) invalid(field, 'RelativeDistinguishedName is not a SET');
    const atvs: string[] = [];
    for (const atv of readAllTlv(set.contents, fail)) {
      if (atv.tag !== Tag.SEQUENCE) invalid(field, 'AttributeTypeAndValue is not a SEQUENCE');
      const [type, value, extra] = readAllTlv(atv.contents, fail);
      const oidTlv = expectTag(type, Tag.OID, `${field} attribute type`);
      if (value === undefined || extra !== undefined)
        invalid(field, 'AttributeTypeAndValue must hold a type and one value');
      const oid = decodeOid(oidTlv.contents);
      if (oid === undefined) invalid(field, 'malformed attribute type OID');
      const text = directoryString(value, field);
      const key = ATTRIBUTE_NAMES[oid] ?? oid;
      atvs.push(text === undefined ? `${key}=#${toHex(value.bytes)}` : `${key}=${escapeRdnValue(text)}`);
    }
    if (atvs.length === 0) invalid(field, 'empty RelativeDistinguishedName');
    rdns.push(atvs.join('+'));
  }
  return rdns.reverse().join(',');
}

// ---- Validity ------------------------------------------------------------------------------

/** RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY >= 50 is 19YY) or GeneralizedTime YYYYMMDDHHMMSSZ. */
function parseTime(t: Tlv | undefined, field: string): Date {
  if (t === undefined) invalid(field, 'missing');
  const s = Buffer.from(t.contents.buffer, t.contents.byteOffset, t.contents.byteLength).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === Tag.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) invalid(field, `UTCTime "${s}" is not YYMMDDHHMMSSZ`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (t.tag === Tag.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) invalid(field, `GeneralizedTime "${s}" is not YYYYMMDDHHMMSSZ`);
    year = Number(m[1]);
  } else {
    return invalid(field, `expected UTCTime or GeneralizedTime, found tag 0x${t.tag.toString(16)}`);
  }
  const [mo, d, h, mi, sec] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, sec));
  // Date.UTC silently rolls over out-of-range fields (month 13, Feb 30); reject those.
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    sec > 59
  ) {
    invalid(field, `"${s}" is not a valid date`);
  }
  return date;
}

// ---- Extensions ----------------------------------------------------------------------------

interface ExtensionFields {
  basicConstraints: BasicConstraintsInfo;
  keyUsage?: KeyUsageInfo;
  extendedKeyUsage?: string[];
  otherNames: OtherNameInfo[];
  spdmExtensionOids: string[];
  subjectKeyIdentifier?: Uint8Array;
  authorityKeyIdentifier?: Uint8Array;
  unknownCriticalExtensions: string[];
}

function readExtensions(wrapper: Tlv): ExtensionInfo[] {
  const field = 'extensions';
  const fail = failFor(field);
  const inner = readAllTlv(wrapper.contents, fail);
  const seq = expectTag(inner[0], Tag.SEQUENCE, field);
  if (inner.length !== 1) invalid(field, 'trailing data after Extensions');
  const out: ExtensionInfo[] = [];
  const seen = new Set<string>();
  for (const ext of readAllTlv(seq.contents, fail)) {
    if (ext.tag !== Tag.SEQUENCE) invalid(field, 'Extension is not a SEQUENCE');
    const parts = readAllTlv(ext.contents, fail);
    const oidTlv = expectTag(parts[0], Tag.OID, 'extension extnID');
    const oid = decodeOid(oidTlv.contents);
    if (oid === undefined) invalid(field, 'malformed extnID');
    let i = 1;
    let critical = false;
    if (parts[i]?.tag === Tag.BOOLEAN) {
      const b = (parts[i] as Tlv).contents;
      if (b.length !== 1) invalid(`extension ${oid}`, 'malformed critical BOOLEAN');
      critical = b[0] !== 0;
      i++;
    }
    const value = expectTag(parts[i], Tag.OCTET_STRING, `extension ${oid} extnValue`);
    if (parts.length !== i + 1) invalid(`extension ${oid}`, 'unexpected fields after extnValue');
    // RFC 5280 4.2: a certificate must not include more than one instance of an extension.
    if (seen.has(oid)) invalid(`extension ${oid}`, 'appears more than once');
    seen.add(oid);
    out.push({ oid, critical, value: value.contents });
  }
  if (out.length === 0) invalid(field, 'empty Extensions (SIZE 1..MAX)');
  return out;
}

function keyUsageInfo(ext: ExtensionInfo): KeyUsageInfo {
  return { present: true, critical: ext.critical, ...decodeKeyUsage(ext.value) };
}

function otherNames(ext: ExtensionInfo): OtherNameInfo[] {
  return decodeSubjectAltNameOtherNames(ext.value).map(({ typeId, value: t }) => {
    const field = `subjectAltName otherName ${typeId}`;
    const value = t.tag === Tag.UTF8_STRING ? decodeUtf8(t.contents, field) : undefined;
    return value === undefined ? { typeId, tag: t.tag, raw: t.bytes } : { typeId, tag: t.tag, value, raw: t.bytes };
  });
}

/** id-spdm-cert-oids ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE { OID, data OPTIONAL } */
function spdmExtensionOids(ext: ExtensionInfo): string[] {
  const field = 'SPDM extension';
  const fail = failFor(field);
  const outer = readTlv(ext.value, 0, fail);
  if (outer.tag !== Tag.SEQUENCE || outer.end !== ext.value.length) invalid(field, 'value is not a single SEQUENCE');
  const oids: string[] = [];
  for (const entry of readAllTlv(outer.contents, fail)) {
    if (entry.tag !== Tag.SEQUENCE) invalid(field, 'entry is not a SEQUENCE');
    const parts = readAllTlv(entry.contents, fail);
    const oidTlv = expectTag(parts[0], Tag.OID, `${field} entry OID`);
    if (parts.length > 2) invalid(field, 'entry has more than an OID and one data value');
    const oid = decodeOid(oidTlv.contents);
    if (oid === undefined) invalid(field, 'malformed entry OID');
    oids.push(oid);
  }
  if (oids.length === 0) invalid(field, 'empty list (SIZE 1..MAX)');
  return oids;
}

function interpretExtensions(exts: readonly ExtensionInfo[]): ExtensionFields {
  const f: ExtensionFields = {
    basicConstraints: { present: false, critical: false, cA: false },
    otherNames: [],
    spdmExtensionOids: [],
    unknownCriticalExtensions: [],
  };
  for (const ext of exts) {
    switch (ext.oid) {
      case OID_CE_BASIC_CONSTRAINTS:
        f.basicConstraints = { present: true, critical: ext.critical, ...decodeBasicConstraints(ext.value) };
        break;
      case OID_CE_KEY_USAGE:
        f.keyUsage = keyUsageInfo(ext);
        break;
      case OID_CE_EXT_KEY_USAGE:
        f.extendedKeyUsage = decodeExtendedKeyUsage(ext.value);
        break;
      case OID_CE_SUBJECT_ALT_NAME:
        f.otherNames = otherNames(ext);
        break;
      case OID_CE_SUBJECT_KEY_IDENTIFIER:
        f.subjectKeyIdentifier = decodeSubjectKeyIdentifier(ext.value);
        break;
      case OID_CE_AUTHORITY_KEY_IDENTIFIER: {
        const keyId = decodeAuthorityKeyIdentifier(ext.value);
        if (keyId) f.authorityKeyIdentifier = keyId;
        break;
      }
      case OID_DMTF_SPDM_EXTENSION:
        f.spdmExtensionOids = spdmExtensionOids(ext);
        break;
      default:
        if (ext.critical) f.unknownCriticalExtensions.push(ext.oid);
    }
  }
  return f;
}

// ---- Certificate ---------------------------------------------------------------------------

interface AlgorithmId {
  oid: string;
  params?: Uint8Array;
}

function algorithmIdentifier(t: Tlv, field: string): AlgorithmId {
  const parts = readAllTlv(t.contents, failFor(field));
  const oidTlv = expectTag(parts[0], Tag.OID, `${field} algorithm`);
  if (parts.length > 2) invalid(field, 'more than one parameters value');
  const oid = decodeOid(oidTlv.contents);
  if (oid === undefined) invalid(field, 'malformed algorithm OID');
  const p = parts[1];
  return p === undefined ? { oid } : { oid, params: p.bytes };
}

function serialHex(t: Tlv): string {
  const c = t.contents;
  if (c.length === 0) invalid('serialNumber', 'empty INTEGER');
  return toHex(c.length > 1 && c[0] === 0 ? c.subarray(1) : c);
}

/**
 * Parses one DER certificate. The result holds views into `der` (no copies), so `der` must not be
 * modified afterwards.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const top = readTlv(der, 0, failFor('Certificate'));
  if (top.tag !== Tag.SEQUENCE) invalid('Certificate', 'not a SEQUENCE');
  if (top.end !== der.length) invalid('Certificate', `${der.length - top.end} trailing byte(s) after the certificate`);
  const parts = readAllTlv(top.contents, failFor('Certificate'));
  const tbsTlv = expectTag(parts[0], Tag.SEQUENCE, 'tbsCertificate');
  const sigAlgTlv = expectTag(parts[1], Tag.SEQUENCE, 'signatureAlgorithm');
  const sigTlv = expectTag(parts[2], Tag.BIT_STRING, 'signatureValue');
  if (parts.length !== 3) invalid('Certificate', 'expected exactly tbsCertificate, signatureAlgorithm, signatureValue');
  if (sigTlv.contents.length < 2 || sigTlv.contents[0] !== 0)
    invalid('signatureValue', 'BIT STRING must be non-empty with 0 unused bits');

  const tbsParts = readAllTlv(tbsTlv.contents, failFor('tbsCertificate'));
  let i = 0;
  let version = 1;
  const first = tbsParts[0];
  if (first?.tag === 0xa0) {
    const inner = readAllTlv(first.contents, failFor('version'));
    const vt = expectTag(inner[0], Tag.INTEGER, 'version');
    if (inner.length !== 1) invalid('version', 'trailing data');
    const v = smallInteger(vt, 'version');
    if (v > 2) invalid('version', `unknown value ${v}`);
    version = v + 1;
    i++;
  }
  const serialTlv = expectTag(tbsParts[i++], Tag.INTEGER, 'serialNumber');
  const tbsSigAlg = expectTag(tbsParts[i++], Tag.SEQUENCE, 'tbsCertificate.signature');
  const issuerTlv = expectTag(tbsParts[i++], Tag.SEQUENCE, 'issuer');
  const validityTlv = expectTag(tbsParts[i++], Tag.SEQUENCE, 'validity');
  const subjectTlv = expectTag(tbsParts[i++], Tag.SEQUENCE, 'subject');
  const spkiTlv = expectTag(tbsParts[i++], Tag.SEQUENCE, 'subjectPublicKeyInfo');
  let extensionsTlv: Tlv | undefined;
  for (; i < tbsParts.length; i++) {
    const t = tbsParts[i] as Tlv;
    // [1] issuerUniqueID and [2] subjectUniqueID (implicit BIT STRINGs) are tolerated and ignored.
    if (t.tag === 0x81 || t.tag === 0x82 || t.tag === 0xa1 || t.tag === 0xa2) continue;
    if (t.tag === 0xa3 && extensionsTlv === undefined && i === tbsParts.length - 1) {
      extensionsTlv = t;
      continue;
    }
    invalid('tbsCertificate', `unexpected field with tag 0x${t.tag.toString(16)}`);
  }
  if (extensionsTlv && version !== 3) invalid('extensions', `present in a v${version} certificate`);

  const sigAlg = algorithmIdentifier(sigAlgTlv, 'signatureAlgorithm');
  // RFC 5280 4.1.1.2: must be the same algorithm identifier as tbsCertificate.signature.
  if (!equalBytes(sigAlgTlv.bytes, tbsSigAlg.bytes))
    invalid('signatureAlgorithm', 'differs from tbsCertificate.signature');

  const validity = readAllTlv(validityTlv.contents, failFor('validity'));
  if (validity.length !== 2) invalid('validity', 'expected notBefore and notAfter');
  const notBefore = parseTime(validity[0], 'validity.notBefore');
  const notAfter = parseTime(validity[1], 'validity.notAfter');

  const spkiParts = readAllTlv(spkiTlv.contents, failFor('subjectPublicKeyInfo'));
  const spkiAlg = algorithmIdentifier(
    expectTag(spkiParts[0], Tag.SEQUENCE, 'subjectPublicKeyInfo.algorithm'),
    'subjectPublicKeyInfo.algorithm',
  );
  expectTag(spkiParts[1], Tag.BIT_STRING, 'subjectPublicKeyInfo.subjectPublicKey');
  if (spkiParts.length !== 2) invalid('subjectPublicKeyInfo', 'expected algorithm and subjectPublicKey');
  let publicKey: KeyObject;
  try {
    publicKey = spkiPublicKey(spkiTlv.bytes);
  } catch (e) {
    return invalid(
      'subjectPublicKeyInfo',
      `key not usable (${spkiAlg.oid}): ${e instanceof Error ? e.message : String(e)}`,
      e,
    );
  }

  const extensions = extensionsTlv ? readExtensions(extensionsTlv) : [];
  const ext = interpretExtensions(extensions);
  const dmtf = ext.otherNames.find((o) => o.typeId === OID_DMTF_DEVICE_INFO && o.value !== undefined);
  const cma = ext.otherNames
    .filter((o) => o.typeId === OID_PCIE_CMA && o.value !== undefined)
    .map((o) => o.value as string);

  const cert: ParsedCertificate = {
    der,
    version,
    serialNumber: serialHex(serialTlv),
    subject: nameToString(subjectTlv, 'subject'),
    subjectDer: subjectTlv.bytes,
    issuer: nameToString(issuerTlv, 'issuer'),
    issuerDer: issuerTlv.bytes,
    notBefore,
    notAfter,
    publicKey,
    spki: spkiTlv.bytes,
    publicKeyAlgorithmOid: spkiAlg.oid,
    signatureAlgorithmOid: sigAlg.oid,
    ...(sigAlg.params ? { signatureAlgorithmParams: sigAlg.params } : {}),
    tbs: tbsTlv.bytes,
    signature: sigTlv.contents.subarray(1),
    extensions,
    basicConstraints: ext.basicConstraints,
    ...(ext.keyUsage ? { keyUsage: ext.keyUsage } : {}),
    ...(ext.extendedKeyUsage ? { extendedKeyUsage: ext.extendedKeyUsage } : {}),
    otherNames: ext.otherNames,
    ...(dmtf ? { dmtfDeviceInfo: dmtf.value } : {}),
    ...(cma.length > 0 ? { pcieCmaSan: cma } : {}),
    spdmExtensionOids: ext.spdmExtensionOids,
    ...(ext.subjectKeyIdentifier ? { subjectKeyIdentifier: ext.subjectKeyIdentifier } : {}),
    ...(ext.authorityKeyIdentifier ? { authorityKeyIdentifier: ext.authorityKeyIdentifier } : {}),
    unknownCriticalExtensions: ext.unknownCriticalExtensions,
    selfIssued: equalBytes(issuerTlv.bytes, subjectTlv.bytes),
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
  };
  return cert;
}

/** Readable RFC 4514-style form of a DER Name (as ParsedCertificate.subject); CERT_INVALID if malformed. */
export function formatName(nameDer: Uint8Array): string {
  const t = readTlv(nameDer, 0, failFor('Name'));
  if (t.tag !== Tag.SEQUENCE || t.end !== nameDer.length) invalid('Name', 'not a single SEQUENCE');
  return nameToString(t, 'Name');
}

/** True when the Name DER holds no RDN (an empty SEQUENCE). */
export function isEmptyName(nameDer: Uint8Array): boolean {
  return nameDer.length === 2 && nameDer[1] === 0;
}
