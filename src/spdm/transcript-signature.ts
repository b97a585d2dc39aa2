/**
 * Checking a responder's signature over a {@link SignedTranscript}: the transcript's hash under
 * the negotiated hash, the version's signing context, the negotiated signature algorithm. The
 * requester (which fails on a bad one) and the capture replay (which reports it) both ask here.
 */
import type { KeyObject } from 'node:crypto';
import { spdmVerify } from '../crypto/signature.js';
import type { SignedKind, SignedTranscript } from './connection-transcript.js';

/** The negotiated algorithms a signature is made under. */
export interface SignatureSuite {
  readonly version: number;
  readonly asymId: number;
  readonly hashId: number;
}

/** Whether `signature` verifies over `signed` with `key`, and the transcript hash it was checked against. */
export function checkTranscriptSignature(
  key: KeyObject,
  suite: SignatureSuite,
  signed: SignedTranscript<SignedKind>,
  signature: Uint8Array,
): { readonly ok: boolean; readonly transcriptHash: Uint8Array } {
  const { transcript, context } = signed;
  const transcriptHash = transcript.digest();
  const ok = spdmVerify(
    key,
    suite.asymId,
    { version: suite.version, hashId: suite.hashId, context, transcript: transcript.messages, transcriptHash },
    signature,
  );
  return { ok, transcriptHash };
}
