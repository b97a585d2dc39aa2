/**
 * Where a signature log lives. SQLite and PostgreSQL hold the same tables and columns:
 *
 *   meta       (key, value)                          format, log public key, log id, creation time
 *   chains     (digest, chain)                       each SPDM certificate chain once, keyed by SHA-256
 *   entries    (seq, <one column per leaf field>, leaf_hash, field_digests)
 *   sth        (tree_size, timestamp, root_hash, signature)   one signed tree head per append
 *   log_state  (id = 1, size, frontier)              the writer's O(log n) summary of the tree
 *
 * Every write runs in `write()`, which holds the log's write lock for the whole transaction
 * (BEGIN IMMEDIATE on SQLite, pg_advisory_xact_lock on PostgreSQL): sequence numbers come from
 * log_state read under that lock, so concurrent writers in any number of processes or hosts get
 * consecutive, unique positions, and the entries, the new tree head and the new state commit
 * together or not at all.
 */
import {
  decodeBlocks,
  encodeBlocks,
  FIELDS,
  freezePci,
  type ChainRecord,
  type FieldSpec,
  type LogEntry,
} from '../entry.js';
import type { SignedTreeHead } from '../sth.js';
import { PCI_IDENTITY_MEMBERS } from '../../evidence/evidence.js';

export const LOG_FORMAT = 'spdmkit-signature-log/1';

/** A column value as a store returns it: integers as numbers, BLOB/BYTEA as Uint8Array. */
export type ColumnValue = number | string | Uint8Array | null;
export type RawEntryRow = Readonly<Record<string, ColumnValue>>;

/** Entry columns in table order: one per leaf field, then the two derived columns. */
export const ENTRY_COLUMNS: readonly string[] = [...FIELDS.map((f) => f.column), 'leaf_hash', 'field_digests'];

export interface StoredEntryRow {
  readonly entry: LogEntry;
  readonly leafHash: Uint8Array;
  readonly fieldDigests: Uint8Array;
}

export interface StoreState {
  readonly size: number;
  readonly frontier: Uint8Array;
}

export interface RawChainRow {
  readonly digest: ColumnValue;
  readonly chain: ColumnValue;
}

/** Operations available inside a write transaction (the write lock is held). */
export interface WriteTx {
  createSchema(): Promise<void>;
  readMeta(): Promise<Map<string, string>>;
  putMeta(key: string, value: string): Promise<void>;
  state(): Promise<StoreState | undefined>;
  setState(s: StoreState): Promise<void>;
  latestSth(): Promise<SignedTreeHead | undefined>;
  insertSth(sth: SignedTreeHead): Promise<void>;
  /** Inserts chains not yet present (a digest already stored is left alone). */
  insertChains(chains: readonly ChainRecord[]): Promise<void>;
  insertEntries(rows: readonly StoredEntryRow[]): Promise<void>;
  /** Stored leaf hashes of positions [from, to), for import into a log that already holds a prefix. */
  leafHashes(from: number, to: number): Promise<Uint8Array[]>;
  hasChain(digest: Uint8Array): Promise<boolean>;
  /** Inside the transaction: the store's own readChain waits for the write lock this holds. */
  readChain(digest: Uint8Array): Promise<Uint8Array | undefined>;
}

export interface WriteOptions {
  /** Re-run `fn` on a serialization failure or deadlock (only for idempotent work). */
  readonly retry?: boolean;
}

export interface LogStore {
  readonly backend: 'sqlite' | 'postgres';
  /** File path or URL without password, for messages. */
  readonly description: string;
  write<T>(fn: (tx: WriteTx) => Promise<T>, options?: WriteOptions): Promise<T>;
  readMeta(): Promise<Map<string, string>>;
  hasSchema(): Promise<boolean>;
  readState(): Promise<StoreState | undefined>;
  countEntries(): Promise<number>;
  /** Rows with seq >= fromSeq in seq order, at most `limit`. Values as stored; nothing is checked. */
  readRows(fromSeq: number, limit: number): Promise<RawEntryRow[]>;
  readRow(seq: number): Promise<RawEntryRow | undefined>;
  /** leaf_hash of seq 0..n-1 in order; fewer than n when rows are missing. */
  readLeafHashes(n: number): Promise<{ seq: number; leafHash: ColumnValue }[]>;
  readChain(digest: Uint8Array): Promise<Uint8Array | undefined>;
  /** Chain rows after `afterDigest` (byte order), at most `limit`. */
  readChainRows(afterDigest: Uint8Array | undefined, limit: number): Promise<RawChainRow[]>;
  readSths(): Promise<
    { treeSize: ColumnValue; timestamp: ColumnValue; rootHash: ColumnValue; signature: ColumnValue }[]
  >;
  latestSth(): Promise<SignedTreeHead | undefined>;
  close(): Promise<void>;
}

// ---- entry <-> row ----

function canonicalPci(p: NonNullable<LogEntry['pci']>): string {
  // Same key order every time; the leaf encodes the object, this is only its storage form.
  const o: Record<string, unknown> = {};
  for (const k of PCI_IDENTITY_MEMBERS) {
    if (p[k] !== undefined) o[k] = p[k];
  }
  return JSON.stringify(o);
}

/** Column values for an entry, in ENTRY_COLUMNS order, as plain JS values (Uint8Array for bytes). */
export function entryColumnValues(r: StoredEntryRow): ColumnValue[] {
  const out: ColumnValue[] = [];
  for (const f of FIELDS) {
    const v = r.entry[f.name];
    if (v === undefined) {
      out.push(null);
      continue;
    }
    switch (f.type) {
      case 'pci':
        out.push(canonicalPci(v as NonNullable<LogEntry['pci']>));
        break;
      case 'blocks':
        out.push(encodeBlocks(v as readonly Uint8Array[]));
        break;
      case 'bool':
        out.push(v ? 1 : 0);
        break;
      default:
        out.push(v as number | string | Uint8Array);
    }
  }
  out.push(r.leafHash, r.fieldDigests);
  return out;
}

export interface ColumnProblem {
  readonly column: string;
  readonly message: string;
}

function convert(f: FieldSpec, v: ColumnValue): unknown {
  if (v === null) {
    if (f.optional) return undefined;
    throw new Error('NULL in a required column');
  }
  switch (f.type) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'u64': {
      const max =
        f.type === 'u8' ? 0xff : f.type === 'u16' ? 0xffff : f.type === 'u32' ? 0xffffffff : Number.MAX_SAFE_INTEGER;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
        throw new Error(`${String(v)} is not a ${f.type}`);
      return v;
    }
    case 'bool':
      if (v !== 0 && v !== 1) throw new Error(`${String(v)} is not 0 or 1`);
      return v === 1;
    case 'utf8':
      if (typeof v !== 'string') throw new Error('not text');
      return v;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw new Error('not bytes');
      return v;
    case 'blocks':
      if (!(v instanceof Uint8Array)) throw new Error('not bytes');
      // Views into the row's own column bytes (each row read is a fresh copy from the driver).
      return decodeBlocks(v, f.column, false);
    case 'pci':
      if (typeof v !== 'string') throw new Error('not text');
      return storedPci(v);
  }
}

/** Distinct PCI texts remembered, and the longest remembered (a PCI identity is ~200 characters). */
const MAX_PCI_TEXTS = 1024;
const MAX_PCI_TEXT = 1024;
const pciTexts = new Map<string, NonNullable<LogEntry['pci']>>();

/**
 * A stored PCI identity, parsed and checked once per distinct text: a log holds each device's
 * identity in every one of its rows. Frozen, so a parse handed to many rows cannot be changed
 * through one of them (and entry.ts can keep its encoding). A text that fails throws every time.
 */
function storedPci(v: string): NonNullable<LogEntry['pci']> {
  const hit = pciTexts.get(v);
  if (hit) return hit;
  const p = JSON.parse(v) as unknown;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error('not a JSON object');
  const pci = freezePci(p as NonNullable<LogEntry['pci']>);
  if (v.length <= MAX_PCI_TEXT) {
    if (pciTexts.size >= MAX_PCI_TEXTS) {
      const oldest = pciTexts.keys().next();
      if (!oldest.done) pciTexts.delete(oldest.value);
    }
    pciTexts.set(v, pci);
  }
  return pci;
}

/**
 * A plain object (prototype Object.prototype) made by `new`, which V8 gives room for many
 * properties inside the object. An entry built from `{}` by assigning its 20-odd fields by name
 * turns into a dictionary-mode object past a dozen, and every later read of its fields (leaf
 * rebuild, transcript checks, signature check) is then a hash lookup.
 */
const EntryObject = function EntryObject() {
  // Nothing: the object is filled field by field by rowToEntry.
} as unknown as new () => Record<string, unknown>;
EntryObject.prototype = Object.prototype;

/** A stored row back to an entry, or the columns that cannot be read (each named). */
export function rowToEntry(row: RawEntryRow): {
  entry?: LogEntry;
  leafHash?: Uint8Array;
  fieldDigests?: Uint8Array;
  problems: ColumnProblem[];
} {
  const problems: ColumnProblem[] = [];
  const out = new EntryObject();
  for (const f of FIELDS) {
    try {
      const v = convert(f, row[f.column] ?? null);
      if (v !== undefined) out[f.name] = v;
    } catch (e) {
      problems.push({ column: f.column, message: e instanceof Error ? e.message : String(e) });
    }
  }
  const lh = row['leaf_hash'];
  const fd = row['field_digests'];
  const leafHash = lh instanceof Uint8Array && lh.length === 32 ? lh : undefined;
  if (!leafHash) problems.push({ column: 'leaf_hash', message: 'not a 32-byte hash' });
  const fieldDigests = fd instanceof Uint8Array ? fd : undefined;
  if (!fieldDigests) problems.push({ column: 'field_digests', message: 'not bytes' });
  const entryOk = !problems.some((p) => p.column !== 'leaf_hash' && p.column !== 'field_digests');
  // Assigned, not spread from one-field objects: this runs once per row of a log verified.
  const result: { entry?: LogEntry; leafHash?: Uint8Array; fieldDigests?: Uint8Array; problems: ColumnProblem[] } = {
    problems,
  };
  if (entryOk) result.entry = out as unknown as LogEntry;
  if (leafHash) result.leafHash = leafHash;
  if (fieldDigests) result.fieldDigests = fieldDigests;
  return result;
}

/** SQL column type per backend. */
export function entriesTableSql(backend: 'sqlite' | 'postgres'): string {
  const int = backend === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const blob = backend === 'sqlite' ? 'BLOB' : 'BYTEA';
  const cols = FIELDS.map((f) => {
    const t = f.type === 'utf8' || f.type === 'pci' ? 'TEXT' : f.type === 'bytes' || f.type === 'blocks' ? blob : int;
    if (f.column === 'seq') return `seq ${int} PRIMARY KEY`;
    return `${f.column} ${t}${f.optional ? '' : ' NOT NULL'}`;
  });
  cols.push(`leaf_hash ${blob} NOT NULL`, `field_digests ${blob} NOT NULL`);
  return `CREATE TABLE IF NOT EXISTS entries (\n  ${cols.join(',\n  ')}\n)`;
}

export function otherTablesSql(backend: 'sqlite' | 'postgres'): string[] {
  const int = backend === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const blob = backend === 'sqlite' ? 'BLOB' : 'BYTEA';
  return [
    'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    `CREATE TABLE IF NOT EXISTS chains (digest ${blob} PRIMARY KEY, chain ${blob} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS sth (tree_size ${int} PRIMARY KEY, timestamp ${int} NOT NULL, root_hash ${blob} NOT NULL, signature ${blob} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS log_state (id ${int} PRIMARY KEY CHECK (id = 1), size ${int} NOT NULL, frontier ${blob} NOT NULL)`,
  ];
}

/** In-process serialisation of a store's connection (one transaction at a time on it). */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

export function sthFromColumns(r: {
  treeSize: ColumnValue;
  timestamp: ColumnValue;
  rootHash: ColumnValue;
  signature: ColumnValue;
}): SignedTreeHead | undefined {
  if (
    typeof r.treeSize !== 'number' ||
    typeof r.timestamp !== 'number' ||
    !(r.rootHash instanceof Uint8Array) ||
    !(r.signature instanceof Uint8Array)
  )
    return undefined;
  return { treeSize: r.treeSize, timestamp: r.timestamp, rootHash: r.rootHash, signature: r.signature };
}
