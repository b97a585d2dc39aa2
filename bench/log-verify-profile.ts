/**
 * Where single-thread log verification spends its CPU (issue 12, item 5): builds a log like
 * log.bench.ts does, verifies it with no worker threads under the sampling profiler, and prints
 * the buckets and the largest spdmkit functions with their time per entry next to raw
 * crypto.verify of the same signatures (one core, same process).
 *
 *   BENCH_LOG_ENTRIES=10000 BENCH_SECONDS=3 node dist/bench/log-verify-profile.js
 */
import { openLog } from '../src/log/log.js';
import type { Evidence } from '../src/evidence/evidence.js';
import { formatBuckets, profileBuckets } from './profile.js';
import { rawSignatures, verifyRaw } from './raw-signatures.js';
import { makeEvidence, pciFor, SUITES, tempDir, vary } from '../test/log/helpers.js';

const ENTRIES = Number(process.env['BENCH_LOG_ENTRIES'] ?? 10_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);

const tmp = tempDir('spdmkit-log-profile-');
try {
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
  const file = tmp.file('p.sqlite');
  const w = await openLog(file, { keyFile: `${file}.key` });
  for (let k = 0; 2 * k < ENTRIES;) {
    const batch: Evidence[] = [];
    for (let j = 0; j < 2500 && 2 * k < ENTRIES; j++, k++) batch.push(vary(evs[k % evs.length] as Evidence, k));
    await w.appendEvidences(batch);
  }
  await w.close();

  const raw = evs.flatMap((e) => rawSignatures(e));
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000)
    for (const r of raw) {
      if (!verifyRaw(r)) throw new Error('raw verify failed');
      n++;
    }
  const rawUs = ((performance.now() - t0) * 1000) / n;

  const log = await openLog(file, { readOnly: true });
  let runs = 0;
  let entries = 0;
  const c0 = process.cpuUsage();
  const { buckets, functions } = await profileBuckets(async () => {
    const r = await log.verify({ workers: 0 });
    if (!r.ok) throw new Error('the log did not verify');
    runs++;
    entries += r.treeSize;
  }, SECONDS);
  const c = process.cpuUsage(c0);
  await log.close();
  const us = (c.user + c.system) / entries;
  console.log(
    `verify, no workers: ${us.toFixed(1)} µs CPU/entry over ${runs} runs of ${entries / runs} entries (profiler on); raw verify ${rawUs.toFixed(1)} µs/signature (×${(rawUs / us).toFixed(2)})`,
  );
  for (const line of formatBuckets(buckets, us, 12)) console.log(line);
  console.log('  largest spdmkit functions outside node:crypto (self time incl. node work they asked for):');
  for (const line of formatBuckets(functions, us, 25, 70)) console.log(line);
} finally {
  tmp.cleanup();
}
