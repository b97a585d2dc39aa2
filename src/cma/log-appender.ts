/**
 * Appends to the signature log in groups: the evidences handed in during one turn of the event
 * loop (and while an append is under way) go to the log as one transaction with one signed tree
 * head, in the order they came. Each append is a durable write (a disk flush) and, on SQLite, a
 * synchronous one: thousands of devices authenticating at once would otherwise spend most of the
 * daemon's time waiting for the disk, one evidence at a time. Each caller still learns its own
 * entries' indices only once they are written; when the group's transaction fails, every
 * evidence in it fails (none was written).
 */
import type { Evidence } from '../evidence/evidence.js';
import type { AppendResult, SignatureLog } from '../log/log.js';

/** The most evidences one group writes (one transaction should not hold the event loop long). */
const MAX_GROUP = 256;

interface Queued {
  readonly evidence: Evidence;
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

export class GroupedLogAppender {
  private queue: Queued[] = [];
  private flushing: Promise<void> | undefined;
  /** One group at a time: a group's indices follow the previous group's. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: SignatureLog,
    /** Waits out the rest of this turn's work before a group is written (the service's clock, sleep(0)). */
    private readonly defer: () => Promise<void>,
  ) {}

  append(evidence: Evidence): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ evidence, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every append handed in so far is written (or failed). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.tail;
  }

  private schedule(): void {
    this.flushing ??= this.defer().then(() => {
      const run = this.tail.then(() => this.flush());
      this.tail = run;
      return run;
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP);
    this.flushing = undefined;
    if (this.queue.length > 0) this.schedule();
    if (group.length === 0) return;
    let results: AppendResult[];
    try {
      results = await this.log.appendEvidences(group.map((q) => q.evidence));
    } catch (e) {
      for (const q of group) q.reject(e);
      return;
    }
    group.forEach((q, i) => {
      const r = results[i];
      if (r) q.resolve(r);
      else q.reject(new Error('the signature log returned fewer results than evidences appended'));
    });
  }
}
