/**
 * GET /v1/events over the real CMA service: two clients, one of which drops mid-stream and
 * resumes with Last-Event-ID, both end with every event exactly once; ?after= replays; heartbeats;
 * a client that stops reading is disconnected instead of buffered without bound, and resumes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { buildServer } from '../../src/daemon/server.js';
import { listenTcp, listenUnix } from '../../src/daemon/listen.js';
import { rig } from '../cma/helpers.js';

const GOOD = '0000:01:00.0';
const OTHER = '0000:02:00.0';
const TOKEN = 'events-test-token-0123456789abcdef';

const r = rig();
await r.platform.add(GOOD, 'genuine', 0x1001);
await r.platform.add(OTHER, 'genuine', 0x1002);
const cma = await r.start();
await cma.idle();
const events = { heartbeatMs: 50, maxBufferedBytes: 8 * 1024 };
const app = await buildServer({ service: cma, events });
const socketPath = join(mkdtempSync(join(tmpdir(), 'spdmkitd-sse-')), 'spdmkitd.sock');
await listenUnix(app, { path: socketPath, mode: 0o600 });
const tcp = await buildServer({ service: cma, token: TOKEN, events });
const port = await listenTcp(tcp, '127.0.0.1', 0);
after(async () => {
  await app.close();
  await tcp.close();
  await r.cleanup();
});

interface Sse {
  readonly id: number;
  readonly type: string;
  readonly data: { id: number; type: string };
}

/** A raw SSE reader over the Unix socket: every event and comment it parsed, until it is closed. */
function openStream(o: { lastEventId?: number; after?: number; paused?: boolean } = {}) {
  const got: Sse[] = [];
  const comments: string[] = [];
  let buf = '';
  let res: IncomingMessage | undefined;
  const headers: Record<string, string> = {};
  if (o.lastEventId !== undefined) headers['last-event-id'] = String(o.lastEventId);
  const path = o.after !== undefined ? `/v1/events?after=${o.after}` : '/v1/events';
  let onEvent: (() => void) | undefined;
  const closed = new Promise<void>((resolve) => {
    const req: ClientRequest = request({ socketPath, path, headers }, (m) => {
      res = m;
      assert.equal(m.statusCode, 200);
      assert.match(String(m.headers['content-type']), /^text\/event-stream/);
      if (o.paused) m.pause();
      m.setEncoding('utf8');
      m.on('data', (chunk: string) => {
        buf += chunk;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            else {
              const i = line.indexOf(': ');
              if (i > 0) fields.set(line.slice(0, i), line.slice(i + 2));
            }
          }
          if (fields.has('id')) {
            got.push({
              id: Number(fields.get('id')),
              type: fields.get('event') ?? '',
              data: JSON.parse(fields.get('data') ?? 'null') as Sse['data'],
            });
            onEvent?.();
          }
        }
      });
      m.on('close', () => resolve());
      m.on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end();
  });
  return {
    got,
    comments,
    closed,
    stop: () => res?.destroy(),
    resume: () => res?.resume(),
    /** Resolves once at least `n` events arrived. */
    until: (n: number) =>
      new Promise<void>((resolve) => {
        if (got.length >= n) return resolve();
        onEvent = () => {
          if (got.length >= n) resolve();
        };
      }),
  };
}

const lastId = () => cma.eventsSince(0, 1_000_000).at(-1)?.id ?? 0;

test('two clients, one dropping mid-stream and resuming with Last-Event-ID: each event exactly once', async () => {
  const start = lastId();
  // Client A: EventSource over TCP with the bearer token, from "now".
  const a: Sse[] = [];
  const es = new EventSource(`http://127.0.0.1:${port}/v1/events?after=${start}`, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization: `Bearer ${TOKEN}` } }),
  });
  const types = [
    'device-added',
    'device-removed',
    'reset',
    'signature',
    'authenticated',
    'acceptance',
    'same-device',
    'owner',
  ];
  for (const t of types)
    es.addEventListener(t, (m: { data: string; lastEventId: string }) =>
      a.push({ id: Number(m.lastEventId), type: t, data: JSON.parse(m.data) as Sse['data'] }),
    );
  await new Promise<void>((resolve, reject) => {
    es.onopen = () => resolve();
    es.onerror = (e) => reject(new Error(`EventSource: ${String(e.message)}`));
  });
  // Client B: raw, over the socket, drops after a few events and comes back.
  const b1 = openStream({ after: start });

  const work = (async () => {
    for (let i = 0; i < 4; i++) {
      await cma.reauthenticate(i % 2 === 0 ? GOOD : OTHER);
      await cma.accept(GOOD).catch(() => undefined);
    }
  })();
  await b1.until(3);
  b1.stop();
  await b1.closed;
  const seen = b1.got.at(-1)!.id;
  // Events go on while B is away; it resumes from the last id it saw.
  await new Promise((res) => setTimeout(res, 30));
  const b2 = openStream({ lastEventId: seen });
  await work;
  await cma.idle();
  const end = lastId();
  assert.ok(end - start >= 8, `enough events to make the point (${end - start})`);
  await b2.until(end - seen);
  while (a.length < end - start) await new Promise((res) => setTimeout(res, 10));
  es.close();
  b2.stop();

  const want = cma.eventsSince(start, 1_000_000).map((e) => e.id);
  const bIds = [...b1.got, ...b2.got].map((e) => e.id);
  assert.deepEqual(bIds, want, 'B: no gap, no duplicate across the reconnect');
  assert.deepEqual(
    a.map((e) => e.id),
    want,
    'A: every event once, in order',
  );
  for (const e of [...a, ...b1.got, ...b2.got]) {
    assert.equal(e.data.id, e.id, 'id: is the event id');
    assert.equal(e.data.type, e.type, 'event: is its type');
  }
});

test('?after= replays the stored events; heartbeats keep an idle stream alive', async () => {
  const all = cma.eventsSince(0, 1_000_000);
  const s = openStream({ after: 0 });
  await s.until(all.length);
  assert.deepEqual(
    s.got.map((e) => e.id),
    all.map((e) => e.id),
  );
  await new Promise((res) => setTimeout(res, 160));
  assert.ok(
    s.comments.some((c) => c.startsWith(': heartbeat')),
    'a heartbeat comment',
  );
  s.stop();
  await s.closed;
});

test('a client that stops reading is disconnected, not buffered without bound, and resumes by id', async () => {
  const start = lastId();
  const slow = openStream({ after: start, paused: true });
  // Socket buffers take a few hundred KiB before the server sees back-pressure: send well past that.
  const bytesSince = () => cma.eventsSince(start, 1_000_000).reduce((n, e) => n + JSON.stringify(e).length, 0);
  let rounds = 0;
  while (bytesSince() < 512 * 1024 && rounds < 1000) {
    await cma.reauthenticate(rounds % 2 === 0 ? GOOD : OTHER);
    rounds++;
  }
  await cma.idle();
  // A paused socket does not notice that the server hung up: read what it holds, then see the end.
  slow.resume();
  const outcome = await Promise.race([
    slow.closed.then(() => 'dropped'),
    new Promise((res) => setTimeout(() => res('still open'), 5000)),
  ]);
  assert.equal(outcome, 'dropped', `the slow client was disconnected (${rounds} re-authentications)`);
  const end = lastId();
  const seen = slow.got.at(-1)?.id ?? start;
  assert.ok(seen < end, 'it had fallen behind');
  const back = openStream({ lastEventId: seen });
  await back.until(end - seen);
  back.stop();
  assert.deepEqual(
    [...slow.got, ...back.got].map((e) => e.id),
    cma.eventsSince(start, 1_000_000).map((e) => e.id),
    'nothing lost across the drop',
  );
});

test('a client further behind than the service remembers gets a gap event naming what it missed', async () => {
  const small = rig();
  try {
    await small.platform.add(GOOD, 'genuine', 0x1001);
    const service = await small.start({ recentEvents: 3 });
    await service.idle();
    await service.reauthenticate(GOOD);
    const kept = service.eventsSince(0, 1000);
    assert.equal(kept.length, 3);
    const first = kept[0]!.id;
    assert.ok(first > 1);
    const server = await buildServer({ service });
    const path = join(mkdtempSync(join(tmpdir(), 'spdmkitd-gap-')), 's.sock');
    await listenUnix(server, { path, mode: 0o600 });
    try {
      const text = await new Promise<string>((resolve, reject) => {
        let got = '';
        const req = request({ socketPath: path, path: '/v1/events?after=0' }, (m) => {
          m.setEncoding('utf8');
          m.on('data', (c: string) => {
            got += c;
            if (got.includes(`id: ${kept.at(-1)!.id}\n`)) {
              m.destroy();
              resolve(got);
            }
          });
        });
        req.on('error', reject);
        req.end();
      });
      assert.ok(text.includes(`event: gap\ndata: {"from":1,"to":${first - 1}}\n\n`), text.slice(0, 300));
      assert.ok(
        text.indexOf('event: gap') < text.indexOf(`id: ${first}\n`),
        'the gap comes before the first event kept',
      );
    } finally {
      await server.close();
    }
  } finally {
    await small.cleanup();
  }
});
