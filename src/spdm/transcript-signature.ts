/**
 * Checking a responder's signature over a {@link SignedTranscript}: the transcript's hash under
 * the negotiated hash, the version's signing context, the negotiated signature algorithm. The
 * requester (which fails on a bad one) and the capture replay (which reports it) both ask here.
 */
import type { KeyObject } from 'node:crypto';
import { spdmVerify, spdmVerifyAsync, type SignedData } from '../crypto/signature.js';
import type { SignedKind, SignedTranscript } from './connection-transcript.js';

/** The negotiated algorithms a signature is made under. */
export interface SignatureSuite {
  readonly version: number;
  readonly asymId: number;
  readonly hashId: number;
}

/** What the primitive is given for `signed` under `suite`: the transcript, its hash and the version's context. */
function signedData(suite: SignatureSuite, signed: SignedTranscript<SignedKind>): SignedData {
  const { transcript, context } = signed;
  return {
    version: suite.version,
    hashId: suite.hashId,
    context,
    transcript: transcript.messages,
    transcriptHash: transcript.digest(),
  };
}

/** Whether `signature` verifies over `signed` with `key`, and the transcript hash it was checked against. */
export function checkTranscriptSignature(
  key: KeyObject,
  suite: SignatureSuite,
  signed: SignedTranscript<SignedKind>,
  signature: Uint8Array,
): { readonly ok: boolean; readonly transcriptHash: Uint8Array } {
  const d = signedData(suite, signed);
  const ok = spdmVerify(key, suite.asymId, d, signature);
  return { ok, transcriptHash: d.transcriptHash as Uint8Array };
}

/**
 * checkTranscriptSignature with the primitive off the calling thread (spdmVerifyAsync). The
 * transcript is hashed and the signed bytes taken before this returns, so what is checked is the
 * transcript as it stood at the call.
 */
export async function checkTranscriptSignatureAsync(
  key: KeyObject,
  suite: SignatureSuite,
  signed: SignedTranscript<SignedKind>,
  signature: Uint8Array,
): Promise<{ readonly ok: boolean; readonly transcriptHash: Uint8Array }> {
  const d = signedData(suite, signed);
  const ok = await spdmVerifyAsync(key, suite.asymId, d, signature);
  return { ok, transcriptHash: d.transcriptHash as Uint8Array };
}
