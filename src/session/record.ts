/**
 * DSP0277 secured-message records (shared/spec/secured.md).
 *
 *   SessionID (u32) || SequenceNumber (N bytes, LE low bytes of the 64-bit counter) || Length (u16)
 *   || encrypted( ApplicationDataLength (u16) || ApplicationData || RandomData ) || MAC (16)
 *
 * AAD = SessionID || SequenceNumber || Length. In an authenticate-only session the application
 * data is sent in the clear, without its length or random data, and the MAC is the AEAD tag over
 * an empty plaintext with AAD = everything before the MAC.
 *
 * Per transport: N = 0 for PCIe DOE and TCP, 2 for MCTP; random padding only over MCTP (libspdm
 * sends 1..32 bytes). ApplicationData is the SPDM message itself over DOE, the MCTP message type
 * byte and the message over MCTP, the 4-byte DSP0287 binding header and the message over TCP.
 * This module knows those two inner framings itself (the session layer sits below transport/,
 * see ARCHITECTURE.md), each a byte or four.
 *
 * AEAD nonce = IV XOR the 64-bit sequence counter, little-endian in nonce bytes 0..7 (DSP0277
 * 1.2+, and libspdm's default for 1.0/1.1); 'be' is libspdm's big-endian option for 1.0/1.1
 * (counter big-endian in nonce bytes 4..11).
 *
 * The per-record path (SecureSession) carries the counter as two u32 halves, `hi` and `lo`, so
 * no BigInt is made or computed per record; the bigint forms below check the range and split.
 * A sealed record is one buffer: header, ciphertext, tag (up to 32 KiB, the plaintext assembled
 * where its ciphertext goes; above, the message encrypted where it is and the buffer allocated
 * after, see SEAL_AFTER_MIN); an opened record's application data is a view of the decrypted
 * plaintext.
 */
import { DecodeError, SpdmError } from '../wire/errors.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { AEAD_NONCE_SIZE, AEAD_TAG_SIZE, aeadDecrypt, aeadSealAfter, aeadSealInto } from '../crypto/aead.js';

export type SecuredTransport = 'doe' | 'mctp' | 'tcp';

export interface RecordLayout {
  readonly transport: SecuredTransport;
  /** N: bytes of the sequence counter sent on the wire. */
  readonly sequenceNumberSize: 0 | 2 | 8;
  /** Most RandomData bytes a sender may add. */
  readonly maxRandomPadding: number;
  /** Bytes the transport may add after the record (DOE pads a data object to a dword). */
  readonly maxTrailing: number;
}

export const RECORD_LAYOUTS: Readonly<Record<SecuredTransport, RecordLayout>> = {
  doe: { transport: 'doe', sequenceNumberSize: 0, maxRandomPadding: 0, maxTrailing: 3 },
  mctp: { transport: 'mctp', sequenceNumberSize: 2, maxRandomPadding: 32, maxTrailing: 0 },
  tcp: { transport: 'tcp', sequenceNumberSize: 0, maxRandomPadding: 0, maxTrailing: 0 },
};

/** Encrypt-and-MAC (ENCRYPT_CAP and MAC_CAP on both sides) or authenticate-only (MAC_CAP only). */
export type SessionMode = 'encrypt' | 'mac-only';
export type NonceOrder = 'le' | 'be';

const NAME = 'secured message';
const MAX_SEQUENCE = (1n << 64n) - 1n;

export interface SecuredRecord {
  readonly sessionId: number;
  /** Low half of SessionID. */
  readonly reqSessionId: number;
  /** High half of SessionID. */
  readonly rspSessionId: number;
  /** The low N bytes of the sender's counter, when the transport sends them. */
  readonly sequenceNumber?: number;
  /** The Length field: bytes after it (ciphertext or clear application data, then the MAC). */
  readonly length: number;
  /** SessionID || SequenceNumber || Length: the AAD of an encrypted record. */
  readonly header: Uint8Array;
  /** The `length` bytes after the header. */
  readonly body: Uint8Array;
  /** The MAC (last 16 bytes of `body`). */
  readonly mac: Uint8Array;
  /** Transport bytes after the record (DOE dword padding, zero). */
  readonly trailing: Uint8Array;
  /** header || body: the record without transport padding. */
  readonly raw: Uint8Array;
}

/** Splits a record into its fields. Malformed or truncated bytes are a DecodeError naming the field. */
export function decodeSecuredRecord(bytes: Uint8Array, layout: RecordLayout): SecuredRecord {
  const n = layout.sequenceNumberSize;
  const lengthAt = 4 + n;
  const headerEnd = lengthAt + 2;
  // A header too short for its fields: the Reader names the first field missing.
  if (bytes.length < headerEnd) return decodeTruncatedHeader(bytes, layout);
  // Read in place (once per record), the same fields and checks as the Reader path.
  const sessionId = u32At(bytes, 0);
  const length = (bytes[lengthAt] as number) | ((bytes[lengthAt + 1] as number) << 8);
  const remaining = bytes.length - headerEnd;
  if (length < AEAD_TAG_SIZE)
    throw new DecodeError(NAME, 'Length', lengthAt, `${length} is shorter than the ${AEAD_TAG_SIZE}-byte MAC`);
  if (length > remaining)
    throw new DecodeError(NAME, 'Length', lengthAt, `${length} byte(s) announced, ${remaining} present`);
  const end = headerEnd + length;
  const trailingLength = bytes.length - end;
  if (trailingLength > layout.maxTrailing) {
    throw new DecodeError(
      NAME,
      'trailing',
      end,
      `${trailingLength} byte(s) after the record (at most ${layout.maxTrailing} over ${layout.transport})`,
    );
  }
  for (let i = end; i < bytes.length; i++)
    if (bytes[i] !== 0) throw new DecodeError(NAME, 'trailing', i, 'non-zero padding after the record');
  const body = bytes.subarray(headerEnd, end);
  const rec: Mutable<SecuredRecord> = {
    sessionId,
    reqSessionId: sessionId & 0xffff,
    rspSessionId: sessionId >>> 16,
    length,
    header: bytes.subarray(0, headerEnd),
    body,
    mac: body.subarray(length - AEAD_TAG_SIZE),
    trailing: trailingLength === 0 ? EMPTY : bytes.subarray(end),
    raw: trailingLength === 0 ? bytes : bytes.subarray(0, end),
  };
  if (n === 2) rec.sequenceNumber = (bytes[4] as number) | ((bytes[5] as number) << 8);
  else if (n === 8) rec.sequenceNumber = u32At(bytes, 8) * 0x100000000 + u32At(bytes, 4);
  return rec;
}

function u32At(b: Uint8Array, at: number): number {
  return (
    ((b[at] as number) | ((b[at + 1] as number) << 8) | ((b[at + 2] as number) << 16)) +
    (b[at + 3] as number) * 0x1000000
  );
}

/** The DecodeError of a record shorter than its header, from the Reader that names the missing field. */
function decodeTruncatedHeader(bytes: Uint8Array, layout: RecordLayout): never {
  const r = new Reader(bytes, NAME);
  r.u32('SessionID');
  if (layout.sequenceNumberSize === 2) r.u16('SequenceNumber');
  else if (layout.sequenceNumberSize === 8) {
    r.u32('SequenceNumber');
    r.u32('SequenceNumber');
  }
  r.u16('Length');
  throw new DecodeError(NAME, 'Length', r.offset, 'record header truncated');
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The 64-bit sequence counter as its high and low u32 halves. */
export interface SequenceHalves {
  readonly hi: number;
  readonly lo: number;
}

/** Splits a bigint counter, ENCODE_ERROR outside 0..2^64-1. */
export function sequenceHalves(sequence: bigint): SequenceHalves {
  if (sequence < 0n || sequence > MAX_SEQUENCE)
    throw new SpdmError('ENCODE_ERROR', `sequence number ${sequence} outside 0..2^64-1`);
  return { hi: Number(sequence >> 32n), lo: Number(sequence & 0xffffffffn) };
}

/**
 * Steps a counter held as halves to the next sequence number. Past 2^64 − 1 `hi` becomes 2^32,
 * a value no nonce is made from (recordNonceOf refuses it): callers check their limit first.
 */
export function advanceSequence(c: { hi: number; lo: number }): void {
  if (c.lo === 0xffffffff) {
    c.lo = 0;
    c.hi++;
  } else c.lo++;
}

function requireHalves(hi: number, lo: number): void {
  if (!(hi >= 0 && hi <= 0xffffffff && lo >= 0 && lo <= 0xffffffff && Number.isInteger(hi) && Number.isInteger(lo)))
    throw new SpdmError('ENCODE_ERROR', `sequence number halves ${hi}:${lo} outside 0..2^64-1`);
}

/** IV XOR the counter `hi`:`lo` into `nonce` (as long as the IV). */
function writeNonce(nonce: Uint8Array, iv: Uint8Array, hi: number, lo: number, order: NonceOrder): Uint8Array {
  requireHalves(hi, lo);
  nonce.set(iv);
  const len = nonce.length;
  for (let i = 0; i < 8; i++) {
    const byte = (i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff;
    const at = order === 'le' ? i : len - 1 - i;
    if (at >= 0 && at < len) nonce[at] = (nonce[at] as number) ^ byte;
  }
  return nonce;
}

/** IV XOR the counter `hi`:`lo` (see the module comment for the byte order), in a new array. */
export function recordNonceOf(iv: Uint8Array, hi: number, lo: number, order: NonceOrder = 'le'): Uint8Array {
  return writeNonce(new Uint8Array(iv.length), iv, hi, lo, order);
}

/**
 * The nonce of one seal or open, in a buffer reused by every record and zeroed after use: node's
 * createCipheriv copies the IV when called, and a fresh 12-byte Uint8Array lives in V8's heap,
 * which node:crypto would have V8 move out of it on every call (a measurable share of a record).
 */
const NONCE_SCRATCH = new Uint8Array(new ArrayBuffer(AEAD_NONCE_SIZE));

function scratchNonce(iv: Uint8Array, hi: number, lo: number, order: NonceOrder = 'le'): Uint8Array {
  return writeNonce(iv.length === AEAD_NONCE_SIZE ? NONCE_SCRATCH : new Uint8Array(iv.length), iv, hi, lo, order);
}

/** IV XOR the 64-bit counter (see the module comment for the byte order). */
export function recordNonce(iv: Uint8Array, sequence: bigint, order: NonceOrder = 'le'): Uint8Array {
  const { hi, lo } = sequenceHalves(sequence);
  return recordNonceOf(iv, hi, lo, order);
}

/** True when the record's wire sequence number (if any) is the low bytes of the counter `hi`:`lo`. */
export function sequenceMatchesHalves(rec: SecuredRecord, hi: number, lo: number, layout: RecordLayout): boolean {
  if (rec.sequenceNumber === undefined || layout.sequenceNumberSize === 0) return true;
  if (layout.sequenceNumberSize === 2) return rec.sequenceNumber === (lo & 0xffff);
  return rec.sequenceNumber === hi * 0x100000000 + lo;
}

/** True when the record's wire sequence number (if any) is the low bytes of `sequence`. */
export function sequenceMatches(rec: SecuredRecord, sequence: bigint, layout: RecordLayout): boolean {
  if (sequence < 0n || sequence > MAX_SEQUENCE) return false;
  const { hi, lo } = sequenceHalves(sequence);
  return sequenceMatchesHalves(rec, hi, lo, layout);
}

export interface RecordKeys {
  readonly aeadId: number;
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}

export interface RecordOptions {
  readonly layout: RecordLayout;
  readonly mode: SessionMode;
  readonly nonceOrder?: NonceOrder;
}

export interface OpenedRecord {
  readonly applicationData: Uint8Array;
  /** RandomData after the application data (encrypted records only). */
  readonly randomData: Uint8Array;
}

/**
 * Verifies and decrypts one record with the sender's keys and expected counter. Returns null when
 * the MAC does not verify (wrong key, wrong counter, tampering) or the wire sequence number is
 * not the counter's; throws DecodeError when an authentic plaintext is malformed
 * (ApplicationDataLength beyond the plaintext, random data beyond the transport's maximum).
 */
export function openSecuredRecord(
  rec: SecuredRecord,
  keys: RecordKeys,
  sequence: bigint,
  opts: RecordOptions,
): OpenedRecord | null {
  if (sequence < 0n || sequence > MAX_SEQUENCE) return null;
  const { hi, lo } = sequenceHalves(sequence);
  return openSecuredRecordAt(rec, keys, hi, lo, opts);
}

/** openSecuredRecord with the counter as its u32 halves (the per-record path: no BigInt). */
export function openSecuredRecordAt(
  rec: SecuredRecord,
  keys: RecordKeys,
  hi: number,
  lo: number,
  opts: RecordOptions,
): OpenedRecord | null {
  if (!sequenceMatchesHalves(rec, hi, lo, opts.layout)) return null;
  const nonce = scratchNonce(keys.iv, hi, lo, opts.nonceOrder);
  const inner = rec.body.subarray(0, rec.length - AEAD_TAG_SIZE);
  let plain: Uint8Array | null;
  try {
    if (opts.mode === 'mac-only') {
      const aad = rec.raw.subarray(0, rec.header.length + inner.length);
      const ok = aeadDecrypt(keys.aeadId, keys.key, nonce, EMPTY, aad, rec.mac);
      return ok === null ? null : { applicationData: inner, randomData: EMPTY };
    }
    plain = aeadDecrypt(keys.aeadId, keys.key, nonce, inner, rec.header, rec.mac);
  } finally {
    nonce.fill(0);
  }
  if (plain === null) return null;
  // Read without a Reader (once per record): the same fields, checks and errors.
  const at = rec.header.length;
  if (plain.length < 2)
    throw new DecodeError(NAME, 'ApplicationDataLength', 0, `needs 2 byte(s), ${plain.length} left`);
  const appLen = (plain[0] as number) | ((plain[1] as number) << 8);
  const remaining = plain.length - 2;
  if (appLen > remaining)
    throw new DecodeError(NAME, 'ApplicationDataLength', at, `${appLen} byte(s) announced, ${remaining} decrypted`);
  const randomLength = remaining - appLen;
  if (randomLength > opts.layout.maxRandomPadding) {
    throw new DecodeError(
      NAME,
      'RandomData',
      at + 2 + appLen,
      `${randomLength} byte(s) of random data, at most ${opts.layout.maxRandomPadding} over ${opts.layout.transport}`,
    );
  }
  return {
    applicationData: plain.subarray(2, 2 + appLen),
    randomData: randomLength === 0 ? EMPTY : plain.subarray(2 + appLen),
  };
}

export type SealOptions = RecordOptions & { readonly randomData?: Uint8Array };

/** Builds one record (the inverse of decodeSecuredRecord + openSecuredRecord). */
export function sealSecuredRecord(
  sessionId: number,
  applicationData: Uint8Array,
  keys: RecordKeys,
  sequence: bigint,
  opts: SealOptions,
): Uint8Array {
  const { hi, lo } = sequenceHalves(sequence);
  return sealSecuredRecordAt(sessionId, EMPTY, applicationData, keys, hi, lo, opts);
}

/**
 * sealSecuredRecord with the counter as its u32 halves and ApplicationData given as the binding's
 * inner header (`prefix`, see applicationDataPrefix) and the message after it, so neither is
 * copied into an ApplicationData of its own: the record is one buffer, every byte of it written
 * here (header, then ciphertext or clear data, then the MAC).
 */
export function sealSecuredRecordAt(
  sessionId: number,
  prefix: Uint8Array,
  message: Uint8Array,
  keys: RecordKeys,
  hi: number,
  lo: number,
  opts: SealOptions,
): Uint8Array {
  requireHalves(hi, lo);
  const encrypt = opts.mode === 'encrypt';
  const random = encrypt ? (opts.randomData ?? EMPTY) : EMPTY;
  if (random.length > opts.layout.maxRandomPadding) {
    throw new SpdmError(
      'ENCODE_ERROR',
      `${random.length} byte(s) of random data, at most ${opts.layout.maxRandomPadding} over ${opts.layout.transport}`,
    );
  }
  const appLength = prefix.length + message.length;
  const innerLength = encrypt ? 2 + appLength + random.length : appLength;
  const length = innerLength + AEAD_TAG_SIZE;
  if (length > 0xffff) throw new SpdmError('ENCODE_ERROR', `record of ${length} bytes does not fit the 16-bit Length`);
  const n = opts.layout.sequenceNumberSize;
  const headerLength = 6 + n;
  const recordLength = headerLength + length;
  const nonce = scratchNonce(keys.iv, hi, lo, opts.nonceOrder);
  if (encrypt && recordLength > SEAL_AFTER_MIN) {
    try {
      return sealLarge(sessionId, prefix, message, random, keys, nonce, hi, lo, n, length);
    } finally {
      nonce.fill(0);
    }
  }
  // Not zero-filled: every byte is written below, and the end offset is checked against the size.
  const out = uninitialised(recordLength);
  writeHeader(out, sessionId, n, hi, lo, length);
  let end: number;
  try {
    if (!encrypt) {
      // Authenticate-only: the clear ApplicationData follows the header, the MAC covers both.
      out.set(prefix, headerLength);
      out.set(message, headerLength + prefix.length);
      const clearEnd = headerLength + appLength;
      end = aeadSealInto(keys.aeadId, keys.key, nonce, out.subarray(0, clearEnd), [], out, clearEnd);
    } else {
      // The plaintext is assembled where its ciphertext goes and encrypted in one update(): each
      // update() is a crossing into C++ and a fresh output buffer, which costs more than copying
      // a message this small once (bench/sessions.bench.ts, records, 4 KiB).
      const at = headerLength;
      out[at] = appLength & 0xff;
      out[at + 1] = appLength >>> 8;
      if (prefix.length > 0) out.set(prefix, at + 2);
      out.set(message, at + 2 + prefix.length);
      if (random.length > 0) out.set(random, at + 2 + appLength);
      const plain = out.subarray(at, at + innerLength);
      end = aeadSealInto(keys.aeadId, keys.key, nonce, out.subarray(0, headerLength), [plain], out, at);
    }
  } catch (e) {
    // The plaintext was assembled in place: leave none of it behind (a small record's slab is shared).
    out.fill(0);
    throw e;
  } finally {
    nonce.fill(0);
  }
  if (end !== out.length) {
    out.fill(0);
    throw new SpdmError('ENCODE_ERROR', `sealed record is ${end} of ${out.length} bytes`);
  }
  return out;
}

/**
 * Records longer than this are encrypted part by part (ApplicationDataLength and the binding's
 * header, the message, the random data: one update() each, the message not copied first) into
 * a buffer allocated after the cipher has run (see aeadSealAfter). At the largest record (65,528
 * B over DOE) that took the seal from about 60 to 44 µs of CPU (raw AEAD of the same plaintext:
 * 33); from 8 to 64 KiB the two paths are within the noise of each other (the extra update()
 * against the message's copy), so the cut is where the records of the largest messages begin.
 */
const SEAL_AFTER_MIN = 32 * 1024;

/** SessionID || SequenceNumber || Length at the start of `out`. */
function writeHeader(out: Uint8Array, sessionId: number, n: number, hi: number, lo: number, length: number): void {
  const id = sessionId >>> 0;
  out[0] = id & 0xff;
  out[1] = (id >>> 8) & 0xff;
  out[2] = (id >>> 16) & 0xff;
  out[3] = id >>> 24;
  // The wire sequence number: the counter's low N bytes, little-endian.
  for (let i = 0; i < n; i++) out[4 + i] = (i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff;
  out[4 + n] = length & 0xff;
  out[5 + n] = length >>> 8;
}

/**
 * The header (the AAD) and the plaintext's first bytes (ApplicationDataLength and the binding's
 * header, at most 2 + 4) of a large seal, reused: off V8's heap like NONCE_SCRATCH, and the
 * plaintext bytes zeroed after use.
 */
const HEADER_SCRATCH = new Uint8Array(new ArrayBuffer(6 + 8));
const HEAD_SCRATCH = new Uint8Array(new ArrayBuffer(2 + 4));

/** An encrypted record above SEAL_AFTER_MIN bytes (see there); `length` is its Length field. */
function sealLarge(
  sessionId: number,
  prefix: Uint8Array,
  message: Uint8Array,
  random: Uint8Array,
  keys: RecordKeys,
  nonce: Uint8Array,
  hi: number,
  lo: number,
  n: number,
  length: number,
): Uint8Array {
  if (prefix.length > HEAD_SCRATCH.length - 2)
    throw new SpdmError('ENCODE_ERROR', `${prefix.length}-byte ApplicationData header (at most 4)`);
  const headerLength = 6 + n;
  const header = HEADER_SCRATCH.subarray(0, headerLength);
  writeHeader(header, sessionId, n, hi, lo, length);
  const appLength = prefix.length + message.length;
  const head = HEAD_SCRATCH.subarray(0, 2 + prefix.length);
  head[0] = appLength & 0xff;
  head[1] = appLength >>> 8;
  head.set(prefix, 2);
  try {
    const parts = random.length > 0 ? [head, message, random] : [head, message];
    const out = aeadSealAfter(keys.aeadId, keys.key, nonce, header, parts, headerLength, uninitialised);
    out.set(header, 0);
    return out;
  } finally {
    head.fill(0);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Records up to this many bytes are cut from a shared slab, as Buffer.allocUnsafe does below 4 KiB:
 * a buffer of its own costs a backing store, its bookkeeping and the GC's sweep of it, about a
 * microsecond per record (as much as the rest of the record layer's own work on a 4 KiB message).
 * A slab holds only records as they go on the wire (ciphertext, or clear data of a MAC-only
 * session) and zeros, and a record kept for long keeps at most one slab alive.
 */
const SLAB_RECORD_MAX = 8192 + 64;
const SLAB_SIZE = 64 * 1024;
let slab: ArrayBuffer | undefined;
let slabAt = 0;

/** A Uint8Array of `size` bytes that is not zero-filled first (the caller writes all of it). */
function uninitialised(size: number): Uint8Array {
  if (size > SLAB_RECORD_MAX) {
    const b = Buffer.allocUnsafeSlow(size);
    return new Uint8Array(b.buffer, b.byteOffset, size);
  }
  if (slab === undefined || slabAt + size > SLAB_SIZE) {
    // Zero-filled, unlike Buffer.allocUnsafe's pool: a record's .buffer reaches the whole slab, and
    // it must show nothing of the process's old memory (once per 64 KiB, not per record).
    slab = new ArrayBuffer(SLAB_SIZE);
    slabAt = 0;
  }
  const out = new Uint8Array(slab, slabAt, size);
  slabAt = (slabAt + size + 7) & ~7;
  return out;
}

// ---------------------------------------------------------------------------------------------
// What ApplicationData carries, per transport

const MCTP_TYPE_SPDM = 0x05;
const TCP_TYPE_SPDM = 0x05;
const TCP_BINDING_VERSION = 0x01;

export interface InnerMessage {
  /** The transport's inner header, decoded (empty for DOE). */
  readonly header: Readonly<Record<string, number>>;
  /** True when the payload is an SPDM message (MCTP may carry other message types in a session). */
  readonly isSpdm: boolean;
  readonly payload: Uint8Array;
}

const INNER = 'secured message ApplicationData';
/** DOE's inner header: none (one frozen object, not one per record). */
const NO_HEADER: Readonly<Record<string, number>> = Object.freeze({});

/** The SPDM message (or other application message) inside ApplicationData. */
export function unwrapApplicationData(transport: SecuredTransport, applicationData: Uint8Array): InnerMessage {
  if (transport === 'doe') return { header: NO_HEADER, isSpdm: true, payload: applicationData };
  const r = new Reader(applicationData, INNER);
  switch (transport) {
    case 'mctp': {
      const t = r.u8('MCTPMessageType');
      if (t & 0x80) r.fail('MCTPMessageType', 'integrity check bit set', 0);
      return { header: { mctpMessageType: t }, isSpdm: t === MCTP_TYPE_SPDM, payload: r.rest() };
    }
    case 'tcp': {
      const len = r.u16('PayloadLength');
      const bindingVersion = r.u8('BindingVersion');
      if (bindingVersion !== TCP_BINDING_VERSION)
        r.fail('BindingVersion', `unsupported binding version ${bindingVersion}`, 2);
      const messageType = r.u8('MessageType');
      if (len !== r.remaining + 2) r.fail('PayloadLength', `${len}, the application data holds ${r.remaining + 2}`, 0);
      return {
        header: { payloadLength: len, bindingVersion, messageType },
        isSpdm: messageType === TCP_TYPE_SPDM,
        payload: r.rest(),
      };
    }
  }
}

/**
 * The binding's header of ApplicationData for an application message other than SPDM: the MCTP
 * message type byte (bit 7, the integrity check bit, clear) over MCTP, the DSP0287 header with
 * that message type over TCP. PCIe DOE's secured CMA-SPDM data objects carry SPDM messages only
 * (other protocols ride in VENDOR_DEFINED_REQUEST), so there is none over DOE.
 */
export function applicationMessagePrefix(
  transport: SecuredTransport,
  messageType: number,
  payloadLength: number,
): Uint8Array {
  if (!Number.isInteger(messageType) || messageType < 0 || messageType > 0xff)
    throw new TypeError(`application message type must be a u8, got ${messageType}`);
  switch (transport) {
    case 'doe':
      throw new SpdmError(
        'UNSUPPORTED',
        'PCIe DOE carries only SPDM messages in a session (send other protocols as VENDOR_DEFINED_REQUEST)',
      );
    case 'mctp':
      if (messageType & 0x80) throw new TypeError('MCTP message type with the integrity check bit set');
      return Uint8Array.of(messageType);
    case 'tcp':
      if (payloadLength + 2 > 0xffff) throw new SpdmError('ENCODE_ERROR', 'TCP binding payload too large');
      return tcpHeader(payloadLength, messageType);
  }
}

function tcpHeader(payloadLength: number, messageType: number): Uint8Array {
  const len = payloadLength + 2;
  return Uint8Array.of(len & 0xff, len >>> 8, TCP_BINDING_VERSION, messageType);
}

const DOE_SPDM_PREFIX = new Uint8Array(0);
const MCTP_SPDM_PREFIX = Uint8Array.of(MCTP_TYPE_SPDM);

/** The binding's header of ApplicationData for an SPDM message of `spdmLength` bytes (empty over DOE). */
export function spdmApplicationDataPrefix(transport: SecuredTransport, spdmLength: number): Uint8Array {
  switch (transport) {
    case 'doe':
      return DOE_SPDM_PREFIX;
    case 'mctp':
      return MCTP_SPDM_PREFIX;
    case 'tcp':
      if (spdmLength + 2 > 0xffff) throw new SpdmError('ENCODE_ERROR', 'SPDM-over-TCP payload too large');
      return tcpHeader(spdmLength, TCP_TYPE_SPDM);
  }
}

function joined(prefix: Uint8Array, payload: Uint8Array): Uint8Array {
  if (prefix.length === 0) return payload;
  return new Writer(prefix.length + payload.length).bytes(prefix).bytes(payload).finish();
}

/** ApplicationData for an application message other than SPDM (see applicationMessagePrefix). */
export function wrapApplicationMessage(
  transport: SecuredTransport,
  messageType: number,
  payload: Uint8Array,
): Uint8Array {
  return joined(applicationMessagePrefix(transport, messageType, payload.length), payload);
}

/** ApplicationData for an SPDM message sent in a session over `transport`. */
export function wrapApplicationData(transport: SecuredTransport, spdm: Uint8Array): Uint8Array {
  return joined(spdmApplicationDataPrefix(transport, spdm.length), spdm);
}
