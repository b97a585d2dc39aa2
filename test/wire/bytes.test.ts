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
