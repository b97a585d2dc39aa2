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
import Database from 'better-sqlite3';
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

const lastId = async () => (await cma.eventsSince(0, 1_000_000)).at(-1)?.id ?? 0;

test('two clients, one dropping mid-stream and resuming with Last-Event-ID: each event exactly once', async () => {
  const start = await lastId();
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
  const end = await lastId();
  assert.ok(end - start >= 8, `enough events to make the point (${end - start})`);
  await b2.until(end - seen);
  while (a.length < end - start) await new Promise((res) => setTimeout(res, 10));
  es.close();
  b2.stop();

  const want = (await cma.eventsSince(start, 1_000_000)).map((e) => e.id);
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
  const all = await cma.eventsSince(0, 1_000_000);
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
  const start = await lastId();
  const slow = openStream({ after: start, paused: true });
  // Socket buffers take a few hundred KiB before the server sees back-pressure: send well past that.
  const bytesSince = async () =>
    (await cma.eventsSince(start, 1_000_000)).reduce((n, e) => n + JSON.stringify(e).length, 0);
  let rounds = 0;
  while ((await bytesSince()) < 512 * 1024 && rounds < 1000) {
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
  const end = await lastId();
  const seen = slow.got.at(-1)?.id ?? start;
  assert.ok(seen < end, 'it had fallen behind');
  const back = openStream({ lastEventId: seen });
  await back.until(end - seen);
  back.stop();
  assert.deepEqual(
    [...slow.got, ...back.got].map((e) => e.id),
    (await cma.eventsSince(start, 1_000_000)).map((e) => e.id),
    'nothing lost across the drop',
  );
});

/** Reads the stream from ?after=`after` until the event with id `lastId`, as raw text. */
function readUntil(path: string, after: number, lastId: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let got = '';
    const req = request({ socketPath: path, path: `/v1/events?after=${after}` }, (m) => {
      m.setEncoding('utf8');
      m.on('data', (c: string) => {
        got += c;
        if (got.includes(`id: ${lastId}\n`)) {
          m.destroy();
          resolve(got);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const idsIn = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

test('a client further behind than the in-memory window gets every stored event, paged from the store, no gap', async () => {
  const small = rig();
  try {
    await small.platform.add(GOOD, 'genuine', 0x1001);
    const service = await small.start({ recentEvents: 3 });
    await service.idle();
    await service.reauthenticate(GOOD);
    await service.reauthenticate(GOOD);
    const all = await service.eventsSince(0, 1000);
    assert.ok(all.length > 9, `more events than the window of 3 (${all.length})`);
    assert.deepEqual(
      all.map((e) => e.id),
      all.map((_, i) => i + 1),
      'the store serves the events memory no longer holds',
    );
    assert.deepEqual(
      (await service.eventsSince(0, 2)).map((e) => e.id),
      [1, 2],
      'a page is bounded by its limit',
    );
    assert.deepEqual(await service.eventsSince(4, 3), all.slice(4, 7));
    const last = all.at(-1)!.id;
    assert.deepEqual(
      (await service.eventsSince(last - 2, 10)).map((e) => e.id),
      [last - 1, last],
    );
    assert.deepEqual(await service.eventsSince(last, 10), []);
    // The stream replays them in pages of two, from the store and then from memory.
    const server = await buildServer({ service, events: { pageSize: 2 } });
    const path = join(mkdtempSync(join(tmpdir(), 'spdmkitd-old-')), 's.sock');
    await listenUnix(server, { path, mode: 0o600 });
    try {
      const text = await readUntil(path, 0, last);
      assert.ok(!text.includes('event: gap'), 'nothing is missing, so no gap');
      assert.deepEqual(
        idsIn(text),
        all.map((e) => e.id),
      );
      assert.deepEqual(
        idsIn(await readUntil(path, 5, last)),
        all.slice(5).map((e) => e.id),
      );
    } finally {
      await server.close();
    }
  } finally {
    await small.cleanup();
  }
});

test('events gone from the store itself are named by a gap event before the first one still held', async () => {
  const small = rig();
  try {
    await small.platform.add(GOOD, 'genuine', 0x1001);
    const service = await small.start({ recentEvents: 3 });
    await service.idle();
    await service.reauthenticate(GOOD);
    const all = await service.eventsSince(0, 1000);
    const kept = all.slice(-3);
    const first = kept[0]!.id;
    assert.ok(first > 1);
    // An administrator pruned the table: only the window in memory is left anywhere.
    const db = new Database(join(small.dir, 'cma.sqlite'));
    try {
      db.prepare('DELETE FROM cma_events WHERE id < ?').run(first);
    } finally {
      db.close();
    }
    assert.deepEqual(
      (await service.eventsSince(0, 1000)).map((e) => e.id),
      kept.map((e) => e.id),
    );
    const server = await buildServer({ service });
    const path = join(mkdtempSync(join(tmpdir(), 'spdmkitd-gap-')), 's.sock');
    await listenUnix(server, { path, mode: 0o600 });
    try {
      const text = await readUntil(path, 0, kept.at(-1)!.id);
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
