import { DecodeError } from './errors.js';

/**
 * Bounds-checked little-endian reader over a byte view. It never copies: `bytes()` returns
 * subarrays of the input, so decoded messages share memory with the buffer they came from.
 * Every read names the field it is for, so a short or malformed message produces a
 * `DecodeError` that says exactly which field of which message was wrong.
 */
export class Reader {
  private pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly messageName: string,
    start = 0,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  fail(field: string, reason: string, at: number = this.pos): never {
    throw new DecodeError(this.messageName, field, at, reason);
  }

  private need(n: number, field: string): void {
    if (n > this.buf.length - this.pos) {
      this.fail(field, `needs ${n} byte(s), ${this.buf.length - this.pos} left`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++] as number;
  }

  u16(field: string): number {
    this.need(2, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 2;
    return (b[p] as number) | ((b[p + 1] as number) << 8);
  }

  u24(field: string): number {
    this.need(3, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 3;
    return (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16);
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (
      ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) + (b[p + 3] as number) * 0x1000000
    );
  }

  u16be(field: string): number {
    this.need(2, field);
    const p = this.pos;
    this.pos += 2;
    return ((this.buf[p] as number) << 8) | (this.buf[p + 1] as number);
  }

  /** 8 bytes big-endian; a value beyond 2^53 - 1 is a DecodeError, not a rounded number. */
  u64be(field: string): number {
    const at = this.pos;
    const v = this.u32be(field) * 0x100000000 + this.u32be(field);
    if (!Number.isSafeInteger(v)) this.fail(field, 'integer exceeds 2^53', at);
    return v;
  }

  u32be(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (
      (b[p] as number) * 0x1000000 + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number))
    );
  }

  bytes(n: number, field: string): Uint8Array {
    if (!Number.isInteger(n) || n < 0) this.fail(field, `invalid length ${n}`);
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }

  /** The bytes read so far from `start` — the exact wire form of the message for transcripts. */
  consumed(start = 0): Uint8Array {
    return this.buf.subarray(start, this.pos);
  }

  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return out;
  }
}
