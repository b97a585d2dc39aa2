/**
 * Simulated platform files: JSON or YAML, validated against the published schema
 * (platform-schema.ts), then compiled into typed function specs. Every problem is a
 * PlatformFileError (a DECODE_ERROR SpdmError) naming the JSON Pointer path of the bad field;
 * nothing a file holds crashes the loader. Paths inside the file (certificate chains, keys) are
 * relative to the file.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { SpdmError, isSpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { readFileBounded } from '../wire/bounded-file.js';
import { RequestCode } from '../spdm/codes.js';
import { DoeObjectType, PCI_SIG_VENDOR_ID, type DoeProtocol } from '../transport/doe.js';
import { asymByName, parseVersion, profileFromJson } from '../responder/profile-file.js';
import { standardMeasurements } from '../responder/profiles.js';
import type { DeviceProfile } from '../responder/profile.js';
import type { Misbehavior } from '../responder/faults/misbehavior.js';
import { SchemaValidator, type SchemaIssue } from '../verifier/schema.js';
import {
  parseDocumentText,
  readDocumentFile,
  type DocumentBound,
  type DocumentFormat,
} from '../verifier/document-text.js';
import { PLATFORM_SCHEMA } from './platform-schema.js';

/** One problem in a platform file: where (JSON Pointer) and what. */
export interface PlatformFileIssue {
  readonly path: string;
  readonly message: string;
}

/** A platform file that cannot be used: DECODE_ERROR, with every issue found (the first one's path in `field`). */
export class PlatformFileError extends SpdmError {
  readonly issues: readonly PlatformFileIssue[];
  constructor(source: string, issues: readonly PlatformFileIssue[]) {
    super(
      'DECODE_ERROR',
      `${source}: invalid platform file:\n${issues.map((i) => `  ${i.path || '/'}: ${i.message}`).join('\n')}`,
      { source, field: issues[0]?.path ?? '', issues },
    );
    this.name = 'PlatformFileError';
    this.issues = issues;
  }
}

/** What config space says about a function (the CMA SAN names these). */
export interface SimulatedIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly classCode: number;
  readonly revisionId: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  /** Present: the function has a Device Serial Number capability holding it. */
  readonly serialNumber?: bigint;
}

export interface SimulatedDoeSpec {
  /** What discovery lists, discovery first. */
  readonly protocols: readonly DoeProtocol[];
  /** Time the mailbox takes per object (the DOE driver polls meanwhile). */
  readonly responseDelayMs: number;
  readonly capabilityVersion: number;
}

/** A device that can sit behind a BDF: a platform file's function without its address, or a spare. */
export interface SimulatedDeviceSpec {
  readonly name: string;
  /** Informational (genuine, counterfeit, ...): never changes behaviour. */
  readonly kind?: string;
  readonly description?: string;
  readonly identity: SimulatedIdentity;
  /** Undefined: no DOE capability. */
  readonly doe: SimulatedDoeSpec | undefined;
  /** The emulated SPDM device; undefined when nothing answers CMA-SPDM. */
  readonly profile: DeviceProfile | undefined;
  /** What the standard measurements derive from; a firmware update changes `version`. */
  readonly firmware: { readonly image: string; readonly version: string };
  /** The profile lists its own measurements (a firmware update replaces them with standard ones). */
  readonly explicitMeasurements: boolean;
  readonly misbehavior?: Misbehavior;
}

export interface SimulatedFunctionSpec extends SimulatedDeviceSpec {
  readonly bdf: string;
}

export interface PlatformConfig {
  /** In BDF order. */
  readonly functions: readonly SimulatedFunctionSpec[];
  /** Devices for hot-plug and swap events, by name. */
  readonly spares: readonly SimulatedDeviceSpec[];
}

let validator: SchemaValidator | undefined;

/** The compiled platform schema validator. */
export function platformValidator(): SchemaValidator {
  validator ??= new SchemaValidator(PLATFORM_SCHEMA);
  return validator;
}

let doeValidator: SchemaValidator | undefined;

/**
 * `doe` is false or a mailbox object; for an object that is not a valid mailbox, "must match one
 * of" says less than the mailbox schema's own issues, so those are reported instead.
 */
function explainDoe(doc: unknown, issue: SchemaIssue): PlatformFileIssue[] {
  const plain = [{ path: issue.path, message: issue.message }];
  if (issue.segments.at(-1) !== 'doe' || !issue.message.startsWith('must match one of')) return plain;
  let v: unknown = doc;
  for (const seg of issue.segments) v = (v as Record<string | number, unknown>)[seg];
  if (!v || typeof v !== 'object' || Array.isArray(v)) return plain;
  doeValidator ??= new SchemaValidator({ $defs: PLATFORM_SCHEMA['$defs'], $ref: '#/$defs/doe' });
  const inner = doeValidator.validate(v);
  return inner.length === 0 ? plain : inner.map((i) => ({ path: issue.path + i.path, message: i.message }));
}

type Doc = Record<string, unknown>;

/** Collects issues while compiling; `fail` records one and throws to abandon the current entry. */
class Issues {
  readonly list: PlatformFileIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

class Abandon extends Error {}

function hexNum(v: unknown): number {
  return Number.parseInt(String(v).replace(/^0x/i, ''), 16);
}

/** profile-file.ts names fields like `slots[0].asym`; as a JSON Pointer below `base`. */
function pointerOf(base: string, field: string): string {
  if (field === '(root)' || field === '') return base;
  return `${base}/${field.replace(/\[(\d+)\]/g, '.$1').replace(/\./g, '/')}`;
}

function requestCode(name: unknown): number {
  return (RequestCode as Record<string, number>)[String(name)] ?? -1;
}

function compileMisbehavior(m: Doc, at: string, baseDir: string, issues: Issues): Misbehavior {
  const out: { -readonly [K in keyof Misbehavior]: Misbehavior[K] } = {};
  for (const flag of [
    'badSignature',
    'staleNonce',
    'wrongRequesterContext',
    'badDigest',
    'badCertChainHash',
  ] as const) {
    if (m[flag] === true) out[flag] = true;
  }
  const sub = (k: string): Doc | undefined => m[k] as Doc | undefined;
  const t = sub('truncate');
  if (t) out.truncate = { code: requestCode(t['request']), bytes: t['bytes'] as number };
  const nr = sub('notReady');
  if (nr) {
    out.notReady = {
      code: requestCode(nr['request']),
      times: nr['times'] as number,
      rdtExponent: (nr['rdtExponent'] as number | undefined) ?? 10,
      rdtm: (nr['rdtm'] as number | undefined) ?? 2,
    };
  }
  const b = sub('busy');
  if (b) out.busy = { code: requestCode(b['request']), times: b['times'] as number };
  const h = sub('hang');
  if (h) out.hang = { code: requestCode(h['request']) };
  const d = sub('delay');
  if (d) out.delay = { code: requestCode(d['request']), ms: d['ms'] as number };
  if (m['wrongVersion'] !== undefined) out.wrongVersion = parseVersion(m['wrongVersion'] as string);
  if (m['selectAsym'] !== undefined) out.selectAsym = asymByName(m['selectAsym'] as string);
  if (m['signingKey'] !== undefined) {
    const file = resolve(baseDir, m['signingKey'] as string);
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileBounded(file, LIMITS.keyFileBytes, 'keyFileBytes'));
    } catch (e) {
      issues.add(
        `${at}/signingKey`,
        `cannot read a private key from ${file}: ${e instanceof Error ? e.message : String(e)}`,
      );
      throw new Abandon();
    }
    out.signingKey = key;
  }
  return out;
}

/**
 * Profiles already compiled in this file, by their JSON and by firmware: entries that describe the
 * same device model (a scale run's thousands of copies) share one profile instead of reading,
 * parsing and checking the same chain and key files again. Profiles are never changed once made.
 */
interface ProfileMemo {
  readonly byJson: Map<string, DeviceProfile>;
  readonly byFirmware: Map<string, DeviceProfile>;
}

function compileDevice(o: Doc, at: string, baseDir: string, issues: Issues, memo: ProfileMemo): SimulatedDeviceSpec {
  const sv = o['subsystemVendorId'];
  const ss = o['subsystemId'];
  if ((sv === undefined) !== (ss === undefined)) {
    issues.add(
      `${at}/${sv === undefined ? 'subsystemVendorId' : 'subsystemId'}`,
      'subsystemVendorId and subsystemId go together',
    );
  }
  let serialNumber: bigint | undefined;
  if (o['serialNumber'] !== undefined) {
    serialNumber = BigInt(`0x${(o['serialNumber'] as string).replace(/^0x/i, '')}`);
    if (serialNumber === 0n) issues.add(`${at}/serialNumber`, 'must not be zero (a zero DSN means no serial number)');
  }
  const identity: SimulatedIdentity = {
    vendorId: hexNum(o['vendorId']),
    deviceId: hexNum(o['deviceId']),
    classCode: o['classCode'] === undefined ? 0x120000 : hexNum(o['classCode']),
    revisionId: o['revisionId'] === undefined ? 0x01 : hexNum(o['revisionId']),
    subsystemVendorId: sv === undefined ? 0 : hexNum(sv),
    subsystemId: ss === undefined ? 0 : hexNum(ss),
    ...(serialNumber !== undefined ? { serialNumber } : {}),
  };
  if (identity.vendorId === 0xffff) issues.add(`${at}/vendorId`, 'ffff is what an absent function reads as');

  let doe: SimulatedDoeSpec | undefined;
  const d = o['doe'];
  if (d !== false) {
    const dd = d as Doc;
    const names = dd['protocols'] as string[];
    doe = {
      protocols: [
        { vendorId: PCI_SIG_VENDOR_ID, type: DoeObjectType.DISCOVERY },
        ...names.map((n) => ({
          vendorId: PCI_SIG_VENDOR_ID,
          type: n === 'cma-spdm' ? DoeObjectType.CMA_SPDM : DoeObjectType.SECURED_CMA_SPDM,
        })),
      ],
      responseDelayMs: (dd['responseDelayMs'] as number | undefined) ?? 0,
      capabilityVersion: (dd['capabilityVersion'] as number | undefined) ?? 1,
    };
  }
  const answersSpdm = doe?.protocols.some((p) => p.type !== DoeObjectType.DISCOVERY) ?? false;

  let profile: DeviceProfile | undefined;
  const dev = o['device'] as Doc | undefined;
  if (dev === undefined) {
    if (answersSpdm) issues.add(`${at}/device`, 'is required when the DOE mailbox announces cma-spdm');
  } else {
    const key = JSON.stringify(dev);
    try {
      profile = memo.byJson.get(key) ?? profileFromJson(dev, baseDir);
      memo.byJson.set(key, profile);
    } catch (e) {
      if (!isSpdmError(e)) throw e;
      const field = typeof e.details['field'] === 'string' ? e.details['field'] : '';
      issues.add(pointerOf(`${at}/device`, field), e.message.replace(/^profile: [^:]*: /, ''));
      throw new Abandon();
    }
  }
  const fw = (o['firmware'] as Doc | undefined) ?? {};
  const name =
    (o['name'] as string | undefined) ??
    profile?.name ??
    `${identity.vendorId.toString(16)}:${identity.deviceId.toString(16)}`;
  const firmware = {
    image: (fw['image'] as string | undefined) ?? profile?.name ?? name,
    version: (fw['version'] as string | undefined) ?? '1.0.0',
  };
  const explicitMeasurements = dev?.['measurements'] !== undefined;
  if (profile && !explicitMeasurements) {
    const key = `${JSON.stringify(dev)}\0${firmware.image}\0${firmware.version}`;
    const measured = memo.byFirmware.get(key) ?? {
      ...profile,
      measurements: standardMeasurements(firmware.image, firmware.version),
    };
    memo.byFirmware.set(key, measured);
    profile = measured;
  }
  const m = o['misbehavior'] as Doc | undefined;
  if (m && !profile) issues.add(`${at}/misbehavior`, 'needs a device to misbehave');
  const misbehavior = m && profile ? compileMisbehavior(m, `${at}/misbehavior`, baseDir, issues) : undefined;
  return {
    name,
    ...(typeof o['kind'] === 'string' ? { kind: o['kind'] } : {}),
    ...(typeof o['description'] === 'string' ? { description: o['description'] } : {}),
    identity,
    doe,
    profile,
    firmware,
    explicitMeasurements,
    ...(misbehavior ? { misbehavior } : {}),
  };
}

/**
 * Compiles a parsed platform document (already JSON values). `baseDir` resolves the paths it names.
 * Throws PlatformFileError listing every problem found.
 */
export function compilePlatform(doc: unknown, baseDir: string, source = 'platform'): PlatformConfig {
  const schemaIssues = platformValidator().validate(doc);
  if (schemaIssues.length > 0) {
    throw new PlatformFileError(
      source,
      schemaIssues.flatMap((i) => explainDoe(doc, i)),
    );
  }
  const o = doc as Doc;
  const issues = new Issues();
  const memo: ProfileMemo = { byJson: new Map(), byFirmware: new Map() };
  const functions: SimulatedFunctionSpec[] = [];
  const seen = new Map<string, number>();
  ((o['functions'] as Doc[] | undefined) ?? []).forEach((f, i) => {
    const at = `/functions/${i}`;
    const bdf = f['bdf'] as string;
    const first = seen.get(bdf);
    if (first !== undefined) issues.add(`${at}/bdf`, `${bdf} is already function ${first}`);
    seen.set(bdf, i);
    try {
      functions.push({ bdf, ...compileDevice(f, at, baseDir, issues, memo) });
    } catch (e) {
      if (!(e instanceof Abandon)) throw e;
    }
  });
  const spares: SimulatedDeviceSpec[] = [];
  const spareNames = new Map<string, number>();
  ((o['spares'] as Doc[] | undefined) ?? []).forEach((s, i) => {
    const at = `/spares/${i}`;
    const name = s['name'] as string;
    const first = spareNames.get(name);
    if (first !== undefined) issues.add(`${at}/name`, `"${name}" is already spare ${first}`);
    spareNames.set(name, i);
    try {
      spares.push(compileDevice(s, at, baseDir, issues, memo));
    } catch (e) {
      if (!(e instanceof Abandon)) throw e;
    }
  });
  if (issues.list.length > 0) throw new PlatformFileError(source, issues.list);
  return { functions: functions.sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0)), spares };
}

export type PlatformFileFormat = DocumentFormat;

/** A platform file is bounded like a policy file. */
const PLATFORM_BOUND: DocumentBound = { maxBytes: LIMITS.policyFileBytes, limit: 'policyFileBytes' };

function parseText(text: string, source: string, format?: PlatformFileFormat): unknown {
  return parseDocumentText(
    text,
    { source, ...(format ? { format } : {}) },
    PLATFORM_BOUND,
    (issues) => new PlatformFileError(source, issues),
  );
}

export interface ParsePlatformOptions {
  /** Default: by the source's extension, else JSON when the text starts with `{`, else YAML. */
  readonly format?: PlatformFileFormat;
  /** Name used in messages and for the format guess (a file name). */
  readonly source?: string;
  /** Where relative paths in the file point from (default: the source's directory, else the working directory). */
  readonly baseDir?: string;
}

/** Parses and compiles platform text. Throws PlatformFileError, or a LimitError for a text too large or too deep. */
export function parsePlatformText(text: string, opts: ParsePlatformOptions = {}): PlatformConfig {
  const source = opts.source ?? 'platform';
  const doc = parseText(text, source, opts.format);
  const baseDir = opts.baseDir ?? (opts.source ? dirname(resolve(opts.source)) : process.cwd());
  return compilePlatform(doc, baseDir, source);
}

/** Reads, parses and compiles a platform file; relative paths in it are relative to the file. */
export function loadPlatformFile(path: string, format?: PlatformFileFormat): PlatformConfig {
  const text = readDocumentFile(path, PLATFORM_BOUND, (i) => new PlatformFileError(path, i));
  return parsePlatformText(text, { source: path, ...(format ? { format } : {}) });
}
