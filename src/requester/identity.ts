/**
 * The requester's own identity, for mutual authentication: one certificate chain and private key
 * per slot, which the device reads with encapsulated GET_DIGESTS / GET_CERTIFICATE and which signs
 * the requester's FINISH (KEY_EXCHANGE with MutAuthRequested) and its CHALLENGE_AUTH (1.1 basic
 * mutual authentication). The chains are built per negotiated version and hash, as a responder's.
 */
import type { KeyObject } from 'node:crypto';
import { digest } from '../crypto/hash.js';
import { spdmSign } from '../crypto/signature.js';
import { encodeSpdmCertChain } from '../x509/spdm-chain.js';
import type { SignedTranscript, SignedKind } from '../spdm/connection-transcript.js';

export interface RequesterSlotIdentity {
  /** 0..7. */
  readonly slot: number;
  /** DER certificates, root (or first intermediate) first, leaf last. */
  readonly certificates: readonly Uint8Array[];
  readonly privateKey: KeyObject;
  /** The key's ReqBaseAsymAlg bit (the BaseAsymAlgo numbering). */
  readonly asymId: number;
}

export interface RequesterIdentity {
  readonly slots: readonly RequesterSlotIdentity[];
}

/** The identity as one negotiated connection sees it: chains in the SPDM format of its version and hash. */
export class IdentityView {
  private readonly chains = new Map<number, Uint8Array>();

  constructor(
    readonly identity: RequesterIdentity,
    private readonly version: number,
    private readonly hashId: number,
    /** The ReqBaseAsymAlg ALGORITHMS selected: only slots with that key serve. */
    readonly asymId: number,
  ) {
    for (const s of identity.slots)
      if (!Number.isInteger(s.slot) || s.slot < 0 || s.slot > 7)
        throw new TypeError(`requester identity: slot ${s.slot} is not 0..7`);
  }

  /** Slots whose key is of the negotiated algorithm, in slot order. */
  slots(): RequesterSlotIdentity[] {
    return this.identity.slots.filter((s) => s.asymId === this.asymId).sort((a, b) => a.slot - b.slot);
  }

  has(slot: number): boolean {
    return this.slots().some((s) => s.slot === slot);
  }

  /** The slot's SPDM certificate chain; undefined for a slot this identity does not fill. */
  chain(slot: number): Uint8Array | undefined {
    const s = this.slots().find((x) => x.slot === slot);
    if (!s) return undefined;
    let c = this.chains.get(slot);
    if (!c) {
      c = encodeSpdmCertChain(this.version, this.hashId, s.certificates);
      this.chains.set(slot, c);
    }
    return c;
  }

  /** Hash of the slot's SPDM chain: DIGESTS' entry, and Ct_req of a mutually authenticated session. */
  chainHash(slot: number): Uint8Array | undefined {
    const c = this.chain(slot);
    return c && digest(this.hashId, c);
  }

  /** Signs a transcript with the slot's key (FINISH, or CHALLENGE_AUTH to an encapsulated CHALLENGE). */
  sign(slot: number, signed: SignedTranscript<SignedKind>): Uint8Array {
    const s = this.slots().find((x) => x.slot === slot);
    if (!s) throw new TypeError(`requester identity: no key of the negotiated algorithm in slot ${slot}`);
    return spdmSign(s.privateKey, this.asymId, {
      version: this.version,
      hashId: this.hashId,
      context: signed.context,
      transcript: signed.transcript.messages,
      transcriptHash: signed.transcript.digest(),
    });
  }
}
