/**
 * The device emulator: an SPDM responder driven by a DeviceProfile. It keeps the transcripts the
 * specification asks for (A, B, C, message_m), signs CHALLENGE_AUTH and MEASUREMENTS exactly as
 * the negotiated version requires, answers malformed or out-of-order requests with the right
 * ERROR. It only ever behaves correctly: every way a device can lie is a fault wrapped around it
 * (responder/faults/).
 */
import {
  asymInfo,
  hashInfo,
  isAsymSupported,
  measurementHashToBaseHash,
  MeasurementHashAlgo,
} from '../crypto/algorithms.js';
import { isAeadSupported } from '../crypto/aead.js';
import { decodeDheExchangeData, DheKeyPair, isDheSupported, requireDhe } from '../crypto/dhe.js';
import { macEqual } from '../crypto/kdf.js';
import { digest } from '../crypto/hash.js';
import { spdmSign, usesSigningContext } from '../crypto/signature.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { DecodeError } from '../wire/errors.js';
import { peekHeader } from '../spdm/header.js';
import { RequestCode, SUPPORTED_VERSIONS } from '../spdm/codes.js';
import type { Transcript } from '../spdm/transcript.js';
import { ConnectionTranscript, type MessageM } from '../spdm/connection-transcript.js';
import type { SessionTranscript } from '../spdm/session-transcript.js';
import { completeKeyExchangeRsp, decodeKeyExchange, encodeKeyExchangeRsp } from '../spdm/messages/key-exchange.js';
import { decodeFinish, encodeFinishRsp } from '../spdm/messages/finish.js';
import { decodeHeartbeat, encodeHeartbeatAck } from '../spdm/messages/heartbeat.js';
import { decodeEndSession, encodeEndSessionAck } from '../spdm/messages/end-session.js';
import { answerKeyUpdate, keyUpdateOutsideSession } from './key-update.js';
import { SessionWatchdog } from './session-watchdog.js';
import { answerApplicationMessage } from './app-data.js';
import { VendorProtocols } from './vendor/vendor-protocols.js';
import {
  answerSupportedEventTypes,
  DeviceRequests,
  eventsOutsideSession,
  type DeviceRequestContext,
} from './device-requests.js';
import {
  deriveDataSecrets,
  deriveHandshakeSecrets,
  verifyData,
  type HandshakeSecrets,
  type KeyScheduleParams,
} from '../session/key-schedule.js';
import type { InnerMessage, SecuredTransport } from '../session/record.js';
import { INVALID_SESSION_ID_HALF, SecureSession } from '../session/secure-session.js';
import { peekSessionId } from '../session/session-id.js';
import { checkSecuredVersions, chooseRequestSecuredVersion, sessionOpaqueFormat } from '../session/secured-version.js';
import { decodeGetVersion, encodeVersion, versionNumberFromU16 } from '../spdm/messages/version.js';
import {
  CapabilityFlag,
  decodeGetCapabilities,
  encodeCapabilities,
  MEAS_CAP_MASK,
  requesterFlagMask,
  responderFlagMask,
  type GetCapabilitiesRequest,
} from '../spdm/messages/capabilities.js';
import {
  algStructValue,
  AlgType,
  decodeNegotiateAlgorithms,
  encodeAlgorithms,
  MeasurementSpec,
  KeySchedule,
  OtherParams,
} from '../spdm/messages/algorithms.js';
import { decodeGetDigests, encodeDigests } from '../spdm/messages/digests.js';
import { decodeGetCertificate, encodeCertificate } from '../spdm/messages/certificate.js';
import { decodeChallenge, encodeChallengeAuth, NONCE_SIZE } from '../spdm/messages/challenge.js';
import { decodeGetMeasurements, encodeMeasurements, MeasurementAttribute } from '../spdm/messages/measurements.js';
import { encodeDmtfBlock } from '../spdm/messages/measurement-block.js';
import { decodeRespondIfReady, encodeError, ErrorCode } from '../spdm/messages/error.js';
import { encodeSpdmCertChain } from '../x509/spdm-chain.js';
import type { SpdmHandler } from '../transport/transport.js';
import { ErrorReply } from './error-reply.js';
import { ResponderChunks, u32le, type ChunkPeer } from './chunking.js';
import { answerPskExchange, answerPskFinish, pskFinishRaw } from './psk.js';
import { checkTranscriptSignature } from '../spdm/transcript-signature.js';
import {
  checkRequesterChain,
  requesterAuthFlow,
  RequesterAuthTask,
  type AuthenticatedRequester,
} from './mutual-auth.js';
import {
  endpointInfoAskable,
  EndpointInfoQuery,
  EndpointInfoTask,
  type RequesterEndpointInfo,
} from './encap-endpoint-info.js';
import { answerWithoutFlow, EncapsulatedFlow, type EncapContext } from './encapsulated-flow.js';
import { neededAlgStructs, requesterFlagProblem, selectAlgStructs } from '../spdm/capability-rules.js';
import {
  DEFAULT_PROFILE_AEAD,
  DEFAULT_PROFILE_DHE,
  DEFAULT_PROFILE_REQ_ASYM,
  type DeviceProfile,
  type MeasurementSource,
  type SlotIdentity,
} from './profile.js';
import { DeviceProvisioning } from './provisioning.js';
import { PROVISIONED_KEY_SLOT, provisionedKeySlot } from './provisioned-key.js';
import { answerGetEndpointInfo, DEFAULT_ENDPOINT_INFO } from './endpoint-info.js';
import { answerGetMel, defaultMeasurementExtensionLog, MEL_SPEC_DMTF } from './mel.js';

type Stage = 'start' | 'version' | 'capabilities' | 'negotiated';

/** A slot's SPDM chain under one hash and version, and its hash once asked for. */
interface SlotChainBytes {
  readonly chain: Uint8Array;
  hash?: Uint8Array;
}

interface Negotiated {
  version: number;
  hashId: number;
  asymId: number;
  measurementHash: number;
  measurementSpec: number;
  otherParams: number;
  requesterCaps: GetCapabilitiesRequest;
  /** 1.3+ multi-key connection for the responder (DIGESTS key fields, CertModel in CERTIFICATE). */
  multiKeyConn: boolean;
  /** MELSpecificationSel (1.3, MEL_CAP): 0 where none. */
  melSpec: number;
  /** Session algorithms ALGORITHMS selected (0 where none). */
  dheId: number;
  aeadId: number;
  /** ReqBaseAsymAlg selected (0: none, so no mutual authentication). */
  reqAsymId: number;
}

/** One secure session this responder holds: its record state, its transcripts and its handshake secrets. */
interface ResponderSession {
  readonly secure: SecureSession;
  readonly transcript: SessionTranscript;
  readonly params: KeyScheduleParams;
  readonly handshake: HandshakeSecrets;
  /** HANDSHAKE_IN_THE_CLEAR: FINISH / FINISH_RSP come and go in the clear. */
  readonly inTheClear: boolean;
  /** MutAuthRequested: the flow reading the requester's identity (if any), then who it is; FINISH must then be signed. */
  readonly mutual?: { flow?: MutualFlow; requester?: AuthenticatedRequester };
  /** HeartbeatPeriod of KEY_EXCHANGE_RSP, seconds (0: none). */
  readonly heartbeatPeriod: number;
}

/** The encapsulated engine running mutual authentication. */
type MutualFlow = EncapsulatedFlow<EncapContext, RequesterAuthTask>;
/** A flow in the clear: mutual authentication's, or one asking the requester's ENDPOINT_INFO. */
type ClearFlow = MutualFlow | EncapsulatedFlow<EncapContext, EndpointInfoTask>;

/** What to do once an in-session response is sealed: install data keys (FINISH_RSP), or end (END_SESSION_ACK). */
/** What follows the sealed reply: the data keys installed, the session ended, or the session dropped (mutual authentication refused). */
type AfterReply = 'data-keys' | 'end' | 'refused' | undefined;

const MIN_DATA_TRANSFER_SIZE = 42;

export interface ResponderOptions {
  readonly random?: RandomSource;
  /** The record layout of secured messages (the binding this responder sits behind), default 'doe'. */
  readonly securedBinding?: SecuredTransport;
  /** At most this many sessions at once (default 4); more is ERROR SessionLimitExceeded. */
  readonly maxSessions?: number;
  /** Last sequence number per direction and key (default 2^64 − 1; tests use a small one). */
  readonly sequenceLimit?: bigint;
  /** Milliseconds for the heartbeat watchdog (default Date.now; tests move a fake clock). */
  readonly now?: () => number;
  /**
   * The seam for responder/faults and tests of a lying device: rewrites an in-session response
   * before it is sealed. The protocol handlers stay honest; an edit here is the lie.
   */
  readonly reviseSessionResponse?: (request: Uint8Array, response: Uint8Array) => Uint8Array;
}

export class Responder implements SpdmHandler {
  private stage: Stage = 'start';
  private neg: Negotiated | undefined;
  /** A, B, C and message_m: the transcript rules live there. */
  private readonly transcript = new ConnectionTranscript();
  private readonly random: RandomSource;
  private readonly securedBinding: SecuredTransport;
  private readonly maxSessions: number;
  private readonly sequenceLimit: bigint | undefined;
  private readonly watchdog: SessionWatchdog;
  private readonly reviseSessionResponse: ((request: Uint8Array, response: Uint8Array) => Uint8Array) | undefined;
  /** Sessions by their u32 SessionID. */
  private readonly sessions = new Map<number, ResponderSession>();
  /** Set while an in-session request is answered: DIGESTS/CERTIFICATE then stay out of the connection's B. */
  private inSession = false;
  /**
   * SPDM chains and their hashes per slot identity, per hash and version. SET_CERTIFICATE installs
   * a new identity, so a provisioned slot never answers from its old chain.
   */
  private readonly chainCache = new WeakMap<SlotIdentity, Map<string, SlotChainBytes>>();
  /**
   * Encoded measurement blocks per measurement, by measurement hash and raw request; summary
   * hashes by hash, measurement hash and type. The profile's measurements are fixed for this
   * responder's life (a firmware update builds a new device), and hashing them per request was a
   * hash object per block.
   */
  private readonly blockCache = new WeakMap<MeasurementSource, Map<number, Uint8Array>>();
  private readonly summaryCache = new Map<string, Uint8Array>();
  /** The profile's measurements in index order. */
  private readonly sortedMeasurements: readonly MeasurementSource[];
  /** Slots and key pairs as provisioned now (GET_CSR, SET_CERTIFICATE, key-pair info): lives as long as this responder. */
  private readonly provisioning: DeviceProvisioning;
  /**
   * The measurement extension log and the vendor protocols' state, made on first use: most
   * devices are never asked for either, and a simulated platform holds thousands of responders.
   */
  private melBytes: Uint8Array | undefined;
  private vendorState: VendorProtocols | undefined;

  private get mel(): Uint8Array {
    return (this.melBytes ??=
      this.profile.measurementExtensionLog ?? defaultMeasurementExtensionLog(this.profile.name));
  }

  /** The device's IDE_KM, TDISP and CXL TSP state (responder/vendor/), reached by in-session VENDOR_DEFINED_REQUEST. */
  get vendor(): VendorProtocols {
    return (this.vendorState ??= new VendorProtocols(this.random));
  }
  /** CHUNK_SEND reassembly and responses parked for CHUNK_GET (responder/chunking.ts). */
  private readonly chunks = new ResponderChunks();

  constructor(
    readonly profile: DeviceProfile,
    options: ResponderOptions = {},
  ) {
    this.random = options.random ?? systemRandom;
    this.securedBinding = options.securedBinding ?? 'doe';
    this.maxSessions = options.maxSessions ?? 4;
    this.sequenceLimit = options.sequenceLimit ?? profile.session?.sequenceLimit;
    if (profile.session?.securedVersions) checkSecuredVersions(profile.session.securedVersions);
    this.watchdog = new SessionWatchdog(options.now ?? Date.now);
    this.reviseSessionResponse = options.reviseSessionResponse;
    this.provisioning = new DeviceProvisioning(profile);
    this.sortedMeasurements = [...profile.measurements].sort((x, y) => x.index - y.index);
  }

  /** Number of requests answered so far, per request code (for tests and stats). */
  readonly stats = new Map<number, number>();

  async handle(request: Uint8Array): Promise<Uint8Array> {
    return this.handleNow(request);
  }

  /** handle(), within the call: the emulator never waits to answer (SpdmHandler.handleNow). */
  handleNow(request: Uint8Array): Uint8Array {
    let code = -1;
    try {
      code = peekHeader(request).code;
    } catch {
      return encodeError(0x10, ErrorCode.InvalidRequest);
    }
    this.stats.set(code, (this.stats.get(code) ?? 0) + 1);
    this.expireIdleSessions();
    const peer = this.chunkPeer();
    // Without chunking on this connection the chunk layer only dispatches: go straight there.
    if (!peer) return this.answer(request);
    return this.chunks.answer(peer, -1, request, (r) => ({ response: this.answer(r), after: 0 }), 0).response;
  }

  /** Both sides' transfer limits when both set CHUNK_CAP (1.2+), else undefined: no chunking. */
  private chunkPeer(): ChunkPeer | undefined {
    // From CAPABILITIES on, not only once negotiated: NEGOTIATE_ALGORITHMS and ALGORITHMS may
    // exceed a 42-byte DataTransferSize (1.3/1.4 AlgStructs) and then travel in chunks too (libspdm).
    const requesterCaps = this.neg?.requesterCaps ?? (this.stage === 'capabilities' ? this.pendingCaps : undefined);
    if (
      !requesterCaps ||
      requesterCaps.version < 0x12 ||
      (requesterCaps.flags & this.profile.capabilities.flags & CapabilityFlag.CHUNK) === 0
    )
      return undefined;
    const caps = this.profile.capabilities;
    return {
      version: requesterCaps.version,
      requesterDataTransferSize: requesterCaps.dataTransferSize,
      requesterMaxSpdmMsgSize: requesterCaps.maxSpdmMsgSize,
      ourDataTransferSize: caps.dataTransferSize,
      ourMaxSpdmMsgSize: Math.max(caps.dataTransferSize, caps.maxSpdmMsgSize),
    };
  }

  /**
   * The version an ERROR carries: the negotiated one; before negotiation completes, the version
   * the request was sent with when it is one we offer (GET_CAPABILITIES and NEGOTIATE_ALGORITHMS
   * errors), and 0x10 otherwise.
   */
  private errorVersion(code: number, requestVersion: number): number {
    if (code === RequestCode.GET_VERSION) return 0x10;
    if (this.neg) return this.neg.version;
    if (this.pendingCaps) return this.pendingCaps.version;
    return this.profile.versions.includes(requestVersion) ? requestVersion : 0x10;
  }

  private answer(request: Uint8Array): Uint8Array {
    const h = peekHeader(request);
    try {
      if (h.code === RequestCode.RESPOND_IF_READY) return this.onRespondIfReady(request);
      if (h.code !== RequestCode.GET_VERSION) {
        if (this.stage === 'start') throw new ErrorReply(ErrorCode.UnexpectedRequest);
        const expected = this.neg?.version;
        if (expected !== undefined && h.version !== expected) throw new ErrorReply(ErrorCode.VersionMismatch);
        // Before ALGORITHMS only GET_CAPABILITIES and NEGOTIATE_ALGORITHMS are valid; their handlers check the stage.
        if (
          expected === undefined &&
          h.code !== RequestCode.GET_CAPABILITIES &&
          h.code !== RequestCode.NEGOTIATE_ALGORITHMS
        )
          throw new ErrorReply(ErrorCode.UnexpectedRequest);
      }
      this.transcript.request(h.code);
      let out: Uint8Array;
      if (PROVISIONING_AND_INFO.has(h.code)) return this.answerProvisioningAndInfo(h.code, request);
      switch (h.code) {
        case RequestCode.GET_VERSION:
          out = this.onGetVersion(request);
          break;
        case RequestCode.GET_CAPABILITIES:
          out = this.onGetCapabilities(request);
          break;
        case RequestCode.NEGOTIATE_ALGORITHMS:
          out = this.onNegotiateAlgorithms(request);
          break;
        case RequestCode.GET_DIGESTS:
          out = this.onGetDigests(request);
          break;
        case RequestCode.GET_CERTIFICATE:
          out = this.onGetCertificate(request);
          break;
        case RequestCode.CHALLENGE:
          out = this.onChallenge(request);
          break;
        case RequestCode.GET_MEASUREMENTS:
          out = this.onGetMeasurements(request);
          break;
        case RequestCode.KEY_EXCHANGE:
          out = this.onKeyExchange(request);
          break;
        case RequestCode.FINISH:
          out = this.onClearFinish(request);
          break;
        case RequestCode.PSK_EXCHANGE:
          out = this.onPskExchange(request);
          break;
        case RequestCode.PSK_FINISH:
          // PSK_FINISH travels only inside its session (libspdm answers SessionRequired too).
          throw new ErrorReply(ErrorCode.SessionRequired);
        case RequestCode.GET_ENCAPSULATED_REQUEST:
          out = this.onGetEncapsulatedRequest(request, this.clearFlow(h.code).flow);
          break;
        case RequestCode.DELIVER_ENCAPSULATED_RESPONSE: {
          const { flow, session } = this.clearFlow(h.code);
          const deliver = () => this.onDeliverEncapsulatedResponse(request, flow);
          // A handshake's flow in the clear (HANDSHAKE_IN_THE_CLEAR): a refused answer ends that session too.
          const r = session && flow ? this.refusingSession(flow, deliver) : deliver();
          if ('refused' in r) {
            if (session) this.dropSession(session, "mutual authentication refused the requester's answer");
            throw r.refused;
          }
          if (session && r.requester) this.sessionRequester(session, r.requester);
          out = r.response;
          break;
        }
        case RequestCode.KEY_UPDATE: {
          const neg = this.requireNegotiated();
          const e = keyUpdateOutsideSession(this.keyUpdateContext(neg));
          throw new ErrorReply(e.errorCode, e.errorData);
        }
        // Requests that only mean something inside a session, sent in the clear.
        case RequestCode.HEARTBEAT:
          this.requireCap(CapabilityFlag.HBEAT);
          throw sessionRequired(this.requireNegotiated());
        case RequestCode.END_SESSION:
          throw sessionRequired(this.requireNegotiated());
        case RequestCode.GET_SUPPORTED_EVENT_TYPES:
        case RequestCode.SUBSCRIBE_EVENT_TYPES: {
          const neg = this.requireNegotiated();
          throw eventsOutsideSession({ version: neg.version, responderFlags: this.profile.capabilities.flags }, h.code);
        }
        default:
          throw new ErrorReply(ErrorCode.UnsupportedRequest, h.code);
      }
      return out;
    } catch (e) {
      const v = this.errorVersion(h.code, h.version);
      if (e instanceof ErrorReply) return encodeError(v, e.errorCode, e.errorData, e.extendedData);
      if (e instanceof DecodeError) return encodeError(v, ErrorCode.InvalidRequest);
      return encodeError(v, ErrorCode.Unspecified);
    }
  }

  /** This responder never answers ResponseNotReady, so nothing is ever waiting to be collected. */
  private onRespondIfReady(request: Uint8Array): Uint8Array {
    decodeRespondIfReady(request);
    throw new ErrorReply(ErrorCode.UnexpectedRequest);
  }

  private onGetVersion(request: Uint8Array): Uint8Array {
    const req = decodeGetVersion(request);
    // GET_VERSION resets the connection: every transcript and negotiated value.
    this.stage = 'version';
    this.neg = undefined;
    this.transcript.reset();
    this.pendingCaps = undefined;
    this.chunks.reset();
    this.endAllSessions('GET_VERSION reset the connection');
    this.endpointInfoArmed = false;
    this.endpointFlow = undefined;
    this.connectionRequester = undefined;
    const entries = this.profile.versions
      .filter((v) => SUPPORTED_VERSIONS.includes(v))
      .map((v) => versionNumberFromU16(((v >> 4) << 12) | ((v & 0xf) << 8)));
    const resp = encodeVersion(entries);
    this.transcript.appendVca(req.raw, resp);
    return resp;
  }

  private pendingCaps: GetCapabilitiesRequest | undefined;

  private onGetCapabilities(request: Uint8Array): Uint8Array {
    if (this.stage !== 'version') throw new ErrorReply(ErrorCode.UnexpectedRequest);
    const version = peekHeader(request).version;
    if (!this.profile.versions.includes(version)) throw new ErrorReply(ErrorCode.VersionMismatch);
    // Bytes beyond the version's layout are ignored, as libspdm does (DOE pads to a dword).
    const req = decodeGetCapabilities(request);
    if (version >= 0x11) {
      if ((req.flags & ~requesterFlagMask(version)) >>> 0 !== 0) throw new ErrorReply(ErrorCode.InvalidRequest);
      if (requesterFlagProblem(req.flags, version) !== undefined) throw new ErrorReply(ErrorCode.InvalidRequest);
      if (req.ctExponent > 31) throw new ErrorReply(ErrorCode.InvalidRequest);
    }
    if (version >= 0x12) {
      if (req.dataTransferSize < MIN_DATA_TRANSFER_SIZE || req.maxSpdmMsgSize < req.dataTransferSize)
        throw new ErrorReply(ErrorCode.InvalidRequest);
      // Without chunking a requester cannot receive a message larger than one transfer.
      if ((req.flags & CapabilityFlag.CHUNK) === 0 && req.dataTransferSize !== req.maxSpdmMsgSize)
        throw new ErrorReply(ErrorCode.InvalidRequest);
    }
    const caps = this.profile.capabilities;
    const resp = encodeCapabilities({
      version,
      ctExponent: caps.ctExponent,
      // Only the bits this version defines: a 1.0 device cannot advertise 1.3 capabilities.
      flags: (caps.flags & responderFlagMask(version)) >>> 0,
      dataTransferSize: caps.dataTransferSize,
      maxSpdmMsgSize: caps.maxSpdmMsgSize,
    });
    this.pendingCaps = req;
    this.stage = 'capabilities';
    this.transcript.appendVca(req.raw, resp);
    return resp;
  }

  private onNegotiateAlgorithms(request: Uint8Array): Uint8Array {
    if (this.stage !== 'capabilities' || !this.pendingCaps) throw new ErrorReply(ErrorCode.UnexpectedRequest);
    const version = this.pendingCaps.version;
    if (peekHeader(request).version !== version) throw new ErrorReply(ErrorCode.VersionMismatch);
    const req = decodeNegotiateAlgorithms(request);
    const hashId = this.profile.algorithms.baseHash.find((h) => (req.baseHash & h) !== 0);
    const keyAlgs = this.provisioning.slots.map((s) => s.asymId);
    if (this.profile.provisionedKey) keyAlgs.push(this.profile.provisionedKey.asymId);
    const asymId = keyAlgs.find((a) => (req.baseAsym & a) !== 0);
    if (hashId === undefined || asymId === undefined) throw new ErrorReply(ErrorCode.InvalidRequest);
    const measCap = (this.profile.capabilities.flags & MEAS_CAP_MASK) !== 0;
    const measurementSpec = measCap && req.measurementSpec & MeasurementSpec.DMTF ? MeasurementSpec.DMTF : 0;
    const measurementHash = measCap ? this.profile.algorithms.measurementHash : 0;
    let otherParams = 0;
    if (version >= 0x12 && req.otherParams & OtherParams.OPAQUE_FMT_1) otherParams = OtherParams.OPAQUE_FMT_1;
    // Multi-key connection for our side: the requester asks for it with OtherParamsSupport bit 4;
    // refused without MULTI_KEY_CAP, and required by a multi-key-only device.
    let multiKeyConn = false;
    if (version >= 0x13) {
      const flags = this.profile.capabilities.flags;
      const asked = (req.otherParams & OtherParams.MULTI_KEY_CONN) !== 0;
      if (asked && (flags & (CapabilityFlag.MULTI_KEY_ONLY | CapabilityFlag.MULTI_KEY_NEG)) === 0)
        throw new ErrorReply(ErrorCode.InvalidRequest);
      if (!asked && (flags & CapabilityFlag.MULTI_KEY_ONLY) !== 0) throw new ErrorReply(ErrorCode.InvalidRequest);
      multiKeyConn = asked;
    }
    // Session algorithms: one per AlgStruct where both sides' capabilities call for it, by our priority; 0 elsewhere.
    const algs = this.profile.algorithms;
    const needed = neededAlgStructs(
      this.pendingCaps.flags,
      (this.profile.capabilities.flags & responderFlagMask(version)) >>> 0,
    );
    const algStructs = selectAlgStructs(
      req.algStructs,
      {
        [AlgType.DHE]: (algs.dhe ?? DEFAULT_PROFILE_DHE).filter(isDheSupported),
        [AlgType.AEAD]: (algs.aead ?? DEFAULT_PROFILE_AEAD).filter(isAeadSupported),
        [AlgType.REQ_BASE_ASYM]: (algs.reqBaseAsym ?? DEFAULT_PROFILE_REQ_ASYM).filter(isAsymSupported),
        [AlgType.KEY_SCHEDULE]: [KeySchedule.SPDM],
      },
      needed,
      version,
    );
    // MELSpecificationSel: DMTF when this device keeps a MEL and the requester reads that format.
    const melSpec =
      version >= 0x13 && (this.profile.capabilities.flags & CapabilityFlag.MEL) !== 0 && req.melSpec & MEL_SPEC_DMTF
        ? MEL_SPEC_DMTF
        : 0;
    const resp = encodeAlgorithms(version, {
      measurementSpec,
      otherParams,
      measurementHash,
      baseAsym: asymId,
      baseHash: hashId,
      melSpec,
      algStructs,
    });
    this.neg = {
      version,
      hashId,
      asymId,
      measurementHash,
      measurementSpec,
      otherParams,
      requesterCaps: this.pendingCaps,
      multiKeyConn,
      melSpec,
      dheId: algStructValue(algStructs, AlgType.DHE),
      aeadId: algStructValue(algStructs, AlgType.AEAD),
      reqAsymId: algStructValue(algStructs, AlgType.REQ_BASE_ASYM),
    };
    this.stage = 'negotiated';
    this.transcript.appendVca(req.raw, resp);
    this.transcript.setVersion(version);
    this.transcript.setHash(hashId);
    this.transcript.setMultiKeyConn(multiKeyConn);
    return resp;
  }

  private requireNegotiated(): Negotiated {
    if (this.stage !== 'negotiated' || !this.neg) throw new ErrorReply(ErrorCode.UnexpectedRequest);
    return this.neg;
  }

  private requireCap(flag: number): void {
    if ((this.profile.capabilities.flags & flag) === 0) throw new ErrorReply(ErrorCode.UnsupportedRequest);
  }

  private spdmChain(slot: SlotIdentity, neg: Negotiated): Uint8Array {
    return this.slotChain(slot, neg).chain;
  }

  /** Hash of the slot's SPDM chain: its DIGESTS entry and CertChainHash. */
  private spdmChainHash(slot: SlotIdentity, neg: Negotiated): Uint8Array {
    const c = this.slotChain(slot, neg);
    return (c.hash ??= digest(neg.hashId, c.chain));
  }

  private slotChain(slot: SlotIdentity, neg: Negotiated): SlotChainBytes {
    const key = `${neg.hashId}:${neg.version}`;
    let perSlot = this.chainCache.get(slot);
    if (!perSlot) this.chainCache.set(slot, (perSlot = new Map<string, SlotChainBytes>()));
    let c = perSlot.get(key);
    if (!c) {
      c = { chain: encodeSpdmCertChain(neg.version, neg.hashId, slot.certificates, slot.externalRoot) };
      perSlot.set(key, c);
    }
    return c;
  }

  private slotsFor(neg: Negotiated): SlotIdentity[] {
    return this.provisioning.slots.filter((s) => s.asymId === neg.asymId);
  }

  /** The key a signed request names: a certificate slot 0-7, or 0xFF the provisioned public key (PUB_KEY_ID_CAP). */
  private signingSlot(neg: Negotiated, slot: number): SlotIdentity | undefined {
    if (slot === PROVISIONED_KEY_SLOT) return provisionedKeySlot(this.profile, neg.asymId)?.slot;
    return this.slotsFor(neg).find((s) => s.slot === slot);
  }

  /** CertChainHash / Ct: Hash(the slot's SPDM chain), or for slot 0xFF Hash(the DER SubjectPublicKeyInfo). */
  private certChainHash(neg: Negotiated, slot: SlotIdentity): Uint8Array {
    if (slot.slot === PROVISIONED_KEY_SLOT) {
      const k = provisionedKeySlot(this.profile, neg.asymId);
      if (!k) throw new ErrorReply(ErrorCode.InvalidRequest);
      return digest(neg.hashId, k.publicKey);
    }
    return this.spdmChainHash(slot, neg);
  }

  private onGetDigests(request: Uint8Array): Uint8Array {
    const neg = this.requireNegotiated();
    this.requireCap(CapabilityFlag.CERT);
    const req = decodeGetDigests(request);
    const digests = this.slotsFor(neg).map((s) => {
      return {
        slot: s.slot,
        digest: this.spdmChainHash(s, neg),
        keyPairId: this.provisioning.keyPairIdOf(s),
        certificateInfo: s.certModel ?? 1,
        keyUsageMask: this.provisioning.keyUsageOf(s),
      };
    });
    let supportedSlotMask = 0;
    for (const s of this.provisioning.slots) supportedSlotMask |= 1 << s.slot;
    const resp = encodeDigests(neg.version, { supportedSlotMask, digests }, neg.multiKeyConn);
    if (!this.inSession) this.transcript.startB(req.raw, resp);
    return resp;
  }

  private onGetCertificate(request: Uint8Array): Uint8Array {
    const neg = this.requireNegotiated();
    this.requireCap(CapabilityFlag.CERT);
    const req = decodeGetCertificate(request);
    // LargeCertChain needs our LARGE_RESP_CAP; a chain over 64 KiB needs LargeCertChain (libspdm: DataTooLarge with the size).
    if (req.large) this.requireCap(CapabilityFlag.LARGE_RESP);
    const slot = this.slotsFor(neg).find((s) => s.slot === req.slot);
    if (!slot) throw new ErrorReply(ErrorCode.InvalidRequest);
    const chain = this.spdmChain(slot, neg);
    if (!req.large && chain.length > 0xffff) throw new ErrorReply(ErrorCode.DataTooLarge, 0, u32le(chain.length));
    if (req.offset >= chain.length) throw new ErrorReply(ErrorCode.InvalidRequest);
    if (req.slotSizeRequested) {
      const resp = encodeCertificate(neg.version, {
        slot: req.slot,
        certModel: 0,
        portion: new Uint8Array(0),
        remainderLength: chain.length,
        large: req.large,
      });
      if (!this.inSession) this.transcript.appendB(req.raw, resp);
      return resp;
    }
    // A portion must fit the requester's receive buffer (DataTransferSize, 1.2+) and our own limit;
    // with chunking, what both sides can reassemble (MaxSPDMmsgSize).
    const chunk = this.chunkPeer();
    const peerLimit = chunk
      ? Math.min(chunk.requesterMaxSpdmMsgSize, chunk.ourMaxSpdmMsgSize)
      : neg.version >= 0x12
        ? neg.requesterCaps.dataTransferSize
        : 0xffff;
    const ownLimit = chunk ? peerLimit : Math.min(this.profile.capabilities.dataTransferSize || 0xffff, peerLimit);
    const maxPortion = Math.max(1, ownLimit - (req.large ? 16 : 8));
    const len = Math.min(req.length, maxPortion, chain.length - req.offset);
    const portion = chain.subarray(req.offset, req.offset + len);
    const resp = encodeCertificate(neg.version, {
      slot: req.slot,
      // CertificateInfo is only reported on a multi-key connection; otherwise it must be 0
      // (libspdm's requester rejects anything else).
      certModel: neg.multiKeyConn ? (slot.certModel ?? 1) : 0,
      portion,
      remainderLength: chain.length - req.offset - len,
      large: req.large,
    });
    if (!this.inSession) this.transcript.appendB(req.raw, resp);
    return resp;
  }

  private responderNonce(): Uint8Array {
    return this.random(NONCE_SIZE);
  }

  private sign(neg: Negotiated, slot: SlotIdentity, context: string, transcript: Transcript): Uint8Array {
    return spdmSign(slot.privateKey, neg.asymId, {
      version: neg.version,
      hashId: neg.hashId,
      context,
      transcript: transcript.messages,
      transcriptHash: usesSigningContext(neg.version) ? transcript.digest() : undefined,
    });
  }

  private onChallenge(request: Uint8Array): Uint8Array {
    const neg = this.requireNegotiated();
    this.requireCap(CapabilityFlag.CHAL);
    const req = decodeChallenge(request);
    const slot = this.signingSlot(neg, req.slot);
    if (!slot) throw new ErrorReply(ErrorCode.InvalidRequest);
    const measCap = (this.profile.capabilities.flags & MEAS_CAP_MASK) !== 0;
    if (req.measurementSummaryHashType !== 0 && !measCap) throw new ErrorReply(ErrorCode.InvalidRequest);
    const sigSize = asymInfo(neg.asymId)?.sigSize ?? 0;
    const chainHash = this.certChainHash(neg, slot);
    const summary =
      req.measurementSummaryHashType !== 0
        ? this.measurementSummaryHash(neg, req.measurementSummaryHashType)
        : undefined;
    const requesterContext = req.requesterContext;
    // SlotMask lists certificate slots; for the provisioned key it is 0 (libspdm).
    let slotMask = 0;
    if (slot.slot !== PROVISIONED_KEY_SLOT) for (const s of this.slotsFor(neg)) slotMask |= 1 << s.slot;
    const basic = this.wantsBasicMutualAuth(neg);
    const fields = {
      slot: req.slot,
      basicMutAuthRequested: basic,
      slotMask,
      certChainHash: chainHash,
      nonce: this.responderNonce(),
      ...(summary ? { measurementSummaryHash: summary } : {}),
      ...(requesterContext ? { requesterContext } : {}),
    };
    this.basicFlow = basic ? this.newFlow(neg, 'basic', false) : undefined;
    // Build the unsigned form first: transcript C holds it without the signature.
    const { unsigned } = encodeChallengeAuth(neg.version, fields, new Uint8Array(0));
    const m1 = this.transcript.m1(req.raw, unsigned);
    const signature = this.sign(neg, slot, m1.context, m1.transcript);
    if (signature.length !== sigSize) throw new ErrorReply(ErrorCode.Unspecified);
    const { message } = encodeChallengeAuth(neg.version, fields, signature);
    this.transcript.endChallenge();
    return message;
  }

  /** The basic mutual authentication flow CHALLENGE_AUTH started (BasicMutAuthReq), until it ends. */
  private basicFlow: MutualFlow | undefined;
  /** Requesters that proved themselves in basic mutual authentication on this connection (tests, stats). */
  readonly authenticatedRequesters: AuthenticatedRequester[] = [];

  /** Mutual authentication needs MUT_AUTH_CAP on both sides, ENCAP_CAP for a flow, a ReqBaseAsymAlg, and the requester's CERT_CAP. */
  private mutualAuthPossible(neg: Negotiated, withFlow: boolean): boolean {
    const req = neg.requesterCaps.flags;
    return (
      this.bothHave(neg, CapabilityFlag.MUT_AUTH) &&
      (!withFlow || this.bothHave(neg, CapabilityFlag.ENCAP)) &&
      neg.reqAsymId !== 0 &&
      (req & CapabilityFlag.CERT) !== 0
    );
  }

  private wantsBasicMutualAuth(neg: Negotiated): boolean {
    return (
      this.profile.mutualAuth?.basic === true &&
      neg.version >= 0x11 &&
      this.mutualAuthPossible(neg, true) &&
      (neg.requesterCaps.flags & CapabilityFlag.CHAL) !== 0
    );
  }

  private newFlow(neg: Negotiated, purpose: 'basic' | 'session', startWithDigests: boolean): MutualFlow {
    return requesterAuthFlow({
      version: neg.version,
      hashId: neg.hashId,
      reqAsymId: neg.reqAsymId,
      purpose,
      startWithDigests,
      policy: this.profile.mutualAuth ?? {},
      transcript: this.transcript,
      random: this.random,
      now: new Date(),
      ...(neg.version >= 0x14 && (neg.requesterCaps.flags & CapabilityFlag.LARGE_RESP) !== 0
        ? { large: { portion: this.encapsulatedCertificatePortion() } }
        : {}),
    });
  }

  /**
   * Length of each LargeCertChain GET_CERTIFICATE in an encapsulated flow: what one
   * DELIVER_ENCAPSULATED_RESPONSE (4 bytes) carrying a CERTIFICATE (16-byte header) may bring us,
   * as libspdm's responder asks (its MaxSPDMmsgSize less both headers); our DataTransferSize
   * when the connection does not chunk.
   */
  private encapsulatedCertificatePortion(): number {
    const chunk = this.chunkPeer();
    const room = chunk ? chunk.ourMaxSpdmMsgSize : this.profile.capabilities.dataTransferSize || 0xffff;
    return Math.max(1, room - 4 - 16);
  }

  /**
   * The flow a clear GET_ENCAPSULATED_REQUEST / DELIVER_ENCAPSULATED_RESPONSE belongs to: with
   * HANDSHAKE_IN_THE_CLEAR every request of a KEY_EXCHANGE handshake goes in the clear (libspdm
   * sends them so), the encapsulated flow of mutual authentication included; else basic mutual authentication's.
   */
  private clearFlow(code: number): { flow: ClearFlow | undefined; session?: ResponderSession } {
    for (const s of this.sessions.values())
      if (s.inTheClear && s.secure.phase === 'handshake' && s.mutual?.flow && !s.mutual.requester)
        return { flow: s.mutual.flow, session: s };
    if (this.basicFlow && !this.basicFlow.task.finished) return { flow: this.basicFlow };
    // An armed GET_ENDPOINT_INFO starts a flow of its own at the next GET_ENCAPSULATED_REQUEST.
    if (code === RequestCode.GET_ENCAPSULATED_REQUEST && this.neg) {
      const query = this.takeEndpointInfo(this.neg, this.connectionRequester);
      if (query)
        this.endpointFlow = new EncapsulatedFlow(
          new EndpointInfoTask(query, (r) => this.requesterEndpointInfo.push(r)),
        );
    }
    if (this.endpointFlow && !this.endpointFlow.task.finished) return { flow: this.endpointFlow };
    return { flow: this.basicFlow };
  }

  /** An encapsulated GET_ENDPOINT_INFO armed by requestEndpointInfo() and not yet asked. */
  private endpointInfoArmed = false;
  /** The clear flow asking it, while it runs. */
  private endpointFlow: EncapsulatedFlow<EncapContext, EndpointInfoTask> | undefined;
  /** The requester basic mutual authentication established on this connection (GET_VERSION forgets it). */
  private connectionRequester: AuthenticatedRequester | undefined;
  /** What the requester's ENDPOINT_INFO answers told (tests, stats). */
  readonly requesterEndpointInfo: RequesterEndpointInfo[] = [];

  /**
   * Arms an encapsulated GET_ENDPOINT_INFO (1.3) towards the requester, asked at its next
   * GET_ENCAPSULATED_REQUEST in the clear or in an established session (as libspdm's responder
   * does for spdm-emu's OOB_ENCAP_ENDPOINT_INFO). False when the policy does not ask it
   * (mutualAuth.endpointInfo), or the connection cannot carry it (1.3, EP_INFO_CAP, ENCAP_CAP).
   */
  requestEndpointInfo(): boolean {
    const neg = this.neg;
    if (!this.profile.mutualAuth?.endpointInfo || !neg || !this.bothHave(neg, CapabilityFlag.ENCAP)) return false;
    if (!endpointInfoAskable(neg.version, neg.requesterCaps.flags).ask) return false;
    this.endpointInfoArmed = true;
    return true;
  }

  /** The armed GET_ENDPOINT_INFO, taken: signed by `signer` when the policy and the requester allow. */
  private takeEndpointInfo(
    neg: Negotiated,
    signer: AuthenticatedRequester | undefined,
    session?: ResponderSession,
  ): EndpointInfoQuery | undefined {
    if (!this.endpointInfoArmed) return undefined;
    this.endpointInfoArmed = false;
    const can = endpointInfoAskable(neg.version, neg.requesterCaps.flags);
    const signed = this.profile.mutualAuth?.endpointInfo === 'signed' && can.signed && signer !== undefined;
    return new EndpointInfoQuery({
      version: neg.version,
      hashId: neg.hashId,
      reqAsymId: neg.reqAsymId,
      transcript: this.transcript,
      random: this.random,
      ...(signed ? { signer } : {}),
      inSession: session !== undefined,
      ...(session ? { sessionId: session.secure.sessionId } : {}),
    });
  }

  /** The session's encapsulated flow established the requester: Ct_req joins its transcript, FINISH must be signed by it. */
  private sessionRequester(s: ResponderSession, requester: AuthenticatedRequester): void {
    if (!s.mutual) return;
    s.mutual.requester = requester;
    s.transcript.mutualAuth(requester.chainHash);
  }

  /** GET_ENCAPSULATED_REQUEST for mutual authentication: the flow's first request; without a flow, NoPendingRequests (1.3) or UnexpectedRequest. */
  private onGetEncapsulatedRequest(request: Uint8Array, flow: ClearFlow | undefined): Uint8Array {
    const c: EncapContext = this.keyUpdateContext(this.requireNegotiated());
    if (!flow) answerWithoutFlow(request, c);
    return flow.onGet(request, c);
  }

  /**
   * DELIVER_ENCAPSULATED_RESPONSE for mutual authentication: the requester's answer, checked by
   * the flow; the requester it established once the flow ended well.
   */
  private onDeliverEncapsulatedResponse(
    request: Uint8Array,
    flow: ClearFlow | undefined,
  ): { response: Uint8Array; requester?: AuthenticatedRequester } {
    const c: EncapContext = this.keyUpdateContext(this.requireNegotiated());
    if (!flow) answerWithoutFlow(request, c);
    const { response, ended } = flow.onDeliver(request, c);
    const requester = ended && flow.task instanceof RequesterAuthTask ? flow.task.requester : undefined;
    if (!requester) return { response };
    if (flow === this.basicFlow) {
      this.authenticatedRequesters.push(requester);
      this.connectionRequester = requester;
    }
    return { response, requester };
  }

  /**
   * `deliver` run for a session's mutual-authentication flow: the ERROR it answers, as `refused`,
   * when the flow refused the requester's answer and so ended without a requester — the handshake
   * cannot finish, and the caller drops the session rather than keep it half open until the
   * requester gives up. An ERROR that leaves the flow waiting (nothing was outstanding) is thrown.
   */
  private refusingSession<T>(flow: ClearFlow, deliver: () => T): T | { refused: ErrorReply } {
    const wasRunning = flow.running;
    try {
      return deliver();
    } catch (e) {
      if (wasRunning && !flow.running && e instanceof ErrorReply) return { refused: e };
      throw e;
    }
  }

  /** What KEY_EXCHANGE_RSP asks of this requester: MutAuthRequested, ReqSlotIDParam, and the session's mutual state. */
  private sessionMutualAuth(neg: Negotiated): {
    mutAuthRequested: number;
    reqSlotIdParam: number;
    mutual?: { flow?: MutualFlow; requester?: AuthenticatedRequester };
  } {
    const policy = this.profile.mutualAuth;
    const mode = policy?.session ?? 'none';
    const slot = policy?.requesterSlot ?? 0;
    if (mode === 'none' || !this.mutualAuthPossible(neg, mode !== 'plain'))
      return { mutAuthRequested: 0, reqSlotIdParam: 0 };
    if (mode === 'plain') {
      const certs = policy?.requesterCertificates;
      if (!certs || certs.length === 0) return { mutAuthRequested: 0, reqSlotIdParam: 0 };
      const chain = encodeSpdmCertChain(neg.version, neg.hashId, certs);
      let leafKey;
      try {
        leafKey = checkRequesterChain(chain, {
          version: neg.version,
          hashId: neg.hashId,
          reqAsymId: neg.reqAsymId,
          policy: policy ?? {},
          now: new Date(),
        });
      } catch {
        // A provisioned chain that does not fit this connection (another algorithm): no mutual authentication.
        return { mutAuthRequested: 0, reqSlotIdParam: 0 };
      }
      return {
        mutAuthRequested: 0x01,
        reqSlotIdParam: slot,
        mutual: { requester: { slot, chain, chainHash: digest(neg.hashId, chain), leafKey } },
      };
    }
    return {
      mutAuthRequested: mode === 'encap' ? 0x02 : 0x04,
      reqSlotIdParam: 0,
      mutual: { flow: this.newFlow(neg, 'session', mode === 'digests') },
    };
  }

  /** GET_CSR, SET_CERTIFICATE, key-pair info, ENDPOINT_INFO and the MEL: their handlers live beside this file. */
  private answerProvisioningAndInfo(code: number, request: Uint8Array): Uint8Array {
    const neg = this.requireNegotiated();
    switch (code) {
      case RequestCode.GET_CSR:
        return this.provisioning.onGetCsr(neg, request);
      case RequestCode.SET_CERTIFICATE:
        return this.provisioning.onSetCertificate(neg, request, { inSession: this.inSession });
      case RequestCode.GET_KEY_PAIR_INFO:
        return this.provisioning.onGetKeyPairInfo(neg, request);
      case RequestCode.SET_KEY_PAIR_INFO:
        return this.provisioning.onSetKeyPairInfo(neg, request);
      case RequestCode.GET_ENDPOINT_INFO:
        return answerGetEndpointInfo(
          {
            version: neg.version,
            multiKeyConn: neg.multiKeyConn,
            flags: this.profile.capabilities.flags,
            epInfo: this.profile.endpointInfo ?? DEFAULT_ENDPOINT_INFO,
            transcript: this.transcript,
            signingSlot: (slot) => this.signingSlot(neg, slot),
            keyUsageOf: (slot) => this.provisioning.keyUsageOf(slot),
            nonce: () => this.responderNonce(),
            sign: (slot, signed) => this.sign(neg, slot, signed.context, signed.transcript),
          },
          request,
        );
      default: {
        const own = this.profile.capabilities.dataTransferSize || 0xffff;
        const peer = neg.version >= 0x12 ? neg.requesterCaps.dataTransferSize : own;
        return answerGetMel(
          {
            version: neg.version,
            flags: this.profile.capabilities.flags,
            melSpec: neg.melSpec,
            mel: this.mel,
            maxMessage: Math.min(own, peer),
          },
          request,
        );
      }
    }
  }

  /** The block of `m` as sent (shared bytes: encoders copy them, nothing writes them). */
  private blockFor(neg: Negotiated, m: MeasurementSource, rawRequested: boolean): Uint8Array {
    let perHash = this.blockCache.get(m);
    if (!perHash) this.blockCache.set(m, (perHash = new Map<number, Uint8Array>()));
    // MeasurementHashAlgo is one bit of a u32: twice it, plus the raw request, is a distinct key.
    const key = neg.measurementHash * 2 + (rawRequested ? 1 : 0);
    let block = perHash.get(key);
    if (!block) perHash.set(key, (block = this.encodeBlock(neg, m, rawRequested)));
    return block;
  }

  private encodeBlock(neg: Negotiated, m: MeasurementSource, rawRequested: boolean): Uint8Array {
    if (m.digest) return encodeDmtfBlock(m.index, { raw: false, type: m.type, value: m.value });
    const raw = m.alwaysRaw === true || rawRequested || neg.measurementHash === MeasurementHashAlgo.RAW_BIT_STREAM;
    const baseHash = measurementHashToBaseHash(neg.measurementHash);
    const value = raw || baseHash === undefined ? m.value : digest(baseHash, m.value);
    return encodeDmtfBlock(m.index, { raw: raw || baseHash === undefined, type: m.type, value });
  }

  private measurementSummaryHash(neg: Negotiated, type: number): Uint8Array {
    const key = `${neg.hashId}:${neg.measurementHash}:${type}`;
    let h = this.summaryCache.get(key);
    if (!h) {
      const chosen = this.profile.measurements.filter((m) => type === 0xff || m.tcb === true);
      h = digest(neg.hashId, ...chosen.map((m) => this.blockFor(neg, m, false)));
      this.summaryCache.set(key, h);
    }
    return h;
  }

  private onGetMeasurements(request: Uint8Array, run: MessageM = this.transcript.messageM): Uint8Array {
    const neg = this.requireNegotiated();
    const measCap = this.profile.capabilities.flags & MEAS_CAP_MASK;
    if (measCap === 0) throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.GET_MEASUREMENTS);
    const req = decodeGetMeasurements(request);
    if (req.signatureRequested && measCap !== CapabilityFlag.MEAS_SIG) {
      this.transcript.error(ErrorCode.InvalidRequest, run);
      throw new ErrorReply(ErrorCode.InvalidRequest);
    }
    const rawRequested = neg.version >= 0x12 && (req.attributes & MeasurementAttribute.RAW_BIT_STREAM_REQUESTED) !== 0;
    let blocks: Uint8Array[] = [];
    let total = 0;
    const sorted = this.sortedMeasurements;
    if (req.operation === 0) {
      total = sorted.length;
    } else if (req.operation === 0xff) {
      blocks = sorted.map((m) => this.blockFor(neg, m, rawRequested));
    } else {
      const m = sorted.find((x) => x.index === req.operation);
      if (!m) {
        this.transcript.error(ErrorCode.InvalidRequest, run);
        throw new ErrorReply(ErrorCode.InvalidRequest);
      }
      blocks = [this.blockFor(neg, m, rawRequested)];
    }
    const record = Buffer.concat(blocks);
    let slot = 0;
    if (req.signatureRequested) {
      const s = this.signingSlot(neg, req.slot ?? 0);
      if (!s) {
        this.transcript.error(ErrorCode.InvalidRequest, run);
        throw new ErrorReply(ErrorCode.InvalidRequest);
      }
      slot = s.slot;
    }
    const requesterContext = req.requesterContext;
    const fields = {
      totalIndices: total,
      slot,
      contentChanged: 0,
      numberOfBlocks: blocks.length,
      record: new Uint8Array(record.buffer, record.byteOffset, record.length),
      nonce: this.responderNonce(),
      ...(requesterContext ? { requesterContext } : {}),
    };
    if (!req.signatureRequested) {
      const { message } = encodeMeasurements(neg.version, fields);
      run.append(req.raw, message);
      return message;
    }
    const s = this.signingSlot(neg, slot) as SlotIdentity;
    const { unsigned } = encodeMeasurements(neg.version, fields);
    const l = this.transcript.l1l2(req.raw, unsigned, run);
    const signature = this.sign(neg, s, l.context, l.transcript);
    const { message } = encodeMeasurements(neg.version, fields, signature);
    this.transcript.endMeasurementRun(run);
    return message;
  }

  // -------------------------------------------------------------------------------------------
  // Secure sessions: KEY_EXCHANGE and FINISH, then requests inside the session

  /** Both sides set `flag` in their capabilities. */
  private bothHave(neg: Negotiated, flag: number): boolean {
    return (this.profile.capabilities.flags & flag) !== 0 && (neg.requesterCaps.flags & flag) !== 0;
  }

  private keyUpdateContext(neg: Negotiated) {
    return {
      version: neg.version,
      responderFlags: this.profile.capabilities.flags,
      requesterFlags: neg.requesterCaps.flags,
    };
  }

  private endAllSessions(reason: string): void {
    for (const s of this.sessions.values()) {
      s.secure.end(reason);
      this.watchdog.forget(s.secure.sessionId);
    }
    this.sessions.clear();
  }

  /** Tears down every session silent for more than twice its HeartbeatPeriod (session-watchdog.ts). */
  expireIdleSessions(): void {
    for (const id of this.watchdog.expired()) {
      const s = this.sessions.get(id);
      if (s) this.dropSession(s, 'no request for more than twice the HeartbeatPeriod');
    }
  }

  /** HeartbeatPeriod a new session gets: the profile's, when both sides set HBEAT_CAP; 0 otherwise. */
  private sessionHeartbeatPeriod(neg: Negotiated): number {
    return this.bothHave(neg, CapabilityFlag.HBEAT) ? (this.profile.session?.heartbeatPeriod ?? 0) : 0;
  }

  /** Sessions held now (for tests and stats). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private newRspSessionId(reqSessionId: number): number {
    for (;;) {
      const b = this.random(2);
      const id = (b[0] as number) | ((b[1] as number) << 8);
      if (id !== INVALID_SESSION_ID_HALF && !this.sessions.has(((id << 16) | reqSessionId) >>> 0)) return id;
    }
  }

  private onKeyExchange(request: Uint8Array): Uint8Array {
    const neg = this.requireNegotiated();
    if ((this.profile.capabilities.flags & CapabilityFlag.KEY_EX) === 0)
      throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.KEY_EXCHANGE);
    if (neg.version < 0x11 || !this.bothHave(neg, CapabilityFlag.KEY_EX))
      throw new ErrorReply(ErrorCode.UnexpectedRequest);
    const encrypt = this.bothHave(neg, CapabilityFlag.ENCRYPT);
    if ((!encrypt && !this.bothHave(neg, CapabilityFlag.MAC)) || neg.dheId === 0 || neg.aeadId === 0)
      throw new ErrorReply(ErrorCode.UnexpectedRequest);
    const dhe = requireDhe(neg.dheId);
    const req = decodeKeyExchange(request, { exchangeDataSize: dhe.exchangeSize });
    const slot = this.signingSlot(neg, req.slot);
    if (!slot) throw new ErrorReply(ErrorCode.InvalidRequest);
    const measCap = (this.profile.capabilities.flags & MEAS_CAP_MASK) !== 0;
    if (req.measurementSummaryHashType !== 0 && !measCap) throw new ErrorReply(ErrorCode.InvalidRequest);
    if (this.sessions.size >= this.maxSessions) throw new ErrorReply(ErrorCode.SessionLimitExceeded);
    const peer = decodeDheExchangeData(neg.dheId, req.exchangeData, { messageName: 'KEY_EXCHANGE', offset: 40 });
    // DSP0277 version: the highest we share with what the requester lists; 1.0 when no opaque format is negotiated.
    const choice = chooseRequestSecuredVersion(
      sessionOpaqueFormat(neg.version, neg.otherParams),
      req.opaqueData,
      this.profile.session?.securedVersions,
    );
    if (!choice) throw new ErrorReply(ErrorCode.InvalidRequest);
    const { securedVersion, opaqueData } = choice;
    const rspSessionId = this.newRspSessionId(req.reqSessionId);
    const keyPair = DheKeyPair.generate(neg.dheId, { random: this.random });
    const inTheClear = this.bothHave(neg, CapabilityFlag.HANDSHAKE_IN_THE_CLEAR);
    const summary =
      req.measurementSummaryHashType !== 0
        ? this.measurementSummaryHash(neg, req.measurementSummaryHashType)
        : undefined;
    const mutual = this.sessionMutualAuth(neg);
    const heartbeatPeriod = this.sessionHeartbeatPeriod(neg);
    const fields = {
      heartbeatPeriod,
      rspSessionId,
      mutAuthRequested: mutual.mutAuthRequested,
      reqSlotIdParam: mutual.reqSlotIdParam,
      randomData: this.random(32),
      exchangeData: keyPair.exchangeData,
      ...(summary ? { measurementSummaryHash: summary } : {}),
      ...(opaqueData ? { opaqueData } : {}),
    };
    const transcript = this.transcript.keyExchangeSession(this.certChainHash(neg, slot), slot.slot);
    // Signed: the response up to its Signature; TH1 adds the Signature; ResponderVerifyData follows.
    const unsigned = encodeKeyExchangeRsp(neg.version, { ...fields, signature: new Uint8Array(0) });
    const signed = transcript.keyExchangeSignature(req.raw, unsigned);
    const signature = this.sign(neg, slot, signed.context, signed.transcript);
    const withSignature = completeKeyExchangeRsp(unsigned, signature);
    const th1 = transcript.th1(req.raw, withSignature).digest();
    const params: KeyScheduleParams = { version: neg.version, hashId: neg.hashId, aeadId: neg.aeadId };
    const shared = keyPair.sharedSecret(peer);
    const handshake = deriveHandshakeSecrets(params, shared, 'dhe', th1);
    shared.fill(0);
    const responderVerifyData = inTheClear ? undefined : verifyData(params, handshake.responseFinishedKey, th1);
    const resp = responderVerifyData ? completeKeyExchangeRsp(unsigned, signature, responderVerifyData) : withSignature;
    transcript.acceptExchange(req.raw, resp);
    // Without a flow the requester's identity is known already: Ct_req joins the transcript now.
    if (mutual.mutual?.requester) transcript.mutualAuth(mutual.mutual.requester.chainHash);
    const secure = new SecureSession({
      role: 'responder',
      reqSessionId: req.reqSessionId,
      rspSessionId,
      securedVersion,
      aeadId: neg.aeadId,
      binding: this.securedBinding,
      mode: encrypt ? 'encrypt' : 'mac-only',
      random: this.random,
      ...(this.sequenceLimit !== undefined ? { sequenceLimit: this.sequenceLimit } : {}),
      ...(this.profile.session?.sequenceNumberOrder
        ? { sequenceNumberOrder: this.profile.session.sequenceNumberOrder }
        : {}),
    });
    secure.installHandshake(handshake);
    this.sessions.set(secure.sessionId, {
      secure,
      transcript,
      params,
      handshake,
      inTheClear,
      heartbeatPeriod,
      ...(mutual.mutual ? { mutual: mutual.mutual } : {}),
    });
    return resp;
  }

  private onPskExchange(request: Uint8Array): Uint8Array {
    const neg = this.requireNegotiated();
    const { response, session } = answerPskExchange(
      {
        profile: this.profile,
        version: neg.version,
        hashId: neg.hashId,
        aeadId: neg.aeadId,
        otherParams: neg.otherParams,
        requesterFlags: neg.requesterCaps.flags,
        transcript: this.transcript,
        random: this.random,
        binding: this.securedBinding,
        sequenceLimit: this.sequenceLimit,
        sessionsFull: this.sessions.size >= this.maxSessions,
        newRspSessionId: (id) => this.newRspSessionId(id),
        measurementSummaryHash: (type) => this.measurementSummaryHash(neg, type),
      },
      request,
    );
    this.sessions.set(session.secure.sessionId, {
      ...session,
      inTheClear: false,
      heartbeatPeriod: this.sessionHeartbeatPeriod(neg),
    });
    return response;
  }

  /** FINISH in the clear: only for the session in its handshake with HANDSHAKE_IN_THE_CLEAR. */
  private onClearFinish(request: Uint8Array): Uint8Array {
    this.requireNegotiated();
    if ((this.profile.capabilities.flags & CapabilityFlag.KEY_EX) === 0)
      throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.FINISH);
    const s = [...this.sessions.values()].find((x) => x.inTheClear && x.secure.phase === 'handshake');
    if (!s) throw sessionRequired(this.requireNegotiated());
    const { response, after } = this.onFinish(s, request);
    if (after === 'data-keys') this.installDataKeys(s, request, response);
    return response;
  }

  private onFinish(s: ResponderSession, request: Uint8Array): { response: Uint8Array; after: AfterReply } {
    const neg = this.requireNegotiated();
    const h = s.params;
    const hashSize = requireHashSize(neg.hashId);
    const who = s.mutual?.requester;
    if (s.mutual && !who) throw new ErrorReply(ErrorCode.UnexpectedRequest); // FINISH before the flow ended
    const sigSize = asymInfo(neg.reqAsymId)?.sigSize;
    const req = decodeFinish(request, {
      hashSize,
      ...(sigSize !== undefined ? { requesterSignatureSize: sigSize } : {}),
    });
    // A signed FINISH exactly when KEY_EXCHANGE_RSP asked for one, naming the slot it asked for.
    if (req.signatureIncluded !== (who !== undefined)) throw new ErrorReply(ErrorCode.InvalidRequest);
    if (who && req.signature) {
      if (req.reqSlotId !== who.slot) throw new ErrorReply(ErrorCode.InvalidRequest);
      const { ok } = checkTranscriptSignature(
        who.leafKey,
        { version: neg.version, asymId: neg.reqAsymId, hashId: neg.hashId },
        s.transcript.finishSignature(req.unsigned),
        req.signature,
      );
      if (!ok) {
        this.dropSession(s, "FINISH: the requester's signature does not verify");
        throw new ErrorReply(ErrorCode.DecryptError);
      }
    }
    const withoutVerifyData = req.raw.subarray(0, req.raw.length - hashSize);
    const expected = verifyData(
      h,
      s.handshake.requestFinishedKey,
      s.transcript.requesterVerifyTranscript(withoutVerifyData).digest(),
    );
    if (!macEqual(expected, req.requesterVerifyData)) {
      this.dropSession(s, 'FINISH RequesterVerifyData does not match');
      throw new ErrorReply(ErrorCode.DecryptError);
    }
    let response: Uint8Array;
    if (s.inTheClear) {
      const bare = encodeFinishRsp(neg.version, {});
      const t = s.transcript.finishRspVerifyTranscript(req.raw, bare).digest();
      response = encodeFinishRsp(neg.version, {
        responderVerifyData: verifyData(h, s.handshake.responseFinishedKey, t),
      });
    } else {
      response = encodeFinishRsp(neg.version, {});
    }
    return { response, after: 'data-keys' };
  }

  private installDataKeys(s: ResponderSession, finish: Uint8Array, finishRsp: Uint8Array): void {
    let raw: Uint8Array;
    if (s.transcript.kind === 'psk') raw = pskFinishRaw(s, finish);
    else {
      const sigSize = asymInfo(this.neg?.reqAsymId ?? 0)?.sigSize;
      raw = decodeFinish(finish, {
        hashSize: requireHashSize(s.params.hashId),
        ...(sigSize !== undefined ? { requesterSignatureSize: sigSize } : {}),
      }).raw;
    }
    const th2 = s.transcript.th2(raw, finishRsp).digest();
    s.secure.installData(deriveDataSecrets(s.params, s.handshake.handshakeSecret, th2));
    // As libspdm: the watchdog runs from the session's establishment.
    this.watchdog.arm(s.secure.sessionId, s.heartbeatPeriod);
    // Nothing derives from the handshake secret or the finished keys once the data keys are in.
    for (const b of [s.handshake.handshakeSecret, s.handshake.requestFinishedKey, s.handshake.responseFinishedKey])
      b.fill(0);
  }

  private dropSession(s: ResponderSession, reason: string): void {
    s.secure.end(reason);
    this.chunks.reset(s.secure.sessionId);
    this.sessions.delete(s.secure.sessionId);
    this.watchdog.forget(s.secure.sessionId);
  }

  /**
   * The secured channel: one DSP0277 record in, one out. A record this responder cannot open
   * (unknown session, tampered, replayed, truncated, after END_SESSION) ends that session and is
   * answered with ERROR DecryptError in the clear, as libspdm does; the connection and other
   * sessions go on. Errors about the request itself travel inside the session.
   */
  async handleSecured(record: Uint8Array): Promise<Uint8Array> {
    return this.handleSecuredNow(record);
  }

  /** handleSecured(), within the call: as handleNow(), the emulator never waits to answer a record. */
  handleSecuredNow(record: Uint8Array): Uint8Array {
    const v = this.neg?.version ?? 0x11;
    this.expireIdleSessions();
    const id = peekSessionId(record);
    const s = id === undefined ? undefined : this.sessions.get(id);
    if (!s) return encodeError(v, ErrorCode.InvalidSession);
    let inner: InnerMessage;
    try {
      inner = s.secure.openMessage(record);
    } catch {
      this.dropSession(s, 'a record did not open');
      return encodeError(v, ErrorCode.DecryptError);
    }
    this.watchdog.touch(s.secure.sessionId);
    if (!inner.isSpdm) return this.answerApplication(s, inner, v);
    const request = inner.payload;
    let code = -1;
    try {
      code = peekHeader(request).code;
    } catch {
      return s.secure.seal(encodeError(v, ErrorCode.InvalidRequest));
    }
    this.stats.set(code, (this.stats.get(code) ?? 0) + 1);
    let clearError: Uint8Array | undefined;
    const dispatch = (r: Uint8Array): { response: Uint8Array; after: AfterReply } => {
      try {
        return this.answerInSession(s, r);
      } catch (e) {
        if (!this.sessions.has(s.secure.sessionId)) {
          // The handler tore the session down (FINISH with wrong verify data): the ERROR goes in the clear.
          clearError = encodeError(v, e instanceof ErrorReply ? e.errorCode : ErrorCode.Unspecified);
          return { response: clearError, after: undefined };
        }
        const ec =
          e instanceof ErrorReply
            ? e.errorCode
            : e instanceof DecodeError
              ? ErrorCode.InvalidRequest
              : ErrorCode.Unspecified;
        return {
          response: e instanceof ErrorReply ? encodeError(v, ec, e.errorData, e.extendedData) : encodeError(v, ec, 0),
          after: undefined,
        };
      }
    };
    // Chunks travel inside the session's records; the large request is answered as any other.
    const answered = this.chunks.answer(this.chunkPeer(), s.secure.sessionId, request, dispatch, undefined);
    if (clearError) return clearError;
    let response = answered.response;
    const after = answered.after;
    if (this.reviseSessionResponse) response = this.reviseSessionResponse(answered.request, response);
    const out = s.secure.seal(response);
    if (after === 'data-keys') this.installDataKeys(s, answered.request, answered.inner ?? response);
    if (after === 'end') this.dropSession(s, 'END_SESSION');
    if (after === 'refused') this.dropSession(s, "mutual authentication refused the requester's answer");
    return out;
  }

  /** A message of another protocol inside the session (responder/app-data.ts); SPDM ERROR when none is spoken. */
  private answerApplication(s: ResponderSession, inner: InnerMessage, v: number): Uint8Array {
    if (s.secure.phase !== 'established') return s.secure.seal(encodeError(v, ErrorCode.UnexpectedRequest));
    const messageType = inner.header['mctpMessageType'] ?? inner.header['messageType'] ?? -1;
    const a = answerApplicationMessage(s.secure.binding, { messageType, payload: inner.payload });
    return a
      ? s.secure.sealMessage(a.messageType, a.payload)
      : s.secure.seal(encodeError(v, ErrorCode.UnsupportedRequest));
  }

  /** Device-initiated requests and event subscriptions, per session (responder/device-requests.ts). */
  private readonly device = new Map<number, EncapsulatedFlow<DeviceRequestContext, DeviceRequests>>();

  /** The session's encapsulated engine, running its device requests (one per session: RequestIDs run on across its flows). */
  private deviceFlow(s: ResponderSession): EncapsulatedFlow<DeviceRequestContext, DeviceRequests> {
    let d = this.device.get(s.secure.sessionId);
    // A SessionID reused by a later session starts afresh.
    if (!d || d.task.session !== s.secure) {
      // Entries of sessions gone are dropped here, so the map never outgrows the sessions.
      for (const id of this.device.keys()) if (!this.sessions.has(id)) this.device.delete(id);
      d = new EncapsulatedFlow(new DeviceRequests(s.secure));
      this.device.set(s.secure.sessionId, d);
    }
    return d;
  }

  private deviceOf(s: ResponderSession): DeviceRequests {
    return this.deviceFlow(s).task;
  }

  private deviceContext(neg: Negotiated, s: ResponderSession): DeviceRequestContext {
    return {
      ...this.keyUpdateContext(neg),
      params: s.params,
      random: this.random,
      // The session's own requester, else the one basic mutual authentication established.
      takeEndpointInfo: () => this.takeEndpointInfo(neg, s.mutual?.requester ?? this.connectionRequester, s),
      onEndpointInfo: (r) => this.requesterEndpointInfo.push(r),
    };
  }

  /** Established sessions, or the one named. */
  private establishedSessions(sessionId?: number): ResponderSession[] {
    return [...this.sessions.values()].filter(
      (s) => s.secure.phase === 'established' && (sessionId === undefined || s.secure.sessionId === sessionId),
    );
  }

  /**
   * Asks the requester to update keys (responder-initiated KEY_UPDATE, UpdateKey): carried by the
   * session's next encapsulated flow. `sessionId` names the session (default: every established
   * one). False when there is no such session or KEY_UPD_CAP / ENCAP_CAP is not on both sides.
   */
  requestKeyUpdate(sessionId?: number): boolean {
    const neg = this.neg;
    if (!neg || !this.bothHave(neg, CapabilityFlag.KEY_UPD) || !this.bothHave(neg, CapabilityFlag.ENCAP)) return false;
    const targets = this.establishedSessions(sessionId);
    for (const s of targets) this.deviceOf(s).requestKeyUpdate();
    return targets.length > 0;
  }

  /**
   * Raises a DMTF event (type 1–4, with its fixed-size EventDetail) for every established session
   * that subscribed to it (or the one named); the requester collects it with its next
   * encapsulated flow. Returns the EventInstanceIDs queued, one per session that takes it.
   */
  emitEvent(eventTypeId: number, eventDetail: Uint8Array, sessionId?: number): number[] {
    const ids: number[] = [];
    const neg = this.neg;
    if (!neg || neg.version < 0x13 || !(this.profile.capabilities.flags & CapabilityFlag.EVENT)) return ids;
    for (const s of this.establishedSessions(sessionId)) {
      const id = this.deviceOf(s).emit(eventTypeId, eventDetail);
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }

  /** The device-initiated state of a session (tests, stats). */
  deviceRequests(sessionId: number): DeviceRequests | undefined {
    const s = this.sessions.get(sessionId);
    return s ? this.deviceOf(s) : undefined;
  }

  private answerInSession(s: ResponderSession, request: Uint8Array): { response: Uint8Array; after: AfterReply } {
    const neg = this.requireNegotiated();
    const h = peekHeader(request);
    if (h.version !== neg.version) throw new ErrorReply(ErrorCode.VersionMismatch);
    if (s.secure.phase === 'handshake' && s.transcript.kind === 'psk') {
      if (h.code !== RequestCode.PSK_FINISH) throw new ErrorReply(ErrorCode.UnexpectedRequest);
      const response = answerPskFinish(s, request, (why) => this.dropSession(s, why));
      return { response, after: 'data-keys' };
    }
    if (s.secure.phase === 'handshake') {
      const flow = s.inTheClear ? undefined : s.mutual?.flow;
      if (h.code === RequestCode.GET_ENCAPSULATED_REQUEST && flow)
        return { response: this.onGetEncapsulatedRequest(request, flow), after: undefined };
      if (h.code === RequestCode.DELIVER_ENCAPSULATED_RESPONSE && flow) {
        const r = this.refusingSession(flow, () => this.onDeliverEncapsulatedResponse(request, flow));
        if ('refused' in r)
          return {
            response: encodeError(neg.version, r.refused.errorCode, r.refused.errorData, r.refused.extendedData),
            after: 'refused',
          };
        if (r.requester) this.sessionRequester(s, r.requester);
        return { response: r.response, after: undefined };
      }
      if (h.code !== RequestCode.FINISH || s.inTheClear) throw new ErrorReply(ErrorCode.UnexpectedRequest);
      return this.onFinish(s, request);
    }
    const run = s.transcript.messageM;
    // Any request but GET_MEASUREMENTS ends the session's measurement run.
    this.transcript.request(h.code, run);
    this.inSession = true;
    try {
      if (PROVISIONING_AND_INFO.has(h.code))
        return { response: this.answerProvisioningAndInfo(h.code, request), after: undefined };
      switch (h.code) {
        case RequestCode.GET_MEASUREMENTS:
          return { response: this.onGetMeasurements(request, run), after: undefined };
        case RequestCode.GET_DIGESTS:
          return { response: this.onGetDigests(request), after: undefined };
        case RequestCode.GET_CERTIFICATE:
          return { response: this.onGetCertificate(request), after: undefined };
        case RequestCode.HEARTBEAT:
          this.requireCap(CapabilityFlag.HBEAT);
          decodeHeartbeat(request);
          return { response: encodeHeartbeatAck(neg.version), after: undefined };
        case RequestCode.END_SESSION:
          decodeEndSession(request);
          return { response: encodeEndSessionAck(neg.version), after: 'end' };
        case RequestCode.VENDOR_DEFINED_REQUEST:
          return { response: this.vendor.answer(request, neg.version), after: undefined };
        case RequestCode.KEY_UPDATE: {
          const a = answerKeyUpdate(s.secure, request, { ...this.keyUpdateContext(neg), params: s.params });
          if ('errorCode' in a) throw new ErrorReply(a.errorCode, a.errorData);
          return { response: a.ack, after: undefined };
        }
        case RequestCode.GET_ENCAPSULATED_REQUEST:
          return {
            response: this.deviceFlow(s).onGet(request, this.deviceContext(neg, s)),
            after: undefined,
          };
        case RequestCode.DELIVER_ENCAPSULATED_RESPONSE:
          return {
            response: this.deviceFlow(s).onDeliver(request, this.deviceContext(neg, s)).response,
            after: undefined,
          };
        case RequestCode.GET_SUPPORTED_EVENT_TYPES:
          return { response: answerSupportedEventTypes(request, this.deviceContext(neg, s)), after: undefined };
        case RequestCode.SUBSCRIBE_EVENT_TYPES:
          return {
            response: this.deviceOf(s).onSubscribe(
              request,
              this.deviceContext(neg, s),
              this.profile.events?.onSubscribe,
            ),
            after: undefined,
          };
        case RequestCode.GET_VERSION:
        case RequestCode.GET_CAPABILITIES:
        case RequestCode.NEGOTIATE_ALGORITHMS:
        case RequestCode.KEY_EXCHANGE:
        case RequestCode.FINISH:
        case RequestCode.PSK_EXCHANGE:
        case RequestCode.PSK_FINISH:
          throw new ErrorReply(ErrorCode.UnexpectedRequest);
        default:
          throw new ErrorReply(ErrorCode.UnsupportedRequest, h.code);
      }
    } finally {
      this.inSession = false;
    }
  }
}

/** The requests answerProvisioningAndInfo() handles, in the clear and inside a session alike. */
const PROVISIONING_AND_INFO: ReadonlySet<number> = new Set([
  RequestCode.GET_KEY_PAIR_INFO,
  RequestCode.SET_KEY_PAIR_INFO,
  RequestCode.GET_CSR,
  RequestCode.SET_CERTIFICATE,
  RequestCode.GET_ENDPOINT_INFO,
  RequestCode.GET_MEASUREMENT_EXTENSION_LOG,
]);

/** A session-only request outside any session: SessionRequired from 1.2, Unspecified before (as libspdm answers). */
function sessionRequired(neg: Negotiated): ErrorReply {
  return new ErrorReply(neg.version >= 0x12 ? ErrorCode.SessionRequired : ErrorCode.Unspecified);
}

function requireHashSize(hashId: number): number {
  const size = hashInfo(hashId)?.size;
  if (size === undefined) throw new ErrorReply(ErrorCode.Unspecified);
  return size;
}
