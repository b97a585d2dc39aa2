/**
 * DSP0274 session key schedule (1.1+), as pure functions over bytes (shared/spec/keyschedule.md).
 *
 *   Handshake-Secret = HKDF-Extract(Salt_0, IKM)            IKM = PSK, or the (EC)DHE secret
 *   {req,rsp}_hs     = HKDF-Expand(HS, BinConcat(H, "req hs data" / "rsp hs data", TH1 hash), H)
 *   Salt_1           = HKDF-Expand(HS, BinConcat(H, "derived"), H)
 *   Master-Secret    = HKDF-Extract(Salt_1, 0^H)
 *   {req,rsp}_data   = HKDF-Expand(MS, BinConcat(H, "req app data" / "rsp app data", TH2 hash), H)
 *   export_master    = HKDF-Expand(MS, BinConcat(H, "exp master", TH2 hash), H)
 *   key / iv         = HKDF-Expand(S, BinConcat(len, "key" / "iv"), len)
 *   finished_key     = HKDF-Expand({req,rsp}_hs, BinConcat(H, "finished"), H)
 *   next data secret = HKDF-Expand(data secret, BinConcat(H, "traffic upd"), H)
 *
 * Checked against libspdm traffic (test/session): BinConcat's length is u16 little-endian; Salt_0
 * is 0xFF × H for a PSK session of SPDM 1.3+ and zeros otherwise; libspdm's sample PSK is the C
 * string "TestPskData" including its terminating NUL.
 */
import { asciiBytes, concat } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { requireHash } from '../crypto/hash.js';
import { hkdfExpand, hkdfExpandBlock1, hkdfExtract, hmac } from '../crypto/kdf.js';
import { requireAead } from '../crypto/aead.js';

/** What the schedule depends on: the negotiated SPDM version (header byte), BaseHashAlgo and AEAD suite. */
export interface KeyScheduleParams {
  readonly version: number;
  readonly hashId: number;
  readonly aeadId: number;
}

export type SecretKind = 'psk' | 'dhe';

export const Label = {
  DERIVED: 'derived',
  REQ_HS_DATA: 'req hs data',
  RSP_HS_DATA: 'rsp hs data',
  REQ_APP_DATA: 'req app data',
  RSP_APP_DATA: 'rsp app data',
  KEY: 'key',
  IV: 'iv',
  FINISHED: 'finished',
  EXP_MASTER: 'exp master',
  TRAFFIC_UPD: 'traffic upd',
} as const;

/** "spdm1.2 " — 8 ASCII bytes, trailing space, from the negotiated SPDM version. */
export function versionLabel(version: number): Uint8Array {
  if (version < 0x11 || version > 0x1f)
    throw new SpdmError('UNSUPPORTED', `no session key schedule for SPDM ${version >> 4}.${version & 0xf}`);
  return asciiBytes(`spdm${version >> 4}.${version & 0xf} `);
}

/**
 * u16le(L) || version label || label || 0x01 (HKDF-Expand's first block counter, which follows
 * the info), per label, version and length: a handshake asks for the same dozen on both sides, so
 * each is built once, and an Expand without a context feeds it to its HMAC in one update. Public
 * bytes; the cache is bounded by the labels (callers of binConcat may pass their own: at most 64
 * are kept), the versions 0x11..0x1F and the lengths of the hashes and AEADs asked for.
 */
const BIN_CONCAT_HEADS = new Map<string, Map<number, Uint8Array>>();

function binConcatHeadBlock1(version: number, length: number, label: string): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff)
    throw new SpdmError('ENCODE_ERROR', `BinConcat length ${length} is not a u16`);
  let byLabel = BIN_CONCAT_HEADS.get(label);
  const k = version * 0x10000 + length;
  let head = byLabel?.get(k);
  if (head === undefined) {
    head = offHeap(
      concat([Uint8Array.of(length & 0xff, length >>> 8), versionLabel(version), asciiBytes(label), Uint8Array.of(1)]),
    );
    if (byLabel === undefined && BIN_CONCAT_HEADS.size < 64)
      BIN_CONCAT_HEADS.set(label, (byLabel = new Map<number, Uint8Array>()));
    if (byLabel !== undefined && byLabel.size < 256) byLabel.set(k, head);
  }
  return head;
}

/**
 * The bytes in an ArrayBuffer of their own: a Uint8Array of 64 bytes or fewer made with a length
 * lives in V8's heap, and node:crypto has V8 move it out each time such a fresh array is passed in.
 */
function offHeap(parts: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(parts.length));
  out.set(parts);
  return out;
}

/** BinConcat(L, label, context) = u16le(L) || version label || label || context. */
export function binConcat(version: number, length: number, label: string, context?: Uint8Array): Uint8Array {
  const hb = binConcatHeadBlock1(version, length, label);
  const head = hb.subarray(0, hb.length - 1);
  return context === undefined || context.length === 0 ? head.slice() : concat([head, context]);
}

/**
 * BinConcat(L, label, context) ‖ 0x01, the whole input of HKDF-Expand's single HMAC for this
 * module's own calls: without a context, the shared bytes themselves (read only); with one, a
 * buffer of its own (off V8's heap, see offHeap).
 */
function hkdfInfoBlock1(version: number, length: number, label: string, context: Uint8Array | undefined): Uint8Array {
  const hb = binConcatHeadBlock1(version, length, label);
  if (context === undefined || context.length === 0) return hb;
  const headLength = hb.length - 1;
  const out = new Uint8Array(new ArrayBuffer(hb.length + context.length));
  out.set(hb.subarray(0, headLength));
  out.set(context, headLength);
  out[out.length - 1] = 1;
  return out;
}

/** Salt_0: 0xFF × H for PSK sessions of SPDM 1.3+, zeros otherwise. */
export function salt0(p: KeyScheduleParams, kind: SecretKind): Uint8Array {
  return sharedSalt0(p, kind).slice();
}

/** salt0, shared and read only. */
function sharedSalt0(p: KeyScheduleParams, kind: SecretKind): Uint8Array {
  return constantBytes(requireHash(p.hashId).size, kind === 'psk' && p.version >= 0x13 ? 0xff : 0x00);
}

/** HashLen bytes of 0x00 or 0xFF (Salt_0, and the zero IKM of Master-Secret), shared, read only. */
const CONSTANTS = new Map<number, Uint8Array>();

function constantBytes(size: number, fill: 0x00 | 0xff): Uint8Array {
  const k = size * 2 + (fill & 1);
  let b = CONSTANTS.get(k);
  if (b === undefined) CONSTANTS.set(k, (b = new Uint8Array(new ArrayBuffer(size)).fill(fill)));
  return b;
}

/** A major secret with the AEAD key and IV derived from it. */
export interface TrafficKeys {
  readonly secret: Uint8Array;
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}

export interface HandshakeSecrets {
  readonly handshakeSecret: Uint8Array;
  readonly request: TrafficKeys;
  readonly response: TrafficKeys;
  readonly requestFinishedKey: Uint8Array;
  readonly responseFinishedKey: Uint8Array;
}

export interface DataSecrets {
  readonly masterSecret: Uint8Array;
  readonly request: TrafficKeys;
  readonly response: TrafficKeys;
  readonly exportMasterSecret: Uint8Array;
}

function expand(
  p: KeyScheduleParams,
  secret: Uint8Array,
  label: string,
  context: Uint8Array | undefined,
  length: number,
): Uint8Array {
  // Every step of the schedule is one block (L ≤ HashLen): info and counter in one HMAC update.
  if (length <= requireHash(p.hashId).size)
    return hkdfExpandBlock1(p.hashId, secret, hkdfInfoBlock1(p.version, length, label, context), length);
  return hkdfExpand(p.hashId, secret, binConcat(p.version, length, label, context), length);
}

export function handshakeSecret(p: KeyScheduleParams, ikm: Uint8Array, kind: SecretKind): Uint8Array {
  return hkdfExtract(p.hashId, sharedSalt0(p, kind), ikm);
}

/** key(S) and iv(S) for the negotiated AEAD. */
export function trafficKeys(p: KeyScheduleParams, secret: Uint8Array): TrafficKeys {
  const a = requireAead(p.aeadId);
  return {
    secret,
    key: expand(p, secret, Label.KEY, undefined, a.keySize),
    iv: expand(p, secret, Label.IV, undefined, a.nonceSize),
  };
}

export function finishedKey(p: KeyScheduleParams, handshakeTrafficSecret: Uint8Array): Uint8Array {
  return expand(p, handshakeTrafficSecret, Label.FINISHED, undefined, requireHash(p.hashId).size);
}

/** Everything derived from the IKM and TH1's hash. */
export function deriveHandshakeSecrets(
  p: KeyScheduleParams,
  ikm: Uint8Array,
  kind: SecretKind,
  th1Hash: Uint8Array,
): HandshakeSecrets {
  const h = requireHash(p.hashId).size;
  const hs = handshakeSecret(p, ikm, kind);
  const req = expand(p, hs, Label.REQ_HS_DATA, th1Hash, h);
  const rsp = expand(p, hs, Label.RSP_HS_DATA, th1Hash, h);
  return {
    handshakeSecret: hs,
    request: trafficKeys(p, req),
    response: trafficKeys(p, rsp),
    requestFinishedKey: finishedKey(p, req),
    responseFinishedKey: finishedKey(p, rsp),
  };
}

/** Master-Secret = HKDF-Extract(Salt_1, 0^H), Salt_1 = HKDF-Expand(HS, BinConcat(H, "derived"), H). */
export function masterSecret(p: KeyScheduleParams, hs: Uint8Array): Uint8Array {
  const h = requireHash(p.hashId).size;
  const salt1 = expand(p, hs, Label.DERIVED, undefined, h);
  const ms = hkdfExtract(p.hashId, salt1, constantBytes(h, 0x00));
  salt1.fill(0);
  return ms;
}

/** Data (application) secrets, keys and the export master secret from TH2's hash. */
export function deriveDataSecrets(p: KeyScheduleParams, hs: Uint8Array, th2Hash: Uint8Array): DataSecrets {
  const h = requireHash(p.hashId).size;
  const ms = masterSecret(p, hs);
  return {
    masterSecret: ms,
    request: trafficKeys(p, expand(p, ms, Label.REQ_APP_DATA, th2Hash, h)),
    response: trafficKeys(p, expand(p, ms, Label.RSP_APP_DATA, th2Hash, h)),
    exportMasterSecret: expand(p, ms, Label.EXP_MASTER, th2Hash, h),
  };
}

/** KEY_UPDATE: the next data secret ("traffic upd") and its key/iv. */
export function updateTrafficKeys(p: KeyScheduleParams, current: TrafficKeys): TrafficKeys {
  return trafficKeys(p, expand(p, current.secret, Label.TRAFFIC_UPD, undefined, requireHash(p.hashId).size));
}

/** ResponderVerifyData / RequesterVerifyData = HMAC(finished_key, transcript hash). */
export function verifyData(p: KeyScheduleParams, finishedKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  return hmac(p.hashId, finishedKey, transcriptHash);
}
