/**
 * `spdm status` and `spdm devices accept|reject|reauth|reset|connect|disconnect`: clients of a
 * running spdmkitd over its Unix socket. The environment-dependent socket defaults live here (the
 * library reads no environment).
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSpdmError } from '../wire/errors.js';
import { ApiCallError, callApiOk, type ClientTarget } from '../daemon/client.js';
import { EXIT } from './exit-codes.js';

export const SYSTEM_SOCKET = '/run/spdmkit/spdmkitd.sock';

/** Where the daemon listens when its configuration names no socket. */
export function defaultDaemonSocket(env: NodeJS.ProcessEnv, uid: number): string {
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime) return join(runtime, 'spdmkit', 'spdmkitd.sock');
  if (uid === 0) return SYSTEM_SOCKET;
  return join(tmpdir(), `spdmkit-${uid}`, 'spdmkitd.sock');
}

/**
 * Where a client looks: $SPDMKIT_SOCKET, else the user's own daemon if its socket exists, else the
 * system daemon's (systemd's RuntimeDirectory), else the user default.
 */
export function defaultClientSocket(env: NodeJS.ProcessEnv, uid: number, exists = existsSync): string {
  const explicit = env['SPDMKIT_SOCKET'];
  if (explicit) return explicit;
  const own = defaultDaemonSocket(env, uid);
  if (exists(own)) return own;
  return exists(SYSTEM_SOCKET) ? SYSTEM_SOCKET : own;
}

export interface ClientIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const stdio: ClientIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback;
}

/** One row of `spdm status`, from a device object of GET /v1/devices. */
export function statusRow(device: unknown): string[] {
  const d = obj(device);
  const auth = obj(d['authenticated']);
  const verdict = obj(d['verdict']);
  const acc = obj(d['acceptance']);
  const owner = obj(d['owner']);
  const ids =
    d['vendor'] !== undefined ? `${str(d['vendor']).replace(/^0x/, '')}:${str(d['device']).replace(/^0x/, '')}` : '-';
  // The kernel's `authenticated`: 1, 0, or unreadable (ENOTTY) when it could not be determined.
  const authenticated = auth['state'] === 'yes' ? '1' : auth['state'] === 'no' ? '0' : '?';
  const reasons = Array.isArray(verdict['reasons']) ? verdict['reasons'].map((r) => str(obj(r)['code'])) : [];
  // No verdict: the reason the flow stopped (SIGNATURE_INVALID, NO_DOE, OWNED…) says why.
  const whyNot = auth['state'] !== 'yes' ? str(obj(auth['reason'])['code']) : '';
  const verdictText =
    verdict['status'] !== undefined
      ? `${str(verdict['status'])}${reasons.length > 0 ? ` (${reasons.join(',')})` : ''}`
      : whyNot !== ''
        ? `- (${whyNot})`
        : '-';
  const accepted =
    acc['state'] === 'accepted' ? `yes (${str(acc['by'])})` : acc['state'] === 'rejected' ? 'rejected' : 'no';
  const own = owner['kind'] === 'tsm' ? `tsm:${str(owner['tsm'])}` : str(owner['kind'], '-');
  return [str(d['bdf']), ids, authenticated + (d['busy'] === true ? '*' : ''), verdictText, accepted, own];
}

export function formatStatus(devices: readonly unknown[]): string {
  const rows = [['BDF', 'VENDOR:DEVICE', 'AUTHENTICATED', 'VERDICT', 'ACCEPTED', 'OWNER'], ...devices.map(statusRow)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  return `${lines.join('\n')}\n${devices.length === 0 ? '(no devices)\n' : ''}`;
}

function exitFor(e: unknown, io: ClientIo): number {
  if (e instanceof ApiCallError) {
    io.err(`spdm: ${e.code}: ${e.message}\n`);
    return e.status === 400 ? EXIT.USAGE : EXIT.FAILED;
  }
  if (isSpdmError(e, 'TRANSPORT_ERROR')) {
    io.err(`spdm: ${e.message}\n`);
    return EXIT.UNREACHABLE;
  }
  throw e;
}

export async function runStatus(
  target: ClientTarget,
  o: { readonly json?: boolean },
  io: ClientIo = stdio,
): Promise<number> {
  try {
    const body = obj(await callApiOk(target, 'GET', '/v1/devices'));
    const devices = Array.isArray(body['devices']) ? body['devices'] : [];
    io.out(o.json ? `${JSON.stringify(devices, null, 2)}\n` : formatStatus(devices));
    return EXIT.OK;
  } catch (e) {
    return exitFor(e, io);
  }
}

export type DeviceAction = 'accept' | 'reject' | 'reauth' | 'reset' | 'connect' | 'disconnect';

export interface DeviceActionOptions {
  readonly operator?: string;
  readonly reason?: string;
  readonly slot?: number;
  readonly kind?: string;
  readonly tsm?: string;
  readonly json?: boolean;
}

/** The API path and body of a `spdm devices` action. */
export function actionRequest(action: DeviceAction, bdf: string, o: DeviceActionOptions): { path: string; body: Json } {
  const base = `/v1/devices/${encodeURIComponent(bdf)}`;
  switch (action) {
    case 'accept':
      return {
        path: `${base}/accept`,
        body:
          o.operator !== undefined || o.reason !== undefined
            ? { override: { operator: o.operator ?? '', reason: o.reason ?? '' } }
            : {},
      };
    case 'reject':
      return {
        path: `${base}/reject`,
        body: {
          ...(o.operator !== undefined ? { operator: o.operator } : {}),
          ...(o.reason !== undefined ? { reason: o.reason } : {}),
        },
      };
    case 'reauth':
      return { path: `${base}/reauthenticate`, body: o.slot !== undefined ? { slot: o.slot } : {} };
    case 'reset':
      return { path: `${base}/reset-notify`, body: o.kind !== undefined ? { kind: o.kind } : {} };
    case 'connect':
      return { path: `${base}/tsm/connect`, body: { tsm: o.tsm ?? '' } };
    case 'disconnect':
      return { path: `${base}/tsm/disconnect`, body: {} };
  }
}

export async function runDeviceAction(
  target: ClientTarget,
  action: DeviceAction,
  bdf: string,
  o: DeviceActionOptions,
  io: ClientIo = stdio,
): Promise<number> {
  const { path, body } = actionRequest(action, bdf, o);
  try {
    const device = await callApiOk(target, 'POST', path, body);
    io.out(o.json ? `${JSON.stringify(device, null, 2)}\n` : formatStatus([device]));
    return EXIT.OK;
  } catch (e) {
    return exitFor(e, io);
  }
}
