/** Shared by the log tests: real Evidence from the device emulator, temp dirs, metadata variants. */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Evidence, PciIdentity } from '../../src/evidence/evidence.js';
import type { SignatureLog } from '../../src/log/log.js';
import type { LogCliIo } from '../../src/cli/log.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { buildProfile, type BuiltProfile } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { SUITES, device, pair, variant, type Suite } from '../support/fixtures.js';

export { SUITES };

export interface EvidenceSpec {
  readonly suite: Suite;
  readonly version: number;
  readonly name: string;
  readonly pci?: PciIdentity;
  readonly mode?: 'all' | 'one-by-one';
  /** Also a signed ENDPOINT_INFO (1.3+; a slot 0xFF device is given EP_INFO_CAP with signature for it). */
  readonly endpointInfo?: boolean;
}

function authenticateOptions(spec: EvidenceSpec) {
  return { ...(spec.mode ? { mode: spec.mode } : {}), ...(spec.endpointInfo ? { endpointInfo: true } : {}) };
}

export function pciFor(i: number): PciIdentity {
  return {
    bdf: `0000:${(3 + i).toString(16).padStart(2, '0')}:00.0`,
    vendorId: 0x8086,
    deviceId: 0x0b60 + i,
    classCode: 0x010802,
    revisionId: 1,
    subsystemVendorId: 0x8086,
    subsystemId: 0x0001,
    serialNumber: (0x1122334455660000 + i).toString(16).padStart(16, '0'),
  };
}

export async function makeEvidence(spec: EvidenceSpec): Promise<Evidence> {
  const built = device(spec.suite);
  const { requester } = pair(variant(built.profile, { versions: [spec.version] }), {
    deviceName: spec.name,
    ...(spec.pci ? { pci: spec.pci } : {}),
  });
  return requester.authenticate(authenticateOptions(spec));
}

/** Every suite at every version it supports (Ed25519 needs 1.2+): 14 evidences, 28 signatures. */
export async function evidenceMatrix(prefix = 'dev'): Promise<Evidence[]> {
  const out: Evidence[] = [];
  let i = 0;
  for (const suite of SUITES) {
    for (const version of [0x10, 0x11, 0x12, 0x13]) {
      if (suite.asymId === 0x0400 && version < 0x12) continue;
      out.push(
        await makeEvidence({ suite, version, name: `${prefix}${i}`, ...(i % 3 !== 2 ? { pci: pciFor(i) } : {}) }),
      );
      i++;
    }
  }
  return out;
}

export interface SessionEvidenceSpec {
  readonly suite: Suite;
  /** 0x11..0x13: KEY_EXCHANGE is 1.1+. */
  readonly version: number;
  readonly name: string;
  readonly pci?: PciIdentity;
  /** No certificate: the device's public key is given out of band and every request names slot 0xFF. */
  readonly provisionedKey?: boolean;
  /** 1.3 multi-key connection (MULTI_KEY_CAP only): the first DIGESTS is in the KEY_EXCHANGE_RSP transcript. */
  readonly multiKey?: boolean;
}

const keyedDevices = new Map<string, BuiltProfile>();

/** A slot 0xFF device of the suite (generated once per process, as device() does for certificate devices). */
function keyedDevice(suite: Suite): BuiltProfile {
  let b = keyedDevices.get(suite.name);
  if (!b) {
    b = buildProfile({
      name: `keyed-${suite.name}`,
      versions: [0x10, 0x11, 0x12, 0x13],
      asymId: suite.asymId,
      hashId: suite.hashId,
      provisionedKey: true,
    });
    keyedDevices.set(suite.name, b);
  }
  return b;
}

/**
 * Evidence of an authentication with a secure session: CHALLENGE_AUTH (when the device has a
 * certificate), KEY_EXCHANGE_RSP and the MEASUREMENTS signed inside the session — real requester,
 * real emulator, as `spdm authenticate --session` runs them.
 */
export async function makeSessionEvidence(spec: SessionEvidenceSpec): Promise<Evidence> {
  const built = spec.provisionedKey ? keyedDevice(spec.suite) : device(spec.suite);
  let flags = built.profile.capabilities.flags | F.KEY_EX | F.ENCRYPT | F.MAC;
  if (spec.multiKey) flags = (flags & ~F.MULTI_KEY_NEG) | F.MULTI_KEY_ONLY;
  const profile: DeviceProfile = {
    ...built.profile,
    versions: [spec.version],
    capabilities: { ...built.profile.capabilities, flags },
    algorithms: { ...built.profile.algorithms, dhe: [DheGroup.SECP256R1], aead: [AeadAlgo.AES_256_GCM] },
  };
  const requester = new Requester(new LoopbackTransport(new Responder(profile), 0x10000, { securedBinding: 'doe' }), {
    versions: [spec.version],
    capabilityFlags: spec.provisionedKey
      ? F.KEY_EX | F.ENCRYPT | F.MAC
      : F.CERT | F.CHAL | F.KEY_EX | F.ENCRYPT | F.MAC,
    session: {},
    deviceName: spec.name,
    ...(spec.provisionedKey ? { devicePublicKey: built.publicKey } : {}),
    ...(spec.pci ? { pci: spec.pci } : {}),
  });
  return requester.authenticate({ session: {} });
}

/** Evidence of a slot 0xFF device (PUB_KEY_ID_CAP) without a session: CHALLENGE_AUTH and MEASUREMENTS signed with the provisioned key. */
export async function makePublicKeyEvidence(spec: EvidenceSpec): Promise<Evidence> {
  const built = keyedDevice(spec.suite);
  const flags = built.profile.capabilities.flags | (spec.endpointInfo ? F.EP_INFO_SIG : 0);
  const { requester } = pair(variant(built.profile, { versions: [spec.version], flags }), {
    deviceName: spec.name,
    devicePublicKey: built.publicKey,
    ...(spec.pci ? { pci: spec.pci } : {}),
  });
  return requester.authenticate(authenticateOptions(spec));
}

/** The same signatures under other metadata (device name, time, serial number): a new, equally valid entry. */
export function vary(e: Evidence, k: number): Evidence {
  return {
    ...e,
    device: `${e.device ?? 'dev'}-${k}`,
    collectedAt: new Date(Date.parse(e.collectedAt) + k).toISOString(),
    ...(e.pci ? { pci: { ...e.pci, serialNumber: k.toString(16).padStart(16, '0') } } : {}),
  };
}

export function tempDir(prefix = 'spdmkit-log-'): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, file: (n) => join(dir, n), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a log's JSON Lines export to `file` and waits until it is on disk. */
export async function exportTo(log: SignatureLog, file: string): Promise<void> {
  const out = createWriteStream(file);
  await log.exportJsonl(out);
  out.end();
  await once(out, 'finish');
}

/** A stream that keeps what is written to it, for the `spdm log` commands' output. */
export class Sink extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Standard output and error for one `spdm log` command run in-process, both kept. */
export function logCliIo(opts: { tty?: boolean; intervalMs?: number } = {}): LogCliIo & { out: Sink; err: Sink } {
  const out = new Sink();
  const err = new Sink();
  err.isTTY = opts.tty ?? false;
  return {
    stdout: out,
    stderr: err,
    out,
    err,
    ...(opts.intervalMs !== undefined ? { progressIntervalMs: opts.intervalMs } : {}),
  };
}
