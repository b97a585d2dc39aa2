/**
 * The benches' shared harness: timing (CPU and wall), a figure record with its baseline from the
 * same run, and the two outputs — text for people, one JSON document for tools (also appended to
 * bench/results/ as a history of runs).
 *
 * Figures are printed, never asserted: the machine is shared and noisy, so a figure only means
 * something beside its baseline measured in the same process a moment before or after. To keep
 * drift (another process, frequency scaling) out of the ratio, `compare` alternates the subject
 * and its baseline in rounds and reports the median round of each.
 *
 *   BENCH_SECONDS   seconds of measurement per figure and side (default 1)
 *   BENCH_ROUNDS    rounds the seconds are split into (default 5)
 *   --json          one JSON document on stdout, and the same written to bench/results/
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, arch, release } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (dist/bench/harness.js is three levels below). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

export const SECONDS = positive(process.env['BENCH_SECONDS'], 1);
export const ROUNDS = Math.max(1, Math.round(positive(process.env['BENCH_ROUNDS'], 5)));

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** One timed run of an operation: how many times, and what it cost in CPU and wall time. */
export interface Timing {
  readonly runs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** CPU (user + system, the whole process) per run, µs. */
  readonly cpuUs: number;
  /** Wall time per run, µs. */
  readonly wallUs: number;
  /** Runs per second of wall time. */
  readonly perSecond: number;
}

function timing(runs: number, wallMs: number, cpuMs: number): Timing {
  return {
    runs,
    wallMs,
    cpuMs,
    cpuUs: (cpuMs * 1000) / runs,
    wallUs: (wallMs * 1000) / runs,
    perSecond: (runs * 1000) / wallMs,
  };
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

export interface MeasureOptions {
  /** Seconds to keep repeating (default BENCH_SECONDS). */
  readonly seconds?: number;
  /** Untimed runs first (JIT, caches); default 3. */
  readonly warmup?: number;
}

/**
 * Repeats `fn` until `seconds` have passed (at least once). Synchronous operations go through
 * measureSync: awaiting each run of a microsecond operation would time the promise machinery.
 */
export async function measure(fn: () => Promise<unknown>, o: MeasureOptions = {}): Promise<Timing> {
  for (let i = 0; i < (o.warmup ?? 3); i++) await fn();
  const limit = (o.seconds ?? SECONDS) * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let runs = 0;
  do {
    await fn();
    runs++;
  } while (performance.now() - t0 < limit);
  return timing(runs, performance.now() - t0, cpuMsSince(cpu0));
}

export function measureSync(fn: () => unknown, o: MeasureOptions = {}): Timing {
  for (let i = 0; i < (o.warmup ?? 3); i++) fn();
  const limit = (o.seconds ?? SECONDS) * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let runs = 0;
  // Check the clock every few runs only: performance.now() is not free next to a 5 µs operation.
  let batch = 1;
  do {
    for (let i = 0; i < batch; i++) fn();
    runs += batch;
    if (batch < 64) batch *= 2;
  } while (performance.now() - t0 < limit);
  return timing(runs, performance.now() - t0, cpuMsSince(cpu0));
}

type Op = { readonly sync: () => unknown } | { readonly async: () => Promise<unknown> };

/** Upper bound of warmUp, seconds (BENCH_WARMUP_MAX, default 6). */
export const WARMUP_MAX_SECONDS = positive(process.env['BENCH_WARMUP_MAX'], 6);

/**
 * Runs `op` untimed until its cost per run has settled: slices of a quarter second until two in a
 * row agree on CPU per run within 5 % (and at least `minSeconds` have passed), at most
 * WARMUP_MAX_SECONDS. A fixed warm-up is too short on a loaded machine: V8 keeps compiling the
 * stack on its background threads, which process.cpuUsage bills to the run, for a number of runs
 * rather than of seconds (the first suite's P-256 flow came out ~1.8x its steady cost after one
 * second). Returns the seconds it took, for the report.
 */
export async function warmUp(op: Op, minSeconds = 0.5): Promise<number> {
  const t0 = performance.now();
  let last = Infinity;
  for (;;) {
    const t = await once(op, 0.25, 0);
    const spent = (performance.now() - t0) / 1000;
    if ((spent >= minSeconds && Math.abs(t.cpuUs - last) <= 0.05 * last) || spent >= WARMUP_MAX_SECONDS) return spent;
    last = t.cpuUs;
  }
}

async function once(op: Op, seconds: number, warmup: number): Promise<Timing> {
  return 'sync' in op ? measureSync(op.sync, { seconds, warmup }) : measure(op.async, { seconds, warmup });
}

function medianBy(ts: readonly Timing[], key: (t: Timing) => number): Timing {
  const sorted = [...ts].sort((a, b) => key(a) - key(b));
  return sorted[sorted.length >> 1]!;
}

/**
 * The subject and its baseline, alternated in ROUNDS rounds of SECONDS/ROUNDS each; the median
 * round (by CPU per run) of each side.
 */
export async function compare(subject: Op, baseline: Op, o: MeasureOptions = {}): Promise<[Timing, Timing]> {
  const per = (o.seconds ?? SECONDS) / ROUNDS;
  const a: Timing[] = [];
  const b: Timing[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const warm = r === 0 ? (o.warmup ?? 3) : 1;
    a.push(await once(subject, per, warm));
    b.push(await once(baseline, per, warm));
  }
  return [medianBy(a, (t) => t.cpuUs), medianBy(b, (t) => t.cpuUs)];
}

// ---------------------------------------------------------------------------------------------
// Figures

/** `ratio op value`: e.g. cost ≤ 1.15 × the floor, throughput ≥ 0.8 × raw AEAD. */
export interface Target {
  readonly op: '<=' | '>=';
  readonly ratio: number;
}

export interface Figure {
  /** The bench section, e.g. "auth", "sessions", "cold-start", "memory". */
  readonly group: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What the value is compared with, measured in the same run, in the same unit. */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** value ÷ baseline.value. */
  readonly ratio?: number;
  readonly target?: Target;
  /** Whether the ratio meets the target (absent without one). */
  readonly meetsTarget?: boolean;
}

export interface FigureInput {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: { readonly name: string; readonly value: number };
  readonly target?: Target;
}

/** A line of text the bench wants printed with its figures (tables, profile summaries). */
export interface Note {
  readonly group: string;
  readonly text: string;
}

/** What one bench (or the runner, merging several) produced. */
export interface Part {
  readonly figures: Figure[];
  readonly notes: Note[];
  /** Anything else worth keeping in the JSON (e.g. the profile buckets). */
  readonly data: Record<string, unknown>;
}

export class Report {
  readonly part: Part = { figures: [], notes: [], data: {} };
  private group = '';

  constructor(readonly title: string) {}

  section(group: string, heading?: string): void {
    this.group = group;
    if (heading) this.note(`\n${heading}`);
  }

  add(f: FigureInput): Figure {
    const ratio = f.baseline && f.baseline.value !== 0 ? f.value / f.baseline.value : undefined;
    const meetsTarget =
      f.target && ratio !== undefined
        ? f.target.op === '<='
          ? ratio <= f.target.ratio
          : ratio >= f.target.ratio
        : undefined;
    const fig: Figure = {
      group: this.group,
      ...f,
      ...(ratio !== undefined ? { ratio } : {}),
      ...(meetsTarget !== undefined ? { meetsTarget } : {}),
    };
    this.part.figures.push(fig);
    this.note(formatFigure(fig));
    return fig;
  }

  note(text: string): void {
    this.part.notes.push({ group: this.group, text });
  }

  /**
   * The end of a bench: under the runner (BENCH_CHILD=1) its Part as JSON on stdout; otherwise
   * the text, or with --json the whole document (stdout and bench/results/).
   */
  finish(): void {
    if (process.env['BENCH_CHILD'] === '1') {
      process.stdout.write(`${JSON.stringify(this.part)}\n`);
      return;
    }
    emit(this.title, [this.part]);
  }
}

function num(v: number): string {
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function formatFigure(f: Figure): string {
  let s = `  ${f.name.padEnd(52)} ${num(f.value).padStart(10)} ${f.unit}`;
  if (f.baseline) {
    s += `   (${f.baseline.name}: ${num(f.baseline.value)} ${f.unit}; ×${f.ratio?.toFixed(2) ?? '?'}`;
    if (f.target)
      s += `, target ${f.target.op === '<=' ? '≤' : '≥'} ${f.target.ratio} ${f.meetsTarget ? 'met' : 'NOT met'}`;
    s += ')';
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// The document

export interface Machine {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly totalMemoryBytes: number;
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
}

export interface BenchDocument {
  readonly format: 'spdmkit-bench/1';
  readonly title: string;
  readonly date: string;
  readonly commit: string;
  /** True when the work tree had uncommitted changes (the figures are not of `commit` alone). */
  readonly dirty: boolean;
  readonly node: string;
  readonly machine: Machine;
  readonly settings: { readonly benchSeconds: number; readonly rounds: number };
  readonly figures: Figure[];
  readonly notes: Note[];
  readonly data: Record<string, unknown>;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/**
 * The environment of a process a bench times (a CLI run, a peer's emulator): NODE_EXTRA_CA_CERTS
 * removed — with a CA bundle named there (this machine names Debian's) Node parses it at start,
 * 60–70 ms that are the machine's setting, neither Node's own start nor ours — and BENCH_CHILD,
 * the runner's flag to its benches, not to what they start; `extra` added.
 */
export function timedChildEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env['NODE_EXTRA_CA_CERTS'];
  delete env['BENCH_CHILD'];
  return env;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cpus: c.length,
    totalMemoryBytes: totalmem(),
    platform: platform(),
    arch: arch(),
    osRelease: release(),
  };
}

export function document(title: string, parts: readonly Part[]): BenchDocument {
  return {
    format: 'spdmkit-bench/1',
    title,
    date: new Date().toISOString(),
    commit: git(['rev-parse', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    node: process.version,
    machine: machine(),
    settings: { benchSeconds: SECONDS, rounds: ROUNDS },
    figures: parts.flatMap((p) => p.figures),
    notes: parts.flatMap((p) => p.notes),
    data: Object.assign({}, ...parts.map((p) => p.data)) as Record<string, unknown>,
  };
}

/** The first line of the text output: what ran where. */
export function printHeader(title: string): void {
  const m = machine();
  console.log(
    `${title}: node ${process.version}, ${m.cpus} × ${m.cpuModel}, BENCH_SECONDS=${SECONDS} (${ROUNDS} rounds)`,
  );
}

/** Text to stdout, or (with --json) the document to stdout and to bench/results/. */
export function emit(title: string, parts: readonly Part[]): void {
  if (!process.argv.includes('--json')) {
    printHeader(title);
    for (const p of parts) for (const n of p.notes) console.log(n.text);
    return;
  }
  const doc = document(title, parts);
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  process.stdout.write(text);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = doc.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = join(dir, `${stamp}-${doc.commit.slice(0, 8)}.json`);
  writeFileSync(file, text);
  process.stderr.write(`bench: wrote ${file}\n`);
}
