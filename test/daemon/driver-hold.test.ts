/**
 * The device view of a daemon that holds drivers back (holdDrivers over the default simulated
 * platform, where it is state only): GET /v1/devices/{bdf} carries `driver`, accept releases it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCma } from '../../src/cma/manager.js';
import { buildServer } from '../../src/daemon/server.js';
import { defaultPlatformFiles, loadDefaultPlatform } from '../../src/platform/default.js';
import { loadPolicyFile } from '../../src/verifier/policy-loader.js';
import { TrustStore } from '../../src/verifier/trust-store.js';

const NVME = '0000:01:00.0';
const files = defaultPlatformFiles();
const platform = loadDefaultPlatform();
const dir = mkdtempSync(join(tmpdir(), 'spdmkitd-hold-'));
const cma = await createCma({
  platform,
  trust: new TrustStore({ anchors: files.trustAnchors, deny: files.denyList }),
  policy: loadPolicyFile(files.policy),
  dataDir: dir,
  holdDrivers: true,
});
await cma.idle();
const app = await buildServer({ service: cma });
after(async () => {
  await app.close();
  await cma.close();
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the device view shows the held driver binding, and accept releases it', async () => {
  const before = await app.inject({ method: 'GET', url: `/v1/devices/${NVME}` });
  assert.equal(before.statusCode, 200);
  const held = before.json<{ driver?: { held: boolean; at: string } }>().driver;
  assert.equal(held?.held, true);
  assert.equal(typeof held?.at, 'string');
  const accepted = await app.inject({ method: 'POST', url: `/v1/devices/${NVME}/accept`, payload: {} });
  assert.equal(accepted.statusCode, 200, accepted.body);
  assert.equal(accepted.json<{ driver?: { held: boolean } }>().driver?.held, false);
  assert.equal(platform.driverHeld(NVME), false);
  const list = await app.inject({ method: 'GET', url: '/v1/devices' });
  const rows = list.json<{ devices: { bdf: string; doe: string; driver?: { held: boolean } }[] }>().devices;
  for (const d of rows) assert.equal(d.driver?.held ?? false, d.doe === 'cma' && d.bdf !== NVME, d.bdf);
});
