/**
 * DOE faults: the device emulator behind a simulated PCIe DOE mailbox (pci/doe-device.ts) that is
 * stuck Busy, sets Error, never sets Data Object Ready, resets mid-transfer, ignores aborts, or
 * announces an object length other than the one it streams — reached through the register-level
 * driver (pci/doe-mailbox.ts) and the DOE transport, as a host would. The driver is given short
 * timeouts so a stuck mailbox costs tens of milliseconds, not the PCIe second.
 */
import type { SpdmHandler } from '../../transport/transport.js';
import type { ConfigSpace } from '../../pci/config-space.js';
import { SimulatedDoeDevice } from '../../pci/doe-device.js';
import { DOE_CTRL_GO, DoeReg } from '../../pci/doe-mailbox.js';
import { openDoeTransport, type DoeTransport } from '../../pci/doe-transport.js';

export type DoeFault =
  /** Busy never clears: nobody may write a request. */
  | 'busy-stuck'
  /** The device sets Error instead of answering. */
  | 'error-set'
  /** The device takes the request and never sets Data Object Ready. */
  | 'ready-never-set'
  /** The response header announces one DW less than the object the device streams. */
  | 'longer-than-announced'
  /** The response header announces one DW more than the device has. */
  | 'shorter-than-announced'
  /** The device resets while the response is being read. */
  | 'reset-mid-response'
  /** The device resets while the request is being written. */
  | 'reset-mid-request'
  /** The response object is larger than the driver accepts. */
  | 'response-over-limit'
  /** Error is set and aborts are ignored: the mailbox is dead. */
  | 'abort-ignored';

/** Driver timings for the hostile cases (ms). */
export const DOE_FAULT_TIMING = { timeoutMs: 60, abortTimeoutMs: 30, busyWaitMs: 30, pollIntervalMs: 1 } as const;
/** The response limit the driver is given in the response-over-limit case (DW). */
export const DOE_FAULT_MAX_RESPONSE_DW = 8;

/**
 * Config space in front of the simulated device that changes the Length field (the second header
 * DW) of every response object by `delta` DW as the driver reads it.
 */
class LengthLyingConfigSpace implements ConfigSpace {
  readonly size: number;
  private readIndex = 0;
  /** Lies only once armed (after discovery). */
  armed = false;
  constructor(
    private readonly dev: SimulatedDoeDevice,
    private readonly delta: number,
  ) {
    this.size = dev.size;
  }

  async read32(offset: number): Promise<number> {
    const v = await this.dev.read32(offset);
    if (offset === this.dev.doeOffset + DoeReg.READ && this.armed && this.readIndex === 1 && this.dev.dataObjectReady) {
      const len = (v & 0x3ffff) + this.delta;
      return ((v & ~0x3ffff) | (len & 0x3ffff)) >>> 0;
    }
    return v;
  }

  async write32(offset: number, value: number): Promise<void> {
    if (offset === this.dev.doeOffset + DoeReg.READ) this.readIndex++;
    if (offset === this.dev.doeOffset + DoeReg.CTRL && (value & DOE_CTRL_GO) !== 0) this.readIndex = 0;
    await this.dev.write32(offset, value);
  }
}

export interface DoeRig {
  readonly transport: DoeTransport;
  readonly device: SimulatedDoeDevice;
}

/** Opens a DOE transport to `handler` behind a simulated mailbox, then arms `fault` for the first SPDM request. */
export async function openFaultyDoe(handler: SpdmHandler, fault: DoeFault): Promise<DoeRig> {
  const device = new SimulatedDoeDevice({ handler });
  const liar =
    fault === 'longer-than-announced'
      ? new LengthLyingConfigSpace(device, -1)
      : fault === 'shorter-than-announced'
        ? new LengthLyingConfigSpace(device, +1)
        : undefined;
  const cs: ConfigSpace = liar ?? device;
  const transport = await openDoeTransport(cs, {
    ...DOE_FAULT_TIMING,
    ...(fault === 'response-over-limit' ? { maxResponseDw: DOE_FAULT_MAX_RESPONSE_DW } : {}),
  });
  // Armed after discovery, so that the fault meets SPDM, not the discovery exchange.
  if (liar) liar.armed = true;
  switch (fault) {
    case 'busy-stuck':
      device.busyFor({ ms: 3_600_000 });
      break;
    case 'error-set':
      device.errorOnNext();
      break;
    case 'ready-never-set':
      device.hang();
      break;
    case 'reset-mid-response':
      device.resetDuring('response', 3);
      break;
    case 'reset-mid-request':
      device.resetDuring('request', 2);
      break;
    case 'abort-ignored':
      device.ignoreAborts();
      device.errorOnNext();
      break;
    default:
      break;
  }
  return { transport, device };
}
