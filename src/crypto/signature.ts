/**
 * SPDM signatures: what exactly is signed for each version, and the primitive per algorithm.
 *
 * 1.0/1.1: the primitive signs the raw transcript M with the negotiated hash.
 * 1.2+:    the primitive signs M' = combined_prefix(100 bytes) || Hash(M), where the prefix is
 *          "dmtf-spdm-v1.X.*" four times, zero padding, and the context string right-aligned in
 *          a 36-byte field. RSA/ECDSA then hash M' again with the negotiated hash; Ed25519 signs
 *          M' as-is (PureEdDSA).
 */
import { sign as oneShotSign, verify as oneShotVerify, constants, type KeyObject } from 'node:crypto';
import { SpdmError } from '../wire/errors.js';
import { asciiBytes, concat } from '../wire/bytes.js';
import { asymInfo, isAsymSupported, type AsymInfo } from './algorithms.js';
import { bytesOf, digest, requireHash } from './hash.js';

export const SigningContext = {
  CHALLENGE_AUTH_RESPONDER: 'responder-challenge_auth signing',
  CHALLENGE_AUTH_REQUESTER: 'requester-challenge_auth signing',
  MEASUREMENTS: 'responder-measurements signing',
  KEY_EXCHANGE_RSP: 'responder-key_exchange_rsp signing',
  FINISH: 'requester-finish signing',
  ENDPOINT_INFO_RESPONDER: 'responder-endpoint_info signing',
  ENDPOINT_INFO_REQUESTER: 'requester-endpoint_info signing',
} as const;
export type SigningContext = (typeof SigningContext)[keyof typeof SigningContext];

/** The context a responder signs CHALLENGE_AUTH or MEASUREMENTS with under `version` ('' before 1.2). */
export function responderSigningContext(kind: 'CHALLENGE_AUTH' | 'MEASUREMENTS', version: number): string {
  return transcriptSigningContext(kind, version);
}

/**
 * Which side signs what over a connection or session transcript: REQUESTER_CHALLENGE_AUTH is the
 * requester's answer to an encapsulated CHALLENGE (basic mutual authentication), ENDPOINT_INFO the
 * responder's signed ENDPOINT_INFO (1.3), REQUESTER_ENDPOINT_INFO the requester's answer to an
 * encapsulated GET_ENDPOINT_INFO.
 */
export type TranscriptSignedKind =
  | 'CHALLENGE_AUTH'
  | 'MEASUREMENTS'
  | 'KEY_EXCHANGE_RSP'
  | 'FINISH'
  | 'REQUESTER_CHALLENGE_AUTH'
  | 'ENDPOINT_INFO'
  | 'REQUESTER_ENDPOINT_INFO';

const TRANSCRIPT_CONTEXTS: Readonly<Record<TranscriptSignedKind, SigningContext>> = {
  CHALLENGE_AUTH: SigningContext.CHALLENGE_AUTH_RESPONDER,
  MEASUREMENTS: SigningContext.MEASUREMENTS,
  KEY_EXCHANGE_RSP: SigningContext.KEY_EXCHANGE_RSP,
  FINISH: SigningContext.FINISH,
  REQUESTER_CHALLENGE_AUTH: SigningContext.CHALLENGE_AUTH_REQUESTER,
  ENDPOINT_INFO: SigningContext.ENDPOINT_INFO_RESPONDER,
  REQUESTER_ENDPOINT_INFO: SigningContext.ENDPOINT_INFO_REQUESTER,
};

/**
 * The context string `kind` is signed with under `version` ('' before 1.2): the responder's
 * CHALLENGE_AUTH, MEASUREMENTS, KEY_EXCHANGE_RSP and ENDPOINT_INFO, the requester's FINISH.
 */
export function transcriptSigningContext(kind: TranscriptSignedKind, version: number): string {
  if (!usesSigningContext(version)) return '';
  return TRANSCRIPT_CONTEXTS[kind];
}

/** True when `version` (e.g. 0x12) uses the 1.2+ signing-context construction. */
export function usesSigningContext(version: number): boolean {
  return version >= 0x12;
}

/** The 100-byte combined prefix for 1.2+ signatures. */
export function combinedPrefix(version: number, context: string): Uint8Array {
  const major = version >> 4;
  const minor = version & 0x0f;
  const versionPrefix = `dmtf-spdm-v${major}.${minor}.*`;
  if (context.length > 36) throw new SpdmError('ENCODE_ERROR', `signing context too long: ${context}`);
  const out = new Uint8Array(100);
  const vp = asciiBytes(versionPrefix);
  for (let i = 0; i < 4; i++) out.set(vp, i * 16);
  out.set(asciiBytes(context), 100 - context.length);
  return out;
}

/**
 * combinedPrefix, built once per version and context: every signature of a connection uses one
 * of a handful, and they are never written (the primitive's input is copied from them).
 */
const prefixes = new Map<number, Map<string, Uint8Array>>();

function sharedPrefix(version: number, context: string): Uint8Array {
  const byContext = prefixes.get(version);
  const hit = byContext?.get(context);
  if (hit) return hit;
  const p = combinedPrefix(version, context);
  // Only a few exist (versions × the context strings above): a stray caller's cannot grow the cache unbounded.
  if (byContext) {
    if (byContext.size < 16) byContext.set(context, p);
  } else if (prefixes.size < 16) {
    prefixes.set(version, new Map([[context, p]]));
  }
  return p;
}

/**
 * What the signature covers. For 1.2+ only the transcript hash is needed; for 1.0/1.1 the whole
 * transcript (as the list of message views it was built from) is fed to the primitive.
 */
export interface SignedData {
  readonly version: number;
  readonly hashId: number;
  readonly context: string;
  /** Transcript chunks, in order. Required for 1.0/1.1; optional for 1.2+ when `transcriptHash` is given. */
  readonly transcript?: readonly Uint8Array[];
  readonly transcriptHash?: Uint8Array;
}

/** The exact bytes handed to the signature primitive (M for 1.0/1.1, M' for 1.2+). */
export function primitiveInput(d: SignedData): readonly Uint8Array[] {
  if (!usesSigningContext(d.version)) {
    if (!d.transcript) throw new TypeError('SPDM 1.0/1.1 signatures need the full transcript');
    return d.transcript;
  }
  const h = d.transcriptHash ?? digest(d.hashId, ...(d.transcript ?? []));
  return [sharedPrefix(d.version, d.context), h];
}

/**
 * M' = prefix ‖ hash of one version and context, in a buffer kept with the prefix written: a
 * fresh 100 + HashLen bytes per signature is an array V8 keeps outside its heap, which costs more
 * to make and collect than the copy of the hash into this one. Only for the one-shot (synchronous)
 * sign and verify below, which are done with it before they return.
 */
const scratch = new Map<Uint8Array, Uint8Array>();
/** The largest transcript hash (SHA-512, SHA3-512). */
const MAX_HASH = 64;

/** primitiveInput as one buffer, which the one-shot node:crypto sign/verify take; valid until the next call. */
function primitiveMessage(d: SignedData): Uint8Array {
  const parts = primitiveInput(d);
  if (parts.length === 1) return parts[0] as Uint8Array;
  if (!usesSigningContext(d.version)) return concat(parts);
  const [prefix, h] = parts as [Uint8Array, Uint8Array];
  // A prefix the bounded cache did not keep (a fresh one each call) goes the plain way.
  if (h.length > MAX_HASH || sharedPrefix(d.version, d.context) !== prefix) return concat(parts);
  let buf = scratch.get(prefix);
  if (!buf) {
    buf = new Uint8Array(prefix.length + MAX_HASH);
    buf.set(prefix);
    // One per shared prefix, of which there are at most a few dozen (sharedPrefix bounds them).
    scratch.set(prefix, buf);
  }
  buf.set(h, prefix.length);
  return buf.subarray(0, prefix.length + h.length);
}

function requireAsym(asymId: number): AsymInfo {
  const a = asymInfo(asymId);
  if (!a || !isAsymSupported(asymId)) {
    throw new SpdmError('UNSUPPORTED_ALGORITHM', `asymmetric algorithm 0x${asymId.toString(16)} is not supported`);
  }
  return a;
}

/** The primitive's digest (null: Ed25519 signs the message itself) and its key options. */
function primitive(a: AsymInfo, hashId: number, key: KeyObject) {
  const h = requireHash(hashId);
  if (a.kind === 'ed25519') return { algorithm: null, key };
  switch (a.kind) {
    case 'rsassa':
      return { algorithm: h.node, key: { key, padding: constants.RSA_PKCS1_PADDING } };
    case 'rsapss':
      return { algorithm: h.node, key: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.size } };
    case 'ecdsa':
      return { algorithm: h.node, key: { key, dsaEncoding: 'ieee-p1363' as const } };
    default:
      return { algorithm: h.node, key: { key } };
  }
}

/** Checks that a key is of the type and size the negotiated algorithm requires. */
export function keyMatchesAlgorithm(key: KeyObject, asymId: number): boolean {
  const a = asymInfo(asymId);
  if (!a) return false;
  const t = key.asymmetricKeyType;
  const det = key.asymmetricKeyDetails ?? {};
  switch (a.kind) {
    case 'rsassa':
    case 'rsapss':
      return (t === 'rsa' || t === 'rsa-pss') && det.modulusLength === a.rsaBits;
    case 'ecdsa':
      return t === 'ec' && det.namedCurve === a.curve;
    case 'ed25519':
      return t === 'ed25519';
    case 'ed448':
      return t === 'ed448';
    case 'sm2':
      return t === 'ec' && det.namedCurve === 'SM2';
  }
}

// One-shot crypto.sign/verify throughout: a createSign/createVerify stream is a Writable per
// signature, which costs more than the 1.2+ message (prefix ‖ hash, ~160 bytes) it carries.
export function spdmSign(privateKey: KeyObject, asymId: number, d: SignedData): Uint8Array {
  const p = primitive(requireAsym(asymId), d.hashId, privateKey);
  // node's signature Buffer has a backing store of its own (as a digest's, crypto/hash.ts): a view
  // over it is the signature, where a copy of 96 or 384 bytes (P-384, RSA-3072) is a second store.
  return bytesOf(oneShotSign(p.algorithm, primitiveMessage(d), p.key));
}

export function spdmVerify(publicKey: KeyObject, asymId: number, d: SignedData, signature: Uint8Array): boolean {
  const a = requireAsym(asymId);
  const p = primitive(a, d.hashId, publicKey);
  if (signature.length !== a.sigSize) return false;
  const message = primitiveMessage(d);
  try {
    return oneShotVerify(p.algorithm, message, p.key, signature);
  } catch {
    // OpenSSL rejects malformed signatures (e.g. r or s out of range) by throwing; that is a
    // failed verification, not a crash.
    return false;
  }
}

/**
 * spdmVerify, with the primitive run in libuv's threadpool (node:crypto's one-shot verify with a
 * callback) rather than on the calling thread: a daemon checking thousands of devices' signatures
 * keeps its event loop for its API while another core does the curve arithmetic. The same checks
 * and the same answer as spdmVerify: an unsupported algorithm rejects with the same SpdmError, a
 * signature of the wrong size or one OpenSSL refuses is `false`.
 */
export async function spdmVerifyAsync(
  publicKey: KeyObject,
  asymId: number,
  d: SignedData,
  signature: Uint8Array,
): Promise<boolean> {
  const a = requireAsym(asymId);
  const p = primitive(a, d.hashId, publicKey);
  if (signature.length !== a.sigSize) return false;
  const message = primitiveMessage(d);
  return new Promise<boolean>((resolve) => {
    try {
      oneShotVerify(p.algorithm, message, p.key, signature, (err, ok) => resolve(!err && ok));
    } catch {
      // Refused before the job was queued (as the synchronous form throws): a failed verification.
      resolve(false);
    }
  });
}
