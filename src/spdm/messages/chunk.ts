/**
 * Chunking (1.2+): CHUNK_SEND / CHUNK_SEND_ACK and CHUNK_GET / CHUNK_RESPONSE.
 *
 * Layouts (libspdm spdm_chunk_*_t; the sequence number widens from u16 to u32 in 1.4, taking the
 * place of the 1.2/1.3 Reserved u16 where there was one):
 *
 * | message | 1.2 / 1.3 | 1.4 |
 * |---|---|---|
 * | CHUNK_SEND | ChunkSeqNo u16, Reserved u16, ChunkSize u32, [LargeMessageSize u32 if seq 0], chunk | ChunkSeqNo u32, ChunkSize u32, [LargeMessageSize], chunk |
 * | CHUNK_SEND_ACK | ChunkSeqNo u16, then the response to the large request (last chunk or early error) | ChunkSeqNo u32, response |
 * | CHUNK_GET | ChunkSeqNo u16 | ChunkSeqNo u32 |
 * | CHUNK_RESPONSE | as CHUNK_SEND | as CHUNK_SEND |
 *
 * Param1 bit 0 is LastChunk (CHUNK_SEND, CHUNK_RESPONSE) or EarlyErrorDetected (CHUNK_SEND_ACK);
 * Param2 is the Handle. CHUNK_SEND_ACK's response has no length of its own: decode it with a
 * `NestedDecoder` (ConversationDecoder does, in the context of the reassembled large request).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader, type Header } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince, readNested, type NestedDecoder } from './common.js';

export const CHUNK_LAST = 0x01;
export const CHUNK_EARLY_ERROR_DETECTED = 0x01;

/** CHUNK_SEND and CHUNK_RESPONSE share their layout. */
export interface ChunkMessage {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly lastChunk: boolean;
  readonly handle: number;
  readonly chunkSeqNo: number;
  /** Only in the first chunk (sequence number 0). */
  readonly largeMessageSize?: number;
  readonly chunk: Uint8Array;
}

export type ChunkSendRequest = ChunkMessage;
export type ChunkResponseResponse = ChunkMessage;

export interface ChunkSendAckResponse<N = never> {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly earlyErrorDetected: boolean;
  readonly handle: number;
  readonly chunkSeqNo: number;
  /** The response to the large request (empty until the last chunk, unless an early error). */
  readonly payload: Uint8Array;
  readonly nested?: N;
}

export interface ChunkGetRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly handle: number;
  readonly chunkSeqNo: number;
}

type ChunkFields = Omit<ChunkMessage, 'raw' | 'version'>;

function encodeChunk(code: number, version: number, m: ChunkFields): Uint8Array {
  const w = new Writer(16 + m.chunk.length);
  writeHeader(w, version, code, m.lastChunk ? CHUNK_LAST : 0, m.handle);
  if (version >= 0x14) w.u32(m.chunkSeqNo);
  else w.u16(m.chunkSeqNo).u16(0);
  w.u32(m.chunk.length);
  if (m.chunkSeqNo === 0) w.u32(m.largeMessageSize ?? 0);
  w.bytes(m.chunk);
  return w.finish();
}

function decodeChunk(bytes: Uint8Array, code: number, name: string): ChunkMessage {
  const r = new Reader(bytes, name);
  const h: Header = readHeaderSince(r, code, 0x12);
  let chunkSeqNo: number;
  if (h.version >= 0x14) chunkSeqNo = r.u32('ChunkSeqNo');
  else {
    chunkSeqNo = r.u16('ChunkSeqNo');
    r.skip(2, 'Reserved');
  }
  const chunkSize = r.u32('ChunkSize');
  const largeMessageSize = chunkSeqNo === 0 ? r.u32('LargeMessageSize') : undefined;
  const chunk = r.bytes(chunkSize, 'Chunk');
  return {
    raw: r.consumed(),
    version: h.version,
    lastChunk: (h.param1 & CHUNK_LAST) !== 0,
    handle: h.param2,
    chunkSeqNo,
    ...(largeMessageSize !== undefined ? { largeMessageSize } : {}),
    chunk,
  };
}

export function encodeChunkSend(version: number, m: ChunkFields): Uint8Array {
  return encodeChunk(RequestCode.CHUNK_SEND, version, m);
}

export function decodeChunkSend(bytes: Uint8Array): ChunkSendRequest {
  return decodeChunk(bytes, RequestCode.CHUNK_SEND, 'CHUNK_SEND');
}

export function encodeChunkResponse(version: number, m: ChunkFields): Uint8Array {
  return encodeChunk(ResponseCode.CHUNK_RESPONSE, version, m);
}

export function decodeChunkResponse(bytes: Uint8Array): ChunkResponseResponse {
  return decodeChunk(bytes, ResponseCode.CHUNK_RESPONSE, 'CHUNK_RESPONSE');
}

export function encodeChunkSendAck(
  version: number,
  m: { earlyErrorDetected?: boolean; handle: number; chunkSeqNo: number; payload?: Uint8Array },
): Uint8Array {
  const payload = m.payload ?? new Uint8Array(0);
  const w = new Writer(8 + payload.length);
  writeHeader(w, version, ResponseCode.CHUNK_SEND_ACK, m.earlyErrorDetected ? CHUNK_EARLY_ERROR_DETECTED : 0, m.handle);
  if (version >= 0x14) w.u32(m.chunkSeqNo);
  else w.u16(m.chunkSeqNo);
  w.bytes(payload);
  return w.finish();
}

export function decodeChunkSendAck<N = never>(
  bytes: Uint8Array,
  decodeNested?: NestedDecoder<N>,
): ChunkSendAckResponse<N> {
  const r = new Reader(bytes, 'CHUNK_SEND_ACK');
  const h = readHeaderSince(r, ResponseCode.CHUNK_SEND_ACK, 0x12);
  const chunkSeqNo = h.version >= 0x14 ? r.u32('ChunkSeqNo') : r.u16('ChunkSeqNo');
  const earlyErrorDetected = (h.param1 & CHUNK_EARLY_ERROR_DETECTED) !== 0;
  // Fewer than 4 bytes cannot be an SPDM message: with a nested decoder they are left as the
  // transport's padding (DOE pads the 6-byte 1.2/1.3 ACK to 8).
  const none = r.remaining === 0 || (decodeNested !== undefined && r.remaining < 4);
  const { payload, nested } = none
    ? { payload: bytes.subarray(r.offset, r.offset), nested: undefined }
    : readNested(r, 'ResponseToLargeRequest', decodeNested);
  return {
    raw: r.consumed(),
    version: h.version,
    earlyErrorDetected,
    handle: h.param2,
    chunkSeqNo,
    payload,
    ...(nested !== undefined ? { nested } : {}),
  };
}

export function encodeChunkGet(version: number, m: { handle: number; chunkSeqNo: number }): Uint8Array {
  const w = new Writer(8);
  writeHeader(w, version, RequestCode.CHUNK_GET, 0, m.handle);
  if (version >= 0x14) w.u32(m.chunkSeqNo);
  else w.u16(m.chunkSeqNo);
  return w.finish();
}

export function decodeChunkGet(bytes: Uint8Array): ChunkGetRequest {
  const r = new Reader(bytes, 'CHUNK_GET');
  const h = readHeaderSince(r, RequestCode.CHUNK_GET, 0x12);
  const chunkSeqNo = h.version >= 0x14 ? r.u32('ChunkSeqNo') : r.u16('ChunkSeqNo');
  return { raw: r.consumed(), version: h.version, handle: h.param2, chunkSeqNo };
}
