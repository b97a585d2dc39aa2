/**
 * Encapsulated requests (1.1+): GET_ENCAPSULATED_REQUEST / ENCAPSULATED_REQUEST and
 * DELIVER_ENCAPSULATED_RESPONSE / ENCAPSULATED_RESPONSE_ACK.
 *
 * They carry a whole SPDM message with no length of its own: ENCAPSULATED_REQUEST (and an
 * ENCAPSULATED_RESPONSE_ACK with PayloadType 1) a request from the responder to the requester,
 * DELIVER_ENCAPSULATED_RESPONSE the requester's response. The nested message's true end comes
 * from its own fields, so decoders take a `NestedDecoder`; without one the payload is the rest of
 * the bytes (transport padding included). ConversationDecoder passes one that decodes with the
 * requester-side sizes (ReqBaseAsymAlg signatures, the requester's multi-key DIGESTS).
 *
 * ENCAPSULATED_REQUEST with no payload (header only) means the responder has no more requests.
 * ENCAPSULATED_RESPONSE_ACK gained AckRequestID + 3 reserved bytes in 1.2; PayloadType 2 carries a
 * 1-byte ReqSlotNumber (libspdm: the slot the requester shall use, when it is not 0).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince, readNested, type NestedDecoder } from './common.js';

export const EncapPayloadType = { ABSENT: 0, PRESENT: 1, REQ_SLOT_NUMBER: 2 } as const;

export interface GetEncapsulatedRequestRequest {
  readonly raw: Uint8Array;
  readonly version: number;
}

export interface EncapsulatedRequestResponse<N = never> {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1. */
  readonly requestId: number;
  /** The nested request's bytes; empty when the responder has nothing more to ask. */
  readonly payload: Uint8Array;
  /** The nested request, decoded (when a nested decoder was given and a payload is present). */
  readonly nested?: N;
}

export interface DeliverEncapsulatedResponseRequest<N = never> {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1: the RequestID of the encapsulated request answered. */
  readonly requestId: number;
  /** The nested response's bytes. */
  readonly payload: Uint8Array;
  readonly nested?: N;
}

export interface EncapsulatedResponseAckResponse<N = never> {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1: RequestID of the next encapsulated request (PayloadType 1). */
  readonly requestId: number;
  /** Param2 (EncapPayloadType). */
  readonly payloadType: number;
  /** 1.2+: the RequestID of the response acknowledged (0 before 1.2). */
  readonly ackRequestId: number;
  /** PayloadType 1: the next encapsulated request's bytes; PayloadType 2: the ReqSlotNumber byte; else empty. */
  readonly payload: Uint8Array;
  /** PayloadType 2. */
  readonly reqSlotNumber?: number;
  /** PayloadType 1, decoded. */
  readonly nested?: N;
}

export function encodeGetEncapsulatedRequest(version: number): Uint8Array {
  return writeHeader(new Writer(4), version, RequestCode.GET_ENCAPSULATED_REQUEST).finish();
}

export function decodeGetEncapsulatedRequest(bytes: Uint8Array): GetEncapsulatedRequestRequest {
  const r = new Reader(bytes, 'GET_ENCAPSULATED_REQUEST');
  const h = readHeaderSince(r, RequestCode.GET_ENCAPSULATED_REQUEST, 0x11);
  return { raw: r.consumed(), version: h.version };
}

export function encodeEncapsulatedRequest(version: number, m: { requestId: number; payload: Uint8Array }): Uint8Array {
  return writeHeader(new Writer(4 + m.payload.length), version, ResponseCode.ENCAPSULATED_REQUEST, m.requestId, 0)
    .bytes(m.payload)
    .finish();
}

export function decodeEncapsulatedRequest<N = never>(
  bytes: Uint8Array,
  decodeNested?: NestedDecoder<N>,
): EncapsulatedRequestResponse<N> {
  const r = new Reader(bytes, 'ENCAPSULATED_REQUEST');
  const h = readHeaderSince(r, ResponseCode.ENCAPSULATED_REQUEST, 0x11);
  const { payload, nested } =
    r.remaining === 0 ? { payload: r.rest(), nested: undefined } : readNested(r, 'EncapsulatedRequest', decodeNested);
  return {
    raw: r.consumed(),
    version: h.version,
    requestId: h.param1,
    payload,
    ...(nested !== undefined ? { nested } : {}),
  };
}

export function encodeDeliverEncapsulatedResponse(
  version: number,
  m: { requestId: number; payload: Uint8Array },
): Uint8Array {
  return writeHeader(
    new Writer(4 + m.payload.length),
    version,
    RequestCode.DELIVER_ENCAPSULATED_RESPONSE,
    m.requestId,
    0,
  )
    .bytes(m.payload)
    .finish();
}

export function decodeDeliverEncapsulatedResponse<N = never>(
  bytes: Uint8Array,
  decodeNested?: NestedDecoder<N>,
): DeliverEncapsulatedResponseRequest<N> {
  const r = new Reader(bytes, 'DELIVER_ENCAPSULATED_RESPONSE');
  const h = readHeaderSince(r, RequestCode.DELIVER_ENCAPSULATED_RESPONSE, 0x11);
  if (r.remaining === 0) r.fail('EncapsulatedResponse', 'no encapsulated response');
  const { payload, nested } = readNested(r, 'EncapsulatedResponse', decodeNested);
  return {
    raw: r.consumed(),
    version: h.version,
    requestId: h.param1,
    payload,
    ...(nested !== undefined ? { nested } : {}),
  };
}

export function encodeEncapsulatedResponseAck(
  version: number,
  m: { requestId: number; payloadType: number; ackRequestId?: number; payload?: Uint8Array; reqSlotNumber?: number },
): Uint8Array {
  const w = new Writer(8 + (m.payload?.length ?? 1));
  writeHeader(w, version, ResponseCode.ENCAPSULATED_RESPONSE_ACK, m.requestId, m.payloadType);
  if (version >= 0x12) w.u8(m.ackRequestId ?? 0).zeros(3);
  if (m.payloadType === EncapPayloadType.PRESENT) w.bytes(m.payload ?? new Uint8Array(0));
  else if (m.payloadType === EncapPayloadType.REQ_SLOT_NUMBER) w.u8(m.reqSlotNumber ?? m.payload?.[0] ?? 0);
  return w.finish();
}

export function decodeEncapsulatedResponseAck<N = never>(
  bytes: Uint8Array,
  decodeNested?: NestedDecoder<N>,
): EncapsulatedResponseAckResponse<N> {
  const r = new Reader(bytes, 'ENCAPSULATED_RESPONSE_ACK');
  const h = readHeaderSince(r, ResponseCode.ENCAPSULATED_RESPONSE_ACK, 0x11);
  let ackRequestId = 0;
  if (h.version >= 0x12) {
    ackRequestId = r.u8('AckRequestID');
    r.skip(3, 'Reserved');
  }
  const base = { version: h.version, requestId: h.param1, payloadType: h.param2, ackRequestId };
  switch (h.param2) {
    case EncapPayloadType.ABSENT:
      return { raw: r.consumed(), ...base, payload: new Uint8Array(0) };
    case EncapPayloadType.PRESENT: {
      if (r.remaining === 0) r.fail('EncapsulatedRequest', 'PayloadType 1 without an encapsulated request');
      const { payload, nested } = readNested(r, 'EncapsulatedRequest', decodeNested);
      return { raw: r.consumed(), ...base, payload, ...(nested !== undefined ? { nested } : {}) };
    }
    case EncapPayloadType.REQ_SLOT_NUMBER: {
      const at = r.offset;
      const reqSlotNumber = r.u8('ReqSlotNumber');
      if (reqSlotNumber > 7) r.fail('ReqSlotNumber', `slot ${reqSlotNumber} out of range 0-7`, at);
      return { raw: r.consumed(), ...base, payload: bytes.subarray(at, at + 1), reqSlotNumber };
    }
    default:
      return r.fail('Param2', `PayloadType ${h.param2} invalid`, 3);
  }
}
