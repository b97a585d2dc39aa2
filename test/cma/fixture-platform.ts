/**
 * A small Platform for the CMA tests, built from the real parts: each function is a
 * SimulatedDoeDevice (the DOE register model) whose CMA-SPDM objects go to a Responder (the device
 * emulator) built by buildProfile, with the PCIe CMA SAN its leaf must carry for the identity the
 * config space shows. The test swaps what answers behind a BDF (another device, new firmware, a
 * clone), plugs, unplugs and resets functions, and the platform emits the events a kernel would.
 */
import { SimulatedDoeDevice } from '../../src/pci/doe-device.js';
import { MemoryConfigSpace, type ConfigSpace } from '../../src/pci/config-space.js';
import { readPciIdentity } from '../../src/pci/identity.js';
import { CMA_DOE_PROTOCOLS } from '../../src/transport/doe.js';
import type { Platform, PlatformEvent, PlatformFunction, ResetKind } from '../../src/platform/platform.js';
import { Responder } from '../../src/responder/responder.js';
import { misbehaving } from '../../src/responder/faults/misbehavior.js';
import { buildProfile, standardMeasurements, type BuiltProfile } from '../../src/responder/profiles.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import type { Clock } from '../../src/transport/clock.js';
import { createRootCa, generateKeyPair, type CertIdentity } from '../../src/x509/generate.js';
import { parseCertificate, type ParsedCertificate } from '../../src/x509/certificate.js';
import { cmaSanString } from '../../src/verifier/cma-san.js';
import { SpdmError } from '../../src/wire/errors.js';
import { FakeClock } from '../pci/fake-clock.js';

/** The discrete-event FakeClock, started at the wall clock so certificates are valid. */
export function testClock(): Clock & { readonly fake: FakeClock } {
  const fake = new FakeClock();
  const start = Date.now();
  return { now: () => start + fake.now(), sleep: (ms) => fake.sleep(ms), fake };
}

let vendor: { root: CertIdentity; anchor: ParsedCertificate } | undefined;
/** One vendor root for every genuine device (made once: key generation is the slow part). */
export function vendorRoot(): { root: CertIdentity; anchor: ParsedCertificate } {
  vendor ??= (() => {
    const root = createRootCa({ asymId: 0x0080, commonName: 'Acme Devices Root CA' });
    return { root, anchor: parseCertificate(root.certificate) };
  })();
  return vendor;
}

export type DeviceKind = 'genuine' | 'counterfeit' | 'clone' | 'no-doe' | 'no-cma';

/** Answers for a function: replaceable, so a test can swap the device behind the BDF. */
class Switch implements SpdmHandler {
  constructor(public target: SpdmHandler) {}
  handle(request: Uint8Array): Promise<Uint8Array> {
    return this.target.handle(request);
  }
}

/** A config-space handle the CMA layer owns: dead once closed or once the function is unplugged. */
class Handle implements ConfigSpace {
  private closed = false;
  constructor(
    private readonly fn: FixtureFunction,
    private readonly space: ConfigSpace,
  ) {}
  get size(): number {
    return this.space.size;
  }
  private check(): void {
    if (this.closed) throw new SpdmError('TRANSPORT_ERROR', `${this.fn.bdf}: config space handle closed`);
    if (!this.fn.plugged) throw new SpdmError('TRANSPORT_ERROR', `${this.fn.bdf}: device gone`);
  }
  async read32(offset: number): Promise<number> {
    this.check();
    this.fn.accesses++;
    return this.space.read32(offset);
  }
  async write32(offset: number, value: number): Promise<void> {
    this.check();
    this.fn.accesses++;
    return this.space.write32(offset, value);
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fn.openHandles--;
  }
}

export class FixtureFunction implements PlatformFunction {
  plugged = true;
  /** Config-space reads and writes through CMA handles. */
  accesses = 0;
  openHandles = 0;
  readonly sw: Switch | undefined;
  built: BuiltProfile | undefined;

  constructor(
    readonly bdf: string,
    readonly kind: DeviceKind,
    readonly space: ConfigSpace,
    readonly doe: SimulatedDoeDevice | undefined,
    sw: Switch | undefined,
    built: BuiltProfile | undefined,
  ) {
    this.sw = sw;
    this.built = built;
  }

  async openConfigSpace(): Promise<ConfigSpace> {
    if (!this.plugged) throw new SpdmError('TRANSPORT_ERROR', `${this.bdf}: no such function`);
    this.openHandles++;
    return new Handle(this, this.space);
  }

  /** The SAN a genuine leaf for this function carries. */
  async san(): Promise<string> {
    return cmaSanString(await readPciIdentity(this.space));
  }

  /** Puts another device (same PCI identity, another key) behind this BDF. */
  async swapDevice(): Promise<void> {
    this.built = buildProfile({
      name: `${this.bdf}-replacement`,
      versions: [0x12, 0x13],
      asymId: 0x0080,
      hashId: 0x02,
      root: vendorRoot().root,
      leaf: { pcieCmaSan: await this.san() },
    });
    this.answerWith(new Responder(this.built.profile));
  }

  /** New firmware on the same device: same keys and chain, other measurements. */
  updateFirmware(version: string): void {
    const b = this.built as BuiltProfile;
    this.built = { ...b, profile: { ...b.profile, measurements: standardMeasurements(b.profile.name, version) } };
    this.answerWith(new Responder(this.built.profile));
  }

  /** Device-side reset: mailbox state and SPDM connection lost. */
  resetDevice(): void {
    this.doe?.reset();
    if (this.built && this.sw?.target instanceof Responder) this.answerWith(new Responder(this.built.profile));
  }

  answerWith(h: SpdmHandler): void {
    if (!this.sw) throw new TypeError(`${this.bdf} has no DOE mailbox`);
    this.sw.target = h;
  }
}

export class FixturePlatform implements Platform {
  readonly kind = 'simulated' as const;
  private readonly fns = new Map<string, FixtureFunction>();
  private readonly listeners = new Set<(e: PlatformEvent) => void>();
  closed = false;

  constructor(readonly clock: Clock) {}

  /** Creates a function of `kind` at `bdf` (not yet plugged in: see plug / add). */
  async make(bdf: string, kind: DeviceKind, deviceId = 0x10ff): Promise<FixtureFunction> {
    if (kind === 'no-doe') {
      const space = new MemoryConfigSpace();
      space.poke32(0x00, (0x1dea | (deviceId << 16)) >>> 0);
      space.poke32(0x08, 0x12000001);
      return new FixtureFunction(bdf, kind, space, undefined, undefined, undefined);
    }
    const sw = new Switch({ handle: () => Promise.reject(new Error('no device yet')) });
    const doe = new SimulatedDoeDevice({
      handler: sw,
      vendorId: 0x1dea,
      deviceId,
      clock: this.clock,
      ...(kind === 'no-cma' ? { protocols: CMA_DOE_PROTOCOLS.slice(0, 1) } : {}),
    });
    const fn = new FixtureFunction(bdf, kind, doe, doe, sw, undefined);
    const san = await fn.san();
    const built =
      kind === 'counterfeit'
        ? buildProfile({ name: `knockoff-${bdf}`, versions: [0x12], asymId: 0x0010, hashId: 0x01 })
        : buildProfile({
            name: `acme-${bdf}`,
            versions: [0x12, 0x13],
            asymId: 0x0080,
            hashId: 0x02,
            root: vendorRoot().root,
            firmwareVersion: '1.0.0',
            leaf: { pcieCmaSan: san },
          });
    fn.built = built;
    sw.target =
      kind === 'clone'
        ? misbehaving(built.profile, { signingKey: generateKeyPair(0x0080).privateKey })
        : new Responder(built.profile);
    return fn;
  }

  /** Adds a function present from the start (no event). */
  async add(bdf: string, kind: DeviceKind, deviceId?: number): Promise<FixtureFunction> {
    const fn = await this.make(bdf, kind, deviceId);
    this.fns.set(bdf, fn);
    return fn;
  }

  get(bdf: string): FixtureFunction {
    const fn = this.fns.get(bdf);
    if (!fn) throw new TypeError(`no fixture function ${bdf}`);
    return fn;
  }

  /** Hot-plug: the function appears and `added` is emitted. */
  plug(fn: FixtureFunction): void {
    fn.plugged = true;
    this.fns.set(fn.bdf, fn);
    this.emit({ type: 'added', bdf: fn.bdf });
  }

  /** Hot-unplug: the function vanishes (its handles die) and `removed` is emitted. */
  unplug(bdf: string): void {
    const fn = this.get(bdf);
    fn.plugged = false;
    this.fns.delete(bdf);
    this.emit({ type: 'removed', bdf });
  }

  /** A reset the platform sees: the device loses its state, then `reset` is emitted. */
  reset(bdf: string, kind: ResetKind = 'flr'): void {
    this.get(bdf).resetDevice();
    this.emit({ type: 'reset', bdf, kind });
  }

  emit(e: PlatformEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  async functions(): Promise<readonly PlatformFunction[]> {
    if (this.closed) throw new SpdmError('TRANSPORT_ERROR', 'platform closed');
    return [...this.fns.values()].sort((a, b) => (a.bdf < b.bdf ? -1 : 1));
  }

  subscribe(listener: (event: PlatformEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
