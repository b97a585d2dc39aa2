/**
 * A transcript: the exact wire bytes of a sequence of SPDM messages, kept as views (never
 * concatenated unless asked) with a running hash fed as messages arrive. The hash algorithm is
 * only known after ALGORITHMS, so messages appended before that are hashed when it is set.
 * `fork()` continues a transcript (e.g. A -> A||B||C) without re-hashing the common prefix.
 *
 * Almost every transcript that is hashed is a leaf: a fork built for one signature or one TH,
 * hashed once and dropped. `digest()` therefore ends the running hash rather than copying it (a
 * copy is a native object per digest); a transcript that goes on after its hash was taken uses
 * `digestSoFar()`. Appending to (or forking) a transcript whose hash was ended still works: the
 * running hash is rebuilt from the messages, which costs a re-hash.
 */
import { RunningHash } from '../crypto/hash.js';
import { concat, equalBytes, hexOfParts } from '../wire/bytes.js';

export class Transcript {
  private parts: Uint8Array[] = [];
  /** Bytes in `parts`, kept as they are appended so that `length` costs nothing. */
  private size = 0;
  private running: RunningHash | undefined;
  /** The digest once `digest()` ended the running hash; cleared by the next append. */
  private final: Uint8Array | undefined;
  private hashId: number | undefined;
  /** `handOff()` gave the running hash to a continuation: the next use rebuilds it. */
  private handedOff = false;

  constructor(hashId?: number) {
    if (hashId !== undefined) this.setHash(hashId);
  }

  setHash(hashId: number): void {
    if (this.hashId === hashId) return;
    this.hashId = hashId;
    this.final = undefined;
    this.running = this.rehashed(hashId);
    this.handedOff = false;
  }

  private rehashed(hashId: number): RunningHash {
    const r = new RunningHash(hashId);
    for (const p of this.parts) r.update(p);
    return r;
  }

  /** The running hash, rebuilt from the messages when `digest()` had ended it or `handOff()` gave it away. */
  private live(): RunningHash | undefined {
    if ((this.final !== undefined || this.handedOff) && this.hashId !== undefined) {
      this.final = undefined;
      this.handedOff = false;
      this.running = this.rehashed(this.hashId);
    }
    return this.running;
  }

  append(...messages: Uint8Array[]): void {
    const running = this.live();
    for (const m of messages) {
      this.parts.push(m);
      this.size += m.length;
      running?.update(m);
    }
  }

  get messages(): readonly Uint8Array[] {
    return this.parts;
  }

  get length(): number {
    return this.size;
  }

  /**
   * Hash of everything appended so far (requires the hash algorithm to be set). Ends the running
   * hash: asking again returns the same bytes; see the class note for a transcript that goes on.
   */
  digest(): Uint8Array {
    if (this.final !== undefined) return this.final;
    this.final = this.requireRunning().finish();
    return this.final;
  }

  /** Hash of everything appended so far, leaving the running hash going (for a transcript that continues). */
  digestSoFar(): Uint8Array {
    if (this.final !== undefined) return this.final;
    return this.requireRunning().current();
  }

  private requireRunning(): RunningHash {
    const running = this.live();
    // Caller misuse (hashing before ALGORITHMS chose the hash), not a device fault.
    if (!running) throw new TypeError('transcript hash algorithm not set: call setHash() first');
    return running;
  }

  /**
   * This transcript as it stands, for a digest taken on the way (a TH1 before the exchange is
   * accepted): the same messages, its hash taken with `digestSoFar()`, while this one goes on.
   * The snapshot keeps no running hash of its own (appending to it re-hashes, as after `digest()`).
   */
  snapshot(): Transcript {
    const t = new Transcript();
    t.parts = [...this.parts];
    t.size = this.size;
    t.hashId = this.hashId;
    // Without a hash algorithm there is nothing to take: the snapshot's digest() then fails as this one's would.
    if (this.hashId !== undefined) t.final = this.digestSoFar();
    return t;
  }

  /**
   * Replaces the last message with `full` when the last message is the start of it, byte for byte
   * (a response appended up to a field, now whole): only the rest is hashed, the result is the
   * transcript the whole message would have given. False, and nothing changed, otherwise.
   */
  extendLast(full: Uint8Array): boolean {
    const i = this.parts.length - 1;
    const last = this.parts[i];
    if (last === undefined || last.length > full.length) return false;
    if (last !== full && !equalBytes(last, full.subarray(0, last.length))) return false;
    const running = this.live();
    running?.update(full.subarray(last.length));
    this.parts[i] = full;
    this.size += full.length - last.length;
    return true;
  }

  bytes(): Uint8Array {
    return concat(this.parts);
  }

  /** toHex(bytes()), for evidence, without the concatenation kept. */
  hex(): string {
    return hexOfParts(this.parts);
  }

  /**
   * fork() for a transcript whose own use is (normally) over: the continuation takes this one's
   * running hash instead of a copy of it. Should this one be used again after all, it rebuilds its
   * hash from its messages (a re-hash), so either way both hold exactly their own messages.
   */
  handOff(): Transcript {
    const t = new Transcript();
    t.parts = [...this.parts];
    t.size = this.size;
    t.hashId = this.hashId;
    t.running = this.live();
    if (t.running) {
      this.running = undefined;
      this.handedOff = true;
    }
    return t;
  }

  fork(): Transcript {
    const t = new Transcript();
    t.parts = [...this.parts];
    t.size = this.size;
    t.hashId = this.hashId;
    t.running = this.live()?.clone();
    return t;
  }

  clear(): void {
    this.parts = [];
    this.size = 0;
    this.final = undefined;
    if (this.hashId !== undefined) {
      this.running = new RunningHash(this.hashId);
      this.handedOff = false;
    }
  }
}
