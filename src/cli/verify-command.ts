/**
 * `spdm verify`'s options; the verifier behind it (src/cli/verify.ts) is imported only when the
 * command runs, so that `spdm --help` or another command does not load it.
 */
import type { Command } from 'commander';
import { EXIT } from './exit-codes.js';
import { integerIn } from './options.js';

export interface VerifyCommandIo {
  /** Receives the exit status (main() keeps it in its `exitCode`). Default: process.exitCode. */
  readonly setExitCode?: (code: number) => void;
  readonly stdout?: (s: string) => void;
  readonly stderr?: (s: string) => void;
  /** Where `spdm verify -` reads the evidence. Default: process.stdin. */
  readonly stdin?: AsyncIterable<Buffer | string>;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Adds `verify` to a commander program. Wire it in main() with
 * `registerVerifyCommand(program, { setExitCode: (c) => { exitCode = c; } })`.
 */
export function registerVerifyCommand(program: Command, io: VerifyCommandIo = {}): Command {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const setExit =
    io.setExitCode ??
    ((c: number) => {
      process.exitCode = c;
    });
  return program
    .command('verify')
    .description(
      'decide whether saved evidence shows a trusted device: trust anchors, deny-list, certificate rules, PCIe CMA SAN, policy and reference measurements',
    )
    .argument(
      '<evidence>',
      'evidence JSON (the output of `spdm authenticate --json`, or a bare Evidence document); - reads standard input',
    )
    .option('--trust <file|dir>', 'trusted root certificates, PEM or DER (repeatable)', collect, [])
    .option(
      '--policy <file>',
      'policy file, JSON or YAML (schemas/policy.schema.json); default: every rule required, no reference values',
    )
    .option(
      '--deny <file|dir>',
      'deny-list: certificates, JSON or text entries by sha256 fingerprint or issuer+serial (repeatable)',
      collect,
      [],
    )
    .option('--nonce <hex>', 'the requester nonce the evidence must have been collected with')
    .option('--now <iso-date>', 'the verifier clock (default: now)')
    .option('--json', 'print the verdict as JSON')
    .option(
      '--ear-key <file>',
      'sign the verdict as an EAT Attestation Result (EAR JWT, docs/ear.md) with this verifier key (PEM: P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA; `spdm ear keygen` makes one)',
    )
    .option(
      '--ear <file>',
      'with --ear-key: write the EAR here (default, or -: standard output, the verdict then on standard error)',
    )
    .option('--jwks <file>', "with --ear-key: write the key's public JWKS here, for relying parties")
    .option(
      '--ear-ttl <seconds>',
      'with --ear-key: the EAR expires this many seconds after it is issued (exp)',
      integerIn(1, 10 * 365 * 86400),
    )
    .action(
      async (
        file: string,
        opts: {
          trust: string[];
          deny: string[];
          policy?: string;
          nonce?: string;
          now?: string;
          json?: boolean;
          earKey?: string;
          ear?: string;
          jwks?: string;
          earTtl?: number;
        },
      ) => {
        const { readEvidenceStream, runVerifyCommand } = await import('./verify.js');
        let stdinText: string | undefined;
        if (file === '-') {
          try {
            stdinText = await readEvidenceStream(io.stdin ?? process.stdin);
          } catch (e) {
            err(`spdm verify: cannot read standard input: ${e instanceof Error ? e.message : String(e)}\n`);
            setExit(EXIT.USAGE);
            return;
          }
        }
        const wantsEar = [opts.earKey, opts.ear, opts.jwks, opts.earTtl].some((x) => x !== undefined);
        const r = wantsEar
          ? await (await import('./ear.js')).runVerifyEarCommand(file, opts, stdinText)
          : runVerifyCommand(file, opts, stdinText);
        if (r.stdout) out(r.stdout);
        if (r.stderr) err(r.stderr);
        setExit(r.exitCode);
      },
    );
}
