/**
 * KEY_UPDATE / KEY_UPDATE_ACK (1.1+, inside a session; also an encapsulated request from the
 * responder). Param1 = KeyOperation (1 UpdateKey, 2 UpdateAllKeys, 3 VerifyNewKey), Param2 = Tag;
 * the ACK echoes both.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';

export const KeyUpdateOperation = { UPDATE_KEY: 1, UPDATE_ALL_KEYS: 2, VERIFY_NEW_KEY: 3 } as const;

export interface KeyUpdateMessage {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly operation: number;
  readonly tag: number;
}

function decode(bytes: Uint8Array, code: number, name: string): KeyUpdateMessage {
  const r = new Reader(bytes, name);
  const h = readHeaderSince(r, code, 0x11);
  if (h.param1 < KeyUpdateOperation.UPDATE_KEY || h.param1 > KeyUpdateOperation.VERIFY_NEW_KEY) {
    r.fail('Param1', `KeyOperation ${h.param1} invalid`, 2);
  }
  return { raw: r.consumed(), version: h.version, operation: h.param1, tag: h.param2 };
}

export function encodeKeyUpdate(version: number, m: { operation: number; tag: number }): Uint8Array {
  return writeHeader(new Writer(4), version, RequestCode.KEY_UPDATE, m.operation, m.tag).finish();
}

export function decodeKeyUpdate(bytes: Uint8Array): KeyUpdateMessage {
  return decode(bytes, RequestCode.KEY_UPDATE, 'KEY_UPDATE');
}

export function encodeKeyUpdateAck(version: number, m: { operation: number; tag: number }): Uint8Array {
  return writeHeader(new Writer(4), version, ResponseCode.KEY_UPDATE_ACK, m.operation, m.tag).finish();
}

export function decodeKeyUpdateAck(bytes: Uint8Array): KeyUpdateMessage {
  return decode(bytes, ResponseCode.KEY_UPDATE_ACK, 'KEY_UPDATE_ACK');
}
