/**
 * Re-encodes a decoded message with the library's encoders, from the decoded fields only. Used to
 * check that decode -> encode reproduces the exact wire bytes (captures, conversation tests).
 * Nested messages (encapsulated requests/responses, CHUNK_SEND_ACK's response) are re-encoded
 * from their own decoded fields too, not copied from `payload`.
 */
import {
  EncapPayloadType,
  encodeAlgorithms,
  encodeCapabilities,
  encodeCertificate,
  encodeChallenge,
  encodeChallengeAuth,
  encodeChunkGet,
  encodeChunkResponse,
  encodeChunkSend,
  encodeChunkSendAck,
  encodeCsr,
  encodeDeliverEncapsulatedResponse,
  encodeDigests,
  encodeEncapsulatedRequest,
  encodeEncapsulatedResponseAck,
  encodeEndpointInfo,
  encodeEndSession,
  encodeEndSessionAck,
  encodeError,
  encodeEventAck,
  encodeFinish,
  encodeFinishRsp,
  encodeGetCapabilities,
  encodeGetCertificate,
  encodeGetCsr,
  encodeGetDigests,
  encodeGetEncapsulatedRequest,
  encodeGetEndpointInfo,
  encodeGetKeyPairInfo,
  encodeGetMeasurementExtensionLog,
  encodeGetMeasurements,
  encodeGetSupportedEventTypes,
  encodeGetVersion,
  encodeHeartbeat,
  encodeHeartbeatAck,
  encodeKeyExchange,
  encodeKeyExchangeRsp,
  encodeKeyPairInfo,
  encodeKeyUpdate,
  encodeKeyUpdateAck,
  encodeMeasurementExtensionLog,
  encodeMeasurements,
  encodeNegotiateAlgorithms,
  encodePskExchange,
  encodePskExchangeRsp,
  encodePskFinish,
  encodePskFinishRsp,
  encodeRespondIfReady,
  encodeSendEvent,
  encodeSetCertificate,
  encodeSetCertificateRsp,
  encodeSetKeyPairInfo,
  encodeSetKeyPairInfoAck,
  encodeSubscribeEventTypes,
  encodeSubscribeEventTypesAck,
  encodeSupportedEventTypes,
  encodeVendorDefinedRequest,
  encodeVendorDefinedResponse,
  encodeVersion,
  type DecodedSpdmMessage,
} from '../../src/spdm/index.js';

const EMPTY = new Uint8Array(0);

export function reencode(d: DecodedSpdmMessage): Uint8Array {
  switch (d.kind) {
    case 'GET_VERSION':
      return encodeGetVersion();
    case 'VERSION':
      return encodeVersion(d.msg.entries);
    case 'GET_CAPABILITIES':
      return encodeGetCapabilities(d.msg);
    case 'CAPABILITIES':
      return encodeCapabilities(d.msg);
    case 'NEGOTIATE_ALGORITHMS':
      return encodeNegotiateAlgorithms(d.msg.version, d.msg);
    case 'ALGORITHMS':
      return encodeAlgorithms(d.msg.version, d.msg);
    case 'GET_DIGESTS':
      return encodeGetDigests(d.msg.version);
    case 'DIGESTS':
      return encodeDigests(
        d.msg.version,
        d.msg,
        d.msg.digests.some((x) => x.keyPairId !== undefined),
      );
    case 'GET_CERTIFICATE':
      return encodeGetCertificate(d.msg.version, d.msg);
    case 'CERTIFICATE':
      return encodeCertificate(d.msg.version, d.msg);
    case 'CHALLENGE':
      return encodeChallenge(d.msg.version, d.msg);
    case 'CHALLENGE_AUTH':
      return encodeChallengeAuth(d.msg.version, d.msg, d.msg.signature).message;
    case 'GET_MEASUREMENTS':
      return encodeGetMeasurements(d.msg.version, d.msg);
    case 'MEASUREMENTS':
      return encodeMeasurements(d.msg.version, d.msg, d.msg.signature).message;
    case 'ERROR':
      return encodeError(d.msg.version, d.msg.errorCode, d.msg.errorData, d.msg.extendedData);
    case 'RESPOND_IF_READY':
      return encodeRespondIfReady(d.msg.version, d.msg.requestCode, d.msg.token);
    case 'KEY_EXCHANGE':
      return encodeKeyExchange(d.msg.version, d.msg);
    case 'KEY_EXCHANGE_RSP':
      return encodeKeyExchangeRsp(d.msg.version, d.msg);
    case 'FINISH':
      return encodeFinish(d.msg.version, d.msg);
    case 'FINISH_RSP':
      return encodeFinishRsp(d.msg.version, d.msg);
    case 'PSK_EXCHANGE':
      return encodePskExchange(d.msg.version, d.msg);
    case 'PSK_EXCHANGE_RSP':
      return encodePskExchangeRsp(d.msg.version, d.msg);
    case 'PSK_FINISH':
      return encodePskFinish(d.msg.version, d.msg);
    case 'PSK_FINISH_RSP':
      return encodePskFinishRsp(d.msg.version, d.msg);
    case 'HEARTBEAT':
      return encodeHeartbeat(d.msg.version);
    case 'HEARTBEAT_ACK':
      return encodeHeartbeatAck(d.msg.version);
    case 'KEY_UPDATE':
      return encodeKeyUpdate(d.msg.version, d.msg);
    case 'KEY_UPDATE_ACK':
      return encodeKeyUpdateAck(d.msg.version, d.msg);
    case 'END_SESSION':
      return encodeEndSession(d.msg.version, d.msg);
    case 'END_SESSION_ACK':
      return encodeEndSessionAck(d.msg.version);
    case 'GET_ENCAPSULATED_REQUEST':
      return encodeGetEncapsulatedRequest(d.msg.version);
    case 'ENCAPSULATED_REQUEST':
      return encodeEncapsulatedRequest(d.msg.version, {
        requestId: d.msg.requestId,
        payload: d.msg.nested ? reencode(d.msg.nested) : EMPTY,
      });
    case 'DELIVER_ENCAPSULATED_RESPONSE':
      return encodeDeliverEncapsulatedResponse(d.msg.version, {
        requestId: d.msg.requestId,
        payload: d.msg.nested ? reencode(d.msg.nested) : d.msg.payload,
      });
    case 'ENCAPSULATED_RESPONSE_ACK': {
      const { nested, ...rest } = d.msg;
      const payload = d.msg.payloadType === EncapPayloadType.PRESENT && nested ? reencode(nested) : EMPTY;
      return encodeEncapsulatedResponseAck(d.msg.version, { ...rest, payload });
    }
    case 'GET_CSR':
      return encodeGetCsr(d.msg.version, d.msg);
    case 'CSR':
      return encodeCsr(d.msg.version, d.msg);
    case 'SET_CERTIFICATE':
      return encodeSetCertificate(d.msg.version, d.msg);
    case 'SET_CERTIFICATE_RSP':
      return encodeSetCertificateRsp(d.msg.version, d.msg);
    case 'GET_ENDPOINT_INFO':
      return encodeGetEndpointInfo(d.msg.version, d.msg);
    case 'ENDPOINT_INFO':
      return encodeEndpointInfo(d.msg.version, d.msg);
    case 'GET_KEY_PAIR_INFO':
      return encodeGetKeyPairInfo(d.msg.version, d.msg);
    case 'KEY_PAIR_INFO':
      return encodeKeyPairInfo(d.msg.version, d.msg);
    case 'SET_KEY_PAIR_INFO':
      return encodeSetKeyPairInfo(d.msg.version, d.msg);
    case 'SET_KEY_PAIR_INFO_ACK':
      return encodeSetKeyPairInfoAck(d.msg.version);
    case 'GET_MEASUREMENT_EXTENSION_LOG':
      return encodeGetMeasurementExtensionLog(d.msg.version, d.msg);
    case 'MEASUREMENT_EXTENSION_LOG':
      return encodeMeasurementExtensionLog(d.msg.version, d.msg);
    case 'CHUNK_SEND':
      return encodeChunkSend(d.msg.version, d.msg);
    case 'CHUNK_SEND_ACK':
      return encodeChunkSendAck(d.msg.version, {
        ...d.msg,
        payload: d.msg.nested ? reencode(d.msg.nested) : d.msg.payload,
      });
    case 'CHUNK_GET':
      return encodeChunkGet(d.msg.version, d.msg);
    case 'CHUNK_RESPONSE':
      return encodeChunkResponse(d.msg.version, d.msg);
    case 'VENDOR_DEFINED_REQUEST':
      return encodeVendorDefinedRequest(d.msg.version, d.msg);
    case 'VENDOR_DEFINED_RESPONSE':
      return encodeVendorDefinedResponse(d.msg.version, d.msg);
    case 'GET_SUPPORTED_EVENT_TYPES':
      return encodeGetSupportedEventTypes(d.msg.version);
    case 'SUPPORTED_EVENT_TYPES':
      return encodeSupportedEventTypes(d.msg.version, d.msg);
    case 'SUBSCRIBE_EVENT_TYPES':
      return encodeSubscribeEventTypes(d.msg.version, d.msg);
    case 'SUBSCRIBE_EVENT_TYPES_ACK':
      return encodeSubscribeEventTypesAck(d.msg.version);
    case 'SEND_EVENT':
      return encodeSendEvent(d.msg.version, d.msg);
    case 'EVENT_ACK':
      return encodeEventAck(d.msg.version);
  }
}
