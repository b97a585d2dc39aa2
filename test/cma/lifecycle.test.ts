import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError } from '../../src/wire/errors.js';
import { DenyList } from '../../src/verifier/deny-list.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { rig } from './helpers.js';

test('enumeration: genuine, counterfeit, clone, no DOE and no CMA functions each get the right state', async () => {
  const r = rig();
  try {
    await r.platform.add('0000:01:00.0', 'genuine', 0x1001);
    await r.platform.add('0000:02:00.0', 'counterfeit', 0x1002);
    await r.platform.add('0000:03:00.0', 'clone', 0x1003);
    await r.platform.add('0000:04:00.0', 'no-doe', 0x1004);
    await r.platform.add('0000:05:00.0', 'no-cma', 0x1005);
    const cma = await r.start();
    await cma.idle();
    const byBdf = new Map(cma.devices().map((d) => [d.bdf, d]));
    assert.deepEqual(
      [...byBdf.keys()],
      ['0000:01:00.0', '0000:02:00.0', '0000:03:00.0', '0000:04:00.0', '0000:05:00.0'],
    );

    const genuine = byBdf.get('0000:01:00.0')!;
    assert.equal(genuine.doe, 'cma');
    assert.equal(genuine.authenticated.state, 'yes');
    assert.equal(genuine.verdict?.status, 'trusted');
    assert.equal(genuine.identity?.deviceId, 0x1001);
    assert.equal(genuine.generation, 1);
    assert.equal(genuine.slots.length, 1);
    assert.equal(genuine.slots[0]!.certificates.length, 3);
    assert.equal(genuine.acceptance.state, 'unaccepted');
    assert.ok(genuine.signatureEntries.length >= 2);

    const counterfeit = byBdf.get('0000:02:00.0')!;
    assert.equal(counterfeit.authenticated.state, 'no');
    assert.equal(counterfeit.verdict?.status, 'untrusted');

    const clone = byBdf.get('0000:03:00.0')!;
    assert.equal(clone.authenticated.state, 'no');
    assert.equal(clone.authenticated.state === 'no' && clone.authenticated.reason.code, 'SIGNATURE_INVALID');
    assert.equal(clone.verdict, undefined);

    const noDoe = byBdf.get('0000:04:00.0')!;
    assert.equal(noDoe.doe, 'no-doe');
    assert.deepEqual(noDoe.authenticated, {
      state: 'unknown',
      reason: noDoe.authenticated.state === 'unknown' ? noDoe.authenticated.reason : undefined,
    });
    assert.equal(noDoe.authenticated.state === 'unknown' && noDoe.authenticated.reason.code, 'NO_DOE');

    const noCma = byBdf.get('0000:05:00.0')!;
    assert.equal(noCma.doe, 'no-cma');
    assert.equal(noCma.authenticated.state === 'unknown' && noCma.authenticated.reason.code, 'NO_CMA');

    // Every signature of the genuine device is in the log, with the kernel's fields.
    const sigs = await cma.signatures('0000:01:00.0');
    assert.deepEqual(
      sigs.map((s) => s.type),
      ['responder-challenge_auth signing', 'responder-measurements signing'],
    );
    for (const s of sigs) {
      const t = Buffer.from(s.transcript, 'hex');
      assert.equal(t.subarray(s.reqNonceOffset, s.reqNonceOffset + 32).toString('hex'), s.requesterNonce);
      assert.equal(t.subarray(s.rspNonceOffset, s.rspNonceOffset + 32).toString('hex'), s.responderNonce);
      assert.equal(s.sigOffset, t.length);
      assert.equal(s.hashAlgorithm, 'sha384');
      assert.equal(s.combinedSpdmPrefix.length, 200);
      const proof = await cma.inclusionProof(s.logIndex);
      assert.equal(proof.leafHash.length, 64);
    }
    assert.equal(sigs[0]!.rspCode, 0x03);
    assert.equal(sigs[1]!.rspCode, 0x60);
    const head = await cma.treeHead();
    assert.ok(head.treeSize >= 4);

    // Events: device-added for each, then signatures and authenticated states.
    const types = r.events.map((e) => e.type);
    assert.equal(types.filter((t) => t === 'device-added').length, 5);
    assert.equal(types.filter((t) => t === 'authenticated').length, 5);
    assert.deepEqual(
      r.events.map((e) => e.id),
      r.events.map((_, i) => i + 1),
    );
  } finally {
    await r.cleanup();
  }
});

test('accept from a trusted verdict, override over an untrusted one, reject keeps it refused', async () => {
  const r = rig();
  try {
    await r.platform.add('0000:01:00.0', 'genuine');
    await r.platform.add('0000:02:00.0', 'counterfeit');
    const cma = await r.start();
    await cma.idle();
    const a = await cma.accept('0000:01:00.0');
    assert.equal(a.acceptance.state, 'accepted');
    assert.equal(a.acceptance.state === 'accepted' && a.acceptance.by, 'verdict');

    await assert.rejects(
      cma.accept('0000:02:00.0'),
      (e: unknown) => e instanceof SpdmError && e.code === 'DEVICE_STATE',
    );
    const o = await cma.accept('0000:02:00.0', { override: { operator: 'alice', reason: 'lab sample, known vendor' } });
    assert.equal(o.acceptance.state === 'accepted' && o.acceptance.by, 'operator');
    assert.equal(o.acceptance.state === 'accepted' && o.acceptance.operator, 'alice');

    const j = await cma.reject('0000:01:00.0', { operator: 'bob', reason: 'decommissioned' });
    assert.equal(j.acceptance.state, 'rejected');
    // A re-authentication does not lift a rejection, even though the device is trusted.
    const again = await cma.reauthenticate('0000:01:00.0');
    assert.equal(again.acceptance.state, 'rejected');
    assert.equal(again.authenticated.state, 'yes');
    assert.equal(again.generation, 2);
    const history = await cma.decisions('0000:01:00.0');
    assert.deepEqual(
      history.map((d) => d.action),
      ['accept', 'reject'],
    );
    const h2 = await cma.decisions('0000:02:00.0');
    assert.equal(h2[0]?.action, 'override');
    assert.equal(h2[0]?.operator, 'alice');
  } finally {
    await r.cleanup();
  }
});

test('autoAccept accepts trusted devices by "auto", never untrusted ones', async () => {
  const r = rig();
  try {
    await r.platform.add('0000:01:00.0', 'genuine');
    await r.platform.add('0000:02:00.0', 'counterfeit');
    const cma = await r.start({ autoAccept: true });
    await cma.idle();
    const g = cma.device('0000:01:00.0');
    assert.equal(g.acceptance.state === 'accepted' && g.acceptance.by, 'auto');
    assert.equal(cma.device('0000:02:00.0').acceptance.state, 'unaccepted');
  } finally {
    await r.cleanup();
  }
});

test('bad arguments: TypeError for malformed input, DEVICE_NOT_FOUND for an absent function', async () => {
  const r = rig();
  try {
    await r.platform.add('0000:01:00.0', 'genuine');
    const cma = await r.start();
    await cma.idle();
    assert.throws(() => cma.device('nonsense'), TypeError);
    assert.throws(
      () => cma.device('0000:09:00.0'),
      (e: unknown) => e instanceof SpdmError && e.code === 'DEVICE_NOT_FOUND',
    );
    await assert.rejects(cma.reauthenticate('0000:01:00.0', { slot: 9 }), TypeError);
    await assert.rejects(cma.accept('0000:01:00.0', { override: { operator: '', reason: 'x' } }), TypeError);
    await assert.rejects(cma.connectTsm('0000:01:00.0', 'bad name!'), TypeError);
    await assert.rejects(cma.signedMeasurements('0000:01:00.0', { nonce: new Uint8Array(5) }), TypeError);
    await assert.rejects(cma.signedMeasurements('0000:01:00.0', { indices: [255, 1] }), TypeError);
    await assert.rejects(cma.notifyReset('0000:01:00.0', 'warm' as 'flr'), TypeError);
    await assert.rejects(cma.eventsSince(-1), TypeError);
    await assert.rejects(cma.inclusionProof(-1), TypeError);
    await assert.rejects(
      cma.disconnectTsm('0000:01:00.0'),
      (e: unknown) => e instanceof SpdmError && e.code === 'DEVICE_STATE',
    );
    await assert.rejects(
      cma.reauthenticate('0000:0a:00.0'),
      (e: unknown) => e instanceof SpdmError && e.code === 'DEVICE_NOT_FOUND',
    );
  } finally {
    await r.cleanup();
  }
});

test('deny: a deny-list given to createCma makes a denied leaf untrusted', async () => {
  const r = rig();
  try {
    const fn = await r.platform.add('0000:01:00.0', 'genuine');
    const leaf = parseCertificate(fn.built!.certificates.at(-1)!);
    const cma = await r.start({ deny: DenyList.empty().addCertificate(leaf), autoAccept: true });
    await cma.idle();
    const d = cma.device('0000:01:00.0');
    assert.equal(d.authenticated.state, 'no');
    assert.ok(d.verdict?.reasons.some((x) => x.code === 'CERT_DENIED'));
    assert.equal(d.acceptance.state, 'unaccepted');
  } finally {
    await r.cleanup();
  }
});

test('signaturesPerDevice caps the views (newest kept); the log keeps every signature', async () => {
  const r = rig();
  try {
    await r.platform.add('0000:01:00.0', 'genuine');
    const cma = await r.start({ signaturesPerDevice: 3 });
    await cma.idle();
    await cma.reauthenticate('0000:01:00.0');
    const d = await cma.reauthenticate('0000:01:00.0');
    assert.deepEqual(d.signatureEntries, [3, 4, 5]);
    assert.deepEqual(
      (await cma.signatures('0000:01:00.0')).map((s) => s.logIndex),
      [3, 4, 5],
    );
    assert.equal((await cma.treeHead()).treeSize, 6);
  } finally {
    await r.cleanup();
  }
});
