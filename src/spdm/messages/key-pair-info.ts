/**
 * GET_KEY_PAIR_INFO / KEY_PAIR_INFO and SET_KEY_PAIR_INFO / SET_KEY_PAIR_INFO_ACK (1.3+).
 *
 * 1.4 appends length-prefixed PQC algorithm bitmasks: KEY_PAIR_INFO PqcAsymAlgoCapLen +
 * PqcAsymAlgoCapabilities, CurrentPqcAsymAlgoLen + CurrentPqcAsymAlgo; SET_KEY_PAIR_INFO
 * DesiredPqcAsymAlgoLen + DesiredPqcAsymAlgo. They are kept as the bytes sent (libspdm sends 4).
 * SET_KEY_PAIR_INFO with Operation = Erase is only the header and KeyPairID (libspdm sends and
 * accepts exactly 5 bytes).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';

export const KeyPairOperation = { CHANGE: 0, ERASE: 1, GENERATE: 2 } as const;

export const KeyPairCapability = {
  GEN_KEY: 0x0001,
  ERASABLE: 0x0002,
  CERT_ASSOC: 0x0004,
  KEY_USAGE: 0x0008,
  ASYM_ALGO: 0x0010,
  SHAREABLE: 0x0020,
} as const;

/** KeyUsageMask / KeyUsageCapabilities bits (DIGESTS and KEY_PAIR_INFO). */
export const KeyUsage = {
  KEY_EX: 0x0001,
  CHALLENGE: 0x0002,
  MEASUREMENT: 0x0004,
  ENDPOINT_INFO: 0x0008,
  STANDARDS_KEY: 0x4000,
  VENDOR_KEY: 0x8000,
} as const;

/**
 * AsymAlgoCapabilities / CurrentAsymAlgo / DesiredAsymAlgo bits: their own table, not
 * NEGOTIATE_ALGORITHMS' BaseAsymAlgo bits (RSASSA and RSAPSS share one bit per key size).
 */
export const KeyPairAsymAlgo = {
  RSA2048: 0x0001,
  RSA3072: 0x0002,
  RSA4096: 0x0004,
  ECC256: 0x0008,
  ECC384: 0x0010,
  ECC521: 0x0020,
  SM2: 0x0040,
  ED25519: 0x0080,
  ED448: 0x0100,
} as const;

const KEY_PAIR_ASYM_FOR_BASE: Readonly<Record<number, number>> = {
  0x0001: KeyPairAsymAlgo.RSA2048,
  0x0002: KeyPairAsymAlgo.RSA2048,
  0x0004: KeyPairAsymAlgo.RSA3072,
  0x0008: KeyPairAsymAlgo.RSA3072,
  0x0010: KeyPairAsymAlgo.ECC256,
  0x0020: KeyPairAsymAlgo.RSA4096,
  0x0040: KeyPairAsymAlgo.RSA4096,
  0x0080: KeyPairAsymAlgo.ECC384,
  0x0100: KeyPairAsymAlgo.ECC521,
  0x0200: KeyPairAsymAlgo.SM2,
  0x0400: KeyPairAsymAlgo.ED25519,
  0x0800: KeyPairAsymAlgo.ED448,
};

/** The key-pair algorithm bit of a BaseAsymAlgo bit (0 for none or an unknown one). */
export function keyPairAsymAlgoOf(baseAsymAlgo: number): number {
  return KEY_PAIR_ASYM_FOR_BASE[baseAsymAlgo] ?? 0;
}

export interface GetKeyPairInfoRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly keyPairId: number;
}

export interface KeyPairInfoResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly totalKeyPairs: number;
  readonly keyPairId: number;
  readonly capabilities: number;
  readonly keyUsageCapabilities: number;
  readonly currentKeyUsage: number;
  readonly asymAlgoCapabilities: number;
  readonly currentAsymAlgo: number;
  readonly assocCertSlotMask: number;
  /** DER SubjectPublicKeyInfo-style AlgorithmIdentifier (+ key) as the device reports it. */
  readonly publicKeyInfo: Uint8Array;
  /** 1.4+ */
  readonly pqcAsymAlgoCapabilities?: Uint8Array;
  /** 1.4+ */
  readonly currentPqcAsymAlgo?: Uint8Array;
}

export interface SetKeyPairInfoRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1 (KeyPairOperation). */
  readonly operation: number;
  readonly keyPairId: number;
  /** The fields below are absent (0) for Erase. */
  readonly desiredKeyUsage: number;
  readonly desiredAsymAlgo: number;
  readonly desiredAssocCertSlotMask: number;
  /** 1.4+, not for Erase. */
  readonly desiredPqcAsymAlgo?: Uint8Array;
}

export interface SetKeyPairInfoAckResponse {
  readonly raw: Uint8Array;
  readonly version: number;
}

export function encodeGetKeyPairInfo(version: number, m: { keyPairId: number }): Uint8Array {
  return writeHeader(new Writer(5), version, RequestCode.GET_KEY_PAIR_INFO).u8(m.keyPairId).finish();
}

export function decodeGetKeyPairInfo(bytes: Uint8Array): GetKeyPairInfoRequest {
  const r = new Reader(bytes, 'GET_KEY_PAIR_INFO');
  const h = readHeaderSince(r, RequestCode.GET_KEY_PAIR_INFO, 0x13);
  const keyPairId = r.u8('KeyPairID');
  return { raw: r.consumed(), version: h.version, keyPairId };
}

function writeLenPrefixed(w: Writer, b: Uint8Array | undefined): void {
  const v = b ?? new Uint8Array(0);
  w.u8(v.length).bytes(v);
}

export function encodeKeyPairInfo(version: number, m: Omit<KeyPairInfoResponse, 'raw' | 'version'>): Uint8Array {
  const w = new Writer(48 + m.publicKeyInfo.length);
  writeHeader(w, version, ResponseCode.KEY_PAIR_INFO);
  w.u8(m.totalKeyPairs).u8(m.keyPairId).u16(m.capabilities).u16(m.keyUsageCapabilities).u16(m.currentKeyUsage);
  w.u32(m.asymAlgoCapabilities)
    .u32(m.currentAsymAlgo)
    .u16(m.publicKeyInfo.length)
    .u8(m.assocCertSlotMask)
    .bytes(m.publicKeyInfo);
  if (version >= 0x14) {
    writeLenPrefixed(w, m.pqcAsymAlgoCapabilities);
    writeLenPrefixed(w, m.currentPqcAsymAlgo);
  }
  return w.finish();
}

export function decodeKeyPairInfo(bytes: Uint8Array): KeyPairInfoResponse {
  const r = new Reader(bytes, 'KEY_PAIR_INFO');
  const h = readHeaderSince(r, ResponseCode.KEY_PAIR_INFO, 0x13);
  const totalKeyPairs = r.u8('TotalKeyPairs');
  const keyPairId = r.u8('KeyPairID');
  const capabilities = r.u16('Capabilities');
  const keyUsageCapabilities = r.u16('KeyUsageCapabilities');
  const currentKeyUsage = r.u16('CurrentKeyUsage');
  const asymAlgoCapabilities = r.u32('AsymAlgoCapabilities');
  const currentAsymAlgo = r.u32('CurrentAsymAlgo');
  const pkLength = r.u16('PublicKeyInfoLen');
  const assocCertSlotMask = r.u8('AssocCertSlotMask');
  const publicKeyInfo = r.bytes(pkLength, 'PublicKeyInfo');
  let pqc: { pqcAsymAlgoCapabilities: Uint8Array; currentPqcAsymAlgo: Uint8Array } | undefined;
  if (h.version >= 0x14) {
    const pqcAsymAlgoCapabilities = r.bytes(r.u8('PqcAsymAlgoCapLen'), 'PqcAsymAlgoCapabilities');
    const currentPqcAsymAlgo = r.bytes(r.u8('CurrentPqcAsymAlgoLen'), 'CurrentPqcAsymAlgo');
    pqc = { pqcAsymAlgoCapabilities, currentPqcAsymAlgo };
  }
  return {
    raw: r.consumed(),
    version: h.version,
    totalKeyPairs,
    keyPairId,
    capabilities,
    keyUsageCapabilities,
    currentKeyUsage,
    asymAlgoCapabilities,
    currentAsymAlgo,
    assocCertSlotMask,
    publicKeyInfo,
    ...(pqc ?? {}),
  };
}

export function encodeSetKeyPairInfo(
  version: number,
  m: {
    operation: number;
    keyPairId: number;
    desiredKeyUsage?: number;
    desiredAsymAlgo?: number;
    desiredAssocCertSlotMask?: number;
    desiredPqcAsymAlgo?: Uint8Array;
  },
): Uint8Array {
  const w = new Writer(24);
  writeHeader(w, version, RequestCode.SET_KEY_PAIR_INFO, m.operation);
  w.u8(m.keyPairId);
  if (m.operation !== KeyPairOperation.ERASE) {
    w.u8(0)
      .u16(m.desiredKeyUsage ?? 0)
      .u32(m.desiredAsymAlgo ?? 0)
      .u8(m.desiredAssocCertSlotMask ?? 0);
    if (version >= 0x14) writeLenPrefixed(w, m.desiredPqcAsymAlgo);
  }
  return w.finish();
}

export function decodeSetKeyPairInfo(bytes: Uint8Array): SetKeyPairInfoRequest {
  const r = new Reader(bytes, 'SET_KEY_PAIR_INFO');
  const h = readHeaderSince(r, RequestCode.SET_KEY_PAIR_INFO, 0x13);
  if (h.param1 > KeyPairOperation.GENERATE) r.fail('Param1', `Operation ${h.param1} invalid`, 2);
  const keyPairId = r.u8('KeyPairID');
  const base = { version: h.version, operation: h.param1, keyPairId };
  if (h.param1 === KeyPairOperation.ERASE) {
    return { raw: r.consumed(), ...base, desiredKeyUsage: 0, desiredAsymAlgo: 0, desiredAssocCertSlotMask: 0 };
  }
  r.skip(1, 'Reserved');
  const desiredKeyUsage = r.u16('DesiredKeyUsage');
  const desiredAsymAlgo = r.u32('DesiredAsymAlgo');
  const desiredAssocCertSlotMask = r.u8('DesiredAssocCertSlotMask');
  const desiredPqcAsymAlgo =
    h.version >= 0x14 ? r.bytes(r.u8('DesiredPqcAsymAlgoLen'), 'DesiredPqcAsymAlgo') : undefined;
  return {
    raw: r.consumed(),
    ...base,
    desiredKeyUsage,
    desiredAsymAlgo,
    desiredAssocCertSlotMask,
    ...(desiredPqcAsymAlgo ? { desiredPqcAsymAlgo } : {}),
  };
}

export function encodeSetKeyPairInfoAck(version: number): Uint8Array {
  return writeHeader(new Writer(4), version, ResponseCode.SET_KEY_PAIR_INFO_ACK).finish();
}

export function decodeSetKeyPairInfoAck(bytes: Uint8Array): SetKeyPairInfoAckResponse {
  const r = new Reader(bytes, 'SET_KEY_PAIR_INFO_ACK');
  const h = readHeaderSince(r, ResponseCode.SET_KEY_PAIR_INFO_ACK, 0x13);
  return { raw: r.consumed(), version: h.version };
}
