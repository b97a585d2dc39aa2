/**
 * ConversationDecoder: state carried between messages, DOE padding, 'other' codes, failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../src/wire/errors.js';
import { concat, toHex } from '../../src/wire/bytes.js';
import {
  AlgType,
  CapabilityFlag,
  ConversationDecoder,
  encodeAlgorithms,
  encodeCapabilities,
  encodeCertificate,
  encodeChallenge,
  encodeChallengeAuth,
  encodeDigests,
  encodeDmtfBlock,
  encodeGetCapabilities,
  encodeGetCertificate,
  encodeGetDigests,
  encodeGetMeasurements,
  encodeGetVersion,
  encodeMeasurements,
  encodeNegotiateAlgorithms,
  encodeRespondIfReady,
  encodeResponseNotReady,
  encodeVersion,
  type DecodedMessage,
  type Direction,
} from '../../src/spdm/index.js';
import { reencode } from './reencode.js';
import { seq } from './samples.js';

/** DOE: zero padding to a dword boundary. */
function doe(b: Uint8Array): Uint8Array {
  return concat([b, new Uint8Array((4 - (b.length % 4)) % 4)]);
}

function expectDecodeError(fn: () => unknown, messageName: string, field: string): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    assert.equal(e.messageName, messageName, e.message);
    assert.equal(e.field, field, e.message);
    return e;
  }
  assert.fail(`expected ${messageName}.${field} to be rejected`);
}

const H = 48; // SHA-384
const S = 96; // ECDSA P-384
const MH = 64; // measurement hash SHA-512

interface Setup {
  version?: number;
  responderFlags?: number;
  /** NEGOTIATE_ALGORITHMS OtherParamsSupport. */
  requestOther?: number;
  /** ALGORITHMS OtherParamsSelection. */
  responseOther?: number;
  baseAsym?: number;
}

/** Runs GET_VERSION .. ALGORITHMS through `dec` and returns the negotiated version. */
function negotiate(dec: ConversationDecoder, o: Setup = {}): number {
  const v = o.version ?? 0x13;
  dec.feed('request', encodeGetVersion());
  dec.feed('response', doe(encodeVersion([{ major: 1, minor: 2, update: 0, alpha: 0 }, { major: v >> 4, minor: v & 0xf, update: 0, alpha: 0 }])));
  dec.feed('request', encodeGetCapabilities({ version: v, ctExponent: 0, flags: 0x0882f7c6 & 0x0ec3ffc6, dataTransferSize: 4096, maxSpdmMsgSize: 4096 }));
  const responderFlags = o.responderFlags ?? CapabilityFlag.CERT | CapabilityFlag.CHAL | CapabilityFlag.MEAS_SIG | CapabilityFlag.MULTI_KEY_NEG;
  dec.feed('response', encodeCapabilities({ version: v, ctExponent: 12, flags: responderFlags, dataTransferSize: 4096, maxSpdmMsgSize: 4096 }));
  const structs = [
    { type: AlgType.DHE, supported: 0x10, external: [] },
    { type: AlgType.AEAD, supported: 0x02, external: [] },
  ];
  dec.feed(
    'request',
    doe(
      encodeNegotiateAlgorithms(v, {
        measurementSpec: 1,
        otherParams: o.requestOther ?? 0x12,
        baseAsym: 0x80,
        baseHash: 0x02,
        melSpec: 0,
        extAsym: [],
        extHash: [],
        algStructs: structs,
      }),
    ),
  );
  dec.feed(
    'response',
    encodeAlgorithms(v, {
      measurementSpec: 1,
      otherParams: o.responseOther ?? 0x02,
      measurementHash: 0x08,
      baseAsym: o.baseAsym ?? 0x80,
      baseHash: 0x02,
      melSpec: 0,
      algStructs: structs,
    }),
  );
  return v;
}

test('a whole 1.3 conversation with DOE padding: kinds, state, trailing, re-encoding', () => {
  const dec = new ConversationDecoder();
  const got: DecodedMessage[] = [];
  const feed = (dir: Direction, b: Uint8Array): DecodedMessage => {
    const d = dec.feed(dir, doe(b));
    // 'other' messages have no known end: their padding stays in `body`.
    assert.equal(d.trailing.length, d.kind === 'other' ? 0 : (4 - (b.length % 4)) % 4, `${d.kind}: trailing`);
    if (d.kind !== 'other') {
      assert.equal(toHex(d.msg.raw), toHex(b), `${d.kind}: raw is the message without padding`);
      assert.equal(toHex(reencode(d)), toHex(b), `${d.kind}: re-encodes`);
    }
    got.push(d);
    return d;
  };
  const v = negotiate(dec);
  const st = dec.state;
  assert.equal(st.version, 0x13);
  assert.equal(st.baseHashAlgo, 0x02);
  assert.equal(st.baseAsymAlgo, 0x80);
  assert.equal(st.measurementHashAlgo, 0x08);
  assert.equal(dec.hashSize, H);
  assert.equal(dec.signatureSize, S);
  assert.equal(dec.measurementHashSize, MH);
  assert.equal(st.multiKeyConnRsp, true, 'NEGOTIATE_ALGORITHMS asked for a multi-key responder');
  assert.equal(st.multiKeyConnReq, false, 'ALGORITHMS did not select multi-key for the requester');
  assert.deepEqual(st.versionEntries?.map((e) => `${e.major}.${e.minor}`), ['1.2', '1.3']);

  feed('request', encodeGetDigests(v));
  const digests = [0, 2].map((slot) => ({ slot, digest: seq(H, slot), keyPairId: slot + 1, certificateInfo: 1, keyUsageMask: 0x7 }));
  const dg = feed('response', encodeDigests(v, { supportedSlotMask: 0x07, digests }, true));
  assert.equal(dg.kind, 'DIGESTS');
  if (dg.kind === 'DIGESTS') assert.deepEqual(dg.msg.digests, digests);

  feed('request', encodeGetCertificate(v, { slot: 2, offset: 0, length: 0x400 }));
  const cert = feed('response', encodeCertificate(v, { slot: 2, certModel: 1, portion: seq(5), remainderLength: 0 }));
  assert.equal(cert.trailing.length, 3);

  const nonce = seq(32, 3);
  const requesterContext = seq(8, 0x11);
  feed('request', encodeChallenge(v, { slot: 2, measurementSummaryHashType: 0xff, nonce, requesterContext }));
  assert.equal(dec.state.measurementSummaryHashRequested, true);
  const nr = feed('response', encodeResponseNotReady(v, { rdtExponent: 10, requestCode: 0x83, token: 5, rdtm: 2 }));
  assert.equal(nr.kind, 'ERROR');
  if (nr.kind === 'ERROR') assert.deepEqual(nr.msg.notReady, { rdtExponent: 10, requestCode: 0x83, token: 5, rdtm: 2 });
  const riy = feed('request', encodeRespondIfReady(v, 0x83, 5));
  assert.equal(riy.kind, 'RESPOND_IF_READY');
  const auth = encodeChallengeAuth(
    v,
    { slot: 2, slotMask: 0x05, certChainHash: seq(H, 2), nonce: seq(32, 9), measurementSummaryHash: seq(H, 0x55), requesterContext },
    seq(S, 0x66),
  );
  const ca = feed('response', auth.message);
  assert.equal(ca.kind, 'CHALLENGE_AUTH');
  if (ca.kind === 'CHALLENGE_AUTH') {
    assert.deepEqual(ca.msg.measurementSummaryHash, seq(H, 0x55));
    assert.deepEqual(ca.msg.signature, seq(S, 0x66));
    assert.equal(toHex(ca.msg.unsigned), toHex(auth.unsigned));
  }

  const block = encodeDmtfBlock(1, { raw: false, type: 0, value: seq(MH) });
  feed('request', encodeGetMeasurements(v, { attributes: 1, operation: 1, nonce, slot: 2, requesterContext }));
  assert.equal(dec.state.measurementSignatureRequested, true);
  const signed = encodeMeasurements(v, { slot: 2, numberOfBlocks: 1, record: block, nonce: seq(32, 4), requesterContext }, seq(S, 0x77));
  const ms = feed('response', signed.message);
  if (ms.kind === 'MEASUREMENTS') assert.deepEqual(ms.msg.signature, seq(S, 0x77));
  else assert.fail('MEASUREMENTS expected');

  feed('request', encodeGetMeasurements(v, { attributes: 0, operation: 0, requesterContext }));
  assert.equal(dec.state.measurementSignatureRequested, false);
  const unsigned = feed('response', encodeMeasurements(v, { totalIndices: 4, numberOfBlocks: 0, record: new Uint8Array(0), nonce: seq(32, 4), requesterContext }).message);
  if (unsigned.kind === 'MEASUREMENTS') {
    assert.equal(unsigned.msg.totalIndices, 4);
    assert.equal(unsigned.msg.signature, undefined);
  } else assert.fail('MEASUREMENTS expected');

  // A code whose codec comes later: header only, body = the rest (padding included).
  const kx = concat([Uint8Array.of(v, 0xe4, 0xff, 0x00), seq(50)]);
  const other = feed('request', kx);
  assert.equal(other.kind, 'other');
  if (other.kind === 'other') {
    assert.equal(other.name, 'KEY_EXCHANGE');
    assert.deepEqual(other.header, { version: v, code: 0xe4, param1: 0xff, param2: 0 });
    assert.equal(other.body.length, doe(kx).length - 4);
    assert.equal(other.trailing.length, 0);
  }
  assert.deepEqual(
    got.map((d) => d.direction),
    got.map((d) => ((d.kind === 'other' ? d.header.code : d.msg.raw[1] ?? 0) & 0x80 ? 'request' : 'response')),
  );

  // GET_VERSION resets everything: nothing is known for a DIGESTS any more.
  dec.feed('request', encodeGetVersion());
  assert.equal(dec.hashSize, undefined);
  assert.equal(dec.state.multiKeyConnRsp, false);
  assert.equal(dec.state.measurementSummaryHashRequested, false);
  expectDecodeError(() => dec.feed('response', encodeDigests(v, { digests: [{ slot: 0, digest: seq(H) }] })), 'DIGESTS', 'Digest');
});

test('multi-key DIGESTS follow NEGOTIATE_ALGORITHMS bit 4 (responder), not ALGORITHMS bit 4 (requester)', () => {
  const digests = [0, 1].map((slot) => ({ slot, digest: seq(H, slot), keyPairId: slot, certificateInfo: 1, keyUsageMask: 1 }));
  const withFields = encodeDigests(0x13, { supportedSlotMask: 0x03, digests }, true);
  const without = encodeDigests(0x13, { supportedSlotMask: 0x03, digests: digests.map(({ slot, digest }) => ({ slot, digest })) }, false);

  const a = new ConversationDecoder();
  negotiate(a, { requestOther: 0x02, responseOther: 0x12 });
  assert.equal(a.state.multiKeyConnRsp, false);
  assert.equal(a.state.multiKeyConnReq, true);
  const d = a.feed('response', without);
  assert.ok(d.kind === 'DIGESTS' && d.msg.digests.every((x) => x.keyPairId === undefined));
  // The 8 bytes of multi-key fields are not part of a non-multi-key DIGESTS.
  expectDecodeError(() => a.feed('response', withFields), 'DIGESTS', 'trailing');

  // Multi-key fields exist only from 1.3.
  const b = new ConversationDecoder();
  negotiate(b, { version: 0x12, requestOther: 0x12, responseOther: 0x12 });
  assert.equal(b.state.multiKeyConnRsp, false);
});

test('CHALLENGE_AUTH: summary hash only when asked for and the responder has MEAS_CAP', () => {
  const auth = (msh: boolean): Uint8Array =>
    encodeChallengeAuth(0x12, { slot: 0, slotMask: 1, certChainHash: seq(H), nonce: seq(32), ...(msh ? { measurementSummaryHash: seq(H, 7) } : {}) }, seq(S)).message;

  const none = new ConversationDecoder();
  negotiate(none, { version: 0x12 });
  none.feed('request', encodeChallenge(0x12, { slot: 0, measurementSummaryHashType: 0, nonce: seq(32) }));
  assert.equal(none.state.measurementSummaryHashRequested, false);
  const d = none.feed('response', auth(false));
  assert.ok(d.kind === 'CHALLENGE_AUTH' && d.msg.measurementSummaryHash === undefined);

  const tcb = new ConversationDecoder();
  negotiate(tcb, { version: 0x12 });
  tcb.feed('request', encodeChallenge(0x12, { slot: 0, measurementSummaryHashType: 1, nonce: seq(32) }));
  const t = tcb.feed('response', auth(true));
  assert.ok(t.kind === 'CHALLENGE_AUTH' && t.msg.measurementSummaryHash !== undefined);

  // libspdm: a responder without MEAS_CAP sends no summary hash even when asked.
  const noMeas = new ConversationDecoder();
  negotiate(noMeas, { version: 0x12, responderFlags: CapabilityFlag.CERT | CapabilityFlag.CHAL });
  noMeas.feed('request', encodeChallenge(0x12, { slot: 0, measurementSummaryHashType: 0xff, nonce: seq(32) }));
  const n = noMeas.feed('response', auth(false));
  assert.ok(n.kind === 'CHALLENGE_AUTH' && n.msg.measurementSummaryHash === undefined);
});

test('unknown algorithm sizes are DecodeErrors naming the field, and seeding the state fixes them', () => {
  const dec = new ConversationDecoder();
  negotiate(dec, { version: 0x12, baseAsym: 0 });
  dec.feed('request', encodeChallenge(0x12, { slot: 0, measurementSummaryHashType: 0, nonce: seq(32) }));
  const msg = encodeChallengeAuth(0x12, { slot: 0, slotMask: 1, certChainHash: seq(H), nonce: seq(32) }, seq(S)).message;
  expectDecodeError(() => dec.feed('response', msg), 'CHALLENGE_AUTH', 'Signature');

  // A capture that starts after negotiation: give the decoder what ALGORITHMS would have said.
  const seeded = new ConversationDecoder({ baseHashAlgo: 0x02, baseAsymAlgo: 0x80 });
  const d = seeded.feed('response', msg);
  assert.equal(d.kind, 'CHALLENGE_AUTH');
  const fresh = new ConversationDecoder();
  expectDecodeError(() => fresh.feed('response', msg), 'CHALLENGE_AUTH', 'CertChainHash');
});

test('MEASUREMENTS: a DMTF digest must have the MeasurementHashAlgo size', () => {
  const dec = new ConversationDecoder();
  const v = negotiate(dec, { version: 0x12 });
  dec.feed('request', encodeGetMeasurements(v, { attributes: 0, operation: 1 }));
  const wrong = encodeDmtfBlock(1, { raw: false, type: 0, value: seq(48) });
  const m = encodeMeasurements(v, { numberOfBlocks: 1, record: wrong, nonce: seq(32) }).message;
  const e = expectDecodeError(() => dec.feed('response', m), 'MEASUREMENTS', 'MeasurementRecord.Block[0].DMTFSpecMeasurementValueSize');
  assert.equal(e.offset, 13);
  // Raw bit streams have any size.
  const raw = encodeDmtfBlock(1, { raw: true, type: 1, value: seq(48) });
  assert.equal(dec.feed('response', encodeMeasurements(v, { numberOfBlocks: 1, record: raw, nonce: seq(32) }).message).kind, 'MEASUREMENTS');
});

test('trailing bytes: at most 3, all zero; a failure leaves the state as it was', () => {
  const dec = new ConversationDecoder();
  const v = negotiate(dec, { version: 0x12 });
  const req = encodeGetMeasurements(v, { attributes: 1, operation: 0xff, nonce: seq(32), slot: 0 });
  assert.equal(req.length, 37);
  expectDecodeError(() => dec.feed('request', concat([req, Uint8Array.of(0, 0, 0, 0)])), 'GET_MEASUREMENTS', 'trailing');
  const e = expectDecodeError(() => dec.feed('request', concat([req, Uint8Array.of(0, 0, 1)])), 'GET_MEASUREMENTS', 'trailing');
  assert.equal(e.offset, 39);
  assert.equal(dec.state.measurementSignatureRequested, false, 'rejected requests do not change the state');
  const ok = dec.feed('request', concat([req, Uint8Array.of(0, 0, 0)]));
  assert.equal(ok.trailing.length, 3);
  assert.equal(dec.state.measurementSignatureRequested, true);
});

test('direction, short payloads, unknown codes', () => {
  const dec = new ConversationDecoder();
  expectDecodeError(() => dec.feed('response', encodeGetVersion()), 'GET_VERSION', 'RequestResponseCode');
  expectDecodeError(() => dec.feed('request', encodeVersion([{ major: 1, minor: 0, update: 0, alpha: 0 }])), 'VERSION', 'RequestResponseCode');
  expectDecodeError(() => dec.feed('request', Uint8Array.of(0x10, 0x84)), 'SPDM message', 'Param1');
  expectDecodeError(() => dec.feed('request', new Uint8Array(0)), 'SPDM message', 'SPDMVersion');
  const unknown = dec.feed('request', Uint8Array.of(0x12, 0x99, 1, 2, 3));
  assert.ok(unknown.kind === 'other' && unknown.name === 'UNKNOWN_0x99' && unknown.body.length === 1);
  const heartbeatAck = dec.feed('response', Uint8Array.of(0x12, 0x68, 0, 0));
  assert.ok(heartbeatAck.kind === 'other' && heartbeatAck.name === 'HEARTBEAT_ACK');
  // A malformed in-scope message is an error, never 'other'.
  expectDecodeError(() => dec.feed('request', Uint8Array.of(0x12, 0x82, 0, 0)), 'GET_CERTIFICATE', 'Offset');
});
