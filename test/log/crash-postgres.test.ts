/**
 * Crash safety of the PostgreSQL log: the writer's connection is dropped mid-transaction, by
 * killing the writer process (SIGKILL) or by the server ending its backend (pg_terminate_backend
 * from a second connection) while the writer goes on. After each drop every acknowledged append
 * is there, the whole log verifies and the next append works — in the same writer too, which
 * reconnects. SPDMKIT_CRASH_PG_DROPS changes the count, SPDMKIT_CRASH_SEED repeats a run's timing.
 * And a connection that goes silent (a dead network link) fails the append within its deadline.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import pg from 'pg';
import { openLog } from '../../src/log/log.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { SpdmError } from '../../src/wire/errors.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { makeEvidence, SUITES, tempDir } from './helpers.js';
import {
  checkAfterCrash,
  KillTally,
  prng,
  recordAcks,
  seedFromEnv,
  sleep,
  startCrashChild,
  type Ack,
  type CheckResult,
  type CrashChild,
} from './crash.js';

const tmp = tempDir('spdmkit-pgcrash-');
let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
  tmp.cleanup();
});

const DROPS = Number(process.env['SPDMKIT_CRASH_PG_DROPS'] ?? 100);
/** Each round drops the writer's connection twice: its backend is terminated (it reconnects), then it is killed. */
const ROUNDS = Math.ceil(DROPS / 2);

/** Backend pids serving the writer (found by its application_name). */
async function writerBackends(admin: pg.Client, name: string): Promise<number[]> {
  const r = await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name]);
  return (r.rows as { pid: number }[]).map((x) => x.pid);
}

/** Ends the backend serving the writer; returns its pid. */
async function terminateWriter(admin: pg.Client, name: string): Promise<number> {
  const r = await admin.query(
    'SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
    [name],
  );
  const rows = r.rows as { pid: number; ok: boolean }[];
  assert.equal(rows.length, 1, `one backend serves ${name}`);
  assert.equal(rows[0]?.ok, true);
  return rows[0].pid;
}

/** Waits (bounded) until no backend serves the writer: whatever it had sent has been committed or rolled back. */
async function waitGone(admin: pg.Client, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await writerBackends(admin, name)).length > 0) {
    if (Date.now() > deadline) throw new Error(`the backend of ${name} did not end within 10 s`);
    await sleep(5);
  }
}

/** Waits (bounded) until a backend other than `old` serves the writer: it reconnected. */
async function waitReconnected(admin: pg.Client, name: string, old: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if ((await writerBackends(admin, name)).some((p) => p !== old)) return;
    if (Date.now() > deadline) throw new Error(`${name} did not reconnect within 10 s`);
    await sleep(10);
  }
}

function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

test(`PostgreSQL: ${ROUNDS * 2} connection drops mid-transaction (backend terminated under a writer that goes on, then the writer killed) lose no acknowledged append`, async (t) => {
  const seed = seedFromEnv();
  const rand = prng(seed);
  t.diagnostic(`seed ${seed}`);
  const url = await server!.createDatabase('spdmkit_crash');
  const base = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'pgcrash' });
  const evidenceFile = tmp.file('evidence.json');
  writeFileSync(evidenceFile, JSON.stringify([base]));
  const keyFile = tmp.file('pgcrash.key');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const acked = new Map<string, Ack>();
  const tally = new KillTally();
  const t0 = performance.now();
  let killed = 0;
  let terminated = 0;
  let reconnected = 0;
  let droppedInFlight = 0;
  let childAcks = 0;
  let last: CheckResult = { size: 0, unacknowledged: 0, signaturesValid: 0, devices: new Set() };
  let spare: CrashChild | undefined;
  try {
    const writer = (round: number) =>
      startCrashChild({
        target: withApplicationName(url, `crash-writer-${round}`),
        keyFile,
        evidenceFile,
        prefix: `p${round}`,
        maxAppends: 10_000,
        maxFailures: 5,
        lifetimeMs: 30_000,
      });
    // The next writer loads while the current one runs and the log is checked.
    spare = writer(0);
    for (let round = 0; round < ROUNDS; round++) {
      const name = `crash-writer-${round}`;
      const child: CrashChild = spare ?? writer(round);
      spare = round + 1 < ROUNDS ? writer(round + 1) : undefined;
      let inFlight: readonly string[] | undefined;
      try {
        await child.until((ms) => ms.some((m) => m.t === 'loaded'), 30_000, 'the writer to load');
        child.go();
        await child.until((ms) => ms.some((m) => m.t === 'ready'), 20_000, 'the log to open');
        const n = Math.floor(rand() * 4);
        await child.until((ms) => ms.filter((m) => m.t === 'ack').length >= n, 20_000, `${n} appends`);
        await sleep(rand() * 8);
        // The server drops the writer's connection; the writer stays and must recover by itself.
        const before = child.messages.length;
        const oldPid = await terminateWriter(admin, name);
        terminated++;
        await waitReconnected(admin, name, oldPid);
        // Acknowledgements of two transactions arriving after the new backend appeared: at most
        // one transaction's acks can have been in transit from before, so the later one ran
        // on the new connection.
        const seen = child.messages.length;
        await child.until(
          (ms) => new Set(ms.slice(seen).flatMap((m) => (m.t === 'ack' ? [m.tx] : []))).size >= 2,
          10_000,
          'appends on the new connection',
        );
        reconnected++;
        const dropFails = child.messages.slice(before).filter((m) => m.t === 'fail');
        for (const f of dropFails) {
          assert.ok(
            f.typed && f.code === 'STORAGE_ERROR',
            `round ${round}: a dropped connection is a typed STORAGE_ERROR, got ${JSON.stringify(f)}`,
          );
          assert.ok(
            f.outcome === 'rolled-back' || f.outcome === 'unknown',
            `round ${round}: the error says whether the append may have happened: ${JSON.stringify(f)}`,
          );
        }
        if (dropFails.length > 0) droppedInFlight++;
        await sleep(rand() * 10);
        assert.ok(child.alive, `round ${round}: the writer was still running when killed: ${child.output}`);
        await child.kill();
        killed++;
        // A COMMIT the server had already received may still complete after the client died.
        await waitGone(admin, name);
        inFlight = child.inFlight();
        const fails = child.messages.filter((m) => m.t === 'fail');
        assert.ok(fails.length <= 1, `round ${round}: no other append failed: ${JSON.stringify(fails)}`);
        childAcks += recordAcks(acked, child);
      } finally {
        await child.kill();
      }
      last = await checkAfterCrash(
        url,
        keyFile,
        acked,
        { ...base, device: `parent-${round}` } satisfies Evidence,
        `after drop ${round + 1} (seed ${seed})`,
      );
      tally.add(inFlight, last.devices);
    }
  } finally {
    await spare?.kill();
    await admin.end();
  }
  const seconds = (performance.now() - t0) / 1000;
  t.diagnostic(
    `crash-postgres: ${terminated + killed} connection drops: ${terminated} backends terminated under a running writer, which reconnected (${reconnected}; ${droppedInFlight} of these hit an append in flight, which failed typed), then ${killed} writers SIGKILLed; ` +
      `${childAcks} acknowledged appends by the writers + ${ROUNDS} by the checker, all present; ${last.size} entries verified after the last drop (${last.signaturesValid} device signatures); ` +
      `kills: ${tally.toString()}; ${seconds.toFixed(1)} s; seed ${seed}`,
  );
});

/** A TCP relay to the server that can go silent: it keeps both sockets open and forwards nothing, as a dead link does. */
async function relay(to: URL): Promise<{ port: number; silence(): void; restore(): void; close(): Promise<void> }> {
  let silent = false;
  const sockets = new Set<Socket>();
  const srv = createServer((down) => {
    const up = createConnection(Number(to.port), to.hostname);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    down.on('data', (d) => silent || up.write(d));
    up.on('data', (d) => silent || down.write(d));
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const a = srv.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    silence: () => {
      silent = true;
    },
    restore: () => {
      silent = false;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

test(
  'PostgreSQL: a connection that goes silent fails the append with STORAGE_ERROR at busyTimeoutMs instead of hanging; the next append reconnects',
  { timeout: 60_000 },
  async () => {
    const url = await server!.createDatabase('spdmkit_silent');
    const base = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'silent' });
    const r = await relay(new URL(url));
    const via = new URL(url);
    via.host = `127.0.0.1:${r.port}`;
    const keyFile = tmp.file('silent.key');
    const acked = new Map<string, Ack>();
    const log = await openLog(via.toString(), { keyFile, busyTimeoutMs: 1000 });
    try {
      const a = await log.appendEvidence({ ...base, device: 'before' });
      acked.set('before', { device: 'before', ...a });
      r.silence();
      const err = await log.appendEvidence({ ...base, device: 'silent' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof SpdmError && err.code === 'STORAGE_ERROR', `a typed STORAGE_ERROR: ${String(err)}`);
      assert.equal(err.details['connectionLost'], true);
      assert.ok(err.details['outcome'] === 'rolled-back' || err.details['outcome'] === 'unknown');
      r.restore();
      const b = await log.appendEvidence({ ...base, device: 'after' });
      acked.set('after', { device: 'after', ...b });
    } finally {
      await log.close();
      await r.close();
    }
    await checkAfterCrash(url, keyFile, acked, undefined, 'after the silent connection');
  },
);
