/**
 * `spdm ear keygen|jwks|verify`: the options, with the code behind them (src/cli/ear.ts, which
 * loads jose) imported only when one runs.
 */
import type { Command } from 'commander';
import { dateArg, nonceArg } from './options.js';
import { EXIT } from './exit-codes.js';
import type { EarCliResult } from './ear.js';

export interface EarCommandIo {
  /** Receives the exit status (main() keeps it). Default: process.exitCode. */
  readonly setExitCode?: (code: number) => void;
  readonly stdout?: (s: string) => void;
  readonly stderr?: (s: string) => void;
  /** Where `spdm ear verify -` reads the token. Default: process.stdin. */
  readonly stdin?: AsyncIterable<Buffer | string>;
}

const cmd = () => import('./ear.js');

/** Adds `ear keygen|jwks|verify` to `program`. */
export function registerEarCommands(program: Command, io: EarCommandIo = {}): Command {
  const out = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const setExit = io.setExitCode ?? ((c: number) => void (process.exitCode = c));
  const report = (r: EarCliResult): void => {
    if (r.stdout) out(r.stdout);
    if (r.stderr) err(r.stderr);
    setExit(r.exitCode);
  };
  const ear = program
    .command('ear')
    .description('EAT Attestation Results (draft-ietf-rats-ear): verifier keys, and the relying party check');

  ear
    .command('keygen')
    .description('make a verifier signing key for `spdm verify --ear-key` (PKCS#8 PEM, mode 0600); prints its JWKS')
    .argument('<key>', 'the private key file to create (never replaced)')
    .option('--alg <alg>', 'ES256 (P-256), ES384 (P-384) or EdDSA (Ed25519)', 'ES256')
    .action(async (key: string, o: { alg?: string }) => report(await (await cmd()).runEarKeygen(key, o)));

  ear
    .command('jwks')
    .description("print a verifier key's public JWKS (kid = RFC 7638 thumbprint), what relying parties pin")
    .argument('<key>', 'the verifier key (PEM private key)')
    .action(async (key: string) => report(await (await cmd()).runEarJwks(key)));

  ear
    .command('verify')
    .description('check an EAR as a relying party: signature against the JWKS, typ, profile, claims; prints the claims')
    .argument('<ear>', 'the EAR (compact JWT) file; - reads standard input')
    .requiredOption('--jwks <file>', "the verifier's JWKS")
    .option('--nonce <hex>', 'the challenge nonce the EAR must echo (eat_nonce)', nonceArg)
    .option('--now <iso-date>', 'the relying party clock, for exp (default: now)', dateArg)
    .action(async (file: string, o: { jwks: string; nonce?: string; now?: string }) => {
      const m = await cmd();
      let text: string | undefined;
      if (file === '-') {
        try {
          const { readEvidenceStream } = await import('./verify.js');
          const { LIMITS } = await import('../wire/limits.js');
          text = await readEvidenceStream(io.stdin ?? process.stdin, LIMITS.earTokenBytes, 'earTokenBytes');
        } catch (e) {
          report({
            exitCode: EXIT.USAGE,
            stdout: '',
            stderr: `spdm ear verify: cannot read standard input: ${e instanceof Error ? e.message : String(e)}\n`,
          });
          return;
        }
      }
      report(await m.runEarVerify(file, o, text));
    });
  return ear;
}
