/**
 * Signature log figures (issue 12, item 5): append rate (one evidence = 2 signatures per
 * transaction, durable commit; one writer and four writer processes) on SQLite and PostgreSQL,
 * bulk append, and full offline verification of a 100,000-entry log (every device signature
 * re-verified, tree recomputed) against its baseline from the same run: raw node:crypto
 * verification of the same signatures (same keys, same signed bytes, one-shot crypto.verify, no
 * log around it) on one core, times the available cores (target: verify ≥ 0.9 × that).
 *
 *   npm run bench:log [-- --json]
 *   BENCH_SECONDS=3 BENCH_LOG_ENTRIES=100000 SPDMKIT_PG_URL=postgres://… node dist/bench/log.bench.js
 *
 * PostgreSQL: SPDMKIT_PG_URL, or a throwaway server started like the tests do (skipped with a
 * note if neither is possible). Prints figures; never fails on a timing.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { openLog } from '../src/log/log.js';
import type { Evidence } from '../src/evidence/evidence.js';
import { Report } from './harness.js';
import { verificationFloor, type VerificationFloor } from './log-floor.js';
import { rawRateInThreads } from './raw-parallel.js';
import { rawSignatures, verifyRaw, type RawSignature } from './raw-signatures.js';
import { makeEvidence, pciFor, SUITES, tempDir, vary } from '../test/log/helpers.js';
import { appendConcurrently } from '../test/log/concurrency.js';
import { startPostgres, type PostgresServer } from '../test/support/postgres.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const ENTRIES = Number(process.env['BENCH_LOG_ENTRIES'] ?? 100_000);
const PG_ENTRIES = Number(process.env['BENCH_PG_ENTRIES'] ?? 20_000);

const tmp = tempDir('spdmkit-log-bench-');
const report = new Report('spdmkit log bench');
report.section('log', 'Signature log: appends and verification');
/** A figure, also on stderr at once: the whole bench takes minutes. */
const figure = (
  name: string,
  value: number,
  unit: string,
  more: Omit<Parameters<Report['add']>[0], 'name' | 'value' | 'unit'> = {},
) => {
  const f = report.add({ name, value, unit, ...more });
  process.stderr.write(`${report.part.notes.at(-1)?.text ?? f.name}\n`);
};

/** The device signatures of `evs` (the log's entries repeat these), ready for one-shot crypto.verify. */
function rawSignaturesOf(evs: readonly Evidence[]): RawSignature[] {
  return evs.flatMap((e) => rawSignatures(e));
}

/** Signatures per CPU-second of the raw slices (rawRate), the CPU-time twin of their wall rates. */
const rawCpuRates: number[] = [];

/**
 * Signatures per second, one core: crypto.verify over the list, round and round, for `seconds`.
 * Also records the signatures per CPU-second in rawCpuRates: on a shared host the wall rate falls
 * whenever another process takes the core, the CPU rate much less.
 */
function rawRate(sigs: readonly RawSignature[], seconds: number): number {
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000)
    for (const r of sigs) {
      if (!verifyRaw(r)) throw new Error('raw verify failed');
      n++;
    }
  const c = process.cpuUsage(c0);
  rawCpuRates.push(n / ((c.user + c.system) / 1e6));
  return n / ((performance.now() - t0) / 1000);
}

/** How many threads verified: the workers and, beside them, the main thread (verify.ts). */
const threadsText = (workers: number): string => `${workers + 1} threads (${workers} workers + main)`;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

/** The host's CPU pressure line ("some avg10=… avg60=…"): how much runnable work waited for a core. */
function cpuPressure(): string {
  try {
    return readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? '';
  } catch {
    return '(no /proc/pressure/cpu)';
  }
}

async function singleWriter(target: string, keyFile: string, evs: readonly Evidence[]): Promise<number> {
  const log = await openLog(target, { keyFile });
  try {
    for (let i = 0; i < 5; i++) await log.appendEvidence(vary(evs[i % evs.length] as Evidence, i));
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      await log.appendEvidence(vary(evs[n % evs.length] as Evidence, 1000 + n));
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await log.close();
  }
}

async function fourWriters(
  target: string,
  keyFile: string,
  evs: readonly Evidence[],
  perWorker: number,
): Promise<number> {
  const reports = await appendConcurrently(
    target,
    keyFile,
    evs,
    tmp.file(`ev-${Math.random().toString(36).slice(2)}.json`),
    4,
    perWorker,
  );
  // From the moment all four start appending to the moment the last one is done.
  const ms = Math.max(...reports.map((r) => r.finishedAt)) - Math.min(...reports.map((r) => r.startedAt));
  return (4 * perWorker) / (ms / 1000);
}

async function bulk(target: string, keyFile: string, evs: readonly Evidence[], entries: number): Promise<number> {
  const log = await openLog(target, { keyFile });
  try {
    const t0 = performance.now();
    let k = 0;
    while ((await log.size()) < entries) {
      const batch: Evidence[] = [];
      for (let j = 0; j < 2500 && 2 * (k + 1) <= entries; j++, k++)
        batch.push(vary(evs[k % evs.length] as Evidence, k));
      if (batch.length === 0) break;
      await log.appendEvidences(batch);
    }
    return (await log.size()) / ((performance.now() - t0) / 1000);
  } finally {
    await log.close();
  }
}

/** The verification floor over `target`'s rows and a sample of its entries (log-floor.ts). */
async function floorOf(target: string): Promise<VerificationFloor> {
  const log = await openLog(target, { readOnly: true });
  try {
    const sample: Awaited<ReturnType<typeof log.entries>> = [];
    const size = await log.size();
    for (let at = 0; at < Math.min(size, 20_000); at += 1000) sample.push(...(await log.entries(at, 1000)));
    return verificationFloor(target, sample);
  } finally {
    await log.close();
  }
}

async function verifyTime(
  target: string,
  workers?: number,
): Promise<{ ms: number; cpuMs: number; ok: boolean; n: number; workers: number }> {
  const log = await openLog(target, { readOnly: true });
  try {
    // process.cpuUsage counts every thread of the process: the workers' CPU is in it.
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await log.verify(workers !== undefined ? { workers } : {});
    const c = process.cpuUsage(c0);
    return {
      ms: performance.now() - t0,
      cpuMs: (c.user + c.system) / 1000,
      ok: r.ok && r.signaturesValid === r.treeSize,
      n: r.treeSize,
      workers: r.workers,
    };
  } finally {
    await log.close();
  }
}

async function main(): Promise<void> {
  const suites = [SUITES[0]!, SUITES[2]!, SUITES[3]!];
  const evs: Evidence[] = [];
  for (let i = 0; i < 150; i++)
    evs.push(
      await makeEvidence({
        suite: suites[i % 3]!,
        version: i % 2 ? 0x13 : 0x12,
        name: `bench${i}`,
        pci: pciFor(i % 50),
      }),
    );
  report.note(
    `  evidence: ECDSA-P256/SHA-256, RSAPSS-3072/SHA-384, Ed25519/SHA-512 devices, SPDM 1.2/1.3; 2 signatures per evidence; ${SECONDS} s per rate`,
  );
  const raw = rawSignaturesOf(evs);
  const cores = availableParallelism();
  const pressureAtStart = cpuPressure();
  report.note(`  host CPU pressure at start: ${pressureAtStart}`);
  const rawRates: number[] = [rawRate(raw, Math.min(SECONDS, 2))];
  /** Raw verification in `cores` threads at once, next to each one-thread slice taken around the verifications. */
  const rawParallel: number[] = [];
  const rawSlice = async () => {
    rawRates.push(rawRate(raw, Math.min(SECONDS, 2)));
    if (cores > 1) rawParallel.push((await rawRateInThreads(raw, cores, Math.min(SECONDS, 2))).perSecond);
  };

  // SQLite
  const sq = tmp.file('rate.sqlite');
  const r1 = await singleWriter(sq, `${sq}.key`, evs);
  figure('SQLite append, 1 writer, 1 evidence per durable commit', 2 * r1, 'entries/s');
  const sq4 = tmp.file('rate4.sqlite');
  const r4 = await fourWriters(sq4, `${sq4}.key`, evs, Math.max(20, Math.round((r1 * SECONDS) / 4)));
  figure('SQLite append, 4 writer processes, 1 evidence per commit', 2 * r4, 'entries/s');
  const big = tmp.file('big.sqlite');
  const rb = await bulk(big, `${big}.key`, evs, ENTRIES);
  figure(`SQLite bulk append, 2500 evidences per commit, ${ENTRIES} entries`, rb, 'entries/s');
  await rawSlice();
  const v = await verifyTime(big);
  await rawSlice();
  const v0 = await verifyTime(big, 0);
  await rawSlice();
  if (!v.ok || !v0.ok) throw new Error('the log did not verify: the figures would not be of a verification');
  const floor = await floorOf(big);
  // The median of the slices taken before, between and after the verifications.
  const rawOne = median(rawRates);
  const rawCpu = median(rawCpuRates);
  const rawPar = median(rawParallel);
  figure(`raw crypto.verify of the same signatures, 1 core`, rawOne, 'signatures/s');
  if (cores > 1)
    // What `cores` threads get on this host now: below raw × cores, the host (not the verifier) is short of cores.
    figure(`raw crypto.verify, ${cores} threads at once`, rawPar, 'signatures/s', {
      baseline: { name: `raw × ${cores} cores`, value: rawOne * cores },
    });
  figure(`SQLite verify ${v.n} entries, ${threadsText(v.workers)}`, v.n / (v.ms / 1000), 'entries/s', {
    baseline: { name: `raw × ${cores} cores`, value: rawOne * cores },
    target: { op: '>=', ratio: 0.9 },
  });
  if (cores > 1)
    figure(
      `SQLite verify ${v.n} entries, ${threadsText(v.workers)} (vs raw in ${cores} threads)`,
      v.n / (v.ms / 1000),
      'entries/s',
      {
        baseline: { name: `raw in ${cores} threads at once`, value: rawPar },
      },
    );
  figure(`SQLite verify ${v0.n} entries, no worker threads`, v0.n / (v0.ms / 1000), 'entries/s', {
    baseline: { name: 'raw × 1 core', value: rawOne },
  });
  // Per CPU-second of all threads: the verifier's cost beside raw crypto.verify's, whatever share of the cores the host gave.
  figure(`SQLite verify, ${threadsText(v.workers)}, per CPU-second`, v.n / (v.cpuMs / 1000), 'entries/CPU-s', {
    baseline: { name: 'raw per CPU-second', value: rawCpu },
  });
  figure(`SQLite verify, no worker threads, per CPU-second`, v0.n / (v0.cpuMs / 1000), 'entries/CPU-s', {
    baseline: { name: 'raw per CPU-second', value: rawCpu },
  });
  // The floor: raw verify plus what any verifier of this log must also do per entry (log-floor.ts).
  const floorCpu = 1e6 / (1e6 / rawCpu + floor.totalUs);
  report.note(
    `  verification floor per entry besides the signature: row ${floor.rowUs.toFixed(1)} µs, leaf hash ${floor.leafHashUs.toFixed(1)}, tree node ${floor.nodeHashUs.toFixed(1)}, transcript hash ${floor.transcriptHashUs.toFixed(1)} (${floor.totalUs.toFixed(1)} µs; raw verify ${(1e6 / rawCpu).toFixed(1)} µs)`,
  );
  figure(
    `verification floor (raw verify + row read + leaf, node and transcript hashes), per CPU-second`,
    floorCpu,
    'entries/CPU-s',
    {
      baseline: { name: 'raw per CPU-second', value: rawCpu },
    },
  );
  figure(
    `SQLite verify, no worker threads, per CPU-second, against the floor`,
    v0.n / (v0.cpuMs / 1000),
    'entries/CPU-s',
    {
      baseline: { name: 'verification floor', value: floorCpu },
    },
  );
  report.part.data['log'] = {
    cores,
    floor,
    rawRates,
    rawCpuRates,
    rawParallel,
    verifyMs: v.ms,
    verifyCpuMs: v.cpuMs,
    verifyWorkers: v.workers,
    verifyNoWorkersMs: v0.ms,
    verifyNoWorkersCpuMs: v0.cpuMs,
    pressureAtStart,
  };

  // PostgreSQL
  let server: PostgresServer | undefined;
  try {
    server = await startPostgres();
  } catch (e) {
    report.note(`  PostgreSQL skipped: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (server) {
    try {
      const url1 = await server.createDatabase('bench');
      const p1 = await singleWriter(url1, tmp.file('pg1.key'), evs);
      figure('PostgreSQL append, 1 writer, 1 evidence per durable commit', 2 * p1, 'entries/s');
      const url4 = await server.createDatabase('bench');
      const p4 = await fourWriters(url4, tmp.file('pg4.key'), evs, Math.max(20, Math.round((p1 * SECONDS) / 4)));
      figure('PostgreSQL append, 4 writer processes, 1 evidence per commit', 2 * p4, 'entries/s');
      const urlb = await server.createDatabase('bench');
      const pb = await bulk(urlb, tmp.file('pgb.key'), evs, PG_ENTRIES);
      figure(`PostgreSQL bulk append, 2500 evidences per commit, ${PG_ENTRIES} entries`, pb, 'entries/s');
      const pv = await verifyTime(urlb);
      if (!pv.ok) throw new Error('the PostgreSQL log did not verify');
      figure(`PostgreSQL verify ${pv.n} entries, ${threadsText(pv.workers)}`, pv.n / (pv.ms / 1000), 'entries/s', {
        baseline: { name: `raw × ${cores} cores`, value: rawOne * cores },
        target: { op: '>=', ratio: 0.9 },
      });
      // The server's own CPU (another process) is not in this: the client side's cost only.
      figure(
        `PostgreSQL verify, ${threadsText(pv.workers)}, per CPU-second of this process`,
        pv.n / (pv.cpuMs / 1000),
        'entries/CPU-s',
        {
          baseline: { name: 'raw per CPU-second', value: rawCpu },
        },
      );
    } finally {
      await server.stop();
    }
  }
}

try {
  await main();
  report.note(`  host CPU pressure at end: ${cpuPressure()}`);
  report.finish();
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  tmp.cleanup();
}
