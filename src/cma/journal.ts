/**
 * The event journal: the one place where state changes are committed and told. A change is a
 * Batch (device states, acceptance records, decisions, and the events announcing them, signatures
 * among them) written in one store transaction, under one lock, before any listener hears of it — so
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
import { SpdmError } from '../wire/errors.js';
import type { CmaEvent, CmaEventBody } from './api.js';
import { storedState, type Device } from './device.js';
import type { CmaStore, CommitBatch, StoredDecision } from './store/store.js';
import { GroupCommit } from './group-commit.js';

/** The most events one eventsSince call returns (a page; the caller asks again from its last id). */
export const MAX_EVENTS_PAGE = 10_000;

/** The most batches one group commit writes. */
const MAX_GROUP = 256;

/** A commit in the making: the state to write and the events that announce it. */
export interface Batch {
  devices: Device[];
  acceptances: NonNullable<CommitBatch['acceptances']>[number][];
  decisions: StoredDecision[];
  events: CmaEventBody[];
}

export function batch(): Batch {
  return { devices: [], acceptances: [], decisions: [], events: [] };
}

export class EventJournal {
  private readonly recent: CmaEvent[] = [];
  private readonly listeners = new Set<(e: CmaEvent) => void>();
  private lastEventId = 0;
  private readonly commits: GroupCommit<Batch, CmaEvent[]>;

  constructor(
    private readonly store: CmaStore,
    private readonly recentMax: number,
    private readonly now: () => string,
    private readonly report: (e: unknown) => void,
    private readonly isClosed: () => boolean,
    /** Waits out the rest of this turn's work before a group commit (the service's clock, sleep(0)). */
    defer: () => Promise<void>,
  ) {
    this.commits = new GroupCommit({
      write: (group) => this.write(group),
      defer,
      // Bounded, so that one transaction does not hold the event loop (SQLite writes synchronously) for long.
      maxGroup: MAX_GROUP,
      missingResult: 'the journal wrote fewer event lists than batches',
    });
  }

  /** What the store held at start-up: its last id and its newest events. */
  restore(lastEventId: number, recent: readonly CmaEvent[]): void {
    this.lastEventId = lastEventId;
    this.recent.push(...recent);
  }

  /** Writes the batch and its events (grouped with others, one transaction), then tells the listeners. */
  commit(b: Batch): Promise<CmaEvent[]> {
    return this.commits.submit(b);
  }

  /** One group commit: ids given, the store transaction, then the window in memory and the listeners. */
  private async write(group: readonly Batch[]): Promise<CmaEvent[][]> {
    const at = this.now();
    let next = this.lastEventId + 1;
    const eventsOf = group.map((b) => b.events.map((body) => ({ ...body, id: next++, at })));
    const all = eventsOf.flat();
    await this.store.commit({
      devices: [...new Set(group.flatMap((b) => b.devices))].map(storedState),
      acceptances: group.flatMap((b) => b.acceptances),
      decisions: group.flatMap((b) => b.decisions),
      events: all,
    });
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
    return eventsOf;
  }

  /** Resolves once every commit handed in so far is written. */
  settled(): Promise<void> {
    return this.commits.settled();
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
