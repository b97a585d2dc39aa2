/**
 * The event journal: the one place where state changes are committed and told. A change is a
 * Batch (device states, acceptance records, decisions, signatures, and the events announcing
 * them) written in one store transaction, under one lock, before any listener hears of it — so
 * a crash never leaves an event without its state, nor a state nobody was told about. Event ids
 * rise by one from the store's last id; the newest `recentMax` are kept in memory and older ones
 * are paged from the store.
 */
import { Mutex } from '../log/store/store.js';
import { SpdmError } from '../wire/errors.js';
import type { CmaEvent, CmaEventBody, DeviceSignature } from './api.js';
import { storedState, type Device } from './device.js';
import type { CmaStore, CommitBatch, StoredDecision } from './store/store.js';

/** The most events one eventsSince call returns (a page; the caller asks again from its last id). */
export const MAX_EVENTS_PAGE = 10_000;

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

export class EventJournal {
  private readonly recent: CmaEvent[] = [];
  private readonly listeners = new Set<(e: CmaEvent) => void>();
  private readonly lock = new Mutex();
  private lastEventId = 0;

  constructor(
    private readonly store: CmaStore,
    private readonly recentMax: number,
    private readonly now: () => string,
    private readonly report: (e: unknown) => void,
    private readonly isClosed: () => boolean,
  ) {}

  /** What the store held at start-up: its last id and its newest events. */
  restore(lastEventId: number, recent: readonly CmaEvent[]): void {
    this.lastEventId = lastEventId;
    this.recent.push(...recent);
  }

  /** Writes the batch and its events in one transaction, then tells the listeners. */
  async commit(b: Batch): Promise<CmaEvent[]> {
    return this.lock.run(async () => {
      const at = this.now();
      const events = b.events.map((body, i) => ({ ...body, id: this.lastEventId + 1 + i, at }));
      await this.store.commit({
        devices: [...new Set(b.devices)].map(storedState),
        acceptances: b.acceptances,
        decisions: b.decisions,
        signatures: b.signatures,
        events,
      });
      this.lastEventId += events.length;
      this.recent.push(...events);
      if (this.recent.length > this.recentMax) this.recent.splice(0, this.recent.length - this.recentMax);
      for (const e of events) {
        for (const l of [...this.listeners]) {
          try {
            l(e);
          } catch (err) {
            this.report(err);
          }
        }
      }
      return events;
    });
  }

  /** Resolves once the commit under way (if any) is written. */
  async settled(): Promise<void> {
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
