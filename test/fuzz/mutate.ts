/**
 * Byte mutations of genuine messages. An edit list is data (JSON-serialisable), applied to a seed
 * message: set or flip a byte, write a 16/32-bit little-endian value (a boundary, or the number of
 * bytes that follow ± a little — what a length field would plausibly be wrong by), cut, insert or
 * delete bytes, append. Offsets are taken modulo the message length and biased towards the header
 * and the start, where SPDM, DOE and record layers keep their lengths and counts.
 */
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import type { Json } from './target.js';

export type Edit =
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'u16' | 'u32'; readonly at: number; readonly value: number }
  /** Writes (bytes after the field + delta) as a u16: an almost-right length. */
  | { readonly op: 'len16'; readonly at: number; readonly delta: number }
  | { readonly op: 'cut'; readonly at: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: string }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'append'; readonly bytes: string };

const offset = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 15 }) },
  { weight: 2, arbitrary: fc.nat({ max: 0xffff }) },
);
const byte = fc.integer({ min: 0, max: 255 });
const boundary16 = fc.constantFrom(0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff);
const boundary32 = fc.constantFrom(0, 1, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff);
const hexBytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max }).map(toHex);

export const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), at: offset, value: byte }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('flip' as const), at: offset, bit: fc.integer({ min: 0, max: 7 }) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('u16' as const), at: offset, value: boundary16 }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('u32' as const), at: offset, value: boundary32 }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('len16' as const), at: offset, delta: fc.integer({ min: -4, max: 4 }) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cut' as const), at: fc.nat({ max: 0xffff }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: offset, bytes: hexBytes(8) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('delete' as const), at: offset, count: fc.integer({ min: 1, max: 8 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('append' as const), bytes: hexBytes(8) }) },
);

export const editsArb = (max = 4): fc.Arbitrary<Edit[]> => fc.array(editArb, { minLength: 1, maxLength: max });

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at));
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

/** Applies `edits` in order to a copy of `seed`. */
export function applyEdits(seed: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let b: Uint8Array = seed.slice();
  for (const e of edits) {
    if (e.op === 'append') {
      b = splice(b, b.length, 0, fromHex(e.bytes));
      continue;
    }
    if (e.op === 'insert') {
      b = splice(b, e.at % (b.length + 1), 0, fromHex(e.bytes));
      continue;
    }
    if (b.length === 0) continue;
    const at = e.at % b.length;
    switch (e.op) {
      case 'set':
        b[at] = e.value;
        break;
      case 'flip':
        b[at] = (b[at] as number) ^ (1 << e.bit);
        break;
      case 'u16':
      case 'len16': {
        const v = e.op === 'len16' ? Math.max(0, Math.min(0xffff, b.length - at - 2 + e.delta)) : e.value;
        b[at] = v & 0xff;
        if (at + 1 < b.length) b[at + 1] = (v >>> 8) & 0xff;
        break;
      }
      case 'u32':
        for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (e.value >>> (8 * i)) & 0xff;
        break;
      case 'cut':
        b = b.slice(0, e.at % b.length);
        break;
      case 'delete':
        b = splice(b, at, Math.min(e.count, b.length - at), new Uint8Array(0));
        break;
    }
  }
  return b;
}

/** A seed picked from a corpus plus edits, or plain random bytes now and then. */
export function mutantArb(
  corpus: readonly Uint8Array[],
  opts: { maxEdits?: number; randomMax?: number } = {},
): fc.Arbitrary<Uint8Array> {
  const seeds = corpus.length > 0 ? corpus : [new Uint8Array(0)];
  const mutated = fc
    .tuple(fc.nat({ max: seeds.length - 1 }), editsArb(opts.maxEdits ?? 4))
    .map(([i, edits]) => applyEdits(seeds[i] as Uint8Array, edits));
  return fc.oneof(
    { weight: 9, arbitrary: mutated },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: opts.randomMax ?? 256 }) },
  );
}

export const bytesToJson = (b: Uint8Array): Json => ({ hex: toHex(b) });

export function bytesFromJson(j: Json): Uint8Array {
  if (typeof j === 'object' && j !== null && !Array.isArray(j) && typeof (j as { hex?: unknown }).hex === 'string') {
    return fromHex((j as { hex: string }).hex);
  }
  throw new Error('regression input: expected {"hex": "..."}');
}

export const textToJson = (s: string): Json => ({ text: s });

export function textFromJson(j: Json): string {
  if (typeof j === 'object' && j !== null && !Array.isArray(j) && typeof (j as { text?: unknown }).text === 'string')
    return (j as { text: string }).text;
  throw new Error('regression input: expected {"text": "..."}');
}
