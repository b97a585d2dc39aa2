/**
 * `spdm log verify|export|import|show|info`: the commands' options, with the code behind them
 * (src/cli/log.ts, which loads the log, its stores and crypto) imported only when one runs, so that
 * `spdm --help` or another command does not pay for it.
 */
import type { Command } from 'commander';
import { nonNegativeIntArg as intArg } from './options.js';
import { LIMITS } from '../wire/limits.js';
import { DEFAULT_LOG_TARGET } from '../log/defaults.js';
import type { LogCliIo, LogVerifyOptions } from './log.js';

const cmd = () => import('./log.js');

export interface RegisterLogOptions {
  /** Receives the command's exit status (main.ts returns it). Default: process.exitCode. */
  readonly setExitCode?: (code: number) => void;
  readonly io?: LogCliIo;
}

/** Adds `log verify|export|import|show|info` to `program`. */
export function registerLogCommands(program: Command, options: RegisterLogOptions = {}): Command {
  const setExit = options.setExitCode ?? ((c: number) => void (process.exitCode = c));
  const io = () => options.io;
  const dbOption = [
    '--db <file|url>',
    `SQLite file or postgres:// URL of the log (default ${DEFAULT_LOG_TARGET})`,
  ] as const;
  const log = program
    .command('log')
    .description('the signature log: every device signature, re-verifiable, in a signed Merkle tree');

  log
    .command('verify')
    .description('re-verify every logged signature from stored bytes and check the tree against its signed heads')
    .option(...dbOption)
    .option('--json', 'print the full report as JSON')
    .option('--pubkey <file>', "the log's public key (PEM) to trust instead of the key the log names")
    .option(
      '--checkpoint <file>',
      'tree head saved by an earlier successful verify: the log must still contain it; updated on success',
    )
    .option('--workers <n>', 'signature-checking threads (0: none)', intArg)
    .action(async (o: LogVerifyOptions) => setExit(await (await cmd()).runLogVerify(o, io())));

  log
    .command('export')
    .description('write the log as JSON Lines (docs/log-format.md), re-verifiable without spdmkit')
    .option(...dbOption)
    .option('--out <file>', 'output file (default: standard output)')
    .action(async (o: { db?: string; out?: string }) => setExit(await (await cmd()).runLogExport(o, io())));

  log
    .command('import')
    .description('add the entries of a JSON Lines export to a log that is empty or holds a prefix of it')
    .argument('<file>', 'export file, or - for standard input')
    .option(...dbOption)
    .option('--pubkey <file>', "the exported log's public key (PEM); the export must be of that log")
    .option('--max-line-bytes <n>', `longest line accepted (default ${LIMITS.logImportLineBytes})`, intArg)
    .action(async (file: string, o: { db?: string; pubkey?: string; maxLineBytes?: number }) =>
      setExit(await (await cmd()).runLogImport(file, o, io())),
    );

  log
    .command('show')
    .description('print entries, human-readable (default: the last 20)')
    .option(...dbOption)
    .option('--from <n>', 'first entry index', intArg)
    .option('--count <n>', 'number of entries', intArg)
    .option('--json', 'JSON (the export format) instead')
    .action(async (o: { db?: string; from?: number; count?: number; json?: boolean }) =>
      setExit(await (await cmd()).runLogShow(o, io())),
    );

  log
    .command('info')
    .description('print the log id, its public key (to pin) and the newest signed tree head')
    .option(...dbOption)
    .option('--json', 'JSON output')
    .action(async (o: { db?: string; json?: boolean }) => setExit(await (await cmd()).runLogInfo(o, io())));

  return log;
}
