/**
 * The session transcript rules (spdm/session-transcript.ts, started by ConnectionTranscript): what
 * each TH of a KEY_EXCHANGE and a PSK session holds, where D and Ct go, the signing contexts, the
 * misuse that is a TypeError — and, against DMTF libspdm's captured traffic, that the THs built by
 * these rules alone carry libspdm's KEY_EXCHANGE_RSP signatures (with the leaf key of the captured
 * chain) and its PSK verify data and data keys (with the key schedule).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digest } from '../../src/crypto/hash.js';
import { spdmVerify, SigningContext } from '../../src/crypto/signature.js';
import { concat, toHex } from '../../src/wire/bytes.js';
import { ConversationDecoder, type DecodedMessage } from '../../src/spdm/conversation.js';
import { ConnectionTranscript } from '../../src/spdm/connection-transcript.js';
import { splitKeyExchangeTranscript } from '../../src/spdm/key-exchange-transcript.js';
import { OtherParams, AlgType, algStructValue } from '../../src/spdm/messages/algorithms.js';
import { chainForSlot } from '../../src/x509/slot-chain.js';
import { deriveDataSecrets, deriveHandshakeSecrets, verifyData } from '../../src/session/key-schedule.js';
import {
  decodeSecuredRecord,
  openSecuredRecord,
  RECORD_LAYOUTS,
  unwrapApplicationData,
} from '../../src/session/record.js';
import { captureFiles, LIBSPDM_PSK, loadCapture } from '../session/captures.js';

const SHA256 = 0x01;
const bytes = (...b: number[]) => Uint8Array.from(b);

/** A connection with a three-pair VCA (one-byte tags a1..a6) at `version`. */
function connected(version: number): ConnectionTranscript {
  const t = new ConnectionTranscript();
  t.reset();
  t.appendVca(bytes(0xa1), bytes(0xa2));
  t.setVersion(version);
  t.appendVca(bytes(0xa3), bytes(0xa4));
  t.appendVca(bytes(0xa5), bytes(0xa6));
  t.setHash(SHA256);
  return t;
}

const A = [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6];
const CT = bytes(0xc7, 0xc7);

test('KEY_EXCHANGE: signature TH, TH1, FINISH signature TH, RequesterVerifyData TH, FINISH_RSP TH and TH2', () => {
  const st = connected(0x12).keyExchangeSession(CT);
  assert.equal(st.kind, 'key-exchange');
  // KEY_EXCHANGE (e1), KEY_EXCHANGE_RSP up to OpaqueData (e2), Signature (e3), ResponderVerifyData (e4).
  const sig = st.keyExchangeSignature(bytes(0xe1), bytes(0xe2));
  assert.equal(sig.kind, 'KEY_EXCHANGE_RSP');
  assert.equal(sig.context, SigningContext.KEY_EXCHANGE_RSP);
  assert.equal(sig.complete, true);
  assert.deepEqual([...sig.transcript.bytes()], [...A, 0xc7, 0xc7, 0xe1, 0xe2]);
  assert.deepEqual(sig.transcript.digest(), digest(SHA256, sig.transcript.bytes()));
  const th1 = st.th1(bytes(0xe1), bytes(0xe2, 0xe3));
  assert.deepEqual([...th1.bytes()], [...A, 0xc7, 0xc7, 0xe1, 0xe2, 0xe3]);
  // Pure: building again gives the same, and the session start did not move.
  assert.deepEqual(st.th1(bytes(0xe1), bytes(0xe2, 0xe3)).bytes(), th1.bytes());
  assert.deepEqual([...st.start().bytes()], [...A, 0xc7, 0xc7]);

  st.acceptExchange(bytes(0xe1), bytes(0xe2, 0xe3, 0xe4));
  // Mutual authentication: D_encap (d9) and Ct_req (c9) follow K.
  st.mutualAuth(bytes(0xc9), bytes(0xd9));
  const K = [0xe1, 0xe2, 0xe3, 0xe4];
  const fsig = st.finishSignature(bytes(0xf1));
  assert.equal(fsig.kind, 'FINISH');
  assert.equal(fsig.context, SigningContext.FINISH);
  assert.deepEqual([...fsig.transcript.bytes()], [...A, 0xc7, 0xc7, ...K, 0xd9, 0xc9, 0xf1]);
  assert.deepEqual(
    [...st.requesterVerifyTranscript(bytes(0xf1, 0xf2)).bytes()],
    [...A, 0xc7, 0xc7, ...K, 0xd9, 0xc9, 0xf1, 0xf2],
  );
  assert.deepEqual(
    [...st.finishRspVerifyTranscript(bytes(0xf1, 0xf2, 0xf3), bytes(0xf5)).bytes()],
    [...A, 0xc7, 0xc7, ...K, 0xd9, 0xc9, 0xf1, 0xf2, 0xf3, 0xf5],
  );
  assert.deepEqual(
    [...st.th2(bytes(0xf1, 0xf2, 0xf3), bytes(0xf5, 0xf6)).bytes()],
    [...A, 0xc7, 0xc7, ...K, 0xd9, 0xc9, 0xf1, 0xf2, 0xf3, 0xf5, 0xf6],
  );
});

test('KEY_EXCHANGE without mutual authentication: FINISH follows K directly', () => {
  const st = connected(0x13).keyExchangeSession(CT);
  st.acceptExchange(bytes(0xe1), bytes(0xe2));
  assert.deepEqual([...st.requesterVerifyTranscript(bytes(0xf1)).bytes()], [...A, 0xc7, 0xc7, 0xe1, 0xe2, 0xf1]);
  assert.deepEqual(
    [...st.th2(bytes(0xf1, 0xf2), bytes(0xf5)).bytes()],
    [...A, 0xc7, 0xc7, 0xe1, 0xe2, 0xf1, 0xf2, 0xf5],
  );
});

test('every TH hashes exactly its own bytes, however the builders share one running hash', () => {
  const hashed = (t: { bytes(): Uint8Array; digest(): Uint8Array }, expected: number[], what: string) => {
    assert.deepEqual([...t.bytes()], expected, what);
    assert.deepEqual(t.digest(), digest(SHA256, Uint8Array.from(expected)), what);
  };
  const st = connected(0x13).keyExchangeSession(CT);
  const base = [...A, 0xc7, 0xc7];
  hashed(st.keyExchangeSignature(bytes(0xe1), bytes(0xe2)).transcript, [...base, 0xe1, 0xe2], 'signature TH');
  // A response that does not continue what was hashed (another e2) starts over from the session's start.
  hashed(st.th1(bytes(0xe1), bytes(0xe9, 0xe3)), [...base, 0xe1, 0xe9, 0xe3], 'TH1 of other bytes');
  hashed(st.th1(bytes(0xe1), bytes(0xe2, 0xe3)), [...base, 0xe1, 0xe2, 0xe3], 'TH1');
  hashed(st.start(), base, 'start, after its running hash went to the first TH');
  st.acceptExchange(bytes(0xe1), bytes(0xe2, 0xe3, 0xe4));
  const K = [0xe1, 0xe2, 0xe3, 0xe4];
  hashed(st.requesterVerifyTranscript(bytes(0xf1)), [...base, ...K, 0xf1], 'RequesterVerifyData TH');
  hashed(st.th2(bytes(0xf1, 0xf2), bytes(0xf5)), [...base, ...K, 0xf1, 0xf2, 0xf5], 'TH2');
  // Builders after TH2 took the running hash still see K alone behind them.
  hashed(st.requesterVerifyTranscript(bytes(0xf1)), [...base, ...K, 0xf1], 'RequesterVerifyData TH after TH2');
  hashed(st.th2(bytes(0xf1, 0xf2), bytes(0xf5)), [...base, ...K, 0xf1, 0xf2, 0xf5], 'TH2 again');

  const psk = connected(0x12).pskSession();
  hashed(psk.th1(bytes(0xb1), bytes(0xb2)), [...A, 0xb1, 0xb2], 'PSK TH1');
  // Another PSK_EXCHANGE than the one TH1 was taken over: K is exactly the accepted pair.
  psk.acceptExchange(bytes(0xb8), bytes(0xb2, 0xb3));
  hashed(psk.th2(), [...A, 0xb8, 0xb2, 0xb3], 'PSK TH2 without PSK_FINISH');
});

test('PSK: TH1, RequesterVerifyData TH, TH2 — and TH2 without PSK_FINISH for a responder with PSK_CAP 01', () => {
  const st = connected(0x12).pskSession();
  assert.equal(st.kind, 'psk');
  // PSK_EXCHANGE (b1), PSK_EXCHANGE_RSP without (b2) and with (b3) ResponderVerifyData.
  assert.deepEqual([...st.th1(bytes(0xb1), bytes(0xb2)).bytes()], [...A, 0xb1, 0xb2], 'no Ct, no D');
  st.acceptExchange(bytes(0xb1), bytes(0xb2, 0xb3));
  assert.deepEqual([...st.requesterVerifyTranscript(bytes(0xb5)).bytes()], [...A, 0xb1, 0xb2, 0xb3, 0xb5]);
  assert.deepEqual([...st.th2(bytes(0xb5, 0xb6), bytes(0xb7)).bytes()], [...A, 0xb1, 0xb2, 0xb3, 0xb5, 0xb6, 0xb7]);
  assert.deepEqual([...st.th2().bytes()], [...A, 0xb1, 0xb2, 0xb3], 'no PSK_FINISH: the exchange alone');
});

test('D: the first DIGESTS after the VCA, only with a multi-key connection, never for slot 0xFF; GET_VERSION drops it', () => {
  const t = connected(0x13);
  t.startB(bytes(0x81), bytes(0xd1));
  assert.deepEqual([...t.keyExchangeSession(CT).start().bytes()], [...A, 0xc7, 0xc7], 'no multi-key connection: no D');
  const m = connected(0x13);
  m.setMultiKeyConn(true);
  m.startB(bytes(0x81), bytes(0xd1));
  m.startB(bytes(0x81), bytes(0xd2));
  assert.deepEqual([...m.keyExchangeSession(CT).start().bytes()], [...A, 0xd1, 0xc7, 0xc7], 'the first DIGESTS');
  assert.deepEqual([...m.keyExchangeSession(CT, 0xff).start().bytes()], [...A, 0xc7, 0xc7], 'slot 0xFF: no D');
  assert.deepEqual([...m.pskSession().start().bytes()], A, 'PSK: no D');
  m.reset();
  m.appendVca(bytes(0xa1), bytes(0xa2));
  m.startB(bytes(0x81), bytes(0xd3));
  assert.deepEqual(
    [...m.keyExchangeSession(CT).start().bytes()],
    [0xa1, 0xa2, 0xc7, 0xc7],
    'reset ends the multi-key connection',
  );
});

test('signing contexts: none before 1.2; each session has its own message_m', () => {
  const st = connected(0x11).keyExchangeSession(CT);
  assert.equal(st.keyExchangeSignature(bytes(1), bytes(2)).context, '');
  const t = connected(0x14);
  assert.equal(t.signingContext('KEY_EXCHANGE_RSP'), SigningContext.KEY_EXCHANGE_RSP);
  assert.equal(t.signingContext('FINISH'), SigningContext.FINISH);
  const s1 = t.pskSession();
  const s2 = t.keyExchangeSession(CT);
  assert.notEqual(s1.messageM, s2.messageM);
  assert.notEqual(s1.messageM, t.messageM);
  s1.messageM.append(bytes(0xe0), bytes(0x60));
  assert.equal(s1.messageM.length, 2);
  assert.equal(t.messageM.length, 0);
  assert.deepEqual(
    [...t.l1l2(bytes(0xe0, 1), bytes(0x60, 1), s1.messageM).transcript.bytes()],
    [...A, 0xe0, 0x60, 0xe0, 1, 0x60, 1],
  );
});

test('misuse is a TypeError: later THs before the exchange, KEY_EXCHANGE rules on a PSK session, TH2 halves', () => {
  const ke = connected(0x12).keyExchangeSession(CT);
  assert.throws(() => ke.requesterVerifyTranscript(bytes(1)), TypeError);
  assert.throws(() => ke.finishSignature(bytes(1)), TypeError);
  assert.throws(() => ke.th2(bytes(1), bytes(2)), TypeError);
  ke.acceptExchange(bytes(1), bytes(2));
  assert.throws(() => ke.acceptExchange(bytes(1), bytes(2)), TypeError);
  assert.throws(() => ke.th2(), TypeError, 'a KEY_EXCHANGE session has FINISH');
  assert.throws(() => ke.th2(bytes(1)), TypeError);
  ke.mutualAuth(bytes(3));
  assert.throws(() => ke.mutualAuth(bytes(3)), TypeError);
  const psk = connected(0x12).pskSession();
  assert.throws(() => psk.keyExchangeSignature(bytes(1), bytes(2)), TypeError);
  psk.acceptExchange(bytes(1), bytes(2));
  assert.throws(() => psk.mutualAuth(bytes(3)), TypeError);
  assert.throws(() => psk.finishSignature(bytes(1)), TypeError);
  assert.throws(() => psk.finishRspVerifyTranscript(bytes(1), bytes(2)), TypeError);
  assert.throws(() => new ConnectionTranscript().pskSession(), TypeError, 'no version yet');
});

// ---------------------------------------------------------------------------------------------
// Known answers from libspdm traffic.

const VCA_KINDS = new Set(['GET_VERSION', 'GET_CAPABILITIES', 'NEGOTIATE_ALGORITHMS']);

interface Replay {
  readonly conn: ConnectionTranscript;
  readonly decoder: ConversationDecoder;
  version: number;
  hashId: number;
  asymId: number;
  aeadId: number;
  /** The responder's multi-key connection is in effect (D enters the KEY_EXCHANGE THs). */
  multiKeyConn: boolean;
  readonly chains: Map<number, Uint8Array>;
}

/** Follows a capture's clear messages as a requester keeps them: A, D, each slot's chain. Calls `on` for every message. */
function replayClear(
  file: string,
  on: (d: DecodedMessage, req: DecodedMessage | undefined, r: Replay, at: number) => void,
) {
  const cap = loadCapture(file);
  const r: Replay = {
    conn: new ConnectionTranscript(),
    decoder: new ConversationDecoder(),
    version: 0x10,
    hashId: 0,
    asymId: 0,
    aeadId: 0,
    multiKeyConn: false,
    chains: new Map(),
  };
  let req: DecodedMessage | undefined;
  let certSlot = 0;
  let parts: Uint8Array[] = [];
  cap.payloads.forEach((p, at) => {
    if (p.kind !== 'spdm') return;
    const d = r.decoder.feed((p.body[1]! & 0x80) !== 0 ? 'request' : 'response', p.body);
    if (d.direction === 'request') {
      if (d.kind === 'GET_VERSION') r.conn.reset();
      if (d.kind === 'GET_CERTIFICATE') {
        if (d.msg.offset === 0) parts = [];
        certSlot = d.msg.slot;
      }
      req = d;
      on(d, undefined, r, at);
      return;
    }
    if (d.kind === 'ERROR') return;
    const q = req;
    if (q && q.kind !== 'other' && d.kind !== 'other') {
      if (VCA_KINDS.has(q.kind)) r.conn.appendVca(q.msg.raw, d.msg.raw);
      if (d.kind === 'CAPABILITIES') {
        r.version = d.msg.version;
        r.conn.setVersion(r.version);
      }
      if (d.kind === 'ALGORITHMS' && q.kind === 'NEGOTIATE_ALGORITHMS') {
        r.hashId = d.msg.baseHash;
        r.asymId = d.msg.baseAsym;
        r.aeadId = algStructValue(d.msg.algStructs, AlgType.AEAD);
        r.conn.setHash(r.hashId);
        r.multiKeyConn = r.version >= 0x13 && (q.msg.otherParams & OtherParams.MULTI_KEY_CONN) !== 0;
        r.conn.setMultiKeyConn(r.multiKeyConn);
      }
      if (d.kind === 'DIGESTS') r.conn.startB(q.msg.raw, d.msg.raw);
      if (d.kind === 'CERTIFICATE') {
        parts.push(d.msg.portion);
        if (d.msg.remainderLength === 0) r.chains.set(certSlot, concat(parts));
      }
    }
    on(d, q, r, at);
  });
  return cap;
}

for (const file of captureFiles()) {
  test(`libspdm ${file}: every KEY_EXCHANGE_RSP signature verifies over A || [D] || Ct || KEY_EXCHANGE || KEY_EXCHANGE_RSP`, (t) => {
    const results: string[] = [];
    let multiKey = false;
    replayClear(file, (d, q, r) => {
      multiKey = r.multiKeyConn;
      if (d.kind !== 'KEY_EXCHANGE_RSP' || q?.kind !== 'KEY_EXCHANGE') return;
      const chain = r.chains.get(q.msg.slot);
      assert.ok(chain, `the chain of slot ${q.msg.slot} is in the capture`);
      const { leafKey } = chainForSlot(chain, { version: r.version, hashId: r.hashId });
      const st = r.conn.keyExchangeSession(digest(r.hashId, chain), q.msg.slot);
      const signed = st.keyExchangeSignature(q.msg.raw, d.msg.unsigned);
      const ok = spdmVerify(
        leafKey,
        r.asymId,
        {
          version: r.version,
          hashId: r.hashId,
          context: signed.context,
          transcript: signed.transcript.messages,
          transcriptHash: signed.transcript.digest(),
        },
        d.msg.signature,
      );
      results.push(`slot ${q.msg.slot}: ${ok}`);
      // What Evidence records splits back into its parts, as the verifier reads it.
      const split = splitKeyExchangeTranscript(signed.transcript.bytes(), r.hashId);
      assert.equal(toHex(split.certChainHash), toHex(digest(r.hashId, chain)));
      assert.equal(split.digests !== undefined, r.multiKeyConn, 'D is there exactly on a multi-key connection');
      assert.equal(toHex(split.keyExchange.randomData), toHex(q.msg.randomData));
      assert.equal(toHex(split.response.randomData), toHex(d.msg.randomData));
      assert.equal(split.responseOffset + split.response.raw.length, signed.transcript.bytes().length);
      // The other rule for D does not verify: the rules are told apart by libspdm's signature.
      if (ok && r.multiKeyConn) {
        const noD = new ConnectionTranscript();
        noD.reset();
        const msgs = r.conn.sessionBase().messages;
        noD.setVersion(r.version);
        for (let i = 0; i + 1 < msgs.length; i += 2) noD.appendVca(msgs[i]!, msgs[i + 1]!);
        noD.setHash(r.hashId);
        const other = noD.keyExchangeSession(digest(r.hashId, chain)).keyExchangeSignature(q.msg.raw, d.msg.unsigned);
        const data = {
          version: r.version,
          hashId: r.hashId,
          context: other.context,
          transcriptHash: other.transcript.digest(),
        };
        assert.equal(spdmVerify(leafKey, r.asymId, data, d.msg.signature), false, 'without D it does not verify');
      }
    });
    t.diagnostic(results.join(', ') + (multiKey ? ' (multi-key connection: D included)' : ''));
    if (file === 'doe-v10.pcap') {
      assert.deepEqual(results, [], 'SPDM 1.0 has no sessions');
      return;
    }
    assert.equal(results.length, 2);
    assert.deepEqual(
      results.filter((x) => !x.endsWith('true')),
      [],
    );
  });
}

for (const file of captureFiles()) {
  const probe = loadCapture(file);
  if (!probe.hasPskSession) continue;
  test(`libspdm ${file}: PSK ResponderVerifyData, RequesterVerifyData and the data keys from these THs and the key schedule`, () => {
    let checked = false;
    replayClear(file, (d, q, r, at) => {
      if (d.kind !== 'PSK_EXCHANGE_RSP' || q?.kind !== 'PSK_EXCHANGE') return;
      const params = { version: r.version, hashId: r.hashId, aeadId: r.aeadId };
      const h = d.msg.responderVerifyData.length;
      const st = r.conn.pskSession();
      const th1Hash = st.th1(q.msg.raw, d.msg.raw.subarray(0, d.msg.raw.length - h)).digest();
      const hs = deriveHandshakeSecrets(params, LIBSPDM_PSK, 'psk', th1Hash);
      assert.equal(toHex(verifyData(params, hs.responseFinishedKey, th1Hash)), toHex(d.msg.responderVerifyData));
      st.acceptExchange(q.msg.raw, d.msg.raw);

      // The next secured records: PSK_FINISH, PSK_FINISH_RSP (handshake keys), HEARTBEAT (data key).
      const layout = RECORD_LAYOUTS[probe.transport];
      const secured = probe.payloads
        .slice(at + 1)
        .filter((p) => p.kind === 'secured')
        .slice(0, 3)
        .map((p) => decodeSecuredRecord(p.body, layout));
      const open = (n: number, keys: { key: Uint8Array; iv: Uint8Array }) => {
        const o = openSecuredRecord(secured[n]!, { aeadId: r.aeadId, ...keys }, 0n, { layout, mode: 'encrypt' });
        assert.ok(o, `record ${n} opens`);
        return unwrapApplicationData(probe.transport, o.applicationData).payload;
      };
      const finish = open(0, hs.request);
      assert.equal(finish[1], 0xe7, 'PSK_FINISH');
      const rvd = finish.subarray(finish.length - h);
      const thReq = st.requesterVerifyTranscript(finish.subarray(0, finish.length - h)).digest();
      assert.equal(toHex(verifyData(params, hs.requestFinishedKey, thReq)), toHex(rvd));
      const finishRsp = open(1, hs.response);
      assert.equal(finishRsp[1], 0x67, 'PSK_FINISH_RSP');
      const data = deriveDataSecrets(params, hs.handshakeSecret, st.th2(finish, finishRsp).digest());
      const next = open(2, data.request);
      assert.ok(next.length >= 4, 'the first data-phase record opens with the request data key from TH2');
      checked = true;
    });
    assert.ok(checked, 'a PSK session was checked');
  });
}
