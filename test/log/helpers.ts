/** Shared by the log tests: real Evidence from the device emulator, temp dirs, metadata variants. */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Evidence, PciIdentity } from '../../src/evidence/evidence.js';
import type { SignatureLog } from '../../src/log/log.js';
import { SUITES, device, pair, variant, type Suite } from '../support/fixtures.js';

export { SUITES };

export interface EvidenceSpec {
  readonly suite: Suite;
  readonly version: number;
  readonly name: string;
  readonly pci?: PciIdentity;
  readonly mode?: 'all' | 'one-by-one';
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
  return requester.authenticate(spec.mode ? { mode: spec.mode } : {});
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
