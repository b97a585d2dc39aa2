/** SPDM over DOE end to end: Requester → DoeTransport → DoeMailbox → simulated device registers → the device emulator. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError } from '../../src/wire/errors.js';
import { buildProfile } from '../../src/responder/profiles.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { CMA_DOE_PROTOCOLS, DOE_MAX_PAYLOAD_BYTES, PCI_SIG_VENDOR_ID } from '../../src/transport/doe.js';
import {
  encodeExtendedCapabilityHeader,
  MemoryConfigSpace,
  PCI_EXT_CAP_ID_DOE,
  type ConfigSpace,
} from '../../src/pci/config-space.js';
import { SimulatedDoeDevice } from '../../src/pci/doe-device.js';
import { DoeMailboxError } from '../../src/pci/doe-mailbox.js';
import { DoeTransport, openDoeTransport } from '../../src/pci/doe-transport.js';
import { FakeClock } from './fake-clock.js';

const built = buildProfile({ name: 'doe-dev', versions: [0x12], asymId: 0x0010, hashId: 0x01 });

function device(
  clock: FakeClock,
  extra: Partial<ConstructorParameters<typeof SimulatedDoeDevice>[0]> = {},
): { device: SimulatedDoeDevice; responder: Responder } {
  const responder = new Responder(built.profile);
  return { device: new SimulatedDoeDevice({ handler: responder, clock, ...extra }), responder };
}

test('full CMA-SPDM authentication through the DOE registers yields evidence with 2 verified signatures', async () => {
  const clock = new FakeClock();
  const { device: dev } = device(clock);
  const transport = await openDoeTransport(dev, { clock });
  assert.ok(transport instanceof DoeTransport);
  assert.deepEqual(transport.protocols, CMA_DOE_PROTOCOLS);
  assert.equal(transport.securedCapable, true);
  assert.equal(transport.maxMessageSize, DOE_MAX_PAYLOAD_BYTES);
  assert.equal(transport.mailbox.capOffset, 0x150, 'found behind the AER capability at 0x100');

  const evidence = await new Requester(transport, { deviceName: 'doe-dev' }).authenticate();
  assert.equal(evidence.versionByte, 0x12);
  assert.equal(evidence.signatures.length, 2);
  assert.deepEqual(
    evidence.signatures.map((s) => s.kind),
    ['CHALLENGE_AUTH', 'MEASUREMENTS'],
  );
  assert.ok(evidence.signatures.every((s) => s.verified));
  assert.deepEqual(
    reverifySignatures(evidence).map((r) => r.ok),
    [true, true],
  );
  assert.equal(evidence.measurements.length, built.profile.measurements.length);
  assert.equal(dev.counters.errors, 0);
  assert.equal(dev.counters.objects, dev.counters.responses, 'every object answered and read out');
  await transport.close();
});

test('a device that hangs mid-flow: TIMEOUT, the mailbox is aborted, and a new authentication succeeds', async () => {
  const clock = new FakeClock();
  const { device: dev } = device(clock);
  const transport = await openDoeTransport(dev, { clock });
  const requester = new Requester(transport);
  await requester.connect();
  dev.hang();
  await assert.rejects(requester.getDigests(), (e: unknown) => e instanceof SpdmError && e.code === 'TIMEOUT');
  const evidence = await new Requester(transport).authenticate();
  assert.equal(evidence.signatures.length, 2);
});

test('a device that sets Error mid-flow gives a typed transport error, and the next authentication succeeds', async () => {
  const clock = new FakeClock();
  const { device: dev } = device(clock);
  const transport = await openDoeTransport(dev, { clock });
  const requester = new Requester(transport);
  await requester.connect();
  dev.errorOnNext();
  await assert.rejects(
    requester.getDigests(),
    (e: unknown) => e instanceof DoeMailboxError && e.code === 'TRANSPORT_ERROR' && e.failure === 'device-error',
  );
  assert.equal((await new Requester(transport).authenticate()).signatures.length, 2);
});

test('openDoeTransport: a mailbox left in Error is aborted at open and works', async () => {
  const clock = new FakeClock();
  const { device: dev } = device(clock);
  await dev.write32(0x150 + 0x10, 0xdeadbeef); // garbage header
  await dev.write32(0x150 + 0x10, 0);
  await dev.write32(0x150 + 0x08, 0x80000000);
  const transport = await openDoeTransport(dev, { clock });
  assert.ok(dev.counters.aborts >= 1);
  assert.equal((await new Requester(transport).authenticate()).signatures.length, 2);
});

test('openDoeTransport: no DOE capability, or no mailbox listing CMA-SPDM → UNSUPPORTED', async () => {
  const clock = new FakeClock();
  const plain = new MemoryConfigSpace(4096);
  plain.poke32(0x100, encodeExtendedCapabilityHeader(0x0001, 2, 0));
  await assert.rejects(
    openDoeTransport(plain, { clock }),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED' && /no DOE/.test(e.message),
  );

  const { device: cdatOnly } = device(clock, {
    protocols: [
      { vendorId: PCI_SIG_VENDOR_ID, type: 0 },
      { vendorId: 0x1e98, type: 2 },
    ],
  });
  await assert.rejects(openDoeTransport(cdatOnly, { clock }), (e: unknown) => {
    assert.ok(e instanceof SpdmError && e.code === 'UNSUPPORTED');
    assert.deepEqual(e.details['mailboxes'], [
      {
        capOffset: 0x150,
        protocols: [
          { vendorId: 1, type: 0 },
          { vendorId: 0x1e98, type: 2 },
        ],
      },
    ]);
    return true;
  });
});

test('openDoeTransport picks the mailbox that lists CMA-SPDM when a device has several', async () => {
  const clock = new FakeClock();
  // Mailbox A at 0x150 lists only discovery + a CXL protocol; mailbox B at 0x200 is the CMA one.
  const { device: a } = device(clock, {
    protocols: [
      { vendorId: 1, type: 0 },
      { vendorId: 0x1e98, type: 2 },
    ],
  });
  const { device: b } = device(clock, { doeOffset: 0x200, capabilityBeforeDoe: false });
  const routed: ConfigSpace = {
    size: 4096,
    read32: async (o) => {
      if (o === 0x150) return encodeExtendedCapabilityHeader(PCI_EXT_CAP_ID_DOE, 1, 0x200);
      return o >= 0x200 && o < 0x218 ? b.read32(o) : a.read32(o);
    },
    write32: (o, v) => (o >= 0x200 && o < 0x218 ? b.write32(o, v) : a.write32(o, v)),
  };
  const transport = await openDoeTransport(routed, { clock });
  assert.equal(transport.mailbox.capOffset, 0x200);
  assert.equal(a.counters.objects, 2, 'A was asked for its protocols');
  assert.equal((await new Requester(transport).authenticate()).signatures.length, 2);
  assert.equal(a.counters.objects, 2, 'and never used for SPDM');
});

test('secured CMA-SPDM objects go out as type 2; a mailbox without it refuses', async () => {
  const clock = new FakeClock();
  const seen: number[][] = [];
  const secured = { handle: async (r: Uint8Array) => (seen.push([...r]), new Uint8Array([0xaa, 0xbb])) };
  const { device: dev } = device(clock, { securedHandler: secured });
  const transport = await openDoeTransport(dev, { clock });
  const r = await transport.exchangeSecured(new Uint8Array([1, 2, 3, 4, 5]));
  assert.deepEqual([...r], [0xaa, 0xbb, 0, 0]);
  assert.deepEqual(seen, [[1, 2, 3, 4, 5, 0, 0, 0]]);

  const { device: plainDev } = device(clock, { protocols: CMA_DOE_PROTOCOLS.slice(0, 2) });
  const plainTransport = await openDoeTransport(plainDev, { clock });
  assert.equal(plainTransport.securedCapable, false);
  await assert.rejects(
    plainTransport.exchangeSecured(new Uint8Array(4)),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED',
  );
});

test('a closed transport refuses further exchanges and closes a config space it owns', async () => {
  const clock = new FakeClock();
  const { device: dev } = device(clock);
  let closed = 0;
  const owned: ConfigSpace = {
    size: dev.size,
    read32: (o) => dev.read32(o),
    write32: (o, v) => dev.write32(o, v),
    close: async () => void closed++,
  };
  const transport = await openDoeTransport(owned, { clock, ownsConfigSpace: true });
  await transport.close();
  await transport.close();
  assert.equal(closed, 1);
  await assert.rejects(
    transport.exchange(new Uint8Array([0x12, 0x84, 0, 0])),
    (e: unknown) => e instanceof TypeError && /DOE transport is closed/.test(e.message),
  );
});
