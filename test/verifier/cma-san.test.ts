/** The PCIe CMA SAN string, exactly as Linux pci_cma_construct_san builds it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmaSanString } from '../../src/verifier/cma-san.js';

test('lowercase fixed-width hex; subsystem IDs for Type 0 headers; serial number without a key', () => {
  assert.equal(
    cmaSanString({
      vendorId: 0x1af4,
      deviceId: 0x1234,
      classCode: 0x010802,
      revisionId: 0x01,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x0001,
    }),
    'Vendor=1af4:Device=1234:CC=010802:REV=01:SSVID=1af4:SSID=0001',
  );
  // Type 1 (bridge) header: no subsystem IDs.
  assert.equal(
    cmaSanString({ vendorId: 0x8086, deviceId: 0xabcd, classCode: 0x060400, revisionId: 0xa0 }),
    'Vendor=8086:Device=abcd:CC=060400:REV=a0',
  );
  // Device Serial Number capability present.
  assert.equal(
    cmaSanString({
      vendorId: 0x1234,
      deviceId: 0x1234,
      classCode: 0x123456,
      revisionId: 0x12,
      subsystemVendorId: 0x1234,
      subsystemId: 0x1234,
      serialNumber: '1234567890123456',
    }),
    'Vendor=1234:Device=1234:CC=123456:REV=12:SSVID=1234:SSID=1234:1234567890123456',
  );
  // The longest string Linux can build is 78 characters.
  assert.equal(
    cmaSanString({
      vendorId: 0xffff,
      deviceId: 0xffff,
      classCode: 0xffffff,
      revisionId: 0xff,
      subsystemVendorId: 0xffff,
      subsystemId: 0xffff,
      serialNumber: 'FFFFFFFFFFFFFFFF',
    }).length,
    78,
  );
  // Small values are zero-padded; a zero serial number means no DSN capability.
  assert.equal(
    cmaSanString({ vendorId: 0x1, deviceId: 0x2, classCode: 0x3, revisionId: 0x4, serialNumber: '0000000000000000' }),
    'Vendor=0001:Device=0002:CC=000003:REV=04',
  );
});
