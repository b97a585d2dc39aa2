/**
 * The X.509 v3 extensions the certificate layer interprets, decoded from their DER with the
 * strict reader in der.ts (RFC 5280 4.2.1 for the syntax of each).
 *
 * These used to go through the @peculiar ASN.1 classes; reading them here keeps that library
 * (about 80 ms of CPU to load) out of every start of `spdm` that parses a certificate, and makes
 * framing faults inside a value (trailing bytes, a wrong tag, a field out of order) errors that
 * name the extension and the field rather than a library's message. Every failure is an
 * SpdmError('CERT_INVALID') naming the extension; nothing else escapes.
 *
 * What is accepted that DER would not strictly allow, because certificates in the field carry
 * it and other stacks (OpenSSL, libspdm) read it: an explicit cA FALSE in basicConstraints, a
 * BOOLEAN TRUE other than 0xFF, trailing zero bits in keyUsage.
 */
import { SpdmError } from '../wire/errors.js';
import { decodeOid, readAllTlv, readTlv, Tag, type DerFail, type Tlv } from './der.js';

export interface BasicConstraintsValue {
  readonly cA: boolean;
  readonly pathLen?: number;
}

/** Named bits of KeyUsage (RFC 5280 4.2.1.3), bit 0 first. */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];

export type KeyUsageValue = Readonly<Record<KeyUsageBit, boolean>> & {
  /** No bit set at all (libspdm treats this like an absent keyUsage). */
  readonly empty: boolean;
};

/** One GeneralName otherName: its type-id and the DER of the value inside `[0] EXPLICIT`. */
export interface OtherNameValue {
  readonly typeId: string;
  readonly value: Tlv;
}

function invalid(field: string, reason: string): never {
  throw new SpdmError('CERT_INVALID', `certificate ${field}: ${reason}`, { field });
}

function failFor(field: string): DerFail {
  return (reason, offset) => invalid(field, `${reason} (at byte ${offset})`);
}

function hex(tag: number): string {
  return `0x${tag.toString(16).padStart(2, '0')}`;
}

/** The one TLV that is the whole of `bytes`, with the tag `tag`. */
function single(bytes: Uint8Array, tag: number, field: string, what: string): Tlv {
  const t = readTlv(bytes, 0, failFor(field));
  if (t.tag !== tag) invalid(field, `${what}: expected tag ${hex(tag)}, found ${hex(t.tag)}`);
  if (t.end !== bytes.length) invalid(field, `${bytes.length - t.end} trailing byte(s)`);
  return t;
}

function booleanValue(t: Tlv, field: string): boolean {
  if (t.contents.length !== 1) invalid(field, `BOOLEAN of ${t.contents.length} bytes`);
  return t.contents[0] !== 0;
}

function oidOf(t: Tlv, field: string): string {
  if (t.tag !== Tag.OID) invalid(field, `expected an OBJECT IDENTIFIER, found tag ${hex(t.tag)}`);
  const oid = decodeOid(t.contents);
  if (oid === undefined) invalid(field, 'malformed OBJECT IDENTIFIER');
  return oid;
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
export function decodeBasicConstraints(value: Uint8Array): BasicConstraintsValue {
  const field = 'basicConstraints';
  const seq = single(value, Tag.SEQUENCE, field, 'BasicConstraints');
  const parts = readAllTlv(seq.contents, failFor(field));
  let i = 0;
  let cA = false;
  if (parts[i]?.tag === Tag.BOOLEAN) cA = booleanValue(parts[i++] as Tlv, `${field} cA`);
  let pathLen: number | undefined;
  const p = parts[i];
  if (p !== undefined) {
    if (p.tag !== Tag.INTEGER) invalid(field, `unexpected field with tag ${hex(p.tag)}`);
    const c = p.contents;
    if (c.length === 0) invalid(`${field} pathLenConstraint`, 'empty INTEGER');
    if (((c[0] as number) & 0x80) !== 0) invalid(`${field} pathLenConstraint`, 'negative INTEGER');
    if (c.length > 1 && c[0] === 0 && ((c[1] as number) & 0x80) === 0)
      invalid(`${field} pathLenConstraint`, 'non-minimal INTEGER (not DER)');
    if (c.length > 5 || (c.length === 5 && c[0] !== 0)) invalid(`${field} pathLenConstraint`, 'INTEGER out of range');
    let v = 0;
    for (const b of c) v = v * 256 + b;
    pathLen = v;
    i++;
  }
  if (i !== parts.length) invalid(field, 'fields after pathLenConstraint');
  return pathLen === undefined ? { cA } : { cA, pathLen };
}

/** KeyUsage ::= BIT STRING { digitalSignature (0), …, decipherOnly (8) } */
export function decodeKeyUsage(value: Uint8Array): KeyUsageValue {
  const field = 'keyUsage';
  const c = single(value, Tag.BIT_STRING, field, 'KeyUsage').contents;
  if (c.length === 0) invalid(field, 'BIT STRING without its unused-bits octet');
  const unused = c[0] as number;
  if (unused > 7) invalid(field, `${unused} unused bits (at most 7)`);
  if (c.length === 1 && unused !== 0) invalid(field, `${unused} unused bits in an empty BIT STRING`);
  if (c.length > 1 && ((c[c.length - 1] as number) & ((1 << unused) - 1)) !== 0)
    invalid(field, 'unused bits are not zero (not DER)');
  const bit = (n: number): boolean => {
    const at = 1 + (n >> 3);
    return at < c.length && ((c[at] as number) & (0x80 >> (n & 7))) !== 0;
  };
  const out: Record<string, boolean> = {};
  KEY_USAGE_BITS.forEach((name, n) => (out[name] = bit(n)));
  // "No bit set" looks at every bit: those past decipherOnly name nothing, but count as set.
  const empty = c.subarray(1).every((b) => b === 0);
  return { ...(out as Record<KeyUsageBit, boolean>), empty };
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (an OID): the OIDs in order. */
export function decodeExtendedKeyUsage(value: Uint8Array): string[] {
  const field = 'extendedKeyUsage';
  const seq = single(value, Tag.SEQUENCE, field, 'ExtKeyUsageSyntax');
  const oids = readAllTlv(seq.contents, failFor(field)).map((t, i) => oidOf(t, `${field} KeyPurposeId[${i}]`));
  if (oids.length === 0) invalid(field, 'empty list (SIZE 1..MAX)');
  return oids;
}

/** GeneralName CHOICE tags (context-specific, RFC 5280 4.2.1.6): [0], [3], [4], [5] constructed. */
const GENERAL_NAME_TAGS = new Set([0xa0, 0x81, 0x82, 0xa3, 0xa4, 0xa5, 0x86, 0x87, 0x88]);

/**
 * The members of GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, each checked to be one
 * of the CHOICE's tags; `field` names the structure in errors.
 */
function generalNames(contents: Uint8Array, field: string): Tlv[] {
  const names = readAllTlv(contents, failFor(field));
  if (names.length === 0) invalid(field, 'empty GeneralNames (SIZE 1..MAX)');
  names.forEach((n, i) => {
    if (!GENERAL_NAME_TAGS.has(n.tag)) invalid(field, `GeneralName[${i}] has tag ${hex(n.tag)}, not a GeneralName`);
  });
  return names;
}

/**
 * The otherName entries of a SubjectAltName (GeneralNames); the other kinds of name are checked
 * for framing only. OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }, implicitly
 * tagged [0] in GeneralName.
 */
export function decodeSubjectAltNameOtherNames(value: Uint8Array): OtherNameValue[] {
  const field = 'subjectAltName';
  const seq = single(value, Tag.SEQUENCE, field, 'GeneralNames');
  const out: OtherNameValue[] = [];
  for (const gn of generalNames(seq.contents, field)) {
    if (gn.tag !== 0xa0) continue;
    const [typeTlv, explicit, extra] = readAllTlv(gn.contents, failFor(`${field} otherName`));
    if (typeTlv === undefined) invalid(`${field} otherName`, 'empty');
    const typeId = oidOf(typeTlv, `${field} otherName type-id`);
    const named = `${field} otherName ${typeId}`;
    if (explicit === undefined) invalid(named, 'no value');
    if (explicit.tag !== 0xa0) invalid(named, `value: expected tag 0xa0, found ${hex(explicit.tag)}`);
    if (extra !== undefined) invalid(named, 'fields after the value');
    const inner = readAllTlv(explicit.contents, failFor(named));
    if (inner.length !== 1) invalid(named, inner.length === 0 ? 'empty value' : 'trailing data in value');
    out.push({ typeId, value: inner[0] as Tlv });
  }
  return out;
}

/** SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING (a view of `value`). */
export function decodeSubjectKeyIdentifier(value: Uint8Array): Uint8Array {
  return single(value, Tag.OCTET_STRING, 'subjectKeyIdentifier', 'KeyIdentifier').contents;
}

/**
 * AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL, authorityCertIssuer [1]
 * GeneralNames OPTIONAL, authorityCertSerialNumber [2] OPTIONAL }: the keyIdentifier (a view of
 * `value`) when present; the other two are checked for framing and order.
 */
export function decodeAuthorityKeyIdentifier(value: Uint8Array): Uint8Array | undefined {
  const field = 'authorityKeyIdentifier';
  const seq = single(value, Tag.SEQUENCE, field, 'AuthorityKeyIdentifier');
  let keyIdentifier: Uint8Array | undefined;
  let last = -1;
  for (const t of readAllTlv(seq.contents, failFor(field))) {
    const n = t.tag === 0x80 ? 0 : t.tag === 0xa1 ? 1 : t.tag === 0x82 ? 2 : -1;
    if (n < 0) invalid(field, `unexpected field with tag ${hex(t.tag)}`);
    if (n <= last) invalid(field, `field [${n}] out of order or repeated`);
    last = n;
    if (n === 0) keyIdentifier = t.contents;
    else if (n === 1) generalNames(t.contents, `${field} authorityCertIssuer`);
    else if (t.contents.length === 0) invalid(`${field} authorityCertSerialNumber`, 'empty INTEGER');
  }
  return keyIdentifier;
}
