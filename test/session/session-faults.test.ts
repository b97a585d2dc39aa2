/**
 * Bad input in a live session: a tampered record, a replayed or skipped sequence number, wrong
 * verify data, a truncated record, a record after END_SESSION. Each is a typed error, the session
 * is torn down, and the connection (clear requests) and the other sessions go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { ErrorCode } from '../../src/spdm/messages/error.js';
import { encodeHeartbeat } from '../../src/spdm/messages/heartbeat.js';
import { ResponseCode, RequestCode } from '../../src/spdm/codes.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import type { SecuredTransport } from '../../src/session/record.js';
import { SecureSession } from '../../src/session/secure-session.js';
import { deriveHandshakeSecrets } from '../../src/session/key-schedule.js';
import { SUITES, device } from '../support/fixtures.js';

const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;

function profile(flags = RSP_FLAGS): DeviceProfile {
  const base = device(SUITES[1]!).profile;
  return {
    ...base,
    versions: [0x12],
    capabilities: { ...base.capabilities, flags },
    algorithms: { ...base.algorithms, dhe: [DheGroup.SECP384R1], aead: [AeadAlgo.AES_256_GCM] },
  };
}

/** Hooks between requester and emulator: each may rewrite what passes (clear or secured, either way). */
interface Hooks {
  clearRequest?: (b: Uint8Array) => Uint8Array;
  clearResponse?: (b: Uint8Array) => Uint8Array;
  securedRequest?: (b: Uint8Array) => Uint8Array;
  securedResponse?: (b: Uint8Array, req: Uint8Array) => Promise<Uint8Array> | Uint8Array;
}

function wired(binding: SecuredTransport = 'doe', flags = { rsp: RSP_FLAGS, req: REQ_FLAGS }) {
  const responder = new Responder(profile(flags.rsp), { securedBinding: binding });
  const hooks: Hooks = {};
  const records: Uint8Array[] = [];
  const handler: SpdmHandler = {
    async handle(b) {
      const out = await responder.handle(hooks.clearRequest ? hooks.clearRequest(b) : b);
      return hooks.clearResponse ? hooks.clearResponse(out) : out;
    },
    async handleSecured(b) {
      const req = hooks.securedRequest ? hooks.securedRequest(b) : b;
      records.push(req.slice());
      const out = await responder.handleSecured(req);
      return hooks.securedResponse ? hooks.securedResponse(out, req) : out;
    },
  };
  const requester = new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: binding }), {
    versions: [0x12],
    capabilityFlags: flags.req,
    session: {},
  });
  return { responder, requester, hooks, records };
}

function flip(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  const i = at < 0 ? c.length + at : at;
  c[i] = (c[i] as number) ^ 0x01;
  return c;
}

test('tampered request record: the device answers DecryptError in the clear and drops that session only', async () => {
  const { responder, requester, hooks } = wired();
  await requester.connect();
  const other = await requester.startSession();
  const s = await requester.startSession();
  assert.equal(responder.sessionCount, 2);
  hooks.securedRequest = (b) =>
    b[0] === (s.sessionId & 0xff) && b[2] === ((s.sessionId >>> 16) & 0xff) ? flip(b, 8) : b;
  await assert.rejects(
    s.heartbeat(),
    (e) => isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === ErrorCode.DecryptError,
  );
  assert.equal(s.phase, 'ended');
  assert.equal(responder.sessionCount, 1);
  await assert.rejects(s.heartbeat(), (e) => isSpdmError(e, 'SESSION_CLOSED') && e.details.sessionId !== undefined);
  delete hooks.securedRequest;
  await other.heartbeat();
  await other.getMeasurements();
  await requester.getDigests();
  await other.end();
});

test('tampered response record: SESSION_AUTH_FAILED naming session and sequence; the session is gone', async () => {
  const { requester, hooks } = wired();
  await requester.connect();
  const s = await requester.startSession();
  const other = await requester.startSession();
  hooks.securedResponse = (b) => (b[0] === (s.sessionId & 0xff) ? flip(b, -1) : b);
  await assert.rejects(s.heartbeat(), (e) => {
    assert.ok(isSpdmError(e, 'SESSION_AUTH_FAILED'), String(e));
    assert.equal(e.details.sequence, '0');
    assert.equal(e.details.sessionId, `0x${s.sessionId.toString(16).padStart(8, '0')}`);
    return true;
  });
  assert.equal(s.phase, 'ended');
  delete hooks.securedResponse;
  await other.heartbeat();
  await requester.getDigests();
});

test('replayed sequence number (MCTP layout): SESSION_SEQUENCE at the requester, DecryptError from the device', async () => {
  const { requester, records, responder } = wired('mctp');
  await requester.connect();
  const s = await requester.startSession();
  await s.heartbeat();
  // The device sees an old request again: its wire sequence number is behind.
  const old = records.at(-1) as Uint8Array;
  const reply = await responder.handleSecured(old);
  assert.equal(reply[1], ResponseCode.ERROR);
  assert.equal(reply[2], ErrorCode.DecryptError);
  assert.equal(responder.sessionCount, 0);

  // And the requester sees an old response again.
  const t = wired('mctp');
  await t.requester.connect();
  const s2 = await t.requester.startSession();
  let first: Uint8Array | undefined;
  t.hooks.securedResponse = (b) => {
    first ??= b.slice();
    return first;
  };
  await s2.heartbeat();
  await assert.rejects(s2.heartbeat(), (e) => isSpdmError(e, 'SESSION_SEQUENCE') && e.details.got === 0);
  assert.equal(s2.phase, 'ended');
  assert.equal(s.phase, 'established', 'the other requester session is untouched');
});

test('skipped or replayed sequence numbers in the shared session state, per binding', () => {
  const params = { version: 0x12, hashId: 0x02, aeadId: AeadAlgo.AES_256_GCM };
  for (const binding of ['mctp', 'doe', 'tcp'] as const) {
    const mk = (role: 'requester' | 'responder') => {
      const x = new SecureSession({
        role,
        reqSessionId: 1,
        rspSessionId: 2,
        securedVersion: 0x1200,
        aeadId: params.aeadId,
        binding,
        mode: 'encrypt',
      });
      // Fresh secrets per side: end() zeroes the keys it was given.
      x.installHandshake(deriveHandshakeSecrets(params, new Uint8Array(48).fill(7), 'dhe', new Uint8Array(48).fill(9)));
      return x;
    };
    const tx = mk('requester');
    const r0 = tx.seal(encodeHeartbeat(0x12));
    tx.seal(encodeHeartbeat(0x12)); // lost on the way
    const r2 = tx.seal(encodeHeartbeat(0x12));
    const rx = mk('responder');
    assert.deepEqual(rx.open(r0), encodeHeartbeat(0x12));
    const want = binding === 'mctp' ? 'SESSION_SEQUENCE' : 'SESSION_AUTH_FAILED';
    assert.throws(
      () => rx.open(r2),
      (e) => isSpdmError(e, want) && e.details.sequence === '1',
    );
    assert.equal(rx.phase, 'ended');
    const rx2 = mk('responder');
    rx2.open(r0);
    assert.throws(
      () => rx2.open(r0),
      (e) => isSpdmError(e, want),
      'a replay of record 0',
    );
  }
});

test('truncated records: DECODE_ERROR at the requester, DecryptError from the device; sessions torn down', async () => {
  const { requester, hooks, responder } = wired();
  await requester.connect();
  const s = await requester.startSession();
  hooks.securedResponse = (b) => b.subarray(0, 10);
  await assert.rejects(s.heartbeat(), (e) => isSpdmError(e, 'DECODE_ERROR'));
  assert.equal(s.phase, 'ended');
  delete hooks.securedResponse;
  const s2 = await requester.startSession();
  hooks.securedRequest = (b) => b.subarray(0, b.length - 5);
  await assert.rejects(
    s2.heartbeat(),
    (e) => isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === ErrorCode.DecryptError,
  );
  assert.equal(s2.phase, 'ended');
  assert.equal(responder.sessionCount, 1, 'only the first session (its device side never saw a fault) remains');
  delete hooks.securedRequest;
  await requester.getDigests();
});

test('record after END_SESSION: the device no longer knows the session; the requester refuses to send', async () => {
  const { requester, records, responder } = wired();
  await requester.connect();
  const s = await requester.startSession();
  await s.heartbeat();
  const kept = (records.at(-1) as Uint8Array).slice();
  await s.end();
  const reply = await responder.handleSecured(kept);
  assert.equal(reply[1], ResponseCode.ERROR);
  assert.equal(reply[2], ErrorCode.InvalidSession);
  await assert.rejects(s.heartbeat(), (e) => isSpdmError(e, 'SESSION_CLOSED'));
  await assert.rejects(s.getMeasurements(), (e) => isSpdmError(e, 'SESSION_CLOSED'));
  await requester.getDigests();
});

test('wrong RequesterVerifyData (FINISH in the clear): ERROR DecryptError, no session on either side', async () => {
  const flags = { rsp: RSP_FLAGS | F.HANDSHAKE_IN_THE_CLEAR, req: REQ_FLAGS | F.HANDSHAKE_IN_THE_CLEAR };
  const { requester, hooks, responder } = wired('doe', flags);
  await requester.connect();
  hooks.clearRequest = (b) => (b[1] === RequestCode.FINISH ? flip(b, -1) : b);
  await assert.rejects(
    requester.startSession(),
    (e) => isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === ErrorCode.DecryptError,
  );
  assert.equal(responder.sessionCount, 0);
  delete hooks.clearRequest;
  const s = await requester.startSession();
  await s.heartbeat();
  await s.end();
});

test('wrong ResponderVerifyData in KEY_EXCHANGE_RSP / FINISH_RSP: VERIFY_DATA_MISMATCH; a bad signature: SIGNATURE_INVALID', async () => {
  const { requester, hooks } = wired();
  await requester.connect();
  hooks.clearResponse = (b) => (b[1] === ResponseCode.KEY_EXCHANGE_RSP ? flip(b, -1) : b);
  await assert.rejects(
    requester.startSession(),
    (e) => isSpdmError(e, 'VERIFY_DATA_MISMATCH') && e.details.field === 'ResponderVerifyData',
  );
  // The signature sits right before the 48-byte verify data.
  hooks.clearResponse = (b) => (b[1] === ResponseCode.KEY_EXCHANGE_RSP ? flip(b, -49) : b);
  await assert.rejects(requester.startSession(), (e) => isSpdmError(e, 'SIGNATURE_INVALID'));
  delete hooks.clearResponse;
  await (await requester.startSession()).end();

  const hitc = wired('doe', { rsp: RSP_FLAGS | F.HANDSHAKE_IN_THE_CLEAR, req: REQ_FLAGS | F.HANDSHAKE_IN_THE_CLEAR });
  await hitc.requester.connect();
  hitc.hooks.clearResponse = (b) => (b[1] === ResponseCode.FINISH_RSP ? flip(b, -1) : b);
  await assert.rejects(hitc.requester.startSession(), (e) => isSpdmError(e, 'VERIFY_DATA_MISMATCH'));
});

test('sequence numbers never wrap: a direction past its limit refuses with SESSION_SEQUENCE', async () => {
  const { requester } = wired();
  await requester.connect();
  const s = await requester.startSession({ sequenceLimit: 2n });
  await s.heartbeat();
  await s.heartbeat();
  // Sequence number 2 is the last: it goes to END_SESSION (no KEY_UPD_CAP here), not to the request.
  await assert.rejects(s.heartbeat(), (e) => isSpdmError(e, 'SESSION_SEQUENCE'));
  assert.equal(s.phase, 'ended');
  assert.throws(
    () =>
      new SecureSession({
        role: 'requester',
        reqSessionId: 0xffff,
        rspSessionId: 0xffff,
        securedVersion: 0x1200,
        aeadId: 2,
        binding: 'doe',
        mode: 'encrypt',
      }),
    TypeError,
  );
});
