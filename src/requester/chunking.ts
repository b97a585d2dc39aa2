/**
 * Large messages (1.2+, CHUNK_CAP on both sides): a request longer than the responder's
 * DataTransferSize goes out in CHUNK_SEND pieces, and a response the responder parks behind
 * ERROR LargeResponse is collected with CHUNK_GET. Only the large message itself is returned to
 * the request module, so transcripts hold it and never the chunks (as libspdm).
 *
 * Everything a device says here is bounded before anything is allocated for it: a
 * LargeMessageSize above our MaxSPDMmsgSize, a chunk message above our DataTransferSize, a chunk
 * out of sequence or of another handle, an empty chunk that is not the last, or more chunks than
 * the sequence number can count are all typed errors. The reassembly rule itself (sequence,
 * handle, sizes) is spdm/chunk-assembly.ts's, shared with the capture decoder.
 */
import { SpdmError } from '../wire/errors.js';
import { LimitError } from '../wire/limits.js';
import { peekHeader } from '../spdm/header.js';
import { codeName, ResponseCode } from '../spdm/codes.js';
import { decodeError, ErrorCode } from '../spdm/messages/error.js';
import { decodeChunkResponse, decodeChunkSendAck, encodeChunkGet, encodeChunkSend } from '../spdm/messages/chunk.js';
import { advanceChunks, ChunkBuffers, type ChunkAssembly } from '../spdm/chunk-assembly.js';

/** What chunking runs on: both sides' limits from CAPABILITIES (only set when both have CHUNK_CAP). */
export interface ChunkLimits {
  readonly version: number;
  readonly peerDataTransferSize: number;
  readonly peerMaxSpdmMsgSize: number;
  /** What we announced in GET_CAPABILITIES. */
  readonly ourDataTransferSize: number;
  readonly ourMaxSpdmMsgSize: number;
  /** The Handle for the next large request. */
  nextHandle(): number;
}

/** One request round trip with Busy and ResponseNotReady handled; any other ERROR comes back as bytes. */
export type ChunkRoundTrip = (request: Uint8Array) => Promise<Uint8Array>;

/** Turns an ERROR response into the SpdmError the caller reports for `reqName`. */
export type DeviceErrorOf = (response: Uint8Array, reqName: string) => SpdmError;

/** CHUNK_SEND / CHUNK_RESPONSE header: 4 + ChunkSeqNo/Reserved 4 + ChunkSize 4; chunk 0 adds LargeMessageSize. */
const CHUNK_HEADER = 12;
const LARGE_MESSAGE_SIZE_FIELD = 4;

function maxSeqNo(version: number): number {
  return version >= 0x14 ? 0xffffffff : 0xffff;
}

/** Whether `response` is ERROR LargeResponse (the responder holds the response for CHUNK_GET). */
export function largeResponseHandle(response: Uint8Array): number | undefined {
  if (response.length < 4 || response[1] !== ResponseCode.ERROR || response[2] !== ErrorCode.LargeResponse)
    return undefined;
  const err = decodeError(response);
  return err.largeResponseHandle ?? 0;
}

function protocolError(reqName: string, why: string, details: Record<string, unknown> = {}): SpdmError {
  return new SpdmError('PROTOCOL_ERROR', `${reqName}: ${why}`, { request: reqName, ...details });
}

/**
 * Sends `request` in CHUNK_SEND pieces of at most the peer's DataTransferSize and returns the
 * response to the large request: the last CHUNK_SEND_ACK's, or the ERROR LargeResponse libspdm
 * answers instead when that response does not fit our DataTransferSize either.
 */
export async function sendInChunks(
  limits: ChunkLimits,
  request: Uint8Array,
  rt: ChunkRoundTrip,
  deviceError: DeviceErrorOf,
  reqName: string,
): Promise<Uint8Array> {
  if (request.length > limits.peerMaxSpdmMsgSize) {
    throw new LimitError(
      'MaxSPDMmsgSize',
      request.length,
      limits.peerMaxSpdmMsgSize,
      reqName,
      `${reqName}: the request is ${request.length} bytes, the device's MaxSPDMmsgSize is ${limits.peerMaxSpdmMsgSize}`,
    );
  }
  const dts = limits.peerDataTransferSize;
  const first = dts - CHUNK_HEADER - LARGE_MESSAGE_SIZE_FIELD;
  const rest = dts - CHUNK_HEADER;
  if (first <= 0 || rest <= 0)
    throw protocolError(reqName, `the device's DataTransferSize ${dts} leaves no room for a chunk`);
  const chunks = 1 + Math.ceil(Math.max(0, request.length - first) / rest);
  if (chunks - 1 > maxSeqNo(limits.version))
    throw protocolError(reqName, `${chunks} chunks are more than ChunkSeqNo can count`);
  const handle = limits.nextHandle() & 0xff;
  let offset = 0;
  for (let seq = 0; ; seq++) {
    const size = Math.min(seq === 0 ? first : rest, request.length - offset);
    const lastChunk = offset + size === request.length;
    const chunk = request.subarray(offset, offset + size);
    offset += size;
    const msg = encodeChunkSend(limits.version, {
      lastChunk,
      handle,
      chunkSeqNo: seq,
      ...(seq === 0 ? { largeMessageSize: request.length } : {}),
      chunk,
    });
    const response = await rt(msg);
    const h = peekHeader(response);
    if (h.code === ResponseCode.ERROR) {
      // After the last chunk libspdm answers ERROR LargeResponse in place of an ACK too large for us.
      if (lastChunk && largeResponseHandle(response) !== undefined) return response;
      throw deviceError(response, `CHUNK_SEND(${reqName})`);
    }
    if (h.code !== ResponseCode.CHUNK_SEND_ACK)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `CHUNK_SEND(${reqName}): expected CHUNK_SEND_ACK, got ${codeName(h.code)}`,
        {
          request: reqName,
        },
      );
    if (h.version !== limits.version)
      throw new SpdmError('VERSION_MISMATCH', `CHUNK_SEND_ACK carries version 0x${h.version.toString(16)}`, {
        request: reqName,
      });
    const ack = decodeChunkSendAck(response);
    if (ack.handle !== handle || ack.chunkSeqNo !== seq)
      throw protocolError(
        reqName,
        `CHUNK_SEND_ACK acknowledges handle ${ack.handle} chunk ${ack.chunkSeqNo}, we sent handle ${handle} chunk ${seq}`,
      );
    if (ack.earlyErrorDetected) {
      if (ack.payload.length >= 4 && ack.payload[1] === ResponseCode.ERROR)
        throw deviceError(ack.payload, `CHUNK_SEND(${reqName})`);
      throw protocolError(reqName, `CHUNK_SEND_ACK reports an early error at chunk ${seq} without an ERROR`);
    }
    if (lastChunk) {
      if (ack.payload.length < 4)
        throw protocolError(reqName, 'the last CHUNK_SEND_ACK carries no response to the large request');
      return ack.payload;
    }
  }
}

/**
 * Collects the large response behind ERROR LargeResponse with CHUNK_GET, chunk by chunk, and
 * returns it reassembled.
 */
export async function getInChunks(
  limits: ChunkLimits,
  handle: number,
  rt: ChunkRoundTrip,
  deviceError: DeviceErrorOf,
  reqName: string,
): Promise<Uint8Array> {
  const buffers = new ChunkBuffers();
  let assembly: ChunkAssembly | undefined;
  const max = maxSeqNo(limits.version);
  for (let seq = 0; seq <= max; seq++) {
    const response = await rt(encodeChunkGet(limits.version, { handle, chunkSeqNo: seq }));
    const h = peekHeader(response);
    if (h.code === ResponseCode.ERROR) throw deviceError(response, `CHUNK_GET(${reqName})`);
    if (h.code !== ResponseCode.CHUNK_RESPONSE)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `CHUNK_GET(${reqName}): expected CHUNK_RESPONSE, got ${codeName(h.code)}`,
        {
          request: reqName,
        },
      );
    if (h.version !== limits.version)
      throw new SpdmError('VERSION_MISMATCH', `CHUNK_RESPONSE carries version 0x${h.version.toString(16)}`, {
        request: reqName,
      });
    const m = decodeChunkResponse(response);
    if (m.raw.length > limits.ourDataTransferSize)
      throw protocolError(
        reqName,
        `CHUNK_RESPONSE ${seq} is ${m.raw.length} bytes, our DataTransferSize is ${limits.ourDataTransferSize}`,
      );
    if (m.handle !== handle)
      throw protocolError(reqName, `CHUNK_RESPONSE has handle ${m.handle}, ERROR LargeResponse gave ${handle}`);
    if (m.chunkSeqNo !== seq)
      throw protocolError(reqName, `CHUNK_RESPONSE carries chunk ${m.chunkSeqNo}, we asked for ${seq}`);
    const announced = m.largeMessageSize ?? 0;
    if (seq === 0 && announced > limits.ourMaxSpdmMsgSize)
      throw new LimitError(
        'MaxSPDMmsgSize',
        announced,
        limits.ourMaxSpdmMsgSize,
        'CHUNK_RESPONSE.LargeMessageSize',
        `${reqName}: CHUNK_RESPONSE announces a ${announced} byte response, our MaxSPDMmsgSize is ${limits.ourMaxSpdmMsgSize}`,
      );
    // An empty chunk that is not the last moves nothing forward: a device could send them forever.
    if (m.chunk.length === 0 && !m.lastChunk)
      throw protocolError(reqName, `CHUNK_RESPONSE ${seq} is empty and not the last`);
    const step = advanceChunks('CHUNK_RESPONSE', assembly, m, buffers);
    if (step.complete) {
      if (step.complete.length < 4) throw protocolError(reqName, 'the large response is shorter than an SPDM header');
      return step.complete;
    }
    assembly = step.assembly;
  }
  throw protocolError(reqName, `more CHUNK_RESPONSE chunks than ChunkSeqNo can count`);
}
