/**
 * Signature log figures: append rate (one evidence = 2 signatures per transaction, durable commit;
 * one writer and four writer processes) on SQLite and PostgreSQL, bulk append, and full offline
 * verification of a 100,000-entry log (every device signature re-verified, tree recomputed).
 *
 *   npm run build && node dist/bench/log.bench.js
 *   BENCH_SECONDS=3 BENCH_LOG_ENTRIES=100000 SPDMKIT_PG_URL=postgres://… node dist/bench/log.bench.js
 *
 * PostgreSQL: SPDMKIT_PG_URL, or a throwaway server started like the tests do (skipped with a
 * note if neither is possible). Prints figures; never fails on a timing.
 */
import { availableParallelism, cpus } from 'node:os';
import { openLog } from '../src/log/log.js';
import type { Evidence } from '../src/evidence/evidence.js';
import { makeEvidence, pciFor, SUITES, tempDir, vary } from '../test/log/helpers.js';
import { appendConcurrently } from '../test/log/concurrency.js';
import { startPostgres, type PostgresServer } from '../test/support/postgres.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const ENTRIES = Number(process.env['BENCH_LOG_ENTRIES'] ?? 100_000);
const PG_ENTRIES = Number(process.env['BENCH_PG_ENTRIES'] ?? 20_000);

const tmp = tempDir('spdmkit-log-bench-');
const rows: string[][] = [['measurement', 'backend', 'result']];
const row = (what: string, backend: string, result: string) => {
  rows.push([what, backend, result]);
  console.log(`  ${what} [${backend}]: ${result}`);
};

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

async function verifyTime(
  target: string,
  workers?: number,
): Promise<{ ms: number; ok: boolean; n: number; workers: number }> {
  const log = await openLog(target, { readOnly: true });
  try {
    const t0 = performance.now();
    const r = await log.verify(workers !== undefined ? { workers } : {});
    return {
      ms: performance.now() - t0,
      ok: r.ok && r.signaturesValid === r.treeSize,
      n: r.treeSize,
      workers: r.workers,
    };
  } finally {
    await log.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `spdmkit signature log bench: node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), ${SECONDS}s per rate\n`,
  );
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
  console.log(
    'evidence: ECDSA-P256/SHA-256, RSAPSS-3072/SHA-384, Ed25519/SHA-512 devices, SPDM 1.2/1.3; 2 signatures per evidence\n',
  );

  // SQLite
  const sq = tmp.file('rate.sqlite');
  const r1 = await singleWriter(sq, `${sq}.key`, evs);
  row(
    'append, 1 writer, 1 evidence per transaction (synchronous=FULL)',
    'SQLite',
    `${r1.toFixed(0)} evidences/s = ${(2 * r1).toFixed(0)} entries/s`,
  );
  const sq4 = tmp.file('rate4.sqlite');
  const r4 = await fourWriters(sq4, `${sq4}.key`, evs, Math.max(20, Math.round((r1 * SECONDS) / 4)));
  row(
    'append, 4 writer processes, 1 evidence per transaction',
    'SQLite',
    `${r4.toFixed(0)} evidences/s = ${(2 * r4).toFixed(0)} entries/s in total`,
  );
  const big = tmp.file('big.sqlite');
  const rb = await bulk(big, `${big}.key`, evs, ENTRIES);
  row(`bulk append, 2500 evidences per transaction, ${ENTRIES} entries`, 'SQLite', `${rb.toFixed(0)} entries/s`);
  const v = await verifyTime(big);
  row(
    `verify ${v.n} entries (every signature, tree, heads), ${v.workers} worker threads`,
    'SQLite',
    `${(v.ms / 1000).toFixed(1)} s = ${(v.n / (v.ms / 1000)).toFixed(0)} entries/s${v.ok ? '' : ' (NOT OK!)'}`,
  );
  const v0 = await verifyTime(big, 0);
  row(
    `verify ${v0.n} entries, no worker threads`,
    'SQLite',
    `${(v0.ms / 1000).toFixed(1)} s = ${(v0.n / (v0.ms / 1000)).toFixed(0)} entries/s${v0.ok ? '' : ' (NOT OK!)'}`,
  );

  // PostgreSQL
  let server: PostgresServer | undefined;
  try {
    server = await startPostgres();
  } catch (e) {
    console.log(`\nPostgreSQL skipped: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (server) {
    try {
      const url1 = await server.createDatabase('bench');
      const p1 = await singleWriter(url1, tmp.file('pg1.key'), evs);
      row(
        'append, 1 writer, 1 evidence per transaction',
        'PostgreSQL',
        `${p1.toFixed(0)} evidences/s = ${(2 * p1).toFixed(0)} entries/s`,
      );
      const url4 = await server.createDatabase('bench');
      const p4 = await fourWriters(url4, tmp.file('pg4.key'), evs, Math.max(20, Math.round((p1 * SECONDS) / 4)));
      row(
        'append, 4 writer processes, 1 evidence per transaction',
        'PostgreSQL',
        `${p4.toFixed(0)} evidences/s = ${(2 * p4).toFixed(0)} entries/s in total`,
      );
      const urlb = await server.createDatabase('bench');
      const pb = await bulk(urlb, tmp.file('pgb.key'), evs, PG_ENTRIES);
      row(
        `bulk append, 2500 evidences per transaction, ${PG_ENTRIES} entries`,
        'PostgreSQL',
        `${pb.toFixed(0)} entries/s`,
      );
      const pv = await verifyTime(urlb);
      row(
        `verify ${pv.n} entries, ${pv.workers} worker threads`,
        'PostgreSQL',
        `${(pv.ms / 1000).toFixed(1)} s = ${(pv.n / (pv.ms / 1000)).toFixed(0)} entries/s${pv.ok ? '' : ' (NOT OK!)'}`,
      );
    } finally {
      await server.stop();
    }
  }
  console.log(
    `\n| ${rows[0]!.join(' | ')} |\n|---|---|---|\n${rows
      .slice(1)
      .map((r) => `| ${r.join(' | ')} |`)
      .join('\n')}`,
  );
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => tmp.cleanup());
