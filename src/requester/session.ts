/**
 * A secure session as the caller holds it: requests sent through it travel in DSP0277 records
 * of the transport's binding, under the session's data keys. `send` takes any SPDM request and
 * returns the response as received (an ERROR included); `getMeasurements`, `heartbeat` and `end`
 * are the checked flows. A fault of the session (a record that does not open, a clear ERROR from
 * a device that could not open ours) ends this session only: the connection and other sessions
 * go on.
 */
import { SpdmError } from '../wire/errors.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { aeadInfo } from '../crypto/aead.js';
import { dheInfo } from '../crypto/dhe.js';
import { hashInfo } from '../crypto/algorithms.js';
import { ResponseCode } from '../spdm/codes.js';
import { decodeHeartbeatAck, encodeHeartbeat } from '../spdm/messages/heartbeat.js';
import { decodeEndSessionAck, encodeEndSession } from '../spdm/messages/end-session.js';
import {
  decodeVendorDefinedResponse,
  encodeVendorDefinedRequest,
  type VendorDefinedResponse,
} from '../spdm/messages/vendor-defined.js';
import { sessionIdHex, type SecureSession, type SessionPhase } from '../session/secure-session.js';
import { isClearError } from '../session/session-id.js';
import { securedVersionText } from '../session/secured-version.js';
import type { ExchangeOptions, Transport } from '../transport/transport.js';
import type { SessionSignatureEvidence, SignatureEvidence } from '../evidence/evidence.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { getMeasurements, type MeasurementRequestOptions, type MeasurementRun } from './get-measurements.js';
import { updateSessionKeys, type KeyUpdateKind, type KeyUpdateRun } from './key-update.js';
import type { RequestContext } from './connection.js';
// Imported when first used, as in requester.ts: a session that provisions nothing never loads them.
import type { CsrRequestOptions, CsrResult } from './get-csr.js';
import type { SetCertificateOptions } from './set-certificate.js';
import { getKeyPairInfo, setKeyPairInfo, type KeyPairInfo, type SetKeyPairInfoOptions } from './key-pair-info.js';
import { getEndpointInfo, type EndpointInfoOptions, type EndpointInfoResult } from './get-endpoint-info.js';
import type { MelResult } from './get-mel.js';
import { LIMITS } from '../wire/limits.js';
import {
  sessionEncapsulatedFlow,
  type SessionEncapsulatedOptions,
  type SessionEncapsulatedRun,
} from './session-encapsulated.js';
import { getSupportedEventTypes, subscribeEventTypes } from './events.js';
import type { EventGroup } from '../spdm/messages/event-groups.js';
import type { SpdmEvent } from '../spdm/messages/events.js';

/** The session's secured channel as a Transport, so that exchange()'s ERROR handling applies inside it too. */
export class SessionChannel implements Transport {
  readonly securedCapable = false;
  readonly maxMessageSize: number;
  constructor(
    private readonly outer: Transport,
    readonly secure: SecureSession,
  ) {
    this.maxMessageSize = outer.maxMessageSize;
  }

  /** Run before a record when the keys are at their limit (the Session sets it: KEY_UPDATE or END_SESSION). */
  private limitGuard: (() => Promise<void>) | undefined;
  /** Set while the guard runs: its own records (KEY_UPDATE, END_SESSION) are what the last sequence numbers are kept for. */
  private guarding = false;

  onSequenceLimit(guard: () => Promise<void>): void {
    this.limitGuard = guard;
  }

  private async beforeRecord(): Promise<void> {
    if (!this.limitGuard || this.guarding || this.secure.phase !== 'established' || !this.secure.atSequenceLimit)
      return;
    this.guarding = true;
    try {
      await this.limitGuard();
    } finally {
      this.guarding = false;
    }
  }

  async exchange(request: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    if (!this.outer.exchangeSecured) throw new SpdmError('UNSUPPORTED', 'the transport carries no secured messages');
    await this.beforeRecord();
    const reply = await this.outer.exchangeSecured(this.secure.seal(request), options);
    if (isClearError(reply, this.secure.sessionId)) {
      // A device that could not open our record answers ERROR in the clear and drops the session (libspdm does).
      this.secure.end('the device answered ERROR outside the session');
      return reply;
    }
    return this.secure.open(reply);
  }

  /**
   * One application message of another protocol (MCTP or DSP0287 message type) and the answer:
   * an application message, or an SPDM message (an ERROR) from a device that speaks no such protocol.
   */
  async exchangeApplication(
    messageType: number,
    payload: Uint8Array,
    options: ExchangeOptions = {},
  ): Promise<ApplicationReply> {
    if (!this.outer.exchangeSecured) throw new SpdmError('UNSUPPORTED', 'the transport carries no secured messages');
    await this.beforeRecord();
    const reply = await this.outer.exchangeSecured(this.secure.sealMessage(messageType, payload), options);
    if (isClearError(reply, this.secure.sessionId)) {
      this.secure.end('the device answered ERROR outside the session');
      return { spdm: reply };
    }
    const inner = this.secure.openMessage(reply);
    if (inner.isSpdm) return { spdm: inner.payload };
    return {
      messageType: inner.header['mctpMessageType'] ?? inner.header['messageType'] ?? -1,
      payload: inner.payload,
    };
  }
}

/** What came back for an application message: the other protocol's answer, or an SPDM message. */
export type ApplicationReply =
  { readonly messageType: number; readonly payload: Uint8Array } | { readonly spdm: Uint8Array };

export interface SessionInfo {
  /** How the session was established: KEY_EXCHANGE (signed, ephemeral DHE) or PSK_EXCHANGE (a pre-shared key, no signature). */
  readonly kind: 'key-exchange' | 'psk';
  readonly sessionId: number;
  readonly reqSessionId: number;
  readonly rspSessionId: number;
  readonly securedVersion: string;
  readonly mode: 'encrypt' | 'mac-only';
  readonly binding: string;
  /** How the sequence number enters the AEAD nonce: 'le' for every 1.2 session, the option's choice for 1.0/1.1. */
  readonly sequenceNumberOrder: 'le' | 'be';
  /** KEY_EXCHANGE sessions: the (EC)DHE group. A PSK session has none. */
  readonly dhe?: { readonly id: number; readonly name: string };
  readonly aead: { readonly id: number; readonly name: string };
  readonly hash: { readonly id: number; readonly name: string };
  /** Seconds; 0 when the device asked for no heartbeat. */
  readonly heartbeatPeriod: number;
  readonly handshakeInTheClear: boolean;
  /**
   * PSK sessions: the PSKHint sent (hex, '' for none) and whether PSK_FINISH ran (the responder's
   * PSK_CAP is 10b, with context; with 01b the data keys follow PSK_EXCHANGE_RSP directly).
   */
  readonly psk?: { readonly hint: string; readonly finish: boolean };
  /** Set when the device had us authenticate (KEY_EXCHANGE_RSP MutAuthRequested): how, which of our slots signed FINISH, what it read. */
  readonly mutualAuth?: MutualAuthReport;
}

export interface MutualAuthReport {
  /** 'encap' / 'digests': the device read our chain with encapsulated requests; 'plain': it knew it already. */
  readonly flow: 'plain' | 'encap' | 'digests' | 'basic';
  /** Our slot whose key signed (FINISH, or the encapsulated CHALLENGE_AUTH). */
  readonly requesterSlot: number;
  /** The encapsulated requests the device made, in order. */
  readonly asked: readonly string[];
}

/** What the Requester gives a Session: a request context whose `send` goes through the channel. */
export interface SessionWiring {
  readonly channel: SessionChannel;
  readonly info: SessionInfo;
  readonly signature?: SessionSignatureEvidence;
  readonly measurementSummaryHash?: Uint8Array;
  readonly context: () => RequestContext;
  readonly version: number;
  readonly onMeasurements: (run: MeasurementRun) => void;
  /** Another signature taken in the session (a signed ENDPOINT_INFO), for the requester's evidence. */
  readonly onSignature?: (signature: SignatureEvidence) => void;
  readonly timeoutMs: () => number;
  /** The capability flags the requester sent (KEY_UPDATE needs KEY_UPD_CAP on both sides). */
  readonly requesterFlags?: number;
  /** For the KEY_UPDATE Tags (default: the system's random source). */
  readonly random?: RandomSource;
  /** The largest MEL portion to ask for (what our DataTransferSize leaves after the 12-byte header). */
  readonly melPortionMax?: number;
  /** What the device's encapsulated GET_ENDPOINT_INFO is answered from (our EPInfo and identity, the connection's A). */
  readonly endpointInfo?: () => SessionEncapsulatedOptions['endpointInfo'];
}

export class Session {
  readonly sessionId: number;
  readonly info: SessionInfo;
  /**
   * The KEY_EXCHANGE_RSP signature, re-verifiable offline (reverifySignature with the requester's
   * Evidence). Absent for a PSK session: nothing in it is signed, it proves the PSK only.
   */
  readonly signature?: SessionSignatureEvidence;
  readonly measurementSummaryHash?: Uint8Array;

  /** Use Requester.startSession(). */
  constructor(private readonly w: SessionWiring) {
    this.sessionId = w.info.sessionId;
    this.info = w.info;
    if (w.signature) this.signature = w.signature;
    if (w.measurementSummaryHash) this.measurementSummaryHash = w.measurementSummaryHash;
    w.channel.onSequenceLimit(() => this.atSequenceLimit());
  }

  private forced = 0;

  /** Key updates the session ran by itself because its keys reached their sequence limit. */
  get forcedKeyUpdates(): number {
    return this.forced;
  }

  /**
   * The keys have one exchange left (RequesterOptions.session.sequenceLimit): DSP0277 wants no key
   * used past its limit, so they are renewed with KEY_UPDATE UpdateAllKeys when both sides set
   * KEY_UPD_CAP (both directions start again at 0); otherwise the session is ended with
   * END_SESSION and the request that found it so is refused with SESSION_SEQUENCE.
   */
  private async atSequenceLimit(): Promise<void> {
    const secure = this.w.channel.secure;
    const flag = CapabilityFlag.KEY_UPD;
    if (
      this.w.version >= 0x11 &&
      ((this.w.requesterFlags ?? 0) & flag) !== 0 &&
      (this.w.context().connection.capabilities.flags & flag) !== 0
    ) {
      await this.keyUpdate('all');
      this.forced++;
      return;
    }
    const limit = secure.sequenceLimit;
    await this.end();
    throw new SpdmError(
      'SESSION_SEQUENCE',
      `session ${secure.id}: its keys reached their sequence limit ${limit} and KEY_UPDATE is not on both sides, so the session was ended`,
      { sessionId: secure.id, limit: limit.toString() },
    );
  }

  get phase(): SessionPhase {
    return this.w.channel.secure.phase;
  }

  /** Any SPDM request inside the session; the response as received (an ERROR is returned, not thrown). */
  async send(request: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    return this.w.channel.exchange(request, { timeoutMs: options.timeoutMs ?? this.w.timeoutMs() });
  }

  /**
   * A message of another protocol inside the session (DSP0277 application data): `messageType`
   * is the MCTP message type (PLDM is 0x01) or the DSP0287 message type over TCP. PCIe DOE
   * carries SPDM only (UNSUPPORTED): use `vendorDefined` there.
   */
  async sendApplicationMessage(
    messageType: number,
    payload: Uint8Array,
    options: ExchangeOptions = {},
  ): Promise<ApplicationReply> {
    return this.w.channel.exchangeApplication(messageType, payload, {
      timeoutMs: options.timeoutMs ?? this.w.timeoutMs(),
    });
  }

  /** VENDOR_DEFINED_REQUEST → VENDOR_DEFINED_RESPONSE inside the session (1.0 layout; 1.4 Large when `large`). */
  async vendorDefined(m: {
    readonly standardId: number;
    readonly vendorId: Uint8Array;
    readonly payload: Uint8Array;
    readonly large?: boolean;
  }): Promise<VendorDefinedResponse> {
    return this.w
      .context()
      .send(
        encodeVendorDefinedRequest(this.w.version, { ...m, large: m.large ?? false }),
        ResponseCode.VENDOR_DEFINED_RESPONSE,
        'T2',
        decodeVendorDefinedResponse,
      );
  }

  /** GET_MEASUREMENTS inside the session, with the session's own measurement run (message_m). */
  async getMeasurements(options: MeasurementRequestOptions = {}): Promise<MeasurementRun> {
    const got = await getMeasurements(this.w.context(), options);
    // The signature record names the session it was taken in (the signed bytes do not).
    const run = got.signature
      ? { ...got, signature: { ...got.signature, sessionId: sessionIdHex(this.sessionId) } }
      : got;
    this.w.onMeasurements(run);
    return run;
  }

  /**
   * HEARTBEAT → HEARTBEAT_ACK. Refused before sending unless both sides negotiated HBEAT_CAP: a
   * device that did not offer it would answer UnsupportedRequest, and sending it anyway tells the
   * caller nothing about the session.
   */
  async heartbeat(): Promise<void> {
    const context = this.w.context();
    if (!((this.w.requesterFlags ?? 0) & CapabilityFlag.HBEAT))
      throw new SpdmError(
        'UNSUPPORTED',
        'HEARTBEAT needs HBEAT_CAP in our capabilities (RequesterOptions.capabilityFlags)',
      );
    if (!(context.connection.capabilities.flags & CapabilityFlag.HBEAT))
      throw new SpdmError('UNSUPPORTED', 'the device does not offer HEARTBEAT (HBEAT_CAP clear)');
    await context.send(encodeHeartbeat(this.w.version), ResponseCode.HEARTBEAT_ACK, 'T1', decodeHeartbeatAck);
  }

  /**
   * KEY_UPDATE then VerifyNewKey (requester/key-update.ts): 'one' renews our direction's key,
   * 'all' both; each direction's sequence numbers start again at 0. A device's ERROR leaves the
   * session as it was; an ACK that does not echo the request ends it (KEY_UPDATE_FAILED).
   */
  async keyUpdate(kind: KeyUpdateKind): Promise<KeyUpdateRun> {
    const secure = this.w.channel.secure;
    return updateSessionKeys(
      {
        context: this.w.context(),
        secure,
        params: { version: this.w.version, hashId: this.info.hash.id, aeadId: this.info.aead.id },
        requesterFlags: this.w.requesterFlags ?? 0,
        random: this.w.random ?? systemRandom,
      },
      kind,
    );
  }

  /** GET_CSR inside the session (Requester.getCsr). */
  async getCsr(options: CsrRequestOptions = {}): Promise<CsrResult> {
    const { getCsr } = await import('./get-csr.js');
    return getCsr(this.w.context(), options);
  }

  /** SET_CERTIFICATE inside the session, where slots other than 0 are provisioned (Requester.setCertificate). */
  async setCertificate(options: SetCertificateOptions): Promise<void> {
    const { setCertificate } = await import('./set-certificate.js');
    return setCertificate(this.w.context(), options);
  }

  getKeyPairInfo(keyPairId: number): Promise<KeyPairInfo> {
    return getKeyPairInfo(this.w.context(), keyPairId);
  }

  setKeyPairInfo(options: SetKeyPairInfoOptions): Promise<void> {
    return setKeyPairInfo(this.w.context(), options);
  }

  /**
   * GET_ENDPOINT_INFO inside the session; signed over the same IL1/IL2 (A ‖ request ‖ response).
   * A signed answer joins the requester's evidence, naming the session it was taken in.
   */
  async getEndpointInfo(options: EndpointInfoOptions = {}): Promise<EndpointInfoResult> {
    const got = await getEndpointInfo(this.w.context(), options);
    if (!got.signature) return got;
    // The signed bytes do not name the session: the record does.
    const r = { ...got, signature: { ...got.signature, sessionId: sessionIdHex(this.sessionId) } };
    this.w.onSignature?.(r.signature);
    return r;
  }

  async getMeasurementExtensionLog(options: { readonly maxBytes?: number } = {}): Promise<MelResult> {
    const { getMeasurementExtensionLog } = await import('./get-mel.js');
    return getMeasurementExtensionLog(this.w.context(), {
      portionMax: this.w.melPortionMax ?? 0x1200 - 12,
      maxBytes: options.maxBytes ?? LIMITS.melBytes,
    });
  }

  /**
   * Runs the device's encapsulated flow in this session (session-encapsulated.ts): answers its
   * KEY_UPDATE (responder-initiated: the response key moves on), collects its SEND_EVENT
   * events and gives it our ENDPOINT_INFO (GET_ENDPOINT_INFO, signed on request). A device with nothing to ask gives an empty run.
   */
  async answerEncapsulated(options: { maxEvents?: number } = {}): Promise<SessionEncapsulatedRun> {
    const context = this.w.context();
    return sessionEncapsulatedFlow((request, expect, decode) => context.send(request, expect, 'T2', decode), {
      version: this.w.version,
      secure: this.w.channel.secure,
      params: { version: this.w.version, hashId: this.info.hash.id, aeadId: this.info.aead.id },
      requesterFlags: this.w.requesterFlags ?? 0,
      responderFlags: context.connection.capabilities.flags,
      ...(options.maxEvents !== undefined ? { maxEvents: options.maxEvents } : {}),
      ...(this.w.endpointInfo ? { endpointInfo: this.w.endpointInfo() } : {}),
    });
  }

  /** The events the device has for us, collected with one encapsulated flow (at most `maxEvents`). */
  async receiveEvents(options: { maxEvents?: number } = {}): Promise<readonly SpdmEvent[]> {
    return (await this.answerEncapsulated(options)).events;
  }

  /** GET_SUPPORTED_EVENT_TYPES (1.3): the device's event groups and their types. */
  async supportedEventTypes(): Promise<EventGroup[]> {
    return getSupportedEventTypes(this.w.context());
  }

  /** SUBSCRIBE_EVENT_TYPES (1.3): `[]` unsubscribes from everything. */
  async subscribeEvents(groups: readonly EventGroup[]): Promise<void> {
    return subscribeEventTypes(this.w.context(), groups);
  }

  /** END_SESSION → END_SESSION_ACK; the keys are gone afterwards, whatever the answer. */
  async end(options: { negotiatedStateClearing?: boolean } = {}): Promise<void> {
    try {
      await this.w
        .context()
        .send(
          encodeEndSession(this.w.version, { negotiatedStateClearing: options.negotiatedStateClearing ?? false }),
          ResponseCode.END_SESSION_ACK,
          'T1',
          decodeEndSessionAck,
        );
    } finally {
      this.w.channel.secure.end('END_SESSION');
    }
  }
}

/** `dheId` for a KEY_EXCHANGE session, `psk` for a PSK one. */
export function sessionInfo(
  secure: SecureSession,
  ids: { dheId?: number; aeadId: number; hashId: number },
  heartbeatPeriod: number,
  handshakeInTheClear: boolean,
  psk?: SessionInfo['psk'],
  mutualAuth?: MutualAuthReport,
): SessionInfo {
  const dheId = ids.dheId;
  return {
    kind: psk ? 'psk' : 'key-exchange',
    sessionId: secure.sessionId,
    reqSessionId: secure.reqSessionId,
    rspSessionId: secure.rspSessionId,
    securedVersion: securedVersionText(secure.securedVersion),
    mode: secure.mode,
    binding: secure.binding,
    sequenceNumberOrder: secure.nonceOrder,
    ...(dheId !== undefined && !psk
      ? { dhe: { id: dheId, name: dheInfo(dheId)?.name ?? `0x${dheId.toString(16)}` } }
      : {}),
    aead: { id: ids.aeadId, name: aeadInfo(ids.aeadId)?.name ?? `0x${ids.aeadId.toString(16)}` },
    hash: { id: ids.hashId, name: hashInfo(ids.hashId)?.name ?? `0x${ids.hashId.toString(16)}` },
    heartbeatPeriod,
    handshakeInTheClear,
    ...(psk ? { psk } : {}),
    ...(mutualAuth ? { mutualAuth } : {}),
  };
}
