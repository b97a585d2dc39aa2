/**
 * Reassembly of a large SPDM message from CHUNK_SEND or CHUNK_RESPONSE chunks (1.2+), for an
 * observer (ConversationDecoder, `spdm dump`).
 *
 * Each chunk is copied once into a buffer that grows by doubling, so N chunks cost O(total bytes)
 * whatever N is (an immutable list of parts, copied per chunk, made a capture of many small
 * chunks quadratic). The declared LargeMessageSize is refused above LIMITS.largeMessageBytes and
 * every chunk is checked against it, so the buffer never exceeds that bound; it is sized from
 * what arrived, never from the declared size alone.
 *
 * An assembly is a value: `bytes` is what it holds. Advancing one writes after its end in the
 * buffer and returns a new assembly with a longer view, leaving the old one intact. A buffer is
 * written in place only by the `ChunkBuffers` that allocated it; an assembly coming from
 * elsewhere (a decoder seeded with another's state) is copied on its first advance, so two
 * decoders never write into one buffer.
 */
import { DecodeError } from '../wire/errors.js';
import { LIMITS, LimitError } from '../wire/limits.js';
import type { ChunkMessage } from './messages/chunk.js';

/** A large message being reassembled from CHUNK_SEND or CHUNK_RESPONSE chunks. */
export interface ChunkAssembly {
  readonly handle: number;
  readonly largeMessageSize: number;
  /** Bytes received so far (== bytes.length). */
  readonly received: number;
  readonly nextSeqNo: number;
  /** The chunks so far, in order, as one view. */
  readonly bytes: Uint8Array;
}

/** Smallest buffer allocated for a reassembly: spares reallocations for the first few small chunks. */
const MIN_CAPACITY = 4096;

/** The buffers one decoder may write in place. */
export class ChunkBuffers {
  private readonly owned = new WeakSet<ArrayBufferLike>();

  /** `prev` extended with `chunk`, written in place when `prev`'s buffer is ours and has room. */
  append(prev: Uint8Array, chunk: Uint8Array, cap: number): Uint8Array {
    const end = prev.length + chunk.length;
    const buffer = prev.buffer;
    if (prev.byteOffset === 0 && this.owned.has(buffer) && buffer.byteLength >= end) {
      new Uint8Array(buffer, prev.length, chunk.length).set(chunk);
      return new Uint8Array(buffer, 0, end);
    }
    const capacity = Math.min(cap, Math.max(MIN_CAPACITY, 2 * end));
    const out = new Uint8Array(Math.max(capacity, end));
    out.set(prev, 0);
    out.set(chunk, prev.length);
    this.owned.add(out.buffer);
    return out.subarray(0, end);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Advances a reassembly with one chunk: `assembly` while more chunks are due, `complete` (the
 * large message) after the last one. Errors are DecodeErrors of `outer` (or a LimitError for a
 * LargeMessageSize above LIMITS.largeMessageBytes); they leave `prev` as it was.
 */
export function advanceChunks(
  outer: string,
  prev: ChunkAssembly | undefined,
  m: ChunkMessage,
  buffers: ChunkBuffers,
): { assembly?: ChunkAssembly; complete?: Uint8Array } {
  let a: ChunkAssembly;
  if (m.chunkSeqNo === 0) {
    const largeMessageSize = m.largeMessageSize ?? 0;
    if (largeMessageSize > LIMITS.largeMessageBytes) {
      throw new LimitError(
        'largeMessageBytes',
        largeMessageSize,
        LIMITS.largeMessageBytes,
        `${outer}.LargeMessageSize`,
      );
    }
    a = { handle: m.handle, largeMessageSize, received: 0, nextSeqNo: 0, bytes: EMPTY };
  } else {
    if (!prev) throw new DecodeError(outer, 'ChunkSeqNo', 4, `chunk ${m.chunkSeqNo} without a chunk 0 before it`);
    if (m.handle !== prev.handle)
      throw new DecodeError(outer, 'Param2', 3, `Handle ${m.handle}, the chunks so far have ${prev.handle}`);
    if (m.chunkSeqNo !== prev.nextSeqNo)
      throw new DecodeError(outer, 'ChunkSeqNo', 4, `chunk ${m.chunkSeqNo}, expected ${prev.nextSeqNo}`);
    a = prev;
  }
  const received = a.received + m.chunk.length;
  if (received > a.largeMessageSize) {
    throw new DecodeError(
      outer,
      'ChunkSize',
      8,
      `${received} bytes received, LargeMessageSize is ${a.largeMessageSize}`,
    );
  }
  if (m.lastChunk && received !== a.largeMessageSize) {
    throw new DecodeError(
      outer,
      'Param1',
      2,
      `last chunk after ${received} bytes, LargeMessageSize is ${a.largeMessageSize}`,
    );
  }
  const bytes = m.chunk.length === 0 ? a.bytes : buffers.append(a.bytes, m.chunk, a.largeMessageSize);
  if (m.lastChunk) return { complete: bytes };
  return {
    assembly: { handle: a.handle, largeMessageSize: a.largeMessageSize, received, nextSeqNo: m.chunkSeqNo + 1, bytes },
  };
}
