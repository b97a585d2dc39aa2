/**
 * Follows the secure sessions of an observed SPDM conversation (a capture) and decrypts what can
 * be decrypted: PSK sessions, given the PSK.
 *
 * Fed every clear message in order (decoded by the connection's ConversationDecoder) it keeps the
 * VCA transcript A and the negotiated version, hash, AEAD and capabilities. On PSK_EXCHANGE /
 * PSK_EXCHANGE_RSP it takes TH1 from the session transcript rules (spdm/session-transcript.ts,
 * the ones requester and responder use), derives the handshake secrets from the PSK and checks
 * ResponderVerifyData: a mismatch means the PSK is wrong. Records of that session are then opened
 * with the handshake keys (PSK_FINISH, whose RequesterVerifyData is checked too, and
 * PSK_FINISH_RSP); TH2 gives the data keys, and KEY_UPDATE derives the next data secrets
 * ("traffic upd").
 *
 * Key switch points are taken from the traffic, not assumed: a record is tried with the
 * direction's current key, then with the pending next key (after a KEY_UPDATE asked for one),
 * then with the previous key (still allowed until VerifyNewKey is acknowledged); the first record
 * a new key opens is where that side switched, and it is reported. Each key has its own sequence
 * counter from 0. A record's direction is inferred by the caller (alternation) and corrected by
 * the key that opens it.
 *
 * KEY_EXCHANGE sessions cannot be decrypted from a capture (the (EC)DHE secret is ephemeral):
 * their records are reported as such. Sessions are keyed by session ID; libspdm gives its first
 * session the ID 0xFFFFFFFF on both sides, so a later session may reuse the ID of an ended one.
 *
 * Only an observer needs this (`spdm dump`): what a live session shares with it — the key
 * schedule, the record layer, the secured message version — stays in session/.
 */
import { concat } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { hashInfo, isHashSupported } from '../crypto/algorithms.js';
import { aeadInfo, isAeadSupported } from '../crypto/aead.js';
import { macEqual } from '../crypto/kdf.js';
import { ConnectionTranscript } from '../spdm/connection-transcript.js';
import type { SessionTranscript } from '../spdm/session-transcript.js';
import {
  ConversationDecoder,
  type ConversationState,
  type DecodedMessage,
  type Direction,
} from '../spdm/conversation.js';
import { AlgType, algStructValue } from '../spdm/messages/algorithms.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { KeyUpdateOperation } from '../spdm/messages/key-update.js';
import type { PskExchangeRequest, PskExchangeResponse } from '../spdm/messages/psk.js';
import { RequestPairer, pairingRole } from '../spdm/pairer.js';
import { selectedSecuredMessageVersion, securedVersionText } from '../session/secured-version.js';
import {
  deriveDataSecrets,
  deriveHandshakeSecrets,
  updateTrafficKeys,
  verifyData,
  type HandshakeSecrets,
  type KeyScheduleParams,
  type TrafficKeys,
} from '../session/key-schedule.js';
import {
  decodeSecuredRecord,
  openSecuredRecord,
  RECORD_LAYOUTS,
  unwrapApplicationData,
  type NonceOrder,
  type OpenedRecord,
  type RecordLayout,
  type SecuredRecord,
  type SecuredTransport,
  type SessionMode,
} from '../session/record.js';

export type SessionKind = 'psk' | 'key-exchange';
export type KeyPhase = 'handshake' | 'data';

export interface SessionTrackerOptions {
  readonly transport: SecuredTransport;
  /** The PSK as used for HKDF-Extract (libspdm's sample: "TestPskData" with its NUL, 12 bytes). */
  readonly psk?: Uint8Array;
  /**
   * Nonce byte order for secured-message versions 1.0/1.1, which leave it to the integrator:
   * libspdm's default is 'le' (as 1.2+ mandates); 'auto' tries both and keeps what works.
   */
  readonly legacyNonceOrder?: NonceOrder | 'auto';
}

/** Where a side started using a new key: the first record that key opened. */
export interface KeySwitch {
  readonly direction: Direction;
  readonly phase: KeyPhase;
  /** 0 for the first data key, +1 per key update. */
  readonly generation: number;
  /** What made the key: PSK_EXCHANGE_RSP, PSK_FINISH_RSP, KEY_UPDATE(UpdateKey)... */
  readonly derivedAfter: string;
  /** The first message sent under it (undefined while none was). */
  readonly firstMessage?: string;
  /** The caller's reference (packet index) of that record. */
  readonly firstRef?: number;
}

export interface SessionReport {
  readonly sessionId: number;
  readonly kind: SessionKind;
  /** Reference (packet index) of the response that created the session. */
  readonly createdAt?: number;
  /** 'keys': records can be opened; 'no-keys': they cannot (see reason); 'ended': END_SESSION_ACK or GET_VERSION. */
  readonly state: 'keys' | 'no-keys' | 'ended';
  readonly reason?: string;
  readonly phase: KeyPhase;
  readonly mode?: SessionMode;
  /** DSP0277 version selected in the exchange response's opaque data, e.g. "1.3". */
  readonly securedMessageVersion?: string;
  readonly nonceOrder?: NonceOrder;
  /** null: not checked (no PSK, or a KEY_EXCHANGE session). */
  readonly responderVerifyData: boolean | null;
  readonly requesterVerifyData: boolean | null;
  readonly records: { readonly decrypted: number; readonly undecrypted: number; readonly failed: number };
  readonly keySwitches: readonly KeySwitch[];
  readonly endedBy?: string;
}

/** What a clear message did to the sessions (returned for PSK_EXCHANGE_RSP / KEY_EXCHANGE_RSP). */
export interface SessionEvent {
  readonly sessionId: number;
  readonly kind: SessionKind;
  /** ResponderVerifyData checked against the PSK: true, false (wrong PSK), null (not checked). */
  readonly responderVerifyData: boolean | null;
  readonly note: string;
}

export interface RecordResult {
  readonly record: SecuredRecord;
  readonly sessionId: number;
  readonly status: 'decrypted' | 'undecrypted' | 'failed';
  readonly reason?: string;
  /** The caller's guess, or the direction whose key opened the record. */
  readonly direction: Direction;
  readonly phase?: KeyPhase;
  readonly generation?: number;
  /** The 64-bit counter the nonce was built from. */
  readonly sequence?: bigint;
  readonly applicationData?: Uint8Array;
  readonly randomData?: Uint8Array;
  /** The transport's inner header (MCTP message type, TCP binding header). */
  readonly innerHeader?: Readonly<Record<string, number>>;
  /** The decrypted SPDM message, decoded. */
  readonly message?: DecodedMessage;
  /** The decrypted payload is not SPDM (another MCTP message type), or did not decode. */
  readonly payload?: Uint8Array;
  readonly decodeError?: string;
  /** Session events this record caused: verify data checked, keys switched, key update, end. */
  readonly notes: readonly string[];
}

interface KeyEpoch {
  readonly keys: TrafficKeys;
  readonly phase: KeyPhase;
  readonly generation: number;
  readonly derivedAfter: string;
  seq: bigint;
  used: boolean;
}

interface DirectionKeys {
  current: KeyEpoch;
  next?: KeyEpoch;
  previous?: KeyEpoch;
}

interface Session {
  readonly id: number;
  readonly kind: SessionKind;
  readonly createdAt?: number;
  state: SessionReport['state'];
  reason?: string;
  phase: KeyPhase;
  params?: KeyScheduleParams;
  mode?: SessionMode;
  securedVersion?: number;
  nonceOrders: NonceOrder[];
  /** The session's transcript rules, from A (kept while records can be opened). */
  th?: SessionTranscript;
  /** The PSK_FINISH of the handshake, for TH2. */
  pskFinish?: Uint8Array;
  hs?: HandshakeSecrets;
  req?: DirectionKeys;
  rsp?: DirectionKeys;
  decoder?: ConversationDecoder;
  responderVerifyData: boolean | null;
  requesterVerifyData: boolean | null;
  decrypted: number;
  undecrypted: number;
  failed: number;
  switches: KeySwitch[];
  endedBy?: string;
}

/** GET_VERSION, VERSION, GET_CAPABILITIES, CAPABILITIES, NEGOTIATE_ALGORITHMS, ALGORITHMS. */
const VCA_MESSAGES = 6;

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

function other(d: Direction): Direction {
  return d === 'request' ? 'response' : 'request';
}

export class SessionTracker {
  readonly layout: RecordLayout;
  private readonly opts: SessionTrackerOptions;
  private a: Uint8Array[] = [];
  /** Responses paired with their requests: an exchange response with its exchange request. */
  private readonly pairer = new RequestPairer<DecodedMessage>();
  private aeadId: number | undefined;
  private readonly live = new Map<number, Session>();
  /** Sessions reported, oldest first from `first`: at most LIMITS.captureSessionReports of them. */
  private all: Session[] = [];
  private first = 0;
  private dropped = 0;
  /** The latest session of each ID (live or ended), for the records that name it. */
  private readonly latest = new Map<number, Session>();

  constructor(opts: SessionTrackerOptions) {
    this.opts = opts;
    this.layout = RECORD_LAYOUTS[opts.transport];
  }

  /** Sessions created before the ones `sessions` lists, over LIMITS.captureSessionReports. */
  get unlistedSessions(): number {
    return this.dropped;
  }

  /** Every session seen so far (the latest LIMITS.captureSessionReports), in order of creation. */
  get sessions(): SessionReport[] {
    return this.all.slice(this.first).map((s) => ({
      sessionId: s.id,
      kind: s.kind,
      ...(s.createdAt !== undefined ? { createdAt: s.createdAt } : {}),
      state: s.state,
      ...(s.reason ? { reason: s.reason } : {}),
      phase: s.phase,
      ...(s.mode ? { mode: s.mode } : {}),
      ...(s.securedVersion !== undefined ? { securedMessageVersion: securedVersionText(s.securedVersion) } : {}),
      ...(s.params && s.nonceOrders.length === 1 ? { nonceOrder: s.nonceOrders[0] } : {}),
      responderVerifyData: s.responderVerifyData,
      requesterVerifyData: s.requesterVerifyData,
      records: { decrypted: s.decrypted, undecrypted: s.undecrypted, failed: s.failed },
      keySwitches: [...s.switches],
      ...(s.endedBy ? { endedBy: s.endedBy } : {}),
    }));
  }

  /**
   * Feeds one clear message. `connection` is the ConversationDecoder's state after it (the
   * negotiated algorithms; it seeds each session's own decoder). `ref` is echoed in reports.
   */
  observe(d: DecodedMessage, connection: Readonly<ConversationState>, ref?: number): SessionEvent | undefined {
    const role = pairingRole(d);
    const req = this.pairer.feed(role, d).request;
    if (d.direction === 'request') {
      if (d.kind === 'GET_VERSION') {
        this.a = [];
        for (const s of this.live.values()) this.end(s, 'GET_VERSION');
        this.live.clear();
      }
      return undefined;
    }
    // ResponseNotReady: the real response comes after a RESPOND_IF_READY (the pairer keeps the request).
    if (role === 'not-ready' || !req) return undefined;
    switch (d.kind) {
      case 'VERSION':
        if (req.kind === 'GET_VERSION') this.a = [req.msg.raw, d.msg.raw];
        return undefined;
      // TH1 needs exactly the 6 VCA messages: past them A is no use until the next VERSION, so it stops growing.
      case 'CAPABILITIES':
        if (req.kind === 'GET_CAPABILITIES' && this.a.length <= VCA_MESSAGES) this.a.push(req.msg.raw, d.msg.raw);
        return undefined;
      case 'ALGORITHMS':
        if (req.kind === 'NEGOTIATE_ALGORITHMS' && this.a.length <= VCA_MESSAGES) this.a.push(req.msg.raw, d.msg.raw);
        this.aeadId = algStructValue(d.msg.algStructs, AlgType.AEAD);
        return undefined;
      case 'PSK_EXCHANGE_RSP':
        if (req.kind !== 'PSK_EXCHANGE') return undefined;
        return this.startPsk(req.msg, d.msg, connection, ref);
      case 'KEY_EXCHANGE_RSP': {
        if (req.kind !== 'KEY_EXCHANGE') return undefined;
        const id = ((d.msg.rspSessionId << 16) | req.msg.reqSessionId) >>> 0;
        const reason =
          'KEY_EXCHANGE session: its keys come from an ephemeral (EC)DHE secret that is not in the capture';
        this.add({ ...this.blank(id, 'key-exchange', ref), state: 'no-keys', reason });
        return { sessionId: id, kind: 'key-exchange', responderVerifyData: null, note: reason };
      }
      default:
        return undefined;
    }
  }

  private blank(id: number, kind: SessionKind, ref: number | undefined): Session {
    return {
      id,
      kind,
      ...(ref !== undefined ? { createdAt: ref } : {}),
      state: 'no-keys',
      phase: 'handshake',
      nonceOrders: ['le'],
      responderVerifyData: null,
      requesterVerifyData: null,
      decrypted: 0,
      undecrypted: 0,
      failed: 0,
      switches: [],
    };
  }

  private add(s: Session): void {
    const old = this.live.get(s.id);
    if (old) {
      this.end(old, `a new session with the same ID (${hex32(s.id)})`);
      this.live.delete(s.id);
    }
    const max = LIMITS.captureSessionReports;
    // More live sessions than any device holds: the oldest is given up (Map order is creation order).
    const oldest = this.live.size >= max ? this.live.values().next().value : undefined;
    if (oldest) {
      this.end(oldest, `over the captureSessionReports limit of ${max} sessions at once`);
      this.live.delete(oldest.id);
    }
    this.live.set(s.id, s);
    this.latest.set(s.id, s);
    this.all.push(s);
    if (this.all.length - this.first > max) {
      const gone = this.all[this.first];
      if (gone && this.latest.get(gone.id) === gone) this.latest.delete(gone.id);
      this.first++;
      this.dropped++;
      // Compact now and then, so that dropping the oldest report costs O(1) on average.
      if (this.first >= max) {
        this.all = this.all.slice(this.first);
        this.first = 0;
      }
    }
  }

  private end(s: Session, by: string): void {
    if (s.state === 'ended') return;
    s.state = 'ended';
    s.endedBy ??= by;
    s.req = undefined;
    s.rsp = undefined;
    s.hs = undefined;
    // An ended session opens no more records: its transcript and decoder are garbage.
    s.th = undefined;
    s.pskFinish = undefined;
    s.decoder = undefined;
  }

  private startPsk(
    req: PskExchangeRequest,
    rsp: PskExchangeResponse,
    conn: Readonly<ConversationState>,
    ref: number | undefined,
  ): SessionEvent {
    const id = ((rsp.rspSessionId << 16) | req.reqSessionId) >>> 0;
    const s = this.blank(id, 'psk', ref);
    this.add(s);
    const fail = (reason: string, verified: boolean | null = null): SessionEvent => {
      s.state = 'no-keys';
      s.reason = reason;
      // Without keys no record of it is opened: nothing needs its transcript or decoder.
      s.th = undefined;
      s.decoder = undefined;
      return { sessionId: id, kind: 'psk', responderVerifyData: verified, note: reason };
    };
    const hashId = conn.baseHashAlgo;
    const aeadId = this.aeadId;
    if (hashId === undefined || !isHashSupported(hashId))
      return fail(`BaseHashAlgo ${hashId ?? 'unknown'} is not supported`);
    if (aeadId === undefined || !isAeadSupported(aeadId))
      return fail(`AEAD suite ${aeadInfo(aeadId ?? 0)?.name ?? `0x${(aeadId ?? 0).toString(16)}`} is not supported`);
    if (this.a.length !== VCA_MESSAGES)
      return fail('the VCA (GET_VERSION .. ALGORITHMS) of this connection is not in the capture: TH1 cannot be built');
    const params: KeyScheduleParams = { version: rsp.version, hashId, aeadId };
    s.params = params;
    const rf = conn.responderFlags ?? 0;
    const qf = conn.requesterFlags ?? 0;
    const both = (f: number) => (rf & f) !== 0 && (qf & f) !== 0;
    s.mode = both(CapabilityFlag.ENCRYPT) ? 'encrypt' : 'mac-only';
    s.securedVersion = selectedSecuredMessageVersion(rsp.opaqueData);
    const legacy = this.opts.legacyNonceOrder ?? 'le';
    s.nonceOrders =
      s.securedVersion !== undefined && s.securedVersion >= 0x1200
        ? ['le']
        : legacy === 'auto'
          ? ['le', 'be']
          : [legacy];
    s.decoder = new ConversationDecoder(conn);

    const h = hashInfo(hashId)?.size ?? 0;
    const th = this.vca(rsp.version, hashId).pskSession();
    const th1Hash = th.th1(req.raw, rsp.raw.subarray(0, rsp.raw.length - h)).digest();
    th.acceptExchange(req.raw, rsp.raw);
    s.th = th;

    const psk = this.opts.psk;
    if (!psk) return fail('PSK session: no PSK given (spdm dump --psk)');
    const hs = deriveHandshakeSecrets(params, psk, 'psk', th1Hash);
    const ok = macEqual(verifyData(params, hs.responseFinishedKey, th1Hash), rsp.responderVerifyData);
    s.responderVerifyData = ok;
    if (!ok) {
      let hint = '';
      if (psk[psk.length - 1] !== 0) {
        const withNul = deriveHandshakeSecrets(params, concat([psk, Uint8Array.of(0)]), 'psk', th1Hash);
        if (macEqual(verifyData(params, withNul.responseFinishedKey, th1Hash), rsp.responderVerifyData)) {
          hint =
            '; it matches with a NUL byte appended (libspdm uses the C string including its terminator): add \\0 or 00';
        }
      }
      return fail(`wrong PSK: ResponderVerifyData in PSK_EXCHANGE_RSP does not verify${hint}`, false);
    }
    s.hs = hs;
    s.state = 'keys';
    s.req = { current: this.epoch(hs.request, 'handshake', 0, 'PSK_EXCHANGE_RSP') };
    s.rsp = { current: this.epoch(hs.response, 'handshake', 0, 'PSK_EXCHANGE_RSP') };
    let note = 'ResponderVerifyData verified with the PSK; handshake keys derived';
    if ((rf & CapabilityFlag.PSK_WITH_CONTEXT) === 0) {
      // Responder PSK_CAP 01 (no context): no PSK_FINISH; TH2 is TH1 with the verify data (libspdm).
      this.installDataKeys(s, 'PSK_EXCHANGE_RSP');
      note += '; responder without PSK context: no PSK_FINISH, data keys derived';
    }
    return { sessionId: id, kind: 'psk', responderVerifyData: true, note };
  }

  /** The connection's A as the transcript rules hold it, from the six VCA messages seen. */
  private vca(version: number, hashId: number): ConnectionTranscript {
    const t = new ConnectionTranscript();
    t.reset();
    t.setVersion(version);
    for (let i = 0; i + 1 < this.a.length; i += 2) t.appendVca(this.a[i] as Uint8Array, this.a[i + 1] as Uint8Array);
    t.setHash(hashId);
    return t;
  }

  private epoch(keys: TrafficKeys, phase: KeyPhase, generation: number, derivedAfter: string): KeyEpoch {
    return { keys, phase, generation, derivedAfter, seq: 0n, used: false };
  }

  /** TH2 is complete: the data keys replace the handshake keys. `finishRsp` is absent for a session without PSK_FINISH. */
  private installDataKeys(s: Session, after: string, finishRsp?: Uint8Array): void {
    if (!s.params || !s.hs || !s.th) return;
    const th2 = finishRsp && s.pskFinish ? s.th.th2(s.pskFinish, finishRsp) : s.th.th2();
    const data = deriveDataSecrets(s.params, s.hs.handshakeSecret, th2.digest());
    s.req = { current: this.epoch(data.request, 'data', 0, after) };
    s.rsp = { current: this.epoch(data.response, 'data', 0, after) };
    s.phase = 'data';
  }

  /**
   * Opens one secured record (the transport payload after the transport header). A malformed
   * record is a DecodeError; everything else is a result saying what could be done with it.
   */
  open(bytes: Uint8Array, directionHint: Direction, ref?: number): RecordResult {
    const record = decodeSecuredRecord(bytes, this.layout);
    const base = { record, sessionId: record.sessionId, direction: directionHint };
    const s = this.live.get(record.sessionId);
    if (!s) {
      const ended = this.latest.get(record.sessionId);
      const reason = ended
        ? `session ${hex32(record.sessionId)} ended (${ended.endedBy ?? 'ended'})`
        : `no PSK_EXCHANGE or KEY_EXCHANGE creating session ${hex32(record.sessionId)} in the capture`;
      if (ended) ended.undecrypted++;
      return { ...base, status: 'undecrypted', reason, notes: [] };
    }
    if (s.state !== 'keys' || !s.req || !s.rsp || !s.params || !s.mode) {
      s.undecrypted++;
      return { ...base, status: 'undecrypted', reason: s.reason ?? 'no keys for this session', notes: [] };
    }
    const found = this.tryKeys(s, record, directionHint);
    if (!found) {
      s.failed++;
      return {
        ...base,
        status: 'failed',
        reason: `the MAC does not verify with any ${s.phase} key of session ${hex32(s.id)} (either direction, expected sequence numbers)`,
        notes: [],
      };
    }
    const { direction, epoch, opened, which } = found;
    const keys = direction === 'request' ? s.req : s.rsp;
    const notes: string[] = [];
    const sequence = epoch.seq;
    epoch.seq++;
    let switched: KeySwitch | undefined;
    if (which === 'next') {
      keys.previous = keys.current;
      keys.current = epoch;
      keys.next = undefined;
      notes.push(
        `${direction === 'request' ? 'requester' : 'responder'} switched to data key generation ${epoch.generation}`,
      );
    } else if (which === 'previous') {
      notes.push(`sent under the previous key (generation ${epoch.generation})`);
    }
    if (!epoch.used) {
      epoch.used = true;
      switched = {
        direction,
        phase: epoch.phase,
        generation: epoch.generation,
        derivedAfter: epoch.derivedAfter,
        ...(ref !== undefined ? { firstRef: ref } : {}),
      };
    }
    s.decrypted++;
    const result = {
      ...base,
      direction,
      status: 'decrypted' as const,
      phase: epoch.phase,
      generation: epoch.generation,
      sequence,
      applicationData: opened.applicationData,
      randomData: opened.randomData,
    };
    let inner;
    try {
      inner = unwrapApplicationData(this.opts.transport, opened.applicationData);
    } catch (e) {
      if (switched) s.switches.push(switched);
      return {
        ...result,
        decodeError: e instanceof SpdmError ? e.message : String(e),
        payload: opened.applicationData,
        notes,
      };
    }
    const withInner = { ...result, innerHeader: inner.header };
    if (!inner.isSpdm) {
      if (switched) s.switches.push(switched);
      return { ...withInner, payload: inner.payload, notes };
    }
    let message: DecodedMessage;
    try {
      message = (s.decoder ?? new ConversationDecoder()).feed(direction, inner.payload);
    } catch (e) {
      if (switched) s.switches.push(switched);
      return {
        ...withInner,
        payload: inner.payload,
        decodeError: e instanceof SpdmError ? e.message : String(e),
        notes,
      };
    }
    if (switched)
      s.switches.push({ ...switched, firstMessage: message.kind === 'other' ? message.name : message.kind });
    this.follow(s, message, notes, ref);
    return { ...withInner, message, notes };
  }

  private tryKeys(
    s: Session,
    rec: SecuredRecord,
    hint: Direction,
  ):
    | { direction: Direction; epoch: KeyEpoch; opened: OpenedRecord; which: 'current' | 'next' | 'previous' }
    | undefined {
    const params = s.params;
    const mode = s.mode;
    if (!params || !mode) return undefined;
    for (const direction of [hint, other(hint)]) {
      const keys = direction === 'request' ? s.req : s.rsp;
      if (!keys) continue;
      for (const which of ['current', 'next', 'previous'] as const) {
        const epoch = keys[which];
        if (!epoch) continue;
        for (const order of s.nonceOrders) {
          // A DecodeError here means an authentic but malformed plaintext: it propagates.
          const opened = openSecuredRecord(
            rec,
            { aeadId: params.aeadId, key: epoch.keys.key, iv: epoch.keys.iv },
            epoch.seq,
            { layout: this.layout, mode, nonceOrder: order },
          );
          if (opened) {
            // At counter 0 both byte orders give the same nonce: only a later record tells them apart.
            if (s.nonceOrders.length > 1 && epoch.seq > 0n) s.nonceOrders = [order];
            return { direction, epoch, opened, which };
          }
        }
      }
    }
    return undefined;
  }

  /** Session protocol inside the records: verify data, TH2 and data keys, key updates, end. */
  private follow(s: Session, d: DecodedMessage, notes: string[], ref: number | undefined): void {
    const params = s.params;
    if (!params || !s.req || !s.rsp) return;
    switch (d.kind) {
      case 'PSK_FINISH': {
        if (!s.th || !s.hs) return;
        const h = d.msg.requesterVerifyData.length;
        const t = s.th.requesterVerifyTranscript(d.msg.raw.subarray(0, d.msg.raw.length - h));
        const ok = macEqual(verifyData(params, s.hs.requestFinishedKey, t.digest()), d.msg.requesterVerifyData);
        s.requesterVerifyData = ok;
        notes.push(ok ? 'RequesterVerifyData verified' : 'RequesterVerifyData does NOT verify');
        // TH2 holds the PSK_FINISH the responder answers; a repeated one replaces it, so nothing grows.
        s.pskFinish = d.msg.raw;
        return;
      }
      case 'PSK_FINISH_RSP':
        if (!s.th || !s.pskFinish || s.phase !== 'handshake') return;
        this.installDataKeys(s, 'PSK_FINISH_RSP', d.msg.raw);
        notes.push('TH2 complete: data keys derived, sequence numbers reset');
        return;
      case 'KEY_UPDATE': {
        if (s.phase !== 'data') return;
        const op = d.msg.operation;
        const name =
          op === KeyUpdateOperation.UPDATE_KEY
            ? 'UpdateKey'
            : op === KeyUpdateOperation.UPDATE_ALL_KEYS
              ? 'UpdateAllKeys'
              : 'VerifyNewKey';
        const derive = (k: DirectionKeys) => {
          k.next = this.epoch(
            updateTrafficKeys(params, k.current.keys),
            'data',
            k.current.generation + 1,
            `KEY_UPDATE(${name})`,
          );
        };
        if (op === KeyUpdateOperation.UPDATE_KEY) derive(s.req);
        if (op === KeyUpdateOperation.UPDATE_ALL_KEYS) {
          derive(s.req);
          derive(s.rsp);
        }
        if (op !== KeyUpdateOperation.VERIFY_NEW_KEY)
          notes.push(
            `next ${op === KeyUpdateOperation.UPDATE_KEY ? 'requester' : 'requester and responder'} data secret derived ("traffic upd")`,
          );
        return;
      }
      case 'KEY_UPDATE_ACK':
        if (d.msg.operation === KeyUpdateOperation.VERIFY_NEW_KEY) {
          s.req.previous = undefined;
          s.rsp.previous = undefined;
          notes.push('new keys verified: old keys discarded');
        }
        return;
      case 'END_SESSION_ACK':
        this.end(s, `END_SESSION_ACK${ref !== undefined ? ` (#${ref})` : ''}`);
        this.live.delete(s.id);
        notes.push('session ended: keys destroyed');
        return;
      default:
        return;
    }
  }
}
