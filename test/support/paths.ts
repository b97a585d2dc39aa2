import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found by walking up from this file (tests run from a compiled dist folder). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

/**
 * ../shared/vectors/libspdm beside the checkout (present in CI and every session); a git worktree
 * one level further down (wt/NAME) finds the same folder two levels up.
 */
export function libspdmVectors(): string {
  const candidates = [resolve(repoRoot(), '..', 'shared', 'vectors', 'libspdm'), resolve(repoRoot(), '..', '..', 'shared', 'vectors', 'libspdm')];
  const p = candidates.find((c) => existsSync(c));
  if (p === undefined) throw new Error(`libspdm vectors not found at ${candidates.join(' or ')}`);
  return p;
}
