/**
 * SessionTracker on synthetic sessions (test/capture/synthetic-sessions.ts plays both peers): every record
 * opens with the key the schedule predicts, key switch points are found from the traffic, and
 * everything that cannot be decrypted says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../src/wire/errors.js';
import { encodeHeartbeat, encodeHeartbeatAck } from '../../src/spdm/messages/heartbeat.js';
import { encodeKeyUpdate, encodeKeyUpdateAck, KeyUpdateOperation } from '../../src/spdm/messages/key-update.js';
import { encodeEndSession, encodeEndSessionAck } from '../../src/spdm/messages/end-session.js';
import { encodeRespondIfReady, encodeResponseNotReady } from '../../src/spdm/messages/error.js';
import { SessionTracker, type RecordResult } from '../../src/capture/session-tracker.js';
import type { SecuredTransport, SessionMode } from '../../src/session/record.js';
import { ENCRYPT_CLEARED, PARAMS, Peers, PSK_NO_CONTEXT, vca, Wire } from './synthetic-sessions.js';

const PSK = new TextEncoder().encode('synthetic psk');
const V = PARAMS.version;
const other = (d: 'request' | 'response') => (d === 'request' ? 'response' : 'request');

function kindOf(r: RecordResult): string {
  return r.message
    ? r.message.kind === 'other'
      ? r.message.name
      : r.message.kind
    : `(${r.status}: ${r.reason ?? r.decodeError ?? ''})`;
}

/** A whole session: handshake, heartbeat, UpdateKey + verify, UpdateAllKeys + verify, end. */
function fullSession(
  p: Peers,
  tracker: SessionTracker,
  hint: (d: 'request' | 'response') => 'request' | 'response' = (d) => d,
): RecordResult[] {
  const out: RecordResult[] = [];
  const send = (from: 'request' | 'response', m: Uint8Array) =>
    out.push(tracker.open(p.seal(from, m), hint(from), out.length));
  send('request', p.pskFinish());
  send('response', p.pskFinishRsp());
  p.afterFinish();
  send('request', encodeHeartbeat(V));
  send('response', encodeHeartbeatAck(V));
  // UpdateKey: request under the old key; the ACK under the (unchanged) response key; then the requester switches.
  send('request', encodeKeyUpdate(V, { operation: KeyUpdateOperation.UPDATE_KEY, tag: 1 }));
  p.deriveNext('request');
  send('response', encodeKeyUpdateAck(V, { operation: KeyUpdateOperation.UPDATE_KEY, tag: 1 }));
  p.switchTo('request');
  send('request', encodeKeyUpdate(V, { operation: KeyUpdateOperation.VERIFY_NEW_KEY, tag: 2 }));
  send('response', encodeKeyUpdateAck(V, { operation: KeyUpdateOperation.VERIFY_NEW_KEY, tag: 2 }));
  // UpdateAllKeys: the responder switches before its ACK, the requester after it.
  send('request', encodeKeyUpdate(V, { operation: KeyUpdateOperation.UPDATE_ALL_KEYS, tag: 3 }));
  p.deriveNext('both');
  p.switchTo('response');
  send('response', encodeKeyUpdateAck(V, { operation: KeyUpdateOperation.UPDATE_ALL_KEYS, tag: 3 }));
  p.switchTo('request');
  send('request', encodeKeyUpdate(V, { operation: KeyUpdateOperation.VERIFY_NEW_KEY, tag: 4 }));
  send('response', encodeKeyUpdateAck(V, { operation: KeyUpdateOperation.VERIFY_NEW_KEY, tag: 4 }));
  send('request', encodeHeartbeat(V));
  send('response', encodeHeartbeatAck(V));
  send('request', encodeEndSession(V));
  send('response', encodeEndSessionAck(V));
  return out;
}

const EXPECTED_KINDS = [
  'PSK_FINISH',
  'PSK_FINISH_RSP',
  'HEARTBEAT',
  'HEARTBEAT_ACK',
  'KEY_UPDATE',
  'KEY_UPDATE_ACK',
  'KEY_UPDATE',
  'KEY_UPDATE_ACK',
  'KEY_UPDATE',
  'KEY_UPDATE_ACK',
  'KEY_UPDATE',
  'KEY_UPDATE_ACK',
  'HEARTBEAT',
  'HEARTBEAT_ACK',
  'END_SESSION',
  'END_SESSION_ACK',
];

function setup(
  opts: {
    transport?: SecuredTransport;
    mode?: SessionMode;
    securedVersion?: number;
    nonceOrder?: 'le' | 'be';
    legacy?: 'le' | 'be' | 'auto';
    psk?: Uint8Array | null;
    noContext?: boolean;
  } = {},
) {
  const transport = opts.transport ?? 'doe';
  const a = vca({
    ...(opts.mode === 'mac-only' ? { requesterFlags: ENCRYPT_CLEARED } : {}),
    ...(opts.noContext ? { responderFlags: PSK_NO_CONTEXT } : {}),
  });
  const tracker = new SessionTracker({
    transport,
    ...(opts.psk === null ? {} : { psk: opts.psk ?? PSK }),
    ...(opts.legacy ? { legacyNonceOrder: opts.legacy } : {}),
  });
  const wire = new Wire(tracker);
  wire.vca(a);
  const peers = new Peers(a, {
    psk: PSK,
    reqSessionId: 0xfffe,
    rspSessionId: 0xfffd,
    transport,
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.securedVersion ? { securedVersion: opts.securedVersion } : {}),
    ...(opts.nonceOrder ? { nonceOrder: opts.nonceOrder } : {}),
    ...(opts.noContext ? { noContext: true } : {}),
  });
  wire.clear(peers.pskExchange);
  wire.clear(peers.pskExchangeRsp);
  return { tracker, wire, peers };
}

for (const transport of ['doe', 'mctp', 'tcp'] as const) {
  for (const mode of ['encrypt', 'mac-only'] as const) {
    test(`${transport} ${mode}: a whole session decrypts; UpdateKey and UpdateAllKeys switch points are found`, () => {
      const { tracker, peers } = setup({ transport, mode });
      const results = fullSession(peers, tracker);
      assert.deepEqual(results.map(kindOf), EXPECTED_KINDS);
      assert.ok(results.every((r) => r.status === 'decrypted' && !r.decodeError));
      // direction, phase, generation: counter — each key counts from 0.
      assert.deepEqual(
        results.map((r) => `${r.direction[3]}${r.phase?.[0]}${r.generation}:${r.sequence}`),
        [
          'uh0:0',
          'ph0:0',
          'ud0:0',
          'pd0:0',
          'ud0:1',
          'pd0:1',
          'ud1:0',
          'pd0:2',
          'ud1:1',
          'pd1:0',
          'ud2:0',
          'pd1:1',
          'ud2:1',
          'pd1:2',
          'ud2:2',
          'pd1:3',
        ],
      );
      const [report] = tracker.sessions;
      assert.ok(report);
      assert.equal(report.mode, mode);
      assert.equal(report.securedMessageVersion, '1.2');
      assert.equal(report.responderVerifyData, true);
      assert.equal(report.requesterVerifyData, true);
      assert.deepEqual(report.records, { decrypted: 16, undecrypted: 0, failed: 0 });
      assert.equal(report.state, 'ended');
      assert.deepEqual(
        report.keySwitches.map(
          (k) => `${k.direction} ${k.phase} ${k.generation} after ${k.derivedAfter}: ${k.firstMessage}@${k.firstRef}`,
        ),
        [
          'request handshake 0 after PSK_EXCHANGE_RSP: PSK_FINISH@0',
          'response handshake 0 after PSK_EXCHANGE_RSP: PSK_FINISH_RSP@1',
          'request data 0 after PSK_FINISH_RSP: HEARTBEAT@2',
          'response data 0 after PSK_FINISH_RSP: HEARTBEAT_ACK@3',
          'request data 1 after KEY_UPDATE(UpdateKey): KEY_UPDATE@6',
          'response data 1 after KEY_UPDATE(UpdateAllKeys): KEY_UPDATE_ACK@9',
          'request data 2 after KEY_UPDATE(UpdateAllKeys): KEY_UPDATE@10',
        ],
      );
      if (transport === 'mctp' && mode === 'encrypt') assert.ok(results.every((r) => (r.randomData?.length ?? 0) > 0));
      if (transport === 'mctp') assert.deepEqual(results[0]?.innerHeader, { mctpMessageType: 5 });
      if (transport === 'tcp')
        assert.deepEqual(results[2]?.innerHeader, { payloadLength: 6, bindingVersion: 1, messageType: 5 });
      // After END_SESSION_ACK the keys are gone.
      const late = tracker.open(peers.seal('request', encodeHeartbeat(V)), 'request');
      assert.equal(late.status, 'undecrypted');
      assert.match(late.reason ?? '', /ended \(END_SESSION_ACK/);
    });
  }
}

test('a wrong direction guess is corrected by the key that opens the record', () => {
  const { tracker, peers } = setup();
  const results = fullSession(peers, tracker, other);
  assert.deepEqual(results.map(kindOf), EXPECTED_KINDS);
  assert.deepEqual(
    results.map((r) => r.direction),
    EXPECTED_KINDS.map((_, i) => (i % 2 === 0 ? 'request' : 'response')),
  );
});

test('two sessions interleaved record by record are kept apart by session ID', () => {
  const a = vca();
  const tracker = new SessionTracker({ transport: 'mctp', psk: PSK });
  const wire = new Wire(tracker);
  wire.vca(a);
  const p1 = new Peers(a, { psk: PSK, reqSessionId: 1, rspSessionId: 0x100, transport: 'mctp' });
  const p2 = new Peers(a, { psk: PSK, reqSessionId: 2, rspSessionId: 0x200, transport: 'mctp' });
  for (const m of [p1.pskExchange, p1.pskExchangeRsp, p2.pskExchange, p2.pskExchangeRsp]) wire.clear(m);
  const r: RecordResult[] = [];
  r.push(tracker.open(p1.seal('request', p1.pskFinish()), 'request'));
  r.push(tracker.open(p2.seal('request', p2.pskFinish()), 'request'));
  r.push(tracker.open(p2.seal('response', p2.pskFinishRsp()), 'response'));
  r.push(tracker.open(p1.seal('response', p1.pskFinishRsp()), 'response'));
  p1.afterFinish();
  p2.afterFinish();
  for (let i = 0; i < 3; i++) {
    r.push(tracker.open(p1.seal('request', encodeHeartbeat(V)), 'request'));
    r.push(tracker.open(p2.seal('request', encodeHeartbeat(V)), 'request'));
    r.push(tracker.open(p2.seal('response', encodeHeartbeatAck(V)), 'response'));
    r.push(tracker.open(p1.seal('response', encodeHeartbeatAck(V)), 'response'));
  }
  assert.ok(
    r.every((x) => x.status === 'decrypted'),
    r.map(kindOf).join(),
  );
  assert.deepEqual(
    r.map((x) => x.sessionId),
    [p1.id, p2.id, p2.id, p1.id, ...Array.from({ length: 3 }, () => [p1.id, p2.id, p2.id, p1.id]).flat()],
  );
  assert.deepEqual(
    tracker.sessions.map((s) => s.records.decrypted),
    [8, 8],
  );
});

test('secured-message 1.1: little-endian nonce by default; the big-endian option is found with legacyNonceOrder auto', () => {
  const le = setup({ securedVersion: 0x1100 });
  assert.deepEqual(fullSession(le.peers, le.tracker).map(kindOf), EXPECTED_KINDS);
  assert.equal(le.tracker.sessions[0]?.securedMessageVersion, '1.1');
  const auto = setup({ securedVersion: 0x1100, nonceOrder: 'be', legacy: 'auto' });
  assert.deepEqual(fullSession(auto.peers, auto.tracker).map(kindOf), EXPECTED_KINDS);
  assert.equal(auto.tracker.sessions[0]?.nonceOrder, 'be');
  // At counter 0 both orders give the same nonce: the first difference is the second record under a key.
  const wrong = setup({ securedVersion: 0x1100, nonceOrder: 'be', legacy: 'le' });
  const w = fullSession(wrong.peers, wrong.tracker);
  assert.deepEqual(w.slice(0, 4).map(kindOf), EXPECTED_KINDS.slice(0, 4));
  assert.equal(w[4]?.status, 'failed');
  assert.match(w[4]?.reason ?? '', /MAC does not verify/);
  // 1.2+ is always little-endian, whatever the option.
  const v12 = setup({ nonceOrder: 'be', legacy: 'auto' });
  assert.equal(fullSession(v12.peers, v12.tracker)[4]?.status, 'failed');
});

test('responder without PSK context (PSK_CAP 01): no PSK_FINISH, data keys straight after PSK_EXCHANGE_RSP', () => {
  const { tracker, peers } = setup({ noContext: true });
  const r1 = tracker.open(peers.seal('request', encodeHeartbeat(V)), 'request');
  const r2 = tracker.open(peers.seal('response', encodeHeartbeatAck(V)), 'response');
  assert.deepEqual([kindOf(r1), kindOf(r2)], ['HEARTBEAT', 'HEARTBEAT_ACK']);
  assert.equal(r1.phase, 'data');
  assert.equal(tracker.sessions[0]?.requesterVerifyData, null);
});

test('wrong PSK: ResponderVerifyData mismatch is reported, records stay undecrypted with that reason', () => {
  const { tracker, wire, peers } = (() => {
    const a = vca();
    const t = new SessionTracker({ transport: 'doe', psk: new TextEncoder().encode('not the psk') });
    const w = new Wire(t);
    w.vca(a);
    return { tracker: t, wire: w, peers: new Peers(a, { psk: PSK, reqSessionId: 1, rspSessionId: 2 }) };
  })();
  wire.clear(peers.pskExchange);
  const d = wire.decoder.feed('response', peers.pskExchangeRsp);
  const event = tracker.observe(d, wire.decoder.state, 42);
  assert.ok(event);
  assert.equal(event.responderVerifyData, false);
  assert.match(event.note, /^wrong PSK: ResponderVerifyData/);
  const r = tracker.open(peers.seal('request', peers.pskFinish()), 'request');
  assert.equal(r.status, 'undecrypted');
  assert.match(r.reason ?? '', /wrong PSK/);
  assert.equal(tracker.sessions[0]?.responderVerifyData, false);
  assert.equal(tracker.sessions[0]?.createdAt, 42);
});

test('a PSK missing its trailing NUL is called out', () => {
  const a = vca();
  const withNul = new TextEncoder().encode('psk\0');
  const tracker = new SessionTracker({ transport: 'doe', psk: withNul.subarray(0, 3) });
  const wire = new Wire(tracker);
  wire.vca(a);
  const peers = new Peers(a, { psk: withNul, reqSessionId: 1, rspSessionId: 2 });
  wire.clear(peers.pskExchange);
  wire.clear(peers.pskExchangeRsp);
  assert.match(tracker.sessions[0]?.reason ?? '', /matches with a NUL byte appended/);
});

test('RequesterVerifyData mismatch is reported; the records still decrypt', () => {
  const { tracker, peers } = setup();
  const r = tracker.open(peers.seal('request', peers.pskFinish(true)), 'request');
  assert.equal(r.status, 'decrypted');
  assert.deepEqual(r.notes, ['RequesterVerifyData does NOT verify']);
  assert.equal(tracker.sessions[0]?.requesterVerifyData, false);
});

test('no PSK, unknown session, tampered record, malformed record: each says what it is', () => {
  const none = setup({ psk: null });
  const r = none.tracker.open(none.peers.seal('request', none.peers.pskFinish()), 'request');
  assert.equal(r.status, 'undecrypted');
  assert.match(r.reason ?? '', /no PSK given/);

  const { tracker, peers } = setup();
  const rec = peers.seal('request', peers.pskFinish());
  const stranger = Uint8Array.from(rec);
  stranger[0] = 0x42;
  const u = tracker.open(stranger, 'request');
  assert.equal(u.status, 'undecrypted');
  assert.match(u.reason ?? '', /no PSK_EXCHANGE or KEY_EXCHANGE creating session/);
  const tampered = Uint8Array.from(rec);
  tampered[10] = (tampered[10] as number) ^ 0x80;
  const f = tracker.open(tampered, 'request');
  assert.equal(f.status, 'failed');
  assert.equal(tracker.sessions[0]?.records.failed, 1);
  // The genuine record still opens: a failure does not advance the counter.
  assert.equal(tracker.open(rec, 'request').status, 'decrypted');
  assert.throws(() => tracker.open(rec.subarray(0, 5), 'request'), DecodeError);
});

test('GET_VERSION ends every session', () => {
  const { tracker, wire, peers } = setup();
  wire.clear(vca()[0]!);
  const r = tracker.open(peers.seal('request', peers.pskFinish()), 'request');
  assert.equal(r.status, 'undecrypted');
  assert.match(r.reason ?? '', /ended \(GET_VERSION\)/);
});

test('PSK_EXCHANGE answered after ResponseNotReady / RESPOND_IF_READY still creates the session', () => {
  const a = vca();
  const tracker = new SessionTracker({ transport: 'doe', psk: PSK });
  const wire = new Wire(tracker);
  wire.vca(a);
  const peers = new Peers(a, { psk: PSK, reqSessionId: 1, rspSessionId: 2 });
  wire.clear(peers.pskExchange);
  wire.clear(encodeResponseNotReady(V, { rdtExponent: 1, requestCode: 0xe6, token: 7, rdtm: 1 }));
  wire.clear(encodeRespondIfReady(V, 0xe6, 7));
  wire.clear(peers.pskExchangeRsp);
  assert.equal(tracker.sessions[0]?.responderVerifyData, true);
  assert.equal(tracker.open(peers.seal('request', peers.pskFinish()), 'request').status, 'decrypted');
});
