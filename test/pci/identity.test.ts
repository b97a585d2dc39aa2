import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryConfigSpace, encodeExtendedCapabilityHeader } from '../../src/pci/config-space.js';
import { readPciIdentity, PCI_EXT_CAP_ID_DSN } from '../../src/pci/identity.js';

test('PCI identity from config space: IDs, class, revision, subsystem, device serial number', async () => {
  const cs = new MemoryConfigSpace();
  cs.poke32(0x00, 0x0b258086);
  cs.poke32(0x08, 0x12000001);
  cs.poke32(0x0c, 0x00000000);
  cs.poke32(0x2c, 0x00008086);
  cs.poke32(0x100, encodeExtendedCapabilityHeader(PCI_EXT_CAP_ID_DSN, 1, 0));
  cs.poke32(0x104, 0x89abcdef);
  cs.poke32(0x108, 0x01234567);
  assert.deepEqual(await readPciIdentity(cs, '0000:03:00.0'), {
    bdf: '0000:03:00.0',
    vendorId: 0x8086,
    deviceId: 0x0b25,
    classCode: 0x120000,
    revisionId: 0x01,
    subsystemVendorId: 0x8086,
    subsystemId: 0x0000,
    serialNumber: '0123456789abcdef',
  });
});

test('PCI identity: type 1 headers have no subsystem IDs; a device without DSN has no serial', async () => {
  const cs = new MemoryConfigSpace();
  cs.poke32(0x00, 0x12341af4);
  cs.poke32(0x08, 0x06040002);
  cs.poke32(0x0c, 0x00010000);
  const id = await readPciIdentity(cs);
  assert.equal(id.subsystemVendorId, undefined);
  assert.equal(id.serialNumber, undefined);
  assert.equal(id.classCode, 0x060400);
});

test('a simulated device carries class, revision, subsystem IDs and a DSN that readPciIdentity reads back', async () => {
  const { SimulatedDoeDevice } = await import('../../src/pci/doe-device.js');
  const { findExtendedCapability, PCI_EXT_CAP_ID_DOE } = await import('../../src/pci/config-space.js');
  const handler = { handle: async () => new Uint8Array(0) };
  const dev = new SimulatedDoeDevice({
    handler,
    vendorId: 0x1dea,
    deviceId: 0x0a01,
    classCode: 0x010802,
    revisionId: 0x03,
    subsystemVendorId: 0x1dea,
    subsystemId: 0x0042,
    serialNumber: 0x0123456789abcdefn,
  });
  assert.deepEqual(await readPciIdentity(dev), {
    vendorId: 0x1dea,
    deviceId: 0x0a01,
    classCode: 0x010802,
    revisionId: 0x03,
    subsystemVendorId: 0x1dea,
    subsystemId: 0x0042,
    serialNumber: '0123456789abcdef',
  });
  assert.equal(await findExtendedCapability(dev, PCI_EXT_CAP_ID_DOE), 0x150);

  // Without DOE: the DSN is still found, the DOE capability is not, and the old DOE registers are plain config space.
  const bare = new SimulatedDoeDevice({ handler, doe: false, serialNumber: 7n });
  assert.equal(await findExtendedCapability(bare, PCI_EXT_CAP_ID_DOE), undefined);
  assert.equal((await readPciIdentity(bare)).serialNumber, '0000000000000007');
  assert.equal((await readPciIdentity(bare)).classCode, 0x120000);
  await bare.write32(0x150 + 0x08, 0x80000000);
  assert.equal(await bare.read32(0x150 + 0x0c), 0);
  const noDsn = new SimulatedDoeDevice({ handler, doe: false, capabilityBeforeDoe: false });
  assert.equal(await findExtendedCapability(noDsn, PCI_EXT_CAP_ID_DOE), undefined);
});
