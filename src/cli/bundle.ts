/**
 * The CLI as one prebuilt file with V8's compiled code beside it (issue 12, cold start). Node 20
 * loads ESM one file at a time — resolve, read, compile, link — and `spdm authenticate` alone
 * reaches over a hundred of our files and the packages under them: about 150 ms of CPU before
 * the first byte goes to a device. `npm run build` (scripts/bundle-cli.js) also writes
 * `dist/bundle/`: `spdm.cjs`, every module the CLI can reach in one script; `spdm.v8cache`, V8's
 * code for it as compiled during real runs at build time; and `manifest.json`, the size and
 * modification time of every input. Run here through `vm.Script` with that cache, the script
 * skips parsing and compiling what a run needs.
 *
 * The bundle is only an accelerator. It is used only when every input is exactly as it was built
 * from; otherwise (sources rebuilt with plain `tsc`, a package updated, `SPDMKIT_BUNDLE=off`, no
 * bundle at all) the bin scripts load `dist/src/cli/main.js` as always, with the same behaviour.
 * The code cache is written only at build time, next to the code, never at run time: compiled
 * code read from a place other users can write would be code they chose. V8 refuses a cache made
 * by another V8 or under other flags, and then compiles from source.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

export type CliMain = (argv: readonly string[]) => Promise<number>;

/** One input of the bundle: its path from the package root, size in bytes and mtime in ms. */
export type BundleInput = readonly [path: string, size: number, mtimeMs: number];

export interface BundleManifest {
  readonly version: 1;
  readonly inputs: readonly BundleInput[];
}

/** Where `npm run build` puts the bundle: `dist/bundle/` of this package. */
export const BUNDLE_DIR = fileURLToPath(new URL('../../bundle/', import.meta.url));
const PACKAGE_ROOT = join(BUNDLE_DIR, '..', '..');
export const BUNDLE_CACHE = join(BUNDLE_DIR, 'spdm.v8cache');

/** The stat of `path` (from the package root `root`) as a manifest entry, or undefined when it cannot be read. */
export function inputStamp(path: string, root = PACKAGE_ROOT): BundleInput | undefined {
  try {
    // Concatenated, not join()ed: the manifest's paths are already normal, and normalising three
    // hundred of them is a measurable part of a cold start.
    const s = statSync(`${root}/${path}`);
    return [path, s.size, s.mtimeMs];
  } catch {
    return undefined;
  }
}

/** Whether every input of the bundle is still the file it was built from (same size and mtime). */
function current(manifest: unknown, root: string): boolean {
  if (typeof manifest !== 'object' || manifest === null) return false;
  const m = manifest as Partial<BundleManifest>;
  if (m.version !== 1 || !Array.isArray(m.inputs) || m.inputs.length === 0) return false;
  for (const entry of m.inputs as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3 || typeof entry[0] !== 'string') return false;
    const now = inputStamp(entry[0], root);
    if (now === undefined || now[1] !== entry[1] || now[2] !== entry[2]) return false;
  }
  return true;
}

export interface BundleLocation {
  /** The directory holding spdm.cjs, spdm.v8cache and manifest.json. Default: `dist/bundle/`. */
  readonly dir?: string;
  /** The package root the manifest's paths start from. Default: this package's. */
  readonly root?: string;
}

export interface LoadedBundle {
  readonly main: CliMain;
  readonly script: Script;
  /** True when V8 took the cache; false when it refused it or there was none. */
  readonly cacheAccepted: boolean;
}

/**
 * The bundled CLI, or undefined when it must not be used (absent, stale, or turned off with
 * `SPDMKIT_BUNDLE=off`). `withCache: false` compiles from source, as the build does before
 * it records the cache.
 */
export function loadBundle(options: BundleLocation & { withCache?: boolean } = {}): LoadedBundle | undefined {
  if (process.env['SPDMKIT_BUNDLE'] === 'off') return undefined;
  const dir = options.dir ?? BUNDLE_DIR;
  const file = join(dir, 'spdm.cjs');
  let code: string;
  try {
    if (!current(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), options.root ?? PACKAGE_ROOT))
      return undefined;
    code = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  if (options.withCache !== false) {
    try {
      cachedData = readFileSync(join(dir, 'spdm.v8cache'));
    } catch {
      cachedData = undefined;
    }
  }
  // Node's own CommonJS wrapper, so the bundle sees the same five names a required file does.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
    filename: file,
    ...(cachedData !== undefined ? { cachedData } : {}),
  });
  const mod: { exports: { main?: unknown } } = { exports: {} };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper(mod.exports, createRequire(file), mod, file, dirname(file));
  const main = mod.exports.main;
  if (typeof main !== 'function') return undefined;
  return {
    main: main as CliMain,
    script,
    cacheAccepted: cachedData !== undefined && script.cachedDataRejected !== true,
  };
}

/** The CLI's `main`: the bundle's when it may be used, else the modules'. */
export async function cliMain(): Promise<CliMain> {
  return loadBundle()?.main ?? (await import('./main.js')).main;
}
