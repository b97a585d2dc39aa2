/**
 * Holding back driver binding of refused functions (createCma `holdDrivers`, off by default):
 * user space decides before a driver gets the device. The rule, here only:
 *
 * - a function that might do CMA-SPDM and is refused — never accepted yet, untrusted, failed the
 *   same-device check, or rejected — is held (Linux: `driver_override` and unbind);
 * - an accepted function is released (the override cleared, the bus probed);
 * - an accepted function waiting for its same-device check (after a restart, reset or TSM
 *   hand-back) keeps what it had: a restart of the daemon does not unbind working drivers, and a
 *   device that fails the check is held then;
 * - a function known to have no DOE mailbox or no CMA-SPDM is left alone: there is nothing to
 *   decide on (the sysfs platform does not even list it).
 *
 * The platform call happens after the state change is committed and told; what it did is stored
 * with the device (no event). A failing call is reported to onError and retried at the device's
 * next change.
 */
import type { Platform } from '../platform/platform.js';
import type { Device } from './device.js';
import { batch } from './journal.js';
import type { EventJournal } from './journal.js';
import { reasonOf } from './outcome.js';

/** true: hold, false: release, undefined: leave as it is. */
export function wantsHold(dev: Device): boolean | undefined {
  if (!dev.present) return undefined;
  if (dev.doe === 'no-doe' || dev.doe === 'no-cma') return false;
  const a = dev.acceptance;
  if (a.state === 'accepted') return false;
  if (a.state === 'unaccepted' && a.reason?.code === 'SAME_DEVICE_PENDING') return undefined;
  return true;
}

export class DriverGate {
  /** Per function, the platform calls in order (a hold and a release never race). */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly platform: Platform,
    private readonly journal: EventJournal,
    private readonly now: () => string,
    private readonly report: (e: unknown) => void,
  ) {}

  /** Brings the driver binding of each device in line with its state. Never throws. */
  async sync(devices: readonly Device[]): Promise<void> {
    await Promise.all([...new Set(devices)].map((d) => this.queue(d)));
  }

  private queue(dev: Device): Promise<void> {
    const next = (this.chains.get(dev.bdf) ?? Promise.resolve()).then(() => this.apply(dev));
    this.chains.set(dev.bdf, next);
    void next.then(() => {
      if (this.chains.get(dev.bdf) === next) this.chains.delete(dev.bdf);
    });
    return next;
  }

  private async apply(dev: Device): Promise<void> {
    const want = wantsHold(dev);
    if (!this.platform.holdDriver || want === undefined) return;
    const was = dev.driver;
    if (was ? was.held === want && !was.error : !want) return; // in line (never held: nothing to release)
    const at = this.now();
    try {
      const r = await this.platform.holdDriver(dev.bdf, want);
      dev.driver = { held: r.held, at, ...(r.unbound !== undefined ? { unbound: r.unbound } : {}) };
    } catch (e) {
      this.report(e);
      dev.driver = { held: was?.held ?? false, at, error: reasonOf(e) };
    }
    try {
      const b = batch();
      b.devices.push(dev);
      await this.journal.commit(b);
    } catch (e) {
      this.report(e);
    }
  }
}
