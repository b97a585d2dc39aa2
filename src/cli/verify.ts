/**
 * `spdm verify EVIDENCE.json|- --trust FILE|DIR [--policy FILE] [--deny FILE] [--json]`: the verdict
 * on saved evidence (what `spdm authenticate --json` prints, or a bare Evidence document).
 * Exit status (cli/exit-codes.ts): 0 trusted, 1 untrusted, 2 bad input (unreadable or unparseable files, bad options).
 * With --ear-key, cli/ear.ts signs the verdict reached here as an EAT Attestation Result.
 */
import { LimitError, LIMITS } from '../wire/limits.js';
import { statSync } from 'node:fs';
import { readTextFileBounded } from '../wire/bounded-file.js';
import { checkJsonText } from '../wire/json-depth.js';
import { loadVerifierInputs } from './verifier-args.js';
import { dateArgProblem, nonceArgProblem } from './options.js';
import { EXIT } from './exit-codes.js';
import { verify } from '../verifier/verify.js';
import { formatVerdict, type Verdict } from '../verifier/verdict.js';
import type { Policy } from '../verifier/policy.js';

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
  /** The evidence document the verdict is about (for an EAR, cli/ear.ts). */
  readonly evidence?: unknown;
  readonly policy?: Policy;
}

function badInput(message: string): VerifyCliResult {
  return { exitCode: EXIT.USAGE, stdout: '', stderr: `spdm verify: ${message}\n` };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Standard input (`spdm verify -`, e.g. `spdm authenticate --json | spdm verify - …`), read to the
 * end but never past the evidence file bound: more is refused, not buffered.
 */
export async function readEvidenceStream(
  stream: AsyncIterable<Buffer | string>,
  maxBytes: number = LIMITS.evidenceFileBytes,
  limit = 'evidenceFileBytes',
): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    n += b.length;
    if (n > maxBytes) throw new LimitError(limit, n, maxBytes, 'standard input');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs the command without commander or process side effects. `file` '-' takes the evidence
 * from `stdinText` (what readEvidenceStream read).
 */
export function runVerifyCommand(file: string, o: VerifyCliOptions, stdinText?: string): VerifyCliResult {
  // Without anchors only a policy's trustedPublicKeys (provisioned keys, slot 0xFF) can make a device trusted.
  if (o.trust.length === 0 && o.policy === undefined)
    return badInput('give at least one --trust FILE|DIR, or a --policy whose trustedPublicKeys name the device key');
  const dateProblem = dateArgProblem(o.now);
  if (dateProblem) return badInput(dateProblem);
  const now = o.now !== undefined ? new Date(o.now) : undefined;
  const nonceProblem = nonceArgProblem(o.nonce);
  if (nonceProblem) return badInput(nonceProblem);

  const source = file === '-' ? 'standard input' : file;
  let text: string;
  if (file === '-') {
    if (stdinText === undefined) return badInput('- names standard input, which was not read');
    text = stdinText;
  } else
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
    checkJsonText(text, source);
  } catch (e) {
    return badInput(message(e));
  }
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return badInput(`${source} is not JSON: ${message(e)}`);
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
  return {
    exitCode: verdict.status === 'trusted' ? EXIT.OK : EXIT.FAILED,
    stdout,
    stderr: '',
    verdict,
    evidence: doc,
    ...(policy ? { policy } : {}),
  };
}

export { registerVerifyCommand, type VerifyCommandIo } from './verify-command.js';
