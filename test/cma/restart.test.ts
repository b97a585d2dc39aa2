import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openLog } from '../../src/log/log.js';
import { join } from 'node:path';
import { rig } from './helpers.js';
import type { SlotView } from '../../src/cma/api.js';

test('restart: records and log intact, nothing re-trusted silently, event ids continue', async () => {
  const r = rig();
  try {
    await r.platform.add('0000:01:00.0', 'genuine', 0x1001);
    await r.platform.add('0000:02:00.0', 'genuine', 0x1002);
    await r.platform.add('0000:03:00.0', 'counterfeit', 0x1003);
    let cma = await r.start();
    await cma.idle();
    await cma.accept('0000:01:00.0');
    await cma.reject('0000:02:00.0', { operator: 'bob', reason: 'not ours' });
    await cma.accept('0000:03:00.0', { override: { operator: 'alice', reason: 'lab' } });
    const head1 = await cma.treeHead();
    const sigs1 = (await cma.signatures('0000:01:00.0')).map((x) => x.logIndex);
    assert.equal(sigs1.length, 2);
    const key1 = cma.logPublicKeyPem();
    assert.match(key1, /BEGIN PUBLIC KEY/);
    const slots1 = cma.device('0000:01:00.0').slots;
    assert.ok(slots1.length > 0 && slots1.every((s) => s.certificates.length > 0));
    const lastId = r.events.at(-1)!.id;
    await cma.close();

    // Between runs: device 3 is swapped for another knock-off.
    await r.platform.get('0000:03:00.0').swapDevice();

    const seen = r.events.length;
    cma = await r.start();
    // Before the re-authentication, nothing is accepted.
    for (const d of cma.devices()) assert.notEqual(d.acceptance.state, 'accepted', d.bdf);
    assert.equal(cma.device('0000:02:00.0').acceptance.state, 'rejected');
    // The certificates/slotN views of the last run read back whole (the store keeps only the chain).
    const asServed = (slots: readonly SlotView[]) =>
      slots.map((s) => ({ slot: s.slot, chain: s.chain, certificates: s.certificates, leafSubject: s.leafSubject }));
    assert.deepEqual(asServed(cma.device('0000:01:00.0').slots), asServed(slots1));
    // The kernel-style signature views of the last run are still there.
    assert.deepEqual(
      (await cma.signatures('0000:01:00.0')).map((x) => x.logIndex),
      sigs1,
    );
    await cma.idle();
    const d1 = cma.device('0000:01:00.0');
    assert.equal(d1.acceptance.state === 'accepted' && d1.acceptance.by, 'same-device');
    assert.equal(cma.device('0000:02:00.0').acceptance.state, 'rejected');
    const d3 = cma.device('0000:03:00.0');
    assert.equal(d3.acceptance.state, 'unaccepted', 'the override was for another device');
    assert.ok(d3.sameDevice?.changes.some((c) => c.code === 'LEAF_KEY_CHANGED'));
    assert.equal(d1.generation, 2, 'generation survives the restart');

    // Event ids continue where they stopped.
    const next = r.events.slice(seen);
    assert.equal(next[0]!.id, lastId + 1);
    assert.deepEqual(
      (await cma.eventsSince(0, 1_000_000)).map((e) => e.id),
      r.events.map((_, i) => i + 1),
    );
    // The log kept growing from the same tree: consistent with the head before the restart.
    const head2 = await cma.treeHead();
    assert.ok(head2.treeSize > head1.treeSize);
    assert.equal(head2.logId, head1.logId);
    assert.equal(cma.logPublicKeyPem(), key1);
    const proof = await cma.consistencyProof(head1.treeSize, head2.treeSize);
    assert.ok(proof.proof.length > 0);
    await cma.close();
    const log = await openLog(join(r.dir, 'signatures.sqlite'), { readOnly: true });
    try {
      const report = await log.verify();
      assert.equal(report.ok, true, JSON.stringify(report).slice(0, 400));
    } finally {
      await log.close();
    }
  } finally {
    await r.cleanup();
  }
});
