/**
 * Certificate generation for the device emulator and for tests: keys from node:crypto, structures
 * from the @peculiar/asn1-x509 classes, TBS signed with node:crypto. The leaf profile follows
 * libspdm's sample responder certificate (unit_test/sample_key/openssl.cnf), so generated devices
 * look like the ones interop peers are tested against.
 *
 * Synchronous on purpose: the emulator builds identities at start-up and tests build them inline.
 * RSA key generation is slow (hundreds of ms for 3072 bits); pass `keyPair` to reuse keys.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  constants,
  type KeyObject,
} from 'node:crypto';
import type * as X509 from '@peculiar/asn1-x509';
import { asn1Rsa, asn1Schema, asn1X509 } from './asn1.js';
import { SpdmError } from '../wire/errors.js';
import { equalBytes } from '../wire/bytes.js';
import { asymInfo } from '../crypto/algorithms.js';
import { formatName, parseCertificate, type ParsedCertificate } from './certificate.js';
import { encodeOid, encodeSequence, encodeTlv, encodeUtf8String, Tag } from './der.js';
import {
  OID_CE_AUTHORITY_KEY_IDENTIFIER,
  OID_CE_BASIC_CONSTRAINTS,
  OID_CE_EXT_KEY_USAGE,
  OID_CE_KEY_USAGE,
  OID_CE_SUBJECT_ALT_NAME,
  OID_CE_SUBJECT_KEY_IDENTIFIER,
  OID_DMTF_DEVICE_INFO,
  OID_DMTF_EKU_REQUESTER_AUTH,
  OID_DMTF_EKU_RESPONDER_AUTH,
  OID_DMTF_HARDWARE_IDENTITY,
  OID_DMTF_SPDM_EXTENSION,
  OID_ECDSA_WITH_SHA256,
  OID_ECDSA_WITH_SHA384,
  OID_ECDSA_WITH_SHA512,
  OID_ED25519,
  OID_ED448,
  OID_KP_CLIENT_AUTH,
  OID_KP_SERVER_AUTH,
  OID_MGF1,
  OID_PCIE_CMA,
  OID_RSASSA_PSS,
  OID_SHA256_WITH_RSA,
  OID_SHA384_WITH_RSA,
  OID_SHA512_WITH_RSA,
} from './oids.js';

const { AsnConvert, OctetString } = asn1Schema();
const {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  OtherName,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} = asn1X509();
const { RsaSaPssParams, sha256: sha256Alg, sha384: sha384Alg, sha512: sha512Alg } = asn1Rsa();

/** Default DMTF device-info otherName ("Manufacturer:Product:SerialNumber"). */
export const DEFAULT_DEVICE_INFO = 'SPDMKIT:EMULATED-DEVICE:0000000001';

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A certificate together with the private key of its subject. */
export interface CertIdentity {
  readonly certificate: Uint8Array;
  readonly privateKey: KeyObject;
  /** Readable subject, as ParsedCertificate.subject. */
  readonly subject: string;
  /**
   * BaseAsymAlgo the key was made for. It decides how this identity signs certificates it issues
   * (RSAPSS ids sign with RSASSA-PSS); when absent the scheme follows the key type.
   */
  readonly asymId?: number;
}

export type SignatureHash = 'sha256' | 'sha384' | 'sha512';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign';

export interface LeafOptions {
  /** DMTF responder-auth EKU purpose (default true). */
  readonly responderAuthEku?: boolean;
  /** DMTF requester-auth EKU purpose (default false). */
  readonly requesterAuthEku?: boolean;
  /** DMTF device-info otherName; null omits it (default DEFAULT_DEVICE_INFO). */
  readonly dmtfDeviceInfo?: string | null;
  /** PCIe CMA otherName (2.23.147) value, e.g. "Vendor=8086:Device=0b25:CC=120000:REV=01". */
  readonly pcieCmaSan?: string;
  /** SPDM extension with id-DMTF-hardware-identity (DeviceCert model; default true like libspdm). */
  readonly hardwareIdentity?: boolean;
  readonly omitBasicConstraints?: boolean;
  readonly omitKeyUsage?: boolean;
  /** Replaces the default keyUsage bits. */
  readonly keyUsage?: readonly KeyUsageName[];
}

/** Fields every certificate builder accepts. */
export interface CommonCertOptions {
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Serial number magnitude, big-endian (default: 16 random bytes). */
  readonly serial?: Uint8Array;
  /** Reuse a key instead of generating one (RSA generation is slow). */
  readonly keyPair?: KeyPair;
  /** Digest for RSA/ECDSA signatures by this certificate's issuer (default from the issuer key). */
  readonly signatureHash?: SignatureHash;
  /**
   * Last-moment edit of the TBSCertificate before it is signed, for producing deliberately
   * non-conforming certificates in tests (v1, empty names, extra extensions...).
   */
  readonly customize?: (tbs: X509.TBSCertificate) => void;
}

export interface RootCaOptions extends CommonCertOptions {
  readonly asymId: number;
  readonly commonName: string;
  readonly pathLen?: number;
}

export interface CertificateOptions extends CommonCertOptions {
  readonly issuer: CertIdentity;
  readonly asymId: number;
  readonly commonName: string;
  readonly ca: boolean;
  readonly pathLen?: number;
  /** Extension profile of an end-entity certificate (ignored when `ca`). */
  readonly leaf?: LeafOptions;
}

export interface DeviceChainOptions {
  /** Algorithm of the intermediate and leaf keys (the negotiated BaseAsymAlgo). */
  readonly asymId: number;
  /** Existing root to issue under (e.g. one root for many devices); created when absent. */
  readonly root?: CertIdentity;
  /** Algorithm of a newly created root (default `asymId`). */
  readonly rootAsymId?: number;
  readonly names?: { readonly root?: string; readonly intermediate?: string; readonly leaf?: string };
  readonly leaf?: LeafOptions;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly keyPairs?: { readonly root?: KeyPair; readonly intermediate?: KeyPair; readonly leaf?: KeyPair };
}

export interface DeviceChain {
  readonly root: CertIdentity;
  readonly intermediate: CertIdentity;
  readonly leaf: CertIdentity;
  /** DER certificates root first, leaf last (the SPDM chain order). */
  readonly certificates: Uint8Array[];
}

function unsupported(asymId: number): never {
  throw new SpdmError(
    'UNSUPPORTED_ALGORITHM',
    `cannot generate keys for asymmetric algorithm 0x${asymId.toString(16)}`,
  );
}

/** A fresh key pair for a BaseAsymAlgo: plain RSA keys for RSASSA and RSAPSS, EC for ECDSA, EdDSA. */
export function generateKeyPair(asymId: number): KeyPair {
  const a = asymInfo(asymId);
  if (!a) unsupported(asymId);
  switch (a.kind) {
    case 'rsassa':
    case 'rsapss':
      return generateKeyPairSync('rsa', { modulusLength: a.rsaBits as number, publicExponent: 0x10001 });
    case 'ecdsa':
      return generateKeyPairSync('ec', { namedCurve: a.curve as string });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ed448':
      return generateKeyPairSync('ed448');
    default:
      return unsupported(asymId);
  }
}

// ---- Signing -------------------------------------------------------------------------------

/** How a key signs X.509 structures: the AlgorithmIdentifier it names and the signing itself. */
export interface Signer {
  readonly algorithm: X509.AlgorithmIdentifier;
  sign(tbs: Uint8Array): Uint8Array;
}

const HASH_ALGS = { sha256: sha256Alg, sha384: sha384Alg, sha512: sha512Alg } as const;
const HASH_SIZES = { sha256: 32, sha384: 48, sha512: 64 } as const;

function defaultHash(key: KeyObject): SignatureHash {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec')
    return d.namedCurve === 'secp521r1' ? 'sha512' : d.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  return (d.modulusLength ?? 0) >= 3072 ? 'sha384' : 'sha256';
}

/** The signer for a key (RSASSA, RSASSA-PSS when `asymId` says so, ECDSA, EdDSA); the hash follows the key unless given. */
export function signerFor(issuer: { privateKey: KeyObject; asymId?: number }, hashOverride?: SignatureHash): Signer {
  const key = issuer.privateKey;
  const type = key.asymmetricKeyType;
  const hash = hashOverride ?? defaultHash(key);
  const pss =
    type === 'rsa-pss' || (type === 'rsa' && issuer.asymId !== undefined && asymInfo(issuer.asymId)?.kind === 'rsapss');
  if (type === 'rsa' && !pss) {
    const oid = hash === 'sha256' ? OID_SHA256_WITH_RSA : hash === 'sha384' ? OID_SHA384_WITH_RSA : OID_SHA512_WITH_RSA;
    return {
      algorithm: new AlgorithmIdentifier({ algorithm: oid, parameters: null }),
      sign: (tbs) => new Uint8Array(sign(hash, tbs, { key, padding: constants.RSA_PKCS1_PADDING })),
    };
  }
  if (pss) {
    const saltLength = HASH_SIZES[hash];
    const hashAlg = HASH_ALGS[hash];
    const params = new RsaSaPssParams({
      hashAlgorithm: hashAlg,
      maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: OID_MGF1, parameters: AsnConvert.serialize(hashAlg) }),
      saltLength,
    });
    return {
      algorithm: new AlgorithmIdentifier({ algorithm: OID_RSASSA_PSS, parameters: AsnConvert.serialize(params) }),
      sign: (tbs) => new Uint8Array(sign(hash, tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })),
    };
  }
  if (type === 'ec') {
    const oid =
      hash === 'sha256' ? OID_ECDSA_WITH_SHA256 : hash === 'sha384' ? OID_ECDSA_WITH_SHA384 : OID_ECDSA_WITH_SHA512;
    return {
      algorithm: new AlgorithmIdentifier({ algorithm: oid }),
      // X.509 carries the DER Ecdsa-Sig-Value (node's default encoding).
      sign: (tbs) => new Uint8Array(sign(hash, tbs, { key, dsaEncoding: 'der' })),
    };
  }
  if (type === 'ed25519' || type === 'ed448') {
    return {
      algorithm: new AlgorithmIdentifier({ algorithm: type === 'ed25519' ? OID_ED25519 : OID_ED448 }),
      sign: (tbs) => new Uint8Array(sign(null, tbs, key)),
    };
  }
  throw new SpdmError('UNSUPPORTED_ALGORITHM', `cannot sign certificates with a ${type ?? 'unknown'} key`);
}

// ---- Building blocks -----------------------------------------------------------------------

function ab(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** DER INTEGER contents for a positive serial given as a big-endian magnitude. */
function serialInteger(serial: Uint8Array | undefined): ArrayBuffer {
  let mag: Uint8Array;
  if (serial === undefined) {
    mag = new Uint8Array(randomBytes(16));
    // Positive and minimal: top bit clear, first byte non-zero.
    mag[0] = (mag[0] as number) & 0x7f || 0x01;
  } else {
    let i = 0;
    while (i < serial.length - 1 && serial[i] === 0) i++;
    mag = serial.subarray(i);
    if (mag.length === 0 || (mag.length === 1 && mag[0] === 0))
      throw new SpdmError('ENCODE_ERROR', 'serial number must be positive');
    if (mag.length > 20) throw new SpdmError('ENCODE_ERROR', 'serial number longer than 20 octets (RFC 5280 4.1.2.2)');
  }
  const out = (mag[0] as number) & 0x80 ? Uint8Array.of(0, ...mag) : Uint8Array.from(mag);
  return ab(out);
}

function nameFromCommonName(commonName: string): X509.Name {
  if (commonName === '') return new Name([]);
  return new Name([
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: commonName }) }),
    ]),
  ]);
}

function extension(oid: string, critical: boolean, value: ArrayBuffer | Uint8Array): X509.Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(value) });
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value. */
function keyIdentifier(publicKey: KeyObject): Uint8Array {
  const spki = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

function validity(notBefore: Date | undefined, notAfter: Date | undefined): X509.Validity {
  const now = Math.floor(Date.now() / 1000) * 1000;
  const nb = notBefore ?? new Date(now - 24 * 3600 * 1000);
  let na = notAfter;
  if (na === undefined) {
    na = new Date(now);
    na.setUTCFullYear(na.getUTCFullYear() + 10);
  }
  if (na.getTime() < nb.getTime()) throw new SpdmError('ENCODE_ERROR', 'notAfter is before notBefore');
  return new Validity({ notBefore: nb, notAfter: na });
}

function caExtensions(
  subjectKeyId: Uint8Array,
  authorityKeyId: Uint8Array,
  pathLen: number | undefined,
): X509.Extension[] {
  const bc =
    pathLen === undefined
      ? new BasicConstraints({ cA: true })
      : new BasicConstraints({ cA: true, pathLenConstraint: pathLen });
  return [
    extension(OID_CE_BASIC_CONSTRAINTS, true, AsnConvert.serialize(bc)),
    extension(
      OID_CE_KEY_USAGE,
      true,
      AsnConvert.serialize(
        new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature),
      ),
    ),
    extension(OID_CE_SUBJECT_KEY_IDENTIFIER, false, AsnConvert.serialize(new SubjectKeyIdentifier(subjectKeyId))),
    extension(
      OID_CE_AUTHORITY_KEY_IDENTIFIER,
      false,
      AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(authorityKeyId) })),
    ),
  ];
}

const KEY_USAGE_FLAGS: Readonly<Record<KeyUsageName, number>> = {
  digitalSignature: KeyUsageFlags.digitalSignature,
  nonRepudiation: KeyUsageFlags.nonRepudiation,
  keyEncipherment: KeyUsageFlags.keyEncipherment,
  dataEncipherment: KeyUsageFlags.dataEncipherment,
  keyAgreement: KeyUsageFlags.keyAgreement,
  keyCertSign: KeyUsageFlags.keyCertSign,
  cRLSign: KeyUsageFlags.cRLSign,
};

function otherName(typeId: string, value: string): X509.GeneralName {
  return new GeneralName({ otherName: new OtherName({ typeId, value: ab(encodeUtf8String(value)) }) });
}

function leafExtensions(
  o: LeafOptions,
  publicKey: KeyObject,
  subjectKeyId: Uint8Array,
  authorityKeyId: Uint8Array,
): X509.Extension[] {
  const exts: X509.Extension[] = [];
  // libspdm sample leaf: basicConstraints = critical,CA:false (encodes as an empty SEQUENCE).
  if (!o.omitBasicConstraints)
    exts.push(extension(OID_CE_BASIC_CONSTRAINTS, true, AsnConvert.serialize(new BasicConstraints({ cA: false }))));
  if (!o.omitKeyUsage) {
    let flags = 0;
    if (o.keyUsage) {
      for (const k of o.keyUsage) flags |= KEY_USAGE_FLAGS[k];
    } else {
      // keyEncipherment/nonRepudiation as in libspdm's RSA sample; an EC or EdDSA key cannot encipher.
      flags =
        publicKey.asymmetricKeyType === 'rsa'
          ? KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation | KeyUsageFlags.keyEncipherment
          : KeyUsageFlags.digitalSignature;
    }
    exts.push(extension(OID_CE_KEY_USAGE, false, AsnConvert.serialize(new KeyUsage(flags))));
  }
  exts.push(
    extension(OID_CE_SUBJECT_KEY_IDENTIFIER, false, AsnConvert.serialize(new SubjectKeyIdentifier(subjectKeyId))),
  );
  const names: X509.GeneralName[] = [];
  const deviceInfo = o.dmtfDeviceInfo === undefined ? DEFAULT_DEVICE_INFO : o.dmtfDeviceInfo;
  if (deviceInfo !== null) names.push(otherName(OID_DMTF_DEVICE_INFO, deviceInfo));
  if (o.pcieCmaSan !== undefined) names.push(otherName(OID_PCIE_CMA, o.pcieCmaSan));
  if (names.length > 0)
    exts.push(extension(OID_CE_SUBJECT_ALT_NAME, false, AsnConvert.serialize(new SubjectAlternativeName(names))));
  const eku = [OID_KP_SERVER_AUTH, OID_KP_CLIENT_AUTH];
  if (o.responderAuthEku ?? true) eku.push(OID_DMTF_EKU_RESPONDER_AUTH);
  if (o.requesterAuthEku ?? false) eku.push(OID_DMTF_EKU_REQUESTER_AUTH);
  exts.push(extension(OID_CE_EXT_KEY_USAGE, true, AsnConvert.serialize(new ExtendedKeyUsage(eku))));
  if (o.hardwareIdentity ?? true) {
    exts.push(
      extension(OID_DMTF_SPDM_EXTENSION, false, encodeSequence(encodeSequence(encodeOid(OID_DMTF_HARDWARE_IDENTITY)))),
    );
  }
  exts.push(
    extension(
      OID_CE_AUTHORITY_KEY_IDENTIFIER,
      false,
      AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(authorityKeyId) })),
    ),
  );
  return exts;
}

interface BuildInput {
  readonly subject: X509.Name;
  readonly issuerName: X509.Name;
  readonly issuerNameDer?: Uint8Array;
  readonly publicKey: KeyObject;
  readonly signer: Signer;
  readonly extensions: X509.Extension[];
  readonly opts: CommonCertOptions;
}

interface Built {
  readonly der: Uint8Array;
  /** Readable subject, taken from the TBS actually signed (after `customize`). */
  readonly subject: string;
}

function build(b: BuildInput): Built {
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialInteger(b.opts.serial),
    signature: b.signer.algorithm,
    issuer: b.issuerName,
    validity: validity(b.opts.notBefore, b.opts.notAfter),
    subject: b.subject,
    subjectPublicKeyInfo: AsnConvert.parse(b.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
    extensions: new Extensions(b.extensions),
  });
  b.opts.customize?.(tbs);
  if (tbs.extensions !== undefined && tbs.extensions.length === 0) delete tbs.extensions;
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  if (
    b.issuerNameDer &&
    !equalBytes(new Uint8Array(AsnConvert.serialize(tbs.issuer)), b.issuerNameDer) &&
    !b.opts.customize
  ) {
    // Chain linking compares Name DER byte for byte; a re-encoding that differs would break it.
    throw new SpdmError('ENCODE_ERROR', 'issuer Name does not re-encode to the issuer certificate subject bytes');
  }
  const signature = b.signer.sign(tbsDer);
  // Assemble Certificate by hand so the signed TBS bytes are exactly the ones embedded.
  const algDer = new Uint8Array(AsnConvert.serialize(tbs.signature));
  const der = encodeSequence(tbsDer, algDer, encodeTlv(Tag.BIT_STRING, Uint8Array.of(0), signature));
  // Not parseCertificate(der): a deliberately broken test certificate must still be returned.
  return { der, subject: formatName(new Uint8Array(AsnConvert.serialize(tbs.subject))) };
}

// ---- Public builders -----------------------------------------------------------------------

/** A self-signed root CA (basicConstraints critical CA:TRUE, keyUsage keyCertSign/cRLSign). */
export function createRootCa(opts: RootCaOptions): CertIdentity {
  const kp = opts.keyPair ?? generateKeyPair(opts.asymId);
  const name = nameFromCommonName(opts.commonName);
  const ski = keyIdentifier(kp.publicKey);
  const { der, subject } = build({
    subject: name,
    issuerName: name,
    publicKey: kp.publicKey,
    signer: signerFor({ privateKey: kp.privateKey, asymId: opts.asymId }, opts.signatureHash),
    extensions: caExtensions(ski, ski, opts.pathLen),
    opts,
  });
  return { certificate: der, privateKey: kp.privateKey, subject, asymId: opts.asymId };
}

/** A certificate issued (and signed) by `opts.issuer`: an intermediate CA or an SPDM leaf. */
export function createCertificate(opts: CertificateOptions): CertIdentity {
  const kp = opts.keyPair ?? generateKeyPair(opts.asymId);
  const issuerCert: ParsedCertificate = parseCertificate(opts.issuer.certificate);
  const issuerName = AsnConvert.parse(issuerCert.subjectDer, Name);
  const ski = keyIdentifier(kp.publicKey);
  const aki = issuerCert.subjectKeyIdentifier ?? keyIdentifier(issuerCert.publicKey);
  const extensions = opts.ca
    ? caExtensions(ski, aki, opts.pathLen)
    : leafExtensions(opts.leaf ?? {}, kp.publicKey, ski, aki);
  const { der, subject } = build({
    subject: nameFromCommonName(opts.commonName),
    issuerName,
    issuerNameDer: issuerCert.subjectDer,
    publicKey: kp.publicKey,
    signer: signerFor(opts.issuer, opts.signatureHash),
    extensions,
    opts,
  });
  return { certificate: der, privateKey: kp.privateKey, subject, asymId: opts.asymId };
}

/** Root → intermediate CA → device leaf, the shape libspdm's sample chains have. */
export function createDeviceChain(opts: DeviceChainOptions): DeviceChain {
  const names = opts.names ?? {};
  const a = asymInfo(opts.asymId);
  const label = a?.name ?? `0x${opts.asymId.toString(16)}`;
  const validityOpts = {
    ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
    ...(opts.notAfter ? { notAfter: opts.notAfter } : {}),
  };
  const root =
    opts.root ??
    createRootCa({
      asymId: opts.rootAsymId ?? opts.asymId,
      commonName: names.root ?? `spdmkit ${label} root CA`,
      ...validityOpts,
      ...(opts.keyPairs?.root ? { keyPair: opts.keyPairs.root } : {}),
    });
  const intermediate = createCertificate({
    issuer: root,
    asymId: opts.asymId,
    commonName: names.intermediate ?? `spdmkit ${label} intermediate CA`,
    ca: true,
    ...validityOpts,
    ...(opts.keyPairs?.intermediate ? { keyPair: opts.keyPairs.intermediate } : {}),
  });
  const leaf = createCertificate({
    issuer: intermediate,
    asymId: opts.asymId,
    commonName: names.leaf ?? `spdmkit ${label} device`,
    ca: false,
    leaf: opts.leaf ?? {},
    ...validityOpts,
    ...(opts.keyPairs?.leaf ? { keyPair: opts.keyPairs.leaf } : {}),
  });
  return { root, intermediate, leaf, certificates: [root.certificate, intermediate.certificate, leaf.certificate] };
}

/** The public key of an identity (derived from its private key). */
export function identityPublicKey(id: Pick<CertIdentity, 'privateKey'>): KeyObject {
  return createPublicKey(id.privateKey);
}
