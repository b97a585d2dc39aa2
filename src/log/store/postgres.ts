/**
 * PostgreSQL backend (pg): a fleet of hosts appending to one log. Same tables and columns as the
 * SQLite file (BIGINT for INTEGER, BYTEA for BLOB). Every write transaction first takes a
 * transaction-scoped advisory lock, so sequence allocation, tree state and tree head are updated
 * by one writer at a time across all connections; a serialization failure or deadlock is retried.
 * One log per database.
 *
 * A lost connection (server restart, failover, pg_terminate_backend, a dead link noticed by the
 * query deadline) fails what was in flight with a typed STORAGE_ERROR naming its outcome
 * (store-error.ts); the next operation connects again.
 */
import pg from 'pg';
import { SpdmError } from '../../wire/errors.js';
import { LIMITS } from '../../wire/limits.js';
import type { ChainRecord } from '../entry.js';
import type { SignedTreeHead } from '../sth.js';
import { isConnectionLost, storageError, type WriteOutcome } from './errors.js';
import {
  ENTRY_COLUMNS,
  Mutex,
  entriesTableSql,
  entryColumnValues,
  otherTablesSql,
  sthFromColumns,
  type ColumnValue,
  type LogStore,
  type RawChainRow,
  type RawEntryRow,
  type StoreState,
  type StoredEntryRow,
  type WriteOptions,
  type WriteTx,
} from './store.js';

/** pg_advisory_xact_lock key of the log's write lock ('spdmlog' in ASCII). */
export const LOG_LOCK_KEY = '32497780580411239';

const INT8_OID = 20;

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : (pg.types.getTypeParser(oid, format ?? 'text') as (v: string) => unknown)) as typeof pg.types.getTypeParser,
};

function bind(v: ColumnValue): number | string | Buffer | null {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function norm(v: unknown): ColumnValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number(v);
  // The log's columns are integers, text and bytes: anything else is not a log written by us.
  throw new SpdmError('LOG_CORRUPT', `a log column holds a value of type ${typeof v}`);
}

function normRow(r: Record<string, unknown>): RawEntryRow {
  const out: Record<string, ColumnValue> = {};
  for (const [k, v] of Object.entries(r)) out[k] = norm(v);
  return out;
}

/** The URL without its password, for messages. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

const ROWS_PER_INSERT = 200;
const RETRYABLE = new Set(['40001', '40P01']);

export class PostgresStore implements LogStore {
  readonly backend = 'postgres' as const;
  readonly description: string;
  private readonly mutex = new Mutex();
  /** Set when the connection failed or ended under us: the next operation opens a new one. */
  private broken = false;
  private closed = false;

  private constructor(
    private client: pg.Client,
    private readonly url: string,
    private readonly queryTimeoutMs: number,
  ) {
    this.description = describePostgresUrl(url);
    this.watch(client);
  }

  /**
   * A connected client, or a typed STORAGE_ERROR within LIMITS.logConnectTimeoutMs. A query
   * unanswered for `queryTimeoutMs` fails, and the connection is then treated as lost: a server
   * or network that went silent cannot hold a writer for ever.
   */
  private static async open(url: string, queryTimeoutMs: number): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: url,
      types,
      connectionTimeoutMillis: LIMITS.logConnectTimeoutMs,
      query_timeout: queryTimeoutMs,
      keepAlive: true,
    });
    // A broken connection must not crash the process from an 'error' event; the next query fails instead.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => undefined);
      throw storageError(e, { backend: 'postgres', description: describePostgresUrl(url), action: 'connect' });
    }
    return client;
  }

  static async connect(url: string, options: { busyTimeoutMs?: number } = {}): Promise<PostgresStore> {
    const timeout = options.busyTimeoutMs ?? LIMITS.logBusyTimeoutMs;
    return new PostgresStore(await PostgresStore.open(url, timeout), url, timeout);
  }

  private watch(client: pg.Client): void {
    const lost = () => {
      if (client === this.client) this.broken = true;
    };
    client.on('error', lost);
    client.on('end', lost);
  }

  /**
   * The connection to use, reconnecting once when the last one was lost (server restart,
   * failover, pg_terminate_backend, a dropped socket): a long-running writer survives it, and
   * whatever was in flight when it went has already failed with its outcome.
   */
  private async connection(): Promise<pg.Client> {
    if (this.closed) throw new SpdmError('LOG_CLOSED', `${this.description}: the log is closed`);
    if (!this.broken) return this.client;
    const old = this.client;
    void old.end().catch(() => undefined);
    this.client = await PostgresStore.open(this.url, this.queryTimeoutMs);
    this.broken = false;
    this.watch(this.client);
    return this.client;
  }

  private fail(e: unknown, action: string, outcome?: WriteOutcome): SpdmError {
    const err = storageError(e, {
      backend: this.backend,
      description: this.description,
      action,
      ...(outcome ? { outcome } : {}),
    });
    if (isConnectionLost(err)) this.broken = true;
    return err;
  }

  private async q(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const r = await this.client.query(sql, params);
    return r.rows as Record<string, unknown>[];
  }

  private tx(): WriteTx {
    return {
      createSchema: async () => {
        for (const sql of [...otherTablesSql('postgres'), entriesTableSql('postgres')]) await this.q(sql);
      },
      readMeta: () => this.metaQuery(),
      putMeta: async (key, value) => {
        await this.q(
          'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          [key, value],
        );
      },
      state: () => this.stateQuery(),
      setState: async (s: StoreState) => {
        await this.q(
          'INSERT INTO log_state (id, size, frontier) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier',
          [s.size, bind(s.frontier)],
        );
      },
      latestSth: () => this.latestSthQuery(),
      insertSth: async (sth: SignedTreeHead) => {
        await this.q('INSERT INTO sth (tree_size, timestamp, root_hash, signature) VALUES ($1, $2, $3, $4)', [
          sth.treeSize,
          sth.timestamp,
          bind(sth.rootHash),
          bind(sth.signature),
        ]);
      },
      insertChains: async (chains: readonly ChainRecord[]) => {
        for (const c of chains)
          await this.q('INSERT INTO chains (digest, chain) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING', [
            bind(c.digest),
            bind(c.chain),
          ]);
      },
      insertEntries: async (rows: readonly StoredEntryRow[]) => {
        const width = ENTRY_COLUMNS.length;
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
          const chunk = rows.slice(i, i + ROWS_PER_INSERT);
          const params: unknown[] = [];
          const tuples = chunk.map((r, k) => {
            params.push(...entryColumnValues(r).map(bind));
            return `(${Array.from({ length: width }, (_, c) => `$${k * width + c + 1}`).join(', ')})`;
          });
          await this.q(`INSERT INTO entries (${ENTRY_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params);
        }
      },
      leafHashes: async (from: number, to: number) =>
        (await this.q('SELECT leaf_hash FROM entries WHERE seq >= $1 AND seq < $2 ORDER BY seq', [from, to])).map(
          (r) => norm(r['leaf_hash']) as Uint8Array,
        ),
      hasChain: async (digest: Uint8Array) =>
        (await this.q('SELECT 1 FROM chains WHERE digest = $1', [bind(digest)])).length > 0,
      readChain: async (digest: Uint8Array) => {
        const r = (await this.q('SELECT chain FROM chains WHERE digest = $1', [bind(digest)]))[0];
        const c = r ? norm(r['chain']) : null;
        return c instanceof Uint8Array ? c : undefined;
      },
    };
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.mutex.run(async () => {
      for (let attempt = 1; ; attempt++) {
        await this.connection();
        try {
          await this.q('BEGIN');
        } catch (e) {
          throw this.fail(e, 'write', 'rolled-back');
        }
        let r: T;
        try {
          await this.q('SELECT pg_advisory_xact_lock($1)', [LOG_LOCK_KEY]);
          r = await fn(this.tx());
        } catch (e) {
          // On a lost connection there is nothing to roll back, and a silent one would make us wait again.
          if (!isConnectionLost(e)) await this.q('ROLLBACK').catch(() => undefined);
          const code = (e as { code?: string }).code;
          if (options.retry && code !== undefined && RETRYABLE.has(code) && attempt < 8) {
            await new Promise((res) => setTimeout(res, 5 * attempt + Math.random() * 20));
            continue;
          }
          // The server aborts an open transaction whose connection goes: nothing was committed.
          throw this.fail(e, 'write', 'rolled-back');
        }
        try {
          await this.q('COMMIT');
          return r;
        } catch (e) {
          // An answer from the server (e.g. a serialization failure at commit) means it rolled
          // back; no answer means the commit may have happened.
          const code = (e as { code?: string }).code;
          const err = this.fail(e, 'commit', isConnectionLost(e) ? 'unknown' : 'rolled-back');
          if (!isConnectionLost(e)) await this.q('ROLLBACK').catch(() => undefined);
          if (options.retry && code !== undefined && RETRYABLE.has(code) && attempt < 8) continue;
          throw err;
        }
      }
    });
  }

  private async metaQuery(): Promise<Map<string, string>> {
    const exists = await this.q("SELECT to_regclass('meta') IS NOT NULL AS t");
    if (!exists[0]?.['t']) return new Map();
    const rows = await this.q('SELECT key, value FROM meta');
    return new Map(rows.map((r) => [String(r['key']), String(r['value'])]));
  }

  private async stateQuery(): Promise<StoreState | undefined> {
    const r = (await this.q('SELECT size, frontier FROM log_state WHERE id = 1'))[0];
    if (!r) return undefined;
    const size = norm(r['size']);
    const frontier = norm(r['frontier']);
    if (typeof size !== 'number' || !(frontier instanceof Uint8Array)) return undefined;
    return { size, frontier };
  }

  private async latestSthQuery(): Promise<SignedTreeHead | undefined> {
    const r = (
      await this.q('SELECT tree_size, timestamp, root_hash, signature FROM sth ORDER BY tree_size DESC LIMIT 1')
    )[0];
    if (!r) return undefined;
    return sthFromColumns({
      treeSize: norm(r['tree_size']),
      timestamp: norm(r['timestamp']),
      rootHash: norm(r['root_hash']),
      signature: norm(r['signature']),
    });
  }

  private read<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      await this.connection();
      try {
        return await fn();
      } catch (e) {
        throw this.fail(e, 'read');
      }
    });
  }

  readMeta(): Promise<Map<string, string>> {
    return this.read(() => this.metaQuery());
  }

  hasSchema(): Promise<boolean> {
    return this.read(async () => {
      const r = await this.q(
        "SELECT to_regclass('meta') IS NOT NULL AND to_regclass('chains') IS NOT NULL AND to_regclass('entries') IS NOT NULL AND to_regclass('sth') IS NOT NULL AND to_regclass('log_state') IS NOT NULL AS t",
      );
      return r[0]?.['t'] === true;
    });
  }

  readState(): Promise<StoreState | undefined> {
    return this.read(() => this.stateQuery());
  }

  countEntries(): Promise<number> {
    return this.read(async () => Number((await this.q('SELECT count(*)::bigint AS n FROM entries'))[0]?.['n'] ?? 0));
  }

  readRows(fromSeq: number, limit: number): Promise<RawEntryRow[]> {
    return this.read(async () =>
      (await this.q('SELECT * FROM entries WHERE seq >= $1 ORDER BY seq LIMIT $2', [fromSeq, limit])).map(normRow),
    );
  }

  readRow(seq: number): Promise<RawEntryRow | undefined> {
    return this.read(async () => {
      const r = (await this.q('SELECT * FROM entries WHERE seq = $1', [seq]))[0];
      return r ? normRow(r) : undefined;
    });
  }

  readLeafHashes(n: number): Promise<{ seq: number; leafHash: ColumnValue }[]> {
    return this.read(async () =>
      (await this.q('SELECT seq, leaf_hash FROM entries WHERE seq < $1 ORDER BY seq', [n])).map((r) => ({
        seq: Number(r['seq']),
        leafHash: norm(r['leaf_hash']),
      })),
    );
  }

  readChain(digest: Uint8Array): Promise<Uint8Array | undefined> {
    return this.read(async () => {
      const r = (await this.q('SELECT chain FROM chains WHERE digest = $1', [bind(digest)]))[0];
      const c = r ? norm(r['chain']) : null;
      return c instanceof Uint8Array ? c : undefined;
    });
  }

  readChainRows(afterDigest: Uint8Array | undefined, limit: number): Promise<RawChainRow[]> {
    return this.read(async () => {
      const rows = afterDigest
        ? await this.q('SELECT digest, chain FROM chains WHERE digest > $1 ORDER BY digest LIMIT $2', [
            bind(afterDigest),
            limit,
          ])
        : await this.q('SELECT digest, chain FROM chains ORDER BY digest LIMIT $1', [limit]);
      return rows.map((r) => ({ digest: norm(r['digest']), chain: norm(r['chain']) }));
    });
  }

  readSths(): Promise<
    { treeSize: ColumnValue; timestamp: ColumnValue; rootHash: ColumnValue; signature: ColumnValue }[]
  > {
    return this.read(async () =>
      (await this.q('SELECT tree_size, timestamp, root_hash, signature FROM sth ORDER BY tree_size')).map((r) => ({
        treeSize: norm(r['tree_size']),
        timestamp: norm(r['timestamp']),
        rootHash: norm(r['root_hash']),
        signature: norm(r['signature']),
      })),
    );
  }

  latestSth(): Promise<SignedTreeHead | undefined> {
    return this.read(() => this.latestSthQuery());
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      this.closed = true;
      await this.client.end().catch(() => undefined);
    });
  }
}
