/**
 * The libspdm captures: every record of every PSK session decrypts with the sample PSK, both
 * verify data check, the inner messages decode, the key switch points are where libspdm puts
 * them; KEY_EXCHANGE sessions are reported undecryptable; a wrong PSK is reported as such.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConversationDecoder, type Direction } from '../../src/spdm/conversation.js';
import { SessionTracker, type RecordResult, type SessionEvent } from '../../src/capture/session-tracker.js';
import { captureFiles, LIBSPDM_PSK, loadCapture, type Capture } from '../session/captures.js';

function run(cap: Capture, psk: Uint8Array | undefined) {
  const decoder = new ConversationDecoder();
  const tracker = new SessionTracker({ transport: cap.transport, ...(psk ? { psk } : {}) });
  const events: SessionEvent[] = [];
  const records: RecordResult[] = [];
  let last: Direction = 'response';
  for (const p of cap.payloads) {
    if (p.kind === 'spdm') {
      last = (p.body[1]! & 0x80) !== 0 ? 'request' : 'response';
      const e = tracker.observe(decoder.feed(last, p.body), decoder.state, p.index);
      if (e) events.push(e);
    } else if (p.kind === 'secured') {
      const r = tracker.open(p.body, last === 'request' ? 'response' : 'request', p.index);
      last = r.direction;
      records.push(r);
    } else last = last === 'request' ? 'response' : 'request';
  }
  return { tracker, events, records };
}

const name = (r: RecordResult) => (r.message ? (r.message.kind === 'other' ? r.message.name : r.message.kind) : '');

for (const file of captureFiles()) {
  const cap = loadCapture(file);
  if (!cap.hasPskSession) {
    test(`${file}: no secure sessions, nothing to decrypt`, () => {
      const { tracker, records } = run(cap, LIBSPDM_PSK);
      assert.equal(records.length, 0);
      assert.deepEqual(tracker.sessions, []);
    });
    continue;
  }

  test(`${file}: every PSK-session record decrypts with "TestPskData\\0", verify data check, inner messages decode`, (t) => {
    const { tracker, events, records } = run(cap, LIBSPDM_PSK);
    const psk = tracker.sessions.filter((s) => s.kind === 'psk');
    const kex = tracker.sessions.filter((s) => s.kind === 'key-exchange');
    assert.equal(psk.length, 1);
    assert.equal(kex.length, 2);
    const [s] = psk;
    assert.ok(s);
    assert.equal(s.responderVerifyData, true);
    assert.equal(s.requesterVerifyData, true);
    assert.equal(s.securedMessageVersion, '1.3', 'libspdm selects DSP0277 1.3 whatever the SPDM version');
    assert.equal(s.mode, 'encrypt');
    assert.equal(s.records.failed, 0);
    assert.equal(s.records.undecrypted, 0);
    assert.match(s.endedBy ?? '', /^END_SESSION_ACK/);
    assert.deepEqual(
      events.map((e) => `${e.kind}:${e.responderVerifyData}`),
      ['key-exchange:null', 'psk:true', 'key-exchange:null'],
    );

    const decrypted = records.filter((r) => r.status === 'decrypted');
    assert.equal(decrypted.length, s.records.decrypted);
    assert.deepEqual(
      records.filter((r) => r.status === 'failed'),
      [],
    );
    assert.deepEqual(
      decrypted.filter((r) => r.decodeError).map((r) => r.decodeError),
      [],
    );
    assert.ok(
      decrypted.every((r) => r.message && r.message.kind !== 'other'),
      'every inner message has a codec',
    );
    const counts = new Map<string, number>();
    for (const r of decrypted) counts.set(name(r), (counts.get(name(r)) ?? 0) + 1);
    for (const k of [
      'PSK_FINISH',
      'PSK_FINISH_RSP',
      'HEARTBEAT',
      'HEARTBEAT_ACK',
      'KEY_UPDATE',
      'KEY_UPDATE_ACK',
      'GET_MEASUREMENTS',
      'MEASUREMENTS',
      'END_SESSION',
      'END_SESSION_ACK',
    ]) {
      assert.ok((counts.get(k) ?? 0) > 0, `${k} inside the session`);
    }
    assert.equal(name(decrypted[0]!), 'PSK_FINISH');
    assert.equal(name(decrypted.at(-1)!), 'END_SESSION_ACK');
    // Directions from the keys agree with the message codes and with alternation.
    for (const r of decrypted) assert.equal(r.message?.direction, r.direction);
    decrypted.forEach((r, i) => assert.equal(r.direction, i % 2 === 0 ? 'request' : 'response'));

    // Key switch points as libspdm makes them (keyschedule.md §7): UpdateAllKeys is sent under the
    // old request key, the responder's ACK already under its new key, then VerifyNewKey under the
    // requester's new key.
    assert.deepEqual(
      s.keySwitches.map((k) => `${k.direction} ${k.phase} ${k.generation} after ${k.derivedAfter}: ${k.firstMessage}`),
      [
        'request handshake 0 after PSK_EXCHANGE_RSP: PSK_FINISH',
        'response handshake 0 after PSK_EXCHANGE_RSP: PSK_FINISH_RSP',
        'request data 0 after PSK_FINISH_RSP: HEARTBEAT',
        'response data 0 after PSK_FINISH_RSP: HEARTBEAT_ACK',
        'response data 1 after KEY_UPDATE(UpdateAllKeys): KEY_UPDATE_ACK',
        'request data 1 after KEY_UPDATE(UpdateAllKeys): KEY_UPDATE',
      ],
    );
    const ku = decrypted.filter((r) => r.message?.kind === 'KEY_UPDATE' || r.message?.kind === 'KEY_UPDATE_ACK');
    assert.deepEqual(
      ku.map(
        (r) =>
          `${name(r)}(${r.message?.kind === 'KEY_UPDATE' || r.message?.kind === 'KEY_UPDATE_ACK' ? r.message.msg.operation : '?'}) gen ${r.generation} seq ${r.sequence}`,
      ),
      [
        'KEY_UPDATE(2) gen 0 seq 1',
        'KEY_UPDATE_ACK(2) gen 1 seq 0',
        'KEY_UPDATE(3) gen 1 seq 0',
        'KEY_UPDATE_ACK(3) gen 1 seq 1',
      ],
    );

    for (const k of kex) {
      assert.equal(k.records.decrypted, 0);
      assert.match(k.reason ?? '', /KEY_EXCHANGE session/);
    }
    const undecrypted = records.filter((r) => r.status === 'undecrypted');
    assert.ok(undecrypted.every((r) => /KEY_EXCHANGE session/.test(r.reason ?? '')));
    t.diagnostic(
      `${file}: ${records.length} secured records: ${decrypted.length} decrypted (PSK session, ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}), ${undecrypted.length} in KEY_EXCHANGE sessions not decryptable`,
    );
  });

  test(`${file}: a wrong PSK is reported at PSK_EXCHANGE_RSP and nothing is decrypted`, () => {
    for (const wrong of [LIBSPDM_PSK.subarray(0, 11), new TextEncoder().encode('TestPskDatb\0')]) {
      const { tracker, events, records } = run(cap, wrong);
      const e = events.find((x) => x.kind === 'psk');
      assert.equal(e?.responderVerifyData, false);
      assert.match(e?.note ?? '', /^wrong PSK/);
      assert.equal(/NUL byte appended/.test(e?.note ?? ''), wrong.length === 11, 'the missing NUL is pointed out');
      assert.equal(records.filter((r) => r.status === 'decrypted').length, 0);
      assert.equal(records.filter((r) => r.status === 'failed').length, 0);
      const s = tracker.sessions.find((x) => x.kind === 'psk');
      assert.equal(s?.records.undecrypted, records.filter((r) => /wrong PSK/.test(r.reason ?? '')).length);
      assert.ok((s?.records.undecrypted ?? 0) > 500);
    }
  });
}
