/**
 * The transcripts of one SPDM connection and the rules that build and reset them (DSP0274
 * "Transcript and transcript hash calculation rules"), kept in one place so that the requester,
 * the responder, the capture decoder and the verifier cannot drift apart:
 *
 * - A (VCA): GET_VERSION .. ALGORITHMS, reset by GET_VERSION only.
 * - B: GET_DIGESTS/DIGESTS and every GET_CERTIFICATE/CERTIFICATE after it; DIGESTS starts it
 *   afresh and a completed CHALLENGE_AUTH consumes it (with C).
 * - C: CHALLENGE || CHALLENGE_AUTH without its signature; M1 = A || B || C.
 * - message_m: the run of GET_MEASUREMENTS/MEASUREMENTS pairs before a signed MEASUREMENTS.
 *   L1/L2 = A || message_m || the signed pair without its signature for 1.2+, and message_m ||
 *   that pair alone for 1.0/1.1. Any request other than GET_MEASUREMENTS (and the
 *   RESPOND_IF_READY that completes one) ends the run, and so does an ERROR other than
 *   ResponseNotReady (that one is answered later by the real response). A secure session has
 *   its own message_m (a `MessageM` from `newMessageM()`), over the connection's A.
 * - D (1.3): the first DIGESTS after the VCA, kept only while the responder's multi-key connection
 *   is in effect (`setMultiKeyConn`); it enters the session transcripts of KEY_EXCHANGE.
 *
 * libspdm does the same in libspdm_calculate_m1m2 / libspdm_calculate_l1l2 and its
 * libspdm_reset_message_* calls; builders here are pure, resets are the named events below.
 *
 * - IL1/IL2 (1.3): a signed ENDPOINT_INFO covers A ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO without
 *   its signature. Its message_e holds that one pair only: libspdm resets it at each
 *   GET_ENDPOINT_INFO and once the signature is made, and inside a session it is the session's
 *   own message_e, over the same A. It resets nothing else (GET_ENDPOINT_INFO ends a
 *   measurement run as any request does). An encapsulated GET_ENDPOINT_INFO (the responder asking
 *   the requester) is signed by the requester over the same A ‖ pair (libspdm: message_encap_e).
 *
 * Secure sessions get their transcripts from here: `keyExchangeSession(Ct)` starts one at
 * A ‖ [D] ‖ Ct, `pskSession()` at A (spdm/session-transcript.ts holds their rules).
 */
import { transcriptSigningContext, type TranscriptSignedKind } from '../crypto/signature.js';
import { RequestCode } from './codes.js';
import { ErrorCode } from './messages/error.js';
import { SessionTranscript } from './session-transcript.js';
import { Transcript } from './transcript.js';

/**
 * What is signed over a connection or session transcript: the responder's CHALLENGE_AUTH,
 * MEASUREMENTS and KEY_EXCHANGE_RSP, the requester's FINISH (mutual authentication).
 */
export type SignedKind = TranscriptSignedKind;

/** What is signed over the connection's own transcripts (M1, L1/L2). */
export type ConnectionSignedKind = 'CHALLENGE_AUTH' | 'MEASUREMENTS';

/** A transcript a signature covers, with what else the version decides about that signature. */
export interface SignedTranscript<K extends SignedKind = ConnectionSignedKind> {
  readonly kind: K;
  /** The messages signed (M1, L1/L2, or a session's TH), hashed with the negotiated hash. */
  readonly transcript: Transcript;
  /** The signing context string of this kind under the negotiated version; '' before 1.2. */
  readonly context: string;
  /**
   * False when part of it outgrew the byte bound given to the ConnectionTranscript and was
   * dropped: the signature over it cannot be checked. Always true without a bound.
   */
  readonly complete: boolean;
}

export interface ConnectionTranscriptOptions {
  /**
   * Most bytes A, B or one message_m may hold (a capture decoder keeps bounded state whatever it
   * is fed). A part that would grow past it is emptied and stays marked until it is reset;
   * signatures over it come back with `complete: false`. No bound when omitted.
   */
  readonly maxBytes?: number;
}

/** DSP0274: does this request end a measurement run (message_m)? */
export function requestEndsMeasurementRun(requestCode: number): boolean {
  return requestCode !== RequestCode.GET_MEASUREMENTS && requestCode !== RequestCode.RESPOND_IF_READY;
}

/** Does an ERROR with this code end a measurement run? ResponseNotReady does not: the response is still to come. */
export function errorEndsMeasurementRun(errorCode: number): boolean {
  return errorCode !== ErrorCode.ResponseNotReady;
}

/** Does L1/L2 begin with the VCA transcript A under this version? (1.2+; 1.0/1.1 sign message_m alone.) */
export function measurementTranscriptIncludesVca(version: number): boolean {
  return version >= 0x12;
}

/** One transcript part with the capture's byte bound: emptied and marked instead of outgrowing it. */
class Part {
  private current = new Transcript();
  overflowed = false;

  constructor(private readonly maxBytes: number | undefined) {}

  get t(): Transcript {
    return this.current;
  }

  append(messages: readonly Uint8Array[]): void {
    if (this.overflowed) return;
    if (this.maxBytes !== undefined) {
      let n = this.current.length;
      for (const m of messages) n += m.length;
      if (n > this.maxBytes) {
        // Replaced rather than cleared: a dropped part is never hashed (its signatures are
        // reported incomplete), and clearing would re-create the hash, which throws for a hash
        // this platform lacks.
        this.current = new Transcript();
        this.overflowed = true;
        return;
      }
    }
    this.current.append(...messages);
  }

  /** Empty again (a message_m: it carries no hash of its own). */
  clear(): void {
    this.current = new Transcript();
    this.overflowed = false;
  }
}

/** The messages behind each MessageM: module-private, so that only the rules here read or reset a run. */
const runParts = new WeakMap<MessageM, Part>();

function partOf(run: MessageM): Part {
  const p = runParts.get(run);
  if (!p) throw new TypeError('not a MessageM of a ConnectionTranscript');
  return p;
}

/** One channel's measurement run (message_m): the connection's clear channel, or a secure session's. */
export class MessageM {
  /** Use ConnectionTranscript.messageM or newMessageM(). */
  constructor(maxBytes?: number) {
    runParts.set(this, new Part(maxBytes));
  }

  /** An unsigned GET_MEASUREMENTS/MEASUREMENTS pair joins the run. */
  append(request: Uint8Array, response: Uint8Array): void {
    partOf(this).append([request, response]);
  }

  /** Bytes in the run. */
  get length(): number {
    return partOf(this).t.length;
  }
}

/** A transcript with the negotiated hash, or without one when this platform cannot compute it (a capture may name any hash). */
function hashedTranscript(hashId: number | undefined): Transcript {
  if (!hashId) return new Transcript();
  try {
    return new Transcript(hashId);
  } catch {
    return new Transcript();
  }
}

export class ConnectionTranscript {
  private readonly maxBytes: number | undefined;
  private a: Part;
  private b: Part;
  /** The clear channel's measurement run. */
  readonly messageM: MessageM;
  private version: number | undefined;
  private hashId: number | undefined;
  /** The responder's multi-key connection is in effect: the first DIGESTS after the VCA is D. */
  private multiKeyConn = false;
  /** D, once seen (undefined: none yet since GET_VERSION, or no multi-key connection). */
  private d: Uint8Array | undefined;

  constructor(options: ConnectionTranscriptOptions = {}) {
    this.maxBytes = options.maxBytes;
    this.a = new Part(this.maxBytes);
    this.b = new Part(this.maxBytes);
    this.messageM = new MessageM(this.maxBytes);
  }

  /**
   * GET_VERSION: a new connection. A, B and the clear message_m start empty (sessions' runs are
   * the caller's to drop). The version and hash stay until the new negotiation sets them, so a
   * capture that misses it goes on hashing as before.
   */
  reset(): void {
    this.a = new Part(this.maxBytes);
    try {
      this.setHashOf(this.a);
    } catch {
      // A hash this platform lacks (a capture may name any): the next ALGORITHMS sets one again.
    }
    this.b = new Part(this.maxBytes);
    partOf(this.messageM).clear();
    this.multiKeyConn = false;
    this.d = undefined;
  }

  /** The negotiated version (VERSION for a requester, CAPABILITIES or ALGORITHMS otherwise): decides L1/L2's shape and the signing context. */
  setVersion(version: number): void {
    this.version = version;
  }

  /** ALGORITHMS chose the hash: A is hashed from here on. Throws SpdmError UNSUPPORTED_ALGORITHM for a hash this platform lacks. */
  setHash(hashId: number): void {
    this.hashId = hashId;
    this.setHashOf(this.a);
  }

  private setHashOf(p: Part): void {
    if (this.hashId !== undefined) p.t.setHash(this.hashId);
  }

  /** A request/response pair of the VCA (GET_VERSION, GET_CAPABILITIES, NEGOTIATE_ALGORITHMS). */
  appendVca(request: Uint8Array, response: Uint8Array): void {
    this.a.append([request, response]);
  }

  /** Hash of A (requires the hash to be set). */
  vcaDigest(): Uint8Array {
    // A goes on (every later M1, L1/L2 and session transcript forks it); its digest is kept until it changes.
    return this.a.t.digest();
  }

  /**
   * 1.3+: the responder's multi-key connection is in effect (NEGOTIATE_ALGORITHMS asked for it
   * with OtherParamsSupport bit 4): KEY_EXCHANGE transcripts then hold D. Reset by GET_VERSION.
   */
  setMultiKeyConn(on: boolean): void {
    this.multiKeyConn = on;
  }

  /** DIGESTS: B starts afresh, with GET_DIGESTS/DIGESTS when given; the first DIGESTS of a multi-key connection is D. */
  startB(...pair: Uint8Array[]): void {
    this.b = new Part(this.maxBytes);
    this.b.append(pair);
    const digests = pair[1];
    if (this.multiKeyConn && this.d === undefined && digests !== undefined) this.d = digests;
  }

  /** A GET_CERTIFICATE/CERTIFICATE pair continues B. */
  appendB(request: Uint8Array, response: Uint8Array): void {
    this.b.append([request, response]);
  }

  /** M1 = A || B || C, C = CHALLENGE || CHALLENGE_AUTH without the signature. Pure: `endChallenge()` consumes B. */
  m1(challenge: Uint8Array, challengeAuthUnsigned: Uint8Array): SignedTranscript {
    const t = this.a.t.fork();
    t.append(...this.b.t.messages, challenge, challengeAuthUnsigned);
    return {
      kind: 'CHALLENGE_AUTH',
      transcript: t,
      context: this.signingContext('CHALLENGE_AUTH'),
      complete: !this.a.overflowed && !this.b.overflowed,
    };
  }

  /**
   * Basic mutual authentication: the requester's CHALLENGE_AUTH to an encapsulated CHALLENGE signs
   * [A ‖] Mut_B ‖ Mut_C — A from 1.2 on (libspdm leaves it out for 1.1), Mut_B the encapsulated
   * GET_DIGESTS/DIGESTS/GET_CERTIFICATE/CERTIFICATE pairs, Mut_C the CHALLENGE and the
   * CHALLENGE_AUTH up to its Signature. Pure: the flow's caller keeps Mut_B.
   */
  mutualM1(
    mutB: readonly Uint8Array[],
    challenge: Uint8Array,
    challengeAuthUnsigned: Uint8Array,
  ): SignedTranscript<'REQUESTER_CHALLENGE_AUTH'> {
    const withVca = this.requireVersion() >= 0x12;
    const t = withVca ? this.a.t.fork() : hashedTranscript(this.hashId);
    t.append(...mutB, challenge, challengeAuthUnsigned);
    return {
      kind: 'REQUESTER_CHALLENGE_AUTH',
      transcript: t,
      context: this.signingContext('REQUESTER_CHALLENGE_AUTH'),
      complete: !(withVca && this.a.overflowed),
    };
  }

  /** A completed CHALLENGE_AUTH consumes B and C: the next M1 holds only what follows. */
  endChallenge(): void {
    this.b = new Part(this.maxBytes);
  }

  /**
   * L1/L2 for the signed MEASUREMENTS answering `getMeasurements`: [A ||] message_m ||
   * GET_MEASUREMENTS || MEASUREMENTS without the signature. Pure: `endMeasurementRun()` ends the run.
   */
  l1l2(getMeasurements: Uint8Array, measurementsUnsigned: Uint8Array, run: MessageM = this.messageM): SignedTranscript {
    const withVca = measurementTranscriptIncludesVca(this.requireVersion());
    const t = withVca ? this.a.t.fork() : hashedTranscript(this.hashId);
    const m = partOf(run);
    t.append(...m.t.messages, getMeasurements, measurementsUnsigned);
    const complete = !m.overflowed && !(withVca && this.a.overflowed);
    return { kind: 'MEASUREMENTS', transcript: t, context: this.signingContext('MEASUREMENTS'), complete };
  }

  /** IL1/IL2 for a signed ENDPOINT_INFO: A ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO without the signature (in or out of a session). Pure. */
  endpointInfo(getEndpointInfo: Uint8Array, endpointInfoUnsigned: Uint8Array): SignedTranscript<'ENDPOINT_INFO'> {
    return this.il1il2('ENDPOINT_INFO', getEndpointInfo, endpointInfoUnsigned);
  }

  /**
   * The requester's signed ENDPOINT_INFO to an encapsulated GET_ENDPOINT_INFO: the same A ‖
   * GET_ENDPOINT_INFO ‖ ENDPOINT_INFO without the signature (libspdm's message_encap_e, in or out
   * of a session), signed with the requester's context string. Pure.
   */
  requesterEndpointInfo(
    getEndpointInfo: Uint8Array,
    endpointInfoUnsigned: Uint8Array,
  ): SignedTranscript<'REQUESTER_ENDPOINT_INFO'> {
    return this.il1il2('REQUESTER_ENDPOINT_INFO', getEndpointInfo, endpointInfoUnsigned);
  }

  private il1il2<K extends 'ENDPOINT_INFO' | 'REQUESTER_ENDPOINT_INFO'>(
    kind: K,
    getEndpointInfo: Uint8Array,
    endpointInfoUnsigned: Uint8Array,
  ): SignedTranscript<K> {
    const t = this.a.t.fork();
    t.append(getEndpointInfo, endpointInfoUnsigned);
    return { kind, transcript: t, context: this.signingContext(kind), complete: !this.a.overflowed };
  }

  /** The measurement run ends (after a signed MEASUREMENTS, or where a side starts a new one): message_m starts empty. */
  endMeasurementRun(run: MessageM = this.messageM): void {
    partOf(run).clear();
  }

  /** A request was sent or seen on the run's channel: anything but GET_MEASUREMENTS (or RESPOND_IF_READY) ends its measurement run. */
  request(requestCode: number, run: MessageM = this.messageM): void {
    if (requestEndsMeasurementRun(requestCode)) this.endMeasurementRun(run);
  }

  /** An ERROR answered on the run's channel: it ends the measurement run unless it is ResponseNotReady. */
  error(errorCode: number, run: MessageM = this.messageM): void {
    if (errorEndsMeasurementRun(errorCode)) this.endMeasurementRun(run);
  }

  /** A measurement run of its own for a secure session (libspdm: session_transcript.message_m), over this connection's A. */
  newMessageM(): MessageM {
    return new MessageM(this.maxBytes);
  }

  /** The context `kind` is signed with under the negotiated version ('' before 1.2). */
  signingContext(kind: SignedKind): string {
    return transcriptSigningContext(kind, this.requireVersion());
  }

  /** A fork of A, where every session transcript begins. */
  sessionBase(): Transcript {
    return this.a.t.fork();
  }

  /**
   * A KEY_EXCHANGE session's transcripts, from A ‖ [D] ‖ Ct. `certChainHash` is Ct: Hash(the
   * SPDM certificate chain of the slot KEY_EXCHANGE names), or Hash(the provisioned public key)
   * for slot 0xFF — which never takes D (libspdm). Pure: the connection is not changed.
   */
  keyExchangeSession(certChainHash: Uint8Array, slot = 0): SessionTranscript {
    const base = this.a.t.fork();
    if (this.d !== undefined && slot !== 0xff) base.append(this.d);
    base.append(certChainHash);
    return this.session('key-exchange', base);
  }

  /** A PSK_EXCHANGE session's transcripts, from A (no certificate, no D). Pure. */
  pskSession(): SessionTranscript {
    return this.session('psk', this.a.t.fork());
  }

  private session(kind: 'key-exchange' | 'psk', base: Transcript): SessionTranscript {
    const version = this.requireVersion();
    return new SessionTranscript({
      kind,
      base,
      complete: !this.a.overflowed,
      messageM: this.newMessageM(),
      signingContext: (k) => transcriptSigningContext(k, version),
    });
  }

  private requireVersion(): number {
    // Signing before the version is known is a caller bug, not a device fault.
    if (this.version === undefined)
      throw new TypeError('connection transcript: version not set, call setVersion() first');
    return this.version;
  }
}
