/**
 * KEY_UPDATE in a live session, the real requester ⇄ the device emulator in-process: UpdateKey
 * and UpdateAllKeys each followed by VerifyNewKey, measurements under the new keys, sequence
 * numbers starting again at 0, several updates in a row. Then what goes wrong: an ACK with
 * another Tag or for another operation, an old-key record replayed after the update, requests in
 * the wrong state. Each is a typed error or the right ERROR; a session torn down takes neither
 * the connection nor another session with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { ErrorCode, decodeError } from '../../src/spdm/messages/error.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import { encodeKeyUpdate, encodeKeyUpdateAck, KeyUpdateOperation } from '../../src/spdm/messages/key-update.js';
import { Responder, type ResponderOptions } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import type { SecuredTransport } from '../../src/session/record.js';
import { SecureSession } from '../../src/session/secure-session.js';
import { deriveDataSecrets, deriveHandshakeSecrets } from '../../src/session/key-schedule.js';
import { encodeHeartbeat } from '../../src/spdm/messages/heartbeat.js';
import { SUITES, device } from '../support/fixtures.js';

const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.KEY_UPD;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.KEY_UPD;

function profile(version: number, flags = RSP_FLAGS): DeviceProfile {
  const base = device(SUITES[1]!).profile;
  return {
    ...base,
    versions: [version],
    capabilities: { ...base.capabilities, flags },
    algorithms: { ...base.algorithms, dhe: [DheGroup.SECP384R1], aead: [AeadAlgo.AES_256_GCM] },
    session: { heartbeatPeriod: 5 },
  };
}

interface Wired {
  responder: Responder;
  requester: Requester;
  /** Every secured request and response record, in order. */
  requests: Uint8Array[];
  responses: Uint8Array[];
  hooks: { securedResponse?: (b: Uint8Array) => Uint8Array };
}

function wired(
  o: {
    binding?: SecuredTransport;
    version?: number;
    rsp?: number;
    req?: number;
    responder?: ResponderOptions;
  } = {},
): Wired {
  const binding = o.binding ?? 'doe';
  const version = o.version ?? 0x12;
  const responder = new Responder(profile(version, o.rsp), { securedBinding: binding, ...o.responder });
  const requests: Uint8Array[] = [];
  const responses: Uint8Array[] = [];
  const hooks: Wired['hooks'] = {};
  const handler: SpdmHandler = {
    handle: (b) => responder.handle(b),
    async handleSecured(b) {
      requests.push(b.slice());
      const out = await responder.handleSecured(b);
      responses.push(out.slice());
      return hooks.securedResponse ? hooks.securedResponse(out) : out;
    },
  };
  const requester = new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: binding }), {
    versions: [version],
    capabilityFlags: o.req ?? REQ_FLAGS,
    session: {},
  });
  return { responder, requester, requests, responses, hooks };
}

/** The 2-byte wire sequence number of an MCTP-layout record. */
function wireSequence(record: Uint8Array): number {
  return (record[4] as number) | ((record[5] as number) << 8);
}

for (const binding of ['doe', 'mctp'] as const) {
  for (const version of [0x11, 0x12, 0x13]) {
    test(`UpdateKey and UpdateAllKeys over ${binding}, SPDM ${version >> 4}.${version & 0xf}: measurements under the new keys, several in a row`, async () => {
      const { requester, responder } = wired({ binding, version });
      await requester.connect();
      const s = await requester.startSession();
      for (const kind of ['one', 'all', 'all', 'one', 'one', 'all'] as const) {
        const run = await s.keyUpdate(kind);
        assert.equal(run.operation, kind === 'all' ? 'UpdateAllKeys' : 'UpdateKey');
        const m = await s.getMeasurements();
        assert.ok(m.signature?.verified, 'signed measurements travel under the new keys');
      }
      await s.heartbeat();
      assert.equal(responder.stats.get(RequestCode.KEY_UPDATE), 12, 'six updates, each with its VerifyNewKey');
      await s.end();
      assert.equal(responder.sessionCount, 0);
      await requester.getDigests();
    });
  }
}

test('sequence numbers start again at 0 for each new key (MCTP record layout shows them)', async () => {
  const { requester, requests, responses } = wired({ binding: 'mctp' });
  await requester.connect();
  const s = await requester.startSession();
  for (let i = 0; i < 3; i++) await s.heartbeat();
  // FINISH went under the handshake keys; the three HEARTBEATs are data records 0..2.
  const mark = requests.length;
  await s.keyUpdate('one');
  // UpdateKey: the request under the old key (3), its ACK under the unchanged response key (3);
  // VerifyNewKey under the new request key (0), its ACK under the response key (4).
  assert.deepEqual(requests.slice(mark).map(wireSequence), [3, 0]);
  assert.deepEqual(responses.slice(mark).map(wireSequence), [3, 4]);
  await s.heartbeat();
  const mark2 = requests.length;
  await s.keyUpdate('all');
  // UpdateAllKeys: the request under the request key (2), its ACK already under the new response
  // key (0); VerifyNewKey under the new request key (0), its ACK (1).
  assert.deepEqual(requests.slice(mark2).map(wireSequence), [2, 0]);
  assert.deepEqual(responses.slice(mark2).map(wireSequence), [0, 1]);
  await s.heartbeat();
  assert.equal(wireSequence(requests.at(-1) as Uint8Array), 1);
  assert.equal(wireSequence(responses.at(-1) as Uint8Array), 2);
});

test('an old-key record replayed after the update: the device drops that session only', async () => {
  for (const kind of ['one', 'all'] as const) {
    const { requester, responder, requests } = wired({ binding: 'mctp' });
    await requester.connect();
    const other = await requester.startSession();
    const s = await requester.startSession();
    await s.heartbeat();
    const oldRecord = requests.at(-1) as Uint8Array;
    await s.keyUpdate(kind);
    await s.heartbeat();
    const reply = await responder.handleSecured(oldRecord);
    assert.equal(reply[1], ResponseCode.ERROR);
    assert.equal(reply[2], ErrorCode.DecryptError);
    assert.equal(responder.sessionCount, 1);
    await assert.rejects(
      s.heartbeat(),
      (e) => isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === ErrorCode.InvalidSession,
    );
    assert.equal(s.phase, 'ended');
    await other.getMeasurements();
    await requester.getDigests();
    await other.end();
  }
});

test('an old-key response replayed to the requester after UpdateAllKeys: SESSION_* error, that session ends', async () => {
  const { requester, hooks } = wired({ binding: 'doe' });
  await requester.connect();
  const other = await requester.startSession();
  const s = await requester.startSession();
  let old: Uint8Array | undefined;
  hooks.securedResponse = (b) => (old = b.slice());
  await s.heartbeat();
  delete hooks.securedResponse;
  await s.keyUpdate('all');
  hooks.securedResponse = () => old as Uint8Array;
  await assert.rejects(s.heartbeat(), (e) => isSpdmError(e, 'SESSION_AUTH_FAILED'));
  assert.equal(s.phase, 'ended');
  delete hooks.securedResponse;
  await other.heartbeat();
  await requester.getDigests();
});

/** A device that lies in one KEY_UPDATE_ACK: `edit` rewrites it before it is sealed. */
function lyingAck(which: number, edit: (ack: Uint8Array) => void): ResponderOptions {
  return {
    reviseSessionResponse: (req, rsp) => {
      if (req[1] !== RequestCode.KEY_UPDATE || req[2] !== which || rsp[1] !== ResponseCode.KEY_UPDATE_ACK) return rsp;
      const out = rsp.slice();
      edit(out);
      return out;
    },
  };
}

test('KEY_UPDATE_ACK with another Tag, or for another operation: KEY_UPDATE_FAILED, the session torn down', async () => {
  const cases: [string, 'one' | 'all', ResponderOptions][] = [
    ['Tag of UpdateKey', 'one', lyingAck(KeyUpdateOperation.UPDATE_KEY, (a) => (a[3] = (a[3] as number) ^ 0x5a))],
    ['Tag of UpdateAllKeys', 'all', lyingAck(KeyUpdateOperation.UPDATE_ALL_KEYS, (a) => (a[3] = (a[3] as number) ^ 1))],
    ['operation', 'one', lyingAck(KeyUpdateOperation.UPDATE_KEY, (a) => (a[2] = KeyUpdateOperation.UPDATE_ALL_KEYS))],
    ['VerifyNewKey Tag', 'one', lyingAck(KeyUpdateOperation.VERIFY_NEW_KEY, (a) => (a[3] = (a[3] as number) ^ 0x80))],
    [
      'VerifyNewKey operation',
      'all',
      lyingAck(KeyUpdateOperation.VERIFY_NEW_KEY, (a) => (a[2] = KeyUpdateOperation.UPDATE_KEY)),
    ],
  ];
  for (const [name, kind, options] of cases) {
    const { requester, responder } = wired({ responder: options });
    await requester.connect();
    const other = await requester.startSession();
    const s = await requester.startSession();
    await assert.rejects(
      s.keyUpdate(kind),
      (e) => isSpdmError(e, 'KEY_UPDATE_FAILED') && e.details.sessionId !== undefined,
      name,
    );
    assert.equal(s.phase, 'ended', name);
    await assert.rejects(s.heartbeat(), (e) => isSpdmError(e, 'SESSION_CLOSED'), name);
    assert.equal(responder.sessionCount, 2, 'the device never saw a fault');
    await other.getMeasurements();
    await requester.getDigests();
  }
});

test('a KEY_UPDATE_ACK longer than its 4 bytes: DECODE_ERROR, the session torn down', async () => {
  const { requester } = wired({
    responder: {
      reviseSessionResponse: (req, rsp) =>
        req[1] === RequestCode.KEY_UPDATE && rsp[1] === ResponseCode.KEY_UPDATE_ACK ? Uint8Array.of(...rsp, 0) : rsp,
    },
  });
  await requester.connect();
  const other = await requester.startSession();
  const s = await requester.startSession();
  await assert.rejects(
    s.keyUpdate('one'),
    (e) => isSpdmError(e, 'DECODE_ERROR') && e.details.messageName === 'KEY_UPDATE_ACK',
  );
  assert.equal(s.phase, 'ended');
  await other.heartbeat();
});

test('an UpdateAllKeys ACK under the old response key: KEY_UPDATE_FAILED', async () => {
  // A device that keeps its response key but claims UpdateAllKeys: it refuses (an update of its
  // own is pending, so its key stays), and the lie turns the refusal into a well-echoed ACK.
  const { requester } = wired({
    responder: {
      reviseSessionResponse: (req, rsp) =>
        req[1] === RequestCode.KEY_UPDATE && req[2] === KeyUpdateOperation.UPDATE_ALL_KEYS
          ? encodeKeyUpdateAck(0x12, { operation: KeyUpdateOperation.UPDATE_ALL_KEYS, tag: req[3] as number })
          : rsp,
    },
  });
  await requester.connect();
  const other = await requester.startSession();
  const s = await requester.startSession();
  const ack = await s.send(encodeKeyUpdate(0x12, { operation: KeyUpdateOperation.UPDATE_KEY, tag: 7 }));
  assert.equal(ack[1], ResponseCode.KEY_UPDATE_ACK);
  await assert.rejects(
    s.keyUpdate('all'),
    (e) => isSpdmError(e, 'KEY_UPDATE_FAILED') && /old response key/.test(e.message),
  );
  assert.equal(s.phase, 'ended');
  await other.heartbeat();
  await requester.getDigests();
});

test("a device's ERROR to UpdateAllKeys (under its old key) leaves the session as it was", async () => {
  const { requester, responder } = wired({ binding: 'mctp' });
  await requester.connect();
  const s = await requester.startSession();
  // An UpdateKey the requester module did not run: the device now has an update pending and
  // refuses another one with InvalidRequest, sealed under its unchanged response key.
  const ack = await s.send(encodeKeyUpdate(0x12, { operation: KeyUpdateOperation.UPDATE_KEY, tag: 1 }));
  assert.equal(ack[1], ResponseCode.KEY_UPDATE_ACK);
  await assert.rejects(
    s.keyUpdate('all'),
    (e) => isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === ErrorCode.InvalidRequest,
  );
  assert.equal(s.phase, 'established', 'the response key rolled back, the session goes on');
  // Our request key is still the old one, which the device still accepts while its update is pending.
  const m = await s.getMeasurements();
  assert.ok(m.signature?.verified);
  assert.equal(responder.sessionCount, 1);
  await s.end();
});

test('requests in the wrong state: the right ERROR, the session keeps its keys', async () => {
  const { requester, responder } = wired();
  await requester.connect();
  const s = await requester.startSession();
  const vnk = (tag: number) => encodeKeyUpdate(0x12, { operation: KeyUpdateOperation.VERIFY_NEW_KEY, tag });
  // VerifyNewKey with no update pending.
  let r = await s.send(vnk(3));
  assert.equal(decodeError(r).errorCode, ErrorCode.InvalidRequest);
  // KEY_UPDATE with a length other than 4.
  r = await s.send(Uint8Array.of(0x12, RequestCode.KEY_UPDATE, 1, 0, 0));
  assert.equal(decodeError(r).errorCode, ErrorCode.InvalidRequest);
  // KeyOperation outside 1..3.
  r = await s.send(encodeKeyUpdate(0x12, { operation: 4, tag: 0 }));
  assert.equal(decodeError(r).errorCode, ErrorCode.InvalidRequest);
  // Another version than the connection's.
  r = await s.send(encodeKeyUpdate(0x11, { operation: 1, tag: 0 }));
  assert.equal(decodeError(r).errorCode, ErrorCode.VersionMismatch);
  assert.equal(s.phase, 'established');
  await s.keyUpdate('all');
  await s.getMeasurements();
  // Outside any session: SessionRequired (1.2+), before anything is negotiated: UnexpectedRequest.
  const clear = await responder.handle(encodeKeyUpdate(0x12, { operation: 1, tag: 0 }));
  assert.equal(decodeError(clear).errorCode, ErrorCode.SessionRequired);
  const fresh = new Responder(profile(0x12), { securedBinding: 'doe' });
  const early = await fresh.handle(encodeKeyUpdate(0x12, { operation: 1, tag: 0 }));
  assert.equal(decodeError(early).errorCode, ErrorCode.UnexpectedRequest);
  await s.end();
  // After END_SESSION the requester refuses before sending anything.
  const before = responder.stats.get(RequestCode.KEY_UPDATE);
  await assert.rejects(s.keyUpdate('one'), (e) => isSpdmError(e, 'SESSION_CLOSED'));
  assert.equal(responder.stats.get(RequestCode.KEY_UPDATE), before);
});

test('SPDM 1.1 outside a session: Unspecified (1.1 has no SessionRequired)', async () => {
  const { requester, responder } = wired({ version: 0x11 });
  await requester.connect();
  const clear = await responder.handle(encodeKeyUpdate(0x11, { operation: 2, tag: 0 }));
  assert.equal(decodeError(clear).errorCode, ErrorCode.Unspecified);
});

test('KEY_UPD_CAP missing on either side: UNSUPPORTED before anything is sent, UnsupportedRequest from the device', async () => {
  for (const [rsp, req] of [
    [RSP_FLAGS & ~F.KEY_UPD, REQ_FLAGS],
    [RSP_FLAGS, REQ_FLAGS & ~F.KEY_UPD],
  ] as const) {
    const { requester, responder } = wired({ rsp, req });
    await requester.connect();
    const s = await requester.startSession();
    await assert.rejects(s.keyUpdate('all'), (e) => isSpdmError(e, 'UNSUPPORTED'));
    assert.equal(responder.stats.get(RequestCode.KEY_UPDATE), undefined);
    const r = await s.send(encodeKeyUpdate(0x12, { operation: 1, tag: 9 }));
    const err = decodeError(r);
    assert.equal(err.errorCode, ErrorCode.UnsupportedRequest);
    assert.equal(err.errorData, RequestCode.KEY_UPDATE);
    await s.heartbeat();
    await s.end();
  }
});

// ---------------------------------------------------------------------------------------------
// The record state alone: which key opens what, and that replaced keys are zeroised.

const PARAMS = { version: 0x12, hashId: 0x02, aeadId: AeadAlgo.AES_256_GCM };

function pair(binding: SecuredTransport = 'mctp') {
  const mk = (role: 'requester' | 'responder') => {
    const x = new SecureSession({
      role,
      reqSessionId: 1,
      rspSessionId: 2,
      securedVersion: 0x1200,
      aeadId: PARAMS.aeadId,
      binding,
      mode: 'encrypt',
    });
    const hs = deriveHandshakeSecrets(PARAMS, new Uint8Array(48).fill(7), 'dhe', new Uint8Array(48).fill(9));
    x.installHandshake(hs);
    const ds = deriveDataSecrets(PARAMS, hs.handshakeSecret, new Uint8Array(48).fill(3));
    x.installData(ds);
    return { session: x, data: ds };
  };
  return { req: mk('requester'), rsp: mk('responder') };
}

const allZero = (b: Uint8Array) => b.every((x) => x === 0);
const hb = encodeHeartbeat(0x12);

test('SecureSession: a pending update opens old-key records until committed; commit zeroises the old key', () => {
  const { req, rsp } = pair();
  const beforeUpdate = req.session.seal(hb); // under the old request key, sequence 0
  req.session.updateKeys('request', PARAMS);
  req.session.commitKeyUpdate('request');
  assert.equal(req.session.sendSequence, 0n, 'a new key starts at sequence 0');
  assert.ok(allZero(req.data.request.key) && allZero(req.data.request.secret), 'the requester dropped its old key');
  rsp.session.updateKeys('request', PARAMS);
  assert.ok(rsp.session.keyUpdatePending('request'));
  assert.deepEqual(rsp.session.open(beforeUpdate), hb);
  assert.equal(rsp.session.openedUnderOldKey, true);
  assert.deepEqual(rsp.session.open(req.session.seal(hb)), hb);
  assert.equal(rsp.session.openedUnderOldKey, false);
  rsp.session.commitKeyUpdate('request');
  assert.ok(allZero(rsp.data.request.key) && allZero(rsp.data.request.iv) && allZero(rsp.data.request.secret));
  // Once committed, the old key opens nothing: a replay under it tears the session down.
  assert.throws(
    () => rsp.session.open(beforeUpdate),
    (e) => isSpdmError(e, 'SESSION_SEQUENCE') || isSpdmError(e, 'SESSION_AUTH_FAILED'),
  );
  assert.equal(rsp.session.phase, 'ended');
});

test('SecureSession: rollback restores the old key and its sequence number; end zeroises a pending update', () => {
  for (const binding of ['mctp', 'doe'] as const) {
    const { req, rsp } = pair(binding);
    for (let i = 0; i < 3; i++) req.session.open(rsp.session.seal(hb));
    req.session.updateKeys('response', PARAMS);
    // The peer never switched: its records still open, under the old key, at sequence 3 and 4.
    req.session.open(rsp.session.seal(hb));
    assert.equal(req.session.openedUnderOldKey, true);
    req.session.rollbackKeyUpdate('response');
    assert.equal(req.session.keyUpdatePending('response'), false);
    assert.equal(req.session.receiveSequence, 4n);
    req.session.open(rsp.session.seal(hb));
    assert.equal(req.session.openedUnderOldKey, false);
    // A pending update's two keys are both zeroised by end().
    req.session.updateKeys('response', PARAMS);
    req.session.end();
    assert.ok(allZero(req.data.response.key) && allZero(req.data.response.secret));
    assert.throws(
      () => req.session.updateKeys('request', PARAMS),
      (e) => isSpdmError(e, 'SESSION_CLOSED'),
    );
  }
});

test('SecureSession: no key update before the session is established, nor two at once', () => {
  const x = new SecureSession({
    role: 'requester',
    reqSessionId: 1,
    rspSessionId: 2,
    securedVersion: 0x1200,
    aeadId: PARAMS.aeadId,
    binding: 'doe',
    mode: 'encrypt',
  });
  x.installHandshake(deriveHandshakeSecrets(PARAMS, new Uint8Array(48).fill(1), 'dhe', new Uint8Array(48).fill(2)));
  assert.throws(
    () => x.updateKeys('request', PARAMS),
    (e) => isSpdmError(e, 'PROTOCOL_ERROR'),
  );
  const { req } = pair();
  req.session.updateKeys('request', PARAMS);
  assert.throws(() => req.session.updateKeys('request', PARAMS), TypeError);
});
