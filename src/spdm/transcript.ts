/**
 * A transcript: the exact wire bytes of a sequence of SPDM messages, kept as views (never
 * concatenated unless asked). Its hash is taken when asked for, over the messages as they stand,
 * in one go (crypto/hash.ts digestOf) and kept until the next change. The hash algorithm is only
 * known after ALGORITHMS; messages appended before that are simply part of what is hashed.
 *
 * There is no running hash: almost every transcript that is hashed is a leaf, a fork built for
 * one signature or one TH, hashed once and dropped, and a running hash per transcript cost a
 * native Hash object per fork plus a call per message (each dearer than hashing the few KiB a
 * transcript holds again). `fork()` and `snapshot()` therefore only copy the list of views, and a
 * transcript's digest may be taken and it may go on (the digest is cleared by the next change).
 */
import { digestOf, requireHash } from '../crypto/hash.js';
import { concat, equalBytes, hexOfParts } from '../wire/bytes.js';

export class Transcript {
  private parts: Uint8Array[] = [];
  /** Bytes in `parts`, kept as they are appended so that `length` costs nothing. */
  private size = 0;
  /** The digest of `parts` under `hashId` once taken; cleared by every change. */
  private final: Uint8Array | undefined;
  private hashId: number | undefined;

  constructor(hashId?: number) {
    if (hashId !== undefined) this.setHash(hashId);
  }

  setHash(hashId: number): void {
    if (this.hashId === hashId) return;
    // Refused here, once, rather than at the first digest: @throws SpdmError UNSUPPORTED_ALGORITHM
    requireHash(hashId);
    this.hashId = hashId;
    this.final = undefined;
  }

  append(...messages: Uint8Array[]): void {
    this.final = undefined;
    for (const m of messages) {
      this.parts.push(m);
      this.size += m.length;
    }
  }

  get messages(): readonly Uint8Array[] {
    return this.parts;
  }

  get length(): number {
    return this.size;
  }

  /** Hash of everything appended so far (requires the hash algorithm to be set); asking again returns the same bytes. */
  digest(): Uint8Array {
    if (this.final !== undefined) return this.final;
    // Caller misuse (hashing before ALGORITHMS chose the hash), not a device fault.
    if (this.hashId === undefined) throw new TypeError('transcript hash algorithm not set: call setHash() first');
    this.final = digestOf(this.hashId, this.parts);
    return this.final;
  }

  /** The same messages and hash algorithm, in a transcript of its own. */
  private copy(): Transcript {
    const t = new Transcript();
    t.parts = [...this.parts];
    t.size = this.size;
    t.hashId = this.hashId;
    t.final = this.final;
    return t;
  }

  /**
   * This transcript as it stands, for a digest taken on the way (a TH1 before the exchange is
   * accepted): the same messages, its hash taken now, while this one goes on.
   */
  snapshot(): Transcript {
    const t = this.copy();
    // Without a hash algorithm there is nothing to take: the snapshot's digest() then fails as this one's would.
    if (this.hashId !== undefined) t.final = this.digest();
    return t;
  }

  /**
   * Replaces the last message with `full` when the last message is the start of it, byte for byte
   * (a response appended up to a field, now whole): the result is the transcript the whole
   * message would have given. False, and nothing changed, otherwise.
   */
  extendLast(full: Uint8Array): boolean {
    const i = this.parts.length - 1;
    const last = this.parts[i];
    if (last === undefined || last.length > full.length) return false;
    if (last !== full && !equalBytes(last, full.subarray(0, last.length))) return false;
    this.parts[i] = full;
    this.size += full.length - last.length;
    this.final = undefined;
    return true;
  }

  bytes(): Uint8Array {
    return concat(this.parts);
  }

  /** toHex(bytes()), for evidence, without the concatenation kept. */
  hex(): string {
    return hexOfParts(this.parts);
  }

  /** A continuation: these messages, then whatever is appended to it (this one is unaffected). */
  fork(): Transcript {
    return this.copy();
  }

  clear(): void {
    this.parts = [];
    this.size = 0;
    this.final = undefined;
  }
}
