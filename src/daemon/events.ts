/**
 * GET /v1/events: the service's events as server-sent events (`id:` the event id, `event:` its
 * type, `data:` the event as JSON). A client resumes with Last-Event-ID (or ?after=): the stream
 * subscribes first and buffers live events, replays the stored ones after the id page by page,
 * then sends the buffer — skipping any id already sent — so nothing between the two is lost or
 * repeated. The replay waits for the client to drain its socket between events (the backlog stays
 * in the service's store). Memory per client is bounded: a live client whose socket has more than
 * `maxBufferedBytes` unread, or that lets more than `maxPendingEvents` pile up during a replay, is
 * disconnected; it reconnects with the last id it saw and misses nothing, however long it was away
 * (the service pages old events from its store). Only events gone from the store itself (rows
 * removed by an administrator) are skipped, and the client is told so by a `gap` event.
 */
import type { ServerResponse } from 'node:http';
import type { CmaEvent, CmaService } from '../cma/api.js';

export interface EventStreamOptions {
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
  /** Live events held while the replay runs (default 10000). */
  readonly maxPendingEvents?: number;
  /** Events fetched per replay page (default 500). */
  readonly pageSize?: number;
}

export function formatEvent(e: CmaEvent): string {
  // JSON.stringify never emits a raw newline, so the data fits one `data:` line.
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** A `gap` event: ids from..to are no longer available from the service. */
export function formatGap(from: number, to: number): string {
  return `event: gap\ndata: ${JSON.stringify({ from, to })}\n\n`;
}

/** The open streams of one server, so that shutting down can end them (they are never idle). */
export class EventStreams {
  private readonly open = new Set<() => void>();

  get size(): number {
    return this.open.size;
  }

  /** Ends every stream (the clients see the connection close and may reconnect elsewhere). */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }

  /**
   * Streams to `res` (the head not yet written) every event with id > `after`, then live events
   * until the client goes away or closeAll(). Resolves when the stream has ended.
   */
  async serve(service: CmaService, res: ServerResponse, after: number, o: EventStreamOptions): Promise<void> {
    const maxPending = o.maxPendingEvents ?? 10_000;
    const pageSize = o.pageSize ?? 500;
    let last = after;
    let live = false;
    let ended = false;
    const pending: CmaEvent[] = [];
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));

    const end = (destroy: boolean) => {
      if (ended) return;
      ended = true;
      unsubscribe();
      clearInterval(heartbeat);
      this.open.delete(close);
      if (destroy) res.destroy();
      else res.end();
      finished();
    };
    const close = () => end(false);

    const write = (e: CmaEvent) => {
      if (ended || e.id <= last) return;
      // Ids rise by one: a jump means the store no longer has those events, and the client is told
      // what it can no longer get (no id: its Last-Event-ID stays where it was).
      if (e.id > last + 1) res.write(formatGap(last + 1, e.id - 1));
      last = e.id;
      res.write(formatEvent(e));
    };
    // Live events cannot wait: a client that lets too much pile up is dropped (it resumes by id).
    const send = (e: CmaEvent) => {
      write(e);
      if (!ended && res.writableLength > o.maxBufferedBytes) end(true);
    };
    // Catching up can wait for the client: the backlog stays in the service's store, not here.
    const drained = () =>
      res.writableNeedDrain && !ended
        ? new Promise<void>((r) => res.once('drain', r).once('close', r))
        : Promise.resolve();

    const unsubscribe = service.subscribe((e) => {
      if (live) send(e);
      else if (pending.length < maxPending) pending.push(e);
      else end(true);
    });
    const heartbeat = setInterval(() => {
      if (!ended) res.write(': heartbeat\n\n');
    }, o.heartbeatMs);
    heartbeat.unref();
    this.open.add(close);
    res.on('close', () => end(false));
    res.on('error', () => end(true));

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // Tell EventSource how long to wait before it reconnects, and flush the head now.
    res.write('retry: 1000\n\n');

    try {
      for (;;) {
        const page = await service.eventsSince(last, pageSize);
        for (const e of page) {
          if (ended) break;
          write(e);
          await drained();
        }
        // An empty page, not a short one, ends the replay: the service may page in smaller steps.
        if (ended || page.length === 0) break;
      }
      // Live events that arrived meanwhile (most are already sent by the replay: write skips them).
      while (!ended && pending.length > 0) {
        write(pending.shift() as CmaEvent);
        await drained();
      }
      // No await since the queue was found empty: from here every event goes out as it happens.
      live = true;
    } catch {
      end(true);
    }
    return done;
  }
}
