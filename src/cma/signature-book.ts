/**
 * Every signature a device gives goes into the signature log (the Merkle log keeps all of them);
 * the newest `max` per device are kept as the kernel's `signatures/N_*` views, like its capped
 * signatures/ directory.
 */
import type { Evidence } from '../evidence/evidence.js';
import type { SignatureLog } from '../log/log.js';
import type { DeviceSignature } from './api.js';
import type { Device } from './device.js';
import type { Batch } from './journal.js';
import { GroupedLogAppender } from './log-appender.js';
import { deviceSignature } from './signature-view.js';

export class SignatureBook {
  private readonly sigs = new Map<string, DeviceSignature[]>();
  private readonly appender: GroupedLogAppender;

  constructor(
    log: SignatureLog,
    private readonly max: number,
    private readonly now: () => string,
    defer: () => Promise<void>,
  ) {
    this.appender = new GroupedLogAppender(log, defer);
  }

  restore(signatures: readonly DeviceSignature[]): void {
    for (const s of signatures) {
      const list = this.sigs.get(s.bdf) ?? [];
      list.push(s);
      this.sigs.set(s.bdf, list);
    }
  }

  list(bdf: string): readonly DeviceSignature[] {
    return [...(this.sigs.get(bdf) ?? [])];
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
    const list = this.sigs.get(dev.bdf) ?? [];
    evidence.signatures.forEach((s, i) => {
      const view = deviceSignature(dev.bdf, evidence, s, r.first + i, at);
      list.push(view);
      dev.signatureEntries.push(view.logIndex);
      b.signatures.push(view);
      b.events.push({ type: 'signature', bdf: dev.bdf, signature: view });
    });
    if (list.length > this.max) list.splice(0, list.length - this.max);
    // Like the kernel's capped signatures/ directory: the newest are kept (the log keeps all).
    if (dev.signatureEntries.length > this.max) dev.signatureEntries.splice(0, dev.signatureEntries.length - this.max);
    this.sigs.set(dev.bdf, list);
  }
}
