/**
 * Two builds of spdmkit, one process: the same warm in-process authentication (bench:auth's
 * flow) from this build and from another one (`--base DIR`, the `dist/` of a checkout of the
 * commit to compare against), alternated in rounds, CPU µs per flow and the ratio per round.
 *
 * Whole-bench runs of the two commits one after the other swing by ±30 % on a contended host:
 * the floor moves as much as the flow. Here both builds share the process, its heap, its JIT and
 * whatever else the machine runs at that moment, and each round times one block of A then one of
 * B (then B, A: the order alternates), so a change of a few per cent shows.
 *
 *   git worktree add /tmp/base <commit> && (cd /tmp/base && npm ci && npx tsc -p tsconfig.json)
 *   node dist/bench/ab.js --base /tmp/base/dist [--suite P256|P384|RSA|Ed25519] [--rounds 30] [--flows N]
 *
 * Prints; asserts nothing. A ratio below 1 means this build spends less CPU per flow.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './harness.js';

const SUITES: Record<string, { asymId: number; hashId: number; flows: number }> = {
  P256: { asymId: 0x0010, hashId: 0x01, flows: 100 },
  P384: { asymId: 0x0080, hashId: 0x02, flows: 20 },
  RSA: { asymId: 0x0008, hashId: 0x02, flows: 20 },
  Ed25519: { asymId: 0x0400, hashId: 0x04, flows: 100 },
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function fail(message: string): never {
  process.stderr.write(`bench ab: ${message}\n`);
  process.exit(2);
}

const baseArg = arg('base') ?? fail('--base DIR (the dist/ of the build to compare against) is required');
const base = resolve(baseArg);
if (!existsSync(join(base, 'src', 'requester', 'requester.js'))) fail(`${base} has no src/requester/requester.js`);
const suiteName = arg('suite') ?? 'P256';
const suite = SUITES[suiteName] ?? fail(`--suite takes one of ${Object.keys(SUITES).join(', ')}`);
const rounds = Number(arg('rounds') ?? 30);
const flows = Number(arg('flows') ?? suite.flows);
if (!Number.isInteger(rounds) || rounds < 2 || !Number.isInteger(flows) || flows < 1)
  fail('--rounds (2 or more) and --flows (1 or more) take integers');

type Flow = () => Promise<void>;

/** One warm flow from the build under `dist`: its own modules, responder and certificate cache. */
async function flowOf(dist: string): Promise<Flow> {
  const load = async <T>(path: string) => (await import(pathToFileURL(join(dist, path)).href)) as T;
  const { buildProfile } = await load<typeof import('../src/responder/profiles.js')>('src/responder/profiles.js');
  const { Responder } = await load<typeof import('../src/responder/responder.js')>('src/responder/responder.js');
  const { Requester } = await load<typeof import('../src/requester/requester.js')>('src/requester/requester.js');
  const { LoopbackTransport } = await load<typeof import('../src/transport/loopback.js')>('src/transport/loopback.js');
  const built = buildProfile({ name: `ab ${suiteName}`, versions: [0x13], asymId: suite.asymId, hashId: suite.hashId });
  const responder = new Responder(built.profile);
  return async () => {
    await new Requester(new LoopbackTransport(responder)).authenticate();
  };
}

async function cpuPerFlow(f: Flow): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < flows; i++) await f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / flows;
}

const median = (v: readonly number[]) => [...v].sort((p, q) => p - q)[v.length >> 1] as number;

const ours = await flowOf(join(ROOT, 'dist'));
const theirs = await flowOf(base);
// Warm both until V8 has compiled them (the same count of flows each).
for (let i = 0; i < 10 * flows; i++) {
  await ours();
  await theirs();
}
const a: number[] = [];
const b: number[] = [];
for (let r = 0; r < rounds; r++) {
  if (r % 2 === 0) {
    a.push(await cpuPerFlow(ours));
    b.push(await cpuPerFlow(theirs));
  } else {
    b.push(await cpuPerFlow(theirs));
    a.push(await cpuPerFlow(ours));
  }
}
const ratios = a.map((x, i) => x / (b[i] as number));
console.log(
  `${suiteName}, ${rounds} rounds of ${flows} flows: this build ${median(a).toFixed(1)} µs per flow, ` +
    `base ${median(b).toFixed(1)} µs; this/base median of rounds ×${median(ratios).toFixed(3)} ` +
    `(lowest ×${Math.min(...ratios).toFixed(3)}, highest ×${Math.max(...ratios).toFixed(3)})`,
);
