/**
 * The durable-write thread (durable-thread.ts): opens its job's SQLite database on a connection of
 * its own and does the calls it is sent one at a time, in the order they came, answering each
 * once its transaction committed (or with the typed error it failed with).
 *
 *   cma-store   commit(batch): SqliteCmaStore.commit, one transaction
 *   log         append({ evidences, now }): SignatureLog.appendEvidences, one transaction and
 *               one signed tree head; `now` is the service's clock at the call (a test's fake one)
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Evidence } from '../evidence/evidence.js';
import { openLog, type SignatureLog } from '../log/log.js';
import type { DurableJob, DurableReply, DurableRequest, WireError } from './durable-thread.js';
import { SqliteCmaStore } from './store/sqlite.js';
import type { CommitBatch } from './store/store.js';

const port = parentPort;
if (!port) throw new Error('durable-worker.js runs as a worker thread');
const job = workerData as DurableJob;

function wire(e: unknown): WireError {
  const code = (e as { code?: unknown } | null)?.code;
  const details = (e as { details?: unknown } | null)?.details;
  return {
    ...(typeof code === 'string' && e instanceof Error && e.name === 'SpdmError' ? { code } : {}),
    message: e instanceof Error ? e.message : String(e),
    ...(typeof details === 'object' && details !== null ? { details: details as Record<string, unknown> } : {}),
  };
}

function send(m: DurableReply): void {
  try {
    port?.postMessage(m);
  } catch {
    // Details that cannot be cloned: the code and message still go.
    if ('error' in m) port?.postMessage({ id: m.id, error: { ...m.error, details: undefined } });
    else throw new Error('durable-worker: an answer could not be sent');
  }
}

type Handler = (op: string, arg: unknown) => Promise<unknown>;

async function open(): Promise<{ handle: Handler; close: () => Promise<void> }> {
  if (job.kind === 'cma-store') {
    const store = new SqliteCmaStore(job.file);
    return {
      handle: async (op, arg) => {
        if (op !== 'commit') throw new Error(`durable-worker: no operation ${op}`);
        await store.commit(arg as CommitBatch);
        return true;
      },
      close: () => store.close(),
    };
  }
  let now = Date.now();
  const log: SignatureLog = await openLog(job.target, {
    ...(job.configDir !== undefined ? { configDir: job.configDir } : {}),
    ...(job.keyFile !== undefined ? { keyFile: job.keyFile } : {}),
    ...(job.busyTimeoutMs !== undefined ? { busyTimeoutMs: job.busyTimeoutMs } : {}),
    now: () => now,
  });
  return {
    handle: async (op, arg) => {
      if (op !== 'append') throw new Error(`durable-worker: no operation ${op}`);
      const a = arg as { evidences: Evidence[]; now: number };
      now = a.now;
      return log.appendEvidences(a.evidences);
    },
    close: () => log.close(),
  };
}

let opened: Awaited<ReturnType<typeof open>>;
try {
  opened = await open();
} catch (e) {
  send({ openError: wire(e) });
  process.exit(1);
}
const { handle, close } = opened;

// One call at a time, in order: the log's sequence and the journal's event ids depend on it.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: DurableRequest) => {
  queue = queue.then(async () => {
    if (m.op === 'close') {
      await close();
      send({ id: m.id, value: true });
      port.close();
      return;
    }
    try {
      send({ id: m.id, value: await handle(m.op, m.arg) });
    } catch (e) {
      send({ id: m.id, error: wire(e) });
    }
  });
});
send({ ready: true });
