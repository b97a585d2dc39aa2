/**
 * The API over the real CMA service (createCma over the CMA tests' fixture platform: emulated
 * devices behind simulated DOE mailboxes), on a real Unix socket: device state, certificates,
 * signatures, evidence, decisions, TSM hand-off, the signature log's proofs and the Redfish view.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../../src/daemon/server.js';
import { listenUnix } from '../../src/daemon/listen.js';
import { createPublicKey } from 'node:crypto';
import { verifyInclusion } from '../../src/log/merkle.js';
import { sthFromJson, verifyTreeHead } from '../../src/log/sth.js';
import { fromHex } from '../../src/wire/bytes.js';
import { rig } from '../cma/helpers.js';
import { deviceJson } from '../../src/daemon/views.js';
import { JSON_HEADERS, raw } from './http.js';

const GOOD = '0000:01:00.0';
const FAKE = '0000:02:00.0';
const NO_DOE = '0000:04:00.0';

const r = rig();
await r.platform.add(GOOD, 'genuine', 0x1001);
await r.platform.add(FAKE, 'counterfeit', 0x1002);
await r.platform.add(NO_DOE, 'no-doe', 0x1004);
const cma = await r.start();
await cma.idle();
const app = await buildServer({ service: cma });
const socketPath = join(mkdtempSync(join(tmpdir(), 'spdmkitd-api-')), 'spdmkitd.sock');
await listenUnix(app, { path: socketPath, mode: 0o600 });
after(async () => {
  await app.close();
  await r.cleanup();
});
const sock = { socketPath };
const get = (path: string) => raw(sock, 'GET', path);
const post = (path: string, body?: unknown) =>
  raw(sock, 'POST', path, body === undefined ? {} : { headers: JSON_HEADERS, body: JSON.stringify(body) });

test('devices: the kernel-like fields of every function', async () => {
  const list = await get('/v1/devices');
  assert.equal(list.status, 200);
  const devices = list.json()['devices'] as Record<string, unknown>[];
  assert.deepEqual(
    devices.map((d) => d['bdf']),
    [GOOD, FAKE, NO_DOE],
  );
  const good = (await get(`/v1/devices/${GOOD}`)).json();
  assert.equal(good['vendor'], '0x1dea');
  assert.equal(good['device'], '0x1001');
  assert.deepEqual((good['authenticated'] as Record<string, unknown>)['state'], 'yes');
  assert.equal((good['verdict'] as Record<string, unknown>)['status'], 'trusted');
  assert.deepEqual(good['tsm'], { connect: '' });
  assert.deepEqual(good['owner'], { kind: 'cma' });
  assert.deepEqual(good['certificates'], [
    {
      slot: 0,
      leafSubject: cma.device(GOOD).slots[0]!.leafSubject,
      href: `/v1/devices/${GOOD}/certificates/0`,
    },
  ]);
  assert.deepEqual(good['signatures'], cma.device(GOOD).signatureEntries);
  // Upper-case hex is the same function.
  assert.equal((await get(`/v1/devices/${GOOD.toUpperCase()}`)).json()['bdf'], GOOD);

  const fake = (await get(`/v1/devices/${FAKE}`)).json();
  assert.equal((fake['verdict'] as Record<string, unknown>)['status'], 'untrusted');
  const noDoe = (await get(`/v1/devices/${NO_DOE}`)).json();
  assert.equal(noDoe['doe'], 'no-doe');
  assert.equal((noDoe['authenticated'] as Record<string, unknown>)['state'], 'unknown');

  const missing = await get('/v1/devices/0000:09:00.0');
  assert.equal(missing.status, 404);
  assert.equal(missing.json().error?.code, 'DEVICE_NOT_FOUND');
});

test('certificates/slotN as DER, PEM and JSON; evidence, signatures and the verdict', async () => {
  const slot = cma.device(GOOD).slots[0]!;
  const der = await get(`/v1/devices/${GOOD}/certificates/0`);
  assert.equal(der.status, 200);
  assert.equal(der.headers['content-type'], 'application/pkix-cert');
  assert.deepEqual(der.bytes, Buffer.concat(slot.certificates.map((c) => Buffer.from(c, 'base64'))));
  const pem = await get(`/v1/devices/${GOOD}/certificates/0?format=pem`);
  assert.equal(pem.text.match(/-----BEGIN CERTIFICATE-----/g)?.length, slot.certificates.length);
  assert.deepEqual((await get(`/v1/devices/${GOOD}/certificates/0?format=json`)).json(), {
    slot: slot.slot,
    chain: slot.chain,
    certificates: slot.certificates,
    leafSubject: slot.leafSubject,
  });
  const none = await get(`/v1/devices/${GOOD}/certificates/3`);
  assert.equal(none.status, 404);
  assert.equal(none.json().error?.code, 'SLOT_NOT_FOUND');

  const evidence = (await get(`/v1/devices/${GOOD}/evidence`)).json();
  assert.deepEqual(evidence, JSON.parse(JSON.stringify(cma.evidence(GOOD))));
  const noEvidence = await get(`/v1/devices/${NO_DOE}/evidence`);
  assert.equal(noEvidence.status, 404);
  assert.equal(noEvidence.json().error?.code, 'NO_EVIDENCE');

  const sigs = (await get(`/v1/devices/${GOOD}/signatures`)).json()['signatures'] as Record<string, unknown>[];
  assert.deepEqual(
    sigs.map((s) => s['type']),
    (await cma.signatures(GOOD)).map((s) => s.type),
  );
  const first = sigs[0]!;
  const one = await get(`/v1/devices/${GOOD}/signatures/${String(first['logIndex'])}`);
  assert.deepEqual(one.json(), first);
  for (const k of ['transcript', 'signature', 'hashAlgorithm', 'combinedSpdmPrefix', 'requesterNonce', 'sigOffset'])
    assert.ok(k in first, k);
  const notMine = await get(`/v1/devices/${FAKE}/signatures/${String(first['logIndex'])}`);
  assert.equal(notMine.status, 404);

  const verdict = (await get(`/v1/devices/${FAKE}/verdict`)).json();
  assert.equal((verdict['verdict'] as Record<string, unknown>)['status'], 'untrusted');
  assert.ok(((verdict['verdict'] as Record<string, unknown>)['reasons'] as unknown[]).length > 0);
  assert.equal((await get(`/v1/devices/${NO_DOE}/verdict`)).json().error?.code, 'NO_VERDICT');
});

test('decisions: accept, override, reject, re-authenticate, reset, TSM hand-off and the conflicts', async () => {
  const accepted = await post(`/v1/devices/${GOOD}/accept`);
  assert.equal(accepted.status, 200, accepted.text);
  assert.deepEqual((accepted.json()['acceptance'] as Record<string, unknown>)['by'], 'verdict');

  const refused = await post(`/v1/devices/${FAKE}/accept`, {});
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.json().error?.code, 'DEVICE_STATE');
  const forced = await post(`/v1/devices/${FAKE}/accept`, { override: { operator: 'ann', reason: 'lab sample' } });
  assert.equal(forced.status, 200, forced.text);
  assert.deepEqual(forced.json()['acceptance'], cma.device(FAKE).acceptance);
  assert.equal((forced.json()['acceptance'] as Record<string, unknown>)['operator'], 'ann');
  const rejected = await post(`/v1/devices/${FAKE}/reject`, { operator: 'bob', reason: 'no' });
  assert.equal((rejected.json()['acceptance'] as Record<string, unknown>)['state'], 'rejected');
  const history = (await get(`/v1/devices/${FAKE}/decisions`)).json()['decisions'] as Record<string, unknown>[];
  assert.deepEqual(
    history.map((d) => [d['action'], d['operator']]),
    [
      ['override', 'ann'],
      ['reject', 'bob'],
    ],
  );

  const generation = cma.device(GOOD).generation;
  const again = await post(`/v1/devices/${GOOD}/reauthenticate`, { slot: 0 });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json()['generation'], generation + 1);
  const reset = await post(`/v1/devices/${GOOD}/reset-notify`, { kind: 'flr' });
  assert.equal(reset.status, 200, reset.text);
  await cma.idle();
  assert.equal(cma.device(GOOD).acceptance.state, 'accepted', 'the same device is re-accepted after the reset');

  const connected = await post(`/v1/devices/${GOOD}/tsm/connect`, { tsm: 'tsm0' });
  assert.equal(connected.status, 200, connected.text);
  assert.deepEqual(connected.json()['tsm'], { connect: 'tsm0' });
  const owned = await post(`/v1/devices/${GOOD}/reauthenticate`);
  assert.equal(owned.status, 409);
  assert.equal(owned.json().error?.code, 'DEVICE_OWNED');
  const twice = await post(`/v1/devices/${GOOD}/tsm/connect`, { tsm: 'tsm1' });
  assert.equal(twice.status, 409);
  const redfishOwned = (await get(`/redfish/v1/ComponentIntegrity/${GOOD}`)).json();
  assert.equal(redfishOwned['ComponentIntegrityEnabled'], false);
  const back = await post(`/v1/devices/${GOOD}/tsm/disconnect`);
  assert.equal(back.status, 200, back.text);
  assert.deepEqual(back.json()['owner'], { kind: 'cma' });
  await cma.idle();
  const notConnected = await post(`/v1/devices/${GOOD}/tsm/disconnect`, {});
  assert.equal(notConnected.status, 409);
});

test('the signature log: tree head, an inclusion proof that verifies, a consistency proof', async () => {
  const head = (await get('/v1/log/tree-head')).json();
  const treeSize = head['treeSize'] as number;
  const pem = await get('/v1/log/public-key');
  assert.equal(pem.headers['content-type'], 'application/x-pem-file');
  const sth = sthFromJson(head);
  assert.ok(sth.logId, 'the tree head names its log');
  assert.equal(
    verifyTreeHead(createPublicKey(pem.text), sth.logId, sth),
    true,
    'the tree head verifies with the served key',
  );
  assert.ok(treeSize >= 2);
  const index = cma.device(GOOD).signatureEntries[0]!;
  const inc = (await get(`/v1/log/inclusion/${index}?treeSize=${treeSize}`)).json();
  assert.equal(inc['index'], index);
  const ok = verifyInclusion(
    index,
    treeSize,
    fromHex(inc['leafHash'] as string),
    (inc['proof'] as string[]).map((h) => fromHex(h)),
    fromHex(head['rootHash'] as string),
  );
  assert.equal(ok, true);
  const beyond = await get(`/v1/log/inclusion/${treeSize + 5}`);
  assert.ok(beyond.status === 404 || beyond.status === 400, beyond.text);
  const cons = (await get(`/v1/log/consistency?from=1&to=${treeSize}`)).json();
  assert.ok(Array.isArray(cons['proof']));
});

test('Redfish ComponentIntegrity: collection, member, SPDMGetSignedMeasurements', async () => {
  const coll = (await get('/redfish/v1/ComponentIntegrity')).json();
  assert.equal(coll['Members@odata.count'], 3);
  assert.deepEqual(
    coll['Members'],
    [GOOD, FAKE, NO_DOE].map((b) => ({ '@odata.id': `/redfish/v1/ComponentIntegrity/${b}` })),
  );
  const good = (await get(`/redfish/v1/ComponentIntegrity/${GOOD}`)).json();
  assert.equal(good['ComponentIntegrityType'], 'SPDM');
  assert.match(good['ComponentIntegrityTypeVersion'] as string, /^1\.[23]\.0$/);
  assert.equal(good['TargetComponentURI'], `/v1/devices/${GOOD}`);
  const spdm = good['SPDM'] as Record<string, Record<string, Record<string, unknown>>>;
  assert.equal(spdm['IdentityAuthentication']!['ResponderAuthentication']!['VerificationStatus'], 'Success');
  const set = spdm['MeasurementSet'] as unknown as {
    Measurements: Record<string, unknown>[];
    MeasurementSpecification: string;
  };
  assert.equal(set.MeasurementSpecification, 'DMTF');
  assert.ok(set.Measurements.length > 0);
  assert.ok(
    set.Measurements.every((m) => typeof m['Measurement'] === 'string' && typeof m['MeasurementIndex'] === 'number'),
  );
  const fake = (await get(`/redfish/v1/ComponentIntegrity/${FAKE}`)).json();
  assert.equal(
    (fake['SPDM'] as typeof spdm)['IdentityAuthentication']!['ResponderAuthentication']!['VerificationStatus'],
    'Failed',
  );
  const unknown = (await get(`/redfish/v1/ComponentIntegrity/${NO_DOE}`)).json();
  assert.equal(
    (unknown['SPDM'] as typeof spdm)['IdentityAuthentication']!['ResponderAuthentication']!['VerificationStatus'],
    undefined,
  );

  const action = `/redfish/v1/ComponentIntegrity/${GOOD}/Actions/ComponentIntegrity.SPDMGetSignedMeasurements`;
  const nonce = 'ab'.repeat(32);
  const signed = await post(action, { Nonce: nonce, SlotId: 0, MeasurementIndices: [255] });
  assert.equal(signed.status, 200, signed.text);
  const body = signed.json();
  const bytes = Buffer.from(body['SignedMeasurements'] as string, 'base64');
  assert.ok(bytes.includes(Buffer.from(nonce, 'hex')), 'our nonce is in the signed GET_MEASUREMENTS');
  assert.match(body['Certificate'] as string, /-----BEGIN CERTIFICATE-----/);
  for (const k of ['Version', 'HashingAlgorithm', 'SigningAlgorithm']) assert.equal(typeof body[k], 'string', k);
  const generated = await post(action);
  assert.equal(generated.status, 200, generated.text);
  const noDevice = await post(
    `/redfish/v1/ComponentIntegrity/${NO_DOE}/Actions/ComponentIntegrity.SPDMGetSignedMeasurements`,
    {},
  );
  assert.ok(noDevice.status === 409 || noDevice.status === 500, noDevice.text);
  assert.ok(noDevice.json().error?.code);
});

test("the device listing is the devices' JSON in one array, its Content-Length its exact size", async () => {
  const r = await get('/v1/devices');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  const expected = JSON.stringify({ devices: cma.devices().map((d) => deviceJson(d)) });
  assert.equal(r.text, expected);
  assert.equal(r.headers['content-length'], String(r.bytes.length));
  assert.equal(r.headers['transfer-encoding'], undefined);
});

test('device reads answered from cached JSON follow every change of the device', async () => {
  // What the device and the listing show, built afresh from the service (no cache).
  const fresh = (bdf: string) => JSON.parse(JSON.stringify(deviceJson(cma.device(bdf)))) as unknown;
  const listed = async (bdf: string) =>
    ((await get('/v1/devices')).json()['devices'] as Record<string, unknown>[]).find((d) => d['bdf'] === bdf);
  const check = async (bdf: string) => {
    const one = await get(`/v1/devices/${bdf}`);
    assert.equal(one.status, 200);
    assert.match(String(one.headers['content-type']), /^application\/json/);
    assert.deepEqual(one.json(), fresh(bdf));
    assert.deepEqual(await listed(bdf), fresh(bdf));
  };
  for (const bdf of [GOOD, FAKE, NO_DOE]) await check(bdf); // cached from here on
  const before = (await get(`/v1/devices/${FAKE}`)).json();

  // A decision replaces the acceptance; re-authenticating adds signatures and a generation.
  assert.equal((await post(`/v1/devices/${FAKE}/reject`, { operator: 'ops', reason: 'test' })).status, 200);
  await check(FAKE);
  assert.equal(
    ((await get(`/v1/devices/${FAKE}`)).json()['acceptance'] as Record<string, unknown>)['state'],
    'rejected',
  );
  assert.equal((await post(`/v1/devices/${FAKE}/reauthenticate`)).status, 200);
  await cma.idle();
  await check(FAKE);
  const after = (await get(`/v1/devices/${FAKE}`)).json();
  assert.ok((after['generation'] as number) > (before['generation'] as number));
  assert.ok((after['signatures'] as number[]).length > (before['signatures'] as number[]).length);
  for (const bdf of [GOOD, NO_DOE]) await check(bdf);
});
