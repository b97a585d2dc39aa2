/**
 * The EAR commands (docs/ear.md): `spdm verify … --ear-key KEY [--ear FILE] [--jwks FILE]` signs
 * the verdict as an EAT Attestation Result; `spdm ear keygen` makes a verifier key, `spdm ear jwks`
 * prints a key's JWKS, and `spdm ear verify` is the relying party's check of an EAR. Loaded only
 * when one of them runs (it brings in jose).
 *
 * Exit status (cli/exit-codes.ts): `verify` keeps the verdict's (0 trusted, 1 untrusted);
 * `ear verify` 0 when the EAR verifies, 1 EAR_INVALID; 2 for unreadable files and bad options.
 */
import { closeSync, openSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { LIMITS } from '../wire/limits.js';
import { readFileBounded, readTextFileBounded } from '../wire/bounded-file.js';
import { SpdmError, isSpdmError } from '../wire/errors.js';
import { checkJsonText } from '../wire/json-depth.js';
import {
  EAR_ALGORITHMS,
  earClaims,
  earJwks,
  earPrivateKey,
  generateEarKey,
  signEar,
  verifyEar,
  type EarAlgorithm,
} from '../verifier/ear.js';
import { EXIT } from './exit-codes.js';
import { dateArgProblem, nonceArgProblem } from './options.js';
import { runVerifyCommand, type VerifyCliOptions, type VerifyCliResult } from './verify.js';

export interface VerifyEarCliOptions extends VerifyCliOptions {
  /** The verifier's private key (PEM): P-256, P-384 or Ed25519. */
  readonly earKey?: string;
  /** Where the EAR goes; `-` or absent: standard output (the verdict then goes to standard error). */
  readonly ear?: string;
  /** Where the verifier's public JWKS goes. */
  readonly jwks?: string;
  /** Seconds the EAR stays valid (its `exp`). */
  readonly earTtl?: number;
}

export interface EarCliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function usage(command: string, why: string): EarCliResult {
  return { exitCode: EXIT.USAGE, stdout: '', stderr: `${command}: ${why}\n` };
}

function loadKey(path: string): KeyObject {
  return earPrivateKey(readFileBounded(path, LIMITS.keyFileBytes, 'keyFileBytes'), path);
}

function jsonText(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

/**
 * `spdm verify` with an EAR: the verdict as runVerifyCommand reaches it, then signed. The key is
 * read first, so a bad key is a usage error before any evidence is judged.
 */
export async function runVerifyEarCommand(
  file: string,
  o: VerifyEarCliOptions,
  stdinText?: string,
): Promise<VerifyCliResult> {
  const cmd = 'spdm verify';
  if (o.earKey === undefined) return usage(cmd, '--ear and --jwks need --ear-key, the key that signs the EAR');
  if (o.earTtl !== undefined && !(Number.isSafeInteger(o.earTtl) && o.earTtl > 0))
    return usage(cmd, '--ear-ttl wants a positive number of seconds');
  let key: KeyObject;
  try {
    key = loadKey(o.earKey);
  } catch (e) {
    return usage(cmd, `--ear-key: ${message(e)}`);
  }
  const r = runVerifyCommand(file, o, stdinText);
  if (!r.verdict) return r;
  const claims = earClaims(r.verdict, {
    evidence: r.evidence,
    ...(r.policy ? { policy: r.policy } : {}),
    ...(o.now !== undefined ? { issuedAt: new Date(o.now) } : {}),
    ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
    ...(o.earTtl !== undefined ? { validForSeconds: o.earTtl } : {}),
  });
  const jwt = await signEar(claims, key);
  try {
    if (o.jwks !== undefined) writeFileSync(o.jwks, jsonText(await earJwks(key)));
    if (o.ear !== undefined && o.ear !== '-') writeFileSync(o.ear, `${jwt}\n`);
  } catch (e) {
    return usage(cmd, `cannot write the EAR: ${message(e)}`);
  }
  // Standard output carries one thing: the EAR when it is not written to a file, else the verdict.
  if (o.ear === undefined || o.ear === '-') return { ...r, stdout: `${jwt}\n`, stderr: r.stderr + r.stdout };
  return r;
}

/** `spdm ear keygen KEY [--alg A]`: a new private key (mode 0600, never over an existing file); its JWKS on stdout. */
export async function runEarKeygen(path: string, o: { alg?: string }): Promise<EarCliResult> {
  const cmd = 'spdm ear keygen';
  const alg = (o.alg ?? 'ES256') as EarAlgorithm;
  if (!EAR_ALGORITHMS.includes(alg)) return usage(cmd, `--alg: one of ${EAR_ALGORITHMS.join(', ')}`);
  const key = generateEarKey(alg);
  const pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
  try {
    // 'wx': an existing key is never replaced, whoever pinned its public half.
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeFileSync(fd, pem);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return usage(
      cmd,
      code === 'EEXIST' ? `${path} exists; not replacing a key` : `cannot write ${path}: ${message(e)}`,
    );
  }
  return { exitCode: EXIT.OK, stdout: jsonText(await earJwks(key)), stderr: '' };
}

/** `spdm ear jwks KEY`: the public JWKS of a verifier key. */
export async function runEarJwks(path: string): Promise<EarCliResult> {
  try {
    return { exitCode: EXIT.OK, stdout: jsonText(await earJwks(loadKey(path))), stderr: '' };
  } catch (e) {
    return usage('spdm ear jwks', message(e));
  }
}

export interface EarVerifyCliOptions {
  readonly jwks: string;
  /** The challenge nonce (64 hex digits) the top-level eat_nonce must echo. */
  readonly nonce?: string;
  /** The relying party's clock, for exp. */
  readonly now?: string;
}

/** `spdm ear verify JWT|- --jwks FILE`: the claims as JSON, or EAR_INVALID and why. `tokenText` is what `-` read. */
export async function runEarVerify(file: string, o: EarVerifyCliOptions, tokenText?: string): Promise<EarCliResult> {
  const cmd = 'spdm ear verify';
  const problem = dateArgProblem(o.now) ?? nonceArgProblem(o.nonce);
  if (problem) return usage(cmd, problem);
  let token: string;
  let jwks: unknown;
  try {
    token = file === '-' ? (tokenText ?? '') : readTextFileBounded(file, LIMITS.earTokenBytes, 'earTokenBytes');
    const text = readTextFileBounded(o.jwks, LIMITS.keyFileBytes, 'keyFileBytes');
    checkJsonText(text, o.jwks);
    jwks = JSON.parse(text);
  } catch (e) {
    return usage(cmd, message(e));
  }
  try {
    const claims = await verifyEar(token, jwks, {
      ...(o.now !== undefined ? { now: new Date(o.now) } : {}),
      ...(o.nonce !== undefined ? { nonce: o.nonce } : {}),
    });
    return { exitCode: EXIT.OK, stdout: jsonText(claims), stderr: '' };
  } catch (e) {
    if (isSpdmError(e, 'EAR_INVALID'))
      return { exitCode: EXIT.FAILED, stdout: '', stderr: `${cmd}: EAR_INVALID (${e.details.reason}): ${e.message}\n` };
    if (e instanceof SpdmError) return usage(cmd, `${e.code}: ${e.message}`);
    throw e;
  }
}
