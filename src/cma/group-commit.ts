/**
 * Group commit: items handed in during one turn of the event loop (and while a write is under
 * way) are written together by one call of `write` — one transaction, one disk flush — in the
 * order they came, one group at a time. Each caller still learns its own result only once its
 * group is written; when the write fails, every item of that group fails (none was written).
 * The CMA journal (store commits) and the signature book (log appends) both stand on it: with
 * thousands of devices authenticating at once, one durable write per item would be most of the
 * daemon's time, and on SQLite it blocks the event loop meanwhile.
 */
import { Mutex } from '../log/store/store.js';

interface Queued<T, R> {
  readonly item: T;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

export interface GroupCommitOptions<T, R> {
  /** Writes one group durably; the results in the items' order (one each). */
  readonly write: (items: readonly T[]) => Promise<readonly R[]>;
  /** Waits out the rest of this turn's work before a group is written (the service's clock, sleep(0)). */
  readonly defer: () => Promise<void>;
  /** The most items one group writes (one transaction should not hold the event loop long). */
  readonly maxGroup: number;
  /** The error an item gets when `write` returned no result for it. */
  readonly missingResult: string;
}

export class GroupCommit<T, R> {
  private queue: Queued<T, R>[] = [];
  /** The group scheduled or running for `queue`, if any. */
  private flushing: Promise<void> | undefined;
  /** One group at a time: a group is written after the previous one ended. */
  private readonly lock = new Mutex();

  constructor(private readonly o: GroupCommitOptions<T, R>) {}

  /** `item`, written with whatever else comes in this turn; its result once the group is on disk. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every item handed in so far is written (or failed). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.lock.run(async () => undefined);
  }

  private schedule(): void {
    this.flushing ??= this.o.defer().then(() => this.lock.run(() => this.flush()));
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, this.o.maxGroup);
    // Items handed in from here on (or left over) go to the next group.
    this.flushing = undefined;
    if (this.queue.length > 0) this.schedule();
    if (group.length === 0) return;
    let results: readonly R[];
    try {
      results = await this.o.write(group.map((q) => q.item));
    } catch (e) {
      for (const q of group) q.reject(e);
      return;
    }
    group.forEach((q, i) => {
      const r = results[i];
      if (r !== undefined) q.resolve(r);
      else q.reject(new Error(this.o.missingResult));
    });
  }
}
