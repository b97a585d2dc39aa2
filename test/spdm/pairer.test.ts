/**
 * RequestPairer: a response is paired with the request just before it (what a dump shows) and
 * with the request it is the outcome of (RESPOND_IF_READY resolved to the original request).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConversationDecoder } from '../../src/spdm/conversation.js';
import { encodeGetVersion, encodeVersion } from '../../src/spdm/messages/version.js';
import { encodeRespondIfReady, encodeResponseNotReady } from '../../src/spdm/messages/error.js';
import { pairingRole, pairingRoleOfBytes, RequestPairer } from '../../src/spdm/pairer.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';

test('a response answers the request before it, and completes it', () => {
  const p = new RequestPairer<number>();
  assert.deepEqual(p.feed('request', 1), {});
  assert.deepEqual(p.feed('response', 2), { answers: 1, request: 1 });
  assert.deepEqual(p.feed('response', 3), {}, 'a second response answers nothing');
  p.feed('request', 4);
  p.feed('request', 5);
  assert.deepEqual(p.feed('response', 6), { answers: 5, request: 5 }, 'the later of two requests');
});

test('ResponseNotReady keeps the request pending; the response after RESPOND_IF_READY is its outcome', () => {
  const p = new RequestPairer<string>();
  p.feed('request', 'GET_MEASUREMENTS');
  assert.deepEqual(p.feed('not-ready', 'ERROR'), { answers: 'GET_MEASUREMENTS', request: 'GET_MEASUREMENTS' });
  p.feed('respond-if-ready', 'RESPOND_IF_READY');
  assert.deepEqual(p.feed('response', 'MEASUREMENTS'), { answers: 'RESPOND_IF_READY', request: 'GET_MEASUREMENTS' });
  p.feed('respond-if-ready', 'RESPOND_IF_READY');
  assert.deepEqual(p.feed('response', 'ERROR'), { answers: 'RESPOND_IF_READY' }, 'nothing left pending');
});

test('a new request replaces the one left pending by ResponseNotReady; clear() forgets both', () => {
  const p = new RequestPairer<string>();
  p.feed('request', 'A');
  p.feed('not-ready', 'ERROR');
  p.feed('request', 'B');
  assert.deepEqual(p.feed('response', 'R'), { answers: 'B', request: 'B' });
  p.feed('request', 'C');
  p.clear();
  assert.deepEqual(p.feed('response', 'R'), {});
});

test('pairing roles, from decoded messages and from bytes', () => {
  const d = new ConversationDecoder();
  const get = d.feed('request', encodeGetVersion());
  assert.equal(pairingRole(get), 'request');
  assert.equal(
    pairingRole(d.feed('response', encodeVersion([{ major: 1, minor: 2, update: 0, alpha: 0 }]))),
    'response',
  );
  const notReady = encodeResponseNotReady(0x12, {
    rdtExponent: 1,
    requestCode: RequestCode.GET_MEASUREMENTS,
    token: 7,
    rdtm: 1,
  });
  assert.equal(pairingRole(d.feed('response', notReady)), 'not-ready');
  const rir = encodeRespondIfReady(0x12, RequestCode.GET_MEASUREMENTS, 7);
  assert.equal(pairingRole(d.feed('request', rir)), 'respond-if-ready');
  assert.equal(pairingRoleOfBytes('response', notReady), 'not-ready');
  assert.equal(pairingRoleOfBytes('request', rir), 'respond-if-ready');
  assert.equal(pairingRoleOfBytes('response', Uint8Array.of(0x12, ResponseCode.ERROR, 0x01, 0)), 'response');
  assert.equal(pairingRoleOfBytes('request', Uint8Array.of(0x12)), 'request');
});
