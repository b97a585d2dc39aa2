/**
 * Property tests (fast-check): whatever bytes a decoder is given, it either decodes them or throws
 * a DecodeError, never anything else; and what it decodes is a prefix of its input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/wire/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes, fromHex } from '../../src/wire/bytes.js';
import { libspdmVectors } from '../support/paths.js';
import {
  ConversationDecoder,
  decodeAlgorithms,
  decodeCapabilities,
  decodeCertificate,
  decodeChallenge,
  decodeChallengeAuth,
  decodeDigests,
  decodeError,
  decodeGetCapabilities,
  decodeGetCertificate,
  decodeGetDigests,
  decodeGetMeasurements,
  decodeGetVersion,
  decodeMeasurementRecord,
  decodeMeasurements,
  decodeNegotiateAlgorithms,
  decodeOpaqueData,
  decodeRespondIfReady,
  decodeChunkGet,
  decodeChunkResponse,
  decodeChunkSend,
  decodeChunkSendAck,
  decodeCsr,
  decodeDeliverEncapsulatedResponse,
  decodeDeviceClassIdentifier,
  decodeDmtfMel,
  decodeEncapsulatedRequest,
  decodeEncapsulatedResponseAck,
  decodeEndSession,
  decodeEndSessionAck,
  decodeEndpointInfo,
  decodeEventAck,
  decodeFinish,
  decodeFinishRsp,
  decodeGetCsr,
  decodeGetEncapsulatedRequest,
  decodeGetEndpointInfo,
  decodeGetKeyPairInfo,
  decodeGetMeasurementExtensionLog,
  decodeGetSupportedEventTypes,
  decodeHeartbeat,
  decodeHeartbeatAck,
  decodeKeyExchange,
  decodeKeyExchangeRsp,
  decodeKeyPairInfo,
  decodeKeyUpdate,
  decodeKeyUpdateAck,
  decodeMeasurementExtensionLog,
  decodePskExchange,
  decodePskExchangeRsp,
  decodePskFinish,
  decodePskFinishRsp,
  decodeSendEvent,
  decodeSetCertificate,
  decodeSetCertificateRsp,
  decodeSetKeyPairInfo,
  decodeSetKeyPairInfoAck,
  decodeSubscribeEventTypes,
  decodeSubscribeEventTypesAck,
  decodeSupportedEventTypes,
  decodeVendorDefinedRequest,
  decodeVendorDefinedResponse,
  decodeVersion,
  peekHeader,
  RequestCode,
  ResponseCode,
} from '../../src/spdm/index.js';
import { SAMPLES } from './samples.js';

const RUNS = 300;

/** A nested decoder that takes any header-only message (the ConversationDecoder's are exercised below). */
const nestedAny = (b: Uint8Array): { value: number; raw: Uint8Array } => {
  const h = peekHeader(b);
  return { value: h.code, raw: b.subarray(0, 4) };
};

interface Target {
  readonly name: string;
  /** The code a well-formed input starts with after the version byte (none for headerless data). */
  readonly code?: number;
  readonly decode: (b: Uint8Array) => unknown;
}

const TARGETS: readonly Target[] = [
  { name: 'GET_VERSION', code: RequestCode.GET_VERSION, decode: decodeGetVersion },
  { name: 'VERSION', code: ResponseCode.VERSION, decode: decodeVersion },
  { name: 'GET_CAPABILITIES', code: RequestCode.GET_CAPABILITIES, decode: decodeGetCapabilities },
  { name: 'CAPABILITIES', code: ResponseCode.CAPABILITIES, decode: decodeCapabilities },
  { name: 'NEGOTIATE_ALGORITHMS', code: RequestCode.NEGOTIATE_ALGORITHMS, decode: decodeNegotiateAlgorithms },
  { name: 'ALGORITHMS', code: ResponseCode.ALGORITHMS, decode: decodeAlgorithms },
  { name: 'GET_DIGESTS', code: RequestCode.GET_DIGESTS, decode: decodeGetDigests },
  { name: 'DIGESTS (32)', code: ResponseCode.DIGESTS, decode: (b) => decodeDigests(b, { hashSize: 32 }) },
  { name: 'DIGESTS (48, multi-key)', code: ResponseCode.DIGESTS, decode: (b) => decodeDigests(b, { hashSize: 48, multiKeyConn: true }) },
  { name: 'GET_CERTIFICATE', code: RequestCode.GET_CERTIFICATE, decode: decodeGetCertificate },
  { name: 'CERTIFICATE', code: ResponseCode.CERTIFICATE, decode: decodeCertificate },
  { name: 'CHALLENGE', code: RequestCode.CHALLENGE, decode: decodeChallenge },
  {
    name: 'CHALLENGE_AUTH',
    code: ResponseCode.CHALLENGE_AUTH,
    decode: (b) => decodeChallengeAuth(b, { hashSize: 32, signatureSize: 64, measurementSummaryHashRequested: false }),
  },
  {
    name: 'CHALLENGE_AUTH (summary hash)',
    code: ResponseCode.CHALLENGE_AUTH,
    decode: (b) => decodeChallengeAuth(b, { hashSize: 48, signatureSize: 96, measurementSummaryHashRequested: true }),
  },
  { name: 'GET_MEASUREMENTS', code: RequestCode.GET_MEASUREMENTS, decode: decodeGetMeasurements },
  { name: 'MEASUREMENTS', code: ResponseCode.MEASUREMENTS, decode: (b) => decodeMeasurements(b, { signatureRequested: false, signatureSize: 0 }) },
  { name: 'MEASUREMENTS (signed)', code: ResponseCode.MEASUREMENTS, decode: (b) => decodeMeasurements(b, { signatureRequested: true, signatureSize: 64 }) },
  { name: 'ERROR', code: ResponseCode.ERROR, decode: decodeError },
  { name: 'RESPOND_IF_READY', code: RequestCode.RESPOND_IF_READY, decode: decodeRespondIfReady },
  { name: 'KEY_EXCHANGE', code: RequestCode.KEY_EXCHANGE, decode: (b) => decodeKeyExchange(b, { exchangeDataSize: 64 }) },
  {
    name: 'KEY_EXCHANGE_RSP',
    code: ResponseCode.KEY_EXCHANGE_RSP,
    decode: (b) => decodeKeyExchangeRsp(b, { hashSize: 32, signatureSize: 64, exchangeDataSize: 64, measurementSummaryHashPresent: true, handshakeInTheClear: false }),
  },
  {
    name: 'KEY_EXCHANGE_RSP (in the clear)',
    code: ResponseCode.KEY_EXCHANGE_RSP,
    decode: (b) => decodeKeyExchangeRsp(b, { hashSize: 48, signatureSize: 96, exchangeDataSize: 96, measurementSummaryHashPresent: false, handshakeInTheClear: true }),
  },
  { name: 'FINISH', code: RequestCode.FINISH, decode: (b) => decodeFinish(b, { hashSize: 32, requesterSignatureSize: 64 }) },
  { name: 'FINISH (no ReqBaseAsymAlg)', code: RequestCode.FINISH, decode: (b) => decodeFinish(b, { hashSize: 48 }) },
  { name: 'FINISH_RSP', code: ResponseCode.FINISH_RSP, decode: (b) => decodeFinishRsp(b, { hashSize: 32, handshakeInTheClear: true }) },
  { name: 'PSK_EXCHANGE', code: RequestCode.PSK_EXCHANGE, decode: decodePskExchange },
  { name: 'PSK_EXCHANGE_RSP', code: ResponseCode.PSK_EXCHANGE_RSP, decode: (b) => decodePskExchangeRsp(b, { hashSize: 32, measurementSummaryHashPresent: true }) },
  { name: 'PSK_FINISH', code: RequestCode.PSK_FINISH, decode: (b) => decodePskFinish(b, { hashSize: 32 }) },
  { name: 'PSK_FINISH_RSP', code: ResponseCode.PSK_FINISH_RSP, decode: decodePskFinishRsp },
  { name: 'HEARTBEAT', code: RequestCode.HEARTBEAT, decode: decodeHeartbeat },
  { name: 'HEARTBEAT_ACK', code: ResponseCode.HEARTBEAT_ACK, decode: decodeHeartbeatAck },
  { name: 'KEY_UPDATE', code: RequestCode.KEY_UPDATE, decode: decodeKeyUpdate },
  { name: 'KEY_UPDATE_ACK', code: ResponseCode.KEY_UPDATE_ACK, decode: decodeKeyUpdateAck },
  { name: 'END_SESSION', code: RequestCode.END_SESSION, decode: decodeEndSession },
  { name: 'END_SESSION_ACK', code: ResponseCode.END_SESSION_ACK, decode: decodeEndSessionAck },
  { name: 'GET_ENCAPSULATED_REQUEST', code: RequestCode.GET_ENCAPSULATED_REQUEST, decode: decodeGetEncapsulatedRequest },
  { name: 'ENCAPSULATED_REQUEST', code: ResponseCode.ENCAPSULATED_REQUEST, decode: (b) => decodeEncapsulatedRequest(b, nestedAny) },
  { name: 'ENCAPSULATED_REQUEST (undecoded)', code: ResponseCode.ENCAPSULATED_REQUEST, decode: (b) => decodeEncapsulatedRequest(b) },
  { name: 'DELIVER_ENCAPSULATED_RESPONSE', code: RequestCode.DELIVER_ENCAPSULATED_RESPONSE, decode: (b) => decodeDeliverEncapsulatedResponse(b, nestedAny) },
  { name: 'ENCAPSULATED_RESPONSE_ACK', code: ResponseCode.ENCAPSULATED_RESPONSE_ACK, decode: (b) => decodeEncapsulatedResponseAck(b, nestedAny) },
  { name: 'GET_CSR', code: RequestCode.GET_CSR, decode: decodeGetCsr },
  { name: 'CSR', code: ResponseCode.CSR, decode: decodeCsr },
  { name: 'SET_CERTIFICATE', code: RequestCode.SET_CERTIFICATE, decode: decodeSetCertificate },
  { name: 'SET_CERTIFICATE_RSP', code: ResponseCode.SET_CERTIFICATE_RSP, decode: decodeSetCertificateRsp },
  { name: 'GET_ENDPOINT_INFO', code: RequestCode.GET_ENDPOINT_INFO, decode: decodeGetEndpointInfo },
  { name: 'ENDPOINT_INFO', code: ResponseCode.ENDPOINT_INFO, decode: (b) => decodeEndpointInfo(b, { signatureRequested: true, signatureSize: 64 }) },
  { name: 'ENDPOINT_INFO (unsigned)', code: ResponseCode.ENDPOINT_INFO, decode: (b) => decodeEndpointInfo(b, { signatureRequested: false }) },
  { name: 'GET_KEY_PAIR_INFO', code: RequestCode.GET_KEY_PAIR_INFO, decode: decodeGetKeyPairInfo },
  { name: 'KEY_PAIR_INFO', code: ResponseCode.KEY_PAIR_INFO, decode: decodeKeyPairInfo },
  { name: 'SET_KEY_PAIR_INFO', code: RequestCode.SET_KEY_PAIR_INFO, decode: decodeSetKeyPairInfo },
  { name: 'SET_KEY_PAIR_INFO_ACK', code: ResponseCode.SET_KEY_PAIR_INFO_ACK, decode: decodeSetKeyPairInfoAck },
  { name: 'GET_MEASUREMENT_EXTENSION_LOG', code: RequestCode.GET_MEASUREMENT_EXTENSION_LOG, decode: decodeGetMeasurementExtensionLog },
  { name: 'MEASUREMENT_EXTENSION_LOG', code: ResponseCode.MEASUREMENT_EXTENSION_LOG, decode: decodeMeasurementExtensionLog },
  { name: 'CHUNK_SEND', code: RequestCode.CHUNK_SEND, decode: decodeChunkSend },
  { name: 'CHUNK_SEND_ACK', code: ResponseCode.CHUNK_SEND_ACK, decode: (b) => decodeChunkSendAck(b, nestedAny) },
  { name: 'CHUNK_GET', code: RequestCode.CHUNK_GET, decode: decodeChunkGet },
  { name: 'CHUNK_RESPONSE', code: ResponseCode.CHUNK_RESPONSE, decode: decodeChunkResponse },
  { name: 'VENDOR_DEFINED_REQUEST', code: RequestCode.VENDOR_DEFINED_REQUEST, decode: decodeVendorDefinedRequest },
  { name: 'VENDOR_DEFINED_RESPONSE', code: ResponseCode.VENDOR_DEFINED_RESPONSE, decode: decodeVendorDefinedResponse },
  { name: 'GET_SUPPORTED_EVENT_TYPES', code: RequestCode.GET_SUPPORTED_EVENT_TYPES, decode: decodeGetSupportedEventTypes },
  { name: 'SUPPORTED_EVENT_TYPES', code: ResponseCode.SUPPORTED_EVENT_TYPES, decode: decodeSupportedEventTypes },
  { name: 'SUBSCRIBE_EVENT_TYPES', code: RequestCode.SUBSCRIBE_EVENT_TYPES, decode: decodeSubscribeEventTypes },
  { name: 'SUBSCRIBE_EVENT_TYPES_ACK', code: ResponseCode.SUBSCRIBE_EVENT_TYPES_ACK, decode: decodeSubscribeEventTypesAck },
  { name: 'SEND_EVENT', code: RequestCode.SEND_EVENT, decode: decodeSendEvent },
  { name: 'EVENT_ACK', code: ResponseCode.EVENT_ACK, decode: decodeEventAck },
  { name: 'DeviceClassIdentifier', decode: decodeDeviceClassIdentifier },
  { name: 'DMTF MEL', decode: decodeDmtfMel },
  { name: 'measurement record', decode: (b) => decodeMeasurementRecord(b, 3) },
  { name: 'opaque data', decode: (b) => decodeOpaqueData(b) },
  { name: 'header', decode: peekHeader },
];

/** Runs `decode`; a result must be a prefix of the input, a failure a DecodeError. */
function decodesOrDecodeError(decode: (b: Uint8Array) => unknown, input: Uint8Array): boolean {
  let out: unknown;
  try {
    out = decode(input);
  } catch (e) {
    if (e instanceof DecodeError && e.code === 'DECODE_ERROR' && e.messageName.length > 0 && e.field.length > 0) return true;
    throw e;
  }
  if (typeof out === 'object' && out !== null && 'raw' in out && out.raw instanceof Uint8Array) {
    assert.ok(out.raw.length <= input.length && equalBytes(out.raw, input.subarray(0, out.raw.length)), 'raw is a prefix of the input');
  }
  return true;
}

const anyVersion = fc.oneof(fc.constantFrom(0x10, 0x11, 0x12, 0x13, 0x14), fc.integer({ min: 0, max: 255 }));

for (const t of TARGETS) {
  test(`property: ${t.name} on random bytes`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), (b) => decodesOrDecodeError(t.decode, b)),
      { numRuns: RUNS },
    );
  });

  test(`property: ${t.name} on random bodies behind a plausible header`, () => {
    const prefix =
      t.code !== undefined
        ? fc.tuple(anyVersion, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([v, p1, p2]) => Uint8Array.of(v, t.code ?? 0, p1, p2))
        : fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 6 })).map(([n, len]) => Uint8Array.of(n, 0, 0, 0, 0, len, 4, 0));
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 300 }), (p, body) => {
        const b = new Uint8Array(p.length + body.length);
        b.set(p);
        b.set(body, p.length);
        return decodesOrDecodeError(t.decode, b);
      }),
      { numRuns: RUNS },
    );
  });
}

/** A corpus message with a few random edits: byte changes, a cut, or bytes appended. */
const mutatedSample = fc
  .record({
    sample: fc.integer({ min: 0, max: SAMPLES.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    extra: fc.uint8Array({ maxLength: 8 }),
  })
  .map(({ sample, edits, cut, extra }) => {
    const s = SAMPLES[sample];
    assert.ok(s);
    let b = s.bytes.slice();
    for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
    if (cut !== undefined && b.length > 0) b = b.slice(0, cut % b.length);
    else if (extra.length > 0) {
      const grown = new Uint8Array(b.length + extra.length);
      grown.set(b);
      grown.set(extra, b.length);
      b = grown;
    }
    return { s, b };
  });

test('property: mutated corpus messages decode or fail with a DecodeError', () => {
  fc.assert(
    fc.property(mutatedSample, ({ s, b }) => decodesOrDecodeError(s.decode, b)),
    { numRuns: 3000 },
  );
});

test('property: ConversationDecoder over sequences of mutated messages', () => {
  const sequence = fc.array(fc.tuple(mutatedSample, fc.boolean()), { minLength: 1, maxLength: 12 });
  fc.assert(
    fc.property(sequence, fc.boolean(), (msgs, seeded) => {
      // Seeded: what a 1.3 ALGORITHMS / CAPABILITIES would have said (P-384, SHA-384, secp384r1,
      // RSAPSS-3072 requester, both sides HANDSHAKE_IN_THE_CLEAR).
      const dec = new ConversationDecoder(
        seeded
          ? {
              baseHashAlgo: 0x02,
              baseAsymAlgo: 0x80,
              measurementHashAlgo: 0x04,
              dheGroup: 0x10,
              reqBaseAsymAlgo: 0x08,
              requesterFlags: 0x8000,
              responderFlags: 0x8018,
              multiKeyConnReq: true,
            }
          : {},
      );
      for (const [{ b }, flip] of msgs) {
        const isRequest = ((b[1] ?? 0) & 0x80) !== 0;
        const direction = isRequest !== flip ? 'request' : 'response';
        try {
          const d = dec.feed(direction, b);
          const raw = d.kind === 'other' ? d.raw : d.msg.raw;
          assert.equal(raw.length + d.trailing.length, b.length, 'message + trailing = payload');
          assert.ok(d.trailing.length <= 3 && d.trailing.every((x) => x === 0));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }
      return true;
    }),
    { numRuns: 1000 },
  );
});

test('property: ConversationDecoder over libspdm captures with a few bytes changed', () => {
  // The clear messages of two captures (DOE 1.3 and MCTP 1.4), without the index-by-index
  // GET_MEASUREMENTS / ERROR walk: every session, encapsulation and 1.3 message stays in.
  const conversations = ['doe-v13.json', 'mctp-default.json'].map((f) => {
    const cap = JSON.parse(readFileSync(join(libspdmVectors(), 'captures', f), 'utf8')) as { messages: { kind: string; direction: string; payload: string }[] };
    return cap.messages
      .filter((m) => m.kind === 'spdm' && !/^..(e0|60|7f)/.test(m.payload))
      .map((m) => ({ direction: m.direction as 'request' | 'response', bytes: fromHex(m.payload) }));
  });
  const edit = fc.record({ message: fc.nat(), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), cut: fc.boolean() });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: conversations.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 3 }), (which, edits) => {
      const msgs = (conversations[which] ?? []).map((m) => ({ ...m, bytes: m.bytes.slice() }));
      for (const e of edits) {
        const m = msgs[e.message % msgs.length];
        if (!m || m.bytes.length === 0) continue;
        if (e.cut) m.bytes = m.bytes.slice(0, e.at % m.bytes.length);
        else m.bytes[e.at % m.bytes.length] = e.value;
      }
      const dec = new ConversationDecoder();
      for (const m of msgs) {
        try {
          const d = dec.feed(m.direction, m.bytes);
          const raw = d.kind === 'other' ? d.raw : d.msg.raw;
          assert.equal(raw.length + d.trailing.length, m.bytes.length, 'message + trailing = payload');
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }
      return true;
    }),
    { numRuns: 150 },
  );
});
