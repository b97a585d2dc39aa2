/**
 * Stateful decoding of a whole SPDM conversation (capture decoding, `spdm dump`).
 *
 * Several SPDM messages cannot be decoded on their own: DIGESTS and CHALLENGE_AUTH need the
 * negotiated hash size, CHALLENGE_AUTH and MEASUREMENTS the signature size, CHALLENGE_AUTH
 * whether the CHALLENGE asked for a measurement summary hash, MEASUREMENTS whether the
 * GET_MEASUREMENTS asked for a signature, and a 1.3+ DIGESTS whether a multi-key connection was
 * negotiated. `ConversationDecoder` feeds every message, in order, to the codec for its code and
 * remembers what the later ones need. GET_VERSION resets that state, as it resets the connection.
 *
 * The transport payload may be longer than the SPDM message: PCIe DOE carries whole dwords, so a
 * message is followed by up to 3 zero bytes. The true end comes from the message's own fields;
 * the bytes after it are returned as `trailing` (never part of `msg.raw`, which is what enters
 * transcripts and signatures). Anything else after the end is a DecodeError.
 *
 * Codes whose codecs do not exist yet (sessions, encapsulation, chunking, certificate
 * provisioning, vendor-defined, 1.3 events/endpoint info/MEL/key pairs...) come back as
 * `kind: 'other'` with the header decoded; their true length is unknown, so `body` is everything
 * after the header, padding included, and `trailing` is empty.
 */
import { DecodeError } from '../wire/errors.js';
import { asymInfo, hashInfo, measurementHashToBaseHash } from '../crypto/algorithms.js';
import { codeName, isRequestCode, RequestCode, ResponseCode } from './codes.js';
import { peekHeader, type Header } from './header.js';
import { decodeGetVersion, decodeVersion, type GetVersionRequest, type VersionNumber, type VersionResponse } from './messages/version.js';
import {
  decodeCapabilities,
  decodeGetCapabilities,
  MEAS_CAP_MASK,
  type CapabilitiesResponse,
  type GetCapabilitiesRequest,
} from './messages/capabilities.js';
import {
  decodeAlgorithms,
  decodeNegotiateAlgorithms,
  OtherParams,
  type AlgorithmsResponse,
  type NegotiateAlgorithmsRequest,
} from './messages/algorithms.js';
import { decodeDigests, decodeGetDigests, type DigestsResponse, type GetDigestsRequest } from './messages/digests.js';
import { decodeCertificate, decodeGetCertificate, type CertificateResponse, type GetCertificateRequest } from './messages/certificate.js';
import { decodeChallenge, decodeChallengeAuth, type ChallengeAuthResponse, type ChallengeRequest } from './messages/challenge.js';
import {
  decodeGetMeasurements,
  decodeMeasurements,
  type GetMeasurementsRequest,
  type MeasurementsResponse,
} from './messages/measurements.js';
import { decodeError, decodeRespondIfReady, type ErrorResponse, type RespondIfReadyRequest } from './messages/error.js';

export type Direction = 'request' | 'response';

/** A message whose codec exists, by kind. */
export type DecodedSpdmMessage =
  | { readonly kind: 'GET_VERSION'; readonly msg: GetVersionRequest }
  | { readonly kind: 'VERSION'; readonly msg: VersionResponse }
  | { readonly kind: 'GET_CAPABILITIES'; readonly msg: GetCapabilitiesRequest }
  | { readonly kind: 'CAPABILITIES'; readonly msg: CapabilitiesResponse }
  | { readonly kind: 'NEGOTIATE_ALGORITHMS'; readonly msg: NegotiateAlgorithmsRequest }
  | { readonly kind: 'ALGORITHMS'; readonly msg: AlgorithmsResponse }
  | { readonly kind: 'GET_DIGESTS'; readonly msg: GetDigestsRequest }
  | { readonly kind: 'DIGESTS'; readonly msg: DigestsResponse }
  | { readonly kind: 'GET_CERTIFICATE'; readonly msg: GetCertificateRequest }
  | { readonly kind: 'CERTIFICATE'; readonly msg: CertificateResponse }
  | { readonly kind: 'CHALLENGE'; readonly msg: ChallengeRequest }
  | { readonly kind: 'CHALLENGE_AUTH'; readonly msg: ChallengeAuthResponse }
  | { readonly kind: 'GET_MEASUREMENTS'; readonly msg: GetMeasurementsRequest }
  | { readonly kind: 'MEASUREMENTS'; readonly msg: MeasurementsResponse }
  | { readonly kind: 'ERROR'; readonly msg: ErrorResponse }
  | { readonly kind: 'RESPOND_IF_READY'; readonly msg: RespondIfReadyRequest };

/** A message this library cannot decode yet: header only. */
export interface OtherSpdmMessage {
  readonly kind: 'other';
  readonly header: Header;
  /** codeName() of the RequestResponseCode. */
  readonly name: string;
  /** Everything after the 4-byte header (transport padding included: the true length is unknown). */
  readonly body: Uint8Array;
  /** The whole payload as fed. */
  readonly raw: Uint8Array;
}

export type DecodedMessage = (DecodedSpdmMessage | OtherSpdmMessage) & {
  readonly direction: Direction;
  /** Bytes after the message's true end: DOE dword padding, 0-3 zero bytes. Empty for 'other'. */
  readonly trailing: Uint8Array;
};

export type DecodedKind = DecodedSpdmMessage['kind'];

/** Request/response codes that decode to a kind other than 'other'. */
export const DECODED_CODES: ReadonlyMap<number, DecodedKind> = new Map<number, DecodedKind>([
  [RequestCode.GET_VERSION, 'GET_VERSION'],
  [ResponseCode.VERSION, 'VERSION'],
  [RequestCode.GET_CAPABILITIES, 'GET_CAPABILITIES'],
  [ResponseCode.CAPABILITIES, 'CAPABILITIES'],
  [RequestCode.NEGOTIATE_ALGORITHMS, 'NEGOTIATE_ALGORITHMS'],
  [ResponseCode.ALGORITHMS, 'ALGORITHMS'],
  [RequestCode.GET_DIGESTS, 'GET_DIGESTS'],
  [ResponseCode.DIGESTS, 'DIGESTS'],
  [RequestCode.GET_CERTIFICATE, 'GET_CERTIFICATE'],
  [ResponseCode.CERTIFICATE, 'CERTIFICATE'],
  [RequestCode.CHALLENGE, 'CHALLENGE'],
  [ResponseCode.CHALLENGE_AUTH, 'CHALLENGE_AUTH'],
  [RequestCode.GET_MEASUREMENTS, 'GET_MEASUREMENTS'],
  [ResponseCode.MEASUREMENTS, 'MEASUREMENTS'],
  [ResponseCode.ERROR, 'ERROR'],
  [RequestCode.RESPOND_IF_READY, 'RESPOND_IF_READY'],
]);

/** Most bytes a transport may add after a message (DOE pads to a dword). */
export const MAX_TRAILING_PADDING = 3;

/** What the decoder remembers between messages. Every field is reset by GET_VERSION. */
export interface ConversationState {
  /** VERSION entries offered by the responder. */
  readonly versionEntries?: readonly VersionNumber[];
  /** Negotiated version (header byte, e.g. 0x12): the version of GET_CAPABILITIES onwards. */
  readonly version?: number;
  readonly requesterFlags?: number;
  readonly responderFlags?: number;
  /** ALGORITHMS selections. */
  readonly baseHashAlgo?: number;
  readonly baseAsymAlgo?: number;
  readonly pqcAsymAlgo?: number;
  readonly measurementHashAlgo?: number;
  readonly otherParamsSelection?: number;
  /**
   * 1.3+ multi-key connection for the responder: its DIGESTS carry KeyPairID/CertificateInfo/
   * KeyUsageMask. Negotiated by the requester in NEGOTIATE_ALGORITHMS OtherParamsSupport bit 4
   * (libspdm `multi_key_conn_rsp`, set on both sides from the request).
   */
  readonly multiKeyConnRsp: boolean;
  /**
   * 1.3+ multi-key connection for the requester (ALGORITHMS OtherParamsSelection bit 4, libspdm
   * `multi_key_conn_req`): governs the requester's own DIGESTS in encapsulated flows.
   */
  readonly multiKeyConnReq: boolean;
  /** The last CHALLENGE asked for a measurement summary hash (Param2 != 0). */
  readonly measurementSummaryHashRequested: boolean;
  /** The last GET_MEASUREMENTS asked for a signature (Param1 bit 0). */
  readonly measurementSignatureRequested: boolean;
}

type MutableState = { -readonly [K in keyof ConversationState]: ConversationState[K] };

function initialState(): MutableState {
  return {
    multiKeyConnRsp: false,
    multiKeyConnReq: false,
    measurementSummaryHashRequested: false,
    measurementSignatureRequested: false,
  };
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

export class ConversationDecoder {
  private s: MutableState;

  /** `initial` seeds the state, e.g. to decode a capture that starts after negotiation. */
  constructor(initial: Partial<ConversationState> = {}) {
    this.s = { ...initialState(), ...initial };
  }

  get state(): Readonly<ConversationState> {
    return { ...this.s };
  }

  /** Size of the negotiated BaseHashAlgo, if one known algorithm was selected. */
  get hashSize(): number | undefined {
    return this.s.baseHashAlgo === undefined ? undefined : hashInfo(this.s.baseHashAlgo)?.size;
  }

  /** Signature size of the negotiated BaseAsymAlgo, if one known algorithm was selected. */
  get signatureSize(): number | undefined {
    return this.s.baseAsymAlgo === undefined ? undefined : asymInfo(this.s.baseAsymAlgo)?.sigSize;
  }

  /** Digest size of the negotiated MeasurementHashAlgo (undefined for raw bit stream only / none). */
  get measurementHashSize(): number | undefined {
    if (this.s.measurementHashAlgo === undefined) return undefined;
    const base = measurementHashToBaseHash(this.s.measurementHashAlgo);
    return base === undefined ? undefined : hashInfo(base)?.size;
  }

  reset(): void {
    this.s = initialState();
  }

  /**
   * Decodes one message. `bytes` is the transport payload (it may carry DOE padding). The state
   * only changes when the message decodes, so a failure leaves the decoder usable.
   */
  feed(direction: Direction, bytes: Uint8Array): DecodedMessage {
    const header = peekHeader(bytes);
    const name = codeName(header.code);
    const isRequest = isRequestCode(header.code);
    if (isRequest !== (direction === 'request')) {
      throw new DecodeError(name, 'RequestResponseCode', 1, `${isRequest ? 'a request' : 'a response'} code sent as a ${direction}`);
    }
    const decoded = this.decode(header, bytes);
    if (decoded.kind === 'other') {
      return { ...decoded, direction, trailing: bytes.subarray(bytes.length) };
    }
    const end = decoded.msg.raw.length;
    const trailing = bytes.subarray(end);
    if (trailing.length > MAX_TRAILING_PADDING) {
      throw new DecodeError(name, 'trailing', end, `${trailing.length} byte(s) after the end of the message (at most ${MAX_TRAILING_PADDING} of padding)`);
    }
    const nonZero = trailing.findIndex((b) => b !== 0);
    if (nonZero >= 0) {
      throw new DecodeError(name, 'trailing', end + nonZero, 'non-zero byte after the end of the message (padding must be zero)');
    }
    this.update(decoded);
    return { ...decoded, direction, trailing };
  }

  private need(value: number | undefined, messageName: string, field: string, what: string): number {
    if (value === undefined) throw new DecodeError(messageName, field, 4, `${what} unknown: no ALGORITHMS selecting a known algorithm seen`);
    return value;
  }

  private decode(header: Header, bytes: Uint8Array): DecodedSpdmMessage | OtherSpdmMessage {
    switch (header.code) {
      case RequestCode.GET_VERSION:
        return { kind: 'GET_VERSION', msg: decodeGetVersion(bytes) };
      case ResponseCode.VERSION:
        return { kind: 'VERSION', msg: decodeVersion(bytes) };
      case RequestCode.GET_CAPABILITIES:
        return { kind: 'GET_CAPABILITIES', msg: decodeGetCapabilities(bytes) };
      case ResponseCode.CAPABILITIES:
        return { kind: 'CAPABILITIES', msg: decodeCapabilities(bytes) };
      case RequestCode.NEGOTIATE_ALGORITHMS:
        return { kind: 'NEGOTIATE_ALGORITHMS', msg: decodeNegotiateAlgorithms(bytes) };
      case ResponseCode.ALGORITHMS:
        return { kind: 'ALGORITHMS', msg: decodeAlgorithms(bytes) };
      case RequestCode.GET_DIGESTS:
        return { kind: 'GET_DIGESTS', msg: decodeGetDigests(bytes) };
      case ResponseCode.DIGESTS: {
        const hashSize = this.need(this.hashSize, 'DIGESTS', 'Digest', 'BaseHashAlgo size');
        return { kind: 'DIGESTS', msg: decodeDigests(bytes, { hashSize, multiKeyConn: this.s.multiKeyConnRsp }) };
      }
      case RequestCode.GET_CERTIFICATE:
        return { kind: 'GET_CERTIFICATE', msg: decodeGetCertificate(bytes) };
      case ResponseCode.CERTIFICATE:
        return { kind: 'CERTIFICATE', msg: decodeCertificate(bytes) };
      case RequestCode.CHALLENGE:
        return { kind: 'CHALLENGE', msg: decodeChallenge(bytes) };
      case ResponseCode.CHALLENGE_AUTH: {
        const hashSize = this.need(this.hashSize, 'CHALLENGE_AUTH', 'CertChainHash', 'BaseHashAlgo size');
        const signatureSize = this.need(this.signatureSize, 'CHALLENGE_AUTH', 'Signature', 'BaseAsymAlgo signature size');
        // libspdm (libspdm_get_measurement_summary_hash_size): no summary hash from a responder
        // without MEAS_CAP, whatever the CHALLENGE asked.
        const measCap = this.s.responderFlags === undefined || (this.s.responderFlags & MEAS_CAP_MASK) !== 0;
        const measurementSummaryHashRequested = this.s.measurementSummaryHashRequested && measCap;
        return { kind: 'CHALLENGE_AUTH', msg: decodeChallengeAuth(bytes, { hashSize, signatureSize, measurementSummaryHashRequested }) };
      }
      case RequestCode.GET_MEASUREMENTS:
        return { kind: 'GET_MEASUREMENTS', msg: decodeGetMeasurements(bytes) };
      case ResponseCode.MEASUREMENTS: {
        const signatureRequested = this.s.measurementSignatureRequested;
        const signatureSize = signatureRequested ? this.need(this.signatureSize, 'MEASUREMENTS', 'Signature', 'BaseAsymAlgo signature size') : 0;
        const msg = decodeMeasurements(bytes, { signatureRequested, signatureSize });
        this.checkDigestSizes(msg, bytes);
        return { kind: 'MEASUREMENTS', msg };
      }
      case ResponseCode.ERROR:
        return { kind: 'ERROR', msg: decodeError(bytes) };
      case RequestCode.RESPOND_IF_READY:
        return { kind: 'RESPOND_IF_READY', msg: decodeRespondIfReady(bytes) };
      default:
        return { kind: 'other', header, name: codeName(header.code), body: bytes.subarray(4), raw: bytes };
    }
  }

  /** A DMTF digest measurement must be exactly one MeasurementHashAlgo digest long. */
  private checkDigestSizes(msg: MeasurementsResponse, bytes: Uint8Array): void {
    const size = this.measurementHashSize;
    if (size === undefined) return;
    msg.blocks.forEach((b, i) => {
      if (b.dmtf && !b.dmtf.raw && b.dmtf.value.length !== size) {
        const at = b.bytes.byteOffset - bytes.byteOffset + 5;
        throw new DecodeError(
          'MEASUREMENTS',
          `MeasurementRecord.Block[${i}].DMTFSpecMeasurementValueSize`,
          at,
          `digest of ${b.dmtf.value.length} byte(s), MeasurementHashAlgo ${hex(this.s.measurementHashAlgo ?? 0)} digests are ${size}`,
        );
      }
    });
  }

  private update(d: DecodedSpdmMessage): void {
    const s = this.s;
    switch (d.kind) {
      case 'GET_VERSION':
        this.s = initialState();
        return;
      case 'VERSION':
        s.versionEntries = d.msg.entries;
        return;
      case 'GET_CAPABILITIES':
        s.version = d.msg.version;
        s.requesterFlags = d.msg.flags;
        return;
      case 'CAPABILITIES':
        s.version ??= d.msg.version;
        s.responderFlags = d.msg.flags;
        return;
      case 'NEGOTIATE_ALGORITHMS':
        s.multiKeyConnRsp = d.msg.version >= 0x13 && (d.msg.otherParams & OtherParams.MULTI_KEY_CONN) !== 0;
        return;
      case 'ALGORITHMS':
        s.baseHashAlgo = d.msg.baseHash;
        s.baseAsymAlgo = d.msg.baseAsym;
        s.pqcAsymAlgo = d.msg.pqcAsym;
        s.measurementHashAlgo = d.msg.measurementHash;
        s.otherParamsSelection = d.msg.otherParams;
        s.multiKeyConnReq = d.msg.version >= 0x13 && (d.msg.otherParams & OtherParams.MULTI_KEY_CONN) !== 0;
        return;
      case 'CHALLENGE':
        s.measurementSummaryHashRequested = d.msg.measurementSummaryHashType !== 0;
        return;
      case 'GET_MEASUREMENTS':
        s.measurementSignatureRequested = d.msg.signatureRequested;
        return;
      default:
        return;
    }
  }
}
