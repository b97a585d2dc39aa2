/**
 * Minimal strict DER primitives: a TLV reader, an OID codec and a few encoders.
 *
 * The ASN.1 library we use for X.509 semantics (@peculiar/asn1-schema) is a lenient BER parser
 * that ignores trailing bytes and does not keep the raw bytes of most fields. Certificate chains
 * need both exact byte slices (signed TBS, issuer/subject Name DER for chain linking, SPKI) and
 * strict framing (a chain is split by each certificate's own outer length), so the framing layer
 * is done here by hand. All readers return subarrays of their input; nothing is copied.
 */
import { DecodeError } from '../wire/errors.js';

/** Universal tags used by the certificate layer. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One decoded tag-length-value, as views into the buffer it was read from. */
export interface Tlv {
  /** The identifier octet (single-byte tags only; X.509 never needs the high-tag-number form). */
  readonly tag: number;
  /** Offset of the identifier octet within the buffer that was read. */
  readonly offset: number;
  readonly headerLength: number;
  readonly length: number;
  /** Offset just past the value. */
  readonly end: number;
  /** The whole TLV (header and value). */
  readonly bytes: Uint8Array;
  /** The value only. */
  readonly contents: Uint8Array;
}

/** How a caller wants a framing failure reported (DecodeError for chains, CERT_INVALID for fields). */
export type DerFail = (reason: string, offset: number) => never;

/**
 * A Tlv whose views are made when first asked for: a certificate is some eighty TLVs, and most
 * callers look at either the whole TLV or its value, rarely both.
 */
class TlvView implements Tlv {
  readonly end: number;
  private whole: Uint8Array | undefined;
  private value: Uint8Array | undefined;
  constructor(
    private readonly buf: Uint8Array,
    readonly tag: number,
    readonly offset: number,
    readonly headerLength: number,
    readonly length: number,
  ) {
    this.end = offset + headerLength + length;
  }

  get bytes(): Uint8Array {
    return (this.whole ??= this.buf.subarray(this.offset, this.end));
  }

  get contents(): Uint8Array {
    return (this.value ??= this.buf.subarray(this.offset + this.headerLength, this.end));
  }
}

/**
 * Reads one DER TLV at `offset`. Rejects the high-tag-number form, indefinite lengths (BER only),
 * length fields longer than 4 bytes, non-minimal length encodings (not DER) and values that run
 * past the end of `buf`.
 */
export function readTlv(buf: Uint8Array, offset: number, fail: DerFail): Tlv {
  if (offset >= buf.length) fail('needs a tag, no bytes left', offset);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) fail(`high-tag-number form (tag 0x${tag.toString(16)}) is not supported`, offset);
  if (offset + 1 >= buf.length) fail('needs a length, no bytes left', offset + 1);
  const first = buf[offset + 1] as number;
  let length: number;
  let headerLength: number;
  if (first < 0x80) {
    length = first;
    headerLength = 2;
  } else if (first === 0x80) {
    fail('indefinite length is not allowed in DER', offset + 1);
  } else {
    const n = first & 0x7f;
    if (n > 4) fail(`length field of ${n} bytes is not supported (max 4)`, offset + 1);
    if (offset + 2 + n > buf.length)
      fail(`length field needs ${n} byte(s), ${buf.length - offset - 2} left`, offset + 2);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    // DER: the long form only when needed, and with no leading zero byte.
    if (length < 0x80 || (buf[offset + 2] as number) === 0) fail('non-minimal length encoding (not DER)', offset + 1);
    headerLength = 2 + n;
  }
  const start = offset + headerLength;
  if (length > buf.length - start) {
    fail(`value of ${length} byte(s) overruns the buffer (${buf.length - start} left)`, offset);
  }
  return new TlvView(buf, tag, offset, headerLength, length);
}

/** Reads every TLV in `buf` back to back (the members of a constructed value). */
export function readAllTlv(buf: Uint8Array, fail: DerFail): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < buf.length) {
    const t = readTlv(buf, off, fail);
    out.push(t);
    off = t.end;
  }
  return out;
}

/**
 * Splits concatenated DER certificates (the Certificates field of an SPDM chain, or a
 * `*.certchain.der` bundle) by each certificate's outer SEQUENCE length.
 *
 * `messageName` and `baseOffset` let a caller that embeds the list in a larger structure (the SPDM
 * chain) get errors naming its own structure and offsets relative to it.
 */
export function splitDerCertificates(concat: Uint8Array, messageName = 'CertChain', baseOffset = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < concat.length) {
    const index = out.length;
    const fail: DerFail = (reason, at) => {
      throw new DecodeError(messageName, `Certificates[${index}]`, baseOffset + at, reason);
    };
    const t = readTlv(concat, off, fail);
    if (t.tag !== Tag.SEQUENCE)
      fail(`expected a SEQUENCE (0x30), found tag 0x${t.tag.toString(16).padStart(2, '0')}`, off);
    if (t.length === 0) fail('empty certificate SEQUENCE', off);
    out.push(t.bytes);
    off = t.end;
  }
  return out;
}

/** Decodes OBJECT IDENTIFIER contents to dotted form; undefined when malformed. */
export function decodeOid(contents: Uint8Array): string | undefined {
  if (contents.length === 0) return undefined;
  const arcs: number[] = [];
  let v = 0;
  let inArc = false;
  for (let i = 0; i < contents.length; i++) {
    const b = contents[i] as number;
    // A leading 0x80 would be a non-minimal arc encoding.
    if (!inArc && b === 0x80) return undefined;
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) return undefined;
    if (b & 0x80) {
      inArc = true;
      continue;
    }
    arcs.push(v);
    v = 0;
    inArc = false;
  }
  if (inArc) return undefined;
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encodes one TLV with a single-byte tag. */
export function encodeTlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of contents) n += c.length;
  const len = encodeLength(n);
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  let o = 1 + len.length;
  for (const c of contents) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export function encodeSequence(...members: Uint8Array[]): Uint8Array {
  return encodeTlv(Tag.SEQUENCE, ...members);
}

export function encodeOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new TypeError(`invalid OID ${oid}`);
    return Number(s);
  });
  const a0 = arcs[0];
  const a1 = arcs[1];
  if (a0 === undefined || a1 === undefined || a0 > 2 || (a0 < 2 && a1 >= 40)) throw new TypeError(`invalid OID ${oid}`);
  const body: number[] = [];
  for (const arc of [a0 * 40 + a1, ...arcs.slice(2)]) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    body.push(...groups);
  }
  return encodeTlv(Tag.OID, Uint8Array.from(body));
}

export function encodeUtf8String(s: string): Uint8Array {
  return encodeTlv(Tag.UTF8_STRING, new TextEncoder().encode(s));
}
