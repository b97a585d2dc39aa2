/**
 * The sysfs backend on a fake /sys/bus/pci/devices tree in a temp directory. The backend only does
 * file I/O (4-byte pread/pwrite), so regular files exercise exactly the code that runs on a host.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, truncate, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpdmError } from '../../src/wire/errors.js';
import {
  encodeExtendedCapabilityHeader,
  findExtendedCapability,
  PCI_EXT_CAP_ID_DOE,
} from '../../src/pci/config-space.js';
import { DoeMailbox } from '../../src/pci/doe-mailbox.js';
import { listPciDevices, parseBdf, scanDoeDevices, SysfsConfigSpace } from '../../src/pci/sysfs.js';

let root: string;

function configBytes(caps: [offset: number, id: number, next: number][], size = 4096): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(0x10ff1af4, 0); // vendor 1af4, device 10ff
  for (const [offset, id, next] of caps) b.writeUInt32LE(encodeExtendedCapabilityHeader(id, 1, next), offset);
  return b;
}

async function addDevice(
  bdf: string,
  attrs: { vendor?: string; device?: string; class?: string; config?: Buffer | 'dir'; features?: string[] },
): Promise<void> {
  const dir = join(root, bdf);
  await mkdir(dir, { recursive: true });
  if (attrs.vendor) await writeFile(join(dir, 'vendor'), `${attrs.vendor}\n`);
  if (attrs.device) await writeFile(join(dir, 'device'), `${attrs.device}\n`);
  if (attrs.class) await writeFile(join(dir, 'class'), `${attrs.class}\n`);
  if (attrs.config === 'dir') await mkdir(join(dir, 'config'));
  else if (attrs.config) await writeFile(join(dir, 'config'), attrs.config);
  if (attrs.features) {
    await mkdir(join(dir, 'doe_features'));
    for (const f of attrs.features) await writeFile(join(dir, 'doe_features', f), `${f}\n`);
  }
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'spdmkit-sysfs-'));
  // A CMA device: AER at 0x100, DOE at 0x150, and the doe_features directory recent kernels create.
  await addDevice('0000:01:00.0', {
    vendor: '0x1af4',
    device: '0x10ff',
    class: '0x120000',
    config: configBytes([
      [0x100, 0x0001, 0x150],
      [0x150, PCI_EXT_CAP_ID_DOE, 0],
    ]),
    features: ['doe_discovery', '0001:01', '0001:02'],
  });
  // A PCIe device without DOE.
  await addDevice('0000:00:1f.3', {
    vendor: '0x8086',
    device: '0xa348',
    class: '0x040300',
    config: configBytes([[0x100, 0x0001, 0]]),
  });
  // A conventional PCI device (256-byte config space).
  await addDevice('0000:00:02.0', { vendor: '0x8086', device: '0x3e92', config: configBytes([], 256) });
  // Config space we cannot read the extended region of (what an unprivileged reader gets: 64 bytes).
  await addDevice('0000:02:00.0', { vendor: '0x15b3', device: '0x101d', config: configBytes([], 64) });
  // A broken one: config is not a file.
  await addDevice('0000:03:00.0', { vendor: '0x10de', device: '0x2330', config: 'dir' });
  // Not PCI devices / not complete: ignored.
  await mkdir(join(root, 'not-a-device'));
  await addDevice('0000:04:00.0', { vendor: '0x1234' });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('BDF validation', () => {
  assert.deepEqual(parseBdf('0000:3b:1f.7'), { domain: 0, bus: 0x3b, device: 0x1f, function: 7 });
  assert.deepEqual(parseBdf('10000:00:02.0'), { domain: 0x10000, bus: 0, device: 2, function: 0 });
  for (const bad of [
    '00:1f.3',
    '0000:3B:00.0',
    '0000:00:20.0',
    '0000:00:00.8',
    '0000:00:00.0/../x',
    '../0000:00:00.0',
  ]) {
    assert.throws(
      () => parseBdf(bad),
      (e: unknown) => e instanceof SpdmError && e.code === 'TRANSPORT_ERROR',
      bad,
    );
  }
});

test('read32/write32 are 4-byte little-endian accesses at the offset, on the file', async () => {
  const cs = await SysfsConfigSpace.open('0000:01:00.0', { root });
  try {
    assert.equal(cs.size, 4096);
    assert.equal(await cs.read32(0), 0x10ff1af4);
    assert.equal(await findExtendedCapability(cs, PCI_EXT_CAP_ID_DOE), 0x150);
    await cs.write32(0x160, 0x80000001);
    const raw = await readFile(join(root, '0000:01:00.0', 'config'));
    assert.deepEqual([...raw.subarray(0x15c, 0x168)], [0, 0, 0, 0, 0x01, 0, 0, 0x80, 0, 0, 0, 0]);
    assert.equal(await cs.read32(0x160), 0x80000001);
    await assert.rejects(cs.read32(0x161), (e: unknown) => e instanceof SpdmError && e.code === 'TRANSPORT_ERROR');
    await assert.rejects(cs.read32(4096), (e: unknown) => e instanceof SpdmError && e.code === 'TRANSPORT_ERROR');
    await cs.write32(0x160, 0);
  } finally {
    await cs.close();
  }
  await assert.rejects(cs.read32(0), (e: unknown) => e instanceof TypeError && /is closed/.test(e.message));
});

test('a DOE mailbox can be opened over the file backend (the abort is a real pwrite to Control)', async () => {
  const cs = await SysfsConfigSpace.open('0000:01:00.0', { root });
  try {
    const mb = await DoeMailbox.open(cs, 0x150, { timeoutMs: 20, pollIntervalMs: 1 });
    assert.equal(mb.capabilityVersion, 1);
    assert.equal(await cs.read32(0x158), 1, 'Abort written to DOE Control');
    await cs.write32(0x158, 0);
  } finally {
    await cs.close();
  }
});

test('errors name the path: missing device, read-only handle, short read', async () => {
  await assert.rejects(SysfsConfigSpace.open('0000:09:00.0', { root }), (e: unknown) => {
    assert.ok(e instanceof SpdmError && e.code === 'TRANSPORT_ERROR');
    assert.equal(e.details['errno'], 'ENOENT');
    assert.equal(e.details['path'], join(root, '0000:09:00.0', 'config'));
    assert.ok(e.message.includes(join(root, '0000:09:00.0', 'config')));
    return true;
  });
  const ro = await SysfsConfigSpace.open('0000:00:1f.3', { root, readOnly: true });
  try {
    await assert.rejects(ro.write32(0x100, 0), (e: unknown) => e instanceof SpdmError && /read-only/.test(e.message));
  } finally {
    await ro.close();
  }
  // The kernel cuts unprivileged reads short after 64 bytes while the file still reports 4096.
  const path = join(root, '0000:00:1f.3', 'config');
  const saved = await readFile(path);
  const cs = await SysfsConfigSpace.open('0000:00:1f.3', { root, readOnly: true });
  try {
    await truncate(path, 64);
    assert.equal(cs.size, 4096);
    assert.equal(await cs.read32(0x3c), 0);
    await assert.rejects(
      cs.read32(0x100),
      (e: unknown) =>
        e instanceof SpdmError &&
        e.code === 'TRANSPORT_ERROR' &&
        e.details['reason'] === 'short-read' &&
        e.details['path'] === path,
    );
  } finally {
    await cs.close();
    await writeFile(path, saved);
  }
});

test('listPciDevices reads the IDs and class from the attribute files', async () => {
  const devices = await listPciDevices(root);
  assert.deepEqual(
    devices.map((d) => [d.bdf, d.vendorId, d.deviceId, d.classCode]),
    [
      ['0000:00:02.0', 0x8086, 0x3e92, undefined],
      ['0000:00:1f.3', 0x8086, 0xa348, 0x040300],
      ['0000:01:00.0', 0x1af4, 0x10ff, 0x120000],
      ['0000:02:00.0', 0x15b3, 0x101d, undefined],
      ['0000:03:00.0', 0x10de, 0x2330, undefined],
    ],
  );
  assert.deepEqual(await listPciDevices(join(root, 'nonexistent')), []);
});

test('scanDoeDevices: which devices have DOE, and which could not be checked (and why)', async () => {
  const found = await scanDoeDevices({ root });
  assert.deepEqual(
    found.map((f) => [
      f.device.bdf,
      f.doeOffsets,
      f.kernelFeatures?.map((p) => `${p.vendorId}:${p.type}`),
      f.problem?.code,
    ]),
    [
      ['0000:01:00.0', [0x150], ['1:0', '1:1', '1:2'], undefined],
      ['0000:02:00.0', undefined, undefined, 'SHORT_CONFIG'],
      ['0000:03:00.0', undefined, undefined, 'TRANSPORT_ERROR'],
    ],
  );
  const all = await scanDoeDevices({ root, all: true });
  assert.deepEqual(
    all.map((f) => [f.device.bdf, f.doeOffsets]),
    [
      ['0000:00:02.0', []],
      ['0000:00:1f.3', []],
      ['0000:01:00.0', [0x150]],
      ['0000:02:00.0', undefined],
      ['0000:03:00.0', undefined],
    ],
  );
});
