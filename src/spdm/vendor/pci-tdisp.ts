/**
 * TDISP 1.0 messages (PCIe 6.x TEE Device Interface Security Protocol, PCI-SIG protocol 1).
 *
 * Every message starts with a 16-byte header: TDISPVersion (0x10), MessageType, Reserved[2],
 * INTERFACE_ID (FunctionID u32, Reserved u64). Requests are 0x81.., responses 0x01.., TDISP_ERROR
 * 0x7F (ErrorCode u32, ErrorData u32, extended data). Bodies, after the header:
 *   GET_VERSION / VERSION                 — / VersionNumEntryCount u8, entries u8[]
 *   GET_CAPABILITIES / CAPABILITIES       TSMCaps u32 / DSMCaps u32, ReqMsgsSupported[16],
 *                                         LockInterfaceFlagsSupported u16, Reserved[3], DevAddrWidth u8,
 *                                         NumReqThis u8, NumReqAll u8
 *   LOCK_INTERFACE_REQUEST / _RESPONSE    Flags u16, DefaultStreamID u8, Reserved u8, MMIOReportingOffset u64,
 *                                         BindP2PAddressMask u64 / StartInterfaceNonce[32]
 *   GET_DEVICE_INTERFACE_REPORT / REPORT  Offset u16, Length u16 / PortionLength u16, RemainderLength u16, portion
 *   GET_DEVICE_INTERFACE_STATE / STATE    — / TDIState u8
 *   START_INTERFACE_REQUEST / _RESPONSE   StartInterfaceNonce[32] / —
 *   STOP_INTERFACE_REQUEST / _RESPONSE    — / —
 * Reserved fields are not checked on receipt (the spec has receivers ignore them).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { SpdmError } from '../../wire/errors.js';
import { expectEnd, readU64, writeU64 } from './pci-protocol.js';

export const TDISP_VERSION_10 = 0x10;
export const TDISP_HEADER_SIZE = 16;
export const TDISP_NONCE_SIZE = 32;

export const TdispRequest = {
  GET_VERSION: 0x81,
  GET_CAPABILITIES: 0x82,
  LOCK_INTERFACE_REQUEST: 0x83,
  GET_DEVICE_INTERFACE_REPORT: 0x84,
  GET_DEVICE_INTERFACE_STATE: 0x85,
  START_INTERFACE_REQUEST: 0x86,
  STOP_INTERFACE_REQUEST: 0x87,
  BIND_P2P_STREAM_REQUEST: 0x88,
  UNBIND_P2P_STREAM_REQUEST: 0x89,
  SET_MMIO_ATTRIBUTE_REQUEST: 0x8a,
  VDM_REQUEST: 0x8b,
} as const;

export const TdispResponse = {
  VERSION: 0x01,
  CAPABILITIES: 0x02,
  LOCK_INTERFACE_RESPONSE: 0x03,
  DEVICE_INTERFACE_REPORT: 0x04,
  DEVICE_INTERFACE_STATE: 0x05,
  START_INTERFACE_RESPONSE: 0x06,
  STOP_INTERFACE_RESPONSE: 0x07,
  TDISP_ERROR: 0x7f,
} as const;

export const TdispErrorCode = {
  INVALID_REQUEST: 0x0001,
  BUSY: 0x0003,
  INVALID_INTERFACE_STATE: 0x0004,
  UNSPECIFIED: 0x0005,
  UNSUPPORTED_REQUEST: 0x0007,
  VERSION_MISMATCH: 0x0041,
  INVALID_INTERFACE: 0x0101,
  INVALID_NONCE: 0x0102,
  INSUFFICIENT_ENTROPY: 0x0103,
  INVALID_DEVICE_CONFIGURATION: 0x0104,
} as const;

export const TdiState = { CONFIG_UNLOCKED: 0, CONFIG_LOCKED: 1, RUN: 2, ERROR: 3 } as const;

export const LockInterfaceFlag = {
  NO_FW_UPDATE: 0x01,
  SYSTEM_CACHE_LINE_SIZE: 0x02,
  LOCK_MSIX: 0x04,
  BIND_P2P: 0x08,
  ALL_REQUEST_REDIRECT: 0x10,
} as const;

/** DEVICE_INTERFACE_REPORT InterfaceInfo bits. */
export const InterfaceInfo = {
  NO_UPDATE_AFTER_LOCK: 0x01,
  DMA_WITHOUT_PASID: 0x02,
  DMA_WITH_PASID: 0x04,
  ATS_SUPPORTED: 0x08,
  PRS_SUPPORTED: 0x10,
} as const;

export const MmioRangeAttribute = {
  MSIX_TABLE: 0x01,
  MSIX_PBA: 0x02,
  IS_NON_TEE_MEM: 0x04,
  IS_MEM_ATTR_UPDATABLE: 0x08,
} as const;

export interface TdispHeader {
  readonly version: number;
  readonly messageType: number;
  /** INTERFACE_ID.FunctionID: RequesterID in bits 15:0, segment in 23:16, bit 24 segment valid. */
  readonly functionId: number;
}

export type TdispRequestMessage = TdispHeader &
  (
    | {
        readonly messageType:
          | typeof TdispRequest.GET_VERSION
          | typeof TdispRequest.GET_DEVICE_INTERFACE_STATE
          | typeof TdispRequest.STOP_INTERFACE_REQUEST;
      }
    | { readonly messageType: typeof TdispRequest.GET_CAPABILITIES; readonly tsmCaps: number }
    | {
        readonly messageType: typeof TdispRequest.LOCK_INTERFACE_REQUEST;
        readonly flags: number;
        readonly defaultStreamId: number;
        readonly mmioReportingOffset: bigint;
        readonly bindP2pAddressMask: bigint;
      }
    | {
        readonly messageType: typeof TdispRequest.GET_DEVICE_INTERFACE_REPORT;
        readonly offset: number;
        readonly length: number;
      }
    | { readonly messageType: typeof TdispRequest.START_INTERFACE_REQUEST; readonly nonce: Uint8Array }
  );

export interface TdispResponderCapabilities {
  readonly dsmCaps: number;
  /** Bit n set: request code 0x80 + n is supported. */
  readonly reqMsgsSupported: Uint8Array;
  readonly lockInterfaceFlagsSupported: number;
  readonly devAddrWidth: number;
  readonly numReqThis: number;
  readonly numReqAll: number;
}

export type TdispResponseMessage = TdispHeader &
  (
    | { readonly messageType: typeof TdispResponse.VERSION; readonly versions: readonly number[] }
    | ({ readonly messageType: typeof TdispResponse.CAPABILITIES } & TdispResponderCapabilities)
    | { readonly messageType: typeof TdispResponse.LOCK_INTERFACE_RESPONSE; readonly nonce: Uint8Array }
    | {
        readonly messageType: typeof TdispResponse.DEVICE_INTERFACE_REPORT;
        readonly portion: Uint8Array;
        readonly remainderLength: number;
      }
    | { readonly messageType: typeof TdispResponse.DEVICE_INTERFACE_STATE; readonly state: number }
    | {
        readonly messageType:
          typeof TdispResponse.START_INTERFACE_RESPONSE | typeof TdispResponse.STOP_INTERFACE_RESPONSE;
      }
    | {
        readonly messageType: typeof TdispResponse.TDISP_ERROR;
        readonly errorCode: number;
        readonly errorData: number;
        readonly extendedErrorData: Uint8Array;
      }
  );

const REQUEST_NAMES = new Map<number, string>(Object.entries(TdispRequest).map(([k, v]) => [v, k]));
const RESPONSE_NAMES = new Map<number, string>(Object.entries(TdispResponse).map(([k, v]) => [v, k]));

function nameOf(type: number): string {
  return `TDISP ${REQUEST_NAMES.get(type) ?? RESPONSE_NAMES.get(type) ?? 'message'}`;
}

/** The 16-byte header alone, so a responder can answer TDISP_ERROR to a request whose body is bad. */
export function decodeTdispHeader(bytes: Uint8Array): TdispHeader {
  const r = new Reader(bytes, 'TDISP message');
  const version = r.u8('TDISPVersion');
  const messageType = r.u8('MessageType');
  r.skip(2, 'Reserved');
  const functionId = r.u32('InterfaceID.FunctionID');
  r.skip(8, 'InterfaceID.Reserved');
  return { version, messageType, functionId };
}

function bodyReader(bytes: Uint8Array): { h: TdispHeader; r: Reader } {
  const h = decodeTdispHeader(bytes);
  return { h, r: new Reader(bytes, nameOf(h.messageType), TDISP_HEADER_SIZE) };
}

/** A TDISP request the emulator implements; any other MessageType is a DecodeError. */
export function decodeTdispRequest(bytes: Uint8Array): TdispRequestMessage {
  const { h, r } = bodyReader(bytes);
  let m: TdispRequestMessage;
  switch (h.messageType) {
    case TdispRequest.GET_VERSION:
    case TdispRequest.GET_DEVICE_INTERFACE_STATE:
    case TdispRequest.STOP_INTERFACE_REQUEST:
      m = { ...h, messageType: h.messageType };
      break;
    case TdispRequest.GET_CAPABILITIES:
      m = { ...h, messageType: h.messageType, tsmCaps: r.u32('TSMCaps') };
      break;
    case TdispRequest.LOCK_INTERFACE_REQUEST: {
      const flags = r.u16('Flags');
      const defaultStreamId = r.u8('DefaultStreamID');
      r.skip(1, 'Reserved');
      const mmioReportingOffset = readU64(r, 'MMIOReportingOffset');
      const bindP2pAddressMask = readU64(r, 'BindP2PAddressMask');
      m = { ...h, messageType: h.messageType, flags, defaultStreamId, mmioReportingOffset, bindP2pAddressMask };
      break;
    }
    case TdispRequest.GET_DEVICE_INTERFACE_REPORT: {
      const offset = r.u16('Offset');
      m = { ...h, messageType: h.messageType, offset, length: r.u16('Length') };
      break;
    }
    case TdispRequest.START_INTERFACE_REQUEST:
      m = { ...h, messageType: h.messageType, nonce: r.bytes(TDISP_NONCE_SIZE, 'StartInterfaceNonce') };
      break;
    default:
      return r.fail('MessageType', `not a TDISP request this codec knows: 0x${h.messageType.toString(16)}`, 1);
  }
  expectEnd(r);
  return m;
}

function writeHeader(w: Writer, h: TdispHeader): void {
  w.u8(h.version).u8(h.messageType).zeros(2).u32(h.functionId).zeros(8);
}

export function encodeTdispRequest(m: TdispRequestMessage): Uint8Array {
  const w = new Writer(64);
  writeHeader(w, m);
  switch (m.messageType) {
    case TdispRequest.GET_CAPABILITIES:
      w.u32(m.tsmCaps);
      break;
    case TdispRequest.LOCK_INTERFACE_REQUEST:
      w.u16(m.flags).u8(m.defaultStreamId).u8(0);
      writeU64(w, m.mmioReportingOffset);
      writeU64(w, m.bindP2pAddressMask);
      break;
    case TdispRequest.GET_DEVICE_INTERFACE_REPORT:
      w.u16(m.offset).u16(m.length);
      break;
    case TdispRequest.START_INTERFACE_REQUEST:
      if (m.nonce.length !== TDISP_NONCE_SIZE) throw new SpdmError('ENCODE_ERROR', 'StartInterfaceNonce is 32 bytes');
      w.bytes(m.nonce);
      break;
    default:
      break;
  }
  return w.finish();
}

export function decodeTdispResponse(bytes: Uint8Array): TdispResponseMessage {
  const { h, r } = bodyReader(bytes);
  let m: TdispResponseMessage;
  switch (h.messageType) {
    case TdispResponse.VERSION: {
      const count = r.u8('VersionNumEntryCount');
      if (count === 0) r.fail('VersionNumEntryCount', 'no version', r.offset - 1);
      m = { ...h, messageType: h.messageType, versions: [...r.bytes(count, 'VersionNumEntry')] };
      break;
    }
    case TdispResponse.CAPABILITIES: {
      const dsmCaps = r.u32('DSMCaps');
      const reqMsgsSupported = r.bytes(16, 'ReqMsgsSupported');
      const lockInterfaceFlagsSupported = r.u16('LockInterfaceFlagsSupported');
      r.skip(3, 'Reserved');
      const devAddrWidth = r.u8('DevAddrWidth');
      const numReqThis = r.u8('NumReqThis');
      const numReqAll = r.u8('NumReqAll');
      m = {
        ...h,
        messageType: h.messageType,
        dsmCaps,
        reqMsgsSupported,
        lockInterfaceFlagsSupported,
        devAddrWidth,
        numReqThis,
        numReqAll,
      };
      break;
    }
    case TdispResponse.LOCK_INTERFACE_RESPONSE:
      m = { ...h, messageType: h.messageType, nonce: r.bytes(TDISP_NONCE_SIZE, 'StartInterfaceNonce') };
      break;
    case TdispResponse.DEVICE_INTERFACE_REPORT: {
      const portionLength = r.u16('PortionLength');
      const remainderLength = r.u16('RemainderLength');
      m = { ...h, messageType: h.messageType, remainderLength, portion: r.bytes(portionLength, 'Report') };
      break;
    }
    case TdispResponse.DEVICE_INTERFACE_STATE: {
      const state = r.u8('TDIState');
      if (state > TdiState.ERROR) r.fail('TDIState', `unknown state ${state}`, r.offset - 1);
      m = { ...h, messageType: h.messageType, state };
      break;
    }
    case TdispResponse.START_INTERFACE_RESPONSE:
    case TdispResponse.STOP_INTERFACE_RESPONSE:
      m = { ...h, messageType: h.messageType };
      break;
    case TdispResponse.TDISP_ERROR: {
      const errorCode = r.u32('ErrorCode');
      const errorData = r.u32('ErrorData');
      // Extended error data runs to the end of the message by definition.
      return { ...h, messageType: h.messageType, errorCode, errorData, extendedErrorData: r.rest() };
    }
    default:
      return r.fail('MessageType', `not a TDISP response: 0x${h.messageType.toString(16)}`, 1);
  }
  expectEnd(r);
  return m;
}

export function encodeTdispResponse(m: TdispResponseMessage): Uint8Array {
  const w = new Writer(64);
  writeHeader(w, m);
  switch (m.messageType) {
    case TdispResponse.VERSION:
      if (m.versions.length === 0 || m.versions.length > 0xff)
        throw new SpdmError('ENCODE_ERROR', 'TDISP VERSION: 1..255 versions');
      w.u8(m.versions.length);
      for (const v of m.versions) w.u8(v);
      break;
    case TdispResponse.CAPABILITIES:
      if (m.reqMsgsSupported.length !== 16) throw new SpdmError('ENCODE_ERROR', 'ReqMsgsSupported is 16 bytes');
      w.u32(m.dsmCaps).bytes(m.reqMsgsSupported).u16(m.lockInterfaceFlagsSupported).zeros(3);
      w.u8(m.devAddrWidth).u8(m.numReqThis).u8(m.numReqAll);
      break;
    case TdispResponse.LOCK_INTERFACE_RESPONSE:
      if (m.nonce.length !== TDISP_NONCE_SIZE) throw new SpdmError('ENCODE_ERROR', 'StartInterfaceNonce is 32 bytes');
      w.bytes(m.nonce);
      break;
    case TdispResponse.DEVICE_INTERFACE_REPORT:
      if (m.portion.length > 0xffff) throw new SpdmError('ENCODE_ERROR', 'report portion over 64 KiB');
      w.u16(m.portion.length).u16(m.remainderLength).bytes(m.portion);
      break;
    case TdispResponse.DEVICE_INTERFACE_STATE:
      w.u8(m.state);
      break;
    case TdispResponse.TDISP_ERROR:
      w.u32(m.errorCode).u32(m.errorData).bytes(m.extendedErrorData);
      break;
    default:
      break;
  }
  return w.finish();
}

export interface MmioRange {
  /** In 4 KiB pages, offset by the MMIO reporting offset the TSM gave in LOCK_INTERFACE_REQUEST. */
  readonly firstPage: bigint;
  readonly numberOfPages: number;
  readonly attributes: number;
  readonly rangeId: number;
}

/** The DEVICE_INTERFACE_REPORT structure that GET_DEVICE_INTERFACE_REPORT returns in portions. */
export interface DeviceInterfaceReport {
  readonly interfaceInfo: number;
  readonly msixMessageControl: number;
  readonly lnrControl: number;
  readonly tphControl: number;
  readonly mmioRanges: readonly MmioRange[];
  readonly deviceSpecificInfo: Uint8Array;
}

export function encodeDeviceInterfaceReport(rep: DeviceInterfaceReport): Uint8Array {
  const w = new Writer(64 + rep.mmioRanges.length * 16 + rep.deviceSpecificInfo.length);
  w.u16(rep.interfaceInfo).u16(0).u16(rep.msixMessageControl).u16(rep.lnrControl).u32(rep.tphControl);
  w.u32(rep.mmioRanges.length);
  for (const m of rep.mmioRanges) {
    writeU64(w, m.firstPage);
    w.u32(m.numberOfPages).u16(m.attributes).u16(m.rangeId);
  }
  return w.u32(rep.deviceSpecificInfo.length).bytes(rep.deviceSpecificInfo).finish();
}

export function decodeDeviceInterfaceReport(bytes: Uint8Array): DeviceInterfaceReport {
  const r = new Reader(bytes, 'TDISP DEVICE_INTERFACE_REPORT structure');
  const interfaceInfo = r.u16('InterfaceInfo');
  r.skip(2, 'Reserved');
  const msixMessageControl = r.u16('MSIXMessageControl');
  const lnrControl = r.u16('LNRControl');
  const tphControl = r.u32('TPHControl');
  const count = r.u32('MMIORangeCount');
  // Each range is 16 bytes: a count the message cannot hold is refused before any allocation.
  if (count * 16 > r.remaining) r.fail('MMIORangeCount', `${count} ranges do not fit in ${r.remaining} bytes`);
  const mmioRanges: MmioRange[] = [];
  for (let i = 0; i < count; i++) {
    const firstPage = readU64(r, `MMIORange[${i}].FirstPage`);
    const numberOfPages = r.u32(`MMIORange[${i}].NumberOfPages`);
    const attributes = r.u16(`MMIORange[${i}].RangeAttributes`);
    mmioRanges.push({ firstPage, numberOfPages, attributes, rangeId: r.u16(`MMIORange[${i}].RangeID`) });
  }
  const infoLength = r.u32('DeviceSpecificInfoLength');
  const deviceSpecificInfo = r.bytes(infoLength, 'DeviceSpecificInfo');
  expectEnd(r);
  return { interfaceInfo, msixMessageControl, lnrControl, tphControl, mmioRanges, deviceSpecificInfo };
}
