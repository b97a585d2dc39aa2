/** CHALLENGE / CHALLENGE_AUTH. */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';

export const MeasurementSummaryHashType = { NONE: 0x00, TCB: 0x01, ALL: 0xff } as const;

export const NONCE_SIZE = 32;
export const REQUESTER_CONTEXT_SIZE = 8;
export const MAX_OPAQUE_LENGTH = 1024;

export interface ChallengeRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly slot: number;
  readonly measurementSummaryHashType: number;
  readonly nonce: Uint8Array;
  /** 1.3+ */
  readonly requesterContext?: Uint8Array;
}

export interface ChallengeAuthResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1 bits 3:0 (0xF means the provisioned public key, slot 0xFF). */
  readonly slot: number;
  /**
   * Param1 bit 7, BasicMutAuthReq (1.1+; deprecated in 1.2 but libspdm still sets it in 1.2-1.4
   * when it starts basic mutual authentication, and the bit is part of the signed bytes).
   */
  readonly basicMutAuthRequested: boolean;
  readonly slotMask: number;
  readonly certChainHash: Uint8Array;
  readonly nonce: Uint8Array;
  readonly measurementSummaryHash?: Uint8Array;
  readonly opaqueData: Uint8Array;
  readonly requesterContext?: Uint8Array;
  readonly signature: Uint8Array;
  /** The response without its Signature field: what enters transcript C. */
  readonly unsigned: Uint8Array;
}

export interface ChallengeAuthDecodeContext {
  readonly hashSize: number;
  readonly signatureSize: number;
  /** Whether the CHALLENGE asked for a measurement summary hash (Param2 != 0). */
  readonly measurementSummaryHashRequested: boolean;
}

export function encodeChallenge(
  version: number,
  m: { slot: number; measurementSummaryHashType: number; nonce: Uint8Array; requesterContext?: Uint8Array },
): Uint8Array {
  const w = new Writer(44);
  writeHeader(w, version, RequestCode.CHALLENGE, m.slot, m.measurementSummaryHashType);
  w.bytes(m.nonce);
  if (version >= 0x13) w.bytes(m.requesterContext ?? new Uint8Array(REQUESTER_CONTEXT_SIZE));
  return w.finish();
}

export function decodeChallenge(bytes: Uint8Array): ChallengeRequest {
  const r = new Reader(bytes, 'CHALLENGE');
  const h = readHeader(r, RequestCode.CHALLENGE);
  if (h.param1 > 7 && h.param1 !== 0xff) r.fail('Param1', `SlotID ${h.param1} invalid`, 2);
  if (h.param2 !== 0 && h.param2 !== 1 && h.param2 !== 0xff)
    r.fail('Param2', `MeasurementSummaryHashType 0x${h.param2.toString(16)} invalid`, 3);
  const nonce = r.bytes(NONCE_SIZE, 'Nonce');
  const requesterContext = h.version >= 0x13 ? r.bytes(REQUESTER_CONTEXT_SIZE, 'RequesterContext') : undefined;
  return {
    raw: r.consumed(),
    version: h.version,
    slot: h.param1,
    measurementSummaryHashType: h.param2,
    nonce,
    ...(requesterContext ? { requesterContext } : {}),
  };
}

export function encodeChallengeAuth(
  version: number,
  m: {
    slot: number;
    basicMutAuthRequested?: boolean;
    slotMask: number;
    certChainHash: Uint8Array;
    nonce: Uint8Array;
    measurementSummaryHash?: Uint8Array;
    opaqueData?: Uint8Array;
    requesterContext?: Uint8Array;
  },
  signature: Uint8Array,
): { message: Uint8Array; unsigned: Uint8Array } {
  const opaque = m.opaqueData ?? new Uint8Array(0);
  const w = new Writer(128 + opaque.length + signature.length);
  const p1 = (m.slot === 0xff ? 0x0f : m.slot & 0x0f) | (version >= 0x11 && m.basicMutAuthRequested ? 0x80 : 0);
  writeHeader(w, version, ResponseCode.CHALLENGE_AUTH, p1, m.slotMask);
  w.bytes(m.certChainHash).bytes(m.nonce);
  if (m.measurementSummaryHash) w.bytes(m.measurementSummaryHash);
  w.u16(opaque.length).bytes(opaque);
  if (version >= 0x13) w.bytes(m.requesterContext ?? new Uint8Array(REQUESTER_CONTEXT_SIZE));
  const unsignedLen = w.length;
  w.bytes(signature);
  const message = w.finish();
  return { message, unsigned: message.subarray(0, unsignedLen) };
}

export function decodeChallengeAuth(bytes: Uint8Array, ctx: ChallengeAuthDecodeContext): ChallengeAuthResponse {
  const r = new Reader(bytes, 'CHALLENGE_AUTH');
  const h = readHeader(r, ResponseCode.CHALLENGE_AUTH);
  const certChainHash = r.bytes(ctx.hashSize, 'CertChainHash');
  const nonce = r.bytes(NONCE_SIZE, 'Nonce');
  const measurementSummaryHash = ctx.measurementSummaryHashRequested
    ? r.bytes(ctx.hashSize, 'MeasurementSummaryHash')
    : undefined;
  const opaqueLength = r.u16('OpaqueDataLength');
  if (opaqueLength > MAX_OPAQUE_LENGTH)
    r.fail('OpaqueDataLength', `${opaqueLength} exceeds ${MAX_OPAQUE_LENGTH}`, r.offset - 2);
  const opaqueData = r.bytes(opaqueLength, 'OpaqueData');
  const requesterContext = h.version >= 0x13 ? r.bytes(REQUESTER_CONTEXT_SIZE, 'RequesterContext') : undefined;
  const unsignedEnd = r.offset;
  const signature = r.bytes(ctx.signatureSize, 'Signature');
  return {
    raw: r.consumed(),
    version: h.version,
    // ResponseAttributes bits 3:0 name the slot; 0xF is the provisioned public key, slot 0xFF.
    slot: h.version === 0x10 ? h.param1 : (h.param1 & 0x0f) === 0x0f ? 0xff : h.param1 & 0x0f,
    basicMutAuthRequested: h.version >= 0x11 && (h.param1 & 0x80) !== 0,
    slotMask: h.param2,
    certChainHash,
    nonce,
    ...(measurementSummaryHash ? { measurementSummaryHash } : {}),
    opaqueData,
    ...(requesterContext ? { requesterContext } : {}),
    signature,
    unsigned: bytes.subarray(0, unsignedEnd),
  };
}
