/**
 * The verifier's use of what the device signed (evidence/signed-analysis.ts reads the signed
 * transcripts): the rule for proof of key possession, and the measurement view laid over the
 * signed blocks.
 */
import { fromHex, toHex } from '../wire/bytes.js';
import { decodeMeasurementRecord } from '../spdm/messages/measurement-block.js';
import type { Evidence } from '../evidence/evidence.js';
import { SIGNED_KINDS } from '../evidence/signed-kinds.js';
import type { SignedBlock, SignedView } from '../evidence/signed-analysis.js';

export {
  analyseSignatures,
  analyseSignaturesAsync,
  type SignedAnalyser,
  type SignedAnalysis,
  type SignedBlock,
  type SignedNegotiation,
  type SignedView,
} from '../evidence/signed-analysis.js';

/**
 * The one rule for what shows the device holds the private key of its leaf certificate: a valid
 * signature of a kind that signs the requester's fresh nonce (CHALLENGE_AUTH, MEASUREMENTS, a
 * session's KEY_EXCHANGE_RSP over KEY_EXCHANGE's RandomData), that nonce read from the signed
 * request. A certificate chain alone is public. verify() and sameDevice() both ask here.
 */
export function provesKeyPossession(v: SignedView): boolean {
  return v.valid && SIGNED_KINDS[v.kind].provesKeyPossession && v.requesterNonce !== undefined;
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
