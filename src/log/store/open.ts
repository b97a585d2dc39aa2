/**
 * Opens the store behind a log target: a SQLite file path or a postgres:// URL. The driver
 * (better-sqlite3, a native module, or pg) is imported here, when a store of its kind is opened,
 * so that importing spdmkit or its log layer loads neither.
 */
import { SpdmError } from '../../wire/errors.js';
import type { LogStore } from './store.js';

export function isPostgresTarget(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** Imports a backend module; a missing driver becomes an error that names the package to install. */
async function importBackend<T>(
  load: () => Promise<T>,
  driver: 'better-sqlite3' | 'pg',
  backend: 'sqlite' | 'postgres',
): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((e as Error).message).includes(`'${driver}'`)
    ) {
      throw new SpdmError(
        'STORAGE_ERROR',
        `a ${backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'} signature log needs the ${driver} package: npm install ${driver}`,
        { backend, cause: code, missingPackage: driver },
        { cause: e },
      );
    }
    throw e;
  }
}

export interface OpenStoreOptions {
  readonly busyTimeoutMs?: number;
  /** SQLite: open the file read-only (never written, not even switched to WAL). */
  readonly readOnly?: boolean;
}

export async function openStoreForTarget(target: string, options: OpenStoreOptions = {}): Promise<LogStore> {
  const timeout = options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {};
  if (isPostgresTarget(target)) {
    const { PostgresStore } = await importBackend(() => import('./postgres.js'), 'pg', 'postgres');
    return PostgresStore.connect(target, timeout);
  }
  const { SqliteStore } = await importBackend(() => import('./sqlite.js'), 'better-sqlite3', 'sqlite');
  return new SqliteStore(target, { ...timeout, ...(options.readOnly ? { readOnly: true } : {}) });
}
