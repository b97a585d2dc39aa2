/**
 * Malformed fields: each must be a DecodeError naming the message and the offending field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../src/wire/errors.js';
import { concat, fromHex } from '../../src/wire/bytes.js';
import {
  AlgType,
  decodeAlgorithms,
  decodeCapabilities,
  decodeCertificate,
  decodeChallenge,
  decodeChallengeAuth,
  decodeDigests,
  decodeError,
  decodeGetCertificate,
  decodeGetDigests,
  decodeGetVersion,
  decodeMeasurementRecord,
  decodeMeasurements,
  decodeNegotiateAlgorithms,
  decodeOpaqueData,
  decodeVersion,
  encodeAlgorithms,
  encodeCapabilities,
  encodeChallengeAuth,
  encodeDigests,
  encodeDmtfBlock,
  encodeGetVersion,
  encodeMeasurements,
  encodeNegotiateAlgorithms,
  encodeOpaqueData,
  ErrorCode,
  decodeChunkGet,
  decodeChunkResponse,
  decodeChunkSend,
  decodeChunkSendAck,
  decodeDeliverEncapsulatedResponse,
  decodeDeviceClassIdentifier,
  decodeDmtfMel,
  decodeEncapsulatedRequest,
  decodeEncapsulatedResponseAck,
  decodeEndpointInfo,
  decodeFinish,
  decodeGetEndpointInfo,
  decodeKeyExchange,
  decodeKeyExchangeRsp,
  decodeKeyPairInfo,
  decodeKeyUpdate,
  decodeKeyUpdateAck,
  decodeMeasurementExtensionLog,
  decodePskExchange,
  decodePskExchangeRsp,
  decodeSendEvent,
  decodeSetCertificate,
  decodeSetCertificateRsp,
  decodeSetKeyPairInfo,
  decodeSubscribeEventTypes,
  decodeSupportedEventTypes,
  decodeVendorDefinedRequest,
  decodeVendorDefinedResponse,
  encodeDmtfMel,
  encodeFinish,
  encodeKeyExchange,
  encodeKeyExchangeRsp,
  encodePskExchange,
  encodePskExchangeRsp,
  encodeSetCertificate,
  type AlgorithmOffer,
} from '../../src/spdm/index.js';
import { seq } from './samples.js';

function expectDecodeError(fn: () => unknown, messageName: string, field: string | RegExp): DecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected a DecodeError, got ${String(e)}`);
    assert.equal(e.code, 'DECODE_ERROR');
    assert.equal(e.messageName, messageName);
    if (typeof field === 'string') assert.equal(e.field, field, e.message);
    else assert.match(e.field, field, e.message);
    return e;
  }
  assert.fail(`expected ${messageName}.${String(field)} to be rejected`);
}

/** Copy with bytes changed: [offset, value] pairs. */
function patch(b: Uint8Array, ...changes: [number, number][]): Uint8Array {
  const out = b.slice();
  for (const [o, v] of changes) out[o] = v;
  return out;
}

const offer11: AlgorithmOffer = {
  measurementSpec: 1,
  otherParams: 0,
  baseAsym: 0x90,
  baseHash: 0x03,
  melSpec: 0,
  extAsym: [],
  extHash: [],
  algStructs: [
    { type: AlgType.DHE, supported: 0x18, external: [] },
    { type: AlgType.AEAD, supported: 0x02, external: [] },
    { type: AlgType.REQ_BASE_ASYM, supported: 0x08, external: [] },
    { type: AlgType.KEY_SCHEDULE, supported: 0x01, external: [] },
  ],
};

test('common header: wrong code and unknown version', () => {
  const digests = encodeDigests(0x12, { digests: [{ slot: 0, digest: seq(32) }] });
  expectDecodeError(() => decodeGetDigests(digests), 'GET_DIGESTS', 'RequestResponseCode');
  expectDecodeError(() => decodeGetDigests(fromHex('20810000')), 'GET_DIGESTS', 'SPDMVersion');
  expectDecodeError(() => decodeGetDigests(fromHex('0f810000')), 'GET_DIGESTS', 'SPDMVersion');
});

test('GET_VERSION / VERSION', () => {
  expectDecodeError(() => decodeGetVersion(patch(encodeGetVersion(), [0, 0x11])), 'GET_VERSION', 'SPDMVersion');
  expectDecodeError(() => decodeVersion(fromHex('100400000000')), 'VERSION', 'VersionNumberEntryCount');
  expectDecodeError(() => decodeVersion(fromHex('12040000000110')), 'VERSION', 'SPDMVersion');
  expectDecodeError(() => decodeVersion(fromHex('1004000000020010')), 'VERSION', 'VersionNumberEntry[1]');
});

test('NEGOTIATE_ALGORITHMS: Length', () => {
  const m = encodeNegotiateAlgorithms(0x11, offer11);
  assert.equal(m.length, 48);
  // Length bigger than the buffer.
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m, [4, 49])), 'NEGOTIATE_ALGORITHMS', 'Length');
  // Above the 1.1 maximum (128) and the 1.0 maximum (64).
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m, [4, 0x81])), 'NEGOTIATE_ALGORITHMS', 'Length');
  const m10 = encodeNegotiateAlgorithms(0x10, { ...offer11, algStructs: [] });
  expectDecodeError(
    () => decodeNegotiateAlgorithms(concat([patch(m10, [4, 0x41]), new Uint8Array(40)])),
    'NEGOTIATE_ALGORITHMS',
    'Length',
  );
  // Shorter than the fixed fields, and shorter than the AlgStructs it announces.
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m, [4, 31])), 'NEGOTIATE_ALGORITHMS', 'Length');
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m, [4, 44])), 'NEGOTIATE_ALGORITHMS', 'AlgStruct[3].AlgType');
  // Bytes between the last AlgStruct and Length.
  expectDecodeError(
    () => decodeNegotiateAlgorithms(patch(concat([m, new Uint8Array(4)]), [4, 52])),
    'NEGOTIATE_ALGORITHMS',
    'Length',
  );
});

test('NEGOTIATE_ALGORITHMS: AlgStructs and external algorithm counts', () => {
  const m = encodeNegotiateAlgorithms(0x11, offer11);
  // AlgStructs start at 32: swap DHE (2) and AEAD (3).
  expectDecodeError(
    () => decodeNegotiateAlgorithms(patch(m, [32, 3], [36, 2])),
    'NEGOTIATE_ALGORITHMS',
    'AlgStruct[1].AlgType',
  );
  // Repeated type.
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m, [36, 2])), 'NEGOTIATE_ALGORITHMS', 'AlgStruct[1].AlgType');
  // Reserved types 0/1, and 6/7 before 1.4.
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m, [32, 1])), 'NEGOTIATE_ALGORITHMS', 'AlgStruct[0].AlgType');
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m, [44, 6])), 'NEGOTIATE_ALGORITHMS', 'AlgStruct[3].AlgType');
  // FixedAlgCount != 2.
  expectDecodeError(
    () => decodeNegotiateAlgorithms(patch(m, [33, 0x10])),
    'NEGOTIATE_ALGORITHMS',
    'AlgStruct[0].AlgCount',
  );
  expectDecodeError(
    () => decodeNegotiateAlgorithms(patch(m, [37, 0x30])),
    'NEGOTIATE_ALGORITHMS',
    'AlgStruct[1].AlgCount',
  );
  // Too many AlgStructs for 1.1-1.3 (Param1 > 4).
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m, [2, 5])), 'NEGOTIATE_ALGORITHMS', 'Param1');
  // More than 20 external algorithms (1.1+); more than 8 in 1.0.
  expectDecodeError(
    () => decodeNegotiateAlgorithms(patch(m, [28, 11], [29, 10])),
    'NEGOTIATE_ALGORITHMS',
    'ExtAsymCount',
  );
  const m10 = encodeNegotiateAlgorithms(0x10, { ...offer11, algStructs: [] });
  expectDecodeError(() => decodeNegotiateAlgorithms(patch(m10, [28, 9])), 'NEGOTIATE_ALGORITHMS', 'ExtAsymCount');
  // ExtAsymCount pointing past Length.
  expectDecodeError(
    () => decodeNegotiateAlgorithms(patch(m10, [28, 1])),
    'NEGOTIATE_ALGORITHMS',
    'ExtAsym[0].RegistryID',
  );
});

test('ALGORITHMS: Length, selection counts, AlgStructs', () => {
  const m = encodeAlgorithms(0x12, {
    measurementSpec: 1,
    otherParams: 2,
    measurementHash: 0x04,
    baseAsym: 0x80,
    baseHash: 0x02,
    melSpec: 0,
    algStructs: offer11.algStructs,
  });
  assert.equal(m.length, 52);
  expectDecodeError(() => decodeAlgorithms(patch(m, [4, 53])), 'ALGORITHMS', 'Length');
  expectDecodeError(() => decodeAlgorithms(patch(m, [4, 35])), 'ALGORITHMS', 'Length');
  expectDecodeError(() => decodeAlgorithms(patch(m, [32, 2])), 'ALGORITHMS', 'ExtAsymSelCount');
  expectDecodeError(() => decodeAlgorithms(patch(m, [33, 2])), 'ALGORITHMS', 'ExtHashSelCount');
  expectDecodeError(() => decodeAlgorithms(patch(m, [36, 8])), 'ALGORITHMS', 'AlgStruct[0].AlgType');
  expectDecodeError(() => decodeAlgorithms(patch(m, [36, 4])), 'ALGORITHMS', 'AlgStruct[1].AlgType');
  expectDecodeError(() => decodeAlgorithms(patch(m, [41, 0x21])), 'ALGORITHMS', /^AlgStruct\[\d\]\./);
});

test('CAPABILITIES: SupportedAlgorithms block length', () => {
  const m = encodeCapabilities({
    version: 0x13,
    ctExponent: 12,
    flags: 0x399afbf7,
    dataTransferSize: 4096,
    maxSpdmMsgSize: 4096,
    supportedAlgorithmsFlag: true,
    supportedAlgorithms: { ...offer11, otherParams: 0x02, melSpec: 1 },
  });
  // Block Length at offset 22.
  expectDecodeError(() => decodeCapabilities(patch(m, [22, 3])), 'CAPABILITIES', 'SupportedAlgorithms.Length');
  expectDecodeError(() => decodeCapabilities(patch(m, [22, m.length - 20 + 1])), 'CAPABILITIES', 'SupportedAlgorithms');
  expectDecodeError(() => decodeCapabilities(patch(m, [22, 10])), 'CAPABILITIES.SupportedAlgorithms', 'BaseHashAlgo');
});

test('DIGESTS: ProvisionedSlotMask outside SupportedSlotMask (1.3), digest count', () => {
  const m = encodeDigests(0x13, { supportedSlotMask: 0x03, digests: [{ slot: 0, digest: seq(48) }] });
  expectDecodeError(() => decodeDigests(patch(m, [3, 0x05]), { hashSize: 48 }), 'DIGESTS', 'Param2');
  // 1.2 has no SupportedSlotMask: Param1 is reserved, any Param2 is fine if the digests are there.
  const m12 = encodeDigests(0x12, { digests: [{ slot: 2, digest: seq(48) }] });
  assert.equal(decodeDigests(m12, { hashSize: 48 }).provisionedSlotMask, 0x04);
  // Two slots announced, one digest present.
  expectDecodeError(() => decodeDigests(patch(m12, [3, 0x05]), { hashSize: 48 }), 'DIGESTS', 'Digest[1]');
  // Multi-key fields missing.
  expectDecodeError(() => decodeDigests(m, { hashSize: 48, multiKeyConn: true }), 'DIGESTS', 'KeyPairID[0]');
});

test('GET_CERTIFICATE / CERTIFICATE', () => {
  expectDecodeError(() => decodeGetCertificate(fromHex('12820800000000ff')), 'GET_CERTIFICATE', 'Param1');
  // PortionLength past the end.
  expectDecodeError(() => decodeCertificate(fromHex('1202000005000000aabbccdd')), 'CERTIFICATE', 'CertChain');
  // 1.4 large form announced, LargeOffset missing.
  expectDecodeError(() => decodeGetCertificate(fromHex('148280000000ffff')), 'GET_CERTIFICATE', 'LargeOffset');
});

test('CHALLENGE / CHALLENGE_AUTH', () => {
  const c = concat([fromHex('12830000'), seq(32)]);
  expectDecodeError(() => decodeChallenge(patch(c, [2, 8])), 'CHALLENGE', 'Param1');
  expectDecodeError(() => decodeChallenge(patch(c, [3, 2])), 'CHALLENGE', 'Param2');
  // 1.3 without RequesterContext.
  expectDecodeError(() => decodeChallenge(patch(c, [0, 0x13])), 'CHALLENGE', 'RequesterContext');

  const ctx = { hashSize: 48, signatureSize: 96, measurementSummaryHashRequested: false };
  const { message } = encodeChallengeAuth(
    0x12,
    { slot: 0, slotMask: 1, certChainHash: seq(48), nonce: seq(32) },
    seq(96),
  );
  // OpaqueDataLength at 4 + 48 + 32 = 84.
  const big = patch(message, [84, 0x01], [85, 0x04]);
  const e = expectDecodeError(() => decodeChallengeAuth(big, ctx), 'CHALLENGE_AUTH', 'OpaqueDataLength');
  assert.equal(e.offset, 84);
  // 1024 is allowed; then the opaque data must be there.
  expectDecodeError(
    () => decodeChallengeAuth(patch(message, [84, 0x00], [85, 0x04]), ctx),
    'CHALLENGE_AUTH',
    'OpaqueData',
  );
  // Signature cut short.
  expectDecodeError(
    () => decodeChallengeAuth(message.subarray(0, message.length - 1), ctx),
    'CHALLENGE_AUTH',
    'Signature',
  );
  // Expecting a summary hash that is not there eats into the signature.
  expectDecodeError(
    () => decodeChallengeAuth(message, { ...ctx, measurementSummaryHashRequested: true }),
    'CHALLENGE_AUTH',
    /^(Signature|OpaqueData|OpaqueDataLength)$/,
  );
});

test('MEASUREMENTS: record length, block sizes, opaque length', () => {
  const block = encodeDmtfBlock(1, { raw: false, type: 1, value: seq(48) });
  const { message } = encodeMeasurements(0x12, { numberOfBlocks: 1, record: block, nonce: seq(32) });
  const ctx = { signatureRequested: false, signatureSize: 0 };
  assert.equal(decodeMeasurements(message, ctx).blocks.length, 1);
  // MeasurementRecordLength (u24 at 5) past the end.
  expectDecodeError(() => decodeMeasurements(patch(message, [6, 0x10]), ctx), 'MEASUREMENTS', 'MeasurementRecord');
  // Record longer than its blocks: the next fields shift, the record check fires first.
  expectDecodeError(
    () => decodeMeasurements(patch(message, [5, block.length + 1]), ctx),
    'MEASUREMENTS.MeasurementRecord',
    'MeasurementRecordLength',
  );
  // NumberOfBlocks larger than the record holds.
  expectDecodeError(
    () => decodeMeasurements(patch(message, [4, 2]), ctx),
    'MEASUREMENTS.MeasurementRecord',
    'Block[1].Index',
  );
  // OpaqueDataLength > 1024 (at 8 + record + 32).
  const at = 8 + block.length + 32;
  expectDecodeError(
    () => decodeMeasurements(patch(message, [at, 0x01], [at + 1, 0x04]), ctx),
    'MEASUREMENTS',
    'OpaqueDataLength',
  );
  // Signature expected but absent.
  expectDecodeError(
    () => decodeMeasurements(message, { signatureRequested: true, signatureSize: 96 }),
    'MEASUREMENTS',
    'Signature',
  );

  // Inside a block: MeasurementSize past the record, DMTF value size disagreeing with MeasurementSize.
  expectDecodeError(
    () => decodeMeasurementRecord(patch(block, [2, 52]), 1),
    'MEASUREMENTS.MeasurementRecord',
    'Block[0].Measurement',
  );
  expectDecodeError(
    () => decodeMeasurementRecord(patch(block, [5, 47]), 1),
    'MEASUREMENTS.Block[0]',
    'MeasurementSize',
  );
  expectDecodeError(
    () => decodeMeasurementRecord(patch(block, [5, 49]), 1),
    'MEASUREMENTS.Block[0]',
    'DMTFSpecMeasurementValue',
  );
});

test('ERROR: extended data the code requires', () => {
  expectDecodeError(
    () => decodeError(fromHex(`127f${ErrorCode.ResponseNotReady.toString(16)}00010203`)),
    'ERROR',
    'ExtendedErrorData.RDTM',
  );
  expectDecodeError(() => decodeError(fromHex('127f0d00010203')), 'ERROR', 'ExtendedErrorData.ResponseSize');
  expectDecodeError(() => decodeError(fromHex('127f0f00')), 'ERROR', 'ExtendedErrorData.Handle');
});

test('opaque data: padding, version, leftovers', () => {
  const one = encodeOpaqueData([{ registryId: 0, vendorId: new Uint8Array(0), data: seq(5) }]);
  assert.equal(one.length, 16);
  // The last element's AlignPadding is required (libspdm rejects opaque data without it) ...
  expectDecodeError(() => decodeOpaqueData(one.subarray(0, 13)), 'OpaqueData', 'Element[0].AlignPadding');
  // ... and zero.
  expectDecodeError(() => decodeOpaqueData(patch(one, [14, 1])), 'OpaqueData', 'Element[0].AlignPadding');
  expectDecodeError(() => decodeOpaqueData(concat([one, new Uint8Array(4)])), 'OpaqueData', 'OpaqueData');
  // TotalElements larger than the elements present.
  expectDecodeError(() => decodeOpaqueData(patch(one, [0, 2])), 'OpaqueData', 'Element[1].ID');
  // DSP0277 1.0 form: OpaqueVersion must be 1.
  const old = encodeOpaqueData([], 'dsp0277-1.0');
  expectDecodeError(() => decodeOpaqueData(patch(old, [4, 2])), 'OpaqueData', 'OpaqueVersion');
  // The messageName argument is what a DecodeError reports.
  expectDecodeError(
    () => decodeOpaqueData(fromHex('01000000'), 'CHALLENGE_AUTH.OpaqueData'),
    'CHALLENGE_AUTH.OpaqueData',
    'Element[0].ID',
  );
});

test('opaque data: the DSP0277 example of shared/spec §19.3 decodes', () => {
  const o = decodeOpaqueData(fromHex('01000000 00000500 0101010011 000000'));
  assert.equal(o.format, 'general');
  assert.equal(o.elements.length, 1);
  assert.deepEqual(o.elements[0]?.data, fromHex('0101010011'));
});

// ================================================================ 1.1+ session, encapsulation, 1.2-1.4 messages

test('messages used before the version that introduced them', () => {
  const kx = encodeKeyExchange(0x11, {
    measurementSummaryHashType: 0,
    slot: 0,
    reqSessionId: 1,
    randomData: seq(32),
    exchangeData: seq(64),
  });
  expectDecodeError(
    () => decodeKeyExchange(patch(kx, [0, 0x10]), { exchangeDataSize: 64 }),
    'KEY_EXCHANGE',
    'SPDMVersion',
  );
  expectDecodeError(() => decodeChunkGet(fromHex('1186000100')), 'CHUNK_GET', 'SPDMVersion');
  expectDecodeError(() => decodeGetEndpointInfo(fromHex('128701000000000000')), 'GET_ENDPOINT_INFO', 'SPDMVersion');
  expectDecodeError(() => decodeSetCertificateRsp(fromHex('116e0000')), 'SET_CERTIFICATE_RSP', 'SPDMVersion');
});

test('KEY_EXCHANGE / KEY_EXCHANGE_RSP / FINISH / PSK_EXCHANGE fields', () => {
  const kx = encodeKeyExchange(0x12, {
    measurementSummaryHashType: 0,
    slot: 0,
    reqSessionId: 1,
    randomData: seq(32),
    exchangeData: seq(64),
  });
  expectDecodeError(() => decodeKeyExchange(patch(kx, [2, 2]), { exchangeDataSize: 64 }), 'KEY_EXCHANGE', 'Param1');
  expectDecodeError(() => decodeKeyExchange(patch(kx, [3, 8]), { exchangeDataSize: 64 }), 'KEY_EXCHANGE', 'Param2');
  // OpaqueDataLength (at 40 + D) above 1024.
  const e = expectDecodeError(
    () => decodeKeyExchange(patch(kx, [104, 0x01], [105, 0x04]), { exchangeDataSize: 64 }),
    'KEY_EXCHANGE',
    'OpaqueDataLength',
  );
  assert.equal(e.offset, 104);
  // A larger ExchangeData than sent runs into the opaque data.
  expectDecodeError(() => decodeKeyExchange(kx, { exchangeDataSize: 96 }), 'KEY_EXCHANGE', 'ExchangeData');

  const rctx = {
    hashSize: 48,
    signatureSize: 96,
    exchangeDataSize: 96,
    measurementSummaryHashPresent: false,
    handshakeInTheClear: true,
  };
  const rsp = encodeKeyExchangeRsp(0x13, {
    heartbeatPeriod: 0,
    rspSessionId: 1,
    mutAuthRequested: 0,
    reqSlotIdParam: 0,
    randomData: seq(32),
    exchangeData: seq(96),
    signature: seq(96),
  });
  assert.equal(decodeKeyExchangeRsp(rsp, rctx).raw.length, rsp.length);
  expectDecodeError(
    () => decodeKeyExchangeRsp(rsp, { ...rctx, measurementSummaryHashPresent: true }),
    'KEY_EXCHANGE_RSP',
    /^(Signature|OpaqueData|OpaqueDataLength)$/,
  );
  expectDecodeError(
    () => decodeKeyExchangeRsp(rsp, { ...rctx, handshakeInTheClear: false }),
    'KEY_EXCHANGE_RSP',
    'ResponderVerifyData',
  );

  // FINISH: ReqSlotID checked when signed; 1.4 opaque data before the signature.
  const fin = encodeFinish(0x14, {
    signatureIncluded: true,
    reqSlotId: 0,
    signature: seq(64),
    requesterVerifyData: seq(32),
  });
  expectDecodeError(
    () => decodeFinish(patch(fin, [3, 9]), { hashSize: 32, requesterSignatureSize: 64 }),
    'FINISH',
    'Param2',
  );
  expectDecodeError(
    () => decodeFinish(patch(fin, [4, 0x01], [5, 0x04]), { hashSize: 32, requesterSignatureSize: 64 }),
    'FINISH',
    'OpaqueDataLength',
  );
  expectDecodeError(() => decodeFinish(fin, { hashSize: 32 }), 'FINISH', 'Signature');
  // 1.3 has no opaque data: the same bytes leave 2 extra, which the caller (ConversationDecoder) rejects.
  assert.equal(
    decodeFinish(patch(fin, [0, 0x13]), { hashSize: 32, requesterSignatureSize: 64 }).raw.length,
    fin.length - 2,
  );

  const psk = encodePskExchange(0x12, {
    measurementSummaryHashType: 0,
    reqSessionId: 1,
    pskHint: seq(4),
    requesterContext: seq(32),
  });
  expectDecodeError(() => decodePskExchange(patch(psk, [2, 3])), 'PSK_EXCHANGE', 'Param1');
  expectDecodeError(() => decodePskExchange(patch(psk, [10, 0x01], [11, 0x04])), 'PSK_EXCHANGE', 'OpaqueDataLength');
  expectDecodeError(() => decodePskExchange(patch(psk, [6, 5])), 'PSK_EXCHANGE', 'RequesterContext');
  expectDecodeError(() => decodePskExchange(patch(psk, [8, 40])), 'PSK_EXCHANGE', 'RequesterContext');
  const pskRsp = encodePskExchangeRsp(0x12, {
    heartbeatPeriod: 0,
    rspSessionId: 1,
    responderContext: seq(8),
    responderVerifyData: seq(32),
  });
  expectDecodeError(
    () =>
      decodePskExchangeRsp(patch(pskRsp, [10, 0x01], [11, 0x04]), {
        hashSize: 32,
        measurementSummaryHashPresent: false,
      }),
    'PSK_EXCHANGE_RSP',
    'OpaqueDataLength',
  );
  expectDecodeError(
    () => decodePskExchangeRsp(pskRsp, { hashSize: 32, measurementSummaryHashPresent: true }),
    'PSK_EXCHANGE_RSP',
    'ResponderVerifyData',
  );
});

test('KEY_UPDATE, SET_KEY_PAIR_INFO, SET_CERTIFICATE, encapsulation fields', () => {
  expectDecodeError(() => decodeKeyUpdate(fromHex('11e90001')), 'KEY_UPDATE', 'Param1');
  expectDecodeError(() => decodeKeyUpdateAck(fromHex('11690401')), 'KEY_UPDATE_ACK', 'Param1');
  expectDecodeError(() => decodeSetKeyPairInfo(fromHex('13fd030001')), 'SET_KEY_PAIR_INFO', 'Param1');
  // Change needs the desired fields; erase is the KeyPairID alone.
  expectDecodeError(() => decodeSetKeyPairInfo(fromHex('13fd000001')), 'SET_KEY_PAIR_INFO', 'Reserved');
  assert.equal(decodeSetKeyPairInfo(fromHex('13fd010001')).raw.length, 5);
  // 1.4 PQC length past the end.
  expectDecodeError(
    () => decodeSetKeyPairInfo(fromHex('14fd0000 01 00 0000 00000000 00 04 00')),
    'SET_KEY_PAIR_INFO',
    'DesiredPqcAsymAlgo',
  );
  expectDecodeError(
    () => decodeKeyPairInfo(concat([fromHex('147c0000'), new Uint8Array(19), fromHex('05')])),
    'KEY_PAIR_INFO',
    'PqcAsymAlgoCapabilities',
  );

  const set = encodeSetCertificate(0x12, { slot: 0, certChain: concat([fromHex('08000000'), seq(4)]) });
  expectDecodeError(() => decodeSetCertificate(patch(set, [2, 8])), 'SET_CERTIFICATE', 'Param1');
  expectDecodeError(() => decodeSetCertificate(patch(set, [4, 3])), 'SET_CERTIFICATE', 'CertChain.Length');
  expectDecodeError(() => decodeSetCertificate(patch(set, [4, 9])), 'SET_CERTIFICATE', 'CertChain');
  // 1.2 has no Erase bit: bit 7 is reserved and the chain is still expected.
  expectDecodeError(() => decodeSetCertificate(fromHex('12ee8000')), 'SET_CERTIFICATE', 'CertChain.Length');
  assert.equal(decodeSetCertificate(fromHex('13ee8000')).erase, true);

  expectDecodeError(
    () => decodeDeliverEncapsulatedResponse(fromHex('12eb0100')),
    'DELIVER_ENCAPSULATED_RESPONSE',
    'EncapsulatedResponse',
  );
  expectDecodeError(
    () => decodeEncapsulatedResponseAck(fromHex('126b000201000000')),
    'ENCAPSULATED_RESPONSE_ACK',
    'ReqSlotNumber',
  );
  expectDecodeError(
    () => decodeEncapsulatedResponseAck(fromHex('126b00020100000008')),
    'ENCAPSULATED_RESPONSE_ACK',
    'ReqSlotNumber',
  );
  expectDecodeError(
    () => decodeEncapsulatedResponseAck(fromHex('126b000001')),
    'ENCAPSULATED_RESPONSE_ACK',
    'Reserved',
  );
  // A nested decoder that does not return a prefix of the payload is a bug, reported as such.
  expectDecodeError(
    () => decodeEncapsulatedRequest(fromHex('126a010012810000'), () => ({ value: 0, raw: new Uint8Array(4) })),
    'ENCAPSULATED_REQUEST',
    'EncapsulatedRequest',
  );
});

test('endpoint info, MEL, events, vendor-defined, chunk fields', () => {
  expectDecodeError(() => decodeGetEndpointInfo(fromHex('138701000100000000')), 'GET_ENDPOINT_INFO', 'Nonce');
  expectDecodeError(
    () => decodeEndpointInfo(fromHex('13070000000000000500000001'), { signatureRequested: false }),
    'ENDPOINT_INFO',
    'EPInfo',
  );
  expectDecodeError(
    () =>
      decodeEndpointInfo(concat([fromHex('1307000000000000'), seq(32), fromHex('00000000')]), {
        signatureRequested: true,
      }),
    'ENDPOINT_INFO',
    'Signature',
  );
  expectDecodeError(
    () => decodeDeviceClassIdentifier(fromHex('01000000 08 0000 01 03123456 00')),
    'ENDPOINT_INFO.DeviceClassIdentifier.Element[0]',
    'IdElemLength',
  );
  expectDecodeError(
    () => decodeDeviceClassIdentifier(fromHex('01000000 07 0000 01 03123456 00')),
    'ENDPOINT_INFO.DeviceClassIdentifier',
    'EPInfo',
  );

  const mel = encodeDmtfMel([{ melIndex: 1, measIndex: 2, dmtf: { raw: true, type: 9, value: seq(3) } }]);
  expectDecodeError(
    () => decodeDmtfMel(patch(mel, [4, mel[4] ? mel[4] + 1 : 0])),
    'MEASUREMENT_EXTENSION_LOG.MEL',
    'MELEntries',
  );
  expectDecodeError(
    () => decodeDmtfMel(patch(mel, [0, 2])),
    'MEASUREMENT_EXTENSION_LOG.MEL.MELEntries',
    'Entry[1].MELIndex',
  );
  expectDecodeError(() => decodeDmtfMel(concat([mel, new Uint8Array(1)])), 'MEASUREMENT_EXTENSION_LOG.MEL', 'MEL');
  expectDecodeError(
    () => decodeMeasurementExtensionLog(fromHex('136f0000 05000000 00000000 01020304')),
    'MEASUREMENT_EXTENSION_LOG',
    'MEL',
  );

  expectDecodeError(() => decodeSendEvent(fromHex('13f1000000000000')), 'SEND_EVENT', 'EventCount');
  expectDecodeError(
    () => decodeSendEvent(fromHex('13f1000001000000 01000000 00000000 0000 0200 0200 aa')),
    'SEND_EVENT',
    'Event[0].EventDetail',
  );
  expectDecodeError(() => decodeSubscribeEventTypes(fromHex('14f00100')), 'SUBSCRIBE_EVENT_TYPES', 'SubscribeListLen');
  expectDecodeError(
    () => decodeSupportedEventTypes(fromHex('13620100 09000000 0001020304050607')),
    'SUPPORTED_EVENT_TYPES',
    'SupportedEventGroupsList',
  );

  // Large form only in 1.4: before, bit 7 of Param1 is reserved and the u16 length is the payload's.
  const vd = fromHex('13fe8000 0300 02 0100 0200 aabb');
  assert.equal(decodeVendorDefinedRequest(vd).large, false);
  expectDecodeError(() => decodeVendorDefinedRequest(patch(vd, [0, 0x14])), 'VENDOR_DEFINED_REQUEST', 'LargeReqLength');
  expectDecodeError(
    () => decodeVendorDefinedResponse(fromHex('127e0000 0300 04 0100')),
    'VENDOR_DEFINED_RESPONSE',
    'VendorID',
  );

  // Chunk 0 carries LargeMessageSize; ChunkSize past the end.
  expectDecodeError(() => decodeChunkSend(fromHex('12850001 0000 0000 04000000')), 'CHUNK_SEND', 'LargeMessageSize');
  expectDecodeError(
    () => decodeChunkResponse(fromHex('12060101 0100 0000 04000000 aabbcc')),
    'CHUNK_RESPONSE',
    'Chunk',
  );
  expectDecodeError(() => decodeChunkSendAck(fromHex('14050001 0100')), 'CHUNK_SEND_ACK', 'ChunkSeqNo');
});
