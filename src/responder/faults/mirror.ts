/**
 * What the requester on the other side of a fault wrapper has in its transcripts. The wrapper
 * sees every request and every response it lets through (after its own edits), so it can feed
 * them to the same ConnectionTranscript the requester keeps — which is what lets a hostile device
 * sign edited bytes correctly, sign with the wrong key over the right bytes, or sign over the
 * right bytes of the wrong transcript. The transcript rules (what A, B, M1 and L1/L2 hold, what
 * resets them) stay in spdm/connection-transcript; this module only maps exchanges onto them.
 */
import { asymInfo, hashInfo } from '../../crypto/algorithms.js';
import { spdmSign } from '../../crypto/signature.js';
import { digest } from '../../crypto/hash.js';
import { RequestCode, ResponseCode } from '../../spdm/codes.js';
import { ConnectionTranscript, type SignedKind } from '../../spdm/connection-transcript.js';
import { decodeAlgorithms } from '../../spdm/messages/algorithms.js';
import { decodeError, ErrorCode } from '../../spdm/messages/error.js';
import type { KeyObject } from 'node:crypto';

export type { SignedKind } from '../../spdm/connection-transcript.js';

export interface MirrorNegotiation {
  readonly version: number;
  readonly hashId: number;
  readonly asymId: number;
  readonly signatureSize: number;
  readonly hashSize: number;
}

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
  private readonly transcript = new ConnectionTranscript();
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

  /**
   * A signature over `unsigned` (a CHALLENGE_AUTH or MEASUREMENTS without its Signature field) as
   * the requester will check it, with the departures in `o`.
   */
  sign(kind: SignedKind, request: Uint8Array, unsigned: Uint8Array, key: KeyObject, o: SignOptions = {}): Uint8Array {
    const n = this.negotiated;
    const honest =
      kind === 'CHALLENGE_AUTH' ? this.transcript.m1(request, unsigned) : this.transcript.l1l2(request, unsigned);
    const transcript = o.transcript ? o.transcript(honest.transcript.messages) : honest.transcript.messages;
    return spdmSign(o.key ?? key, n.asymId, {
      version: n.version,
      hashId: n.hashId,
      context: o.context ?? honest.context,
      transcript,
      // Hashed here rather than taken from the honest transcript: a fault may have replaced it.
      transcriptHash: n.version >= 0x12 ? digest(n.hashId, ...transcript) : undefined,
    });
  }

  /** Records one exchange as the requester saw it. */
  observe(request: Uint8Array, response: Uint8Array): void {
    const req = this.original(request);
    // The requester applied the request's own resets when it sent it, whatever the answer.
    this.transcript.request(req[1] ?? 0);
    if (response[1] === ResponseCode.ERROR) {
      let errorCode: number | undefined;
      try {
        errorCode = decodeError(response).errorCode;
      } catch {
        // A malformed ERROR is the requester's problem; the mirror only needs to stay sane.
      }
      if (errorCode === ErrorCode.ResponseNotReady) {
        this.parked = req;
        return;
      }
      // An ERROR the mirror cannot read still ends a measurement run, as any non-ResponseNotReady one does.
      this.transcript.error(errorCode ?? ErrorCode.InvalidRequest);
      return;
    }
    this.parked = undefined;
    switch (req[1]) {
      case RequestCode.GET_VERSION:
        this.transcript.reset();
        this.transcript.appendVca(req, response);
        this.neg = undefined;
        return;
      case RequestCode.GET_CAPABILITIES:
        this.transcript.appendVca(req, response);
        return;
      case RequestCode.NEGOTIATE_ALGORITHMS:
        this.transcript.appendVca(req, response);
        this.negotiate(response);
        return;
      case RequestCode.GET_DIGESTS:
        this.transcript.startB(req, response);
        return;
      case RequestCode.GET_CERTIFICATE:
        this.transcript.appendB(req, response);
        return;
      case RequestCode.CHALLENGE:
        this.transcript.endChallenge();
        return;
      case RequestCode.GET_MEASUREMENTS:
        // Signed (Param1 bit 0) ends the run; unsigned continues it.
        if (((req[2] ?? 0) & 0x01) !== 0) this.transcript.endMeasurementRun();
        else this.transcript.messageM.append(req, response);
    }
  }

  /** ALGORITHMS as the device sent it: the version, hash and signature sizes later signatures use. */
  private negotiate(response: Uint8Array): void {
    try {
      const alg = decodeAlgorithms(response);
      this.neg = {
        version: alg.version,
        hashId: alg.baseHash,
        asymId: alg.baseAsym,
        signatureSize: asymInfo(alg.baseAsym)?.sigSize ?? 0,
        hashSize: hashInfo(alg.baseHash)?.size ?? 0,
      };
    } catch {
      this.neg = undefined;
      return;
    }
    this.transcript.setVersion(this.neg.version);
    try {
      this.transcript.setHash(this.neg.hashId);
    } catch {
      // A hash this platform lacks: the requester refuses such an ALGORITHMS, so nothing is signed over it.
    }
  }
}
