/**
 * Appends to the signature log in groups (cma/group-commit.ts): the evidences handed in during
 * one turn of the event loop (and while an append is under way) go to the log as one transaction
 * with one signed tree head, in the order they came. Each caller still learns its own entries'
 * indices only once they are written; when the group's transaction fails, every evidence in it
 * fails (none was written).
 */
import type { Evidence } from '../evidence/evidence.js';
import type { AppendResult } from '../log/log.js';
import { GroupCommit } from './group-commit.js';

/** The most evidences one group writes (one transaction should not hold the event loop long). */
const MAX_GROUP = 256;

export class GroupedLogAppender {
  private readonly appends: GroupCommit<Evidence, AppendResult>;

  constructor(
    /** Appends one group in one transaction: the log's appendEvidences, or a durable-write thread's. */
    write: (group: readonly Evidence[]) => Promise<readonly AppendResult[]>,
    /** Waits out the rest of this turn's work before a group is written (the service's clock, sleep(0)). */
    defer: () => Promise<void>,
  ) {
    this.appends = new GroupCommit({
      write,
      defer,
      maxGroup: MAX_GROUP,
      missingResult: 'the signature log returned fewer results than evidences appended',
    });
  }

  append(evidence: Evidence): Promise<AppendResult> {
    return this.appends.submit(evidence);
  }

  /** Resolves once every append handed in so far is written (or failed). */
  settled(): Promise<void> {
    return this.appends.settled();
  }
}
