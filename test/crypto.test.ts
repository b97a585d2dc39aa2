import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemRandom } from '../src/crypto/random.js';
import { combinedPrefix } from '../src/crypto/signature.js';

test('system randomness: requested sizes, independent buffers, no repeats', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const n = systemRandom(32);
    assert.equal(n.length, 32);
    const hex = Buffer.from(n).toString('hex');
    assert.ok(!seen.has(hex));
    seen.add(hex);
  }
  const a = systemRandom(8);
  const before = Buffer.from(a).toString('hex');
  systemRandom(8).fill(0xff);
  assert.equal(Buffer.from(a).toString('hex'), before, 'handing out bytes never aliases an earlier result');
  assert.equal(systemRandom(5000).length, 5000);
});

test('1.2+ signing prefix: version string four times, context right-aligned in 36 bytes', () => {
  const p = combinedPrefix(0x13, 'responder-challenge_auth signing');
  assert.equal(p.length, 100);
  assert.equal(Buffer.from(p.subarray(0, 64)).toString('latin1'), 'dmtf-spdm-v1.3.*'.repeat(4));
  assert.deepEqual([...p.subarray(64, 68)], [0, 0, 0, 0]);
  assert.equal(Buffer.from(p.subarray(68)).toString('latin1'), 'responder-challenge_auth signing');
});
