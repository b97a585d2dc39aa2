/**
 * Child process for the crash tests (forked, never run on its own): loads, says "loaded", waits
 * for "go" (so a parent can start the next writer while it checks the log), then appends evidences to the log
 * named on the command line as fast as it can, one to three per transaction, and acknowledges
 * each append over IPC only after the append returned — that is, after the commit is durable.
 * A failed append is reported (with whether it was a typed SpdmError) and the loop goes on, so the
 * parent sees whether the next append works. It stops after `maxAppends` transactions, after
 * `maxFailures` failed ones in a row, after `lifetimeMs`, on "stop", or when the parent goes away.
 * Run directly (as node --test does with every file under test/) it does nothing.
 */
import { readFileSync } from 'node:fs';
import { openLog, type SignatureLog } from '../../src/log/log.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { isSpdmError } from '../../src/wire/errors.js';

export type CrashMessage =
  | { readonly t: 'loaded' }
  | { readonly t: 'ready' }
  /** Sent (and delivered to the channel) before each transaction: a kill after it and before the ack hit an append in flight. */
  | { readonly t: 'begin'; readonly tx: number; readonly devices: readonly string[] }
  | { readonly t: 'ack'; readonly tx: number; readonly device: string; readonly first: number; readonly count: number }
  | {
      readonly t: 'fail';
      readonly device: string;
      readonly typed: boolean;
      readonly code: string;
      readonly outcome: string;
      readonly message: string;
    }
  | { readonly t: 'done'; readonly transactions: number };

export interface CrashWorkerArgs {
  readonly target: string;
  readonly keyFile: string;
  readonly evidenceFile: string;
  /** Device names are `${prefix}-${k}`: the unique id the parent matches acknowledgements by. */
  readonly prefix: string;
  readonly maxAppends: number;
  readonly maxFailures: number;
  readonly lifetimeMs: number;
}

export function crashWorkerArgv(a: CrashWorkerArgs): string[] {
  return [
    a.target,
    a.keyFile,
    a.evidenceFile,
    a.prefix,
    String(a.maxAppends),
    String(a.maxFailures),
    String(a.lifetimeMs),
  ];
}

function send(m: CrashMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, () => resolve());
  });
}

function describe(e: unknown, device: string): CrashMessage {
  const typed = isSpdmError(e);
  const code = typed ? e.code : e instanceof Error ? e.name : 'unknown';
  const outcome = typed ? (typeof e.details['outcome'] === 'string' ? e.details['outcome'] : '') : '';
  return { t: 'fail', device, typed, code, outcome, message: e instanceof Error ? e.message : String(e) };
}

async function main(): Promise<void> {
  const [target, keyFile, evidenceFile, prefix, maxAppendsText, maxFailuresText, lifetimeText] = process.argv.slice(
    2,
  ) as [string, string, string, string, string, string, string];
  const maxAppends = Number(maxAppendsText);
  const maxFailures = Number(maxFailuresText);
  const lifetimeMs = Number(lifetimeText);
  let stop = false;
  let go!: () => void;
  const started = new Promise<void>((r) => (go = r));
  process.on('message', (m) => {
    if (m === 'stop') stop = true;
    if (m === 'go') go();
  });
  process.on('disconnect', () => process.exit(0));
  const evidences = JSON.parse(readFileSync(evidenceFile, 'utf8')) as Evidence[];
  await send({ t: 'loaded' });
  await started;
  let log: SignatureLog;
  try {
    log = await openLog(target, { keyFile });
  } catch (e) {
    await send(describe(e, '(open)'));
    return;
  }
  await send({ t: 'ready' });
  const deadline = Date.now() + lifetimeMs;
  let k = 0;
  let failures = 0;
  let transactions = 0;
  while (!stop && transactions < maxAppends && failures < maxFailures && Date.now() < deadline) {
    const batch = Array.from({ length: 1 + (transactions % 3) }, (_, j) => ({
      ...(evidences[(k + j) % evidences.length] as Evidence),
      device: `${prefix}-${k + j}`,
    }));
    await send({ t: 'begin', tx: transactions, devices: batch.map((e) => e.device) });
    try {
      const results = await log.appendEvidences(batch);
      // Acknowledged only now: appendEvidences returned, the commit is on disk.
      for (const [j, r] of results.entries())
        await send({ t: 'ack', tx: transactions, device: batch[j]?.device ?? '', first: r.first, count: r.count });
      failures = 0;
    } catch (e) {
      failures++;
      await send(describe(e, batch[0]?.device ?? ''));
      await new Promise((r) => setTimeout(r, 10));
    }
    // Names are never reused, whether the append went through or not: an unacknowledged one may be in the log.
    k += batch.length;
    transactions++;
  }
  await log.close().catch(() => undefined);
  await send({ t: 'done', transactions });
}

if (process.send && process.argv.length >= 9) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`crash-worker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
