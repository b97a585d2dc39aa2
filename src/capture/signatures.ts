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
import { checkTranscriptSignature } from '../spdm/transcript-signature.js';
import { concat, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { RequestCode } from '../spdm/codes.js';
import { ConnectionTranscript, type MessageM, type SignedTranscript } from '../spdm/connection-transcript.js';
import type { DecodedMessage } from '../spdm/conversation.js';
import { pairingRole, RequestPairer } from '../spdm/pairer.js';
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
  m: MessageM;
  getMeas?: GetMeasurementsRequest;
  /** Responses paired with their requests (RESPOND_IF_READY resolved to the original one). */
  readonly pairer: RequestPairer<DecodedMessage>;
}

/** The requests whose bytes, with their response's, enter A or B. */
const TRANSCRIPT_REQUESTS: ReadonlySet<string> = new Set([
  'GET_VERSION',
  'GET_CAPABILITIES',
  'NEGOTIATE_ALGORITHMS',
  'GET_DIGESTS',
  'GET_CERTIFICATE',
  'CHALLENGE',
  'GET_MEASUREMENTS',
]);

export class SignatureTracker {
  private version = 0x10;
  private hashId = 0;
  private asymId = 0;
  /** A, B and the clear channel's message_m, bounded by LIMITS.captureTranscriptBytes. */
  private readonly t = new ConnectionTranscript({ maxBytes: LIMITS.captureTranscriptBytes });
  private certParts: Uint8Array[] = [];
  private certBytes = 0;
  /** The chain being read outgrew the bound: it is dropped, and so is the slot's key when it ends. */
  private certOverflow = false;
  private readonly leafKeys = new Map<number, KeyObject>();
  private challenge: ChallengeRequest | undefined;
  /** The clear channel; sessions get their own (message_m and request pairing are per session). */
  private readonly clearChannel: Channel = { m: this.t.messageM, pairer: new RequestPairer() };
  private readonly sessionChannels = new Map<number, Channel>();

  constructor() {
    // Until a CAPABILITIES is seen, the conversation is taken to be 1.0 (as `version` says).
    this.t.setVersion(this.version);
  }

  private sessionChannel(sessionId: number): Channel {
    let c = this.sessionChannels.get(sessionId);
    if (!c) {
      // As many channels as sessions the dump keeps at once; the oldest goes first (Map order).
      if (this.sessionChannels.size >= LIMITS.captureSessionReports) {
        const oldest = this.sessionChannels.keys().next();
        if (!oldest.done) this.sessionChannels.delete(oldest.value);
      }
      c = { m: this.t.newMessageM(), pairer: new RequestPairer() };
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
      this.t.request(requestCodeOf(d), ch.m);
      ch.pairer.feed(pairingRole(d), d);
      switch (d.kind) {
        case 'GET_VERSION':
          this.t.reset();
          this.sessionChannels.clear();
          break;
        case 'GET_CERTIFICATE':
          if (d.msg.offset === 0) this.resetChain();
          break;
        case 'CHALLENGE':
          this.challenge = d.msg;
          break;
        case 'GET_MEASUREMENTS':
          ch.getMeas = d.msg;
          break;
        default:
          break;
      }
      return undefined;
    }
    const paired = ch.pairer.feed(pairingRole(d), d).request;
    const req = paired && paired.kind !== 'other' && TRANSCRIPT_REQUESTS.has(paired.kind) ? paired.msg.raw : undefined;
    switch (d.kind) {
      case 'VERSION':
        if (req) this.t.appendVca(req, d.msg.raw);
        return undefined;
      case 'CAPABILITIES':
        this.version = d.msg.version;
        this.t.setVersion(this.version);
        if (req) this.t.appendVca(req, d.msg.raw);
        return undefined;
      case 'ALGORITHMS':
        this.hashId = d.msg.baseHash;
        this.asymId = d.msg.baseAsym;
        if (req) this.t.appendVca(req, d.msg.raw);
        try {
          this.t.setHash(this.hashId);
        } catch {
          // A hash this platform lacks: the transcript stays unhashed and no signature is checked.
        }
        return undefined;
      case 'DIGESTS':
        if (req) this.t.startB(req, d.msg.raw);
        else this.t.startB();
        this.resetChain();
        return undefined;
      case 'CERTIFICATE':
        if (req) this.t.appendB(req, d.msg.raw);
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
        const m1 = this.t.m1(c.raw, d.msg.unsigned);
        this.t.endChallenge();
        if (!m1.complete) return this.tooLong('CHALLENGE_AUTH', c.slot);
        return this.verify(c.slot, m1, d.msg.signature);
      }
      case 'MEASUREMENTS': {
        const g = ch.getMeas;
        if (!g) return undefined;
        if (!g.signatureRequested || !d.msg.signature) {
          ch.m.append(g.raw, d.msg.raw);
          return undefined;
        }
        const l = this.t.l1l2(g.raw, d.msg.unsigned, ch.m);
        this.t.endMeasurementRun(ch.m);
        const finding = l.complete
          ? this.verify(g.slot ?? 0, l, d.msg.signature)
          : this.tooLong('MEASUREMENTS', g.slot ?? 0);
        return sessionId === undefined ? finding : { ...finding, sessionId };
      }
      case 'ERROR':
        // libspdm ends a measurement sequence on ERROR, as the rule says.
        this.t.error(d.msg.errorCode, ch.m);
        return undefined;
      default:
        return undefined;
    }
  }

  /** The leaf's public key of the chain just read becomes the slot's (forgotten if the chain does not decode). */
  private readLeafKey(slot: number): void {
    try {
      this.leafKeys.set(
        slot,
        chainForSlot(concat(this.certParts), { version: this.version, hashId: this.hashId }).leafKey,
      );
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
    return {
      kind,
      slot,
      ok: null,
      reason: `its transcript exceeds the captureTranscriptBytes limit of ${max} bytes: not kept, the signature cannot be checked`,
    };
  }

  private verify(slot: number, signed: SignedTranscript, signature: Uint8Array): SignatureFinding {
    const { kind } = signed;
    const key = this.leafKeys.get(slot === 0xff ? 0xf : slot);
    if (!key) return { kind, slot, ok: null, reason: `no certificate chain for slot ${slot} in the capture` };
    try {
      const suite = { version: this.version, asymId: this.asymId, hashId: this.hashId };
      const { ok, transcriptHash } = checkTranscriptSignature(key, suite, signed, signature);
      return {
        kind,
        slot,
        ok,
        transcriptHash: toHex(transcriptHash),
        ...(ok ? {} : { reason: 'signature does not verify with the leaf key' }),
      };
    } catch (e) {
      return { kind, slot, ok: false, reason: e instanceof SpdmError ? `${e.code}: ${e.message}` : String(e) };
    }
  }
}

/** The RequestResponseCode of a decoded request (a kind is named after its code). */
function requestCodeOf(d: DecodedMessage): number {
  return d.kind === 'other' ? d.header.code : ((RequestCode as Readonly<Record<string, number>>)[d.kind] ?? -1);
}
