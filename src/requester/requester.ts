/**
 * The SPDM requester: runs VCA, retrieves digests and certificate chains, challenges and reads
 * signed measurements. It checks protocol integrity (lengths, echoed values, digests, transcript
 * signatures against the leaf key of the chain the device sent) and produces Evidence; it does
 * not decide whether the device is trusted — that is the verifier's job.
 *
 * This class sequences and keeps state; each request lives in its own module (negotiate.ts,
 * get-digests.ts, get-certificate.ts, challenge.ts, get-measurements.ts) and runs against the
 * {@link RequestContext} it is given.
 */
import { digest } from '../crypto/hash.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { checkSecuredVersions } from '../session/secured-version.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { ConnectionTranscript, type MessageM } from '../spdm/connection-transcript.js';
import { CapabilityFlag, MEAS_CAP_MASK } from '../spdm/messages/capabilities.js';
import type { SlotDigest } from '../spdm/messages/digests.js';
import { MeasurementSummaryHashType, NONCE_SIZE, REQUESTER_CONTEXT_SIZE } from '../spdm/messages/challenge.js';
import { sharedCertificateCache } from '../x509/cache.js';
import { systemClock, type Clock } from '../transport/clock.js';
import type { Transport } from '../transport/transport.js';
import type { SecuredTransport } from '../session/record.js';
import type {
  Evidence,
  MeasurementEvidence,
  SessionSignatureEvidence,
  SignatureEvidence,
} from '../evidence/evidence.js';
import { buildEvidence } from '../evidence/build.js';
import { SIGNED_KINDS } from '../evidence/signed-kinds.js';
import { exchange, type Decoder, type ExchangePolicy, type RoundTrip } from './exchange.js';
import type { Connection, RequestContext } from './connection.js';
import { challenge } from './challenge.js';
import { getCertificateChain, largeCertChain, type SlotState } from './get-certificate.js';
import { getDigests } from './get-digests.js';
import { checkIndices, getMeasurements, type MeasurementRequestOptions } from './get-measurements.js';
import { dataTransferSize, negotiate } from './negotiate.js';
import { chunkLimits, encapsulatedResponseLimit, portionLimit, type ChunkingPeer } from './chunk-limits.js';
import { ST1_MS, type RequesterOptions } from './options.js';
import { ResponderNonces } from './proof.js';
import type { FinishSigner } from './finish.js';
import type { PskOptions } from './psk-exchange.js';
import type { Session, SessionChannel, MutualAuthReport } from './session.js';
import type { SessionTranscript } from '../spdm/session-transcript.js';
import { toHex } from '../wire/bytes.js';
import { IdentityView } from './identity.js';
import { DEFAULT_REQUESTER_ENDPOINT_INFO } from './encap-endpoint-info.js';
import type { EncapsulatedSend } from './encapsulated.js';
import { RequestCode } from '../spdm/codes.js';
import type { CsrRequestOptions, CsrResult } from './get-csr.js';
import type { SetCertificateOptions } from './set-certificate.js';
import type { KeyPairInfo, SetKeyPairInfoOptions } from './key-pair-info.js';
import type { EndpointInfoOptions, EndpointInfoResult } from './get-endpoint-info.js';
import type { MelResult } from './get-mel.js';
import { checkDevicePublicKey, devicePublicKey, PUBLIC_KEY_SLOT, type DevicePublicKey } from './device-public-key.js';

export type { Connection } from './connection.js';
export type { Session, SessionInfo, MutualAuthReport } from './session.js';
import type { EventGroup } from '../spdm/messages/event-groups.js';
import type { SpdmEvent } from '../spdm/messages/events.js';
import type { SessionInfo } from './session.js';
import type { KeyUpdateKind } from './key-update.js';

/*
 * The modules of the flows a plain authentication does not run (sessions, encapsulated requests,
 * CSR and certificate provisioning, key pairs, ENDPOINT_INFO, the MEL) are imported when a flow
 * first needs them: `spdm authenticate` and every other start of a requester then skips loading
 * them (issue 12, cold start), the CSR one above all, which brings the ASN.1 library for X.509
 * generation with it.
 */
const sessionModules = loadOnce(() =>
  Promise.all([import('./key-exchange.js'), import('./finish.js'), import('./session.js')]),
);
const pskSessionModules = loadOnce(() =>
  Promise.all([import('./psk-exchange.js'), import('./psk-finish.js'), import('./session.js')]),
);
const sessionModule = loadOnce(() => import('./session.js'));

/**
 * A lazy import done once: the modules it resolved to are kept and handed back as they are. A
 * dynamic import() per call goes through the ESM loader's resolution and module map each time
 * (several native calls and promises for modules long loaded), which cost every handshake about
 * as much as one of its HMACs. A failed import is not kept: the next call tries again.
 */
function loadOnce<T>(load: () => Promise<T>): () => T | Promise<T> {
  let loaded: { readonly value: T } | undefined;
  let pending: Promise<T> | undefined;
  return () => {
    if (loaded) return loaded.value;
    pending ??= load().then(
      (value) => {
        loaded = { value };
        return value;
      },
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    );
    return pending;
  };
}

export interface StartSessionOptions {
  /** The slot whose leaf key signs KEY_EXCHANGE_RSP (its chain is read first if it was not). Default 0. */
  readonly slot?: number;
  /** KEY_EXCHANGE Param1: 0 none (default), 1 TCB components, 0xFF all; needs MEAS_CAP. */
  readonly measurementSummaryHashType?: number;
  /** Last sequence number per direction and key (default 2^64 − 1). */
  readonly sequenceLimit?: bigint;
  /**
   * A PSK session (PSK_EXCHANGE, then PSK_FINISH when the device's PSK_CAP is 10b) instead of
   * KEY_EXCHANGE/FINISH: needs PSK_CAP in `capabilityFlags`; no certificate is read and `slot` is
   * unused, because nothing in it is signed.
   */
  readonly psk?: PskOptions;
}
export type { PskOptions } from './psk-exchange.js';
export type { MeasurementRequestOptions } from './get-measurements.js';
export type { CsrRequestOptions, CsrResult } from './get-csr.js';
export type { SetCertificateOptions } from './set-certificate.js';
export type { KeyPairInfo, SetKeyPairInfoOptions } from './key-pair-info.js';
export type { EndpointInfoOptions, EndpointInfoResult } from './get-endpoint-info.js';
export type { MelResult } from './get-mel.js';

export interface AuthenticateOptions extends MeasurementRequestOptions {
  /**
   * The requester nonce for every signed request of this run, e.g. one chosen by a remote
   * verifier so that it can tell the evidence is fresh. Random when omitted.
   */
  readonly nonce?: Uint8Array;
  readonly slot?: number;
  /** Skip GET_MEASUREMENTS even when the device supports signed measurements. */
  readonly skipMeasurements?: boolean;
  readonly measurementSummaryHashType?: number;
  /**
   * Refuse a device that does not offer CHALLENGE (PCIe CMA requires it) instead of accepting a
   * signed MEASUREMENTS as the only proof of key possession.
   */
  readonly requireChallenge?: boolean;
  /**
   * Also ask for a signed ENDPOINT_INFO (1.3+, the device's EP_INFO_CAP with signature) of the
   * slot authenticated, over the run's nonce: one more signature in the evidence, its EPInfo the
   * device's DeviceClassIdentifier; asked inside the session when `session` is given. Refused
   * (UNSUPPORTED) before anything is asked when the device cannot sign one.
   */
  readonly endpointInfo?: boolean;
  /**
   * Take the signed measurements inside a KEY_EXCHANGE session (then HEARTBEAT and KEY_UPDATE
   * when asked, then END_SESSION); the requester needs RequesterOptions.session and KEY_EX_CAP with ENCRYPT_CAP
   * and/or MAC_CAP. What ran is in `lastSession` afterwards.
   */
  readonly session?: {
    readonly heartbeat?: boolean;
    /**
     * A PSK session instead (needs PSK_CAP). It proves the device holds the PSK, not its
     * certificate key: authentication still rests on CHALLENGE or the signed measurements.
     */
    readonly psk?: PskOptions;
    /** KEY_UPDATE after the measurements (needs KEY_UPD_CAP on both sides). */
    readonly keyUpdate?: KeyUpdateKind;
    /**
     * SPDM 1.3 events: GET_SUPPORTED_EVENT_TYPES, SUBSCRIBE_EVENT_TYPES to every type the device
     * offers, then one encapsulated flow that collects what it sends (and answers its own KEY_UPDATE
     * if it asks for one); unsubscribed before END_SESSION. Needs EVENT_CAP and ENCAP_CAP on our side,
     * EVENT_CAP on the device's.
     */
    readonly events?: boolean;
  };
}

/** What a session of authenticate() did. */
export interface SessionReport {
  readonly info: SessionInfo;
  /** KEY_EXCHANGE sessions; a PSK session has no signature. */
  readonly keyExchangeSignature?: SessionSignatureEvidence;
  /** The requests run inside the session, in order. */
  readonly ran: readonly string[];
  /** With `session.events`: the event types subscribed to, the events received, and whether the device renewed its key. */
  readonly events?: {
    readonly subscribed: readonly EventGroup[];
    readonly received: readonly SpdmEvent[];
    readonly deviceKeyUpdate: boolean;
  };
}

function nonNegative(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer, got ${n}`);
  return n;
}

function positiveMs(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0 || n > LIMITS.maxTimerMs)
    throw new TypeError(`${name} must be a positive number of milliseconds up to ${LIMITS.maxTimerMs}, got ${n}`);
  return n;
}

/**
 * An SPDM requester over one {@link Transport}: negotiates (connect), then gathers evidence —
 * digests, certificate chains, CHALLENGE and signed measurements — checking every reply as it
 * goes. {@link Requester.authenticate} runs the whole flow and returns the {@link Evidence};
 * whether the device is trusted is the verifier's call ({@link verify}), not this class's.
 *
 * @example
 * ```ts
 * import { LoopbackTransport, Requester, Responder, buildProfile } from 'spdmkit';
 *
 * // An emulated device (ECDSA P-384, SHA-384, SPDM 1.2 and 1.3) answering in-process.
 * const device = buildProfile({ name: 'nvme0', versions: [0x12, 0x13], asymId: 0x0080, hashId: 0x02 });
 * const requester = new Requester(new LoopbackTransport(new Responder(device.profile)));
 * const evidence = await requester.authenticate();
 * console.log(evidence.version, evidence.signatures.map((s) => s.kind));
 * ```
 */
export class Requester {
  private readonly opts: RequesterOptions;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private readonly policy: ExchangePolicy;
  private conn: Connection | undefined;
  /** Between CAPABILITIES and ALGORITHMS: what chunking of NEGOTIATE_ALGORITHMS runs on. */
  private negotiating: ChunkingPeer | undefined;
  /** A, B, C and message_m of this connection: the transcript rules live there. */
  private readonly transcript = new ConnectionTranscript();
  private readonly slots = new Map<number, SlotState>();
  private readonly signatures: SignatureEvidence[] = [];
  /** KEY_EXCHANGE_RSP signatures of the sessions started on this connection. */
  private readonly sessionSignatureList: SessionSignatureEvidence[] = [];
  private sessionReport: SessionReport | undefined;
  private readonly measurements = new Map<number, MeasurementEvidence>();
  private readonly responderNonces = new ResponderNonces();
  private digests: readonly SlotDigest[] = [];
  /** Handles of our large requests (CHUNK_SEND), one per request. */
  private readonly chunkHandles = { next: 0 };

  constructor(
    private readonly transport: Transport,
    options: RequesterOptions = {},
  ) {
    this.opts = options;
    this.publicKey = options.devicePublicKey !== undefined ? devicePublicKey(options.devicePublicKey) : undefined;
    this.random = options.random ?? systemRandom;
    this.clock = options.clock ?? systemClock;
    this.policy = {
      transport,
      clock: this.clock,
      busyRetries: nonNegative(options.busyRetries ?? LIMITS.busyRetries, 'busyRetries'),
      notReadyRetries: nonNegative(options.notReadyRetries ?? LIMITS.notReadyRetries, 'notReadyRetries'),
      maxNotReadyWaitMs: nonNegative(options.maxNotReadyWaitMs ?? LIMITS.maxNotReadyWaitMs, 'maxNotReadyWaitMs'),
      maxResponseWaitMs: positiveMs(options.maxResponseWaitMs ?? LIMITS.maxResponseWaitMs, 'maxResponseWaitMs'),
      requestDeadlineMs: positiveMs(options.requestDeadlineMs ?? LIMITS.requestDeadlineMs, 'requestDeadlineMs'),
      flowDeadline: () => this.flowDeadline,
      chunking: () => {
        const peer = this.conn ?? this.negotiating;
        return peer ? chunkLimits(peer, options, transport.maxMessageSize, this.chunkHandles) : undefined;
      },
    };
    this.flowDeadlineMs = positiveMs(options.flowDeadlineMs ?? LIMITS.flowDeadlineMs, 'flowDeadlineMs');
  }

  get connection(): Connection {
    if (!this.conn) throw new TypeError('not connected: call connect() first');
    return this.conn;
  }

  private readonly flowDeadlineMs: number;

  /** What one DELIVER_ENCAPSULATED_RESPONSE may carry to this device. */
  private encapsulatedResponseLimit(): number {
    return encapsulatedResponseLimit(this.connection, this.opts, this.transport.maxMessageSize);
  }
  /** RequesterOptions.devicePublicKey, parsed: the key of slot 0xFF. */
  private readonly publicKey: DevicePublicKey | undefined;
  /** Set while authenticate() runs: every request of the flow must finish before it. */
  private flowDeadline: number | undefined;
  /** Set while authenticate() runs with a caller's nonce: every signed request of the flow uses it. */
  private callerNonce: Uint8Array | undefined;

  private get rtt(): number {
    return this.opts.rttMs ?? 1000;
  }

  private t1(): number {
    return this.rtt + ST1_MS;
  }

  /** T2 = RTT + CT, CT = 2^CTExponent µs from the responder's CAPABILITIES. */
  private t2(): number {
    const ct = this.conn ? 2 ** this.conn.capabilities.ctExponent / 1000 : 0;
    return this.rtt + Math.max(ST1_MS, Math.ceil(ct));
  }

  /**
   * One exchange, its response decoded by `decode` and required to carry `version`; `timing` is
   * the response time DSP0274 allows: T1 (no cryptography) or T2 (CT, the device's claim).
   */
  private send<T extends { readonly raw: Uint8Array }>(
    request: Uint8Array,
    expect: number,
    timing: 'T1' | 'T2',
    decode: Decoder<T>,
    version: number,
  ): Promise<T> {
    if (timing === 'T1') return exchange(this.policy, { request, expect, version, timeoutMs: this.t1() }, decode);
    const reason = this.conn ? { timeoutReason: `CTExponent ${this.conn.capabilities.ctExponent}` } : {};
    return exchange(this.policy, { request, expect, version, timeoutMs: this.t2(), ...reason }, decode);
  }

  /** What a request module needs of this requester: the connection, its transcripts, a round trip, nonces, keys. */
  private requestContext(): RequestContext {
    const connection = this.connection;
    return {
      connection,
      transcript: this.transcript,
      send: (request, expect, timing, decode) => this.send(request, expect, timing, decode, connection.version),
      nonce: () => (this.callerNonce ? this.callerNonce.slice() : this.random(NONCE_SIZE)),
      requesterContext: () => (connection.version >= 0x13 ? this.random(REQUESTER_CONTEXT_SIZE) : undefined),
      responderNonces: this.responderNonces,
      threadpoolChecks: this.opts.signatureChecks === 'threadpool',
      signer: (slot) => {
        if (slot === PUBLIC_KEY_SLOT) {
          if (!this.publicKey)
            throw new TypeError('slot 0xFF is the provisioned public key: give RequesterOptions.devicePublicKey');
          const k = checkDevicePublicKey(this.publicKey, connection.asymId);
          return { chain: k.der, chainHash: digest(connection.hashId, k.der), leafKey: k.key };
        }
        const st = this.slots.get(slot);
        if (!st?.chain || !st.chainHash || !st.leafKey)
          throw new TypeError(`no certificate chain for slot ${slot}: retrieve it before asking for signatures`);
        return { chain: st.chain, chainHash: st.chainHash, leafKey: st.leafKey };
      },
    };
  }

  /** How a new session's records are made: RequesterOptions.session's choices, the session's own limit first. */
  private recordChoices(options: StartSessionOptions): {
    sequenceLimit?: bigint;
    securedVersions?: readonly number[];
    sequenceNumberOrder?: 'le' | 'be';
  } {
    const o = this.opts.session;
    const limit = options.sequenceLimit ?? o?.sequenceLimit;
    // One exchange, then KEY_UPDATE UpdateAllKeys (its ACK and VerifyNewKey's take two response records): 0..2 at least.
    if (limit !== undefined && limit < 2n)
      throw new TypeError(`sequenceLimit ${limit}: a key needs sequence numbers 0..2 at least`);
    if (o?.sequenceNumberOrder !== undefined && o.sequenceNumberOrder !== 'le' && o.sequenceNumberOrder !== 'be')
      throw new TypeError(`session.sequenceNumberOrder must be 'le' or 'be', got ${String(o.sequenceNumberOrder)}`);
    return {
      ...(limit !== undefined ? { sequenceLimit: limit } : {}),
      ...(o?.securedVersions ? { securedVersions: checkSecuredVersions(o.securedVersions) } : {}),
      ...(o?.sequenceNumberOrder ? { sequenceNumberOrder: o.sequenceNumberOrder } : {}),
    };
  }

  private ourFlags(): number {
    return this.opts.capabilityFlags ?? CapabilityFlag.CERT | CapabilityFlag.CHAL;
  }

  /**
   * Our identity as this connection sees it — only when we can use it: MUT_AUTH_CAP on both
   * sides, a ReqBaseAsymAlg selected, and a slot of ours holding a key of that algorithm.
   */
  private identityView(): IdentityView | undefined {
    const c = this.connection;
    const id = this.opts.identity;
    const both = c.capabilities.flags & this.ourFlags() & CapabilityFlag.MUT_AUTH;
    if (!id || !both || c.reqAsymId === 0) return undefined;
    if (!this.identityCache || this.identityCache.conn !== c)
      this.identityCache = { conn: c, view: new IdentityView(id, c.version, c.hashId, c.reqAsymId) };
    const view = this.identityCache.view;
    return view.slots().length > 0 ? view : undefined;
  }

  private identityCache: { conn: Connection; view: IdentityView } | undefined;

  /**
   * Our identity for a signed ENDPOINT_INFO: a ReqBaseAsymAlg selected and a slot of ours with
   * that key — mutual authentication is not needed for it.
   */
  private signingIdentity(): IdentityView | undefined {
    const c = this.connection;
    const id = this.opts.identity;
    if (!id || c.reqAsymId === 0) return undefined;
    const view = new IdentityView(id, c.version, c.hashId, c.reqAsymId);
    return view.slots().length > 0 ? view : undefined;
  }

  /** What an encapsulated GET_ENDPOINT_INFO is answered from, in the clear or in a session. */
  private endpointInfoAnswer(): {
    identity: IdentityView | undefined;
    epInfo: Uint8Array;
    transcript: ConnectionTranscript;
    random: RandomSource;
  } {
    return {
      identity: this.signingIdentity(),
      epInfo: this.opts.endpointInfo ?? DEFAULT_REQUESTER_ENDPOINT_INFO,
      transcript: this.transcript,
      random: this.random,
    };
  }

  /**
   * A flow the device asked for out of band, in the clear (spdm-emu: OOB_ENCAP_ENDPOINT_INFO):
   * GET_ENCAPSULATED_REQUEST, then whatever the device asks — our ENDPOINT_INFO (1.3), our
   * certificates — until it is done. A device with nothing to ask gives an empty run.
   */
  async answerEncapsulatedRequests(): Promise<{ readonly asked: readonly string[] }> {
    const c = this.connection;
    if (!(c.capabilities.flags & this.ourFlags() & CapabilityFlag.ENCAP))
      throw new SpdmError('UNSUPPORTED', 'encapsulated requests need ENCAP_CAP on both sides');
    const e = this.endpointInfoAnswer();
    const { encapsulatedFlow } = await import('./encapsulated.js');
    const r = await encapsulatedFlow(
      this.encapsulatedSend((rq, x, d) => this.send(rq, x, 'T2', d, c.version)),
      {
        start: 'get-request',
        purpose: 'device',
        version: c.version,
        identity: e.identity,
        transcript: this.transcript,
        random: this.random,
        maxResponseBytes: this.encapsulatedResponseLimit(),
        endpointInfo: { ourFlags: this.ourFlags(), epInfo: e.epInfo },
      },
    );
    return { asked: r.asked };
  }
  private basicMutualAuthReport: MutualAuthReport | undefined;

  /** Set once the device authenticated us with basic mutual authentication (an encapsulated CHALLENGE after CHALLENGE_AUTH). */
  get basicMutualAuth(): MutualAuthReport | undefined {
    return this.basicMutualAuthReport;
  }

  /** The encapsulated flow over the clear channel or a session's: each request ends the channel's measurement run. */
  private encapsulatedSend(send: RoundTrip, run?: MessageM): EncapsulatedSend {
    return (request, expect, decode) => {
      this.transcript.request(request[1] ?? RequestCode.GET_ENCAPSULATED_REQUEST, run);
      return send(request, expect, decode);
    };
  }

  /** Version, capabilities and algorithms negotiation; forgets everything of a previous connection. */
  async connect(): Promise<Connection> {
    this.conn = undefined;
    this.transcript.reset();
    this.slots.clear();
    this.signatures.length = 0;
    this.sessionSignatureList.length = 0;
    this.sessionReport = undefined;
    this.basicMutualAuthReport = undefined;
    this.measurements.clear();
    this.responderNonces.clear();
    this.digests = [];
    try {
      this.conn = await negotiate(
        {
          transcript: this.transcript,
          maxMessageSize: this.transport.maxMessageSize,
          send: (request, expect, version, decode) => this.send(request, expect, 'T1', decode, version),
          capabilitiesKnown: (peer) => (this.negotiating = peer),
        },
        this.opts,
      );
    } finally {
      this.negotiating = undefined;
    }
    return this.conn;
  }

  /** GET_DIGESTS: the digest of the chain in every provisioned slot. */
  async getDigests(): Promise<readonly SlotDigest[]> {
    const digests = await getDigests(this.requestContext());
    this.digests = digests;
    for (const d of digests) this.slotState(d.slot).digest = d.digest;
    return digests;
  }

  private slotState(slot: number): SlotState {
    let st = this.slots.get(slot);
    if (!st) {
      st = { certModel: 0, problems: [] };
      this.slots.set(slot, st);
    }
    return st;
  }

  /** GET_CERTIFICATE in portions until the whole SPDM chain of `slot` is read, then checks it. */
  async getCertificateChain(slot: number): Promise<Uint8Array> {
    const c = this.connection;
    if (slot < 0 || slot > 7) throw new SpdmError('SLOT_INVALID', `slot ${slot} out of range 0-7`);
    return getCertificateChain(this.requestContext(), slot, this.slotState(slot), {
      portionMax: portionLimit(c, this.opts, this.transport.maxMessageSize, largeCertChain(c)),
      now: new Date(this.clock.now()),
      cache: this.opts.certificateCache ?? sharedCertificateCache,
    });
  }

  /** CHALLENGE: proves the device holds the private key of the slot's leaf certificate. */
  async challenge(
    slot = 0,
    measurementSummaryHashType: number = MeasurementSummaryHashType.NONE,
  ): Promise<SignatureEvidence> {
    const ctx = this.requestContext();
    const id = this.identityView();
    const encap = (this.connection.capabilities.flags & this.ourFlags() & CapabilityFlag.ENCAP) !== 0;
    const ev = await challenge(
      ctx,
      slot,
      measurementSummaryHashType,
      id && encap
        ? async () => {
            const c = this.connection;
            const { encapsulatedFlow } = await import('./encapsulated.js');
            const r = await encapsulatedFlow(
              this.encapsulatedSend((r, e, d) => this.send(r, e, 'T2', d, c.version)),
              {
                start: 'get-request',
                purpose: 'basic',
                version: c.version,
                identity: id,
                transcript: this.transcript,
                random: this.random,
                maxResponseBytes: this.encapsulatedResponseLimit(),
                endpointInfo: { ourFlags: this.ourFlags(), epInfo: this.endpointInfoAnswer().epInfo },
                largeResponses: (this.ourFlags() & CapabilityFlag.LARGE_RESP) !== 0,
              },
            );
            if (!r.challenged)
              throw new SpdmError(
                'UNEXPECTED_RESPONSE',
                'basic mutual authentication ended without the device challenging us',
              );
            this.basicMutualAuthReport = { flow: 'basic', requesterSlot: r.challengedSlot ?? 0, asked: r.asked };
          }
        : undefined,
    );
    this.signatures.push(ev);
    return ev;
  }

  /**
   * GET_MEASUREMENTS: all blocks in one signed request, or index by index with the signature
   * requested on the last one (every response since the sequence began is then covered by it).
   */
  async getMeasurements(options: MeasurementRequestOptions = {}): Promise<readonly MeasurementEvidence[]> {
    const run = await getMeasurements(this.requestContext(), options);
    if (run.signature) this.signatures.push(run.signature);
    for (const m of run.measurements) this.measurements.set(m.index, m);
    return [...this.measurements.values()];
  }

  /**
   * KEY_EXCHANGE and FINISH: a secure session with the device, its KEY_EXCHANGE_RSP signature
   * checked with the slot's leaf key and both verify data checked. Requires the session
   * algorithms (RequesterOptions.session) and KEY_EX_CAP with ENCRYPT_CAP and/or MAC_CAP in
   * `capabilityFlags`, and a transport that carries secured messages.
   */
  async startSession(options: StartSessionOptions = {}): Promise<Session> {
    const c = this.connection;
    const slot = options.slot ?? 0;
    const t = this.transport;
    if (!t.securedCapable || !t.exchangeSecured || !t.securedBinding)
      throw new SpdmError('UNSUPPORTED', 'the transport carries no secured messages');
    if (options.psk) return this.startPskSession(options.psk, options, t.securedBinding);
    if (slot !== PUBLIC_KEY_SLOT && !this.slots.get(slot)?.chain) {
      if (this.digests.length === 0) await this.getDigests();
      await this.getCertificateChain(slot);
    }
    const ourFlags = this.ourFlags();
    const id = this.identityView();
    const [{ keyExchange }, { finish }, { SessionChannel, sessionInfo }] = await sessionModules();
    const k = await keyExchange(this.requestContext(), ourFlags, this.random, {
      slot,
      measurementSummaryHashType: options.measurementSummaryHashType ?? 0,
      binding: t.securedBinding,
      canMutuallyAuthenticate: id !== undefined,
      ...this.recordChoices(options),
    });
    this.sessionSignatureList.push(k.signature);
    this.signatures.push(k.signature);
    const channel = new SessionChannel(t, k.secure);
    const inSession = this.sessionSend(channel);
    let signer: FinishSigner | undefined;
    let mutualReport: MutualAuthReport | undefined;
    try {
      if (k.mutualAuth && id) {
        // The device reads our identity inside the session (handshake keys), then names the slot to sign with.
        let reqSlot = k.mutualAuth.reqSlotIdParam;
        let asked: readonly string[] = [];
        if (k.mutualAuth.flow !== 'plain') {
          const { encapsulatedFlow } = await import('./encapsulated.js');
          const r = await encapsulatedFlow(
            // With HANDSHAKE_IN_THE_CLEAR every handshake request goes in the clear, this flow's too (libspdm does so).
            k.inTheClear
              ? this.encapsulatedSend((rq, e, d) => this.send(rq, e, 'T2', d, c.version))
              : this.encapsulatedSend((rq, e, d) => inSession(rq, e, 'T2', d), k.transcript.messageM),
            {
              start: k.mutualAuth.flow === 'digests' ? 'digests' : 'get-request',
              purpose: 'session',
              version: c.version,
              identity: id,
              transcript: this.transcript,
              random: this.random,
              maxResponseBytes: this.encapsulatedResponseLimit(),
              largeResponses: (this.ourFlags() & CapabilityFlag.LARGE_RESP) !== 0,
            },
          );
          // As libspdm: ReqSlotIDParam when it names one, else the slot the flow ended with, else 0.
          if (reqSlot === 0) reqSlot = r.reqSlot ?? 0;
          asked = r.asked;
        }
        const ctReq = id.chainHash(reqSlot);
        if (!ctReq)
          throw new SpdmError(
            'UNEXPECTED_RESPONSE',
            `the device asks for a FINISH signed with requester slot ${reqSlot}, which holds no key of the negotiated algorithm`,
          );
        k.transcript.mutualAuth(ctReq);
        signer = { slot: reqSlot, sign: (signed) => id.sign(reqSlot, signed) };
        mutualReport = { flow: k.mutualAuth.flow, requesterSlot: reqSlot, asked };
      }
      await finish(
        k,
        c.version,
        c.hashSize,
        {
          clear: (r, e, d) => this.send(r, e, 'T2', d, c.version),
          secured: (r, e, d) => inSession(r, e, 'T2', d),
        },
        signer,
      );
    } catch (e) {
      k.secure.end('FINISH failed');
      throw e;
    }
    return this.openedSession(
      channel,
      inSession,
      sessionInfo(
        k.secure,
        { dheId: c.dheId, aeadId: c.aeadId, hashId: c.hashId },
        k.heartbeatPeriod,
        k.inTheClear,
        undefined,
        mutualReport,
      ),
      k.transcript,
      {
        signature: k.signature,
        ...(k.measurementSummaryHash ? { measurementSummaryHash: k.measurementSummaryHash } : {}),
      },
    );
  }

  /** PSK_EXCHANGE [PSK_FINISH]: see StartSessionOptions.psk. */
  private async startPskSession(
    psk: PskOptions,
    options: StartSessionOptions,
    binding: SecuredTransport,
  ): Promise<Session> {
    const c = this.connection;
    const ourFlags = this.ourFlags();
    const [{ pskExchange }, { pskFinish }, { SessionChannel, sessionInfo }] = await pskSessionModules();
    const k = await pskExchange(this.requestContext(), ourFlags, this.random, {
      psk,
      measurementSummaryHashType: options.measurementSummaryHashType ?? 0,
      binding,
      ...this.recordChoices(options),
    });
    const channel = new SessionChannel(this.transport, k.secure);
    const inSession = this.sessionSend(channel);
    if (k.withContext) {
      try {
        await pskFinish(k, c.version, (r, e, d) => inSession(r, e, 'T2', d));
      } catch (e) {
        k.secure.end('PSK_FINISH failed');
        throw e;
      }
    }
    return this.openedSession(
      channel,
      inSession,
      sessionInfo(k.secure, { aeadId: c.aeadId, hashId: c.hashId }, k.heartbeatPeriod, false, {
        hint: toHex(k.hint),
        finish: k.withContext,
      }),
      k.transcript,
      k.measurementSummaryHash ? { measurementSummaryHash: k.measurementSummaryHash } : {},
    );
  }

  /** One round trip inside a session, with exchange()'s ERROR, Busy and timing rules. */
  private sessionSend(channel: SessionChannel): RequestContext['send'] {
    const policy: ExchangePolicy = { ...this.policy, transport: channel };
    const version = this.connection.version;
    return (request, expect, timing, decode) =>
      exchange(policy, { request, expect, version, timeoutMs: timing === 'T1' ? this.t1() : this.t2() }, decode);
  }

  private async openedSession(
    channel: SessionChannel,
    inSession: RequestContext['send'],
    info: SessionInfo,
    transcript: SessionTranscript,
    extra: { signature?: SessionSignatureEvidence; measurementSummaryHash?: Uint8Array },
  ): Promise<Session> {
    const { Session } = await sessionModule();
    return new Session({
      channel,
      info,
      ...extra,
      context: () => ({ ...this.requestContext(), send: inSession, measurementRun: transcript.messageM }),
      version: this.connection.version,
      onMeasurements: (run) => {
        if (run.signature) this.signatures.push(run.signature);
        for (const m of run.measurements) this.measurements.set(m.index, m);
      },
      onSignature: (signature) => this.signatures.push(signature),
      timeoutMs: () => this.t2(),
      requesterFlags: this.ourFlags(),
      random: this.random,
      melPortionMax: this.melPortionMax(),
      endpointInfo: () => this.endpointInfoAnswer(),
    });
  }

  /** GET_CSR: a CSR over one of the device's keys, checked to be signed with the key it names. */
  async getCsr(options: CsrRequestOptions = {}): Promise<CsrResult> {
    const { getCsr } = await import('./get-csr.js');
    return getCsr(this.requestContext(), options);
  }

  /** SET_CERTIFICATE: provisions (or 1.3: erases) a slot; what was read of that slot is forgotten. */
  async setCertificate(options: SetCertificateOptions): Promise<void> {
    const { setCertificate } = await import('./set-certificate.js');
    await setCertificate(this.requestContext(), options);
    this.slots.delete(options.slot);
  }

  /** GET_KEY_PAIR_INFO for one key pair (checked for consistency). */
  async getKeyPairInfo(keyPairId: number): Promise<KeyPairInfo> {
    const { getKeyPairInfo } = await import('./key-pair-info.js');
    return getKeyPairInfo(this.requestContext(), keyPairId);
  }

  /** GET_KEY_PAIR_INFO for every key pair the device has. */
  async listKeyPairs(): Promise<KeyPairInfo[]> {
    const { listKeyPairs } = await import('./key-pair-info.js');
    return listKeyPairs(this.requestContext());
  }

  /** SET_KEY_PAIR_INFO: change, erase or generate a key pair. */
  async setKeyPairInfo(options: SetKeyPairInfoOptions): Promise<void> {
    const { setKeyPairInfo } = await import('./key-pair-info.js');
    return setKeyPairInfo(this.requestContext(), options);
  }

  /**
   * GET_ENDPOINT_INFO, signed with the slot's key over a fresh nonce when the device signs (the
   * slot's chain must have been read); a signed answer joins the evidence's signatures.
   */
  async getEndpointInfo(options: EndpointInfoOptions = {}): Promise<EndpointInfoResult> {
    const { getEndpointInfo } = await import('./get-endpoint-info.js');
    const r = await getEndpointInfo(this.requestContext(), options);
    if (r.signature) this.signatures.push(r.signature);
    return r;
  }

  /** GET_MEASUREMENT_EXTENSION_LOG in portions, bounded by `maxBytes` (default LIMITS.melBytes). */
  async getMeasurementExtensionLog(options: { readonly maxBytes?: number } = {}): Promise<MelResult> {
    const { getMeasurementExtensionLog } = await import('./get-mel.js');
    return getMeasurementExtensionLog(this.requestContext(), {
      portionMax: this.melPortionMax(),
      maxBytes: options.maxBytes ?? LIMITS.melBytes,
    });
  }

  /** A MEL portion fits our DataTransferSize with its 12-byte header. */
  private melPortionMax(): number {
    const max = this.transport.maxMessageSize;
    return Math.min(dataTransferSize(this.opts, max), max) - 12;
  }

  /** The session the last authenticate() ran (with AuthenticateOptions.session). */
  get lastSession(): SessionReport | undefined {
    return this.sessionReport;
  }

  /** The KEY_EXCHANGE_RSP signatures of the sessions started on this connection (reverifySignature checks each against evidence()). */
  get sessionSignatures(): readonly SessionSignatureEvidence[] {
    return this.sessionSignatureList;
  }

  /** The whole flow: connect, digests, chain, challenge, signed measurements → Evidence. */
  async authenticate(options: AuthenticateOptions = {}): Promise<Evidence> {
    if (options.nonce && options.nonce.length !== NONCE_SIZE) throw new TypeError(`nonce must be ${NONCE_SIZE} bytes`);
    // Argument mistakes fail before anything goes on the wire.
    if (options.indices) checkIndices(options.indices);
    this.callerNonce = options.nonce;
    this.flowDeadline = this.clock.now() + this.flowDeadlineMs;
    try {
      return await this.authenticateFlow(options);
    } finally {
      this.callerNonce = undefined;
      this.flowDeadline = undefined;
    }
  }

  private async authenticateFlow(options: AuthenticateOptions): Promise<Evidence> {
    const c = await this.connect();
    const flags = c.capabilities.flags;
    const slot = options.slot ?? (this.publicKey ? PUBLIC_KEY_SLOT : 0);
    if (slot === PUBLIC_KEY_SLOT) {
      // The device's key was given out of band: it must say it has one (PUB_KEY_ID_CAP), and there is no chain to read.
      if (!(flags & CapabilityFlag.PUB_KEY_ID))
        throw new SpdmError(
          'UNSUPPORTED',
          'a device public key was given, but the device has no provisioned public key (PUB_KEY_ID_CAP clear)',
          { slot },
        );
      if (!this.publicKey)
        throw new TypeError('slot 0xFF is the provisioned public key: give RequesterOptions.devicePublicKey');
      checkDevicePublicKey(this.publicKey, c.asymId);
    } else if (!(flags & CapabilityFlag.CERT) && flags & CapabilityFlag.PUB_KEY_ID) {
      throw new SpdmError(
        'UNSUPPORTED',
        'the device has no certificate chain but a provisioned public key (PUB_KEY_ID_CAP): give its public key (devicePublicKey)',
        { slot },
      );
    } else if (flags & CapabilityFlag.CERT) {
      const digests = await this.getDigests();
      if (!digests.some((d) => d.slot === slot)) throw new SpdmError('SLOT_INVALID', `slot ${slot} is not provisioned`);
      await this.getCertificateChain(slot);
    }
    // Refused before anything is asked, rather than after a session was opened for it.
    if (options.endpointInfo) (await import('./get-endpoint-info.js')).checkEndpointInfoSupported(c, true);
    if (options.requireChallenge && !(flags & CapabilityFlag.CHAL)) {
      throw new SpdmError(
        'SIGNATURE_MISSING',
        'device does not offer CHALLENGE (CHAL_CAP clear), which PCIe CMA requires: no proof that it holds its key',
        { slot },
      );
    }
    if (flags & CapabilityFlag.CHAL) {
      await this.challenge(
        slot,
        options.measurementSummaryHashType ?? ((flags & MEAS_CAP_MASK) !== 0 ? MeasurementSummaryHashType.ALL : 0),
      );
    }
    // Before the measurements: GET_ENDPOINT_INFO would end a measurement run, never split one. With
    // a session it is asked inside it, like the measurements: what the session protects, it protects too.
    if (options.endpointInfo && !options.session) await this.getEndpointInfo({ signed: true, slot });
    if (options.session) {
      const s = await this.startSession({ slot, ...(options.session.psk ? { psk: options.session.psk } : {}) });
      const ran =
        s.info.kind === 'psk'
          ? ['PSK_EXCHANGE', ...(s.info.psk?.finish ? ['PSK_FINISH'] : [])]
          : ['KEY_EXCHANGE', 'FINISH'];
      if (options.endpointInfo) {
        await s.getEndpointInfo({ signed: true, slot });
        ran.push('GET_ENDPOINT_INFO');
      }
      if (!options.skipMeasurements && (flags & MEAS_CAP_MASK) !== 0) {
        await s.getMeasurements({
          slot,
          mode: options.mode ?? 'all',
          ...(options.indices ? { indices: options.indices } : {}),
          ...(options.rawBitStream ? { rawBitStream: true } : {}),
        });
        ran.push('GET_MEASUREMENTS');
      }
      if (options.session.heartbeat) {
        await s.heartbeat();
        ran.push('HEARTBEAT');
      }
      if (options.session.keyUpdate) {
        const k = await s.keyUpdate(options.session.keyUpdate);
        ran.push(`KEY_UPDATE(${k.operation})`, 'KEY_UPDATE(VerifyNewKey)');
      }
      let events: SessionReport['events'];
      if (options.session.events) {
        if (!(flags & CapabilityFlag.EVENT))
          throw new SpdmError('UNSUPPORTED', 'the device does not offer events (EVENT_CAP clear)');
        const subscribed = await s.supportedEventTypes();
        ran.push('GET_SUPPORTED_EVENT_TYPES');
        await s.subscribeEvents(subscribed);
        ran.push('SUBSCRIBE_EVENT_TYPES');
        const flow = await s.answerEncapsulated();
        ran.push('GET_ENCAPSULATED_REQUEST', ...flow.asked.map((a) => `encapsulated ${a}`));
        // Unsubscribed before the session ends, so the device stops queueing for it.
        await s.subscribeEvents([]);
        ran.push('SUBSCRIBE_EVENT_TYPES(none)');
        events = { subscribed, received: flow.events, deviceKeyUpdate: flow.keyUpdated };
      }
      await s.end();
      ran.push('END_SESSION');
      this.sessionReport = {
        info: s.info,
        ...(s.signature ? { keyExchangeSignature: s.signature } : {}),
        ran,
        ...(events ? { events } : {}),
      };
    } else if (!options.skipMeasurements && (flags & MEAS_CAP_MASK) !== 0) {
      await this.getMeasurements({
        slot,
        mode: options.mode ?? 'all',
        ...(options.indices ? { indices: options.indices } : {}),
        ...(options.rawBitStream ? { rawBitStream: true } : {}),
      });
    }
    // A certificate chain is public: only a signature over our fresh nonce shows the device holds
    // the leaf's private key. Without one there is nothing to authenticate, whatever else it sent.
    if (!this.signatures.some((s) => s.verified && s.slot === slot && SIGNED_KINDS[s.kind].provesKeyPossession)) {
      const why = [
        flags & CapabilityFlag.CHAL ? undefined : 'CHAL_CAP is clear',
        (flags & MEAS_CAP_MASK) === CapabilityFlag.MEAS_SIG
          ? options.skipMeasurements
            ? 'signed measurements were skipped'
            : undefined
          : 'measurements are not signed',
      ].filter((w): w is string => w !== undefined);
      throw new SpdmError(
        'SIGNATURE_MISSING',
        `no proof of key possession: the device gave no signature over a fresh requester nonce (${why.join(', ')})`,
        { slot },
      );
    }
    return this.evidence();
  }

  /** Everything gathered so far, as serialisable Evidence. */
  evidence(): Evidence {
    return buildEvidence({
      connection: this.connection,
      slots: this.slots,
      signatures: this.signatures,
      measurements: this.measurements.values(),
      collectedAtMs: this.clock.now(),
      ...(this.opts.deviceName ? { device: this.opts.deviceName } : {}),
      ...(this.opts.pci ? { pci: this.opts.pci } : {}),
      ...(this.publicKey ? { publicKey: this.publicKey.der } : {}),
    });
  }

  /** Digests from the last GET_DIGESTS. */
  get slotDigests(): readonly SlotDigest[] {
    return this.digests;
  }
}
