/**
 * Evidence arrives from a file, a socket or a remote party: it is hostile until checked. This
 * module turns an `unknown` (the result of JSON.parse) into an Evidence value, field by field,
 * or into a list of problems naming the path of every bad field. It never throws.
 *
 * Every member is checked, at every depth: one the format does not define is refused, so that a
 * remote verifier never passes on content it did not read. Derived, unsigned summaries
 * (certificate summaries, chain problems, capability and algorithm names, the `verified` and
 * `signed` flags) are checked for shape only and never trusted: the verifier recomputes them from
 * the signed bytes. schemas/evidence.schema.json (verifier/evidence-schema.ts) states the same
 * rules; docs/evidence.md describes the format member by member.
 */
import {
  EVIDENCE_FORMAT,
  PCI_IDENTITY_MEMBERS,
  type CertificateSummary,
  type ChainProblemEvidence,
  type Evidence,
  type MeasurementEvidence,
  type PciIdentity,
  type SignatureEvidence,
  type SignedMessageKind,
  type SlotEvidence,
} from '../evidence/evidence.js';
import { isSignedMessageKind, SIGNED_KINDS, SIGNED_MESSAGE_KINDS } from '../evidence/signed-kinds.js';
import { EVIDENCE_LIMITS, EVIDENCE_PATTERNS } from '../evidence/evidence-limits.js';
import { REQUESTER_CONTEXT_SIZE } from '../spdm/messages/challenge.js';

export { EVIDENCE_LIMITS };

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Code points, as JSON Schema's maxLength counts them (a string's length counts UTF-16 units). */
function codePoints(v: string, max: number): number {
  if (v.length <= max) return v.length;
  let n = 0;
  for (const _ of v) n++;
  return n;
}

const DATE_TIME = new RegExp(EVIDENCE_PATTERNS.dateTime);
const VERSION = new RegExp(EVIDENCE_PATTERNS.version);
const BDF = new RegExp(EVIDENCE_PATTERNS.bdf);
const HEX = /^[0-9a-fA-F]*$/;

/** Slots a signature may name: the eight certificate slots, and 0xFF for the provisioned public key. */
function isSignatureSlot(n: number): boolean {
  return (n >= 0 && n <= 7) || n === 0xff;
}

class Checker {
  readonly problems: string[] = [];

  bad(path: string, what: string): undefined {
    this.problems.push(`${path}: ${what}`);
    return undefined;
  }

  /**
   * An object holding only the members `allowed` names: anything else is a problem, since a
   * member nobody reads could carry what a later reader takes for checked content.
   */
  obj(v: unknown, path: string, allowed?: readonly string[]): Obj | undefined {
    if (!isObj(v)) return this.bad(path, 'must be an object');
    if (allowed)
      for (const k of Object.keys(v))
        if (!allowed.includes(k))
          this.bad(
            `${path}.${k.length > 64 ? `${k.slice(0, 64)}…` : k}`,
            `unknown member (allowed: ${allowed.join(', ')})`,
          );
    return v;
  }

  arr(v: unknown, path: string, max: number): unknown[] | undefined {
    if (!Array.isArray(v)) return this.bad(path, 'must be an array');
    if (v.length > max) return this.bad(path, `holds ${v.length} entries, at most ${max} are accepted`);
    return v as unknown[];
  }

  str(v: unknown, path: string, max: number, pattern?: { re: RegExp; what: string }): string | undefined {
    if (typeof v !== 'string') return this.bad(path, 'must be a string');
    const n = codePoints(v, max);
    if (n > max) return this.bad(path, `is ${n} characters long, at most ${max} are accepted`);
    if (pattern && !pattern.re.test(v)) return this.bad(path, `must be ${pattern.what}`);
    return v;
  }

  /** An optional member: undefined when absent, otherwise checked by `check`. */
  opt<T>(o: Obj, key: string, check: (v: unknown) => T | undefined): T | undefined {
    return o[key] === undefined ? undefined : check(o[key]);
  }

  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.bad(path, 'must be an integer');
    if (v < min || v > max) return this.bad(path, `${v} is outside ${min}..${max}`);
    return v;
  }

  /** Lowercase hex of whole bytes; `exactBytes` pins the length, `maxBytes` bounds it. */
  hex(
    v: unknown,
    path: string,
    opts: { exactBytes?: number; maxBytes?: number; allowEmpty?: boolean } = {},
  ): string | undefined {
    if (typeof v !== 'string') return this.bad(path, 'must be a hex string');
    if (v.length > EVIDENCE_LIMITS.hexChars)
      return this.bad(path, `is ${v.length} hex digits long, at most ${EVIDENCE_LIMITS.hexChars} are accepted`);
    if (v.length % 2 !== 0 || !HEX.test(v)) return this.bad(path, 'must be an even number of hex digits');
    if (v.length === 0 && !opts.allowEmpty) return this.bad(path, 'must not be empty');
    if (opts.exactBytes !== undefined && v.length !== 2 * opts.exactBytes)
      return this.bad(path, `must be ${opts.exactBytes} bytes, has ${v.length / 2}`);
    if (opts.maxBytes !== undefined && v.length > 2 * opts.maxBytes)
      return this.bad(path, `must be at most ${opts.maxBytes} bytes, has ${v.length / 2}`);
    return v.toLowerCase();
  }

  bool(v: unknown, path: string): boolean | undefined {
    return typeof v === 'boolean' ? v : this.bad(path, 'must be true or false');
  }

  /** An array of strings, each at most `maxChars` long. */
  strings(v: unknown, path: string, maxItems: number, maxChars: number): string[] | undefined {
    const a = this.arr(v, path, maxItems);
    if (!a) return undefined;
    const out = a.map((x, i) => this.str(x, `${path}[${i}]`, maxChars));
    return out.every((x): x is string => x !== undefined) ? out : undefined;
  }
}

const DATE_TIME_RULE = { re: DATE_TIME, what: 'an ISO 8601 date and time (YYYY-MM-DDTHH:MM:SS[.fff]Z or ±HH:MM)' };

/** Members of each object of the format; the schema (evidence-schema.ts) lists the same. */
const PCI_MEMBERS = PCI_IDENTITY_MEMBERS;
const SLOT_MEMBERS = ['slot', 'digest', 'certChain', 'certModel', 'certificates', 'chainProblems'] as const;
const CERTIFICATE_MEMBERS = [
  'subject',
  'issuer',
  'serialNumber',
  'notBefore',
  'notAfter',
  'fingerprintSha256',
] as const;
const CHAIN_PROBLEM_MEMBERS = ['code', 'certIndex', 'message'] as const;
const SIGNATURE_MEMBERS = [
  'kind',
  'sessionId',
  'slot',
  'version',
  'asymAlgo',
  'hashAlgo',
  'context',
  'requesterNonce',
  'responderNonce',
  'requesterContext',
  'transcript',
  'transcriptHash',
  'signature',
  'measurementSummaryHash',
  'epInfo',
  'verified',
] as const;
const MEASUREMENT_MEMBERS = ['index', 'spec', 'type', 'typeName', 'raw', 'value', 'block', 'signed'] as const;
const CAPABILITY_MEMBERS = ['flags', 'flagNames', 'ctExponent', 'dataTransferSize', 'maxSpdmMsgSize'] as const;
const ALGORITHM_MEMBERS = [
  'baseAsym',
  'baseAsymName',
  'baseHash',
  'baseHashName',
  'measurementHash',
  'measurementHashName',
  'measurementSpec',
  'otherParams',
] as const;
const EVIDENCE_MEMBERS = [
  'format',
  'collectedAt',
  'device',
  'pci',
  'version',
  'versionByte',
  'capabilities',
  'algorithms',
  'slots',
  'publicKey',
  'signatures',
  'measurements',
] as const;
/** `spdm authenticate --json`: the run's outcome around the evidence (cli/authenticate.ts AuthenticateOutcome). */
const WRAPPER_MEMBERS = [
  'authenticated',
  'trusted',
  'reason',
  'errorCode',
  'evidence',
  'verdict',
  'session',
  'basicMutualAuth',
] as const;
/** Wrapper members that are the collecting host's own report: objects, never read by the verifier. */
const WRAPPER_REPORTS = ['verdict', 'session', 'basicMutualAuth'] as const;

function pciIdentity(c: Checker, v: unknown, path: string): PciIdentity | undefined {
  const o = c.obj(v, path, PCI_MEMBERS);
  if (!o) return undefined;
  const vendorId = c.int(o['vendorId'], `${path}.vendorId`, 0, 0xffff);
  const deviceId = c.int(o['deviceId'], `${path}.deviceId`, 0, 0xffff);
  const classCode = c.int(o['classCode'], `${path}.classCode`, 0, 0xffffff);
  const revisionId = c.int(o['revisionId'], `${path}.revisionId`, 0, 0xff);
  const ssvid = c.opt(o, 'subsystemVendorId', (x) => c.int(x, `${path}.subsystemVendorId`, 0, 0xffff));
  const ssid = c.opt(o, 'subsystemId', (x) => c.int(x, `${path}.subsystemId`, 0, 0xffff));
  if ((o['subsystemVendorId'] === undefined) !== (o['subsystemId'] === undefined))
    c.bad(path, 'subsystemVendorId and subsystemId come together (Type 0 header) or not at all');
  const serialNumber = c.opt(o, 'serialNumber', (x) => c.hex(x, `${path}.serialNumber`, { exactBytes: 8 }));
  const bdf = c.opt(o, 'bdf', (x) =>
    c.str(x, `${path}.bdf`, 64, { re: BDF, what: 'a PCI address DDDD:BB:DD.F (lower-case hex)' }),
  );
  if (vendorId === undefined || deviceId === undefined || classCode === undefined || revisionId === undefined)
    return undefined;
  return {
    ...(bdf !== undefined ? { bdf } : {}),
    vendorId,
    deviceId,
    classCode,
    revisionId,
    ...(ssvid !== undefined && ssid !== undefined ? { subsystemVendorId: ssvid, subsystemId: ssid } : {}),
    ...(serialNumber !== undefined ? { serialNumber } : {}),
  };
}

function certificateSummary(c: Checker, v: unknown, path: string): CertificateSummary | undefined {
  const o = c.obj(v, path, CERTIFICATE_MEMBERS);
  if (!o) return undefined;
  const max = EVIDENCE_LIMITS.summaryChars;
  const subject = c.str(o['subject'], `${path}.subject`, max);
  const issuer = c.str(o['issuer'], `${path}.issuer`, max);
  const serialNumber = c.str(o['serialNumber'], `${path}.serialNumber`, max);
  const notBefore = c.str(o['notBefore'], `${path}.notBefore`, 64, DATE_TIME_RULE);
  const notAfter = c.str(o['notAfter'], `${path}.notAfter`, 64, DATE_TIME_RULE);
  const fingerprintSha256 = c.hex(o['fingerprintSha256'], `${path}.fingerprintSha256`, { exactBytes: 32 });
  if (
    subject === undefined ||
    issuer === undefined ||
    serialNumber === undefined ||
    notBefore === undefined ||
    notAfter === undefined ||
    fingerprintSha256 === undefined
  )
    return undefined;
  return { subject, issuer, serialNumber, notBefore, notAfter, fingerprintSha256 };
}

function chainProblem(c: Checker, v: unknown, path: string): ChainProblemEvidence | undefined {
  const o = c.obj(v, path, CHAIN_PROBLEM_MEMBERS);
  if (!o) return undefined;
  const code = c.str(o['code'], `${path}.code`, 64);
  const certIndex = c.int(o['certIndex'], `${path}.certIndex`, 0, EVIDENCE_LIMITS.certificates);
  const message = c.str(o['message'], `${path}.message`, EVIDENCE_LIMITS.summaryChars);
  if (code === undefined || certIndex === undefined || message === undefined) return undefined;
  return { code, certIndex, message };
}

/** Every entry of an optional array member checked by `each`; [] when absent, undefined when bad. */
function list<T>(
  c: Checker,
  o: Obj,
  key: string,
  path: string,
  max: number,
  each: (v: unknown, path: string) => T | undefined,
): T[] | undefined {
  if (o[key] === undefined) return [];
  const a = c.arr(o[key], `${path}.${key}`, max);
  if (!a) return undefined;
  const out = a.map((x, i) => each(x, `${path}.${key}[${i}]`));
  return out.every((x): x is T => x !== undefined) ? out : undefined;
}

function slotEvidence(c: Checker, v: unknown, path: string): SlotEvidence | undefined {
  const o = c.obj(v, path, SLOT_MEMBERS);
  if (!o) return undefined;
  // Slot 0xFF has no chain and no slot entry: its key is the document's publicKey.
  const slot = c.int(o['slot'], `${path}.slot`, 0, EVIDENCE_LIMITS.slots - 1);
  const digest = c.hex(o['digest'], `${path}.digest`, { allowEmpty: true, maxBytes: EVIDENCE_LIMITS.hashBytes });
  const certChain = c.hex(o['certChain'], `${path}.certChain`, { allowEmpty: true });
  const certModel = o['certModel'] === undefined ? 0 : c.int(o['certModel'], `${path}.certModel`, 0, 0xff);
  // Summaries are informational only: checked for shape, never read for decisions.
  const certificates = list(c, o, 'certificates', path, EVIDENCE_LIMITS.certificates, (x, p) =>
    certificateSummary(c, x, p),
  );
  const chainProblems = list(c, o, 'chainProblems', path, EVIDENCE_LIMITS.chainProblems, (x, p) =>
    chainProblem(c, x, p),
  );
  if (
    slot === undefined ||
    digest === undefined ||
    certChain === undefined ||
    certModel === undefined ||
    certificates === undefined ||
    chainProblems === undefined
  )
    return undefined;
  return { slot, digest, certChain, certModel, certificates, chainProblems };
}

/**
 * A signature's session: 0x and 8 hex digits, required for a kind that sets a session up, refused
 * for one that is never signed inside a session (absent is undefined, a bad value a problem).
 */
function sessionIdField(c: Checker, v: unknown, path: string, kind: SignedMessageKind): string | undefined {
  const rule = SIGNED_KINDS[kind].session;
  if (v === undefined) {
    if (rule === 'required') c.bad(path, `is required for a ${kind} signature (the session it set up)`);
    return undefined;
  }
  if (rule === 'never') return c.bad(path, `a ${kind} signature is never made inside a session`);
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{8}$/.test(v)) return c.bad(path, 'must be 0x and 8 hex digits');
  const id = v.toLowerCase();
  // DSP0277: both halves 0xFFFF is the invalid SessionID, never one a session had.
  if (id === '0xffffffff') return c.bad(path, '0xffffffff is not a valid SessionID');
  return id;
}

/** The EPInfo a signed ENDPOINT_INFO carries: required there (hex, possibly empty), refused beside any other kind. */
function epInfoField(c: Checker, v: unknown, path: string, kind: SignedMessageKind | undefined): string | undefined {
  if (kind === undefined) return undefined;
  if (kind !== 'ENDPOINT_INFO') {
    if (v !== undefined) c.bad(path, `a ${kind} signature has no EPInfo`);
    return undefined;
  }
  if (v === undefined) return c.bad(path, 'is required for an ENDPOINT_INFO signature (the EPInfo it signed)');
  return c.hex(v, path, { allowEmpty: true });
}

function signatureEvidence(c: Checker, v: unknown, path: string): SignatureEvidence | undefined {
  const o = c.obj(v, path, SIGNATURE_MEMBERS);
  if (!o) return undefined;
  const kind = isSignedMessageKind(o['kind'])
    ? o['kind']
    : c.bad(`${path}.kind`, `must be one of ${SIGNED_MESSAGE_KINDS.map((k) => `"${k}"`).join(', ')}`);
  const sessionId = kind === undefined ? undefined : sessionIdField(c, o['sessionId'], `${path}.sessionId`, kind);
  let slot = c.int(o['slot'], `${path}.slot`, 0, 0xff);
  if (slot !== undefined && !isSignatureSlot(slot))
    slot = c.bad(`${path}.slot`, `${slot} is not a slot (0..7, or 255 for the provisioned public key)`);
  const version = c.int(o['version'], `${path}.version`, 0x10, 0x1f);
  const asymAlgo = c.int(o['asymAlgo'], `${path}.asymAlgo`, 0, 0xffffffff);
  const hashAlgo = c.int(o['hashAlgo'], `${path}.hashAlgo`, 0, 0xffffffff);
  const context = c.str(o['context'], `${path}.context`, 256);
  const requesterNonce = c.hex(o['requesterNonce'], `${path}.requesterNonce`, { exactBytes: 32 });
  const responderNonce = c.hex(o['responderNonce'], `${path}.responderNonce`, { exactBytes: 32 });
  const requesterContext = c.opt(o, 'requesterContext', (x) =>
    c.hex(x, `${path}.requesterContext`, { exactBytes: REQUESTER_CONTEXT_SIZE }),
  );
  const transcript = c.hex(o['transcript'], `${path}.transcript`);
  const transcriptHash = c.hex(o['transcriptHash'], `${path}.transcriptHash`, {
    maxBytes: EVIDENCE_LIMITS.hashBytes,
  });
  const signature = c.hex(o['signature'], `${path}.signature`, { maxBytes: EVIDENCE_LIMITS.signatureBytes });
  const msh = c.opt(o, 'measurementSummaryHash', (x) =>
    c.hex(x, `${path}.measurementSummaryHash`, { maxBytes: EVIDENCE_LIMITS.hashBytes }),
  );
  const epInfo = epInfoField(c, o['epInfo'], `${path}.epInfo`, kind);
  const verified = c.opt(o, 'verified', (x) => c.bool(x, `${path}.verified`));
  if (
    kind === undefined ||
    slot === undefined ||
    version === undefined ||
    asymAlgo === undefined ||
    hashAlgo === undefined ||
    context === undefined ||
    requesterNonce === undefined ||
    responderNonce === undefined ||
    transcript === undefined ||
    transcriptHash === undefined ||
    signature === undefined
  ) {
    return undefined;
  }
  return {
    kind,
    ...(sessionId !== undefined ? { sessionId } : {}),
    slot,
    version,
    asymAlgo,
    hashAlgo,
    context,
    requesterNonce,
    responderNonce,
    ...(requesterContext !== undefined ? { requesterContext } : {}),
    transcript,
    transcriptHash,
    signature,
    ...(msh !== undefined ? { measurementSummaryHash: msh } : {}),
    ...(epInfo !== undefined ? { epInfo } : {}),
    // Never trusted: the verifier checks every signature itself.
    verified: verified === true,
  };
}

function measurementEvidence(c: Checker, v: unknown, path: string): MeasurementEvidence | undefined {
  const o = c.obj(v, path, MEASUREMENT_MEMBERS);
  if (!o) return undefined;
  const index = c.int(o['index'], `${path}.index`, 1, 0xfe);
  const spec = c.int(o['spec'], `${path}.spec`, 0, 0xff);
  const value = c.hex(o['value'], `${path}.value`, { allowEmpty: true });
  const block = c.hex(o['block'], `${path}.block`);
  const type = c.opt(o, 'type', (x) => c.int(x, `${path}.type`, 0, 0x7f));
  const typeName = c.opt(o, 'typeName', (x) => c.str(x, `${path}.typeName`, 256));
  const raw = c.opt(o, 'raw', (x) => c.bool(x, `${path}.raw`));
  const signed = c.opt(o, 'signed', (x) => c.bool(x, `${path}.signed`));
  if (index === undefined || spec === undefined || value === undefined || block === undefined) return undefined;
  return {
    index,
    spec,
    ...(type !== undefined ? { type } : {}),
    ...(typeName !== undefined ? { typeName } : {}),
    ...(raw !== undefined ? { raw } : {}),
    value,
    block,
    // Never trusted: coverage by a signature is recomputed from the signed transcripts.
    signed: signed === true,
  };
}

export interface EvidenceInput {
  readonly evidence?: Evidence;
  /** Paths and descriptions of every bad field; empty when `evidence` is set. */
  readonly problems: readonly string[];
}

/**
 * Accepts a bare Evidence document or the `spdm authenticate --json` wrapper
 * (`{ authenticated, trusted?, reason?, errorCode?, evidence? }`) and checks it field by field.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parseEvidence } from 'spdmkit';
 *
 * const { evidence, problems } = parseEvidence(JSON.parse(readFileSync('evidence.json', 'utf8')));
 * if (!evidence) console.error(`not evidence:\n  ${problems.join('\n  ')}`);
 * ```
 */
export function parseEvidence(input: unknown): EvidenceInput {
  try {
    return parseEvidenceUnsafe(input);
  } catch (e) {
    // Only a hostile object (getters, proxies) passed in directly can get here; JSON never does.
    return { problems: [`evidence: cannot be read: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

function parseEvidenceUnsafe(input: unknown): EvidenceInput {
  const c = new Checker();
  let doc = input;
  const root = 'evidence';
  if (isObj(doc) && doc['format'] === undefined && ('authenticated' in doc || 'evidence' in doc)) {
    if (doc['evidence'] === undefined) {
      const why = typeof doc['reason'] === 'string' ? `: ${doc['reason'].slice(0, 500)}` : '';
      return {
        problems: [
          `the document holds no evidence (authentication ${doc['authenticated'] === false ? 'failed' : 'result without evidence'}${why})`,
        ],
      };
    }
    // The run's outcome around the evidence: known members of the right type, the reports unread.
    const w = 'document';
    c.obj(doc, w, WRAPPER_MEMBERS);
    c.opt(doc, 'authenticated', (x) => c.bool(x, `${w}.authenticated`));
    c.opt(doc, 'trusted', (x) => c.bool(x, `${w}.trusted`));
    c.opt(doc, 'reason', (x) => c.str(x, `${w}.reason`, EVIDENCE_LIMITS.summaryChars));
    c.opt(doc, 'errorCode', (x) => c.str(x, `${w}.errorCode`, 64));
    for (const k of WRAPPER_REPORTS) c.opt(doc, k, (x) => c.obj(x, `${w}.${k}`));
    doc = doc['evidence'];
  }
  const o = c.obj(doc, root);
  if (!o) return { problems: c.problems };
  if (o['format'] !== EVIDENCE_FORMAT) {
    // Not evidence (or another format): one reason is enough.
    c.bad(
      `${root}.format`,
      `must be "${EVIDENCE_FORMAT}"${typeof o['format'] === 'string' ? `, not "${o['format'].slice(0, 100)}"` : ''}`,
    );
    return { problems: c.problems };
  }
  c.obj(o, root, EVIDENCE_MEMBERS);
  // The pattern admits only dates Date.parse reads (it rolls 30 February over, as it does for notAfter).
  const collectedAt = c.str(o['collectedAt'], `${root}.collectedAt`, 64, DATE_TIME_RULE);
  const device = c.opt(o, 'device', (x) => c.str(x, `${root}.device`, 1024));
  const pci = c.opt(o, 'pci', (x) => pciIdentity(c, x, `${root}.pci`));
  const version = c.str(o['version'], `${root}.version`, 16, { re: VERSION, what: 'a version "M.N"' });
  const versionByte = c.int(o['versionByte'], `${root}.versionByte`, 0x10, 0x1f);

  const capsPath = `${root}.capabilities`;
  const caps = c.obj(o['capabilities'], capsPath, CAPABILITY_MEMBERS) ?? {};
  const flags = c.int(caps['flags'], `${capsPath}.flags`, 0, 0xffffffff);
  // flagNames has one name per capability bit: at most 32 of them.
  const flagNamesIn = c.opt(caps, 'flagNames', (x) => c.strings(x, `${capsPath}.flagNames`, 32, 64));
  const ctExponent = c.opt(caps, 'ctExponent', (x) => c.int(x, `${capsPath}.ctExponent`, 0, 0xff));
  const dataTransferSize = c.opt(caps, 'dataTransferSize', (x) =>
    c.int(x, `${capsPath}.dataTransferSize`, 0, 0xffffffff),
  );
  const maxSpdmMsgSize = c.opt(caps, 'maxSpdmMsgSize', (x) => c.int(x, `${capsPath}.maxSpdmMsgSize`, 0, 0xffffffff));

  const algPath = `${root}.algorithms`;
  const alg = c.obj(o['algorithms'], algPath, ALGORITHM_MEMBERS) ?? {};
  const algNum = (k: string) => c.int(alg[k], `${algPath}.${k}`, 0, 0xffffffff);
  const algName = (k: string) => c.opt(alg, k, (x) => c.str(x, `${algPath}.${k}`, 256)) ?? '';
  const baseAsym = algNum('baseAsym');
  const baseHash = algNum('baseHash');
  const measurementHash = algNum('measurementHash');
  const measurementSpec = algNum('measurementSpec');
  const otherParams = alg['otherParams'] !== undefined ? algNum('otherParams') : 0;
  const baseAsymName = algName('baseAsymName');
  const baseHashName = algName('baseHashName');
  const measurementHashName = algName('measurementHashName');

  const publicKey = c.opt(o, 'publicKey', (x) =>
    c.hex(x, `${root}.publicKey`, { maxBytes: EVIDENCE_LIMITS.publicKeyHexChars / 2 }),
  );
  const slotsIn = c.arr(o['slots'], `${root}.slots`, EVIDENCE_LIMITS.slots);
  const sigsIn = c.arr(o['signatures'], `${root}.signatures`, EVIDENCE_LIMITS.signatures);
  const measIn = c.arr(o['measurements'], `${root}.measurements`, EVIDENCE_LIMITS.measurements);
  const slots = slotsIn?.map((s, i) => slotEvidence(c, s, `${root}.slots[${i}]`));
  const signatures = sigsIn?.map((s, i) => signatureEvidence(c, s, `${root}.signatures[${i}]`));
  const measurements = measIn?.map((m, i) => measurementEvidence(c, m, `${root}.measurements[${i}]`));
  if (slots) {
    const seen = new Set<number>();
    slots.forEach((s, i) => {
      if (s && seen.has(s.slot)) c.bad(`${root}.slots[${i}].slot`, `slot ${s.slot} appears twice`);
      if (s) seen.add(s.slot);
    });
  }
  if (measurements) {
    const seen = new Set<number>();
    measurements.forEach((m, i) => {
      if (m && seen.has(m.index)) c.bad(`${root}.measurements[${i}].index`, `index ${m.index} appears twice`);
      if (m) seen.add(m.index);
    });
  }
  if (c.problems.length > 0) return { problems: c.problems };
  // Absent informational members read as the builder's empty values; every present one was checked above.
  const evidence: Evidence = {
    format: EVIDENCE_FORMAT,
    collectedAt: collectedAt as string,
    ...(device !== undefined ? { device } : {}),
    ...(pci !== undefined ? { pci } : {}),
    version: version as string,
    versionByte: versionByte as number,
    capabilities: {
      flags: flags as number,
      flagNames: flagNamesIn ?? [],
      ctExponent: ctExponent ?? 0,
      dataTransferSize: dataTransferSize ?? 0,
      maxSpdmMsgSize: maxSpdmMsgSize ?? 0,
    },
    algorithms: {
      baseAsym: baseAsym as number,
      baseAsymName,
      baseHash: baseHash as number,
      baseHashName,
      measurementHash: measurementHash as number,
      measurementHashName,
      measurementSpec: measurementSpec as number,
      otherParams: otherParams as number,
    },
    slots: slots as SlotEvidence[],
    ...(publicKey !== undefined ? { publicKey } : {}),
    signatures: signatures as SignatureEvidence[],
    measurements: measurements as MeasurementEvidence[],
  };
  return { evidence, problems: [] };
}
