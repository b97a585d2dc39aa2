/**
 * The requester's round trip over a transport that answers within the call (exchangeNow: the
 * loopback to a handler with handleNow): the same retries, waits, deadlines and typed errors as
 * the promise path, since only the promise hops are left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import { Requester } from '../../src/requester/requester.js';
import { Responder } from '../../src/responder/responder.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { encodeError, encodeResponseNotReady, ErrorCode } from '../../src/spdm/messages/error.js';
import { SUITES, device } from '../support/fixtures.js';
import { recordingClock } from '../support/recording-clock.js';

const CHALLENGE = 0x83;
const RESPOND_IF_READY = 0xff;

/** A device answering within the call, with `answer` given the first say on each request. */
function nowHandler(answer: (req: Uint8Array, inner: Responder) => Uint8Array | undefined): SpdmHandler {
  const inner = new Responder(device(SUITES[0]!).profile);
  return {
    handle: async (req) => answer(req, inner) ?? inner.handleNow(req),
    handleNow: (req) => answer(req, inner) ?? inner.handleNow(req),
  };
}

test('a handler with handleNow gives the loopback an exchangeNow; one without does not', () => {
  const responder = new Responder(device(SUITES[0]!).profile);
  assert.equal(typeof new LoopbackTransport(responder).exchangeNow, 'function');
  assert.equal(new LoopbackTransport({ handle: (r) => responder.handle(r) }).exchangeNow, undefined);
});

test('Busy answered within the call is retried after a wait, and the flow completes', async () => {
  let busy = 2;
  const clock = recordingClock(Date.UTC(2026, 11, 4));
  const t = new LoopbackTransport(
    nowHandler((req) => (req[1] === CHALLENGE && busy-- > 0 ? encodeError(0x13, ErrorCode.Busy) : undefined)),
  );
  const ev = await new Requester(t, { clock }).authenticate();
  assert.equal(ev.signatures[0]?.kind, 'CHALLENGE_AUTH');
  assert.equal(ev.signatures[0]?.verified, true);
  assert.equal(clock.slept.length, 2, 'one wait per Busy');
});

test('ResponseNotReady answered within the call is waited out and collected with RESPOND_IF_READY', async () => {
  const clock = recordingClock(Date.UTC(2026, 11, 4));
  let held: Uint8Array | undefined;
  const t = new LoopbackTransport(
    nowHandler((req, inner) => {
      if (req[1] === CHALLENGE && !held) {
        held = inner.handleNow(req);
        return encodeResponseNotReady(0x13, { rdtExponent: 10, requestCode: CHALLENGE, token: 3, rdtm: 1 });
      }
      if (req[1] === RESPOND_IF_READY) return held;
      return undefined;
    }),
  );
  const ev = await new Requester(t, { clock }).authenticate();
  assert.equal(ev.signatures[0]?.kind, 'CHALLENGE_AUTH');
  assert.deepEqual(clock.slept, [2 ** 10 / 1000]);
});

test('endless Busy within the call ends in BUSY after busyRetries, as a rejection', async () => {
  const clock = recordingClock(Date.UTC(2026, 11, 4));
  const t = new LoopbackTransport(
    nowHandler((req) => (req[1] === CHALLENGE ? encodeError(0x13, ErrorCode.Busy) : undefined)),
  );
  const flow = new Requester(t, { clock, busyRetries: 3 }).authenticate();
  await assert.rejects(flow, (e) => isSpdmError(e, 'BUSY') && /after 3 retries/.test(e.message));
  assert.equal(clock.slept.length, 3);
});

test('a handler that throws within the call fails the request with TRANSPORT_ERROR (a rejection, not a throw)', async () => {
  const t = new LoopbackTransport(
    nowHandler((req) => {
      if (req[1] === CHALLENGE) throw new Error('device fell over');
      return undefined;
    }),
  );
  let p: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    p = new Requester(t).authenticate();
  });
  await assert.rejects(p!, (e) => isSpdmError(e, 'TRANSPORT_ERROR') && /device fell over/.test(e.message));
});

test('an ERROR other than Busy or ResponseNotReady within the call is the typed DEVICE_ERROR', async () => {
  const t = new LoopbackTransport(
    nowHandler((req) => (req[1] === CHALLENGE ? encodeError(0x13, ErrorCode.UnexpectedRequest) : undefined)),
  );
  await assert.rejects(
    new Requester(t).authenticate(),
    (e) => isSpdmError(e, 'DEVICE_ERROR') && e.details['errorCode'] === ErrorCode.UnexpectedRequest,
  );
});

test('a request larger than the loopback carries is refused within the call as TRANSPORT_ERROR', async () => {
  const responder = new Responder(device(SUITES[0]!).profile);
  // 16 bytes: GET_VERSION and GET_CAPABILITIES fit, NEGOTIATE_ALGORITHMS does not.
  const t = new LoopbackTransport(responder, 16);
  await assert.rejects(
    new Requester(t, { dataTransferSize: 64 }).connect(),
    (e) => isSpdmError(e, 'TRANSPORT_ERROR') && /exceeds the transport maximum 16/.test(e.message),
  );
});
