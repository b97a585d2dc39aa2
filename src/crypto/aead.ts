/**
 * AEAD cipher suites of SPDM (ALGORITHMS AlgStruct 3, "AEADCipherSuite"), as DSP0277 secured
 * messages use them: 12-byte nonce, 16-byte tag. SM4-GCM is defined by SPDM but node:crypto has
 * no SM4-GCM, so it is refused as unsupported rather than approximated.
 *
 * `aeadDecrypt` is meant for bytes from the wire: whatever it is given (wrong key, nonce or tag
 * size, a forged tag), it answers null instead of throwing. Only asking for an algorithm this
 * build cannot run is an error (a typed SpdmError), because that is a question of configuration,
 * not of the data.
 */
import {
  createCipheriv,
  createDecipheriv,
  type CipherChaCha20Poly1305,
  type CipherChaCha20Poly1305Types,
  type CipherGCM,
  type CipherGCMTypes,
  type DecipherChaCha20Poly1305,
  type DecipherGCM,
} from 'node:crypto';
import { SpdmError } from '../wire/errors.js';

export const AeadAlgo = {
  AES_128_GCM: 0x0001,
  AES_256_GCM: 0x0002,
  CHACHA20_POLY1305: 0x0004,
  SM4_GCM: 0x0008,
} as const;
export type AeadAlgo = (typeof AeadAlgo)[keyof typeof AeadAlgo];

/** The node:crypto AEAD ciphers SPDM suites map to. */
export type AeadName = CipherGCMTypes | CipherChaCha20Poly1305Types;

export const AEAD_NONCE_SIZE = 12;
export const AEAD_TAG_SIZE = 16;

export interface AeadInfo {
  readonly id: number;
  readonly name: string;
  readonly keySize: number;
  readonly nonceSize: number;
  readonly tagSize: number;
  /** OpenSSL cipher name; undefined when node:crypto cannot run it. */
  readonly node?: AeadName;
}

const AEADS: readonly AeadInfo[] = [
  {
    id: AeadAlgo.AES_128_GCM,
    name: 'AES-128-GCM',
    keySize: 16,
    nonceSize: AEAD_NONCE_SIZE,
    tagSize: AEAD_TAG_SIZE,
    node: 'aes-128-gcm',
  },
  {
    id: AeadAlgo.AES_256_GCM,
    name: 'AES-256-GCM',
    keySize: 32,
    nonceSize: AEAD_NONCE_SIZE,
    tagSize: AEAD_TAG_SIZE,
    node: 'aes-256-gcm',
  },
  {
    id: AeadAlgo.CHACHA20_POLY1305,
    name: 'CHACHA20-POLY1305',
    keySize: 32,
    nonceSize: AEAD_NONCE_SIZE,
    tagSize: AEAD_TAG_SIZE,
    node: 'chacha20-poly1305',
  },
  { id: AeadAlgo.SM4_GCM, name: 'SM4-GCM', keySize: 16, nonceSize: AEAD_NONCE_SIZE, tagSize: AEAD_TAG_SIZE },
];

export function aeadInfo(id: number): AeadInfo | undefined {
  return AEADS.find((a) => a.id === id);
}

export function isAeadSupported(id: number): boolean {
  return aeadInfo(id)?.node !== undefined;
}

/** Suites node:crypto runs, by id: looked up once per record, so built once. */
const RUNNABLE = new Map<number, AeadInfo & { readonly node: AeadName }>();
for (const a of AEADS) if (a.node) RUNNABLE.set(a.id, { ...a, node: a.node });

export function requireAead(id: number): AeadInfo & { readonly node: AeadName } {
  const runnable = RUNNABLE.get(id);
  if (runnable) return runnable;
  const a = aeadInfo(id);
  const what = a
    ? `${a.name} (0x${id.toString(16)}) is not available in node:crypto`
    : `AEAD cipher suite 0x${id.toString(16)} is unknown`;
  throw new SpdmError('UNSUPPORTED_ALGORITHM', what, { aead: id });
}

function isChaCha(name: AeadName): name is CipherChaCha20Poly1305Types {
  return name === 'chacha20-poly1305';
}

function cipher(
  name: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  tagSize: number,
): CipherGCM | CipherChaCha20Poly1305 {
  return isChaCha(name)
    ? createCipheriv(name, key, nonce, { authTagLength: tagSize })
    : createCipheriv(name, key, nonce, { authTagLength: tagSize });
}

function decipher(
  name: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  tagSize: number,
): DecipherGCM | DecipherChaCha20Poly1305 {
  return isChaCha(name)
    ? createDecipheriv(name, key, nonce, { authTagLength: tagSize })
    : createDecipheriv(name, key, nonce, { authTagLength: tagSize });
}

export interface AeadSealed {
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
}

/** A Uint8Array over a node Buffer's bytes (no copy): callers compare our results as plain Uint8Arrays. */
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** The AEAD `id` names, once `key` and `nonce` are its sizes (ENCODE_ERROR otherwise: our own keys). */
function sealingAead(id: number, key: Uint8Array, nonce: Uint8Array): ReturnType<typeof requireAead> {
  const a = requireAead(id);
  if (key.length !== a.keySize)
    throw new SpdmError('ENCODE_ERROR', `${a.name} key is ${a.keySize} bytes, got ${key.length}`);
  if (nonce.length !== a.nonceSize)
    throw new SpdmError('ENCODE_ERROR', `${a.name} nonce is ${a.nonceSize} bytes, got ${nonce.length}`);
  return a;
}

/**
 * Encrypts the concatenation of `parts` (none or empty: MAC-only records) with `aad` authenticated,
 * writing the ciphertext into `out` from `at` and the tag right after it; returns the offset
 * after the tag. The record layer seals straight into its record buffer this way: node:crypto's
 * update() has no output argument, so each part's ciphertext is copied once, into place. A part
 * may be the very region of `out` its ciphertext goes to (encryption in place): each part is read
 * by update() before its output is written, and never after a later output.
 */
export function aeadSealInto(
  id: number,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  parts: readonly Uint8Array[],
  out: Uint8Array,
  at: number,
): number {
  const a = sealingAead(id, key, nonce);
  let total = 0;
  for (const p of parts) total += p.length;
  if (!Number.isInteger(at) || at < 0 || at + total + a.tagSize > out.length)
    throw new RangeError(`aeadSealInto: ${total} + ${a.tagSize} bytes do not fit at ${at} of ${out.length}`);
  const c = cipher(a.node, key, nonce, a.tagSize);
  c.setAAD(aad, { plaintextLength: total });
  let pos = at;
  for (const p of parts) {
    // Each part in one update(): a crossing into C++ and a fresh output buffer per call, so fewer is
    // cheaper (an empty part costs one for nothing).
    if (p.length === 0) continue;
    const ct = c.update(p);
    out.set(ct, pos);
    pos += ct.length;
  }
  // GCM and ChaCha20-Poly1305 are stream modes: final() adds nothing, but take what it gives.
  const tail = c.final();
  if (pos + tail.length + a.tagSize > out.length) throw new RangeError('aeadSealInto: cipher output overran');
  out.set(tail, pos);
  pos += tail.length;
  out.set(c.getAuthTag(), pos);
  return pos + a.tagSize;
}

/**
 * Encrypts the concatenation of `parts` with `aad` authenticated, then returns a buffer from
 * `alloc` of `headroom` bytes (left to the caller to write), the ciphertext, and the tag: one
 * copy of the ciphertext, which node:crypto forces (update() returns a buffer of its own, so no
 * record can have its header in front of it). The buffer is asked for only once the cipher is
 * done: asked for first, a 64 KiB record's seal took about 15 µs more CPU (bench/sessions.bench.ts,
 * records). update() allocates a buffer one byte longer than its input, encrypts into it, copies
 * that into a second one and frees the first; allocated after, the record likely gets that
 * memory back while it is still in cache (not proven: what was measured is the order).
 */
export function aeadSealAfter(
  id: number,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  parts: readonly Uint8Array[],
  headroom: number,
  alloc: (size: number) => Uint8Array,
): Uint8Array {
  const a = sealingAead(id, key, nonce);
  let total = 0;
  for (const p of parts) total += p.length;
  const c = cipher(a.node, key, nonce, a.tagSize);
  c.setAAD(aad, { plaintextLength: total });
  const outputs: Uint8Array[] = [];
  let produced = 0;
  for (const p of parts) {
    if (p.length === 0) continue;
    const ct = c.update(p);
    outputs.push(ct);
    produced += ct.length;
  }
  const tail = c.final();
  const tag = c.getAuthTag();
  if (produced + tail.length !== total)
    throw new RangeError(`aeadSealAfter: ${produced + tail.length} of ${total} bytes`);
  const out = alloc(headroom + total + a.tagSize);
  if (out.length !== headroom + total + a.tagSize) throw new RangeError('aeadSealAfter: wrong buffer size');
  let pos = headroom;
  for (const ct of outputs) {
    out.set(ct, pos);
    pos += ct.length;
  }
  out.set(tail, pos);
  out.set(tag, pos + tail.length);
  return out;
}

/** Encrypts `plaintext` (may be empty: MAC-only records) and authenticates it with `aad`. */
export function aeadEncrypt(
  id: number,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): AeadSealed {
  const out = new Uint8Array(plaintext.length + AEAD_TAG_SIZE);
  const end = aeadSealInto(id, key, nonce, aad, [plaintext], out, 0);
  return { ciphertext: out.subarray(0, end - AEAD_TAG_SIZE), tag: out.subarray(end - AEAD_TAG_SIZE, end) };
}

/**
 * Decrypts and verifies. Returns the plaintext, or null when the tag does not verify or any
 * input has the wrong size. Throws only for an unsupported algorithm. The plaintext is the
 * cipher's own output buffer (not copied again), returned only once final() has verified the tag.
 */
export function aeadDecrypt(
  id: number,
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  tag: Uint8Array,
): Uint8Array | null {
  const a = requireAead(id);
  if (key.length !== a.keySize || nonce.length !== a.nonceSize || tag.length !== a.tagSize) return null;
  try {
    const d = decipher(a.node, key, nonce, a.tagSize);
    d.setAuthTag(tag);
    d.setAAD(aad, { plaintextLength: ciphertext.length });
    const head = ciphertext.length === 0 ? undefined : d.update(ciphertext);
    const tail = d.final();
    if (!head) return tail.length === 0 ? new Uint8Array(0) : view(tail);
    if (tail.length === 0) return view(head);
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch {
    // OpenSSL reports a tag mismatch ("Unsupported state or unable to authenticate data") by throwing.
    return null;
  }
}
