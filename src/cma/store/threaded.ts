/**
 * The SQLite CMA store with its commits in a durable-write thread (cma/durable-thread.ts): reads
 * (start-up, old events, signatures, decisions) stay on this thread's connection, each commit
 * goes to the thread's and is answered once it is on disk. A commit answered is visible to the
 * reads that follow it (WAL: a new read transaction sees every commit before it).
 */
import { DurableThread } from '../durable-thread.js';
import { SqliteCmaStore } from './sqlite.js';
import type { CmaStore, CommitBatch, LoadedState, StoredDecision } from './store.js';
import type { CmaEvent, DeviceSignature } from '../api.js';

export class ThreadedSqliteCmaStore implements CmaStore {
  readonly backend = 'sqlite' as const;

  private constructor(
    private readonly reads: SqliteCmaStore,
    private readonly writer: DurableThread,
  ) {}

  get description(): string {
    return this.reads.description;
  }

  /** Opens the file here (creating its tables), then the thread's connection to it. */
  static async open(file: string, options: { readonly replyMs?: number } = {}): Promise<ThreadedSqliteCmaStore> {
    const reads = new SqliteCmaStore(file);
    try {
      const writer = await DurableThread.start(
        { kind: 'cma-store', file },
        { description: file, ...(options.replyMs !== undefined ? { replyMs: options.replyMs } : {}) },
      );
      return new ThreadedSqliteCmaStore(reads, writer);
    } catch (e) {
      await reads.close();
      throw e;
    }
  }

  load(options: { readonly recentEvents: number }): Promise<LoadedState> {
    return this.reads.load(options);
  }

  async commit(batch: CommitBatch): Promise<void> {
    await this.writer.call<boolean>('commit', batch);
  }

  eventsSince(afterId: number, limit: number): Promise<CmaEvent[]> {
    return this.reads.eventsSince(afterId, limit);
  }

  decisions(bdf: string): Promise<StoredDecision[]> {
    return this.reads.decisions(bdf);
  }

  signatures(bdf: string, limit: number): Promise<DeviceSignature[]> {
    return this.reads.signatures(bdf, limit);
  }

  async close(): Promise<void> {
    await this.writer.close();
    await this.reads.close();
  }
}
