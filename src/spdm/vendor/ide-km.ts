/**
 * IDE_KM messages, the PCIe 6.x form (PCI-SIG protocol 0) and the CXL 3.x form (CXL protocol 0),
 * which differ only where CXL added something: a Caps byte in QUERY_RESP, a three-DW initial IV
 * instead of PCIe's two-DW IFV in KEY_PROG, and GET_KEY/GET_KEY_ACK.
 *
 * Layouts (after the protocol ID byte):
 *   QUERY            ObjectID, Reserved, PortIndex
 *   QUERY_RESP       ObjectID, Reserved, PortIndex, DevFuncNum, BusNum, Segment, MaxPortIndex,
 *                    [CXL: Caps], then the IDE (or CXL IDE) capability registers, one DW each
 *   stream messages  ObjectID, Reserved[2], StreamID, Reserved (KP_ACK: Status), KeySubStream, PortIndex
 *   KEY_PROG         stream header, Key (8 DW), PCIe IFV (2 DW) / CXL initial IV (3 DW)
 *   GET_KEY_ACK      stream header, Key (8 DW), IV (3 DW)             (CXL only)
 * IDE_KM has no error message: a responder that cannot act on a request says so in KP_ACK's
 * status (KEY_PROG) or not at all; the emulator answers an SPDM ERROR then (responder/vendor/).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { SpdmError } from '../../wire/errors.js';
import { expectEnd } from './pci-protocol.js';

export type IdeKmFlavor = 'pci' | 'cxl';

export const IdeKmObject = {
  QUERY: 0x00,
  QUERY_RESP: 0x01,
  KEY_PROG: 0x02,
  KP_ACK: 0x03,
  K_SET_GO: 0x04,
  K_SET_STOP: 0x05,
  K_GOSTOP_ACK: 0x06,
  /** CXL only. */
  GET_KEY: 0x07,
  /** CXL only. */
  GET_KEY_ACK: 0x08,
} as const;

/** KeySubStream byte: bit 0 key set (PCIe; CXL reserves it), bit 1 direction, bits 7:4 sub-stream. */
export const KeySubStream = {
  KEY_SET_MASK: 0x01,
  K1: 0x01,
  DIRECTION_MASK: 0x02,
  TX: 0x02,
  /** CXL KEY_PROG: IV is the default one (ignore the IV in the message); K_SET_GO: containment mode. */
  CXL_MODE_MASK: 0x08,
  SUB_STREAM_MASK: 0xf0,
  SUB_STREAM_PR: 0x00,
  SUB_STREAM_NPR: 0x10,
  SUB_STREAM_CPL: 0x20,
  /** CXL.cachemem, the only sub-stream CXL IDE_KM has. */
  SUB_STREAM_CXL: 0x80,
} as const;

export const KpAckStatus = {
  SUCCESS: 0x00,
  INCORRECT_LENGTH: 0x01,
  UNSUPPORTED_PORT_INDEX: 0x02,
  UNSUPPORTED_VALUE: 0x03,
  UNSPECIFIED_FAILURE: 0x04,
} as const;

/** CXL QUERY_RESP Caps: bits 3:0 version (1), IV generation, key generation, K_SET_STOP supported. */
export const CxlIdeKmCaps = {
  VERSION_MASK: 0x0f,
  VERSION_1: 0x01,
  IV_GEN: 0x10,
  KEY_GEN: 0x20,
  K_SET_STOP: 0x40,
} as const;

export const IDE_KM_KEY_SIZE = 32;
/** PCIe's IFV is two DWs, CXL's initial IV three. */
export function ideKmIvSize(flavor: IdeKmFlavor): number {
  return flavor === 'pci' ? 8 : 12;
}
export const IDE_KM_STREAM_HEADER_SIZE = 7;

export interface IdeKmStream {
  readonly streamId: number;
  readonly keySubStream: number;
  readonly portIndex: number;
}

export type IdeKmMessage =
  | { readonly object: typeof IdeKmObject.QUERY; readonly portIndex: number }
  | {
      readonly object: typeof IdeKmObject.QUERY_RESP;
      readonly portIndex: number;
      readonly devFuncNum: number;
      readonly busNum: number;
      readonly segment: number;
      readonly maxPortIndex: number;
      /** CXL only (absent in the PCIe form). */
      readonly caps?: number;
      readonly registers: readonly number[];
    }
  | (IdeKmStream & { readonly object: typeof IdeKmObject.KEY_PROG; readonly key: Uint8Array; readonly iv: Uint8Array })
  | (IdeKmStream & { readonly object: typeof IdeKmObject.KP_ACK; readonly status: number })
  | (IdeKmStream & {
      readonly object:
        | typeof IdeKmObject.K_SET_GO
        | typeof IdeKmObject.K_SET_STOP
        | typeof IdeKmObject.K_GOSTOP_ACK
        | typeof IdeKmObject.GET_KEY;
    })
  | (IdeKmStream & {
      readonly object: typeof IdeKmObject.GET_KEY_ACK;
      readonly key: Uint8Array;
      readonly iv: Uint8Array;
    });

const OBJECT_NAMES = new Map<number, string>(Object.entries(IdeKmObject).map(([k, v]) => [v, k]));

function messageName(flavor: IdeKmFlavor, object: number): string {
  return `${flavor === 'pci' ? 'IDE_KM' : 'CXL_IDE_KM'} ${OBJECT_NAMES.get(object) ?? 'message'}`;
}

/** The ObjectID of an IDE_KM message (DecodeError if empty), to dispatch before a full decode. */
export function ideKmObjectId(body: Uint8Array, flavor: IdeKmFlavor): number {
  return new Reader(body, messageName(flavor, -1)).u8('ObjectID');
}

/** Decode one IDE_KM message of either direction: exact lengths, known ObjectIDs only. */
export function decodeIdeKm(body: Uint8Array, flavor: IdeKmFlavor): IdeKmMessage {
  const object = ideKmObjectId(body, flavor);
  const r = new Reader(body, messageName(flavor, object), 1);
  if (object === IdeKmObject.QUERY) {
    r.skip(1, 'Reserved');
    const portIndex = r.u8('PortIndex');
    expectEnd(r);
    return { object, portIndex };
  }
  if (object === IdeKmObject.QUERY_RESP) {
    r.skip(1, 'Reserved');
    const portIndex = r.u8('PortIndex');
    const devFuncNum = r.u8('DevFuncNum');
    const busNum = r.u8('BusNum');
    const segment = r.u8('Segment');
    const maxPortIndex = r.u8('MaxPortIndex');
    const caps = flavor === 'cxl' ? r.u8('Caps') : undefined;
    if (r.remaining % 4 !== 0) r.fail('IdeRegisters', `${r.remaining} byte(s) is not a whole number of DWs`);
    const registers: number[] = [];
    while (r.remaining > 0) registers.push(r.u32(`IdeRegister[${registers.length}]`));
    return {
      object,
      portIndex,
      devFuncNum,
      busNum,
      segment,
      maxPortIndex,
      ...(caps === undefined ? {} : { caps }),
      registers,
    };
  }
  const isStream =
    object === IdeKmObject.KEY_PROG ||
    object === IdeKmObject.KP_ACK ||
    object === IdeKmObject.K_SET_GO ||
    object === IdeKmObject.K_SET_STOP ||
    object === IdeKmObject.K_GOSTOP_ACK ||
    (flavor === 'cxl' && (object === IdeKmObject.GET_KEY || object === IdeKmObject.GET_KEY_ACK));
  if (!isStream) r.fail('ObjectID', `unknown object 0x${object.toString(16)}`, 0);
  r.skip(2, 'Reserved');
  const streamId = r.u8('StreamID');
  const status = r.u8(object === IdeKmObject.KP_ACK ? 'Status' : 'Reserved');
  const keySubStream = r.u8('KeySubStream');
  const portIndex = r.u8('PortIndex');
  const stream = { streamId, keySubStream, portIndex };
  if (object === IdeKmObject.KEY_PROG || object === IdeKmObject.GET_KEY_ACK) {
    const key = r.bytes(IDE_KM_KEY_SIZE, 'Key');
    const iv = r.bytes(ideKmIvSize(flavor), flavor === 'pci' ? 'IFV' : 'IV');
    expectEnd(r);
    return { object, ...stream, key, iv };
  }
  expectEnd(r);
  if (object === IdeKmObject.KP_ACK) return { object, ...stream, status };
  return { object, ...stream } as IdeKmMessage;
}

export function encodeIdeKm(m: IdeKmMessage, flavor: IdeKmFlavor): Uint8Array {
  const w = new Writer(64);
  w.u8(m.object);
  switch (m.object) {
    case IdeKmObject.QUERY:
      return w.u8(0).u8(m.portIndex).finish();
    case IdeKmObject.QUERY_RESP:
      w.u8(0).u8(m.portIndex).u8(m.devFuncNum).u8(m.busNum).u8(m.segment).u8(m.maxPortIndex);
      if (flavor === 'cxl') w.u8(m.caps ?? 0);
      for (const reg of m.registers) w.u32(reg);
      return w.finish();
    default: {
      w.zeros(2)
        .u8(m.streamId)
        .u8(m.object === IdeKmObject.KP_ACK ? m.status : 0);
      w.u8(m.keySubStream).u8(m.portIndex);
      if (m.object === IdeKmObject.KEY_PROG || m.object === IdeKmObject.GET_KEY_ACK) {
        if (m.key.length !== IDE_KM_KEY_SIZE || m.iv.length !== ideKmIvSize(flavor))
          throw new SpdmError('ENCODE_ERROR', `${messageName(flavor, m.object)}: key/IV of the wrong size`);
        w.bytes(m.key).bytes(m.iv);
      }
      return w.finish();
    }
  }
}
