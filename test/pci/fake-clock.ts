/**
 * A discrete-event clock for tests: time stands still while there is work to do and jumps to the
 * next sleeper's deadline only once every pending microtask has run (one setImmediate later). Both
 * the driver and the simulated device sleep on it, so a 1-s DOE timeout costs no wall time and the
 * order of events is deterministic.
 */
import type { Clock } from '../../src/transport/clock.js';

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
  /** Total sleeps requested (to show a wait really was a poll loop). */
  sleeps = 0;

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
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers.shift() as Timer;
    this.t = Math.max(this.t, next.at);
    next.resolve();
    if (this.timers.length > 0) this.schedule();
  }
}
