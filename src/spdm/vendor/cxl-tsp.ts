/**
 * CXL 3.x TSP (Trusted Security Protocol, CXL protocol 1) messages: the ones a TSM uses to learn
 * a memory device's TEE capabilities, configure and lock it, read its configuration report and
 * switch memory ranges in and out of the TEE state.
 *
 * Every message starts with TSPVersion (0x10) and Opcode (requests 0x81.., responses 0x01..,
 * ERROR 0x7F). Layouts after that (LE, offsets from the message start):
 *   GET_TARGET_TSP_VERSION / _RSP           Reserved u16 / Reserved u16, Count u8, versions u8[]
 *   GET_TARGET_CAPABILITIES / _RSP          Reserved u16 / 52-byte capabilities (below)
 *   SET_TARGET_CONFIGURATION / _RSP         352-byte configuration (below) / Reserved u16
 *   GET_TARGET_CONFIGURATION / _RSP         Reserved u16 / 192-byte configuration with TSP state
 *   GET_TARGET_CONFIGURATION_REPORT / _RSP  Reserved u16, Offset u16, Length u16 /
 *                                           Reserved u16, PortionLength u16, RemainderLength u16, portion
 *   LOCK_TARGET_CONFIGURATION / _RSP        Reserved u16 / Reserved u16
 *   SET_TARGET_TE_STATE / _RSP              TEState u8, NumberOfMemoryRanges u8, Reserved[12],
 *                                           ranges (StartingAddress u64, Length u64)[] / Reserved u16
 *   ERROR                                   Reserved u16, ErrorCode u32, ErrorData u32, extended data
 * Reserved fields are not checked on receipt.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { SpdmError } from '../../wire/errors.js';
import { expectEnd, readU64, writeU64 } from './pci-protocol.js';

export const TSP_VERSION_10 = 0x10;

export const TspRequest = {
  GET_TARGET_TSP_VERSION: 0x81,
  GET_TARGET_CAPABILITIES: 0x82,
  SET_TARGET_CONFIGURATION: 0x83,
  GET_TARGET_CONFIGURATION: 0x84,
  GET_TARGET_CONFIGURATION_REPORT: 0x85,
  LOCK_TARGET_CONFIGURATION: 0x86,
  SET_TARGET_CKID_SPECIFIC_KEY: 0x87,
  SET_TARGET_CKID_RANDOM_KEY: 0x88,
  CLEAR_TARGET_CKID_KEY: 0x89,
  SET_TARGET_RANGE_SPECIFIC_KEY: 0x8a,
  SET_TARGET_RANGE_RANDOM_KEY: 0x8b,
  CLEAR_TARGET_RANGE_KEY: 0x8c,
  SET_TARGET_TE_STATE: 0x8d,
  CHECK_TARGET_DELAYED_COMPLETION: 0x8e,
} as const;

export const TspResponse = {
  GET_TARGET_TSP_VERSION_RSP: 0x01,
  GET_TARGET_CAPABILITIES_RSP: 0x02,
  SET_TARGET_CONFIGURATION_RSP: 0x03,
  GET_TARGET_CONFIGURATION_RSP: 0x04,
  GET_TARGET_CONFIGURATION_REPORT_RSP: 0x05,
  LOCK_TARGET_CONFIGURATION_RSP: 0x06,
  SET_TARGET_TE_STATE_RSP: 0x0d,
  ERROR: 0x7f,
} as const;

export const TspErrorCode = {
  INVALID_REQUEST: 0x01,
  BUSY: 0x02,
  UNSPECIFIED: 0x03,
  UNSUPPORTED_REQUEST: 0x04,
  VERSION_MISMATCH: 0x05,
  VENDOR_SPECIFIC_ERROR: 0x06,
  NO_PRIVILEGE: 0x07,
  NO_ENTROPY: 0x08,
  INVALID_CKID: 0x09,
  INVALID_SECURITY_CONFIGURATION: 0x0a,
  INVALID_SECURITY_STATE: 0x0b,
  LONG_EXECUTION_TIME: 0x0c,
  ALREADY_LOCKED: 0x0d,
} as const;

export const TspState = { CONFIG_UNLOCKED: 0, CONFIG_LOCKED: 1, ERROR: 2 } as const;

export const MemoryEncryptionFeature = {
  ENCRYPTION: 0x01,
  CKID_BASED_ENCRYPTION: 0x02,
  RANGE_BASED_ENCRYPTION: 0x04,
  /** Capabilities only. */
  INITIATOR_SUPPLIED_ENTROPY: 0x08,
} as const;

export const MemoryEncryptionAlgorithm = { AES_XTS_128: 0x01, AES_XTS_256: 0x02, VENDOR_SPECIFIC: 0x80000000 } as const;

export const TeStateFeature = {
  WRITE_ACCESS_CONTROL: 0x01,
  READ_ACCESS_CONTROL: 0x02,
  IMPLICIT_TE_STATE_CHANGE: 0x04,
  EXPLICIT_OOB_TE_STATE_CHANGE: 0x08,
  EXPLICIT_IB_TE_STATE_CHANGE: 0x10,
  EXPLICIT_TE_STATE_CHANGE_SANITIZE: 0x20,
} as const;

/** Explicit in-band TE state change granularity bits: bit n = 64 B << n (n ≤ 10), bit 31 entire memory. */
export const IB_GRANULARITY_64B = 0x1;

export const ConfigurationFeature = { LOCKED_TARGET_FW_UPDATE: 0x01, ADDITIONAL_SPDM_SESSIONS: 0x02 } as const;

export const TSP_SECONDARY_SESSION_COUNT = 4;
export const TSP_SECONDARY_PSK_SIZE = 32;
export const TSP_IB_GRANULARITY_ENTRIES = 8;
/** A SET_TARGET_TE_STATE carries at most this many ranges (a u8 count, and 32 fit a DOE message). */
export const TSP_MAX_MEMORY_RANGES = 32;

export interface TspCapabilities {
  readonly memoryEncryptionFeatures: number;
  readonly memoryEncryptionAlgorithms: number;
  readonly numberOfRangeBasedKeys: number;
  readonly teStateFeatures: number;
  readonly explicitOobTeStateGranularity: number;
  readonly explicitIbTeStateGranularity: number;
  readonly configurationFeatures: number;
  readonly numberOfCkids: number;
  readonly numberOfSecondarySessions: number;
}

export interface IbGranularityEntry {
  readonly granularity: bigint;
  /** 0..7, or 0xFF for an unused entry. */
  readonly lengthIndex: number;
}

/** What SET_TARGET_CONFIGURATION enables and GET_TARGET_CONFIGURATION reports back. */
export interface TspConfiguration {
  readonly memoryEncryptionFeatures: number;
  readonly memoryEncryptionAlgorithm: number;
  readonly teStateFeatures: number;
  readonly explicitOobTeStateGranularity: number;
  readonly configurationFeatures: number;
  readonly ckidBase: number;
  readonly numberOfCkids: number;
  readonly explicitIbTeStateGranularity: readonly IbGranularityEntry[];
}

export interface SecondarySessionConfiguration {
  readonly validityFlags: number;
  readonly ckidType: number;
  /** Four 32-byte PSKs; only those whose validity bit is set are meaningful. */
  readonly psks: readonly Uint8Array[];
}

export interface MemoryRange {
  readonly start: bigint;
  readonly length: bigint;
}

export type TspRequestMessage =
  | {
      readonly opcode:
        | typeof TspRequest.GET_TARGET_TSP_VERSION
        | typeof TspRequest.GET_TARGET_CAPABILITIES
        | typeof TspRequest.GET_TARGET_CONFIGURATION
        | typeof TspRequest.LOCK_TARGET_CONFIGURATION;
    }
  | {
      readonly opcode: typeof TspRequest.SET_TARGET_CONFIGURATION;
      readonly configuration: TspConfiguration;
      readonly secondary: SecondarySessionConfiguration;
    }
  | {
      readonly opcode: typeof TspRequest.GET_TARGET_CONFIGURATION_REPORT;
      readonly offset: number;
      readonly length: number;
    }
  | {
      readonly opcode: typeof TspRequest.SET_TARGET_TE_STATE;
      readonly teState: number;
      readonly ranges: readonly MemoryRange[];
    };

export type TspResponseMessage =
  | { readonly opcode: typeof TspResponse.GET_TARGET_TSP_VERSION_RSP; readonly versions: readonly number[] }
  | ({ readonly opcode: typeof TspResponse.GET_TARGET_CAPABILITIES_RSP } & TspCapabilities)
  | {
      readonly opcode: typeof TspResponse.GET_TARGET_CONFIGURATION_RSP;
      readonly configuration: TspConfiguration;
      readonly state: number;
    }
  | {
      readonly opcode: typeof TspResponse.GET_TARGET_CONFIGURATION_REPORT_RSP;
      readonly portion: Uint8Array;
      readonly remainderLength: number;
    }
  | {
      readonly opcode:
        | typeof TspResponse.SET_TARGET_CONFIGURATION_RSP
        | typeof TspResponse.LOCK_TARGET_CONFIGURATION_RSP
        | typeof TspResponse.SET_TARGET_TE_STATE_RSP;
    }
  | {
      readonly opcode: typeof TspResponse.ERROR;
      readonly errorCode: number;
      readonly errorData: number;
      readonly extendedErrorData: Uint8Array;
    };

const NAMES = new Map<number, string>(
  [...Object.entries(TspRequest), ...Object.entries(TspResponse)].map(([k, v]) => [v, k]),
);

function reader(bytes: Uint8Array): { version: number; opcode: number; r: Reader } {
  const head = new Reader(bytes, 'CXL TSP message');
  const version = head.u8('TSPVersion');
  const opcode = head.u8('Opcode');
  return { version, opcode, r: new Reader(bytes, `CXL TSP ${NAMES.get(opcode) ?? 'message'}`, 2) };
}

/** TSPVersion and Opcode alone, so a responder can answer ERROR to a request whose body is bad. */
export function decodeTspHeader(bytes: Uint8Array): { readonly version: number; readonly opcode: number } {
  const { version, opcode } = reader(bytes);
  return { version, opcode };
}

// The enables up to CKID count: identical at the start of SET_ and GET_TARGET_CONFIGURATION(_RSP).
function readConfigurationHead(r: Reader): Omit<TspConfiguration, 'explicitIbTeStateGranularity'> {
  const memoryEncryptionFeatures = r.u16('MemoryEncryptionFeatures');
  const memoryEncryptionAlgorithm = r.u32('MemoryEncryptionAlgorithm');
  r.skip(4, 'Reserved');
  const teStateFeatures = r.u16('TEStateChangeAndAccessControlFeatures');
  r.skip(2, 'Reserved');
  const explicitOobTeStateGranularity = r.u32('ExplicitOOBTEStateGranularity');
  r.skip(4, 'Reserved');
  const configurationFeatures = r.u16('ConfigurationFeatures');
  r.skip(2, 'Reserved');
  const ckidBase = r.u32('CKIDBase');
  const numberOfCkids = r.u32('NumberOfCKIDs');
  return {
    memoryEncryptionFeatures,
    memoryEncryptionAlgorithm,
    teStateFeatures,
    explicitOobTeStateGranularity,
    configurationFeatures,
    ckidBase,
    numberOfCkids,
  };
}

function writeConfigurationHead(w: Writer, c: TspConfiguration): void {
  w.u16(c.memoryEncryptionFeatures).u32(c.memoryEncryptionAlgorithm).zeros(4);
  w.u16(c.teStateFeatures).zeros(2).u32(c.explicitOobTeStateGranularity).zeros(4);
  w.u16(c.configurationFeatures).zeros(2).u32(c.ckidBase).u32(c.numberOfCkids);
}

function readIbEntries(r: Reader): IbGranularityEntry[] {
  const out: IbGranularityEntry[] = [];
  for (let i = 0; i < TSP_IB_GRANULARITY_ENTRIES; i++) {
    const granularity = readU64(r, `ExplicitIBTEStateGranularityEntry[${i}].Granularity`);
    const lengthIndex = r.u8(`ExplicitIBTEStateGranularityEntry[${i}].LengthIndex`);
    r.skip(7, 'Reserved');
    out.push({ granularity, lengthIndex });
  }
  return out;
}

function writeIbEntries(w: Writer, entries: readonly IbGranularityEntry[]): void {
  if (entries.length !== TSP_IB_GRANULARITY_ENTRIES)
    throw new SpdmError('ENCODE_ERROR', 'TSP configuration has 8 explicit in-band granularity entries');
  for (const e of entries) {
    writeU64(w, e.granularity);
    w.u8(e.lengthIndex).zeros(7);
  }
}

export function decodeTspRequest(bytes: Uint8Array): { readonly version: number } & TspRequestMessage {
  const { version, opcode, r } = reader(bytes);
  let m: TspRequestMessage;
  switch (opcode) {
    case TspRequest.GET_TARGET_TSP_VERSION:
    case TspRequest.GET_TARGET_CAPABILITIES:
    case TspRequest.GET_TARGET_CONFIGURATION:
    case TspRequest.LOCK_TARGET_CONFIGURATION:
      r.skip(2, 'Reserved');
      m = { opcode };
      break;
    case TspRequest.SET_TARGET_CONFIGURATION: {
      const head = readConfigurationHead(r);
      r.skip(12, 'Reserved');
      const explicitIbTeStateGranularity = readIbEntries(r);
      r.skip(16, 'Reserved');
      const validityFlags = r.u16('ConfigurationValidityFlags');
      r.skip(14, 'Reserved');
      const ckidType = r.u8('SecondarySessionCKIDType');
      r.skip(15, 'Reserved');
      const psks: Uint8Array[] = [];
      for (let i = 0; i < TSP_SECONDARY_SESSION_COUNT; i++)
        psks.push(r.bytes(TSP_SECONDARY_PSK_SIZE, `SecondarySessionPSKKeyMaterial[${i}]`));
      m = {
        opcode,
        configuration: { ...head, explicitIbTeStateGranularity },
        secondary: { validityFlags, ckidType, psks },
      };
      break;
    }
    case TspRequest.GET_TARGET_CONFIGURATION_REPORT: {
      r.skip(2, 'Reserved');
      const offset = r.u16('Offset');
      m = { opcode, offset, length: r.u16('Length') };
      break;
    }
    case TspRequest.SET_TARGET_TE_STATE: {
      const teState = r.u8('TEState');
      const count = r.u8('NumberOfMemoryRanges');
      r.skip(12, 'Reserved');
      if (count > TSP_MAX_MEMORY_RANGES) r.fail('NumberOfMemoryRanges', `${count} ranges, at most 32`, 3);
      const ranges: MemoryRange[] = [];
      for (let i = 0; i < count; i++) {
        const start = readU64(r, `MemoryRange[${i}].StartingAddress`);
        ranges.push({ start, length: readU64(r, `MemoryRange[${i}].Length`) });
      }
      m = { opcode, teState, ranges };
      break;
    }
    default:
      return r.fail('Opcode', `not a TSP request this codec knows: 0x${opcode.toString(16)}`, 1);
  }
  expectEnd(r);
  return { version, ...m };
}

export function encodeTspRequest(version: number, m: TspRequestMessage): Uint8Array {
  const w = new Writer(64).u8(version).u8(m.opcode);
  switch (m.opcode) {
    case TspRequest.SET_TARGET_CONFIGURATION: {
      writeConfigurationHead(w, m.configuration);
      w.zeros(12);
      writeIbEntries(w, m.configuration.explicitIbTeStateGranularity);
      w.zeros(16).u16(m.secondary.validityFlags).zeros(14).u8(m.secondary.ckidType).zeros(15);
      if (m.secondary.psks.length !== TSP_SECONDARY_SESSION_COUNT || m.secondary.psks.some((p) => p.length !== 32))
        throw new SpdmError('ENCODE_ERROR', 'SET_TARGET_CONFIGURATION carries four 32-byte PSKs');
      for (const p of m.secondary.psks) w.bytes(p);
      break;
    }
    case TspRequest.GET_TARGET_CONFIGURATION_REPORT:
      w.u16(0).u16(m.offset).u16(m.length);
      break;
    case TspRequest.SET_TARGET_TE_STATE:
      if (m.ranges.length > TSP_MAX_MEMORY_RANGES) throw new SpdmError('ENCODE_ERROR', 'at most 32 memory ranges');
      w.u8(m.teState).u8(m.ranges.length).zeros(12);
      for (const range of m.ranges) writeU64(writeU64(w, range.start), range.length);
      break;
    default:
      w.u16(0);
  }
  return w.finish();
}

export function decodeTspResponse(bytes: Uint8Array): { readonly version: number } & TspResponseMessage {
  const { version, opcode, r } = reader(bytes);
  let m: TspResponseMessage;
  switch (opcode) {
    case TspResponse.GET_TARGET_TSP_VERSION_RSP: {
      r.skip(2, 'Reserved');
      const count = r.u8('VersionNumberEntryCount');
      if (count === 0) r.fail('VersionNumberEntryCount', 'no version', r.offset - 1);
      m = { opcode, versions: [...r.bytes(count, 'VersionNumberEntry')] };
      break;
    }
    case TspResponse.GET_TARGET_CAPABILITIES_RSP: {
      const memoryEncryptionFeatures = r.u16('MemoryEncryptionFeaturesSupported');
      const memoryEncryptionAlgorithms = r.u32('MemoryEncryptionAlgorithmsSupported');
      const numberOfRangeBasedKeys = r.u16('MemoryEncryptionNumberOfRangeBasedKeys');
      r.skip(2, 'Reserved');
      const teStateFeatures = r.u16('TEStateChangeAndAccessControlFeaturesSupported');
      r.skip(2, 'Reserved');
      const explicitOobTeStateGranularity = r.u32('SupportedExplicitOOBTEStateGranularity');
      const explicitIbTeStateGranularity = r.u32('SupportedExplicitIBTEStateGranularity');
      const configurationFeatures = r.u16('ConfigurationFeaturesSupported');
      r.skip(2, 'Reserved');
      const numberOfCkids = r.u32('NumberOfCKIDs');
      const numberOfSecondarySessions = r.u8('NumberOfSecondarySessions');
      r.skip(19, 'Reserved');
      m = {
        opcode,
        memoryEncryptionFeatures,
        memoryEncryptionAlgorithms,
        numberOfRangeBasedKeys,
        teStateFeatures,
        explicitOobTeStateGranularity,
        explicitIbTeStateGranularity,
        configurationFeatures,
        numberOfCkids,
        numberOfSecondarySessions,
      };
      break;
    }
    case TspResponse.GET_TARGET_CONFIGURATION_RSP: {
      const head = readConfigurationHead(r);
      const state = r.u8('CurrentTSPState');
      if (state > TspState.ERROR) r.fail('CurrentTSPState', `unknown state ${state}`, r.offset - 1);
      r.skip(11, 'Reserved');
      const explicitIbTeStateGranularity = readIbEntries(r);
      r.skip(16, 'Reserved');
      m = { opcode, configuration: { ...head, explicitIbTeStateGranularity }, state };
      break;
    }
    case TspResponse.GET_TARGET_CONFIGURATION_REPORT_RSP: {
      r.skip(2, 'Reserved');
      const portionLength = r.u16('PortionLength');
      const remainderLength = r.u16('RemainderLength');
      m = { opcode, remainderLength, portion: r.bytes(portionLength, 'ReportData') };
      break;
    }
    case TspResponse.SET_TARGET_CONFIGURATION_RSP:
    case TspResponse.LOCK_TARGET_CONFIGURATION_RSP:
    case TspResponse.SET_TARGET_TE_STATE_RSP:
      r.skip(2, 'Reserved');
      m = { opcode };
      break;
    case TspResponse.ERROR: {
      r.skip(2, 'Reserved');
      const errorCode = r.u32('ErrorCode');
      const errorData = r.u32('ErrorData');
      // Extended error data runs to the end of the message by definition.
      return { version, opcode, errorCode, errorData, extendedErrorData: r.rest() };
    }
    default:
      return r.fail('Opcode', `not a TSP response: 0x${opcode.toString(16)}`, 1);
  }
  expectEnd(r);
  return { version, ...m };
}

export function encodeTspResponse(version: number, m: TspResponseMessage): Uint8Array {
  const w = new Writer(64).u8(version).u8(m.opcode);
  switch (m.opcode) {
    case TspResponse.GET_TARGET_TSP_VERSION_RSP:
      if (m.versions.length === 0 || m.versions.length > 0xff)
        throw new SpdmError('ENCODE_ERROR', 'TSP version response: 1..255 versions');
      w.u16(0).u8(m.versions.length);
      for (const v of m.versions) w.u8(v);
      break;
    case TspResponse.GET_TARGET_CAPABILITIES_RSP:
      w.u16(m.memoryEncryptionFeatures).u32(m.memoryEncryptionAlgorithms).u16(m.numberOfRangeBasedKeys).zeros(2);
      w.u16(m.teStateFeatures).zeros(2).u32(m.explicitOobTeStateGranularity).u32(m.explicitIbTeStateGranularity);
      w.u16(m.configurationFeatures).zeros(2).u32(m.numberOfCkids).u8(m.numberOfSecondarySessions).zeros(19);
      break;
    case TspResponse.GET_TARGET_CONFIGURATION_RSP:
      writeConfigurationHead(w, m.configuration);
      w.u8(m.state).zeros(11);
      writeIbEntries(w, m.configuration.explicitIbTeStateGranularity);
      w.zeros(16);
      break;
    case TspResponse.GET_TARGET_CONFIGURATION_REPORT_RSP:
      if (m.portion.length > 0xffff) throw new SpdmError('ENCODE_ERROR', 'report portion over 64 KiB');
      w.u16(0).u16(m.portion.length).u16(m.remainderLength).bytes(m.portion);
      break;
    case TspResponse.ERROR:
      w.u16(0).u32(m.errorCode).u32(m.errorData).bytes(m.extendedErrorData);
      break;
    default:
      w.u16(0);
  }
  return w.finish();
}
