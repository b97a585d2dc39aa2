/**
 * Pieces shared by the session, encapsulation, chunking and 1.2+/1.3 codecs: a header check that
 * also enforces the version a message was introduced in, length-prefixed opaque data, and the
 * decoding of an SPDM message nested inside another (encapsulated requests/responses, the
 * response carried by CHUNK_SEND_ACK).
 */
import { DecodeError } from '../../wire/errors.js';
import type { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { codeName, versionString } from '../codes.js';
import { readHeader, type Header } from '../header.js';
import { MAX_OPAQUE_LENGTH } from './challenge.js';

/** readHeader, plus: the message must not predate `since` (e.g. 0x11 for KEY_EXCHANGE). */
export function readHeaderSince(r: Reader, code: number, since: number): Header {
  const h = readHeader(r, code);
  if (h.version < since)
    r.fail(
      'SPDMVersion',
      `${codeName(code)} exists from SPDM ${versionString(since)}, message says ${versionString(h.version)}`,
      0,
    );
  return h;
}

/** OpaqueDataLength (u16, at most 1024) and OpaqueData. */
export function readOpaque(r: Reader, prefix = ''): Uint8Array {
  const at = r.offset;
  const length = r.u16(`${prefix}OpaqueDataLength`);
  if (length > MAX_OPAQUE_LENGTH) r.fail(`${prefix}OpaqueDataLength`, `${length} exceeds ${MAX_OPAQUE_LENGTH}`, at);
  return r.bytes(length, `${prefix}OpaqueData`);
}

export function writeOpaque(w: Writer, opaque: Uint8Array | undefined): Writer {
  const o = opaque ?? new Uint8Array(0);
  return w.u16(o.length).bytes(o);
}

/**
 * Decodes a whole SPDM message found at the front of `payload` (it may be followed by transport
 * padding). `raw` is the nested message's exact bytes: a prefix of `payload`.
 */
export type NestedDecoder<N> = (payload: Uint8Array) => { readonly value: N; readonly raw: Uint8Array };

/** The reason part of a DecodeError's message. */
function reasonOf(e: DecodeError): string {
  const prefix = `${e.messageName}.${e.field} @${e.offset}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}

/**
 * Reads the nested message that runs from the reader's position. Without a decoder the rest of
 * the buffer is taken as is (its true end is unknown). A DecodeError from the nested decoder is
 * re-thrown naming the outer message first (`OUTER.INNER`), at an offset within the outer message.
 */
export function readNested<N>(
  r: Reader,
  field: string,
  decode: NestedDecoder<N> | undefined,
): { payload: Uint8Array; nested?: N } {
  const start = r.offset;
  const rest = r.buf.subarray(start);
  if (!decode) return { payload: r.rest() };
  let out: { readonly value: N; readonly raw: Uint8Array };
  try {
    out = decode(rest);
  } catch (e) {
    if (e instanceof DecodeError)
      throw new DecodeError(`${r.messageName}.${e.messageName}`, e.field, start + e.offset, reasonOf(e));
    throw e;
  }
  if (out.raw.length > rest.length || out.raw.buffer !== rest.buffer || out.raw.byteOffset !== rest.byteOffset) {
    r.fail(field, 'the nested decoder did not return a prefix of the payload', start);
  }
  r.skip(out.raw.length, field);
  return { payload: out.raw, nested: out.value };
}

/** Re-throws a DecodeError from decoding a reassembled (chunked) large message under the chunk message's name. */
export function wrapLargeMessageError(e: unknown, outer: string): never {
  if (e instanceof DecodeError)
    throw new DecodeError(outer, `LargeMessage(${e.messageName}).${e.field}`, e.offset, reasonOf(e));
  throw e;
}
