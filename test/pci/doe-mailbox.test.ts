/** The DOE mailbox driver against the simulated device: discovery, serialised exchanges, and every way the mailbox can go wrong. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS, LimitError } from '../../src/wire/limits.js';
import { systemClock } from '../../src/transport/clock.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import { CMA_DOE_PROTOCOLS, DoeObjectType, PCI_SIG_VENDOR_ID } from '../../src/transport/doe.js';
import type { ConfigSpace } from '../../src/pci/config-space.js';
import {
  DoeMailbox,
  DoeMailboxError,
  DoeReg,
  DOE_STATUS_ERROR,
  type DoeFailure,
  type DoeMailboxOptions,
} from '../../src/pci/doe-mailbox.js';
import { SimulatedDoeDevice, type SimulatedDoeDeviceOptions } from '../../src/pci/doe-device.js';
import { FakeClock } from './fake-clock.js';

/** Answers 0xEE followed by the request payload (padding included). */
const echo: SpdmHandler = {
  handle: async (r) => {
    const out = new Uint8Array(r.length + 1);
    out[0] = 0xee;
    out.set(r, 1);
    return out;
  },
};

function bytes(n: number, fill = 0x5a): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

async function rig(
  o: {
    device?: Partial<SimulatedDoeDeviceOptions>;
    mailbox?: DoeMailboxOptions;
    cs?: (d: SimulatedDoeDevice) => ConfigSpace;
  } = {},
) {
  const clock = new FakeClock();
  const device = new SimulatedDoeDevice({ handler: echo, clock, ...o.device });
  const cs = o.cs ? o.cs(device) : device;
  const mailbox = await DoeMailbox.open(cs, device.doeOffset, { clock, ...o.mailbox });
  return { clock, device, mailbox };
}

function spdm(mailbox: DoeMailbox, payload: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
  return mailbox.exchange(
    PCI_SIG_VENDOR_ID,
    DoeObjectType.CMA_SPDM,
    payload,
    timeoutMs !== undefined ? { timeoutMs } : {},
  );
}

function failed(failure: DoeFailure, code?: string): (e: unknown) => boolean {
  return (e: unknown) => {
    if (!(e instanceof DoeMailboxError)) return false;
    assert.equal(e.failure, failure, e.message);
    if (code) assert.equal(e.code, code);
    assert.equal(e.details['capOffset'], 0x150);
    return true;
  };
}

/** After a failure the mailbox must work again. */
async function stillWorks(mailbox: DoeMailbox): Promise<void> {
  const r = await spdm(mailbox, new Uint8Array([0x10, 0x84, 0, 0]));
  assert.deepEqual([...r], [0xee, 0x10, 0x84, 0, 0, 0, 0, 0]);
}

test('open aborts to sync state; discovery lists discovery, CMA-SPDM and secured CMA-SPDM', async () => {
  const { device, mailbox } = await rig();
  assert.equal(device.counters.aborts, 1, 'one abort at open, as Linux does');
  assert.equal(mailbox.capabilityVersion, 1);
  assert.deepEqual(await mailbox.discover(), CMA_DOE_PROTOCOLS);
  assert.equal(device.counters.objects, 3);
  assert.equal(device.counters.responses, 3);
});

test('discovery sends Discovery Version 2 when the DOE capability version is 2 (as Linux does), 0 otherwise', async () => {
  for (const [capVersion, expected] of [
    [1, 0],
    [2, 2],
  ] as const) {
    const requestDws: number[] = [];
    const { mailbox } = await rig({
      device: { doeCapabilityVersion: capVersion },
      cs: (d) => ({
        size: d.size,
        read32: (o) => d.read32(o),
        write32: (o, v) => {
          if (o === d.doeOffset + DoeReg.WRITE) requestDws.push(v);
          return d.write32(o, v);
        },
      }),
    });
    assert.deepEqual(await mailbox.discover(), CMA_DOE_PROTOCOLS);
    // DW0 header, DW1 length 3, then the request DW: index in byte 0, version in byte 1.
    assert.deepEqual(requestDws.slice(0, 3), [0x00000001, 3, expected << 8]);
  }
});

test('exchanges are serialised: many concurrent callers, one object at a time, each gets its own answer', async () => {
  const { device, mailbox } = await rig();
  device.slow(5);
  const payloads = Array.from({ length: 8 }, (_, i) => bytes(4 * i + 1, i + 1));
  const results = await Promise.all(payloads.map((p) => spdm(mailbox, p)));
  for (const [i, r] of results.entries()) {
    const p = payloads[i] as Uint8Array;
    assert.equal(r[0], 0xee);
    assert.deepEqual(r.subarray(1, 1 + p.length), p);
    assert.equal(r.length % 4, 0, 'payload comes back DW padded');
  }
  assert.equal(device.counters.errors, 0, 'the device never saw a write while busy');
  assert.equal(device.counters.objects, 8);
});

test('an object larger than one mailbox register is just many DWs (64 KiB each way)', async () => {
  const { mailbox } = await rig();
  const big = new Uint8Array(65536).map((_, i) => i & 0xff);
  const r = await spdm(mailbox, big);
  assert.equal(r.length, 65536 + 4);
  assert.deepEqual(r.subarray(1, 65537), big);
});

test('hang: no Data Object Ready within 1 s → TIMEOUT, abort, and the next exchange works', async () => {
  const { clock, device, mailbox } = await rig();
  device.hang();
  const t0 = clock.now();
  await assert.rejects(spdm(mailbox, bytes(8)), (e: unknown) => {
    assert.ok(failed('timeout', 'TIMEOUT')(e));
    const d = (e as DoeMailboxError).details;
    assert.deepEqual(d['statusBits'], {
      raw: 1,
      busy: true,
      error: false,
      dataObjectReady: false,
      interruptStatus: false,
    });
    assert.equal(d['phase'], 'wait');
    return true;
  });
  const waited = clock.now() - t0;
  assert.ok(waited >= 1000 && waited < 1100, `gave up after ${waited} ms`);
  assert.equal(device.counters.aborts, 2, 'open + after the timeout');
  await stillWorks(mailbox);
});

test('a slow device is waited for within the timeout; a per-exchange timeout can extend it', async () => {
  const { clock, device, mailbox } = await rig();
  device.slow(900);
  await stillWorks(mailbox);
  device.slow(1500);
  await assert.rejects(spdm(mailbox, bytes(4)), failed('timeout', 'TIMEOUT'));
  const t0 = clock.now();
  const r = await spdm(mailbox, bytes(4), 2000);
  assert.equal(r[0], 0xee);
  assert.ok(clock.now() - t0 >= 1500);
});

test('Error bit after Go → typed error carrying the status, abort, recovery', async () => {
  const { device, mailbox } = await rig();
  device.errorOnNext();
  await assert.rejects(spdm(mailbox, bytes(12)), (e: unknown) => {
    assert.ok(failed('device-error', 'TRANSPORT_ERROR')(e));
    const d = (e as DoeMailboxError).details;
    assert.equal(((d['status'] as number) & DOE_STATUS_ERROR) !== 0, true);
    assert.equal(d['phase'], 'wait');
    return true;
  });
  assert.equal(device.counters.aborts, 2);
  await stillWorks(mailbox);
});

test('Error already set before we start (left by someone else) → abort first, then the exchange goes through', async () => {
  const { device, mailbox } = await rig();
  // Another party leaves a malformed object: length says 9 DW, 2 written, Go → Error.
  await device.write32(device.doeOffset + DoeReg.WRITE, 0x00010001);
  await device.write32(device.doeOffset + DoeReg.WRITE, 9);
  await device.write32(device.doeOffset + DoeReg.CTRL, 0x80000000);
  assert.equal((await mailbox.status()).error, true);
  await stillWorks(mailbox);
  assert.equal(device.counters.aborts, 2);
});

test('Busy at start: waited out when it clears within 1 s; BUSY (no abort) when it does not', async () => {
  const { clock, device, mailbox } = await rig();
  device.busyFor({ ms: 300 });
  const t0 = clock.now();
  await stillWorks(mailbox);
  assert.ok(clock.now() - t0 >= 300, 'waited for Busy to clear before writing');
  assert.equal(device.counters.errors, 0);

  device.busyFor({ ms: 5000 });
  const aborts = device.counters.aborts;
  await assert.rejects(
    spdm(mailbox, bytes(4)),
    (e: unknown) => failed('busy', 'BUSY')(e) && (e as DoeMailboxError).details['phase'] === 'idle-check',
  );
  assert.equal(device.counters.aborts, aborts, 'someone else owns the mailbox: we do not abort their object');
  await clock.sleep(5000);
  await stillWorks(mailbox);

  device.busyFor({ statusReads: 3 });
  await stillWorks(mailbox);
});

test('device reset while the request is being written → typed error, recovery', async () => {
  const { device, mailbox } = await rig();
  device.resetDuring('request', 4); // header and first payload DW are lost; the rest looks like garbage
  await assert.rejects(spdm(mailbox, bytes(32, 0x11)), failed('device-error', 'TRANSPORT_ERROR'));
  assert.equal(device.counters.resets, 1);
  await stillWorks(mailbox);
});

test('device reset while the response is being read → typed error (Ready dropped), recovery', async () => {
  const { device, mailbox } = await rig();
  device.resetDuring('response', 5);
  await assert.rejects(
    spdm(mailbox, bytes(40)),
    (e: unknown) => failed('not-ready', 'TRANSPORT_ERROR')(e) && (e as DoeMailboxError).details['phase'] === 'read',
  );
  assert.equal(device.counters.resets, 1);
  await stillWorks(mailbox);
});

test('an object larger than the device mailbox → device Error → typed error without hanging; found before the whole object is written', async () => {
  const { clock, device, mailbox } = await rig();
  device.mailboxCapacityDw = 16;
  const t0 = clock.now();
  await assert.rejects(spdm(mailbox, bytes(4000)), (e: unknown) => {
    assert.ok(failed('device-error', 'TRANSPORT_ERROR')(e));
    const d = (e as DoeMailboxError).details;
    assert.equal(d['phase'], 'write');
    assert.equal(d['objectDw'], 1002);
    assert.ok((d['dwWritten'] as number) <= 66, `stopped after ${String(d['dwWritten'])} DWs`);
    return true;
  });
  assert.ok(clock.now() - t0 < 100, 'no timeout wait');
  // Small enough objects still go through; an object of exactly the capacity fits.
  await stillWorks(mailbox);
  const r = await spdm(mailbox, bytes(14 * 4));
  assert.equal(r.length, 15 * 4);
});

test('a response larger than the configured maximum is drained and rejected; the next exchange works', async () => {
  const big: SpdmHandler = { handle: async (r) => (r[0] === 0xff ? bytes(4096) : echo.handle(r)) };
  const { device, mailbox } = await rig({ device: { handler: big }, mailbox: { maxResponseDw: 256 } });
  const aborts = device.counters.aborts;
  await assert.rejects(spdm(mailbox, new Uint8Array([0xff])), (e: unknown) => {
    assert.ok(failed('response-too-large', 'TRANSPORT_ERROR')(e));
    assert.equal((e as DoeMailboxError).details['lengthDw'], 1026);
    return true;
  });
  assert.equal(device.dataObjectReady, false, 'drained');
  assert.equal(device.counters.aborts, aborts, 'draining kept the mailbox in sync without an abort');
  await stillWorks(mailbox);
  // The limit is per exchange too.
  await assert.rejects(
    mailbox.exchange(PCI_SIG_VENDOR_ID, DoeObjectType.CMA_SPDM, bytes(64), { maxResponseDw: 8 }),
    failed('response-too-large'),
  );
});

test('a response for another vendor/type → header-mismatch, abort, recovery', async () => {
  let corrupt = true;
  const { device, mailbox } = await rig({
    cs: (d) => ({
      size: d.size,
      read32: async (o) => {
        const v = await d.read32(o);
        // Flip the first response DW's type to 2 once.
        if (corrupt && o === d.doeOffset + DoeReg.READ && v === 0x00010001) {
          corrupt = false;
          return 0x00020001;
        }
        return v;
      },
      write32: (o, v) => d.write32(o, v),
    }),
  });
  const aborts = device.counters.aborts;
  await assert.rejects(
    spdm(mailbox, bytes(4)),
    (e: unknown) =>
      failed('header-mismatch', 'TRANSPORT_ERROR')(e) && Array.isArray((e as DoeMailboxError).details['header']),
  );
  assert.equal(device.counters.aborts, aborts + 1);
  await stillWorks(mailbox);
});

test('an abort that never completes marks the mailbox dead; a later successful abort revives it', async () => {
  const { device, mailbox } = await rig();
  device.ignoreAborts();
  device.hang();
  await assert.rejects(
    spdm(mailbox, bytes(4)),
    (e: unknown) =>
      failed('dead', 'TRANSPORT_ERROR')(e) &&
      /DOE mailbox dead/.test((e as Error).message) &&
      (e as Error).cause instanceof DoeMailboxError,
  );
  assert.equal(mailbox.dead, true);
  const objects = device.counters.objects;
  await assert.rejects(spdm(mailbox, bytes(4)), failed('dead'));
  assert.equal(device.counters.objects, objects, 'a dead mailbox is not touched');
  device.ignoreAborts(false);
  await mailbox.abort();
  assert.equal(mailbox.dead, false);
  await stillWorks(mailbox);
});

test('opening something that is not a DOE capability is refused', async () => {
  const clock = new FakeClock();
  const device = new SimulatedDoeDevice({ handler: echo, clock });
  await assert.rejects(
    DoeMailbox.open(device, 0x100, { clock }),
    (e: unknown) => e instanceof DoeMailboxError && e.failure === 'not-doe' && e.code === 'UNSUPPORTED',
  );
  await assert.rejects(
    DoeMailbox.open(device, 0xff0, { clock }),
    (e: unknown) => e instanceof DoeMailboxError && e.failure === 'not-doe',
  );
});

test('invalid options are refused up front', async () => {
  const clock = new FakeClock();
  const device = new SimulatedDoeDevice({ handler: echo, clock });
  await assert.rejects(
    DoeMailbox.open(device, 0x150, { clock, maxResponseDw: 1 }),
    (e: unknown) => e instanceof TypeError && /maxResponseDw/.test(e.message),
  );
  await assert.rejects(
    DoeMailbox.open(device, 0x150, { clock, timeoutMs: 0 }),
    (e: unknown) => e instanceof TypeError && /timeoutMs must be a positive/.test(e.message),
  );
});

test('with the real clock and a short timeout, a hang costs only that timeout', async () => {
  const device = new SimulatedDoeDevice({ handler: echo });
  const mailbox = await DoeMailbox.open(device, device.doeOffset, {
    clock: systemClock,
    timeoutMs: 40,
    pollIntervalMs: 2,
  });
  device.hang();
  const t0 = Date.now();
  await assert.rejects(spdm(mailbox, bytes(4)), failed('timeout', 'TIMEOUT'));
  const took = Date.now() - t0;
  assert.ok(took >= 40 && took < 1000, `took ${took} ms`);
  await stillWorks(mailbox);
});

test('a wait no timer can hold is refused with a LimitError, before anything is written (T2 from CTExponent 255)', async () => {
  const { device, mailbox } = await rig();
  for (const timeoutMs of [LIMITS.maxTimerMs + 1, 2 ** 255 / 1000]) {
    await assert.rejects(
      spdm(mailbox, new Uint8Array([0x10, 0x84, 0, 0]), timeoutMs),
      (e: unknown) => e instanceof LimitError && e.limit === 'maxTimerMs' && e.value === timeoutMs,
    );
  }
  assert.equal(device.counters.objects, 0, 'nothing was sent');
  await stillWorks(mailbox);
  await assert.rejects(DoeMailbox.open(device, device.doeOffset, { timeoutMs: 2 ** 40 }), LimitError);
});

test('a response object longer than its Length field is refused (longer-than-announced), and the mailbox recovers', async () => {
  // Config space that reports one DW less in the Length field of the first response header.
  const shortLength = (d: SimulatedDoeDevice): ConfigSpace => {
    let acks = 0;
    let lies = 1;
    return {
      size: d.size,
      async read32(offset) {
        const v = await d.read32(offset);
        if (offset === d.doeOffset + DoeReg.READ && acks === 1 && d.dataObjectReady && lies > 0) {
          lies--;
          return ((v & ~0x3ffff) | (((v & 0x3ffff) - 1) & 0x3ffff)) >>> 0;
        }
        return v;
      },
      async write32(offset, value) {
        if (offset === d.doeOffset + DoeReg.READ) acks++;
        if (offset === d.doeOffset + DoeReg.CTRL && (value & 0x80000000) !== 0) acks = 0;
        await d.write32(offset, value);
      },
    };
  };
  const { mailbox } = await rig({ cs: shortLength });
  await assert.rejects(spdm(mailbox, bytes(16)), failed('longer-than-announced', 'TRANSPORT_ERROR'));
  await stillWorks(mailbox);
});
