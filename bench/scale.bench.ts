/**
 * Scale (issue 12, item 6): spdmkitd enumerating and authenticating a simulated platform of N
 * devices, as a user runs it — bin/spdmkitd.js in a process of its own, its API on its Unix
 * socket — while this process is its client: it follows the event stream (SSE) and asks for a
 * device's status over and over, as a monitoring tool would.
 *
 * The platform is the shipped default platform's genuine devices (six models: ECDSA P-256 and
 * P-384, SPDM 1.0 to 1.3) copied to N addresses, written as a temporary platform file. Copies
 * share certificate chains and keys, but each is a device of its own: its own emulator behind its
 * own DOE mailbox, answering each object after `--delay-ms` (default 2 ms) while the daemon polls
 * Status like Linux (every 1000/128 ms); the emulators' own SPDM work (their signatures) runs in
 * `--device-threads` worker threads (default 1), as real devices compute off the host's CPU, and is
 * counted in the daemon's CPU all the same (process.cpuUsage covers every thread). Every device runs the whole flow (DOE discovery, VCA,
 * digests, certificate chain, CHALLENGE, signed measurements), the daemon verifies every
 * signature and chain, judges the evidence against the policy, and logs every signature in its
 * signature log; a run counts only when every device ends authenticated and trusted.
 *
 * Figures, per N:
 *   wall              daemon start to the last device's `authenticated` event, received by the client
 *   devices/s         N ÷ wall
 *   CPU               the daemon's user + system time at that moment (process.cpuUsage in the daemon)
 *   main-thread CPU   the share of that CPU time spent on the daemon's main thread (its event loop),
 *                     from /proc/self/task/<pid>/stat: the rest is libuv's threadpool and the device threads
 *   peak RSS          the daemon's process.resourceUsage().maxRSS at that moment
 *   RSS per device    (peak RSS − a one-device daemon's peak RSS, measured in the same run) ÷ (N − 1)
 *   event lag         an event's commit time (`at`) to its arrival at the client over SSE, p50/p99/max
 *   status latency    GET /v1/devices/{bdf} of a random device, a new connection each (like `spdm`),
 *                     back to back with 10 ms pauses from socket up to the end, p50/p99/max
 *   listing latency   GET /v1/devices (all of them: what `spdm status` asks), once a second
 *   event-loop delay  the daemon's own (perf_hooks.monitorEventLoopDelay), p99/max, and the share of
 *                     the time its main thread was busy (eventLoopUtilization)
 *
 * Targets: 10,000 devices in under 60 s on 2 cores and under 1 GiB, the status call staying fast.
 *
 *   npm run bench:scale [-- --devices 1000,10000] [--delay-ms 2] [--concurrency 64] [--device-threads 1] [--json]
 *   SCALE_DEVICES=1000 npm run bench -- --only scale
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { socketAnswers } from '../src/daemon/listen.js';
import { scaledBdf, scaledPlatform, type PlatformDocument } from '../src/platform/scaled.js';
import { Report, ROOT } from './harness.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const COUNTS = (arg('--devices') ?? process.env['SCALE_DEVICES'] ?? '1000,10000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n >= 1);
if (COUNTS.length === 0) throw new Error('--devices takes device counts, e.g. 1000,10000');
const DELAY_MS = Number(arg('--delay-ms') ?? 2);
const CONCURRENCY = Number(arg('--concurrency') ?? 64);
/** Worker threads the emulated devices run in (their SPDM work is the devices', not the daemon's). */
const DEVICE_THREADS = Number(arg('--device-threads') ?? 1);
/** A run that takes longer than this is abandoned (something is wrong, not slow). */
const RUN_LIMIT_MS = Number(process.env['SCALE_LIMIT_SECONDS'] ?? 600) * 1000;

const shipped = join(ROOT, 'platform', 'default');
const template = parse(readFileSync(join(shipped, 'platform.yaml'), 'utf8')) as PlatformDocument;

// The daemon reports its own usage when told (SIGUSR2), so the figures are of the moment the
// last device was done, not of its shutdown.
const PRELOAD = `
const { writeFileSync } = require('node:fs');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
// The main thread's own CPU time (Linux: its task's utime + stime, in clock ticks of 10 ms), apart
// from the threadpool's and the device threads'; -1 where /proc is not there.
function mainThreadCpuMs() {
  try {
    const stat = require('node:fs').readFileSync('/proc/self/task/' + process.pid + '/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return -1;
  }
}
process.on('SIGUSR2', () => {
  const c = process.cpuUsage();
  const r = process.resourceUsage();
  const m = process.memoryUsage();
  writeFileSync(process.env.SCALE_USAGE_OUT, JSON.stringify({
    userMs: c.user / 1000, systemMs: c.system / 1000, maxRssKiB: r.maxRSS,
    rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
    loopP99Ms: h.percentile(99) / 1e6, loopMaxMs: h.max / 1e6,
    mainThreadBusy: performance.eventLoopUtilization().utilization,
    mainThreadCpuMs: mainThreadCpuMs(),
  }));
});
`;

interface Usage {
  readonly userMs: number;
  readonly systemMs: number;
  readonly maxRssKiB: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  /** The event loop's utilisation since start: the share of wall time the daemon's main thread was busy. */
  readonly mainThreadBusy: number;
  /** The main thread's own CPU time (user + system), ms; -1 where it cannot be read. */
  readonly mainThreadCpuMs: number;
}

interface RunResult {
  readonly n: number;
  readonly wallMs: number;
  readonly socketMs: number;
  readonly usage: Usage;
  readonly lagMs: readonly number[];
  readonly statusMs: readonly number[];
  readonly listingMs: readonly number[];
  readonly trusted: number;
  readonly events: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Follows /v1/events from the start; `onEvent` gets each event and the time it arrived. */
function follow(socketPath: string, onEvent: (type: string, data: Record<string, unknown>, nowMs: number) => void) {
  let res: IncomingMessage | undefined;
  const req = request({ socketPath, path: '/v1/events?after=0', agent: false }, (r) => {
    res = r;
    let buf = '';
    r.setEncoding('utf8');
    r.on('data', (chunk: string) => {
      const now = Date.now();
      buf += chunk;
      for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let type = '';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) type = line.slice(7);
          else if (line.startsWith('data: ')) data = line.slice(6);
        }
        if (type && data) onEvent(type, JSON.parse(data) as Record<string, unknown>, now);
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => {
    res?.destroy();
    req.destroy();
  };
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

async function run(n: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-scale-'));
  try {
    symlinkSync(join(shipped, 'devices'), join(dir, 'devices'));
    const doc = scaledPlatform(template, {
      count: n,
      pick: (f) => f['kind'] === 'genuine',
      responseDelayMs: DELAY_MS,
    });
    writeFileSync(join(dir, 'platform.json'), JSON.stringify(doc));
    writeFileSync(
      join(dir, 'spdmkitd.json'),
      JSON.stringify({
        version: 1,
        socket: { mode: '0600' },
        dataDir: 'state',
        trust: [join(shipped, 'trust')],
        deny: [join(shipped, 'deny-list.txt')],
        policy: join(shipped, 'policy.yaml'),
        platform: { kind: 'simulated', file: 'platform.json', deviceThreads: DEVICE_THREADS },
        concurrency: CONCURRENCY,
      }),
    );
    writeFileSync(join(dir, 'preload.cjs'), PRELOAD);
    const socketPath = join(dir, 's.sock');
    const usageFile = join(dir, 'usage.json');
    const logFd = openSync(join(dir, 'daemon.log'), 'w');

    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...(process.env['SCALE_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
        '--require',
        join(dir, 'preload.cjs'),
        join(ROOT, 'bin', 'spdmkitd.js'),
        '--config',
        join(dir, 'spdmkitd.json'),
        '--socket',
        socketPath,
      ],
      { stdio: ['ignore', 'ignore', logFd], env: { ...process.env, SCALE_USAGE_OUT: usageFile } },
    );
    closeSync(logFd);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let dead = false;
    void exited.then(() => (dead = true));
    const deadline = t0 + RUN_LIMIT_MS;
    const check = () => {
      if (dead)
        throw new Error(
          `spdmkitd exited early; its log:\n${readFileSync(join(dir, 'daemon.log'), 'utf8').slice(-3000)}`,
        );
      if (performance.now() > deadline) throw new Error(`${n} devices: not done within ${RUN_LIMIT_MS / 1000} s`);
    };

    try {
      while (!(existsSync(socketPath) && (await socketAnswers(socketPath)))) {
        check();
        await sleep(5);
      }
      const socketMs = performance.now() - t0;

      const authenticated = new Set<string>();
      const lagMs: number[] = [];
      let events = 0;
      let wallMs = 0;
      const connectedAt = Date.now();
      let finish!: () => void;
      const allDone = new Promise<void>((r) => (finish = r));
      const stop = follow(socketPath, (type, data, now) => {
        events++;
        const at = Date.parse(String(data['at']));
        // Events committed before the stream opened are a replay: their wait is not delivery lag.
        if (at >= connectedAt) lagMs.push(now - at);
        if (type === 'authenticated') {
          authenticated.add(String(data['bdf']));
          if (authenticated.size === n && wallMs === 0) {
            wallMs = performance.now() - t0;
            finish();
          }
        }
      });

      let done = false;
      void allDone.then(() => (done = true));
      const statusMs: number[] = [];
      const listingMs: number[] = [];
      const statusLoop = (async () => {
        while (!done) {
          const bdf = scaledBdf(Math.floor(Math.random() * n));
          const t = performance.now();
          const r = await get(socketPath, `/v1/devices/${bdf}`);
          if (r.status !== 200) throw new Error(`GET /v1/devices/${bdf}: ${r.status} ${r.body.slice(0, 200)}`);
          if (!done) statusMs.push(performance.now() - t);
          await sleep(10);
        }
      })();
      const listingLoop = (async () => {
        while (!done) {
          const t = performance.now();
          const r = await get(socketPath, '/v1/devices');
          if (r.status !== 200) throw new Error(`GET /v1/devices: ${r.status}`);
          if (!done) listingMs.push(performance.now() - t);
          await Promise.race([sleep(1000), allDone]);
        }
      })();
      while (!done) {
        check();
        await Promise.race([sleep(50), allDone]);
      }
      child.kill('SIGUSR2');
      while (!existsSync(usageFile)) {
        check();
        await sleep(5);
      }
      await sleep(20); // written in one synchronous call, but let it land
      const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as Usage;
      await Promise.all([statusLoop, listingLoop]);
      stop();

      const all = (
        JSON.parse((await get(socketPath, '/v1/devices')).body) as {
          devices: { authenticated: { state: string }; verdict?: { status: string } }[];
        }
      ).devices;
      const trusted = all.filter((d) => d.authenticated.state === 'yes' && d.verdict?.status === 'trusted').length;
      if (all.length !== n || trusted !== n)
        throw new Error(`${n} devices: ${all.length} listed, ${trusted} authenticated and trusted`);
      return { n, wallMs, socketMs, usage, lagMs, statusMs, listingMs, trusted, events };
    } finally {
      const t = performance.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
      process.stderr.write(
        `scale: ${n} devices: the daemon took ${(performance.now() - t).toFixed(0)} ms to stop (${String(code)})\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const report = new Report('spdmkit scale bench');
report.section(
  'scale',
  `Scale: spdmkitd authenticating N simulated devices (DOE answer after ${DELAY_MS} ms, Linux-like polling), the daemon in its own process, concurrency ${CONCURRENCY}, ${DEVICE_THREADS} device thread(s)`,
);

const one = await run(1);
report.note(
  `  one device (baseline): wall ${one.wallMs.toFixed(0)} ms, CPU ${(one.usage.userMs + one.usage.systemMs).toFixed(0)} ms, peak RSS ${(one.usage.maxRssKiB / 1024).toFixed(1)} MiB`,
);
const data: Record<string, unknown>[] = [];
for (const n of COUNTS) {
  const r = await run(n);
  const cpuMs = r.usage.userMs + r.usage.systemMs;
  const rssMiB = r.usage.maxRssKiB / 1024;
  const perDeviceKiB = n > 1 ? (r.usage.maxRssKiB - one.usage.maxRssKiB) / (n - 1) : NaN;
  const at = `${n.toLocaleString('en-US')} devices`;
  report.add({ name: `${at}: wall`, value: r.wallMs / 1000, unit: 's' });
  report.add({ name: `${at}: rate`, value: n / (r.wallMs / 1000), unit: 'devices/s' });
  report.add({ name: `${at}: daemon CPU`, value: cpuMs / 1000, unit: 's' });
  report.add({ name: `${at}: daemon CPU per device`, value: cpuMs / n, unit: 'ms' });
  report.add({ name: `${at}: daemon peak RSS`, value: rssMiB, unit: 'MiB' });
  report.add({ name: `${at}: RSS per device`, value: perDeviceKiB, unit: 'KiB' });
  report.add({ name: `${at}: socket up after`, value: r.socketMs, unit: 'ms' });
  for (const [what, xs] of [
    ['event lag', r.lagMs],
    ['status call (GET /v1/devices/{bdf})', r.statusMs],
    ['listing (GET /v1/devices)', r.listingMs],
  ] as const) {
    report.add({ name: `${at}: ${what} p50`, value: percentile(xs, 50), unit: 'ms' });
    report.add({ name: `${at}: ${what} p99`, value: percentile(xs, 99), unit: 'ms' });
    report.add({ name: `${at}: ${what} max`, value: percentile(xs, 100), unit: 'ms' });
  }
  report.add({ name: `${at}: daemon event-loop delay p99`, value: r.usage.loopP99Ms, unit: 'ms' });
  report.add({ name: `${at}: daemon event-loop delay max`, value: r.usage.loopMaxMs, unit: 'ms' });
  report.add({ name: `${at}: daemon main thread busy`, value: 100 * r.usage.mainThreadBusy, unit: '%' });
  if (r.usage.mainThreadCpuMs >= 0)
    report.add({ name: `${at}: daemon main-thread CPU per device`, value: r.usage.mainThreadCpuMs / n, unit: 'ms' });
  report.note(
    `  ${at}: ${r.trusted} authenticated and trusted, ${r.events} events, ${r.statusMs.length} status calls, ${r.listingMs.length} listings; heap ${(r.usage.heapUsed / 2 ** 20).toFixed(0)} MiB, external ${(r.usage.external / 2 ** 20).toFixed(0)} MiB`,
  );
  data.push({
    n,
    wallMs: r.wallMs,
    socketMs: r.socketMs,
    usage: r.usage,
    lag: {
      p50: percentile(r.lagMs, 50),
      p99: percentile(r.lagMs, 99),
      max: percentile(r.lagMs, 100),
      count: r.lagMs.length,
    },
    status: {
      p50: percentile(r.statusMs, 50),
      p99: percentile(r.statusMs, 99),
      max: percentile(r.statusMs, 100),
      count: r.statusMs.length,
    },
    listing: {
      p50: percentile(r.listingMs, 50),
      p99: percentile(r.listingMs, 99),
      max: percentile(r.listingMs, 100),
      count: r.listingMs.length,
    },
  });
}
report.part.data['scale'] = {
  delayMs: DELAY_MS,
  concurrency: CONCURRENCY,
  deviceThreads: DEVICE_THREADS,
  baseline: one,
  runs: data,
};
report.finish();
