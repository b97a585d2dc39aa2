/**
 * A received signature as the kernel's `signatures/N_*` files and netlink `sig` event show it:
 * the transcript without the signature, the signature, the hash algorithm, the combined SPDM
 * prefix, the nonces and where they sit in the transcript. Offsets come from the transcript split
 * back into its messages by the spdm layer's codecs, never from a byte search: the requester nonce
 * is at byte 4 of the signed request (CHALLENGE, GET_MEASUREMENTS), the responder nonce after
 * CertChainHash in CHALLENGE_AUTH and after the measurement record in MEASUREMENTS, the RandomData
 * of KEY_EXCHANGE and KEY_EXCHANGE_RSP for a session's signature, the Nonce of GET_ENDPOINT_INFO
 * and ENDPOINT_INFO for a signed ENDPOINT_INFO.
 */
import { hashInfo } from '../crypto/algorithms.js';
import { combinedPrefix } from '../crypto/signature.js';
import type { Evidence, SignatureEvidence } from '../evidence/evidence.js';
import { SIGNED_KINDS } from '../evidence/signed-kinds.js';
import {
  KEY_EXCHANGE_RANDOM_OFFSET,
  KEY_EXCHANGE_RSP_RANDOM_OFFSET,
  splitKeyExchangeTranscript,
} from '../spdm/key-exchange-transcript.js';
import {
  ENDPOINT_INFO_NONCE_OFFSET,
  GET_ENDPOINT_INFO_NONCE_OFFSET,
  splitEndpointInfoTranscript,
} from '../spdm/endpoint-info-transcript.js';
import { splitTranscript } from '../spdm/signed-transcript.js';
import { fromHex, toHex } from '../wire/bytes.js';
import type { DeviceSignature } from './api.js';

type Offsets = { req: number; rsp: number };
type Located = Pick<SignatureEvidence, 'kind' | 'hashAlgo'>;

/**
 * Where each kind's nonces sit, from its transcript split by the codecs: the requester nonce at
 * byte 4 of CHALLENGE / GET_MEASUREMENTS, the responder nonce after CertChainHash in
 * CHALLENGE_AUTH and after the measurement record in MEASUREMENTS; for KEY_EXCHANGE_RSP the
 * RandomData of KEY_EXCHANGE and of the response, each at byte 8; for ENDPOINT_INFO the Nonce of
 * GET_ENDPOINT_INFO and of the response, each at byte 8 too.
 */
const LOCATE: Readonly<Record<SignatureEvidence['kind'], (s: Located, transcript: Uint8Array) => Offsets>> = {
  CHALLENGE_AUTH: connectionOffsets,
  MEASUREMENTS: connectionOffsets,
  KEY_EXCHANGE_RSP: (s, transcript) => {
    const t = splitKeyExchangeTranscript(transcript, s.hashAlgo);
    return {
      req: t.keyExchangeOffset + KEY_EXCHANGE_RANDOM_OFFSET,
      rsp: t.responseOffset + KEY_EXCHANGE_RSP_RANDOM_OFFSET,
    };
  },
  ENDPOINT_INFO: (s, transcript) => {
    const t = splitEndpointInfoTranscript(transcript, s.hashAlgo);
    return {
      req: t.requestOffset + GET_ENDPOINT_INFO_NONCE_OFFSET,
      rsp: t.responseOffset + ENDPOINT_INFO_NONCE_OFFSET,
    };
  },
};

function connectionOffsets(s: Located, transcript: Uint8Array): Offsets {
  const k = SIGNED_KINDS[s.kind];
  let req = -1;
  let rsp = -1;
  let off = 0;
  for (const step of splitTranscript(transcript, s.hashAlgo)) {
    const raw = step.msg.raw;
    // The last signed request and its response are the ones this signature covers.
    if (step.code === k.requestCode) req = off + 4;
    if (step.code === k.responseCode) {
      if (s.kind === 'CHALLENGE_AUTH') rsp = off + 4 + (hashInfo(s.hashAlgo)?.size ?? 0);
      else if (raw.length >= 8) rsp = off + 8 + (raw[5]! | (raw[6]! << 8) | (raw[7]! << 16));
    }
    off += raw.length;
  }
  return { req, rsp };
}

/** Offsets of the two nonces in `transcript` (-1 when the transcript does not show them). */
export function nonceOffsets(
  s: Pick<SignatureEvidence, 'kind' | 'hashAlgo' | 'requesterNonce' | 'responderNonce'>,
  transcript: Uint8Array,
): { req: number; rsp: number } {
  let o: Offsets;
  try {
    o = LOCATE[s.kind](s, transcript);
  } catch {
    return { req: -1, rsp: -1 };
  }
  // The codecs located them; the bytes there must be the nonces the evidence names.
  const at = (off: number, hex: string) => off >= 0 && toHex(transcript.subarray(off, off + hex.length / 2)) === hex;
  return { req: at(o.req, s.requesterNonce) ? o.req : -1, rsp: at(o.rsp, s.responderNonce) ? o.rsp : -1 };
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
  const k = SIGNED_KINDS[s.kind];
  return {
    logIndex,
    bdf,
    // The kernel's `N_type` strings are the 1.2+ signing contexts.
    type: k.context,
    rspCode: k.responseCode,
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
    ...(s.slot === 0xff && evidence.publicKey ? { publicKey: evidence.publicKey } : {}),
    at: at || evidence.collectedAt,
  };
}
