/** Small byte helpers shared by every layer. */
import { DecodeError } from './errors.js';

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/**
 * `views.map(toHex)`, encoded in one pass when they all lie in one buffer (the fields of one
 * decoded message): the span that holds them is encoded once and each is a slice of that text.
 * A requester writes a dozen short fields of each response into its evidence, and each
 * encoding's fixed cost was most of it.
 */
export function toHexEach(views: readonly Uint8Array[]): string[] {
  const first = views[0];
  if (first === undefined) return [];
  let lo = first.byteOffset;
  let hi = lo + first.byteLength;
  let total = 0;
  for (const v of views) {
    if (v.buffer !== first.buffer) return views.map(toHex);
    lo = Math.min(lo, v.byteOffset);
    hi = Math.max(hi, v.byteOffset + v.byteLength);
    total += v.byteLength;
  }
  // Views far apart in a shared pool (node's Buffer pool) are not worth a span that large.
  if (hi - lo > 2 * total + 256) return views.map(toHex);
  const all = Buffer.from(first.buffer, lo, hi - lo).toString('hex');
  return views.map((v) => all.slice(2 * (v.byteOffset - lo), 2 * (v.byteOffset - lo + v.byteLength)));
}

/**
 * Hex text (whitespace ignored) to bytes. Hex comes from files and API clients (evidence, log
 * exports, policies), so bad hex is a DecodeError naming where it stopped, not a TypeError.
 */
export function fromHex(hex: string, what = 'hex'): Uint8Array {
  // Fast path for clean hex (what this library writes): Buffer's decoder stops at the first pair
  // that is not two hex digits, so a full-length result means every character was one. Log
  // verification decodes every transcript this way; the two scans below cost more than the decode.
  const fast = Buffer.from(hex, 'hex');
  if (fast.length * 2 === hex.length) return new Uint8Array(fast);
  const clean = hex.replace(/\s+/g, '');
  const bad = clean.search(/[^0-9a-fA-F]/);
  if (bad >= 0) throw new DecodeError(what, 'hex', bad, `character ${JSON.stringify(clean[bad])} is not a hex digit`);
  if (clean.length % 2 !== 0)
    throw new DecodeError(what, 'hex', clean.length, `odd number of hex digits (${clean.length})`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/**
 * Where joinedInScratch joins parts: kept between calls, since a buffer of its own per call (a
 * backing store outside V8's heap, then its sweep) cost more than hashing or encoding a
 * transcript of a few KiB.
 */
let joinScratch = new Uint8Array(4096);
const JOIN_SCRATCH_MAX = 64 * 1024;

/**
 * The concatenation of `parts` as a view of a scratch buffer shared by every caller, or undefined
 * beyond 64 KiB. Valid only until the next call: for a caller that reads it at once, within the
 * same synchronous step (a one-shot hash, a hex encoding), and keeps nothing of it.
 */
export function joinedInScratch(parts: readonly Uint8Array[]): Uint8Array | undefined {
  let n = 0;
  for (const p of parts) n += p.length;
  if (n > JOIN_SCRATCH_MAX) return undefined;
  if (n > joinScratch.length)
    joinScratch = new Uint8Array(Math.min(JOIN_SCRATCH_MAX, Math.max(n, 2 * joinScratch.length)));
  let o = 0;
  for (const p of parts) {
    joinScratch.set(p, o);
    o += p.length;
  }
  return joinScratch.subarray(0, n);
}

/** toHex(concat(parts)), without a buffer made for the concatenation. */
export function hexOfParts(parts: readonly Uint8Array[]): string {
  if (parts.length === 1) return toHex(parts[0] as Uint8Array);
  return toHex(joinedInScratch(parts) ?? concat(parts));
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

export function popcount(v: number): number {
  let n = 0;
  let x = v >>> 0;
  while (x) {
    x &= x - 1;
    n++;
  }
  return n;
}

/** True when exactly one bit of `v` is set. */
export function isSingleBit(v: number): boolean {
  return v !== 0 && (v & (v - 1)) === 0;
}

export function asciiBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}
