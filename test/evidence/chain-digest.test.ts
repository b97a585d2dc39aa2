/**
 * The cached hash of a recorded chain (what CertChainHash and Ct are compared with): the same
 * bytes as hashing the chain each time, under each hash algorithm separately, and text that does
 * not decode is refused every time rather than remembered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BaseHashAlgo } from '../../src/crypto/algorithms.js';
import { digest } from '../../src/crypto/hash.js';
import { recordedChainDigest } from '../../src/evidence/chain-digest.js';
import { DecodeError } from '../../src/wire/errors.js';
import { toHex } from '../../src/wire/bytes.js';

test('a chain hashes to the same digest cached as uncached, per algorithm, and a changed byte is a changed digest', () => {
  const chain = randomBytes(1500);
  const hex = toHex(chain);
  for (let round = 0; round < 2; round++) {
    for (const algo of [BaseHashAlgo.SHA_256, BaseHashAlgo.SHA_384, BaseHashAlgo.SHA_512]) {
      assert.deepEqual(recordedChainDigest(algo, hex), digest(algo, chain));
    }
  }
  const altered = Uint8Array.from(chain);
  altered[700] = (altered[700] ?? 0) ^ 1;
  assert.deepEqual(recordedChainDigest(BaseHashAlgo.SHA_384, toHex(altered)), digest(BaseHashAlgo.SHA_384, altered));
  assert.notDeepEqual(
    recordedChainDigest(BaseHashAlgo.SHA_384, toHex(altered)),
    recordedChainDigest(BaseHashAlgo.SHA_384, hex),
  );
  // Upper-case text of the same bytes: the same digest.
  assert.deepEqual(recordedChainDigest(BaseHashAlgo.SHA_256, hex.toUpperCase()), digest(BaseHashAlgo.SHA_256, chain));
});

test('text that is not hex throws on every call, and an unknown algorithm too', () => {
  for (let round = 0; round < 2; round++) {
    assert.throws(() => recordedChainDigest(BaseHashAlgo.SHA_256, 'abzz'), DecodeError);
    assert.throws(() => recordedChainDigest(0x4000, 'abcd'));
  }
});
