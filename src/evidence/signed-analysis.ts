/**
 * What the device actually signed, read from the signed bytes. Evidence carries, next to every
 * signature, the signed transcript (M1 for CHALLENGE_AUTH, L for MEASUREMENTS, A ‖ [D] ‖ Ct ‖
 * KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP for a session's KEY_EXCHANGE_RSP, IL = A ‖ GET_ENDPOINT_INFO ‖
 * ENDPOINT_INFO for a signed ENDPOINT_INFO); everything else beside it —
 * the measurement list, the nonces, the algorithms, the `verified` flag — is the requester's
 * unsigned account of it. This module re-verifies each signature (reverify.ts) and then decodes its
 * transcript message by message with the SPDM codecs, so that whoever reads the result compares
 * against the signed bytes rather than against the account:
 *
 * - the nonces and the requester context are read from the signed request and response at their
 *   places, not searched for;
 * - the measurement blocks are the ones inside the signed MEASUREMENTS responses, the EPInfo the
 *   one inside the signed ENDPOINT_INFO (signed-endpoint-info.ts);
 * - CHALLENGE_AUTH's CertChainHash and KEY_EXCHANGE_RSP's Ct bind the recorded certificate chain
 *   to the signature (signed-key-exchange.ts reads the session's transcript);
 * - the VCA each transcript begins with is kept, so that a signature made on another connection
 *   can be refused;
 * - the negotiated version and algorithms come from the signed VCA messages (1.2+).
 *
 * Two readers share it: the verifier (verifier/signed.ts, which alone decides trust) and the
 * signature log's verification (log/verify-range.ts), which holds a logged entry to the same
 * reading (and passes `openings`, so that the opening its entries share is decoded once). Nothing here throws for hostile input: every inconsistency becomes a problem string.
 */
import { hashInfo } from '../crypto/algorithms.js';
import { usesSigningContext } from '../crypto/signature.js';
import { equalBytes, toHex } from '../wire/bytes.js';
import { versionString } from '../spdm/codes.js';
import {
  splitTranscript,
  vcaLength,
  type OpeningLookup,
  type SignedTranscriptStep as Step,
} from '../spdm/signed-transcript.js';
import {
  reverifyKeepingTranscripts,
  reverifyKeepingTranscriptsAsync,
  type DecodedTranscript,
  type SignatureCheck,
} from './reverify.js';
import { recordedChainBytes } from './signing-key.js';
import { recordedChainDigest } from './chain-digest.js';
import type { Evidence, SignatureEvidence } from './evidence.js';
import { signingContextOf } from './signed-kinds.js';
import { analyseKeyExchangeSignature } from './signed-key-exchange.js';
import { analyseEndpointInfoSignature } from './signed-endpoint-info.js';
import { checkStepVersions, signedNegotiation, transcriptBytes } from './signed-steps.js';

/** A measurement block as signed by the device. */
export interface SignedBlock {
  readonly index: number;
  readonly spec: number;
  /** The whole block, hex. */
  readonly block: string;
  /** The DMTF value (digest or raw bit stream), or the block's Measurement field for other specs; hex. */
  readonly value: string;
  readonly type?: number;
  readonly raw?: boolean;
}

/**
 * A signed block whose hex is made only when read, holding its bytes (signedBlockBytes): the
 * signature log compares every logged block with the signed ones as bytes and never reads the
 * hex, which was two conversions per block per entry verified. Only `lean` analyses make these.
 */
class LazySignedBlock implements SignedBlock {
  // Declared, not defined: a block without a DMTF form has no `type` key, as the plain ones.
  declare readonly type?: number;
  declare readonly raw?: boolean;
  constructor(
    readonly index: number,
    readonly spec: number,
    readonly bytes: Uint8Array,
    private readonly valueBytes: Uint8Array,
    dmtf: { type: number; raw: boolean } | undefined,
  ) {
    if (dmtf) {
      this.type = dmtf.type;
      this.raw = dmtf.raw;
    }
  }
  get block(): string {
    return toHex(this.bytes);
  }
  get value(): string {
    return toHex(this.valueBytes);
  }
}

/** The signed bytes of a block from a `lean` analysis; undefined for the verifier's plain blocks. */
export function signedBlockBytes(b: SignedBlock): Uint8Array | undefined {
  return b instanceof LazySignedBlock ? b.bytes : undefined;
}

/** The negotiation as the signed VCA messages record it (present in 1.2+ transcripts). */
export interface SignedNegotiation {
  readonly version: number;
  readonly baseAsym: number;
  readonly baseHash: number;
  readonly measurementHash: number;
  readonly measurementSpec: number;
  /** OtherParamsSelection (1.2+; 0 before). */
  readonly otherParams: number;
}

export interface SignedView {
  /** Position of the signature in `evidence.signatures`. */
  readonly signatureIndex: number;
  readonly kind: SignatureEvidence['kind'];
  readonly slot: number;
  readonly version: number;
  readonly asymAlgo: number;
  readonly hashAlgo: number;
  /** The signature verifies and its transcript agrees with the rest of the evidence. */
  readonly valid: boolean;
  readonly problems: readonly string[];
  /** The session the signature was taken in: as signed for KEY_EXCHANGE_RSP, as recorded for MEASUREMENTS. */
  readonly sessionId?: string;
  /** The VCA messages (A) the transcript begins with, hex, when it holds them: every one of a connection is the same. */
  readonly vca?: string;
  /** From the signed request (KEY_EXCHANGE_RSP: the RandomData of KEY_EXCHANGE and of the response). */
  readonly requesterNonce?: string;
  readonly responderNonce?: string;
  /** CHALLENGE_AUTH's CertChainHash, KEY_EXCHANGE_RSP's Ct: the hash of the chain the device signed for. */
  readonly certChainHash?: string;
  readonly negotiated?: SignedNegotiation;
  /** MEASUREMENTS only: every block of every MEASUREMENTS response the signature covers. */
  readonly blocks: readonly SignedBlock[];
  /** CHALLENGE_AUTH and KEY_EXCHANGE_RSP: the MeasurementSummaryHashType asked for and the signed summary hash (hex). */
  readonly measurementSummaryHashType?: number;
  readonly measurementSummaryHash?: string;
  /**
   * MEASUREMENTS only: the blocks are every block the device has — asked for all at once
   * (operation 0xFF), or one by one after a count query that announced exactly that many — and
   * in their digest form (no raw bit stream requested), i.e. what a summary hash covers.
   */
  readonly summarisable?: boolean;
  /** MEASUREMENTS only (1.2+): the signed response reports ContentChanged = 1, measurements changed during the signed sequence. */
  readonly contentChanged?: boolean;
  /** ENDPOINT_INFO only: the EPInfo inside the signed response, hex. */
  readonly epInfo?: string;
}

/** What a kind's analysis of its transcript gives: the view's signed fields, and the signed requester context. */
export interface SignedAnalysis {
  readonly view: Partial<SignedView>;
  readonly requesterContext?: string | undefined;
}

/** What CertChainHash / Ct must be the hash of (hex): the slot's SPDM certificate chain, or for slot 0xFF the provisioned key's SPKI; undefined when none is recorded. */
export type RecordedChain = (slot: number) => string | undefined;

/**
 * Reads one kind's signed transcript; pushes every inconsistency to `problems`; undefined when it
 * does not decode. `transcript`, when given, is `s.transcript` already decoded from hex (the
 * caller holds the bytes: the log stores them so, the verifier decoded them to re-verify).
 */
export type SignedAnalyser = (
  chainOf: RecordedChain,
  s: SignatureEvidence,
  problems: string[],
  transcript?: Uint8Array,
  openings?: OpeningLookup,
  lean?: boolean,
) => SignedAnalysis | undefined;

/** How each kind's transcript is read: adding a signed message is one row here and one in evidence/signed-kinds.ts. */
const ANALYSERS: Readonly<Record<SignatureEvidence['kind'], SignedAnalyser>> = {
  CHALLENGE_AUTH: analyseConnectionSignature,
  MEASUREMENTS: analyseConnectionSignature,
  KEY_EXCHANGE_RSP: analyseKeyExchangeSignature,
  ENDPOINT_INFO: analyseEndpointInfoSignature,
};

/**
 * One signature, already re-verified (`reverified`), read from its transcript: the view of what
 * was signed, `valid` only when the signature verifies and every recorded field agrees with the
 * signed bytes. Never throws for hostile input. `transcript`: `s.transcript` as bytes, when the
 * caller already has them (it must be exactly what the hex says). `lean` (the signature log's
 * reading, which compares blocks as bytes and never reads the VCA or the chain hash's hex): the
 * blocks make their hex only when read and hold their bytes (signedBlockBytes), and the view has
 * no `vca` and no `certChainHash`; every check and problem is the same.
 */
export function analyseSignature(
  chainOf: RecordedChain,
  s: SignatureEvidence,
  index: number,
  reverified: { ok: boolean; reason?: string },
  transcript?: Uint8Array,
  openings?: OpeningLookup,
  lean = false,
): SignedView {
  const problems: string[] = [];
  if (!reverified.ok) problems.push(reverified.reason ?? 'signature does not verify');
  const result = (extra: Partial<SignedView> = {}): SignedView => ({
    signatureIndex: index,
    kind: s.kind,
    ...(s.sessionId !== undefined ? { sessionId: s.sessionId } : {}),
    slot: s.slot,
    version: s.version,
    asymAlgo: s.asymAlgo,
    hashAlgo: s.hashAlgo,
    blocks: [],
    ...extra,
    valid: problems.length === 0,
    problems,
  });
  const h = hashInfo(s.hashAlgo);
  if (!h) {
    problems.push(`unknown hash algorithm 0x${s.hashAlgo.toString(16)}`);
    return result();
  }
  // The context follows from the kind and version (it is inside the signed prefix for 1.2+).
  if (usesSigningContext(s.version)) {
    const want = signingContextOf(s.kind, s.version);
    if (s.context !== want) problems.push(`signing context "${s.context}" is not "${want}"`);
  } else if (s.context !== '') {
    problems.push(`SPDM ${versionString(s.version)} signatures have no signing context, "${s.context}" recorded`);
  }
  // Only a signed ENDPOINT_INFO has an EPInfo; one beside another kind is nothing the device signed.
  if (s.epInfo !== undefined && s.kind !== 'ENDPOINT_INFO')
    problems.push(`a ${s.kind} signature has no EPInfo, one is recorded`);
  const analysis = ANALYSERS[s.kind](chainOf, s, problems, transcript, openings, lean);
  if (!analysis) return result();
  const { requesterNonce, responderNonce } = analysis.view;
  if (requesterNonce !== undefined && requesterNonce !== s.requesterNonce) {
    problems.push(
      `the requester nonce recorded (${s.requesterNonce}) is not the one in the signed request (${requesterNonce})`,
    );
  }
  if (analysis.requesterContext !== s.requesterContext) {
    problems.push(
      `the requester context recorded (${s.requesterContext ?? 'none'}) is not the signed one (${analysis.requesterContext ?? 'none'})`,
    );
  }
  if (responderNonce !== undefined && responderNonce !== s.responderNonce) {
    problems.push(
      `the responder nonce recorded (${s.responderNonce}) is not the one in the signed response (${responderNonce})`,
    );
  }
  return result(analysis.view);
}

/** CHALLENGE_AUTH over M1 and MEASUREMENTS over L1/L2: the connection's (and a session's message_m) transcripts. */
function analyseConnectionSignature(
  chainOf: RecordedChain,
  s: SignatureEvidence,
  problems: string[],
  transcript?: Uint8Array,
  openings?: OpeningLookup,
  lean = false,
): SignedAnalysis | undefined {
  let steps: Step[];
  let bytes: Uint8Array;
  try {
    bytes = transcriptBytes(s, transcript);
    steps = splitTranscript(bytes, s.hashAlgo, openings);
  } catch (err) {
    problems.push(`the signed transcript cannot be decoded: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  const last = steps.at(-1);
  const prev = steps.at(-2);
  const signedKind = last?.kind === 'CHALLENGE_AUTH' || last?.kind === 'MEASUREMENTS' ? last.kind : undefined;
  if (!signedKind || !last || !prev) {
    problems.push('the signed transcript does not end with CHALLENGE_AUTH or MEASUREMENTS');
    return undefined;
  }
  if (signedKind !== s.kind) problems.push(`recorded as ${s.kind} but the device signed ${signedKind}`);
  checkStepVersions(steps, s.version, problems);
  // A, when the transcript starts with it (every M1, 1.2+ L1/L2): the connection's VCA as signed.
  const vcaEnd = vcaLength(steps);

  const negotiated = signedNegotiation(steps, s, problems);
  let requesterNonce: string | undefined;
  let responderNonce: string | undefined;
  let certChainHash: string | undefined;
  let requesterContext: string | undefined;
  const blocks = new Map<number, SignedBlock>();
  // Each index's signed bytes, compared as bytes when an index repeats (equal hex is equal bytes).
  const blockBytes = new Map<number, Uint8Array>();
  let summary: { type: number; hash?: string } | undefined;
  let summarisable = false;
  let contentChanged = false;
  if (last.kind === 'CHALLENGE_AUTH') {
    if (prev.kind !== 'CHALLENGE') {
      problems.push('CHALLENGE_AUTH does not follow a CHALLENGE in the signed transcript');
    } else {
      requesterNonce = toHex(prev.msg.nonce);
      if ((prev.msg.slot & 0x0f) !== s.slot && !(prev.msg.slot === 0xff && s.slot === 0xff))
        problems.push(
          `the device was challenged for slot ${prev.msg.slot}, the signature is recorded for slot ${s.slot}`,
        );
    }
    responderNonce = toHex(last.msg.nonce);
    // The log binds the chain by the bytes below and never reads the hex.
    if (!lean) certChainHash = toHex(last.msg.certChainHash);
    const msh = last.msg.measurementSummaryHash ? toHex(last.msg.measurementSummaryHash) : undefined;
    if (prev.kind === 'CHALLENGE')
      summary = { type: prev.msg.measurementSummaryHashType, ...(msh !== undefined ? { hash: msh } : {}) };
    if (msh !== s.measurementSummaryHash)
      problems.push(
        `the measurement summary hash recorded (${s.measurementSummaryHash ?? 'none'}) is not the signed one (${msh ?? 'none'})`,
      );
    requesterContext =
      prev.kind === 'CHALLENGE' && prev.msg.requesterContext ? toHex(prev.msg.requesterContext) : undefined;
    if (last.msg.slot !== s.slot && !(last.msg.slot === 0x0f && s.slot === 0xff))
      problems.push(`CHALLENGE_AUTH answers for slot ${last.msg.slot}, the signature is recorded for slot ${s.slot}`);
    const chain = chainOf(s.slot);
    if (chain) {
      try {
        const chainHash = recordedChainDigest(s.hashAlgo, chain);
        if (!equalBytes(chainHash, last.msg.certChainHash))
          problems.push(
            s.slot === 0xff
              ? 'the public key recorded is not the one the device signed for (CertChainHash differs)'
              : `the certificate chain recorded for slot ${s.slot} is not the one the device signed for (CertChainHash differs)`,
          );
      } catch (err) {
        problems.push(`cannot hash the recorded chain: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } else if (last.kind === 'MEASUREMENTS') {
    if (prev.kind !== 'GET_MEASUREMENTS' || !prev.msg.signatureRequested || !prev.msg.nonce) {
      problems.push('the signed MEASUREMENTS does not answer a GET_MEASUREMENTS that asked for a signature');
    } else {
      requesterNonce = toHex(prev.msg.nonce);
      requesterContext = prev.msg.requesterContext ? toHex(prev.msg.requesterContext) : undefined;
      if (prev.msg.slot !== undefined && prev.msg.slot !== s.slot && !(prev.msg.slot === 0x0f && s.slot === 0xff)) {
        problems.push(
          `measurements were requested signed by slot ${prev.msg.slot}, the signature is recorded for slot ${s.slot}`,
        );
      }
    }
    responderNonce = toHex(last.msg.nonce);
    // The response names the slot whose key signed it (1.1+); it must be the one asked for and recorded.
    if (
      last.version >= 0x11 &&
      prev.kind === 'GET_MEASUREMENTS' &&
      prev.msg.slot !== undefined &&
      last.msg.slot !== prev.msg.slot
    ) {
      problems.push(`the signed MEASUREMENTS answers for slot ${last.msg.slot}, slot ${prev.msg.slot} was asked`);
    }
    contentChanged = last.version >= 0x12 && last.msg.contentChanged === 1;
    for (const st of steps) {
      if (st.kind !== 'MEASUREMENTS') continue;
      for (const b of st.msg.blocks) {
        const sb: SignedBlock = lean
          ? new LazySignedBlock(b.index, b.spec, b.bytes, b.dmtf?.value ?? b.measurement, b.dmtf)
          : {
              index: b.index,
              spec: b.spec,
              block: toHex(b.bytes),
              value: toHex(b.dmtf?.value ?? b.measurement),
              ...(b.dmtf ? { type: b.dmtf.type, raw: b.dmtf.raw } : {}),
            };
        const seen = blockBytes.get(b.index);
        if (seen && !equalBytes(seen, b.bytes))
          problems.push(`measurement index ${b.index} appears twice in the signed transcript with different contents`);
        blocks.set(b.index, sb);
        blockBytes.set(b.index, b.bytes);
      }
    }
    const requests = steps.filter(
      (st): st is Extract<Step, { kind: 'GET_MEASUREMENTS' }> => st.kind === 'GET_MEASUREMENTS',
    );
    const raw = requests.some((st) => st.version >= 0x12 && (st.msg.attributes & 0x02) !== 0);
    const countAt = steps.findIndex((st) => st.kind === 'GET_MEASUREMENTS' && st.msg.operation === 0);
    const count = countAt >= 0 ? steps[countAt + 1] : undefined;
    const all = prev.kind === 'GET_MEASUREMENTS' && prev.msg.operation === 0xff;
    const counted = count?.kind === 'MEASUREMENTS' && count.msg.totalIndices === blocks.size;
    summarisable = !raw && (all || counted);
  }
  // Assigned in the view's order rather than spread from one-field objects: every entry of a
  // signature log verified comes through here, and those little objects were a share of it.
  const view: { -readonly [K in keyof SignedView]?: SignedView[K] } = {};
  if (requesterNonce !== undefined) view.requesterNonce = requesterNonce;
  if (responderNonce !== undefined) view.responderNonce = responderNonce;
  if (certChainHash !== undefined) view.certChainHash = certChainHash;
  if (negotiated) view.negotiated = negotiated;
  view.blocks = blocks.size === 0 ? [] : [...blocks.values()].sort((x, y) => x.index - y.index);
  if (summary) {
    view.measurementSummaryHashType = summary.type;
    if (summary.hash !== undefined) view.measurementSummaryHash = summary.hash;
  }
  if (last.kind === 'MEASUREMENTS') {
    view.summarisable = summarisable;
    view.contentChanged = contentChanged;
  }
  if (vcaEnd > 0 && !lean) view.vca = toHex(bytes.subarray(0, vcaEnd));
  return { requesterContext, view };
}

type Reverified = { checks: SignatureCheck[]; decoded: DecodedTranscript[] };

function reverificationFailed(e: Evidence, err: unknown): { ok: boolean; reason?: string }[] {
  const reason = `re-verification failed: ${err instanceof Error ? err.message : String(err)}`;
  return e.signatures.map(() => ({ ok: false, reason }));
}

/** Re-verifies and decodes every signature of `e`. Never throws. */
export function analyseSignatures(e: Evidence): SignedView[] {
  let r: Reverified;
  try {
    r = reverifyKeepingTranscripts(e);
  } catch (err) {
    return analyseReverified(e, reverificationFailed(e, err), []);
  }
  return analyseReverified(e, r.checks, r.decoded);
}

/**
 * analyseSignatures with the signature primitives run in libuv's threadpool
 * (reverifyKeepingTranscriptsAsync): the same views. Never rejects.
 */
export async function analyseSignaturesAsync(e: Evidence): Promise<SignedView[]> {
  let r: Reverified;
  try {
    r = await reverifyKeepingTranscriptsAsync(e);
  } catch (err) {
    return analyseReverified(e, reverificationFailed(e, err), []);
  }
  return analyseReverified(e, r.checks, r.decoded);
}

/** The views of `e`'s signatures, each read from its transcript after its re-verification (`reverified`, by index). */
function analyseReverified(
  e: Evidence,
  reverified: readonly { ok: boolean; reason?: string }[],
  decoded: readonly DecodedTranscript[],
): SignedView[] {
  // Each slot's chain text once per evidence (a failure is not kept: it throws again where it did).
  const chains = new Map<number, string | undefined>();
  const chainOf: RecordedChain = (slot) => {
    if (chains.has(slot)) return chains.get(slot);
    const b = recordedChainBytes(e, slot);
    const hex = b ? toHex(b) : undefined;
    chains.set(slot, hex);
    return hex;
  };
  return e.signatures.map((s, i) => {
    try {
      return analyseSignature(
        chainOf,
        s,
        i,
        reverified[i] ?? { ok: false, reason: 'not re-verified' },
        decoded[i]?.transcript,
      );
    } catch (err) {
      return {
        signatureIndex: i,
        kind: s.kind,
        ...(s.sessionId !== undefined ? { sessionId: s.sessionId } : {}),
        slot: s.slot,
        version: s.version,
        asymAlgo: s.asymAlgo,
        hashAlgo: s.hashAlgo,
        valid: false,
        problems: [`cannot analyse: ${err instanceof Error ? err.message : String(err)}`],
        blocks: [],
      };
    }
  });
}
