/**
 * `spdm`'s exit codes: the one table every command reports through (kept apart so main.ts can map
 * errors without loading a command).
 *
 * | code | name        | meaning                                                                   |
 * |------|-------------|---------------------------------------------------------------------------|
 * | 0    | OK          | done; `authenticate --trust` / `verify`: the device or evidence is trusted |
 * | 1    | FAILED      | ran, and the answer is no: untrusted, authentication failed, a log or capture check failed |
 * | 2    | USAGE       | bad arguments, or input files that cannot be read or parsed: nothing was checked |
 * | 3    | UNREACHABLE | the device could not be reached (connect, open, DOE discovery)            |
 */
import { CommanderError } from 'commander';
import { SpdmError } from '../wire/errors.js';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3 } as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code for an error that escaped a command into main(), or undefined for one that is a
 * bug (rethrown, so it keeps its stack; bin/spdm.js prints it and exits FAILED). Commander's own errors (unknown option, a parser in
 * cli/options.ts refusing a value) are USAGE whatever exitCode commander gave them, except for
 * --help and --version (0); an SpdmError that reaches main() came from reading an option's file
 * before any device was touched, so it is USAGE too.
 */
export function exitCodeForError(e: unknown): ExitCode | undefined {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (e instanceof SpdmError) return EXIT.USAGE;
  return undefined;
}
