/**
 * What the device asks of the requester inside a session, real requester ⇄ emulator in-process:
 * a responder-initiated KEY_UPDATE (UpdateKey, then VerifyNewKey under the new response key) and
 * 1.3 events (GET_SUPPORTED_EVENT_TYPES, SUBSCRIBE_EVENT_TYPES, SEND_EVENT / EVENT_ACK over the
 * encapsulated flow). Then what goes wrong: a KEY_UPDATE asked outside a session, a wrong Tag,
 * VerifyNewKey or UpdateAllKeys where UpdateKey belongs, events nobody subscribed to, a flood of
 * events or requests, an event group the device does not raise, a malformed list — each a typed
 * error or the right ERROR, the session going on where the keys are not in doubt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { BaseAsymAlgo } from '../../src/crypto/algorithms.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { decodeError, ErrorCode } from '../../src/spdm/messages/error.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import {
  decodeEncapsulatedRequest,
  encodeDeliverEncapsulatedResponse,
  encodeEncapsulatedRequest,
  encodeEncapsulatedResponseAck,
  encodeGetEncapsulatedRequest,
  EncapPayloadType,
} from '../../src/spdm/messages/encapsulated.js';
import { encodeKeyUpdateAck, KeyUpdateOperation, encodeKeyUpdate } from '../../src/spdm/messages/key-update.js';
import { encodeGetSupportedEventTypes, encodeSendEvent } from '../../src/spdm/messages/events.js';
import { dmtfEventGroup, EVENT_GROUP_ALL_TYPES } from '../../src/spdm/messages/event-groups.js';
import { Responder, type ResponderOptions } from '../../src/responder/responder.js';
import { MAX_QUEUED_EVENTS } from '../../src/responder/device-requests.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { profileFromJson } from '../../src/responder/profile-file.js';
import { Requester } from '../../src/requester/requester.js';
import type { RequesterIdentity } from '../../src/requester/identity.js';
import { MAX_SESSION_ENCAPSULATED_REQUESTS } from '../../src/requester/session-encapsulated.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import type { SecuredTransport } from '../../src/session/record.js';
import { createDeviceChain } from '../../src/x509/generate.js';
import { SUITES, device } from '../support/fixtures.js';

const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.KEY_UPD | F.ENCAP | F.EVENT;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.KEY_UPD | F.ENCAP;

function profile(version: number, flags = RSP_FLAGS): DeviceProfile {
  const base = device(SUITES[1]!).profile;
  return {
    ...base,
    versions: [version],
    capabilities: { ...base.capabilities, flags },
    algorithms: { ...base.algorithms, dhe: [DheGroup.SECP384R1], aead: [AeadAlgo.AES_256_GCM] },
  };
}

interface Wired {
  responder: Responder;
  requester: Requester;
  /** Every secured request and response record, in order. */
  requests: Uint8Array[];
  responses: Uint8Array[];
}

function wired(
  o: { binding?: SecuredTransport; version?: number; rsp?: number; req?: number; responder?: ResponderOptions } = {},
): Wired {
  const binding = o.binding ?? 'doe';
  const version = o.version ?? 0x13;
  const responder = new Responder(profile(version, o.rsp), { securedBinding: binding, ...o.responder });
  const requests: Uint8Array[] = [];
  const responses: Uint8Array[] = [];
  const handler: SpdmHandler = {
    handle: (b) => responder.handle(b),
    async handleSecured(b) {
      requests.push(b.slice());
      const out = await responder.handleSecured(b);
      responses.push(out.slice());
      return out;
    },
  };
  const requester = new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: binding }), {
    versions: [version],
    capabilityFlags: o.req ?? REQ_FLAGS,
    session: {},
  });
  return { responder, requester, requests, responses };
}

/** The 2-byte wire sequence number of an MCTP-layout record. */
function wireSequence(record: Uint8Array): number {
  return (record[4] as number) | ((record[5] as number) << 8);
}

function detail(size: number, fill: number): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

function errorCodeOf(e: unknown): number | undefined {
  return isSpdmError(e, 'DEVICE_ERROR') ? e.details.errorCode : undefined;
}

for (const binding of ['doe', 'mctp'] as const) {
  for (const version of [0x11, 0x12, 0x13, 0x14]) {
    test(`responder-initiated KEY_UPDATE over ${binding}, SPDM ${version >> 4}.${version & 0xf}: the response key moves on, both sides agree`, async () => {
      const { requester, responder } = wired({ binding, version });
      await requester.connect();
      const s = await requester.startSession();
      assert.equal(responder.requestKeyUpdate(s.sessionId), true);
      const run = await s.answerEncapsulated();
      assert.equal(run.keyUpdated, true);
      assert.deepEqual(run.asked, ['KEY_UPDATE', 'KEY_UPDATE']);
      assert.deepEqual(responder.deviceRequests(s.sessionId)?.log, [
        'KEY_UPDATE UpdateKey',
        'KEY_UPDATE VerifyNewKey',
        'key update done',
      ]);
      const m = await s.getMeasurements();
      assert.ok(m.signature?.verified, 'signed measurements under the new response key');
      // Both kinds in turn: ours after the device's, the device's after ours.
      await s.keyUpdate('all');
      assert.equal(responder.requestKeyUpdate(), true);
      assert.equal((await s.answerEncapsulated()).keyUpdated, true);
      await s.heartbeat();
      await s.end();
      assert.equal(responder.sessionCount, 0);
    });
  }
}

test('responder-initiated KEY_UPDATE: the response direction starts again at sequence 0 with VerifyNewKey, the request direction goes on', async () => {
  const { requester, responder, requests, responses } = wired({ binding: 'mctp' });
  await requester.connect();
  const s = await requester.startSession();
  await s.heartbeat();
  const mark = requests.length;
  responder.requestKeyUpdate(s.sessionId);
  await s.answerEncapsulated();
  await s.heartbeat();
  const req = requests.slice(mark).map(wireSequence);
  const rsp = responses.slice(mark).map(wireSequence);
  // GET_ENCAPSULATED_REQUEST, DELIVER(UpdateKey ACK), DELIVER(VerifyNewKey ACK), HEARTBEAT: one request key throughout.
  assert.deepEqual(req, [1, 2, 3, 4]);
  // ENCAPSULATED_REQUEST(UpdateKey) under the old key; the ACK carrying VerifyNewKey is the new key's first record.
  assert.deepEqual(rsp, [1, 0, 1, 2]);
});

test('nothing to ask: an empty run (NoPendingRequests in 1.3, UnexpectedRequest before)', async () => {
  for (const version of [0x12, 0x13]) {
    const { requester } = wired({ version });
    await requester.connect();
    const s = await requester.startSession();
    const run = await s.answerEncapsulated();
    assert.deepEqual(run, { asked: [], keyUpdated: false, events: [] });
    await s.heartbeat();
  }
});

test('requestKeyUpdate needs an established session and KEY_UPD_CAP + ENCAP_CAP on both sides', async () => {
  const a = wired();
  await a.requester.connect();
  assert.equal(a.responder.requestKeyUpdate(), false, 'no session yet');
  const b = wired({ req: REQ_FLAGS & ~F.ENCAP });
  await b.requester.connect();
  const s = await b.requester.startSession();
  assert.equal(b.responder.requestKeyUpdate(s.sessionId), false);
  await assert.rejects(s.answerEncapsulated(), (e) => isSpdmError(e, 'UNSUPPORTED'));
  assert.equal(a.responder.requestKeyUpdate(0x12345678), false, 'no such session');
});

test('a KEY_UPDATE asked outside a session is answered SessionRequired (basic mutual authentication flow)', async () => {
  const chain = createDeviceChain({
    asymId: BaseAsymAlgo.ECDSA_P384,
    names: { root: 'Host Root CA', intermediate: 'Host Intermediate', leaf: 'host requester' },
    leaf: { responderAuthEku: false, requesterAuthEku: true },
  });
  const identity: RequesterIdentity = {
    slots: [
      { slot: 0, certificates: chain.certificates, privateKey: chain.leaf.privateKey, asymId: BaseAsymAlgo.ECDSA_P384 },
    ],
  };
  const base = profile(0x12, RSP_FLAGS | F.MUT_AUTH);
  const responder = new Responder({ ...base, mutualAuth: { basic: true, trust: [chain.root.certificate] } });
  let delivered: Uint8Array | undefined;
  // A device that asks KEY_UPDATE in the clear where basic mutual authentication belongs.
  const handler: SpdmHandler = {
    async handle(b) {
      if (b[1] === RequestCode.GET_ENCAPSULATED_REQUEST)
        return encodeEncapsulatedRequest(0x12, {
          requestId: 1,
          payload: encodeKeyUpdate(0x12, { operation: KeyUpdateOperation.UPDATE_KEY, tag: 7 }),
        });
      if (b[1] === RequestCode.DELIVER_ENCAPSULATED_RESPONSE) delivered = b.slice(4);
      return responder.handle(b);
    },
  };
  const requester = new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: 'doe' }), {
    versions: [0x12],
    capabilityFlags: REQ_FLAGS | F.MUT_AUTH,
    session: {},
    identity,
  });
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  await assert.rejects(requester.challenge(0), (e) => isSpdmError(e));
  assert.ok(delivered, 'the requester answered the encapsulated KEY_UPDATE');
  assert.equal(decodeError(delivered).errorCode, ErrorCode.SessionRequired);
});

test('a KEY_UPDATE_ACK with the wrong Tag: the emulator answers InvalidRequest, keeps its keys, the session goes on', async () => {
  const { requester, responder } = wired({ version: 0x13 });
  await requester.connect();
  const s = await requester.startSession();
  responder.requestKeyUpdate(s.sessionId);
  const er = decodeEncapsulatedRequest(await s.send(encodeGetEncapsulatedRequest(0x13)));
  assert.equal(er.payload[1], RequestCode.KEY_UPDATE);
  const wrongTag = ((er.payload[3] as number) + 1) & 0xff;
  const ack = encodeKeyUpdateAck(0x13, { operation: KeyUpdateOperation.UPDATE_KEY, tag: wrongTag });
  const reply = await s.send(encodeDeliverEncapsulatedResponse(0x13, { requestId: er.requestId, payload: ack }));
  assert.equal(reply[1], ResponseCode.ERROR);
  assert.equal(decodeError(reply).errorCode, ErrorCode.InvalidRequest);
  // Nobody switched: the session still works both ways.
  await s.heartbeat();
  assert.ok((await s.getMeasurements()).signature?.verified);
  // A DELIVER with no flow outstanding is UnexpectedRequest.
  const again = await s.send(encodeDeliverEncapsulatedResponse(0x13, { requestId: er.requestId, payload: ack }));
  assert.equal(decodeError(again).errorCode, ErrorCode.UnexpectedRequest);
});

for (const [name, op] of [
  ['VerifyNewKey with no update pending', KeyUpdateOperation.VERIFY_NEW_KEY],
  ['UpdateAllKeys from the device', KeyUpdateOperation.UPDATE_ALL_KEYS],
] as const) {
  test(`${name}: the requester refuses it (InvalidRequest) and keeps its keys`, async () => {
    const delivered: Uint8Array[] = [];
    const { requester, responder } = wired({
      responder: {
        // The lie: the first encapsulated request's KeyOperation rewritten.
        reviseSessionResponse: (request, response) => {
          if (request[1] === RequestCode.DELIVER_ENCAPSULATED_RESPONSE) delivered.push(request.slice(4));
          if (response[1] !== ResponseCode.ENCAPSULATED_REQUEST) return response;
          const out = response.slice();
          out[4 + 2] = op;
          return out;
        },
      },
    });
    await requester.connect();
    const s = await requester.startSession();
    responder.requestKeyUpdate(s.sessionId);
    await assert.rejects(s.answerEncapsulated(), (e) => errorCodeOf(e) === ErrorCode.InvalidRequest);
    assert.equal(decodeError(delivered[0]!).errorCode, ErrorCode.InvalidRequest);
    await s.heartbeat();
    assert.equal(s.phase, 'established');
  });
}

test('events: the DMTF group listed, a subscription, an event delivered over the encapsulated flow and acknowledged', async () => {
  for (const version of [0x13, 0x14]) {
    const { requester, responder } = wired({ version });
    await requester.connect();
    const s = await requester.startSession();
    const groups = await s.supportedEventTypes();
    assert.equal(groups.length, 1);
    assert.deepEqual([groups[0]!.registryId, groups[0]!.version, [...groups[0]!.eventTypes]], [0, 1, [1, 2, 3, 4]]);
    await s.subscribeEvents([dmtfEventGroup([2, 4])]);
    assert.deepEqual(responder.deviceRequests(s.sessionId)?.subscriptions, [2, 4]);
    const ids = responder.emitEvent(2, detail(32, 0x05));
    assert.equal(ids.length, 1);
    assert.deepEqual(responder.emitEvent(3, detail(32, 0x01)), [], 'MeasurementPreUpdate was not subscribed');
    responder.emitEvent(4, detail(1, 0x01));
    const events = await s.receiveEvents();
    assert.deepEqual(
      events.map((e) => [e.eventInstanceId, e.eventTypeId, e.eventDetail.length]),
      [
        [ids[0], 2, 32],
        [ids[0]! + 1, 4, 1],
      ],
    );
    assert.deepEqual([...events[0]!.eventDetail], [...detail(32, 0x05)]);
    assert.deepEqual(await s.receiveEvents(), [], 'acknowledged events are not sent again');
    // All types of the group, then none.
    await s.subscribeEvents([dmtfEventGroup([], EVENT_GROUP_ALL_TYPES)]);
    assert.equal(responder.emitEvent(3, detail(32, 0x02)).length, 1);
    assert.equal((await s.receiveEvents()).length, 1);
    await s.subscribeEvents([]);
    assert.deepEqual(responder.emitEvent(2, detail(32, 0)), []);
    assert.deepEqual(await s.receiveEvents(), []);
    await s.end();
  }
});

test('events without a subscription are not queued; a second session gets only what it subscribed to', async () => {
  const { requester, responder } = wired();
  await requester.connect();
  const a = await requester.startSession();
  const b = await requester.startSession();
  assert.deepEqual(responder.emitEvent(2, detail(32, 1)), []);
  await b.subscribeEvents([dmtfEventGroup([2])]);
  assert.equal(responder.emitEvent(2, detail(32, 1)).length, 1);
  assert.deepEqual(await a.receiveEvents(), []);
  assert.equal((await b.receiveEvents()).length, 1);
  assert.throws(() => responder.emitEvent(9, detail(1, 0)), TypeError);
  assert.throws(() => responder.emitEvent(2, detail(8, 0)), TypeError);
});

test('a flood of events: the queue is bounded, what did not fit is reported by EventLost; the requester bounds what it collects', async () => {
  const { requester, responder } = wired();
  await requester.connect();
  const s = await requester.startSession();
  await s.subscribeEvents([dmtfEventGroup([], EVENT_GROUP_ALL_TYPES)]);
  const ids = Array.from({ length: 40 }, (_, i) => responder.emitEvent(2, detail(32, i))[0]!);
  assert.equal(responder.deviceRequests(s.sessionId)?.queuedEvents, MAX_QUEUED_EVENTS);
  const events = await s.receiveEvents();
  assert.equal(events.length, MAX_QUEUED_EVENTS + 1);
  const lost = events[0]!;
  assert.equal(lost.eventTypeId, 1, 'EventLost leads');
  const dv = new DataView(lost.eventDetail.buffer, lost.eventDetail.byteOffset, 8);
  assert.deepEqual([dv.getUint32(0, true), dv.getUint32(4, true)], [0, ids[39]]);
  assert.deepEqual(
    events.slice(1).map((e) => e.eventInstanceId),
    ids.slice(0, MAX_QUEUED_EVENTS),
  );
  for (let i = 0; i < 10; i++) responder.emitEvent(4, detail(1, 1));
  await assert.rejects(s.receiveEvents({ maxEvents: 4 }), (e) => isSpdmError(e, 'LIMIT_EXCEEDED'));
});

test('a device that never stops asking: LIMIT_EXCEEDED, not a hang', async () => {
  const ev = encodeSendEvent(0x13, {
    events: [
      { eventInstanceId: 1, registryId: 0, vendorId: new Uint8Array(0), eventTypeId: 4, eventDetail: detail(1, 1) },
    ],
  });
  const { requester, responder } = wired({
    responder: {
      reviseSessionResponse: (request, response) =>
        request[1] === RequestCode.DELIVER_ENCAPSULATED_RESPONSE
          ? encodeEncapsulatedResponseAck(0x13, {
              requestId: request[2] as number,
              payloadType: EncapPayloadType.PRESENT,
              ackRequestId: request[2],
              payload: ev,
            })
          : response,
    },
  });
  await requester.connect();
  const s = await requester.startSession();
  await s.subscribeEvents([dmtfEventGroup([4])]);
  responder.emitEvent(4, detail(1, 1));
  await assert.rejects(
    s.receiveEvents(),
    (e) => isSpdmError(e, 'LIMIT_EXCEEDED') && e.details.max === MAX_SESSION_ENCAPSULATED_REQUESTS,
  );
});

test('an event group the device does not raise, a malformed list, an undefined DMTF event: typed errors', async () => {
  const { requester, responder } = wired();
  await requester.connect();
  const s = await requester.startSession();
  // A vendor's group: the emulator raises only DMTF events.
  const vendor = { registryId: 3, vendorId: new Uint8Array([0x86, 0x80]), version: 1, attributes: 0, eventTypes: [1] };
  await assert.rejects(s.subscribeEvents([vendor]), (e) => errorCodeOf(e) === ErrorCode.InvalidRequest);
  await assert.rejects(s.subscribeEvents([dmtfEventGroup([7])]), (e) => errorCodeOf(e) === ErrorCode.InvalidRequest);
  assert.deepEqual(responder.deviceRequests(s.sessionId)?.subscriptions, []);
  await s.heartbeat();

  // SUPPORTED_EVENT_TYPES whose list is cut short.
  const cut = wired({
    responder: {
      reviseSessionResponse: (_q, r) => {
        if (r[1] !== ResponseCode.SUPPORTED_EVENT_TYPES) return r;
        const out = r.slice(0, r.length - 2);
        new DataView(out.buffer).setUint32(4, out.length - 8, true);
        return out;
      },
    },
  });
  await cut.requester.connect();
  const c = await cut.requester.startSession();
  await assert.rejects(c.supportedEventTypes(), (e) => isSpdmError(e, 'DECODE_ERROR'));

  // SEND_EVENT with a DMTF type that does not exist: answered InvalidRequest, the flow fails.
  const delivered: Uint8Array[] = [];
  const bad = wired({
    responder: {
      reviseSessionResponse: (q, r) => {
        if (q[1] === RequestCode.DELIVER_ENCAPSULATED_RESPONSE) delivered.push(q.slice(4));
        if (r[1] !== ResponseCode.ENCAPSULATED_REQUEST) return r;
        const out = r.slice();
        // EventTypeID of the first event: header 4 + ENCAPSULATED_REQUEST 4 + EventCount 4 + 8 + SVH 2.
        out[4 + 4 + 4 + 8 + 2] = 9;
        return out;
      },
    },
  });
  await bad.requester.connect();
  const b = await bad.requester.startSession();
  await b.subscribeEvents([dmtfEventGroup([4])]);
  bad.responder.emitEvent(4, detail(1, 1));
  await assert.rejects(b.receiveEvents(), (e) => errorCodeOf(e) === ErrorCode.InvalidRequest);
  assert.equal(decodeError(delivered[0]!).errorCode, ErrorCode.InvalidRequest);
});

test('events before 1.3 or outside a session: UNSUPPORTED on our side, SessionRequired from the emulator', async () => {
  const old = wired({ version: 0x12 });
  await old.requester.connect();
  const s = await old.requester.startSession();
  await assert.rejects(s.supportedEventTypes(), (e) => isSpdmError(e, 'UNSUPPORTED'));
  const noCap = wired({ rsp: RSP_FLAGS & ~F.EVENT });
  await noCap.requester.connect();
  const n = await noCap.requester.startSession();
  await assert.rejects(n.subscribeEvents([dmtfEventGroup()]), (e) => isSpdmError(e, 'UNSUPPORTED'));
  const w = wired();
  await w.requester.connect();
  const clear = await w.responder.handle(encodeGetSupportedEventTypes(0x13));
  assert.equal(decodeError(clear).errorCode, ErrorCode.SessionRequired);
});

test('profile files: "events" raised towards a session as it subscribes, only those of the types it took', async () => {
  const p = profileFromJson(
    {
      versions: ['1.3'],
      capabilities: ['CERT', 'CHAL', 'MEAS_SIG', 'ENCRYPT', 'MAC', 'KEY_EX', 'ENCAP', 'EVENT'],
      events: [
        { type: 'MeasurementChanged', detail: '02'.padEnd(64, '0') },
        { type: 4, detail: '01' },
      ],
    },
    '.',
  );
  assert.deepEqual(
    p.events?.onSubscribe?.map((e) => [e.type, e.detail.length]),
    [
      [2, 32],
      [4, 1],
    ],
  );
  const responder = new Responder(p, { securedBinding: 'doe' });
  const requester = new Requester(new LoopbackTransport(responder, 0x10000, { securedBinding: 'doe' }), {
    versions: [0x13],
    capabilityFlags: F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.ENCAP,
    session: {},
  });
  await requester.connect();
  const s = await requester.startSession();
  await s.subscribeEvents([dmtfEventGroup([4])]);
  const got = await s.receiveEvents();
  assert.deepEqual(
    got.map((e) => [e.eventTypeId, [...e.eventDetail]]),
    [[4, [1]]],
  );
  for (const [events, field] of [
    [[{ type: 'Reboot', detail: '00' }], 'events[0].type'],
    [[{ type: 9, detail: '00' }], 'events[0].type'],
    [[{ type: 'CertificateChanged', detail: '0000' }], 'events[0].detail'],
    [{ type: 4, detail: '01' }, 'events'],
  ] as const) {
    assert.throws(
      () => profileFromJson({ events }, '.'),
      (e) => isSpdmError(e, 'DECODE_ERROR') && e.details['field'] === field,
      JSON.stringify(events),
    );
  }
});
