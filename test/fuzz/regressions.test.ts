/**
 * Replays every input saved under test/regressions/ through its target: each must now give a
 * value or a typed error. Passes trivially when the directory is empty.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { listRegressions } from './regressions.js';
import { targetNamed } from './targets.js';
import type { Prepared } from './target.js';

const prepared = new Set<Prepared<unknown>>();
after(async () => {
  for (const p of prepared) await p.dispose?.();
});

const saved = listRegressions();

test('test/regressions/ holds only files of known targets', () => {
  for (const { file, regression } of saved) {
    assert.ok(targetNamed(regression.target), `${file}: no fuzz target named ${regression.target}`);
    assert.ok(file.startsWith(`${regression.target}-`), `${file}: the file name must start with its target`);
  }
});

for (const { file, regression } of saved) {
  const t = targetNamed(regression.target);
  test(
    `regression ${file}: ${regression.failure.kind} (${regression.failure.message.slice(0, 80)})`,
    { ...(t?.skip ? { skip: t.skip } : {}) },
    async () => {
      assert.ok(t);
      const p = await t.prepare();
      prepared.add(p);
      await p.run(t.fromJson(regression.input));
    },
  );
}
