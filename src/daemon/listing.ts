/**
 * The body of GET /v1/devices, sent as a stream of bounded chunks. With ten thousand devices the
 * listing is some 15 MB of JSON; built as one string and written in one go it held the daemon's
 * event loop for about 100 ms per call (the join, the UTF-8 copy, the socket write), during which
 * no status call, event or device exchange was served. Here the devices' JSON texts (the cache's
 * own strings, taken together at the moment of the call, so the listing is still one instant's
 * state) are written a chunk at a time, each after a turn of the event loop, and only as fast as
 * the client reads. The bytes are those of `{"devices":[<json>,<json>,…]}`, and the length is
 * known up front, so the response carries the same Content-Length as before.
 */
import { Readable } from 'node:stream';

const HEAD = '{"devices":[';
const TAIL = ']}';

export interface ListingStreamOptions {
  /** About how many characters one chunk holds (a chunk always holds at least one device). */
  readonly chunkChars?: number;
  /** A client that has not read the whole listing by then loses it (its connection is closed). */
  readonly deadlineMs?: number;
}

/** The byte length of the listing of `pieces` whose UTF-8 lengths are `pieceBytes` summed. */
export function listingBytes(count: number, pieceBytes: number): number {
  return HEAD.length + pieceBytes + Math.max(0, count - 1) + TAIL.length;
}

export class ListingStream extends Readable {
  private next = 0;
  private started = false;
  private pending: NodeJS.Immediate | undefined;
  private readonly deadline: NodeJS.Timeout;
  private readonly chunkChars: number;

  constructor(
    private readonly pieces: readonly string[],
    o: ListingStreamOptions = {},
  ) {
    const chunkChars = o.chunkChars ?? 256 * 1024;
    super({ highWaterMark: chunkChars });
    this.chunkChars = chunkChars;
    const ms = o.deadlineMs ?? 120_000;
    this.deadline = setTimeout(
      () => this.destroy(new Error(`the device listing was not read within ${ms / 1000} s`)),
      ms,
    ).unref();
  }

  override _read(): void {
    // One chunk per turn of the event loop: whatever else is waiting runs in between.
    this.pending ??= setImmediate(() => {
      this.pending = undefined;
      if (this.destroyed) return;
      const chunk = this.chunk();
      const last = this.next >= this.pieces.length;
      this.push(last ? chunk + TAIL : chunk);
      if (last) {
        clearTimeout(this.deadline);
        this.push(null);
      }
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    clearTimeout(this.deadline);
    cb(err);
  }

  /** The next devices' JSON, each after a comma but the first, up to about chunkChars. */
  private chunk(): string {
    const from = this.next;
    let chars = 0;
    while (this.next < this.pieces.length && (this.next === from || chars < this.chunkChars))
      chars += (this.pieces[this.next++] as string).length + 1;
    const body = this.pieces.slice(from, this.next).join(',');
    if (!this.started) {
      this.started = true;
      return HEAD + body;
    }
    return body.length > 0 ? `,${body}` : body;
  }
}
