import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Evidence } from '../../src/evidence/evidence.js';
import { KeptEvidence } from '../../src/cma/kept-evidence.js';
import { KeptSlot } from '../../src/cma/kept-slot.js';
import { slotViews } from '../../src/cma/views.js';
import { collect, makeDevice } from '../verifier/helpers.js';

test('kept evidence reads back as the evidence it was made from, smaller than its JSON', async () => {
  const evidence = await collect(makeDevice());
  const kept = new KeptEvidence(evidence);
  assert.deepEqual(kept.evidence(), JSON.parse(JSON.stringify(evidence)));
  // The byte strings are kept as bytes: well under the JSON's size.
  assert.ok(kept.size < JSON.stringify(evidence).length * 0.7, `${kept.size} bytes kept`);
  // Each read is a fresh object: a caller editing one does not edit the kept evidence.
  assert.notEqual(kept.evidence(), kept.evidence());
});

test('kept evidence is lossless for strings that look like its own encoding', () => {
  const tricky = {
    a: '\u0001',
    b: '\u00010',
    c: '\u0001\u0001x',
    d: 'ABCDEF0123456789ABCDEF0123456789ABCD', // upper-case hex stays text
    e: 'abcdef0123456789abcdef0123456789abc', // odd length
    f: 'abcdef0123456789abcdef0123456789ab', // even, lower case: kept as bytes
    g: '',
    h: ['00'.repeat(40), '\u0001\u0001', 'ff'.repeat(40)],
    i: { nested: 'deadbeef'.repeat(10), n: 1, t: true, z: null },
  };
  const kept = new KeptEvidence(tricky as unknown as Evidence);
  assert.deepEqual(kept.evidence(), tricky);
});

test('a kept slot serves the chain and certificates of the evidence it came from', async () => {
  const evidence = await collect(makeDevice());
  const [slot] = slotViews(evidence);
  assert.ok(slot instanceof KeptSlot);
  const s0 = evidence.slots.find((s) => s.slot === slot.slot)!;
  assert.equal(slot.chain, s0.certChain);
  assert.equal(slot.certificates.length, s0.certificates.length);
  // The certificates are the chain's tail, in order, each DER in base64.
  const der = Buffer.concat(slot.certificates.map((c) => Buffer.from(c, 'base64')));
  assert.equal(s0.certChain.endsWith(der.toString('hex')), true);
  assert.deepEqual(JSON.parse(JSON.stringify(slot)), {
    slot: slot.slot,
    chain: s0.certChain,
    certificates: [...slot.certificates],
    ...(slot.leafSubject !== undefined ? { leafSubject: slot.leafSubject } : {}),
  });
});
