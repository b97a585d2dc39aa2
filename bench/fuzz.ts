/**
 * The fuzz runner: `npm run fuzz [-- --seconds N] [--target NAME]... [--seed S]`. It lives in
 * bench/ because `node --test dist/test/` would run any script under a test/ directory.
 *
 * Runs the targets of test/fuzz/targets.ts round-robin, a time slice each, for N seconds (default
 * 60; preparing the corpora is not counted), then prints inputs per second per target and in
 * total. A failing input is saved under test/regressions/ (one file per distinct failure, at most
 * five per target per run) with the error, and the run exits 1. Targets whose CI run is skipped
 * for a known issue run only when named with --target.
 *
 * Besides untyped errors and hangs (no outcome within 10 s of wall time), an input that takes
 * longer than 2 s of CPU-bound work is a failure ("slow"), and the resident set size is sampled
 * after every slice and reported.
 */
import fc from 'fast-check';
import { TARGETS, targetNamed } from '../test/fuzz/targets.js';
import {
  describeError,
  FuzzFailure,
  knownIssueHits,
  outcomeCounts,
  type AnyTarget,
  type Prepared,
} from '../test/fuzz/target.js';
import { saveRegression } from '../test/fuzz/regressions.js';

interface Args {
  seconds: number;
  targets: string[];
  seed: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { seconds: 60, targets: [], seed: Date.now() | 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--seconds' && v !== undefined) {
      a.seconds = Number(v);
      i++;
    } else if (k === '--target' && v !== undefined) {
      a.targets.push(...v.split(','));
      i++;
    } else if (k === '--seed' && v !== undefined) {
      a.seed = Number(v) | 0;
      i++;
    } else if (k === '--help' || k === '-h') {
      console.log('usage: npm run fuzz [-- --seconds N] [--target NAME[,NAME]]... [--seed S]');
      console.log(`targets: ${TARGETS.map((t) => t.name).join(', ')}`);
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${k ?? ''} (try --help)`);
    }
  }
  if (!Number.isFinite(a.seconds) || a.seconds <= 0) throw new Error('--seconds wants a positive number');
  return a;
}

interface Stats {
  readonly target: AnyTarget;
  readonly prepared: Prepared<unknown>;
  inputs: number;
  /** Wall time of this target's slices: generating inputs and running them. */
  ms: number;
  failures: number;
  maxInputMs: number;
  readonly signatures: Set<string>;
}

/** Groups failures that are the same bug: numbers and hex runs do not count. */
function signature(kind: string, message: string): string {
  return `${kind}:${message.replace(/0x[0-9a-f]+|[0-9a-f]{8,}|\d+/gi, '#').slice(0, 160)}`;
}

const SLICE_MS = 250;
const BATCH = 25;
const SLOW_MS = 2000;
const MAX_SAVED_PER_TARGET = 5;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const chosen =
    args.targets.length > 0
      ? args.targets.map((n) => targetNamed(n) ?? fail(`no target named ${n}`))
      : TARGETS.filter((t) => !t.skip);
  for (const t of TARGETS) if (t.skip && !chosen.includes(t)) console.log(`(skipping ${t.name}: ${t.skip})`);

  const t0 = performance.now();
  const stats: Stats[] = [];
  for (const t of chosen)
    stats.push({
      target: t,
      prepared: await t.prepare(),
      inputs: 0,
      ms: 0,
      failures: 0,
      maxInputMs: 0,
      signatures: new Set(),
    });
  console.log(
    `prepared ${stats.length} target(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s; fuzzing for ${args.seconds} s, seed ${args.seed}`,
  );

  // Node warnings (run with --no-warnings, they are counted here instead of printed each time).
  const warnings = new Map<string, { n: number; first: string }>();
  process.on('warning', (w) => {
    const seen = warnings.get(w.name);
    warnings.set(w.name, { n: (seen?.n ?? 0) + 1, first: seen?.first ?? w.message.slice(0, 200) });
  });

  let seed = args.seed;
  let maxRss = process.memoryUsage.rss();
  const saved: string[] = [];
  const end = performance.now() + args.seconds * 1000;
  while (performance.now() < end) {
    for (const s of stats) {
      if (performance.now() >= end) break;
      const sliceStart = performance.now();
      const sliceEnd = Math.min(end, sliceStart + SLICE_MS);
      while (performance.now() < sliceEnd) {
        let inputs: unknown[];
        try {
          inputs = fc.sample(s.prepared.arbitrary, { numRuns: BATCH, seed: seed++ });
        } catch (e) {
          // A defect of the target's input generator, not of the code under test: say so and go on.
          console.log(`generator of ${s.target.name} failed (seed ${seed - 1}): ${describeError(e)}`);
          break;
        }
        for (const input of inputs) {
          const start = performance.now();
          let failure: { kind: string; message: string } | undefined;
          try {
            await s.prepared.run(input);
          } catch (e) {
            failure =
              e instanceof FuzzFailure
                ? { kind: e.kind, message: e.message }
                : { kind: 'untyped-error', message: describeError(e) };
          }
          const took = performance.now() - start;
          s.inputs++;
          s.maxInputMs = Math.max(s.maxInputMs, took);
          if (!failure && took > SLOW_MS) failure = { kind: 'slow', message: `one input took ${took.toFixed(0)} ms` };
          if (failure) {
            s.failures++;
            const sig = signature(failure.kind, failure.message);
            if (!s.signatures.has(sig) && s.signatures.size < MAX_SAVED_PER_TARGET) {
              s.signatures.add(sig);
              const file = saveRegression(s.target, input, failure);
              saved.push(file);
              console.log(
                `FAIL ${s.target.name}: ${failure.kind}: ${failure.message.split('\n')[0]}\n     saved ${file}`,
              );
            }
          }
          if (performance.now() >= sliceEnd) break;
        }
        // Targets that never wait run as one chain of microtasks: let timers and warnings through.
        await new Promise((resolve) => setImmediate(resolve));
      }
      s.ms += performance.now() - sliceStart;
      maxRss = Math.max(maxRss, process.memoryUsage.rss());
    }
  }

  const wall = stats.reduce((n, s) => n + s.ms, 0) / 1000;
  const total = stats.reduce((n, s) => n + s.inputs, 0);
  const w = Math.max(...stats.map((s) => s.target.name.length), 6);
  console.log('');
  console.log(
    `${'target'.padEnd(w)}  ${'inputs'.padStart(9)}  ${'inputs/s'.padStart(9)}  ${'max ms'.padStart(7)}  failures`,
  );
  for (const s of stats) {
    const rate = s.ms > 0 ? (s.inputs / s.ms) * 1000 : 0;
    console.log(
      `${s.target.name.padEnd(w)}  ${String(s.inputs).padStart(9)}  ${rate.toFixed(0).padStart(9)}  ${s.maxInputMs.toFixed(0).padStart(7)}  ${s.failures}${s.signatures.size > 0 ? ` (${s.signatures.size} distinct)` : ''}`,
    );
  }
  console.log(
    `${'total'.padEnd(w)}  ${String(total).padStart(9)}  ${(total / Math.max(wall, 1e-9)).toFixed(0).padStart(9)}  (${wall.toFixed(1)} s of slices, generation included; max RSS ${(maxRss / 2 ** 20).toFixed(0)} MiB)`,
  );
  for (const [target, m] of outcomeCounts) {
    const top = [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(`${target} outcomes: ${top.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  for (const [id, n] of knownIssueHits) console.log(`known issue tolerated ${n} time(s): ${id}`);
  for (const [name, w] of warnings) console.log(`process warning ${name}: ${w.n} time(s), first: ${w.first}`);
  for (const s of stats) await s.prepared.dispose?.();
  if (saved.length > 0) {
    console.log(`\n${saved.length} failing input(s) saved under test/regressions/`);
    process.exitCode = 1;
  }
}

function fail(msg: string): never {
  throw new Error(msg);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
});
