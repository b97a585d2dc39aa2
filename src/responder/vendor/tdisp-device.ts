/**
 * The emulated device's TDISP 1.0 responder (DSM): one TEE Device Interface and its state machine
 *
 *   CONFIG_UNLOCKED --LOCK_INTERFACE--> CONFIG_LOCKED --START_INTERFACE(nonce)--> RUN
 *   any --STOP_INTERFACE--> CONFIG_UNLOCKED;   CONFIG_LOCKED/RUN --IDE stream insecure--> ERROR
 *
 * LOCK_INTERFACE_REQUEST needs the default IDE stream to be secure (all its key sets live, see
 * IdeKmDevice) and answers a fresh 32-byte nonce that START_INTERFACE_REQUEST must echo, once.
 * The device interface report is taken at lock time (it describes the locked configuration):
 * MMIO ranges reported relative to the MMIO reporting offset the TSM chose. Requests in the wrong
 * state, for another interface, of another version, or malformed get TDISP_ERROR.
 */
import type { RandomSource } from '../../crypto/random.js';
import { equalBytes, asciiBytes } from '../../wire/bytes.js';
import { DecodeError } from '../../wire/errors.js';
import {
  InterfaceInfo,
  LockInterfaceFlag,
  MmioRangeAttribute,
  TDISP_NONCE_SIZE,
  TDISP_VERSION_10,
  TdiState,
  TdispErrorCode,
  TdispRequest,
  TdispResponse,
  decodeTdispHeader,
  decodeTdispRequest,
  encodeDeviceInterfaceReport,
  encodeTdispResponse,
  type MmioRange,
  type TdispHeader,
  type TdispResponseMessage,
} from '../../spdm/vendor/pci-tdisp.js';

/** The interface the emulator hosts: FunctionID 0xBEEF (what libspdm's spdm-emu requester asks for). */
export const EMULATED_TDI_FUNCTION_ID = 0xbeef;

const LOCK_FLAGS_SUPPORTED =
  LockInterfaceFlag.NO_FW_UPDATE | LockInterfaceFlag.SYSTEM_CACHE_LINE_SIZE | LockInterfaceFlag.LOCK_MSIX;
/** Request codes 0x81..0x87 (bit n = code 0x80 + n). */
const REQ_MSGS_SUPPORTED = Uint8Array.of(0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const DEV_ADDR_WIDTH = 52;
/** Longest report portion per response: well inside one DOE-sized SPDM message. */
const MAX_REPORT_PORTION = 0x200;
const PAGE = 4096n;

/** The function's BARs as the device sees them (bus addresses before the reporting offset). */
const BAR_LAYOUT: readonly { address: bigint; pages: number; attributes: number; rangeId: number }[] = [
  // BAR0: 64 KiB of TEE registers and queues.
  { address: 0xfe00_0000n, pages: 16, attributes: 0, rangeId: 0 },
  // BAR2: the MSI-X table and PBA, one page each.
  { address: 0xfe10_0000n, pages: 1, attributes: MmioRangeAttribute.MSIX_TABLE, rangeId: 2 },
  { address: 0xfe10_1000n, pages: 1, attributes: MmioRangeAttribute.MSIX_PBA, rangeId: 2 },
  // BAR4: a doorbell page the host may use while the TDI runs (not TEE memory).
  { address: 0xfe20_0000n, pages: 1, attributes: MmioRangeAttribute.IS_NON_TEE_MEM, rangeId: 4 },
];
/** MSI-X Message Control as locked: table size field 7 (eight vectors). */
const MSIX_MESSAGE_CONTROL = 0x0007;
const DEVICE_SPECIFIC_INFO = asciiBytes('spdmkit emulated TDI');

interface Tdi {
  state: number;
  nonce: Uint8Array | undefined;
  defaultStreamId: number;
  report: Uint8Array | undefined;
}

export interface TdispDeviceOptions {
  readonly random: RandomSource;
  /** Whether an IDE stream is secure (IdeKmDevice.isStreamSecure): LOCK_INTERFACE needs its default stream to be. */
  readonly isStreamSecure: (streamId: number) => boolean;
}

export class TdispDevice {
  private readonly tdis = new Map<number, Tdi>([
    [
      EMULATED_TDI_FUNCTION_ID,
      { state: TdiState.CONFIG_UNLOCKED, nonce: undefined, defaultStreamId: 0, report: undefined },
    ],
  ]);

  constructor(private readonly options: TdispDeviceOptions) {}

  /** The state of a hosted TDI (undefined for an interface the device does not host). */
  stateOf(functionId: number): number | undefined {
    return this.tdis.get(functionId)?.state;
  }

  /** An IDE stream stopped being secure: TDIs locked or running over it go to ERROR. */
  streamInsecure(streamId: number): void {
    for (const t of this.tdis.values()) {
      if ((t.state === TdiState.CONFIG_LOCKED || t.state === TdiState.RUN) && t.defaultStreamId === streamId) {
        t.state = TdiState.ERROR;
        t.nonce = undefined;
      }
    }
  }

  /** One TDISP request → its response (a header too short to answer is a DecodeError). */
  answer(body: Uint8Array): Uint8Array {
    const h = decodeTdispHeader(body);
    const error = (errorCode: number, errorData = 0): Uint8Array =>
      respond(h, {
        messageType: TdispResponse.TDISP_ERROR,
        errorCode,
        errorData,
        extendedErrorData: new Uint8Array(0),
      });
    if (h.version !== TDISP_VERSION_10) return error(TdispErrorCode.VERSION_MISMATCH);
    if (h.messageType < TdispRequest.GET_VERSION || h.messageType > TdispRequest.STOP_INTERFACE_REQUEST)
      return error(TdispErrorCode.UNSUPPORTED_REQUEST, h.messageType);
    const tdi = this.tdis.get(h.functionId);
    if (!tdi) return error(TdispErrorCode.INVALID_INTERFACE);
    let req;
    try {
      req = decodeTdispRequest(body);
    } catch (e) {
      if (e instanceof DecodeError) return error(TdispErrorCode.INVALID_REQUEST);
      throw e;
    }
    const wrongState = (): Uint8Array => error(TdispErrorCode.INVALID_INTERFACE_STATE);
    switch (req.messageType) {
      case TdispRequest.GET_VERSION:
        return respond(h, { messageType: TdispResponse.VERSION, versions: [TDISP_VERSION_10] });
      case TdispRequest.GET_CAPABILITIES:
        return respond(h, {
          messageType: TdispResponse.CAPABILITIES,
          dsmCaps: 0,
          reqMsgsSupported: REQ_MSGS_SUPPORTED,
          lockInterfaceFlagsSupported: LOCK_FLAGS_SUPPORTED,
          devAddrWidth: DEV_ADDR_WIDTH,
          numReqThis: 1,
          numReqAll: 1,
        });
      case TdispRequest.LOCK_INTERFACE_REQUEST: {
        if (tdi.state !== TdiState.CONFIG_UNLOCKED) return wrongState();
        if ((req.flags & ~LOCK_FLAGS_SUPPORTED) !== 0) return error(TdispErrorCode.INVALID_REQUEST);
        // P2P binding is not offered, so its mask must be clear; the offset must keep every range in 64 bits.
        if (req.bindP2pAddressMask !== 0n || req.mmioReportingOffset % PAGE !== 0n)
          return error(TdispErrorCode.INVALID_REQUEST);
        const ranges: MmioRange[] = [];
        for (const bar of BAR_LAYOUT) {
          const reported = bar.address + req.mmioReportingOffset;
          if (reported + BigInt(bar.pages) * PAGE > 0xffff_ffff_ffff_ffffn)
            return error(TdispErrorCode.INVALID_REQUEST);
          ranges.push({
            firstPage: reported / PAGE,
            numberOfPages: bar.pages,
            attributes: bar.attributes,
            rangeId: bar.rangeId,
          });
        }
        if (!this.options.isStreamSecure(req.defaultStreamId))
          return error(TdispErrorCode.INVALID_DEVICE_CONFIGURATION);
        const nonce = this.options.random(TDISP_NONCE_SIZE);
        tdi.state = TdiState.CONFIG_LOCKED;
        tdi.nonce = nonce;
        tdi.defaultStreamId = req.defaultStreamId;
        tdi.report = encodeDeviceInterfaceReport({
          interfaceInfo: InterfaceInfo.NO_UPDATE_AFTER_LOCK | InterfaceInfo.DMA_WITHOUT_PASID,
          msixMessageControl: (req.flags & LockInterfaceFlag.LOCK_MSIX) !== 0 ? MSIX_MESSAGE_CONTROL : 0,
          lnrControl: 0,
          tphControl: 0,
          mmioRanges: ranges,
          deviceSpecificInfo: DEVICE_SPECIFIC_INFO,
        });
        return respond(h, { messageType: TdispResponse.LOCK_INTERFACE_RESPONSE, nonce });
      }
      case TdispRequest.GET_DEVICE_INTERFACE_REPORT: {
        if ((tdi.state !== TdiState.CONFIG_LOCKED && tdi.state !== TdiState.RUN) || !tdi.report) return wrongState();
        if (req.length === 0 || req.offset >= tdi.report.length) return error(TdispErrorCode.INVALID_REQUEST);
        const n = Math.min(req.length, MAX_REPORT_PORTION, tdi.report.length - req.offset);
        return respond(h, {
          messageType: TdispResponse.DEVICE_INTERFACE_REPORT,
          portion: tdi.report.subarray(req.offset, req.offset + n),
          remainderLength: tdi.report.length - req.offset - n,
        });
      }
      case TdispRequest.GET_DEVICE_INTERFACE_STATE:
        return respond(h, { messageType: TdispResponse.DEVICE_INTERFACE_STATE, state: tdi.state });
      case TdispRequest.START_INTERFACE_REQUEST:
        if (tdi.state !== TdiState.CONFIG_LOCKED || !tdi.nonce) return wrongState();
        if (!equalBytes(req.nonce, tdi.nonce)) return error(TdispErrorCode.INVALID_NONCE);
        tdi.state = TdiState.RUN;
        // The nonce is good for one START_INTERFACE.
        tdi.nonce = undefined;
        return respond(h, { messageType: TdispResponse.START_INTERFACE_RESPONSE });
      case TdispRequest.STOP_INTERFACE_REQUEST:
        tdi.state = TdiState.CONFIG_UNLOCKED;
        tdi.nonce = undefined;
        tdi.report = undefined;
        return respond(h, { messageType: TdispResponse.STOP_INTERFACE_RESPONSE });
    }
  }
}

/** Responses carry the version and INTERFACE_ID of the request. */
function respond(
  h: TdispHeader,
  m: DistributiveOmit<TdispResponseMessage, keyof TdispHeader> & { messageType: number },
): Uint8Array {
  return encodeTdispResponse({ ...m, version: TDISP_VERSION_10, functionId: h.functionId } as TdispResponseMessage);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
