/**
 * The Transcript itself: its hash is the hash of exactly the messages appended, whenever it is
 * asked for — before or after a fork, a snapshot, more messages or a last message made whole —
 * never a stale or doubled prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digest } from '../../src/crypto/hash.js';
import { Transcript } from '../../src/spdm/transcript.js';
import { concat } from '../../src/wire/bytes.js';

const SHA384 = 0x02;
const m = (...b: number[]) => Uint8Array.from(b);
const A = m(0x10, 0x84, 0, 0);
const B = m(0x10, 0x04, 0, 0, 0, 1);
const C = m(0x13, 0x83, 0xff);

test('digest() is the hash of the messages, and asking again gives the same bytes', () => {
  const t = new Transcript(SHA384);
  t.append(A, B);
  const first = t.digest();
  assert.deepEqual(first, digest(SHA384, A, B));
  assert.deepEqual(t.digest(), first);
});

test('a transcript taken on after digest() hashes everything, once', () => {
  const t = new Transcript(SHA384);
  t.append(A);
  assert.deepEqual(t.digest(), digest(SHA384, A));
  t.append(B, C);
  assert.deepEqual(t.digest(), digest(SHA384, A, B, C));
  assert.equal(t.length, A.length + B.length + C.length);
});

test('a fork of a transcript whose hash was ended continues from all of it, and leaves it alone', () => {
  const t = new Transcript(SHA384);
  t.append(A, B);
  t.digest();
  const f = t.fork();
  f.append(C);
  assert.deepEqual(f.digest(), digest(SHA384, A, B, C));
  assert.deepEqual(t.digest(), digest(SHA384, A, B));
  t.append(C, C);
  assert.deepEqual(t.digest(), digest(SHA384, A, B, C, C));
});

test('a digest taken on the way: forks and appends after it agree', () => {
  const t = new Transcript(SHA384);
  t.append(A);
  assert.deepEqual(t.digest(), digest(SHA384, A));
  const f = t.fork();
  t.append(B);
  f.append(C);
  assert.deepEqual(t.digest(), digest(SHA384, A, B));
  assert.deepEqual(f.digest(), digest(SHA384, A, C));
  assert.deepEqual(t.digest(), digest(SHA384, A, B));
});

test('messages appended before the hash was chosen are hashed when it is; clear() starts empty', () => {
  const t = new Transcript();
  t.append(A, B);
  assert.throws(() => t.digest(), TypeError);
  t.setHash(SHA384);
  assert.deepEqual(t.digest(), digest(SHA384, A, B));
  t.clear();
  t.append(C);
  assert.deepEqual(t.digest(), digest(SHA384, C));
});

test('snapshot(), extendLast() and fork() keep each transcript the hash of exactly its messages', () => {
  const t = new Transcript(SHA384);
  t.append(A, m(0x10, 0x04));
  const snap = t.snapshot();
  // The last message, now whole: only a message that starts with the same bytes may replace it.
  assert.equal(t.extendLast(m(0x10, 0x05, 0, 0)), false);
  assert.equal(t.extendLast(m(0x10)), false);
  assert.equal(t.extendLast(B), true);
  assert.deepEqual(t.bytes(), concat([A, B]));
  assert.equal(t.length, A.length + B.length);
  assert.deepEqual(snap.digest(), digest(SHA384, A, m(0x10, 0x04)));
  assert.deepEqual(snap.bytes(), concat([A, m(0x10, 0x04)]));
  const next = t.fork();
  next.append(C);
  assert.deepEqual(next.digest(), digest(SHA384, A, B, C));
  // Used again after its continuation was made, the transcript is still the hash of its own messages.
  assert.deepEqual(t.digest(), digest(SHA384, A, B));
  t.append(C, C);
  assert.deepEqual(t.digest(), digest(SHA384, A, B, C, C));
  assert.deepEqual(new Transcript().snapshot().length, 0);
  assert.throws(() => new Transcript().snapshot().digest(), TypeError);
});
