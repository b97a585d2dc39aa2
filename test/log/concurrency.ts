/** Several processes appending to one log at once (SQLite file or PostgreSQL), then the log checked whole. */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { openLog } from '../../src/log/log.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import type { WorkerReport } from './append-worker.js';

export async function appendConcurrently(
  target: string,
  keyFile: string,
  evidences: readonly Evidence[],
  evidenceFile: string,
  workers: number,
  perWorker: number,
): Promise<WorkerReport[]> {
  writeFileSync(evidenceFile, JSON.stringify(evidences));
  const script = new URL('./append-worker.js', import.meta.url);
  const children = Array.from({ length: workers }, (_, i) =>
    fork(script, [target, keyFile, evidenceFile, String(i), String(perWorker)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const reports = children.map(
    (c) =>
      new Promise<WorkerReport>((resolve, reject) => {
        let report: WorkerReport | undefined;
        c.on('message', (m) => {
          if (typeof m === 'object' && m !== null && 'appended' in m) report = m as WorkerReport;
        });
        c.on('exit', (code) =>
          code === 0 && report ? resolve(report) : reject(new Error(`append worker exited with ${code}`)),
        );
        c.on('error', reject);
      }),
  );
  // Start together, once every child has opened the log (the first of them created it).
  await Promise.all(children.map((c) => new Promise<void>((r) => c.on('message', (m) => m === 'ready' && r()))));
  for (const c of children) c.send('go');
  return Promise.all(reports);
}

/** No entry lost, none duplicated, positions handed out exactly once, and the whole log verifies. */
export async function checkConcurrentLog(
  target: string,
  reports: readonly WorkerReport[],
  signaturesPerEvidence: (device: string) => number,
): Promise<void> {
  const ranges = reports.flatMap((r) => r.appended).sort((a, b) => a.first - b.first);
  let next = 0;
  for (const r of ranges) {
    assert.equal(r.first, next, `positions are consecutive: ${r.device} got ${r.first}, expected ${next}`);
    assert.equal(r.count, signaturesPerEvidence(r.device));
    next += r.count;
  }
  const log = await openLog(target, { readOnly: true });
  try {
    assert.equal(await log.size(), next, 'every append is in the log');
    const seen = new Map<string, number[]>();
    for (let i = 0; i < next; i += 500) {
      for (const e of await log.entries(i, 500))
        seen.set(e.device ?? '', [...(seen.get(e.device ?? '') ?? []), e.index]);
    }
    for (const r of ranges) {
      const idx = seen.get(r.device) ?? [];
      assert.deepEqual(
        idx,
        Array.from({ length: r.count }, (_, k) => r.first + k),
        `${r.device}: exactly its own entries, once`,
      );
    }
    assert.equal(seen.size, ranges.length, 'no entry from nowhere');
    const report = await log.verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems.slice(0, 5)));
    assert.equal(report.treeHeadsChecked, ranges.length + 1, 'one signed head per append, plus the empty tree');
  } finally {
    await log.close();
  }
}
