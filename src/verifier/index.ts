/** Verifier layer: trust store, deny-list, policy, reference values, verdicts, acceptance records, EAT Attestation Results (EAR). */
export { verify, verifyAsync, type VerifyOptions } from './verify.js';
export {
  VerdictBuilder,
  formatVerdict,
  type Verdict,
  type Reason,
  type ReasonCode,
  type Check,
  type RuleMode,
} from './verdict.js';
export {
  TrustStore,
  loadTrustAnchors,
  type TrustSource,
  type TrustStoreOptions,
  type ReloadResult,
} from './trust-store.js';
export {
  DenyList,
  loadDenyList,
  normalizeSerial,
  normalizeName,
  type DenyMatch,
  type IssuerSerial,
} from './deny-list.js';
export { loadCertificates, certificatesInBytes, TrustSourceError } from './cert-files.js';
export {
  compilePolicy,
  effectivePolicy,
  matchDevice,
  policyValidator,
  DEFAULT_POLICY,
  DEFAULT_RULES,
  DEFAULT_EVIDENCE_REQUIREMENTS,
  RULE_NAMES,
  PolicyError,
  type Policy,
  type DevicePolicy,
  type DeviceMatch,
  type PciMatch,
  type Rules,
  type RuleName,
  type EvidenceRequirements,
} from './policy.js';
export { parsePolicyText, loadPolicyFile, type PolicyFormat, type ParsePolicyOptions } from './policy-loader.js';
export { POLICY_SCHEMA, POLICY_SCHEMA_ID } from './policy-schema.js';
export { EVIDENCE_SCHEMA, EVIDENCE_SCHEMA_ID } from './evidence-schema.js';
export { SchemaValidator, type JsonSchema, type SchemaIssue } from './schema.js';
export { checkReferenceValues, readSvn, DMTF_TYPE_SVN } from './reference-values.js';
export { cmaSanString, checkCmaSan, type CmaSanResult } from './cma-san.js';
export { parseEvidence, EVIDENCE_LIMITS, type EvidenceInput } from './evidence-input.js';
export {
  analyseSignatures,
  provesKeyPossession,
  reconcileMeasurements,
  type SignedView,
  type SignedBlock,
  type SignedNegotiation,
  type EffectiveMeasurement,
} from './signed.js';
export {
  acceptanceRecord,
  sameDevice,
  ACCEPTANCE_FORMAT,
  type AcceptanceRecord,
  type AcceptedSlot,
  type AcceptedMeasurement,
  type SameDeviceResult,
  type Change,
  type ChangeCode,
} from './acceptance.js';
export {
  importCorim,
  type CorimImport,
  type CorimImportOptions,
  type CorimDeviceEntry,
  type CorimEnvironment,
} from './corim.js';
export {
  earClaims,
  signEar,
  verifyEar,
  earJwks,
  earPublicJwk,
  earPrivateKey,
  earAlgorithm,
  generateEarKey,
  trustworthinessVector,
  verdictTier,
  trustTierOf,
  measurementCategory,
  EAR_PROFILE,
  EAR_JWT_TYPE,
  EAR_DEVELOPER,
  EAR_ALGORITHMS,
  DEFAULT_POLICY_ID,
  REASON_CLAIMS,
  TRUSTWORTHINESS_CLAIMS,
  AR4SI,
  SPDMKIT_VERSION,
  type EarClaims,
  type EarAppraisal,
  type EarOptions,
  type EarVerifierId,
  type EarAlgorithm,
  type TrustTier,
  type TrustworthinessClaim,
  type TrustworthinessVector,
  type VerifyEarOptions,
} from './ear.js';
