/**
 * Child process for the concurrency tests (forked, never run on its own): opens the log given on
 * the command line with its own connection, waits for "go", appends `count` evidences one
 * transaction each, and reports the positions it was given. Run directly (as node --test does
 * with every file under test/) it does nothing.
 */
import { readFileSync } from 'node:fs';
import { openLog } from '../../src/log/log.js';
import type { Evidence } from '../../src/evidence/evidence.js';

export interface WorkerReport {
  readonly worker: number;
  readonly appended: { device: string; first: number; count: number }[];
  /** Wall clock (ms since the epoch) when appending started and ended. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

async function main(): Promise<void> {
  const [target, keyFile, evidenceFile, idText, countText] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const id = Number(idText);
  const count = Number(countText);
  const evidences = JSON.parse(readFileSync(evidenceFile, 'utf8')) as Evidence[];
  const log = await openLog(target, { keyFile });
  await new Promise<void>((resolve) => {
    process.on('message', (m) => {
      if (m === 'go') resolve();
    });
    process.send?.('ready');
  });
  const appended: WorkerReport['appended'] = [];
  const startedAt = Date.now();
  for (let k = 0; k < count; k++) {
    const base = evidences[(id * 7 + k) % evidences.length] as Evidence;
    const device = `w${id}-${k}`;
    const r = await log.appendEvidence({ ...base, device });
    appended.push({ device, ...r });
  }
  const finishedAt = Date.now();
  await log.close();
  const report: WorkerReport = { worker: id, appended, startedAt, finishedAt };
  await new Promise<void>((resolve) => process.send?.(report, () => resolve()));
}

if (process.send && process.argv.length >= 7) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`append-worker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
