/**
 * A simulated PCIe device with a DOE mailbox: a 4 KiB config space (standard header, a PCI
 * Express capability, an extended capability list with a dummy capability in front of the DOE
 * capability) whose DOE registers behave like hardware. Discovery is answered by the device; CMA-SPDM
 * objects go to an SpdmHandler (normally the device emulator). Fault knobs let tests make it
 * busy, hang, fail, slow, reset mid-transfer or overflow its write buffer. The header carries the
 * identity the CMA SAN rule compares (class, revision, subsystem IDs) and, when given a serial
 * number, a Device Serial Number capability; a variant without the DOE capability stands for a
 * device that cannot do CMA at all.
 */
import { SpdmError } from '../wire/errors.js';
import { systemClock, type Clock } from '../transport/clock.js';
import type { SpdmHandler } from '../transport/transport.js';
import {
  CMA_DOE_PROTOCOLS,
  decodeDoeDiscoveryRequest,
  decodeDoeHeader,
  discoveryEntry,
  DOE_HEADER_DW,
  DOE_MAX_OBJECT_DW,
  DoeObjectType,
  encodeDoeDiscoveryResponse,
  encodeDoeObject,
  PCI_SIG_VENDOR_ID,
  type DoeProtocol,
} from '../transport/doe.js';
import {
  checkConfigOffset,
  encodeExtendedCapabilityHeader,
  MemoryConfigSpace,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_EXT_CAP_ID_DOE,
  type ConfigSpace,
} from './config-space.js';
import {
  DOE_CTRL_ABORT,
  DOE_CTRL_GO,
  DOE_CTRL_INT_EN,
  DOE_STATUS_BUSY,
  DOE_STATUS_DATA_OBJECT_READY,
  DOE_STATUS_ERROR,
  DoeReg,
  DOE_CAP_SIZEOF,
} from './doe-mailbox.js';
import { PCI_EXT_CAP_ID_DSN } from './identity.js';

export interface SimulatedDoeDeviceOptions {
  /** Answers CMA-SPDM (type 1) payloads. */
  readonly handler: SpdmHandler;
  /** Answers secured CMA-SPDM (type 2) payloads; `handler` does when absent. */
  readonly securedHandler?: SpdmHandler;
  readonly vendorId?: number;
  readonly deviceId?: number;
  /** 24-bit class code (default 120000h, processing accelerator) and revision ID (default 01h). */
  readonly classCode?: number;
  readonly revisionId?: number;
  /** Subsystem vendor and subsystem IDs of the type 0 header (default 0). */
  readonly subsystemVendorId?: number;
  readonly subsystemId?: number;
  /** Adds a Device Serial Number extended capability (after the DOE capability) holding this 64-bit number. */
  readonly serialNumber?: bigint;
  /**
   * Whether the device has a DOE capability at all (default true). Without one the DOE registers
   * are plain read-only config space and `handler` is never called: a device that cannot do CMA.
   */
  readonly doe?: boolean;
  /** Where the DOE capability sits (default 0x150, after an AER capability at 0x100). */
  readonly doeOffset?: number;
  /** Put an AER capability at 0x100 in front of the DOE capability (default true), so a walk must follow Next. */
  readonly capabilityBeforeDoe?: boolean;
  /** DOE extended capability version (default 1; 2 makes a driver send Discovery Version 2). */
  readonly doeCapabilityVersion?: number;
  /** Protocols listed by discovery and accepted (default discovery, CMA-SPDM, secured CMA-SPDM). */
  readonly protocols?: readonly DoeProtocol[];
  readonly clock?: Clock;
  /** Write buffer size in DW (default 2^18: every legal object fits). */
  readonly mailboxCapacityDw?: number;
}

export interface SimulatedDoeCounters {
  /** Abort requests seen (including ignored ones). */
  aborts: number;
  /** Objects received with Go. */
  objects: number;
  /** Response objects fully read out. */
  responses: number;
  /** Times the device set its Error bit. */
  errors: number;
  resets: number;
  statusReads: number;
}

type Trigger = { readonly phase: 'request' | 'response'; readonly afterDw: number };

const AER_CAP_ID = 0x0001;
/** The DSN capability is 12 bytes: header, serial low DW, serial high DW. */
const DSN_CAP_SIZEOF = 0x0c;
const PCIE_CAP_ID = 0x10;

export class SimulatedDoeDevice implements ConfigSpace {
  readonly size = PCI_CFG_SPACE_EXP_SIZE;
  readonly doeOffset: number;
  /** False for the variant without a DOE capability. */
  readonly hasDoe: boolean;
  /** Where the Device Serial Number capability sits, when there is one. */
  readonly dsnOffset: number | undefined;
  readonly protocols: readonly DoeProtocol[];
  /** The device's write buffer, in DW: writing more sets Error. Settable at any time. */
  mailboxCapacityDw: number;
  readonly counters: SimulatedDoeCounters = {
    aborts: 0,
    objects: 0,
    responses: 0,
    errors: 0,
    resets: 0,
    statusReads: 0,
  };

  private readonly space = new MemoryConfigSpace(PCI_CFG_SPACE_EXP_SIZE);
  private readonly clock: Clock;
  private readonly handler: SpdmHandler;
  private readonly securedHandler: SpdmHandler;

  // Mailbox state.
  private writeBuf: number[] = [];
  private response: Uint32Array | undefined;
  private readIndex = 0;
  private working = false;
  private error = false;
  private interruptEnable = false;
  /** Bumped by abort and reset: a handler result from an older generation is dropped. */
  private generation = 0;
  private requestDwSeen = 0;
  private acksSeen = 0;

  // Knobs.
  private busyUntil = -Infinity;
  private busyReads = 0;
  private failNext = false;
  private hangNext = false;
  private slowMs = 0;
  private abortsIgnored = false;
  private resetTrigger: Trigger | undefined;

  constructor(opts: SimulatedDoeDeviceOptions) {
    this.handler = opts.handler;
    this.securedHandler = opts.securedHandler ?? opts.handler;
    this.clock = opts.clock ?? systemClock;
    this.protocols = opts.protocols ?? CMA_DOE_PROTOCOLS;
    this.mailboxCapacityDw = opts.mailboxCapacityDw ?? DOE_MAX_OBJECT_DW;
    this.doeOffset = opts.doeOffset ?? 0x150;
    this.hasDoe = opts.doe ?? true;
    const withAer = opts.capabilityBeforeDoe ?? true;
    checkConfigOffset(this.doeOffset, this.size, 'DOE capability');
    if (this.doeOffset < 0x100 || this.doeOffset + DOE_CAP_SIZEOF > this.size || (withAer && this.doeOffset < 0x148)) {
      throw new TypeError(`DOE capability cannot sit at 0x${this.doeOffset.toString(16)}`);
    }
    const serial = opts.serialNumber;
    if (serial !== undefined && (serial < 0n || serial > 0xffffffffffffffffn)) {
      throw new TypeError('serialNumber must be a 64-bit unsigned number');
    }
    // The DSN capability follows the DOE capability, or takes the DOE capability's place without one.
    this.dsnOffset =
      serial === undefined ? undefined : this.hasDoe ? this.doeOffset + DOE_CAP_SIZEOF : withAer ? 0x148 : 0x100;
    if (this.dsnOffset !== undefined && this.dsnOffset + DSN_CAP_SIZEOF > this.size) {
      throw new TypeError(`no room for a DSN capability after a DOE capability at 0x${this.doeOffset.toString(16)}`);
    }
    const s = this.space;
    // Type 0 header: IDs, Status.CapabilitiesList, class and revision (default 12h, processing accelerator), subsystem IDs, capabilities pointer 0x40.
    s.poke32(0x00, ((opts.vendorId ?? 0x1af4) | ((opts.deviceId ?? 0x10ff) << 16)) >>> 0);
    s.poke32(0x04, 0x0010 << 16);
    s.poke32(0x08, (((opts.classCode ?? 0x120000) & 0xffffff) << 8) | ((opts.revisionId ?? 0x01) & 0xff));
    s.poke32(0x2c, ((opts.subsystemVendorId ?? 0) & 0xffff) | (((opts.subsystemId ?? 0) & 0xffff) << 16));
    s.poke32(0x34, 0x40);
    // PCI Express capability (ID 10h, version 2, endpoint), the end of the legacy list.
    s.poke32(0x40, PCIE_CAP_ID | (0x0002 << 16));
    const first = this.hasDoe ? this.doeOffset : (this.dsnOffset ?? 0);
    if (withAer) {
      s.poke32(0x100, encodeExtendedCapabilityHeader(AER_CAP_ID, 2, first));
    }
    if (this.hasDoe) {
      s.poke32(
        this.doeOffset,
        encodeExtendedCapabilityHeader(PCI_EXT_CAP_ID_DOE, opts.doeCapabilityVersion ?? 1, this.dsnOffset ?? 0),
      );
    }
    if (this.dsnOffset !== undefined && serial !== undefined) {
      s.poke32(this.dsnOffset, encodeExtendedCapabilityHeader(PCI_EXT_CAP_ID_DSN, 1, 0));
      s.poke32(this.dsnOffset + 4, Number(serial & 0xffffffffn));
      s.poke32(this.dsnOffset + 8, Number(serial >> 32n));
    }
  }

  // ----------------------------------------------------------------------------------- knobs

  /** Report Busy for the next `ms` of clock time, or for the next `statusReads` reads of Status (an abort or reset ends it). */
  busyFor(spec: { readonly ms?: number; readonly statusReads?: number }): void {
    if (spec.ms !== undefined) this.busyUntil = this.clock.now() + spec.ms;
    if (spec.statusReads !== undefined) this.busyReads = spec.statusReads;
  }

  /** The next object set going sets Error instead of being answered. */
  errorOnNext(): void {
    this.failNext = true;
  }

  /** The next object is accepted (Busy) but never answered: only an abort or reset ends it. */
  hang(): void {
    this.hangNext = true;
  }

  /** Every answer takes `ms` of clock time (0 restores prompt answers). */
  slow(ms: number): void {
    this.slowMs = ms;
  }

  /** Whether aborts are ignored (Busy/Error stay set: a dead mailbox). */
  ignoreAborts(on = true): void {
    this.abortsIgnored = on;
  }

  /** Device reset: all mailbox state lost, Busy/Ready/Error cleared, a pending answer dropped. */
  reset(): void {
    this.counters.resets++;
    this.clearMailbox();
    this.busyUntil = -Infinity;
    this.busyReads = 0;
  }

  /** Reset the device when the `afterDw`-th DW of the next request is written, or the `afterDw`-th response DW is acknowledged. */
  resetDuring(phase: 'request' | 'response', afterDw: number): void {
    this.resetTrigger = { phase, afterDw };
    this.requestDwSeen = 0;
    this.acksSeen = 0;
  }

  /** True while a response object is waiting to be read. */
  get dataObjectReady(): boolean {
    return this.response !== undefined;
  }

  // ------------------------------------------------------------------------------ ConfigSpace

  async read32(offset: number): Promise<number> {
    checkConfigOffset(offset, this.size, 'simulated device');
    const rel = this.hasDoe ? offset - this.doeOffset : -1;
    if (rel >= DoeReg.CAP && rel < DOE_CAP_SIZEOF) {
      switch (rel) {
        case DoeReg.CAP:
          return 0; // no interrupt support: drivers poll
        case DoeReg.CTRL:
          return this.interruptEnable ? DOE_CTRL_INT_EN : 0; // Abort and Go read as 0
        case DoeReg.STATUS:
          return this.statusValue();
        case DoeReg.WRITE:
          return 0;
        case DoeReg.READ:
          return this.response && this.readIndex < this.response.length ? (this.response[this.readIndex] as number) : 0;
      }
    }
    return this.space.peek32(offset);
  }

  async write32(offset: number, value: number): Promise<void> {
    checkConfigOffset(offset, this.size, 'simulated device');
    const rel = this.hasDoe ? offset - this.doeOffset : -1;
    switch (rel) {
      case DoeReg.CTRL:
        return this.writeControl(value >>> 0);
      case DoeReg.WRITE:
        return this.writeMailbox(value >>> 0);
      case DoeReg.READ:
        return this.acknowledge();
      default:
        return; // everything else is read-only here (Status bit 1 is RW1C but never set: no interrupts)
    }
  }

  // ------------------------------------------------------------------------------- behaviour

  private busyNow(): boolean {
    return this.working || this.busyReads > 0 || this.clock.now() < this.busyUntil;
  }

  private statusValue(): number {
    this.counters.statusReads++;
    const busy = this.busyNow();
    if (this.busyReads > 0) this.busyReads--;
    return (
      ((busy ? DOE_STATUS_BUSY : 0) |
        (this.error ? DOE_STATUS_ERROR : 0) |
        (this.response ? DOE_STATUS_DATA_OBJECT_READY : 0)) >>>
      0
    );
  }

  private setError(): void {
    this.error = true;
    this.counters.errors++;
    this.writeBuf = [];
  }

  private clearMailbox(): void {
    this.generation++;
    this.writeBuf = [];
    this.response = undefined;
    this.readIndex = 0;
    this.working = false;
    this.error = false;
    this.failNext = false;
    this.hangNext = false;
  }

  private writeControl(value: number): void {
    this.interruptEnable = (value & DOE_CTRL_INT_EN) !== 0;
    if (value & DOE_CTRL_ABORT) {
      this.counters.aborts++;
      if (this.abortsIgnored) return;
      this.clearMailbox();
      this.busyUntil = -Infinity;
      this.busyReads = 0;
      return;
    }
    if (value & DOE_CTRL_GO) this.go();
  }

  private writeMailbox(dw: number): void {
    const t = this.resetTrigger;
    if (t?.phase === 'request' && ++this.requestDwSeen === t.afterDw) {
      this.resetTrigger = undefined;
      this.reset();
      return; // the DW being written is lost with everything else
    }
    if (this.error) return; // discarded until an abort
    if (this.busyNow() || this.response) {
      this.setError(); // a new object while the previous one is being worked on or read
      return;
    }
    if (this.writeBuf.length >= this.mailboxCapacityDw) {
      this.setError();
      return;
    }
    this.writeBuf.push(dw);
  }

  private acknowledge(): void {
    if (!this.response) return;
    this.readIndex++;
    const t = this.resetTrigger;
    if (t?.phase === 'response' && ++this.acksSeen === t.afterDw) {
      this.resetTrigger = undefined;
      this.reset();
      return;
    }
    if (this.readIndex >= this.response.length) {
      this.response = undefined;
      this.readIndex = 0;
      this.counters.responses++;
    }
  }

  private go(): void {
    if (this.error || this.working) return;
    const dws = this.writeBuf;
    this.writeBuf = [];
    if (dws.length === 0) return; // Go with nothing written: nothing to do
    this.counters.objects++;
    if (dws.length < DOE_HEADER_DW) return this.setError();
    let header;
    try {
      header = decodeDoeHeader(dws[0] as number, dws[1] as number);
    } catch {
      return this.setError();
    }
    if (header.lengthDw !== dws.length) return this.setError();
    if (!this.protocols.some((p) => p.vendorId === header.vendorId && p.type === header.type)) return this.setError();
    if (this.failNext) {
      this.failNext = false;
      return this.setError();
    }
    const payload = new Uint8Array((dws.length - DOE_HEADER_DW) * 4);
    const view = new DataView(payload.buffer);
    for (let i = DOE_HEADER_DW; i < dws.length; i++) view.setUint32((i - DOE_HEADER_DW) * 4, dws[i] as number, true);
    this.working = true;
    if (this.hangNext) {
      this.hangNext = false;
      return; // Busy forever: never Ready
    }
    void this.answer(this.generation, header.vendorId, header.type, payload);
  }

  private async answer(gen: number, vendorId: number, type: number, payload: Uint8Array): Promise<void> {
    try {
      if (this.slowMs > 0) await this.clock.sleep(this.slowMs);
      if (gen !== this.generation) return;
      let body: Uint8Array;
      if (vendorId === PCI_SIG_VENDOR_ID && type === DoeObjectType.DISCOVERY) {
        body = encodeDoeDiscoveryResponse(discoveryEntry(decodeDoeDiscoveryRequest(payload), this.protocols));
      } else if (vendorId === PCI_SIG_VENDOR_ID && type === DoeObjectType.CMA_SPDM) {
        // SPDM carries no overall length: the payload goes as is, DW padding included.
        body = await this.handler.handle(payload);
      } else if (vendorId === PCI_SIG_VENDOR_ID && type === DoeObjectType.SECURED_CMA_SPDM) {
        body = await this.securedHandler.handle(payload);
      } else {
        throw new SpdmError('UNSUPPORTED', `no handler for 0x${vendorId.toString(16)}:${type}`);
      }
      if (gen !== this.generation) return;
      const object = encodeDoeObject({ vendorId, type, payload: body });
      this.response = new Uint32Array(object.length / 4);
      const view = new DataView(object.buffer, object.byteOffset, object.byteLength);
      for (let i = 0; i < this.response.length; i++) this.response[i] = view.getUint32(i * 4, true);
      this.readIndex = 0;
      this.working = false;
    } catch {
      if (gen !== this.generation) return;
      this.working = false;
      this.setError();
    }
  }
}
