/**
 * Defence in depth: hostile cases the requester lets through today (KNOWN_HOLES in cases.test.ts)
 * must still be refused by the verifier, from the signed bytes of the evidence. When the requester
 * closes the hole it rejects the device first, which is as good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError } from '../../src/wire/errors.js';
import { findHostileCase, isErrorExpectation } from '../../src/responder/faults/index.js';
import type { ReasonCode } from '../../src/verifier/verdict.js';
import { runCase } from './run.js';

const BACKSTOPS: readonly { name: string; reason: ReasonCode; message: RegExp }[] = [
  { name: 'measurements-wrong-slot', reason: 'SIGNATURE_INVALID', message: /answers for slot 3, slot 0 was asked/ },
  { name: 'measurements-content-changed-mid-sequence', reason: 'MEASUREMENT_MISMATCH', message: /ContentChanged/ },
];

for (const b of BACKSTOPS) {
  test(`${b.name}: if the requester accepts it, the verifier says ${b.reason}`, async () => {
    const c = findHostileCase(b.name);
    assert.ok(c && isErrorExpectation(c.expect), b.name);
    const o = await runCase(c);
    if (o.error !== undefined) {
      assert.ok(o.error instanceof SpdmError && o.error.code === c.expect.error, `the requester failed otherwise: ${String(o.error)}`);
      return;
    }
    assert.ok(o.verdict);
    assert.equal(o.verdict.status, 'untrusted');
    assert.ok(
      o.verdict.reasons.some((r) => r.code === b.reason && b.message.test(r.message)),
      o.verdict.reasons.map((r) => `${r.code}: ${r.message}`).join('; '),
    );
  });
}
