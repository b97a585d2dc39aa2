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
 */
import { DecodeError, SpdmError } from '../wire/errors.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { AEAD_TAG_SIZE, aeadDecrypt, aeadEncrypt } from '../crypto/aead.js';

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
  const r = new Reader(bytes, NAME);
  const sessionId = r.u32('SessionID');
  let sequenceNumber: number | undefined;
  if (layout.sequenceNumberSize === 2) sequenceNumber = r.u16('SequenceNumber');
  else if (layout.sequenceNumberSize === 8) {
    const lo = r.u32('SequenceNumber');
    const hi = r.u32('SequenceNumber');
    sequenceNumber = hi * 0x100000000 + lo;
  }
  const lengthAt = r.offset;
  const length = r.u16('Length');
  const headerEnd = r.offset;
  if (length < AEAD_TAG_SIZE) r.fail('Length', `${length} is shorter than the ${AEAD_TAG_SIZE}-byte MAC`, lengthAt);
  if (length > r.remaining) r.fail('Length', `${length} byte(s) announced, ${r.remaining} present`, lengthAt);
  const body = r.bytes(length, 'Body');
  const trailing = r.rest();
  if (trailing.length > layout.maxTrailing) {
    throw new DecodeError(
      NAME,
      'trailing',
      headerEnd + length,
      `${trailing.length} byte(s) after the record (at most ${layout.maxTrailing} over ${layout.transport})`,
    );
  }
  const nz = trailing.findIndex((b) => b !== 0);
  if (nz >= 0) throw new DecodeError(NAME, 'trailing', headerEnd + length + nz, 'non-zero padding after the record');
  return {
    sessionId,
    reqSessionId: sessionId & 0xffff,
    rspSessionId: sessionId >>> 16,
    ...(sequenceNumber !== undefined ? { sequenceNumber } : {}),
    length,
    header: bytes.subarray(0, headerEnd),
    body,
    mac: body.subarray(length - AEAD_TAG_SIZE),
    trailing,
    raw: bytes.subarray(0, headerEnd + length),
  };
}

/** IV XOR the 64-bit counter (see the module comment for the byte order). */
export function recordNonce(iv: Uint8Array, sequence: bigint, order: NonceOrder = 'le'): Uint8Array {
  if (sequence < 0n || sequence > MAX_SEQUENCE)
    throw new SpdmError('ENCODE_ERROR', `sequence number ${sequence} outside 0..2^64-1`);
  const nonce = Uint8Array.from(iv);
  for (let i = 0; i < 8; i++) {
    const byte = Number((sequence >> BigInt(8 * i)) & 0xffn);
    const at = order === 'le' ? i : nonce.length - 1 - i;
    if (at >= 0 && at < nonce.length) nonce[at] = (nonce[at] as number) ^ byte;
  }
  return nonce;
}

/** True when the record's wire sequence number (if any) is the low bytes of `sequence`. */
export function sequenceMatches(rec: SecuredRecord, sequence: bigint, layout: RecordLayout): boolean {
  if (rec.sequenceNumber === undefined || layout.sequenceNumberSize === 0) return true;
  const mask = layout.sequenceNumberSize === 8 ? MAX_SEQUENCE : (1n << BigInt(8 * layout.sequenceNumberSize)) - 1n;
  return BigInt(rec.sequenceNumber) === (sequence & mask);
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
  if (!sequenceMatches(rec, sequence, opts.layout)) return null;
  const nonce = recordNonce(keys.iv, sequence, opts.nonceOrder);
  const inner = rec.body.subarray(0, rec.length - AEAD_TAG_SIZE);
  if (opts.mode === 'mac-only') {
    const aad = rec.raw.subarray(0, rec.header.length + inner.length);
    const ok = aeadDecrypt(keys.aeadId, keys.key, nonce, new Uint8Array(0), aad, rec.mac);
    return ok === null ? null : { applicationData: inner, randomData: new Uint8Array(0) };
  }
  const plain = aeadDecrypt(keys.aeadId, keys.key, nonce, inner, rec.header, rec.mac);
  if (plain === null) return null;
  const at = rec.header.length;
  const r = new Reader(plain, NAME);
  const appLen = r.u16('ApplicationDataLength');
  if (appLen > r.remaining)
    throw new DecodeError(NAME, 'ApplicationDataLength', at, `${appLen} byte(s) announced, ${r.remaining} decrypted`);
  const applicationData = r.bytes(appLen, 'ApplicationData');
  const randomData = r.rest();
  if (randomData.length > opts.layout.maxRandomPadding) {
    throw new DecodeError(
      NAME,
      'RandomData',
      at + 2 + appLen,
      `${randomData.length} byte(s) of random data, at most ${opts.layout.maxRandomPadding} over ${opts.layout.transport}`,
    );
  }
  return { applicationData, randomData };
}

/** Builds one record (the inverse of decodeSecuredRecord + openSecuredRecord). */
export function sealSecuredRecord(
  sessionId: number,
  applicationData: Uint8Array,
  keys: RecordKeys,
  sequence: bigint,
  opts: RecordOptions & { readonly randomData?: Uint8Array },
): Uint8Array {
  const random = opts.mode === 'encrypt' ? (opts.randomData ?? new Uint8Array(0)) : new Uint8Array(0);
  if (random.length > opts.layout.maxRandomPadding) {
    throw new SpdmError(
      'ENCODE_ERROR',
      `${random.length} byte(s) of random data, at most ${opts.layout.maxRandomPadding} over ${opts.layout.transport}`,
    );
  }
  const innerLength = opts.mode === 'encrypt' ? 2 + applicationData.length + random.length : applicationData.length;
  const length = innerLength + AEAD_TAG_SIZE;
  if (length > 0xffff) throw new SpdmError('ENCODE_ERROR', `record of ${length} bytes does not fit the 16-bit Length`);
  const w = new Writer(6 + opts.layout.sequenceNumberSize + length);
  w.u32(sessionId >>> 0);
  const n = opts.layout.sequenceNumberSize;
  for (let i = 0; i < n; i++) w.u8(Number((sequence >> BigInt(8 * i)) & 0xffn));
  w.u16(length);
  const header = w.finish().slice();
  const nonce = recordNonce(keys.iv, sequence, opts.nonceOrder);
  if (opts.mode === 'mac-only') {
    const aad = new Writer(header.length + applicationData.length).bytes(header).bytes(applicationData).finish();
    const { tag } = aeadEncrypt(keys.aeadId, keys.key, nonce, new Uint8Array(0), aad);
    return new Writer(aad.length + tag.length).bytes(aad).bytes(tag).finish();
  }
  const plain = new Writer(innerLength).u16(applicationData.length).bytes(applicationData).bytes(random).finish();
  const { ciphertext, tag } = aeadEncrypt(keys.aeadId, keys.key, nonce, plain, header);
  return new Writer(header.length + length).bytes(header).bytes(ciphertext).bytes(tag).finish();
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

/** The SPDM message (or other application message) inside ApplicationData. */
export function unwrapApplicationData(transport: SecuredTransport, applicationData: Uint8Array): InnerMessage {
  const r = new Reader(applicationData, INNER);
  switch (transport) {
    case 'doe':
      return { header: {}, isSpdm: true, payload: applicationData };
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
 * ApplicationData for an application message other than SPDM: after the MCTP message type byte
 * (bit 7, the integrity check bit, clear) over MCTP, after the DSP0287 header with that message
 * type over TCP. PCIe DOE's secured CMA-SPDM data objects carry SPDM messages only (other
 * protocols ride in VENDOR_DEFINED_REQUEST), so there is none over DOE.
 */
export function wrapApplicationMessage(
  transport: SecuredTransport,
  messageType: number,
  payload: Uint8Array,
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
      return new Writer(1 + payload.length).u8(messageType).bytes(payload).finish();
    case 'tcp':
      if (payload.length + 2 > 0xffff) throw new SpdmError('ENCODE_ERROR', 'TCP binding payload too large');
      return new Writer(4 + payload.length)
        .u16(payload.length + 2)
        .u8(TCP_BINDING_VERSION)
        .u8(messageType)
        .bytes(payload)
        .finish();
  }
}

/** ApplicationData for an SPDM message sent in a session over `transport`. */
export function wrapApplicationData(transport: SecuredTransport, spdm: Uint8Array): Uint8Array {
  switch (transport) {
    case 'doe':
      return spdm;
    case 'mctp':
      return new Writer(1 + spdm.length).u8(MCTP_TYPE_SPDM).bytes(spdm).finish();
    case 'tcp':
      if (spdm.length + 2 > 0xffff) throw new SpdmError('ENCODE_ERROR', 'SPDM-over-TCP payload too large');
      return new Writer(4 + spdm.length)
        .u16(spdm.length + 2)
        .u8(TCP_BINDING_VERSION)
        .u8(TCP_TYPE_SPDM)
        .bytes(spdm)
        .finish();
  }
}
