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
  EncapPayloadType,
  MEAS_CAP_MASK,
  encodeChunkGet,
  encodeChunkResponse,
  encodeChunkSend,
  encodeChunkSendAck,
  encodeDeliverEncapsulatedResponse,
  encodeEncapsulatedRequest,
  encodeEncapsulatedResponseAck,
  encodeEndSession,
  encodeEndSessionAck,
  encodeEndpointInfo,
  encodeError,
  encodeFinish,
  encodeFinishRsp,
  encodeGetEncapsulatedRequest,
  encodeGetEndpointInfo,
  encodeHeartbeat,
  encodeHeartbeatAck,
  encodeKeyExchange,
  encodeKeyExchangeRsp,
  encodeKeyUpdate,
  encodeKeyUpdateAck,
  encodePskExchange,
  encodePskExchangeRsp,
  encodePskFinish,
  encodePskFinishRsp,
  encodeSetCertificate,
  encodeSetCertificateRsp,
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
  type AlgStruct,
  type DecodedMessage,
  type Direction,
} from '../../src/spdm/index.js';
import { reencode } from './reencode.js';
import { seq } from './samples.js';

/** DOE: zero padding to a dword boundary. */
function doe(b: Uint8Array): Uint8Array {
  return concat([b, new Uint8Array((4 - (b.length % 4)) % 4)]);
}

function expectDecodeError(fn: () => unknown, messageName: string, field: string | RegExp): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    assert.equal(e.messageName, messageName, e.message);
    if (typeof field === 'string') assert.equal(e.field, field, e.message);
    else assert.match(e.field, field, e.message);
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
  requesterFlags?: number;
  /** ALGORITHMS / NEGOTIATE_ALGORITHMS AlgStructs (default: DHE secp384r1, AEAD AES-256-GCM). */
  structs?: AlgStruct[];
}

/** Runs GET_VERSION .. ALGORITHMS through `dec` and returns the negotiated version. */
function negotiate(dec: ConversationDecoder, o: Setup = {}): number {
  const v = o.version ?? 0x13;
  dec.feed('request', encodeGetVersion());
  dec.feed(
    'response',
    doe(
      encodeVersion([
        { major: 1, minor: 2, update: 0, alpha: 0 },
        { major: v >> 4, minor: v & 0xf, update: 0, alpha: 0 },
      ]),
    ),
  );
  dec.feed(
    'request',
    encodeGetCapabilities({
      version: v,
      ctExponent: 0,
      flags: o.requesterFlags ?? 0x0882f7c6 & 0x0ec3ffc6,
      dataTransferSize: 4096,
      maxSpdmMsgSize: 4096,
    }),
  );
  const responderFlags =
    o.responderFlags ??
    CapabilityFlag.CERT | CapabilityFlag.CHAL | CapabilityFlag.MEAS_SIG | CapabilityFlag.MULTI_KEY_NEG;
  dec.feed(
    'response',
    encodeCapabilities({
      version: v,
      ctExponent: 12,
      flags: responderFlags,
      dataTransferSize: 4096,
      maxSpdmMsgSize: 4096,
    }),
  );
  const structs = o.structs ?? [
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
  assert.deepEqual(
    st.versionEntries?.map((e) => `${e.major}.${e.minor}`),
    ['1.2', '1.3'],
  );

  feed('request', encodeGetDigests(v));
  const digests = [0, 2].map((slot) => ({
    slot,
    digest: seq(H, slot),
    keyPairId: slot + 1,
    certificateInfo: 1,
    keyUsageMask: 0x7,
  }));
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
    {
      slot: 2,
      slotMask: 0x05,
      certChainHash: seq(H, 2),
      nonce: seq(32, 9),
      measurementSummaryHash: seq(H, 0x55),
      requesterContext,
    },
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
  const signed = encodeMeasurements(
    v,
    { slot: 2, numberOfBlocks: 1, record: block, nonce: seq(32, 4), requesterContext },
    seq(S, 0x77),
  );
  const ms = feed('response', signed.message);
  if (ms.kind === 'MEASUREMENTS') assert.deepEqual(ms.msg.signature, seq(S, 0x77));
  else assert.fail('MEASUREMENTS expected');

  feed('request', encodeGetMeasurements(v, { attributes: 0, operation: 0, requesterContext }));
  assert.equal(dec.state.measurementSignatureRequested, false);
  const unsigned = feed(
    'response',
    encodeMeasurements(v, {
      totalIndices: 4,
      numberOfBlocks: 0,
      record: new Uint8Array(0),
      nonce: seq(32, 4),
      requesterContext,
    }).message,
  );
  if (unsigned.kind === 'MEASUREMENTS') {
    assert.equal(unsigned.msg.totalIndices, 4);
    assert.equal(unsigned.msg.signature, undefined);
  } else assert.fail('MEASUREMENTS expected');

  // A code without a codec (1.4 SLOT_MANAGEMENT): header only, body = the rest (padding included).
  const sm = concat([Uint8Array.of(v, 0x88, 0x01, 0x00), seq(5)]);
  const other = feed('request', sm);
  assert.equal(other.kind, 'other');
  if (other.kind === 'other') {
    assert.equal(other.name, 'SLOT_MANAGEMENT');
    assert.deepEqual(other.header, { version: v, code: 0x88, param1: 0x01, param2: 0 });
    assert.equal(other.body.length, doe(sm).length - 4);
    assert.equal(other.trailing.length, 0);
  }
  assert.deepEqual(
    got.map((d) => d.direction),
    got.map((d) => ((d.kind === 'other' ? d.header.code : (d.msg.raw[1] ?? 0)) & 0x80 ? 'request' : 'response')),
  );

  // GET_VERSION resets everything: nothing is known for a DIGESTS any more.
  dec.feed('request', encodeGetVersion());
  assert.equal(dec.hashSize, undefined);
  assert.equal(dec.state.multiKeyConnRsp, false);
  assert.equal(dec.state.measurementSummaryHashRequested, false);
  expectDecodeError(
    () => dec.feed('response', encodeDigests(v, { digests: [{ slot: 0, digest: seq(H) }] })),
    'DIGESTS',
    'Digest',
  );
});

test('multi-key DIGESTS follow NEGOTIATE_ALGORITHMS bit 4 (responder), not ALGORITHMS bit 4 (requester)', () => {
  const digests = [0, 1].map((slot) => ({
    slot,
    digest: seq(H, slot),
    keyPairId: slot,
    certificateInfo: 1,
    keyUsageMask: 1,
  }));
  const withFields = encodeDigests(0x13, { supportedSlotMask: 0x03, digests }, true);
  const without = encodeDigests(
    0x13,
    { supportedSlotMask: 0x03, digests: digests.map(({ slot, digest }) => ({ slot, digest })) },
    false,
  );

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
    encodeChallengeAuth(
      0x12,
      {
        slot: 0,
        slotMask: 1,
        certChainHash: seq(H),
        nonce: seq(32),
        ...(msh ? { measurementSummaryHash: seq(H, 7) } : {}),
      },
      seq(S),
    ).message;

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
  const msg = encodeChallengeAuth(
    0x12,
    { slot: 0, slotMask: 1, certChainHash: seq(H), nonce: seq(32) },
    seq(S),
  ).message;
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
  const e = expectDecodeError(
    () => dec.feed('response', m),
    'MEASUREMENTS',
    'MeasurementRecord.Block[0].DMTFSpecMeasurementValueSize',
  );
  assert.equal(e.offset, 13);
  // Raw bit streams have any size.
  const raw = encodeDmtfBlock(1, { raw: true, type: 1, value: seq(48) });
  assert.equal(
    dec.feed('response', encodeMeasurements(v, { numberOfBlocks: 1, record: raw, nonce: seq(32) }).message).kind,
    'MEASUREMENTS',
  );
});

test('trailing bytes: zero padding up to 3, more zeros an anomaly, any non-zero byte an error that leaves the state as it was', () => {
  const dec = new ConversationDecoder();
  const v = negotiate(dec, { version: 0x12 });
  const req = encodeGetMeasurements(v, { attributes: 1, operation: 0xff, nonce: seq(32), slot: 0 });
  assert.equal(req.length, 37);
  // libspdm over-sizes some responses with zeros; an observer decodes them and reports the anomaly.
  const excess = new ConversationDecoder();
  negotiate(excess, { version: 0x12 });
  assert.match(excess.feed('request', concat([req, Uint8Array.of(0, 0, 0, 0)])).anomaly ?? '', /4 zero byte/);
  const e = expectDecodeError(
    () => dec.feed('request', concat([req, Uint8Array.of(0, 0, 1)])),
    'GET_MEASUREMENTS',
    'trailing',
  );
  assert.equal(e.offset, 39);
  assert.equal(dec.state.measurementSignatureRequested, false, 'rejected requests do not change the state');
  const ok = dec.feed('request', concat([req, Uint8Array.of(0, 0, 0)]));
  assert.equal(ok.trailing.length, 3);
  assert.equal(dec.state.measurementSignatureRequested, true);
});

test('direction, short payloads, unknown codes', () => {
  const dec = new ConversationDecoder();
  expectDecodeError(() => dec.feed('response', encodeGetVersion()), 'GET_VERSION', 'RequestResponseCode');
  expectDecodeError(
    () => dec.feed('request', encodeVersion([{ major: 1, minor: 0, update: 0, alpha: 0 }])),
    'VERSION',
    'RequestResponseCode',
  );
  expectDecodeError(() => dec.feed('request', Uint8Array.of(0x10, 0x84)), 'SPDM message', 'Param1');
  expectDecodeError(() => dec.feed('request', new Uint8Array(0)), 'SPDM message', 'SPDMVersion');
  const unknown = dec.feed('request', Uint8Array.of(0x12, 0x99, 1, 2, 3));
  assert.ok(unknown.kind === 'other' && unknown.name === 'UNKNOWN_0x99' && unknown.body.length === 1);
  const heartbeatAck = dec.feed('response', Uint8Array.of(0x12, 0x68, 0, 0));
  assert.equal(heartbeatAck.kind, 'HEARTBEAT_ACK');
  const slotMgmt = dec.feed('response', Uint8Array.of(0x14, 0x08, 0, 0, 1));
  assert.ok(slotMgmt.kind === 'other' && slotMgmt.name === 'SLOT_MANAGEMENT_RESP' && slotMgmt.body.length === 1);
  // A malformed in-scope message is an error, never 'other'.
  expectDecodeError(() => dec.feed('request', Uint8Array.of(0x12, 0x82, 0, 0)), 'GET_CERTIFICATE', 'Offset');
});

// ================================================================ sessions, encapsulated requests, chunking

const SESSION_STRUCTS: AlgStruct[] = [
  { type: AlgType.DHE, supported: 0x10, external: [] }, // secp384r1: D = 96
  { type: AlgType.AEAD, supported: 0x02, external: [] },
  { type: AlgType.REQ_BASE_ASYM, supported: 0x08, external: [] }, // RSAPSS-3072: requester signatures are 384 bytes
  { type: AlgType.KEY_SCHEDULE, supported: 0x01, external: [] },
];
const D = 96;
const S_REQ = 384;
const RSP_SESSION_FLAGS =
  CapabilityFlag.CERT |
  CapabilityFlag.CHAL |
  CapabilityFlag.MEAS_SIG |
  CapabilityFlag.ENCRYPT |
  CapabilityFlag.MAC |
  CapabilityFlag.MUT_AUTH |
  CapabilityFlag.KEY_EX |
  CapabilityFlag.PSK_WITH_CONTEXT |
  CapabilityFlag.ENCAP |
  CapabilityFlag.CHUNK;
const REQ_SESSION_FLAGS = 0x0002f7c6; // 1.2 requester flags, HANDSHAKE_IN_THE_CLEAR (bit 15) included

function sessionDecoder(
  o: { version?: number; clear?: boolean; responderFlags?: number; structs?: AlgStruct[] } = {},
): { dec: ConversationDecoder; v: number } {
  const dec = new ConversationDecoder();
  const v = negotiate(dec, {
    version: o.version ?? 0x12,
    structs: o.structs ?? SESSION_STRUCTS,
    requesterFlags: REQ_SESSION_FLAGS,
    responderFlags: (o.responderFlags ?? RSP_SESSION_FLAGS) | (o.clear ? CapabilityFlag.HANDSHAKE_IN_THE_CLEAR : 0),
    requestOther: 0x12,
    responseOther: 0x12,
  });
  return { dec, v };
}

/** Feeds with DOE padding and checks raw, trailing and re-encoding. */
function feedChecked(dec: ConversationDecoder, dir: Direction, b: Uint8Array): DecodedMessage {
  const d = dec.feed(dir, doe(b));
  assert.notEqual(d.kind, 'other');
  if (d.kind !== 'other') {
    assert.equal(toHex(d.msg.raw), toHex(b), `${d.kind}: raw`);
    assert.equal(d.trailing.length, (4 - (b.length % 4)) % 4, `${d.kind}: trailing`);
    assert.equal(toHex(reencode(d)), toHex(b), `${d.kind}: re-encodes`);
  }
  return d;
}

test('KEY_EXCHANGE .. FINISH_RSP: sizes from ALGORITHMS, verify data placed by HANDSHAKE_IN_THE_CLEAR of both sides', () => {
  for (const clear of [false, true]) {
    const { dec, v } = sessionDecoder({ clear });
    const st = dec.state;
    assert.equal(st.dheGroup, 0x10);
    assert.equal(st.reqBaseAsymAlgo, 0x08);
    assert.deepEqual(dec.exchangeDataSizes, { request: D, response: D });
    assert.equal(dec.requesterSignatureSize, S_REQ);
    assert.equal(dec.handshakeInTheClear, clear, 'the requester always sets the flag: the responder decides');

    const kx = feedChecked(
      dec,
      'request',
      encodeKeyExchange(v, {
        measurementSummaryHashType: 0xff,
        slot: 0,
        reqSessionId: 0xffff,
        sessionPolicy: 1,
        randomData: seq(32),
        exchangeData: seq(D, 2),
      }),
    );
    assert.equal(kx.kind, 'KEY_EXCHANGE');
    assert.equal(dec.state.keyExchangeSummaryHashType, 0xff);
    const rsp = {
      heartbeatPeriod: 0xf0,
      rspSessionId: 0xfffe,
      mutAuthRequested: 0x01,
      reqSlotIdParam: 0,
      randomData: seq(32, 3),
      exchangeData: seq(D, 4),
      measurementSummaryHash: seq(H, 5),
      signature: seq(S, 6),
    };
    const withVerify = encodeKeyExchangeRsp(v, { ...rsp, responderVerifyData: seq(H, 7) });
    const withoutVerify = encodeKeyExchangeRsp(v, rsp);
    if (clear) {
      expectDecodeError(() => dec.feed('response', withVerify), 'KEY_EXCHANGE_RSP', 'trailing');
      const d = feedChecked(dec, 'response', withoutVerify);
      assert.ok(
        d.kind === 'KEY_EXCHANGE_RSP' &&
          d.msg.responderVerifyData === undefined &&
          d.msg.measurementSummaryHash?.length === H,
      );
    } else {
      expectDecodeError(() => dec.feed('response', withoutVerify), 'KEY_EXCHANGE_RSP', 'ResponderVerifyData');
      const d = feedChecked(dec, 'response', withVerify);
      assert.ok(d.kind === 'KEY_EXCHANGE_RSP' && d.msg.responderVerifyData?.length === H);
      if (d.kind === 'KEY_EXCHANGE_RSP') assert.equal(d.msg.unsigned.length, 40 + D + H + 2);
    }

    const fin = feedChecked(
      dec,
      'request',
      encodeFinish(v, {
        signatureIncluded: true,
        reqSlotId: 0,
        signature: seq(S_REQ, 8),
        requesterVerifyData: seq(H, 9),
      }),
    );
    assert.ok(fin.kind === 'FINISH' && fin.msg.signature?.length === S_REQ);
    assert.equal(dec.state.finishSignatureIncluded, true);
    const finRsp = feedChecked(dec, 'response', encodeFinishRsp(v, clear ? { responderVerifyData: seq(H, 10) } : {}));
    assert.ok(finRsp.kind === 'FINISH_RSP' && (finRsp.msg.responderVerifyData !== undefined) === clear);
  }
});

test('KEY_EXCHANGE_RSP / PSK_EXCHANGE_RSP: summary hash as the request asked, none from a responder without MEAS_CAP', () => {
  const rsp = (v: number, msh: boolean): Uint8Array =>
    encodeKeyExchangeRsp(v, {
      heartbeatPeriod: 0,
      rspSessionId: 1,
      mutAuthRequested: 0,
      reqSlotIdParam: 0,
      randomData: seq(32),
      exchangeData: seq(D),
      ...(msh ? { measurementSummaryHash: seq(H) } : {}),
      signature: seq(S),
      responderVerifyData: seq(H, 1),
    });
  const kx = (v: number, type: number): Uint8Array =>
    encodeKeyExchange(v, {
      measurementSummaryHashType: type,
      slot: 0,
      reqSessionId: 1,
      randomData: seq(32),
      exchangeData: seq(D),
    });
  const a = sessionDecoder();
  a.dec.feed('request', kx(a.v, 0));
  assert.equal(a.dec.feed('response', rsp(a.v, false)).kind, 'KEY_EXCHANGE_RSP');
  a.dec.feed('request', kx(a.v, 1));
  assert.equal(a.dec.feed('response', rsp(a.v, true)).kind, 'KEY_EXCHANGE_RSP');
  const noMeas = sessionDecoder({ responderFlags: RSP_SESSION_FLAGS & ~MEAS_CAP_MASK });
  noMeas.dec.feed('request', kx(noMeas.v, 0xff));
  assert.equal(noMeas.dec.feed('response', rsp(noMeas.v, false)).kind, 'KEY_EXCHANGE_RSP');

  const { dec, v } = sessionDecoder();
  const psk = feedChecked(
    dec,
    'request',
    encodePskExchange(v, {
      measurementSummaryHashType: 1,
      sessionPolicy: 1,
      reqSessionId: 2,
      pskHint: seq(12),
      requesterContext: seq(64, 1),
    }),
  );
  assert.equal(psk.kind, 'PSK_EXCHANGE');
  assert.equal(dec.state.pskExchangeSummaryHashType, 1);
  const pskRsp = feedChecked(
    dec,
    'response',
    encodePskExchangeRsp(v, {
      heartbeatPeriod: 0,
      rspSessionId: 3,
      measurementSummaryHash: seq(H, 2),
      responderContext: seq(64, 3),
      responderVerifyData: seq(H, 4),
    }),
  );
  assert.ok(pskRsp.kind === 'PSK_EXCHANGE_RSP' && pskRsp.msg.measurementSummaryHash?.length === H);
  assert.equal(feedChecked(dec, 'request', encodePskFinish(v, { requesterVerifyData: seq(H) })).kind, 'PSK_FINISH');
  assert.equal(feedChecked(dec, 'response', encodePskFinishRsp(v)).kind, 'PSK_FINISH_RSP');
  for (const [dir, b, kind] of [
    ['request', encodeHeartbeat(v), 'HEARTBEAT'],
    ['response', encodeHeartbeatAck(v), 'HEARTBEAT_ACK'],
    ['request', encodeKeyUpdate(v, { operation: 2, tag: 9 }), 'KEY_UPDATE'],
    ['response', encodeKeyUpdateAck(v, { operation: 2, tag: 9 }), 'KEY_UPDATE_ACK'],
    ['request', encodeEndSession(v, { negotiatedStateClearing: true }), 'END_SESSION'],
    ['response', encodeEndSessionAck(v), 'END_SESSION_ACK'],
  ] as const) {
    assert.equal(feedChecked(dec, dir, b).kind, kind);
  }
});

test('sizes the negotiation did not give are DecodeErrors naming the field', () => {
  const noDhe = sessionDecoder({ structs: [{ type: AlgType.AEAD, supported: 0x02, external: [] }] });
  assert.equal(noDhe.dec.exchangeDataSizes, undefined);
  expectDecodeError(
    () =>
      noDhe.dec.feed(
        'request',
        encodeKeyExchange(noDhe.v, {
          measurementSummaryHashType: 0,
          slot: 0,
          reqSessionId: 1,
          randomData: seq(32),
          exchangeData: seq(D),
        }),
      ),
    'KEY_EXCHANGE',
    'ExchangeData',
  );
  // No ReqBaseAsymAlg: an unsigned FINISH decodes, a signed one cannot.
  assert.equal(noDhe.dec.requesterSignatureSize, undefined);
  assert.equal(
    noDhe.dec.feed(
      'request',
      encodeFinish(noDhe.v, { signatureIncluded: false, reqSlotId: 0, requesterVerifyData: seq(H) }),
    ).kind,
    'FINISH',
  );
  expectDecodeError(
    () =>
      noDhe.dec.feed(
        'request',
        encodeFinish(noDhe.v, {
          signatureIncluded: true,
          reqSlotId: 0,
          signature: seq(S_REQ),
          requesterVerifyData: seq(H),
        }),
      ),
    'FINISH',
    'Signature',
  );
});

test('encapsulated flow: nested messages decoded with the requester-side sizes, padding after them', () => {
  const { dec, v } = sessionDecoder({ version: 0x13 });
  assert.equal(dec.state.multiKeyConnReq, true);
  assert.equal(feedChecked(dec, 'request', encodeGetEncapsulatedRequest(v)).kind, 'GET_ENCAPSULATED_REQUEST');
  const er = feedChecked(dec, 'response', encodeEncapsulatedRequest(v, { requestId: 1, payload: encodeGetDigests(v) }));
  assert.ok(er.kind === 'ENCAPSULATED_REQUEST' && er.msg.nested?.kind === 'GET_DIGESTS');
  assert.equal(dec.state.encapRequestId, 1);

  // The requester's DIGESTS: multi-key per ALGORITHMS OtherParamsSelection bit 4.
  const reqDigests = encodeDigests(
    v,
    {
      supportedSlotMask: 0x03,
      digests: [0, 1].map((slot) => ({
        slot,
        digest: seq(H, slot),
        keyPairId: slot + 1,
        certificateInfo: 1,
        keyUsageMask: 0xf,
      })),
    },
    true,
  );
  const dr = feedChecked(dec, 'request', encodeDeliverEncapsulatedResponse(v, { requestId: 1, payload: reqDigests }));
  assert.ok(dr.kind === 'DELIVER_ENCAPSULATED_RESPONSE' && dr.msg.nested?.kind === 'DIGESTS');

  const challenge = encodeChallenge(v, {
    slot: 0,
    measurementSummaryHashType: 0,
    nonce: seq(32),
    requesterContext: seq(8),
  });
  const ack = feedChecked(
    dec,
    'response',
    encodeEncapsulatedResponseAck(v, {
      requestId: 2,
      payloadType: EncapPayloadType.PRESENT,
      ackRequestId: 1,
      payload: challenge,
    }),
  );
  assert.ok(
    ack.kind === 'ENCAPSULATED_RESPONSE_ACK' && ack.msg.nested?.kind === 'CHALLENGE' && ack.msg.ackRequestId === 1,
  );
  // The requester's CHALLENGE_AUTH: ReqBaseAsymAlg signature, never a summary hash.
  const auth = encodeChallengeAuth(
    v,
    { slot: 0, slotMask: 1, certChainHash: seq(H), nonce: seq(32, 1), requesterContext: seq(8) },
    seq(S_REQ),
  ).message;
  const ca = feedChecked(dec, 'request', encodeDeliverEncapsulatedResponse(v, { requestId: 2, payload: auth }));
  assert.ok(ca.kind === 'DELIVER_ENCAPSULATED_RESPONSE' && ca.msg.nested?.kind === 'CHALLENGE_AUTH');
  if (ca.kind === 'DELIVER_ENCAPSULATED_RESPONSE' && ca.msg.nested?.kind === 'CHALLENGE_AUTH')
    assert.equal(ca.msg.nested.msg.signature.length, S_REQ);

  // Signed GET_ENDPOINT_INFO to the requester: only the encapsulated flag changes.
  const gei = encodeGetEndpointInfo(v, { subCode: 1, slot: 0, requestAttributes: 1, nonce: seq(32) });
  feedChecked(
    dec,
    'response',
    encodeEncapsulatedResponseAck(v, {
      requestId: 3,
      payloadType: EncapPayloadType.PRESENT,
      ackRequestId: 2,
      payload: gei,
    }),
  );
  assert.equal(dec.state.encapEndpointInfoSignatureRequested, true);
  assert.equal(dec.state.endpointInfoSignatureRequested, false);
  const epi = encodeEndpointInfo(v, { slot: 0, nonce: seq(32, 2), epInfo: seq(13), signature: seq(S_REQ, 3) });
  const de = feedChecked(dec, 'request', encodeDeliverEncapsulatedResponse(v, { requestId: 3, payload: epi }));
  assert.ok(de.kind === 'DELIVER_ENCAPSULATED_RESPONSE' && de.msg.nested?.kind === 'ENDPOINT_INFO');
  // The requester may answer with an ERROR.
  const err = feedChecked(
    dec,
    'request',
    encodeDeliverEncapsulatedResponse(v, { requestId: 3, payload: encodeError(v, 0x05) }),
  );
  assert.ok(err.kind === 'DELIVER_ENCAPSULATED_RESPONSE' && err.msg.nested?.kind === 'ERROR');

  // ReqSlotNumber (9 bytes: 3 of DOE padding) and the end of the flow.
  const slotAck = feedChecked(
    dec,
    'response',
    encodeEncapsulatedResponseAck(v, {
      requestId: 0,
      payloadType: EncapPayloadType.REQ_SLOT_NUMBER,
      ackRequestId: 3,
      reqSlotNumber: 3,
    }),
  );
  assert.ok(
    slotAck.kind === 'ENCAPSULATED_RESPONSE_ACK' && slotAck.msg.reqSlotNumber === 3 && slotAck.trailing.length === 3,
  );
  const done = feedChecked(dec, 'response', encodeEncapsulatedRequest(v, { requestId: 0, payload: new Uint8Array(0) }));
  assert.ok(done.kind === 'ENCAPSULATED_REQUEST' && done.msg.nested === undefined && done.msg.payload.length === 0);

  // GET_VERSION resets the session and encapsulation state.
  dec.feed('request', encodeGetVersion());
  const st = dec.state;
  assert.equal(st.encapEndpointInfoSignatureRequested, false);
  assert.equal(st.encapRequestId, undefined);
  assert.equal(st.dheGroup, undefined);
  assert.equal(st.reqBaseAsymAlgo, undefined);
  assert.equal(dec.handshakeInTheClear, false);
});

test('encapsulated flow: a nested message that cannot be there is a DecodeError naming the outer message', () => {
  const { dec, v } = sessionDecoder({ version: 0x13 });
  const before = dec.state;
  // GET_VERSION is not an encapsulated request; a response code is not a request.
  let e = expectDecodeError(
    () => dec.feed('response', encodeEncapsulatedRequest(v, { requestId: 1, payload: encodeGetVersion() })),
    'ENCAPSULATED_REQUEST.GET_VERSION',
    'RequestResponseCode',
  );
  assert.equal(e.offset, 5);
  expectDecodeError(
    () =>
      dec.feed('response', encodeEncapsulatedRequest(v, { requestId: 1, payload: encodeDigests(v, { digests: [] }) })),
    'ENCAPSULATED_REQUEST.DIGESTS',
    'RequestResponseCode',
  );
  // MEASUREMENTS cannot be delivered by a requester.
  expectDecodeError(
    () =>
      dec.feed(
        'request',
        encodeDeliverEncapsulatedResponse(v, {
          requestId: 1,
          payload: encodeMeasurements(v, { numberOfBlocks: 0, record: new Uint8Array(0), nonce: seq(32) }).message,
        }),
      ),
    'DELIVER_ENCAPSULATED_RESPONSE.MEASUREMENTS',
    'RequestResponseCode',
  );
  // The nested message carries the outer version.
  e = expectDecodeError(
    () => dec.feed('request', encodeDeliverEncapsulatedResponse(v, { requestId: 1, payload: encodeGetDigests(0x12) })),
    'DELIVER_ENCAPSULATED_RESPONSE.GET_DIGESTS',
    'RequestResponseCode',
  );
  e = expectDecodeError(
    () =>
      dec.feed(
        'response',
        encodeEncapsulatedResponseAck(v, { requestId: 2, payloadType: 1, payload: encodeGetDigests(0x12) }),
      ),
    'ENCAPSULATED_RESPONSE_ACK.GET_DIGESTS',
    'SPDMVersion',
  );
  assert.equal(e.offset, 8);
  // A nested message cut short: the field of the nested message, at its offset in the outer one.
  const cert = encodeCertificate(v, { slot: 0, portion: seq(40), remainderLength: 0 });
  e = expectDecodeError(
    () => dec.feed('request', encodeDeliverEncapsulatedResponse(v, { requestId: 1, payload: cert.subarray(0, 30) })),
    'DELIVER_ENCAPSULATED_RESPONSE.CERTIFICATE',
    'CertChain',
  );
  assert.equal(e.offset, 4 + 8);
  // Non-zero bytes after the nested message.
  expectDecodeError(
    () =>
      dec.feed(
        'request',
        concat([encodeDeliverEncapsulatedResponse(v, { requestId: 1, payload: cert }), Uint8Array.of(0, 0, 0, 9)]),
      ),
    'DELIVER_ENCAPSULATED_RESPONSE',
    'trailing',
  );
  // PayloadType 1 needs a request; PayloadType 3 does not exist.
  expectDecodeError(
    () =>
      dec.feed(
        'response',
        encodeEncapsulatedResponseAck(v, { requestId: 2, payloadType: 1, payload: new Uint8Array(0) }),
      ),
    'ENCAPSULATED_RESPONSE_ACK',
    'EncapsulatedRequest',
  );
  expectDecodeError(
    () => dec.feed('response', encodeEncapsulatedResponseAck(v, { requestId: 2, payloadType: 3 })),
    'ENCAPSULATED_RESPONSE_ACK',
    'Param2',
  );
  assert.deepEqual(dec.state, before, 'failures leave the state alone');
});

test('chunking: the large request and the large response are reassembled and decoded in context', () => {
  const { dec, v } = sessionDecoder();
  // SET_CERTIFICATE of 4 + 204 bytes sent in chunks of 80.
  const chain = concat([Uint8Array.of(208, 0, 0, 0), seq(204)]);
  const large = encodeSetCertificate(v, { slot: 1, certChain: chain });
  const chunks = [large.subarray(0, 80), large.subarray(80, 160), large.subarray(160)];
  let last: DecodedMessage | undefined;
  chunks.forEach((chunk, i) => {
    const d = feedChecked(
      dec,
      'request',
      encodeChunkSend(v, {
        lastChunk: i === 2,
        handle: 5,
        chunkSeqNo: i,
        ...(i === 0 ? { largeMessageSize: large.length } : {}),
        chunk,
      }),
    );
    assert.equal(d.kind, 'CHUNK_SEND');
    if (i < 2) {
      assert.ok(d.kind === 'CHUNK_SEND' && d.large === undefined);
      assert.equal(dec.state.chunkSend?.nextSeqNo, i + 1);
    }
    last = d;
  });
  assert.ok(last?.kind === 'CHUNK_SEND' && last.large?.kind === 'SET_CERTIFICATE');
  if (last?.kind === 'CHUNK_SEND' && last.large) assert.equal(toHex(reencode(last.large)), toHex(large));
  assert.equal(dec.state.chunkSend, undefined);
  // ACKs: without a response (6 bytes + 2 of DOE padding), then with the response to the large request.
  const plain = dec.feed('response', doe(encodeChunkSendAck(v, { handle: 5, chunkSeqNo: 1 })));
  assert.ok(plain.kind === 'CHUNK_SEND_ACK' && plain.msg.nested === undefined && plain.trailing.length === 2);
  const ack = feedChecked(
    dec,
    'response',
    encodeChunkSendAck(v, { handle: 5, chunkSeqNo: 2, payload: encodeSetCertificateRsp(v, { slot: 1 }) }),
  );
  assert.ok(ack.kind === 'CHUNK_SEND_ACK' && ack.msg.nested?.kind === 'SET_CERTIFICATE_RSP');

  // A large signed MEASUREMENTS fetched with CHUNK_GET after ERROR LargeResponse: decoded with
  // the context of its GET_MEASUREMENTS.
  dec.feed('request', encodeGetMeasurements(v, { attributes: 1, operation: 0xff, nonce: seq(32), slot: 0 }));
  dec.feed('response', encodeError(v, 0x0f, 0, Uint8Array.of(9)));
  const block = encodeDmtfBlock(1, { raw: true, type: 1, value: seq(150) });
  const meas = encodeMeasurements(v, { numberOfBlocks: 1, record: block, nonce: seq(32, 1) }, seq(S, 2)).message;
  const parts = [meas.subarray(0, 100), meas.subarray(100, 200), meas.subarray(200)];
  let got: DecodedMessage | undefined;
  parts.forEach((chunk, i) => {
    feedChecked(dec, 'request', encodeChunkGet(v, { handle: 9, chunkSeqNo: i }));
    got = feedChecked(
      dec,
      'response',
      encodeChunkResponse(v, {
        lastChunk: i === 2,
        handle: 9,
        chunkSeqNo: i,
        ...(i === 0 ? { largeMessageSize: meas.length } : {}),
        chunk,
      }),
    );
  });
  assert.ok(got?.kind === 'CHUNK_RESPONSE' && got.large?.kind === 'MEASUREMENTS');
  if (got?.kind === 'CHUNK_RESPONSE' && got.large?.kind === 'MEASUREMENTS')
    assert.equal(got.large.msg.signature?.length, S);
});

test('chunking: sequence, handle and size errors', () => {
  const { dec, v } = sessionDecoder();
  const first = encodeChunkSend(v, {
    lastChunk: false,
    handle: 1,
    chunkSeqNo: 0,
    largeMessageSize: 100,
    chunk: seq(60),
  });
  expectDecodeError(
    () => dec.feed('request', encodeChunkSend(v, { lastChunk: false, handle: 1, chunkSeqNo: 1, chunk: seq(10) })),
    'CHUNK_SEND',
    'ChunkSeqNo',
  );
  dec.feed('request', first);
  expectDecodeError(
    () => dec.feed('request', encodeChunkSend(v, { lastChunk: false, handle: 1, chunkSeqNo: 2, chunk: seq(10) })),
    'CHUNK_SEND',
    'ChunkSeqNo',
  );
  expectDecodeError(
    () => dec.feed('request', encodeChunkSend(v, { lastChunk: false, handle: 2, chunkSeqNo: 1, chunk: seq(10) })),
    'CHUNK_SEND',
    'Param2',
  );
  expectDecodeError(
    () => dec.feed('request', encodeChunkSend(v, { lastChunk: false, handle: 1, chunkSeqNo: 1, chunk: seq(41) })),
    'CHUNK_SEND',
    'ChunkSize',
  );
  expectDecodeError(
    () => dec.feed('request', encodeChunkSend(v, { lastChunk: true, handle: 1, chunkSeqNo: 1, chunk: seq(39) })),
    'CHUNK_SEND',
    'Param1',
  );
  // The reassembled bytes must be one whole request (these 100 bytes are not) ...
  expectDecodeError(
    () => dec.feed('request', encodeChunkSend(v, { lastChunk: true, handle: 1, chunkSeqNo: 1, chunk: seq(40) })),
    'CHUNK_SEND',
    /^LargeMessage\(/,
  );
  const big = new ConversationDecoder(dec.state);
  big.feed(
    'request',
    encodeChunkSend(v, { lastChunk: false, handle: 1, chunkSeqNo: 0, largeMessageSize: 8, chunk: encodeHeartbeat(v) }),
  );
  expectDecodeError(
    () =>
      big.feed('request', encodeChunkSend(v, { lastChunk: true, handle: 1, chunkSeqNo: 1, chunk: new Uint8Array(4) })),
    'CHUNK_SEND',
    'LargeMessage(HEARTBEAT).LargeMessageSize',
  );
  // ... and not a chunk message itself.
  const nested = new ConversationDecoder(dec.state);
  const inner = encodeChunkGet(v, { handle: 1, chunkSeqNo: 0 });
  expectDecodeError(
    () =>
      nested.feed(
        'request',
        encodeChunkSend(v, { lastChunk: true, handle: 3, chunkSeqNo: 0, largeMessageSize: inner.length, chunk: inner }),
      ),
    'CHUNK_SEND',
    'LargeMessage(CHUNK_GET).RequestResponseCode',
  );
  // None of the failures advanced the reassembly.
  assert.equal(dec.state.chunkSend?.received, 60);
  assert.equal(dec.state.chunkSend?.nextSeqNo, 1);
});

test('excess zero bytes after a decodable message are an anomaly for an observer, non-zero bytes an error', () => {
  const d = new ConversationDecoder();
  const v = d.feed('request', new Uint8Array([0x10, 0x84, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(v.trailing.length, 6);
  assert.match(v.anomaly ?? '', /6 zero byte/);
  const d2 = new ConversationDecoder();
  assert.throws(() => d2.feed('request', new Uint8Array([0x10, 0x84, 0, 0, 0, 7])), /non-zero byte/);
});
