/**
 * Lines of a stream, each at most a bound long. node:readline keeps reading a line until its
 * newline, however far away that is (one 300 MB line costs 1.45 GB); this reader holds at most
 * one line of `maxBytes` and the chunk being split, and fails with a LimitError naming the line
 * as soon as a line grows past the bound, without reading the rest of it.
 */
import { LimitError } from './limits.js';

export interface BoundedLine {
  /** 1-based line number. */
  readonly line: number;
  /** The line without its "\n" (or "\r\n"), decoded as UTF-8. */
  readonly text: string;
}

export interface BoundedLinesOptions {
  /** Longest line, in bytes, without its line ending. */
  readonly maxBytes: number;
  /** The LIMITS entry or option that sets maxBytes, for the error. */
  readonly limit: string;
}

const NL = 0x0a;

function decode(parts: readonly Uint8Array[], last: Uint8Array): string {
  const b =
    parts.length === 0 ? Buffer.from(last.buffer, last.byteOffset, last.byteLength) : Buffer.concat([...parts, last]);
  const n = b.length > 0 && b[b.length - 1] === 0x0d ? b.length - 1 : b.length;
  return b.toString('utf8', 0, n);
}

/**
 * Splits `input` (a Readable, or any iterable of chunks) at "\n". The last line need not end with
 * one. Stopping the iteration (or an error) stops reading the input: a Readable is destroyed.
 */
export async function* boundedLines(
  input: AsyncIterable<unknown>,
  o: BoundedLinesOptions,
): AsyncGenerator<BoundedLine> {
  let parts: Uint8Array[] = [];
  let size = 0;
  let line = 1;
  const tooLong = (seen: number) =>
    new LimitError(
      o.limit,
      seen,
      o.maxBytes,
      `line ${line}`,
      `line ${line}: longer than the ${o.limit} limit of ${o.maxBytes} bytes (${seen} bytes read and no end of line)`,
    );
  for await (const chunk of input) {
    const b =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : chunk instanceof Uint8Array
          ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
          : undefined;
    if (!b) throw new TypeError('boundedLines: the stream gave something other than bytes or text');
    let start = 0;
    while (start <= b.length) {
      const nl = b.indexOf(NL, start);
      const end = nl === -1 ? b.length : nl;
      if (size + (end - start) > o.maxBytes) throw tooLong(size + (end - start));
      if (nl === -1) {
        if (end > start) {
          parts.push(b.subarray(start, end));
          size += end - start;
        }
        break;
      }
      const text = decode(parts, b.subarray(start, nl));
      parts = [];
      size = 0;
      start = nl + 1;
      yield { line, text };
      line++;
    }
  }
  if (size > 0) yield { line, text: decode(parts.slice(0, -1), parts[parts.length - 1] as Uint8Array) };
}
