/**
 * The per-device flow runner: one flow per BDF at a time, at most `concurrency` attempts at once
 * (the Scheduler), transient failures retried with exponential backoff on the injected clock, and
 * a finished flow turned into state, signatures and decisions in one commit. A flow that started
 * before a reset or a TSM hand-over keeps its signatures, not its conclusions; no attempt starts
 * on a function that is gone, owned by a TSM, or once the service is closing.
 */
import { NONCE_SIZE } from '../spdm/messages/challenge.js';
import type { TrustSource } from '../verifier/trust-store.js';
import type { Policy } from '../verifier/policy.js';
import { verifyAsync } from '../verifier/verify.js';
import type { Verdict } from '../verifier/verdict.js';
import { toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import type { CmaCore } from './core.js';
import type { Decisions } from './decisions.js';
import type { Device } from './device.js';
import { FlowHandle, runFlow, type FlowResult } from './flow.js';
import { batch } from './journal.js';
import { isTransient } from './outcome.js';
import { owned } from './ownership.js';
import { applyResult } from './result.js';
import type { Scheduler } from './scheduler.js';
import type { SignatureBook } from './signature-book.js';

export type Attempt = <A>(fn: () => Promise<A>) => Promise<A>;

export interface RetrySettings {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export class FlowRunner {
  constructor(
    private readonly core: CmaCore,
    readonly scheduler: Scheduler,
    private readonly retry: RetrySettings,
    private readonly signatures: SignatureBook,
    private readonly decisions: Decisions,
    private readonly trust: TrustSource,
    private readonly policy: () => Policy | undefined,
  ) {}

  /** Queues an authentication (joining one already queued and not started). */
  authenticateQueued(dev: Device): Promise<void> {
    if (dev.queued) return dev.queued;
    dev.busy++;
    const incarnation = dev.incarnation;
    const p = this.scheduler.run(dev.bdf, async (attempt) => {
      dev.queued = undefined;
      try {
        await this.authenticateNow(dev, incarnation, attempt);
      } finally {
        dev.busy--;
      }
    });
    dev.queued = p;
    return p;
  }

  private backoff(attempt: number): number {
    return Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempt - 1));
  }

  /** Runs flows until one is not transient, the retries are spent, or the device is no longer ours. */
  async flowWithRetries(
    dev: Device,
    incarnation: number,
    attempt: Attempt,
    nonceFor: () => Uint8Array,
    flowOptions: { slot: number; indices?: readonly number[] },
  ): Promise<{ result: FlowResult; nonce: Uint8Array }> {
    const core = this.core;
    const opts = core.opts;
    for (let tries = 0; ; tries++) {
      const nonce = nonceFor();
      const handle = new FlowHandle();
      const fn = dev.fn;
      let result: FlowResult;
      if (core.closed) {
        result = {
          doe: dev.doe,
          error: new SpdmError('DEVICE_STATE', 'the CMA service is closing', { bdf: dev.bdf, state: 'closed' }),
        };
      } else if (!fn || !core.current(dev, incarnation)) {
        result = {
          doe: dev.doe,
          error: new SpdmError('DEVICE_NOT_FOUND', `${dev.bdf} is not present`, { bdf: dev.bdf }),
        };
      } else {
        dev.running = handle;
        try {
          result = await attempt(() =>
            runFlow(
              fn,
              {
                clock: core.clock,
                random: core.random,
                nonce,
                slot: flowOptions.slot,
                ...(opts.requester ? { requester: opts.requester } : {}),
                ...(opts.doe ? { doe: opts.doe } : {}),
                authenticate: {
                  // PCIe CMA requires CHALLENGE: a device without it has not shown it holds its key.
                  requireChallenge: true,
                  ...opts.authenticate,
                  ...(flowOptions.indices ? { indices: flowOptions.indices } : {}),
                },
              },
              handle,
            ),
          );
        } finally {
          if (dev.running === handle) dev.running = undefined;
        }
      }
      const gone = () => core.closed || !core.current(dev, incarnation) || owned(dev);
      const stop =
        result.evidence !== undefined ||
        !isTransient(result.error) ||
        handle.aborted !== undefined ||
        tries >= this.retry.attempts ||
        gone();
      if (stop) return { result, nonce };
      await core.clock.sleep(this.backoff(tries + 1));
      // Handed to a TSM, unplugged or closing while we waited: no further attempt on the mailbox.
      if (gone()) return { result, nonce };
    }
  }

  private async authenticateNow(dev: Device, incarnation: number, attempt: Attempt): Promise<void> {
    if (this.core.closed || !this.core.current(dev, incarnation)) return;
    if (dev.owner.kind === 'tsm') {
      dev.needsAuth = true;
      return;
    }
    const resetSeq = dev.resetSeq;
    const run = this.flowWithRetries(dev, incarnation, attempt, () => this.core.random(NONCE_SIZE), {
      slot: dev.slot,
    });
    dev.current = run;
    let outcome;
    try {
      outcome = await run;
    } finally {
      dev.current = undefined;
    }
    if (!this.core.current(dev, incarnation)) return; // unplugged: device-removed said so
    await this.apply(dev, outcome.result, outcome.nonce, resetSeq !== dev.resetSeq || owned(dev));
  }

  /** A finished flow's result becomes the device's state, and the decisions follow from it. */
  private async apply(dev: Device, r: FlowResult, nonce: Uint8Array, stale: boolean): Promise<void> {
    const b = batch();
    b.devices.push(dev);
    let evidence = r.evidence;
    let error = r.error;
    let logFailed = false;
    // The verifier's own re-verification runs (its signature primitives in libuv's threadpool)
    // while the signatures go into the log; its verdict counts only for evidence that got there.
    let verdict: Promise<Verdict> | undefined;
    if (evidence && !stale)
      verdict = verifyAsync(evidence, this.policy(), this.trust, {
        expectedNonce: toHex(nonce),
        now: new Date(this.core.clock.now()),
      });
    if (evidence) {
      try {
        await this.signatures.append(dev, evidence, b);
      } catch (e) {
        // Evidence that is not in the log is not evidence anyone can check again: do not act on
        // it. The device is not at fault, so this reads as `unknown`.
        error = e;
        evidence = undefined;
        logFailed = true;
      }
    }
    if (stale) {
      // Started before a reset or a TSM hand-over: its signatures are kept, its conclusions are not.
      await this.core.commit(b);
      return;
    }
    const judged = evidence && verdict ? await verdict : undefined;
    const at = this.core.now();
    b.events.push(applyResult(dev, r, { evidence, error, logFailed }, nonce, judged, at));
    this.decisions.decide(dev, evidence, nonce, b, at);
    await this.core.commit(b);
  }
}
