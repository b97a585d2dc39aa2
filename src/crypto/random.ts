import { randomBytes } from 'node:crypto';

/** Injectable randomness: tests pass a deterministic source, production uses the OS CSPRNG. */
export type RandomSource = (n: number) => Uint8Array;

export const systemRandom: RandomSource = (n) => new Uint8Array(randomBytes(n));
