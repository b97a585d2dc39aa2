/**
 * Who runs when. Every piece of work is keyed by its function's BDF and the work of one key runs
 * one at a time, in order (a DOE mailbox carries one exchange at a time, and two SPDM flows on one
 * BDF would reset each other's connection); across keys at most `concurrency` attempts run at
 * once. A job holds its key for all its attempts but a concurrency slot only while an attempt
 * runs, so a device waiting out its backoff leaves the slot to the others.
 */

/** A counting semaphore: `concurrency` holders at most, waiters served in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export class Scheduler {
  private readonly slots: Slots;
  private readonly tails = new Map<string, Promise<void>>();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new TypeError(`concurrency must be a positive integer, got ${concurrency}`);
    this.slots = new Slots(concurrency);
  }

  /** Jobs queued or running. */
  get size(): number {
    return this.pending;
  }

  /**
   * Runs `job` after every earlier job of `key`. The job gets `attempt`, which runs one attempt
   * under a concurrency slot.
   */
  run<T>(key: string, job: (attempt: <A>(fn: () => Promise<A>) => Promise<A>) => Promise<T>): Promise<T> {
    this.pending++;
    const prev = this.tails.get(key) ?? Promise.resolve();
    const attempt = async <A>(fn: () => Promise<A>): Promise<A> => {
      await this.slots.acquire();
      try {
        return await fn();
      } finally {
        this.slots.release();
      }
    };
    const result = prev.then(() => job(attempt));
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
      this.pending--;
      if (this.pending === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
    return result;
  }

  /** Resolves when no job is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
