/**
 * The emulator's heartbeat watchdog, on a fake clock: a session that hears no request for more
 * than twice its HeartbeatPeriod is torn down (its next record is answered InvalidSession), while
 * a session that keeps talking, a session without heartbeat and the connection go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { ErrorCode } from '../../src/spdm/messages/error.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { SUITES, device } from '../support/fixtures.js';

const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;

function setup(heartbeatPeriod: number, req = REQ_FLAGS) {
  const base = device(SUITES[1]!).profile;
  const profile: DeviceProfile = {
    ...base,
    versions: [0x12],
    capabilities: { ...base.capabilities, flags: RSP_FLAGS },
    algorithms: { ...base.algorithms, dhe: [DheGroup.SECP384R1], aead: [AeadAlgo.AES_256_GCM] },
    session: { heartbeatPeriod },
  };
  const clock = { t: 1_000_000 };
  const responder = new Responder(profile, { securedBinding: 'doe', now: () => clock.t });
  const requester = new Requester(new LoopbackTransport(responder, 0x10000, { securedBinding: 'doe' }), {
    versions: [0x12],
    capabilityFlags: req,
    session: {},
  });
  return { responder, requester, clock };
}

const invalidSession = (e: unknown) =>
  isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === ErrorCode.InvalidSession;

test('silent for more than 2 × HeartbeatPeriod: the emulator tears the session down', async () => {
  const { responder, requester, clock } = setup(5);
  await requester.connect();
  const quiet = await requester.startSession();
  const chatty = await requester.startSession();
  assert.equal(quiet.info.heartbeatPeriod, 5, 'the requester sees the period');
  // 10 s is the limit: exactly 10 s of silence is still fine for both.
  clock.t += 10_000;
  await quiet.heartbeat();
  await chatty.heartbeat();
  for (let i = 0; i < 4; i++) {
    clock.t += 4_000;
    await chatty.heartbeat();
  }
  // quiet has now been silent for 16 s.
  responder.expireIdleSessions();
  assert.equal(responder.sessionCount, 1);
  await assert.rejects(quiet.heartbeat(), invalidSession);
  assert.equal(quiet.phase, 'ended');
  await chatty.getMeasurements();
  await requester.getDigests();
  await chatty.end();
});

test('any request of the session resets the watchdog, and the check runs on any request to the emulator', async () => {
  const { responder, requester, clock } = setup(3);
  await requester.connect();
  const s = await requester.startSession();
  clock.t += 5_000;
  await s.getMeasurements(); // not a HEARTBEAT, still a request of the session
  clock.t += 5_000;
  assert.equal(responder.sessionCount, 1);
  clock.t += 1_001; // 6.001 s since the measurements
  await requester.getDigests(); // a request outside the session runs the check too
  assert.equal(responder.sessionCount, 0);
  await assert.rejects(s.heartbeat(), invalidSession);
});

test('HeartbeatPeriod 0, or no HBEAT_CAP on the requester: the session never expires', async () => {
  for (const [period, req] of [
    [0, REQ_FLAGS],
    [5, REQ_FLAGS & ~F.HBEAT],
  ] as const) {
    const { responder, requester, clock } = setup(period, req);
    await requester.connect();
    const s = await requester.startSession();
    assert.equal(s.info.heartbeatPeriod, 0);
    clock.t += 24 * 3600_000;
    responder.expireIdleSessions();
    assert.equal(responder.sessionCount, 1);
    await s.getMeasurements();
    await s.end();
  }
});
