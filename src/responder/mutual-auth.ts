/**
 * Mutual authentication, responder side: the emulator reads the requester's identity with
 * encapsulated requests (DSP0274 "GET_ENCAPSULATED_REQUEST"), checks the chain against its
 * requester trust anchors and then either verifies the requester's FINISH signature (a
 * KEY_EXCHANGE session, MutAuthRequested) or — 1.1 basic mutual authentication after
 * CHALLENGE_AUTH — sends an encapsulated CHALLENGE and verifies the requester's CHALLENGE_AUTH
 * over [A ‖] Mut_B ‖ Mut_C.
 *
 * One RequesterAuthTask is one encapsulated flow's logic, run by the shared engine
 * (responder/encapsulated-flow.ts, which holds RequestIDs, the outstanding request and the ACKs).
 * What the requester sends is hostile like everything else: a response that does not decode, a
 * chain that does not validate or lead to a trust anchor, a signature that does not verify, each
 * ends the flow with `MutualAuthError` (the responder answers ERROR); nothing is accepted half-checked.
 */
import type { KeyObject } from 'node:crypto';
import { asymInfo } from '../crypto/algorithms.js';
import { digest, requireHash } from '../crypto/hash.js';
import { concat, equalBytes } from '../wire/bytes.js';
import { RequestCode } from '../spdm/codes.js';
import { peekHeader } from '../spdm/header.js';
import type { ConnectionTranscript } from '../spdm/connection-transcript.js';
import { checkTranscriptSignature } from '../spdm/transcript-signature.js';
import { decodeDigests, encodeGetDigests } from '../spdm/messages/digests.js';
import { decodeCertificate, encodeGetCertificate } from '../spdm/messages/certificate.js';
import {
  decodeChallengeAuth,
  encodeChallenge,
  NONCE_SIZE,
  REQUESTER_CONTEXT_SIZE,
} from '../spdm/messages/challenge.js';
import { LIMITS } from '../wire/limits.js';
import { chainsToRoot, validateSpdmChain } from '../x509/chain.js';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.js';
import {
  EncapRefusal,
  EncapsulatedFlow,
  type EncapContext,
  type EncapsulatedTask,
  type TaskStep,
} from './encapsulated-flow.js';

/** What the emulator asks of a requester that offers MUT_AUTH_CAP. */
export interface MutualAuthPolicy {
  /**
   * KEY_EXCHANGE_RSP's MutAuthRequested: 'encap' reads the requester's chain with the encapsulated
   * flow (GET_DIGESTS, GET_CERTIFICATE), 'digests' the same starting from DIGESTS at once, 'plain'
   * uses `requesterCertificates` without a flow; 'none' (default) asks for nothing.
   */
  readonly session?: 'none' | 'plain' | 'encap' | 'digests';
  /** 1.1+ basic mutual authentication after CHALLENGE_AUTH (BasicMutAuthReq; deprecated from 1.2, libspdm still does it). */
  readonly basic?: boolean;
  /** The requester slot to sign with (ReqSlotIDParam / ReqSlotNumber), default 0. */
  readonly requesterSlot?: number;
  /** DER root certificates the requester's chain must lead to; without any, a chain that validates is enough. */
  readonly trust?: readonly Uint8Array[];
  /** The requester's certificates (root first) the 'plain' flow verifies FINISH with: provisioned out of band. */
  readonly requesterCertificates?: readonly Uint8Array[];
  /**
   * Whether the emulator asks the requester's ENDPOINT_INFO (encapsulated GET_ENDPOINT_INFO, 1.3)
   * when armed (Responder.requestEndpointInfo, spdm-emu's OOB_ENCAP_ENDPOINT_INFO): 'signed' asks
   * a signature when the requester offers one and an authenticated identity can check it; absent,
   * the emulator never asks.
   */
  readonly endpointInfo?: 'unsigned' | 'signed';
}

/** A requester answer the flow refuses; the responder turns it into ERROR. */
export class MutualAuthError extends EncapRefusal {
  constructor(readonly reason: string) {
    super(`mutual authentication: ${reason}`);
  }
}

/** The requester identity a flow established: what FINISH (or the encapsulated CHALLENGE_AUTH) was checked with. */
export interface AuthenticatedRequester {
  readonly slot: number;
  readonly chain: Uint8Array;
  readonly chainHash: Uint8Array;
  readonly leafKey: KeyObject;
}

export interface FlowParams {
  readonly version: number;
  readonly hashId: number;
  /** ReqBaseAsymAlg ALGORITHMS selected. */
  readonly reqAsymId: number;
  readonly purpose: 'basic' | 'session';
  /** 'digests': the requester answers an implicit GET_DIGESTS (RequestID 0) before asking anything. */
  readonly startWithDigests: boolean;
  readonly policy: MutualAuthPolicy;
  readonly transcript: ConnectionTranscript;
  readonly random: (n: number) => Uint8Array;
  readonly now: Date;
  /**
   * 1.4 LargeCertChain: GET_CERTIFICATE in the u32 form, asking `portion` bytes at a time. As
   * libspdm's responder, used when the connection is 1.4+ and the requester (the side that answers
   * CERTIFICATE here) set LARGE_RESP_CAP; the chain may then be up to LIMITS.largeCertChainBytes.
   */
  readonly large?: { readonly portion: number };
}

/** Most bytes of a requester chain read with the 16-bit form (64 KiB, the 1.3 bound). */
const MAX_REQUESTER_CHAIN = 0xffff;
/** Length asked of each 16-bit GET_CERTIFICATE. */
const PORTION = 1024;

/** Validates a requester chain (SPDM requester rules) and its trust; returns the leaf key. */
export function checkRequesterChain(
  chain: Uint8Array,
  p: Pick<FlowParams, 'version' | 'hashId' | 'reqAsymId' | 'policy' | 'now'>,
): KeyObject {
  let v;
  try {
    v = validateSpdmChain(chain, {
      now: p.now,
      role: 'requester',
      version: p.version,
      asymId: p.reqAsymId,
      hashId: p.hashId,
    });
  } catch (e) {
    throw new MutualAuthError(`the requester's chain does not decode (${(e as Error).message})`);
  }
  if (!v.report.ok)
    throw new MutualAuthError(`the requester's chain is invalid: ${v.report.problems.map((x) => x.code).join(', ')}`);
  const roots: ParsedCertificate[] = (p.policy.trust ?? []).map((d) => parseCertificate(d));
  if (roots.length > 0) {
    const t = chainsToRoot(v.certificates, roots, p.now, { rootHash: v.rootHash, hashId: p.hashId });
    if (!t.trusted) throw new MutualAuthError(`the requester's chain is not trusted: ${t.reason ?? 'no anchor'}`);
  }
  return v.leafKey;
}

/**
 * The mutual-authentication task the encapsulated engine runs (responder/encapsulated-flow.ts):
 * GET_DIGESTS, GET_CERTIFICATE until the chain is read, then — basic mutual authentication —
 * CHALLENGE. It runs once: a flow that ended, either way, is not started again.
 */
export class RequesterAuthTask implements EncapsulatedTask {
  readonly restart = 'once';
  private begun: boolean;
  private readonly mutB: Uint8Array[] = [];
  private slotHash: Uint8Array | undefined;
  private chainParts: Uint8Array[] = [];
  private chainBytes = 0;
  private chainTotal: number | undefined;
  /** Length of the GET_CERTIFICATE outstanding: no portion may be longer. */
  private asked = 0;
  private challenge: { nonce: Uint8Array; context?: Uint8Array } | undefined;
  /** The chain read and checked; basic mutual authentication still has to CHALLENGE its key. */
  private chainRead: AuthenticatedRequester | undefined;
  /** Who the requester proved to be, once the flow ended well. */
  requester: AuthenticatedRequester | undefined;
  /** Set once the flow has ended, either way. */
  finished = false;

  constructor(private readonly p: FlowParams) {
    this.begun = p.startWithDigests;
  }

  private get slot(): number {
    return this.p.policy.requesterSlot ?? 0;
  }

  /** The flow's first request (GET_DIGESTS), once; then nothing. */
  start(): Uint8Array | undefined {
    if (this.begun) return undefined;
    this.begun = true;
    return encodeGetDigests(this.p.version);
  }

  answer(request: Uint8Array, response: Uint8Array): TaskStep {
    try {
      return this.take(peekHeader(request).code, request, response);
    } catch (e) {
      if (e instanceof MutualAuthError) throw e;
      // Whatever else goes wrong with the requester's bytes is a refusal too: nothing is accepted half-checked.
      throw new MutualAuthError(`the requester's response does not decode (${(e as Error).message})`);
    }
  }

  private take(code: number, request: Uint8Array, response: Uint8Array): TaskStep {
    const hashSize = requireHash(this.p.hashId).size;
    switch (code) {
      case RequestCode.GET_DIGESTS: {
        const d = decodeDigests(response, { hashSize });
        const mine = d.digests.find((x) => x.slot === this.slot);
        if (!mine) throw new MutualAuthError(`the requester's DIGESTS has no slot ${this.slot}`);
        this.slotHash = mine.digest;
        this.mutB.push(request, d.raw);
        return this.askCertificate();
      }
      case RequestCode.GET_CERTIFICATE: {
        const c = decodeCertificate(response);
        const large = this.p.large !== undefined;
        // The answer takes the request's form (libspdm refuses either mismatch).
        if (c.large !== large)
          throw new MutualAuthError(
            `CERTIFICATE in ${c.large ? 'the LargeCertChain form' : 'the 16-bit form'} to a ${large ? 'LargeCertChain' : '16-bit'} GET_CERTIFICATE`,
          );
        if (c.slot !== this.slot) throw new MutualAuthError(`CERTIFICATE for slot ${c.slot}, asked slot ${this.slot}`);
        if (c.portion.length > this.asked)
          throw new MutualAuthError(`CERTIFICATE: a portion of ${c.portion.length} bytes, ${this.asked} asked`);
        const total = this.chainBytes + c.portion.length + c.remainderLength;
        if (this.chainTotal !== undefined && total !== this.chainTotal)
          throw new MutualAuthError('CERTIFICATE: PortionLength + RemainderLength changed between portions');
        const max = large ? LIMITS.largeCertChainBytes : MAX_REQUESTER_CHAIN;
        if (total > max) throw new MutualAuthError(`a requester chain of ${total} bytes, more than the ${max} we read`);
        if (c.portion.length === 0) throw new MutualAuthError('CERTIFICATE: an empty portion');
        this.chainTotal = total;
        this.chainParts.push(c.portion);
        this.chainBytes += c.portion.length;
        this.mutB.push(request, c.raw);
        if (c.remainderLength > 0) return this.askCertificate();
        return this.chainComplete();
      }
      case RequestCode.CHALLENGE:
        return this.challengeAuth(request, response);
      default:
        throw new MutualAuthError(`an answer to request 0x${code.toString(16)}`);
    }
  }

  private askCertificate(): TaskStep {
    const portion = this.p.large?.portion ?? PORTION;
    const left = this.chainTotal === undefined ? portion : this.chainTotal - this.chainBytes;
    const length = Math.min(portion, left);
    this.asked = length;
    return {
      next: encodeGetCertificate(this.p.version, {
        slot: this.slot,
        offset: this.chainBytes,
        length,
        large: this.p.large !== undefined,
      }),
    };
  }

  /** The engine ended the flow before its end (a refused answer). */
  abandon(): void {
    this.finished = true;
  }

  private done(requester: AuthenticatedRequester): TaskStep {
    this.requester = requester;
    this.finished = true;
    return { end: { reqSlot: requester.slot } };
  }

  private chainComplete(): TaskStep {
    const chain = concat(this.chainParts);
    const chainHash = digest(this.p.hashId, chain);
    if (!this.slotHash || !equalBytes(chainHash, this.slotHash))
      throw new MutualAuthError(`the chain read from slot ${this.slot} does not hash to its DIGESTS entry`);
    const leafKey = checkRequesterChain(chain, this.p);
    this.chainRead = { slot: this.slot, chain, chainHash, leafKey };
    if (this.p.purpose === 'session') return this.done(this.chainRead);
    const nonce = this.p.random(NONCE_SIZE);
    const context = this.p.version >= 0x13 ? this.p.random(REQUESTER_CONTEXT_SIZE) : undefined;
    this.challenge = { nonce, ...(context ? { context } : {}) };
    return {
      next: encodeChallenge(this.p.version, {
        slot: this.slot,
        measurementSummaryHashType: 0,
        nonce,
        ...(context ? { requesterContext: context } : {}),
      }),
    };
  }

  private challengeAuth(challenge: Uint8Array, response: Uint8Array): TaskStep {
    const r = this.chainRead;
    const ch = this.challenge;
    if (!r || !ch) throw new MutualAuthError('CHALLENGE_AUTH before the chain was read');
    const sigSize = asymInfo(this.p.reqAsymId)?.sigSize;
    if (sigSize === undefined) throw new MutualAuthError('no ReqBaseAsymAlg to check a signature with');
    const a = decodeChallengeAuth(response, {
      hashSize: r.chainHash.length,
      signatureSize: sigSize,
      measurementSummaryHashRequested: false,
    });
    if (a.slot !== r.slot) throw new MutualAuthError(`CHALLENGE_AUTH for slot ${a.slot}, challenged ${r.slot}`);
    if (!equalBytes(a.certChainHash, r.chainHash))
      throw new MutualAuthError('CHALLENGE_AUTH: CertChainHash is not the chain read');
    if (ch.context && (!a.requesterContext || !equalBytes(a.requesterContext, ch.context)))
      throw new MutualAuthError('CHALLENGE_AUTH: RequesterContext not echoed');
    if (equalBytes(a.nonce, ch.nonce)) throw new MutualAuthError('CHALLENGE_AUTH: the nonce is ours, echoed');
    const signed = this.p.transcript.mutualM1(this.mutB, challenge, a.unsigned);
    const { ok } = checkTranscriptSignature(
      r.leafKey,
      { version: this.p.version, asymId: this.p.reqAsymId, hashId: this.p.hashId },
      signed,
      a.signature,
    );
    if (!ok) throw new MutualAuthError("the requester's CHALLENGE_AUTH signature does not verify");
    return this.done(r);
  }
}

/** A mutual-authentication flow: the engine running a RequesterAuthTask ('digests': GET_DIGESTS already implied, RequestID 0). */
export function requesterAuthFlow(p: FlowParams): EncapsulatedFlow<EncapContext, RequesterAuthTask> {
  return new EncapsulatedFlow(new RequesterAuthTask(p), p.startWithDigests ? encodeGetDigests(p.version) : undefined);
}
