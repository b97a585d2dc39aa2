/**
 * A discrete-event clock for tests: time stands still while there is work to do and jumps to the
 * next sleeper's deadline only once every pending microtask has run (one setImmediate later) and
 * no threadpool work is outstanding. Both the driver and the simulated device sleep on it, so a 1-s
 * DOE timeout costs no wall time and the order of events is deterministic.
 *
 * Threadpool work (a signature check handed to libuv, an fs request) takes real time the event
 * loop spends idle: a clock that only waited for setImmediate would jump a pending 1-s timeout
 * while another flow's verification was still running, and the slow device would give up "before"
 * the fast one finished. The CMA daemon checks signatures in the threadpool and commits in worker
 * threads, so this clock watches those jobs and calls (async_hooks) and lets time move only once
 * they are done.
 */
import { createHook } from 'node:async_hooks';
import { DURABLE_CALL } from '../../src/cma/durable-thread.js';
import type { Clock } from '../../src/transport/clock.js';

/**
 * Resource types of one-shot work done off the main thread: libuv's crypto jobs and fs requests,
 * and the CMA daemon's calls to its durable-write threads (a commit answered by a worker thread
 * takes real time the same way, and the clock must not jump a device's timeout meanwhile).
 */
const THREADPOOL = new RegExp(`JOB$|REQUEST$|^FSREQ|^${DURABLE_CALL}$`);
/**
 * Threadpool work started and not yet called back, by async id. A crypto job made by a synchronous
 * call (crypto.sign without a callback) is created the same way but runs inside the call and is
 * never called back: it is told apart by having no `ondone` (node sets it on an asynchronous job
 * right after making it), and dropped the next time the clock looks.
 */
const outstanding = new Map<number, { readonly type: string; readonly resource: object }>();
let watching = false;
function watchThreadpool(): void {
  if (watching) return;
  watching = true;
  createHook({
    init(id, type, _trigger, resource) {
      if (THREADPOOL.test(type)) outstanding.set(id, { type, resource });
    },
    before(id) {
      outstanding.delete(id);
    },
    destroy(id) {
      outstanding.delete(id);
    },
  }).enable();
}
function threadpoolBusy(): boolean {
  for (const [id, { type, resource }] of outstanding) {
    const async =
      type.startsWith('FSREQ') ||
      type === DURABLE_CALL ||
      typeof (resource as { ondone?: unknown }).ondone === 'function';
    if (!async) outstanding.delete(id);
  }
  return outstanding.size > 0;
}
/**
 * How long real work may hold the clock still. A job whose completion the hook cannot see (one
 * that is never called back) must not hang a test: past this the clock moves anyway.
 */
const HOLD_LIMIT_MS = 2000;

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];
  private scheduled = false;
  /** Real time (ms) since when outstanding threadpool work has held the next jump. */
  private heldSince: number | undefined;
  /** Total sleeps requested (to show a wait really was a poll loop). */
  sleeps = 0;

  constructor() {
    watchThreadpool();
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps++;
    return new Promise((resolve) => {
      this.timers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.fire();
    });
  }

  private fire(): void {
    if (this.timers.length === 0) return;
    if (threadpoolBusy()) {
      const now = performance.now();
      this.heldSince ??= now;
      if (now - this.heldSince < HOLD_LIMIT_MS) {
        this.schedule();
        return;
      }
    }
    this.heldSince = undefined;
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers.shift() as Timer;
    this.t = Math.max(this.t, next.at);
    next.resolve();
    if (this.timers.length > 0) this.schedule();
  }
}
