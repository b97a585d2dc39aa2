/**
 * Turns of the event loop, handed out one at a time. A group commit ends for up to a few hundred
 * devices at once, and each device's next step (judging its evidence: verifying every signature
 * and chain again) is milliseconds of synchronous work; run back to back in the one microtask
 * drain that follows the commit they held the event loop for hundreds of milliseconds, and a
 * status call or an event waited that long. A caller that awaits `take()` first resumes in a
 * turn of its own (one setImmediate each, the next scheduled only once the previous one ran, so
 * socket I/O and timers come in between), in the order the callers came. Each wait is bounded:
 * it lasts as many turns as there are callers ahead of it.
 */
import type { ExchangeOptions, Transport } from '../transport/transport.js';

export class Turns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  private readonly quietWaiters: { readonly resolve: () => void; left: number }[] = [];

  take(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  /**
   * Resolves once no step is waiting for a turn, or after `maxTurns` more turns, whichever comes
   * first. A group commit waits for it: steps spread over turns would otherwise each commit on
   * their own (one disk flush each) instead of together.
   */
  quiet(maxTurns: number): Promise<void> {
    if (this.waiting.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.quietWaiters.push({ resolve, left: maxTurns }));
  }

  private schedule(): void {
    if (this.waiting.length === 0) {
      for (const q of this.quietWaiters.splice(0)) q.resolve();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // An immediate queued while immediates run waits for the next turn of the loop.
      this.waiting.shift()?.();
      for (let i = this.quietWaiters.length - 1; i >= 0; i--) {
        const q = this.quietWaiters[i] as { readonly resolve: () => void; left: number };
        if (--q.left <= 0) {
          this.quietWaiters.splice(i, 1);
          q.resolve();
        }
      }
      this.schedule();
    });
  }
}

/**
 * `t`, each answer handed on in a turn of its own: what the requester does with an answer
 * (decoding it, extending the transcript, checking a signature) is the other synchronous step per
 * device, and the answers of many devices arrive in one pass of the loop's timers.
 */
export function takingTurns(t: Transport, turns: Turns): Transport {
  const exchangeSecured = t.exchangeSecured?.bind(t);
  const close = t.close?.bind(t);
  return {
    maxMessageSize: t.maxMessageSize,
    securedCapable: t.securedCapable,
    ...(t.securedBinding ? { securedBinding: t.securedBinding } : {}),
    async exchange(request, options) {
      const answer = await t.exchange(request, options);
      await turns.take();
      return answer;
    },
    ...(exchangeSecured
      ? {
          async exchangeSecured(record: Uint8Array, options?: ExchangeOptions) {
            const answer = await exchangeSecured(record, options);
            await turns.take();
            return answer;
          },
        }
      : {}),
    ...(close ? { close } : {}),
  };
}
