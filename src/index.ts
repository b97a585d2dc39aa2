/**
 * spdmkit: the front door. A hand-picked set of names for the common job — talk SPDM to a device
 * over a transport, keep what it signed as Evidence, check that evidence again and judge it
 * against a trust store and a policy. Everything else has its own subpath, so that importing the
 * root stays small and loads no native module:
 *
 *   spdmkit/codecs    wire readers/writers and every SPDM, MCTP, DOE, TCP-binding and emulator frame codec
 *   spdmkit/crypto    SPDM hash, signature, key-schedule primitives
 *   spdmkit/x509      SPDM certificate chains: parse, validate, generate
 *   spdmkit/emulator  the device emulator (Responder, profiles) and its socket server
 *   spdmkit/capture   pcap reading, capture dumps, signature findings
 *   spdmkit/pci       config space, DOE mailbox, sysfs access, PCI identity
 *   spdmkit/session   secured-session key schedule and record layer
 *   spdmkit/verifier  the whole verifier layer (schemas, reference values, CoRIM, CMA SAN, …)
 *   spdmkit/log       the signature log (SQLite and PostgreSQL drivers load when a log is opened)
 */

// Talking to a device.
/** The SPDM requester: connects, negotiates, authenticates, measures. */
export {
  Requester,
  type Connection,
  type AuthenticateOptions,
  type MeasurementRequestOptions,
  type CsrRequestOptions,
  type CsrResult,
  type SetCertificateOptions,
  type KeyPairInfo,
  type SetKeyPairInfoOptions,
  type EndpointInfoOptions,
  type EndpointInfoResult,
  type MelResult,
} from './requester/requester.js';
/** Requester options and the defaults it negotiates with. */
export { DEFAULT_BASE_ASYM, DEFAULT_BASE_HASH, ST1_MS, type RequesterOptions } from './requester/options.js';

// Transports: what carries SPDM messages to a device.
/** The interface every transport implements, and the handler side a responder implements. */
export type { Transport, ExchangeOptions, SpdmHandler } from './transport/transport.js';
/** The clock transports and the requester take their time from (the library never reads it itself). */
export { systemClock, type Clock } from './transport/clock.js';
/** In-process transport to a handler (an emulated device, a test double). */
export { LoopbackTransport } from './transport/loopback.js';
/** TCP transport to the DMTF spdm-emu socket protocol (MCTP or PCI DOE framing). */
export { EmuSocketTransport, type EmuClientOptions } from './transport/emu-socket.js';
/** PCIe DOE mailbox transport (CMA-SPDM), over a config-space accessor or Linux sysfs. */
export {
  DoeTransport,
  openDoeTransport,
  type DoeTransportOptions,
  type OpenDoeTransportOptions,
} from './pci/doe-transport.js';
export { openSysfsDoeTransport, type SysfsDoeTransportOptions } from './pci/sysfs-doe.js';

// Evidence and checking it again.
/** What a device signed, with everything needed to check it offline. */
export {
  EVIDENCE_FORMAT,
  type Evidence,
  type CertificateSummary,
  type ChainProblemEvidence,
  type SlotEvidence,
  type SignedMessageKind,
  type SignatureEvidence,
  type SessionSignatureEvidence,
  type EndpointInfoSignatureEvidence,
  type MeasurementEvidence,
  type PciIdentity,
} from './evidence/evidence.js';
/** What each signed message kind is: its codes, signing context, session rule, proof of key possession. */
export {
  SIGNED_KINDS,
  SIGNED_MESSAGE_KINDS,
  isSignedMessageKind,
  signingContextOf,
  type SignedKindRule,
} from './evidence/signed-kinds.js';
/** Re-checks every signature in an Evidence from its stored bytes. */
export { reverifySignatures, reverifySignature, type SignatureCheck } from './evidence/reverify.js';

// Judging evidence.
/** Evidence + trust store + policy → a verdict with reasons. */
export { verify, type VerifyOptions } from './verifier/verify.js';
export {
  formatVerdict,
  type Verdict,
  type Reason,
  type ReasonCode,
  type Check,
  type RuleMode,
} from './verifier/verdict.js';
/** Trust anchors and revoked certificates. */
export {
  TrustStore,
  loadTrustAnchors,
  type TrustSource,
  type TrustStoreOptions,
  type ReloadResult,
} from './verifier/trust-store.js';
export { DenyList, loadDenyList, type DenyMatch, type IssuerSerial } from './verifier/deny-list.js';
/** Policies: what a device must show to pass. */
export {
  compilePolicy,
  effectivePolicy,
  DEFAULT_POLICY,
  DEFAULT_RULES,
  DEFAULT_EVIDENCE_REQUIREMENTS,
  RULE_NAMES,
  type Policy,
  type DevicePolicy,
  type DeviceMatch,
  type PciMatch,
  type Rules,
  type RuleName,
  type EvidenceRequirements,
} from './verifier/policy.js';
export {
  parsePolicyText,
  loadPolicyFile,
  type PolicyFormat,
  type ParsePolicyOptions,
} from './verifier/policy-loader.js';
/** Evidence documents as read from JSON (`spdm authenticate --json`). */
export { parseEvidence, EVIDENCE_LIMITS, type EvidenceInput } from './verifier/evidence-input.js';
/** Acceptance records, and whether a device is the one accepted before. */
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
} from './verifier/acceptance.js';

// Errors: every failure is an SpdmError with a stable code.
export { SpdmError, DecodeError, type SpdmErrorCode } from './wire/errors.js';
export { LimitError, LIMITS, type LimitName } from './wire/limits.js';
export { PolicyError } from './verifier/policy.js';
export { TrustSourceError } from './verifier/cert-files.js';
export { DoeMailboxError } from './pci/doe-mailbox.js';
