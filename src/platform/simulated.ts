/**
 * The simulated platform: the PCI functions of a platform file, each a SimulatedDoeDevice whose
 * DOE mailbox is answered by the device emulator (wrapped in the fault layer when the file says
 * it misbehaves), and the events an operating system would see, injected by a test or the demo:
 * resets, suspend/resume, hot-plug, firmware updates, a device swapped behind the same BDF.
 *
 * A config-space handle follows the function, not the device: after a reset or a swap it reads
 * whatever is behind the BDF now (as a sysfs `config` file does), and it dies only when the
 * function is unplugged — every access then, an exchange in flight included, fails with
 * TRANSPORT_ERROR. Closing a handle never touches the device, so the next open finds it as it was.
 */
import { SpdmError } from '../wire/errors.js';
import type { RandomSource } from '../crypto/random.js';
import { systemClock, type Clock } from '../transport/clock.js';
import type { SpdmHandler } from '../transport/transport.js';
import { PCI_CFG_SPACE_EXP_SIZE, type ConfigSpace } from '../pci/config-space.js';
import { SimulatedDoeDevice } from '../pci/doe-device.js';
import { parseBdf } from '../pci/sysfs.js';
import { deviceHandler } from './device-handler.js';
import { DeviceThreads } from './device-threads.js';
import { standardMeasurements } from '../responder/profiles.js';
import {
  loadPlatformFile,
  type PlatformConfig,
  type PlatformFileFormat,
  type SimulatedDeviceSpec,
  type SimulatedFunctionSpec,
} from './platform-file.js';
import type { DriverHold, Platform, PlatformEvent, PlatformFunction } from './platform.js';

/** What a test or the demo can make happen to the simulated machine. */
export type SimulatedEvent =
  /** Function-level reset: the function loses its SPDM and mailbox state. */
  | { readonly type: 'flr'; readonly bdf: string }
  /** Secondary bus reset of the bridge above `bus` ("0000:03"): every function on it resets. */
  | { readonly type: 'secondary-bus-reset'; readonly bus: string }
  /** The machine (or one function, e.g. D3cold) went through suspend and resume. */
  | { readonly type: 'suspend-resume'; readonly bdf?: string }
  | { readonly type: 'hot-unplug'; readonly bdf: string }
  /** Plugs a device in at `bdf`: a spare by name or a compiled spec, or (default) the one last unplugged there. */
  | { readonly type: 'hot-plug'; readonly bdf: string; readonly device?: string | SimulatedDeviceSpec }
  /** New firmware: measurements change (standard measurements of `image`, default the current one, at `version`); the device then resets (FLR). */
  | { readonly type: 'firmware-update'; readonly bdf: string; readonly version: string; readonly image?: string }
  /** Another device (other key and chain; same or other IDs) replaces the one at `bdf` while the machine sleeps. */
  | { readonly type: 'swap'; readonly bdf: string; readonly device: string | SimulatedDeviceSpec };

export interface SimulatedPlatformOptions {
  /** Drives the mailboxes' response delays (default the system clock). */
  readonly clock?: Clock;
  /** The emulated devices' randomness (nonces), for deterministic runs (not with deviceThreads). */
  readonly random?: RandomSource;
  /**
   * Run the emulators in this many worker threads (default 0: in the platform's own thread). The
   * mailboxes stay here; only the devices' SPDM work (their signatures above all) moves off the
   * event loop, as a real device does it off the host's CPU.
   */
  readonly deviceThreads?: number;
}

/** A device never consulted: a function without DOE or without CMA-SPDM has nothing to answer. */
const NO_SPDM: SpdmHandler = {
  handle: async () => {
    throw new SpdmError('UNSUPPORTED', 'this function has no SPDM responder');
  },
};

interface Slot {
  readonly bdf: string;
  spec: SimulatedDeviceSpec;
  /**
   * Built when first touched: making an emulator (its keys, its provisioning state) costs about
   * as much as a tenth of an authentication, and a platform of thousands should not pay it for
   * all of them before the first one is asked anything.
   */
  built: SimulatedDoeDevice | undefined;
  present: boolean;
  /** Bumped when the function is unplugged (and when the platform closes): older handles die. */
  epoch: number;
}

class SimulatedConfigSpace implements ConfigSpace {
  readonly size = PCI_CFG_SPACE_EXP_SIZE;
  private closed = false;

  constructor(
    private readonly platform: SimulatedPlatform,
    private readonly slot: Slot,
    private readonly epoch: number,
  ) {}

  private live(): SimulatedDoeDevice {
    if (this.closed) throw new TypeError(`config space of ${this.slot.bdf} is closed`);
    if (!this.slot.present || this.slot.epoch !== this.epoch) {
      throw new SpdmError('TRANSPORT_ERROR', `PCI function ${this.slot.bdf} is gone (hot-unplugged)`, {
        bdf: this.slot.bdf,
        reason: 'removed',
      });
    }
    return this.platform.deviceOf(this.slot);
  }

  async read32(offset: number): Promise<number> {
    return this.live().read32(offset);
  }

  async write32(offset: number, value: number): Promise<void> {
    return this.live().write32(offset, value);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function busOf(bdf: string): string {
  return bdf.slice(0, bdf.lastIndexOf(':'));
}

export class SimulatedPlatform implements Platform {
  readonly kind = 'simulated' as const;
  private readonly slots = new Map<string, Slot>();
  private readonly spares: ReadonlyMap<string, SimulatedDeviceSpec>;
  private readonly listeners = new Set<(event: PlatformEvent) => void>();
  private readonly queue: PlatformEvent[] = [];
  private delivering = false;
  private closed = false;
  private readonly clock: Clock;
  /** Functions whose driver binding is held back (state only: nothing binds drivers here). */
  private readonly held = new Set<string>();
  private readonly threads: DeviceThreads | undefined;
  /** Lets a device thread forget the emulator of a device that was reset or unplugged. */
  private readonly drops = new WeakMap<SimulatedDoeDevice, () => void>();

  constructor(
    config: PlatformConfig,
    private readonly opts: SimulatedPlatformOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    const n = opts.deviceThreads ?? 0;
    if (n !== 0 && opts.random) throw new TypeError('deviceThreads cannot use a custom random source');
    this.spares = new Map(config.spares.map((s) => [s.name, s]));
    for (const f of config.functions) {
      parseBdf(f.bdf);
      if (this.slots.has(f.bdf)) throw new TypeError(`function ${f.bdf} is listed twice`);
      this.slots.set(f.bdf, { bdf: f.bdf, spec: f, built: undefined, present: true, epoch: 0 });
    }
    // Last: a bad file throws before any thread is started.
    this.threads = n !== 0 ? new DeviceThreads(n) : undefined;
  }

  async functions(): Promise<readonly PlatformFunction[]> {
    this.checkOpen();
    return [...this.slots.values()]
      .filter((s) => s.present)
      .sort((a, b) => (a.bdf < b.bdf ? -1 : 1))
      .map((s) => this.functionAt(s.bdf));
  }

  subscribe(listener: (event: PlatformEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots.values()) {
      s.epoch++;
      s.built?.reset();
    }
    this.listeners.clear();
    await this.threads?.close();
  }

  /** What is plugged in at `bdf` now (undefined when nothing is). */
  deviceAt(bdf: string): SimulatedFunctionSpec | undefined {
    const s = this.slots.get(bdf);
    return s?.present ? { bdf, ...s.spec } : undefined;
  }

  /** The simulated device behind `bdf`, for tests that turn its fault knobs (busy, hang, ...). */
  simulatedDevice(bdf: string): SimulatedDoeDevice | undefined {
    const s = this.slots.get(bdf);
    return s?.present ? this.deviceOf(s) : undefined;
  }

  /** The spares the platform file lists, by name. */
  spareNames(): readonly string[] {
    return [...this.spares.keys()];
  }

  /**
   * Makes `event` happen and reports it to subscribers, in order, before it resolves. Misuse (an
   * unknown or absent BDF, an unknown spare, plugging an occupied slot) is a TypeError.
   */
  async inject(event: SimulatedEvent): Promise<void> {
    this.checkOpen();
    switch (event.type) {
      case 'flr': {
        const s = this.presentSlot(event.bdf);
        this.reset(s, s.spec);
        return this.emit({ type: 'reset', bdf: s.bdf, kind: 'flr' });
      }
      case 'secondary-bus-reset': {
        const on = [...this.slots.values()].filter((s) => s.present && busOf(s.bdf) === event.bus);
        if (on.length === 0) throw new TypeError(`no function present on bus ${event.bus}`);
        on.sort((a, b) => (a.bdf < b.bdf ? -1 : 1));
        for (const s of on) this.reset(s, s.spec);
        for (const s of on) this.emit({ type: 'reset', bdf: s.bdf, kind: 'secondary-bus' });
        return;
      }
      case 'suspend-resume': {
        const on =
          event.bdf !== undefined
            ? [this.presentSlot(event.bdf)]
            : [...this.slots.values()].filter((s) => s.present).sort((a, b) => (a.bdf < b.bdf ? -1 : 1));
        for (const s of on) this.reset(s, s.spec);
        for (const s of on) this.emit({ type: 'reset', bdf: s.bdf, kind: 'resume' });
        return;
      }
      case 'hot-unplug': {
        const s = this.presentSlot(event.bdf);
        s.present = false;
        s.epoch++;
        this.discard(s); // an answer being worked on is dropped with the device
        return this.emit({ type: 'removed', bdf: s.bdf });
      }
      case 'hot-plug': {
        parseBdf(event.bdf);
        const s = this.slots.get(event.bdf);
        if (s?.present) throw new TypeError(`${event.bdf} is occupied: unplug it first`);
        const spec = event.device !== undefined ? this.spec(event.device) : s?.spec;
        if (!spec) throw new TypeError(`nothing was ever plugged in at ${event.bdf}: name a device`);
        if (s) {
          s.present = true;
          this.reset(s, spec);
        } else {
          this.slots.set(event.bdf, { bdf: event.bdf, spec, built: undefined, present: true, epoch: 0 });
        }
        return this.emit({ type: 'added', bdf: event.bdf });
      }
      case 'firmware-update': {
        const s = this.presentSlot(event.bdf);
        const profile = s.spec.profile;
        if (!profile) throw new TypeError(`${event.bdf} has no SPDM device to update`);
        const firmware = { image: event.image ?? s.spec.firmware.image, version: event.version };
        this.reset(s, {
          ...s.spec,
          firmware,
          explicitMeasurements: false,
          profile: { ...profile, measurements: standardMeasurements(firmware.image, firmware.version) },
        });
        return this.emit({ type: 'reset', bdf: s.bdf, kind: 'flr' });
      }
      case 'swap': {
        const s = this.presentSlot(event.bdf);
        this.reset(s, this.spec(event.device));
        return this.emit({ type: 'reset', bdf: s.bdf, kind: 'resume' });
      }
    }
  }

  // -------------------------------------------------------------------------------------------

  async holdDriver(bdf: string, hold: boolean): Promise<DriverHold> {
    this.checkOpen();
    if (!this.slots.has(bdf)) throw new TypeError(`no function at ${bdf}`);
    if (hold) this.held.add(bdf);
    else this.held.delete(bdf);
    return { held: hold };
  }

  /** Whether holdDriver holds the function's driver binding back now. */
  driverHeld(bdf: string): boolean {
    return this.held.has(bdf);
  }

  private functionAt(bdf: string): PlatformFunction {
    return {
      bdf,
      openConfigSpace: async () => {
        this.checkOpen();
        const s = this.slots.get(bdf);
        if (!s?.present) {
          throw new SpdmError('TRANSPORT_ERROR', `PCI function ${bdf} is not present`, { bdf, reason: 'removed' });
        }
        return new SimulatedConfigSpace(this, s, s.epoch);
      },
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new TypeError('the simulated platform is closed');
  }

  private presentSlot(bdf: string): Slot {
    const s = this.slots.get(bdf);
    if (!s?.present) throw new TypeError(`no function present at ${bdf}`);
    return s;
  }

  private spec(device: string | SimulatedDeviceSpec): SimulatedDeviceSpec {
    if (typeof device !== 'string') return device;
    const spec = this.spares.get(device);
    if (!spec)
      throw new TypeError(`no spare named "${device}" (spares: ${[...this.spares.keys()].join(', ') || 'none'})`);
    return spec;
  }

  /** The function comes back with fresh state: a new emulator behind a new mailbox, same handles. */
  private reset(s: Slot, spec: SimulatedDeviceSpec): void {
    this.discard(s);
    s.spec = spec;
    s.built = undefined;
  }

  /** The device loses its state: an answer in the works is dropped, a device thread forgets it. */
  private discard(s: Slot): void {
    if (!s.built) return;
    s.built.reset();
    this.drops.get(s.built)?.();
  }

  /** The device behind the slot now (built on first use). @internal */
  deviceOf(s: Slot): SimulatedDoeDevice {
    s.built ??= this.build(s.spec);
    return s.built;
  }

  private build(spec: SimulatedDeviceSpec): SimulatedDoeDevice {
    let handler: SpdmHandler = NO_SPDM;
    let drop: (() => void) | undefined;
    if (spec.profile && this.threads) {
      const remote = this.threads.handler(spec.profile, spec.misbehavior);
      handler = remote;
      drop = () => remote.drop();
    } else if (spec.profile) handler = deviceHandler(spec.profile, spec.misbehavior, this.opts.random);
    const id = spec.identity;
    const device = new SimulatedDoeDevice({
      handler,
      vendorId: id.vendorId,
      deviceId: id.deviceId,
      classCode: id.classCode,
      revisionId: id.revisionId,
      subsystemVendorId: id.subsystemVendorId,
      subsystemId: id.subsystemId,
      ...(id.serialNumber !== undefined ? { serialNumber: id.serialNumber } : {}),
      doe: spec.doe !== undefined,
      ...(spec.doe ? { protocols: spec.doe.protocols, doeCapabilityVersion: spec.doe.capabilityVersion } : {}),
      clock: this.clock,
    });
    if (spec.doe && spec.doe.responseDelayMs > 0) device.slow(spec.doe.responseDelayMs);
    if (drop) this.drops.set(device, drop);
    return device;
  }

  /** Queued so that an event injected from inside a listener is delivered after the current one. */
  private emit(event: PlatformEvent): void {
    this.queue.push(event);
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) {
        for (const l of [...this.listeners]) {
          try {
            l(e);
          } catch {
            // A failing subscriber must not keep the event from the others (nor undo the event).
          }
        }
      }
    } finally {
      this.delivering = false;
    }
  }
}

/** A simulated platform from a platform file (YAML or JSON). Throws PlatformFileError for a bad file. */
export function loadSimulatedPlatform(
  file: string,
  opts: SimulatedPlatformOptions & { readonly format?: PlatformFileFormat } = {},
): SimulatedPlatform {
  return new SimulatedPlatform(loadPlatformFile(file, opts.format), opts);
}
