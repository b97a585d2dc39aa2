/**
 * The bench harness's own logic, which the printed figures depend on: ratios and targets, the
 * profile's attribution of samples to src/ buckets, and the node:crypto census (counts while it
 * runs, the originals back afterwards).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { createHash } from 'node:crypto';
import { Report, document } from '../../bench/harness.js';
import { attribute } from '../../bench/profile.js';
import { census } from '../../bench/crypto-census.js';
import { digest } from '../../src/crypto/hash.js';

test('a figure carries value ÷ baseline and whether it meets its target', () => {
  const r = new Report('t');
  r.section('g');
  const cost = r.add({
    name: 'cost',
    value: 115,
    unit: 'µs',
    baseline: { name: 'floor', value: 100 },
    target: { op: '<=', ratio: 1.15 },
  });
  assert.equal(cost.group, 'g');
  assert.ok(Math.abs(cost.ratio! - 1.15) < 1e-12);
  assert.equal(cost.meetsTarget, true);
  const over = r.add({
    name: 'over',
    value: 116,
    unit: 'µs',
    baseline: { name: 'floor', value: 100 },
    target: { op: '<=', ratio: 1.15 },
  });
  assert.equal(over.meetsTarget, false);
  const rate = r.add({
    name: 'rate',
    value: 70,
    unit: 'MB/s',
    baseline: { name: 'raw', value: 100 },
    target: { op: '>=', ratio: 0.8 },
  });
  assert.equal(rate.meetsTarget, false);
  const plain = r.add({ name: 'plain', value: 3, unit: 'KiB' });
  assert.equal(plain.ratio, undefined);
  assert.equal(plain.meetsTarget, undefined);
  assert.equal(r.part.figures.length, 4);
  assert.match(r.part.notes.at(-4)!.text, /×1\.15, target ≤ 1\.15 met/);
  assert.match(r.part.notes.at(-3)!.text, /NOT met/);
});

test('the document names the machine, the Node version and the commit', () => {
  const d = document('t', [{ figures: [], notes: [], data: { x: 1 } }]);
  assert.equal(d.format, 'spdmkit-bench/1');
  assert.equal(d.node, process.version);
  assert.ok(d.machine.cpus > 0 && d.machine.totalMemoryBytes > 0);
  assert.match(d.commit, /^([0-9a-f]{40}|unknown)$/);
  assert.deepEqual(d.data, { x: 1 });
});

test('profile samples go to node:crypto, to the innermost src/ directory, or to the GC; the profiler itself is left out', () => {
  const src = 'file:///repo/dist/src';
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 6, 8, 9] },
    { id: 2, callFrame: { functionName: 'challenge', url: `${src}/requester/challenge.js` }, children: [3, 5] },
    { id: 3, callFrame: { functionName: 'verify', url: 'node:internal/crypto/sig' }, children: [4] },
    { id: 4, callFrame: { functionName: 'verifyOneShot', url: '' } },
    { id: 5, callFrame: { functionName: 'concat', url: 'node:buffer' } },
    { id: 6, callFrame: { functionName: 'decode', url: `${src}/spdm/messages/challenge.js` }, children: [7] },
    { id: 7, callFrame: { functionName: 'subarray', url: 'node:internal/buffer' } },
    { id: 8, callFrame: { functionName: '(garbage collector)', url: '' } },
    { id: 9, callFrame: { functionName: 'post', url: 'node:inspector' } },
  ];
  // 4 samples of crypto, 2 of a Buffer.concat from the requester, 1 of the codec, 1 of GC, 2 of the profiler.
  const samples = [4, 4, 4, 4, 5, 5, 7, 8, 9, 9];
  const { buckets, functions } = attribute({ nodes, samples, timeDeltas: samples.map(() => 100) });
  const share = Object.fromEntries(buckets.map((b) => [b.name, b.share]));
  assert.deepEqual(share, {
    'node:crypto (primitives)': 0.5,
    requester: 0.25,
    'spdm/messages (codecs)': 0.125,
    'garbage collector': 0.125,
  });
  assert.deepEqual(
    functions.map((f) => [f.name, f.share]),
    [
      ['requester/challenge:challenge', 0.25],
      ['spdm/messages/challenge:decode', 0.125],
    ],
  );
});

test('the census counts what src/ asks of node:crypto, and puts node:crypto back', async () => {
  const data = new Uint8Array(1000);
  const c = await census(async () => {
    // Two parts: joined and hashed in one call where node has the one-shot hash, else a Hash object.
    digest(0x01, data, data);
    createHash('sha384').update(data).digest();
    await Promise.resolve();
  });
  if (typeof (crypto as { hash?: unknown }).hash === 'function') {
    assert.equal(c.calls['hash(sha256)'], 1);
    assert.equal(c.bytes['hash'], 2000);
    assert.equal(c.calls['Hash.update'], 1);
  } else {
    assert.equal(c.calls['createHash(sha256)'], 1);
    assert.equal(c.calls['Hash.update'], 3);
  }
  assert.equal(c.calls['createHash(sha384)'], 1);
  assert.equal(c.calls['Hash.digest'] ?? 0, c.calls['hash(sha256)'] ? 1 : 2);
  const after = await census(async () => Promise.resolve());
  assert.deepEqual(after.calls, {});
  // The originals are back: hashing still works and nothing counts it.
  assert.equal(createHash('sha256').update('abc').digest('hex').slice(0, 8), 'ba7816bf');
});
