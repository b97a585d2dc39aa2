/**
 * Parent side of the crash tests: runs crash-worker.js children, kills them, and after every crash
 * checks what a user of the log relies on: every append acknowledged before the crash is in the
 * log at the position it was given, the whole log verifies (entries, device signatures, tree,
 * every signed tree head, log_state), and the next append works.
 */
import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { openLog, type SignatureLog } from '../../src/log/log.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { crashWorkerArgv, type CrashMessage, type CrashWorkerArgs } from './crash-worker.js';

/** A small deterministic PRNG (xorshift32) so that a failing run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export function seedFromEnv(): number {
  const s = Number(process.env['SPDMKIT_CRASH_SEED']);
  return Number.isInteger(s) && s > 0 ? s : (Date.now() ^ (process.pid << 8)) >>> 0;
}

export interface Ack {
  readonly device: string;
  readonly first: number;
  readonly count: number;
}

export class CrashChild {
  readonly messages: CrashMessage[] = [];
  readonly acks: Ack[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';
  private waiters: (() => void)[] = [];

  constructor(readonly proc: ChildProcess) {
    proc.stderr?.on('data', (d: Buffer) => {
      if (this.stderr.length < 16_000) this.stderr += d.toString();
    });
    proc.on('message', (m: CrashMessage) => {
      this.messages.push(m);
      if (m.t === 'ack') this.acks.push({ device: m.device, first: m.first, count: m.count });
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        for (const w of this.waiters.splice(0)) w();
        resolve({ code, signal });
      }),
    );
  }

  get output(): string {
    return this.stderr;
  }

  /** Devices of the transaction that had begun and was not acknowledged when the child died, if any. */
  inFlight(): readonly string[] | undefined {
    let lastBegin = this.messages.length - 1;
    while (lastBegin >= 0 && this.messages[lastBegin]?.t !== 'begin') lastBegin--;
    if (lastBegin < 0) return undefined;
    const later = this.messages.slice(lastBegin + 1);
    return later.some((m) => m.t === 'ack' || m.t === 'fail')
      ? undefined
      : (this.messages[lastBegin] as { devices: readonly string[] }).devices;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves when `pred` holds over the messages so far; rejects at the deadline or if the child exits first. */
  async until(pred: (ms: readonly CrashMessage[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.messages)) {
      if (!this.alive)
        throw new Error(
          `crash worker exited (${String(this.proc.exitCode ?? this.proc.signalCode)}) before ${what}; stderr: ${this.stderr}`,
        );
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for ${what}; last messages ${JSON.stringify(this.messages.slice(-4))}; stderr: ${this.stderr}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Lets the child open the log and start appending. */
  go(): void {
    this.proc.send('go');
  }

  /** SIGKILL, then wait for the exit (bounded). */
  async kill(): Promise<void> {
    if (this.alive) this.proc.kill('SIGKILL');
    const t = new Promise<void>((r) => setTimeout(r, 10_000).unref());
    await Promise.race([this.exited, t]);
  }
}

/** Forks a crash worker (it waits for go()); with `fileSizeBlocks` it runs under `ulimit -f` (512-byte blocks), so writes past that size fail with EFBIG. */
export function startCrashChild(args: CrashWorkerArgs, options: { fileSizeBlocks?: number } = {}): CrashChild {
  const script = new URL('./crash-worker.js', import.meta.url).pathname;
  const argv = crashWorkerArgv(args);
  if (options.fileSizeBlocks === undefined)
    return new CrashChild(fork(script, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] }));
  // Node ignores SIGXFSZ, so the write fails with EFBIG instead of killing the process.
  const proc = spawn(
    '/bin/sh',
    ['-c', `ulimit -f ${options.fileSizeBlocks} && exec "$0" "$@"`, process.execPath, script, ...argv],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  );
  return new CrashChild(proc);
}

export interface CheckResult {
  /** Entries under the newest tree head before the check's own append. */
  readonly size: number;
  /** Entries present that no acknowledgement covers (committed, then killed before the ack reached us). */
  readonly unacknowledged: number;
  readonly signaturesValid: number;
  /** Device names found under the newest head (before the check's own append). */
  readonly devices: ReadonlySet<string>;
}

/**
 * Opens the log read-only, as `spdm log verify` would right after the crash, asserts every
 * acknowledged append is present where it was acknowledged and verifies the whole log; then
 * (unless `next` is undefined) opens it for writing, appends `next`, records it into `acked` and
 * checks it landed at the end.
 */
export async function checkAfterCrash(
  target: string,
  keyFile: string,
  acked: Map<string, Ack>,
  next: Evidence | undefined,
  label: string,
): Promise<CheckResult> {
  let reader: SignatureLog | undefined;
  try {
    reader = await openLog(target, { readOnly: true });
  } catch (e) {
    // Only before anything was acknowledged may the log not exist yet (the writer died creating it).
    if (acked.size > 0) throw e;
  }
  let result: CheckResult;
  if (reader) {
    try {
      result = await inspect(reader, acked, label);
    } finally {
      await reader.close();
    }
  } else {
    result = { size: 0, unacknowledged: 0, signaturesValid: 0, devices: new Set() };
  }
  if (next) {
    const log = await openLog(target, { keyFile });
    try {
      assert.equal(await log.size(), result.size, `${label}: nothing changed the log while it was checked`);
      const r = await log.appendEvidence(next);
      assert.equal(r.first, result.size, `${label}: the next append goes at the end`);
      acked.set(next.device ?? '', { device: next.device ?? '', first: r.first, count: r.count });
    } finally {
      await log.close();
    }
  }
  return result;
}

async function inspect(log: SignatureLog, acked: ReadonlyMap<string, Ack>, label: string): Promise<CheckResult> {
  const size = await log.size();
  const devices: (string | undefined)[] = [];
  for (let i = 0; i < size; i += 500)
    for (const e of await log.entries(i, Math.min(500, size - i))) devices[e.index] = e.device;
  assert.equal(devices.length, size, `${label}: every entry under the newest head is readable`);
  for (const a of acked.values()) {
    assert.ok(
      a.first + a.count <= size,
      `${label}: acknowledged ${a.device} at ${a.first} is under the newest tree head (size ${size})`,
    );
    for (let i = a.first; i < a.first + a.count; i++)
      assert.equal(devices[i], a.device, `${label}: entry ${i} is the acknowledged ${a.device}`);
  }
  let unacknowledged = 0;
  for (const d of new Set(devices)) if (d !== undefined && !acked.has(d)) unacknowledged++;
  const report = await log.verify({ workers: 0 });
  assert.equal(report.ok, true, `${label}: the log verifies: ${JSON.stringify(report.problems.slice(0, 5))}`);
  assert.equal(report.treeSize, size, `${label}: verified the tree it read`);
  assert.equal(report.signaturesValid, size, `${label}: every device signature re-verifies`);
  return {
    size,
    unacknowledged,
    signaturesValid: report.signaturesValid,
    devices: new Set(devices.filter((d): d is string => d !== undefined)),
  };
}

/** Adds a child's acknowledgements to the ledger; a device acknowledged twice would be a bug in the test. */
export function recordAcks(acked: Map<string, Ack>, child: CrashChild): number {
  for (const a of child.acks) {
    assert.ok(!acked.has(a.device), `${a.device} acknowledged once`);
    acked.set(a.device, a);
  }
  return child.acks.length;
}

/** Where a kill landed, told apart after the fact: idle, mid-transaction (rolled back), or after the commit and before the ack. */
export class KillTally {
  idle = 0;
  rolledBack = 0;
  committedUnacked = 0;

  add(inFlight: readonly string[] | undefined, present: ReadonlySet<string>): void {
    if (!inFlight) this.idle++;
    else if (inFlight.every((d) => present.has(d))) this.committedUnacked++;
    else {
      assert.ok(
        inFlight.every((d) => !present.has(d)),
        `one transaction is all in the log or not at all: ${inFlight.join(', ')}`,
      );
      this.rolledBack++;
    }
  }

  toString(): string {
    return `${this.rolledBack} mid-transaction (rolled back), ${this.committedUnacked} after commit before the ack, ${this.idle} with no append in flight`;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
