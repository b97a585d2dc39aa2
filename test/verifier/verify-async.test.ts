/**
 * verifyAsync() (the daemon's: signature primitives in libuv's threadpool) reaches the verdict
 * verify() reaches, reason for reason, on genuine, forged and malformed evidence of every version.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Evidence } from '../../src/evidence/evidence.js';
import { verify, verifyAsync } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { compilePolicy } from '../../src/verifier/policy.js';
import { NOW, codes, collect, edited, makeDevice, vendorRoot } from './helpers.js';

let evidence: Evidence;
let trust: TrustStore;

before(async () => {
  evidence = await collect(makeDevice());
  trust = TrustStore.fromCertificates([vendorRoot().certificate]);
});

async function same(doc: unknown, what: string, options: { expectedNonce?: string } = {}) {
  const policy = compilePolicy({ version: 1 });
  const sync = verify(doc, policy, trust, { now: NOW, ...options });
  const threaded = await verifyAsync(doc, policy, trust, { now: NOW, ...options });
  assert.deepEqual(threaded, sync, what);
  return threaded;
}

test('genuine evidence of every SPDM version: trusted by both, with the same checks', async () => {
  assert.equal((await same(evidence, 'genuine')).status, 'trusted');
  for (const version of [0x10, 0x11, 0x13]) {
    const e = await collect(makeDevice({ versions: [version] }));
    const v = await same(e, `version ${version.toString(16)}`);
    assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
  }
  const fresh = await collect(makeDevice(), { nonce: new Uint8Array(32).fill(0x5a) });
  assert.equal((await same(fresh, 'the expected nonce', { expectedNonce: '5a'.repeat(32) })).status, 'trusted');
  const stale = await same(fresh, 'another nonce', { expectedNonce: 'ab'.repeat(32) });
  assert.equal(stale.status, 'untrusted');
});

test('forged and malformed signatures: SIGNATURE_INVALID from both, with the same reasons', async () => {
  const sig0 = evidence.signatures[0]!.signature;
  const cases: [string, unknown][] = [
    [
      'a signature byte',
      edited(evidence, (d) => void (d.signatures[0]!['signature'] = (sig0[0] === '0' ? '1' : '0') + sig0.slice(1))),
    ],
    [
      'a signature of zeros marked verified',
      edited(evidence, (d) => {
        d.signatures[0]!['signature'] = '00'.repeat(sig0.length / 2);
        d.signatures[0]!['verified'] = true;
      }),
    ],
    [
      'r and s out of range',
      edited(evidence, (d) => void (d.signatures[1]!['signature'] = 'ff'.repeat(sig0.length / 2))),
    ],
    [
      'a DER-length signature',
      edited(evidence, (d) => void (d.signatures[0]!['signature'] = '3045' + sig0.slice(0, 138))),
    ],
    [
      'the transcript',
      edited(evidence, (d) => {
        const t = d.signatures[1]!['transcript'] as string;
        d.signatures[1]!['transcript'] = t.slice(0, -2) + (t.endsWith('00') ? '01' : '00');
      }),
    ],
    ['an unsupported algorithm', edited(evidence, (d) => void (d.signatures[0]!['asymAlgo'] = 0x0200))],
    ['the kind', edited(evidence, (d) => void (d.signatures[0]!['kind'] = 'MEASUREMENTS'))],
  ];
  for (const [what, doc] of cases) {
    const v = await same(doc, what);
    assert.equal(v.status, 'untrusted', what);
    assert.ok(
      codes(v).includes('SIGNATURE_INVALID') || codes(v).includes('MALFORMED_EVIDENCE'),
      `${what}: ${JSON.stringify(v.reasons)}`,
    );
  }
  const notEvidence = await same({ format: 'something else' }, 'not evidence');
  assert.ok(codes(notEvidence).includes('MALFORMED_EVIDENCE'));
});

test('the evidence is judged as it was when verifyAsync was called, whatever the caller does to it meanwhile', async () => {
  const doc = structuredClone(evidence) as unknown as { signatures: { signature: string }[] };
  const pending = verifyAsync(doc, compilePolicy({ version: 1 }), trust, { now: NOW });
  doc.signatures[0]!.signature = '00'.repeat(doc.signatures[0]!.signature.length / 2);
  assert.equal((await pending).status, 'trusted');
  assert.equal((await verifyAsync(doc, compilePolicy({ version: 1 }), trust, { now: NOW })).status, 'untrusted');
});
