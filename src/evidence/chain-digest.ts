/**
 * The hash of a recorded certificate chain (or provisioned public key) under a signature's hash
 * algorithm: what CHALLENGE_AUTH's CertChainHash and KEY_EXCHANGE_RSP's Ct must equal. A log of
 * thousands of entries, or a verifier re-checking a fleet, holds the same few chains again and
 * again; each was decoded from hex and hashed once per signature, a sizeable share of holding an
 * entry to its transcript.
 *
 * The key is the chain's hex text itself (exact content, never a name the evidence chooses), and
 * beside it the hash algorithm. Failures (hex that does not decode, an unknown algorithm) are not
 * remembered and throw again every time, as the uncached hash would. Bounded in chains and in the
 * size of a chain remembered; past either, a chain is hashed without being kept.
 */
import { digest } from '../crypto/hash.js';
import { fromHex } from '../wire/bytes.js';

/** Distinct chains remembered (oldest forgotten first). */
const MAX_CHAINS = 256;
/**
 * Longest chain text remembered: 16 KiB of chain (a 3-certificate RSA-3072 chain is ~4 KiB). The
 * keys keep their texts alive, so this and MAX_CHAINS bound what the cache holds (~8 MB at worst).
 */
const MAX_CHAIN_HEX = 2 * 16384;

const digests = new Map<string, Map<number, Uint8Array>>();

/** digest(hashAlgo, fromHex(chainHex)), once per distinct (chain, algorithm). The result must not be changed. */
export function recordedChainDigest(hashAlgo: number, chainHex: string): Uint8Array {
  let byAlgo = digests.get(chainHex);
  const hit = byAlgo?.get(hashAlgo);
  if (hit) return hit;
  const d = digest(hashAlgo, fromHex(chainHex));
  if (chainHex.length > MAX_CHAIN_HEX) return d;
  if (!byAlgo) {
    byAlgo = new Map();
    digests.set(chainHex, byAlgo);
    if (digests.size > MAX_CHAINS) {
      const oldest = digests.keys().next();
      if (!oldest.done) digests.delete(oldest.value);
    }
  }
  byAlgo.set(hashAlgo, d);
  return d;
}
