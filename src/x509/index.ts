/** X.509 layer: SPDM certificate chain structure, certificate parsing, chain validation, trust, generation. */
export { splitDerCertificates } from './der.js';
export {
  encodeSpdmCertChain,
  decodeSpdmCertChain,
  SPDM_CERT_CHAIN_HEADER_SIZE,
  SPDM_MAX_CERT_CHAIN_SIZE_V13,
  type SpdmCertChain,
} from './spdm-chain.js';
export { chainForSlot, type SlotChain, type SlotChainOptions } from './slot-chain.js';
/** PKCS#10 requests (GET_CSR): built over a key, parsed, their signature checked. */
export {
  buildCsr,
  checkCsrSignature,
  commonNameSubject,
  parseCsr,
  parseRequesterInfo,
  type CsrOptions,
  type ParsedCsr,
} from './csr.js';
export {
  parseCertificate,
  isEmptyName,
  formatName,
  type ParsedCertificate,
  type BasicConstraintsInfo,
  type KeyUsageInfo,
  type OtherNameInfo,
  type ExtensionInfo,
} from './certificate.js';
export * from './oids.js';
export { verifyCertSignature, signatureScheme, type SignatureScheme } from './signature.js';
export {
  validateCertChain,
  validateSpdmChain,
  chainsToRoot,
  CertModel,
  type ChainProblemCode,
  type ChainProblem,
  type ChainReport,
  type ChainValidationOptions,
  type SpdmChainValidation,
  type TrustOptions,
  type TrustResult,
} from './chain.js';
export {
  generateKeyPair,
  createRootCa,
  createCertificate,
  createDeviceChain,
  identityPublicKey,
  DEFAULT_DEVICE_INFO,
  type KeyPair,
  type CertIdentity,
  type LeafOptions,
  type KeyUsageName,
  type SignatureHash,
  type CommonCertOptions,
  type RootCaOptions,
  type CertificateOptions,
  type DeviceChainOptions,
  type DeviceChain,
} from './generate.js';
export * from './cache.js';
