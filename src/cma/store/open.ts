/**
 * Opens the CMA store: SQLite in the data directory, or PostgreSQL. The drivers (better-sqlite3,
 * a native module, and pg) are imported here, when a store of their kind is opened, so that
 * importing the CMA layer (or spdmkit) loads neither.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { SpdmError } from '../../wire/errors.js';
import { isPostgresTarget } from '../../log/store/open.js';
import type { CmaStore } from './store.js';

/** The SQLite file of the CMA state inside the data directory. */
export const CMA_STORE_FILE = 'cma.sqlite';

/** Imports a backend module; a missing driver becomes an error that names the package to install. */
async function importBackend<T>(load: () => Promise<T>, driver: 'better-sqlite3' | 'pg'): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`'${driver}'`))
      throw new SpdmError('STORAGE_ERROR', `the CMA store needs the ${driver} package: npm install ${driver}`, {
        backend: driver === 'pg' ? 'postgres' : 'sqlite',
        missingPackage: driver,
      });
    throw e;
  }
}

/**
 * The store for a CMA service: PostgreSQL when `target` is a postgres:// URL, otherwise the
 * SQLite file `cma.sqlite` in `dataDir`. The directory is created when missing either way (the
 * signature log lives there by default).
 */
export async function openCmaStore(
  dataDir: string,
  target?: string,
  /** SQLite: commit in a durable-write thread (store/threaded.ts) rather than on this one. */
  options: { readonly writeThread?: boolean } = {},
): Promise<CmaStore> {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw new SpdmError('STORAGE_ERROR', `cannot create the data directory ${dataDir}: ${String(e)}`, {
      backend: 'sqlite',
    });
  }
  if (target !== undefined && isPostgresTarget(target)) {
    const { PostgresCmaStore } = await importBackend(() => import('./postgres.js'), 'pg');
    return PostgresCmaStore.connect(target);
  }
  if (options.writeThread) {
    const { ThreadedSqliteCmaStore } = await importBackend(() => import('./threaded.js'), 'better-sqlite3');
    return ThreadedSqliteCmaStore.open(join(dataDir, CMA_STORE_FILE));
  }
  const { SqliteCmaStore } = await importBackend(() => import('./sqlite.js'), 'better-sqlite3');
  return new SqliteCmaStore(join(dataDir, CMA_STORE_FILE));
}
