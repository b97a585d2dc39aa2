import type { Clock } from '../../src/transport/clock.js';

/**
 * A clock whose sleeps return at once but are recorded, and whose time moves by what was slept:
 * for tests of how long the requester waits (ResponseNotReady, CTExponent, retries) without
 * spending that time.
 */
export function recordingClock(start = Date.UTC(2026, 11, 2)): Clock & { slept: number[] } {
  const slept: number[] = [];
  let now = start;
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}
