/**
 * Evidence turned into the shapes of api.ts that are not decisions: the `certificates/slotN`
 * views and the Redfish SPDMGetSignedMeasurements answer.
 */
import { asymInfo, hashInfo } from '../crypto/algorithms.js';
import type { Evidence } from '../evidence/evidence.js';
import { fromHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { decodeSpdmCertChain } from '../x509/spdm-chain.js';
import type { SignedMeasurements, SlotView } from './api.js';
import { KeptSlot } from './kept-slot.js';

/**
 * The DER of each certificate of a recorded chain: the chain's framing only. The certificates
 * were parsed and validated when the evidence was taken; parsing them again (public keys and all)
 * for every view would cost more than the rest of building it.
 */
function derCertificates(e: Evidence, certChain: string): Uint8Array[] {
  try {
    const size = hashInfo(e.algorithms.baseHash)?.size;
    if (size === undefined) return [];
    return [...decodeSpdmCertChain(fromHex(certChain), e.versionByte, size).certificates];
  } catch {
    return [];
  }
}

export function slotViews(e: Evidence): SlotView[] {
  return e.slots
    .filter((s) => s.certChain !== '')
    .map((s) => {
      const leaf = s.certificates.at(-1)?.subject;
      const der = derCertificates(e, s.certChain);
      return new KeptSlot({
        slot: s.slot,
        chain: s.certChain,
        // The DER certificates end the chain: they start where their lengths, summed, begin.
        certificatesAt: der.length > 0 ? s.certChain.length / 2 - der.reduce((n, d) => n + d.length, 0) : -1,
        ...(leaf !== undefined ? { leafSubject: leaf } : {}),
      });
    });
}

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Redfish's TPM_ALG_* names for the algorithms it knows; ours for the rest. */
const HASH_NAMES: Readonly<Record<number, string>> = {
  0x01: 'TPM_ALG_SHA_256',
  0x02: 'TPM_ALG_SHA_384',
  0x04: 'TPM_ALG_SHA_512',
  0x08: 'TPM_ALG_SHA3_256',
  0x10: 'TPM_ALG_SHA3_384',
  0x20: 'TPM_ALG_SHA3_512',
};
const ASYM_NAMES: Readonly<Record<number, string>> = {
  0x0001: 'TPM_ALG_RSASSA_2048',
  0x0002: 'TPM_ALG_RSAPSS_2048',
  0x0004: 'TPM_ALG_RSASSA_3072',
  0x0008: 'TPM_ALG_RSAPSS_3072',
  0x0010: 'TPM_ALG_ECDSA_ECC_NIST_P256',
  0x0020: 'TPM_ALG_RSASSA_4096',
  0x0040: 'TPM_ALG_RSAPSS_4096',
  0x0080: 'TPM_ALG_ECDSA_ECC_NIST_P384',
  0x0100: 'TPM_ALG_ECDSA_ECC_NIST_P521',
};

/** The answer from evidence whose last MEASUREMENTS signature is the one the caller asked for. */
export function signedMeasurementsOf(e: Evidence, slot: number): SignedMeasurements {
  const sig = e.signatures.filter((s) => s.kind === 'MEASUREMENTS' && s.slot === slot).at(-1);
  if (!sig)
    throw new SpdmError('SIGNATURE_MISSING', `the device gave no signed MEASUREMENTS for slot ${slot}`, { slot });
  const chain = e.slots.find((s) => s.slot === slot)?.certChain ?? '';
  return {
    SignedMeasurements: Buffer.concat([fromHex(sig.transcript), fromHex(sig.signature)]).toString('base64'),
    Certificate: derCertificates(e, chain).map(pem).join(''),
    Version: e.version,
    HashingAlgorithm: HASH_NAMES[sig.hashAlgo] ?? hashInfo(sig.hashAlgo)?.name ?? `0x${sig.hashAlgo.toString(16)}`,
    SigningAlgorithm: ASYM_NAMES[sig.asymAlgo] ?? asymInfo(sig.asymAlgo)?.name ?? `0x${sig.asymAlgo.toString(16)}`,
  };
}
