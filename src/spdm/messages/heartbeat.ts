/** HEARTBEAT / HEARTBEAT_ACK (1.1+, inside a session): header only, Param1/Param2 reserved. */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';

export interface HeartbeatRequest {
  readonly raw: Uint8Array;
  readonly version: number;
}

export interface HeartbeatAckResponse {
  readonly raw: Uint8Array;
  readonly version: number;
}

export function encodeHeartbeat(version: number): Uint8Array {
  return writeHeader(new Writer(4), version, RequestCode.HEARTBEAT).finish();
}

export function decodeHeartbeat(bytes: Uint8Array): HeartbeatRequest {
  const r = new Reader(bytes, 'HEARTBEAT');
  const h = readHeaderSince(r, RequestCode.HEARTBEAT, 0x11);
  return { raw: r.consumed(), version: h.version };
}

export function encodeHeartbeatAck(version: number): Uint8Array {
  return writeHeader(new Writer(4), version, ResponseCode.HEARTBEAT_ACK).finish();
}

export function decodeHeartbeatAck(bytes: Uint8Array): HeartbeatAckResponse {
  const r = new Reader(bytes, 'HEARTBEAT_ACK');
  const h = readHeaderSince(r, ResponseCode.HEARTBEAT_ACK, 0x11);
  return { raw: r.consumed(), version: h.version };
}
