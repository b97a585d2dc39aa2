/**
 * SPDM algorithm identifiers and what they mean in node:crypto terms. The bit values are those
 * of DSP0274 (BaseAsymAlgo, BaseHashAlgo, MeasurementHashAlgo); this table is the only place
 * that maps them to OpenSSL names.
 */
import { getHashes } from 'node:crypto';

export const BaseHashAlgo = {
  SHA_256: 0x01,
  SHA_384: 0x02,
  SHA_512: 0x04,
  SHA3_256: 0x08,
  SHA3_384: 0x10,
  SHA3_512: 0x20,
  SM3_256: 0x40,
} as const;
export type BaseHashAlgo = (typeof BaseHashAlgo)[keyof typeof BaseHashAlgo];

export const BaseAsymAlgo = {
  RSASSA_2048: 0x0001,
  RSAPSS_2048: 0x0002,
  RSASSA_3072: 0x0004,
  RSAPSS_3072: 0x0008,
  ECDSA_P256: 0x0010,
  RSASSA_4096: 0x0020,
  RSAPSS_4096: 0x0040,
  ECDSA_P384: 0x0080,
  ECDSA_P521: 0x0100,
  SM2_P256: 0x0200,
  EDDSA_ED25519: 0x0400,
  EDDSA_ED448: 0x0800,
} as const;
export type BaseAsymAlgo = (typeof BaseAsymAlgo)[keyof typeof BaseAsymAlgo];

export const MeasurementHashAlgo = {
  RAW_BIT_STREAM: 0x01,
  SHA_256: 0x02,
  SHA_384: 0x04,
  SHA_512: 0x08,
  SHA3_256: 0x10,
  SHA3_384: 0x20,
  SHA3_512: 0x40,
  SM3_256: 0x80,
} as const;

export interface HashInfo {
  readonly id: number;
  readonly name: string;
  /** OpenSSL digest name used with node:crypto. */
  readonly node: string;
  readonly size: number;
}

export type AsymKind = 'rsassa' | 'rsapss' | 'ecdsa' | 'ed25519' | 'ed448' | 'sm2';

export interface AsymInfo {
  readonly id: number;
  readonly name: string;
  readonly kind: AsymKind;
  /** RSA modulus bits, or the EC curve's OpenSSL name. */
  readonly rsaBits?: number;
  readonly curve?: string;
  /** Signature size in bytes on the wire. */
  readonly sigSize: number;
  /** Coordinate size for ECDSA r||s. */
  readonly coordSize?: number;
}

const HASHES: readonly HashInfo[] = [
  { id: 0x01, name: 'SHA-256', node: 'sha256', size: 32 },
  { id: 0x02, name: 'SHA-384', node: 'sha384', size: 48 },
  { id: 0x04, name: 'SHA-512', node: 'sha512', size: 64 },
  { id: 0x08, name: 'SHA3-256', node: 'sha3-256', size: 32 },
  { id: 0x10, name: 'SHA3-384', node: 'sha3-384', size: 48 },
  { id: 0x20, name: 'SHA3-512', node: 'sha3-512', size: 64 },
  { id: 0x40, name: 'SM3-256', node: 'sm3', size: 32 },
];

const ASYMS: readonly AsymInfo[] = [
  { id: 0x0001, name: 'RSASSA-2048', kind: 'rsassa', rsaBits: 2048, sigSize: 256 },
  { id: 0x0002, name: 'RSAPSS-2048', kind: 'rsapss', rsaBits: 2048, sigSize: 256 },
  { id: 0x0004, name: 'RSASSA-3072', kind: 'rsassa', rsaBits: 3072, sigSize: 384 },
  { id: 0x0008, name: 'RSAPSS-3072', kind: 'rsapss', rsaBits: 3072, sigSize: 384 },
  { id: 0x0010, name: 'ECDSA-P256', kind: 'ecdsa', curve: 'prime256v1', sigSize: 64, coordSize: 32 },
  { id: 0x0020, name: 'RSASSA-4096', kind: 'rsassa', rsaBits: 4096, sigSize: 512 },
  { id: 0x0040, name: 'RSAPSS-4096', kind: 'rsapss', rsaBits: 4096, sigSize: 512 },
  { id: 0x0080, name: 'ECDSA-P384', kind: 'ecdsa', curve: 'secp384r1', sigSize: 96, coordSize: 48 },
  { id: 0x0100, name: 'ECDSA-P521', kind: 'ecdsa', curve: 'secp521r1', sigSize: 132, coordSize: 66 },
  { id: 0x0200, name: 'SM2-P256', kind: 'sm2', curve: 'SM2', sigSize: 64, coordSize: 32 },
  { id: 0x0400, name: 'EdDSA-Ed25519', kind: 'ed25519', sigSize: 64 },
  { id: 0x0800, name: 'EdDSA-Ed448', kind: 'ed448', sigSize: 114 },
];

/** Measurement hash bits are BaseHashAlgo bits shifted left by one (bit 0 = raw bit stream). */
export function measurementHashToBaseHash(measHash: number): number | undefined {
  if (measHash === MeasurementHashAlgo.RAW_BIT_STREAM || measHash === 0) return undefined;
  return measHash >>> 1;
}

export function hashInfo(id: number): HashInfo | undefined {
  return HASHES.find((h) => h.id === id);
}

export function asymInfo(id: number): AsymInfo | undefined {
  return ASYMS.find((a) => a.id === id);
}

export function allHashes(): readonly HashInfo[] {
  return HASHES;
}

export function allAsyms(): readonly AsymInfo[] {
  return ASYMS;
}

let available: Set<string> | undefined;

/** Hashes this Node/OpenSSL build can compute. */
export function isHashSupported(id: number): boolean {
  const h = hashInfo(id);
  if (!h) return false;
  available ??= new Set(getHashes());
  return available.has(h.node);
}

/**
 * Asymmetric algorithms we can sign and verify exactly as SPDM requires.
 * Ed448 is excluded: SPDM 1.2+ signs with an Ed448 context string and Node 20's crypto silently
 * ignores the `context` option, so a signature would be wrong. SM2 needs the SM2 ID/Z-value
 * construction that node:crypto does not expose.
 */
export function isAsymSupported(id: number): boolean {
  const a = asymInfo(id);
  return a !== undefined && a.kind !== 'ed448' && a.kind !== 'sm2';
}

export function describeBits(mask: number, lookup: (id: number) => { name: string } | undefined): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const v = (1 << bit) >>> 0;
    if ((mask >>> 0) & v) out.push(lookup(v)?.name ?? `bit${bit}`);
  }
  return out;
}
