/**
 * The real Linux platform on a fake /sys/bus/pci/devices tree in a temp directory: real files, the
 * same file I/O as on a host. It lists the functions that can do CMA and notices hot-plug.
 */
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSpdmError } from '../../src/wire/errors.js';
import { encodeExtendedCapabilityHeader, PCI_EXT_CAP_ID_DOE } from '../../src/pci/config-space.js';
import { readPciIdentity } from '../../src/pci/identity.js';
import { openSysfsPlatform, sysfsCmaCandidate, type SysfsPlatform } from '../../src/platform/sysfs.js';
import type { PlatformEvent } from '../../src/platform/platform.js';

let root: string;
let staging: string;

/** 4 KiB of config space: IDs, and an extended capability list (AER then DOE) when `doe`. */
function config(vendor: number, device: number, doe: boolean): Buffer {
  const b = Buffer.alloc(4096);
  b.writeUInt32LE((vendor | (device << 16)) >>> 0, 0);
  b.writeUInt32LE(0x02000001, 8);
  if (doe) {
    b.writeUInt32LE(encodeExtendedCapabilityHeader(0x0001, 2, 0x150), 0x100);
    b.writeUInt32LE(encodeExtendedCapabilityHeader(PCI_EXT_CAP_ID_DOE, 1, 0), 0x150);
  }
  return b;
}

interface Fake {
  readonly doe?: boolean;
  readonly features?: readonly string[];
  /** Make `config` a directory: unreadable, as for an unprivileged reader that gets a short file. */
  readonly unreadable?: boolean;
}

/** Builds a device directory in `dir`, complete before anyone sees it. */
async function device(dir: string, bdf: string, f: Fake): Promise<void> {
  const d = join(dir, bdf);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'vendor'), '0x1dea\n');
  await writeFile(join(d, 'device'), '0xa001\n');
  if (f.unreadable) await mkdir(join(d, 'config'));
  else await writeFile(join(d, 'config'), config(0x1dea, 0xa001, f.doe ?? false));
  if (f.features) {
    await mkdir(join(d, 'doe_features'));
    for (const n of f.features) await writeFile(join(d, 'doe_features', n), `${n}\n`);
  }
}

/** A device appears at once, as the kernel creates it: built aside, then renamed in. */
async function plug(bdf: string, f: Fake): Promise<void> {
  await device(staging, bdf, f);
  await rename(join(staging, bdf), join(root, bdf));
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeEach(async () => {
  const base = await mkdtemp(join(tmpdir(), 'spdmkit-sysfs-platform-'));
  root = join(base, 'devices');
  staging = join(base, 'staging');
  await mkdir(root);
  await mkdir(staging);
  await device(root, '0000:01:00.0', { doe: true, features: ['doe_discovery', '0001:01', '0001:02'] });
  await device(root, '0000:02:00.0', { doe: true, features: ['doe_discovery'] }); // DOE, not CMA
  await device(root, '0000:03:00.0', { doe: true }); // older kernel: DOE, protocols unknown
  await device(root, '0000:04:00.0', { doe: false }); // no DOE
  await device(root, '0000:05:00.0', { unreadable: true, features: ['0001:01'] }); // unprivileged, recent kernel
  await device(root, '0000:06:00.0', { unreadable: true }); // unprivileged, older kernel: cannot tell
  await mkdir(join(root, 'not-a-device'));
});

let platform: SysfsPlatform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
  await rm(join(root, '..'), { recursive: true, force: true });
});

test('lists the functions whose DOE announces CMA-SPDM (or has DOE, on kernels that do not say), in BDF order', async () => {
  platform = await openSysfsPlatform({ root, pollIntervalMs: 0 });
  assert.equal(platform.kind, 'sysfs');
  const fns = await platform.functions();
  assert.deepEqual(
    fns.map((f) => f.bdf),
    ['0000:01:00.0', '0000:03:00.0', '0000:05:00.0'],
  );
  assert.equal(platform.evidence('0000:01:00.0'), 'doe-features');
  assert.equal(platform.evidence('0000:03:00.0'), 'doe-capability');
  assert.equal(await sysfsCmaCandidate(root, '0000:04:00.0'), undefined);
  const cs = await fns[0]!.openConfigSpace();
  try {
    const id = await readPciIdentity(cs, fns[0]!.bdf);
    assert.equal(id.vendorId, 0x1dea);
    assert.equal(id.deviceId, 0xa001);
    assert.equal(id.classCode, 0x020000);
  } finally {
    await cs.close?.();
  }
  // A missing tree is an empty machine.
  const none = await openSysfsPlatform({ root: join(root, 'nope'), pollIntervalMs: 0 });
  assert.deepEqual(await none.functions(), []);
  await none.close();
});

test('polling notices hot-plug and hot-unplug; an opened function that is gone fails with TRANSPORT_ERROR', async () => {
  platform = await openSysfsPlatform({ root, pollIntervalMs: 10 });
  const seen: PlatformEvent[] = [];
  platform.subscribe((e) => seen.push(e));
  const gone = (await platform.functions()).find((f) => f.bdf === '0000:03:00.0');
  assert.ok(gone);
  await plug('0000:10:00.0', { doe: true, features: ['0001:01'] });
  await plug('0000:11:00.0', { doe: false }); // not CMA: no event
  await until('added', () => seen.length >= 1);
  await rm(join(root, '0000:03:00.0'), { recursive: true });
  await until('removed', () => seen.length >= 2);
  assert.deepEqual(seen, [
    { type: 'added', bdf: '0000:10:00.0' },
    { type: 'removed', bdf: '0000:03:00.0' },
  ]);
  await assert.rejects(gone.openConfigSpace(), (e) => isSpdmError(e) && e.code === 'TRANSPORT_ERROR');
  assert.deepEqual(
    (await platform.functions()).map((f) => f.bdf),
    ['0000:01:00.0', '0000:05:00.0', '0000:10:00.0'],
  );
});

test('a directory that appears before its attributes is looked at again until it settles', async () => {
  platform = await openSysfsPlatform({ root, pollIntervalMs: 10, settleMs: 5000 });
  const seen: PlatformEvent[] = [];
  platform.subscribe((e) => seen.push(e));
  await mkdir(join(root, '0000:20:00.0'));
  await platform.rescan();
  assert.deepEqual(seen, []);
  await writeFile(join(root, '0000:20:00.0', 'config'), config(0x1dea, 0xa001, true));
  await until('added', () => seen.length === 1);
  assert.deepEqual(seen, [{ type: 'added', bdf: '0000:20:00.0' }]);
});

test('fs.watch triggers a rescan without polling; reset notices and close', async () => {
  platform = await openSysfsPlatform({ root, pollIntervalMs: 0, watch: true, watchDebounceMs: 5 });
  const seen: PlatformEvent[] = [];
  const off = platform.subscribe((e) => seen.push(e));
  await plug('0000:30:00.0', { doe: true, features: ['0001:01'] });
  await until('added by watch', () => seen.length === 1);
  platform.notifyReset('0000:30:00.0');
  assert.deepEqual(seen.at(-1), { type: 'reset', bdf: '0000:30:00.0', kind: 'notified' });
  assert.throws(() => platform!.notifyReset('0000:04:00.0'), TypeError);
  off();
  await platform.close();
  await assert.rejects(platform.functions(), TypeError);
  await assert.rejects(openSysfsPlatform({ root, pollIntervalMs: -1 }), TypeError);
});

test('on this machine: listing the real /sys/bus/pci/devices never throws, whatever the privileges', async () => {
  const real = await openSysfsPlatform({ pollIntervalMs: 0 });
  try {
    for (const f of await real.functions()) assert.match(f.bdf, /^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
  } finally {
    await real.close();
  }
});
