/**
 * The real Linux platform: the PCI functions under /sys/bus/pci/devices that can do CMA-SPDM, and
 * hot-plug noticed by watching that directory. A function is listed when its DOE mailbox announces
 * CMA-SPDM in <device>/doe_features (recent kernels list each mailbox's protocols there, readable
 * without privileges); on kernels without that directory, when its config space has a DOE
 * capability at all (reading the extended region needs root; which protocols the mailbox speaks is
 * then only known once the CMA layer runs discovery, which fails with UNSUPPORTED if not CMA).
 *
 * Resets are invisible to user space here: whoever learns of one (an operator, a RAS daemon)
 * reports it with notifyReset(), which emits a `reset` of kind `notified`.
 *
 * holdDriver() keeps a refused function from its driver the kernel's way: `driver_override` set
 * to a name no driver has ({@link HOLD_OVERRIDE}) so that no driver matches it, and the bound
 * driver unbound (`<device>/driver/unbind`); releasing clears the override — only when it is
 * still ours, an administrator's `vfio-pci` is left alone — and writes the BDF to the bus's
 * `drivers_probe` so the usual driver binds.
 */
import { watch, type FSWatcher } from 'node:fs';
import { access, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isSpdmError, SpdmError } from '../wire/errors.js';
import { systemClock, type Clock } from '../transport/clock.js';
import { DoeObjectType, PCI_SIG_VENDOR_ID } from '../transport/doe.js';
import { findExtendedCapabilities, PCI_EXT_CAP_ID_DOE, type ConfigSpace } from '../pci/config-space.js';
import { isBdf, readKernelDoeFeatures, SysfsConfigSpace, SYSFS_PCI_DEVICES } from '../pci/sysfs.js';
import type { DriverHold, Platform, PlatformEvent, PlatformFunction } from './platform.js';

export interface SysfsPlatformOptions {
  /** The device directory (default /sys/bus/pci/devices); tests point it at a fake tree. */
  readonly root?: string;
  /** Rescan the directory this often (ms, default 1000); 0 turns polling off. */
  readonly pollIntervalMs?: number;
  /** Also rescan soon after fs.watch reports a change in the directory (default false: sysfs seldom reports one). */
  readonly watch?: boolean;
  /** Quiet period after a watch notification before rescanning (ms, default 50). */
  readonly watchDebounceMs?: number;
  /**
   * A new entry that does not qualify yet (its attributes still being created) is looked at again
   * on every rescan for this long (ms, default 2000); after that only when it reappears.
   */
  readonly settleMs?: number;
  readonly clock?: Clock;
}

/** The driver_override value that holds a function back: no driver is called this. */
export const HOLD_OVERRIDE = 'spdmkit-hold';

function fsError(e: unknown, path: string, what: string): SpdmError {
  return new SpdmError('TRANSPORT_ERROR', `cannot ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`, {
    path,
  });
}

function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && e.code === 'ENOENT';
}

/** Writes a sysfs attribute that must already exist (the kernel creates them; we never do). */
async function writeAttribute(path: string, value: string): Promise<void> {
  try {
    await access(path);
    await writeFile(path, value);
  } catch (e) {
    throw fsError(e, path, 'write');
  }
}

/** Why a function was listed: the kernel's DOE protocol list, or a DOE capability whose protocols are unknown. */
export type SysfsCmaEvidence = 'doe-features' | 'doe-capability';

/** Whether the device at `root/bdf` can do CMA-SPDM, as far as unprivileged files (or root's config reads) tell. */
export async function sysfsCmaCandidate(root: string, bdf: string): Promise<SysfsCmaEvidence | undefined> {
  const features = await readKernelDoeFeatures(join(root, bdf));
  if (features) {
    return features.some((p) => p.vendorId === PCI_SIG_VENDOR_ID && p.type === DoeObjectType.CMA_SPDM)
      ? 'doe-features'
      : undefined;
  }
  let cs: SysfsConfigSpace | undefined;
  try {
    cs = await SysfsConfigSpace.open(bdf, { root, readOnly: true });
    return (await findExtendedCapabilities(cs, PCI_EXT_CAP_ID_DOE)).length > 0 ? 'doe-capability' : undefined;
  } catch (e) {
    if (isSpdmError(e)) return undefined; // unreadable (privileges, short file) or malformed: not listed
    throw e;
  } finally {
    await cs?.close();
  }
}

async function listNames(root: string): Promise<string[]> {
  try {
    return (await readdir(root)).filter(isBdf).sort();
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'code' in e && e.code === 'ENOENT') return [];
    throw new SpdmError('TRANSPORT_ERROR', `cannot list ${root}: ${e instanceof Error ? e.message : String(e)}`, {
      path: root,
    });
  }
}

export class SysfsPlatform implements Platform {
  readonly kind = 'sysfs' as const;
  readonly root: string;
  private readonly clock: Clock;
  private readonly listeners = new Set<(event: PlatformEvent) => void>();
  /** Listed functions → why. */
  private readonly listed = new Map<string, SysfsCmaEvidence>();
  /** Entries seen that do not qualify → when first seen (dropped after settleMs). */
  private readonly unqualified = new Map<string, number>();
  private readonly settleMs: number;
  private scanning: Promise<void> | undefined;
  private rescanAgain = false;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private closed = false;
  private stopPolling: (() => void) | undefined;

  private constructor(private readonly opts: SysfsPlatformOptions) {
    this.root = opts.root ?? SYSFS_PCI_DEVICES;
    this.clock = opts.clock ?? systemClock;
    this.settleMs = opts.settleMs ?? 2000;
    const interval = opts.pollIntervalMs ?? 1000;
    if (interval < 0 || !Number.isFinite(interval)) throw new TypeError('pollIntervalMs must be 0 or more');
  }

  /** Scans the directory once (no events for what is found then) and starts watching it. */
  static async open(opts: SysfsPlatformOptions = {}): Promise<SysfsPlatform> {
    const p = new SysfsPlatform(opts);
    await p.rescan(false);
    p.startWatching();
    return p;
  }

  async functions(): Promise<readonly PlatformFunction[]> {
    this.checkOpen();
    await this.rescan(true);
    return [...this.listed.keys()].sort().map((bdf) => this.functionAt(bdf));
  }

  /** Why each listed function is listed (for diagnostics: `doe-capability` means discovery has not been run). */
  evidence(bdf: string): SysfsCmaEvidence | undefined {
    return this.listed.get(bdf);
  }

  subscribe(listener: (event: PlatformEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reports a reset user space learnt of some other way: emits `reset` of kind `notified`. Unknown BDFs are a TypeError. */
  notifyReset(bdf: string): void {
    this.checkOpen();
    if (!this.listed.has(bdf)) throw new TypeError(`${bdf} is not a listed CMA function`);
    this.emit({ type: 'reset', bdf, kind: 'notified' });
  }

  async holdDriver(bdf: string, hold: boolean): Promise<DriverHold> {
    this.checkOpen();
    if (!isBdf(bdf)) throw new TypeError(`not a BDF: ${JSON.stringify(bdf)}`);
    const dir = join(this.root, bdf);
    const override = join(dir, 'driver_override');
    if (hold) {
      // First the override, so that nothing binds again between the unbind and it.
      await writeAttribute(override, `${HOLD_OVERRIDE}\n`);
      let bound: string | undefined;
      try {
        bound = basename(await readlink(join(dir, 'driver')));
      } catch (e) {
        if (!isNotFound(e)) throw fsError(e, join(dir, 'driver'), 'read');
      }
      if (bound !== undefined) await writeAttribute(join(dir, 'driver', 'unbind'), bdf);
      return { held: true, ...(bound !== undefined ? { unbound: bound } : {}) };
    }
    let current: string | undefined;
    try {
      current = (await readFile(override, 'utf8')).trim();
    } catch (e) {
      if (!isNotFound(e)) throw fsError(e, override, 'read');
    }
    if (current === HOLD_OVERRIDE) {
      await writeAttribute(override, '\n');
      // The bus's drivers_probe sits beside its devices directory (/sys/bus/pci/drivers_probe).
      const probe = join(dirname(this.root), 'drivers_probe');
      try {
        await access(probe);
      } catch {
        return { held: false }; // no probe attribute: the driver binds at the next rescan or hot-plug
      }
      await writeAttribute(probe, bdf);
    }
    return { held: false };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopPolling?.();
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
    this.listeners.clear();
    await this.scanning?.catch(() => undefined);
  }

  /**
   * Compares the directory with what is listed and emits `added`/`removed` for the differences.
   * One scan at a time: a request during a scan makes one more scan follow it.
   */
  rescan(emit = true): Promise<void> {
    if (this.scanning) {
      this.rescanAgain = true;
      return this.scanning;
    }
    const run = async () => {
      do {
        this.rescanAgain = false;
        await this.scanOnce(emit);
      } while (this.rescanAgain && !this.closed);
    };
    this.scanning = run().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  // -------------------------------------------------------------------------------------------

  private async scanOnce(emit: boolean): Promise<void> {
    const names = new Set(await listNames(this.root));
    const now = this.clock.now();
    for (const bdf of [...this.listed.keys()]) {
      if (names.has(bdf)) continue;
      this.listed.delete(bdf);
      if (emit) this.emit({ type: 'removed', bdf });
    }
    for (const bdf of [...this.unqualified.keys()]) if (!names.has(bdf)) this.unqualified.delete(bdf);
    for (const bdf of names) {
      if (this.closed) return;
      if (this.listed.has(bdf)) continue;
      const since = this.unqualified.get(bdf);
      if (since !== undefined && now - since > this.settleMs) continue;
      const why = await sysfsCmaCandidate(this.root, bdf);
      if (why) {
        this.unqualified.delete(bdf);
        this.listed.set(bdf, why);
        if (emit) this.emit({ type: 'added', bdf });
      } else if (since === undefined) {
        this.unqualified.set(bdf, now);
      }
    }
  }

  private startWatching(): void {
    const interval = this.opts.pollIntervalMs ?? 1000;
    if (interval > 0) {
      let stopped = false;
      this.stopPolling = () => {
        stopped = true;
      };
      const loop = async () => {
        while (!stopped && !this.closed) {
          await this.clock.sleep(interval);
          if (stopped || this.closed) return;
          // A failing scan (the directory unreadable for a moment) keeps the last state; the next poll retries.
          await this.rescan(true).catch(() => undefined);
        }
      };
      void loop();
    }
    if (this.opts.watch) {
      try {
        this.watcher = watch(this.root, { persistent: false }, () => this.onWatch());
        this.watcher.on('error', () => this.watcher?.close());
      } catch {
        this.watcher = undefined; // no inotify on this directory: polling alone
      }
    }
  }

  private onWatch(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (!this.closed) void this.rescan(true).catch(() => undefined);
    }, this.opts.watchDebounceMs ?? 50);
  }

  private functionAt(bdf: string): PlatformFunction {
    return {
      bdf,
      openConfigSpace: async (): Promise<ConfigSpace> => {
        this.checkOpen();
        return SysfsConfigSpace.open(bdf, { root: this.root, readOnly: false });
      },
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new TypeError('the sysfs platform is closed');
  }

  private emit(event: PlatformEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A failing subscriber must not keep the event from the others.
      }
    }
  }
}

/** The real Linux platform over `opts.root` (default /sys/bus/pci/devices). */
export function openSysfsPlatform(opts: SysfsPlatformOptions = {}): Promise<SysfsPlatform> {
  return SysfsPlatform.open(opts);
}
