/**
 * Every SPDM decoder with a decode context, for the property tests (test/spdm/properties.test.ts)
 * and the fuzz targets (test/fuzz/). A decode either returns a message whose `raw` is a prefix of
 * its input or throws a DecodeError naming the message and field — nothing else.
 */
import assert from 'node:assert/strict';
import { DecodeError } from '../../src/wire/errors.js';
import { equalBytes } from '../../src/wire/bytes.js';
import {
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

/** A nested decoder that takes any header-only message (the ConversationDecoder's are exercised below). */
const nestedAny = (b: Uint8Array): { value: number; raw: Uint8Array } => {
  const h = peekHeader(b);
  return { value: h.code, raw: b.subarray(0, 4) };
};

export interface DecoderTarget {
  readonly name: string;
  /** The code a well-formed input starts with after the version byte (none for headerless data). */
  readonly code?: number;
  readonly decode: (b: Uint8Array) => unknown;
}

export const DECODERS: readonly DecoderTarget[] = [
  { name: 'GET_VERSION', code: RequestCode.GET_VERSION, decode: decodeGetVersion },
  { name: 'VERSION', code: ResponseCode.VERSION, decode: decodeVersion },
  { name: 'GET_CAPABILITIES', code: RequestCode.GET_CAPABILITIES, decode: decodeGetCapabilities },
  { name: 'CAPABILITIES', code: ResponseCode.CAPABILITIES, decode: decodeCapabilities },
  { name: 'NEGOTIATE_ALGORITHMS', code: RequestCode.NEGOTIATE_ALGORITHMS, decode: decodeNegotiateAlgorithms },
  { name: 'ALGORITHMS', code: ResponseCode.ALGORITHMS, decode: decodeAlgorithms },
  { name: 'GET_DIGESTS', code: RequestCode.GET_DIGESTS, decode: decodeGetDigests },
  { name: 'DIGESTS (32)', code: ResponseCode.DIGESTS, decode: (b) => decodeDigests(b, { hashSize: 32 }) },
  {
    name: 'DIGESTS (48, multi-key)',
    code: ResponseCode.DIGESTS,
    decode: (b) => decodeDigests(b, { hashSize: 48, multiKeyConn: true }),
  },
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
  {
    name: 'MEASUREMENTS',
    code: ResponseCode.MEASUREMENTS,
    decode: (b) => decodeMeasurements(b, { signatureRequested: false, signatureSize: 0 }),
  },
  {
    name: 'MEASUREMENTS (signed)',
    code: ResponseCode.MEASUREMENTS,
    decode: (b) => decodeMeasurements(b, { signatureRequested: true, signatureSize: 64 }),
  },
  { name: 'ERROR', code: ResponseCode.ERROR, decode: decodeError },
  { name: 'RESPOND_IF_READY', code: RequestCode.RESPOND_IF_READY, decode: decodeRespondIfReady },
  {
    name: 'KEY_EXCHANGE',
    code: RequestCode.KEY_EXCHANGE,
    decode: (b) => decodeKeyExchange(b, { exchangeDataSize: 64 }),
  },
  {
    name: 'KEY_EXCHANGE_RSP',
    code: ResponseCode.KEY_EXCHANGE_RSP,
    decode: (b) =>
      decodeKeyExchangeRsp(b, {
        hashSize: 32,
        signatureSize: 64,
        exchangeDataSize: 64,
        measurementSummaryHashPresent: true,
        handshakeInTheClear: false,
      }),
  },
  {
    name: 'KEY_EXCHANGE_RSP (in the clear)',
    code: ResponseCode.KEY_EXCHANGE_RSP,
    decode: (b) =>
      decodeKeyExchangeRsp(b, {
        hashSize: 48,
        signatureSize: 96,
        exchangeDataSize: 96,
        measurementSummaryHashPresent: false,
        handshakeInTheClear: true,
      }),
  },
  {
    name: 'FINISH',
    code: RequestCode.FINISH,
    decode: (b) => decodeFinish(b, { hashSize: 32, requesterSignatureSize: 64 }),
  },
  { name: 'FINISH (no ReqBaseAsymAlg)', code: RequestCode.FINISH, decode: (b) => decodeFinish(b, { hashSize: 48 }) },
  {
    name: 'FINISH_RSP',
    code: ResponseCode.FINISH_RSP,
    decode: (b) => decodeFinishRsp(b, { hashSize: 32, handshakeInTheClear: true }),
  },
  { name: 'PSK_EXCHANGE', code: RequestCode.PSK_EXCHANGE, decode: decodePskExchange },
  {
    name: 'PSK_EXCHANGE_RSP',
    code: ResponseCode.PSK_EXCHANGE_RSP,
    decode: (b) => decodePskExchangeRsp(b, { hashSize: 32, measurementSummaryHashPresent: true }),
  },
  { name: 'PSK_FINISH', code: RequestCode.PSK_FINISH, decode: (b) => decodePskFinish(b, { hashSize: 32 }) },
  { name: 'PSK_FINISH_RSP', code: ResponseCode.PSK_FINISH_RSP, decode: decodePskFinishRsp },
  { name: 'HEARTBEAT', code: RequestCode.HEARTBEAT, decode: decodeHeartbeat },
  { name: 'HEARTBEAT_ACK', code: ResponseCode.HEARTBEAT_ACK, decode: decodeHeartbeatAck },
  { name: 'KEY_UPDATE', code: RequestCode.KEY_UPDATE, decode: decodeKeyUpdate },
  { name: 'KEY_UPDATE_ACK', code: ResponseCode.KEY_UPDATE_ACK, decode: decodeKeyUpdateAck },
  { name: 'END_SESSION', code: RequestCode.END_SESSION, decode: decodeEndSession },
  { name: 'END_SESSION_ACK', code: ResponseCode.END_SESSION_ACK, decode: decodeEndSessionAck },
  {
    name: 'GET_ENCAPSULATED_REQUEST',
    code: RequestCode.GET_ENCAPSULATED_REQUEST,
    decode: decodeGetEncapsulatedRequest,
  },
  {
    name: 'ENCAPSULATED_REQUEST',
    code: ResponseCode.ENCAPSULATED_REQUEST,
    decode: (b) => decodeEncapsulatedRequest(b, nestedAny),
  },
  {
    name: 'ENCAPSULATED_REQUEST (undecoded)',
    code: ResponseCode.ENCAPSULATED_REQUEST,
    decode: (b) => decodeEncapsulatedRequest(b),
  },
  {
    name: 'DELIVER_ENCAPSULATED_RESPONSE',
    code: RequestCode.DELIVER_ENCAPSULATED_RESPONSE,
    decode: (b) => decodeDeliverEncapsulatedResponse(b, nestedAny),
  },
  {
    name: 'ENCAPSULATED_RESPONSE_ACK',
    code: ResponseCode.ENCAPSULATED_RESPONSE_ACK,
    decode: (b) => decodeEncapsulatedResponseAck(b, nestedAny),
  },
  { name: 'GET_CSR', code: RequestCode.GET_CSR, decode: decodeGetCsr },
  { name: 'CSR', code: ResponseCode.CSR, decode: decodeCsr },
  { name: 'SET_CERTIFICATE', code: RequestCode.SET_CERTIFICATE, decode: decodeSetCertificate },
  { name: 'SET_CERTIFICATE_RSP', code: ResponseCode.SET_CERTIFICATE_RSP, decode: decodeSetCertificateRsp },
  { name: 'GET_ENDPOINT_INFO', code: RequestCode.GET_ENDPOINT_INFO, decode: decodeGetEndpointInfo },
  {
    name: 'ENDPOINT_INFO',
    code: ResponseCode.ENDPOINT_INFO,
    decode: (b) => decodeEndpointInfo(b, { signatureRequested: true, signatureSize: 64 }),
  },
  {
    name: 'ENDPOINT_INFO (unsigned)',
    code: ResponseCode.ENDPOINT_INFO,
    decode: (b) => decodeEndpointInfo(b, { signatureRequested: false }),
  },
  { name: 'GET_KEY_PAIR_INFO', code: RequestCode.GET_KEY_PAIR_INFO, decode: decodeGetKeyPairInfo },
  { name: 'KEY_PAIR_INFO', code: ResponseCode.KEY_PAIR_INFO, decode: decodeKeyPairInfo },
  { name: 'SET_KEY_PAIR_INFO', code: RequestCode.SET_KEY_PAIR_INFO, decode: decodeSetKeyPairInfo },
  { name: 'SET_KEY_PAIR_INFO_ACK', code: ResponseCode.SET_KEY_PAIR_INFO_ACK, decode: decodeSetKeyPairInfoAck },
  {
    name: 'GET_MEASUREMENT_EXTENSION_LOG',
    code: RequestCode.GET_MEASUREMENT_EXTENSION_LOG,
    decode: decodeGetMeasurementExtensionLog,
  },
  {
    name: 'MEASUREMENT_EXTENSION_LOG',
    code: ResponseCode.MEASUREMENT_EXTENSION_LOG,
    decode: decodeMeasurementExtensionLog,
  },
  { name: 'CHUNK_SEND', code: RequestCode.CHUNK_SEND, decode: decodeChunkSend },
  { name: 'CHUNK_SEND_ACK', code: ResponseCode.CHUNK_SEND_ACK, decode: (b) => decodeChunkSendAck(b, nestedAny) },
  { name: 'CHUNK_GET', code: RequestCode.CHUNK_GET, decode: decodeChunkGet },
  { name: 'CHUNK_RESPONSE', code: ResponseCode.CHUNK_RESPONSE, decode: decodeChunkResponse },
  { name: 'VENDOR_DEFINED_REQUEST', code: RequestCode.VENDOR_DEFINED_REQUEST, decode: decodeVendorDefinedRequest },
  { name: 'VENDOR_DEFINED_RESPONSE', code: ResponseCode.VENDOR_DEFINED_RESPONSE, decode: decodeVendorDefinedResponse },
  {
    name: 'GET_SUPPORTED_EVENT_TYPES',
    code: RequestCode.GET_SUPPORTED_EVENT_TYPES,
    decode: decodeGetSupportedEventTypes,
  },
  { name: 'SUPPORTED_EVENT_TYPES', code: ResponseCode.SUPPORTED_EVENT_TYPES, decode: decodeSupportedEventTypes },
  { name: 'SUBSCRIBE_EVENT_TYPES', code: RequestCode.SUBSCRIBE_EVENT_TYPES, decode: decodeSubscribeEventTypes },
  {
    name: 'SUBSCRIBE_EVENT_TYPES_ACK',
    code: ResponseCode.SUBSCRIBE_EVENT_TYPES_ACK,
    decode: decodeSubscribeEventTypesAck,
  },
  { name: 'SEND_EVENT', code: RequestCode.SEND_EVENT, decode: decodeSendEvent },
  { name: 'EVENT_ACK', code: ResponseCode.EVENT_ACK, decode: decodeEventAck },
  { name: 'DeviceClassIdentifier', decode: decodeDeviceClassIdentifier },
  { name: 'DMTF MEL', decode: decodeDmtfMel },
  { name: 'measurement record', decode: (b) => decodeMeasurementRecord(b, 3) },
  { name: 'opaque data', decode: (b) => decodeOpaqueData(b) },
  { name: 'header', decode: peekHeader },
];

/** Runs `decode`; a result must be a prefix of the input, a failure a DecodeError. */
export function decodesOrDecodeError(decode: (b: Uint8Array) => unknown, input: Uint8Array): boolean {
  let out: unknown;
  try {
    out = decode(input);
  } catch (e) {
    if (e instanceof DecodeError && e.code === 'DECODE_ERROR' && e.messageName.length > 0 && e.field.length > 0)
      return true;
    throw e;
  }
  if (typeof out === 'object' && out !== null && 'raw' in out && out.raw instanceof Uint8Array) {
    assert.ok(
      out.raw.length <= input.length && equalBytes(out.raw, input.subarray(0, out.raw.length)),
      'raw is a prefix of the input',
    );
  }
  return true;
}
