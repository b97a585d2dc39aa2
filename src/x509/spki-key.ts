/**
 * A certificate's SubjectPublicKeyInfo as a node:crypto KeyObject.
 *
 * node's DER import of an SPKI goes through OpenSSL 3's generic decoder, which costs 100-250 µs a
 * key whatever the algorithm: most of parsing a certificate, and most of a cold-cache
 * authentication with a fast algorithm. For the forms device chains use, the key's own numbers
 * are imported directly instead (as a JWK, which OpenSSL builds without the decoder): RSA
 * (rsaEncryption, NULL parameters), Ed25519, Ed448, and P-256 with an uncompressed point. Each is
 * recognised only in its exact DER form; anything else — another curve, a compressed point,
 * RSASSA-PSS parameters, an INTEGER that is not minimal — and any key the direct import refuses
 * goes through the DER import as before, so the keys accepted and the errors given for the rest
 * are node's DER import's. The direct import is no laxer: it refuses an EC point off the curve
 * (OpenSSL checks the point when it sets it), as the DER import does.
 *
 * P-384 stays with the DER import: OpenSSL's full key check on the direct path costs more there.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Tag, readAllTlv, readTlv, type Tlv } from './der.js';

/** SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) 04 ‖ X ‖ Y }, up to the 04. */
const P256_PREFIX = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
  0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
]);
/** SEQUENCE { SEQUENCE { id-Ed25519 }, BIT STRING (0 unused bits) }, up to the 32-byte key. */
const ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
/** SEQUENCE { SEQUENCE { id-Ed448 }, BIT STRING (0 unused bits) }, up to the 57-byte key. */
const ED448_PREFIX = Uint8Array.from([0x30, 0x43, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71, 0x03, 0x3a, 0x00]);
/** AlgorithmIdentifier { rsaEncryption, NULL }. */
const RSA_ALGORITHM = Uint8Array.from([
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
]);

function startsWith(b: Uint8Array, prefix: Uint8Array, totalLength: number): boolean {
  if (b.length !== totalLength) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

const noFail = (): never => {
  throw new RangeError('not the plain form');
};

/** A positive INTEGER in minimal DER, as its magnitude (no sign byte); undefined otherwise. */
function positiveMagnitude(t: Tlv | undefined): Uint8Array | undefined {
  if (t?.tag !== Tag.INTEGER) return undefined;
  const c = t.contents;
  if (c.length === 0 || (c[0] as number) & 0x80) return undefined;
  if (c[0] === 0) {
    // A leading zero only where the next byte would otherwise read as negative (minimal DER).
    if (c.length === 1 || !((c[1] as number) & 0x80)) return undefined;
    return c.subarray(1);
  }
  return c;
}

/** RSAPublicKey { n, e } of an rsaEncryption SPKI with NULL parameters, in plain DER; undefined otherwise. */
function rsaJwk(spki: Uint8Array): JsonWebKey | undefined {
  try {
    const outer = readTlv(spki, 0, noFail);
    if (outer.tag !== Tag.SEQUENCE || outer.end !== spki.length) return undefined;
    const parts = readAllTlv(outer.contents, noFail);
    const [alg, key] = parts;
    if (parts.length !== 2 || !alg || !key || key.tag !== Tag.BIT_STRING) return undefined;
    if (!startsWith(alg.bytes, RSA_ALGORITHM, RSA_ALGORITHM.length)) return undefined;
    if (key.contents[0] !== 0) return undefined;
    const body = key.contents.subarray(1);
    const seq = readTlv(body, 0, noFail);
    if (seq.tag !== Tag.SEQUENCE || seq.end !== body.length) return undefined;
    const ints = readAllTlv(seq.contents, noFail);
    if (ints.length !== 2) return undefined;
    const n = positiveMagnitude(ints[0]);
    const e = positiveMagnitude(ints[1]);
    if (!n || !e) return undefined;
    return { kty: 'RSA', n: b64url(n), e: b64url(e) };
  } catch {
    return undefined;
  }
}

/** The JWK of the forms imported directly (see the module note); undefined for every other SPKI. */
function directForm(spki: Uint8Array): JsonWebKey | undefined {
  if (startsWith(spki, P256_PREFIX, P256_PREFIX.length + 64)) {
    const at = P256_PREFIX.length;
    return { kty: 'EC', crv: 'P-256', x: b64url(spki.subarray(at, at + 32)), y: b64url(spki.subarray(at + 32)) };
  }
  if (startsWith(spki, ED25519_PREFIX, ED25519_PREFIX.length + 32))
    return { kty: 'OKP', crv: 'Ed25519', x: b64url(spki.subarray(ED25519_PREFIX.length)) };
  if (startsWith(spki, ED448_PREFIX, ED448_PREFIX.length + 57))
    return { kty: 'OKP', crv: 'Ed448', x: b64url(spki.subarray(ED448_PREFIX.length)) };
  return spki[0] === 0x30 ? rsaJwk(spki) : undefined;
}

/**
 * The public key of a DER SubjectPublicKeyInfo (the whole SEQUENCE). Throws node's error for a
 * key its DER import refuses.
 */
export function spkiPublicKey(spki: Uint8Array): KeyObject {
  const jwk = directForm(spki);
  if (jwk) {
    try {
      return createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      // Refused directly: the DER import decides, and gives its own reason.
    }
  }
  return createPublicKey({
    key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
    format: 'der',
    type: 'spki',
  });
}
