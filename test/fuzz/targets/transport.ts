/**
 * Transport framing and the DOE mailbox driver.
 *
 * transport-framing: DOE data objects and discovery, MCTP messages and transport headers, the
 * DSP0287 TCP binding, spdm-emu frames reassembled from a stream cut at arbitrary points, the PCI
 * extended capability walk over a config space image, and pcap files — seeded with libspdm's
 * captured packets and edited.
 *
 * doe-mailbox: the register-level driver against a hostile mailbox whose Status and Read Data
 * registers return scripted values (a genuine response object with edits, and biased status
 * bits). Every exchange must settle — a response or a DoeMailboxError — after a bounded number of
 * register accesses, with an instant clock so that every poll loop runs to its deadline at once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/wire/bytes.js';
import {
  decodeDoeDiscoveryRequest,
  decodeDoeDiscoveryResponse,
  decodeDoeObject,
  DOE_HEADER_DW,
  DOE_MAX_OBJECT_DW,
  DoeObjectType,
  encodeDoeDiscoveryResponse,
  encodeDoeObject,
  PCI_SIG_VENDOR_ID,
} from '../../../src/transport/doe.js';
import { decodeMctpMessage, decodeMctpTransportHeader } from '../../../src/transport/mctp.js';
import { decodeTcpBinding } from '../../../src/transport/tcp-binding.js';
import {
  EmuFrameReader,
  encodeEmuFrame,
  EmuCommand,
  EmuTransportType,
  type EmuTransportName,
} from '../../../src/transport/emu-frame.js';
import { unwrapPayload } from '../../../src/transport/emu-framing.js';
import {
  listExtendedCapabilities,
  MemoryConfigSpace,
  PCI_EXT_CAP_ID_DOE,
  encodeExtendedCapabilityHeader,
  type ConfigSpace,
} from '../../../src/pci/config-space.js';
import {
  DoeMailbox,
  DoeReg,
  DOE_STATUS_BUSY,
  DOE_STATUS_DATA_OBJECT_READY,
  DOE_STATUS_ERROR,
} from '../../../src/pci/doe-mailbox.js';
import { parsePcap } from '../../../src/capture/pcap.js';
import type { Clock } from '../../../src/transport/clock.js';
import { LIMITS } from '../../../src/wire/limits.js';
import { libspdmVectors } from '../../support/paths.js';
import { applyEdits, editsArb } from '../mutate.js';
import { defineTarget, expectTyped, FuzzFailure, withinMs } from '../target.js';

const LAYERS = [
  'doe-object',
  'doe-discovery-request',
  'doe-discovery-response',
  'mctp-message',
  'mctp-transport-header',
  'tcp-binding',
  'emu-unwrap-none',
  'emu-unwrap-mctp',
  'emu-unwrap-doe',
  'emu-unwrap-tcp',
  'emu-stream',
  'config-walk',
  'pcap',
] as const;
type Layer = (typeof LAYERS)[number];

interface FramingInput {
  readonly layer: Layer;
  readonly bytes: Uint8Array;
  /** emu-stream: where the stream is cut into chunks. */
  readonly cuts: readonly number[];
}

function capturesDir(): string {
  return join(libspdmVectors(), 'captures');
}

/** Packets of every capture, by layer, plus whole pcap files (the small ones). */
function framingCorpus(): Map<Layer, Uint8Array[]> {
  const c = new Map<Layer, Uint8Array[]>(LAYERS.map((l) => [l, []]));
  const add = (l: Layer, b: Uint8Array) => c.get(l)?.push(b);
  for (const f of ['doe-v12-p256.pcap', 'mctp-default.pcap', 'doe-v10.pcap']) {
    const bytes = new Uint8Array(readFileSync(join(capturesDir(), f)));
    add('pcap', bytes.subarray(0, Math.min(bytes.length, 4096)));
    const pcap = parsePcap(bytes);
    for (const r of pcap.records.slice(0, 60)) {
      if (f.startsWith('doe')) {
        add('doe-object', r.data);
        add('emu-unwrap-doe', r.data);
        const o = decodeDoeObject(r.data);
        if (o.type === DoeObjectType.DISCOVERY)
          add(r.data.length === 12 ? 'doe-discovery-request' : 'doe-discovery-response', o.payload);
        add('emu-unwrap-none', o.payload);
        add('emu-stream', encodeEmuFrame(EmuCommand.NORMAL, EmuTransportType.PCI_DOE, r.data));
      } else {
        add('mctp-transport-header', r.data.subarray(0, 4));
        add('mctp-message', r.data.subarray(4));
        add('emu-unwrap-mctp', r.data.subarray(4));
        add('emu-stream', encodeEmuFrame(EmuCommand.NORMAL, EmuTransportType.MCTP, r.data.subarray(4)));
      }
    }
  }
  add(
    'doe-discovery-response',
    encodeDoeDiscoveryResponse({
      vendorId: 1,
      type: 1,
      nextIndex: 2,
      extra: { maxObjectLengthDw: 0x100, additionalInfo: 3 },
    }),
  );
  add('tcp-binding', Uint8Array.of(0x06, 0x00, 0x01, 0x05, 0x10, 0x84, 0, 0));
  add('emu-unwrap-tcp', Uint8Array.of(0x06, 0x00, 0x01, 0x05, 0x10, 0x84, 0, 0));
  // A config space with a few capabilities, DOE among them.
  const cs = new MemoryConfigSpace();
  cs.poke32(0x100, encodeExtendedCapabilityHeader(0x0001, 2, 0x150));
  cs.poke32(0x150, encodeExtendedCapabilityHeader(PCI_EXT_CAP_ID_DOE, 1, 0x200));
  cs.poke32(0x200, encodeExtendedCapabilityHeader(0x0003, 1, 0));
  add('config-walk', cs.bytes.slice(0x100, 0x240));
  return c;
}

const EMU_NAMES: Record<string, EmuTransportName> = {
  'emu-unwrap-none': 'none',
  'emu-unwrap-mctp': 'mctp',
  'emu-unwrap-doe': 'doe',
  'emu-unwrap-tcp': 'tcp',
};

async function runFraming(i: FramingInput): Promise<void> {
  await expectTyped(async () => {
    const b = i.bytes;
    switch (i.layer) {
      case 'doe-object':
        return decodeDoeObject(b);
      case 'doe-discovery-request':
        return decodeDoeDiscoveryRequest(b);
      case 'doe-discovery-response':
        return decodeDoeDiscoveryResponse(b);
      case 'mctp-message':
        return decodeMctpMessage(b);
      case 'mctp-transport-header':
        return decodeMctpTransportHeader(b);
      case 'tcp-binding':
        return decodeTcpBinding(b);
      case 'emu-stream': {
        const r = new EmuFrameReader();
        let at = 0;
        for (const cut of [...i.cuts.map((c) => c % (b.length + 1)).sort((x, y) => x - y), b.length]) {
          if (cut < at) continue;
          for (const f of r.push(b.subarray(at, cut))) unwrapPayload('doe', f.payload);
          at = cut;
        }
        return undefined;
      }
      case 'config-walk': {
        // The input is the extended region from 0x100 on.
        const cs = new MemoryConfigSpace();
        cs.bytes.set(b.subarray(0, cs.size - 0x100), 0x100);
        return listExtendedCapabilities(cs);
      }
      case 'pcap':
        return parsePcap(b);
      default:
        return unwrapPayload(EMU_NAMES[i.layer] ?? 'none', b);
    }
  });
}

export const transportFraming = defineTarget<FramingInput>({
  name: 'transport-framing',
  what: 'DOE objects/discovery, MCTP, TCP binding, spdm-emu frame streams, capability walk, pcap',
  ciRuns: 2000,
  prepare: async () => {
    const corpus = framingCorpus();
    return {
      arbitrary: fc
        .tuple(
          fc.constantFrom(...LAYERS),
          fc.nat(),
          editsArb(4),
          fc.array(fc.nat({ max: 4096 }), { maxLength: 4 }),
          fc.boolean(),
        )
        .map(([layer, k, edits, cuts, random]) => {
          const seeds = corpus.get(layer) ?? [];
          const seed = seeds.length > 0 ? (seeds[k % seeds.length] as Uint8Array) : new Uint8Array(0);
          return {
            layer,
            bytes: random && k % 5 === 0 ? applyEdits(new Uint8Array(k % 64), edits) : applyEdits(seed, edits),
            cuts,
          };
        }),
      run: runFraming,
    };
  },
  toJson: (i) => ({ layer: i.layer, hex: toHex(i.bytes), cuts: [...i.cuts] }),
  fromJson: (j) => {
    const o = j as { layer?: unknown; hex?: unknown; cuts?: unknown };
    if (typeof o.layer !== 'string' || !LAYERS.includes(o.layer as Layer) || typeof o.hex !== 'string')
      throw new Error('regression input: expected {layer, hex, cuts}');
    return {
      layer: o.layer as Layer,
      bytes: fromHex(o.hex),
      cuts: Array.isArray(o.cuts) ? o.cuts.filter((x): x is number => typeof x === 'number') : [],
    };
  },
});

// ─── DOE mailbox ───────────────────────────────────────────────────────────────────────────

interface MailboxInput {
  /** Values the Status register returns, in turn (then again from the start). */
  readonly status: readonly number[];
  /** What the Read Data Mailbox returns: a response object with edits, DW by DW, then repeated. */
  readonly response: Uint8Array;
  readonly maxResponseDw: number;
  readonly op: 'exchange' | 'discover';
  /** The request payload. */
  readonly request: Uint8Array;
  /**
   * Per-exchange timeout, as the requester passes it (T2 from the device's CTExponent): small,
   * PCIe-sized, or far beyond what a timer can hold. Absent: the mailbox default.
   */
  readonly timeoutMs?: number;
}

const CAP_OFFSET = 0x150;

/** A DOE capability whose Status and Read registers say whatever the input says. */
class ScriptedMailbox implements ConfigSpace {
  readonly size = 0x1000;
  accesses = 0;
  private s = 0;
  private r = 0;
  constructor(private readonly input: MailboxInput) {}

  async read32(offset: number): Promise<number> {
    this.accesses++;
    switch (offset - CAP_OFFSET) {
      case DoeReg.HEADER:
        return encodeExtendedCapabilityHeader(PCI_EXT_CAP_ID_DOE, 2, 0);
      case DoeReg.CAP:
        return 0;
      case DoeReg.STATUS: {
        const st = this.input.status;
        return st.length === 0 ? DOE_STATUS_DATA_OBJECT_READY : (st[this.s++ % st.length] as number) >>> 0;
      }
      case DoeReg.READ: {
        const b = this.input.response;
        const dws = Math.max(1, Math.ceil(b.length / 4));
        const o = (this.r++ % dws) * 4;
        return ((b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16) | ((b[o + 3] ?? 0) << 24)) >>> 0;
      }
      default:
        return 0;
    }
  }

  async write32(): Promise<void> {
    this.accesses++;
  }
}

/** More virtual time than any bounded wait of the driver adds up to for two operations. */
const VIRTUAL_TIME_BOUND_MS = 1_000_000;

/**
 * Instant time, with a bound: every poll passes at once, so a wait without a usable deadline would
 * spin for ever; past VIRTUAL_TIME_BOUND_MS the sleep fails the input as a hang instead.
 */
function instantClock(): Clock {
  let t = 0;
  return {
    now: () => t,
    sleep: (ms) => {
      t += Math.max(0, ms);
      if (t > VIRTUAL_TIME_BOUND_MS)
        return Promise.reject(
          new FuzzFailure('hang', `the driver has waited ${t.toFixed(0)} ms of virtual time (no usable deadline)`),
        );
      return Promise.resolve();
    },
  };
}

const STATUS_BITS = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      0,
      DOE_STATUS_DATA_OBJECT_READY,
      DOE_STATUS_BUSY,
      DOE_STATUS_ERROR,
      DOE_STATUS_DATA_OBJECT_READY | DOE_STATUS_ERROR,
      DOE_STATUS_BUSY | DOE_STATUS_DATA_OBJECT_READY,
    ),
  },
  { weight: 1, arbitrary: fc.nat().map((x) => x >>> 0) },
);

async function runMailbox(i: MailboxInput): Promise<void> {
  const cs = new ScriptedMailbox(i);
  const clock = instantClock();
  const opened = await withinMs(
    expectTyped(() => DoeMailbox.open(cs, CAP_OFFSET, { clock, maxResponseDw: i.maxResponseDw })),
    10_000,
    'DoeMailbox.open',
  );
  if (opened instanceof Error) return;
  const mb = opened;
  const op = (): Promise<Uint8Array | unknown[]> =>
    i.op === 'discover'
      ? mb.discover(i.timeoutMs !== undefined ? { timeoutMs: i.timeoutMs } : {})
      : mb.exchange(
          PCI_SIG_VENDOR_ID,
          DoeObjectType.CMA_SPDM,
          i.request,
          i.timeoutMs !== undefined ? { timeoutMs: i.timeoutMs } : {},
        );
  // A timeout that is no positive number is the caller's mistake, not the device's: a TypeError
  // naming the option (house rule), whatever the registers say.
  if (i.timeoutMs !== undefined && !(Number.isFinite(i.timeoutMs) && i.timeoutMs > 0)) {
    const e = await withinMs(
      Promise.resolve()
        .then(op)
        .then(
          () => undefined,
          (x: unknown) => x,
        ),
      10_000,
      `DoeMailbox.${i.op}`,
    );
    if (!(e instanceof TypeError && /timeoutMs/.test(e.message)))
      throw new FuzzFailure('invariant', `timeoutMs ${i.timeoutMs} was not refused as caller misuse: ${String(e)}`);
    return;
  }
  // Two operations in a row: a failure must leave the mailbox usable (or declared dead), never wedged.
  for (let k = 0; k < 2; k++) {
    const out = await withinMs(expectTyped<Uint8Array | unknown[]>(op), 10_000, `DoeMailbox.${i.op}`);
    if (out instanceof Uint8Array && out.length > (i.maxResponseDw - 2) * 4) {
      throw new FuzzFailure('invariant', `response of ${out.length} bytes exceeds maxResponseDw ${i.maxResponseDw}`);
    }
  }
  // Each poll loop is bounded by its deadline (128 polls of Status) and each response object by its
  // Length field: a response above maxResponseDw is still drained (read and acknowledged, as Linux
  // does), so up to DOE_MAX_OBJECT_DW reads and writes. Discovery makes at most 256 exchanges.
  const perExchange = 3 * (DOE_MAX_OBJECT_DW + DOE_HEADER_DW) + 4 * 130 + 4 * Math.ceil(i.request.length / 4);
  const bound = 2 * (i.op === 'discover' ? 256 : 1) * perExchange;
  if (cs.accesses > bound)
    throw new FuzzFailure('invariant', `${cs.accesses} register accesses for two operations (bound ${bound})`);
}

export const doeMailbox = defineTarget<MailboxInput>({
  name: 'doe-mailbox',
  what: 'DOE mailbox driver (open, exchange, discovery) against scripted hostile Status/Read registers',
  ciRuns: 400,
  prepare: async () => {
    const genuine = [
      encodeDoeObject({
        vendorId: PCI_SIG_VENDOR_ID,
        type: DoeObjectType.CMA_SPDM,
        payload: fromHex('1004000000020010001100120013'),
      }),
      encodeDoeObject({
        vendorId: PCI_SIG_VENDOR_ID,
        type: DoeObjectType.DISCOVERY,
        payload: encodeDoeDiscoveryResponse({ vendorId: 1, type: 1, nextIndex: 2 }),
      }),
      encodeDoeObject({
        vendorId: PCI_SIG_VENDOR_ID,
        type: DoeObjectType.DISCOVERY,
        payload: encodeDoeDiscoveryResponse({ vendorId: 1, type: 2, nextIndex: 0 }),
      }),
    ];
    return {
      arbitrary: fc.record({
        status: fc.array(STATUS_BITS, { minLength: 1, maxLength: 24 }),
        response: fc
          .tuple(fc.nat({ max: genuine.length - 1 }), fc.option(editsArb(3), { nil: undefined }))
          .map(([k, e]) => (e ? applyEdits(genuine[k] as Uint8Array, e) : (genuine[k] as Uint8Array))),
        maxResponseDw: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(2, 3, 4, 16, 64) },
          { weight: 1, arbitrary: fc.constant(1 << 18) },
        ),
        op: fc.constantFrom<MailboxInput['op']>('exchange', 'exchange', 'discover'),
        request: fc.uint8Array({ maxLength: 40 }),
        timeoutMs: fc.option(
          fc.constantFrom(
            1,
            50,
            1000,
            10_000,
            0,
            -1,
            Number.NaN,
            Number.POSITIVE_INFINITY,
            LIMITS.maxTimerMs + 1,
            2 ** 127 / 1000,
            2 ** 255 / 1000,
          ),
          { nil: undefined },
        ),
      }),
      run: runMailbox,
    };
  },
  toJson: (i) => ({
    status: [...i.status],
    response: toHex(i.response),
    maxResponseDw: i.maxResponseDw,
    op: i.op,
    request: toHex(i.request),
    ...(i.timeoutMs !== undefined ? { timeoutMs: String(i.timeoutMs) } : {}),
  }),
  fromJson: (j) => {
    const o = j as { status?: unknown; response?: unknown; maxResponseDw?: unknown; op?: unknown; request?: unknown };
    if (
      !Array.isArray(o.status) ||
      typeof o.response !== 'string' ||
      typeof o.maxResponseDw !== 'number' ||
      typeof o.request !== 'string'
    )
      throw new Error('regression input: expected a mailbox script');
    // timeoutMs is saved as a string: JSON has no NaN or Infinity.
    const timeoutMs = (j as { timeoutMs?: unknown }).timeoutMs;
    return {
      status: o.status as number[],
      response: fromHex(o.response),
      maxResponseDw: o.maxResponseDw,
      op: o.op === 'discover' ? 'discover' : 'exchange',
      request: fromHex(o.request),
      ...(typeof timeoutMs === 'string' ? { timeoutMs: Number(timeoutMs) } : {}),
    };
  },
});
