/**
 * Shared fixtures for the x509 tests: fixed validity dates (results must not depend on the day the
 * suite runs), cached key pairs (RSA generation is slow) and small helpers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import {
  createDeviceChain,
  generateKeyPair,
  type DeviceChain,
  type KeyPair,
  type LeafOptions,
} from '../../src/x509/generate.js';
import { parseCertificate, type ParsedCertificate } from '../../src/x509/certificate.js';
import { splitDerCertificates } from '../../src/x509/der.js';
import type { ChainReport } from '../../src/x509/chain.js';

export const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
export const NOT_AFTER = new Date('2035-01-01T00:00:00Z');
export const NOW = new Date('2026-03-01T12:00:00Z');

const keyCache = new Map<string, KeyPair>();

/** The `index`-th cached key pair for an algorithm (distinct indices give distinct keys). */
export function cachedKey(asymId: number, index = 0): KeyPair {
  const k = `${asymId}/${index}`;
  let kp = keyCache.get(k);
  if (!kp) {
    kp = generateKeyPair(asymId);
    keyCache.set(k, kp);
  }
  return kp;
}

/** A root → intermediate → leaf chain with cached keys and fixed validity. */
export function deviceChain(asymId: number, leaf: LeafOptions = {}, keySet = 0): DeviceChain {
  return createDeviceChain({
    asymId,
    leaf,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    keyPairs: {
      root: cachedKey(asymId, keySet * 3),
      intermediate: cachedKey(asymId, keySet * 3 + 1),
      leaf: cachedKey(asymId, keySet * 3 + 2),
    },
  });
}

export function parseAll(ders: readonly Uint8Array[]): ParsedCertificate[] {
  return ders.map((d) => parseCertificate(d));
}

export function codes(report: ChainReport): string[] {
  return report.problems.map((p) => `${p.code}@${p.certIndex}`);
}

export function at<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new Error(`no element ${i}`);
  return v;
}

export function libspdmFile(dir: 'ecp256' | 'ecp384' | 'rsa3072', name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(libspdmVectors(), 'keys', dir, name)));
}

/** libspdm's responder bundle (root first, no SPDM header), split into DER certificates. */
export function libspdmResponderChain(dir: 'ecp256' | 'ecp384' | 'rsa3072'): Uint8Array[] {
  return splitDerCertificates(libspdmFile(dir, 'bundle_responder.certchain.der'));
}

/** A copy of `der` with one byte XOR-ed. */
export function flipByte(der: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(der);
  out[index] = (out[index] as number) ^ mask;
  return out;
}
