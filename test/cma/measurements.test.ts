import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { splitTranscript } from '../../src/spdm/signed-transcript.js';
import { rig } from './helpers.js';

const BDF = '0000:01:00.0';

test('signedMeasurements: a fresh GET_MEASUREMENTS over the caller nonce, logged as a signature', async () => {
  const r = rig();
  try {
    await r.platform.add(BDF, 'genuine');
    const cma = await r.start();
    await cma.idle();
    const before = cma.device(BDF).signatureEntries.length;
    const nonce = new Uint8Array(32).fill(0xa5);
    const m = await cma.signedMeasurements(BDF, { nonce });
    const bytes = Buffer.from(m.SignedMeasurements, 'base64');
    // The caller's nonce is in the signed GET_MEASUREMENTS, and the signature ends the bytes.
    assert.ok(bytes.includes(Buffer.from(nonce)));
    assert.equal(m.HashingAlgorithm, 'TPM_ALG_SHA_384');
    assert.equal(m.SigningAlgorithm, 'TPM_ALG_ECDSA_ECC_NIST_P384');
    assert.match(m.Version, /^1\.[23]$/);
    const pems = m.Certificate.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    assert.equal(pems.length, 3);
    assert.match(new X509Certificate(pems[2]!).subject, /acme-0000:01:00.0/);
    const sigs = await cma.signatures(BDF);
    const last = sigs.at(-1)!;
    assert.equal(last.type, 'responder-measurements signing');
    assert.equal(last.requesterNonce, Buffer.from(nonce).toString('hex'));
    assert.equal(bytes.subarray(0, last.sigOffset).toString('hex'), last.transcript);
    assert.ok(cma.device(BDF).signatureEntries.length > before);
    // Not an authentication: the device's authentication state is unchanged.
    assert.equal(cma.device(BDF).generation, 1);

    // Exactly the blocks asked for: two GET_MEASUREMENTS (index 1, then 2 signed) in the transcript.
    const some = await cma.signedMeasurements(BDF, { indices: [1, 2] });
    const signed = Buffer.from(some.SignedMeasurements, 'base64');
    assert.ok(signed.length < bytes.length);
    const view = (await cma.signatures(BDF)).at(-1)!;
    assert.equal(view.type, 'responder-measurements signing');
    const steps = splitTranscript(new Uint8Array(Buffer.from(view.transcript, 'hex')), 0x02);
    const operations = steps.filter((x) => x.code === 0xe0).map((x) => x.msg.raw[3]);
    assert.deepEqual(operations, [1, 2]);
    await assert.rejects(cma.signedMeasurements(BDF, { indices: [1, 1] }), TypeError);
  } finally {
    await r.cleanup();
  }
});

test('requests racing on one function never overlap on its mailbox', async () => {
  const r = rig();
  try {
    const fn = await r.platform.add(BDF, 'genuine');
    const cma = await r.start({ concurrency: 4 });
    await Promise.all([
      cma.reauthenticate(BDF),
      cma.reauthenticate(BDF),
      cma.notifyReset(BDF, 'notified'),
      cma.signedMeasurements(BDF),
      cma.reauthenticate(BDF),
    ]);
    await cma.idle();
    assert.equal(fn.doe!.counters.errors, 0, 'two flows on one mailbox would have set its Error bit');
    assert.equal(cma.device(BDF).authenticated.state, 'yes');
    assert.equal(cma.device(BDF).busy, false);
  } finally {
    await r.cleanup();
  }
});
