/**
 * Key schedule: BinConcat layout, the Salt_0 rule, and the whole chain checked against libspdm
 * traffic by hand (no tracker): TH1 → handshake secrets → ResponderVerifyData, PSK_FINISH with the
 * handshake key, TH2 → data keys → HEARTBEAT, "traffic upd" → KEY_UPDATE_ACK under the new key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concat, toHex } from '../../src/wire/bytes.js';
import { SpdmError } from '../../src/wire/errors.js';
import { digest } from '../../src/crypto/hash.js';
import { ConversationDecoder, type DecodedMessage } from '../../src/spdm/conversation.js';
import {
  binConcat,
  deriveDataSecrets,
  deriveHandshakeSecrets,
  masterSecret,
  salt0,
  trafficKeys,
  updateTrafficKeys,
  verifyData,
  versionLabel,
  type KeyScheduleParams,
} from '../../src/session/key-schedule.js';
import { decodeSecuredRecord, openSecuredRecord, RECORD_LAYOUTS } from '../../src/session/record.js';
import { LIBSPDM_PSK, loadCapture } from './captures.js';

test('BinConcat(32, "key") for SPDM 1.2 is the 13 bytes of keyschedule.md', () => {
  assert.equal(toHex(binConcat(0x12, 32, 'key')), '2000' + '7370646d312e3220' + '6b6579');
  assert.equal(toHex(binConcat(0x12, 32, 'key')), '20007370646d312e32206b6579');
  const ctx = new Uint8Array(48).fill(0xab);
  const b = binConcat(0x14, 0x0130, 'rsp hs data', ctx);
  assert.deepEqual([...b.subarray(0, 2)], [0x30, 0x01], 'length is u16 little-endian');
  assert.equal(Buffer.from(b.subarray(2, 10)).toString('latin1'), 'spdm1.4 ');
  assert.equal(Buffer.from(b.subarray(10, 21)).toString('latin1'), 'rsp hs data');
  assert.deepEqual(b.subarray(21), ctx);
  assert.equal(Buffer.from(versionLabel(0x11)).toString('latin1'), 'spdm1.1 ');
  assert.throws(() => versionLabel(0x10), SpdmError, 'no sessions in SPDM 1.0');
  assert.throws(() => binConcat(0x12, 0x10000, 'key'), SpdmError);
});

test('Salt_0: 0xFF × H only for PSK sessions of SPDM 1.3+', () => {
  const p = (version: number): KeyScheduleParams => ({ version, hashId: 0x02, aeadId: 0x02 });
  assert.deepEqual(salt0(p(0x11), 'psk'), new Uint8Array(48));
  assert.deepEqual(salt0(p(0x12), 'psk'), new Uint8Array(48));
  assert.deepEqual(salt0(p(0x13), 'psk'), new Uint8Array(48).fill(0xff));
  assert.deepEqual(salt0(p(0x14), 'psk'), new Uint8Array(48).fill(0xff));
  assert.deepEqual(salt0(p(0x13), 'dhe'), new Uint8Array(48));
  assert.equal(salt0({ version: 0x12, hashId: 0x01, aeadId: 0x01 }, 'psk').length, 32);
});

test('key/iv sizes follow the AEAD; master secret and key update are deterministic and distinct', () => {
  const secret = new Uint8Array(32).fill(5);
  const p128: KeyScheduleParams = { version: 0x12, hashId: 0x01, aeadId: 0x01 };
  const p256: KeyScheduleParams = { version: 0x12, hashId: 0x01, aeadId: 0x02 };
  const pcc: KeyScheduleParams = { version: 0x12, hashId: 0x01, aeadId: 0x04 };
  assert.equal(trafficKeys(p128, secret).key.length, 16);
  assert.equal(trafficKeys(p256, secret).key.length, 32);
  assert.equal(trafficKeys(pcc, secret).key.length, 32);
  assert.equal(trafficKeys(p256, secret).iv.length, 12);
  const next = updateTrafficKeys(p256, trafficKeys(p256, secret));
  assert.notDeepEqual(next.secret, secret);
  assert.deepEqual(updateTrafficKeys(p256, trafficKeys(p256, secret)), next);
  assert.equal(masterSecret(p256, secret).length, 32);
  assert.throws(
    () => trafficKeys({ version: 0x12, hashId: 0x01, aeadId: 0x08 }, secret),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
  );
});

/** Walks a capture by hand up to the first key update of its PSK session. */
function walk(file: string, psk: Uint8Array, saltKind: 'psk' | 'dhe' = 'psk') {
  const cap = loadCapture(file);
  const dec = new ConversationDecoder();
  const a: Uint8Array[] = [];
  let last: DecodedMessage | undefined;
  let i = 0;
  for (; i < cap.payloads.length; i++) {
    const p = cap.payloads[i]!;
    if (p.kind !== 'spdm') continue;
    const d = dec.feed((p.body[1]! & 0x80) !== 0 ? 'request' : 'response', p.body);
    if (d.kind === 'GET_VERSION') a.length = 0;
    if (
      ['GET_VERSION', 'VERSION', 'GET_CAPABILITIES', 'CAPABILITIES', 'NEGOTIATE_ALGORITHMS', 'ALGORITHMS'].includes(
        d.kind,
      ) &&
      d.kind !== 'other'
    )
      a.push(d.msg.raw);
    if (d.kind === 'PSK_EXCHANGE_RSP' && last?.kind === 'PSK_EXCHANGE') {
      const st = dec.state;
      const params: KeyScheduleParams = { version: d.msg.version, hashId: st.baseHashAlgo ?? 0, aeadId: 0x02 };
      const h = d.msg.responderVerifyData.length;
      const th1 = concat([...a, last.msg.raw, d.msg.raw.subarray(0, d.msg.raw.length - h)]);
      const th1Hash = digest(params.hashId, th1);
      // saltKind 'dhe' forces the all-zero Salt_0 (to show that 1.3+ PSK sessions do not use it).
      const hs = deriveHandshakeSecrets(params, psk, saltKind, th1Hash);
      return { cap, i, params, a, req: last.msg, rsp: d.msg, th1Hash, hs };
    }
    last = d;
  }
  throw new Error(`${file}: no PSK_EXCHANGE_RSP`);
}

for (const file of ['doe-v11.pcap', 'doe-v12-p256.pcap', 'doe-v13.pcap', 'doe-default.pcap']) {
  test(`${file}: ResponderVerifyData = HMAC(rsp finished key, Hash(TH1)) with the NUL-terminated sample PSK`, () => {
    const w = walk(file, LIBSPDM_PSK);
    assert.deepEqual(verifyData(w.params, w.hs.responseFinishedKey, w.th1Hash), w.rsp.responderVerifyData);
    const noNul = walk(file, LIBSPDM_PSK.subarray(0, 11));
    assert.notDeepEqual(
      verifyData(noNul.params, noNul.hs.responseFinishedKey, noNul.th1Hash),
      noNul.rsp.responderVerifyData,
      '"TestPskData" without its NUL is not the PSK',
    );
    if (w.params.version >= 0x13) {
      const zeroSalt = walk(file, LIBSPDM_PSK, 'dhe');
      assert.notDeepEqual(
        verifyData(w.params, zeroSalt.hs.responseFinishedKey, w.th1Hash),
        w.rsp.responderVerifyData,
        'a 1.3+ PSK session does not use the zero salt',
      );
    }
  });
}

test('doe-v12-p256 by hand: PSK_FINISH, TH2, data keys, key update — each record opens with the key the schedule predicts', () => {
  const w = walk('doe-v12-p256.pcap', LIBSPDM_PSK);
  const layout = RECORD_LAYOUTS.doe;
  const secured = w.cap.payloads.slice(w.i + 1, w.i + 9).map((p) => decodeSecuredRecord(p.body, layout));
  const open = (n: number, keys: { key: Uint8Array; iv: Uint8Array }, seq: bigint) => {
    const r = openSecuredRecord(secured[n]!, { aeadId: w.params.aeadId, ...keys }, seq, { layout, mode: 'encrypt' });
    assert.ok(r, `record ${n} opens`);
    return r.applicationData;
  };
  const h = 32;
  // PSK_FINISH under the request handshake key, sequence 0; RequesterVerifyData over TH1-full || PSK_FINISH header.
  const finish = open(0, w.hs.request, 0n);
  assert.equal(finish[1], 0xe7);
  const thFinish = concat([...w.a, w.req.raw, w.rsp.raw, finish.subarray(0, finish.length - h)]);
  assert.deepEqual(
    verifyData(w.params, w.hs.requestFinishedKey, digest(w.params.hashId, thFinish)),
    finish.subarray(finish.length - h),
  );
  const finishRsp = open(1, w.hs.response, 0n);
  assert.equal(toHex(finishRsp), '1267' + '0000');
  const th2Hash = digest(w.params.hashId, concat([...w.a, w.req.raw, w.rsp.raw, finish, finishRsp]));
  const data = deriveDataSecrets(w.params, w.hs.handshakeSecret, th2Hash);
  assert.equal(data.exportMasterSecret.length, h);
  assert.equal(toHex(open(2, data.request, 0n)), '12e80000', 'HEARTBEAT under the request data key, sequence 0');
  assert.equal(toHex(open(3, data.response, 0n)), '12680000', 'HEARTBEAT_ACK');
  const ku = open(4, data.request, 1n);
  assert.deepEqual([ku[1], ku[2]], [0xe9, 2], 'KEY_UPDATE(UpdateAllKeys) under the old request key, sequence 1');
  const req1 = updateTrafficKeys(w.params, data.request);
  const rsp1 = updateTrafficKeys(w.params, data.response);
  assert.equal(
    openSecuredRecord(secured[5]!, { aeadId: 2, ...data.response }, 1n, { layout, mode: 'encrypt' }),
    null,
    'the ACK is not under the old response key',
  );
  const ack = open(5, rsp1, 0n);
  assert.deepEqual([ack[1], ack[2]], [0x69, 2], 'KEY_UPDATE_ACK under the NEW response key, sequence 0');
  const verify = open(6, req1, 0n);
  assert.deepEqual([verify[1], verify[2]], [0xe9, 3], 'VerifyNewKey under the new request key, sequence 0');
  const verifyAck = open(7, rsp1, 1n);
  assert.deepEqual([verifyAck[1], verifyAck[2]], [0x69, 3]);
});
