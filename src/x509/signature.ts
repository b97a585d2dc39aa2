/**
 * Certificate signature verification with node:crypto, driven by the certificate's
 * signatureAlgorithm. Only algorithms SPDM can negotiate are accepted: SHA-1 and MD5 based
 * signatures are reported as unsupported rather than verified.
 */
import { constants, verify, type KeyObject } from 'node:crypto';
import type { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { asn1Rsa, asn1Schema, asn1X509 } from './asn1.js';
import type { ParsedCertificate } from './certificate.js';
import {
  OID_ECDSA_WITH_SHA256,
  OID_ECDSA_WITH_SHA384,
  OID_ECDSA_WITH_SHA512,
  OID_ED25519,
  OID_ED448,
  OID_MGF1,
  OID_RSASSA_PSS,
  OID_SHA256,
  OID_SHA256_WITH_RSA,
  OID_SHA384,
  OID_SHA384_WITH_RSA,
  OID_SHA512,
  OID_SHA512_WITH_RSA,
} from './oids.js';

/** How to verify: the node digest name (null for EdDSA) plus key options. */
export type SignatureScheme =
  | { readonly kind: 'rsa-pkcs1'; readonly hash: string }
  | { readonly kind: 'rsa-pss'; readonly hash: string; readonly saltLength: number }
  | { readonly kind: 'ecdsa'; readonly hash: string }
  | { readonly kind: 'ed25519' }
  | { readonly kind: 'ed448' };

const HASH_BY_OID: Readonly<Record<string, { name: string; size: number }>> = {
  [OID_SHA256]: { name: 'sha256', size: 32 },
  [OID_SHA384]: { name: 'sha384', size: 48 },
  [OID_SHA512]: { name: 'sha512', size: 64 },
};

const NULL_DER = Uint8Array.of(0x05, 0x00);

function isAbsentOrNull(p: Uint8Array | undefined): boolean {
  return p === undefined || (p.length === 2 && p[0] === NULL_DER[0] && p[1] === NULL_DER[1]);
}

function pssScheme(params: Uint8Array | undefined): SignatureScheme | string {
  // RFC 4055 defaults are SHA-1 / MGF1-SHA-1 / salt 20: SHA-1 is not acceptable, so params are required.
  if (params === undefined) return 'RSASSA-PSS without parameters (SHA-1 defaults) is not supported';
  // The ASN.1 library is loaded here, for the rare RSASSA-PSS certificate only (see asn1.ts).
  const { AsnConvert } = asn1Schema();
  const { AlgorithmIdentifier } = asn1X509();
  let p: RsaSaPssParams;
  try {
    p = AsnConvert.parse(params, asn1Rsa().RsaSaPssParams);
  } catch (e) {
    return `malformed RSASSA-PSS parameters: ${e instanceof Error ? e.message : String(e)}`;
  }
  const hash = HASH_BY_OID[p.hashAlgorithm.algorithm];
  if (!hash) return `RSASSA-PSS hash ${p.hashAlgorithm.algorithm} is not supported`;
  if (p.maskGenAlgorithm.algorithm !== OID_MGF1)
    return `RSASSA-PSS mask generation ${p.maskGenAlgorithm.algorithm} is not supported`;
  // node:crypto (OpenSSL) uses the signature digest for MGF1, so a different MGF1 hash cannot be checked.
  let mgfHash: string | undefined;
  try {
    const mp = p.maskGenAlgorithm.parameters;
    mgfHash = mp ? AsnConvert.parse(mp, AlgorithmIdentifier).algorithm : undefined;
  } catch {
    mgfHash = undefined;
  }
  if (mgfHash !== p.hashAlgorithm.algorithm) return 'RSASSA-PSS MGF1 hash must equal the message hash';
  if (p.trailerField !== 1) return `RSASSA-PSS trailerField ${p.trailerField} is not supported`;
  return { kind: 'rsa-pss', hash: hash.name, saltLength: p.saltLength };
}

/** Resolves the certificate's signatureAlgorithm; a string is the reason it is unsupported. */
export function signatureScheme(
  cert: Pick<ParsedCertificate, 'signatureAlgorithmOid' | 'signatureAlgorithmParams'>,
): SignatureScheme | string {
  const params = cert.signatureAlgorithmParams;
  switch (cert.signatureAlgorithmOid) {
    case OID_SHA256_WITH_RSA:
    case OID_SHA384_WITH_RSA:
    case OID_SHA512_WITH_RSA: {
      // RFC 4055: parameters NULL (absent is tolerated by OpenSSL too).
      if (!isAbsentOrNull(params)) return 'RSA PKCS#1 v1.5 signature algorithm with non-NULL parameters';
      const hash =
        cert.signatureAlgorithmOid === OID_SHA256_WITH_RSA
          ? 'sha256'
          : cert.signatureAlgorithmOid === OID_SHA384_WITH_RSA
            ? 'sha384'
            : 'sha512';
      return { kind: 'rsa-pkcs1', hash };
    }
    case OID_RSASSA_PSS:
      return pssScheme(params);
    case OID_ECDSA_WITH_SHA256:
    case OID_ECDSA_WITH_SHA384:
    case OID_ECDSA_WITH_SHA512: {
      // RFC 5758: parameters absent.
      if (params !== undefined) return 'ECDSA signature algorithm with parameters';
      const hash =
        cert.signatureAlgorithmOid === OID_ECDSA_WITH_SHA256
          ? 'sha256'
          : cert.signatureAlgorithmOid === OID_ECDSA_WITH_SHA384
            ? 'sha384'
            : 'sha512';
      return { kind: 'ecdsa', hash };
    }
    case OID_ED25519:
    case OID_ED448:
      // RFC 8410: parameters absent.
      if (params !== undefined) return 'EdDSA signature algorithm with parameters';
      return { kind: cert.signatureAlgorithmOid === OID_ED25519 ? 'ed25519' : 'ed448' };
    default:
      return `signature algorithm ${cert.signatureAlgorithmOid} is not supported`;
  }
}

const KEY_TYPES: Readonly<Record<SignatureScheme['kind'], readonly string[]>> = {
  'rsa-pkcs1': ['rsa'],
  'rsa-pss': ['rsa', 'rsa-pss'],
  ecdsa: ['ec'],
  ed25519: ['ed25519'],
  ed448: ['ed448'],
};

/**
 * Checks `cert`'s signature (a certificate's, or a CSR's: `tbs` is what was signed) with `issuerKey`. Returns a reason string on failure (unsupported
 * algorithm, key type mismatch, bad signature) and undefined on success.
 */
export function checkSignature(
  cert: Pick<ParsedCertificate, 'signatureAlgorithmOid' | 'signatureAlgorithmParams' | 'tbs' | 'signature'>,
  issuerKey: KeyObject,
): string | undefined {
  const scheme = signatureScheme(cert);
  if (typeof scheme === 'string') return scheme;
  const keyType = issuerKey.asymmetricKeyType ?? 'unknown';
  if (!KEY_TYPES[scheme.kind].includes(keyType))
    return `issuer key type ${keyType} cannot verify a ${scheme.kind} signature`;
  let ok: boolean;
  try {
    switch (scheme.kind) {
      case 'rsa-pkcs1':
        ok = verify(scheme.hash, cert.tbs, { key: issuerKey, padding: constants.RSA_PKCS1_PADDING }, cert.signature);
        break;
      case 'rsa-pss':
        ok = verify(
          scheme.hash,
          cert.tbs,
          { key: issuerKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength },
          cert.signature,
        );
        break;
      case 'ecdsa':
        // X.509 carries ECDSA signatures as DER Ecdsa-Sig-Value, not r||s.
        ok = verify(scheme.hash, cert.tbs, { key: issuerKey, dsaEncoding: 'der' }, cert.signature);
        break;
      case 'ed25519':
      case 'ed448':
        ok = verify(null, cert.tbs, issuerKey, cert.signature);
        break;
    }
  } catch (e) {
    // OpenSSL throws on some malformed signatures; that is a failed verification.
    return `signature check failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  return ok ? undefined : 'signature does not verify';
}

/** True when `issuer`'s public key verifies `cert`'s signature. Names are not compared here. */
export function verifyCertSignature(cert: ParsedCertificate, issuer: Pick<ParsedCertificate, 'publicKey'>): boolean {
  return checkSignature(cert, issuer.publicKey) === undefined;
}
