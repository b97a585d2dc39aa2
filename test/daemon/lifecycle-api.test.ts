/**
 * The lifecycle through the daemon's real API on a real Unix socket, over the default simulated
 * platform: a function unplugged while its authentication is in flight, and a TSM taking a
 * function while its authentication is in flight. The platform's events are injected the way the
 * hardware would raise them; everything asserted is read back over the socket and the event stream.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCma } from '../../src/cma/manager.js';
import { compileDaemonConfig } from '../../src/daemon/config.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { openEventStream } from '../../src/daemon/event-client.js';
import { defaultPlatformFiles, loadDefaultPlatform } from '../../src/platform/default.js';
import { loadPolicyFile } from '../../src/verifier/policy-loader.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { JSON_HEADERS, raw } from './http.js';

/** The default platform's slow function: 15 ms per DOE object and a ResponseNotReady, so a flow takes a while. */
const SLOW = '0000:0c:00.0';

const files = defaultPlatformFiles();
const dataDir = mkdtempSync(join(tmpdir(), 'spdmkitd-lifecycle-'));
const socketPath = join(dataDir, 'spdmkitd.sock');
const config = compileDaemonConfig(
  {
    version: 1,
    socket: { path: socketPath },
    dataDir,
    autoAccept: true,
    platform: { kind: 'simulated', file: files.platform },
  },
  'test',
  dataDir,
);
const trust = new TrustStore({ anchors: files.trustAnchors, deny: files.denyList });
const policy = loadPolicyFile(files.policy);
const platform = loadDefaultPlatform();
const service = await createCma({ platform, trust, policy, dataDir, autoAccept: true });
const daemon = await startDaemon({ config, socketPath, service, platform, inputs: { trust, policy } });
const stream = await openEventStream({ socketPath }, 0);
after(async () => {
  stream.close();
  await daemon.close();
  rmSync(dataDir, { recursive: true, force: true });
});
await service.idle();

const sock = { socketPath };
const get = (path: string) => raw(sock, 'GET', path);
const post = (path: string, body: unknown = {}) =>
  raw(sock, 'POST', path, { headers: JSON_HEADERS, body: JSON.stringify(body) });

/** Polls the device over the API until `ok` holds (or fails the test after 10 s). */
async function until(bdf: string, ok: (d: Record<string, unknown>) => boolean, what: string) {
  for (let i = 0; i < 1000; i++) {
    const a = await get(`/v1/devices/${bdf}`);
    if (a.status === 200 && ok(a.json())) return a.json();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`${bdf}: ${what} did not happen`);
}

const lastId = () => stream.events.at(-1)?.id ?? 0;

test('hot-unplug while authentication is in flight: the flow stops, the function leaves the list, re-plugged it is re-accepted only as the same device', async () => {
  const before = await get(`/v1/devices/${SLOW}`);
  assert.equal((before.json()['acceptance'] as { state: string }).state, 'accepted');
  const after0 = lastId();
  const reauth = post(`/v1/devices/${SLOW}/reauthenticate`);
  await until(SLOW, (d) => d['busy'] === true, 'busy');
  await platform.inject({ type: 'hot-unplug', bdf: SLOW });
  const answer = await reauth;
  // The request in flight is answered, not left hanging: the function is gone.
  assert.equal(answer.status, 404, answer.text);
  assert.equal(answer.json().error?.code, 'DEVICE_NOT_FOUND');
  await stream.waitFor((e) => e.id > after0 && e.type === 'device-removed' && e.bdf === SLOW, 10_000, 'device-removed');
  assert.equal((await get(`/v1/devices/${SLOW}`)).status, 404);
  const list = (await get('/v1/devices')).json()['devices'] as { bdf: string }[];
  assert.ok(!list.some((d) => d.bdf === SLOW));
  // Plugged back in: authenticated afresh, and accepted again only through the same-device check.
  const after1 = lastId();
  await platform.inject({ type: 'hot-plug', bdf: SLOW });
  const same = await stream.waitFor(
    (e) => e.id > after1 && e.type === 'same-device' && e.bdf === SLOW,
    20_000,
    'same-device after hot-plug',
  );
  assert.ok(same.type === 'same-device' && same.same);
  const d = await until(SLOW, (x) => (x['acceptance'] as { state: string }).state === 'accepted', 'accepted');
  assert.equal((d['acceptance'] as { by: string }).by, 'same-device');
});

test('tsm/connect while authentication is in flight: the mailbox is handed over, requests are refused while owned, disconnect re-authenticates', async () => {
  const after0 = lastId();
  const reauth = post(`/v1/devices/${SLOW}/reauthenticate`);
  await until(SLOW, (d) => d['busy'] === true, 'busy');
  const connect = await post(`/v1/devices/${SLOW}/tsm/connect`, { tsm: 'tsm1' });
  assert.equal(connect.status, 200, connect.text);
  assert.deepEqual(connect.json()['tsm'], { connect: 'tsm1' });
  // The flow in flight was finished or aborted before the hand-over: its request is answered.
  const answer = await reauth;
  assert.ok(answer.status === 200 || answer.status === 409, answer.text);
  const owned = (await get(`/v1/devices/${SLOW}`)).json();
  assert.equal((owned['owner'] as { kind: string }).kind, 'tsm');
  assert.equal(owned['busy'], false, 'nothing runs on a mailbox the TSM owns');
  const refused = await post(`/v1/devices/${SLOW}/reauthenticate`);
  assert.equal(refused.status, 409);
  assert.equal(refused.json().error?.code, 'DEVICE_OWNED');
  const again = await post(`/v1/devices/${SLOW}/tsm/connect`, { tsm: 'tsm2' });
  assert.equal(again.status, 409, 'another TSM cannot take an owned function');
  await stream.waitFor((e) => e.id > after0 && e.type === 'owner' && e.bdf === SLOW, 5_000, 'owner event');
  // Back to us: re-authenticated, re-accepted through the same-device check.
  const after1 = lastId();
  assert.equal((await post(`/v1/devices/${SLOW}/tsm/disconnect`)).status, 200);
  const same = await stream.waitFor(
    (e) => e.id > after1 && e.type === 'same-device' && e.bdf === SLOW,
    20_000,
    'same-device after disconnect',
  );
  assert.ok(same.type === 'same-device' && same.same);
  const d = await until(SLOW, (x) => (x['acceptance'] as { state: string }).state === 'accepted', 'accepted');
  assert.equal((d['owner'] as { kind: string }).kind, 'cma');
});
