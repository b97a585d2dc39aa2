/** Hex from files and API clients: bad hex is a DecodeError saying where and why, never a TypeError or silent truncation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { DecodeError } from '../../src/wire/errors.js';

test('fromHex: round trip, whitespace ignored', () => {
  assert.equal(toHex(fromHex('00 ff\n7A')), '00ff7a');
  assert.deepEqual([...fromHex('')], []);
});

test('fromHex: a non-hex character or an odd length is a DecodeError naming the position', () => {
  assert.throws(
    () => fromHex('00zz', 'evidence.signature'),
    (e: unknown) =>
      e instanceof DecodeError &&
      e.messageName === 'evidence.signature' &&
      e.offset === 2 &&
      /"z" is not a hex digit/.test(e.message),
  );
  assert.throws(
    () => fromHex('abc'),
    (e: unknown) => e instanceof DecodeError && e.offset === 3 && /odd number/.test(e.message),
  );
  // Buffer.from(…, 'hex') would stop quietly at the first bad digit; fromHex never does.
  assert.throws(() => fromHex('0g00'), DecodeError);
});

test('fromHex: clean hex of either case decodes; a bad digit after good ones, or a lone one, still names its place', () => {
  assert.equal(toHex(fromHex('DEADbeef00')), 'deadbeef00');
  // The result is a copy the caller owns, not a view into a shared pool.
  const a = fromHex('0102');
  assert.equal(a.byteOffset, 0);
  assert.equal(a.buffer.byteLength, 2);
  assert.throws(
    () => fromHex('00ff0g'),
    (e: unknown) => e instanceof DecodeError && e.offset === 5 && /"g" is not a hex digit/.test(e.message),
  );
  assert.throws(
    () => fromHex('00f'),
    (e: unknown) => e instanceof DecodeError && e.offset === 3 && /odd number/.test(e.message),
  );
  // A sign or a space in the second digit of a pair: Buffer would take the first digit alone.
  assert.throws(() => fromHex('0-'), DecodeError);
  assert.throws(() => fromHex('ab0 '.trim() + '+'), DecodeError);
});
