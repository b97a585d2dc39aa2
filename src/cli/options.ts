/**
 * The parsers of every `spdm` option value that is not free text: numbers, durations, ports,
 * slots, nonces, dates, HOST:PORT. Each is a commander argParser: it returns the parsed value or
 * throws commander's InvalidArgumentError, which main() turns into exit 2 (EXIT.USAGE) with
 * commander's "error: option '--x <n>' argument 'y' is invalid. …" message — so every command
 * refuses a bad value the same way, before it runs. The checks are exported for the run* functions
 * that tests and other programs call without commander.
 */
import { InvalidArgumentError } from 'commander';
import { LIMITS } from '../wire/limits.js';

/** A whole number in [min, max]: no fractions, exponents that hide them, hex or empty strings. */
export function integerIn(min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`wants an integer from ${min} to ${max}.`);
    return n;
  };
}

/** A count or an index: 0 and up. */
export const nonNegativeIntArg = integerIn(0, Number.MAX_SAFE_INTEGER);

/** A TCP port; 0 asks the system for a free one. */
export const portArg = integerIn(0, 65535);

/** An SPDM certificate slot (SlotID is 0..7). */
export const slotArg = integerIn(0, 7);

/** A duration in whole milliseconds that Node's timers can hold (LIMITS.maxTimerMs). */
export const msArg = integerIn(1, LIMITS.maxTimerMs);

const NONCE_HEX = /^(0x)?[0-9a-fA-F]{64}$/;

/** `--nonce`: 32 bytes as 64 hex digits, `0x` allowed. Returns the problem, or undefined when fine. */
export function nonceArgProblem(nonce: string | undefined): string | undefined {
  return nonce === undefined || NONCE_HEX.test(nonce) ? undefined : '--nonce wants 32 bytes as 64 hex digits';
}

/** `--nonce` as a commander parser: the text unchanged once it is 64 hex digits. */
export function nonceArg(v: string): string {
  if (nonceArgProblem(v)) throw new InvalidArgumentError('wants 32 bytes as 64 hex digits.');
  return v;
}

/** `--now`: an ISO 8601 date; returns the problem, or undefined when fine. */
export function dateArgProblem(v: string | undefined): string | undefined {
  return v === undefined || !Number.isNaN(new Date(v).getTime()) ? undefined : `--now: "${v}" is not a date`;
}

/** `--now` as a commander parser: the text unchanged once it is a date. */
export function dateArg(v: string): string {
  if (dateArgProblem(v)) throw new InvalidArgumentError('wants an ISO 8601 date.');
  return v;
}

/** HOST:PORT, IPv6 in brackets ([::1]:2323); throws InvalidArgumentError naming the problem. */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  if (!m) throw new InvalidArgumentError(`wants HOST:PORT, got "${s}".`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new InvalidArgumentError(`port ${port} out of range.`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

/** `--connect` as a commander parser: the text unchanged once it is HOST:PORT. */
export function hostPortArg(v: string): string {
  parseHostPort(v);
  return v;
}
