import { randomFillSync } from 'node:crypto';

/** Injectable randomness: tests pass a deterministic source, production uses the OS CSPRNG. */
export type RandomSource = (n: number) => Uint8Array;

// Nonces are small and frequent; one CSPRNG call per 4 KiB instead of per nonce removes a
// measurable share of an authentication's cost. Bytes handed out are copied and never reused.
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let used = POOL_SIZE;

export const systemRandom: RandomSource = (n) => {
  if (n > POOL_SIZE / 4) return new Uint8Array(randomFillSync(new Uint8Array(n)));
  if (used + n > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.slice(used, used + n);
  pool.fill(0, used, used + n);
  used += n;
  return out;
};
