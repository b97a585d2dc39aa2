/**
 * A transcript: the exact wire bytes of a sequence of SPDM messages, kept as views (never
 * concatenated unless asked) with a running hash fed as messages arrive. The hash algorithm is
 * only known after ALGORITHMS, so messages appended before that are hashed when it is set.
 * `fork()` continues a transcript (e.g. A -> A||B||C) without re-hashing the common prefix.
 */
import { RunningHash } from '../crypto/hash.js';
import { concat } from '../wire/bytes.js';

export class Transcript {
  private parts: Uint8Array[] = [];
  /** Bytes in `parts`, kept as they are appended so that `length` costs nothing. */
  private size = 0;
  private running: RunningHash | undefined;
  private hashId: number | undefined;

  constructor(hashId?: number) {
    if (hashId !== undefined) this.setHash(hashId);
  }

  setHash(hashId: number): void {
    if (this.hashId === hashId) return;
    this.hashId = hashId;
    this.running = new RunningHash(hashId);
    for (const p of this.parts) this.running.update(p);
  }

  append(...messages: Uint8Array[]): void {
    for (const m of messages) {
      this.parts.push(m);
      this.size += m.length;
      this.running?.update(m);
    }
  }

  get messages(): readonly Uint8Array[] {
    return this.parts;
  }

  get length(): number {
    return this.size;
  }

  /** Hash of everything appended so far (requires the hash algorithm to be set). */
  digest(): Uint8Array {
    // Caller misuse (hashing before ALGORITHMS chose the hash), not a device fault.
    if (!this.running) throw new TypeError('transcript hash algorithm not set: call setHash() first');
    return this.running.current();
  }

  bytes(): Uint8Array {
    return concat(this.parts);
  }

  fork(): Transcript {
    const t = new Transcript();
    t.parts = [...this.parts];
    t.size = this.size;
    t.hashId = this.hashId;
    t.running = this.running?.clone();
    return t;
  }

  clear(): void {
    this.parts = [];
    this.size = 0;
    if (this.hashId !== undefined) this.running = new RunningHash(this.hashId);
  }
}
