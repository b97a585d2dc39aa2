/**
 * Durable writes off the event loop: a worker thread (durable-worker.ts) holds its own SQLite
 * connection and does the CMA store's commits or the signature log's appends there — the SQL, the
 * JSON, the leaf hashes, the tree head's signature and above all the disk flush of
 * synchronous=FULL, which better-sqlite3 does synchronously and which on the daemon's main thread
 * stalled every device's DOE polling and every API call behind it.
 *
 * A call resolves only once the thread answered that its transaction committed, so "written"
 * still means on disk. Calls are answered in the order they were made (the thread takes one at a
 * time), so the order of a device's entries is the order they were handed in.
 *
 * Every call has a deadline. A failure the thread reports (SQLITE_FULL, SQLITE_BUSY past the
 * busy timeout, a corrupt log) comes back as the same typed SpdmError. A thread that dies, or
 * does not answer in time, fails every call outstanding and every later one with STORAGE_ERROR
 * (`outcome: 'unknown'` for those in flight: their transaction may have committed before it went):
 * a store whose writer is gone stays failed rather than write out of order after a gap.
 */
import { AsyncResource } from 'node:async_hooks';
import { Worker } from 'node:worker_threads';
import { LIMITS } from '../wire/limits.js';
import { SpdmError, type SpdmErrorCode } from '../wire/errors.js';

/**
 * The async resource type of a call in flight. Test clocks that hold time still while work runs
 * off the main thread (test/pci/fake-clock.ts) look for it: a worker's answer is neither a libuv
 * threadpool job nor an fs request.
 */
export const DURABLE_CALL = 'SPDMKIT_DURABLE_CALL';

/** What a durable thread does: commit a CMA store's batches, or append to a signature log. */
export type DurableJob =
  | { readonly kind: 'cma-store'; readonly file: string }
  | {
      readonly kind: 'log';
      readonly target: string;
      readonly configDir?: string;
      readonly keyFile?: string;
      readonly busyTimeoutMs?: number;
    };

/** A message to the thread. @internal */
export interface DurableRequest {
  readonly id: number;
  readonly op: string;
  readonly arg: unknown;
}

/** An error as it crosses the thread boundary. @internal */
export interface WireError {
  readonly code?: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** A message from the thread: `ready` (or `openError`) once, then one answer per request. @internal */
export type DurableReply =
  | { readonly ready: true }
  | { readonly openError: WireError }
  | { readonly id: number; readonly value: unknown }
  | { readonly id: number; readonly error: WireError };

export interface DurableThreadOptions {
  /** How long a call may go unanswered (default LIMITS.durableReplyMs). */
  readonly replyMs?: number;
  /** The worker script (tests give one that misbehaves). Default: durable-worker.js. */
  readonly script?: URL;
  /** For messages: the file or URL the thread writes to. */
  readonly description: string;
}

interface Pending {
  readonly op: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly timer: NodeJS.Timeout;
  /** The caller's async context, and the mark a test clock waits on. */
  readonly resource: AsyncResource;
}

/** An error the thread sent, as the SpdmError (or Error) it was. */
export function errorFromWire(w: WireError): Error {
  if (w.code) return new SpdmError(w.code as SpdmErrorCode, w.message, w.details ?? {});
  return new Error(w.message);
}

export class DurableThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the thread can take no more calls; every later call fails with it at once. */
  private broken: SpdmError | undefined;
  private readonly replyMs: number;

  private constructor(
    worker: Worker,
    private readonly o: DurableThreadOptions,
  ) {
    this.worker = worker;
    this.replyMs = o.replyMs ?? LIMITS.durableReplyMs;
    worker.on('message', (m: DurableReply) => this.answer(m));
    worker.on('error', (e) => this.breakWith(`the durable-write thread failed: ${e.message}`));
    worker.on('exit', (code) => this.breakWith(`the durable-write thread exited (code ${code})`));
    // Only calls in flight keep the process alive (a store nobody closed must not hold it open).
    worker.unref();
  }

  /** Starts a thread for `job` and waits (with the reply deadline) until it has opened its database. */
  static async start(job: DurableJob, o: DurableThreadOptions): Promise<DurableThread> {
    const worker = new Worker(o.script ?? new URL('./durable-worker.js', import.meta.url), { workerData: job });
    const replyMs = o.replyMs ?? LIMITS.durableReplyMs;
    const opening = new AsyncResource(DURABLE_CALL, { requireManualDestroy: true });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(failure(o.description, `the durable-write thread did not open it within ${replyMs} ms`, 'open')),
          replyMs,
        );
        const done = (e?: Error) => {
          clearTimeout(timer);
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          if (e) reject(e);
          else resolve();
        };
        const onMessage = (m: DurableReply) => {
          if ('ready' in m) done();
          else if ('openError' in m) done(errorFromWire(m.openError));
        };
        const onError = (e: Error) =>
          done(failure(o.description, `the durable-write thread failed: ${e.message}`, 'open'));
        const onExit = (code: number) =>
          done(failure(o.description, `the durable-write thread exited (code ${code}) while opening it`, 'open'));
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
      });
    } catch (e) {
      await worker.terminate();
      throw e;
    } finally {
      opening.emitDestroy();
    }
    return new DurableThread(worker, o);
  }

  /** Runs `op` in the thread; its answer once the thread has done it (committed, for writes). */
  call<T>(op: string, arg: unknown): Promise<T> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const resource = new AsyncResource(DURABLE_CALL, { requireManualDestroy: true });
      const timer = setTimeout(
        () =>
          this.breakWith(
            `the durable-write thread did not answer ${op} within ${this.replyMs} ms; the write may or may not have taken effect`,
          ),
        this.replyMs,
      );
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, timer, resource });
      if (this.pending.size === 1) this.worker.ref();
      try {
        this.worker.postMessage({ id, op, arg } satisfies DurableRequest);
      } catch (e) {
        // Not cloneable: nothing was sent, nothing written, and the thread is as it was.
        const why = e instanceof Error ? e.message : String(e);
        this.settle(id, (p) =>
          p.reject(
            failure(
              this.o.description,
              `${op} could not be handed to the durable-write thread (${why})`,
              'write',
              'rolled-back',
            ),
          ),
        );
      }
    });
  }

  /** Asks the thread to close its database and waits for it to end (then ends it anyway). */
  async close(): Promise<void> {
    // The thread's ending is work off this thread too, the same as a call (a test clock waits on it).
    const ending = new AsyncResource(DURABLE_CALL, { requireManualDestroy: true });
    try {
      if (!this.broken) {
        try {
          await this.call('close', undefined);
        } catch {
          // Broken or unanswered: terminated below either way.
        }
      }
      this.broken ??= failure(this.o.description, 'the durable-write thread is closed', 'write');
      await this.worker.terminate();
    } finally {
      ending.emitDestroy();
    }
  }

  private answer(m: DurableReply): void {
    if (!('id' in m)) return;
    this.settle(m.id, (p) => ('error' in m ? p.reject(errorFromWire(m.error)) : p.resolve(m.value)));
  }

  private settle(id: number, how: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (this.pending.size === 0) this.worker.unref();
    p.resource.runInAsyncScope(() => how(p));
    p.resource.emitDestroy();
  }

  /** The thread is gone or unanswering: every call in flight and every later one fails. */
  private breakWith(message: string): void {
    if (!this.broken) {
      this.broken = failure(this.o.description, message, 'write');
      // An unanswering thread may be stuck in a write: it must not finish it after later ones fail.
      void this.worker.terminate();
    }
    const inFlight = failure(this.o.description, message, 'write', 'unknown');
    for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(inFlight));
  }
}

function failure(description: string, message: string, action: string, outcome?: 'unknown' | 'rolled-back'): SpdmError {
  return new SpdmError('STORAGE_ERROR', `${description}: ${message}`, {
    backend: 'sqlite',
    action,
    thread: true,
    ...(outcome ? { outcome } : {}),
  });
}
