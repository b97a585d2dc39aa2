/**
 * Offline re-verification of the signatures in an Evidence document, from the document alone:
 * the leaf key comes from the recorded SPDM chain (slot 0xFF: the recorded provisioned public key),
 * the signed bytes from the recorded transcript.
 */
import { hashInfo } from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import type { KeyObject } from 'node:crypto';
import { spdmVerify, spdmVerifyAsync, type SignedData } from '../crypto/signature.js';
import { equalBytes, fromHex, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { recordedSigningKey } from './signing-key.js';
import type { Evidence, SignatureEvidence } from './evidence.js';
import { signingContextOf } from './signed-kinds.js';

export interface SignatureCheck {
  readonly index: number;
  readonly kind: SignatureEvidence['kind'];
  readonly ok: boolean;
  readonly reason?: string;
}

/** Where checkOne leaves the transcript it decoded, so that the analysis that follows need not decode the hex again. */
export interface DecodedTranscript {
  transcript?: Uint8Array;
}

/** A signature whose recorded parts are consistent, down to the primitive that remains to be run. */
interface Pending {
  readonly key: KeyObject;
  readonly asymId: number;
  readonly data: SignedData;
  readonly signature: Uint8Array;
  /** What the check reports when the primitive says no. */
  readonly refusal: string;
}

/** Everything of one signature's check but the primitive: a failure found on the way, or what the primitive is to be given. */
function prepare(
  e: Evidence,
  s: SignatureEvidence,
  fail: (reason: string) => SignatureCheck,
  decoded?: DecodedTranscript,
): SignatureCheck | Pending {
  if (!hashInfo(s.hashAlgo)) return fail(`unknown hash algorithm 0x${s.hashAlgo.toString(16)}`);
  const signer = recordedSigningKey(e, s.slot, { version: s.version, hashId: s.hashAlgo });
  if (typeof signer === 'string') return fail(signer);
  const transcript = fromHex(s.transcript);
  if (decoded) decoded.transcript = transcript;
  const th = digest(s.hashAlgo, transcript);
  if (!equalBytes(th, fromHex(s.transcriptHash)))
    return fail(`transcript hash ${toHex(th)} differs from the recorded ${s.transcriptHash}`);
  // Byte-aligned search: a hex substring match at an odd offset would not be the nonce.
  if (Buffer.from(transcript).indexOf(Buffer.from(fromHex(s.requesterNonce))) < 0)
    return fail('the requester nonce does not appear in the signed transcript');
  // The signing context follows from the message kind and version; the recorded one is only checked.
  const context = signingContextOf(s.kind, s.version);
  if (s.context !== context)
    return fail(`recorded signing context "${s.context}" is not the one a ${s.kind} signature uses`);
  return {
    key: signer.key,
    asymId: s.asymAlgo,
    data: { version: s.version, hashId: s.hashAlgo, context, transcript: [transcript], transcriptHash: th },
    signature: fromHex(s.signature),
    refusal:
      s.slot === 0xff
        ? 'signature does not verify with the provisioned public key'
        : 'signature does not verify with the leaf key',
  };
}

function failure(s: SignatureEvidence, index: number): (reason: string) => SignatureCheck {
  return (reason) => ({ index, kind: s.kind, ok: false, reason });
}

function thrown(err: unknown): string {
  return err instanceof SpdmError ? `${err.code}: ${err.message}` : String(err);
}

function checkOne(e: Evidence, s: SignatureEvidence, index: number, decoded?: DecodedTranscript): SignatureCheck {
  const fail = failure(s, index);
  try {
    const p = prepare(e, s, fail, decoded);
    if ('ok' in p) return p;
    return spdmVerify(p.key, p.asymId, p.data, p.signature) ? { index, kind: s.kind, ok: true } : fail(p.refusal);
  } catch (err) {
    return fail(thrown(err));
  }
}

/** checkOne with the primitive in libuv's threadpool (spdmVerifyAsync): the same checks, the same reports. */
async function checkOneAsync(
  e: Evidence,
  s: SignatureEvidence,
  index: number,
  decoded?: DecodedTranscript,
): Promise<SignatureCheck> {
  const fail = failure(s, index);
  try {
    const p = prepare(e, s, fail, decoded);
    if ('ok' in p) return p;
    return (await spdmVerifyAsync(p.key, p.asymId, p.data, p.signature))
      ? { index, kind: s.kind, ok: true }
      : fail(p.refusal);
  } catch (err) {
    return fail(thrown(err));
  }
}

/**
 * Re-verifies every signature in `e`. Never throws for malformed evidence: each failure is reported.
 * This checks only that the recorded signatures hold; {@link verify} decides whether to trust.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parseEvidence, reverifySignatures } from 'spdmkit';
 *
 * const { evidence, problems } = parseEvidence(JSON.parse(readFileSync('evidence.json', 'utf8')));
 * if (!evidence) throw new Error(problems.join('\n'));
 * for (const c of reverifySignatures(evidence)) console.log(c.index, c.kind, c.ok ? 'ok' : c.reason);
 * ```
 */
export function reverifySignatures(e: Evidence): SignatureCheck[] {
  return e.signatures.map((s, i) => checkOne(e, s, i));
}

/** reverifySignatures(), also giving each signature's transcript bytes where they were decoded (evidence/signed-analysis.ts reads them). */
export function reverifyKeepingTranscripts(e: Evidence): { checks: SignatureCheck[]; decoded: DecodedTranscript[] } {
  const decoded = e.signatures.map((): DecodedTranscript => ({}));
  return { checks: e.signatures.map((s, i) => checkOne(e, s, i, decoded[i])), decoded };
}

/**
 * reverifyKeepingTranscripts with every signature's primitive run in libuv's threadpool, all of
 * them at once: a verifier serving many devices does its curve arithmetic off its event loop.
 */
export async function reverifyKeepingTranscriptsAsync(
  e: Evidence,
): Promise<{ checks: SignatureCheck[]; decoded: DecodedTranscript[] }> {
  const decoded = e.signatures.map((): DecodedTranscript => ({}));
  const checks = await Promise.all(e.signatures.map((s, i) => checkOneAsync(e, s, i, decoded[i])));
  return { checks, decoded };
}

/**
 * Re-verifies one signature record against `e`'s recorded chain for its slot: one of
 * `e.signatures` (a session's KEY_EXCHANGE_RSP signature, Session.signature, among them). Never throws.
 */
export function reverifySignature(e: Evidence, s: SignatureEvidence): SignatureCheck {
  return checkOne(e, s, -1);
}
