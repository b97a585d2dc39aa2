/**
 * PSK_EXCHANGE / PSK_EXCHANGE_RSP / PSK_FINISH / PSK_FINISH_RSP (1.1+).
 *
 * PSK_EXCHANGE is self-describing (PSKHint, RequesterContext and OpaqueData lengths are in the
 * message); PSK_EXCHANGE_RSP states its ResponderContext and OpaqueData lengths but needs the hash
 * size H (ResponderVerifyData, always present) and whether a MeasurementSummaryHash is there
 * (PSK_EXCHANGE Param1 != 0 and the responder has MEAS_CAP). PSK_FINISH / PSK_FINISH_RSP gain
 * OpaqueDataLength + OpaqueData in 1.4.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince, readOpaque, writeOpaque } from './common.js';
import { MAX_OPAQUE_LENGTH } from './challenge.js';

/**
 * Longest PSKHint this library sends or accepts. libspdm's LIBSPDM_PSK_MAX_HINT_LENGTH was 16
 * when its responder's length check was fixed (libspdm PR 1844); the pinned spdm-emu build
 * allows 32, and its sample hint is 12 bytes.
 */
export const MAX_PSK_HINT_SIZE = 16;

export interface PskExchangeRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1: 0 none, 1 TCB components, 0xFF all. */
  readonly measurementSummaryHashType: number;
  /** Param2 in 1.2+ (reserved, decoded as 0, in 1.1). */
  readonly sessionPolicy: number;
  readonly reqSessionId: number;
  readonly pskHint: Uint8Array;
  readonly requesterContext: Uint8Array;
  readonly opaqueData: Uint8Array;
}

export interface PskExchangeResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1, seconds. */
  readonly heartbeatPeriod: number;
  readonly rspSessionId: number;
  readonly measurementSummaryHash?: Uint8Array;
  /** Empty when the responder's PSK_CAP is 01 (no context): no PSK_FINISH follows. */
  readonly responderContext: Uint8Array;
  readonly opaqueData: Uint8Array;
  readonly responderVerifyData: Uint8Array;
}

export interface PskExchangeResponseDecodeContext {
  readonly hashSize: number;
  /** PSK_EXCHANGE Param1 != 0 and the responder has MEAS_CAP. */
  readonly measurementSummaryHashPresent: boolean;
}

export interface PskFinishRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  /** 1.4 only (empty before). */
  readonly opaqueData: Uint8Array;
  readonly requesterVerifyData: Uint8Array;
}

export interface PskFinishResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** 1.4 only (empty before). */
  readonly opaqueData: Uint8Array;
}

export function encodePskExchange(
  version: number,
  m: {
    measurementSummaryHashType: number;
    sessionPolicy?: number;
    reqSessionId: number;
    pskHint: Uint8Array;
    requesterContext: Uint8Array;
    opaqueData?: Uint8Array;
  },
): Uint8Array {
  const opaque = m.opaqueData ?? new Uint8Array(0);
  const w = new Writer(12 + m.pskHint.length + m.requesterContext.length + opaque.length);
  writeHeader(
    w,
    version,
    RequestCode.PSK_EXCHANGE,
    m.measurementSummaryHashType,
    version >= 0x12 ? (m.sessionPolicy ?? 0) : 0,
  );
  w.u16(m.reqSessionId).u16(m.pskHint.length).u16(m.requesterContext.length).u16(opaque.length);
  w.bytes(m.pskHint).bytes(m.requesterContext).bytes(opaque);
  return w.finish();
}

export function decodePskExchange(bytes: Uint8Array): PskExchangeRequest {
  const r = new Reader(bytes, 'PSK_EXCHANGE');
  const h = readHeaderSince(r, RequestCode.PSK_EXCHANGE, 0x11);
  if (h.param1 !== 0 && h.param1 !== 1 && h.param1 !== 0xff)
    r.fail('Param1', `MeasurementSummaryHashType 0x${h.param1.toString(16)} invalid`, 2);
  const reqSessionId = r.u16('ReqSessionID');
  const hintLength = r.u16('PSKHintLength');
  const contextLength = r.u16('RequesterContextLength');
  const opaqueAt = r.offset;
  const opaqueLength = r.u16('OpaqueDataLength');
  if (opaqueLength > MAX_OPAQUE_LENGTH)
    r.fail('OpaqueDataLength', `${opaqueLength} exceeds ${MAX_OPAQUE_LENGTH}`, opaqueAt);
  const pskHint = r.bytes(hintLength, 'PSKHint');
  const requesterContext = r.bytes(contextLength, 'RequesterContext');
  const opaqueData = r.bytes(opaqueLength, 'OpaqueData');
  return {
    raw: r.consumed(),
    version: h.version,
    measurementSummaryHashType: h.param1,
    sessionPolicy: h.version >= 0x12 ? h.param2 : 0,
    reqSessionId,
    pskHint,
    requesterContext,
    opaqueData,
  };
}

export function encodePskExchangeRsp(
  version: number,
  m: {
    heartbeatPeriod: number;
    rspSessionId: number;
    measurementSummaryHash?: Uint8Array;
    responderContext: Uint8Array;
    opaqueData?: Uint8Array;
    responderVerifyData: Uint8Array;
  },
): Uint8Array {
  const opaque = m.opaqueData ?? new Uint8Array(0);
  const w = new Writer(12 + 64 + m.responderContext.length + opaque.length + m.responderVerifyData.length);
  writeHeader(w, version, ResponseCode.PSK_EXCHANGE_RSP, m.heartbeatPeriod, 0);
  w.u16(m.rspSessionId).u16(0).u16(m.responderContext.length).u16(opaque.length);
  if (m.measurementSummaryHash) w.bytes(m.measurementSummaryHash);
  w.bytes(m.responderContext).bytes(opaque).bytes(m.responderVerifyData);
  return w.finish();
}

export function decodePskExchangeRsp(bytes: Uint8Array, ctx: PskExchangeResponseDecodeContext): PskExchangeResponse {
  const r = new Reader(bytes, 'PSK_EXCHANGE_RSP');
  const h = readHeaderSince(r, ResponseCode.PSK_EXCHANGE_RSP, 0x11);
  const rspSessionId = r.u16('RspSessionID');
  r.skip(2, 'Reserved');
  const contextLength = r.u16('ResponderContextLength');
  const opaqueAt = r.offset;
  const opaqueLength = r.u16('OpaqueDataLength');
  if (opaqueLength > MAX_OPAQUE_LENGTH)
    r.fail('OpaqueDataLength', `${opaqueLength} exceeds ${MAX_OPAQUE_LENGTH}`, opaqueAt);
  const measurementSummaryHash = ctx.measurementSummaryHashPresent
    ? r.bytes(ctx.hashSize, 'MeasurementSummaryHash')
    : undefined;
  const responderContext = r.bytes(contextLength, 'ResponderContext');
  const opaqueData = r.bytes(opaqueLength, 'OpaqueData');
  const responderVerifyData = r.bytes(ctx.hashSize, 'ResponderVerifyData');
  return {
    raw: r.consumed(),
    version: h.version,
    heartbeatPeriod: h.param1,
    rspSessionId,
    ...(measurementSummaryHash ? { measurementSummaryHash } : {}),
    responderContext,
    opaqueData,
    responderVerifyData,
  };
}

export function encodePskFinish(
  version: number,
  m: { opaqueData?: Uint8Array; requesterVerifyData: Uint8Array },
): Uint8Array {
  const w = new Writer(8 + (m.opaqueData?.length ?? 0) + m.requesterVerifyData.length);
  writeHeader(w, version, RequestCode.PSK_FINISH);
  if (version >= 0x14) writeOpaque(w, m.opaqueData);
  w.bytes(m.requesterVerifyData);
  return w.finish();
}

export function decodePskFinish(bytes: Uint8Array, ctx: { readonly hashSize: number }): PskFinishRequest {
  const r = new Reader(bytes, 'PSK_FINISH');
  const h = readHeaderSince(r, RequestCode.PSK_FINISH, 0x11);
  const opaqueData = h.version >= 0x14 ? readOpaque(r) : new Uint8Array(0);
  const requesterVerifyData = r.bytes(ctx.hashSize, 'RequesterVerifyData');
  return { raw: r.consumed(), version: h.version, opaqueData, requesterVerifyData };
}

export function encodePskFinishRsp(version: number, m: { opaqueData?: Uint8Array } = {}): Uint8Array {
  const w = new Writer(8 + (m.opaqueData?.length ?? 0));
  writeHeader(w, version, ResponseCode.PSK_FINISH_RSP);
  if (version >= 0x14) writeOpaque(w, m.opaqueData);
  return w.finish();
}

export function decodePskFinishRsp(bytes: Uint8Array): PskFinishResponse {
  const r = new Reader(bytes, 'PSK_FINISH_RSP');
  const h = readHeaderSince(r, ResponseCode.PSK_FINISH_RSP, 0x11);
  const opaqueData = h.version >= 0x14 ? readOpaque(r) : new Uint8Array(0);
  return { raw: r.consumed(), version: h.version, opaqueData };
}
