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
      'tree head seen earlier — the JSON an earlier verify saved (updated on success) or a C2SP checkpoint (spdm log checkpoint, a witness copy): the log must still contain it',
    )
    .option('--origin <name>', 'with a C2SP --checkpoint: its origin (default spdmkit.log/<log id>)')
    .option(
      '--workers <n>',
      'worker threads checking entries beside the main thread (0: none; default: CPUs - 1)',
      intArg,
    )
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

  log
    .command('checkpoint')
    .description(
      'print the newest tree head as a C2SP signed-note checkpoint (needs the log key); the verifier key goes to stderr',
    )
    .option(...dbOption)
    .option('--origin <name>', 'checkpoint origin and key name (default spdmkit.log/<log id>)')
    .option('--out <file>', 'write it to a file')
    .action(async (o: { db?: string; origin?: string; out?: string }) =>
      setExit(await (await cmd()).runLogCheckpoint(o, io())),
    );

  log
    .command('checkpoint-verify')
    .description("check a C2SP checkpoint's signature with the pinned log key (and, with --db, that the log holds it)")
    .argument('<file>', 'checkpoint file')
    .requiredOption('--pubkey <file>', "the log's public key (PEM)")
    .option('--origin <name>', 'expected origin (default spdmkit.log/<log id>)')
    .option(...dbOption)
    .option('--json', 'JSON output')
    .action(async (file: string, o: { pubkey: string; origin?: string; db?: string; json?: boolean }) =>
      setExit(await (await cmd()).runLogCheckpointVerify(file, o, io())),
    );

  const proof = log.command('proof').description('RFC 9162 proofs as JSON, for proof-verify or any CT-style verifier');
  proof
    .command('inclusion')
    .description('audit path of an entry in the tree of --size entries (default: the newest head)')
    .argument('<index>', 'entry index', intArg)
    .option(...dbOption)
    .option('--size <n>', 'tree size', intArg)
    .action(async (index: number, o: { db?: string; size?: number }) =>
      setExit(await (await cmd()).runLogProof('inclusion', index, o, io())),
    );
  proof
    .command('consistency')
    .description(
      'consistency proof from the tree of <first> entries to the tree of --size entries (default: the newest head)',
    )
    .argument('<first>', 'the older tree size', intArg)
    .option(...dbOption)
    .option('--size <n>', 'newer tree size', intArg)
    .action(async (first: number, o: { db?: string; size?: number }) =>
      setExit(await (await cmd()).runLogProof('consistency', first, o, io())),
    );

  log
    .command('proof-verify')
    .description('check a proof offline against a signed checkpoint (no log needed)')
    .argument('<proof>', 'proof JSON from spdm log proof')
    .requiredOption('--checkpoint <file>', 'C2SP checkpoint the proof leads to')
    .requiredOption('--pubkey <file>', "the log's public key (PEM)")
    .option('--origin <name>', 'expected origin (default spdmkit.log/<log id>)')
    .action(async (file: string, o: { checkpoint: string; pubkey: string; origin?: string }) =>
      setExit(await (await cmd()).runLogProofVerify(file, o, io())),
    );

  return log;
}
