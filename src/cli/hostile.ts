/**
 * `spdm emulate --hostile CASE`: serves one case of the hostile table (responder/faults) over the
 * spdm-emu socket, so any requester — ours, libspdm's, a validator — can be pointed at a device
 * that lies in a known way; `--hostile list` prints the table with what a correct requester answers.
 */
import { SpdmError } from '../wire/errors.js';
import { EmuSocketServer } from '../transport/emu-socket.js';
import type { EmuTransportName } from '../transport/emu-frame.js';
import {
  HOSTILE_CASES,
  HostileEmuServer,
  expectationText,
  findHostileCase,
  type HostileCase,
} from '../responder/faults/index.js';

export interface HostileServeOptions {
  readonly host: string;
  readonly port: number;
  readonly transport: EmuTransportName;
  /** Which variant of a sweep case to serve (default 0). */
  readonly variant?: number;
  readonly onError?: (e: Error) => void;
}

export interface HostileServer {
  readonly port: number;
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

function where(c: HostileCase): string {
  if (c.via === 'doe') return 'in-process';
  return c.requester || c.authenticate ? 'socket*' : 'socket';
}

/** The case table as text: name, category, where it can run, what a correct requester answers, what the device does. */
export function formatHostileList(): string {
  const rows = HOSTILE_CASES.map((c) => [c.name, c.category, where(c), expectationText(c.expect), c.description]);
  const headers = ['case', 'category', 'runs', 'expected', 'device'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (i < 4 ? (r[i] ?? '').length : 0))));
  const line = (r: readonly string[]) => r.map((v, i) => (i < r.length - 1 ? v.padEnd(widths[i] ?? 0) : v)).join('  ');
  return [
    line(headers),
    ...rows.map(line),
    '',
    `${HOSTILE_CASES.length} cases. runs: socket = servable with spdm emulate --hostile; socket* = servable, but the expected outcome assumes requester options (short waits, a small DataTransferSize...) that the suite sets; in-process = register-level DOE faults, run by the adversarial suite only.`,
  ].join('\n');
}

/** Starts the server for case `name`. */
export async function serveHostile(
  name: string,
  o: HostileServeOptions,
): Promise<{ server: HostileServer; hostileCase: HostileCase }> {
  const c = findHostileCase(name);
  if (!c) throw new SpdmError('DECODE_ERROR', `no hostile case "${name}" (spdm emulate --hostile list shows them)`);
  if (c.via === 'doe')
    throw new SpdmError(
      'UNSUPPORTED',
      `${name} is a register-level DOE mailbox fault: it runs in-process only (the spdm-emu socket carries whole DOE objects, not registers)`,
    );
  if (c.via === 'socket') {
    const server = await HostileEmuServer.listen({
      host: o.host,
      port: o.port,
      transport: o.transport,
      handler: c.device().handler,
      fault: c.socket,
    });
    return { server, hostileCase: c };
  }
  const variant = o.variant ?? 0;
  if (!Number.isInteger(variant) || variant < 0 || (!c.sweep && variant !== 0))
    throw new SpdmError(
      'DECODE_ERROR',
      `--variant ${variant}: ${c.sweep ? 'must be a non-negative integer' : `${name} has no variants`}`,
    );
  const server = await EmuSocketServer.listen({
    host: o.host,
    port: o.port,
    transport: o.transport,
    handler: c.device(variant).handler,
    ...(o.onError ? { onError: o.onError } : {}),
  });
  return { server, hostileCase: c };
}
