/**
 * Follows a decoded SPDM conversation the way a requester would — VCA transcript A, B from
 * DIGESTS/CERTIFICATE, message_m for measurements, the chain per slot — and verifies every
 * CHALLENGE_AUTH and signed MEASUREMENTS signature from the observed bytes alone.
 *
 * Messages decrypted from a secure session are fed with their session ID: each session has its
 * own message_m (and its own request/response pairing), while A stays the connection's VCA
 * (libspdm: session_info->session_transcript.message_m; L = A || message_m for 1.2+).
 *
 * What it keeps is bounded whatever the capture: a transcript (A, B, a message_m) or a chain in
 * reassembly that would grow past LIMITS.captureTranscriptBytes is emptied instead, and the
 * signatures over it are reported as not checked (ok: null) rather than verified on a part.
 */
import type { KeyObject } from 'node:crypto';
import { spdmVerify, SigningContext } from '../crypto/signature.js';
import { concat, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { Transcript } from '../spdm/transcript.js';
import type { DecodedMessage } from '../spdm/conversation.js';
import type { ChallengeRequest } from '../spdm/messages/challenge.js';
import type { GetMeasurementsRequest } from '../spdm/messages/measurements.js';
import { chainForSlot } from '../x509/slot-chain.js';

export interface SignatureFinding {
  readonly kind: 'CHALLENGE_AUTH' | 'MEASUREMENTS';
  readonly slot: number;
  /** null when the chain for the slot was not seen, so the signature cannot be checked. */
  readonly ok: boolean | null;
  readonly reason?: string;
  readonly transcriptHash?: string;
  /** Set for a signature verified inside a secure session (its message_m). */
  readonly sessionId?: number;
}

interface Channel {
  m: Transcript;
  getMeas?: GetMeasurementsRequest;
  lastRequest?: Uint8Array;
  pendingOriginal?: Uint8Array;
}

export class SignatureTracker {
  private version = 0x10;
  private hashId = 0;
  private asymId = 0;
  private hashSize = 0;
  private readonly a = new Transcript();
  private b = new Transcript();
  private certParts: Uint8Array[] = [];
  private certBytes = 0;
  /** The chain being read outgrew the bound: it is dropped, and so is the slot's key when it ends. */
  private certOverflow = false;
  /** Transcripts emptied for outgrowing LIMITS.captureTranscriptBytes (until replaced or cleared). */
  private readonly overflowed = new WeakSet<Transcript>();
  private readonly leafKeys = new Map<number, KeyObject>();
  private challenge: ChallengeRequest | undefined;
  /** The clear channel; sessions get their own (message_m and request pairing are per session). */
  private readonly clearChannel: Channel = { m: new Transcript() };
  private readonly sessionChannels = new Map<number, Channel>();

  private sessionChannel(sessionId: number): Channel {
    let c = this.sessionChannels.get(sessionId);
    if (!c) {
      // As many channels as sessions the dump keeps at once; the oldest goes first (Map order).
      if (this.sessionChannels.size >= LIMITS.captureSessionReports) {
        const oldest = this.sessionChannels.keys().next();
        if (!oldest.done) this.sessionChannels.delete(oldest.value);
      }
      c = { m: this.fresh() };
      this.sessionChannels.set(sessionId, c);
    }
    return c;
  }

  /** Forget a session's message_m (a new session with this ID starts, or it ended). */
  resetSession(sessionId: number): void {
    this.sessionChannels.delete(sessionId);
  }

  /**
   * Feed every message in order — clear ones without `sessionId`, ones decrypted from a session
   * with its ID; returns a finding when the message carried a signature.
   */
  observe(d: DecodedMessage, sessionId?: number): SignatureFinding | undefined {
    const ch = sessionId === undefined ? this.clearChannel : this.sessionChannel(sessionId);
    if (d.direction === 'request') {
      // Any request other than GET_MEASUREMENTS (and the RESPOND_IF_READY that completes one) ends a measurement sequence.
      if (d.kind !== 'GET_MEASUREMENTS' && d.kind !== 'RESPOND_IF_READY') ch.m = this.fresh();
      ch.lastRequest = undefined;
      switch (d.kind) {
        case 'GET_VERSION':
          this.a.clear();
          this.overflowed.delete(this.a);
          this.sessionChannels.clear();
          ch.lastRequest = d.msg.raw;
          break;
        case 'GET_CERTIFICATE':
          if (d.msg.offset === 0) this.resetChain();
          ch.lastRequest = d.msg.raw;
          break;
        case 'GET_CAPABILITIES':
        case 'NEGOTIATE_ALGORITHMS':
        case 'GET_DIGESTS':
          ch.lastRequest = d.msg.raw;
          break;
        case 'CHALLENGE':
          this.challenge = d.msg;
          ch.lastRequest = d.msg.raw;
          break;
        case 'GET_MEASUREMENTS':
          ch.getMeas = d.msg;
          ch.lastRequest = d.msg.raw;
          break;
        case 'RESPOND_IF_READY':
          // The original request stays the one recorded: keep lastRequest as it was.
          ch.lastRequest = ch.pendingOriginal;
          break;
        default:
          break;
      }
      if (d.kind !== 'RESPOND_IF_READY') ch.pendingOriginal = ch.lastRequest;
      return undefined;
    }
    const req = ch.lastRequest;
    switch (d.kind) {
      case 'VERSION':
        if (req) this.grow(this.a, req, d.msg.raw);
        return undefined;
      case 'CAPABILITIES':
        this.version = d.msg.version;
        if (req) this.grow(this.a, req, d.msg.raw);
        return undefined;
      case 'ALGORITHMS':
        this.hashId = d.msg.baseHash;
        this.asymId = d.msg.baseAsym;
        if (req) this.grow(this.a, req, d.msg.raw);
        try {
          this.a.setHash(this.hashId);
          this.hashSize = this.a.digest().length;
        } catch {
          this.hashSize = 0;
        }
        return undefined;
      case 'DIGESTS':
        this.b = this.fresh();
        if (req) this.grow(this.b, req, d.msg.raw);
        this.resetChain();
        return undefined;
      case 'CERTIFICATE':
        if (req) this.grow(this.b, req, d.msg.raw);
        if (this.certBytes + d.msg.portion.length > LIMITS.captureTranscriptBytes) {
          this.certParts = [];
          this.certOverflow = true;
        }
        if (!this.certOverflow) {
          this.certParts.push(d.msg.portion);
          this.certBytes += d.msg.portion.length;
        }
        if (d.msg.remainderLength === 0) {
          if (this.certOverflow) this.leafKeys.delete(d.msg.slot);
          else this.readLeafKey(d.msg.slot);
          this.resetChain();
        }
        return undefined;
      case 'CHALLENGE_AUTH': {
        const c = this.challenge;
        if (!c) return undefined;
        if (this.overflowed.has(this.a) || this.overflowed.has(this.b)) {
          this.b = this.fresh();
          return this.tooLong('CHALLENGE_AUTH', c.slot);
        }
        const t = this.a.fork();
        t.append(...this.b.messages, c.raw, d.msg.unsigned);
        this.b = this.fresh();
        return this.verify('CHALLENGE_AUTH', c.slot, SigningContext.CHALLENGE_AUTH_RESPONDER, t, d.msg.signature);
      }
      case 'MEASUREMENTS': {
        const g = ch.getMeas;
        if (!g) return undefined;
        if (!g.signatureRequested || !d.msg.signature) {
          this.grow(ch.m, g.raw, d.msg.raw);
          return undefined;
        }
        if (this.overflowed.has(ch.m) || (this.version >= 0x12 && this.overflowed.has(this.a))) {
          ch.m = this.fresh();
          const finding = this.tooLong('MEASUREMENTS', g.slot ?? 0);
          return sessionId === undefined ? finding : { ...finding, sessionId };
        }
        const t = this.version >= 0x12 ? this.a.fork() : this.fresh();
        t.append(...ch.m.messages, g.raw, d.msg.unsigned);
        ch.m = this.fresh();
        const finding = this.verify('MEASUREMENTS', g.slot ?? 0, SigningContext.MEASUREMENTS, t, d.msg.signature);
        return sessionId === undefined ? finding : { ...finding, sessionId };
      }
      case 'ERROR':
        // libspdm ends a measurement sequence on ERROR; ResponseNotReady is answered later by the real response.
        if (d.msg.errorCode !== 0x42) ch.m = this.fresh();
        return undefined;
      default:
        return undefined;
    }
  }

  /** Appends to `t` unless that would take it past the bound: then `t` is emptied and marked. */
  private grow(t: Transcript, ...messages: Uint8Array[]): void {
    if (this.overflowed.has(t)) return;
    let n = t.length;
    for (const m of messages) n += m.length;
    if (n > LIMITS.captureTranscriptBytes) {
      t.clear();
      this.overflowed.add(t);
      return;
    }
    t.append(...messages);
  }

  /** The leaf's public key of the chain just read becomes the slot's (forgotten if the chain does not decode). */
  private readLeafKey(slot: number): void {
    try {
      this.leafKeys.set(slot, chainForSlot(concat(this.certParts), { version: this.version, hashId: this.hashId }).leafKey);
    } catch {
      this.leafKeys.delete(slot);
    }
  }

  private resetChain(): void {
    this.certParts = [];
    this.certBytes = 0;
    this.certOverflow = false;
  }

  private tooLong(kind: SignatureFinding['kind'], slot: number): SignatureFinding {
    const max = LIMITS.captureTranscriptBytes;
    return { kind, slot, ok: null, reason: `its transcript exceeds the captureTranscriptBytes limit of ${max} bytes: not kept, the signature cannot be checked` };
  }

  private fresh(): Transcript {
    return this.hashId ? safeTranscript(this.hashId) : new Transcript();
  }

  private verify(kind: SignatureFinding['kind'], slot: number, context: string, t: Transcript, signature: Uint8Array): SignatureFinding {
    const key = this.leafKeys.get(slot === 0xff ? 0xf : slot);
    if (!key) return { kind, slot, ok: null, reason: `no certificate chain for slot ${slot} in the capture` };
    try {
      const transcriptHash = t.digest();
      const ok = spdmVerify(key, this.asymId, { version: this.version, hashId: this.hashId, context, transcript: t.messages, transcriptHash }, signature);
      return { kind, slot, ok, transcriptHash: toHex(transcriptHash), ...(ok ? {} : { reason: 'signature does not verify with the leaf key' }) };
    } catch (e) {
      return { kind, slot, ok: false, reason: e instanceof SpdmError ? `${e.code}: ${e.message}` : String(e) };
    }
  }
}

function safeTranscript(hashId: number): Transcript {
  try {
    return new Transcript(hashId);
  } catch {
    return new Transcript();
  }
}
