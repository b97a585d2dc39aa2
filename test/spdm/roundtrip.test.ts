/**
 * Round trips for every codec and every version whose layout differs (1.0-1.4): encode -> decode
 * gives the fields back, decode -> encode gives the exact bytes back, and the encoded length is
 * the one the spec gives for that variant. The corpus is in samples.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DECODED_CODES } from '../../src/spdm/index.js';
import { SAMPLES } from './samples.js';

test('the corpus covers every codec', () => {
  const prefixes = [
    'GET_VERSION',
    'VERSION',
    'GET_CAPABILITIES',
    'CAPABILITIES',
    'NEGOTIATE_ALGORITHMS',
    'ALGORITHMS',
    'GET_DIGESTS',
    'DIGESTS',
    'GET_CERTIFICATE',
    'CERTIFICATE',
    'CHALLENGE',
    'CHALLENGE_AUTH',
    'GET_MEASUREMENTS',
    'MEASUREMENTS',
    'measurement record',
    'ERROR',
    'RESPOND_IF_READY',
    'opaque data general',
    'opaque data dsp0277-1.0',
    'KEY_EXCHANGE',
    'KEY_EXCHANGE_RSP',
    'FINISH',
    'FINISH_RSP',
    'PSK_EXCHANGE',
    'PSK_EXCHANGE_RSP',
    'PSK_FINISH',
    'PSK_FINISH_RSP',
    'HEARTBEAT',
    'HEARTBEAT_ACK',
    'KEY_UPDATE',
    'KEY_UPDATE_ACK',
    'END_SESSION',
    'END_SESSION_ACK',
    'GET_ENCAPSULATED_REQUEST',
    'ENCAPSULATED_REQUEST',
    'DELIVER_ENCAPSULATED_RESPONSE',
    'ENCAPSULATED_RESPONSE_ACK',
    'GET_CSR',
    'CSR',
    'SET_CERTIFICATE',
    'SET_CERTIFICATE_RSP',
    'GET_ENDPOINT_INFO',
    'ENDPOINT_INFO',
    'DeviceClassIdentifier',
    'GET_KEY_PAIR_INFO',
    'KEY_PAIR_INFO',
    'SET_KEY_PAIR_INFO',
    'SET_KEY_PAIR_INFO_ACK',
    'GET_MEASUREMENT_EXTENSION_LOG',
    'MEASUREMENT_EXTENSION_LOG',
    'DMTF MEL',
    'CHUNK_SEND',
    'CHUNK_SEND_ACK',
    'CHUNK_GET',
    'CHUNK_RESPONSE',
    'VENDOR_DEFINED_REQUEST',
    'VENDOR_DEFINED_RESPONSE',
    'GET_SUPPORTED_EVENT_TYPES',
    'SUPPORTED_EVENT_TYPES',
    'SUBSCRIBE_EVENT_TYPES',
    'SUBSCRIBE_EVENT_TYPES_ACK',
    'SEND_EVENT',
    'EVENT_ACK',
  ];
  for (const p of prefixes)
    assert.ok(
      SAMPLES.some((s) => s.name === p || s.name.startsWith(`${p} `)),
      `no sample for ${p}`,
    );
  // Every decodable SPDM code has samples.
  for (const kind of DECODED_CODES.values())
    assert.ok(
      SAMPLES.some((s) => s.name === kind || s.name.startsWith(`${kind} `)),
      `no sample for ${kind}`,
    );
  const names = new Set(SAMPLES.map((s) => s.name));
  assert.equal(names.size, SAMPLES.length, 'sample names are unique');
});

for (const s of SAMPLES) {
  test(`round trip: ${s.name}`, () => {
    s.roundTrip();
  });
}
