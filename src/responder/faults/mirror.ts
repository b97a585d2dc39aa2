/**
 * What the requester on the other side of a fault wrapper has in its transcripts. The wrapper
 * sees every request and every response it lets through (after its own edits), so it can rebuild
 * VCA (A), the digest/certificate transcript (B) and the measurement sequence exactly as the
 * requester will — which is what lets a hostile device sign edited bytes correctly, sign with the
 * wrong key over the right bytes, or sign over the right bytes of the wrong transcript.
 */
import { asymInfo, hashInfo } from '../../crypto/algorithms.js';
import { spdmSign, responderSigningContext } from '../../crypto/signature.js';
import { digest } from '../../crypto/hash.js';
import { RequestCode, ResponseCode } from '../../spdm/codes.js';
import { decodeAlgorithms } from '../../spdm/messages/algorithms.js';
import { decodeError, ErrorCode } from '../../spdm/messages/error.js';
import type { KeyObject } from 'node:crypto';

export interface MirrorNegotiation {
  readonly version: number;
  readonly hashId: number;
  readonly asymId: number;
  readonly signatureSize: number;
  readonly hashSize: number;
}

export type SignedKind = 'CHALLENGE_AUTH' | 'MEASUREMENTS';

/** How a re-signature departs from the honest one. */
export interface SignOptions {
  /** Sign with this key instead of the slot's. */
  readonly key?: KeyObject;
  /** Replace the transcript that is signed (receives the honest one). */
  readonly transcript?: (honest: readonly Uint8Array[]) => readonly Uint8Array[];
  /** Sign under this context string instead of the kind's (1.2+). */
  readonly context?: string;
}

export class TranscriptMirror {
  private a: Uint8Array[] = [];
  private b: Uint8Array[] = [];
  private m: Uint8Array[] = [];
  private neg: MirrorNegotiation | undefined;
  /** The request a ResponseNotReady stands for, collected later with RESPOND_IF_READY. */
  private parked: Uint8Array | undefined;

  get negotiated(): MirrorNegotiation {
    if (!this.neg) throw new TypeError('fault wrapper: nothing negotiated yet');
    return this.neg;
  }

  get isNegotiated(): boolean {
    return this.neg !== undefined;
  }

  /** The request a response answers (RESPOND_IF_READY stands for the parked request). */
  original(request: Uint8Array): Uint8Array {
    return request[1] === RequestCode.RESPOND_IF_READY && this.parked ? this.parked : request;
  }

  /** The transcript a signed response to `request` is computed over, without the response's own unsigned part. */
  prefix(kind: SignedKind, request: Uint8Array): Uint8Array[] {
    const n = this.negotiated;
    if (kind === 'CHALLENGE_AUTH') return [...this.a, ...this.b, request];
    return [...(n.version >= 0x12 ? this.a : []), ...this.m, request];
  }

  /**
   * A signature over `unsigned` (a CHALLENGE_AUTH or MEASUREMENTS without its Signature field) as
   * the requester will check it, with the departures in `o`.
   */
  sign(kind: SignedKind, request: Uint8Array, unsigned: Uint8Array, key: KeyObject, o: SignOptions = {}): Uint8Array {
    const n = this.negotiated;
    const honest = [...this.prefix(kind, request), unsigned];
    const transcript = o.transcript ? o.transcript(honest) : honest;
    return spdmSign(o.key ?? key, n.asymId, {
      version: n.version,
      hashId: n.hashId,
      context: o.context ?? responderSigningContext(kind, n.version),
      transcript,
      transcriptHash: n.version >= 0x12 ? digest(n.hashId, ...transcript) : undefined,
    });
  }

  /** Records one exchange as the requester saw it. */
  observe(request: Uint8Array, response: Uint8Array): void {
    const rsp = response[1];
    if (rsp === ResponseCode.ERROR) {
      let notReady = false;
      try {
        notReady = decodeError(response).errorCode === ErrorCode.ResponseNotReady;
      } catch {
        // A malformed ERROR is the requester's problem; the mirror only needs to stay sane.
      }
      if (notReady) {
        this.parked = this.original(request);
        return;
      }
      if (this.original(request)[1] === RequestCode.GET_MEASUREMENTS) this.m = [];
      return;
    }
    const req = this.original(request);
    this.parked = undefined;
    switch (req[1]) {
      case RequestCode.GET_VERSION:
        this.a = [req, response];
        this.b = [];
        this.m = [];
        this.neg = undefined;
        return;
      case RequestCode.GET_CAPABILITIES:
        this.a.push(req, response);
        this.m = [];
        return;
      case RequestCode.NEGOTIATE_ALGORITHMS: {
        this.a.push(req, response);
        this.m = [];
        try {
          const alg = decodeAlgorithms(response);
          const s = asymInfo(alg.baseAsym);
          const h = alg.baseHash;
          this.neg = {
            version: alg.version,
            hashId: h,
            asymId: alg.baseAsym,
            signatureSize: s?.sigSize ?? 0,
            hashSize: hashInfo(h)?.size ?? 0,
          };
        } catch {
          this.neg = undefined;
        }
        return;
      }
      case RequestCode.GET_DIGESTS:
        this.b = [req, response];
        this.m = [];
        return;
      case RequestCode.GET_CERTIFICATE:
        this.b.push(req, response);
        this.m = [];
        return;
      case RequestCode.CHALLENGE:
        this.b = [];
        this.m = [];
        return;
      case RequestCode.GET_MEASUREMENTS:
        // Signed (Param1 bit 0) ends the sequence; unsigned continues it.
        if (((req[2] ?? 0) & 0x01) !== 0) this.m = [];
        else this.m.push(req, response);
        return;
      default:
        this.m = [];
    }
  }
}
