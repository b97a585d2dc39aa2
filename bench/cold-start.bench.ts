/**
 * Cold start of the `spdm` command: process start to exit, as a user or a daemon's helper pays it
 * each time, against a bare `node -e 0` started the same way in the same run. CPU time (user +
 * system, from the child's rusage) is the figure; wall time is printed beside it.
 *
 *   npm run bench:cold
 *   BENCH_RUNS=20 node dist/bench/cold-start.bench.js
 *   BENCH_SPDM=/path/to/other/checkout/bin/spdm.js node dist/bench/cold-start.bench.js   (another build, same machine)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Requester } from '../src/requester/requester.js';
import { Responder } from '../src/responder/responder.js';
import { LoopbackTransport } from '../src/transport/loopback.js';
import { buildProfile } from '../src/responder/profiles.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 10);
const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const spdm = process.env['BENCH_SPDM'] ?? join(root, 'bin', 'spdm.js');

interface Figure {
  readonly cpuMs: number;
  readonly wallMs: number;
}

/** Median CPU and wall time of RUNS runs of `node args`. */
function measure(args: readonly string[]): Figure {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // /usr/bin/time would be a dependency; bash's `times` after the child gives its rusage.
    const t0 = performance.now();
    const r = spawnSync('bash', ['-c', `node ${args.map((a) => `'${a}'`).join(' ')} >/dev/null 2>&1; times`], {
      encoding: 'utf8',
    });
    wall.push(performance.now() - t0);
    const lines = r.stdout.trim().split('\n');
    const child = lines.at(-1) ?? '';
    const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(child);
    if (!m) throw new Error(`could not read the child's times from ${JSON.stringify(r.stdout)}`);
    cpu.push((Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
  return { cpuMs: median(cpu), wallMs: median(wall) };
}

const dir = mkdtempSync(join(tmpdir(), 'spdmkit-cold-'));
try {
  // Evidence and a root for `spdm verify`: the whole verdict path from a cold process.
  const device = buildProfile({ name: 'cold0', versions: [0x13], asymId: 0x0080, hashId: 0x02 });
  const evidence = await new Requester(new LoopbackTransport(new Responder(device.profile))).authenticate();
  writeFileSync(join(dir, 'evidence.json'), JSON.stringify(evidence));
  writeFileSync(join(dir, 'root.der'), device.root.certificate);
  writeFileSync(join(dir, 'policy.yaml'), 'version: 1\nrules:\n  cmaSan: off\n');

  const cases: [string, string[]][] = [
    ['node -e 0 (baseline)', ['-e', '0']],
    ['spdm --help', [spdm, '--help']],
    ['spdm log --help', [spdm, 'log', '--help']],
    ['spdm authenticate (unreachable)', [spdm, 'authenticate', '--connect', '127.0.0.1:1', '--transport', 'mctp']],
    [
      'spdm verify (to the verdict)',
      [
        spdm,
        'verify',
        join(dir, 'evidence.json'),
        '--trust',
        join(dir, 'root.der'),
        '--policy',
        join(dir, 'policy.yaml'),
      ],
    ],
  ];
  const base = measure(cases[0]![1]);
  console.log(`cold start, median of ${RUNS} runs (CPU = user + system of the child)`);
  console.log(
    `${'command'.padEnd(34)} ${'cpu ms'.padStart(8)} ${'wall ms'.padStart(8)} ${'cpu ÷ node -e 0'.padStart(16)}`,
  );
  for (const [name, args] of cases) {
    const f = name.startsWith('node -e') ? base : measure(args);
    console.log(
      `${name.padEnd(34)} ${f.cpuMs.toFixed(0).padStart(8)} ${f.wallMs.toFixed(0).padStart(8)} ${(f.cpuMs / base.cpuMs).toFixed(2).padStart(16)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
