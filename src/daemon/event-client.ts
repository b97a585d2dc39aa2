/**
 * A client of the daemon's event stream (GET /v1/events, server-sent events) for the CLI and the
 * demo: it parses `id:`/`event:`/`data:` records, hands each event on in order, and lets a caller
 * wait for the event it expects with a deadline. Lines and records are bounded: the daemon is
 * ours, but a socket path can name anything.
 */
import { request, type ClientRequest } from 'node:http';
import type { CmaEvent } from '../cma/api.js';
import { SpdmError } from '../wire/errors.js';
import type { ClientTarget } from './client.js';

/** The longest record the client holds (an event with a large transcript is well below it). */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;

export interface EventStream {
  /** Every event received so far, in order. */
  readonly events: readonly CmaEvent[];
  /**
   * The first event at or after the stream's start that `match` accepts, received or yet to come.
   * @throws SpdmError TIMEOUT after `timeoutMs`, TRANSPORT_ERROR when the stream ended first
   */
  waitFor(match: (e: CmaEvent) => boolean, timeoutMs: number, what: string): Promise<CmaEvent>;
  close(): void;
}

interface Waiter {
  readonly match: (e: CmaEvent) => boolean;
  readonly resolve: (e: CmaEvent) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Opens the stream from after event `afterId` (0: from the first) and calls `onEvent` for each,
 * and `onGap` for each `gap` notice (ids the daemon's store no longer has).
 */
export function openEventStream(
  t: ClientTarget,
  afterId = 0,
  onEvent: (e: CmaEvent) => void = () => undefined,
  onGap: (gap: { readonly from: number; readonly to: number }) => void = () => undefined,
): Promise<EventStream> {
  const events: CmaEvent[] = [];
  const waiters = new Set<Waiter>();
  let ended: Error | undefined;
  const end = (e: Error) => {
    ended ??= e;
    for (const w of waiters) w.reject(e);
    waiters.clear();
  };
  const deliver = (e: CmaEvent) => {
    events.push(e);
    onEvent(e);
    for (const w of [...waiters]) {
      if (w.match(e)) {
        waiters.delete(w);
        w.resolve(e);
      }
    }
  };
  let req: ClientRequest | undefined;
  const stream: EventStream = {
    events,
    waitFor(match, timeoutMs, what) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      if (ended) return Promise.reject(ended);
      return new Promise<CmaEvent>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new SpdmError('TIMEOUT', `no ${what} event within ${timeoutMs} ms`, { waitedMs: timeoutMs }));
        }, timeoutMs);
        const w: Waiter = {
          match,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        waiters.add(w);
      });
    },
    close() {
      end(new SpdmError('TRANSPORT_ERROR', 'event stream closed', {}));
      req?.destroy();
    },
  };
  const where = t.socketPath ?? t.url ?? '';
  return new Promise((resolve, reject) => {
    const u = t.url !== undefined ? new URL(t.url) : undefined;
    req = request(
      {
        method: 'GET',
        path: `/v1/events?after=${afterId}`,
        ...(u ? { host: u.hostname, port: u.port } : { socketPath: t.socketPath }),
        headers: {
          accept: 'text/event-stream',
          ...(t.token !== undefined ? { authorization: `Bearer ${t.token}` } : {}),
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new SpdmError('TRANSPORT_ERROR', `event stream at ${where}: HTTP ${res.statusCode}`, { path: where }));
          return;
        }
        resolve(stream);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          if (buf.length > MAX_RECORD_BYTES) {
            stream.close();
            return;
          }
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const record = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const data = record
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trimStart())
              .join('\n');
            // Comments (heartbeats) carry nothing; gap notices no CmaEvent.
            if (data === '') continue;
            try {
              const parsed = JSON.parse(data) as unknown;
              if (/^event: gap$/m.test(record)) {
                const g = parsed as { from?: unknown; to?: unknown };
                if (Number.isSafeInteger(g.from) && Number.isSafeInteger(g.to))
                  onGap({ from: g.from as number, to: g.to as number });
                continue;
              }
              deliver(parsed as CmaEvent);
            } catch {
              end(new SpdmError('DECODE_ERROR', `event stream at ${where}: a record is not JSON`, {}));
              req?.destroy();
              return;
            }
          }
        });
        res.on('end', () => end(new SpdmError('TRANSPORT_ERROR', `event stream at ${where} ended`, { path: where })));
        res.on('error', (e) => end(e));
      },
    );
    req.on('error', (e) => {
      const err = new SpdmError('TRANSPORT_ERROR', `cannot reach spdmkitd at ${where}: ${e.message}`, { path: where });
      end(err);
      reject(err);
    });
    req.end();
  });
}
