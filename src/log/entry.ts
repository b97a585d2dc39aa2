/**
 * A log entry — one signature a device gave us, with everything needed to verify it again — and
 * its canonical leaf encoding, the bytes the Merkle tree hashes (docs/log-format.md):
 *
 *   leaf  = 0x01 (leaf format) || field*           fields in ascending tag order, each at most once
 *   field = tag (u8) || length (u32 big-endian) || value
 *
 * Optional fields that are absent are left out (absent and empty stay distinguishable); every
 * integer has a fixed width, big-endian; strings are UTF-8 as stored. A binary TLV rather than
 * canonical JSON because the bulk of an entry is bytes (transcripts, signatures) and because there
 * is nothing to canonicalise: no number formatting, escaping or key-order rules for a remote
 * verifier to get subtly wrong, and the encoder is a dozen lines in any language.
 */
import { crc32 } from 'node:zlib';
import { BaseHashAlgo, hashInfo } from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import { toHex } from '../wire/bytes.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { DecodeError, SpdmError } from '../wire/errors.js';
import type { Evidence, PciIdentity, SignatureEvidence } from '../evidence/evidence.js';
import { splitTranscript } from '../spdm/signed-transcript.js';
import { PUBLIC_KEY_SLOT } from '../evidence/signing-key.js';

export const LEAF_FORMAT = 0x01;

export interface LogEntry {
  /** Position in the log. Part of the leaf, so an entry moved elsewhere no longer matches its hash. */
  readonly index: number;
  /** Index of the first entry appended from the same Evidence (entries of one Evidence are consecutive). */
  readonly evidenceIndex: number;
  /** When the log accepted the entry, milliseconds since the epoch. */
  readonly loggedAt: number;
  /** Evidence.collectedAt, as recorded by the requester (ISO 8601). */
  readonly collectedAt: string;
  readonly device?: string;
  readonly pci?: PciIdentity;
  /** CHALLENGE_AUTH, MEASUREMENTS, later KEY_EXCHANGE_RSP… */
  readonly kind: string;
  /** SPDM version byte the signature was made under (0x10..0x14). */
  readonly version: number;
  readonly slot: number;
  readonly asymAlgo: number;
  readonly hashAlgo: number;
  readonly measurementHashAlgo: number;
  readonly measurementSpec: number;
  readonly otherParams: number;
  readonly requesterNonce: Uint8Array;
  readonly responderNonce: Uint8Array;
  readonly requesterContext?: Uint8Array;
  /** Signing context string (1.2+), '' before. */
  readonly context: string;
  /** The signed transcript (M or L) without the signature. */
  readonly transcript: Uint8Array;
  /** Hash(transcript) with `hashAlgo`. */
  readonly transcriptHash: Uint8Array;
  readonly signature: Uint8Array;
  readonly measurementSummaryHash?: Uint8Array;
  /**
   * SHA-256 of the SPDM certificate chain (chains table); for slot 0xFF (PUB_KEY_ID_CAP) of the
   * device's provisioned public key, whose DER SubjectPublicKeyInfo the chains table then holds.
   * Absent when the evidence records neither.
   */
  readonly chainDigest?: Uint8Array;
  /** Measurement blocks the signature covers (MEASUREMENTS entries), as sent. */
  readonly measurements: readonly Uint8Array[];
  /** Whether the requester verified the signature when it received it. */
  readonly verified: boolean;
}

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 'utf8' | 'bytes' | 'pci' | 'blocks' | 'bool';

export interface FieldSpec {
  readonly tag: number;
  /** Property of LogEntry and key in JSON Lines. */
  readonly name: keyof LogEntry;
  /** Column of the entries table. */
  readonly column: string;
  readonly type: FieldType;
  readonly optional: boolean;
}

/** Leaf fields in tag order. Never renumber or reuse a tag: logged leaves must keep their hashes. */
export const FIELDS: readonly FieldSpec[] = [
  { tag: 0x01, name: 'index', column: 'seq', type: 'u64', optional: false },
  { tag: 0x02, name: 'evidenceIndex', column: 'evidence_seq', type: 'u64', optional: false },
  { tag: 0x03, name: 'loggedAt', column: 'logged_at', type: 'u64', optional: false },
  { tag: 0x04, name: 'collectedAt', column: 'collected_at', type: 'utf8', optional: false },
  { tag: 0x05, name: 'device', column: 'device', type: 'utf8', optional: true },
  { tag: 0x06, name: 'pci', column: 'pci', type: 'pci', optional: true },
  { tag: 0x07, name: 'kind', column: 'kind', type: 'utf8', optional: false },
  { tag: 0x08, name: 'version', column: 'version', type: 'u8', optional: false },
  { tag: 0x09, name: 'slot', column: 'slot', type: 'u8', optional: false },
  { tag: 0x0a, name: 'asymAlgo', column: 'asym_algo', type: 'u32', optional: false },
  { tag: 0x0b, name: 'hashAlgo', column: 'hash_algo', type: 'u32', optional: false },
  { tag: 0x0c, name: 'measurementHashAlgo', column: 'meas_hash_algo', type: 'u32', optional: false },
  { tag: 0x0d, name: 'measurementSpec', column: 'meas_spec', type: 'u8', optional: false },
  { tag: 0x0e, name: 'otherParams', column: 'other_params', type: 'u32', optional: false },
  { tag: 0x0f, name: 'requesterNonce', column: 'requester_nonce', type: 'bytes', optional: false },
  { tag: 0x10, name: 'responderNonce', column: 'responder_nonce', type: 'bytes', optional: false },
  { tag: 0x11, name: 'requesterContext', column: 'requester_context', type: 'bytes', optional: true },
  { tag: 0x12, name: 'context', column: 'context', type: 'utf8', optional: false },
  { tag: 0x13, name: 'transcript', column: 'transcript', type: 'bytes', optional: false },
  { tag: 0x14, name: 'transcriptHash', column: 'transcript_hash', type: 'bytes', optional: false },
  { tag: 0x15, name: 'signature', column: 'signature', type: 'bytes', optional: false },
  { tag: 0x16, name: 'measurementSummaryHash', column: 'meas_summary_hash', type: 'bytes', optional: true },
  { tag: 0x17, name: 'chainDigest', column: 'chain_digest', type: 'bytes', optional: true },
  { tag: 0x18, name: 'measurements', column: 'measurements', type: 'blocks', optional: false },
  { tag: 0x19, name: 'verified', column: 'verified', type: 'bool', optional: false },
];

export const FIELD_BY_NAME: ReadonlyMap<string, FieldSpec> = new Map(FIELDS.map((f) => [f.name, f]));
export const FIELD_BY_COLUMN: ReadonlyMap<string, FieldSpec> = new Map(FIELDS.map((f) => [f.column, f]));
export const FIELD_BY_TAG: ReadonlyMap<number, FieldSpec> = new Map(FIELDS.map((f) => [f.tag, f]));

/** PCI identity, nested TLV in the same format (tag, u32 length, value). */
export const PCI_FIELDS = [
  { tag: 0x01, name: 'bdf', type: 'utf8', optional: true },
  { tag: 0x02, name: 'vendorId', type: 'u16', optional: false },
  { tag: 0x03, name: 'deviceId', type: 'u16', optional: false },
  { tag: 0x04, name: 'classCode', type: 'u32', optional: false },
  { tag: 0x05, name: 'revisionId', type: 'u8', optional: false },
  { tag: 0x06, name: 'subsystemVendorId', type: 'u16', optional: true },
  { tag: 0x07, name: 'subsystemId', type: 'u16', optional: true },
  { tag: 0x08, name: 'serialNumber', type: 'utf8', optional: true },
] as const satisfies readonly { tag: number; name: keyof PciIdentity; type: FieldType; optional: boolean }[];

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

const WIDTH: Partial<Record<FieldType, number>> = { u8: 1, u16: 2, u32: 4, u64: 8, bool: 1 };

function encodeError(field: string, reason: string): SpdmError {
  return new SpdmError('ENCODE_ERROR', `log entry field ${field}: ${reason}`, { field });
}

const MAX_UINT = [0, 0x100, 0x10000, 0, 0x100000000];

function checkUint(field: string, v: unknown, width: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || (width < 8 && v >= (MAX_UINT[width] as number)))
    throw encodeError(field, `${String(v)} is not a ${8 * width}-bit unsigned integer`);
}

/** `v` (checked) big-endian into out[at, at + width), byte by byte: a u64 is beyond 32-bit operators. */
function writeUint(out: Uint8Array, at: number, v: number, width: number): void {
  let rest = v;
  for (let i = width - 1; i >= 0; i--) {
    out[at + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

function uint(field: string, v: unknown, width: number): Uint8Array {
  checkUint(field, v, width);
  // Big-endian, byte by byte (a Writer per integer was a share of rebuilding every leaf).
  const out = new Uint8Array(width);
  writeUint(out, 0, v, width);
  return out;
}

function tlv(tag: number, value: Uint8Array): Uint8Array {
  return new Writer(5 + value.length).u8(tag).u32be(value.length).bytes(value).finish();
}

/** u32 count, then for each block u32 length and the bytes. Also the column format of `measurements`. */
export function encodeBlocks(blocks: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(4 + blocks.reduce((n, b) => n + 4 + b.length, 0)).u32be(blocks.length);
  for (const b of blocks) w.u32be(b.length).bytes(b);
  return w.finish();
}

/**
 * Encodings of block lists decoded as views (decodeBlocks with `copy` false): the list is frozen
 * and its blocks are views of the bytes it was decoded from, so those bytes are its encoding
 * whatever happens to them, and rebuilding the leaf of a stored row need not encode it again.
 */
const viewedBlocks = new WeakMap<readonly Uint8Array[], Uint8Array>();

/**
 * `copy` false: the blocks are views into `b` and the list is frozen (for a caller that owns `b`:
 * a row's column bytes).
 */
export function decodeBlocks(b: Uint8Array, field = 'measurements', copy = true): Uint8Array[] {
  const r = new Reader(b, 'leaf');
  const n = r.u32be(field);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.u32be(`${field}[${i}].length`);
    const block = r.bytes(len, `${field}[${i}]`);
    out.push(copy ? block.slice() : block);
  }
  if (r.remaining !== 0) r.fail(field, `${r.remaining} bytes after the last block`);
  if (!copy) {
    Object.freeze(out);
    viewedBlocks.set(out, b);
  }
  return out;
}

function valueBytes(field: string, type: FieldType, v: unknown): Uint8Array {
  switch (type) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'u64':
      return uint(field, v, WIDTH[type] as number);
    case 'bool':
      if (typeof v !== 'boolean') throw encodeError(field, 'not a boolean');
      return new Uint8Array([v ? 1 : 0]);
    case 'utf8':
      if (typeof v !== 'string') throw encodeError(field, 'not a string');
      return utf8.encode(v);
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw encodeError(field, 'not bytes');
      return v;
    case 'blocks':
      if (!Array.isArray(v) || !v.every((x) => x instanceof Uint8Array))
        throw encodeError(field, 'not a list of byte strings');
      return viewedBlocks.get(v) ?? encodeBlocks(v);
    case 'pci':
      return pciValue(v as PciIdentity);
  }
}

/**
 * Encodings of frozen PCI identities: a log's rows name a device's identity again and again, and
 * the row reader (store.ts) hands out one frozen object per distinct stored text. A frozen object
 * cannot change, so its encoding is fixed; anything else is encoded every time.
 */
const frozenPci = new WeakMap<object, Uint8Array>();

function pciValue(p: PciIdentity): Uint8Array {
  if (typeof p !== 'object' || p === null || !Object.isFrozen(p)) return encodePci(p);
  let b = frozenPci.get(p);
  if (!b) {
    b = encodePci(p);
    frozenPci.set(p, b);
  }
  return b;
}

/**
 * `p` frozen, with its encoding remembered for the leaf: for a reader that parses a stored
 * identity and must check that it encodes anyway (store.ts), so that rebuilding the leaf of each
 * row does not encode it a second time. Throws as encodePci does.
 */
export function freezePci(p: PciIdentity): PciIdentity {
  const b = encodePci(p);
  const frozen = Object.freeze(p);
  frozenPci.set(frozen, b);
  return frozen;
}

export function encodePci(p: PciIdentity): Uint8Array {
  if (typeof p !== 'object' || p === null) throw encodeError('pci', 'not an object');
  const w = new Writer();
  for (const f of PCI_FIELDS) {
    const v = p[f.name];
    if (v === undefined) {
      if (!f.optional) throw encodeError(`pci.${f.name}`, 'missing');
      continue;
    }
    // A PCI class code is 24 bits (base class, subclass, programming interface), stored in a u32.
    if (f.name === 'classCode' && (typeof v !== 'number' || v > 0xffffff))
      throw encodeError('pci.classCode', `${String(v)} is not a 24-bit class code`);
    const value = valueBytes(`pci.${f.name}`, f.type, v);
    w.u8(f.tag).u32be(value.length).bytes(value);
  }
  return w.finish();
}

/** The value bytes of each present field, in leaf order. */
function fieldValues(e: LogEntry): { spec: FieldSpec; value: Uint8Array }[] {
  const out: { spec: FieldSpec; value: Uint8Array }[] = [];
  for (const spec of FIELDS) {
    const v = e[spec.name];
    if (v === undefined) {
      if (!spec.optional) throw encodeError(spec.name, 'missing');
      continue;
    }
    out.push({ spec, value: valueBytes(spec.name, spec.type, v) });
  }
  return out;
}

/** The TLV of each present field, in leaf order. */
export function leafFields(e: LogEntry): { spec: FieldSpec; tlv: Uint8Array }[] {
  return fieldValues(e).map((f) => ({ spec: f.spec, tlv: tlv(f.spec.tag, f.value) }));
}

/** Writes format byte and TLVs into one buffer; returns it and each field's [start, end) within it. */
function assemble(fields: readonly { spec: FieldSpec; value: Uint8Array }[]): { leaf: Uint8Array; spans: number[] } {
  const w = new Writer(fields.reduce((n, f) => n + 5 + f.value.length, 1)).u8(LEAF_FORMAT);
  const spans: number[] = [];
  for (const f of fields) {
    spans.push(w.length);
    w.u8(f.spec.tag).u32be(f.value.length).bytes(f.value);
    spans.push(w.length);
  }
  return { leaf: w.finish(), spans };
}

/** The canonical leaf bytes. */
export function encodeLeaf(e: LogEntry): Uint8Array {
  return assemble(fieldValues(e)).leaf;
}

/** Leaf bytes and field locator in one pass (see fieldDigests). */
export function encodeLeafWithDigests(e: LogEntry): { leaf: Uint8Array; fieldDigests: Uint8Array } {
  const fields = fieldValues(e);
  const { leaf, spans } = assemble(fields);
  const out = new Uint8Array(fields.length * 5);
  const dv = new DataView(out.buffer);
  fields.forEach((f, i) => {
    out[i * 5] = f.spec.tag;
    dv.setUint32(i * 5 + 1, crc32(leaf.subarray(spans[2 * i], spans[2 * i + 1])), false);
  });
  return { leaf, fieldDigests: out };
}

/**
 * Per field of FIELDS, while leafHashWithDigests runs (it is synchronous, so one set per thread
 * serves every call): the value's length in the leaf (-1 when absent), and its bytes unless it is
 * an integer or boolean, written straight into the leaf.
 */
const scratchLength = new Int32Array(FIELDS.length);
const scratchBytes: (Uint8Array | undefined)[] = FIELDS.map(() => undefined);

/** A field's tag and a u32 big-endian after it (a TLV's Tag and Length, a locator's tag and CRC). */
function writeTagged(out: Uint8Array, at: number, tag: number, v: number): void {
  out[at] = tag;
  out[at + 1] = v >>> 24;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 8) & 0xff;
  out[at + 4] = v & 0xff;
}

/**
 * Leaf hash (SHA-256(0x00 || leaf)) and field locator, the leaf written once into one buffer:
 * what verification of a large log does for every row. The same bytes as assemble(fieldValues(e))
 * and the same errors in the same order, but integers and booleans go straight into the leaf
 * rather than through a small array each, and no record per field is made (those were most of
 * the allocations of rebuilding a stored row's leaf).
 */
export function leafHashWithDigests(e: LogEntry): { leafHash: Uint8Array; fieldDigests: Uint8Array } {
  let size = LEAF_HASH_START.length;
  let present = 0;
  for (let i = 0; i < FIELDS.length; i++) {
    const spec = FIELDS[i] as FieldSpec;
    const v = e[spec.name];
    scratchBytes[i] = undefined;
    if (v === undefined) {
      if (!spec.optional) throw encodeError(spec.name, 'missing');
      scratchLength[i] = -1;
      continue;
    }
    let len: number;
    switch (spec.type) {
      case 'u8':
      case 'u16':
      case 'u32':
      case 'u64':
        len = WIDTH[spec.type] as number;
        checkUint(spec.name, v, len);
        break;
      case 'bool':
        if (typeof v !== 'boolean') throw encodeError(spec.name, 'not a boolean');
        len = 1;
        break;
      default: {
        const b = valueBytes(spec.name, spec.type, v);
        scratchBytes[i] = b;
        len = b.length;
      }
    }
    scratchLength[i] = len;
    size += 5 + len;
    present++;
  }
  const buf = new Uint8Array(size);
  buf.set(LEAF_HASH_START);
  let pos = LEAF_HASH_START.length;
  const out = new Uint8Array(present * 5);
  let o = 0;
  for (let i = 0; i < FIELDS.length; i++) {
    const len = scratchLength[i] as number;
    if (len < 0) continue;
    const spec = FIELDS[i] as FieldSpec;
    const start = pos;
    writeTagged(buf, pos, spec.tag, len);
    pos += 5;
    const b = scratchBytes[i];
    if (b) buf.set(b, pos);
    else if (spec.type === 'bool') buf[pos] = e[spec.name] ? 1 : 0;
    else writeUint(buf, pos, e[spec.name] as number, len);
    pos += len;
    writeTagged(out, o, spec.tag, tlvCrc(buf, start, pos));
    o += 5;
  }
  // Views of the entry's column bytes are not kept past the call.
  scratchBytes.fill(undefined);
  return { leafHash: digest(BaseHashAlgo.SHA_256, buf), fieldDigests: out };
}

/** CRC-32 (the zlib one) table, for fields too short to be worth a native call. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * The CRC-32 of b[start, end). Most TLVs of a leaf are 6 to 13 bytes (integers, algorithms,
 * nonces): a native crc32 and a subarray for each was a share of rebuilding every leaf; the
 * transcript, signature and the like still go to zlib.
 */
function tlvCrc(b: Uint8Array, start: number, end: number): number {
  if (end - start > 64) return crc32(b.subarray(start, end));
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The RFC 9162 leaf prefix 0x00 followed by the leaf format byte. */
const LEAF_HASH_START = new Uint8Array([0x00, LEAF_FORMAT]);

/**
 * The field locator stored beside each entry: for every present field, its tag and the CRC-32 of
 * its TLV (big-endian). It is not a security mechanism (the leaf hash and the signed tree head
 * are; a checksum is enough and costs nothing); it only lets verification say *which* field of an
 * altered entry changed.
 */
export function fieldDigests(e: LogEntry): Uint8Array {
  return encodeLeafWithDigests(e).fieldDigests;
}

/** Names of the fields whose digests differ between two locators (both sides' tags considered). */
export function differingFields(stored: Uint8Array, current: Uint8Array): string[] | undefined {
  const parse = (b: Uint8Array): Map<number, string> | undefined => {
    if (b.length % 5 !== 0) return undefined;
    const m = new Map<number, string>();
    for (let o = 0; o < b.length; o += 5) m.set(b[o] as number, toHex(b.subarray(o + 1, o + 5)));
    return m;
  };
  const a = parse(stored);
  const c = parse(current);
  if (!a || !c) return undefined;
  const out: string[] = [];
  for (const spec of FIELDS) {
    if (a.get(spec.tag) !== c.get(spec.tag)) out.push(spec.column);
  }
  return out;
}

// ---- decoding (for remote-style checks and tests: a leaf is self-describing) ----

function readUint(b: Uint8Array, field: string, off: number, width: number): number {
  if (b.length !== width) throw new DecodeError('leaf', field, off, `expected ${width} bytes, got ${b.length}`);
  // The length is checked, so the only failure left is a u64 beyond 2^53 (a DecodeError).
  const r = new Reader(b, 'leaf');
  return width === 1 ? r.u8(field) : width === 2 ? r.u16be(field) : width === 4 ? r.u32be(field) : r.u64be(field);
}

function decodeValue(field: string, type: FieldType, b: Uint8Array, off: number): unknown {
  switch (type) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'u64':
      return readUint(b, field, off, WIDTH[type] as number);
    case 'bool':
      if (b.length !== 1 || (b[0] as number) > 1)
        throw new DecodeError('leaf', field, off, 'boolean must be one byte 0 or 1');
      return b[0] === 1;
    case 'utf8':
      try {
        return utf8Strict.decode(b);
      } catch {
        throw new DecodeError('leaf', field, off, 'not valid UTF-8');
      }
    case 'bytes':
      return b.slice();
    case 'blocks':
      return decodeBlocks(b, field);
    case 'pci':
      return decodePci(b, off);
  }
}

function* iterTlv(
  b: Uint8Array,
  start: number,
  what: string,
): Generator<{ tag: number; value: Uint8Array; off: number }> {
  const r = new Reader(b, what, start);
  while (r.remaining > 0) {
    const off = r.offset;
    if (r.remaining < 5) r.fail('tlv', 'truncated field header');
    const tag = r.u8('tag');
    const len = r.u32be('length');
    if (len > r.remaining) r.fail(`tag 0x${tag.toString(16)}`, `length ${len} runs past the end`, off);
    yield { tag, value: r.bytes(len, `tag 0x${tag.toString(16)}`), off };
  }
}

export function decodePci(b: Uint8Array, baseOffset = 0): PciIdentity {
  const out: Record<string, unknown> = {};
  let last = 0;
  for (const { tag, value, off } of iterTlv(b, 0, 'pci')) {
    const f = PCI_FIELDS.find((x) => x.tag === tag);
    if (!f) throw new DecodeError('pci', `tag 0x${tag.toString(16)}`, baseOffset + off, 'unknown field');
    if (tag <= last) throw new DecodeError('pci', f.name, baseOffset + off, 'fields out of order or repeated');
    last = tag;
    out[f.name] = decodeValue(`pci.${f.name}`, f.type, value, baseOffset + off);
    if (f.name === 'classCode' && (out[f.name] as number) > 0xffffff)
      throw new DecodeError('pci', f.name, baseOffset + off, 'not a 24-bit class code');
  }
  for (const f of PCI_FIELDS)
    if (!f.optional && out[f.name] === undefined) throw new DecodeError('pci', f.name, baseOffset, 'missing');
  return out as unknown as PciIdentity;
}

/** Parses canonical leaf bytes back into an entry; rejects anything encodeLeaf would not produce. */
export function decodeLeaf(leaf: Uint8Array): LogEntry {
  if (leaf[0] !== LEAF_FORMAT) throw new DecodeError('leaf', 'format', 0, `unknown leaf format ${String(leaf[0])}`);
  const out: Record<string, unknown> = {};
  let last = 0;
  for (const { tag, value, off } of iterTlv(leaf, 1, 'leaf')) {
    const f = FIELD_BY_TAG.get(tag);
    if (!f) throw new DecodeError('leaf', `tag 0x${tag.toString(16)}`, off, 'unknown field');
    if (tag <= last) throw new DecodeError('leaf', f.name, off, 'fields out of order or repeated');
    last = tag;
    out[f.name] = decodeValue(f.name, f.type, value, off + 5);
  }
  for (const f of FIELDS)
    if (!f.optional && out[f.name] === undefined) throw new DecodeError('leaf', f.name, 0, 'missing');
  return out as unknown as LogEntry;
}

// ---- from Evidence ----

export interface ChainRecord {
  /** SHA-256 of `chain`: an SPDM certificate chain, or a slot 0xFF entry's DER SubjectPublicKeyInfo. */
  readonly digest: Uint8Array;
  readonly chain: Uint8Array;
}

export function chainDigestOf(chain: Uint8Array): Uint8Array {
  return digest(BaseHashAlgo.SHA_256, chain);
}

/** Hex to bytes without a copy; Buffer.from stops at the first non-hex digit, which the length check catches. */
export function hexBytes(v: string): Uint8Array | undefined {
  const b = Buffer.from(v, 'hex');
  return b.length * 2 === v.length ? new Uint8Array(b.buffer, b.byteOffset, b.length) : undefined;
}

function hexField(v: string | undefined, field: string): Uint8Array {
  const b = hexBytes(v ?? '');
  if (!b) throw new SpdmError('DECODE_ERROR', `evidence ${field}: not a hex string`, { field });
  return b;
}

/** Strings are stored as their UTF-8 encoding; a lone surrogate would not survive, so normalise first. */
function wellFormed(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * The measurement blocks a MEASUREMENTS signature covers: those of every MEASUREMENTS response in
 * its signed transcript, decoded message by message, in transcript order. A transcript that does
 * not decode (or names no hash we know) gives none: the entry still holds the transcript, the
 * signed bytes themselves, and `spdm verify` reports why it cannot be read.
 */
function signedBlocks(s: SignatureEvidence, transcript: Uint8Array): Uint8Array[] {
  if (s.kind !== 'MEASUREMENTS') return [];
  if (!hashInfo(s.hashAlgo)) return [];
  let steps: ReturnType<typeof splitTranscript>;
  try {
    steps = splitTranscript(transcript, s.hashAlgo);
  } catch (e) {
    if (e instanceof SpdmError) return [];
    throw e;
  }
  const out: Uint8Array[] = [];
  for (const st of steps) if (st.kind === 'MEASUREMENTS') for (const b of st.msg.blocks) out.push(b.bytes.slice());
  return out;
}

/** Everything of an entry but its position and log time: what appending an Evidence produces. */
export type EntryDraft = Omit<LogEntry, 'index' | 'evidenceIndex' | 'loggedAt'>;

/**
 * One draft entry per signature of `e`, and the certificate chains they refer to. A MEASUREMENTS
 * entry carries the measurement blocks of its signed transcript; a CHALLENGE_AUTH entry
 * carries the measurement summary hash instead. Measurements no signature covers are not logged:
 * this is a log of what devices signed.
 */
export function draftsFromEvidence(e: Evidence): { drafts: EntryDraft[]; chains: ChainRecord[] } {
  const chains = new Map<string, ChainRecord>();
  const bySlot = new Map<number, Uint8Array>();
  for (const s of e.slots) {
    if (!s.certChain) continue;
    const chain = hexField(s.certChain, `slots[${s.slot}].certChain`);
    const d = chainDigestOf(chain);
    chains.set(toHex(d), { digest: d, chain });
    bySlot.set(s.slot, d);
  }
  // Slot 0xFF has no chain: the key its signatures verify with is stored the same way, by digest.
  if (e.publicKey) {
    const key = hexField(e.publicKey, 'publicKey');
    const d = chainDigestOf(key);
    chains.set(toHex(d), { digest: d, chain: key });
    bySlot.set(PUBLIC_KEY_SLOT, d);
  }
  const drafts = e.signatures.map((s, i): EntryDraft => {
    const f = (name: string) => `signatures[${i}].${name}`;
    const transcript = hexField(s.transcript, f('transcript'));
    const chainDigest = bySlot.get(s.slot);
    const measurementSummaryHash =
      s.measurementSummaryHash !== undefined
        ? hexField(s.measurementSummaryHash, f('measurementSummaryHash'))
        : undefined;
    const requesterContext =
      s.requesterContext !== undefined ? hexField(s.requesterContext, f('requesterContext')) : undefined;
    return {
      collectedAt: wellFormed(e.collectedAt),
      ...(e.device !== undefined ? { device: wellFormed(e.device) } : {}),
      ...(e.pci !== undefined ? { pci: e.pci } : {}),
      kind: s.kind,
      version: s.version,
      slot: s.slot,
      asymAlgo: s.asymAlgo,
      hashAlgo: s.hashAlgo,
      measurementHashAlgo: e.algorithms.measurementHash,
      measurementSpec: e.algorithms.measurementSpec,
      otherParams: e.algorithms.otherParams,
      requesterNonce: hexField(s.requesterNonce, f('requesterNonce')),
      responderNonce: hexField(s.responderNonce, f('responderNonce')),
      ...(requesterContext ? { requesterContext } : {}),
      context: wellFormed(s.context),
      transcript,
      transcriptHash: hexField(s.transcriptHash, f('transcriptHash')),
      signature: hexField(s.signature, f('signature')),
      ...(measurementSummaryHash ? { measurementSummaryHash } : {}),
      ...(chainDigest ? { chainDigest } : {}),
      measurements: signedBlocks(s, transcript),
      verified: s.verified,
    };
  });
  return { drafts, chains: [...chains.values()] };
}
