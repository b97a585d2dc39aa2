/**
 * Cold start of the `spdm` command (issue 12, item 3): process start to exit, as a user or a
 * daemon's helper pays it each time, against a bare `node -e 0` started the same way in the same
 * run. Per command: CPU (user + system of the child), wall time, and peak RSS; the median of
 * BENCH_RUNS runs.
 *
 * `spdm authenticate` runs to its verdict against `spdm emulate` (started once, as a child, on
 * an ephemeral port; its own start is not measured): connect, VCA, chain, CHALLENGE, signed
 * measurements, the verifier's verdict against the emulator's root.
 *
 * CPU comes from bash's `times` after the child (its children's rusage, millisecond
 * resolution); peak RSS from /usr/bin/time's %M when it is installed, otherwise from a preload
 * that writes process.resourceUsage().maxRSS at exit (a module more to load, in the baseline too).
 *
 *   npm run bench:cold [-- --json]
 *   BENCH_RUNS=20 node dist/bench/cold-start.bench.js
 *   BENCH_SPDM=/path/to/other/checkout/bin/spdm.js node dist/bench/cold-start.bench.js   (another build, same machine)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Requester } from '../src/requester/requester.js';
import { Responder } from '../src/responder/responder.js';
import { LoopbackTransport } from '../src/transport/loopback.js';
import { buildProfile } from '../src/responder/profiles.js';
import { Report, ROOT, timedChildEnv } from './harness.js';

const RUNS = Math.max(1, Math.round(Number(process.env['BENCH_RUNS'] ?? 10)) || 10);
const spdm = process.env['BENCH_SPDM'] ?? join(ROOT, 'bin', 'spdm.js');

const GNU_TIME = '/usr/bin/time';
const haveGnuTime = existsSync(GNU_TIME);

interface Run {
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly rssKiB: number;
  readonly status: number | null;
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** Median CPU, wall and peak RSS of RUNS runs of `node args`. */
function measure(dir: string, args: readonly string[]): Run {
  const runs: Run[] = [];
  const rssFile = join(dir, 'rss');
  const preload = join(dir, 'rss-preload.cjs');
  for (let i = 0; i < RUNS; i++) {
    rmSync(rssFile, { force: true });
    const node = haveGnuTime
      ? `${GNU_TIME} -f %M -o ${quote(rssFile)} node ${args.map(quote).join(' ')}`
      : `node --require ${quote(preload)} ${args.map(quote).join(' ')}`;
    const t0 = performance.now();
    const r = spawnSync('bash', ['-c', `${node} >/dev/null 2>&1; s=$?; times; exit $s`], {
      encoding: 'utf8',
      env: timedChildEnv({ BENCH_RSS_OUT: rssFile }),
    });
    const wallMs = performance.now() - t0;
    const child = r.stdout.trim().split('\n').at(-1) ?? '';
    const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(child);
    if (!m) throw new Error(`could not read the child's times from ${JSON.stringify(r.stdout)}`);
    const cpuMs = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
    const rssText = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').trim().split('\n').at(-1) : undefined;
    runs.push({ cpuMs, wallMs, rssKiB: Number(rssText ?? NaN), status: r.status });
  }
  const median = (key: (r: Run) => number) => [...runs].map(key).sort((a, b) => a - b)[runs.length >> 1] ?? NaN;
  return {
    cpuMs: median((r) => r.cpuMs),
    wallMs: median((r) => r.wallMs),
    rssKiB: median((r) => r.rssKiB),
    status: runs[0]!.status,
  };
}

/** `spdm emulate` on an ephemeral port, once it says where it listens. */
async function startEmulator(profileFile: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [spdm, 'emulate', '--transport', 'doe', '--port', '0', '--profile', profileFile],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`spdm emulate did not start: ${text}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /listening on [^\s]+:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`spdm emulate exited (${code}): ${text}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  };
  return { port, stop };
}

const report = new Report('spdmkit cold-start bench');
report.section(
  'cold-start',
  `Cold start, median of ${RUNS} runs (CPU = user + system of the child), against node -e 0 in the same run`,
);

const dir = mkdtempSync(join(tmpdir(), 'spdmkit-cold-'));
writeFileSync(
  join(dir, 'rss-preload.cjs'),
  "process.on('exit', () => require('fs').writeFileSync(process.env.BENCH_RSS_OUT, String(process.resourceUsage().maxRSS)));\n",
);
let emulator: { port: number; stop: () => Promise<void> } | undefined;
try {
  // One identity for the emulator, the evidence of `spdm verify` and the root both trust.
  const device = buildProfile({ name: 'cold0', versions: [0x13], asymId: 0x0080, hashId: 0x02 });
  const slot = device.profile.slots[0]!;
  writeFileSync(join(dir, 'chain.der'), Buffer.concat(slot.certificates));
  writeFileSync(join(dir, 'leaf.key.pem'), slot.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(
    join(dir, 'profile.json'),
    JSON.stringify({
      name: 'cold0',
      versions: ['1.3'],
      hash: 'SHA-384',
      slots: [{ slot: 0, asym: 'ECDSA-P384', certChain: 'chain.der', privateKey: 'leaf.key.pem' }],
    }),
  );
  const evidence = await new Requester(new LoopbackTransport(new Responder(device.profile))).authenticate();
  writeFileSync(join(dir, 'evidence.json'), JSON.stringify(evidence));
  writeFileSync(join(dir, 'root.der'), device.root.certificate);
  writeFileSync(join(dir, 'policy.yaml'), 'version: 1\nrules:\n  cmaSan: off\n');
  emulator = await startEmulator(join(dir, 'profile.json'));
  const verdict = ['--trust', join(dir, 'root.der'), '--policy', join(dir, 'policy.yaml')];

  const cases: [string, string[]][] = [
    ['spdm --help', [spdm, '--help']],
    ['spdm log --help', [spdm, 'log', '--help']],
    [
      'spdm authenticate (emulator, to the verdict)',
      [spdm, 'authenticate', '--connect', `127.0.0.1:${emulator.port}`, '--transport', 'doe', ...verdict],
    ],
    ['spdm authenticate (unreachable)', [spdm, 'authenticate', '--connect', '127.0.0.1:1', '--transport', 'mctp']],
    ['spdm verify (to the verdict)', [spdm, 'verify', join(dir, 'evidence.json'), ...verdict]],
  ];
  const base = measure(dir, ['-e', '0']);
  report.note(
    `  node -e 0 (the baseline): CPU ${base.cpuMs.toFixed(0)} ms, wall ${base.wallMs.toFixed(0)} ms, peak RSS ${(base.rssKiB / 1024).toFixed(1)} MiB` +
      (haveGnuTime ? '' : ' (RSS from a preload: /usr/bin/time is not installed)'),
  );
  for (const [name, args] of cases) {
    const f = measure(dir, args);
    const expectOk = !name.includes('unreachable');
    if (expectOk && f.status !== 0) throw new Error(`${name} exited ${f.status}: the figure would not be of a verdict`);
    report.add({
      name: `${name}: CPU`,
      value: f.cpuMs,
      unit: 'ms',
      baseline: { name: 'node -e 0', value: base.cpuMs },
    });
    report.add({
      name: `${name}: wall`,
      value: f.wallMs,
      unit: 'ms',
      baseline: { name: 'node -e 0', value: base.wallMs },
    });
    report.add({
      name: `${name}: peak RSS`,
      value: f.rssKiB / 1024,
      unit: 'MiB',
      baseline: { name: 'node -e 0', value: base.rssKiB / 1024 },
    });
  }
} finally {
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
}

report.finish();
