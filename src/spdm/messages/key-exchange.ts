/**
 * KEY_EXCHANGE / KEY_EXCHANGE_RSP (1.1+).
 *
 * Sizes from the negotiation: ExchangeData (DHE group of ALGORITHMS AlgStruct 2, or with a 1.4
 * ML-KEM selection the encapsulation key in the request and the ciphertext in the response), the
 * hash size H, the responder's signature size S. The response carries a MeasurementSummaryHash
 * only when the request's Param1 asked for one (and the responder has MEAS_CAP), and a
 * ResponderVerifyData only when HANDSHAKE_IN_THE_CLEAR was *not* negotiated by both sides.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince, readOpaque, writeOpaque } from './common.js';

export const RANDOM_DATA_SIZE = 32;

export const SessionPolicy = { TERMINATION_POLICY_RUNTIME_UPDATE: 0x01, EVENT_ALL_POLICY: 0x02 } as const;
export const MutAuthRequested = { REQUESTED: 0x01, WITH_ENCAP_REQUEST: 0x02, WITH_GET_DIGESTS: 0x04 } as const;

export interface KeyExchangeRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1: 0 none, 1 TCB components, 0xFF all. */
  readonly measurementSummaryHashType: number;
  /** Param2: 0-7, or 0xFF for a provisioned public key. */
  readonly slot: number;
  readonly reqSessionId: number;
  /** 1.2+ (reserved, decoded as 0, in 1.1). */
  readonly sessionPolicy: number;
  readonly randomData: Uint8Array;
  readonly exchangeData: Uint8Array;
  readonly opaqueData: Uint8Array;
}

export interface KeyExchangeDecodeContext {
  /** Requester ExchangeData size: DHE D, or the 1.4 ML-KEM encapsulation key size. */
  readonly exchangeDataSize: number;
}

export interface KeyExchangeResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1, seconds (0 = no heartbeat). */
  readonly heartbeatPeriod: number;
  readonly rspSessionId: number;
  /** MutAuthRequested bits (MutAuthRequested.*). */
  readonly mutAuthRequested: number;
  /** ReqSlotIDParam byte (bits 3:0 = the slot the requester signs FINISH with). */
  readonly reqSlotIdParam: number;
  readonly randomData: Uint8Array;
  readonly exchangeData: Uint8Array;
  readonly measurementSummaryHash?: Uint8Array;
  readonly opaqueData: Uint8Array;
  readonly signature: Uint8Array;
  /** Absent when HANDSHAKE_IN_THE_CLEAR is negotiated. */
  readonly responderVerifyData?: Uint8Array;
  /** The response up to (not including) Signature: the last part of TH before signing. */
  readonly unsigned: Uint8Array;
}

export interface KeyExchangeResponseDecodeContext {
  readonly hashSize: number;
  /** Responder signature size (BaseAsymAlgo, or the 1.4 PQC selection). */
  readonly signatureSize: number;
  /** Responder ExchangeData size: DHE D, or the 1.4 ML-KEM ciphertext size. */
  readonly exchangeDataSize: number;
  /** KEY_EXCHANGE Param1 != 0 and the responder has MEAS_CAP. */
  readonly measurementSummaryHashPresent: boolean;
  /** HANDSHAKE_IN_THE_CLEAR_CAP set by both sides: no ResponderVerifyData. */
  readonly handshakeInTheClear: boolean;
}

function checkSummaryType(r: Reader, t: number): void {
  if (t !== 0 && t !== 1 && t !== 0xff) r.fail('Param1', `MeasurementSummaryHashType 0x${t.toString(16)} invalid`, 2);
}

export function encodeKeyExchange(
  version: number,
  m: {
    measurementSummaryHashType: number;
    slot: number;
    reqSessionId: number;
    sessionPolicy?: number;
    randomData: Uint8Array;
    exchangeData: Uint8Array;
    opaqueData?: Uint8Array;
  },
): Uint8Array {
  const w = new Writer(48 + m.exchangeData.length + (m.opaqueData?.length ?? 0));
  writeHeader(w, version, RequestCode.KEY_EXCHANGE, m.measurementSummaryHashType, m.slot);
  w.u16(m.reqSessionId)
    .u8(version >= 0x12 ? (m.sessionPolicy ?? 0) : 0)
    .u8(0);
  w.bytes(m.randomData).bytes(m.exchangeData);
  writeOpaque(w, m.opaqueData);
  return w.finish();
}

export function decodeKeyExchange(bytes: Uint8Array, ctx: KeyExchangeDecodeContext): KeyExchangeRequest {
  const r = new Reader(bytes, 'KEY_EXCHANGE');
  const h = readHeaderSince(r, RequestCode.KEY_EXCHANGE, 0x11);
  checkSummaryType(r, h.param1);
  if (h.param2 > 7 && h.param2 !== 0xff) r.fail('Param2', `SlotID ${h.param2} invalid`, 3);
  const reqSessionId = r.u16('ReqSessionID');
  const sessionPolicy = r.u8('SessionPolicy');
  r.skip(1, 'Reserved');
  const randomData = r.bytes(RANDOM_DATA_SIZE, 'RandomData');
  const exchangeData = r.bytes(ctx.exchangeDataSize, 'ExchangeData');
  const opaqueData = readOpaque(r);
  return {
    raw: r.consumed(),
    version: h.version,
    measurementSummaryHashType: h.param1,
    slot: h.param2,
    reqSessionId,
    sessionPolicy: h.version >= 0x12 ? sessionPolicy : 0,
    randomData,
    exchangeData,
    opaqueData,
  };
}

export function encodeKeyExchangeRsp(
  version: number,
  m: {
    heartbeatPeriod: number;
    rspSessionId: number;
    mutAuthRequested: number;
    reqSlotIdParam: number;
    randomData: Uint8Array;
    exchangeData: Uint8Array;
    measurementSummaryHash?: Uint8Array;
    opaqueData?: Uint8Array;
    signature: Uint8Array;
    responderVerifyData?: Uint8Array;
  },
): Uint8Array {
  const w = new Writer(256 + m.exchangeData.length + m.signature.length);
  writeHeader(w, version, ResponseCode.KEY_EXCHANGE_RSP, m.heartbeatPeriod, 0);
  w.u16(m.rspSessionId).u8(m.mutAuthRequested).u8(m.reqSlotIdParam);
  w.bytes(m.randomData).bytes(m.exchangeData);
  if (m.measurementSummaryHash) w.bytes(m.measurementSummaryHash);
  writeOpaque(w, m.opaqueData);
  w.bytes(m.signature);
  if (m.responderVerifyData) w.bytes(m.responderVerifyData);
  return w.finish();
}

/**
 * The whole KEY_EXCHANGE_RSP from its encoding up to the Signature (encodeKeyExchangeRsp with an
 * empty signature and no ResponderVerifyData): the two trail every other field, so a responder
 * that signs the start and then computes the verify data over start ‖ Signature encodes once.
 */
export function completeKeyExchangeRsp(
  unsigned: Uint8Array,
  signature: Uint8Array,
  responderVerifyData?: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(unsigned.length + signature.length + (responderVerifyData?.length ?? 0));
  out.set(unsigned);
  out.set(signature, unsigned.length);
  if (responderVerifyData) out.set(responderVerifyData, unsigned.length + signature.length);
  return out;
}

export function decodeKeyExchangeRsp(bytes: Uint8Array, ctx: KeyExchangeResponseDecodeContext): KeyExchangeResponse {
  const r = new Reader(bytes, 'KEY_EXCHANGE_RSP');
  const h = readHeaderSince(r, ResponseCode.KEY_EXCHANGE_RSP, 0x11);
  const rspSessionId = r.u16('RspSessionID');
  const mutAuthRequested = r.u8('MutAuthRequested');
  const reqSlotIdParam = r.u8('ReqSlotIDParam');
  const randomData = r.bytes(RANDOM_DATA_SIZE, 'RandomData');
  const exchangeData = r.bytes(ctx.exchangeDataSize, 'ExchangeData');
  const measurementSummaryHash = ctx.measurementSummaryHashPresent
    ? r.bytes(ctx.hashSize, 'MeasurementSummaryHash')
    : undefined;
  const opaqueData = readOpaque(r);
  const unsignedEnd = r.offset;
  const signature = r.bytes(ctx.signatureSize, 'Signature');
  const responderVerifyData = ctx.handshakeInTheClear ? undefined : r.bytes(ctx.hashSize, 'ResponderVerifyData');
  return {
    raw: r.consumed(),
    version: h.version,
    heartbeatPeriod: h.param1,
    rspSessionId,
    mutAuthRequested,
    reqSlotIdParam,
    randomData,
    exchangeData,
    ...(measurementSummaryHash ? { measurementSummaryHash } : {}),
    opaqueData,
    signature,
    ...(responderVerifyData ? { responderVerifyData } : {}),
    unsigned: bytes.subarray(0, unsignedEnd),
  };
}
