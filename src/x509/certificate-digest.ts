/**
 * Hash(a certificate's DER) under an SPDM hash: RootHash checks (the chain's own root, and each
 * trusted root a RootHash may name). A parsed certificate is immutable and the same roots come
 * back for every device of a fleet, so each digest is computed once per certificate and hash.
 */
import { digest } from '../crypto/hash.js';
import type { ParsedCertificate } from './certificate.js';

const digests = new WeakMap<ParsedCertificate, Map<number, Uint8Array>>();

/** Hash(cert.der) under BaseHashAlgo `hashId`; the bytes returned are shared: read them, never write. */
export function digestOf(cert: ParsedCertificate, hashId: number): Uint8Array {
  let byHash = digests.get(cert);
  if (!byHash) digests.set(cert, (byHash = new Map<number, Uint8Array>()));
  let d = byHash.get(hashId);
  if (!d) byHash.set(hashId, (d = digest(hashId, cert.der)));
  return d;
}
