/**
 * Verifier policy: which certificate rules apply, what evidence must satisfy (age, version,
 * signed measurements), and per device identity the reference measurements. A policy document
 * (JSON or YAML, see policy-loader.ts and docs/policy.md) is validated against the published
 * schema, then compiled into the `Policy` value verify() reads.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { Evidence } from '../evidence/evidence.js';
import { SpdmError } from '../wire/errors.js';
import type { ParsedCertificate } from '../x509/certificate.js';
import { POLICY_SCHEMA } from './policy-schema.js';
import { SchemaValidator, type SchemaIssue } from './schema.js';
import type { RuleMode } from './verdict.js';

export const RULE_NAMES = [
  'chain',
  'deny',
  'validity',
  'keyUsage',
  'eku',
  'responderAuthEku',
  'hardwareIdentity',
  'spdmCertificate',
  'cmaSan',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];
export type Rules = Readonly<Record<RuleName, RuleMode>>;

export const DEFAULT_RULES: Rules = {
  chain: 'required',
  deny: 'required',
  validity: 'required',
  keyUsage: 'required',
  eku: 'required',
  responderAuthEku: 'off',
  hardwareIdentity: 'required',
  spdmCertificate: 'required',
  cmaSan: 'required',
};

export interface EvidenceRequirements {
  /** Evidence older than this many seconds (by collectedAt) is stale. */
  readonly maxAgeSeconds?: number;
  /** Lowest acceptable SPDM version byte, e.g. 0x12. */
  readonly minSpdmVersion?: number;
  readonly signedMeasurements: boolean;
  readonly requireDevicePolicy: boolean;
  readonly certificateTime: 'collected' | 'now';
}

export const DEFAULT_EVIDENCE_REQUIREMENTS: EvidenceRequirements = {
  signedMeasurements: true,
  requireDevicePolicy: false,
  certificateTime: 'collected',
};

export interface PciMatch {
  readonly vendorId: number;
  readonly deviceId?: number;
  readonly subsystemVendorId?: number;
  readonly subsystemId?: number;
  readonly revisionId?: number;
  readonly classCode?: number;
}

export interface DeviceMatch {
  readonly pci?: PciMatch;
  readonly subject?: string;
  readonly subjectPattern?: RegExp;
}

export interface DevicePolicy {
  readonly name: string;
  readonly match: DeviceMatch;
  readonly rules: Partial<Rules>;
  readonly evidence: Partial<EvidenceRequirements>;
  /** Index → acceptable values (lowercase hex). */
  readonly referenceValues: ReadonlyMap<number, readonly string[]>;
  readonly ignore: ReadonlySet<number>;
  readonly unlisted: 'reject' | 'ignore';
  readonly minSvn?: bigint;
  readonly svnIndex?: number;
}

export interface Policy {
  readonly rules: Rules;
  readonly evidence: EvidenceRequirements;
  readonly devices: readonly DevicePolicy[];
  /**
   * SHA-256 fingerprints (lowercase hex) of the DER SubjectPublicKeyInfo of provisioned device
   * public keys (slot 0xFF) the policy trusts. With no chain to validate, this list is the only
   * thing that makes a slot 0xFF signature trusted.
   */
  readonly trustedPublicKeys?: ReadonlySet<string>;
  /** Where the policy came from (file name), for messages. */
  readonly source?: string;
  /** SHA-256 (lowercase hex) of the UTF-8 text the policy was parsed from: its identity in an EAR's ear_appraisal_policy_ids. */
  readonly sha256?: string;
}

/** A policy document that does not validate; `issues` name the path of every bad field. */
export class PolicyError extends SpdmError {
  readonly issues: readonly SchemaIssue[];
  constructor(source: string, issues: readonly SchemaIssue[]) {
    super(
      'DECODE_ERROR',
      `${source}: invalid policy:\n${issues.map((i) => `  ${i.path || '/'}: ${i.message}`).join('\n')}`,
      { issues },
    );
    this.name = 'PolicyError';
    this.issues = issues;
  }
}

let validator: SchemaValidator | undefined;

/** The compiled policy schema validator. */
export function policyValidator(): SchemaValidator {
  validator ??= new SchemaValidator(POLICY_SCHEMA);
  return validator;
}

function hexNum(s: string): number {
  return Number.parseInt(s.replace(/^0x/i, ''), 16);
}

type Doc = Record<string, unknown>;

function asDoc(v: unknown): Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Doc) : {};
}

function compileRules(v: unknown): Partial<Rules> {
  const d = asDoc(v);
  const out: Partial<Record<RuleName, RuleMode>> = {};
  for (const r of RULE_NAMES) if (typeof d[r] === 'string') out[r] = d[r] as RuleMode;
  return out;
}

function compileEvidence(v: unknown): Partial<EvidenceRequirements> {
  const d = asDoc(v);
  const out: { -readonly [K in keyof EvidenceRequirements]?: EvidenceRequirements[K] } = {};
  if (typeof d['maxAgeSeconds'] === 'number') out.maxAgeSeconds = d['maxAgeSeconds'];
  if (typeof d['minSpdmVersion'] === 'string') {
    const [maj, min] = d['minSpdmVersion'].split('.').map(Number);
    out.minSpdmVersion = ((maj ?? 1) << 4) | (min ?? 0);
  }
  if (typeof d['signedMeasurements'] === 'boolean') out.signedMeasurements = d['signedMeasurements'];
  if (typeof d['requireDevicePolicy'] === 'boolean') out.requireDevicePolicy = d['requireDevicePolicy'];
  if (d['certificateTime'] === 'collected' || d['certificateTime'] === 'now')
    out.certificateTime = d['certificateTime'];
  return out;
}

function compileDevice(v: unknown, i: number, issues: SchemaIssue[]): DevicePolicy {
  const d = asDoc(v);
  const at = (...rest: (string | number)[]): { path: string; segments: (string | number)[] } => {
    const segments = ['devices', i, ...rest];
    return { path: `/${segments.join('/')}`, segments };
  };
  const m = asDoc(d['match']);
  const pciDoc = m['pci'] === undefined ? undefined : asDoc(m['pci']);
  let pci: PciMatch | undefined;
  if (pciDoc) {
    const opt = (k: string) => (typeof pciDoc[k] === 'string' ? { [k]: hexNum(pciDoc[k]) } : {});
    pci = {
      vendorId: hexNum(String(pciDoc['vendorId'])),
      ...opt('deviceId'),
      ...opt('subsystemVendorId'),
      ...opt('subsystemId'),
      ...opt('revisionId'),
      ...opt('classCode'),
    };
  }
  let subjectPattern: RegExp | undefined;
  if (typeof m['subjectPattern'] === 'string') {
    try {
      subjectPattern = new RegExp(m['subjectPattern'], 'u');
    } catch (e) {
      issues.push({
        ...at('match', 'subjectPattern'),
        message: `is not a regular expression: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }
  const referenceValues = new Map<number, string[]>();
  for (const [k, vals] of Object.entries(asDoc(d['measurements']))) {
    if (Array.isArray(vals))
      referenceValues.set(
        Number(k),
        vals.map((x) => String(x).toLowerCase()),
      );
  }
  const ignore = new Set<number>(Array.isArray(d['ignore']) ? (d['ignore'] as number[]) : []);
  for (const idx of ignore) {
    if (referenceValues.has(idx))
      issues.push({ ...at('ignore'), message: `index ${idx} is both ignored and listed under measurements` });
  }
  const minSvn =
    typeof d['minSvn'] === 'number'
      ? BigInt(d['minSvn'])
      : typeof d['minSvn'] === 'string'
        ? BigInt(d['minSvn'])
        : undefined;
  if (minSvn !== undefined && minSvn > 0xffffffffffffffffn)
    issues.push({ ...at('minSvn'), message: 'exceeds the largest 64-bit SVN' });
  return {
    name: String(d['name']),
    match: {
      ...(pci ? { pci } : {}),
      ...(typeof m['subject'] === 'string' ? { subject: m['subject'] } : {}),
      ...(subjectPattern ? { subjectPattern } : {}),
    },
    rules: compileRules(d['rules']),
    evidence: compileEvidence(d['evidence']),
    referenceValues,
    ignore,
    unlisted: d['unlisted'] === 'ignore' ? 'ignore' : 'reject',
    ...(minSvn !== undefined ? { minSvn } : {}),
    ...(typeof d['svnIndex'] === 'number' ? { svnIndex: d['svnIndex'] } : {}),
  };
}

/** trustedPublicKeys as fingerprints: a DER key is checked to be a SubjectPublicKeyInfo, then hashed. */
function compilePublicKeys(v: unknown, issues: SchemaIssue[]): Set<string> {
  const out = new Set<string>();
  (Array.isArray(v) ? v : []).forEach((k, i) => {
    const text = String(k).toLowerCase();
    if (text.startsWith('sha256:')) {
      out.add(text.slice(7));
      return;
    }
    try {
      const der = Buffer.from(text, 'hex');
      createPublicKey({ key: der, format: 'der', type: 'spki' });
      out.add(publicKeyFingerprint(new Uint8Array(der)));
    } catch (e) {
      issues.push({
        path: `/trustedPublicKeys/${i}`,
        segments: ['trustedPublicKeys', i],
        message: `is not a DER SubjectPublicKeyInfo: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  });
  return out;
}

/** The fingerprint trustedPublicKeys lists a key by: SHA-256 of its DER SubjectPublicKeyInfo, lowercase hex. */
export function publicKeyFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Validates a parsed policy document (the result of JSON.parse or YAML parse) and compiles it.
 * Throws PolicyError listing every problem with its path.
 */
export function compilePolicy(doc: unknown, source = 'policy'): Policy {
  const issues = policyValidator().validate(doc);
  if (issues.length > 0) throw new PolicyError(source, issues);
  const d = asDoc(doc);
  const devices = (Array.isArray(d['devices']) ? d['devices'] : []).map((x, i) => compileDevice(x, i, issues));
  const names = new Map<string, number>();
  devices.forEach((dev, i) => {
    const j = names.get(dev.name);
    if (j !== undefined)
      issues.push({
        path: `/devices/${i}/name`,
        segments: ['devices', i, 'name'],
        message: `"${dev.name}" is already the name of /devices/${j}`,
      });
    names.set(dev.name, i);
  });
  const trustedPublicKeys = compilePublicKeys(d['trustedPublicKeys'], issues);
  if (issues.length > 0) throw new PolicyError(source, issues);
  return {
    rules: { ...DEFAULT_RULES, ...compileRules(d['rules']) },
    evidence: { ...DEFAULT_EVIDENCE_REQUIREMENTS, ...compileEvidence(d['evidence']) },
    devices,
    trustedPublicKeys,
    source,
  };
}

/** All rules required (PCIe CMA SAN included), signed measurements, no reference values. */
export const DEFAULT_POLICY: Policy = compilePolicy({ version: 1 }, 'default policy');

/** The rules and requirements in force for a device: the policy's, overridden by the device entry's. */
export function effectivePolicy(
  policy: Policy,
  device?: DevicePolicy,
): { rules: Rules; evidence: EvidenceRequirements } {
  return {
    rules: { ...policy.rules, ...(device?.rules ?? {}) },
    evidence: { ...policy.evidence, ...(device?.evidence ?? {}) },
  };
}

function pciMatches(m: PciMatch, e: Evidence): boolean {
  const p = e.pci;
  if (!p) return false;
  return (
    m.vendorId === p.vendorId &&
    (m.deviceId === undefined || m.deviceId === p.deviceId) &&
    (m.subsystemVendorId === undefined || m.subsystemVendorId === p.subsystemVendorId) &&
    (m.subsystemId === undefined || m.subsystemId === p.subsystemId) &&
    (m.revisionId === undefined || m.revisionId === p.revisionId) &&
    (m.classCode === undefined || m.classCode === p.classCode)
  );
}

/** The first device entry whose every criterion holds for this evidence and leaf certificate. */
export function matchDevice(
  policy: Policy,
  e: Evidence,
  leaf: ParsedCertificate | undefined,
): DevicePolicy | undefined {
  return policy.devices.find((d) => {
    const m = d.match;
    if (m.pci && !pciMatches(m.pci, e)) return false;
    if (m.subject !== undefined && leaf?.subject !== m.subject) return false;
    if (m.subjectPattern && (leaf === undefined || !m.subjectPattern.test(leaf.subject))) return false;
    return true;
  });
}
