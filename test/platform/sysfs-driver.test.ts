/**
 * Holding back driver binding on real Linux, against a fake /sys/bus/pci tree of real files in a
 * temp directory: the function's driver_override, its driver link and the driver's unbind file,
 * and the bus's drivers_probe — the same writes as on a host.
 */
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSpdmError } from '../../src/wire/errors.js';
import { HOLD_OVERRIDE, openSysfsPlatform, type SysfsPlatform } from '../../src/platform/sysfs.js';

const BDF = '0000:03:00.0';
let bus: string;
let devices: string;
let platform: SysfsPlatform;

beforeEach(async () => {
  bus = await mkdtemp(join(tmpdir(), 'spdmkit-sysfs-bus-'));
  devices = join(bus, 'devices');
  const dev = join(devices, BDF);
  await mkdir(dev, { recursive: true });
  await mkdir(join(dev, 'doe_features'));
  await writeFile(join(dev, 'doe_features', '0001:01'), '0001:01\n');
  await writeFile(join(dev, 'driver_override'), '(null)\n');
  await mkdir(join(bus, 'drivers', 'nvme'), { recursive: true });
  await writeFile(join(bus, 'drivers', 'nvme', 'unbind'), '');
  await symlink(join('..', '..', 'drivers', 'nvme'), join(dev, 'driver'));
  await writeFile(join(bus, 'drivers_probe'), '');
  platform = await openSysfsPlatform({ root: devices, pollIntervalMs: 0 });
});

afterEach(async () => {
  await platform.close();
  await rm(bus, { recursive: true, force: true });
});

const read = (...p: string[]) => readFile(join(...p), 'utf8');

test('hold: driver_override names no driver, then the bound driver is unbound; release clears it and probes', async () => {
  assert.deepEqual(
    (await platform.functions()).map((f) => f.bdf),
    [BDF],
  );
  assert.deepEqual(await platform.holdDriver(BDF, true), { held: true, unbound: 'nvme' });
  assert.equal(await read(devices, BDF, 'driver_override'), `${HOLD_OVERRIDE}\n`);
  assert.equal(await read(bus, 'drivers', 'nvme', 'unbind'), BDF);
  // The kernel removes the driver link on unbind; holding again does not unbind anything else.
  await unlink(join(devices, BDF, 'driver'));
  await writeFile(join(bus, 'drivers', 'nvme', 'unbind'), '');
  assert.deepEqual(await platform.holdDriver(BDF, true), { held: true });
  assert.equal(await read(bus, 'drivers', 'nvme', 'unbind'), '');

  assert.deepEqual(await platform.holdDriver(BDF, false), { held: false });
  assert.equal(await read(devices, BDF, 'driver_override'), '\n', 'an empty write clears the override');
  assert.equal(await read(bus, 'drivers_probe'), BDF, 'the bus is asked to bind the usual driver');
});

test("release leaves an administrator's own driver_override alone", async () => {
  await writeFile(join(devices, BDF, 'driver_override'), 'vfio-pci\n');
  assert.deepEqual(await platform.holdDriver(BDF, false), { held: false });
  assert.equal(await read(devices, BDF, 'driver_override'), 'vfio-pci\n');
  assert.equal(await read(bus, 'drivers_probe'), '', 'no probe: the override is not ours');
});

test('a function without driver_override fails with TRANSPORT_ERROR naming the file; a bad BDF is a TypeError', async () => {
  await unlink(join(devices, BDF, 'driver_override'));
  await assert.rejects(
    platform.holdDriver(BDF, true),
    (e: unknown) => isSpdmError(e) && e.code === 'TRANSPORT_ERROR' && /driver_override/.test(e.message),
  );
  assert.equal(await read(bus, 'drivers', 'nvme', 'unbind'), '', 'not unbound without the override in place');
  await assert.rejects(platform.holdDriver('../etc', true), TypeError);
});

test('release without drivers_probe clears the override and leaves binding to the next probe', async () => {
  await platform.holdDriver(BDF, true);
  await rm(join(bus, 'drivers_probe'));
  assert.deepEqual(await platform.holdDriver(BDF, false), { held: false });
  assert.equal(await read(devices, BDF, 'driver_override'), '\n');
});
