/**
 * What makes a signed response a proof of key possession, checked the same way for CHALLENGE_AUTH
 * and MEASUREMENTS: the responder's nonce is fresh (not zero, not ours echoed, not reused in this
 * connection), no opaque data arrives unless a format was negotiated, and the signature verifies
 * over the transcript with the leaf key of the slot's chain. A verified signature becomes a
 * {@link SignatureEvidence} record.
 */
import type { KeyObject } from 'node:crypto';
import { equalBytes, toHex, toHexEach } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { versionString } from '../spdm/codes.js';
import type { SignedKind, SignedTranscript } from '../spdm/connection-transcript.js';
import { checkTranscriptSignature, checkTranscriptSignatureAsync } from '../spdm/transcript-signature.js';
import type { SignatureEvidence } from '../evidence/evidence.js';
import type { Connection } from './connection.js';

/** The responder nonces seen on one connection: a device must not sign over the same one twice. */
export class ResponderNonces {
  private readonly seen = new Set<string>();

  /** @throws SpdmError NONCE_MISMATCH naming `what` (the response) */
  check(nonce: Uint8Array, ours: Uint8Array, what: string): void {
    const hex = toHex(nonce);
    if (nonce.every((b) => b === 0))
      throw new SpdmError('NONCE_MISMATCH', `${what}: responder nonce is all zeros`, { request: what, got: hex });
    if (equalBytes(nonce, ours))
      throw new SpdmError('NONCE_MISMATCH', `${what}: responder echoed our nonce as its own`, {
        request: what,
        expected: toHex(ours),
        got: hex,
      });
    if (this.seen.has(hex))
      throw new SpdmError('NONCE_MISMATCH', `${what}: responder nonce ${hex} was already used in this connection`, {
        request: what,
        got: hex,
      });
    this.seen.add(hex);
  }

  clear(): void {
    this.seen.clear();
  }
}

/** 1.2+: opaque data is only allowed once an opaque data format was negotiated (OtherParams bits 0-3). */
export function checkOpaque(c: Connection, opaque: Uint8Array, what: string): void {
  if (c.version >= 0x12 && (c.algorithms.otherParams & 0x0f) === 0 && opaque.length !== 0) {
    throw new SpdmError('UNEXPECTED_RESPONSE', `${what}: opaque data present although no opaque format was negotiated`);
  }
}

/** What a signed response carried besides its transcript, for the evidence record. */
export interface SignedExtras {
  readonly requesterNonce: Uint8Array;
  readonly responderNonce: Uint8Array;
  readonly requesterContext?: Uint8Array;
  readonly measurementSummaryHash?: Uint8Array;
}

/** The SIGNATURE_INVALID a signature that does not verify over `signed` with `slot`'s leaf key is refused with. */
function notVerified(c: Connection, slot: number, signed: SignedTranscript<SignedKind>, transcriptHash: Uint8Array) {
  return new SpdmError('SIGNATURE_INVALID', `${signed.kind}: signature does not verify with slot ${slot}'s leaf key`, {
    slot,
    transcriptHash: toHex(transcriptHash),
    version: versionString(c.version),
    context: signed.context,
  });
}

/**
 * Verifies `signature` over `signed` (any signed kind, KEY_EXCHANGE_RSP included) with the slot's
 * leaf key; returns the transcript hash it was checked against.
 * @throws SpdmError SIGNATURE_INVALID with the transcript hash, version and context in its details
 */
export function checkedSignature(
  c: Connection,
  key: KeyObject,
  slot: number,
  signed: SignedTranscript<SignedKind>,
  signature: Uint8Array,
): Uint8Array {
  const { ok, transcriptHash } = checkTranscriptSignature(key, c, signed, signature);
  if (!ok) throw notVerified(c, slot, signed, transcriptHash);
  return transcriptHash;
}

/**
 * Verifies `signature` over `signed` with `key` (the slot's leaf key) under the connection's
 * algorithms, and returns the evidence record of it.
 * @throws SpdmError SIGNATURE_INVALID with the transcript hash, version and context in its details
 */
export function verifiedSignature(
  c: Connection,
  key: KeyObject,
  slot: number,
  signed: SignedTranscript,
  signature: Uint8Array,
  extra: SignedExtras,
): SignatureEvidence {
  const transcriptHash = checkedSignature(c, key, slot, signed, signature);
  return signatureRecord(c, slot, signed, signed.transcript.hex(), transcriptHash, signature, extra);
}

/**
 * verifiedSignature with the primitive off the event loop (in libuv's threadpool), for the
 * signed responses of an authentication: many devices' signatures are then checked on other
 * cores while the requester's thread serves the rest. The same checks, the same refusal; the
 * record is of the transcript as it stood at the call.
 * @throws SpdmError SIGNATURE_INVALID with the transcript hash, version and context in its details
 */
export async function verifiedSignatureAsync(
  c: Connection,
  key: KeyObject,
  slot: number,
  signed: SignedTranscript,
  signature: Uint8Array,
  extra: SignedExtras,
): Promise<SignatureEvidence> {
  const checking = checkTranscriptSignatureAsync(key, c, signed, signature);
  // The transcript as it stands now, before the wait lets anything append to it.
  const transcriptHex = signed.transcript.hex();
  const { ok, transcriptHash } = await checking;
  if (!ok) throw notVerified(c, slot, signed, transcriptHash);
  return signatureRecord(c, slot, signed, transcriptHex, transcriptHash, signature, extra);
}

/**
 * verifiedSignature on this thread, or verifiedSignatureAsync in the threadpool
 * (RequesterOptions.signatureChecks): one call site for a request module either way.
 */
export function verifiedSignatureOn(
  threadpool: boolean,
  c: Connection,
  key: KeyObject,
  slot: number,
  signed: SignedTranscript,
  signature: Uint8Array,
  extra: SignedExtras,
): SignatureEvidence | Promise<SignatureEvidence> {
  return threadpool
    ? verifiedSignatureAsync(c, key, slot, signed, signature, extra)
    : verifiedSignature(c, key, slot, signed, signature, extra);
}

function signatureRecord(
  c: Connection,
  slot: number,
  signed: SignedTranscript,
  transcriptHex: string,
  transcriptHash: Uint8Array,
  signature: Uint8Array,
  extra: SignedExtras,
): SignatureEvidence {
  const { kind, context } = signed;
  // The response's own fields in one encoding (toHexEach).
  const [responderNonce, signatureHex, summaryHash] = toHexEach(
    extra.measurementSummaryHash
      ? [extra.responderNonce, signature, extra.measurementSummaryHash]
      : [extra.responderNonce, signature],
  );
  return {
    kind,
    slot,
    version: c.version,
    asymAlgo: c.asymId,
    hashAlgo: c.hashId,
    context,
    requesterNonce: toHex(extra.requesterNonce),
    responderNonce: responderNonce as string,
    ...(extra.requesterContext ? { requesterContext: toHex(extra.requesterContext) } : {}),
    transcript: transcriptHex,
    transcriptHash: toHex(transcriptHash),
    signature: signatureHex as string,
    ...(summaryHash !== undefined ? { measurementSummaryHash: summaryHash } : {}),
    verified: true,
  };
}
