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
 * libspdm's captured traffic and sample keys, copied into test/vectors/libspdm so that a fresh
 * clone tests on its own (the compiled tests run from dist/, the data stays in the source tree).
 */
export function libspdmVectors(): string {
  const p = join(repoRoot(), 'test', 'vectors', 'libspdm');
  if (!existsSync(join(p, 'captures'))) throw new Error(`libspdm vectors not found at ${p}`);
  return p;
}
