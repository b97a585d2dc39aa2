/**
 * A bounded cache of parsed certificates and of certificate-signature checks, keyed by the DER
 * itself. A fleet of devices from one vendor presents the same root and intermediates again and
 * again; parsing them (and building their node:crypto key objects) and re-checking their
 * signatures is most of the cost of an authentication with a fast algorithm. Entries are
 * immutable and keyed by content, so sharing them between requesters is safe.
 *
 * The key is the DER's bytes as a one-byte-per-char string: exact (no second look needed) and
 * cheaper to build and look up than a digest of the DER per lookup, which was most of a hit's
 * cost. The cache's bytes are bounded by `capacity` certificates (a DER is at most what a chain
 * carries).
 */
import type { KeyObject } from 'node:crypto';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { checkSignature } from './signature.js';
import type { SpdmChainValidation } from './chain.js';

/** A chain's validation as validateSpdmChain made it, and the validity verdicts it rests on. */
export interface RememberedChain {
  /** The options it was made under (version, algorithms, role, CertModel). */
  readonly options: string;
  readonly validation: SpdmChainValidation;
  /** Per certificate, where the validation time stood against its validity period. */
  readonly validity: string;
}

/** The DER as a map key: every byte one character, so equal keys are equal bytes. */
function derKey(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
}

export class CertificateCache {
  private readonly parsed = new Map<string, ParsedCertificate>();
  private readonly checks = new Map<string, string | undefined>();
  private readonly chains = new Map<string, RememberedChain>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity = 1024) {}

  /** parseCertificate(), once per distinct DER. Parse failures are not cached and rethrow every time. */
  parse(der: Uint8Array): ParsedCertificate {
    const key = derKey(der);
    const hit = this.parsed.get(key);
    if (hit) {
      this.hits++;
      this.parsed.delete(key);
      this.parsed.set(key, hit);
      return hit;
    }
    this.misses++;
    const cert = parseCertificate(der);
    this.remember(this.parsed, key, cert);
    return cert;
  }

  /** checkSignature() of `cert` under `issuer`'s key, once per (certificate, issuer) pair. */
  checkSignature(cert: ParsedCertificate, issuer: ParsedCertificate): string | undefined {
    return this.check(cert, issuer.publicKey, issuer.fingerprintSha256);
  }

  check(cert: ParsedCertificate, issuerKey: KeyObject, issuerId: string): string | undefined {
    const key = `${cert.fingerprintSha256}|${issuerId}`;
    if (this.checks.has(key)) return this.checks.get(key);
    const why = checkSignature(cert, issuerKey);
    this.remember(this.checks, key, why);
    return why;
  }

  /**
   * validateSpdmChain()'s reading of a whole chain, keyed by the chain's bytes (derKey's form),
   * for the same device again or a fleet of identical ones; the last one per chain. The chain
   * layer decides whether it still holds (x509/chain.ts). Bounded like the rest, by `capacity`.
   */
  rememberedChain(chain: Uint8Array): { key: string; known: RememberedChain | undefined } {
    const key = derKey(chain);
    return { key, known: this.chains.get(key) };
  }

  rememberChain(key: string, chain: RememberedChain): void {
    this.chains.delete(key);
    this.remember(this.chains, key, chain);
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.set(key, value);
    if (map.size > this.capacity) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
  }
}

/** The cache requesters share unless given their own. */
export const sharedCertificateCache = new CertificateCache();
