/**
 * Opens the CMA store in a data directory. better-sqlite3 is a native module: it is imported
 * here, when a store is opened, so that importing the CMA layer (or spdmkit) loads nothing native.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { SpdmError } from '../../wire/errors.js';
import type { CmaStore } from './store.js';

/** The SQLite file of the CMA state inside the data directory. */
export const CMA_STORE_FILE = 'cma.sqlite';

export async function openCmaStore(dataDir: string): Promise<CmaStore> {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw new SpdmError('STORAGE_ERROR', `cannot create the data directory ${dataDir}: ${String(e)}`, {
      backend: 'sqlite',
    });
  }
  let mod: typeof import('./sqlite.js');
  try {
    mod = await import('./sqlite.js');
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes("'better-sqlite3'"))
      throw new SpdmError(
        'STORAGE_ERROR',
        'the CMA store needs the better-sqlite3 package: npm install better-sqlite3',
        {
          backend: 'sqlite',
          missingPackage: 'better-sqlite3',
        },
      );
    throw e;
  }
  return new mod.SqliteCmaStore(join(dataDir, CMA_STORE_FILE));
}
