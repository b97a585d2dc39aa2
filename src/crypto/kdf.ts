/**
 * HMAC and HKDF (RFC 5869) over the negotiated SPDM hash. SPDM's key schedule (DSP0274 "key
 * schedule", shared/spec/keyschedule.md) only ever uses HKDF-Extract and HKDF-Expand separately,
 * so both are exposed; Node's hkdfSync does extract+expand in one call and cannot expand a PRK
 * on its own, so Expand is the RFC's T(1) || T(2) ... loop over createHmac.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SpdmError } from '../wire/errors.js';
import { bytesOf, requireHash } from './hash.js';

/** HMAC-Hash(key, data...) with the SPDM hash `hashId` (BaseHashAlgo bit). */
export function hmac(hashId: number, key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac(requireHash(hashId).node, key);
  for (const d of data) h.update(d);
  return bytesOf(h.digest());
}

/** HKDF-Expand's block counters 1..255 as single bytes, off V8's heap (see hash.ts, bytesOf). */
const COUNTER = Buffer.alloc(256);
for (let i = 0; i < 256; i++) COUNTER[i] = i;
const COUNTER_1 = COUNTER.subarray(1, 2);

/**
 * HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM). An empty salt is HashLen zero bytes (RFC 5869
 * §2.2), which HMAC's zero-padding of the key makes equivalent.
 */
export function hkdfExtract(hashId: number, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  const size = requireHash(hashId).size;
  return hmac(hashId, salt.length === 0 ? new Uint8Array(size) : salt, ikm);
}

/** HKDF-Expand(PRK, info, L): L ≤ 255 × HashLen bytes of output keying material. */
export function hkdfExpand(hashId: number, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const { size, node: name } = requireHash(hashId);
  if (!Number.isInteger(length) || length < 0 || length > 255 * size) {
    throw new SpdmError('ENCODE_ERROR', `HKDF-Expand length ${length} outside 0..${255 * size}`);
  }
  if (length <= size) {
    // T(1) = HMAC(PRK, info || 0x01) is all of it (every SPDM key schedule step): its own digest
    // buffer is the output, the bytes past L zeroed.
    const t = createHmac(name, prk).update(info).update(COUNTER_1).digest();
    t.fill(0, length);
    return bytesOf(t).subarray(0, length);
  }
  const out = new Uint8Array(new ArrayBuffer(length));
  let t: Buffer | undefined;
  for (let i = 1, o = 0; o < length; i++) {
    const h = createHmac(name, prk);
    if (t) h.update(t);
    const next = h
      .update(info)
      .update(COUNTER.subarray(i, i + 1))
      .digest();
    t?.fill(0);
    t = next;
    out.set(t.subarray(0, Math.min(t.length, length - o)), o);
    o += t.length;
  }
  t?.fill(0);
  return out;
}

/**
 * HKDF-Expand(PRK, info, L) for L ≤ HashLen, given `infoBlock1` = info ‖ 0x01 in one buffer: T(1)
 * is then one HMAC update instead of two (every SPDM key schedule step is one block, 36 of them
 * per handshake, and each update is a call into node:crypto). Longer L is the caller's mistake.
 */
export function hkdfExpandBlock1(hashId: number, prk: Uint8Array, infoBlock1: Uint8Array, length: number): Uint8Array {
  const { size, node: name } = requireHash(hashId);
  if (!Number.isInteger(length) || length < 0 || length > size)
    throw new SpdmError('ENCODE_ERROR', `HKDF-Expand block length ${length} outside 0..${size}`);
  if (infoBlock1[infoBlock1.length - 1] !== 1)
    throw new TypeError('hkdfExpandBlock1: info must end with the counter 0x01');
  const t = createHmac(name, prk).update(infoBlock1).digest();
  t.fill(0, length);
  return bytesOf(t).subarray(0, length);
}

/** HKDF (extract then expand), RFC 5869 §2. */
export function hkdf(hashId: number, salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(hashId, hkdfExtract(hashId, salt, ikm), info, length);
}

/** Constant-time comparison of two MACs; different lengths compare unequal. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
