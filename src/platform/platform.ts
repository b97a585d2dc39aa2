/**
 * What the CMA layer needs of a machine: the PCI functions present, a way to reach each one's
 * config space (and through it its DOE mailbox), and the events the operating system would see —
 * hot-plug, hot-unplug and resets. Two platforms implement it: the simulated one (a platform file
 * of emulated devices, with events a test or the demo injects) and real Linux (sysfs), where a
 * reset is invisible to user space until someone reports it ({@link ResetKind} `notified`).
 */
import type { ConfigSpace } from '../pci/config-space.js';

/** How a function lost its state: function-level reset, secondary bus reset, resume from suspend, or a report. */
export type ResetKind = 'flr' | 'secondary-bus' | 'resume' | 'notified';

export type PlatformEvent =
  | { readonly type: 'added'; readonly bdf: string }
  | { readonly type: 'removed'; readonly bdf: string }
  /** The function is present but lost its SPDM state: whatever is behind the BDF must be checked again. */
  | { readonly type: 'reset'; readonly bdf: string; readonly kind: ResetKind };

export interface PlatformFunction {
  /** Domain:bus:device.function, e.g. 0000:03:00.0. */
  readonly bdf: string;
  /**
   * Opens the function's config space. Each call returns a fresh handle the caller owns and
   * closes (a DoeTransport opened with `ownsConfigSpace` does it). Fails with a typed SpdmError
   * (`TRANSPORT_ERROR`) when the function is gone.
   */
  openConfigSpace(): Promise<ConfigSpace>;
}

/** Whether a function's driver binding is held back, and what holding it did. */
export interface DriverHold {
  readonly held: boolean;
  /** The driver that was bound when the hold began and was unbound (Linux). */
  readonly unbound?: string;
}

export interface Platform {
  readonly kind: 'simulated' | 'sysfs';
  /** The functions present now, in BDF order. */
  functions(): Promise<readonly PlatformFunction[]>;
  /** Called for every event, in order; returns the unsubscribe function. */
  subscribe(listener: (event: PlatformEvent) => void): () => void;
  /**
   * Holds back (`hold`) or releases the binding of a driver to the function. On Linux: writes
   * `driver_override` and unbinds the bound driver, or clears the override (only its own) and
   * asks the bus to probe again; on the simulated platform it is state only. Optional: a platform
   * without it cannot hold drivers. Idempotent. @throws TypeError for an unknown BDF
   */
  holdDriver?(bdf: string, hold: boolean): Promise<DriverHold>;
  /** Stops watching and releases every handle; functions() fails afterwards. */
  close(): Promise<void>;
}
