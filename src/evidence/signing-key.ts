/**
 * What a signature recorded for a slot verifies with, read from the evidence alone: for slots 0-7
 * the leaf key of the recorded SPDM chain, the chain itself being what CertChainHash / Ct hash;
 * for slot 0xFF (PUB_KEY_ID_CAP) the recorded provisioned public key, its DER SubjectPublicKeyInfo
 * being what they hash (libspdm).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { fromHex } from '../wire/bytes.js';
import { sharedCertificateCache } from '../x509/cache.js';
import { chainForSlot } from '../x509/slot-chain.js';
import type { Evidence } from './evidence.js';

/** SlotID of the provisioned public key. */
export const PUBLIC_KEY_SLOT = 0xff;

export interface RecordedSigningKey {
  readonly key: KeyObject;
  /** The bytes whose hash is CertChainHash / Ct: the SPDM chain, or the DER SubjectPublicKeyInfo. */
  readonly hashed: Uint8Array;
}

/** The bytes CertChainHash / Ct must be the hash of, or undefined when the evidence records none for `slot`. */
export function recordedChainBytes(e: Evidence, slot: number): Uint8Array | undefined {
  if (slot === PUBLIC_KEY_SLOT) return e.publicKey ? fromHex(e.publicKey) : undefined;
  const s = e.slots.find((x) => x.slot === slot);
  return s?.certChain ? fromHex(s.certChain) : undefined;
}

/**
 * The key `slot`'s signatures verify with.
 * @returns a sentence saying why there is none (nothing recorded), or the key
 * @throws SpdmError / DecodeError when what is recorded does not decode
 */
export function recordedSigningKey(
  e: Evidence,
  slot: number,
  o: { readonly version: number; readonly hashId: number },
): RecordedSigningKey | string {
  const hashed = recordedChainBytes(e, slot);
  if (slot === PUBLIC_KEY_SLOT) {
    if (!hashed) return 'no provisioned public key recorded for slot 0xFF';
    return { key: createPublicKey({ key: Buffer.from(hashed), format: 'der', type: 'spki' }), hashed };
  }
  if (!hashed) return `no certificate chain recorded for slot ${slot}`;
  // Through the cache the requester and the verifier share: the chain was parsed when the
  // evidence was taken, and a verifier re-checking a fleet sees the same certificates again.
  return { key: chainForSlot(hashed, { ...o, cache: sharedCertificateCache }).leafKey, hashed };
}
