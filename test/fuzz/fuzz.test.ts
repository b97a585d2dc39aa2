/**
 * CI run of every fuzz target (test/fuzz/targets.ts): a bounded number of fast-check runs each,
 * with a fixed seed per target so a failure reproduces. `npm run fuzz` runs the same targets for
 * as long as it is asked and saves what it finds under test/regressions/.
 */
import { after, test } from 'node:test';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { TARGETS } from './targets.js';
import type { Prepared } from './target.js';

const prepared: Prepared<unknown>[] = [];
after(async () => {
  for (const p of prepared) await p.dispose?.();
});

/** SPDMKIT_FUZZ_SEED overrides the fixed seeds (to explore in CI without the runner). */
function seedFor(name: string): number {
  const env = process.env['SPDMKIT_FUZZ_SEED'];
  if (env !== undefined && env !== '') return Number(env) | 0;
  return createHash('sha256').update(name).digest().readInt32LE(0);
}

for (const t of TARGETS) {
  test(`fuzz ${t.name}: ${t.what}`, { ...(t.skip ? { skip: t.skip } : {}) }, async () => {
    const p = await t.prepare();
    prepared.push(p);
    await fc.assert(
      fc.asyncProperty(p.arbitrary, async (input) => {
        await p.run(input);
      }),
      { numRuns: t.ciRuns, seed: seedFor(t.name), endOnFailure: true },
    );
  });
}
