/**
 * Acceptance records and the same-device check. When user space accepts a device it keeps a
 * fingerprint of what it accepted: per signing slot the certificate chain and the leaf public
 * key, every measurement, the version and algorithms. After a reset or resume, fresh evidence is
 * compared with that record instead of being verified against the trust store again: the device
 * is re-accepted only if it is the same (same keys, same chain, same measurements).
 *
 * The fresh evidence's signatures must still verify with its own leaf key and its measurement
 * list must be the one it signed — otherwise an edited copy of old evidence would pass. Replay of
 * old, unedited evidence is stopped by the nonce: pass `expectedNonce` when the caller chose it.
 * Records are plain JSON.
 */
import { BaseHashAlgo, hashInfo } from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import type { Evidence, PciIdentity } from '../evidence/evidence.js';
import { versionString } from '../spdm/codes.js';
import { measurementTypeName } from '../spdm/messages/measurement-block.js';
import { concat, fromHex, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import type { ParsedCertificate } from '../x509/certificate.js';
import { sharedCertificateCache } from '../x509/cache.js';
import { chainForSlot } from '../x509/slot-chain.js';
import { cmaSanString } from './cma-san.js';
import { parseEvidence } from './evidence-input.js';
import {
  analyseSignatures,
  provesKeyPossession,
  reconcileMeasurements,
  type EffectiveMeasurement,
  type SignedView,
} from './signed.js';

export const ACCEPTANCE_FORMAT = 'spdmkit-acceptance/1';

export interface AcceptedSlot {
  readonly slot: number;
  /** SHA-256 of the DER certificates of the chain, concatenated root first. */
  readonly certificatesSha256: string;
  /** SHA-256 of the leaf's SubjectPublicKeyInfo DER. */
  readonly leafPublicKeySha256: string;
  readonly leafSubject: string;
  readonly leafFingerprintSha256: string;
  readonly rootSubject: string;
}

export interface AcceptedMeasurement {
  readonly index: number;
  /** SHA-256 of the whole measurement block (spec, type, value). */
  readonly blockSha256: string;
  readonly type?: number;
  /** The value itself when it is at most 64 bytes (digests, version strings, SVNs), for messages. */
  readonly value?: string;
  /** Covered by a valid signature when accepted. */
  readonly signed: boolean;
}

export interface AcceptanceRecord {
  readonly format: typeof ACCEPTANCE_FORMAT;
  readonly acceptedAt: string;
  readonly collectedAt: string;
  readonly device?: string;
  readonly pci?: PciIdentity;
  readonly version: string;
  readonly versionByte: number;
  readonly algorithms: {
    readonly baseAsym: number;
    readonly baseHash: number;
    readonly measurementHash: number;
    readonly measurementSpec: number;
  };
  readonly slots: readonly AcceptedSlot[];
  readonly measurements: readonly AcceptedMeasurement[];
}

export type ChangeCode =
  | 'MALFORMED_RECORD'
  | 'MALFORMED_EVIDENCE'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MISSING'
  | 'NONCE_MISMATCH'
  | 'CHAIN_CHANGED'
  | 'LEAF_KEY_CHANGED'
  | 'MEASUREMENT_CHANGED'
  | 'MEASUREMENT_ADDED'
  | 'MEASUREMENT_REMOVED'
  | 'MEASUREMENT_UNSIGNED'
  | 'VERSION_CHANGED'
  | 'ALGORITHMS_CHANGED'
  | 'PCI_IDENTITY_CHANGED';

export interface Change {
  readonly code: ChangeCode;
  readonly message: string;
  readonly slot?: number;
  readonly index?: number;
}

export interface SameDeviceResult {
  readonly same: boolean;
  readonly changes: readonly Change[];
}

function sha256(...parts: Uint8Array[]): string {
  return toHex(digest(BaseHashAlgo.SHA_256, ...parts));
}

interface Analysed {
  readonly e: Evidence;
  readonly views: readonly SignedView[];
  readonly chains: ReadonlyMap<number, readonly ParsedCertificate[] | string>;
  readonly measurements: ReadonlyMap<number, EffectiveMeasurement>;
  readonly forged: readonly { index: number; message: string }[];
  readonly malformed: readonly { index: number; message: string }[];
}

function chainOf(e: Evidence, slot: number): readonly ParsedCertificate[] | string {
  const s = e.slots.find((x) => x.slot === slot);
  if (!s || s.certChain === '') return `slot ${slot} has no certificate chain`;
  try {
    if (!hashInfo(e.algorithms.baseHash)) return `unknown hash algorithm 0x${e.algorithms.baseHash.toString(16)}`;
    return chainForSlot(fromHex(s.certChain), {
      version: e.versionByte,
      hashId: e.algorithms.baseHash,
      cache: sharedCertificateCache,
    }).certificates;
  } catch (err) {
    return `slot ${slot}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function analyse(e: Evidence): Analysed {
  const views = analyseSignatures(e);
  const slots = [...new Set(views.map((v) => v.slot))].sort((a, b) => a - b);
  const chains = new Map(slots.map((s) => [s, chainOf(e, s)] as const));
  const rec = reconcileMeasurements(e, views, new Set(slots));
  return { e, views, chains, measurements: rec.measurements, forged: rec.forged, malformed: rec.malformed };
}

function slotRecord(slot: number, certs: readonly ParsedCertificate[]): AcceptedSlot {
  const leaf = certs.at(-1) as ParsedCertificate;
  return {
    slot,
    certificatesSha256: sha256(concat(certs.map((c) => c.der))),
    leafPublicKeySha256: sha256(leaf.spki),
    leafSubject: leaf.subject,
    leafFingerprintSha256: leaf.fingerprintSha256,
    rootSubject: (certs[0] as ParsedCertificate).subject,
  };
}

function measurementRecord(m: EffectiveMeasurement): AcceptedMeasurement {
  return {
    index: m.index,
    blockSha256: sha256(fromHex(m.block)),
    ...(m.type !== undefined ? { type: m.type } : {}),
    ...(m.value.length <= 128 ? { value: m.value } : {}),
    signed: m.signed,
  };
}

/**
 * The fingerprint of accepted evidence. Throws SpdmError when the evidence is malformed or a
 * signature does not verify: only evidence that verify() found trusted should be recorded.
 */
export function acceptanceRecord(evidence: unknown, options: { readonly now?: Date } = {}): AcceptanceRecord {
  const parsed = parseEvidence(evidence);
  if (!parsed.evidence)
    throw new SpdmError('DECODE_ERROR', `malformed evidence: ${parsed.problems.slice(0, 5).join('; ')}`);
  const a = analyse(parsed.evidence);
  const e = a.e;
  if (a.views.length === 0) throw new SpdmError('SIGNATURE_INVALID', 'the evidence holds no signature');
  const bad = a.views.find((v) => !v.valid);
  if (bad)
    throw new SpdmError(
      'SIGNATURE_INVALID',
      `signature ${bad.signatureIndex} (${bad.kind}): ${bad.problems.join('; ')}`,
    );
  if (a.forged.length > 0) throw new SpdmError('SIGNATURE_INVALID', a.forged.map((f) => f.message).join('; '));
  if (a.malformed.length > 0) throw new SpdmError('DECODE_ERROR', a.malformed.map((f) => f.message).join('; '));
  const slots: AcceptedSlot[] = [];
  for (const [slot, c] of a.chains) {
    if (typeof c === 'string') throw new SpdmError('CERT_CHAIN_INVALID', c);
    slots.push(slotRecord(slot, c));
  }
  return {
    format: ACCEPTANCE_FORMAT,
    acceptedAt: (options.now ?? new Date()).toISOString(),
    collectedAt: e.collectedAt,
    ...(e.device !== undefined ? { device: e.device } : {}),
    ...(e.pci ? { pci: e.pci } : {}),
    version: versionString(e.versionByte),
    versionByte: e.versionByte,
    algorithms: {
      baseAsym: e.algorithms.baseAsym,
      baseHash: e.algorithms.baseHash,
      measurementHash: e.algorithms.measurementHash,
      measurementSpec: e.algorithms.measurementSpec,
    },
    slots,
    measurements: [...a.measurements.values()].map(measurementRecord),
  };
}

// ---- reading a stored record defensively ---------------------------------------------------

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const HEX64 = /^[0-9a-f]{64}$/;

function readRecord(v: unknown): AcceptanceRecord | string {
  if (!isObj(v)) return 'the record is not an object';
  if (v['format'] !== ACCEPTANCE_FORMAT) return `the record format is not "${ACCEPTANCE_FORMAT}"`;
  if (typeof v['versionByte'] !== 'number' || !isObj(v['algorithms']))
    return 'the record lacks versionByte or algorithms';
  const alg = v['algorithms'];
  for (const k of ['baseAsym', 'baseHash', 'measurementHash', 'measurementSpec'])
    if (typeof alg[k] !== 'number') return `the record's algorithms.${k} is not a number`;
  if (!Array.isArray(v['slots']) || v['slots'].length === 0) return 'the record holds no slot';
  for (const [i, s] of (v['slots'] as unknown[]).entries()) {
    if (
      !isObj(s) ||
      typeof s['slot'] !== 'number' ||
      typeof s['certificatesSha256'] !== 'string' ||
      !HEX64.test(s['certificatesSha256']) ||
      typeof s['leafPublicKeySha256'] !== 'string' ||
      !HEX64.test(s['leafPublicKeySha256'])
    ) {
      return `the record's slots[${i}] is malformed`;
    }
  }
  if (!Array.isArray(v['measurements'])) return 'the record lacks measurements';
  for (const [i, m] of (v['measurements'] as unknown[]).entries()) {
    if (
      !isObj(m) ||
      typeof m['index'] !== 'number' ||
      typeof m['blockSha256'] !== 'string' ||
      !HEX64.test(m['blockSha256']) ||
      typeof m['signed'] !== 'boolean'
    ) {
      return `the record's measurements[${i}] is malformed`;
    }
  }
  return v as unknown as AcceptanceRecord;
}

function pciKey(p: PciIdentity | undefined): string | undefined {
  return p ? cmaSanString(p) : undefined;
}

function describeMeasurement(r: AcceptedMeasurement | undefined, m: EffectiveMeasurement | undefined): string {
  const type = m?.type ?? r?.type;
  return type !== undefined ? ` (${measurementTypeName(type)})` : '';
}

function shortHex(h: string | undefined): string {
  return h === undefined ? '…' : h.length > 20 ? `${h.slice(0, 16)}…` : h;
}

/**
 * Whether `fresh` evidence comes from the device `record` describes. No trust store is consulted;
 * the fresh signatures must verify with the fresh leaf key, and that key and chain must be the
 * recorded ones. Never throws.
 */
export function sameDevice(
  record: unknown,
  fresh: unknown,
  options: { readonly expectedNonce?: string | Uint8Array } = {},
): SameDeviceResult {
  const changes: Change[] = [];
  const done = (): SameDeviceResult => ({ same: changes.length === 0, changes });
  try {
    const r = readRecord(record);
    if (typeof r === 'string') {
      changes.push({ code: 'MALFORMED_RECORD', message: r });
      return done();
    }
    const parsed = parseEvidence(fresh);
    if (!parsed.evidence) {
      for (const p of parsed.problems.slice(0, 10)) changes.push({ code: 'MALFORMED_EVIDENCE', message: p });
      return done();
    }
    const a = analyse(parsed.evidence);
    const e = a.e;

    // The fresh evidence must be genuine on its own terms.
    if (a.views.length === 0)
      changes.push({ code: 'SIGNATURE_MISSING', message: 'the fresh evidence holds no signature' });
    else if (!a.views.some(provesKeyPossession) && a.views.every((v) => v.valid))
      changes.push({
        code: 'SIGNATURE_MISSING',
        message: 'no signature of the fresh evidence is over a requester nonce',
      });
    for (const v of a.views) {
      if (!v.valid)
        changes.push({
          code: 'SIGNATURE_INVALID',
          slot: v.slot,
          message: `signature ${v.signatureIndex} (${v.kind}, slot ${v.slot}): ${v.problems.join('; ')}`,
        });
    }
    for (const f of a.forged)
      changes.push({
        code: 'SIGNATURE_INVALID',
        index: f.index,
        message: `${f.message}: the evidence was altered after signing`,
      });
    for (const m of a.malformed) changes.push({ code: 'MALFORMED_EVIDENCE', index: m.index, message: m.message });
    if (options.expectedNonce !== undefined) {
      const want =
        typeof options.expectedNonce === 'string'
          ? options.expectedNonce.toLowerCase().replace(/^0x/, '')
          : toHex(options.expectedNonce);
      for (const v of a.views.filter((x) => x.valid && x.requesterNonce !== want)) {
        changes.push({
          code: 'NONCE_MISMATCH',
          message: `signature ${v.signatureIndex} (${v.kind}) is over nonce ${v.requesterNonce ?? '(none)'}, not the expected ${want}: replayed evidence`,
        });
      }
    }

    // Identity: every recorded slot presents the recorded chain and key.
    const signedVersion = a.views.find((v) => v.valid)?.version ?? e.versionByte;
    for (const rs of r.slots) {
      const c = a.chains.get(rs.slot) ?? chainOf(e, rs.slot);
      if (typeof c === 'string') {
        changes.push({
          code: 'CHAIN_CHANGED',
          slot: rs.slot,
          message: `slot ${rs.slot}: the device no longer presents the accepted chain (${c})`,
        });
        continue;
      }
      const now = slotRecord(rs.slot, c);
      if (now.certificatesSha256 !== rs.certificatesSha256) {
        changes.push({
          code: 'CHAIN_CHANGED',
          slot: rs.slot,
          message: `slot ${rs.slot}: certificate chain changed (leaf "${rs.leafSubject}" → "${now.leafSubject}")`,
        });
      }
      if (now.leafPublicKeySha256 !== rs.leafPublicKeySha256) {
        changes.push({
          code: 'LEAF_KEY_CHANGED',
          slot: rs.slot,
          message: `slot ${rs.slot}: the leaf public key changed (sha256 ${shortHex(rs.leafPublicKeySha256)} → ${shortHex(now.leafPublicKeySha256)}): another device or a re-keyed one`,
        });
      }
    }
    for (const slot of a.chains.keys()) {
      if (!r.slots.some((s) => s.slot === slot))
        changes.push({
          code: 'CHAIN_CHANGED',
          slot,
          message: `the device signed with slot ${slot}, which was not accepted`,
        });
    }
    if (signedVersion !== r.versionByte)
      changes.push({
        code: 'VERSION_CHANGED',
        message: `SPDM version changed from ${versionString(r.versionByte)} to ${versionString(signedVersion)}`,
      });
    const ra = r.algorithms;
    const ea = e.algorithms;
    if (
      ra.baseAsym !== ea.baseAsym ||
      ra.baseHash !== ea.baseHash ||
      ra.measurementHash !== ea.measurementHash ||
      ra.measurementSpec !== ea.measurementSpec
    ) {
      changes.push({
        code: 'ALGORITHMS_CHANGED',
        message: `negotiated algorithms changed (asym 0x${ra.baseAsym.toString(16)}→0x${ea.baseAsym.toString(16)}, hash 0x${ra.baseHash.toString(16)}→0x${ea.baseHash.toString(16)}, measurement hash 0x${ra.measurementHash.toString(16)}→0x${ea.measurementHash.toString(16)})`,
      });
    }
    const rp = pciKey(r.pci);
    const ep = pciKey(e.pci);
    if (rp !== ep)
      changes.push({
        code: 'PCI_IDENTITY_CHANGED',
        message: `PCI identity changed from ${rp ?? '(none)'} to ${ep ?? '(none)'}`,
      });

    // Measurements, index by index.
    const recorded = new Map(r.measurements.map((m) => [m.index, m]));
    for (const [index, rm] of [...recorded.entries()].sort((x, y) => x[0] - y[0])) {
      const m = a.measurements.get(index);
      if (!m) {
        changes.push({
          code: 'MEASUREMENT_REMOVED',
          index,
          message: `measurement ${index}${describeMeasurement(rm, undefined)} is no longer reported`,
        });
        continue;
      }
      const now = measurementRecord(m);
      if (now.blockSha256 !== rm.blockSha256) {
        changes.push({
          code: 'MEASUREMENT_CHANGED',
          index,
          message: `measurement ${index}${describeMeasurement(rm, m)} changed: ${shortHex(rm.value)} → ${shortHex(now.value)}`,
        });
      } else if (rm.signed && !m.signed && !a.views.some((v) => !v.valid && v.kind === 'MEASUREMENTS')) {
        // (An invalid MEASUREMENTS signature is already reported; its blocks are unsigned as a consequence.)
        changes.push({
          code: 'MEASUREMENT_UNSIGNED',
          index,
          message: `measurement ${index} was signed when accepted and is not covered by a valid signature now`,
        });
      }
    }
    for (const [index, m] of a.measurements) {
      if (!recorded.has(index))
        changes.push({
          code: 'MEASUREMENT_ADDED',
          index,
          message: `measurement ${index}${describeMeasurement(undefined, m)} is new: ${shortHex(m.value)}`,
        });
    }
  } catch (err) {
    changes.push({
      code: 'MALFORMED_EVIDENCE',
      message: `cannot compare: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
  return done();
}
