/** A device that breaks the protocol is rejected with the specific error code a caller can act on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError, type SpdmErrorCode } from '../../src/wire/errors.js';
import { generateKeyPair } from '../../src/x509/generate.js';
import { misbehaving, type Misbehavior } from '../../src/responder/faults/misbehavior.js';
import { encodeGetVersion } from '../../src/spdm/messages/version.js';
import { encodeGetCapabilities } from '../../src/spdm/messages/capabilities.js';
import { encodeNegotiateAlgorithms } from '../../src/spdm/messages/algorithms.js';
import { encodeGetDigests } from '../../src/spdm/messages/digests.js';
import { decodeError, encodeRespondIfReady, ErrorCode } from '../../src/spdm/messages/error.js';
import type { RequesterOptions } from '../../src/requester/options.js';
import type { Clock } from '../../src/transport/clock.js';
import { SUITES, device, misbehavingPair, pair, variant } from '../support/fixtures.js';

function isCode(code: SpdmErrorCode) {
  return (e: unknown) => {
    assert.ok(e instanceof SpdmError, `expected SpdmError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

async function expectFailure(
  misbehave: Misbehavior,
  code: SpdmErrorCode,
  opts: { versions?: number[]; requester?: RequesterOptions } = {},
) {
  const built = device(SUITES[0]!);
  const { requester } = misbehavingPair(
    variant(built.profile, opts.versions ? { versions: opts.versions } : {}),
    misbehave,
    opts.requester,
  );
  await assert.rejects(requester.authenticate(), isCode(code));
}

/** A clock whose sleeps return at once but are recorded. */
function fakeClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => Date.UTC(2026, 10, 23), sleep: async (ms) => void slept.push(ms) };
}

test('wrong signature → SIGNATURE_INVALID, for every version', async () => {
  for (const v of [0x10, 0x11, 0x12, 0x13])
    await expectFailure({ badSignature: true }, 'SIGNATURE_INVALID', { versions: [v] });
});

test('signatures checked in the threadpool (signatureChecks) refuse and accept as inline checks do', async () => {
  const requester: RequesterOptions = { signatureChecks: 'threadpool' };
  for (const v of [0x10, 0x12, 0x13])
    await expectFailure({ badSignature: true }, 'SIGNATURE_INVALID', { versions: [v], requester });
  await expectFailure({ signingKey: generateKeyPair(0x0010).privateKey }, 'SIGNATURE_INVALID', { requester });
  // A genuine device: the same signatures recorded, kind for kind, over the same transcripts' shape.
  const built = device(SUITES[0]!);
  const kinds = async (o: RequesterOptions) =>
    (await pair(built.profile, o).requester.authenticate()).signatures.map((x) => [
      x.kind,
      x.slot,
      x.transcript.length,
    ]);
  assert.deepEqual(await kinds(requester), await kinds({ signatureChecks: 'inline' }));
});

test('genuine chain signed with another key (a clone) → SIGNATURE_INVALID', async () => {
  await expectFailure({ signingKey: generateKeyPair(0x0010).privateKey }, 'SIGNATURE_INVALID');
});

test('responder nonce reused → NONCE_MISMATCH', async () => {
  await expectFailure({ staleNonce: true }, 'NONCE_MISMATCH');
});

test('RequesterContext not echoed (1.3) → CONTEXT_MISMATCH', async () => {
  await expectFailure({ wrongRequesterContext: true }, 'CONTEXT_MISMATCH', { versions: [0x13] });
});

test('truncated CHALLENGE_AUTH → DECODE_ERROR naming the field', async () => {
  const built = device(SUITES[0]!);
  const { requester } = misbehavingPair(built.profile, { truncate: { code: 0x83, bytes: 10 } });
  await assert.rejects(requester.authenticate(), (e: unknown) => {
    assert.ok(e instanceof SpdmError && e.code === 'DECODE_ERROR');
    assert.match(e.message, /CHALLENGE_AUTH\.Signature/);
    return true;
  });
});

test('every truncation of every response is a typed error, never a crash', async () => {
  const built = device(SUITES[0]!);
  for (const code of [0x84, 0xe1, 0xe3, 0x81, 0x82, 0x83, 0xe0]) {
    for (const cut of [1, 3, 17]) {
      const { requester } = misbehavingPair(built.profile, { truncate: { code, bytes: cut } });
      await assert.rejects(
        requester.authenticate(),
        (e: unknown) => e instanceof SpdmError,
        `code 0x${code.toString(16)} cut ${cut}`,
      );
    }
  }
});

test('slow device: ResponseNotReady is waited out with RESPOND_IF_READY', async () => {
  const built = device(SUITES[0]!);
  const clock = fakeClock();
  const { requester, responder } = misbehavingPair(
    built.profile,
    { notReady: { code: 0x83, times: 2, rdtExponent: 10, rdtm: 4 } },
    { clock },
  );
  const ev = await requester.authenticate();
  assert.equal(ev.signatures[0]!.verified, true);
  assert.equal(responder.stats.get(0xff), 1, 'one RESPOND_IF_READY collected the response');
  assert.deepEqual(clock.slept, [1.024], 'waited RDT = 2^10 µs');
});

test('ResponseNotReady knob: only the RESPOND_IF_READY naming the parked request and its token collects the response', async () => {
  const h = misbehaving(device(SUITES[0]!).profile, { notReady: { code: 0x81, times: 1, rdtExponent: 10, rdtm: 1 } });
  await h.handle(encodeGetVersion());
  await h.handle(
    encodeGetCapabilities({ version: 0x12, ctExponent: 0, flags: 0x6, dataTransferSize: 4096, maxSpdmMsgSize: 4096 }),
  );
  await h.handle(
    encodeNegotiateAlgorithms(0x12, {
      measurementSpec: 1,
      otherParams: 2,
      baseAsym: 0x10,
      baseHash: 0x01,
      melSpec: 0,
      extAsym: [],
      extHash: [],
      algStructs: [],
    }),
  );
  const notReady = decodeError(await h.handle(encodeGetDigests(0x12))).notReady;
  assert.ok(notReady, 'GET_DIGESTS answered with ResponseNotReady');
  assert.equal(
    decodeError(await h.handle(encodeRespondIfReady(0x12, 0x81, (notReady.token + 1) & 0xff))).errorCode,
    ErrorCode.UnexpectedRequest,
    'wrong token',
  );
  assert.equal(
    decodeError(await h.handle(encodeRespondIfReady(0x12, 0x83, notReady.token))).errorCode,
    ErrorCode.UnexpectedRequest,
    'wrong request code',
  );
  assert.equal((await h.handle(encodeRespondIfReady(0x12, 0x81, notReady.token)))[1], 0x01, 'DIGESTS collected');
});

test('device that never answers → TIMEOUT', async () => {
  await expectFailure({ hang: { code: 0x81 } }, 'TIMEOUT', { requester: { rttMs: 20 } });
});

test('Busy: retried, and given up after the bound', async () => {
  const built = device(SUITES[0]!);
  let { requester } = misbehavingPair(built.profile, { busy: { code: 0x81, times: 2 } }, { clock: fakeClock() });
  await requester.authenticate();
  ({ requester } = misbehavingPair(
    built.profile,
    { busy: { code: 0x81, times: 5 } },
    { clock: fakeClock(), busyRetries: 3 },
  ));
  await assert.rejects(requester.authenticate(), isCode('BUSY'));
});

test('response with another SPDM version → VERSION_MISMATCH', async () => {
  await expectFailure({ wrongVersion: 0x11 }, 'VERSION_MISMATCH', { versions: [0x12] });
});

test('slot digest that does not match the chain → DIGEST_MISMATCH', async () => {
  await expectFailure({ badDigest: true }, 'DIGEST_MISMATCH');
});

test('CHALLENGE_AUTH CertChainHash of another chain → DIGEST_MISMATCH', async () => {
  await expectFailure({ badCertChainHash: true }, 'DIGEST_MISMATCH');
});

test('algorithm selected that was not offered → ALGORITHM_MISMATCH', async () => {
  await expectFailure({ selectAsym: 0x0080 }, 'ALGORITHM_MISMATCH', { requester: { baseAsym: [0x0010] } });
});

test("chain from an unknown root still authenticates: trust is the verifier's decision, not the requester's", async () => {
  const built = device(SUITES[0]!);
  const { requester } = pair(built.profile);
  const ev = await requester.authenticate();
  assert.equal(ev.signatures.length, 2);
});

test('bytes after a response: up to three zero bytes of transport padding are accepted, anything else is DECODE_ERROR', async () => {
  const built = device(SUITES[0]!);
  const pad = (extra: Uint8Array) => ({
    async handle(req: Uint8Array) {
      const r = await responder.handle(req);
      return req[1] === 0x83 ? new Uint8Array([...r, ...extra]) : r;
    },
  });
  const { Responder } = await import('../../src/responder/responder.js');
  const { Requester } = await import('../../src/requester/requester.js');
  const { LoopbackTransport } = await import('../../src/transport/loopback.js');
  let responder = new Responder(built.profile);
  await new Requester(new LoopbackTransport(pad(new Uint8Array([0, 0, 0])))).authenticate();
  responder = new Responder(built.profile);
  await assert.rejects(
    new Requester(new LoopbackTransport(pad(new Uint8Array([0, 0, 0, 0])))).authenticate(),
    isCode('DECODE_ERROR'),
  );
  responder = new Responder(built.profile);
  await assert.rejects(
    new Requester(new LoopbackTransport(pad(new Uint8Array([1])))).authenticate(),
    isCode('DECODE_ERROR'),
  );
});
