/**
 * Stateful decoding of a whole SPDM conversation (capture decoding, `spdm dump`).
 *
 * Many SPDM messages cannot be decoded on their own. From the negotiation: the hash size H
 * (DIGESTS, CHALLENGE_AUTH, session messages), the responder's signature size (BaseAsymAlgo or
 * the 1.4 PQC selection), the requester's (ALGORITHMS AlgStruct 4 ReqBaseAsymAlg, or AlgStruct 6)
 * for FINISH and for the requester's answers in encapsulated flows, the DHE ExchangeData size
 * (AlgStruct 2; 1.4 ML-KEM AlgStruct 7), whether both sides set HANDSHAKE_IN_THE_CLEAR_CAP
 * (ResponderVerifyData sits in FINISH_RSP instead of KEY_EXCHANGE_RSP) and whether multi-key
 * DIGESTS were negotiated. From the previous request: whether CHALLENGE / KEY_EXCHANGE /
 * PSK_EXCHANGE asked for a measurement summary hash, whether GET_MEASUREMENTS /
 * GET_ENDPOINT_INFO asked for a signature. `ConversationDecoder` feeds every message, in order,
 * to the codec for its code and remembers what the later ones need. GET_VERSION resets that
 * state, as it resets the connection.
 *
 * Nested messages are decoded too: the request inside ENCAPSULATED_REQUEST /
 * ENCAPSULATED_RESPONSE_ACK and the requester's response inside DELIVER_ENCAPSULATED_RESPONSE
 * (roles reversed: requester-side signature size, the requester's multi-key DIGESTS, no
 * measurement summary hash from a requester), the response carried by CHUNK_SEND_ACK, and the
 * large message reassembled from CHUNK_SEND / CHUNK_RESPONSE chunks (returned as `large` with
 * the last chunk).
 *
 * The transport payload may be longer than the SPDM message: PCIe DOE carries whole dwords, so a
 * message is followed by up to 3 zero bytes. The true end comes from the message's own fields;
 * the bytes after it are returned as `trailing` (never part of `msg.raw`, which is what enters
 * transcripts and signatures). Anything else after the end is a DecodeError.
 *
 * Codes without a codec (SLOT_MANAGEMENT, whose 1.4 layout is not in shared/spec, and unknown
 * codes) come back as `kind: 'other'` with the header decoded; their true length is unknown, so
 * `body` is everything after the header, padding included, and `trailing` is empty.
 */
import { MAX_TRANSPORT_PADDING } from './trailing.js';
import { advanceChunks, ChunkBuffers, type ChunkAssembly } from './chunk-assembly.js';
import { DecodeError } from '../wire/errors.js';
import { hashInfo, measurementHashToBaseHash } from '../crypto/algorithms.js';
import { codeName, isRequestCode, RequestCode, ResponseCode } from './codes.js';
import { peekHeader, type Header } from './header.js';
import { exchangeDataSizes, signatureSizeOf } from './sizes.js';
import { decodeGetVersion, decodeVersion, type GetVersionRequest, type VersionNumber, type VersionResponse } from './messages/version.js';
import {
  CapabilityFlag,
  decodeCapabilities,
  decodeGetCapabilities,
  MEAS_CAP_MASK,
  type CapabilitiesResponse,
  type GetCapabilitiesRequest,
} from './messages/capabilities.js';
import {
  AlgType,
  algStructValue,
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
import { wrapLargeMessageError, type NestedDecoder } from './messages/common.js';
import { decodeKeyExchange, decodeKeyExchangeRsp, type KeyExchangeRequest, type KeyExchangeResponse } from './messages/key-exchange.js';
import { decodeFinish, decodeFinishRsp, type FinishRequest, type FinishResponse } from './messages/finish.js';
import {
  decodePskExchange,
  decodePskExchangeRsp,
  decodePskFinish,
  decodePskFinishRsp,
  type PskExchangeRequest,
  type PskExchangeResponse,
  type PskFinishRequest,
  type PskFinishResponse,
} from './messages/psk.js';
import {
  decodeDeliverEncapsulatedResponse,
  decodeEncapsulatedRequest,
  decodeEncapsulatedResponseAck,
  decodeGetEncapsulatedRequest,
  type DeliverEncapsulatedResponseRequest,
  type EncapsulatedRequestResponse,
  type EncapsulatedResponseAckResponse,
  type GetEncapsulatedRequestRequest,
} from './messages/encapsulated.js';
import { decodeCsr, decodeGetCsr, type CsrResponse, type GetCsrRequest } from './messages/csr.js';
import {
  decodeSetCertificate,
  decodeSetCertificateRsp,
  type SetCertificateRequest,
  type SetCertificateResponse,
} from './messages/set-certificate.js';
import {
  decodeEndpointInfo,
  decodeGetEndpointInfo,
  type EndpointInfoResponse,
  type GetEndpointInfoRequest,
} from './messages/endpoint-info.js';
import {
  decodeGetKeyPairInfo,
  decodeKeyPairInfo,
  decodeSetKeyPairInfo,
  decodeSetKeyPairInfoAck,
  type GetKeyPairInfoRequest,
  type KeyPairInfoResponse,
  type SetKeyPairInfoAckResponse,
  type SetKeyPairInfoRequest,
} from './messages/key-pair-info.js';
import {
  decodeGetMeasurementExtensionLog,
  decodeMeasurementExtensionLog,
  type GetMeasurementExtensionLogRequest,
  type MeasurementExtensionLogResponse,
} from './messages/mel.js';
import { decodeHeartbeat, decodeHeartbeatAck, type HeartbeatAckResponse, type HeartbeatRequest } from './messages/heartbeat.js';
import { decodeKeyUpdate, decodeKeyUpdateAck, type KeyUpdateMessage } from './messages/key-update.js';
import { decodeEndSession, decodeEndSessionAck, type EndSessionAckResponse, type EndSessionRequest } from './messages/end-session.js';
import {
  decodeChunkGet,
  decodeChunkResponse,
  decodeChunkSend,
  decodeChunkSendAck,
  type ChunkGetRequest,
  type ChunkMessage,
  type ChunkResponseResponse,
  type ChunkSendAckResponse,
  type ChunkSendRequest,
} from './messages/chunk.js';
import {
  decodeVendorDefinedRequest,
  decodeVendorDefinedResponse,
  type VendorDefinedRequest,
  type VendorDefinedResponse,
} from './messages/vendor-defined.js';
import {
  decodeEventAck,
  decodeGetSupportedEventTypes,
  decodeSendEvent,
  decodeSubscribeEventTypes,
  decodeSubscribeEventTypesAck,
  decodeSupportedEventTypes,
  type EventAckResponse,
  type GetSupportedEventTypesRequest,
  type SendEventRequest,
  type SubscribeEventTypesAckResponse,
  type SubscribeEventTypesRequest,
  type SupportedEventTypesResponse,
} from './messages/events.js';

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
  | { readonly kind: 'RESPOND_IF_READY'; readonly msg: RespondIfReadyRequest }
  | { readonly kind: 'KEY_EXCHANGE'; readonly msg: KeyExchangeRequest }
  | { readonly kind: 'KEY_EXCHANGE_RSP'; readonly msg: KeyExchangeResponse }
  | { readonly kind: 'FINISH'; readonly msg: FinishRequest }
  | { readonly kind: 'FINISH_RSP'; readonly msg: FinishResponse }
  | { readonly kind: 'PSK_EXCHANGE'; readonly msg: PskExchangeRequest }
  | { readonly kind: 'PSK_EXCHANGE_RSP'; readonly msg: PskExchangeResponse }
  | { readonly kind: 'PSK_FINISH'; readonly msg: PskFinishRequest }
  | { readonly kind: 'PSK_FINISH_RSP'; readonly msg: PskFinishResponse }
  | { readonly kind: 'HEARTBEAT'; readonly msg: HeartbeatRequest }
  | { readonly kind: 'HEARTBEAT_ACK'; readonly msg: HeartbeatAckResponse }
  | { readonly kind: 'KEY_UPDATE'; readonly msg: KeyUpdateMessage }
  | { readonly kind: 'KEY_UPDATE_ACK'; readonly msg: KeyUpdateMessage }
  | { readonly kind: 'GET_ENCAPSULATED_REQUEST'; readonly msg: GetEncapsulatedRequestRequest }
  | { readonly kind: 'ENCAPSULATED_REQUEST'; readonly msg: EncapsulatedRequestResponse<DecodedSpdmMessage> }
  | { readonly kind: 'DELIVER_ENCAPSULATED_RESPONSE'; readonly msg: DeliverEncapsulatedResponseRequest<DecodedSpdmMessage> }
  | { readonly kind: 'ENCAPSULATED_RESPONSE_ACK'; readonly msg: EncapsulatedResponseAckResponse<DecodedSpdmMessage> }
  | { readonly kind: 'END_SESSION'; readonly msg: EndSessionRequest }
  | { readonly kind: 'END_SESSION_ACK'; readonly msg: EndSessionAckResponse }
  | { readonly kind: 'GET_CSR'; readonly msg: GetCsrRequest }
  | { readonly kind: 'CSR'; readonly msg: CsrResponse }
  | { readonly kind: 'SET_CERTIFICATE'; readonly msg: SetCertificateRequest }
  | { readonly kind: 'SET_CERTIFICATE_RSP'; readonly msg: SetCertificateResponse }
  | { readonly kind: 'GET_ENDPOINT_INFO'; readonly msg: GetEndpointInfoRequest }
  | { readonly kind: 'ENDPOINT_INFO'; readonly msg: EndpointInfoResponse }
  | { readonly kind: 'GET_KEY_PAIR_INFO'; readonly msg: GetKeyPairInfoRequest }
  | { readonly kind: 'KEY_PAIR_INFO'; readonly msg: KeyPairInfoResponse }
  | { readonly kind: 'SET_KEY_PAIR_INFO'; readonly msg: SetKeyPairInfoRequest }
  | { readonly kind: 'SET_KEY_PAIR_INFO_ACK'; readonly msg: SetKeyPairInfoAckResponse }
  | { readonly kind: 'GET_MEASUREMENT_EXTENSION_LOG'; readonly msg: GetMeasurementExtensionLogRequest }
  | { readonly kind: 'MEASUREMENT_EXTENSION_LOG'; readonly msg: MeasurementExtensionLogResponse }
  /** `large`: with the last chunk, the reassembled large request, decoded. */
  | { readonly kind: 'CHUNK_SEND'; readonly msg: ChunkSendRequest; readonly large?: DecodedSpdmMessage }
  | { readonly kind: 'CHUNK_SEND_ACK'; readonly msg: ChunkSendAckResponse<DecodedSpdmMessage> }
  | { readonly kind: 'CHUNK_GET'; readonly msg: ChunkGetRequest }
  /** `large`: with the last chunk, the reassembled large response, decoded. */
  | { readonly kind: 'CHUNK_RESPONSE'; readonly msg: ChunkResponseResponse; readonly large?: DecodedSpdmMessage }
  | { readonly kind: 'VENDOR_DEFINED_REQUEST'; readonly msg: VendorDefinedRequest }
  | { readonly kind: 'VENDOR_DEFINED_RESPONSE'; readonly msg: VendorDefinedResponse }
  | { readonly kind: 'GET_SUPPORTED_EVENT_TYPES'; readonly msg: GetSupportedEventTypesRequest }
  | { readonly kind: 'SUPPORTED_EVENT_TYPES'; readonly msg: SupportedEventTypesResponse }
  | { readonly kind: 'SUBSCRIBE_EVENT_TYPES'; readonly msg: SubscribeEventTypesRequest }
  | { readonly kind: 'SUBSCRIBE_EVENT_TYPES_ACK'; readonly msg: SubscribeEventTypesAckResponse }
  | { readonly kind: 'SEND_EVENT'; readonly msg: SendEventRequest }
  | { readonly kind: 'EVENT_ACK'; readonly msg: EventAckResponse };

/** A message this library cannot decode: header only. */
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
  /** Set when the message decoded but something about its framing is irregular. */
  readonly anomaly?: string;
};

export type DecodedKind = DecodedSpdmMessage['kind'];

const KINDS: readonly DecodedKind[] = [
  'GET_VERSION', 'VERSION', 'GET_CAPABILITIES', 'CAPABILITIES', 'NEGOTIATE_ALGORITHMS', 'ALGORITHMS',
  'GET_DIGESTS', 'DIGESTS', 'GET_CERTIFICATE', 'CERTIFICATE', 'CHALLENGE', 'CHALLENGE_AUTH',
  'GET_MEASUREMENTS', 'MEASUREMENTS', 'ERROR', 'RESPOND_IF_READY',
  'KEY_EXCHANGE', 'KEY_EXCHANGE_RSP', 'FINISH', 'FINISH_RSP', 'PSK_EXCHANGE', 'PSK_EXCHANGE_RSP', 'PSK_FINISH', 'PSK_FINISH_RSP',
  'HEARTBEAT', 'HEARTBEAT_ACK', 'KEY_UPDATE', 'KEY_UPDATE_ACK', 'END_SESSION', 'END_SESSION_ACK',
  'GET_ENCAPSULATED_REQUEST', 'ENCAPSULATED_REQUEST', 'DELIVER_ENCAPSULATED_RESPONSE', 'ENCAPSULATED_RESPONSE_ACK',
  'GET_CSR', 'CSR', 'SET_CERTIFICATE', 'SET_CERTIFICATE_RSP', 'GET_ENDPOINT_INFO', 'ENDPOINT_INFO',
  'GET_KEY_PAIR_INFO', 'KEY_PAIR_INFO', 'SET_KEY_PAIR_INFO', 'SET_KEY_PAIR_INFO_ACK',
  'GET_MEASUREMENT_EXTENSION_LOG', 'MEASUREMENT_EXTENSION_LOG',
  'CHUNK_SEND', 'CHUNK_SEND_ACK', 'CHUNK_GET', 'CHUNK_RESPONSE', 'VENDOR_DEFINED_REQUEST', 'VENDOR_DEFINED_RESPONSE',
  'GET_SUPPORTED_EVENT_TYPES', 'SUPPORTED_EVENT_TYPES', 'SUBSCRIBE_EVENT_TYPES', 'SUBSCRIBE_EVENT_TYPES_ACK', 'SEND_EVENT', 'EVENT_ACK',
];

const CODES: Readonly<Record<string, number>> = { ...RequestCode, ...ResponseCode };

/** Request/response codes that decode to a kind other than 'other' (every kind is named after its code). */
export const DECODED_CODES: ReadonlyMap<number, DecodedKind> = new Map<number, DecodedKind>(
  KINDS.map((k) => {
    const code = CODES[k];
    if (code === undefined) throw new Error(`no code for ${k}`);
    return [code, k];
  }),
);

/** Requests the responder may send inside ENCAPSULATED_REQUEST / ENCAPSULATED_RESPONSE_ACK. */
export const ENCAPSULATED_REQUEST_CODES: ReadonlySet<number> = new Set([
  RequestCode.GET_DIGESTS,
  RequestCode.GET_CERTIFICATE,
  RequestCode.CHALLENGE,
  RequestCode.KEY_UPDATE,
  RequestCode.GET_ENDPOINT_INFO,
  RequestCode.SEND_EVENT,
  RequestCode.GET_SUPPORTED_EVENT_TYPES,
  RequestCode.SUBSCRIBE_EVENT_TYPES,
  RequestCode.VENDOR_DEFINED_REQUEST,
]);

/** Responses the requester may deliver inside DELIVER_ENCAPSULATED_RESPONSE. */
export const ENCAPSULATED_RESPONSE_CODES: ReadonlySet<number> = new Set([
  ResponseCode.DIGESTS,
  ResponseCode.CERTIFICATE,
  ResponseCode.CHALLENGE_AUTH,
  ResponseCode.KEY_UPDATE_ACK,
  ResponseCode.ENDPOINT_INFO,
  ResponseCode.EVENT_ACK,
  ResponseCode.SUPPORTED_EVENT_TYPES,
  ResponseCode.SUBSCRIBE_EVENT_TYPES_ACK,
  ResponseCode.VENDOR_DEFINED_RESPONSE,
  ResponseCode.ERROR,
]);

const CHUNK_CODES: ReadonlySet<number> = new Set([RequestCode.CHUNK_SEND, RequestCode.CHUNK_GET, ResponseCode.CHUNK_SEND_ACK, ResponseCode.CHUNK_RESPONSE]);

/** Most bytes a transport may add after a message (DOE pads to a dword). */
export const MAX_TRAILING_PADDING = MAX_TRANSPORT_PADDING;

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
  /** AlgStruct 2 (DHE group), 0 when none was selected. */
  readonly dheGroup?: number;
  /** 1.4 AlgStruct 7 (KEM). */
  readonly kemAlgo?: number;
  /** AlgStruct 4: the requester's signing algorithm (FINISH, encapsulated CHALLENGE_AUTH...). */
  readonly reqBaseAsymAlgo?: number;
  /** 1.4 AlgStruct 6. */
  readonly reqPqcAsymAlgo?: number;
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
  /** MeasurementSummaryHashType (Param1) of the last KEY_EXCHANGE. */
  readonly keyExchangeSummaryHashType: number;
  /** MeasurementSummaryHashType (Param1) of the last PSK_EXCHANGE. */
  readonly pskExchangeSummaryHashType: number;
  /** The last FINISH carried the requester's signature (Param1 bit 0: mutual authentication). */
  readonly finishSignatureIncluded: boolean;
  /** The last GET_ENDPOINT_INFO asked for a signature. */
  readonly endpointInfoSignatureRequested: boolean;
  /** The last *encapsulated* GET_ENDPOINT_INFO (responder to requester) asked for a signature. */
  readonly encapEndpointInfoSignatureRequested: boolean;
  /** RequestID of the last encapsulated request seen (ENCAPSULATED_REQUEST / _RESPONSE_ACK Param1). */
  readonly encapRequestId?: number;
  /** CHUNK_SEND reassembly in progress. */
  readonly chunkSend?: ChunkAssembly;
  /** CHUNK_RESPONSE reassembly in progress. */
  readonly chunkResponse?: ChunkAssembly;
}

type MutableState = { -readonly [K in keyof ConversationState]: ConversationState[K] };

function initialState(): MutableState {
  return {
    multiKeyConnRsp: false,
    multiKeyConnReq: false,
    measurementSummaryHashRequested: false,
    measurementSignatureRequested: false,
    keyExchangeSummaryHashType: 0,
    pskExchangeSummaryHashType: 0,
    finishSignatureIncluded: false,
    endpointInfoSignatureRequested: false,
    encapEndpointInfoSignatureRequested: false,
  };
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/**
 * Who asks whom: 'main' is the normal flow (requester asks, responder answers); 'encap' is a
 * message nested in an encapsulated flow, where the responder asks and the requester answers.
 */
type Role = 'main' | 'encap';

export type { ChunkAssembly } from './chunk-assembly.js';

export class ConversationDecoder {
  private s: MutableState;
  /** Reassembly buffers this decoder may extend in place (chunk-assembly.ts). */
  private readonly chunkBuffers = new ChunkBuffers();
  /** The chunk decode() just advanced, so that update() stores the result instead of copying the chunk again. */
  private advanced: { readonly msg: ChunkMessage; readonly assembly: ChunkAssembly | undefined } | undefined;

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

  /** The responder's signature size: BaseAsymAlgo, or the 1.4 PQC selection when there is one. */
  get signatureSize(): number | undefined {
    return signatureSizeOf(this.s.baseAsymAlgo, this.s.pqcAsymAlgo);
  }

  /** The requester's signature size: ReqBaseAsymAlg (AlgStruct 4), or the 1.4 ReqPqcAsymAlg (AlgStruct 6). */
  get requesterSignatureSize(): number | undefined {
    return signatureSizeOf(this.s.reqBaseAsymAlgo, this.s.reqPqcAsymAlgo);
  }

  /** ExchangeData sizes of KEY_EXCHANGE / KEY_EXCHANGE_RSP (DHE group, or 1.4 ML-KEM). */
  get exchangeDataSizes(): { readonly request: number; readonly response: number } | undefined {
    return exchangeDataSizes(this.s.dheGroup, this.s.kemAlgo);
  }

  /** Both sides set HANDSHAKE_IN_THE_CLEAR_CAP (flag bit 15). */
  get handshakeInTheClear(): boolean {
    const f = CapabilityFlag.HANDSHAKE_IN_THE_CLEAR;
    return ((this.s.requesterFlags ?? 0) & f) !== 0 && ((this.s.responderFlags ?? 0) & f) !== 0;
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
    const decoded = this.decode(header, bytes, 'main');
    if (decoded.kind === 'other') {
      return { ...decoded, direction, trailing: bytes.subarray(bytes.length) };
    }
    const end = decoded.msg.raw.length;
    const trailing = bytes.subarray(end);
    const nonZero = trailing.findIndex((b) => b !== 0);
    if (nonZero >= 0) {
      throw new DecodeError(name, 'trailing', end + nonZero, 'non-zero byte after the end of the message (padding must be zero)');
    }
    this.update(decoded, 'main');
    // More zeros than dword padding explains: the message itself is intact, but its sender
    // over-reported its size (libspdm 1e16c60 does so for 1.4 KEY_PAIR_INFO). An observer reports
    // it; a requester, which must not accept it, refuses such responses (spdm/trailing.ts).
    if (trailing.length > MAX_TRAILING_PADDING) {
      return { ...decoded, direction, trailing, anomaly: `${trailing.length} zero byte(s) after the end of the message, more than transport padding` };
    }
    return { ...decoded, direction, trailing };
  }

  private need(value: number | undefined, messageName: string, field: string, what: string): number {
    if (value === undefined) throw new DecodeError(messageName, field, 4, `${what} unknown: no ALGORITHMS selecting a known algorithm seen`);
    return value;
  }

  /** libspdm (libspdm_get_measurement_summary_hash_size): no summary hash from a responder without MEAS_CAP. */
  private summaryHashPresent(type: number): boolean {
    const measCap = this.s.responderFlags === undefined || (this.s.responderFlags & MEAS_CAP_MASK) !== 0;
    return type !== 0 && measCap;
  }

  /**
   * A decoder for the message nested in `outer`: it must be a `direction` message allowed there
   * (`allowed`), of the outer message's version, and is decoded in `role`.
   */
  private nested(outer: string, version: number, direction: Direction, role: Role, allowed: (code: number) => boolean): NestedDecoder<DecodedSpdmMessage> {
    return (payload) => {
      const h = peekHeader(payload);
      const name = codeName(h.code);
      if (isRequestCode(h.code) !== (direction === 'request') || !allowed(h.code) || !DECODED_CODES.has(h.code)) {
        throw new DecodeError(name, 'RequestResponseCode', 1, `${name} cannot be carried in ${outer}`);
      }
      if (h.version !== version) {
        throw new DecodeError(name, 'SPDMVersion', 0, `version ${hex(h.version)} inside a ${hex(version)} ${outer}`);
      }
      const d = this.decode(h, payload, role);
      if (d.kind === 'other') throw new DecodeError(name, 'RequestResponseCode', 1, `${name} has no codec`);
      return { value: d, raw: d.msg.raw };
    };
  }

  /** Decodes the large message reassembled from chunks; it must use every byte. */
  private decodeLarge(outer: string, version: number, direction: Direction, bytes: Uint8Array): DecodedSpdmMessage {
    try {
      const { value, raw } = this.nested(outer, version, direction, 'main', (c) => !CHUNK_CODES.has(c))(bytes);
      if (raw.length !== bytes.length) {
        throw new DecodeError(codeName(bytes[1] ?? 0), 'LargeMessageSize', raw.length, `${bytes.length - raw.length} byte(s) after the end of the large message`);
      }
      return value;
    } catch (e) {
      return wrapLargeMessageError(e, outer);
    }
  }

  private decode(header: Header, bytes: Uint8Array, role: Role): DecodedSpdmMessage | OtherSpdmMessage {
    const s = this.s;
    const main = role === 'main';
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
        return { kind: 'DIGESTS', msg: decodeDigests(bytes, { hashSize, multiKeyConn: main ? s.multiKeyConnRsp : s.multiKeyConnReq }) };
      }
      case RequestCode.GET_CERTIFICATE:
        return { kind: 'GET_CERTIFICATE', msg: decodeGetCertificate(bytes) };
      case ResponseCode.CERTIFICATE:
        return { kind: 'CERTIFICATE', msg: decodeCertificate(bytes) };
      case RequestCode.CHALLENGE:
        return { kind: 'CHALLENGE', msg: decodeChallenge(bytes) };
      case ResponseCode.CHALLENGE_AUTH: {
        const hashSize = this.need(this.hashSize, 'CHALLENGE_AUTH', 'CertChainHash', 'BaseHashAlgo size');
        const signatureSize = main
          ? this.need(this.signatureSize, 'CHALLENGE_AUTH', 'Signature', 'BaseAsymAlgo signature size')
          : this.need(this.requesterSignatureSize, 'CHALLENGE_AUTH', 'Signature', 'ReqBaseAsymAlg signature size');
        // A requester has no MEAS_CAP: its (encapsulated) CHALLENGE_AUTH never has a summary hash
        // (libspdm_get_encap_response_challenge_auth rejects a CHALLENGE asking for one).
        const measurementSummaryHashRequested = main && s.measurementSummaryHashRequested && this.summaryHashPresent(1);
        return { kind: 'CHALLENGE_AUTH', msg: decodeChallengeAuth(bytes, { hashSize, signatureSize, measurementSummaryHashRequested }) };
      }
      case RequestCode.GET_MEASUREMENTS:
        return { kind: 'GET_MEASUREMENTS', msg: decodeGetMeasurements(bytes) };
      case ResponseCode.MEASUREMENTS: {
        const signatureRequested = s.measurementSignatureRequested;
        const signatureSize = signatureRequested ? this.need(this.signatureSize, 'MEASUREMENTS', 'Signature', 'BaseAsymAlgo signature size') : 0;
        const msg = decodeMeasurements(bytes, { signatureRequested, signatureSize });
        this.checkDigestSizes(msg, bytes);
        return { kind: 'MEASUREMENTS', msg };
      }
      case ResponseCode.ERROR:
        return { kind: 'ERROR', msg: decodeError(bytes) };
      case RequestCode.RESPOND_IF_READY:
        return { kind: 'RESPOND_IF_READY', msg: decodeRespondIfReady(bytes) };

      // ---------------------------------------------------------------- sessions
      case RequestCode.KEY_EXCHANGE: {
        const sizes = this.exchangeDataSizes;
        if (!sizes) throw new DecodeError('KEY_EXCHANGE', 'ExchangeData', 40, 'DHE group / KEM unknown: no ALGORITHMS selecting a known one seen');
        return { kind: 'KEY_EXCHANGE', msg: decodeKeyExchange(bytes, { exchangeDataSize: sizes.request }) };
      }
      case ResponseCode.KEY_EXCHANGE_RSP: {
        const sizes = this.exchangeDataSizes;
        if (!sizes) throw new DecodeError('KEY_EXCHANGE_RSP', 'ExchangeData', 40, 'DHE group / KEM unknown: no ALGORITHMS selecting a known one seen');
        const hashSize = this.need(this.hashSize, 'KEY_EXCHANGE_RSP', 'MeasurementSummaryHash', 'BaseHashAlgo size');
        const signatureSize = this.need(this.signatureSize, 'KEY_EXCHANGE_RSP', 'Signature', 'BaseAsymAlgo signature size');
        return {
          kind: 'KEY_EXCHANGE_RSP',
          msg: decodeKeyExchangeRsp(bytes, {
            hashSize,
            signatureSize,
            exchangeDataSize: sizes.response,
            measurementSummaryHashPresent: this.summaryHashPresent(s.keyExchangeSummaryHashType),
            handshakeInTheClear: this.handshakeInTheClear,
          }),
        };
      }
      case RequestCode.FINISH: {
        const hashSize = this.need(this.hashSize, 'FINISH', 'RequesterVerifyData', 'BaseHashAlgo size');
        const requesterSignatureSize = this.requesterSignatureSize;
        return { kind: 'FINISH', msg: decodeFinish(bytes, { hashSize, ...(requesterSignatureSize !== undefined ? { requesterSignatureSize } : {}) }) };
      }
      case ResponseCode.FINISH_RSP: {
        const hashSize = this.need(this.hashSize, 'FINISH_RSP', 'ResponderVerifyData', 'BaseHashAlgo size');
        return { kind: 'FINISH_RSP', msg: decodeFinishRsp(bytes, { hashSize, handshakeInTheClear: this.handshakeInTheClear }) };
      }
      case RequestCode.PSK_EXCHANGE:
        return { kind: 'PSK_EXCHANGE', msg: decodePskExchange(bytes) };
      case ResponseCode.PSK_EXCHANGE_RSP: {
        const hashSize = this.need(this.hashSize, 'PSK_EXCHANGE_RSP', 'ResponderVerifyData', 'BaseHashAlgo size');
        const measurementSummaryHashPresent = this.summaryHashPresent(s.pskExchangeSummaryHashType);
        return { kind: 'PSK_EXCHANGE_RSP', msg: decodePskExchangeRsp(bytes, { hashSize, measurementSummaryHashPresent }) };
      }
      case RequestCode.PSK_FINISH: {
        const hashSize = this.need(this.hashSize, 'PSK_FINISH', 'RequesterVerifyData', 'BaseHashAlgo size');
        return { kind: 'PSK_FINISH', msg: decodePskFinish(bytes, { hashSize }) };
      }
      case ResponseCode.PSK_FINISH_RSP:
        return { kind: 'PSK_FINISH_RSP', msg: decodePskFinishRsp(bytes) };
      case RequestCode.HEARTBEAT:
        return { kind: 'HEARTBEAT', msg: decodeHeartbeat(bytes) };
      case ResponseCode.HEARTBEAT_ACK:
        return { kind: 'HEARTBEAT_ACK', msg: decodeHeartbeatAck(bytes) };
      case RequestCode.KEY_UPDATE:
        return { kind: 'KEY_UPDATE', msg: decodeKeyUpdate(bytes) };
      case ResponseCode.KEY_UPDATE_ACK:
        return { kind: 'KEY_UPDATE_ACK', msg: decodeKeyUpdateAck(bytes) };
      case RequestCode.END_SESSION:
        return { kind: 'END_SESSION', msg: decodeEndSession(bytes) };
      case ResponseCode.END_SESSION_ACK:
        return { kind: 'END_SESSION_ACK', msg: decodeEndSessionAck(bytes) };

      // ---------------------------------------------------------------- encapsulated requests
      case RequestCode.GET_ENCAPSULATED_REQUEST:
        return { kind: 'GET_ENCAPSULATED_REQUEST', msg: decodeGetEncapsulatedRequest(bytes) };
      case ResponseCode.ENCAPSULATED_REQUEST: {
        const inner = this.nested('ENCAPSULATED_REQUEST', header.version, 'request', 'encap', (c) => ENCAPSULATED_REQUEST_CODES.has(c));
        return { kind: 'ENCAPSULATED_REQUEST', msg: decodeEncapsulatedRequest(bytes, inner) };
      }
      case RequestCode.DELIVER_ENCAPSULATED_RESPONSE: {
        const inner = this.nested('DELIVER_ENCAPSULATED_RESPONSE', header.version, 'response', 'encap', (c) => ENCAPSULATED_RESPONSE_CODES.has(c));
        return { kind: 'DELIVER_ENCAPSULATED_RESPONSE', msg: decodeDeliverEncapsulatedResponse(bytes, inner) };
      }
      case ResponseCode.ENCAPSULATED_RESPONSE_ACK: {
        const inner = this.nested('ENCAPSULATED_RESPONSE_ACK', header.version, 'request', 'encap', (c) => ENCAPSULATED_REQUEST_CODES.has(c));
        return { kind: 'ENCAPSULATED_RESPONSE_ACK', msg: decodeEncapsulatedResponseAck(bytes, inner) };
      }

      // ---------------------------------------------------------------- provisioning, 1.3 additions
      case RequestCode.GET_CSR:
        return { kind: 'GET_CSR', msg: decodeGetCsr(bytes) };
      case ResponseCode.CSR:
        return { kind: 'CSR', msg: decodeCsr(bytes) };
      case RequestCode.SET_CERTIFICATE:
        return { kind: 'SET_CERTIFICATE', msg: decodeSetCertificate(bytes) };
      case ResponseCode.SET_CERTIFICATE_RSP:
        return { kind: 'SET_CERTIFICATE_RSP', msg: decodeSetCertificateRsp(bytes) };
      case RequestCode.GET_ENDPOINT_INFO:
        return { kind: 'GET_ENDPOINT_INFO', msg: decodeGetEndpointInfo(bytes) };
      case ResponseCode.ENDPOINT_INFO: {
        const signatureRequested = main ? s.endpointInfoSignatureRequested : s.encapEndpointInfoSignatureRequested;
        const size = main ? this.signatureSize : this.requesterSignatureSize;
        const signatureSize = signatureRequested ? this.need(size, 'ENDPOINT_INFO', 'Signature', main ? 'BaseAsymAlgo signature size' : 'ReqBaseAsymAlg signature size') : 0;
        return { kind: 'ENDPOINT_INFO', msg: decodeEndpointInfo(bytes, { signatureRequested, signatureSize }) };
      }
      case RequestCode.GET_KEY_PAIR_INFO:
        return { kind: 'GET_KEY_PAIR_INFO', msg: decodeGetKeyPairInfo(bytes) };
      case ResponseCode.KEY_PAIR_INFO:
        return { kind: 'KEY_PAIR_INFO', msg: decodeKeyPairInfo(bytes) };
      case RequestCode.SET_KEY_PAIR_INFO:
        return { kind: 'SET_KEY_PAIR_INFO', msg: decodeSetKeyPairInfo(bytes) };
      case ResponseCode.SET_KEY_PAIR_INFO_ACK:
        return { kind: 'SET_KEY_PAIR_INFO_ACK', msg: decodeSetKeyPairInfoAck(bytes) };
      case RequestCode.GET_MEASUREMENT_EXTENSION_LOG:
        return { kind: 'GET_MEASUREMENT_EXTENSION_LOG', msg: decodeGetMeasurementExtensionLog(bytes) };
      case ResponseCode.MEASUREMENT_EXTENSION_LOG:
        return { kind: 'MEASUREMENT_EXTENSION_LOG', msg: decodeMeasurementExtensionLog(bytes) };
      case RequestCode.GET_SUPPORTED_EVENT_TYPES:
        return { kind: 'GET_SUPPORTED_EVENT_TYPES', msg: decodeGetSupportedEventTypes(bytes) };
      case ResponseCode.SUPPORTED_EVENT_TYPES:
        return { kind: 'SUPPORTED_EVENT_TYPES', msg: decodeSupportedEventTypes(bytes) };
      case RequestCode.SUBSCRIBE_EVENT_TYPES:
        return { kind: 'SUBSCRIBE_EVENT_TYPES', msg: decodeSubscribeEventTypes(bytes) };
      case ResponseCode.SUBSCRIBE_EVENT_TYPES_ACK:
        return { kind: 'SUBSCRIBE_EVENT_TYPES_ACK', msg: decodeSubscribeEventTypesAck(bytes) };
      case RequestCode.SEND_EVENT:
        return { kind: 'SEND_EVENT', msg: decodeSendEvent(bytes) };
      case ResponseCode.EVENT_ACK:
        return { kind: 'EVENT_ACK', msg: decodeEventAck(bytes) };
      case RequestCode.VENDOR_DEFINED_REQUEST:
        return { kind: 'VENDOR_DEFINED_REQUEST', msg: decodeVendorDefinedRequest(bytes) };
      case ResponseCode.VENDOR_DEFINED_RESPONSE:
        return { kind: 'VENDOR_DEFINED_RESPONSE', msg: decodeVendorDefinedResponse(bytes) };

      // ---------------------------------------------------------------- chunking
      case RequestCode.CHUNK_SEND: {
        const msg = decodeChunkSend(bytes);
        const complete = this.advance('CHUNK_SEND', s.chunkSend, msg);
        const large = complete ? this.decodeLarge('CHUNK_SEND', msg.version, 'request', complete) : undefined;
        return { kind: 'CHUNK_SEND', msg, ...(large ? { large } : {}) };
      }
      case ResponseCode.CHUNK_SEND_ACK: {
        const inner = this.nested('CHUNK_SEND_ACK', header.version, 'response', 'main', (c) => !CHUNK_CODES.has(c));
        return { kind: 'CHUNK_SEND_ACK', msg: decodeChunkSendAck(bytes, inner) };
      }
      case RequestCode.CHUNK_GET:
        return { kind: 'CHUNK_GET', msg: decodeChunkGet(bytes) };
      case ResponseCode.CHUNK_RESPONSE: {
        const msg = decodeChunkResponse(bytes);
        const complete = this.advance('CHUNK_RESPONSE', s.chunkResponse, msg);
        const large = complete ? this.decodeLarge('CHUNK_RESPONSE', msg.version, 'response', complete) : undefined;
        return { kind: 'CHUNK_RESPONSE', msg, ...(large ? { large } : {}) };
      }
      default:
        return { kind: 'other', header, name: codeName(header.code), body: bytes.subarray(4), raw: bytes };
    }
  }

  /** One chunk into its reassembly; the large message after the last chunk. */
  private advance(outer: string, prev: ChunkAssembly | undefined, msg: ChunkMessage): Uint8Array | undefined {
    this.advanced = undefined;
    const { assembly, complete } = advanceChunks(outer, prev, msg, this.chunkBuffers);
    this.advanced = { msg, assembly };
    return complete;
  }

  /** The reassembly after the chunk decode() advanced (undefined once the message is complete). */
  private advancedAssembly(msg: ChunkMessage): ChunkAssembly | undefined {
    const a = this.advanced;
    this.advanced = undefined;
    if (!a || a.msg !== msg) throw new Error('ConversationDecoder: chunk state updated without decoding the chunk');
    return a.assembly;
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

  private update(d: DecodedSpdmMessage, role: Role): void {
    const s = this.s;
    if (role === 'encap') {
      // Requests from the responder to the requester: only what their answers need.
      if (d.kind === 'GET_ENDPOINT_INFO') s.encapEndpointInfoSignatureRequested = d.msg.signatureRequested;
      return;
    }
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
        s.dheGroup = algStructValue(d.msg.algStructs, AlgType.DHE);
        s.kemAlgo = algStructValue(d.msg.algStructs, AlgType.KEM);
        s.reqBaseAsymAlgo = algStructValue(d.msg.algStructs, AlgType.REQ_BASE_ASYM);
        s.reqPqcAsymAlgo = algStructValue(d.msg.algStructs, AlgType.REQ_PQC_ASYM);
        return;
      case 'CHALLENGE':
        s.measurementSummaryHashRequested = d.msg.measurementSummaryHashType !== 0;
        return;
      case 'GET_MEASUREMENTS':
        s.measurementSignatureRequested = d.msg.signatureRequested;
        return;
      case 'KEY_EXCHANGE':
        s.keyExchangeSummaryHashType = d.msg.measurementSummaryHashType;
        return;
      case 'PSK_EXCHANGE':
        s.pskExchangeSummaryHashType = d.msg.measurementSummaryHashType;
        return;
      case 'FINISH':
        s.finishSignatureIncluded = d.msg.signatureIncluded;
        return;
      case 'GET_ENDPOINT_INFO':
        s.endpointInfoSignatureRequested = d.msg.signatureRequested;
        return;
      case 'ENCAPSULATED_REQUEST':
      case 'ENCAPSULATED_RESPONSE_ACK':
        if (d.msg.nested) {
          s.encapRequestId = d.msg.requestId;
          this.update(d.msg.nested, 'encap');
        }
        return;
      case 'CHUNK_SEND':
        s.chunkSend = this.advancedAssembly(d.msg);
        if (d.large) this.update(d.large, 'main');
        return;
      case 'CHUNK_SEND_ACK':
        if (d.msg.earlyErrorDetected) s.chunkSend = undefined;
        if (d.msg.nested) this.update(d.msg.nested, 'main');
        return;
      case 'CHUNK_RESPONSE':
        s.chunkResponse = this.advancedAssembly(d.msg);
        if (d.large) this.update(d.large, 'main');
        return;
      default:
        return;
    }
  }
}
