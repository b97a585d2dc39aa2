import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError } from '../../src/wire/errors.js';
import { rig } from './helpers.js';

const BDF = '0000:01:00.0';

function code(c: string) {
  return (e: unknown) => e instanceof SpdmError && e.code === c;
}

test('connectTsm during a flow that finishes in the grace period: it completes, then the mailbox is left alone', async () => {
  const r = rig();
  try {
    const fn = await r.platform.add(BDF, 'genuine');
    const cma = await r.start({ autoAccept: true });
    await cma.idle();
    fn.doe!.slow(50);
    const reauth = cma.reauthenticate(BDF);
    await r.clock.sleep(60);
    const owned = await cma.connectTsm(BDF, 'tsm0');
    assert.deepEqual(owned.owner.kind, 'tsm');
    await reauth;
    const touched = fn.accesses;
    assert.equal(fn.openHandles, 0);
    await assert.rejects(cma.reauthenticate(BDF), (e: unknown) => {
      return e instanceof SpdmError && e.code === 'DEVICE_OWNED' && e.details.owner === 'tsm0' && e.details.bdf === BDF;
    });
    await assert.rejects(cma.notifyReset(BDF), code('DEVICE_OWNED'));
    await assert.rejects(cma.signedMeasurements(BDF), code('DEVICE_OWNED'));
    await assert.rejects(cma.connectTsm(BDF, 'tsm1'), code('DEVICE_STATE'));
    assert.equal((await cma.connectTsm(BDF, 'tsm0')).owner.kind, 'tsm', 'connecting to the same TSM again is a no-op');
    // A reset the platform reports while the TSM owns it: announced, but the mailbox is not touched.
    r.platform.reset(BDF, 'flr');
    await cma.idle();
    assert.equal(fn.accesses, touched, 'no config-space access while a TSM owns the function');
    assert.ok(r.events.some((e) => e.type === 'owner' && e.owner.kind === 'tsm'));
    // Handing it back: re-authenticated, accepted again only by the same-device check.
    const back = await cma.disconnectTsm(BDF);
    assert.equal(back.owner.kind, 'cma');
    assert.equal(back.acceptance.state === 'accepted' && back.acceptance.by, 'same-device');
    assert.ok(fn.accesses > touched);
  } finally {
    await r.cleanup();
  }
});

test('connectTsm during a flow that hangs: aborted after the grace period by closing its transport', async () => {
  const r = rig();
  try {
    const fn = await r.platform.add(BDF, 'genuine');
    const cma = await r.start({ abortGraceMs: 100, requester: { maxResponseWaitMs: 60_000 } });
    await cma.idle();
    fn.doe!.slow(100_000);
    const reauth = cma.reauthenticate(BDF);
    await r.clock.sleep(20);
    const before = r.clock.now();
    await cma.connectTsm(BDF, 'tsm0');
    assert.ok(r.clock.now() - before < 1000, 'bounded by the grace period, not the device');
    const d = await reauth;
    // The aborted flow's conclusions are not applied (it ran into the hand-over).
    assert.equal(d.owner.kind, 'tsm');
    assert.equal(fn.openHandles, 0, 'the transport and its config space were closed');
    const touched = fn.accesses;
    await r.clock.sleep(5000);
    await cma.idle();
    assert.equal(fn.accesses, touched);
  } finally {
    await r.cleanup();
  }
});

test('connectTsm while a flow waits out its backoff: no further attempt touches the mailbox', async () => {
  const r = rig();
  try {
    const fn = await r.platform.add(BDF, 'genuine');
    const cma = await r.start({ retry: { attempts: 3, baseMs: 10_000, maxMs: 10_000 }, abortGraceMs: 100 });
    await cma.idle();
    fn.doe!.slow(5000); // every attempt times out, then backs off for 10 s
    const reauth = cma.reauthenticate(BDF);
    await r.clock.sleep(3000); // the first attempt has failed; the flow is in its backoff
    const objects = fn.doe!.counters.objects;
    await cma.connectTsm(BDF, 'tsm0');
    await reauth;
    await cma.idle();
    assert.equal(fn.doe!.counters.objects, objects, 'no DOE object was sent after the hand-over');
  } finally {
    await r.cleanup();
  }
});

test('close() with a flow hanging: bounded by the grace period, the flow aborted, the mailbox left alone', async () => {
  const r = rig();
  try {
    const fn = await r.platform.add(BDF, 'genuine');
    const cma = await r.start({ abortGraceMs: 100, requester: { maxResponseWaitMs: 60_000 } });
    await cma.idle();
    fn.doe!.slow(100_000);
    const reauth = cma.reauthenticate(BDF).catch(() => undefined);
    await r.clock.sleep(20);
    const before = r.clock.now();
    await cma.close();
    assert.ok(r.clock.now() - before < 1000);
    await reauth;
    assert.equal(fn.openHandles, 0);
    const touched = fn.accesses;
    await r.clock.sleep(5000);
    assert.equal(fn.accesses, touched);
    await assert.rejects(cma.reauthenticate(BDF), (e: unknown) => (e as { code?: string }).code === 'DEVICE_STATE');
  } finally {
    await r.cleanup();
  }
});
