/** The emulator answers bad requests with the ERROR codes DSP0274 prescribes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Responder } from '../../src/responder/responder.js';
import { decodeError, ErrorCode } from '../../src/spdm/messages/error.js';
import { encodeGetVersion, decodeVersion } from '../../src/spdm/messages/version.js';
import { encodeGetCapabilities, decodeCapabilities, CapabilityFlag } from '../../src/spdm/messages/capabilities.js';
import { encodeNegotiateAlgorithms, decodeAlgorithms } from '../../src/spdm/messages/algorithms.js';
import { encodeGetDigests } from '../../src/spdm/messages/digests.js';
import { encodeGetCertificate } from '../../src/spdm/messages/certificate.js';
import { encodeChallenge } from '../../src/spdm/messages/challenge.js';
import { encodeRespondIfReady } from '../../src/spdm/messages/error.js';
import { SUITES, device, variant } from '../support/fixtures.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import { encodeFinish } from '../../src/spdm/messages/finish.js';
import { encodeHeartbeat } from '../../src/spdm/messages/heartbeat.js';
import { encodeEndSession } from '../../src/spdm/messages/end-session.js';

function errorOf(resp: Uint8Array): number {
  assert.equal(resp[1], 0x7f, `expected ERROR, got 0x${resp[1]?.toString(16)}`);
  return decodeError(resp).errorCode;
}

async function negotiated(version = 0x12): Promise<Responder> {
  const r = new Responder(variant(device(SUITES[0]!).profile, { versions: [0x10, 0x11, 0x12, 0x13] }));
  decodeVersion(await r.handle(encodeGetVersion()));
  decodeCapabilities(
    await r.handle(
      encodeGetCapabilities({ version, ctExponent: 0, flags: 0x6, dataTransferSize: 4096, maxSpdmMsgSize: 4096 }),
    ),
  );
  decodeAlgorithms(
    await r.handle(
      encodeNegotiateAlgorithms(version, {
        measurementSpec: 1,
        otherParams: 2,
        baseAsym: 0x10,
        baseHash: 0x01,
        melSpec: 0,
        extAsym: [],
        extHash: [],
        algStructs: [],
      }),
    ),
  );
  return r;
}

test('requests before VCA → UnexpectedRequest', async () => {
  const r = new Responder(device(SUITES[0]!).profile);
  assert.equal(errorOf(await r.handle(encodeGetDigests(0x12))), ErrorCode.UnexpectedRequest);
});

test('GET_CAPABILITIES for a version the device did not offer → VersionMismatch', async () => {
  const r = new Responder(variant(device(SUITES[0]!).profile, { versions: [0x10, 0x11] }));
  await r.handle(encodeGetVersion());
  assert.equal(
    errorOf(
      await r.handle(
        encodeGetCapabilities({ version: 0x12, ctExponent: 0, flags: 6, dataTransferSize: 4096, maxSpdmMsgSize: 4096 }),
      ),
    ),
    ErrorCode.VersionMismatch,
  );
});

test('request with a version other than the negotiated one → VersionMismatch', async () => {
  const r = await negotiated(0x12);
  assert.equal(errorOf(await r.handle(encodeGetDigests(0x11))), ErrorCode.VersionMismatch);
});

test('unsupported request → UnsupportedRequest naming the code', async () => {
  const r = await negotiated();
  const resp = await r.handle(new Uint8Array([0x12, 0xe4, 0, 0]));
  assert.equal(errorOf(resp), ErrorCode.UnsupportedRequest);
  assert.equal(decodeError(resp).errorData, 0xe4);
});

test('malformed requests → InvalidRequest', async () => {
  const r = await negotiated();
  const challenge = encodeChallenge(0x12, { slot: 0, measurementSummaryHashType: 0, nonce: new Uint8Array(32) });
  assert.equal(errorOf(await r.handle(challenge.subarray(0, 20))), ErrorCode.InvalidRequest);
  assert.equal(
    errorOf(
      await r.handle(encodeChallenge(0x12, { slot: 5, measurementSummaryHashType: 0, nonce: new Uint8Array(32) })),
    ),
    ErrorCode.InvalidRequest,
  );
  assert.equal(
    errorOf(await r.handle(encodeGetCertificate(0x12, { slot: 0, offset: 60000, length: 100 }))),
    ErrorCode.InvalidRequest,
  );
  assert.equal(errorOf(await r.handle(new Uint8Array([0x12]))), ErrorCode.InvalidRequest);
});

test('GET_CAPABILITIES with DataTransferSize below the minimum → InvalidRequest', async () => {
  const r = new Responder(device(SUITES[0]!).profile);
  await r.handle(encodeGetVersion());
  assert.equal(
    errorOf(
      await r.handle(
        encodeGetCapabilities({ version: 0x12, ctExponent: 0, flags: 6, dataTransferSize: 16, maxSpdmMsgSize: 4096 }),
      ),
    ),
    ErrorCode.InvalidRequest,
  );
});

test('NEGOTIATE_ALGORITHMS with nothing in common → InvalidRequest', async () => {
  const r = new Responder(device(SUITES[0]!).profile);
  await r.handle(encodeGetVersion());
  await r.handle(
    encodeGetCapabilities({ version: 0x12, ctExponent: 0, flags: 6, dataTransferSize: 4096, maxSpdmMsgSize: 4096 }),
  );
  const req = encodeNegotiateAlgorithms(0x12, {
    measurementSpec: 1,
    otherParams: 0,
    baseAsym: 0x80,
    baseHash: 0x01,
    melSpec: 0,
    extAsym: [],
    extHash: [],
    algStructs: [],
  });
  assert.equal(errorOf(await r.handle(req)), ErrorCode.InvalidRequest);
});

test('RESPOND_IF_READY with nothing pending → UnexpectedRequest', async () => {
  const r = await negotiated();
  assert.equal(errorOf(await r.handle(encodeRespondIfReady(0x12, 0x83, 1))), ErrorCode.UnexpectedRequest);
});

test('GET_VERSION resets the connection', async () => {
  const r = await negotiated();
  await r.handle(encodeGetVersion());
  assert.equal(errorOf(await r.handle(encodeGetDigests(0x12))), ErrorCode.UnexpectedRequest);
});

test('session-only requests in the clear → SessionRequired from 1.2, Unspecified in 1.1 (as libspdm; the Responder-Validator checks it)', async () => {
  const flags = DEFAULT_RESPONDER_FLAGS | CapabilityFlag.KEY_EX | CapabilityFlag.ENCRYPT | CapabilityFlag.HBEAT;
  for (const [version, expected] of [
    [0x11, ErrorCode.Unspecified],
    [0x12, ErrorCode.SessionRequired],
    [0x13, ErrorCode.SessionRequired],
  ] as const) {
    const r = new Responder(variant(device(SUITES[0]!).profile, { versions: [0x11, 0x12, 0x13], flags }));
    decodeVersion(await r.handle(encodeGetVersion()));
    const reqFlags =
      CapabilityFlag.CERT | CapabilityFlag.CHAL | CapabilityFlag.KEY_EX | CapabilityFlag.ENCRYPT | CapabilityFlag.HBEAT;
    decodeCapabilities(
      await r.handle(
        encodeGetCapabilities({
          version,
          ctExponent: 0,
          flags: reqFlags,
          dataTransferSize: 4096,
          maxSpdmMsgSize: 4096,
        }),
      ),
    );
    decodeAlgorithms(
      await r.handle(
        encodeNegotiateAlgorithms(version, {
          measurementSpec: 1,
          otherParams: version >= 0x12 ? 2 : 0,
          baseAsym: 0x10,
          baseHash: 0x01,
          melSpec: 0,
          extAsym: [],
          extHash: [],
          algStructs: [],
        }),
      ),
    );
    const finish = encodeFinish(version, {
      signatureIncluded: false,
      reqSlotId: 0,
      requesterVerifyData: new Uint8Array(32),
    });
    for (const [name, req] of [
      ['FINISH', finish],
      ['HEARTBEAT', encodeHeartbeat(version)],
      ['END_SESSION', encodeEndSession(version, { negotiatedStateClearing: false })],
    ] as const)
      assert.equal(errorOf(await r.handle(req)), expected, `${name} at 0x${version.toString(16)}`);
  }
});
