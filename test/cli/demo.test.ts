/** `spdm demo`: every row's outcome is the verifier's verdict (or the requester's failure), with its reason codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDemo, formatTable } from '../../src/cli/demo.js';

test('the demo fleet: genuine devices trusted by the verifier, the counterfeit untrusted with its reason codes, the clone failed', async () => {
  const rows = await runDemo();
  const by = new Map(rows.map((r) => [r.device, r]));
  for (const name of ['acme-nvme0', 'acme-nic0', 'acme-gpu0', 'acme-fpga0', 'acme-dpu0']) {
    const r = by.get(name);
    assert.equal(r?.verdict?.status, 'trusted', `${name}: ${r?.outcome}`);
    assert.ok(
      r.verdict.checks.some((c) => c.code === 'SAN_MATCH'),
      `${name}: the CMA SAN was checked against its PCI identity`,
    );
    assert.ok(
      r.verdict.checks.some((c) => c.code === 'NONCE_MATCH'),
      `${name}: freshness was checked`,
    );
    assert.ok(r.ok);
  }
  const knockoff = by.get('knockoff-nvme1');
  assert.equal(knockoff?.verdict?.status, 'untrusted');
  assert.deepEqual(knockoff.verdict.reasons.map((r) => r.code).sort(), ['CHAIN_UNTRUSTED', 'SAN_MISSING']);
  assert.match(knockoff.outcome, /^UNTRUSTED CHAIN_UNTRUSTED/);
  const clone = by.get('clone-nvme2');
  assert.equal(clone?.ok, false);
  assert.match(clone.outcome, /^FAILED SIGNATURE_INVALID/);
  assert.match(formatTable(rows), /knockoff-nvme1 .* UNTRUSTED CHAIN_UNTRUSTED/);
});
