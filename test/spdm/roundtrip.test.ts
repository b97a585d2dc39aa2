/**
 * Round trips for every codec and every version whose layout differs (1.0-1.4): encode -> decode
 * gives the fields back, decode -> encode gives the exact bytes back, and the encoded length is
 * the one the spec gives for that variant. The corpus is in samples.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLES } from './samples.js';

test('the corpus covers every codec', () => {
  const prefixes = [
    'GET_VERSION', 'VERSION', 'GET_CAPABILITIES', 'CAPABILITIES', 'NEGOTIATE_ALGORITHMS', 'ALGORITHMS',
    'GET_DIGESTS', 'DIGESTS', 'GET_CERTIFICATE', 'CERTIFICATE', 'CHALLENGE', 'CHALLENGE_AUTH',
    'GET_MEASUREMENTS', 'MEASUREMENTS', 'measurement record', 'ERROR', 'RESPOND_IF_READY', 'opaque data general', 'opaque data dsp0277-1.0',
  ];
  for (const p of prefixes) assert.ok(SAMPLES.some((s) => s.name === p || s.name.startsWith(`${p} `)), `no sample for ${p}`);
  const names = new Set(SAMPLES.map((s) => s.name));
  assert.equal(names.size, SAMPLES.length, 'sample names are unique');
});

for (const s of SAMPLES) {
  test(`round trip: ${s.name}`, () => {
    s.roundTrip();
  });
}
