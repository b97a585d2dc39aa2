import * as nodeCrypto from 'node:crypto';
import { SpdmError } from '../wire/errors.js';
import { joinedInScratch } from '../wire/bytes.js';
import { hashInfo, isHashSupported, type HashInfo } from './algorithms.js';

export function requireHash(id: number): HashInfo {
  const h = hashInfo(id);
  if (!h || !isHashSupported(id)) {
    throw new SpdmError('UNSUPPORTED_ALGORITHM', `hash algorithm 0x${id.toString(16)} is not supported`);
  }
  return h;
}

/**
 * Whether node:crypto has its one-shot hash (Node 20.12+; the engines field allows earlier 20.x,
 * which lack it). It is called through the module namespace each time, not kept in a constant,
 * so that bench/crypto-census.ts, which wraps node:crypto's exports, counts it.
 */
const oneShotHash = typeof (nodeCrypto as { hash?: unknown }).hash === 'function';

export function digest(hashId: number, ...parts: Uint8Array[]): Uint8Array {
  return digestOf(hashId, parts);
}

/** The digest of `parts` one after the other (a transcript's messages). */
export function digestOf(hashId: number, parts: readonly Uint8Array[]): Uint8Array {
  const name = requireHash(hashId).node;
  if (oneShotHash) {
    // Node's one-shot hash skips the Hash object — a native object with a weak handle, whose
    // making and collecting (~0.6 us) is more than hashing a few KiB — and the call per part. A
    // transcript's messages are joined in a scratch first: copying them is cheaper still.
    // Beyond the scratch's 64 KiB, a Hash object fed part by part (below).
    const input = parts.length === 1 ? parts[0] : joinedInScratch(parts);
    if (input) {
      // Its Buffer owns its memory (no pool slab), so a plain Uint8Array over it is the digest and nothing else.
      const b = nodeCrypto.hash(name, input, 'buffer');
      return b.byteOffset === 0 && b.buffer.byteLength === b.length
        ? new Uint8Array(b.buffer, 0, b.length)
        : new Uint8Array(b);
    }
  }
  const h = nodeCrypto.createHash(name);
  for (const p of parts) h.update(p);
  return bytesOf(h.digest());
}

/**
 * A plain Uint8Array over the bytes of a digest Buffer node:crypto returned (which has a backing
 * store of its own), instead of a copy. A copy of 64 bytes or fewer lives in V8's heap, and
 * node:crypto has V8 move such an array out of it the first time it is passed back in (a
 * transcript hash or a derived secret fed to an HMAC); and zeroising a view of a secret zeroises
 * its only copy, where a copy would leave the Buffer holding it.
 */
export function bytesOf(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
