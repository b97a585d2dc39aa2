/**
 * The signature log: every signature a device gives us, appended with everything needed to verify
 * it again, in an append-only Merkle tree (RFC 9162) whose heads the log key signs.
 *
 *   const log = await openLog('spdmkit-log.sqlite');          // or 'postgres://host/db'
 *   await log.appendEvidence(evidence);                       // one entry per signature, one transaction
 *   const report = await log.verify();                        // offline, from stored bytes alone
 *
 * Keys (docs/log-format.md "The log key"): the Ed25519 private key is a PEM file, by default
 * `keyFile` when given, else `<file>.key` beside a SQLite log or for PostgreSQL
 * `<configDir>/spdmkit/log-<host>-<port>-<db>.key`; it is created with the log. (The CLI fills
 * keyFile from $SPDMKIT_LOG_KEY and configDir from $XDG_CONFIG_HOME: the library reads no
 * environment.) The public
 * key is in the log's meta table and in `<file>.pub`; verifiers should pin it (`publicKey`).
 */
import { LIMITS } from '../wire/limits.js';
import { readFileBounded } from '../wire/bounded-file.js';
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { equalBytes, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import type { Evidence } from '../evidence/evidence.js';
import { draftsFromEvidence, leafHashWithDigests, type ChainRecord, type EntryDraft, type LogEntry } from './entry.js';
import { signCheckpoint } from './checkpoint.js';
import { exportJsonl, importJsonl, type ImportOptions, type ImportResult } from './jsonl.js';
import {
  describePublicKey,
  loadOrCreatePrivateKey,
  loadPrivateKeyFile,
  publicKeyFromPem,
  publicKeyFromSpki,
  publicKeyPem,
  type LogPublicKey,
} from './log-key.js';
import { EMPTY_ROOT, Frontier, consistencyPath, inclusionPath, rootOf } from './merkle.js';
import { signTreeHead, type SignedTreeHead, type TreeHead } from './sth.js';
import { LOG_FORMAT, rowToEntry, type LogStore, type StoredEntryRow, type WriteTx } from './store/store.js';
import { isPostgresTarget, openStoreForTarget } from './store/open.js';
import { verifyLog, type VerifyOptions, type VerifyReport } from './verify.js';

/** Where `spdm log …` and appendEvidenceToLog look when no --db is given. */
import { DEFAULT_LOG_TARGET } from './defaults.js';
export { DEFAULT_LOG_TARGET };

export { isPostgresTarget };

/**
 * The private key file a log uses when none is given (see the module comment). `configDir` is
 * where a PostgreSQL log's key lives; without it, `~/.config`.
 */
export function defaultKeyFile(target: string, configDir?: string): string {
  if (!isPostgresTarget(target)) return `${resolve(target)}.key`;
  let name = 'default';
  try {
    const u = new URL(target);
    name = `${u.hostname || u.searchParams.get('host') || 'local'}-${u.port || '5432'}-${u.pathname.replace(/^\//, '') || 'postgres'}`;
  } catch {
    // keep the default name
  }
  return join(configDir || join(homedir(), '.config'), 'spdmkit', `log-${name.replace(/[^A-Za-z0-9._-]/g, '_')}.key`);
}

export interface OpenLogOptions {
  /** PEM PKCS#8 Ed25519 private key that signs tree heads (created with a new log if missing). */
  readonly keyFile?: string;
  /** Where a PostgreSQL log's default key file lives, `<configDir>/spdmkit/…` (default `~/.config`). */
  readonly configDir?: string;
  readonly signingKey?: KeyObject;
  /** The log key the caller trusts (pinned) for verify(): a LogPublicKey, a KeyObject, PEM text or a PEM file path. */
  readonly publicKey?: LogPublicKey | KeyObject | string;
  /** Open an existing log without creating anything and without a signing key. */
  readonly readOnly?: boolean;
  /** Milliseconds since the epoch (tests use a fake clock). */
  readonly now?: () => number;
  /**
   * How long a writer waits for another's lock (SQLite), and how long any one PostgreSQL query
   * may go unanswered, lock wait included, before the connection is given up as dead and the
   * call fails with STORAGE_ERROR (default LIMITS.logBusyTimeoutMs, 60 s).
   */
  readonly busyTimeoutMs?: number;
}

export interface AppendResult {
  /** Index of the first entry appended. */
  readonly first: number;
  readonly count: number;
}

export interface InclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  /** Audit path, leaf side first (RFC 9162 §2.1.3.1). */
  readonly path: readonly Uint8Array[];
  readonly rootHash: Uint8Array;
}

export interface ConsistencyProof {
  readonly first: number;
  readonly second: number;
  readonly firstRoot: Uint8Array;
  readonly secondRoot: Uint8Array;
  /** RFC 9162 §2.1.4.1 PROOF(first, D[second]). */
  readonly path: readonly Uint8Array[];
}

/** An index or size argument that is not a whole number is the caller's mistake, not the log's. */
function wholeNumber(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`${what} must be a whole number, got ${v}`);
}

function resolvePinned(p: OpenLogOptions['publicKey']): LogPublicKey | undefined {
  if (p === undefined) return undefined;
  if (typeof p === 'string') {
    const isPem = p.includes('-----BEGIN');
    return publicKeyFromPem(
      isPem ? p : readFileBounded(p, LIMITS.keyFileBytes, 'keyFileBytes'),
      isPem ? 'public key' : p,
    );
  }
  if ('logId' in p) return p;
  return describePublicKey(p);
}

async function openStore(target: string, opts: OpenLogOptions): Promise<LogStore> {
  if (!isPostgresTarget(target) && opts.readOnly && !existsSync(target))
    throw new SpdmError('LOG_NOT_FOUND', `no signature log at ${target}`);
  return openStoreForTarget(target, {
    ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}),
    ...(opts.readOnly ? { readOnly: true } : {}),
  });
}

export async function openLog(target: string = DEFAULT_LOG_TARGET, opts: OpenLogOptions = {}): Promise<SignatureLog> {
  const store = await openStore(target, opts);
  try {
    const now = opts.now ?? Date.now;
    const keyFile = opts.keyFile ?? defaultKeyFile(target, opts.configDir);
    let signer: KeyObject | undefined = opts.signingKey;
    let meta = await store.readMeta();
    if (!meta.get('public_key')) {
      if (opts.readOnly)
        throw new SpdmError(
          'LOG_NOT_FOUND',
          `${store.description} is not a signature log (no log key in its meta table)`,
        );
      // Create the log under the write lock: whoever gets it first creates the tables, the key
      // (O_EXCL on the key file) and the empty tree's signed head; everyone else finds them.
      meta = await store.write(async (tx) => {
        await tx.createSchema();
        const m = await tx.readMeta();
        if (m.get('public_key')) return m;
        signer ??= loadOrCreatePrivateKey(keyFile).key;
        const pub = describePublicKey(signer);
        const created = new Date(now()).toISOString();
        await tx.putMeta('format', LOG_FORMAT);
        await tx.putMeta('public_key', toHex(pub.spki));
        await tx.putMeta('log_id', toHex(pub.logId));
        await tx.putMeta('created_at', created);
        await tx.insertSth(signTreeHead(signer, pub.logId, { treeSize: 0, rootHash: EMPTY_ROOT }, now()));
        await tx.setState({ size: 0, frontier: new Uint8Array(0) });
        return tx.readMeta();
      });
    }
    if (meta.get('format') !== LOG_FORMAT)
      throw new SpdmError(
        'UNSUPPORTED',
        `${store.description}: log format ${meta.get('format') ?? '(none)'} is not ${LOG_FORMAT}`,
      );
    const pub = publicKeyFromSpki(Buffer.from(meta.get('public_key') ?? '', 'hex'));
    if (!opts.readOnly && !signer && existsSync(keyFile)) signer = loadPrivateKeyFile(keyFile);
    if (signer && !equalBytes(describePublicKey(signer).spki, pub.spki)) {
      throw new SpdmError(
        'LOG_KEY_MISMATCH',
        `the signing key ${opts.keyFile ?? (opts.signingKey ? '(given)' : keyFile)} does not belong to this log (log id ${toHex(pub.logId)})`,
      );
    }
    return new SignatureLog(
      store,
      pub,
      opts.readOnly ? undefined : signer,
      resolvePinned(opts.publicKey),
      now,
      keyFile,
      target,
    );
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Stores may hand back Buffers; entries given to callers hold plain Uint8Arrays (views, no copy). */
function plain(e: LogEntry): LogEntry {
  const out: Record<string, unknown> = { ...e };
  for (const [k, v] of Object.entries(e)) {
    if (Buffer.isBuffer(v)) out[k] = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  out['measurements'] = e.measurements.map((b) =>
    Buffer.isBuffer(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : b,
  );
  return out as unknown as LogEntry;
}

interface Group {
  readonly drafts: readonly EntryDraft[];
  readonly chains: readonly ChainRecord[];
}

export class SignatureLog {
  /** @internal use openLog */
  constructor(
    private readonly store: LogStore,
    /** The key the log itself names (meta table). */
    readonly logKey: LogPublicKey,
    private readonly signer: KeyObject | undefined,
    /** The key the caller pinned, if any; verify() trusts it over the log's. */
    readonly pinnedKey: LogPublicKey | undefined,
    private readonly now: () => number,
    private readonly keyFile: string,
    /** As given to openLog (a URL keeps its credentials): verification workers connect with it. */
    private readonly target: string,
  ) {}

  get backend(): 'sqlite' | 'postgres' {
    return this.store.backend;
  }

  get description(): string {
    return this.store.description;
  }

  /** Hex SHA-256 of the log key's SPKI. */
  get logId(): string {
    return toHex(this.logKey.logId);
  }

  publicKeyPem(): string {
    return publicKeyPem(this.logKey);
  }

  get canAppend(): boolean {
    return this.signer !== undefined;
  }

  private requireSigner(): KeyObject {
    if (!this.signer)
      throw new SpdmError(
        'LOG_KEY_MISSING',
        `no signing key for ${this.store.description}: expected it at ${this.keyFile} (or give keyFile)`,
      );
    return this.signer;
  }

  /** One entry per signature of `evidence`, all in one transaction. */
  async appendEvidence(evidence: Evidence): Promise<AppendResult> {
    const [r] = await this.appendEvidences([evidence]);
    return r as AppendResult;
  }

  /** Several evidences in one transaction (one tree head): for bulk loading. */
  async appendEvidences(list: readonly Evidence[]): Promise<AppendResult[]> {
    return this.appendGroups(list.map((e) => draftsFromEvidence(e)));
  }

  /** Lower level: append prepared entry drafts (each group is one evidence). */
  async appendGroups(groups: readonly Group[]): Promise<AppendResult[]> {
    const signer = this.requireSigner();
    if (groups.every((g) => g.drafts.length === 0)) {
      const size = await this.size();
      return groups.map(() => ({ first: size, count: 0 }));
    }
    const chains = new Map<string, ChainRecord>();
    for (const g of groups) for (const c of g.chains) chains.set(toHex(c.digest), c);
    return this.store.write(
      async (tx) => {
        const { frontier, latest } = await this.lockedState(tx);
        const loggedAt = Math.max(this.now(), latest.timestamp);
        const rows: StoredEntryRow[] = [];
        const results: AppendResult[] = [];
        for (const g of groups) {
          const first = frontier.size;
          for (const d of g.drafts) {
            const entry: LogEntry = { ...d, index: frontier.size, evidenceIndex: first, loggedAt };
            const enc = leafHashWithDigests(entry);
            frontier.append(enc.leafHash);
            rows.push({ entry, leafHash: enc.leafHash, fieldDigests: enc.fieldDigests });
          }
          results.push({ first, count: g.drafts.length });
        }
        await tx.insertChains([...chains.values()]);
        await tx.insertEntries(rows);
        await this.commitHead(tx, signer, frontier, loggedAt);
        return results;
      },
      { retry: true },
    );
  }

  /** Reads log_state under the lock and refuses to extend a tree that disagrees with its newest head. */
  private async lockedState(tx: WriteTx): Promise<{ frontier: Frontier; latest: SignedTreeHead }> {
    const state = await tx.state();
    const latest = await tx.latestSth();
    if (!state || !latest)
      throw new SpdmError(
        'LOG_CORRUPT',
        `${this.store.description}: log_state or tree head missing; run \`spdm log verify\``,
      );
    let frontier: Frontier;
    try {
      frontier = Frontier.decode(state.size, state.frontier);
    } catch (e) {
      throw new SpdmError(
        'LOG_CORRUPT',
        `${this.store.description}: log_state is corrupt (${String(e)}); run \`spdm log verify\``,
      );
    }
    if (state.size !== latest.treeSize || !equalBytes(frontier.root(), latest.rootHash)) {
      throw new SpdmError(
        'LOG_CORRUPT',
        `${this.store.description}: log_state (size ${state.size}) disagrees with the newest tree head (size ${latest.treeSize}); refusing to append — run \`spdm log verify\``,
      );
    }
    return { frontier, latest };
  }

  private async commitHead(
    tx: WriteTx,
    signer: KeyObject,
    frontier: Frontier,
    timestamp: number,
  ): Promise<SignedTreeHead> {
    const sth = signTreeHead(
      signer,
      this.logKey.logId,
      { treeSize: frontier.size, rootHash: frontier.root() },
      timestamp,
    );
    await tx.insertSth(sth);
    await tx.setState({ size: frontier.size, frontier: frontier.encode() });
    return sth;
  }

  /** Number of entries under the newest signed tree head. */
  async size(): Promise<number> {
    return (await this.signedTreeHead()).treeSize;
  }

  /**
   * The newest signed head as a C2SP signed-note checkpoint (log/checkpoint.ts), signed now with
   * the log key under `origin` (default `spdmkit.log/<log id>`): needs the signing key.
   */
  async checkpoint(origin?: string): Promise<string> {
    const signer = this.requireSigner();
    const head = await this.signedTreeHead();
    return signCheckpoint(head, { privateKey: signer, publicKey: this.logKey }, origin);
  }

  async signedTreeHead(): Promise<SignedTreeHead> {
    const h = await this.store.latestSth();
    if (!h) throw new SpdmError('LOG_CORRUPT', `${this.store.description}: no tree head`);
    return h;
  }

  /** The newest signed head's size and root, or the root over the stored leaf hashes at `size`. */
  async treeHead(size?: number): Promise<TreeHead> {
    const sth = await this.signedTreeHead();
    if (size === undefined || size === sth.treeSize) return { treeSize: sth.treeSize, rootHash: sth.rootHash };
    return { treeSize: size, rootHash: rootOf(await this.leafHashes(size)) };
  }

  async entry(index: number): Promise<LogEntry> {
    wholeNumber(index, 'entry index');
    const row = await this.store.readRow(index);
    if (!row) {
      const size = await this.size();
      // Past the end is the caller asking too far; a hole below the size is damage.
      if (index >= size)
        throw new SpdmError(
          'LOG_OUT_OF_RANGE',
          `no entry ${index} in ${this.store.description} (it has ${size} entries)`,
        );
      throw new SpdmError(
        'LOG_CORRUPT',
        `entry ${index} of ${this.store.description} is missing; run \`spdm log verify\``,
      );
    }
    const r = rowToEntry(row);
    if (!r.entry)
      throw new SpdmError(
        'DECODE_ERROR',
        `entry ${index} is unreadable (${r.problems.map((p) => p.column).join(', ')}); run \`spdm log verify\``,
      );
    return plain(r.entry);
  }

  async entries(from: number, count: number): Promise<LogEntry[]> {
    const rows = await this.store.readRows(from, count);
    return rows.map((row) => {
      const r = rowToEntry(row);
      if (!r.entry)
        throw new SpdmError(
          'DECODE_ERROR',
          `entry ${String(row['seq'])} is unreadable (${r.problems.map((p) => p.column).join(', ')}); run \`spdm log verify\``,
        );
      return plain(r.entry);
    });
  }

  /** Stored leaf hashes of the first `n` entries (what proofs are computed from). */
  async leafHashes(n: number): Promise<Uint8Array[]> {
    const size = await this.size();
    wholeNumber(n, 'tree size');
    if (n > size) throw new SpdmError('LOG_OUT_OF_RANGE', `tree size ${n} out of range (the log has ${size} entries)`);
    const rows = await this.store.readLeafHashes(n);
    const out: Uint8Array[] = [];
    for (const [i, r] of rows.entries()) {
      if (r.seq !== i || !(r.leafHash instanceof Uint8Array) || r.leafHash.length !== 32)
        throw new SpdmError('LOG_CORRUPT', `entry ${i} missing or its leaf hash unreadable; run \`spdm log verify\``);
      out.push(r.leafHash);
    }
    if (out.length !== n)
      throw new SpdmError('LOG_CORRUPT', `entries ${out.length}..${n - 1} missing; run \`spdm log verify\``);
    return out;
  }

  async inclusionProof(index: number, size?: number): Promise<InclusionProof> {
    wholeNumber(index, 'entry index');
    const n = size ?? (await this.size());
    const leaves = await this.leafHashes(n);
    if (index >= n) throw new SpdmError('LOG_OUT_OF_RANGE', `entry ${index} is not in a tree of ${n} entries`);
    return {
      leafIndex: index,
      treeSize: n,
      leafHash: leaves[index] as Uint8Array,
      path: inclusionPath(leaves, index, n),
      rootHash: rootOf(leaves),
    };
  }

  async consistencyProof(first: number, second?: number): Promise<ConsistencyProof> {
    const n = second ?? (await this.size());
    wholeNumber(first, 'first size');
    if (first > n) throw new SpdmError('LOG_OUT_OF_RANGE', `first size ${first} must be between 0 and ${n}`);
    const leaves = await this.leafHashes(n);
    return {
      first,
      second: n,
      firstRoot: rootOf(leaves.slice(0, first)),
      secondRoot: rootOf(leaves),
      path: consistencyPath(leaves, first, n),
    };
  }

  /** Re-verifies every entry and the tree from stored bytes (see verify.ts). Never throws for a damaged log. */
  verify(options: Omit<VerifyOptions, 'publicKey'> & { publicKey?: LogPublicKey } = {}): Promise<VerifyReport> {
    const publicKey = options.publicKey ?? this.pinnedKey;
    return verifyLog(this.store, { target: this.target, ...options, ...(publicKey ? { publicKey } : {}) });
  }

  exportJsonl(out: Writable): Promise<{ entries: number; chains: number }> {
    return exportJsonl(this.store, this.logKey, out);
  }

  /** Imports a JSON Lines export into this log, which must be empty or hold a prefix of it. */
  importJsonl(input: Readable, options: ImportOptions = {}): Promise<ImportResult> {
    const signer = this.requireSigner();
    return importJsonl(
      this.store,
      input,
      options,
      async (tx, frontier) =>
        this.commitHead(tx, signer, frontier, Math.max(this.now(), (await tx.latestSth())?.timestamp ?? 0)),
      (tx) => this.lockedState(tx),
    );
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/**
 * For `spdm authenticate --log FILE|URL`: appends the signatures of one Evidence to the log at
 * `target` (created with its key if new) and closes it.
 */
export async function appendEvidenceToLog(
  target: string,
  evidence: Evidence,
  opts: OpenLogOptions = {},
): Promise<AppendResult & { logId: string; treeSize: number }> {
  const log = await openLog(target, opts);
  try {
    const r = await log.appendEvidence(evidence);
    return { ...r, logId: log.logId, treeSize: await log.size() };
  } finally {
    await log.close();
  }
}
