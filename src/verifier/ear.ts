/**
 * The verdict as an IETF RATS EAT Attestation Result (EAR, draft-ietf-rats-ear-04): a signed JWT a
 * relying party can act on without reading SPDM evidence. The claims and their names are the
 * draft's (Figure 1 and 2 there); the trustworthiness vector's categories and codes are AR4SI's
 * (draft-ietf-rats-ar4si-09, section 2.3.4). How each verdict reason becomes a vector entry is
 * the table REASON_CLAIMS below, published in docs/ear.md as the draft asks a verifier to do.
 *
 * One submod per EAR: the device the evidence is of, named by its PCIe CMA identity string, else
 * the device name the requester recorded. Its `eat_nonce` is the requester nonce the device signed
 * (evidence freshness); the top-level `eat_nonce` echoes the nonce the caller challenged with
 * (the `expectedNonce` the verdict was checked against), as the draft separates the two.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  jwtVerify,
  errors as joseErrors,
  type JWK,
  type JSONWebKeySet,
} from 'jose';
import { LIMITS } from '../wire/limits.js';
import { SpdmError } from '../wire/errors.js';
import { fromHex } from '../wire/bytes.js';
import { DmtfMeasurementType } from '../spdm/messages/measurement-block.js';
import { cmaSanString } from './cma-san.js';
import { parseEvidence } from './evidence-input.js';
import type { Policy } from './policy.js';
import { analyseSignatures, provesKeyPossession } from './signed.js';
import type { Reason, ReasonCode, Verdict } from './verdict.js';

/** The `eat_profile` draft-ietf-rats-ear-04 requires (section 3). */
export const EAR_PROFILE = 'tag:ietf.org,2026:rats/ear#04';
/**
 * The JWS `typ`: EAR section 5 derives EAR's media types from EAT's (RFC 9782), whose JWT form is
 * application/eat+jwt; RFC 7515 section 4.1.9 drops the "application/" prefix.
 */
export const EAR_JWT_TYPE = 'eat+jwt';
/** Who built the verifier, for `ear_verifier_id.developer` when the caller names no one else. */
export const EAR_DEVELOPER = 'spdmkit';
/** The `ear_appraisal_policy_ids` entry for verify()'s built-in policy (no policy file). */
export const DEFAULT_POLICY_ID = 'spdmkit:default-policy';

/** AR4SI trustworthiness tiers (ar4si section 2.3.2), the values of `ear_status`. */
export type TrustTier = 'affirming' | 'warning' | 'contraindicated' | 'none';

/** The eight AR4SI trustworthiness claims, by their JSON labels. */
export const TRUSTWORTHINESS_CLAIMS = [
  'instance-identity',
  'configuration',
  'executables',
  'file-system',
  'hardware',
  'runtime-opaque',
  'storage-opaque',
  'sourced-data',
] as const;
export type TrustworthinessClaim = (typeof TRUSTWORTHINESS_CLAIMS)[number];
/** Claim → AR4SI value in -128..127; only the claims the verifier appraised are present. */
export type TrustworthinessVector = Partial<Record<TrustworthinessClaim, number>>;

/**
 * AR4SI values the mapping uses (ar4si section 2.3.4). 99 ("cryptographic validation of the
 * Evidence has failed") exists in every category; -33 is ours, in the non-standard warning range
 * -33..-96, for instance-identity, which has no standard warning value.
 */
export const AR4SI = {
  /** Evidence contains unknown elements which inhibit evaluation (every category). */
  UNKNOWN_ELEMENTS: 1,
  /** instance-identity: recognized, not known to be compromised; hardware: genuine; executables/configuration: approved. */
  AFFIRMING: 2,
  /** configuration: known vulnerabilities. hardware: genuine, known vulnerabilities. */
  KNOWN_VULNERABILITIES: 32,
  /** configuration: elements relevant to security are unavailable to the verifier. */
  CONFIG_UNAVAILABLE: 36,
  /** instance-identity: recognized but untrustworthy key; executables: contraindicated; configuration: unsupportable; hardware: contraindicated. */
  CONTRAINDICATED: 96,
  /** instance-identity / hardware: not recognized, though the verifier believes it should be. */
  UNRECOGNIZED: 97,
  /** Cryptographic validation of the evidence failed. */
  CRYPTO_FAILED: 99,
  /** spdmkit (non-standard warning): a certificate rule set to `warn` found a problem. */
  IDENTITY_WARNED: -33,
} as const;

/** The tier an AR4SI value falls in (ar4si section 2.3.3). */
export function trustTierOf(value: number): TrustTier {
  if (value >= 96 || value <= -97) return 'contraindicated';
  if (value >= 32 || value <= -33) return 'warning';
  if (value >= 2 || value <= -2) return 'affirming';
  return 'none';
}

const TIER_RANK: Readonly<Record<TrustTier, number>> = { none: 0, affirming: 1, warning: 2, contraindicated: 3 };

/**
 * Which value wins when two findings land in one category, after ar4si section 2.3.3's order:
 * contraindicated before warning before affirming before none, a standard value before a
 * non-standard one of its tier.
 */
function rank(value: number): number {
  return TIER_RANK[trustTierOf(value)] * 2 + (value >= 0 ? 1 : 0);
}

/** Where a reason goes: a category, or the category of the measurement it names. */
type Target = TrustworthinessClaim | 'measurement';

interface ReasonClaim {
  readonly claims: readonly Target[];
  /** The value under a `required` rule (the reason made the device untrusted). */
  readonly value: number;
  /** The value when a `warn` rule reported it (only the certificate rules can be set to warn). */
  readonly warned?: number;
}

const identity = (value: number): ReasonClaim => ({
  claims: ['instance-identity'],
  value,
  warned: AR4SI.IDENTITY_WARNED,
});

/**
 * Verdict reason → trustworthiness claims. docs/ear.md is this table in prose; a change here
 * changes what relying parties read, so change both.
 */
export const REASON_CLAIMS: Readonly<Record<ReasonCode, ReasonClaim>> = {
  // The evidence cannot be (fully) read: every category this verifier appraises.
  MALFORMED_EVIDENCE: {
    claims: ['instance-identity', 'hardware', 'executables', 'configuration'],
    value: AR4SI.UNKNOWN_ELEMENTS,
  },
  // Identity: the chain or key does not lead to what the verifier trusts.
  CHAIN_UNTRUSTED: identity(AR4SI.UNRECOGNIZED),
  PUBLIC_KEY_UNTRUSTED: identity(AR4SI.UNRECOGNIZED),
  // A chain whose links or root hash do not verify.
  CHAIN_INVALID: identity(AR4SI.CRYPTO_FAILED),
  // Certificates that break DSP0274/PCIe rules, are out of date or revoked: a known but untrustworthy identity.
  CERT_INVALID: identity(AR4SI.CONTRAINDICATED),
  CERT_DENIED: identity(AR4SI.CONTRAINDICATED),
  CERT_EXPIRED: identity(AR4SI.CONTRAINDICATED),
  CERT_NOT_YET_VALID: identity(AR4SI.CONTRAINDICATED),
  KEY_USAGE: identity(AR4SI.CONTRAINDICATED),
  EKU: identity(AR4SI.CONTRAINDICATED),
  HARDWARE_IDENTITY: identity(AR4SI.CONTRAINDICATED),
  // The leaf does not name the PCI function the device is: not recognized as that device.
  SAN_MISSING: identity(AR4SI.UNRECOGNIZED),
  SAN_MISMATCH: identity(AR4SI.UNRECOGNIZED),
  PCI_IDENTITY_MISSING: identity(AR4SI.UNRECOGNIZED),
  // A signature that does not verify, or evidence altered after signing: identity and hardware unproven.
  SIGNATURE_INVALID: { claims: ['instance-identity', 'hardware'], value: AR4SI.CRYPTO_FAILED },
  // No proof of key possession at all.
  SIGNATURE_MISSING: { claims: ['instance-identity'], value: AR4SI.UNRECOGNIZED },
  // Freshness has no AR4SI category: the signatures do not bind this challenge, so the identity proof fails.
  NONCE_MISMATCH: { claims: ['instance-identity'], value: AR4SI.CRYPTO_FAILED },
  STALE_EVIDENCE: { claims: ['instance-identity'], value: AR4SI.CRYPTO_FAILED },
  // The negotiated protocol is a configuration the policy does not support.
  VERSION_TOO_OLD: { claims: ['configuration'], value: AR4SI.CONTRAINDICATED },
  // No device entry: hardware the verifier should, but does not, recognize.
  NO_POLICY_FOR_DEVICE: { claims: ['hardware'], value: AR4SI.UNRECOGNIZED },
  // Measurements: executables or configuration by the DMTF type of the block (MEASUREMENT_CATEGORY).
  MEASUREMENT_MISMATCH: { claims: ['measurement'], value: AR4SI.CONTRAINDICATED },
  MEASUREMENT_UNEXPECTED: { claims: ['measurement'], value: AR4SI.CONTRAINDICATED },
  MEASUREMENT_UNSIGNED: { claims: ['measurement'], value: AR4SI.CRYPTO_FAILED },
  MEASUREMENT_MISSING: { claims: ['configuration'], value: AR4SI.CONFIG_UNAVAILABLE },
  SVN_TOO_LOW: { claims: ['executables'], value: AR4SI.CONTRAINDICATED },
  SVN_UNREADABLE: { claims: ['executables'], value: AR4SI.UNKNOWN_ELEMENTS },
};

/**
 * DMTF measurement value type (DSP0274 table "DMTF measurement specification format") → the AR4SI
 * category it is evidence for: code and its version are executables, hardware/firmware settings
 * and modes configuration. A block without a DMTF type counts as executables.
 */
export function measurementCategory(type: number | undefined): 'executables' | 'configuration' {
  switch (type) {
    case DmtfMeasurementType.HARDWARE_CONFIG:
    case DmtfMeasurementType.FIRMWARE_CONFIG:
    case DmtfMeasurementType.DEVICE_MODE:
    case DmtfMeasurementType.INFORMATIONAL:
      return 'configuration';
    default:
      return 'executables';
  }
}

export interface EarVerifierId {
  readonly developer: string;
  readonly build: string;
}

/** One EAR-appraisal (draft section 3.1). */
export interface EarAppraisal {
  readonly ear_status: TrustTier;
  readonly ear_trustworthiness_vector: TrustworthinessVector;
  readonly ear_appraisal_policy_ids: readonly string[];
  /** The requester nonce the evidence's signatures are over, base64url. */
  readonly eat_nonce?: string;
}

/** The EAR claims-set (draft section 3), JSON labels. */
export interface EarClaims {
  readonly eat_profile: typeof EAR_PROFILE;
  readonly iat: number;
  readonly exp?: number;
  readonly ear_status: TrustTier;
  readonly ear_verifier_id: EarVerifierId;
  readonly submods: Readonly<Record<string, EarAppraisal>>;
  /** The caller's challenge nonce, echoed, base64url. */
  readonly eat_nonce?: string;
}

export interface EarOptions {
  /** The evidence the verdict is about (anything verify() took): names the submod, gives the signed nonce and measurement types. */
  readonly evidence?: unknown;
  /** The policy verify() applied: its device entry tells which measurement categories were compared. */
  readonly policy?: Policy;
  /** `ear_appraisal_policy_ids`; default: `sha256:<digest>` of the policy file, else its source, else DEFAULT_POLICY_ID. */
  readonly policyIds?: readonly string[];
  readonly verifierId?: EarVerifierId;
  /** When the EAR is issued (default: now). */
  readonly issuedAt?: Date;
  /** Seconds the EAR stays valid (sets `exp`); none by default. */
  readonly validForSeconds?: number;
  /** The nonce the caller challenged with (32 bytes, hex or bytes), echoed as the top-level `eat_nonce`. */
  readonly nonce?: string | Uint8Array;
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function nonceBytes(n: string | Uint8Array): Uint8Array {
  if (typeof n !== 'string') return n;
  const hex = n.trim().toLowerCase().replace(/^0x/, '');
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) throw new TypeError('nonce: not hex');
  return fromHex(hex);
}

/** EAT nonces are 8 to 64 bytes (RFC 9711 section 4.1); SPDM's are 32. */
function eatNonce(n: string | Uint8Array): string {
  const b = nonceBytes(n);
  if (b.length < 8 || b.length > 64) throw new TypeError(`nonce: ${b.length} bytes, EAT allows 8 to 64`);
  return base64url(b);
}

/** This package's version, for `ear_verifier_id.build`; test/verifier/ear.test.ts keeps it equal to package.json's. */
export const SPDMKIT_VERSION = '0.1.0';

interface EvidenceFacts {
  readonly name: string;
  readonly signedNonce?: string;
  readonly measurementTypes: ReadonlyMap<number, number | undefined>;
}

function evidenceFacts(input: unknown): EvidenceFacts {
  const parsed = input === undefined ? undefined : parseEvidence(input).evidence;
  if (!parsed) return { name: 'device', measurementTypes: new Map() };
  const name = parsed.pci
    ? cmaSanString(parsed.pci)
    : parsed.device !== undefined && parsed.device !== ''
      ? parsed.device
      : 'device';
  const views = analyseSignatures(parsed);
  // Only what the device signed: the nonce of the signatures that prove key possession, when they agree.
  const nonces = new Set(views.filter(provesKeyPossession).map((v) => v.requesterNonce as string));
  // A block's type only picks executables or configuration; the signed block's type overrides the
  // evidence list's, which is all an unsigned (MEASUREMENT_UNSIGNED, contraindicated either way) one has.
  const types = new Map<number, number | undefined>();
  for (const m of parsed.measurements) types.set(m.index, m.type);
  for (const v of views) if (v.valid && v.kind === 'MEASUREMENTS') for (const b of v.blocks) types.set(b.index, b.type);
  const [only] = nonces;
  return {
    name,
    ...(nonces.size === 1 && only !== undefined && /^[0-9a-f]{16,128}$/.test(only) ? { signedNonce: only } : {}),
    measurementTypes: types,
  };
}

/**
 * The trust tier of a verdict: trusted → affirming, trusted with warnings → warning, untrusted →
 * contraindicated, and none when nothing could be appraised (every reason is MALFORMED_EVIDENCE).
 */
export function verdictTier(v: Verdict): TrustTier {
  if (v.status === 'trusted') return v.warnings.length > 0 ? 'warning' : 'affirming';
  return v.reasons.every((r) => r.code === 'MALFORMED_EVIDENCE') ? 'none' : 'contraindicated';
}

function targetsOf(r: Reason, facts: EvidenceFacts): TrustworthinessClaim[] {
  const m = REASON_CLAIMS[r.code];
  return m.claims.map((c) => {
    if (c !== 'measurement') return c;
    const index = r['index'];
    return measurementCategory(typeof index === 'number' ? facts.measurementTypes.get(index) : undefined);
  });
}

/** The vector: reasons and warnings by REASON_CLAIMS, passed checks as affirming values. */
export function trustworthinessVector(
  v: Verdict,
  o: Pick<EarOptions, 'evidence' | 'policy'> = {},
): TrustworthinessVector {
  const facts = evidenceFacts(o.evidence);
  return vectorOf(v, facts, o.policy);
}

function vectorOf(v: Verdict, facts: EvidenceFacts, policy: Policy | undefined): TrustworthinessVector {
  const out: Partial<Record<TrustworthinessClaim, number>> = {};
  const put = (claim: TrustworthinessClaim, value: number): void => {
    const cur = out[claim];
    if (cur === undefined || rank(value) > rank(cur)) out[claim] = value;
  };
  for (const r of v.reasons) for (const c of targetsOf(r, facts)) put(c, REASON_CLAIMS[r.code].value);
  for (const w of v.warnings) {
    const m = REASON_CLAIMS[w.code];
    for (const c of targetsOf(w, facts)) put(c, m.warned ?? m.value);
  }
  // Affirming values only where the verifier checked and nothing in the category failed.
  const passed = new Set(v.checks.map((c) => c.code));
  const affirm = (claim: TrustworthinessClaim): void => {
    if (out[claim] === undefined) out[claim] = AR4SI.AFFIRMING;
  };
  const identityOk =
    (passed.has('CHAIN_TRUSTED') || passed.has('PUBLIC_KEY_TRUSTED')) && passed.has('SIGNATURES_VALID');
  if (identityOk) affirm('instance-identity');
  // Genuine hardware is what a chain to the vendor's root shows; a provisioned key alone does not.
  if (passed.has('CHAIN_TRUSTED') && passed.has('SIGNATURES_VALID')) affirm('hardware');
  if (passed.has('MEASUREMENTS_MATCH')) {
    const device = policy?.devices.find((d) => d.name === v.devicePolicy);
    for (const index of device?.referenceValues.keys() ?? [])
      affirm(measurementCategory(facts.measurementTypes.get(index)));
  }
  // The vector must not be empty (ar4si section 3.1): an appraisal with no claim says "no assertion".
  if (Object.keys(out).length === 0) out['instance-identity'] = 0;
  // Fixed key order, so two EARs of one verdict are byte-identical.
  const ordered: Partial<Record<TrustworthinessClaim, number>> = {};
  for (const c of TRUSTWORTHINESS_CLAIMS) if (out[c] !== undefined) ordered[c] = out[c];
  return ordered;
}

function defaultPolicyIds(policy: Policy | undefined): string[] {
  if (!policy) return [DEFAULT_POLICY_ID];
  if (policy.sha256 !== undefined) return [`sha256:${policy.sha256}`];
  return [policy.source ?? 'policy'];
}

/**
 * The EAR claims-set for `verdict`.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { earClaims, earJwks, earPrivateKey, signEar, verify, verifyEar } from 'spdmkit/verifier';
 *
 * const verdict = verify(evidence, policy, trust, { expectedNonce: nonce });
 * const claims = earClaims(verdict, { evidence, policy, nonce });
 * const key = earPrivateKey(readFileSync('verifier.key')); // P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA
 * const jwt = await signEar(claims, key);
 * const jwks = await earJwks(key); // publish this: relying parties verify with it
 * const checked = await verifyEar(jwt, jwks, { nonce }); // what a relying party runs
 * ```
 */
export function earClaims(verdict: Verdict, o: EarOptions = {}): EarClaims {
  const facts = evidenceFacts(o.evidence);
  const tier = verdictTier(verdict);
  const ids = o.policyIds ?? defaultPolicyIds(o.policy);
  if (ids.length === 0) throw new TypeError('policyIds: the draft does not allow an empty list');
  const iat = Math.floor((o.issuedAt ?? new Date()).getTime() / 1000);
  if (o.validForSeconds !== undefined && !(Number.isInteger(o.validForSeconds) && o.validForSeconds > 0))
    throw new TypeError('validForSeconds: a positive integer');
  const appraisal: EarAppraisal = {
    ear_status: tier,
    ear_trustworthiness_vector: vectorOf(verdict, facts, o.policy),
    ear_appraisal_policy_ids: [...ids],
    ...(facts.signedNonce !== undefined ? { eat_nonce: base64url(fromHex(facts.signedNonce)) } : {}),
  };
  return {
    eat_profile: EAR_PROFILE,
    iat,
    ...(o.validForSeconds !== undefined ? { exp: iat + o.validForSeconds } : {}),
    ear_status: tier,
    ear_verifier_id: o.verifierId ?? { developer: EAR_DEVELOPER, build: `spdmkit ${SPDMKIT_VERSION}` },
    submods: { [facts.name]: appraisal },
    ...(o.nonce !== undefined ? { eat_nonce: eatNonce(o.nonce) } : {}),
  };
}

// ── Keys ─────────────────────────────────────────────────────────────────────────────────────

export type EarAlgorithm = 'ES256' | 'ES384' | 'EdDSA';
export const EAR_ALGORITHMS: readonly EarAlgorithm[] = ['ES256', 'ES384', 'EdDSA'];

/** The JWS algorithm of a key: its type and curve decide, so a key cannot sign under another. */
export function earAlgorithm(key: KeyObject): EarAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
  }
  throw new SpdmError(
    'UNSUPPORTED_ALGORITHM',
    `an EAR key must be P-256, P-384 or Ed25519, not ${type ?? 'unknown'}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`,
  );
}

/** A PEM private key (PKCS#8, or SEC1 for EC) as a KeyObject; DECODE_ERROR when it is not one. */
export function earPrivateKey(pem: string | Uint8Array, what = 'EAR key'): KeyObject {
  let k: KeyObject;
  try {
    k = createPrivateKey(typeof pem === 'string' ? pem : Buffer.from(pem));
  } catch (e) {
    throw new SpdmError(
      'DECODE_ERROR',
      `${what}: not a PEM private key: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  earAlgorithm(k);
  return k;
}

/** A new verifier signing key (private KeyObject) for `alg`. */
export function generateEarKey(alg: EarAlgorithm = 'ES256'): KeyObject {
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  return generateKeyPairSync('ec', { namedCurve: alg === 'ES256' ? 'P-256' : 'P-384' }).privateKey;
}

/** The public JWK of `key` with `kid` (RFC 7638 SHA-256 thumbprint), `alg` and `use: "sig"`. */
export async function earPublicJwk(key: KeyObject): Promise<JWK> {
  const alg = earAlgorithm(key);
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = await exportJWK(pub);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { ...jwk, kid, alg, use: 'sig' };
}

/** The JWKS a relying party verifies the verifier's EARs with. */
export async function earJwks(key: KeyObject): Promise<{ keys: JWK[] }> {
  return { keys: [await earPublicJwk(key)] };
}

/** Signs `claims` as a compact JWS (typ eat+jwt, kid the key's thumbprint). */
export async function signEar(claims: EarClaims, key: KeyObject | string): Promise<string> {
  const k = typeof key === 'string' ? earPrivateKey(key) : key;
  if (k.type !== 'private') throw new TypeError('signEar needs a private key');
  const { kid, alg } = await earPublicJwk(k);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: alg as EarAlgorithm, typ: EAR_JWT_TYPE, ...(kid !== undefined ? { kid } : {}) })
    .sign(k);
}

// ── Verification (relying party side) ───────────────────────────────────────────────────────

/** Keys in a JWKS verifyEar() looks through; a verifier publishes one or two. */
const MAX_JWKS_KEYS = 64;

function invalid(reason: string, message: string, cause?: unknown): SpdmError<'EAR_INVALID'> {
  return new SpdmError('EAR_INVALID', `EAR: ${message}`, { reason }, cause !== undefined ? { cause } : undefined);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const TIERS: readonly string[] = ['affirming', 'warning', 'contraindicated', 'none'];

function checkTier(x: unknown, where: string): TrustTier {
  if (typeof x !== 'string' || !TIERS.includes(x)) throw invalid('claims', `${where} is not a trust tier`);
  return x as TrustTier;
}

function checkNonceClaim(x: unknown, where: string): void {
  // 8..64 bytes as base64url without padding: 11..86 characters (the draft's 12..88 counts padding).
  if (typeof x !== 'string' || !/^[A-Za-z0-9_-]{11,86}$/.test(x))
    throw invalid('claims', `${where} is not a base64url nonce of 8 to 64 bytes`);
}

function checkIntTime(x: unknown, where: string): number {
  // EAT forbids floating-point times (RFC 9711 section 4.3.1).
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
    throw invalid('claims', `${where} is not an integer time`);
  return x;
}

/** Checks a verified payload against the EAR claims-set; returns it typed. */
function checkClaims(p: Record<string, unknown>): EarClaims {
  if (p['eat_profile'] !== EAR_PROFILE) throw invalid('profile', `eat_profile is not ${EAR_PROFILE}`);
  checkIntTime(p['iat'], 'iat');
  if (p['exp'] !== undefined) checkIntTime(p['exp'], 'exp');
  const vid = p['ear_verifier_id'];
  if (!isRecord(vid) || typeof vid['developer'] !== 'string' || typeof vid['build'] !== 'string')
    throw invalid('claims', 'ear_verifier_id must hold developer and build strings');
  if (p['ear_status'] !== undefined) checkTier(p['ear_status'], 'ear_status');
  if (p['eat_nonce'] !== undefined) checkNonceClaim(p['eat_nonce'], 'eat_nonce');
  const submods = p['submods'];
  if (!isRecord(submods) || Object.keys(submods).length === 0)
    throw invalid('claims', 'submods must hold at least one appraisal');
  for (const [name, a] of Object.entries(submods)) {
    const at = `submods["${name}"]`;
    if (!isRecord(a)) throw invalid('claims', `${at} is not an appraisal`);
    checkTier(a['ear_status'], `${at}.ear_status`);
    const tv = a['ear_trustworthiness_vector'];
    if (tv !== undefined) {
      if (!isRecord(tv) || Object.keys(tv).length === 0)
        throw invalid('claims', `${at}.ear_trustworthiness_vector must be a non-empty map`);
      for (const [k, val] of Object.entries(tv)) {
        // Unknown categories are ignored (a receiver MUST ignore unknown claims); known ones must be AR4SI values.
        if (
          (TRUSTWORTHINESS_CLAIMS as readonly string[]).includes(k) &&
          !(Number.isInteger(val) && (val as number) >= -128 && (val as number) <= 127)
        )
          throw invalid('claims', `${at}.ear_trustworthiness_vector.${k} is not an AR4SI value (-128..127)`);
      }
    }
    const ids = a['ear_appraisal_policy_ids'];
    if (ids !== undefined && (!Array.isArray(ids) || ids.length === 0 || !ids.every((i) => typeof i === 'string')))
      throw invalid('claims', `${at}.ear_appraisal_policy_ids must be a non-empty list of strings`);
    if (a['eat_nonce'] !== undefined) checkNonceClaim(a['eat_nonce'], `${at}.eat_nonce`);
  }
  return p as unknown as EarClaims;
}

function checkJwks(jwks: unknown): JSONWebKeySet {
  if (!isRecord(jwks) || !Array.isArray(jwks['keys']))
    throw invalid('jwks', 'the JWKS is not an object with a "keys" list');
  const keys = jwks['keys'] as unknown[];
  if (keys.length === 0 || keys.length > MAX_JWKS_KEYS)
    throw invalid('jwks', `the JWKS holds ${keys.length} keys (1 to ${MAX_JWKS_KEYS})`);
  for (const [i, k] of keys.entries()) {
    if (!isRecord(k) || typeof k['kty'] !== 'string') throw invalid('jwks', `JWKS key ${i} is not a JWK`);
    // A published verification key set never holds private parts; one that does was exported wrongly.
    if ('d' in k) throw invalid('jwks', `JWKS key ${i} holds a private key`);
  }
  return { keys: keys as JWK[] };
}

export interface VerifyEarOptions {
  /** The relying party's clock, for `exp` (default: now). */
  readonly now?: Date;
  /** The nonce the relying party challenged with (hex or bytes): the top-level `eat_nonce` must echo it. */
  readonly nonce?: string | Uint8Array;
}

/**
 * Verifies an EAR JWT against the verifier's JWKS: ES256/ES384/EdDSA only, `typ` eat+jwt, a `kid`
 * naming a key of the set, the signature, `exp` when present, and the claims-set's shape and
 * profile. Returns the claims or throws SpdmError EAR_INVALID (details.reason names the step:
 * size, header, jwks, signature, expired, profile, claims, nonce).
 *
 * @example
 * ```ts
 * import { verifyEar } from 'spdmkit/verifier';
 *
 * const claims = await verifyEar(jwt, JSON.parse(jwksText));
 * const [device] = Object.values(claims.submods);
 * if (device?.ear_status !== 'affirming') throw new Error('device not trusted');
 * ```
 */
export async function verifyEar(jwt: string, jwks: unknown, o: VerifyEarOptions = {}): Promise<EarClaims> {
  if (typeof jwt !== 'string') throw invalid('size', 'the token is not a string');
  const token = jwt.trim();
  if (token.length > LIMITS.earTokenBytes)
    throw invalid('size', `the token is ${token.length} bytes, at most ${LIMITS.earTokenBytes}`);
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
    throw invalid('header', 'not a compact JWS (three base64url parts)');
  const set = createLocalJWKSet(checkJwks(jwks));
  let payload: Record<string, unknown>;
  try {
    const r = await jwtVerify(
      token,
      async (header, input) => {
        if (header.kid === undefined) throw invalid('header', 'the header names no kid');
        return set(header, input);
      },
      {
        algorithms: [...EAR_ALGORITHMS],
        typ: EAR_JWT_TYPE,
        ...(o.now ? { currentDate: o.now } : {}),
      },
    );
    payload = r.payload;
  } catch (e) {
    if (e instanceof SpdmError) throw e;
    throw invalid(joseReason(e), joseMessage(e), e);
  }
  const claims = checkClaims(payload);
  if (o.nonce !== undefined) {
    let want: string;
    try {
      want = eatNonce(o.nonce);
    } catch (e) {
      throw new TypeError(`verifyEar nonce: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (claims.eat_nonce !== want)
      throw invalid('nonce', `eat_nonce ${claims.eat_nonce ?? '(none)'} does not echo the challenge ${want}`);
  }
  return claims;
}

function joseReason(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'expired';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature';
  if (e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWKSMultipleMatchingKeys) return 'jwks';
  if (e instanceof joseErrors.JOSEAlgNotAllowed || e instanceof joseErrors.JWSInvalid) return 'header';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return e.claim === 'typ' ? 'header' : 'claims';
  if (e instanceof joseErrors.JWTInvalid) return 'claims';
  return 'signature';
}

function joseMessage(e: unknown): string {
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify with the JWKS key';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the JWKS matches the header (kid, alg)';
  return e instanceof Error ? e.message : String(e);
}
