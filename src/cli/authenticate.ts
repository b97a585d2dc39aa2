/** `spdm authenticate`: the authentication flow against a device over the spdm-emu socket or a real DOE mailbox. */
import { hashInfo } from '../crypto/algorithms.js';
import { fromHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { Requester } from '../requester/requester.js';
import type { Transport } from '../transport/transport.js';
import { EmuSocketTransport } from '../transport/emu-socket.js';
import type { EmuTransportName } from '../transport/emu-frame.js';
import { chainsToRoot } from '../x509/chain.js';
import { parseCertificate } from '../x509/certificate.js';
import { decodeSpdmCertChain } from '../x509/spdm-chain.js';
import type { Evidence, PciIdentity } from '../evidence/evidence.js';
import { loadTrustAnchors } from './trust.js';

export interface AuthenticateCliOptions {
  readonly connect?: string;
  readonly pci?: string;
  readonly transport: EmuTransportName;
  readonly slot: number;
  readonly trust?: string;
  readonly json?: boolean;
  readonly versions?: readonly number[];
  readonly measurements: 'all' | 'one-by-one';
  readonly shutdown?: boolean;
  /** Append every signature of the run to this log (SQLite file or postgres:// URL). */
  readonly log?: string;
  /** Refuse a device without CHALLENGE; default: on for --pci and the DOE transport (PCIe CMA). */
  readonly requireChallenge?: boolean;
  /** RequesterOptions.maxResponseWaitMs. */
  readonly maxWait?: number;
  /** RequesterOptions.flowDeadlineMs. */
  readonly deadline?: number;
}

export interface AuthenticateOutcome {
  readonly authenticated: boolean;
  readonly trusted?: boolean;
  readonly reason?: string;
  readonly errorCode?: string;
  readonly evidence?: Evidence;
}

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3 } as const;

function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  if (!m) throw new SpdmError('DECODE_ERROR', `--connect wants HOST:PORT, got "${s}"`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new SpdmError('DECODE_ERROR', `port ${port} out of range`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

async function openTransport(o: AuthenticateCliOptions): Promise<{ transport: Transport; pci?: PciIdentity }> {
  if (o.pci) {
    const { openSysfsDoeTransport } = await import('../pci/sysfs-doe.js');
    const { readPciIdentity } = await import('../pci/identity.js');
    const transport = await openSysfsDoeTransport(o.pci);
    return { transport, pci: await readPciIdentity(transport.mailbox.cs, o.pci) };
  }
  if (!o.connect) throw new SpdmError('DECODE_ERROR', 'give --connect HOST:PORT or --pci BDF');
  const { host, port } = parseHostPort(o.connect);
  return { transport: await EmuSocketTransport.connect({ host, port, transport: o.transport, endWith: o.shutdown ? 'shutdown' : 'continue' }) };
}

export async function runAuthenticate(o: AuthenticateCliOptions): Promise<{ exitCode: number; outcome: AuthenticateOutcome }> {
  const anchors = o.trust ? loadTrustAnchors(o.trust) : undefined;
  let transport: Transport;
  let pci: PciIdentity | undefined;
  try {
    ({ transport, pci } = await openTransport(o));
  } catch (e) {
    const err = e instanceof SpdmError ? e : new SpdmError('TRANSPORT_ERROR', String(e));
    return { exitCode: err.code === 'DECODE_ERROR' ? EXIT.USAGE : EXIT.UNREACHABLE, outcome: { authenticated: false, reason: err.message, errorCode: err.code } };
  }
  const requester = new Requester(transport, {
    deviceName: o.pci ?? o.connect ?? 'device',
    ...(pci ? { pci } : {}),
    ...(o.versions ? { versions: o.versions } : {}),
    ...(o.maxWait !== undefined ? { maxResponseWaitMs: o.maxWait } : {}),
    ...(o.deadline !== undefined ? { flowDeadlineMs: o.deadline } : {}),
  });
  const requireChallenge = o.requireChallenge ?? (o.pci !== undefined || o.transport === 'doe');
  try {
    const evidence = await requester.authenticate({ slot: o.slot, mode: o.measurements, requireChallenge });
    if (o.log) {
      // Logged before any trust decision: the log keeps every signature a device gave us.
      const { appendEvidenceToLog } = await import('../evidence/log/log.js');
      await appendEvidenceToLog(o.log, evidence);
    }
    if (!anchors) return { exitCode: EXIT.OK, outcome: { authenticated: true, evidence } };
    const slot = evidence.slots.find((s) => s.slot === o.slot);
    if (!slot?.certChain) return { exitCode: EXIT.FAILED, outcome: { authenticated: true, trusted: false, reason: 'the device presented no certificate chain', evidence } };
    const chain = decodeSpdmCertChain(fromHex(slot.certChain), evidence.versionByte, hashInfo(evidence.algorithms.baseHash)?.size ?? 0);
    const trust = chainsToRoot(chain.certificates.map(parseCertificate), anchors, new Date(), { rootHash: chain.rootHash, hashId: evidence.algorithms.baseHash });
    return {
      exitCode: trust.trusted ? EXIT.OK : EXIT.FAILED,
      outcome: { authenticated: true, trusted: trust.trusted, ...(trust.reason ? { reason: trust.reason } : {}), evidence },
    };
  } catch (e) {
    const err = e instanceof SpdmError ? e : new SpdmError('DEVICE_ERROR', String(e));
    return { exitCode: EXIT.FAILED, outcome: { authenticated: false, reason: err.message, errorCode: err.code } };
  } finally {
    await transport.close?.();
  }
}

export function formatOutcome(o: AuthenticateOutcome): string {
  const lines: string[] = [];
  const e = o.evidence;
  if (e) {
    lines.push(`SPDM ${e.version}, ${e.algorithms.baseAsymName} / ${e.algorithms.baseHashName}, measurements ${e.algorithms.measurementHashName}`);
    lines.push(`capabilities: ${e.capabilities.flagNames.join(' ')}`);
    for (const s of e.slots) {
      if (!s.certChain) {
        lines.push(`slot ${s.slot}: provisioned (digest ${s.digest.slice(0, 16)}…), chain not read`);
        continue;
      }
      const leaf = s.certificates.at(-1);
      lines.push(`slot ${s.slot}: ${s.certificates.length} certificates, leaf ${leaf?.subject ?? '?'} (issuer ${leaf?.issuer ?? '?'})${s.chainProblems.length ? `; problems: ${s.chainProblems.map((p) => p.code).join(', ')}` : ''}`);
    }
    for (const s of e.signatures) lines.push(`${s.kind}: signature verified (transcript hash ${s.transcriptHash.slice(0, 16)}…)`);
    for (const m of e.measurements) lines.push(`measurement ${m.index}: ${m.typeName ?? 'non-DMTF'} ${m.raw ? 'raw' : 'digest'} ${m.value.length > 64 ? `${m.value.slice(0, 64)}…` : m.value}${m.signed ? '' : ' (UNSIGNED: not attested, the device could have sent anything)'}`);
  }
  if (o.authenticated && o.trusted !== false) lines.push(o.trusted ? 'AUTHENTICATED, chain trusted' : 'AUTHENTICATED (no trust anchors given)');
  else if (o.authenticated) lines.push(`AUTHENTICATED but UNTRUSTED: ${o.reason ?? ''}`);
  else lines.push(`FAILED${o.errorCode ? ` ${o.errorCode}` : ''}: ${o.reason ?? ''}`);
  return lines.join('\n');
}
