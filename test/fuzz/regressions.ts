/**
 * test/regressions/: one JSON file per failing input the fuzzer found, named
 * `<target>-<first 12 hex digits of SHA-256 of the input>.json`, holding the target name, the input
 * (the target's own JSON form), and the failure as it was when found. regressions.test.ts replays
 * every file; a fix is proven by its file turning from failing to passing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';
import type { AnyTarget, Json } from './target.js';

export interface Regression {
  readonly target: string;
  readonly input: Json;
  readonly failure: { readonly kind: string; readonly message: string };
  readonly foundAt: string;
  /** What was fixed, added by hand once it is. */
  readonly note?: string;
}

export function regressionsDir(): string {
  return join(repoRoot(), 'test', 'regressions');
}

/** Saves `input` unless an identical one is already there; returns the file path. */
export function saveRegression(target: AnyTarget, input: unknown, failure: { kind: string; message: string }): string {
  const json = target.toJson(input);
  const hash = createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 12);
  const dir = regressionsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${target.name}-${hash}.json`);
  if (!existsSync(file)) {
    const r: Regression = {
      target: target.name,
      input: json,
      failure: { kind: failure.kind, message: failure.message.slice(0, 2000) },
      foundAt: new Date().toISOString(),
    };
    writeFileSync(file, `${JSON.stringify(r, null, 1)}\n`);
  }
  return file;
}

export function listRegressions(): { file: string; regression: Regression }[] {
  const dir = regressionsDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, regression: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Regression }));
}
