/**
 * SQLite backend (better-sqlite3): one file, WAL journal, synchronous=FULL so a commit is on disk
 * when append returns. Writers in several processes serialise on BEGIN IMMEDIATE (the database
 * write lock) and wait for it up to `busyTimeoutMs`.
 */
import Database from 'better-sqlite3';
import { SpdmError } from '../../wire/errors.js';
import { LIMITS } from '../../wire/limits.js';
import type { ChainRecord } from '../entry.js';
import type { SignedTreeHead } from '../sth.js';
import { storageError, type WriteOutcome } from './errors.js';
import { checkImmutable, FileStamp, immutableUri, type ImmutableCheck } from './sqlite-readonly.js';
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

type Db = Database.Database;

function bind(v: ColumnValue): number | string | Buffer | null {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function norm(v: unknown): ColumnValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string') return v;
  // The log's columns are integers, text and bytes: anything else is not a log written by us.
  throw new SpdmError('LOG_CORRUPT', `a log column holds a value of type ${typeof v}`);
}

/** Rows as better-sqlite3 returns them: numbers, strings, null, and Buffers (which are Uint8Arrays). */
function normRow(r: Record<string, unknown>): RawEntryRow {
  for (const k in r) {
    const v = r[k];
    if (typeof v === 'bigint') r[k] = Number(v);
  }
  return r as RawEntryRow;
}

/**
 * An empty object made by `new`, which V8 gives room for many in-object properties: rows built
 * from it by assigning the columns in table order all share one shape (an object literal turned
 * into a dictionary past a dozen properties, and every column read of it was a hash lookup).
 */
const RowObject = function RowObject() {
  // Nothing: filled column by column by rowsFromArrays.
} as unknown as new () => Record<string, ColumnValue>;
RowObject.prototype = Object.prototype;

/**
 * Rows read as arrays (better-sqlite3 `.raw()`), turned into named rows here: the driver building
 * an object per row, property by property through its native API, cost about a third of reading
 * a page of entries on top of the column bytes themselves.
 */
function rowsFromArrays(columns: readonly string[], arrays: readonly unknown[][]): RawEntryRow[] {
  const out: RawEntryRow[] = new Array<RawEntryRow>(arrays.length);
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i] as unknown[];
    const r = new RowObject();
    for (let c = 0; c < columns.length; c++) {
      const v = a[c];
      r[columns[c] as string] = (typeof v === 'bigint' ? Number(v) : v) as ColumnValue;
    }
    out[i] = r;
  }
  return out;
}

export interface SqliteStoreOptions {
  readonly busyTimeoutMs?: number;
  /** Open an existing file without writing to it (no WAL switch, no new file but SQLite's -shm). */
  readonly readOnly?: boolean;
}

let driverLoaded = false;

/**
 * better-sqlite3 turns SQLite URI filenames on when its native addon loads (at the first
 * `new Database` in the process) if SQLITE_USE_URI=1 is in the environment, and never otherwise;
 * an immutable read needs them. So the variable is set around that first open (unless the user set
 * it) and removed again. From then on a filename that begins with "file:" is a URI for every
 * better-sqlite3 connection in the process; the store never passes a path that way (plainName).
 */
function openDatabase(name: string, options: Database.Options): Db {
  const setUri = !driverLoaded && process.env['SQLITE_USE_URI'] === undefined;
  if (setUri) process.env['SQLITE_USE_URI'] = '1';
  try {
    return new Database(name, options);
  } finally {
    driverLoaded = true;
    if (setUri) delete process.env['SQLITE_USE_URI'];
  }
}

/** A path SQLite reads as a path whether URI filenames are on or not. */
function plainName(path: string): string {
  return path.startsWith('file:') ? `./${path}` : path;
}

/** Whether this process's SQLite takes URI filenames (off if better-sqlite3 was loaded before us). */
function uriFilenames(): boolean {
  try {
    // Read-only: with URIs off this names a file in the working directory, which is not created.
    openDatabase('file:spdmkit-uri-probe?mode=memory', { readonly: true }).close();
    return true;
  } catch {
    return false;
  }
}

/** What a read-only open of a WAL file reports when its -shm (or -wal) cannot be opened or created. */
const WAL_INDEX_CODES = new Set([
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY_DIRECTORY',
  'SQLITE_READONLY_CANTINIT',
  'SQLITE_READONLY_CANTLOCK',
]);

/** The first read is where a WAL database opens its -shm: fail here rather than on the first query. */
function probe(db: Db): void {
  db.prepare('SELECT count(*) FROM sqlite_master').get();
}

export class SqliteStore implements LogStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Db;
  private readonly mutex = new Mutex();
  private insertStmt: Database.Statement | undefined;
  /** Verification and export read page after page with it. */
  private readRowsStmt: { stmt: Database.Statement; columns: string[] } | undefined;
  /** Set when the file is read as immutable (sqlite-readonly.ts): every read checks it is unchanged. */
  private readonly immutable: FileStamp | undefined;

  constructor(
    readonly description: string,
    options: SqliteStoreOptions = {},
  ) {
    const timeout = options.busyTimeoutMs ?? LIMITS.logBusyTimeoutMs;
    if (options.readOnly) {
      const opened = this.openReadOnly(timeout);
      this.db = opened.db;
      this.immutable = opened.immutable;
      return;
    }
    try {
      this.db = openDatabase(plainName(description), { timeout });
    } catch (e) {
      throw storageError(e, { backend: 'sqlite', description, action: 'open' });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
    } catch (e) {
      // Switching a new file to WAL writes to it: a full disk fails here already.
      this.db.close();
      throw storageError(e, { backend: 'sqlite', description, action: 'open' });
    }
  }

  /**
   * Reads the WAL log as SQLite does for every reader (following a writer through its -shm), and
   * only where that cannot work because the -shm cannot be created, as an immutable file when
   * checkImmutable says that is safe.
   */
  private openReadOnly(timeout: number): { db: Db; immutable?: FileStamp } {
    const description = this.description;
    let db: Db | undefined;
    try {
      db = openDatabase(plainName(description), { timeout, readonly: true, fileMustExist: true });
      probe(db);
      return { db };
    } catch (e) {
      db?.close();
      const code = (e as { code?: unknown } | null)?.code;
      const check: ImmutableCheck =
        typeof code === 'string' && WAL_INDEX_CODES.has(code) ? checkImmutable(description) : { kind: 'unrelated' };
      if (check.kind !== 'allowed')
        throw storageError(e, {
          backend: 'sqlite',
          description,
          action: 'open',
          ...(check.kind === 'refused' || check.hint ? { hint: check.hint } : {}),
        });
    }
    let immutable: FileStamp;
    try {
      immutable = new FileStamp(description);
      db = openDatabase(immutableUri(description), { timeout, readonly: true, fileMustExist: true });
      probe(db);
    } catch (e) {
      db?.close();
      throw storageError(e, {
        backend: 'sqlite',
        description,
        action: 'open',
        ...(uriFilenames()
          ? { hint: 'reading it as an immutable file (its directory is not writable) failed too' }
          : {
              hint: 'it could be read as an immutable file (its directory is not writable), but SQLite URI filenames are off in this process (better-sqlite3 was loaded before spdmkit, or SQLITE_USE_URI is set but not 1): set SQLITE_USE_URI=1',
            }),
      });
    }
    return { db, immutable };
  }

  private fail(e: unknown, action: string, outcome?: WriteOutcome): SpdmError {
    return storageError(e, {
      backend: 'sqlite',
      description: this.description,
      action,
      ...(outcome ? { outcome } : {}),
    });
  }

  /** Ends a failed transaction; a failing ROLLBACK must not hide the error that caused it. */
  private rollback(): void {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // SQLite has rolled back on its own (SQLITE_FULL, I/O errors) or will when the file is closed.
    }
  }

  private entryInsert(): Database.Statement {
    return this.db.prepare(
      `INSERT INTO entries (${ENTRY_COLUMNS.join(', ')}) VALUES (${ENTRY_COLUMNS.map(() => '?').join(', ')})`,
    );
  }

  private tx(): WriteTx {
    const db = this.db;
    return {
      createSchema: async () => {
        for (const sql of [...otherTablesSql('sqlite'), entriesTableSql('sqlite')]) db.exec(sql);
      },
      readMeta: async () => this.metaSync(),
      putMeta: async (key, value) => {
        db.prepare(
          'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
        ).run(key, value);
      },
      state: async () => this.stateSync(),
      setState: async (s: StoreState) => {
        db.prepare(
          'INSERT INTO log_state (id, size, frontier) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET size = excluded.size, frontier = excluded.frontier',
        ).run(s.size, bind(s.frontier));
      },
      latestSth: async () => this.latestSthSync(),
      insertSth: async (sth: SignedTreeHead) => {
        db.prepare('INSERT INTO sth (tree_size, timestamp, root_hash, signature) VALUES (?, ?, ?, ?)').run(
          sth.treeSize,
          sth.timestamp,
          bind(sth.rootHash),
          bind(sth.signature),
        );
      },
      insertChains: async (chains: readonly ChainRecord[]) => {
        const st = db.prepare('INSERT INTO chains (digest, chain) VALUES (?, ?) ON CONFLICT(digest) DO NOTHING');
        for (const c of chains) st.run(bind(c.digest), bind(c.chain));
      },
      insertEntries: async (rows: readonly StoredEntryRow[]) => {
        const insert = (this.insertStmt ??= this.entryInsert());
        for (const r of rows) insert.run(...entryColumnValues(r).map(bind));
      },
      leafHashes: async (from: number, to: number) =>
        (
          db.prepare('SELECT leaf_hash FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq').all(from, to) as {
            leaf_hash: Buffer;
          }[]
        ).map((r) => norm(r.leaf_hash) as Uint8Array),
      hasChain: async (digest: Uint8Array) =>
        db.prepare('SELECT 1 FROM chains WHERE digest = ?').get(bind(digest)) !== undefined,
      readChain: async (digest: Uint8Array) => {
        const r = db.prepare('SELECT chain FROM chains WHERE digest = ?').get(bind(digest)) as
          { chain: unknown } | undefined;
        const c = r ? norm(r.chain) : null;
        return c instanceof Uint8Array ? c : undefined;
      },
    };
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>, _options: WriteOptions = {}): Promise<T> {
    return this.mutex.run(async () => {
      // better-sqlite3 waits for the lock (busy timeout) inside BEGIN IMMEDIATE.
      try {
        this.db.exec('BEGIN IMMEDIATE');
      } catch (e) {
        throw this.fail(e, 'write', 'rolled-back');
      }
      let r: T;
      try {
        r = await fn(this.tx());
      } catch (e) {
        this.rollback();
        throw this.fail(e, 'write', 'rolled-back');
      }
      try {
        this.db.exec('COMMIT');
      } catch (e) {
        // No room for the WAL frames means no commit record; a failed sync of a written commit
        // record may still be recovered from the WAL when the file is next opened.
        const code = (e as { code?: unknown }).code;
        const outcome: WriteOutcome = code === 'SQLITE_FULL' || code === 'SQLITE_BUSY' ? 'rolled-back' : 'unknown';
        this.rollback();
        throw this.fail(e, 'commit', outcome);
      }
      return r;
    });
  }

  private metaSync(): Map<string, string> {
    if (!this.tableExists('meta')) return new Map();
    const rows = this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  private tableExists(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  private stateSync(): StoreState | undefined {
    const r = this.db.prepare('SELECT size, frontier FROM log_state WHERE id = 1').get() as
      { size: number; frontier: Buffer } | undefined;
    if (!r) return undefined;
    const frontier = norm(r.frontier);
    if (typeof r.size !== 'number' || !(frontier instanceof Uint8Array)) return undefined;
    return { size: r.size, frontier };
  }

  private latestSthSync(): SignedTreeHead | undefined {
    const r = this.db
      .prepare('SELECT tree_size, timestamp, root_hash, signature FROM sth ORDER BY tree_size DESC LIMIT 1')
      .get() as Record<string, unknown> | undefined;
    if (!r) return undefined;
    return sthFromColumns({
      treeSize: norm(r['tree_size']),
      timestamp: norm(r['timestamp']),
      rootHash: norm(r['root_hash']),
      signature: norm(r['signature']),
    });
  }

  private read<T>(fn: () => T): Promise<T> {
    return this.mutex.run(async () => {
      let r: T;
      try {
        r = fn();
      } catch (e) {
        throw this.fail(e, 'read');
      }
      const changed = this.immutable?.changed();
      if (changed)
        throw new SpdmError(
          'STORAGE_ERROR',
          `${this.description}: read failed, the log was read without locks as an immutable file and ${changed}, so what was read may be torn; verify it again`,
          { backend: 'sqlite', action: 'read', immutable: true },
        );
      return r;
    });
  }

  readMeta(): Promise<Map<string, string>> {
    return this.read(() => this.metaSync());
  }

  hasSchema(): Promise<boolean> {
    return this.read(() => ['meta', 'chains', 'entries', 'sth', 'log_state'].every((t) => this.tableExists(t)));
  }

  readState(): Promise<StoreState | undefined> {
    return this.read(() => this.stateSync());
  }

  countEntries(): Promise<number> {
    return this.read(() => (this.db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n);
  }

  readRows(fromSeq: number, limit: number): Promise<RawEntryRow[]> {
    return this.read(() => {
      if (!this.readRowsStmt) {
        const stmt = this.db.prepare('SELECT * FROM entries WHERE seq >= ? ORDER BY seq LIMIT ?').raw(true);
        this.readRowsStmt = { stmt, columns: stmt.columns().map((c) => c.name) };
      }
      const { stmt, columns } = this.readRowsStmt;
      return rowsFromArrays(columns, stmt.all(fromSeq, limit) as unknown[][]);
    });
  }

  readRow(seq: number): Promise<RawEntryRow | undefined> {
    return this.read(() => {
      const r = this.db.prepare('SELECT * FROM entries WHERE seq = ?').get(seq) as Record<string, unknown> | undefined;
      return r ? normRow(r) : undefined;
    });
  }

  readLeafHashes(n: number): Promise<{ seq: number; leafHash: ColumnValue }[]> {
    return this.read(() =>
      (
        this.db.prepare('SELECT seq, leaf_hash FROM entries WHERE seq < ? ORDER BY seq').all(n) as {
          seq: number;
          leaf_hash: unknown;
        }[]
      ).map((r) => ({ seq: r.seq, leafHash: norm(r.leaf_hash) })),
    );
  }

  readChain(digest: Uint8Array): Promise<Uint8Array | undefined> {
    return this.read(() => {
      const r = this.db.prepare('SELECT chain FROM chains WHERE digest = ?').get(bind(digest)) as
        { chain: unknown } | undefined;
      const c = r ? norm(r.chain) : null;
      return c instanceof Uint8Array ? c : undefined;
    });
  }

  readChainRows(afterDigest: Uint8Array | undefined, limit: number): Promise<RawChainRow[]> {
    return this.read(() => {
      const rows = (
        afterDigest
          ? this.db
              .prepare('SELECT digest, chain FROM chains WHERE digest > ? ORDER BY digest LIMIT ?')
              .all(bind(afterDigest), limit)
          : this.db.prepare('SELECT digest, chain FROM chains ORDER BY digest LIMIT ?').all(limit)
      ) as { digest: unknown; chain: unknown }[];
      return rows.map((r) => ({ digest: norm(r.digest), chain: norm(r.chain) }));
    });
  }

  readSths(): Promise<
    { treeSize: ColumnValue; timestamp: ColumnValue; rootHash: ColumnValue; signature: ColumnValue }[]
  > {
    return this.read(() =>
      (
        this.db
          .prepare('SELECT tree_size, timestamp, root_hash, signature FROM sth ORDER BY tree_size')
          .all() as Record<string, unknown>[]
      ).map((r) => ({
        treeSize: norm(r['tree_size']),
        timestamp: norm(r['timestamp']),
        rootHash: norm(r['root_hash']),
        signature: norm(r['signature']),
      })),
    );
  }

  latestSth(): Promise<SignedTreeHead | undefined> {
    return this.read(() => this.latestSthSync());
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      if (this.db.open) this.db.close();
    });
  }
}
