/**
 * FINISH / FINISH_RSP (1.1+). 1.4 adds OpaqueDataLength + OpaqueData to both.
 *
 * FINISH carries the requester's signature when Param1 bit 0 (SignatureIncluded, mutual
 * authentication) is set: its size is the *requester's* (ReqBaseAsymAlg, AlgStruct 4, or the 1.4
 * ReqPqcAsymAlg). RequesterVerifyData (H) is always there. FINISH_RSP carries ResponderVerifyData
 * only when HANDSHAKE_IN_THE_CLEAR was negotiated by both sides (otherwise the responder proved
 * itself with the verify data of KEY_EXCHANGE_RSP).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince, readOpaque, writeOpaque } from './common.js';

export const FINISH_SIGNATURE_INCLUDED = 0x01;

export interface FinishRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1 bit 0. */
  readonly signatureIncluded: boolean;
  /** Param2: the requester's slot (0-7, 0xFF provisioned key). */
  readonly reqSlotId: number;
  /** 1.4 only (empty before). */
  readonly opaqueData: Uint8Array;
  readonly signature?: Uint8Array;
  readonly requesterVerifyData: Uint8Array;
  /** The request up to (not including) Signature, or up to RequesterVerifyData when unsigned. */
  readonly unsigned: Uint8Array;
}

export interface FinishDecodeContext {
  readonly hashSize: number;
  /** The requester's signature size; only needed when the message says SignatureIncluded. */
  readonly requesterSignatureSize?: number;
}

export interface FinishResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** 1.4 only (empty before). */
  readonly opaqueData: Uint8Array;
  readonly responderVerifyData?: Uint8Array;
}

export interface FinishResponseDecodeContext {
  readonly hashSize: number;
  readonly handshakeInTheClear: boolean;
}

export function encodeFinish(
  version: number,
  m: {
    signatureIncluded: boolean;
    reqSlotId: number;
    opaqueData?: Uint8Array;
    signature?: Uint8Array;
    requesterVerifyData: Uint8Array;
  },
): Uint8Array {
  const w = new Writer(16 + (m.opaqueData?.length ?? 0) + (m.signature?.length ?? 0) + m.requesterVerifyData.length);
  writeHeader(w, version, RequestCode.FINISH, m.signatureIncluded ? FINISH_SIGNATURE_INCLUDED : 0, m.reqSlotId);
  if (version >= 0x14) writeOpaque(w, m.opaqueData);
  if (m.signatureIncluded && m.signature) w.bytes(m.signature);
  w.bytes(m.requesterVerifyData);
  return w.finish();
}

export function decodeFinish(bytes: Uint8Array, ctx: FinishDecodeContext): FinishRequest {
  const r = new Reader(bytes, 'FINISH');
  const h = readHeaderSince(r, RequestCode.FINISH, 0x11);
  const signatureIncluded = (h.param1 & FINISH_SIGNATURE_INCLUDED) !== 0;
  if (signatureIncluded && h.param2 > 7 && h.param2 !== 0xff) r.fail('Param2', `ReqSlotID ${h.param2} invalid`, 3);
  const opaqueData = h.version >= 0x14 ? readOpaque(r) : new Uint8Array(0);
  const unsignedEnd = r.offset;
  let signature: Uint8Array | undefined;
  if (signatureIncluded) {
    const size =
      ctx.requesterSignatureSize ??
      r.fail('Signature', 'requester signature size unknown (no ReqBaseAsymAlg negotiated)');
    signature = r.bytes(size, 'Signature');
  }
  const requesterVerifyData = r.bytes(ctx.hashSize, 'RequesterVerifyData');
  return {
    raw: r.consumed(),
    version: h.version,
    signatureIncluded,
    reqSlotId: h.param2,
    opaqueData,
    ...(signature ? { signature } : {}),
    requesterVerifyData,
    unsigned: bytes.subarray(0, unsignedEnd),
  };
}

export function encodeFinishRsp(
  version: number,
  m: { opaqueData?: Uint8Array; responderVerifyData?: Uint8Array },
): Uint8Array {
  const w = new Writer(8 + (m.opaqueData?.length ?? 0) + (m.responderVerifyData?.length ?? 0));
  writeHeader(w, version, ResponseCode.FINISH_RSP);
  if (version >= 0x14) writeOpaque(w, m.opaqueData);
  if (m.responderVerifyData) w.bytes(m.responderVerifyData);
  return w.finish();
}

export function decodeFinishRsp(bytes: Uint8Array, ctx: FinishResponseDecodeContext): FinishResponse {
  const r = new Reader(bytes, 'FINISH_RSP');
  const h = readHeaderSince(r, ResponseCode.FINISH_RSP, 0x11);
  const opaqueData = h.version >= 0x14 ? readOpaque(r) : new Uint8Array(0);
  const responderVerifyData = ctx.handshakeInTheClear ? r.bytes(ctx.hashSize, 'ResponderVerifyData') : undefined;
  return { raw: r.consumed(), version: h.version, opaqueData, ...(responderVerifyData ? { responderVerifyData } : {}) };
}
