/**
 * One secure session's record state, the same for both sides (DSP0277, shared/spec/secured.md):
 * the session ID halves, the secured-message version and AEAD chosen, one key/IV and 64-bit
 * sequence counter per direction, and the phase that says which keys are in use (handshake keys
 * after KEY_EXCHANGE_RSP, data keys after FINISH_RSP). `seal` and `open` move one application
 * message (an SPDM message, framed for the binding as record.ts says) through a record.
 *
 * Faults are final: a record that does not authenticate, carries the wrong sequence number or
 * arrives after END_SESSION tears the session down (keys dropped) and is an SpdmError naming the
 * session and the sequence number it was checked against. Neither the connection nor another
 * session is affected: this object is all the state there is.
 *
 * Counters never wrap: a direction that has used its last sequence number (2^64 − 1, or the
 * smaller `sequenceLimit`, DSP0277 1.3 AEADLimit) refuses further records with SESSION_SEQUENCE.
 *
 * KEY_UPDATE (`updateKeys`) moves one direction to its next data secret with the counter back at
 * 0. The replaced keys stay until the update is confirmed (`commitKeyUpdate`, which zeroises them)
 * or abandoned (`rollbackKeyUpdate`, which restores them with their counter): while they stay, a
 * received record that does not open under the new key is tried under the old one, because the
 * peer may not have switched yet (an ERROR to the KEY_UPDATE comes under the old key). libspdm
 * keeps the same backup and falls back the same way.
 */
import { DecodeError, SpdmError } from '../wire/errors.js';
import type { RandomSource } from '../crypto/random.js';
import {
  updateTrafficKeys,
  type DataSecrets,
  type HandshakeSecrets,
  type KeyScheduleParams,
  type TrafficKeys,
} from './key-schedule.js';
import {
  advanceSequence,
  applicationMessagePrefix,
  decodeSecuredRecord,
  openSecuredRecordAt,
  RECORD_LAYOUTS,
  sealSecuredRecordAt,
  sequenceHalves,
  sequenceMatchesHalves,
  spdmApplicationDataPrefix,
  unwrapApplicationData,
  type InnerMessage,
  type NonceOrder,
  type OpenedRecord,
  type RecordKeys,
  type RecordLayout,
  type RecordOptions,
  type SecuredRecord,
  type SecuredTransport,
  type SessionMode,
} from './record.js';

/**
 * 0xFFFF is the half our own sides never pick; only the whole SessionID 0xFFFFFFFF is invalid.
 * libspdm (its "no session" value is 0xFFFFFFFF) hands out 0xFFFF − index as its half, so its
 * first session has RspSessionID (responder) or ReqSessionID (requester) 0xFFFF: refusing that
 * half would refuse libspdm's first session (seen against spdm_responder_emu).
 */
export const INVALID_SESSION_ID_HALF = 0xffff;
export const INVALID_SESSION_ID = 0xffffffff;
export const MAX_SEQUENCE_NUMBER = (1n << 64n) - 1n;
/** The default limit as halves, split once rather than per session. */
const MAX_HALVES: Readonly<Counter> = sequenceHalves(MAX_SEQUENCE_NUMBER);

export type SessionRole = 'requester' | 'responder';
/** A direction of the session's traffic: 'request' is requester → responder, 'response' the other way. */
export type KeyDirection = 'request' | 'response';
export type SessionPhase = 'handshake' | 'established' | 'ended';

export interface SecureSessionParams {
  readonly role: SessionRole;
  readonly reqSessionId: number;
  readonly rspSessionId: number;
  /** The DSP0277 version VersionSelection chose, as its u16 (0x1200 = 1.2). */
  readonly securedVersion: number;
  readonly aeadId: number;
  readonly binding: SecuredTransport;
  readonly mode: SessionMode;
  /** Last usable sequence number per direction and key (default 2^64 − 1). */
  readonly sequenceLimit?: bigint;
  /**
   * How the 64-bit sequence number enters the AEAD nonce when the secured-message version is 1.0
   * or 1.1, which leave it to the transport binding / integrator: 'le' (default, libspdm's
   * default) or 'be' (libspdm's big-endian option). DSP0277 1.2 fixed little-endian, so from 1.2
   * this is ignored, as libspdm ignores its own setting.
   */
  readonly sequenceNumberOrder?: NonceOrder;
  /** For MCTP's random padding (1..32 bytes per record, as libspdm sends); none when omitted. */
  readonly random?: RandomSource;
}

/** Builds the u32 SessionID: RspSessionID in the high half, ReqSessionID in the low half. */
export function sessionIdOf(reqSessionId: number, rspSessionId: number): number {
  for (const [name, v] of [
    ['ReqSessionID', reqSessionId],
    ['RspSessionID', rspSessionId],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new TypeError(`${name} must be a u16, got ${v}`);
  }
  const id = ((rspSessionId << 16) | reqSessionId) >>> 0;
  if (id === INVALID_SESSION_ID) throw new TypeError('SessionID 0xFFFFFFFF is invalid');
  return id;
}

export function sessionIdHex(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

/** A 64-bit counter as u32 halves; `hi` reaches 2^32 only once the last sequence number is spent. */
interface Counter {
  hi: number;
  lo: number;
}

function counterValue(c: Counter): bigint {
  return (BigInt(c.hi) << 32n) | BigInt(c.lo);
}

/** a > b, on halves. */
function after(a: Counter, b: Counter): boolean {
  return a.hi > b.hi || (a.hi === b.hi && a.lo > b.lo);
}

/**
 * One direction's key, IV and next sequence number. The counter is kept as two u32 halves so
 * the per-record path makes no BigInt (the bigint `next` is for errors and diagnostics).
 */
class Direction implements Counter {
  hi = 0;
  lo = 0;
  /** The keys a pending key update replaced, with their next sequence number. */
  previous: { keys: TrafficKeys; counter: Counter } | undefined;
  private current: TrafficKeys | undefined;
  /** `keys` as the record layer takes them, made once per key rather than once per record (same arrays). */
  record: RecordKeys | undefined;
  constructor(private readonly aeadId: number) {}

  get keys(): TrafficKeys | undefined {
    return this.current;
  }

  set keys(k: TrafficKeys | undefined) {
    this.current = k;
    this.record = k && { aeadId: this.aeadId, key: k.key, iv: k.iv };
  }

  get next(): bigint {
    return counterValue(this);
  }

  reset(): void {
    this.hi = 0;
    this.lo = 0;
  }
}

function zeroise(k: TrafficKeys | undefined): void {
  k?.secret.fill(0);
  k?.key.fill(0);
  k?.iv.fill(0);
}

export class SecureSession {
  readonly role: SessionRole;
  readonly sessionId: number;
  readonly reqSessionId: number;
  readonly rspSessionId: number;
  readonly securedVersion: number;
  readonly aeadId: number;
  readonly binding: SecuredTransport;
  readonly mode: SessionMode;
  private readonly limit: bigint;
  /** `limit` as halves, for the per-record comparisons. */
  private readonly limitHalves: Counter;
  private readonly random: RandomSource | undefined;
  /** The nonce byte order in force (see SecureSessionParams.sequenceNumberOrder). */
  readonly nonceOrder: NonceOrder;
  private phaseNow: SessionPhase = 'handshake';
  private readonly tx: Direction;
  private readonly rx: Direction;
  /** The binding's record layout, mode and nonce order: the same for every record of the session. */
  private readonly recordOptions: RecordOptions;
  /** Why the session ended, for the errors of later records. */
  private endReason = '';
  private lastOpenedOld = false;
  /** Export master secret, once data keys are in (consumers of the session may derive from it). */
  exportMasterSecret: Uint8Array | undefined;

  constructor(p: SecureSessionParams) {
    this.role = p.role;
    this.sessionId = sessionIdOf(p.reqSessionId, p.rspSessionId);
    this.reqSessionId = p.reqSessionId;
    this.rspSessionId = p.rspSessionId;
    this.securedVersion = p.securedVersion;
    this.aeadId = p.aeadId;
    this.binding = p.binding;
    this.mode = p.mode;
    this.limit = p.sequenceLimit ?? MAX_SEQUENCE_NUMBER;
    if (this.limit < 0n || this.limit > MAX_SEQUENCE_NUMBER) throw new TypeError('sequenceLimit outside 0..2^64-1');
    this.limitHalves = this.limit === MAX_SEQUENCE_NUMBER ? MAX_HALVES : sequenceHalves(this.limit);
    this.random = p.random;
    this.nonceOrder = p.securedVersion >= 0x1200 ? 'le' : (p.sequenceNumberOrder ?? 'le');
    this.tx = new Direction(p.aeadId);
    this.rx = new Direction(p.aeadId);
    this.recordOptions = { layout: RECORD_LAYOUTS[p.binding], mode: p.mode, nonceOrder: this.nonceOrder };
  }

  /** The last sequence number a key may use in either direction. */
  get sequenceLimit(): bigint {
    return this.limit;
  }

  /**
   * True when either direction's next sequence number is the last its key may use (or past it):
   * one more exchange is all the keys have left, to be spent on KEY_UPDATE or END_SESSION.
   */
  get atSequenceLimit(): boolean {
    return !after(this.limitHalves, this.tx) || !after(this.limitHalves, this.rx);
  }

  get phase(): SessionPhase {
    return this.phaseNow;
  }

  get id(): string {
    return sessionIdHex(this.sessionId);
  }

  /** Next sequence number of the direction we send / receive (for tests and diagnostics). */
  get sendSequence(): bigint {
    return this.tx.next;
  }
  get receiveSequence(): bigint {
    return this.rx.next;
  }

  /** Handshake keys (after KEY_EXCHANGE_RSP): FINISH and FINISH_RSP travel under them. */
  installHandshake(hs: HandshakeSecrets): void {
    this.requireOpen('installHandshake');
    this.setKeys(hs.request, hs.response);
    this.phaseNow = 'handshake';
  }

  /** Data keys (after FINISH_RSP, from TH2): the session is established; counters restart at 0. */
  installData(ds: DataSecrets): void {
    this.requireOpen('installData');
    this.setKeys(ds.request, ds.response);
    this.exportMasterSecret = ds.exportMasterSecret;
    this.phaseNow = 'established';
  }

  private setKeys(request: TrafficKeys, response: TrafficKeys): void {
    const [send, receive] = this.role === 'requester' ? [request, response] : [response, request];
    // The keys being replaced (handshake keys, once the data keys come in) are not used again.
    for (const old of [this.tx.keys, this.rx.keys]) {
      if (old && old !== send && old !== receive) {
        old.key.fill(0);
        old.iv.fill(0);
      }
    }
    this.tx.keys = send;
    this.tx.reset();
    this.rx.keys = receive;
    this.rx.reset();
  }

  private direction(d: KeyDirection): Direction {
    return (this.role === 'requester') === (d === 'request') ? this.tx : this.rx;
  }

  /**
   * KEY_UPDATE for one direction: its next data secret (HKDF-Expand with "traffic upd"), key and
   * IV are in use from now on, sequence number 0; the replaced keys are kept until
   * commitKeyUpdate or rollbackKeyUpdate. Only an established session's data keys are updated.
   */
  updateKeys(direction: KeyDirection, params: KeyScheduleParams): void {
    const d = this.direction(direction);
    if (this.phaseNow === 'ended' || !d.keys) throw this.closed(d.next);
    if (this.phaseNow !== 'established')
      throw new SpdmError('PROTOCOL_ERROR', `session ${this.id}: KEY_UPDATE before the session is established`, {
        sessionId: this.id,
      });
    // One update in flight per direction: a second would lose the keys to fall back to.
    if (d.previous) throw new TypeError(`session ${this.id}: a ${direction} key update is already pending`);
    if (params.aeadId !== this.aeadId) throw new TypeError('updateKeys: the key schedule is for another AEAD');
    const next = updateTrafficKeys(params, d.keys);
    d.previous = { keys: d.keys, counter: { hi: d.hi, lo: d.lo } };
    d.keys = next;
    d.reset();
  }

  /** True while a key update of `direction` has neither been committed nor rolled back. */
  keyUpdatePending(direction: KeyDirection): boolean {
    return this.direction(direction).previous !== undefined;
  }

  /** The update of `direction` is confirmed: the replaced keys are zeroised. */
  commitKeyUpdate(direction: KeyDirection): void {
    const d = this.direction(direction);
    zeroise(d.previous?.keys);
    d.previous = undefined;
  }

  /** The update of `direction` is abandoned: the new keys are zeroised, the old ones and their counter restored. */
  rollbackKeyUpdate(direction: KeyDirection): void {
    const d = this.direction(direction);
    if (!d.previous) return;
    zeroise(d.keys);
    d.keys = d.previous.keys;
    d.hi = d.previous.counter.hi;
    d.lo = d.previous.counter.lo;
    d.previous = undefined;
  }

  /** True when the last record `open` accepted was under the old key of a pending receive-direction update. */
  get openedUnderOldKey(): boolean {
    return this.lastOpenedOld;
  }

  /** END_SESSION done, or a fault: keys gone, every later record refused with SESSION_CLOSED. */
  end(reason = 'the session was ended'): void {
    if (this.phaseNow === 'ended') return;
    this.phaseNow = 'ended';
    this.endReason = reason;
    for (const d of [this.tx, this.rx]) {
      zeroise(d.keys);
      zeroise(d.previous?.keys);
      d.keys = undefined;
      d.previous = undefined;
    }
    this.exportMasterSecret?.fill(0);
    this.exportMasterSecret = undefined;
  }

  private requireOpen(what: string): void {
    // Installing keys into an ended session is the caller's ordering mistake.
    if (this.phaseNow === 'ended') throw new TypeError(`session ${this.id}: ${what} after the session ended`);
  }

  private closed(sequence: bigint): SpdmError {
    return new SpdmError('SESSION_CLOSED', `session ${this.id}: ${this.endReason}`, {
      sessionId: this.id,
      sequence: sequence.toString(),
    });
  }

  private fault<E extends SpdmError>(e: E): E {
    this.end(`torn down after ${e.code}: ${e.message}`);
    return e;
  }

  /** Seals one SPDM message for our direction: the binding's ApplicationData, in one record. */
  seal(spdm: Uint8Array): Uint8Array {
    return this.sealApplicationData(spdmApplicationDataPrefix(this.binding, spdm.length), spdm);
  }

  /**
   * Seals one application message that is not SPDM (an MCTP message type such as PLDM 0x01, or a
   * DSP0287 message type): UNSUPPORTED over PCIe DOE, whose secured data objects carry SPDM only.
   */
  sealMessage(messageType: number, payload: Uint8Array): Uint8Array {
    return this.sealApplicationData(applicationMessagePrefix(this.binding, messageType, payload.length), payload);
  }

  /** ApplicationData = `prefix` (the binding's inner header) || `message`, sealed without joining them first. */
  private sealApplicationData(prefix: Uint8Array, message: Uint8Array): Uint8Array {
    const d = this.tx;
    const keys = d.record;
    if (this.phaseNow === 'ended' || !keys) throw this.closed(d.next);
    if (after(d, this.limitHalves))
      throw this.fault(
        new SpdmError('SESSION_SEQUENCE', `session ${this.id}: send sequence numbers exhausted at ${this.limit}`, {
          sessionId: this.id,
          sequence: d.next.toString(),
        }),
      );
    const opts = this.recordOptions;
    const layout = opts.layout;
    const randomData =
      this.mode === 'encrypt' && layout.maxRandomPadding > 0 && this.random
        ? this.random(1 + (((this.random(1)[0] as number) % layout.maxRandomPadding) >>> 0))
        : undefined;
    const record = sealSecuredRecordAt(
      this.sessionId,
      prefix,
      message,
      keys,
      d.hi,
      d.lo,
      randomData ? { ...opts, randomData } : opts,
    );
    advanceSequence(d);
    return record;
  }

  /**
   * Opens one record from the peer and returns the SPDM message in it. Every failure tears the
   * session down: DECODE_ERROR (truncated or malformed record, or inner framing, or a message that
   * is not SPDM), SESSION_CLOSED (another session's ID, or after END_SESSION), SESSION_SEQUENCE (a
   * wire sequence number not the expected one, or the counter exhausted), SESSION_AUTH_FAILED
   * (the MAC does not verify).
   */
  open(bytes: Uint8Array): Uint8Array {
    const inner = this.openMessage(bytes);
    if (!inner.isSpdm)
      throw this.fault(
        new DecodeError('secured message ApplicationData', 'type', 0, 'not an SPDM message where one was expected'),
      );
    return inner.payload;
  }

  /**
   * Opens one record and returns what its ApplicationData carries: an SPDM message or another
   * application message of the binding (MCTP message type, DSP0287 message type). Faults as `open`.
   */
  openMessage(bytes: Uint8Array): InnerMessage {
    const d = this.rx;
    const keys = d.record;
    if (this.phaseNow === 'ended' || !keys) throw this.closed(d.next);
    const layout = this.recordOptions.layout;
    let rec;
    try {
      rec = decodeSecuredRecord(bytes, layout);
    } catch (e) {
      throw this.fault(e instanceof SpdmError ? e : new DecodeError('secured message', 'record', 0, String(e)));
    }
    if (rec.sessionId !== this.sessionId)
      throw this.fault(
        new SpdmError('SESSION_CLOSED', `record for session ${sessionIdHex(rec.sessionId)} in session ${this.id}`, {
          sessionId: this.id,
          sequence: d.next.toString(),
        }),
      );
    const current = this.tryOpen(rec, keys, d, layout);
    let opened: OpenedRecord;
    this.lastOpenedOld = false;
    if (current instanceof SpdmError) {
      // A pending update's old key: the peer answered (or asked) before it switched.
      const prev = d.previous;
      const old =
        prev && this.tryOpen(rec, { aeadId: this.aeadId, key: prev.keys.key, iv: prev.keys.iv }, prev.counter, layout);
      if (!d.previous || !old || old instanceof SpdmError) throw this.fault(current);
      opened = old;
      advanceSequence(d.previous.counter);
      this.lastOpenedOld = true;
    } else {
      opened = current;
      advanceSequence(d);
    }
    try {
      return unwrapApplicationData(this.binding, opened.applicationData);
    } catch (e) {
      throw this.fault(
        e instanceof SpdmError ? e : new DecodeError('secured message', 'ApplicationData', 0, String(e)),
      );
    }
  }

  /** The record opened with `keys` at `counter`, or the error that says why it does not (built only then). */
  private tryOpen(
    rec: SecuredRecord,
    keys: RecordKeys,
    counter: Counter,
    layout: RecordLayout,
  ): OpenedRecord | SpdmError {
    if (after(counter, this.limitHalves))
      return new SpdmError(
        'SESSION_SEQUENCE',
        `session ${this.id}: receive sequence numbers exhausted at ${this.limit}`,
        this.details(counter),
      );
    if (!sequenceMatchesHalves(rec, counter.hi, counter.lo, layout))
      return new SpdmError(
        'SESSION_SEQUENCE',
        `session ${this.id}: record carries sequence number ${rec.sequenceNumber}, expected ${counterValue(counter)} (replayed or skipped)`,
        { ...this.details(counter), got: rec.sequenceNumber },
      );
    let opened;
    try {
      opened = openSecuredRecordAt(rec, keys, counter.hi, counter.lo, this.recordOptions);
    } catch (e) {
      return e instanceof SpdmError ? e : new DecodeError('secured message', 'record', 0, String(e));
    }
    if (opened === null)
      return new SpdmError(
        'SESSION_AUTH_FAILED',
        `session ${this.id}: record ${counterValue(counter)} does not authenticate (tampered, or a replayed or skipped sequence number)`,
        this.details(counter),
      );
    return opened;
  }

  private details(counter: Counter): { sessionId: string; sequence: string } {
    return { sessionId: this.id, sequence: counterValue(counter).toString() };
  }
}
