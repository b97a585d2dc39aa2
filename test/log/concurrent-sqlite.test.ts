/** Four processes append to one brand-new SQLite log at the same time: nothing lost, nothing doubled. */
import { test, after } from 'node:test';
import { evidenceMatrix, tempDir } from './helpers.js';
import { appendConcurrently, checkConcurrentLog } from './concurrency.js';

const tmp = tempDir('spdmkit-conc-');
after(() => tmp.cleanup());

test('4 writer processes × 30 appends to one SQLite file (created by whichever comes first)', async () => {
  const evs = await evidenceMatrix('c');
  const target = tmp.file('shared.sqlite');
  const reports = await appendConcurrently(target, tmp.file('shared.key'), evs, tmp.file('ev.json'), 4, 30);
  await checkConcurrentLog(target, reports, () => 2);
});
