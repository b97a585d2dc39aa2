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

/** ../shared/vectors/libspdm beside the checkout (present in CI and every session). */
export function libspdmVectors(): string {
  const p = resolve(repoRoot(), '..', 'shared', 'vectors', 'libspdm');
  if (!existsSync(p)) throw new Error(`libspdm vectors not found at ${p}`);
  return p;
}
