/**
 * A received signature as the kernel's `signatures/N_*` files and netlink `sig` event show it:
 * the transcript without the signature, the signature, the hash algorithm, the combined SPDM
 * prefix, the nonces and where they sit in the transcript. Offsets come from the transcript split
 * back into its messages by the spdm layer's codecs, never from a byte search: the requester nonce
 * is at byte 4 of the signed request (CHALLENGE, GET_MEASUREMENTS), the responder nonce after
 * CertChainHash in CHALLENGE_AUTH and after the measurement record in MEASUREMENTS.
 */
import { hashInfo } from '../crypto/algorithms.js';
import { combinedPrefix } from '../crypto/signature.js';
import type { Evidence, SignatureEvidence } from '../evidence/evidence.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { splitTranscript } from '../spdm/signed-transcript.js';
import { fromHex, toHex } from '../wire/bytes.js';
import type { DeviceSignature } from './api.js';

/** The kernel's `N_type` strings, which are also the 1.2+ signing contexts. */
const TYPE: Readonly<Record<SignatureEvidence['kind'], { type: string; rspCode: number; request: number }>> = {
  CHALLENGE_AUTH: {
    type: 'responder-challenge_auth signing',
    rspCode: ResponseCode.CHALLENGE_AUTH,
    request: RequestCode.CHALLENGE,
  },
  MEASUREMENTS: {
    type: 'responder-measurements signing',
    rspCode: ResponseCode.MEASUREMENTS,
    request: RequestCode.GET_MEASUREMENTS,
  },
};

/** Offsets of the two nonces in `transcript` (-1 when the transcript does not show them). */
export function nonceOffsets(
  s: Pick<SignatureEvidence, 'kind' | 'hashAlgo' | 'requesterNonce' | 'responderNonce'>,
  transcript: Uint8Array,
): { req: number; rsp: number } {
  const t = TYPE[s.kind];
  let req = -1;
  let rsp = -1;
  try {
    let off = 0;
    for (const step of splitTranscript(transcript, s.hashAlgo)) {
      const raw = step.msg.raw;
      // The last signed request and its response are the ones this signature covers.
      if (step.code === t.request) req = off + 4;
      if (step.code === t.rspCode) {
        if (s.kind === 'CHALLENGE_AUTH') rsp = off + 4 + (hashInfo(s.hashAlgo)?.size ?? 0);
        else if (raw.length >= 8) rsp = off + 8 + (raw[5]! | (raw[6]! << 8) | (raw[7]! << 16));
      }
      off += raw.length;
    }
  } catch {
    return { req: -1, rsp: -1 };
  }
  // The codecs located them; the bytes there must be the nonces the evidence names.
  const at = (o: number, hex: string) => o >= 0 && toHex(transcript.subarray(o, o + hex.length / 2)) === hex;
  return { req: at(req, s.requesterNonce) ? req : -1, rsp: at(rsp, s.responderNonce) ? rsp : -1 };
}

export function deviceSignature(
  bdf: string,
  evidence: Evidence,
  s: SignatureEvidence,
  logIndex: number,
  at: string,
): DeviceSignature {
  const transcript = fromHex(s.transcript);
  const offsets = nonceOffsets(s, transcript);
  const t = TYPE[s.kind];
  return {
    logIndex,
    bdf,
    type: t.type,
    rspCode: t.rspCode,
    slot: s.slot,
    hashAlgorithm: hashInfo(s.hashAlgo)?.node ?? `0x${s.hashAlgo.toString(16)}`,
    transcript: s.transcript,
    signature: s.signature,
    combinedSpdmPrefix: s.version >= 0x12 ? toHex(combinedPrefix(s.version, s.context)) : '',
    requesterNonce: s.requesterNonce,
    responderNonce: s.responderNonce,
    reqNonceOffset: offsets.req,
    rspNonceOffset: offsets.rsp,
    sigOffset: transcript.length,
    at: at || evidence.collectedAt,
  };
}
