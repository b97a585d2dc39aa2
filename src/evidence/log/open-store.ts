/** Opens the store behind a log target: a SQLite file path or a postgres:// URL. */
import { SqliteStore } from './store-sqlite.js';
import type { LogStore } from './store.js';

export function isPostgresTarget(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

export async function openStoreForTarget(target: string, options: { busyTimeoutMs?: number } = {}): Promise<LogStore> {
  if (isPostgresTarget(target)) {
    const { PostgresStore } = await import('./store-postgres.js');
    return PostgresStore.connect(target, options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {});
  }
  return new SqliteStore(target, options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {});
}
