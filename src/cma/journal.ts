/**
 * The event journal: the one place where state changes are committed and told. A change is a
 * Batch (device states, acceptance records, decisions, signatures, and the events announcing
 * them) written in one store transaction, under one lock, before any listener hears of it — so
 * a crash never leaves an event without its state, nor a state nobody was told about. Event ids
 * rise by one from the store's last id; the newest `recentMax` are kept in memory and older ones
 * are paged from the store.
 *
 * Commits are grouped: the batches handed in during one turn of the event loop (and while a write
 * is under way) go to the store as one transaction, in the order they came. A durable commit costs
 * a disk flush (SQLite's synchronous=FULL, PostgreSQL's COMMIT), the same for one batch or for a
 * hundred, and on SQLite it blocks the event loop meanwhile: with thousands of devices
 * authenticating at once, one flush per batch would be most of the daemon's time. Each caller
 * still hears only after its own batch is on disk; when the group's transaction fails, every
 * batch in it fails (none of them was written).
 */
import { Mutex } from '../log/store/store.js';
import { SpdmError } from '../wire/errors.js';
import type { CmaEvent, CmaEventBody, DeviceSignature } from './api.js';
import { storedState, type Device } from './device.js';
import type { CmaStore, CommitBatch, StoredDecision } from './store/store.js';

/** The most events one eventsSince call returns (a page; the caller asks again from its last id). */
export const MAX_EVENTS_PAGE = 10_000;

/** The most batches one group commit writes. */
const MAX_GROUP = 256;

/** A commit in the making: the state to write and the events that announce it. */
export interface Batch {
  devices: Device[];
  acceptances: NonNullable<CommitBatch['acceptances']>[number][];
  decisions: StoredDecision[];
  signatures: DeviceSignature[];
  events: CmaEventBody[];
}

export function batch(): Batch {
  return { devices: [], acceptances: [], decisions: [], signatures: [], events: [] };
}

interface Queued {
  readonly batch: Batch;
  readonly resolve: (events: CmaEvent[]) => void;
  readonly reject: (e: unknown) => void;
}

export class EventJournal {
  private readonly recent: CmaEvent[] = [];
  private readonly listeners = new Set<(e: CmaEvent) => void>();
  private readonly lock = new Mutex();
  private lastEventId = 0;
  /** Batches waiting for the next group commit. */
  private queue: Queued[] = [];
  /** The group commit scheduled or running for `queue`, if any. */
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: CmaStore,
    private readonly recentMax: number,
    private readonly now: () => string,
    private readonly report: (e: unknown) => void,
    private readonly isClosed: () => boolean,
    /** Waits out the rest of this turn's work before a group commit (the service's clock, sleep(0)). */
    private readonly defer: () => Promise<void>,
  ) {}

  /** What the store held at start-up: its last id and its newest events. */
  restore(lastEventId: number, recent: readonly CmaEvent[]): void {
    this.lastEventId = lastEventId;
    this.recent.push(...recent);
  }

  /** Writes the batch and its events (grouped with others, one transaction), then tells the listeners. */
  commit(b: Batch): Promise<CmaEvent[]> {
    return new Promise<CmaEvent[]>((resolve, reject) => {
      this.queue.push({ batch: b, resolve, reject });
      this.schedule();
    });
  }

  /** A group commit after the rest of this turn's work (other flows finishing, more devices plugged). */
  private schedule(): void {
    this.flushing ??= this.defer().then(() => this.lock.run(() => this.flush()));
  }

  private async flush(): Promise<void> {
    // Bounded, so that one transaction does not hold the event loop (SQLite writes synchronously) for long.
    const group = this.queue.splice(0, MAX_GROUP);
    // Batches handed in from here on (or left over) go to the next group.
    this.flushing = undefined;
    if (this.queue.length > 0) this.schedule();
    if (group.length === 0) return;
    let eventsOf: CmaEvent[][];
    let all: CmaEvent[];
    try {
      const at = this.now();
      let next = this.lastEventId + 1;
      eventsOf = group.map((q) => q.batch.events.map((body) => ({ ...body, id: next++, at })));
      all = eventsOf.flat();
      await this.store.commit({
        devices: [...new Set(group.flatMap((q) => q.batch.devices))].map(storedState),
        acceptances: group.flatMap((q) => q.batch.acceptances),
        decisions: group.flatMap((q) => q.batch.decisions),
        signatures: group.flatMap((q) => q.batch.signatures),
        events: all,
      });
    } catch (e) {
      for (const q of group) q.reject(e);
      return;
    }
    this.lastEventId += all.length;
    this.recent.push(...all);
    if (this.recent.length > this.recentMax) this.recent.splice(0, this.recent.length - this.recentMax);
    for (const e of all) {
      for (const l of [...this.listeners]) {
        try {
          l(e);
        } catch (err) {
          this.report(err);
        }
      }
    }
    group.forEach((q, i) => q.resolve(eventsOf[i] ?? []));
  }

  /** Resolves once every commit handed in so far is written. */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.lock.run(async () => undefined);
  }

  async eventsSince(afterId: number, limit = 1000): Promise<readonly CmaEvent[]> {
    if (!Number.isSafeInteger(afterId) || afterId < 0)
      throw new TypeError(`afterId must be a non-negative integer, got ${String(afterId)}`);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError(`limit must be a positive integer`);
    const n = Math.min(limit, MAX_EVENTS_PAGE);
    // Ids rise by one, so the window in memory starts at a known id and afterId indexes it.
    const oldest = this.recent[0]?.id ?? this.lastEventId + 1;
    if (afterId + 1 >= oldest) return this.recent.slice(afterId + 1 - oldest, afterId + 1 - oldest + n);
    // Older than the window: every committed event is in the store (it is written before it is
    // kept here or told), so the store's page is complete up to the newest event.
    if (this.isClosed()) throw new SpdmError('DEVICE_STATE', 'the CMA service is closed', { bdf: '', state: 'closed' });
    return this.store.eventsSince(afterId, n);
  }

  subscribe(listener: (event: CmaEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
