/**
 * The adversarial suite: every case of the hostile table against the real requester (loopback,
 * hostile socket server, simulated DOE mailbox) and, when the requester produces evidence, the
 * verifier. Each must fail with the specific error code (and detail) or verdict reason the case
 * names. Cases are taken from the table, so a new case is tested without touching this file.
 */
import { test } from 'node:test';
import { HOSTILE_CASES, expectationText } from '../../src/responder/faults/index.js';
import { assertExpected, runCase, runSweep } from './run.js';

/**
 * Cases the requester or verifier does not yet answer as it should (holes found by this suite),
 * with why; they run as TODO so the suite stays green while the hole is open, and report when it closes.
 */
const KNOWN_HOLES: Readonly<Record<string, string>> = {};

test('the hostile case table', (t) => {
  const byCategory = new Map<string, number>();
  for (const c of HOSTILE_CASES) byCategory.set(c.category, (byCategory.get(c.category) ?? 0) + 1);
  t.diagnostic(`${HOSTILE_CASES.length} hostile cases: ${[...byCategory].map(([k, n]) => `${k} ${n}`).join(', ')}`);
});

for (const c of HOSTILE_CASES) {
  const hole = KNOWN_HOLES[c.name];
  test(`${c.name} → ${expectationText(c.expect)}`, { ...(hole ? { todo: hole } : {}) }, async (t) => {
    if (c.via === 'handler' && c.sweep) {
      let fired = 0;
      const end = await runSweep(c, (v, o) => {
        fired++;
        assertExpected(c, o, `${c.name} [variant ${v}]`);
      });
      if (fired === 0) throw new Error(`${c.name}: the fault never fired`);
      t.diagnostic(`${fired} variants`);
      void end;
      return;
    }
    const o = await runCase(c);
    if (c.via === 'handler' && o.faulted && o.fired === 0)
      throw new Error(`${c.name}: the fault never fired — the case tests nothing`);
    assertExpected(c, o);
  });
}
