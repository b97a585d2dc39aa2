/**
 * Re-encodes a decoded message with the library's encoders, from the decoded fields only. Used to
 * check that decode -> encode reproduces the exact wire bytes (captures, conversation tests).
 */
import {
  encodeAlgorithms,
  encodeCapabilities,
  encodeCertificate,
  encodeChallenge,
  encodeChallengeAuth,
  encodeDigests,
  encodeError,
  encodeGetCapabilities,
  encodeGetCertificate,
  encodeGetDigests,
  encodeGetMeasurements,
  encodeGetVersion,
  encodeMeasurements,
  encodeNegotiateAlgorithms,
  encodeRespondIfReady,
  encodeVersion,
  type DecodedSpdmMessage,
} from '../../src/spdm/index.js';

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
  }
}
