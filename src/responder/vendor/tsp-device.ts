/**
 * The emulated device's CXL TSP target: capabilities, the security configuration a TSM sets and
 * locks, the configuration report, and memory ranges switched into and out of the TEE state.
 *
 *   CONFIG_UNLOCKED --SET_TARGET_CONFIGURATION (any number)--> ... --LOCK_TARGET_CONFIGURATION--> CONFIG_LOCKED
 *
 * SET_TARGET_TE_STATE works only when locked (the configuration it acts under is fixed then).
 * The target offers memory encryption with AES-XTS-256, read access control with implicit and
 * explicit in-band TE state changes at 64-byte granularity, locked-target firmware update, and no
 * CKIDs, range-based keys or secondary sessions. Wrong-state and invalid requests get the TSP
 * ERROR response with the code the CXL spec gives for them.
 */
import { DecodeError } from '../../wire/errors.js';
import {
  ConfigurationFeature,
  IB_GRANULARITY_64B,
  MemoryEncryptionAlgorithm,
  MemoryEncryptionFeature,
  TSP_VERSION_10,
  TeStateFeature,
  TspErrorCode,
  TspRequest,
  TspResponse,
  TspState,
  decodeTspHeader,
  decodeTspRequest,
  encodeTspResponse,
  type MemoryRange,
  type TspCapabilities,
  type TspConfiguration,
  type TspResponseMessage,
} from '../../spdm/vendor/cxl-tsp.js';
import { isSingleBit } from '../../wire/bytes.js';

export const TSP_CAPABILITIES: TspCapabilities = {
  memoryEncryptionFeatures: MemoryEncryptionFeature.ENCRYPTION,
  memoryEncryptionAlgorithms: MemoryEncryptionAlgorithm.AES_XTS_256,
  numberOfRangeBasedKeys: 0,
  teStateFeatures:
    TeStateFeature.READ_ACCESS_CONTROL |
    TeStateFeature.IMPLICIT_TE_STATE_CHANGE |
    TeStateFeature.EXPLICIT_IB_TE_STATE_CHANGE,
  explicitOobTeStateGranularity: 0,
  explicitIbTeStateGranularity: IB_GRANULARITY_64B,
  configurationFeatures: ConfigurationFeature.LOCKED_TARGET_FW_UPDATE,
  numberOfCkids: 0,
  numberOfSecondarySessions: 0,
};

/** What GET_TARGET_CONFIGURATION reports before any SET: nothing enabled, in-band entries unused. */
const UNCONFIGURED: TspConfiguration = {
  memoryEncryptionFeatures: 0,
  memoryEncryptionAlgorithm: 0,
  teStateFeatures: 0,
  explicitOobTeStateGranularity: 0,
  configurationFeatures: 0,
  ckidBase: 0,
  numberOfCkids: 0,
  explicitIbTeStateGranularity: Array.from({ length: 8 }, () => ({ granularity: 0n, lengthIndex: 0xff })),
};

/**
 * The configuration report: ValidTSPReportFields u8, Reserved[3], then the register structures
 * it can carry (PCIe DVSEC for CXL devices 0x3C, DVSEC for Flex Bus port 0x20, CXL link capability
 * 0x38, timeout and isolation 0x10, HDM decoder capability 0x10, no decoders, CXL IDE capability
 * 0x24). The emulator models none of those registers, so no field is marked valid.
 */
const REPORT = new Uint8Array(4 + 0x3c + 0x20 + 0x38 + 0x10 + 0x10 + 0x24);
const MAX_REPORT_PORTION = 0x200;
/** A bound on the TE-state ranges remembered (each SET_TARGET_TE_STATE carries at most 32). */
const MAX_TE_RANGES = 256;
const TE_ALIGN = 64n;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

export class TspDevice {
  private state: number = TspState.CONFIG_UNLOCKED;
  private configuration: TspConfiguration = UNCONFIGURED;
  private configured = false;
  /** Ranges currently in the TEE state, by "start:length". */
  private readonly teRanges = new Map<string, MemoryRange>();

  get tspState(): number {
    return this.state;
  }

  /** The memory ranges now in the TEE state. */
  get teeRanges(): readonly MemoryRange[] {
    return [...this.teRanges.values()];
  }

  /** One TSP request → its response (a message without even Version and Opcode is a DecodeError). */
  answer(body: Uint8Array): Uint8Array {
    const h = decodeTspHeader(body);
    const error = (errorCode: number, errorData = 0): Uint8Array =>
      respond({ opcode: TspResponse.ERROR, errorCode, errorData, extendedErrorData: new Uint8Array(0) });
    if (h.version !== TSP_VERSION_10) return error(TspErrorCode.VERSION_MISMATCH);
    let req;
    try {
      req = decodeTspRequest(body);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const known =
        h.opcode >= TspRequest.GET_TARGET_TSP_VERSION && h.opcode <= TspRequest.CHECK_TARGET_DELAYED_COMPLETION;
      const implemented = known && decodable.has(h.opcode);
      return error(implemented ? TspErrorCode.INVALID_REQUEST : TspErrorCode.UNSUPPORTED_REQUEST);
    }
    switch (req.opcode) {
      case TspRequest.GET_TARGET_TSP_VERSION:
        return respond({ opcode: TspResponse.GET_TARGET_TSP_VERSION_RSP, versions: [TSP_VERSION_10] });
      case TspRequest.GET_TARGET_CAPABILITIES:
        return respond({ opcode: TspResponse.GET_TARGET_CAPABILITIES_RSP, ...TSP_CAPABILITIES });
      case TspRequest.SET_TARGET_CONFIGURATION:
        if (this.state !== TspState.CONFIG_UNLOCKED) return error(TspErrorCode.ALREADY_LOCKED);
        if (req.secondary.validityFlags !== 0 || !acceptable(req.configuration))
          return error(TspErrorCode.INVALID_SECURITY_CONFIGURATION);
        this.configuration = req.configuration;
        this.configured = true;
        return respond({ opcode: TspResponse.SET_TARGET_CONFIGURATION_RSP });
      case TspRequest.GET_TARGET_CONFIGURATION:
        return respond({
          opcode: TspResponse.GET_TARGET_CONFIGURATION_RSP,
          configuration: this.configuration,
          state: this.state,
        });
      case TspRequest.GET_TARGET_CONFIGURATION_REPORT: {
        if (req.length === 0 || req.offset >= REPORT.length) return error(TspErrorCode.INVALID_REQUEST);
        const n = Math.min(req.length, MAX_REPORT_PORTION, REPORT.length - req.offset);
        return respond({
          opcode: TspResponse.GET_TARGET_CONFIGURATION_REPORT_RSP,
          portion: REPORT.subarray(req.offset, req.offset + n),
          remainderLength: REPORT.length - req.offset - n,
        });
      }
      case TspRequest.LOCK_TARGET_CONFIGURATION:
        if (this.state !== TspState.CONFIG_UNLOCKED) return error(TspErrorCode.ALREADY_LOCKED);
        if (!this.configured) return error(TspErrorCode.INVALID_SECURITY_CONFIGURATION);
        this.state = TspState.CONFIG_LOCKED;
        return respond({ opcode: TspResponse.LOCK_TARGET_CONFIGURATION_RSP });
      case TspRequest.SET_TARGET_TE_STATE: {
        if (this.state !== TspState.CONFIG_LOCKED) return error(TspErrorCode.INVALID_SECURITY_STATE);
        if ((this.configuration.teStateFeatures & TeStateFeature.EXPLICIT_IB_TE_STATE_CHANGE) === 0)
          return error(TspErrorCode.INVALID_SECURITY_CONFIGURATION);
        if (req.teState > 1 || req.ranges.length === 0) return error(TspErrorCode.INVALID_REQUEST);
        for (const r of req.ranges) {
          if (
            r.length === 0n ||
            r.start % TE_ALIGN !== 0n ||
            r.length % TE_ALIGN !== 0n ||
            r.start + r.length - 1n > U64_MAX
          )
            return error(TspErrorCode.INVALID_REQUEST);
        }
        for (const r of req.ranges) {
          const key = `${r.start}:${r.length}`;
          if (req.teState === 0) this.teRanges.delete(key);
          else if (!this.teRanges.has(key)) {
            if (this.teRanges.size >= MAX_TE_RANGES) return error(TspErrorCode.BUSY);
            this.teRanges.set(key, r);
          }
        }
        return respond({ opcode: TspResponse.SET_TARGET_TE_STATE_RSP });
      }
    }
  }
}

const decodable = new Set<number>([
  TspRequest.GET_TARGET_TSP_VERSION,
  TspRequest.GET_TARGET_CAPABILITIES,
  TspRequest.SET_TARGET_CONFIGURATION,
  TspRequest.GET_TARGET_CONFIGURATION,
  TspRequest.GET_TARGET_CONFIGURATION_REPORT,
  TspRequest.LOCK_TARGET_CONFIGURATION,
  TspRequest.SET_TARGET_TE_STATE,
]);

function respond(m: TspResponseMessage): Uint8Array {
  return encodeTspResponse(TSP_VERSION_10, m);
}

/** A configuration the target can take: only what it offers, one algorithm, consistent in-band entries. */
function acceptable(c: TspConfiguration): boolean {
  const cap = TSP_CAPABILITIES;
  if ((c.memoryEncryptionFeatures & ~cap.memoryEncryptionFeatures) !== 0) return false;
  const encrypting = (c.memoryEncryptionFeatures & MemoryEncryptionFeature.ENCRYPTION) !== 0;
  if (encrypting) {
    if (
      !isSingleBit(c.memoryEncryptionAlgorithm) ||
      (c.memoryEncryptionAlgorithm & cap.memoryEncryptionAlgorithms) === 0
    )
      return false;
  } else if (c.memoryEncryptionAlgorithm !== 0) return false;
  if ((c.teStateFeatures & ~cap.teStateFeatures) !== 0) return false;
  if (c.explicitOobTeStateGranularity !== 0) return false;
  // SPECIAL_PURPOSE_MEMORY (bit 1) may be asked for in SET; the target offers only locked-target FW update.
  if ((c.configurationFeatures & ~ConfigurationFeature.LOCKED_TARGET_FW_UPDATE) !== 0) return false;
  // No CKID-based encryption is offered, so no CKIDs can be assigned.
  if (c.ckidBase !== 0 || c.numberOfCkids !== 0) return false;
  if ((c.teStateFeatures & TeStateFeature.EXPLICIT_IB_TE_STATE_CHANGE) !== 0) {
    let seen = 0;
    for (const e of c.explicitIbTeStateGranularity) {
      if (e.lengthIndex === 0xff) continue;
      if (e.lengthIndex > 7 || (seen & (1 << e.lengthIndex)) !== 0) return false;
      seen |= 1 << e.lengthIndex;
    }
  }
  return true;
}
