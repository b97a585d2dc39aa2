/**
 * Every signature a device gives goes into the signature log (the Merkle log keeps all of them);
 * the newest `max` per device are served as the kernel's `signatures/N_*` views, like its capped
 * signatures/ directory. A view is stored once, in the `signature` event that announces it, and
 * read back from the CMA store when asked for, not kept in memory: their transcripts are most of
 * what a device gives, and a service watching thousands of devices (each re-authenticated over
 * and over) would otherwise hold all of them.
 */
import type { Evidence } from '../evidence/evidence.js';
import type { AppendResult } from '../log/log.js';
import type { DeviceSignature } from './api.js';
import type { Device } from './device.js';
import type { Batch } from './journal.js';
import { GroupedLogAppender } from './log-appender.js';
import { deviceSignature } from './signature-view.js';
import type { CmaStore } from './store/store.js';

export class SignatureBook {
  private readonly appender: GroupedLogAppender;

  constructor(
    /** Appends a group of evidences in one transaction (SignatureLog.appendEvidences or a durable-write thread). */
    append: (group: readonly Evidence[]) => Promise<readonly AppendResult[]>,
    private readonly store: CmaStore,
    private readonly max: number,
    private readonly now: () => string,
    defer: () => Promise<void>,
  ) {
    this.appender = new GroupedLogAppender(append, defer);
  }

  /** The newest `max` signatures of the function that are committed, oldest first. */
  list(bdf: string): Promise<DeviceSignature[]> {
    return this.store.signatures(bdf, this.max);
  }

  /** Resolves once every append handed in so far is written. */
  settled(): Promise<void> {
    return this.appender.settled();
  }

  /** Appends the evidence's signatures to the log (grouped with other devices'); their views and events go into `b`. */
  async append(dev: Device, evidence: Evidence, b: Batch): Promise<void> {
    if (evidence.signatures.length === 0) return;
    const r = await this.appender.append(evidence);
    const at = this.now();
    evidence.signatures.forEach((s, i) => {
      const view = deviceSignature(dev.bdf, evidence, s, r.first + i, at);
      dev.signatureEntries.push(view.logIndex);
      b.events.push({ type: 'signature', bdf: dev.bdf, signature: view });
    });
    // Like the kernel's capped signatures/ directory: the newest are kept (the log keeps all).
    if (dev.signatureEntries.length > this.max) dev.signatureEntries.splice(0, dev.signatureEntries.length - this.max);
  }
}
