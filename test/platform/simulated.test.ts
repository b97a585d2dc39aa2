/**
 * The simulated platform's events, as the CMA layer sees them: config-space handles that survive
 * their own close and the device's resets, die with a hot-unplug (an exchange in flight too), and
 * events delivered to subscribers in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { systemClock, type Clock } from '../../src/transport/clock.js';
import { openDoeTransport } from '../../src/pci/doe-transport.js';
import { readPciIdentity } from '../../src/pci/identity.js';
import type { ConfigSpace } from '../../src/pci/config-space.js';
import { Requester } from '../../src/requester/requester.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { loadPolicyFile } from '../../src/verifier/policy-loader.js';
import { verify } from '../../src/verifier/verify.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { defaultPlatformFiles, loadDefaultPlatform } from '../../src/platform/default.js';
import type { SimulatedPlatform } from '../../src/platform/simulated.js';
import type { PlatformEvent } from '../../src/platform/platform.js';

const NVME = '0000:01:00.0';
/** Mid-2026 for the requester (evidence time) and the verifier alike, so certificate validity does not depend on the day the test runs. */
const START = Date.now();
const NOW = Date.parse('2026-06-01T12:00:00Z');
const clock: Clock = { now: () => NOW + (Date.now() - START), sleep: (ms) => systemClock.sleep(ms) };
const SLOW = '0000:0c:00.0';

async function open(p: SimulatedPlatform, bdf: string): Promise<ConfigSpace> {
  const fn = (await p.functions()).find((f) => f.bdf === bdf);
  assert.ok(fn, `${bdf} is present`);
  return fn.openConfigSpace();
}

async function authenticate(cs: ConfigSpace, bdf: string, close = true): Promise<Evidence> {
  const pci = await readPciIdentity(cs, bdf);
  const t = await openDoeTransport(cs, { ownsConfigSpace: close });
  try {
    return await new Requester(t, { pci, clock }).authenticate();
  } finally {
    await t.close();
  }
}

function recorder(p: SimulatedPlatform): PlatformEvent[] {
  const seen: PlatformEvent[] = [];
  p.subscribe((e) => seen.push(e));
  return seen;
}

function verdictOf(e: Evidence) {
  const files = defaultPlatformFiles();
  const trust = new TrustStore({ anchors: files.trustAnchors, deny: files.denyList });
  try {
    return verify(e, loadPolicyFile(files.policy), trust, { now: new Date(clock.now()) });
  } finally {
    trust.close();
  }
}

test('closing a handle (through the transport that owns it) leaves the device for the next open', async () => {
  const p = loadDefaultPlatform();
  try {
    const first = await authenticate(await open(p, NVME), NVME);
    const second = await authenticate(await open(p, NVME), NVME);
    assert.equal(
      second.slots[0]?.certificates.at(-1)?.fingerprintSha256,
      first.slots[0]?.certificates.at(-1)?.fingerprintSha256,
    );
    const cs = await open(p, NVME);
    await cs.close?.();
    await assert.rejects(cs.read32(0), TypeError);
  } finally {
    await p.close();
  }
});

test('hot-unplug: an exchange in flight and every later access fail with TRANSPORT_ERROR; hot-plug brings it back', async () => {
  const p = loadDefaultPlatform();
  const seen = recorder(p);
  try {
    const fn = (await p.functions()).find((f) => f.bdf === SLOW);
    assert.ok(fn);
    const cs = await fn.openConfigSpace();
    const other = await fn.openConfigSpace();
    const pci = await readPciIdentity(cs, SLOW);
    const t = await openDoeTransport(cs, { ownsConfigSpace: true });
    // The slow device takes 15 ms per DOE object: unplug it while the first exchange is pending.
    const flight = new Requester(t, { pci, clock }).authenticate();
    await new Promise((r) => setTimeout(r, 5));
    await p.inject({ type: 'hot-unplug', bdf: SLOW });
    await assert.rejects(flight, (e) => isSpdmError(e) && e.code === 'TRANSPORT_ERROR');
    await t.close();
    await assert.rejects(other.read32(0), (e) => isSpdmError(e) && e.code === 'TRANSPORT_ERROR');
    await assert.rejects(fn.openConfigSpace(), (e) => isSpdmError(e) && e.code === 'TRANSPORT_ERROR');
    assert.ok(!(await p.functions()).some((f) => f.bdf === SLOW));
    assert.equal(p.deviceAt(SLOW), undefined);

    await p.inject({ type: 'hot-plug', bdf: SLOW });
    assert.ok((await p.functions()).some((f) => f.bdf === SLOW));
    // The old handle stays dead (a new sysfs node, a new file); a new one works.
    await assert.rejects(other.read32(0), (e) => isSpdmError(e) && e.code === 'TRANSPORT_ERROR');
    const back = await authenticate(await fn.openConfigSpace(), SLOW);
    assert.equal(back.pci?.bdf, SLOW);
    assert.deepEqual(seen, [
      { type: 'removed', bdf: SLOW },
      { type: 'added', bdf: SLOW },
    ]);
    // A new function at a fresh address, from the spares.
    await p.inject({ type: 'hot-plug', bdf: '0000:20:00.0', device: 'acme-nvme-spare' });
    assert.equal(p.deviceAt('0000:20:00.0')?.name, 'acme-nvme-spare');
    assert.equal(verdictOf(await authenticate(await open(p, '0000:20:00.0'), '0000:20:00.0')).status, 'trusted');
    assert.deepEqual(seen.at(-1), { type: 'added', bdf: '0000:20:00.0' });
  } finally {
    await p.close();
  }
});

test('resets: FLR, secondary bus reset and suspend/resume keep handles and report in BDF order', async () => {
  const p = loadDefaultPlatform();
  const seen = recorder(p);
  try {
    const cs = await open(p, NVME);
    await authenticate(cs, NVME, false);
    await p.inject({ type: 'flr', bdf: NVME });
    // Same handle, fresh device: it authenticates again from scratch.
    const again = await authenticate(cs, NVME, false);
    assert.equal(again.pci?.bdf, NVME);
    await cs.close?.();
    await p.inject({ type: 'secondary-bus-reset', bus: '0000:02' });
    await p.inject({ type: 'suspend-resume' });
    assert.deepEqual(seen.slice(0, 3), [
      { type: 'reset', bdf: NVME, kind: 'flr' },
      { type: 'reset', bdf: '0000:02:00.0', kind: 'secondary-bus' },
      { type: 'reset', bdf: '0000:02:00.1', kind: 'secondary-bus' },
    ]);
    const resumed = seen.slice(3);
    assert.equal(resumed.length, 16);
    assert.ok(resumed.every((e) => e.type === 'reset' && e.kind === 'resume'));
    assert.deepEqual(
      resumed.map((e) => e.bdf),
      (await p.functions()).map((f) => f.bdf),
    );
  } finally {
    await p.close();
  }
});

test('firmware update: the measurements change, the device resets; a released version stays trusted, another does not', async () => {
  const p = loadDefaultPlatform();
  const seen = recorder(p);
  try {
    const before = await authenticate(await open(p, NVME), NVME);
    await p.inject({ type: 'firmware-update', bdf: NVME, version: '3.2.0' });
    assert.deepEqual(seen, [{ type: 'reset', bdf: NVME, kind: 'flr' }]);
    const after = await authenticate(await open(p, NVME), NVME);
    const version = (e: Evidence) =>
      Buffer.from(e.measurements.find((m) => m.index === 5)?.value ?? '', 'hex').toString();
    assert.equal(version(before), '3.1.4');
    assert.equal(version(after), '3.2.0');
    assert.equal(p.deviceAt(NVME)?.firmware.version, '3.2.0');
    assert.equal(verdictOf(after).status, 'trusted');
    await p.inject({ type: 'firmware-update', bdf: NVME, version: '9.9.9' });
    const rogue = verdictOf(await authenticate(await open(p, NVME), NVME));
    assert.ok(rogue.reasons.some((r) => r.code === 'MEASUREMENT_MISMATCH'));
  } finally {
    await p.close();
  }
});

test('device swap behind the same BDF: reported as a resume; the same IDs, another certificate', async () => {
  const p = loadDefaultPlatform();
  const seen = recorder(p);
  try {
    const cs = await open(p, NVME);
    const idBefore = await readPciIdentity(cs, NVME);
    const before = await authenticate(cs, NVME);
    await p.inject({ type: 'swap', bdf: NVME, device: 'acme-nvme-spare-same-serial' });
    assert.deepEqual(seen, [{ type: 'reset', bdf: NVME, kind: 'resume' }]);
    const cs2 = await open(p, NVME);
    assert.deepEqual(await readPciIdentity(cs2, NVME), idBefore);
    const after = await authenticate(cs2, NVME);
    assert.notEqual(
      after.slots[0]?.certificates.at(-1)?.fingerprintSha256,
      before.slots[0]?.certificates.at(-1)?.fingerprintSha256,
    );
    assert.equal(verdictOf(after).status, 'trusted');
    await p.inject({ type: 'swap', bdf: NVME, device: 'knockoff-nvme-spare' });
    const fake = verdictOf(await authenticate(await open(p, NVME), NVME));
    assert.deepEqual([...new Set(fake.reasons.map((r) => r.code))], ['CHAIN_UNTRUSTED']);
  } finally {
    await p.close();
  }
});

test('subscribers: events in order even when injected from a listener; a throwing listener does not stop the others', async () => {
  const p = loadDefaultPlatform();
  const seen: string[] = [];
  p.subscribe(() => {
    throw new Error('listener bug');
  });
  const off = p.subscribe((e) => {
    seen.push(`a:${e.type}:${e.bdf}`);
    if (e.type === 'removed') void p.inject({ type: 'hot-plug', bdf: e.bdf });
  });
  p.subscribe((e) => seen.push(`b:${e.type}:${e.bdf}`));
  try {
    await p.inject({ type: 'hot-unplug', bdf: NVME });
    assert.deepEqual(seen, [`a:removed:${NVME}`, `b:removed:${NVME}`, `a:added:${NVME}`, `b:added:${NVME}`]);
    off();
    await p.inject({ type: 'flr', bdf: NVME });
    assert.equal(seen.at(-1), `b:reset:${NVME}`);
    assert.equal(seen.length, 5);
  } finally {
    await p.close();
  }
});

test('misuse is a TypeError; after close every function and handle is gone', async () => {
  const p = loadDefaultPlatform();
  const cs = await open(p, NVME);
  await assert.rejects(p.inject({ type: 'flr', bdf: '0000:7f:00.0' }), TypeError);
  await assert.rejects(p.inject({ type: 'hot-plug', bdf: NVME }), /occupied/);
  await assert.rejects(p.inject({ type: 'hot-plug', bdf: '0000:7f:00.0' }), /name a device/);
  await assert.rejects(p.inject({ type: 'swap', bdf: NVME, device: 'nope' }), /no spare named/);
  await assert.rejects(p.inject({ type: 'secondary-bus-reset', bus: '0000:7f' }), TypeError);
  await assert.rejects(p.inject({ type: 'firmware-update', bdf: '0000:0e:00.0', version: '2' }), /no SPDM device/);
  assert.deepEqual(p.spareNames(), ['acme-nvme-spare', 'acme-nvme-spare-same-serial', 'knockoff-nvme-spare']);
  assert.equal(p.kind, 'simulated');
  await p.close();
  await p.close();
  await assert.rejects(p.functions(), TypeError);
  await assert.rejects(cs.read32(0), (e) => isSpdmError(e) && e.code === 'TRANSPORT_ERROR');
});
