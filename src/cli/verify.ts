/**
 * `spdm verify EVIDENCE.json --trust FILE|DIR [--policy FILE] [--deny FILE] [--json]`: the verdict
 * on saved evidence (what `spdm authenticate --json` prints, or a bare Evidence document).
 * Exit status (cli/exit-codes.ts): 0 trusted, 1 untrusted, 2 bad input (unreadable or unparseable files, bad options).
 */
import { LIMITS } from '../wire/limits.js';
import { statSync } from 'node:fs';
import { readTextFileBounded } from '../wire/bounded-file.js';
import { checkJsonText } from '../wire/json-depth.js';
import { loadVerifierInputs } from './verifier-args.js';
import { dateArgProblem, nonceArgProblem } from './options.js';
import { EXIT } from './exit-codes.js';
import { verify } from '../verifier/verify.js';
import { formatVerdict, type Verdict } from '../verifier/verdict.js';

export interface VerifyCliOptions {
  readonly trust: readonly string[];
  readonly policy?: string;
  readonly deny?: readonly string[];
  readonly json?: boolean;
  /** Expected requester nonce (64 hex digits). */
  readonly nonce?: string;
  /** Verifier clock (ISO 8601), for reproducible verdicts. */
  readonly now?: string;
}

export interface VerifyCliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly verdict?: Verdict;
}

function badInput(message: string): VerifyCliResult {
  return { exitCode: EXIT.USAGE, stdout: '', stderr: `spdm verify: ${message}\n` };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the command without commander or process side effects. */
export function runVerifyCommand(file: string, o: VerifyCliOptions): VerifyCliResult {
  if (o.trust.length === 0) return badInput('give at least one --trust FILE|DIR');
  const dateProblem = dateArgProblem(o.now);
  if (dateProblem) return badInput(dateProblem);
  const now = o.now !== undefined ? new Date(o.now) : undefined;
  const nonceProblem = nonceArgProblem(o.nonce);
  if (nonceProblem) return badInput(nonceProblem);

  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return badInput(`${file} is not a file`);
    // The bounded read refuses an oversized file before reading it, and one that grows meanwhile.
    text = readTextFileBounded(file, LIMITS.evidenceFileBytes, 'evidenceFileBytes');
  } catch (e) {
    return badInput(`cannot read ${file}: ${message(e)}`);
  }
  let doc: unknown;
  try {
    // JSON.parse copes with any nesting; the verifier's walks of the result would not.
    checkJsonText(text, file);
  } catch (e) {
    return badInput(message(e));
  }
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return badInput(`${file} is not JSON: ${message(e)}`);
  }

  let inputs: ReturnType<typeof loadVerifierInputs>;
  try {
    inputs = loadVerifierInputs(o);
  } catch (e) {
    return badInput(message(e));
  }
  const { store, policy } = inputs;

  const verdict = verify(doc, policy, store, {
    ...(now ? { now } : {}),
    ...(o.nonce !== undefined ? { expectedNonce: o.nonce } : {}),
  });
  const stdout = o.json ? `${JSON.stringify(verdict, null, 2)}\n` : `${formatVerdict(verdict)}\n`;
  return { exitCode: verdict.status === 'trusted' ? EXIT.OK : EXIT.FAILED, stdout, stderr: '', verdict };
}

export { registerVerifyCommand, type VerifyCommandIo } from './verify-command.js';
