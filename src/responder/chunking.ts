/**
 * The emulator's side of chunking (1.2+, CHUNK_CAP on both sides): it reassembles a large request
 * from CHUNK_SEND pieces and dispatches it whole, and parks a response larger than the requester
 * (or this device) can take in one transfer behind ERROR LargeResponse for CHUNK_GET. Handlers and
 * transcripts only ever see the large messages.
 *
 * As libspdm: a failing CHUNK_SEND is acknowledged with EarlyErrorDetected and an ERROR
 * InvalidRequest, and drops the reassembly; a CHUNK_SEND_ACK that would be too large becomes
 * ERROR LargeResponse holding only the response to the large request; a response beyond the
 * requester's MaxSPDMmsgSize is ERROR ResponseTooLarge. Parked responses belong to the channel
 * they were produced on (the clear channel or one session), so a CHUNK_GET elsewhere gets nothing.
 */
import { Writer } from '../wire/writer.js';
import { LIMITS } from '../wire/limits.js';
import { peekHeader } from '../spdm/header.js';
import { RequestCode } from '../spdm/codes.js';
import { encodeError, ErrorCode } from '../spdm/messages/error.js';
import {
  decodeChunkGet,
  decodeChunkSend,
  encodeChunkResponse,
  encodeChunkSendAck,
  type ChunkMessage,
} from '../spdm/messages/chunk.js';
import { advanceChunks, ChunkBuffers, type ChunkAssembly } from '../spdm/chunk-assembly.js';

/** Both sides' limits on this connection; only built when both set CHUNK_CAP. */
export interface ChunkPeer {
  readonly version: number;
  readonly requesterDataTransferSize: number;
  readonly requesterMaxSpdmMsgSize: number;
  readonly ourDataTransferSize: number;
  readonly ourMaxSpdmMsgSize: number;
}

/** A channel's answer to one request: the response, and what the dispatcher attached to it. */
export interface Answered<A> {
  readonly response: Uint8Array;
  readonly after: A;
  /** The request the response answers: the reassembled large one after the last CHUNK_SEND. */
  readonly request: Uint8Array;
  /** The dispatcher's own response (not a CHUNK_SEND_ACK or ERROR LargeResponse around it), when there was one. */
  readonly inner?: Uint8Array;
}

const CHUNK_HEADER = 12;
/** Bytes a transport may add after a message: DOE pads to a whole dword. */
const MAX_PADDING = 3;
const LARGE_MESSAGE_SIZE_FIELD = 4;

export function u32le(n: number): Uint8Array {
  return new Writer(4).u32(n).finish();
}

/** The largest message this device sends in one transfer: the requester's DataTransferSize, and ours. */
function sendLimit(p: ChunkPeer): number {
  return Math.min(p.requesterDataTransferSize, p.ourDataTransferSize);
}

export class ResponderChunks {
  private send: { channel: number; assembly: ChunkAssembly | undefined; buffers: ChunkBuffers } | undefined;
  private parked: { channel: number; handle: number; message: Uint8Array; offset: number; seq: number } | undefined;
  private handles = 0;

  /** Forget everything (GET_VERSION, a session ending). */
  reset(channel?: number): void {
    if (channel === undefined || this.send?.channel === channel) this.send = undefined;
    if (channel === undefined || this.parked?.channel === channel) this.parked = undefined;
  }

  /**
   * Answers `request` on `channel` (-1: the clear channel, else a SessionID): CHUNK_SEND and
   * CHUNK_GET here, anything else through `dispatch`; a response too large for one transfer is
   * parked. With `peer` undefined (no chunking on this connection) `dispatch` answers everything.
   */
  answer<A>(
    peer: ChunkPeer | undefined,
    channel: number,
    request: Uint8Array,
    dispatch: (request: Uint8Array) => { response: Uint8Array; after: A },
    none: A,
  ): Answered<A> {
    if (!peer) {
      const r = dispatch(request);
      return { ...r, request, inner: r.response };
    }
    const code = peekHeader(request).code;
    if (code === RequestCode.CHUNK_GET)
      return { response: this.onChunkGet(peer, channel, request), after: none, request };
    if (code !== RequestCode.CHUNK_SEND) {
      const r = dispatch(request);
      return { response: this.outgoing(peer, channel, r.response), after: r.after, request, inner: r.response };
    }
    const step = this.onChunkSend(peer, channel, request);
    if ('ack' in step) return { response: step.ack, after: none, request };
    const inner = peekHeader(step.large).code;
    // No chunking within chunking.
    const r =
      inner === RequestCode.CHUNK_SEND || inner === RequestCode.CHUNK_GET
        ? { response: encodeError(peer.version, ErrorCode.InvalidRequest), after: none }
        : dispatch(step.large);
    const ack = encodeChunkSendAck(peer.version, { handle: step.handle, chunkSeqNo: step.seq, payload: r.response });
    const done = { after: r.after, request: step.large, inner: r.response };
    if (ack.length <= sendLimit(peer)) return { response: ack, ...done };
    return { response: this.outgoing(peer, channel, r.response), ...done };
  }

  /** `response` as sent: itself when it fits one transfer, else ERROR LargeResponse (or ResponseTooLarge). */
  private outgoing(peer: ChunkPeer, channel: number, response: Uint8Array): Uint8Array {
    if (response.length <= sendLimit(peer)) return response;
    if (response.length > peer.requesterMaxSpdmMsgSize)
      return encodeError(peer.version, ErrorCode.ResponseTooLarge, 0, u32le(response.length));
    const handle = this.handles++ & 0xff;
    // One parked response at a time, as libspdm: a newer one replaces one never collected.
    this.parked = { channel, handle, message: response.slice(), offset: 0, seq: 0 };
    return encodeError(peer.version, ErrorCode.LargeResponse, 0, new Uint8Array([handle]));
  }

  private onChunkGet(peer: ChunkPeer, channel: number, request: Uint8Array): Uint8Array {
    const req = decodeChunkGet(request);
    const p = this.parked;
    if (!p || p.channel !== channel) return encodeError(peer.version, ErrorCode.UnexpectedRequest);
    if (req.handle !== p.handle || req.chunkSeqNo !== p.seq) {
      this.parked = undefined;
      return encodeError(peer.version, ErrorCode.InvalidRequest);
    }
    const room = sendLimit(peer) - CHUNK_HEADER - (p.seq === 0 ? LARGE_MESSAGE_SIZE_FIELD : 0);
    const size = Math.min(room, p.message.length - p.offset);
    const lastChunk = p.offset + size === p.message.length;
    const out = encodeChunkResponse(peer.version, {
      lastChunk,
      handle: p.handle,
      chunkSeqNo: p.seq,
      ...(p.seq === 0 ? { largeMessageSize: p.message.length } : {}),
      chunk: p.message.subarray(p.offset, p.offset + size),
    });
    if (lastChunk) this.parked = undefined;
    else {
      p.offset += size;
      p.seq++;
    }
    return out;
  }

  private onChunkSend(
    peer: ChunkPeer,
    channel: number,
    request: Uint8Array,
  ): { ack: Uint8Array } | { large: Uint8Array; handle: number; seq: number } {
    let m: ChunkMessage | undefined;
    try {
      m = decodeChunkSend(request);
    } catch {
      m = undefined;
    }
    const fail = (): { ack: Uint8Array } => {
      this.send = undefined;
      const handle = request[3] ?? 0;
      const seq = m?.chunkSeqNo ?? 0;
      return {
        ack: encodeChunkSendAck(peer.version, {
          earlyErrorDetected: true,
          handle,
          chunkSeqNo: seq,
          payload: encodeError(peer.version, ErrorCode.InvalidRequest),
        }),
      };
    };
    // The chunk message itself must fit our DataTransferSize; the transport's padding after it
    // does not count (DOE pads a 42-byte CHUNK_SEND to 44), but nothing larger may trail it.
    if (!m || m.raw.length > peer.ourDataTransferSize || request.length - m.raw.length > MAX_PADDING) return fail();
    const inProgress = this.send && this.send.channel === channel ? this.send : undefined;
    if (m.chunkSeqNo === 0) {
      // A chunk 0 while one is in progress is a wrapped sequence number, not a fresh start (libspdm).
      if (inProgress) return fail();
      const size = m.largeMessageSize ?? 0;
      if (size > peer.ourMaxSpdmMsgSize || size > LIMITS.largeMessageBytes || size <= m.chunk.length) return fail();
    } else if (!inProgress) return fail();
    if (!m.lastChunk && m.chunk.length === 0) return fail();
    const state = inProgress ?? { channel, assembly: undefined, buffers: new ChunkBuffers() };
    let step;
    try {
      step = advanceChunks('CHUNK_SEND', state.assembly, m, state.buffers);
    } catch {
      return fail();
    }
    if (step.complete) {
      this.send = undefined;
      return { large: step.complete, handle: m.handle, seq: m.chunkSeqNo };
    }
    this.send = { ...state, assembly: step.assembly };
    return {
      ack: encodeChunkSendAck(peer.version, { handle: m.handle, chunkSeqNo: m.chunkSeqNo }),
    };
  }
}
