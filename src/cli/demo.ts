/**
 * `spdm demo`: authenticates a small fleet of in-process emulated devices — several versions and
 * algorithm suites under one vendor root, a counterfeit with a chain from an unknown root, and a
 * clone that presents a genuine chain without holding its key — and prints what happened.
 */
import { asymInfo, hashInfo } from '../crypto/algorithms.js';
import { SpdmError } from '../wire/errors.js';
import { Requester } from '../requester/requester.js';
import { Responder } from '../responder/responder.js';
import { misbehaving, type Misbehavior } from '../responder/faults/misbehavior.js';
import { buildProfile, type BuiltProfile } from '../responder/profiles.js';
import { LoopbackTransport } from '../transport/loopback.js';
import { createRootCa, generateKeyPair } from '../x509/generate.js';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.js';
import { toHex } from '../wire/bytes.js';
import { systemRandom } from '../crypto/random.js';
import { NONCE_SIZE } from '../spdm/messages/challenge.js';
import type { Evidence, PciIdentity } from '../evidence/evidence.js';
import { TrustStore } from '../verifier/trust-store.js';
import { verify } from '../verifier/verify.js';
import type { Verdict } from '../verifier/verdict.js';

export interface DemoRow {
  readonly device: string;
  readonly version: string;
  readonly algorithms: string;
  readonly subject: string;
  readonly measurements: string;
  readonly outcome: string;
  readonly ok: boolean;
  readonly evidence?: Evidence;
  /** The verifier's verdict (default policy: every certificate rule, the CMA SAN included). */
  readonly verdict?: Verdict;
}

interface DemoDevice {
  readonly built: BuiltProfile;
  readonly expectation: string;
  /** Where the simulated platform found it: config-space IDs, which the CMA SAN must name. */
  readonly pci: PciIdentity;
  /** How the device lies (the clone), through the fault wrapper around its clean responder. */
  readonly misbehave?: Misbehavior;
}

/** The PCI identity of demo device `i`, and the PCIe CMA SAN a genuine leaf carries for it. */
function demoPci(i: number, name: string): { pci: PciIdentity; san: string } {
  const deviceId = 0x1000 + name.length;
  return {
    pci: {
      bdf: `0000:${(i + 1).toString(16).padStart(2, '0')}:00.0`,
      vendorId: 0x1dea,
      deviceId,
      classCode: 0x010802,
      revisionId: 1,
    },
    san: `Vendor=1dea:Device=${deviceId.toString(16)}:CC=010802:REV=01`,
  };
}

export function demoFleet(): { devices: DemoDevice[]; trustedRoot: ParsedCertificate } {
  const vendorRoot = createRootCa({ asymId: 0x0080, commonName: 'Acme Devices Root CA' });
  const genuine = (
    i: number,
    name: string,
    versions: number[],
    asymId: number,
    hashId: number,
    firmwareVersion: string,
  ): DemoDevice => {
    const { pci, san } = demoPci(i, name);
    return {
      built: buildProfile({
        name,
        versions,
        asymId,
        hashId,
        root: vendorRoot,
        firmwareVersion,
        leaf: { pcieCmaSan: san, dmtfDeviceInfo: `ACME:${name}:0001` },
      }),
      expectation: 'genuine',
      pci,
    };
  };
  const devices: DemoDevice[] = [
    genuine(0, 'acme-nvme0', [0x10, 0x11, 0x12, 0x13], 0x0080, 0x02, '3.1.4'),
    genuine(1, 'acme-nic0', [0x10, 0x11, 0x12], 0x0008, 0x02, '2.0.1'),
    genuine(2, 'acme-gpu0', [0x10, 0x11], 0x0010, 0x01, '5.5.0'),
    genuine(3, 'acme-fpga0', [0x10], 0x0001, 0x01, '1.0.0'),
    genuine(4, 'acme-dpu0', [0x12, 0x13], 0x0400, 0x04, '4.2.0'),
    {
      built: buildProfile({ name: 'knockoff-nvme1', versions: [0x10, 0x11, 0x12], asymId: 0x0010, hashId: 0x01 }),
      expectation: 'counterfeit: chain from an unknown root',
      pci: demoPci(5, 'knockoff-nvme1').pci,
    },
  ];
  const cloneSource = genuine(6, 'acme-nvme2', [0x12, 0x13], 0x0080, 0x02, '3.1.4');
  devices.push({
    ...cloneSource,
    built: {
      ...cloneSource.built,
      profile: { ...cloneSource.built.profile, name: 'clone-nvme2' },
    },
    misbehave: { signingKey: generateKeyPair(0x0080).privateKey },
    expectation: 'clone: genuine chain, wrong key',
  });
  return { devices, trustedRoot: parseCertificate(vendorRoot.certificate) };
}

function algorithmsOf(e: Evidence): string {
  return `${asymInfo(e.algorithms.baseAsym)?.name ?? '-'}/${hashInfo(e.algorithms.baseHash)?.name ?? '-'}`;
}

export async function runDemo(): Promise<DemoRow[]> {
  const { devices, trustedRoot } = demoFleet();
  const store = TrustStore.fromCertificates([trustedRoot]);
  const rows: DemoRow[] = [];
  await Promise.all(
    devices.map(async ({ built, pci, misbehave }, i) => {
      const responder = misbehave ? misbehaving(built.profile, misbehave) : new Responder(built.profile);
      const requester = new Requester(new LoopbackTransport(responder), { deviceName: built.profile.name, pci });
      let row: DemoRow;
      try {
        const nonce = systemRandom(NONCE_SIZE);
        const evidence = await requester.authenticate({ nonce });
        // Trust is the verifier's decision, from the signed evidence, as in spdm verify.
        const verdict = verify(evidence, undefined, store, { expectedNonce: toHex(nonce) });
        const trusted = verdict.status === 'trusted';
        const signedBlocks = evidence.measurements.filter((m) => m.signed).length;
        const fw = evidence.measurements.find((m) => m.type === 6);
        const fwText = fw ? `fw ${Buffer.from(fw.value, 'hex').toString('utf8')}, ` : '';
        row = {
          device: built.profile.name,
          version: evidence.version,
          algorithms: algorithmsOf(evidence),
          subject: evidence.slots[0]?.certificates.at(-1)?.subject ?? '-',
          measurements: `${fwText}${evidence.measurements.length} blocks, ${signedBlocks} signed`,
          outcome: trusted
            ? `TRUSTED, ${verdict.checks.length} checks passed`
            : `UNTRUSTED ${verdict.reasons.map((r) => r.code).join(', ')}: ${verdict.reasons[0]?.message ?? ''}`,
          ok: trusted,
          evidence,
          verdict,
        };
      } catch (e) {
        const conn = (() => {
          try {
            return requester.connection;
          } catch {
            return undefined;
          }
        })();
        const partial = conn ? requester.evidence() : undefined;
        row = {
          device: built.profile.name,
          version: conn ? `${conn.version >> 4}.${conn.version & 0xf}` : '-',
          algorithms: conn ? `${asymInfo(conn.asymId)?.name}/${hashInfo(conn.hashId)?.name}` : '-',
          subject: partial?.slots[0]?.certificates.at(-1)?.subject ?? '-',
          measurements: '-',
          outcome: e instanceof SpdmError ? `FAILED ${e.code}: ${e.message}` : `FAILED: ${String(e)}`,
          ok: false,
        };
      }
      rows[i] = row;
    }),
  );
  return rows;
}

export function formatTable(rows: readonly DemoRow[]): string {
  const headers = ['device', 'version', 'algorithms', 'certificate subject', 'measurements', 'outcome'];
  const cells = rows.map((r) => [r.device, r.version, r.algorithms, r.subject, r.measurements, r.outcome]);
  const widths = headers.map((h, i) => Math.min(60, Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length))));
  const fmt = (c: readonly string[]) =>
    c
      .map((v, i) => {
        const w = widths[i] ?? 10;
        const t = i === c.length - 1 ? v : v.length > w ? `${v.slice(0, w - 1)}…` : v;
        return i === c.length - 1 ? t : t.padEnd(w);
      })
      .join('  ');
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}
