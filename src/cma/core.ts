/**
 * What every part of the CMA service shares: the functions it knows, the clock, the journal that
 * commits and tells, whether the service is closing, and the work no caller awaits. The parts
 * (decisions, ownership, the flow runner, presence, signed measurements) each own their rules and
 * reach one another only through this and the few methods they are handed.
 */
import type { RandomSource } from '../crypto/random.js';
import { systemRandom } from '../crypto/random.js';
import { systemClock, type Clock } from '../transport/clock.js';
import { SpdmError } from '../wire/errors.js';
import { checkBdf } from './bdf.js';
import type { Device } from './device.js';
import { DriverGate } from './driver-hold.js';
import { EventJournal, type Batch } from './journal.js';
import type { CmaEvent } from './api.js';
import { positiveInt, type CmaOptions } from './options.js';
import type { CmaStore } from './store/store.js';

export class CmaCore {
  readonly known = new Map<string, Device>();
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly journal: EventJournal;
  private readonly pendingWork = new Set<Promise<void>>();
  private readonly gate: DriverGate | undefined;
  private closing = false;

  constructor(
    readonly opts: CmaOptions,
    store: CmaStore,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? systemRandom;
    this.journal = new EventJournal(
      store,
      positiveInt(opts.recentEvents, 10_000, 'recentEvents'),
      () => this.now(),
      (e) => this.report(e),
      () => this.closed,
      // A timer, not a microtask: flows finishing in the same few milliseconds share a commit.
      () => this.clock.sleep(0),
    );
    this.gate = opts.holdDrivers
      ? new DriverGate(
          opts.platform,
          this.journal,
          () => this.now(),
          (e) => this.report(e),
        )
      : undefined;
  }

  /** Commits the batch (journal.ts), then brings driver binding in line with it (holdDrivers). */
  async commit(b: Batch): Promise<CmaEvent[]> {
    const events = await this.journal.commit(b);
    if (this.gate) await this.gate.sync(b.devices);
    return events;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** From here on no new work starts (every attempt checks). */
  close(): void {
    this.closing = true;
  }

  now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  report(e: unknown): void {
    try {
      this.opts.onError?.(e);
    } catch {
      // a failing error handler must not take the service down
    }
  }

  /** DEVICE_STATE once the service is closed. */
  open(): void {
    if (this.closing) throw new SpdmError('DEVICE_STATE', 'the CMA service is closed', { bdf: '', state: 'closed' });
  }

  /** The function at `bdf` in the platform now. @throws TypeError, SpdmError DEVICE_NOT_FOUND */
  present(bdf: unknown): Device {
    const b = checkBdf(bdf);
    const dev = this.known.get(b);
    if (!dev?.present) throw new SpdmError('DEVICE_NOT_FOUND', `no function at ${b}`, { bdf: b });
    return dev;
  }

  /** Work started for this incarnation of the function still applies to it. */
  current(dev: Device, incarnation: number): boolean {
    return dev.present && dev.incarnation === incarnation && this.known.get(dev.bdf) === dev;
  }

  /** Work no caller awaits (platform events): idle() waits for it, failures go to onError. */
  background(p: Promise<unknown>): void {
    const tracked = p.then(
      () => undefined,
      (err: unknown) => this.report(err),
    );
    this.pendingWork.add(tracked);
    void tracked.then(() => this.pendingWork.delete(tracked));
  }

  get pending(): number {
    return this.pendingWork.size;
  }

  async settleBackground(): Promise<void> {
    await Promise.all([...this.pendingWork]);
  }
}
