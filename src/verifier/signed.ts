/**
 * What the device actually signed. Evidence carries, next to every signature, the signed
 * transcript (M1 for CHALLENGE_AUTH, L for MEASUREMENTS, A ‖ [D] ‖ Ct ‖ KEY_EXCHANGE ‖
 * KEY_EXCHANGE_RSP for a session's KEY_EXCHANGE_RSP); everything else in the document —
 * the measurement list, the nonces, the `verified` and `signed` flags — is the requester's
 * unsigned account of it. This module re-verifies each signature (evidence/reverify) and then
 * decodes its transcript message by message with the SPDM codecs, so the verifier compares
 * policy against the signed bytes rather than against the account:
 *
 * - the requester nonce is read from the signed CHALLENGE / GET_MEASUREMENTS, not from the
 *   `requesterNonce` field;
 * - the measurement blocks are the ones inside the signed MEASUREMENTS responses;
 * - CHALLENGE_AUTH's CertChainHash and KEY_EXCHANGE_RSP's Ct bind the recorded certificate chain
 *   to the signature (signed-key-exchange.ts reads the session's transcript);
 * - the VCA each transcript begins with is kept, so that verify() can refuse a signature made on
 *   another connection;
 * - the negotiated version and algorithms come from the signed VCA messages (1.2+).
 *
 * Nothing here throws for hostile input: every inconsistency becomes a problem string.
 */
import { hashInfo } from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import { usesSigningContext } from '../crypto/signature.js';
import { equalBytes, fromHex, toHex } from '../wire/bytes.js';
import { versionString } from '../spdm/codes.js';
import { splitTranscript, vcaLength, type SignedTranscriptStep as Step } from '../spdm/signed-transcript.js';
import { decodeMeasurementRecord } from '../spdm/messages/measurement-block.js';
import { reverifySignatures } from '../evidence/reverify.js';
import { recordedChainBytes } from '../evidence/signing-key.js';
import type { Evidence, SignatureEvidence } from '../evidence/evidence.js';
import { SIGNED_KINDS, signingContextOf } from '../evidence/signed-kinds.js';
import { analyseKeyExchangeSignature } from './signed-key-exchange.js';
import { checkStepVersions, signedNegotiation } from './signed-steps.js';

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

/** The negotiation as the signed VCA messages record it (present in 1.2+ transcripts). */
export interface SignedNegotiation {
  readonly version: number;
  readonly baseAsym: number;
  readonly baseHash: number;
  readonly measurementHash: number;
  readonly measurementSpec: number;
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
}

/** What a kind's analysis of its transcript gives: the view's signed fields, and the signed requester context. */
export interface SignedAnalysis {
  readonly view: Partial<SignedView>;
  readonly requesterContext?: string | undefined;
}

/** Reads one kind's signed transcript; pushes every inconsistency to `problems`; undefined when it does not decode. */
export type SignedAnalyser = (e: Evidence, s: SignatureEvidence, problems: string[]) => SignedAnalysis | undefined;

/** How each kind's transcript is read: adding a signed message is one row here and one in evidence/signed-kinds.ts. */
const ANALYSERS: Readonly<Record<SignatureEvidence['kind'], SignedAnalyser>> = {
  CHALLENGE_AUTH: analyseConnectionSignature,
  MEASUREMENTS: analyseConnectionSignature,
  KEY_EXCHANGE_RSP: analyseKeyExchangeSignature,
};

function analyseOne(
  e: Evidence,
  s: SignatureEvidence,
  index: number,
  reverified: { ok: boolean; reason?: string },
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
  const analysis = ANALYSERS[s.kind](e, s, problems);
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
function analyseConnectionSignature(e: Evidence, s: SignatureEvidence, problems: string[]): SignedAnalysis | undefined {
  let steps: Step[];
  try {
    steps = splitTranscript(fromHex(s.transcript), s.hashAlgo);
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
    certChainHash = toHex(last.msg.certChainHash);
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
    const recorded = recordedChainBytes(e, s.slot);
    if (recorded) {
      try {
        const chainHash = digest(s.hashAlgo, recorded);
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
        const sb: SignedBlock = {
          index: b.index,
          spec: b.spec,
          block: toHex(b.bytes),
          value: toHex(b.dmtf?.value ?? b.measurement),
          ...(b.dmtf ? { type: b.dmtf.type, raw: b.dmtf.raw } : {}),
        };
        const seen = blocks.get(b.index);
        if (seen && seen.block !== sb.block)
          problems.push(`measurement index ${b.index} appears twice in the signed transcript with different contents`);
        blocks.set(b.index, sb);
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
  return {
    requesterContext,
    view: {
      ...(requesterNonce !== undefined ? { requesterNonce } : {}),
      ...(responderNonce !== undefined ? { responderNonce } : {}),
      ...(certChainHash !== undefined ? { certChainHash } : {}),
      ...(negotiated ? { negotiated } : {}),
      blocks: [...blocks.values()].sort((x, y) => x.index - y.index),
      ...(summary
        ? {
            measurementSummaryHashType: summary.type,
            ...(summary.hash !== undefined ? { measurementSummaryHash: summary.hash } : {}),
          }
        : {}),
      ...(last.kind === 'MEASUREMENTS' ? { summarisable, contentChanged } : {}),
      ...(vcaEnd > 0 ? { vca: toHex(fromHex(s.transcript).subarray(0, vcaEnd)) } : {}),
    },
  };
}

/**
 * The one rule for what shows the device holds the private key of its leaf certificate: a valid
 * signature of a kind that signs the requester's fresh nonce (CHALLENGE_AUTH, MEASUREMENTS, a
 * session's KEY_EXCHANGE_RSP over KEY_EXCHANGE's RandomData), that nonce read from the signed
 * request. A certificate chain alone is public. verify() and sameDevice() both ask here.
 */
export function provesKeyPossession(v: SignedView): boolean {
  return v.valid && SIGNED_KINDS[v.kind].provesKeyPossession && v.requesterNonce !== undefined;
}

/** Re-verifies and decodes every signature of `e`. Never throws. */
export function analyseSignatures(e: Evidence): SignedView[] {
  let reverified: { ok: boolean; reason?: string }[];
  try {
    reverified = reverifySignatures(e);
  } catch (err) {
    const reason = `re-verification failed: ${err instanceof Error ? err.message : String(err)}`;
    reverified = e.signatures.map(() => ({ ok: false, reason }));
  }
  return e.signatures.map((s, i) => {
    try {
      return analyseOne(e, s, i, reverified[i] ?? { ok: false, reason: 'not re-verified' });
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

/** The measurement view the verifier works from: signed blocks, plus unsigned ones only if nothing signed covers them. */
export interface EffectiveMeasurement extends SignedBlock {
  readonly signed: boolean;
}

export interface MeasurementReconciliation {
  readonly measurements: ReadonlyMap<number, EffectiveMeasurement>;
  /** Evidence entries that contradict the signed blocks (forgery) or their own block (malformed). */
  readonly forged: readonly { index: number; message: string }[];
  readonly malformed: readonly { index: number; message: string }[];
}

/**
 * Lays the evidence's measurement list over the blocks the valid signatures of `slots` cover.
 * A listed measurement whose block or value is not the signed one is reported as forged; an
 * unsigned listed measurement whose value does not match its own block as malformed.
 */
export function reconcileMeasurements(
  e: Evidence,
  views: readonly SignedView[],
  slots: ReadonlySet<number>,
): MeasurementReconciliation {
  const out = new Map<number, EffectiveMeasurement>();
  for (const v of views) {
    if (!v.valid || v.kind !== 'MEASUREMENTS' || !slots.has(v.slot)) continue;
    for (const b of v.blocks) out.set(b.index, { ...b, signed: true });
  }
  const forged: { index: number; message: string }[] = [];
  const malformed: { index: number; message: string }[] = [];
  for (const m of e.measurements) {
    const signed = out.get(m.index);
    if (signed) {
      if (m.block !== signed.block)
        forged.push({
          index: m.index,
          message: `measurement ${m.index} in the evidence is not the block the device signed`,
        });
      else if (m.value !== signed.value)
        forged.push({
          index: m.index,
          message: `measurement ${m.index} value ${short(m.value)} is not the signed value ${short(signed.value)}`,
        });
      continue;
    }
    // Not covered by any valid signature: take it from its own block, if that decodes and agrees.
    const parsed = parseBlock(m.block);
    if (typeof parsed === 'string') {
      malformed.push({ index: m.index, message: `measurement ${m.index}: ${parsed}` });
      continue;
    }
    if (parsed.index !== m.index)
      malformed.push({ index: m.index, message: `measurement ${m.index}: its block is for index ${parsed.index}` });
    else if (parsed.value !== m.value)
      malformed.push({
        index: m.index,
        message: `measurement ${m.index}: value ${short(m.value)} is not the value in its block (${short(parsed.value)})`,
      });
    else out.set(m.index, { ...parsed, signed: false });
  }
  return { measurements: new Map([...out.entries()].sort((a, b) => a[0] - b[0])), forged, malformed };
}

function short(hex: string): string {
  return hex.length > 24 ? `${hex.slice(0, 20)}…` : hex || '(empty)';
}

/** Decodes one standalone measurement block (hex), or says why it does not decode. */
function parseBlock(hex: string): SignedBlock | string {
  try {
    const [b] = decodeMeasurementRecord(fromHex(hex), 1, 'evidence');
    if (!b) return 'empty block';
    return {
      index: b.index,
      spec: b.spec,
      block: hex,
      value: toHex(b.dmtf?.value ?? b.measurement),
      ...(b.dmtf ? { type: b.dmtf.type, raw: b.dmtf.raw } : {}),
    };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
