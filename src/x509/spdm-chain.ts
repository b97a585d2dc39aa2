/**
 * The SPDM certificate chain structure (DSP0274 "Certificate chain format"): what GET_CERTIFICATE
 * returns for a slot and what DIGESTS / CertChainHash hash.
 *
 *   1.0–1.3: Length(2) ‖ Reserved(2) ‖ RootHash(H) ‖ Certificates
 *   1.4:     Length(4)                ‖ RootHash(H) ‖ Certificates   (Reserved became Length's high half)
 *
 * Both forms are little-endian, so a 1.4 chain shorter than 64 KiB has the same bytes as a 1.3 one;
 * the version only decides how large Length may be.
 */
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { SpdmError } from '../wire/errors.js';
import { digest, requireHash } from '../crypto/hash.js';
import { splitDerCertificates } from './der.js';

export interface SpdmCertChain {
  /** The whole structure, header included (what the slot digest covers). */
  readonly raw: Uint8Array;
  readonly length: number;
  readonly rootHash: Uint8Array;
  /** DER of each certificate: root (or first intermediate, 1.2+) first, leaf last. */
  readonly certificates: readonly Uint8Array[];
}

/** 4 header bytes in every version: Length(2)+Reserved(2) before 1.4, Length(4) from 1.4. */
export const SPDM_CERT_CHAIN_HEADER_SIZE = 4;

/** Largest chain 1.0–1.3 can express (the 16-bit Length field). */
export const SPDM_MAX_CERT_CHAIN_SIZE_V13 = 0xffff;

function usesWideLength(version: number): boolean {
  return version >= 0x14;
}

/**
 * Builds the chain structure. RootHash is the hash of the first certificate's DER, or of
 * `externalRoot` when the chain omits its root (allowed from 1.2): RootHash always names the root.
 */
export function encodeSpdmCertChain(
  version: number,
  hashId: number,
  certs: readonly Uint8Array[],
  externalRoot?: Uint8Array,
): Uint8Array {
  const first = certs[0];
  if (first === undefined)
    throw new SpdmError('ENCODE_ERROR', 'an SPDM certificate chain needs at least one certificate');
  const h = requireHash(hashId);
  let certBytes = 0;
  for (const c of certs) certBytes += c.length;
  const length = SPDM_CERT_CHAIN_HEADER_SIZE + h.size + certBytes;
  const max = usesWideLength(version) ? 0xffffffff : SPDM_MAX_CERT_CHAIN_SIZE_V13;
  if (length > max) {
    throw new SpdmError(
      'ENCODE_ERROR',
      `certificate chain of ${length} bytes exceeds the ${max}-byte maximum of SPDM ${versionText(version)}`,
      {
        length,
        max,
      },
    );
  }
  const w = new Writer(length);
  if (usesWideLength(version)) w.u32(length);
  else w.u16(length).u16(0);
  w.bytes(digest(hashId, externalRoot ?? first));
  for (const c of certs) w.bytes(c);
  return w.finish();
}

/**
 * Decodes the chain structure. The header Length must equal the buffer size exactly and at least
 * one certificate must follow RootHash (libspdm: size > 4 + H). The certificates are only framed
 * here (split by their outer SEQUENCE); parsing and validation are separate steps.
 */
export function decodeSpdmCertChain(bytes: Uint8Array, version: number, hashSize: number): SpdmCertChain {
  const r = new Reader(bytes, 'SpdmCertChain');
  if (!Number.isInteger(hashSize) || hashSize <= 0) r.fail('RootHash', `invalid hash size ${hashSize}`, 0);
  let length: number;
  if (usesWideLength(version)) {
    length = r.u32('Length');
  } else {
    length = r.u16('Length');
    // Reserved: receivers ignore reserved fields.
    r.u16('Reserved');
  }
  if (length !== bytes.length) r.fail('Length', `header says ${length} byte(s), buffer holds ${bytes.length}`, 0);
  const rootHash = r.bytes(hashSize, 'RootHash');
  const certOffset = r.offset;
  const certBytes = r.rest();
  if (certBytes.length === 0) r.fail('Certificates', 'no certificate after RootHash', certOffset);
  const certificates = splitDerCertificates(certBytes, 'SpdmCertChain', certOffset);
  return { raw: bytes, length, rootHash, certificates };
}

function versionText(version: number): string {
  return `${version >> 4}.${version & 0x0f}`;
}
