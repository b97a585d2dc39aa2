/**
 * Evidence arrives from a file, a socket or a remote party: it is hostile until checked. This
 * module turns an `unknown` (the result of JSON.parse) into an Evidence value, field by field,
 * or into a list of problems naming the path of every bad field. It never throws.
 *
 * Only what the verifier reads is checked. Derived, unsigned summaries (certificate summaries,
 * chain problems, capability names, the `verified` and `signed` flags) are carried along but never
 * trusted: the verifier recomputes them from the signed bytes.
 */
import {
  EVIDENCE_FORMAT,
  type Evidence,
  type MeasurementEvidence,
  type PciIdentity,
  type SignatureEvidence,
  type SignedMessageKind,
  type SlotEvidence,
} from '../evidence/evidence.js';
import { isSignedMessageKind, SIGNED_KINDS, SIGNED_MESSAGE_KINDS } from '../evidence/signed-kinds.js';

/** Upper bounds that keep a hostile file from making the verifier do unbounded work. */
export const EVIDENCE_LIMITS = {
  slots: 8,
  /** A DER SubjectPublicKeyInfo: an RSA-4096 key is some 550 bytes; 16 KiB leaves room for any algorithm SPDM names. */
  publicKeyHexChars: 2 * 0x4000,
  signatures: 64,
  measurements: 255,
  /** Hex characters of any one byte string (a 0xFFFFFF measurement record is the largest). */
  hexChars: 2 * 0x1000000,
} as const;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Checker {
  readonly problems: string[] = [];

  bad(path: string, what: string): undefined {
    this.problems.push(`${path}: ${what}`);
    return undefined;
  }

  obj(v: unknown, path: string): Obj | undefined {
    return isObj(v) ? v : this.bad(path, 'must be an object');
  }

  arr(v: unknown, path: string, max: number): unknown[] | undefined {
    if (!Array.isArray(v)) return this.bad(path, 'must be an array');
    if (v.length > max) return this.bad(path, `holds ${v.length} entries, at most ${max} are accepted`);
    return v as unknown[];
  }

  str(v: unknown, path: string, max = 4096): string | undefined {
    if (typeof v !== 'string') return this.bad(path, 'must be a string');
    if (v.length > max) return this.bad(path, `is ${v.length} characters long, at most ${max} are accepted`);
    return v;
  }

  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.bad(path, 'must be an integer');
    if (v < min || v > max) return this.bad(path, `${v} is outside ${min}..${max}`);
    return v;
  }

  /** Lowercase hex of whole bytes; `exactBytes` pins the length. */
  hex(v: unknown, path: string, opts: { exactBytes?: number; allowEmpty?: boolean } = {}): string | undefined {
    if (typeof v !== 'string') return this.bad(path, 'must be a hex string');
    if (v.length > EVIDENCE_LIMITS.hexChars)
      return this.bad(path, `is ${v.length} hex digits long, at most ${EVIDENCE_LIMITS.hexChars} are accepted`);
    if (v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v)) return this.bad(path, 'must be an even number of hex digits');
    if (v.length === 0 && !opts.allowEmpty) return this.bad(path, 'must not be empty');
    if (opts.exactBytes !== undefined && v.length !== 2 * opts.exactBytes)
      return this.bad(path, `must be ${opts.exactBytes} bytes, has ${v.length / 2}`);
    return v.toLowerCase();
  }

  bool(v: unknown, path: string): boolean | undefined {
    return typeof v === 'boolean' ? v : this.bad(path, 'must be true or false');
  }
}

function pciIdentity(c: Checker, v: unknown, path: string): PciIdentity | undefined {
  const o = c.obj(v, path);
  if (!o) return undefined;
  const vendorId = c.int(o['vendorId'], `${path}.vendorId`, 0, 0xffff);
  const deviceId = c.int(o['deviceId'], `${path}.deviceId`, 0, 0xffff);
  const classCode = c.int(o['classCode'], `${path}.classCode`, 0, 0xffffff);
  const revisionId = c.int(o['revisionId'], `${path}.revisionId`, 0, 0xff);
  const ssvid =
    o['subsystemVendorId'] === undefined
      ? undefined
      : c.int(o['subsystemVendorId'], `${path}.subsystemVendorId`, 0, 0xffff);
  const ssid = o['subsystemId'] === undefined ? undefined : c.int(o['subsystemId'], `${path}.subsystemId`, 0, 0xffff);
  if ((o['subsystemVendorId'] === undefined) !== (o['subsystemId'] === undefined))
    c.bad(path, 'subsystemVendorId and subsystemId come together (Type 0 header) or not at all');
  const serialNumber =
    o['serialNumber'] === undefined ? undefined : c.hex(o['serialNumber'], `${path}.serialNumber`, { exactBytes: 8 });
  const bdf = o['bdf'] === undefined ? undefined : c.str(o['bdf'], `${path}.bdf`, 64);
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

function slotEvidence(c: Checker, v: unknown, path: string): SlotEvidence | undefined {
  const o = c.obj(v, path);
  if (!o) return undefined;
  const slot = c.int(o['slot'], `${path}.slot`, 0, 0xff);
  const digest = c.hex(o['digest'], `${path}.digest`, { allowEmpty: true });
  const certChain = c.hex(o['certChain'], `${path}.certChain`, { allowEmpty: true });
  const certModel = o['certModel'] === undefined ? 0 : c.int(o['certModel'], `${path}.certModel`, 0, 0xff);
  if (slot === undefined || digest === undefined || certChain === undefined || certModel === undefined)
    return undefined;
  // Summaries are informational only; keep them if they are arrays, never read them for decisions.
  return {
    slot,
    digest,
    certChain,
    certModel,
    certificates: Array.isArray(o['certificates']) ? (o['certificates'] as SlotEvidence['certificates']) : [],
    chainProblems: Array.isArray(o['chainProblems']) ? (o['chainProblems'] as SlotEvidence['chainProblems']) : [],
  };
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

function signatureEvidence(c: Checker, v: unknown, path: string): SignatureEvidence | undefined {
  const o = c.obj(v, path);
  if (!o) return undefined;
  const kind = isSignedMessageKind(o['kind'])
    ? o['kind']
    : c.bad(`${path}.kind`, `must be one of ${SIGNED_MESSAGE_KINDS.map((k) => `"${k}"`).join(', ')}`);
  const sessionId = kind === undefined ? undefined : sessionIdField(c, o['sessionId'], `${path}.sessionId`, kind);
  const slot = c.int(o['slot'], `${path}.slot`, 0, 0xff);
  const version = c.int(o['version'], `${path}.version`, 0x10, 0x1f);
  const asymAlgo = c.int(o['asymAlgo'], `${path}.asymAlgo`, 0, 0xffffffff);
  const hashAlgo = c.int(o['hashAlgo'], `${path}.hashAlgo`, 0, 0xffffffff);
  const context = c.str(o['context'], `${path}.context`, 256);
  const requesterNonce = c.hex(o['requesterNonce'], `${path}.requesterNonce`, { exactBytes: 32 });
  const responderNonce = c.hex(o['responderNonce'], `${path}.responderNonce`, { exactBytes: 32 });
  const requesterContext =
    o['requesterContext'] === undefined ? undefined : c.hex(o['requesterContext'], `${path}.requesterContext`);
  const transcript = c.hex(o['transcript'], `${path}.transcript`);
  const transcriptHash = c.hex(o['transcriptHash'], `${path}.transcriptHash`);
  const signature = c.hex(o['signature'], `${path}.signature`);
  const msh =
    o['measurementSummaryHash'] === undefined
      ? undefined
      : c.hex(o['measurementSummaryHash'], `${path}.measurementSummaryHash`);
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
    // Never trusted: the verifier checks every signature itself.
    verified: o['verified'] === true,
  };
}

function measurementEvidence(c: Checker, v: unknown, path: string): MeasurementEvidence | undefined {
  const o = c.obj(v, path);
  if (!o) return undefined;
  const index = c.int(o['index'], `${path}.index`, 1, 0xfe);
  const spec = c.int(o['spec'], `${path}.spec`, 0, 0xff);
  const value = c.hex(o['value'], `${path}.value`, { allowEmpty: true });
  const block = c.hex(o['block'], `${path}.block`);
  const type = o['type'] === undefined ? undefined : c.int(o['type'], `${path}.type`, 0, 0x7f);
  const raw = o['raw'] === undefined ? undefined : c.bool(o['raw'], `${path}.raw`);
  if (index === undefined || spec === undefined || value === undefined || block === undefined) return undefined;
  return {
    index,
    spec,
    ...(type !== undefined ? { type } : {}),
    ...(typeof o['typeName'] === 'string' ? { typeName: o['typeName'] } : {}),
    ...(raw !== undefined ? { raw } : {}),
    value,
    block,
    // Never trusted: coverage by a signature is recomputed from the signed transcripts.
    signed: o['signed'] === true,
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
  const collectedAt = c.str(o['collectedAt'], `${root}.collectedAt`, 64);
  if (collectedAt !== undefined && Number.isNaN(Date.parse(collectedAt))) c.bad(`${root}.collectedAt`, 'is not a date');
  const device = o['device'] === undefined ? undefined : c.str(o['device'], `${root}.device`, 1024);
  const pci = o['pci'] === undefined ? undefined : pciIdentity(c, o['pci'], `${root}.pci`);
  const version = c.str(o['version'], `${root}.version`, 16);
  const versionByte = c.int(o['versionByte'], `${root}.versionByte`, 0x10, 0x1f);
  const caps = c.obj(o['capabilities'], `${root}.capabilities`);
  const flags = caps ? c.int(caps['flags'], `${root}.capabilities.flags`, 0, 0xffffffff) : undefined;
  const alg = c.obj(o['algorithms'], `${root}.algorithms`);
  const algNum = (k: string) => (alg ? c.int(alg[k], `${root}.algorithms.${k}`, 0, 0xffffffff) : undefined);
  const baseAsym = algNum('baseAsym');
  const baseHash = algNum('baseHash');
  const measurementHash = algNum('measurementHash');
  const measurementSpec = algNum('measurementSpec');
  const otherParams = alg && alg['otherParams'] !== undefined ? algNum('otherParams') : 0;
  const publicKey = o['publicKey'] === undefined ? undefined : c.hex(o['publicKey'], `${root}.publicKey`);
  if (publicKey !== undefined && publicKey.length > EVIDENCE_LIMITS.publicKeyHexChars)
    c.bad(`${root}.publicKey`, `longer than ${EVIDENCE_LIMITS.publicKeyHexChars} hex characters`);
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
  const num = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) ? v : 0);
  const evidence: Evidence = {
    format: EVIDENCE_FORMAT,
    collectedAt: collectedAt as string,
    ...(device !== undefined ? { device } : {}),
    ...(pci !== undefined ? { pci } : {}),
    version: version as string,
    versionByte: versionByte as number,
    capabilities: {
      flags: flags as number,
      flagNames: Array.isArray(caps?.['flagNames'])
        ? (caps['flagNames'] as unknown[]).filter((x): x is string => typeof x === 'string')
        : [],
      ctExponent: num(caps?.['ctExponent']),
      dataTransferSize: num(caps?.['dataTransferSize']),
      maxSpdmMsgSize: num(caps?.['maxSpdmMsgSize']),
    },
    algorithms: {
      baseAsym: baseAsym as number,
      baseAsymName: typeof alg?.['baseAsymName'] === 'string' ? alg['baseAsymName'] : '',
      baseHash: baseHash as number,
      baseHashName: typeof alg?.['baseHashName'] === 'string' ? alg['baseHashName'] : '',
      measurementHash: measurementHash as number,
      measurementHashName: typeof alg?.['measurementHashName'] === 'string' ? alg['measurementHashName'] : '',
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
