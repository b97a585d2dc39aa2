/**
 * The one reading of "a slot's SPDM certificate chain → its certificates and its leaf key".
 *
 * The requester (via validateSpdmChain), the verifier, evidence re-verification, the signature
 * log's checker and the capture analyser all need the same thing from the bytes a slot returned:
 * the chain structure decoded, every certificate parsed by the project's own X.509 parser, and the
 * leaf's public key to check SPDM signatures with. Doing it here, once, means they all accept and
 * refuse exactly the same chains (a certificate the verifier cannot parse is not one whose key the
 * log or the capture analyser silently trusts).
 */
import type { KeyObject } from 'node:crypto';
import { hashInfo } from '../crypto/algorithms.js';
import { LimitError } from '../wire/limits.js';
import { SpdmError } from '../wire/errors.js';
import type { CertificateCache } from './cache.js';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { decodeSpdmCertChain, type SpdmCertChain } from './spdm-chain.js';

export interface SlotChainOptions {
  /** The negotiated SPDM version byte (0x10–0x14): it decides how wide the Length field is. */
  readonly version: number;
  /** The negotiated BaseHashAlgo: its size is the size of RootHash. */
  readonly hashId: number;
  /** Parse through this cache (requesters share one; a verifier sees the same roots again and again). */
  readonly cache?: CertificateCache;
  /** Refuse chains of more certificates than this before parsing any (the verifier's work bound). */
  readonly maxCertificates?: number;
}

export interface SlotChain {
  /** The decoded structure: raw bytes, Length, RootHash and each certificate's DER. */
  readonly chain: SpdmCertChain;
  readonly rootHash: Uint8Array;
  /** Every certificate, parsed: root (or first intermediate) first, leaf last; never empty. */
  readonly certificates: ParsedCertificate[];
  readonly leaf: ParsedCertificate;
  /** The leaf's public key: what the slot's CHALLENGE_AUTH / MEASUREMENTS signatures verify with. */
  readonly leafKey: KeyObject;
}

/**
 * Decodes a slot's SPDM certificate chain and parses every certificate in it. It does not
 * validate the chain (links, validity, key usage, RootHash against the root): that is
 * validateSpdmChain / validateCertChain, which build on this.
 *
 * Throws, for untrusted input:
 * - `DecodeError` (code DECODE_ERROR) naming the field (`SpdmCertChain.Length`, `.RootHash`,
 *   `.Certificates` or `.Certificates[i]`) when the structure is malformed (Length not the buffer size, too short for
 *   RootHash, no certificate, a certificate's DER framing broken or trailing bytes);
 * - `SpdmError` LIMIT_EXCEEDED with `details.limit: 'maxCertificates'` when there are too many;
 * - `SpdmError` CERT_INVALID (or the parser's own code) with `details.certIndex` when a
 *   certificate is framed but cannot be parsed;
 * - `SpdmError` UNSUPPORTED_ALGORITHM for a hash algorithm this library does not know.
 *
 * @example
 * const { leaf, leafKey, rootHash } = chainForSlot(chainBytes, { version: 0x12, hashId: BaseHashAlgo.SHA_384 });
 * console.log(leaf.subject, toHex(rootHash));
 * spdmVerify(leafKey, asymId, { version: 0x12, hashId, context, transcriptHash }, signature);
 */
export function chainForSlot(bytes: Uint8Array, opts: SlotChainOptions): SlotChain {
  const h = hashInfo(opts.hashId);
  if (!h)
    throw new SpdmError('UNSUPPORTED_ALGORITHM', `hash algorithm 0x${opts.hashId.toString(16)} is not known`, {
      hashId: opts.hashId,
    });
  const chain = decodeSpdmCertChain(bytes, opts.version, h.size);
  const count = chain.certificates.length;
  if (opts.maxCertificates !== undefined && count > opts.maxCertificates) {
    throw new LimitError(
      'maxCertificates',
      count,
      opts.maxCertificates,
      'SpdmCertChain.Certificates',
      `the chain holds ${count} certificates, more than ${opts.maxCertificates} are not examined`,
    );
  }
  const certificates = chain.certificates.map((der, i) => {
    try {
      return opts.cache ? opts.cache.parse(der) : parseCertificate(der);
    } catch (e) {
      if (e instanceof SpdmError)
        throw new SpdmError(e.code, `Certificates[${i}]: ${e.message}`, { ...e.details, certIndex: i }, { cause: e });
      throw e;
    }
  });
  // decodeSpdmCertChain refuses a chain without a certificate, so there is a leaf.
  const leaf = certificates[count - 1] as ParsedCertificate;
  return { chain, rootHash: chain.rootHash, certificates, leaf, leafKey: leaf.publicKey };
}
