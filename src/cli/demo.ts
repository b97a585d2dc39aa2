/**
 * `spdm demo`: authenticates a small fleet of in-process emulated devices — several versions and
 * algorithm suites under one vendor root, a counterfeit with a chain from an unknown root, and a
 * clone that presents a genuine chain without holding its key — and prints what happened.
 */
import { asymInfo, hashInfo } from '../crypto/algorithms.js';
import { SpdmError } from '../wire/errors.js';
import { Requester } from '../requester/requester.js';
import { Responder } from '../responder/responder.js';
import { buildProfile, type BuiltProfile } from '../responder/profiles.js';
import { LoopbackTransport } from '../transport/loopback.js';
import { createRootCa, generateKeyPair } from '../x509/generate.js';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.js';
import { chainsToRoot } from '../x509/chain.js';
import { decodeSpdmCertChain } from '../x509/spdm-chain.js';
import { fromHex } from '../wire/bytes.js';
import type { Evidence } from '../evidence/evidence.js';

export interface DemoRow {
  readonly device: string;
  readonly version: string;
  readonly algorithms: string;
  readonly subject: string;
  readonly measurements: string;
  readonly outcome: string;
  readonly ok: boolean;
  readonly evidence?: Evidence;
}

interface DemoDevice {
  readonly built: BuiltProfile;
  readonly expectation: string;
}

export function demoFleet(): { devices: DemoDevice[]; trustedRoot: ParsedCertificate } {
  const vendorRoot = createRootCa({ asymId: 0x0080, commonName: 'Acme Devices Root CA' });
  const genuine = (name: string, versions: number[], asymId: number, hashId: number, firmwareVersion: string) =>
    buildProfile({
      name,
      versions,
      asymId,
      hashId,
      root: vendorRoot,
      firmwareVersion,
      leaf: { pcieCmaSan: `Vendor=1dea:Device=${(0x1000 + name.length).toString(16)}:CC=010802:REV=01`, dmtfDeviceInfo: `ACME:${name}:0001` },
    });
  const devices: DemoDevice[] = [
    { built: genuine('acme-nvme0', [0x10, 0x11, 0x12, 0x13], 0x0080, 0x02, '3.1.4'), expectation: 'genuine' },
    { built: genuine('acme-nic0', [0x10, 0x11, 0x12], 0x0008, 0x02, '2.0.1'), expectation: 'genuine' },
    { built: genuine('acme-gpu0', [0x10, 0x11], 0x0010, 0x01, '5.5.0'), expectation: 'genuine' },
    { built: genuine('acme-fpga0', [0x10], 0x0001, 0x01, '1.0.0'), expectation: 'genuine' },
    { built: genuine('acme-dpu0', [0x12, 0x13], 0x0400, 0x04, '4.2.0'), expectation: 'genuine' },
    {
      built: buildProfile({ name: 'knockoff-nvme1', versions: [0x10, 0x11, 0x12], asymId: 0x0010, hashId: 0x01 }),
      expectation: 'counterfeit: chain from an unknown root',
    },
  ];
  const cloneSource = genuine('acme-nvme2', [0x12, 0x13], 0x0080, 0x02, '3.1.4');
  devices.push({
    built: {
      ...cloneSource,
      profile: { ...cloneSource.profile, name: 'clone-nvme2', misbehave: { signingKey: generateKeyPair(0x0080).privateKey } },
    },
    expectation: 'clone: genuine chain, wrong key',
  });
  return { devices, trustedRoot: parseCertificate(vendorRoot.certificate) };
}

function algorithmsOf(e: Evidence): string {
  return `${asymInfo(e.algorithms.baseAsym)?.name ?? '-'}/${hashInfo(e.algorithms.baseHash)?.name ?? '-'}`;
}

export async function runDemo(): Promise<DemoRow[]> {
  const { devices, trustedRoot } = demoFleet();
  const rows: DemoRow[] = [];
  await Promise.all(
    devices.map(async ({ built }, i) => {
      const responder = new Responder(built.profile);
      const requester = new Requester(new LoopbackTransport(responder), { deviceName: built.profile.name });
      let row: DemoRow;
      try {
        const evidence = await requester.authenticate();
        const slot = evidence.slots[0];
        const chain = slot ? decodeSpdmCertChain(fromHex(slot.certChain), evidence.versionByte, hashInfo(evidence.algorithms.baseHash)?.size ?? 0) : undefined;
        const certs = chain ? chain.certificates.map(parseCertificate) : [];
        const trust = chainsToRoot(certs, [trustedRoot], new Date());
        const signedBlocks = evidence.measurements.filter((m) => m.signed).length;
        const fw = evidence.measurements.find((m) => m.type === 6);
        const fwText = fw ? `fw ${Buffer.from(fw.value, 'hex').toString('utf8')}, ` : '';
        row = {
          device: built.profile.name,
          version: evidence.version,
          algorithms: algorithmsOf(evidence),
          subject: certs.at(-1)?.subject ?? '-',
          measurements: `${fwText}${evidence.measurements.length} blocks, ${signedBlocks} signed`,
          outcome: trust.trusted ? 'authenticated, trusted root' : `untrusted: ${trust.reason ?? 'unknown root'}`,
          ok: trust.trusted,
          evidence,
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
