/**
 * holdDrivers over the shipped default simulated platform (state only there): a refused function
 * is held back from its driver from the moment it appears, accepting releases it, a reset keeps
 * an accepted one released while the same-device check runs, a swapped device is held again, and
 * a rejected one is held. Off (the default), drivers are never touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCma } from '../../src/cma/manager.js';
import type { CmaService } from '../../src/cma/api.js';
import { defaultPlatformFiles, loadDefaultPlatform } from '../../src/platform/default.js';
import type { SimulatedPlatform } from '../../src/platform/simulated.js';
import type { Clock } from '../../src/transport/clock.js';
import { loadPolicyFile } from '../../src/verifier/policy-loader.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { FakeClock } from '../pci/fake-clock.js';
import { rig } from './helpers.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const NVME = '0000:01:00.0';
const COUNTERFEIT = '0000:06:00.0';
const NO_DOE = '0000:0e:00.0';
const NIC = '0000:02:00.0';

async function service(
  holdDrivers: boolean | undefined,
): Promise<{ cma: CmaService; platform: SimulatedPlatform; done: () => Promise<void> }> {
  const fake = new FakeClock();
  const clock: Clock = { now: () => NOW + fake.now(), sleep: (ms) => fake.sleep(ms) };
  const files = defaultPlatformFiles();
  const trust = new TrustStore({ anchors: files.trustAnchors, deny: files.denyList });
  const platform = loadDefaultPlatform({ clock });
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-cma-hold-'));
  const cma = await createCma({
    platform,
    trust,
    policy: loadPolicyFile(files.policy),
    dataDir: dir,
    clock,
    ...(holdDrivers !== undefined ? { holdDrivers } : {}),
  });
  return {
    cma,
    platform,
    done: async () => {
      await cma.close();
      await platform.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('holdDrivers: refused functions are held, accept releases, a reset keeps the release, a swap or reject holds again', async () => {
  const { cma, platform, done } = await service(true);
  try {
    await cma.idle();
    for (const d of cma.devices()) {
      const canCma = d.doe === 'cma';
      assert.equal(platform.driverHeld(d.bdf), canCma, `${d.bdf} (${d.doe}, ${d.acceptance.state})`);
      assert.equal(d.driver?.held ?? false, canCma, `${d.bdf}: the view says what the platform holds`);
    }
    // No DOE: held while that was unknown, released once known (nothing to decide on).
    assert.equal(cma.device(NO_DOE).driver?.held, false);

    const accepted = await cma.accept(NVME);
    assert.equal(accepted.driver?.held, false, 'released by accept');
    assert.equal(platform.driverHeld(NVME), false);
    const forced = await cma.accept(COUNTERFEIT, { override: { operator: 'ann', reason: 'lab' } });
    assert.equal(forced.driver?.held, false, 'an override releases it too');

    await platform.inject({ type: 'flr', bdf: NVME });
    await cma.idle();
    const back = cma.device(NVME);
    assert.ok(back.acceptance.state === 'accepted' && back.acceptance.by === 'same-device');
    assert.equal(platform.driverHeld(NVME), false, 'the same device stayed released across its reset');

    await platform.inject({ type: 'swap', bdf: NVME, device: 'acme-nvme-spare-same-serial' });
    await cma.idle();
    assert.equal(cma.device(NVME).acceptance.state, 'unaccepted');
    assert.equal(platform.driverHeld(NVME), true, 'another device behind the BDF is held');
    assert.equal(cma.device(NVME).driver?.held, true);

    await cma.accept(NIC);
    assert.equal(platform.driverHeld(NIC), false);
    const rejected = await cma.reject(NIC, { operator: 'ann', reason: 'decommissioned' });
    assert.equal(rejected.driver?.held, true, 'rejected: held again');
    assert.equal(platform.driverHeld(NIC), true);
  } finally {
    await done();
  }
});

test('holdDrivers off (the default): drivers are never touched and the view has no driver field', async () => {
  const { cma, platform, done } = await service(undefined);
  try {
    await cma.idle();
    await cma.accept(NVME);
    await cma.reject(NIC);
    for (const d of cma.devices()) {
      assert.equal(platform.driverHeld(d.bdf), false, d.bdf);
      assert.equal(d.driver, undefined, d.bdf);
    }
  } finally {
    await done();
  }
});

test('holdDrivers needs a platform that can hold drivers (TypeError otherwise)', async () => {
  const r = rig();
  try {
    await assert.rejects(r.start({ holdDrivers: true }), TypeError);
    await assert.rejects(r.start({ holdDrivers: 'yes' as unknown as boolean }), TypeError);
  } finally {
    await r.cleanup();
  }
});
