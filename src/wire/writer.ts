/**
 * Growable little-endian writer. Encoders size their output exactly, so the common case is a
 * single allocation; `finish()` returns a view of the written bytes.
 */
export class Writer {
  private buf: Uint8Array;
  private pos = 0;
  constructor(sizeHint = 64) {
    this.buf = new Uint8Array(Math.max(16, sizeHint));
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  get length(): number {
    return this.pos;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf[this.pos++] = v & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    return this;
  }

  u24(v: number): this {
    this.ensure(3);
    this.buf[this.pos++] = v & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf[this.pos++] = v & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    return this;
  }

  /** Big-endian forms, for formats of our own that are not SPDM's (the signature log's leaves). */
  u16be(v: number): this {
    this.ensure(2);
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  /** `v` up to 2^53 - 1, as 8 bytes big-endian. */
  u64be(v: number): this {
    const hi = Math.floor(v / 0x100000000);
    return this.u32be(hi).u32be(v - hi * 0x100000000);
  }

  u32be(v: number): this {
    this.ensure(4);
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  finish(): Uint8Array {
    // An encoder that sized its output exactly filled the buffer: it is the message, no view needed.
    return this.pos === this.buf.length ? this.buf : this.buf.subarray(0, this.pos);
  }
}
