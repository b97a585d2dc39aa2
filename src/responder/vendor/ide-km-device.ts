/**
 * The emulated device's side of IDE_KM (PCIe 6.x, and the CXL 3.x variant for CXL.cachemem):
 * which keys the TSM programmed into which port, stream, key set, direction and sub-stream, and
 * which key set is live (K_SET_GO) for each. Keys only ever arrive inside a secure session (the
 * responder routes VENDOR_DEFINED_REQUEST here from the in-session path only).
 *
 * The device: PCIe ports 0..1, each with one Selective IDE Stream whose Stream ID is 0 (the reset
 * value of its control register; config space is not emulated, so no other ID can be set up), no
 * Link IDE; CXL port 0 with CXL.cachemem IDE in skid and containment mode, device-generated keys
 * and IVs (GET_KEY) and K_SET_STOP. IDE_KM has no error message: KEY_PROG failures go in KP_ACK's
 * status; a K_SET_GO for a key that was never programmed, or a QUERY/GET_KEY for a port that does
 * not exist, has no IDE_KM answer and gets an SPDM ERROR (InvalidRequest) from the caller.
 */
import type { RandomSource } from '../../crypto/random.js';
import {
  CxlIdeKmCaps,
  IdeKmObject,
  KeySubStream,
  KpAckStatus,
  IDE_KM_KEY_SIZE,
  IDE_KM_STREAM_HEADER_SIZE,
  decodeIdeKm,
  encodeIdeKm,
  ideKmIvSize,
  ideKmObjectId,
  type IdeKmFlavor,
  type IdeKmMessage,
  type IdeKmStream,
} from '../../spdm/vendor/ide-km.js';
import { Reader } from '../../wire/reader.js';

/** Thrown when a request has no IDE_KM answer; the caller turns it into an SPDM ERROR. */
export class IdeKmRefusal extends Error {}

/** CXL KP_ACK has two statuses: 0 success, 1 invalid. */
const CXL_KP_ACK_INVALID = 0x01;

const PCI_SUB_STREAMS = [KeySubStream.SUB_STREAM_PR, KeySubStream.SUB_STREAM_NPR, KeySubStream.SUB_STREAM_CPL];
/** The one Selective IDE Stream's Stream ID (its control register's reset value). */
const SELECTIVE_STREAM_ID = 0;
/** CXL.cachemem IDE has a single stream, ID 0. */
const CXL_STREAM_ID = 0;

interface ProgrammedKey {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}

/** Where a key lives: the key set is 0 for CXL (one key per direction). */
interface Slot {
  readonly port: number;
  readonly stream: number;
  readonly direction: 'rx' | 'tx';
  readonly subStream: number;
}

function slotName(s: Slot): string {
  return `${s.port}/${s.stream}/${s.direction}/${s.subStream}`;
}

export interface IdeKmDeviceOptions {
  readonly random: RandomSource;
  /** Told when a stream of a port stops being secure (a K_SET_STOP): TDISP puts bound TDIs in ERROR. */
  readonly onStreamInsecure?: (streamId: number) => void;
}

export class IdeKmDevice {
  readonly maxPortIndex: number;
  /** slot → key set (0/1) → key. */
  private readonly keys = new Map<string, Map<number, ProgrammedKey>>();
  /** slot → the live key set, and (CXL) the mode it went live in. */
  private readonly live = new Map<string, { keySet: number; containment: boolean }>();

  constructor(
    readonly flavor: IdeKmFlavor,
    private readonly options: IdeKmDeviceOptions,
  ) {
    this.maxPortIndex = flavor === 'pci' ? 1 : 0;
  }

  /** One IDE_KM request → its response body (a DecodeError or IdeKmRefusal when there is none). */
  answer(body: Uint8Array): Uint8Array {
    const object = ideKmObjectId(body, this.flavor);
    // A KEY_PROG whose length is wrong still names its stream: KP_ACK says INCORRECT_LENGTH.
    if (object === IdeKmObject.KEY_PROG && body.length !== IDE_KM_STREAM_HEADER_SIZE + 32 + ideKmIvSize(this.flavor)) {
      const stream = readStreamHeader(body, this.flavor);
      return this.kpAck(stream, this.flavor === 'pci' ? KpAckStatus.INCORRECT_LENGTH : CXL_KP_ACK_INVALID);
    }
    const m = decodeIdeKm(body, this.flavor);
    switch (m.object) {
      case IdeKmObject.QUERY:
        return encodeIdeKm(this.query(m.portIndex), this.flavor);
      case IdeKmObject.KEY_PROG:
        return this.kpAck(m, this.keyProg(m));
      case IdeKmObject.K_SET_GO:
        this.keySetGo(m);
        return this.gostopAck(m);
      case IdeKmObject.K_SET_STOP:
        this.keySetStop(m);
        return this.gostopAck(m);
      case IdeKmObject.GET_KEY:
        return encodeIdeKm(this.getKey(m), this.flavor);
      default:
        // A response object sent as a request.
        throw new IdeKmRefusal(`IDE_KM object 0x${m.object.toString(16)} is not a request`);
    }
  }

  /** Whether a stream of any port has a live key set in every sub-stream of both directions. */
  isStreamSecure(streamId: number): boolean {
    for (let port = 0; port <= this.maxPortIndex; port++) {
      const subs = this.flavor === 'pci' ? PCI_SUB_STREAMS : [KeySubStream.SUB_STREAM_CXL];
      const all = subs.every((subStream) =>
        (['rx', 'tx'] as const).every((direction) =>
          this.live.has(slotName({ port, stream: streamId, direction, subStream })),
        ),
      );
      if (all) return true;
    }
    return false;
  }

  /** The key programmed for a slot and key set (tests and the TDISP binding read it). */
  programmedKey(stream: IdeKmStream): ProgrammedKey | undefined {
    const slot = this.slotOf(stream);
    return slot && this.keys.get(slotName(slot))?.get(this.keySetOf(stream));
  }

  /** The key set live for a slot, if any. */
  liveKeySet(stream: IdeKmStream): number | undefined {
    const slot = this.slotOf(stream);
    return slot && this.live.get(slotName(slot))?.keySet;
  }

  private keySetOf(s: IdeKmStream): number {
    return this.flavor === 'pci' ? s.keySubStream & KeySubStream.KEY_SET_MASK : 0;
  }

  /** The slot a KeySubStream byte names, or undefined when a field has a value the device lacks. */
  private slotOf(s: IdeKmStream): Slot | undefined {
    if (s.portIndex > this.maxPortIndex) return undefined;
    const subStream = s.keySubStream & KeySubStream.SUB_STREAM_MASK;
    const direction = (s.keySubStream & KeySubStream.DIRECTION_MASK) !== 0 ? 'tx' : 'rx';
    if (this.flavor === 'pci') {
      // Bits 3:2 are reserved in PCIe IDE_KM.
      if ((s.keySubStream & 0x0c) !== 0 || !PCI_SUB_STREAMS.includes(subStream as 0)) return undefined;
      if (s.streamId !== SELECTIVE_STREAM_ID) return undefined;
    } else {
      // Bit 0 is reserved in CXL IDE_KM; bit 3 is the IV/mode flag, read by the caller.
      if ((s.keySubStream & 0x05) !== 0 || subStream !== KeySubStream.SUB_STREAM_CXL) return undefined;
      if (s.streamId !== CXL_STREAM_ID) return undefined;
    }
    return { port: s.portIndex, stream: s.streamId, direction, subStream };
  }

  private query(portIndex: number): IdeKmMessage {
    if (portIndex > this.maxPortIndex) throw new IdeKmRefusal(`no port ${portIndex}`);
    const common = {
      object: IdeKmObject.QUERY_RESP,
      portIndex,
      // Function 0 of bus 0 in segment 0: the emulator's only function.
      devFuncNum: 0,
      busNum: 0,
      segment: 0,
      maxPortIndex: this.maxPortIndex,
    } as const;
    if (this.flavor === 'pci') return { ...common, registers: this.pciIdeRegisters(portIndex) };
    return {
      ...common,
      caps: CxlIdeKmCaps.VERSION_1 | CxlIdeKmCaps.IV_GEN | CxlIdeKmCaps.KEY_GEN | CxlIdeKmCaps.K_SET_STOP,
      registers: this.cxlIdeRegisters(portIndex),
    };
  }

  /**
   * The port's IDE Extended Capability, as QUERY_RESP carries it: header, IDE Capability, IDE
   * Control, then the one Selective IDE Stream's Capability, Control, Status, RID Association 1/2
   * and one Address Association block (three DWs).
   */
  private pciIdeRegisters(port: number): number[] {
    const header = 0x0030 | (1 << 16); // extended capability ID 0x30 (IDE), version 1, last in the list
    // Selective IDE supported (bit 1), IDE_KM supported (bit 6); AES-GCM-256 (algorithm 0);
    // bits 23:16 hold the number of Selective IDE Streams minus one.
    const capability = (1 << 1) | (1 << 6);
    const streamCapability = 1; // one Address Association register block
    const secure = this.isPortStreamSecure(port, SELECTIVE_STREAM_ID);
    // Enable (bit 0) once the stream carries keys; Stream ID in bits 31:24.
    const streamControl = (secure ? 1 : 0) | (SELECTIVE_STREAM_ID << 24);
    const streamStatus = secure ? 0x2 : 0x0; // state: 0 Insecure, 2 Secure
    const ridAssociation1 = 0xff << 8; // RID limit: the whole bus 0
    const ridAssociation2 = 1; // valid, RID base 0
    return [
      header,
      capability,
      0,
      streamCapability,
      streamControl,
      streamStatus,
      ridAssociation1,
      ridAssociation2,
      0,
      0,
      0,
    ];
  }

  private isPortStreamSecure(port: number, stream: number): boolean {
    return PCI_SUB_STREAMS.every((subStream) =>
      (['rx', 'tx'] as const).every((direction) => this.live.has(slotName({ port, stream, direction, subStream }))),
    );
  }

  /**
   * The CXL IDE Capability Structure (nine DWs): Capability (IDE capable, skid and containment
   * modes, AES-GCM-256, IDE.Stop capable), Control, Status (Rx/Tx state), Error Status, and the
   * key-refresh and truncation-delay capability and control registers (none advertised).
   */
  private cxlIdeRegisters(port: number): number[] {
    const capability = 0x1 | (0x3 << 1) | (1 << 23);
    const state = (direction: 'rx' | 'tx'): number => {
      const l = this.live.get(
        slotName({ port, stream: CXL_STREAM_ID, direction, subStream: KeySubStream.SUB_STREAM_CXL }),
      );
      // 1: active containment, 2: active skid, 4: insecure.
      return l === undefined ? 4 : l.containment ? 1 : 2;
    };
    return [capability, 0, state('rx') | (state('tx') << 4), 0, 0, 0, 0, 0, 0];
  }

  private keyProg(m: IdeKmStream & { readonly key: Uint8Array; readonly iv: Uint8Array }): number {
    const invalid = this.flavor === 'pci' ? KpAckStatus.UNSUPPORTED_VALUE : CXL_KP_ACK_INVALID;
    if (m.portIndex > this.maxPortIndex)
      return this.flavor === 'pci' ? KpAckStatus.UNSUPPORTED_PORT_INDEX : CXL_KP_ACK_INVALID;
    const slot = this.slotOf(m);
    if (!slot) return invalid;
    const keySet = this.keySetOf(m);
    const name = slotName(slot);
    // A live key set is in use by the link: it is replaced by programming the other set and
    // switching to it, not overwritten in place.
    if (this.live.get(name)?.keySet === keySet)
      return this.flavor === 'pci' ? KpAckStatus.UNSPECIFIED_FAILURE : CXL_KP_ACK_INVALID;
    let iv = m.iv.slice();
    // CXL: IV_DEFAULT set means the device uses its default initial IV (the DW0 0x80000000 one).
    if (this.flavor === 'cxl' && (m.keySubStream & KeySubStream.CXL_MODE_MASK) !== 0)
      iv = Uint8Array.of(0, 0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0);
    const sets = this.keys.get(name) ?? new Map<number, ProgrammedKey>();
    sets.set(keySet, { key: m.key.slice(), iv });
    this.keys.set(name, sets);
    return KpAckStatus.SUCCESS;
  }

  private keySetGo(m: IdeKmStream): void {
    const slot = this.slotOf(m);
    if (!slot) throw new IdeKmRefusal('K_SET_GO names a port, stream or sub-stream the device lacks');
    const keySet = this.keySetOf(m);
    if (!this.keys.get(slotName(slot))?.has(keySet))
      throw new IdeKmRefusal(`K_SET_GO for key set ${keySet} of ${slotName(slot)}, which has no key`);
    // CXL K_SET_GO bit 3 picks containment (1) or skid (0) mode; both are supported.
    const containment = this.flavor === 'cxl' && (m.keySubStream & KeySubStream.CXL_MODE_MASK) !== 0;
    this.live.set(slotName(slot), { keySet, containment });
  }

  private keySetStop(m: IdeKmStream): void {
    const slot = this.slotOf(m);
    if (!slot) throw new IdeKmRefusal('K_SET_STOP names a port, stream or sub-stream the device lacks');
    const name = slotName(slot);
    const keySet = this.keySetOf(m);
    // Stopping a key set takes it out of use and forgets its key; stopping one that is not live
    // is acknowledged as well (the end state is what the TSM asked for).
    this.keys.get(name)?.delete(keySet);
    if (this.live.get(name)?.keySet === keySet) {
      this.live.delete(name);
      this.options.onStreamInsecure?.(slot.stream);
    }
  }

  private getKey(m: IdeKmStream): IdeKmMessage {
    const slot = this.slotOf(m);
    if (!slot) throw new IdeKmRefusal('GET_KEY names a port, stream or sub-stream the device lacks');
    const key = this.options.random(IDE_KM_KEY_SIZE);
    // Initial IV: DW0 0x80000000 (the fixed field), then a 64-bit random invocation field.
    const iv = new Uint8Array(12);
    iv.set([0, 0, 0, 0x80]);
    iv.set(this.options.random(8), 4);
    return {
      object: IdeKmObject.GET_KEY_ACK,
      streamId: m.streamId,
      keySubStream: m.keySubStream,
      portIndex: m.portIndex,
      key,
      iv,
    };
  }

  private kpAck(s: IdeKmStream, status: number): Uint8Array {
    return encodeIdeKm({ object: IdeKmObject.KP_ACK, ...pick(s), status }, this.flavor);
  }

  private gostopAck(s: IdeKmStream): Uint8Array {
    return encodeIdeKm({ object: IdeKmObject.K_GOSTOP_ACK, ...pick(s) }, this.flavor);
  }
}

function pick(s: IdeKmStream): IdeKmStream {
  return { streamId: s.streamId, keySubStream: s.keySubStream, portIndex: s.portIndex };
}

function readStreamHeader(body: Uint8Array, flavor: IdeKmFlavor): IdeKmStream {
  const r = new Reader(body, `${flavor === 'pci' ? 'IDE_KM' : 'CXL_IDE_KM'} KEY_PROG`, 1);
  r.skip(2, 'Reserved');
  const streamId = r.u8('StreamID');
  r.skip(1, 'Reserved');
  const keySubStream = r.u8('KeySubStream');
  return { streamId, keySubStream, portIndex: r.u8('PortIndex') };
}
