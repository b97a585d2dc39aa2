/**
 * The table of message kinds a ConversationDecoder knows (conversation.ts): for each kind, named
 * after its RequestResponseCode, how its codec is called with what the conversation so far says
 * (sizes, what the previous request asked for) and what it changes in that state for the
 * messages after it. One entry per kind holds both, so that a message's decoding and the state
 * it leaves are read (and changed) in one place; the decoder only dispatches on the code.
 *
 * `decode` sees the conversation through a DecodeContext and must not change it: a message that
 * fails to decode (or has non-zero bytes after it) leaves the state as it was. `update` runs
 * once the message is accepted. `updateEncap` is the update for a message nested in an
 * encapsulated flow (roles reversed), where only what the requester's answers need is kept.
 */
import type { ChunkAssembly } from './chunk-assembly.js';
import { DecodeError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from './codes.js';
import type { Header } from './header.js';
import {
  decodeGetVersion,
  decodeVersion,
  type GetVersionRequest,
  type VersionNumber,
  type VersionResponse,
} from './messages/version.js';
import {
  decodeCapabilities,
  decodeGetCapabilities,
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
import {
  decodeCertificate,
  decodeGetCertificate,
  type CertificateResponse,
  type GetCertificateRequest,
} from './messages/certificate.js';
import {
  decodeChallenge,
  decodeChallengeAuth,
  type ChallengeAuthResponse,
  type ChallengeRequest,
} from './messages/challenge.js';
import {
  decodeGetMeasurements,
  decodeMeasurements,
  type GetMeasurementsRequest,
  type MeasurementsResponse,
} from './messages/measurements.js';
import { decodeError, decodeRespondIfReady, type ErrorResponse, type RespondIfReadyRequest } from './messages/error.js';
import type { NestedDecoder } from './messages/common.js';
import {
  decodeKeyExchange,
  decodeKeyExchangeRsp,
  type KeyExchangeRequest,
  type KeyExchangeResponse,
} from './messages/key-exchange.js';
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
import {
  decodeHeartbeat,
  decodeHeartbeatAck,
  type HeartbeatAckResponse,
  type HeartbeatRequest,
} from './messages/heartbeat.js';
import { decodeKeyUpdate, decodeKeyUpdateAck, type KeyUpdateMessage } from './messages/key-update.js';
import {
  decodeEndSession,
  decodeEndSessionAck,
  type EndSessionAckResponse,
  type EndSessionRequest,
} from './messages/end-session.js';
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
  | {
      readonly kind: 'DELIVER_ENCAPSULATED_RESPONSE';
      readonly msg: DeliverEncapsulatedResponseRequest<DecodedSpdmMessage>;
    }
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

export const CHUNK_CODES: ReadonlySet<number> = new Set([
  RequestCode.CHUNK_SEND,
  RequestCode.CHUNK_GET,
  ResponseCode.CHUNK_SEND_ACK,
  ResponseCode.CHUNK_RESPONSE,
]);

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

export type MutableState = { -readonly [K in keyof ConversationState]: ConversationState[K] };

export function initialState(): MutableState {
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

/**
 * Who asks whom: 'main' is the normal flow (requester asks, responder answers); 'encap' is a
 * message nested in an encapsulated flow, where the responder asks and the requester answers.
 */
export type Role = 'main' | 'encap';

/** What a kind's decode may read: the state and the sizes derived from it, for one message. */
export interface DecodeContext {
  readonly state: Readonly<ConversationState>;
  readonly header: Header;
  readonly role: Role;
  /** BaseHashAlgo size. */
  readonly hashSize: number | undefined;
  /** The responder's signature size (BaseAsymAlgo, or the 1.4 PQC selection). */
  readonly signatureSize: number | undefined;
  /** The requester's signature size (AlgStruct 4, or 1.4 AlgStruct 6). */
  readonly requesterSignatureSize: number | undefined;
  readonly exchangeDataSizes: { readonly request: number; readonly response: number } | undefined;
  readonly handshakeInTheClear: boolean;
  /** `value`, or a DecodeError of `messageName`.`field` saying `what` is unknown. */
  need(value: number | undefined, messageName: string, field: string, what: string): number;
  /** A summary hash of `type` is present (type != 0 and the responder has MEAS_CAP). */
  summaryHashPresent(type: number): boolean;
  /** A decoder for the `direction` message nested in `outer` (of the outer version), decoded in `role`. */
  nested(
    outer: string,
    direction: Direction,
    role: Role,
    allowed: (code: number) => boolean,
  ): NestedDecoder<DecodedSpdmMessage>;
  /** Advances the reassembly `prev` with `msg`; the large message, decoded, after the last chunk. */
  chunk(
    outer: string,
    prev: ChunkAssembly | undefined,
    msg: ChunkMessage,
    direction: Direction,
  ): DecodedSpdmMessage | undefined;
  /** DMTF digest measurements are one MeasurementHashAlgo digest long. */
  checkDigestSizes(msg: MeasurementsResponse, bytes: Uint8Array): void;
}

/** What a kind's update may change, once its message is accepted. */
export interface UpdateContext {
  readonly state: MutableState;
  /** GET_VERSION: back to the initial state. */
  reset(): void;
  /** Applies the update of a nested message (encapsulated, carried by CHUNK_SEND_ACK, reassembled). */
  update(d: DecodedSpdmMessage, role: Role): void;
  /** The reassembly the chunk's decode advanced (undefined once the large message is complete). */
  advancedAssembly(msg: ChunkMessage): ChunkAssembly | undefined;
}

export type MessageOf<K extends DecodedKind> = Extract<DecodedSpdmMessage, { readonly kind: K }>;

/**
 * One kind. The methods are declared as methods (bivariant in their parameters) on purpose: the
 * decoder calls the entry of a message's kind with that message, which the type system cannot
 * correlate through an indexed access, and this lets an entry be used as a KindEntry<DecodedKind>.
 */
export interface KindEntry<K extends DecodedKind> {
  decode(c: DecodeContext, bytes: Uint8Array): MessageOf<K>;
  update?(c: UpdateContext, d: MessageOf<K>): void;
  updateEncap?(c: UpdateContext, d: MessageOf<K>): void;
}

const BASE_HASH = 'BaseHashAlgo size';
const BASE_ASYM = 'BaseAsymAlgo signature size';
const REQ_ASYM = 'ReqBaseAsymAlg signature size';
const NO_EXCHANGE = 'DHE group / KEM unknown: no ALGORITHMS selecting a known one seen';

const multiKeyConn = (version: number, otherParams: number): boolean =>
  version >= 0x13 && (otherParams & OtherParams.MULTI_KEY_CONN) !== 0;

/** Every kind with a codec (DECODED_CODES lists them in this order). */
export const MESSAGE_TABLE: { readonly [K in DecodedKind]: KindEntry<K> } = {
  GET_VERSION: {
    decode: (_c, b) => ({ kind: 'GET_VERSION', msg: decodeGetVersion(b) }),
    update: (u) => u.reset(),
  },
  VERSION: {
    decode: (_c, b) => ({ kind: 'VERSION', msg: decodeVersion(b) }),
    update: (u, d) => {
      u.state.versionEntries = d.msg.entries;
    },
  },
  GET_CAPABILITIES: {
    decode: (_c, b) => ({ kind: 'GET_CAPABILITIES', msg: decodeGetCapabilities(b) }),
    update: (u, d) => {
      u.state.version = d.msg.version;
      u.state.requesterFlags = d.msg.flags;
    },
  },
  CAPABILITIES: {
    decode: (_c, b) => ({ kind: 'CAPABILITIES', msg: decodeCapabilities(b) }),
    update: (u, d) => {
      u.state.version ??= d.msg.version;
      u.state.responderFlags = d.msg.flags;
    },
  },
  NEGOTIATE_ALGORITHMS: {
    decode: (_c, b) => ({ kind: 'NEGOTIATE_ALGORITHMS', msg: decodeNegotiateAlgorithms(b) }),
    update: (u, d) => {
      u.state.multiKeyConnRsp = multiKeyConn(d.msg.version, d.msg.otherParams);
    },
  },
  ALGORITHMS: {
    decode: (_c, b) => ({ kind: 'ALGORITHMS', msg: decodeAlgorithms(b) }),
    update: ({ state: s }, { msg }) => {
      s.baseHashAlgo = msg.baseHash;
      s.baseAsymAlgo = msg.baseAsym;
      s.pqcAsymAlgo = msg.pqcAsym;
      s.measurementHashAlgo = msg.measurementHash;
      s.otherParamsSelection = msg.otherParams;
      s.multiKeyConnReq = multiKeyConn(msg.version, msg.otherParams);
      s.dheGroup = algStructValue(msg.algStructs, AlgType.DHE);
      s.kemAlgo = algStructValue(msg.algStructs, AlgType.KEM);
      s.reqBaseAsymAlgo = algStructValue(msg.algStructs, AlgType.REQ_BASE_ASYM);
      s.reqPqcAsymAlgo = algStructValue(msg.algStructs, AlgType.REQ_PQC_ASYM);
    },
  },
  GET_DIGESTS: { decode: (_c, b) => ({ kind: 'GET_DIGESTS', msg: decodeGetDigests(b) }) },
  DIGESTS: {
    decode: (c, b) => {
      const hashSize = c.need(c.hashSize, 'DIGESTS', 'Digest', BASE_HASH);
      return {
        kind: 'DIGESTS',
        msg: decodeDigests(b, {
          hashSize,
          multiKeyConn: c.role === 'main' ? c.state.multiKeyConnRsp : c.state.multiKeyConnReq,
        }),
      };
    },
  },
  GET_CERTIFICATE: { decode: (_c, b) => ({ kind: 'GET_CERTIFICATE', msg: decodeGetCertificate(b) }) },
  CERTIFICATE: { decode: (_c, b) => ({ kind: 'CERTIFICATE', msg: decodeCertificate(b) }) },
  CHALLENGE: {
    decode: (_c, b) => ({ kind: 'CHALLENGE', msg: decodeChallenge(b) }),
    update: (u, d) => {
      u.state.measurementSummaryHashRequested = d.msg.measurementSummaryHashType !== 0;
    },
  },
  CHALLENGE_AUTH: {
    decode: (c, b) => {
      const main = c.role === 'main';
      const hashSize = c.need(c.hashSize, 'CHALLENGE_AUTH', 'CertChainHash', BASE_HASH);
      const signatureSize = main
        ? c.need(c.signatureSize, 'CHALLENGE_AUTH', 'Signature', BASE_ASYM)
        : c.need(c.requesterSignatureSize, 'CHALLENGE_AUTH', 'Signature', REQ_ASYM);
      // A requester has no MEAS_CAP: its (encapsulated) CHALLENGE_AUTH never has a summary hash
      // (libspdm_get_encap_response_challenge_auth rejects a CHALLENGE asking for one).
      const measurementSummaryHashRequested =
        main && c.state.measurementSummaryHashRequested && c.summaryHashPresent(1);
      return {
        kind: 'CHALLENGE_AUTH',
        msg: decodeChallengeAuth(b, { hashSize, signatureSize, measurementSummaryHashRequested }),
      };
    },
  },
  GET_MEASUREMENTS: {
    decode: (_c, b) => ({ kind: 'GET_MEASUREMENTS', msg: decodeGetMeasurements(b) }),
    update: (u, d) => {
      u.state.measurementSignatureRequested = d.msg.signatureRequested;
    },
  },
  MEASUREMENTS: {
    decode: (c, b) => {
      const signatureRequested = c.state.measurementSignatureRequested;
      const signatureSize = signatureRequested ? c.need(c.signatureSize, 'MEASUREMENTS', 'Signature', BASE_ASYM) : 0;
      const msg = decodeMeasurements(b, { signatureRequested, signatureSize });
      c.checkDigestSizes(msg, b);
      return { kind: 'MEASUREMENTS', msg };
    },
  },
  ERROR: { decode: (_c, b) => ({ kind: 'ERROR', msg: decodeError(b) }) },
  RESPOND_IF_READY: { decode: (_c, b) => ({ kind: 'RESPOND_IF_READY', msg: decodeRespondIfReady(b) }) },

  // ---------------------------------------------------------------- sessions
  KEY_EXCHANGE: {
    decode: (c, b) => {
      const sizes = c.exchangeDataSizes;
      if (!sizes) throw new DecodeError('KEY_EXCHANGE', 'ExchangeData', 40, NO_EXCHANGE);
      return { kind: 'KEY_EXCHANGE', msg: decodeKeyExchange(b, { exchangeDataSize: sizes.request }) };
    },
    update: (u, d) => {
      u.state.keyExchangeSummaryHashType = d.msg.measurementSummaryHashType;
    },
  },
  KEY_EXCHANGE_RSP: {
    decode: (c, b) => {
      const sizes = c.exchangeDataSizes;
      if (!sizes) throw new DecodeError('KEY_EXCHANGE_RSP', 'ExchangeData', 40, NO_EXCHANGE);
      const hashSize = c.need(c.hashSize, 'KEY_EXCHANGE_RSP', 'MeasurementSummaryHash', BASE_HASH);
      const signatureSize = c.need(c.signatureSize, 'KEY_EXCHANGE_RSP', 'Signature', BASE_ASYM);
      return {
        kind: 'KEY_EXCHANGE_RSP',
        msg: decodeKeyExchangeRsp(b, {
          hashSize,
          signatureSize,
          exchangeDataSize: sizes.response,
          measurementSummaryHashPresent: c.summaryHashPresent(c.state.keyExchangeSummaryHashType),
          handshakeInTheClear: c.handshakeInTheClear,
        }),
      };
    },
  },
  FINISH: {
    decode: (c, b) => {
      const hashSize = c.need(c.hashSize, 'FINISH', 'RequesterVerifyData', BASE_HASH);
      const requesterSignatureSize = c.requesterSignatureSize;
      return {
        kind: 'FINISH',
        msg: decodeFinish(b, { hashSize, ...(requesterSignatureSize !== undefined ? { requesterSignatureSize } : {}) }),
      };
    },
    update: (u, d) => {
      u.state.finishSignatureIncluded = d.msg.signatureIncluded;
    },
  },
  FINISH_RSP: {
    decode: (c, b) => {
      const hashSize = c.need(c.hashSize, 'FINISH_RSP', 'ResponderVerifyData', BASE_HASH);
      return { kind: 'FINISH_RSP', msg: decodeFinishRsp(b, { hashSize, handshakeInTheClear: c.handshakeInTheClear }) };
    },
  },
  PSK_EXCHANGE: {
    decode: (_c, b) => ({ kind: 'PSK_EXCHANGE', msg: decodePskExchange(b) }),
    update: (u, d) => {
      u.state.pskExchangeSummaryHashType = d.msg.measurementSummaryHashType;
    },
  },
  PSK_EXCHANGE_RSP: {
    decode: (c, b) => {
      const hashSize = c.need(c.hashSize, 'PSK_EXCHANGE_RSP', 'ResponderVerifyData', BASE_HASH);
      const measurementSummaryHashPresent = c.summaryHashPresent(c.state.pskExchangeSummaryHashType);
      return { kind: 'PSK_EXCHANGE_RSP', msg: decodePskExchangeRsp(b, { hashSize, measurementSummaryHashPresent }) };
    },
  },
  PSK_FINISH: {
    decode: (c, b) => {
      const hashSize = c.need(c.hashSize, 'PSK_FINISH', 'RequesterVerifyData', BASE_HASH);
      return { kind: 'PSK_FINISH', msg: decodePskFinish(b, { hashSize }) };
    },
  },
  PSK_FINISH_RSP: { decode: (_c, b) => ({ kind: 'PSK_FINISH_RSP', msg: decodePskFinishRsp(b) }) },
  HEARTBEAT: { decode: (_c, b) => ({ kind: 'HEARTBEAT', msg: decodeHeartbeat(b) }) },
  HEARTBEAT_ACK: { decode: (_c, b) => ({ kind: 'HEARTBEAT_ACK', msg: decodeHeartbeatAck(b) }) },
  KEY_UPDATE: { decode: (_c, b) => ({ kind: 'KEY_UPDATE', msg: decodeKeyUpdate(b) }) },
  KEY_UPDATE_ACK: { decode: (_c, b) => ({ kind: 'KEY_UPDATE_ACK', msg: decodeKeyUpdateAck(b) }) },
  END_SESSION: { decode: (_c, b) => ({ kind: 'END_SESSION', msg: decodeEndSession(b) }) },
  END_SESSION_ACK: { decode: (_c, b) => ({ kind: 'END_SESSION_ACK', msg: decodeEndSessionAck(b) }) },

  // ---------------------------------------------------------------- encapsulated requests
  GET_ENCAPSULATED_REQUEST: {
    decode: (_c, b) => ({ kind: 'GET_ENCAPSULATED_REQUEST', msg: decodeGetEncapsulatedRequest(b) }),
  },
  ENCAPSULATED_REQUEST: {
    decode: (c, b) => {
      const inner = c.nested('ENCAPSULATED_REQUEST', 'request', 'encap', (code) =>
        ENCAPSULATED_REQUEST_CODES.has(code),
      );
      return { kind: 'ENCAPSULATED_REQUEST', msg: decodeEncapsulatedRequest(b, inner) };
    },
    update: (u, d) => updateEncapsulated(u, d.msg),
  },
  DELIVER_ENCAPSULATED_RESPONSE: {
    decode: (c, b) => {
      const inner = c.nested('DELIVER_ENCAPSULATED_RESPONSE', 'response', 'encap', (code) =>
        ENCAPSULATED_RESPONSE_CODES.has(code),
      );
      return { kind: 'DELIVER_ENCAPSULATED_RESPONSE', msg: decodeDeliverEncapsulatedResponse(b, inner) };
    },
  },
  ENCAPSULATED_RESPONSE_ACK: {
    decode: (c, b) => {
      const inner = c.nested('ENCAPSULATED_RESPONSE_ACK', 'request', 'encap', (code) =>
        ENCAPSULATED_REQUEST_CODES.has(code),
      );
      return { kind: 'ENCAPSULATED_RESPONSE_ACK', msg: decodeEncapsulatedResponseAck(b, inner) };
    },
    update: (u, d) => updateEncapsulated(u, d.msg),
  },

  // ---------------------------------------------------------------- provisioning, 1.3 additions
  GET_CSR: { decode: (_c, b) => ({ kind: 'GET_CSR', msg: decodeGetCsr(b) }) },
  CSR: { decode: (_c, b) => ({ kind: 'CSR', msg: decodeCsr(b) }) },
  SET_CERTIFICATE: { decode: (_c, b) => ({ kind: 'SET_CERTIFICATE', msg: decodeSetCertificate(b) }) },
  SET_CERTIFICATE_RSP: { decode: (_c, b) => ({ kind: 'SET_CERTIFICATE_RSP', msg: decodeSetCertificateRsp(b) }) },
  GET_ENDPOINT_INFO: {
    decode: (_c, b) => ({ kind: 'GET_ENDPOINT_INFO', msg: decodeGetEndpointInfo(b) }),
    update: (u, d) => {
      u.state.endpointInfoSignatureRequested = d.msg.signatureRequested;
    },
    // Requests from the responder to the requester: only what their answers need.
    updateEncap: (u, d) => {
      u.state.encapEndpointInfoSignatureRequested = d.msg.signatureRequested;
    },
  },
  ENDPOINT_INFO: {
    decode: (c, b) => {
      const main = c.role === 'main';
      const signatureRequested = main
        ? c.state.endpointInfoSignatureRequested
        : c.state.encapEndpointInfoSignatureRequested;
      const size = main ? c.signatureSize : c.requesterSignatureSize;
      const signatureSize = signatureRequested
        ? c.need(size, 'ENDPOINT_INFO', 'Signature', main ? BASE_ASYM : REQ_ASYM)
        : 0;
      return { kind: 'ENDPOINT_INFO', msg: decodeEndpointInfo(b, { signatureRequested, signatureSize }) };
    },
  },
  GET_KEY_PAIR_INFO: { decode: (_c, b) => ({ kind: 'GET_KEY_PAIR_INFO', msg: decodeGetKeyPairInfo(b) }) },
  KEY_PAIR_INFO: { decode: (_c, b) => ({ kind: 'KEY_PAIR_INFO', msg: decodeKeyPairInfo(b) }) },
  SET_KEY_PAIR_INFO: { decode: (_c, b) => ({ kind: 'SET_KEY_PAIR_INFO', msg: decodeSetKeyPairInfo(b) }) },
  SET_KEY_PAIR_INFO_ACK: { decode: (_c, b) => ({ kind: 'SET_KEY_PAIR_INFO_ACK', msg: decodeSetKeyPairInfoAck(b) }) },
  GET_MEASUREMENT_EXTENSION_LOG: {
    decode: (_c, b) => ({ kind: 'GET_MEASUREMENT_EXTENSION_LOG', msg: decodeGetMeasurementExtensionLog(b) }),
  },
  MEASUREMENT_EXTENSION_LOG: {
    decode: (_c, b) => ({ kind: 'MEASUREMENT_EXTENSION_LOG', msg: decodeMeasurementExtensionLog(b) }),
  },

  // ---------------------------------------------------------------- chunking
  CHUNK_SEND: {
    decode: (c, b) => {
      const msg = decodeChunkSend(b);
      const large = c.chunk('CHUNK_SEND', c.state.chunkSend, msg, 'request');
      return { kind: 'CHUNK_SEND', msg, ...(large ? { large } : {}) };
    },
    update: (u, d) => {
      u.state.chunkSend = u.advancedAssembly(d.msg);
      if (d.large) u.update(d.large, 'main');
    },
  },
  CHUNK_SEND_ACK: {
    decode: (c, b) => {
      const inner = c.nested('CHUNK_SEND_ACK', 'response', 'main', (code) => !CHUNK_CODES.has(code));
      return { kind: 'CHUNK_SEND_ACK', msg: decodeChunkSendAck(b, inner) };
    },
    update: (u, d) => {
      if (d.msg.earlyErrorDetected) u.state.chunkSend = undefined;
      if (d.msg.nested) u.update(d.msg.nested, 'main');
    },
  },
  CHUNK_GET: { decode: (_c, b) => ({ kind: 'CHUNK_GET', msg: decodeChunkGet(b) }) },
  CHUNK_RESPONSE: {
    decode: (c, b) => {
      const msg = decodeChunkResponse(b);
      const large = c.chunk('CHUNK_RESPONSE', c.state.chunkResponse, msg, 'response');
      return { kind: 'CHUNK_RESPONSE', msg, ...(large ? { large } : {}) };
    },
    update: (u, d) => {
      u.state.chunkResponse = u.advancedAssembly(d.msg);
      if (d.large) u.update(d.large, 'main');
    },
  },
  VENDOR_DEFINED_REQUEST: {
    decode: (_c, b) => ({ kind: 'VENDOR_DEFINED_REQUEST', msg: decodeVendorDefinedRequest(b) }),
  },
  VENDOR_DEFINED_RESPONSE: {
    decode: (_c, b) => ({ kind: 'VENDOR_DEFINED_RESPONSE', msg: decodeVendorDefinedResponse(b) }),
  },
  GET_SUPPORTED_EVENT_TYPES: {
    decode: (_c, b) => ({ kind: 'GET_SUPPORTED_EVENT_TYPES', msg: decodeGetSupportedEventTypes(b) }),
  },
  SUPPORTED_EVENT_TYPES: { decode: (_c, b) => ({ kind: 'SUPPORTED_EVENT_TYPES', msg: decodeSupportedEventTypes(b) }) },
  SUBSCRIBE_EVENT_TYPES: { decode: (_c, b) => ({ kind: 'SUBSCRIBE_EVENT_TYPES', msg: decodeSubscribeEventTypes(b) }) },
  SUBSCRIBE_EVENT_TYPES_ACK: {
    decode: (_c, b) => ({ kind: 'SUBSCRIBE_EVENT_TYPES_ACK', msg: decodeSubscribeEventTypesAck(b) }),
  },
  SEND_EVENT: { decode: (_c, b) => ({ kind: 'SEND_EVENT', msg: decodeSendEvent(b) }) },
  EVENT_ACK: { decode: (_c, b) => ({ kind: 'EVENT_ACK', msg: decodeEventAck(b) }) },
};

/** ENCAPSULATED_REQUEST / ENCAPSULATED_RESPONSE_ACK: the request they carry, in the encap role. */
function updateEncapsulated(
  u: UpdateContext,
  msg: { readonly requestId: number; readonly nested?: DecodedSpdmMessage },
): void {
  if (msg.nested) {
    u.state.encapRequestId = msg.requestId;
    u.update(msg.nested, 'encap');
  }
}

const CODES: Readonly<Record<string, number>> = { ...RequestCode, ...ResponseCode };

/** Request/response codes that decode to a kind other than 'other' (every kind is named after its code). */
export const DECODED_CODES: ReadonlyMap<number, DecodedKind> = new Map<number, DecodedKind>(
  (Object.keys(MESSAGE_TABLE) as DecodedKind[]).map((k) => {
    const code = CODES[k];
    if (code === undefined) throw new Error(`no code for ${k}`);
    return [code, k];
  }),
);
