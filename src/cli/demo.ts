/**
 * `spdm demo`, the main job: spdmkitd on the default simulated platform (16 PCI functions, one of
 * every kind a CMA daemon must tell apart) with a fresh data directory. It shows each function
 * authenticating, the table the daemon's API then gives, and the lifecycle through the event
 * stream — a reset re-accepted through the same-device check, a device swapped behind its BDF,
 * a firmware update, a hand-off to a TSM and back — and finally re-verifies the signature log.
 * Everything it reports it reads back over the daemon's Unix socket, as an operator's tools would.
 * It exits 1 when any function or step does not come out as its kind says it must.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CmaEvent, CmaService } from '../cma/api.js';
import { createCma } from '../cma/manager.js';
import { callApi, callApiOk, type ClientTarget } from '../daemon/client.js';
import { compileDaemonConfig } from '../daemon/config.js';
import { startDaemon, type RunningDaemon } from '../daemon/daemon.js';
import { openEventStream, type EventStream } from '../daemon/event-client.js';
import { openLog } from '../log/log.js';
import { publicKeyFromPem } from '../log/log-key.js';
import { defaultPlatformFiles, loadDefaultPlatform } from '../platform/default.js';
import type { SimulatedPlatform } from '../platform/simulated.js';
import { loadPolicyFile } from '../verifier/policy-loader.js';
import { TrustStore } from '../verifier/trust-store.js';
import { statusRow } from './daemon-client.js';

/** What each kind must come out as: authenticated state and, when not `yes`, the reason code. */
const EXPECTED: Readonly<Record<string, { readonly auth: 'yes' | 'no' | 'unknown'; readonly why?: string }>> = {
  genuine: { auth: 'yes' },
  slow: { auth: 'yes' },
  counterfeit: { auth: 'no', why: 'CHAIN_UNTRUSTED' },
  clone: { auth: 'no', why: 'SIGNATURE_INVALID' },
  tampered: { auth: 'no', why: 'MEASUREMENT_MISMATCH' },
  expired: { auth: 'no', why: 'CERT_EXPIRED' },
  'wrong-san': { auth: 'no', why: 'SAN_MISMATCH' },
  denied: { auth: 'no', why: 'CERT_DENIED' },
  misbehaving: { auth: 'no', why: 'DECODE_ERROR' },
  'no-doe': { auth: 'unknown', why: 'NO_DOE' },
  'no-cma': { auth: 'unknown', why: 'NO_CMA' },
};

/** How long one lifecycle step may take before the demo calls it failed. */
const STEP_MS = 30_000;

export interface DemoStep {
  readonly title: string;
  readonly ok: boolean;
  readonly lines: readonly string[];
}

export interface DemoReport {
  readonly ok: boolean;
  readonly functions: number;
  /** Functions that came out as their kind says. */
  readonly asExpected: number;
  readonly devices: readonly unknown[];
  readonly steps: readonly DemoStep[];
  readonly log: { readonly entries: number; readonly signaturesValid: number; readonly ok: boolean };
  readonly ms: number;
}

export interface DemoOptions {
  /** Where progress and results go, line by line. */
  readonly write: (text: string) => void;
  /** Keep the data directory (its path is printed) instead of deleting it. */
  readonly keep?: boolean;
  readonly now?: () => number;
}

type Json = Readonly<Record<string, unknown>>;

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function codesOf(e: CmaEvent): string {
  if (e.type === 'same-device') return e.same ? 'same device' : [...new Set(e.changes.map((c) => c.code))].join(', ');
  if (e.type === 'acceptance') {
    const a = e.acceptance;
    return a.state === 'accepted' ? `accepted (${a.by})` : `${a.state}${a.reason ? ` (${a.reason.code})` : ''}`;
  }
  if (e.type === 'authenticated')
    return `${e.authenticated.state}${e.authenticated.state === 'yes' ? '' : ` (${e.authenticated.reason.code})`}`;
  if (e.type === 'owner') return e.owner.kind === 'tsm' ? `owned by ${e.owner.tsm}` : 'owned by cma';
  if (e.type === 'reset') return e.kind;
  if (e.type === 'signature') return `${e.signature.type}, log entry ${e.signature.logIndex}`;
  return '';
}

/** One event as the demo prints it. */
function eventLine(e: CmaEvent): string {
  return `    event ${String(e.id).padStart(3)}  ${e.type.padEnd(13)} ${e.bdf}  ${codesOf(e)}`;
}

export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const w = o.write;
  const files = defaultPlatformFiles();
  const dataDir = mkdtempSync(join(tmpdir(), 'spdmkit-demo-'));
  const socketPath = join(dataDir, 'spdmkitd.sock');
  const config = compileDaemonConfig(
    {
      version: 1,
      socket: { path: socketPath },
      dataDir,
      trust: [files.trustAnchors],
      deny: [files.denyList],
      policy: files.policy,
      autoAccept: true,
      platform: { kind: 'simulated', file: files.platform },
    },
    'demo',
    dataDir,
  );
  const trust = new TrustStore({ anchors: [...config.trust], deny: [...config.deny] });
  const policy = config.policy !== undefined ? loadPolicyFile(config.policy) : undefined;
  const platform: SimulatedPlatform = loadDefaultPlatform();
  const fns = await platform.functions();
  w(`spdmkitd on the default simulated platform: ${fns.length} PCI functions (${files.platform})\n`);
  w(`  data directory ${dataDir}\n  API on the Unix socket ${socketPath}\n\n`);

  let daemon: RunningDaemon | undefined;
  let stream: EventStream | undefined;
  const target: ClientTarget = { socketPath, timeoutMs: STEP_MS };
  let service: CmaService | undefined;
  let stopped = false;
  // Once: the daemon closes its service, platform and trust store; before it started, they are ours.
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (daemon) return daemon.close();
    await service?.close();
    await platform.close();
    trust.close();
  };
  try {
    service = await createCma({
      platform,
      trust,
      ...(policy ? { policy } : {}),
      dataDir,
      autoAccept: config.autoAccept,
      concurrency: config.concurrency,
    });
    daemon = await startDaemon({
      config,
      socketPath,
      service,
      platform,
      inputs: { trust, ...(policy ? { policy } : {}) },
    });
    w(`authenticating every function (at most ${config.concurrency} at a time, one exchange at a time per mailbox):\n`);
    // From event 0: the authentications already under way are in the stream as well.
    let done = 0;
    stream = await openEventStream(target, 0, (e) => {
      if (e.type === 'authenticated' && e.generation === 1) {
        done++;
        w(`  [${String(done).padStart(2)}/${fns.length}] ${e.bdf}  authenticated: ${codesOf(e)}\n`);
      }
    });
    await service.idle();

    // The table, as `spdm status` would print it, with the kind each function was built as.
    const list = obj(await callApiOk(target, 'GET', '/v1/devices'));
    const devices = Array.isArray(list['devices']) ? list['devices'] : [];
    let asExpected = 0;
    const header = ['BDF', 'VENDOR:DEVICE', 'KIND', 'AUTHENTICATED', 'VERDICT', 'ACCEPTED', 'AS EXPECTED'];
    const rows = devices.map((d) => {
      const dev = obj(d);
      const bdf = typeof dev['bdf'] === 'string' ? dev['bdf'] : '';
      const kind = platform.deviceAt(bdf)?.kind ?? '?';
      const auth = obj(dev['authenticated']);
      const exp = EXPECTED[kind];
      const why = auth['state'] === 'yes' ? undefined : obj(auth['reason'])['code'];
      const accepted = obj(dev['acceptance'])['state'];
      const ok =
        exp !== undefined &&
        auth['state'] === exp.auth &&
        (exp.why === undefined || why === exp.why) &&
        (accepted === 'accepted') === (exp.auth === 'yes');
      if (ok) asExpected++;
      const [b, ids, authenticated, verdict, acc] = statusRow(d);
      return [b ?? '', ids ?? '', kind, authenticated ?? '', verdict ?? '', acc ?? '', ok ? 'yes' : 'NO'];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const fmt = (r: readonly string[]) =>
      r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
    w(`\n${[fmt(header), ...rows.map(fmt)].join('\n')}\n`);
    w(
      `\n${asExpected} of ${devices.length} functions came out as their kind says (AUTHENTICATED: 1 yes, 0 no, ? could not be determined)\n`,
    );

    const steps = await lifecycle(platform, target, stream, w);

    // The signature log: every signature the daemon received, re-verified from the stored bytes.
    const publicKey = await callApi(target, 'GET', '/v1/log/public-key');
    const head = obj(await callApiOk(target, 'GET', '/v1/log/tree-head'));
    await stop();
    const log = await openLog(join(dataDir, 'signatures.sqlite'));
    let report;
    try {
      // Pinned: the key the daemon published, not whatever the log file says its key is.
      report = await log.verify({ publicKey: publicKeyFromPem(String(publicKey.body), "the daemon's log key") });
    } finally {
      await log.close();
    }
    const logOk = report.ok && report.treeSize >= Number(head['treeSize'] ?? 0);
    w(
      `\nsignature log: ${report.treeSize} entries; tree head ${(typeof head['rootHash'] === 'string' ? head['rootHash'] : '').slice(0, 16)}… signed by the daemon's key; ` +
        `${report.signaturesValid} of ${report.signaturesChecked} device signatures re-verified from the stored transcripts: ${logOk ? 'OK' : 'FAILED'}\n`,
    );
    const ok = asExpected === devices.length && devices.length === fns.length && steps.every((s) => s.ok) && logOk;
    const ms = now() - t0;
    w(
      `\n${ok ? 'demo complete' : 'demo FAILED'}: ${asExpected}/${devices.length} functions and ${steps.filter((s) => s.ok).length}/${steps.length} lifecycle steps as expected (${(ms / 1000).toFixed(1)} s)\n`,
    );
    return {
      ok,
      functions: fns.length,
      asExpected,
      devices,
      steps,
      log: { entries: report.treeSize, signaturesValid: report.signaturesValid, ok: logOk },
      ms,
    };
  } finally {
    stream?.close();
    await stop();
    if (o.keep) w(`(data directory kept: ${dataDir})\n`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The events of `bdf` after id `after`, printed. */
function since(stream: EventStream, bdf: string, after: number): string[] {
  return stream.events.filter((e) => e.id > after && e.bdf === bdf && e.type !== 'signature').map(eventLine);
}

function lastId(stream: EventStream): number {
  return stream.events.at(-1)?.id ?? 0;
}

async function lifecycle(
  platform: SimulatedPlatform,
  target: ClientTarget,
  stream: EventStream,
  w: (text: string) => void,
): Promise<DemoStep[]> {
  const steps: DemoStep[] = [];
  const run = async (
    title: string,
    bdf: string,
    body: (after: number) => Promise<{ ok: boolean; extra?: string[] }>,
  ) => {
    w(`\n${steps.length + 1}. ${title}\n`);
    const after = lastId(stream);
    let r: { ok: boolean; extra?: string[] };
    try {
      r = await body(after);
    } catch (e) {
      r = { ok: false, extra: [`    failed: ${e instanceof Error ? e.message : String(e)}`] };
    }
    const lines = [...since(stream, bdf, after), ...(r.extra ?? [])];
    for (const l of lines) w(`${l}\n`);
    w(`    → ${r.ok ? 'as expected' : 'NOT as expected'}\n`);
    steps.push({ title, ok: r.ok, lines });
  };
  const sameDevice = (bdf: string, after: number) =>
    stream.waitFor((e) => e.id > after && e.bdf === bdf && e.type === 'same-device', STEP_MS, `same-device for ${bdf}`);
  const acceptance = async (bdf: string) =>
    obj(obj(await callApiOk(target, 'GET', `/v1/devices/${bdf}`))['acceptance']);

  w('\nlifecycle, as the event stream (GET /v1/events) tells it:\n');
  const nvme = '0000:01:00.0';
  await run(
    `function-level reset of ${nvme} (genuine, accepted): re-accepted only through the same-device check`,
    nvme,
    async (after) => {
      await platform.inject({ type: 'flr', bdf: nvme });
      const e = await sameDevice(nvme, after);
      const acc = await acceptance(nvme);
      return { ok: e.type === 'same-device' && e.same && acc['state'] === 'accepted' && acc['by'] === 'same-device' };
    },
  );
  await run(
    `${nvme} swapped behind its BDF for a card with the same IDs and serial number but another key`,
    nvme,
    async (after) => {
      await platform.inject({ type: 'swap', bdf: nvme, device: 'acme-nvme-spare-same-serial' });
      const e = await sameDevice(nvme, after);
      const acc = await acceptance(nvme);
      const leafChanged = e.type === 'same-device' && e.changes.some((c) => c.code === 'LEAF_KEY_CHANGED');
      return { ok: leafChanged && acc['state'] === 'unaccepted' };
    },
  );
  const nic = '0000:02:00.0';
  await run(`firmware update of ${nic} (2.0.1 → 2.0.2): the measurements change`, nic, async (after) => {
    await platform.inject({ type: 'firmware-update', bdf: nic, version: '2.0.2' });
    const e = await sameDevice(nic, after);
    const acc = await acceptance(nic);
    const changed = e.type === 'same-device' && e.changes.some((c) => c.code === 'MEASUREMENT_CHANGED');
    return { ok: changed && acc['state'] === 'unaccepted' };
  });
  const dpu = '0000:05:00.0';
  await run(`${dpu} handed to a TSM (tsm/connect) and back (tsm/disconnect)`, dpu, async (after) => {
    await callApiOk(target, 'POST', `/v1/devices/${dpu}/tsm/connect`, { tsm: 'tsm0' });
    const refused = await callApi(target, 'POST', `/v1/devices/${dpu}/reauthenticate`, {});
    const code = obj(obj(refused.body)['error'])['code'];
    await callApiOk(target, 'POST', `/v1/devices/${dpu}/tsm/disconnect`, {});
    const e = await sameDevice(dpu, after);
    const acc = await acceptance(dpu);
    return {
      ok:
        refused.status === 409 &&
        code === 'DEVICE_OWNED' &&
        e.type === 'same-device' &&
        e.same &&
        acc['state'] === 'accepted',
      extra: [`    while owned, POST /v1/devices/${dpu}/reauthenticate → HTTP ${refused.status} ${String(code)}`],
    };
  });
  return steps;
}
