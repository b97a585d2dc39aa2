/**
 * What the device actually signed. Evidence carries, next to every signature, the signed
 * transcript (M1 for CHALLENGE_AUTH, L for MEASUREMENTS); everything else in the document —
 * the measurement list, the nonces, the `verified` and `signed` flags — is the requester's
 * unsigned account of it. This module re-verifies each signature (evidence/reverify) and then
 * decodes its transcript message by message with the SPDM codecs, so the verifier compares
 * policy against the signed bytes rather than against the account:
 *
 * - the requester nonce is read from the signed CHALLENGE / GET_MEASUREMENTS, not from the
 *   `requesterNonce` field;
 * - the measurement blocks are the ones inside the signed MEASUREMENTS responses;
 * - CHALLENGE_AUTH's CertChainHash binds the recorded certificate chain to the signature;
 * - the negotiated version and algorithms come from the signed VCA messages (1.2+).
 *
 * Nothing here throws for hostile input: every inconsistency becomes a problem string.
 */
import { hashInfo } from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import { responderSigningContext, usesSigningContext } from '../crypto/signature.js';
import { equalBytes, fromHex, toHex } from '../wire/bytes.js';
import { codeName, RequestCode, ResponseCode, versionString } from '../spdm/codes.js';
import { splitTranscript, type SignedTranscriptStep as Step } from '../spdm/signed-transcript.js';
import { decodeMeasurementRecord } from '../spdm/messages/measurement-block.js';
import { reverifySignatures } from '../evidence/reverify.js';
import type { Evidence, SignatureEvidence } from '../evidence/evidence.js';

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
  /** From the signed request. */
  readonly requesterNonce?: string;
  readonly responderNonce?: string;
  /** CHALLENGE_AUTH only. */
  readonly certChainHash?: string;
  readonly negotiated?: SignedNegotiation;
  /** MEASUREMENTS only: every block of every MEASUREMENTS response the signature covers. */
  readonly blocks: readonly SignedBlock[];
  /** CHALLENGE_AUTH only: the MeasurementSummaryHashType asked for and the signed summary hash (hex). */
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

const VCA_CODES: ReadonlySet<number> = new Set([RequestCode.GET_VERSION, ResponseCode.VERSION]);

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
  let steps: Step[];
  try {
    steps = splitTranscript(fromHex(s.transcript), s.hashAlgo);
  } catch (err) {
    problems.push(`the signed transcript cannot be decoded: ${err instanceof Error ? err.message : String(err)}`);
    return result();
  }
  const last = steps.at(-1);
  const prev = steps.at(-2);
  const signedKind = last?.kind === 'CHALLENGE_AUTH' || last?.kind === 'MEASUREMENTS' ? last.kind : undefined;
  if (!signedKind || !last || !prev) {
    problems.push('the signed transcript does not end with CHALLENGE_AUTH or MEASUREMENTS');
    return result();
  }
  if (signedKind !== s.kind) problems.push(`recorded as ${s.kind} but the device signed ${signedKind}`);
  if (usesSigningContext(s.version)) {
    const want = responderSigningContext(signedKind, s.version);
    if (s.context !== want) problems.push(`signing context "${s.context}" is not "${want}"`);
  } else if (s.context !== '') {
    problems.push(`SPDM ${versionString(s.version)} signatures have no signing context, "${s.context}" recorded`);
  }
  for (const st of steps) {
    const want = VCA_CODES.has(st.code) ? 0x10 : s.version;
    if (st.version !== want) {
      problems.push(
        `${codeName(st.code)} in the signed transcript is version ${versionString(st.version)}, the signature was recorded as ${versionString(s.version)}`,
      );
      break;
    }
  }

  let negotiated: SignedNegotiation | undefined;
  const alg = steps.find((st): st is Extract<Step, { kind: 'ALGORITHMS' }> => st.kind === 'ALGORITHMS');
  if (alg) {
    const a = alg.msg;
    negotiated = {
      version: alg.version,
      baseAsym: a.baseAsym,
      baseHash: a.baseHash,
      measurementHash: a.measurementHash,
      measurementSpec: a.measurementSpec,
    };
    if (a.baseAsym !== s.asymAlgo)
      problems.push(
        `the device negotiated BaseAsymAlgo 0x${a.baseAsym.toString(16)}, the signature is recorded as 0x${s.asymAlgo.toString(16)}`,
      );
    if (a.baseHash !== s.hashAlgo)
      problems.push(
        `the device negotiated BaseHashAlgo 0x${a.baseHash.toString(16)}, the signature is recorded as 0x${s.hashAlgo.toString(16)}`,
      );
  }

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
    const slot = e.slots.find((x) => x.slot === s.slot);
    if (slot?.certChain) {
      try {
        const chainHash = digest(s.hashAlgo, fromHex(slot.certChain));
        if (!equalBytes(chainHash, last.msg.certChainHash))
          problems.push(
            `the certificate chain recorded for slot ${s.slot} is not the one the device signed for (CertChainHash differs)`,
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
  if (requesterNonce !== undefined && requesterNonce !== s.requesterNonce) {
    problems.push(
      `the requester nonce recorded (${s.requesterNonce}) is not the one in the signed request (${requesterNonce})`,
    );
  }
  if (requesterContext !== s.requesterContext) {
    problems.push(
      `the requester context recorded (${s.requesterContext ?? 'none'}) is not the signed one (${requesterContext ?? 'none'})`,
    );
  }
  if (responderNonce !== undefined && responderNonce !== s.responderNonce) {
    problems.push(
      `the responder nonce recorded (${s.responderNonce}) is not the one in the signed response (${responderNonce})`,
    );
  }
  return result({
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
  });
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
