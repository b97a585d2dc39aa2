/**
 * Emulated devices for the verifier tests: a vendor root CA, device chains whose leaf carries the
 * PCIe CMA SAN of the PCI identity the requester records, and evidence produced by the real
 * requester against the real responder over the loopback transport. Fixed dates and a fixed
 * requester clock keep every verdict independent of the day the suite runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PciIdentity, Evidence } from '../../src/evidence/evidence.js';
import { buildProfile, standardMeasurements } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Responder } from '../../src/responder/responder.js';
import { misbehaving, type Misbehavior } from '../../src/responder/faults/misbehavior.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { systemClock, type Clock } from '../../src/transport/clock.js';
import { createCertificate, createRootCa, type CertIdentity, type LeafOptions } from '../../src/x509/generate.js';
import { cmaSanString } from '../../src/verifier/cma-san.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { fromHex } from '../../src/wire/bytes.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';

export const ASYM = 0x0010; // ECDSA P-256: fast key generation
export const HASH = 0x01; // SHA-256
export const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
export const NOT_AFTER = new Date('2035-01-01T00:00:00Z');
/** When the evidence is collected (the requester's clock). */
export const COLLECTED = new Date('2026-03-01T12:00:00Z');
/** The verifier's clock: a minute later. */
export const NOW = new Date('2026-03-01T12:01:00Z');

export const PCI: PciIdentity = {
  bdf: '0000:03:00.0',
  vendorId: 0x8086,
  deviceId: 0x0b25,
  classCode: 0x020000,
  revisionId: 0x01,
  subsystemVendorId: 0x8086,
  subsystemId: 0x0001,
};
export const PCI_OTHER_MODEL: PciIdentity = { ...PCI, deviceId: 0x0b26 };

const roots = new Map<string, CertIdentity>();

/** A vendor root CA, one per name for the whole run. */
export function vendorRoot(name = 'Acme'): CertIdentity {
  let r = roots.get(name);
  if (!r) {
    r = createRootCa({
      asymId: ASYM,
      commonName: `${name} Device Root CA`,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    });
    roots.set(name, r);
  }
  return r;
}

export interface DeviceSpec {
  readonly name?: string;
  readonly root?: CertIdentity;
  /** The PCI identity the leaf SAN names; null: no CMA SAN at all. */
  readonly san?: PciIdentity | string | null;
  readonly firmware?: string;
  readonly firmwareVersion?: string;
  readonly versions?: readonly number[];
  readonly leafNotBefore?: Date;
  readonly leafNotAfter?: Date;
  readonly leaf?: LeafOptions;
  readonly misbehave?: Misbehavior;
}

export interface TestDevice {
  readonly profile: DeviceProfile;
  readonly root: CertIdentity;
  readonly intermediate: CertIdentity;
  readonly leaf: CertIdentity;
  /** How the device lies: collect() puts the fault wrapper around its responder. */
  readonly misbehave?: Misbehavior;
}

/** A device of model `name` with its own intermediate and leaf keys, issued under `root`. */
export function makeDevice(spec: DeviceSpec = {}): TestDevice {
  const name = spec.name ?? 'Acme X100';
  const root = spec.root ?? vendorRoot();
  const san =
    spec.san === undefined
      ? cmaSanString(PCI)
      : spec.san === null
        ? undefined
        : typeof spec.san === 'string'
          ? spec.san
          : cmaSanString(spec.san);
  const intermediate = createCertificate({
    issuer: root,
    asymId: ASYM,
    commonName: `${name} Intermediate CA`,
    ca: true,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const leaf = createCertificate({
    issuer: intermediate,
    asymId: ASYM,
    commonName: name,
    ca: false,
    leaf: { ...(san !== undefined ? { pcieCmaSan: san } : {}), ...(spec.leaf ?? {}) },
    notBefore: spec.leafNotBefore ?? NOT_BEFORE,
    notAfter: spec.leafNotAfter ?? NOT_AFTER,
  });
  const template = templateProfile();
  const profile: DeviceProfile = {
    ...template,
    name,
    versions: spec.versions ?? [0x12, 0x13],
    slots: [
      {
        slot: 0,
        certificates: [root.certificate, intermediate.certificate, leaf.certificate],
        privateKey: leaf.privateKey,
        asymId: ASYM,
        certModel: 1,
      },
    ],
    measurements: standardMeasurements(spec.firmware ?? name, spec.firmwareVersion ?? '1.0.0'),
  };
  return { profile, root, intermediate, leaf, ...(spec.misbehave ? { misbehave: spec.misbehave } : {}) };
}

let template: DeviceProfile | undefined;
function templateProfile(): DeviceProfile {
  template ??= buildProfile({
    name: 'template',
    versions: [0x12, 0x13],
    asymId: ASYM,
    hashId: HASH,
    root: vendorRoot(),
  }).profile;
  return template;
}

export const fixedClock = (at: Date = COLLECTED): Clock => ({
  now: () => at.getTime(),
  sleep: (ms) => systemClock.sleep(ms),
});

export interface CollectOptions {
  readonly pci?: PciIdentity | null;
  readonly nonce?: Uint8Array;
  readonly at?: Date;
  readonly mode?: 'all' | 'one-by-one';
  /** Also a signed ENDPOINT_INFO (AuthenticateOptions.endpointInfo; the device must be 1.3+). */
  readonly endpointInfo?: boolean;
  /** Versions the requester offers (default: its own, 1.0-1.3). */
  readonly versions?: readonly number[];
}

/** Authenticates the device with the real requester and returns the evidence it produced. */
export async function collect(device: TestDevice | DeviceProfile, o: CollectOptions = {}): Promise<Evidence> {
  const profile = 'profile' in device ? device.profile : device;
  const misbehave = 'profile' in device ? device.misbehave : undefined;
  const pci = o.pci === undefined ? PCI : o.pci;
  const requester = new Requester(
    new LoopbackTransport(misbehave ? misbehaving(profile, misbehave) : new Responder(profile)),
    {
      deviceName: profile.name,
      clock: fixedClock(o.at),
      ...(pci ? { pci } : {}),
      ...(o.versions ? { versions: o.versions } : {}),
    },
  );
  return requester.authenticate({
    ...(o.nonce ? { nonce: o.nonce } : {}),
    ...(o.mode ? { mode: o.mode } : {}),
    ...(o.endpointInfo ? { endpointInfo: true } : {}),
  });
}

/** A JSON round trip, as evidence read back from a file. */
export function viaJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** A deep copy of evidence with `edit` applied (for forgeries). */
export function edited(
  e: Evidence,
  edit: (
    doc: Record<string, unknown> & {
      measurements: Record<string, unknown>[];
      signatures: Record<string, unknown>[];
      slots: Record<string, unknown>[];
    },
  ) => void,
): unknown {
  const doc = viaJson(e) as unknown as Record<string, unknown> & {
    measurements: Record<string, unknown>[];
    signatures: Record<string, unknown>[];
    slots: Record<string, unknown>[];
  };
  edit(doc);
  return doc;
}

export function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(): {
  dir: string;
  write: (name: string, data: string | Uint8Array) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-verifier-'));
  return {
    dir,
    write: (name, data) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function codes(v: { reasons: readonly { code: string }[] }): string[] {
  return v.reasons.map((r) => r.code);
}

/** The requester nonce sessionEvidence() authenticates with. */
export const SESSION_NONCE = 'c3'.repeat(32);
/** What the requester announces for a secure session. */
export const SESSION_REQUESTER_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;

/** A device of makeDevice() that also sets up KEY_EXCHANGE sessions (and heartbeats in them). */
export function sessionDevice(versions: number[]): DeviceProfile {
  const base = makeDevice({ versions }).profile;
  return {
    ...base,
    capabilities: { ...base.capabilities, flags: DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT },
    algorithms: { ...base.algorithms, dhe: [DheGroup.SECP256R1], aead: [AeadAlgo.AES_256_GCM] },
    session: { heartbeatPeriod: 5 },
  };
}

/** authenticate({ session }) with the caller's nonce; `flags` changes what the requester announces (and so A). */
export async function sessionEvidence(
  profile: DeviceProfile,
  version: number,
  flags = SESSION_REQUESTER_FLAGS,
): Promise<{ evidence: Evidence; sessionId: number }> {
  const requester = new Requester(new LoopbackTransport(new Responder(profile), 0x10000, { securedBinding: 'doe' }), {
    versions: [version],
    capabilityFlags: flags,
    session: {},
    pci: PCI,
    clock: fixedClock(),
    deviceName: profile.name,
  });
  const evidence = await requester.authenticate({ nonce: fromHex(SESSION_NONCE), session: { heartbeat: true } });
  const s = requester.lastSession;
  if (!s) throw new Error('the requester reports no session');
  return { evidence, sessionId: s.info.sessionId };
}
