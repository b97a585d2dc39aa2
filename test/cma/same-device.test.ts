import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CmaEvent } from '../../src/cma/api.js';
import { rig } from './helpers.js';

const BDF = '0000:01:00.0';

function after(events: readonly CmaEvent[], id: number): CmaEvent[] {
  return events.filter((e) => e.id > id);
}

test('reset of the same device: re-authenticated and accepted again by the same-device check', async () => {
  const r = rig();
  try {
    await r.platform.add(BDF, 'genuine');
    const cma = await r.start();
    await cma.idle();
    await cma.accept(BDF);
    const mark = r.events.at(-1)!.id;
    // The trust store forgets the vendor root: the same-device path must not consult it.
    const emptied = { anchors: [], denyList: r.trust.denyList };
    Object.defineProperty(r.trust, 'anchors', { get: () => emptied.anchors, configurable: true });
    r.platform.reset(BDF, 'flr');
    await cma.idle();
    const d = cma.device(BDF);
    assert.equal(d.acceptance.state, 'accepted');
    assert.equal(d.acceptance.state === 'accepted' && d.acceptance.by, 'same-device');
    assert.equal(d.sameDevice?.same, true);
    assert.equal(d.verdict?.status, 'untrusted', 'the verifier no longer trusts it, the same-device check still holds');
    const types = after(r.events, mark).map((e) => e.type);
    assert.deepEqual(types.slice(0, 2), ['reset', 'acceptance']);
    assert.ok(types.includes('same-device'));
    assert.equal(types.at(-1), 'acceptance');
  } finally {
    await r.cleanup();
  }
});

test('notifyReset with another device behind the BDF: unaccepted, LEAF_KEY_CHANGED named, record dropped', async () => {
  const r = rig();
  try {
    await r.platform.add(BDF, 'genuine');
    const cma = await r.start();
    await cma.idle();
    await cma.accept(BDF);
    await r.platform.get(BDF).swapDevice();
    const d = await cma.notifyReset(BDF);
    assert.equal(d.authenticated.state, 'yes', 'the replacement is genuine and trusted by the verifier');
    assert.equal(d.acceptance.state, 'unaccepted');
    assert.equal(d.acceptance.state === 'unaccepted' && d.acceptance.reason?.code, 'DEVICE_CHANGED');
    assert.equal(d.sameDevice?.same, false);
    const codes = d.sameDevice.changes.map((c) => c.code);
    assert.ok(codes.includes('LEAF_KEY_CHANGED'), codes.join());
    assert.ok(codes.includes('CHAIN_CHANGED'), codes.join());
    const ev = r.events.filter((e) => e.type === 'same-device').at(-1);
    assert.ok(ev && ev.type === 'same-device' && ev.changes.some((c) => c.code === 'LEAF_KEY_CHANGED'));
    // The record is gone: the next re-authentication cannot quietly accept it, autoAccept or not.
    const again = await cma.reauthenticate(BDF);
    assert.equal(again.acceptance.state, 'unaccepted');
    assert.equal((await cma.decisions(BDF)).at(-1)?.action, 'drop');
  } finally {
    await r.cleanup();
  }
});

test('changed firmware after a reset: MEASUREMENT_CHANGED, unaccepted; autoAccept holds back until an operator accepts', async () => {
  const r = rig();
  try {
    await r.platform.add(BDF, 'genuine');
    const cma = await r.start({ autoAccept: true });
    await cma.idle();
    assert.equal(cma.device(BDF).acceptance.state, 'accepted');
    r.platform.get(BDF).updateFirmware('2.0.0');
    r.platform.reset(BDF, 'resume');
    await cma.idle();
    const d = cma.device(BDF);
    assert.equal(d.acceptance.state, 'unaccepted');
    const codes = d.sameDevice!.changes.map((c) => c.code);
    assert.ok(codes.includes('MEASUREMENT_CHANGED'), codes.join());
    assert.ok(!codes.includes('LEAF_KEY_CHANGED'));
    const again = await cma.reauthenticate(BDF);
    assert.equal(again.acceptance.state, 'unaccepted', 'autoAccept does not take a changed device');
    const ok = await cma.accept(BDF);
    assert.equal(ok.acceptance.state === 'accepted' && ok.acceptance.by, 'verdict');
  } finally {
    await r.cleanup();
  }
});

test('hot-unplug during authentication: the flow fails cleanly, device-removed, records stay; re-plug checks same device', async () => {
  const r = rig();
  try {
    const fn = await r.platform.add(BDF, 'genuine');
    await r.platform.add('0000:02:00.0', 'genuine', 0x2002);
    const cma = await r.start({ autoAccept: true });
    await cma.idle();
    assert.equal(cma.device(BDF).acceptance.state, 'accepted');
    fn.doe!.slow(500);
    const pending = cma.reauthenticate(BDF);
    // Let the flow get going, then pull the device.
    await r.clock.sleep(300);
    assert.equal(cma.device(BDF).busy, true);
    r.platform.unplug(BDF);
    await assert.rejects(pending, (e: unknown) => (e as { code?: string }).code === 'DEVICE_NOT_FOUND');
    await cma.idle();
    assert.deepEqual(
      cma.devices().map((d) => d.bdf),
      ['0000:02:00.0'],
    );
    assert.ok(r.events.some((e) => e.type === 'device-removed' && e.bdf === BDF));
    assert.equal(fn.openHandles, 0, 'every config-space handle was closed');
    // Plugged back in (the same device): accepted again only through the same-device check.
    fn.doe!.slow(0);
    r.platform.plug(fn);
    await new Promise((res) => setImmediate(res));
    await cma.idle();
    const d = cma.device(BDF);
    assert.equal(d.acceptance.state === 'accepted' && d.acceptance.by, 'same-device');
  } finally {
    await r.cleanup();
  }
});

test('one slow device does not hold the others back', async () => {
  const r = rig();
  try {
    const slow = await r.platform.add(BDF, 'genuine');
    slow.doe!.slow(5000); // past the 1-s DOE timeout: every attempt times out
    await r.platform.add('0000:02:00.0', 'genuine', 0x2002);
    await r.platform.add('0000:03:00.0', 'genuine', 0x2003);
    const cma = await r.start({ concurrency: 2 });
    await cma.idle();
    assert.equal(cma.device('0000:02:00.0').authenticated.state, 'yes');
    assert.equal(cma.device('0000:03:00.0').authenticated.state, 'yes');
    const s = cma.device(BDF);
    assert.equal(s.authenticated.state, 'unknown');
    assert.equal(s.authenticated.state === 'unknown' && s.authenticated.reason.code, 'TIMEOUT');
    // The fast ones finished before the slow one gave up.
    const done = (bdf: string) => r.events.find((e) => e.type === 'authenticated' && e.bdf === bdf)!.id;
    assert.ok(done('0000:02:00.0') < done(BDF));
    assert.ok(done('0000:03:00.0') < done(BDF));
  } finally {
    await r.cleanup();
  }
});

test('evidence from before a reset cannot be accepted', async () => {
  const r = rig();
  try {
    const fn = await r.platform.add(BDF, 'genuine');
    const cma = await r.start();
    await cma.idle();
    fn.doe!.slow(5000); // the re-authentication after the reset times out
    await cma.notifyReset(BDF);
    await assert.rejects(cma.accept(BDF), (e: unknown) => (e as { code?: string }).code === 'DEVICE_STATE');
    fn.doe!.slow(0);
    await cma.reauthenticate(BDF);
    assert.equal((await cma.accept(BDF)).acceptance.state, 'accepted');
  } finally {
    await r.cleanup();
  }
});
