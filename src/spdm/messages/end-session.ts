/**
 * END_SESSION / END_SESSION_ACK (1.1+, inside a session). END_SESSION Param1 bit 0 =
 * NegotiatedStateClearing (libspdm PRESERVE_NEGOTIATED_STATE_CLEAR).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';

export const END_SESSION_NEGOTIATED_STATE_CLEARING = 0x01;

export interface EndSessionRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly negotiatedStateClearing: boolean;
}

export interface EndSessionAckResponse {
  readonly raw: Uint8Array;
  readonly version: number;
}

export function encodeEndSession(version: number, m: { negotiatedStateClearing?: boolean } = {}): Uint8Array {
  return writeHeader(
    new Writer(4),
    version,
    RequestCode.END_SESSION,
    m.negotiatedStateClearing ? END_SESSION_NEGOTIATED_STATE_CLEARING : 0,
  ).finish();
}

export function decodeEndSession(bytes: Uint8Array): EndSessionRequest {
  const r = new Reader(bytes, 'END_SESSION');
  const h = readHeaderSince(r, RequestCode.END_SESSION, 0x11);
  return {
    raw: r.consumed(),
    version: h.version,
    negotiatedStateClearing: (h.param1 & END_SESSION_NEGOTIATED_STATE_CLEARING) !== 0,
  };
}

export function encodeEndSessionAck(version: number): Uint8Array {
  return writeHeader(new Writer(4), version, ResponseCode.END_SESSION_ACK).finish();
}

export function decodeEndSessionAck(bytes: Uint8Array): EndSessionAckResponse {
  const r = new Reader(bytes, 'END_SESSION_ACK');
  const h = readHeaderSince(r, ResponseCode.END_SESSION_ACK, 0x11);
  return { raw: r.consumed(), version: h.version };
}
