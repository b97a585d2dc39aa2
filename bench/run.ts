/**
 * `npm run bench`: the issue-12 benches, each in a child process of its own (so one bench's heap,
 * caches and JIT state do not colour the next one's figures), merged into one report — text, or
 * with --json one JSON document on stdout and in bench/results/.
 *
 *   npm run bench                         everything, BENCH_SECONDS=1 per figure and side
 *   npm run bench -- --json               the same as one JSON document (and bench/results/<date>-<commit>.json)
 *   npm run bench -- --only auth,memory   some of: auth, sessions, cold-start, memory, scale, libspdm
 *   LIBSPDM_EMU_BIN=…/spdm-emu/build/bin npm run bench   with the figures against libspdm's requester
 *   BENCH_SECONDS=5 npm run bench         steadier figures
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { emit, printHeader, ROOT, type Part } from './harness.js';

const BENCHES: readonly { name: string; file: string; nodeArgs: string[]; runs?: string[][] }[] = [
  { name: 'auth', file: 'auth.bench.js', nodeArgs: [] },
  // Handshakes and records in processes of their own: after the handshakes, the records' raw AEAD
  // baseline ran at half speed in a heap whose collections cost three times as much.
  {
    name: 'sessions',
    file: 'sessions.bench.js',
    nodeArgs: [],
    runs: [
      ['--section', 'handshakes'],
      ['--section', 'records'],
    ],
  },
  { name: 'cold-start', file: 'cold-start.bench.js', nodeArgs: [] },
  { name: 'memory', file: 'memory.bench.js', nodeArgs: ['--expose-gc'] },
  { name: 'scale', file: 'scale.bench.js', nodeArgs: [] },
  // Against libspdm's emulators when LIBSPDM_EMU_BIN names them; otherwise a note that it was skipped.
  { name: 'libspdm', file: 'libspdm.bench.js', nodeArgs: [] },
];

function selected(): typeof BENCHES {
  const i = process.argv.indexOf('--only');
  if (i < 0) return BENCHES;
  const names = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (names.length === 0 || unknown.length > 0) {
    process.stderr.write(`bench: --only takes some of ${BENCHES.map((b) => b.name).join(', ')}\n`);
    process.exit(2);
  }
  return BENCHES.filter((b) => names.includes(b.name));
}

const json = process.argv.includes('--json');
const parts: Part[] = [];
if (!json) printHeader('spdmkit bench');
for (const b of selected())
  for (const args of b.runs ?? [[]]) {
    if (!json) process.stderr.write(`bench: ${[b.name, ...args.slice(1)].join(' ')}…\n`);
    const r = spawnSync(process.execPath, [...b.nodeArgs, join(ROOT, 'dist', 'bench', b.file), ...args], {
      env: { ...process.env, BENCH_CHILD: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !last.startsWith('{')) {
      process.stderr.write(`bench: ${b.name} failed (exit ${r.status ?? r.signal})\n${r.stdout}`);
      process.exit(1);
    }
    const part = JSON.parse(last) as Part;
    parts.push(part);
    // Text as each bench ends, so a long run shows progress.
    if (!json) for (const n of part.notes) console.log(n.text);
  }
if (json) emit('spdmkit bench', parts);
