/**
 * Verification of a whole signature log from its stored bytes alone.
 *
 *   1. meta: the log key (or the pinned one a verifier brings) and the log id it implies;
 *   2. every signed tree head's signature;
 *   3. every chain row: its content must hash to its key;
 *   4. every entry (verify-range.ts): present, readable, its leaf rebuilt from its columns and
 *      hashed, compared with the stored leaf hash and the field locator; transcript hash, nonces,
 *      summary hash and measurement blocks checked against the signed transcript; the device
 *      signature verified with the leaf key of the stored chain. Large logs are split into ranges
 *      checked by worker threads, each with its own database connection;
 *   5. the tree: the root over the stored leaf hashes and over the rebuilt ones, at every signed
 *      tree head's size (and a verifier's own earlier checkpoint), decides whether entries,
 *      leaf hashes or whole ranges were altered, moved, dropped or cut off;
 *   6. log_state and entries appended after the newest head.
 *
 * Every problem names its table, entry index (or range, or chain, or tree size) and field.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { equalBytes, toHex } from '../wire/bytes.js';
import { SpdmError, type SpdmErrorCode } from '../wire/errors.js';
import { chainDigestOf, encodeLeaf } from './entry.js';
import { publicKeyFromSpki, type LogPublicKey } from './log-key.js';
import { EMPTY_ROOT, Frontier, HASH_SIZE, leafHash } from './merkle.js';
import { TranscriptOpenings } from '../spdm/signed-transcript.js';
import { SignatureChecker } from './sigcheck.js';
import { sthSignedBytes, sthToJson, type SignedTreeHead, type SignedTreeHeadJson, type TreeHead } from './sth.js';
import { rowToEntry, sthFromColumns, type LogStore } from './store/store.js';
import { checkRange, type RangeResult } from './verify-range.js';
import type { VerifyProblem } from './verify-types.js';
import type { WorkerReply, WorkerRequest } from './verify-worker.js';

export type { ProblemCode, VerifyProblem } from './verify-types.js';

export interface VerifyProgress {
  readonly phase: 'tree heads' | 'chains' | 'entries' | 'done';
  /** Entries checked so far (signature included). */
  readonly done: number;
  readonly total: number;
}

export interface VerifyOptions {
  /** The log key a verifier trusts (pinned); without it the key in the log's meta table is used. */
  readonly publicKey?: LogPublicKey;
  /** A tree head the verifier saw earlier (e.g. its last checkpoint): the log must still contain it. */
  readonly trusted?: SignedTreeHead;
  /**
   * The same as a C2SP signed-note checkpoint (log/checkpoint.ts) whose note the caller verified
   * with the pinned key: the log must still contain a tree of that size with that root.
   */
  readonly trustedCheckpoint?: TreeHead;
  readonly onProgress?: (p: VerifyProgress) => void;
  /**
   * Worker threads, each checking ranges of entries over its own connection; this thread checks
   * ranges from the same queue while they work, so N workers make N + 1 threads verifying. 0
   * checks everything in this thread. Default, for logs of more than 2000 entries: one worker
   * fewer than the CPU count (at most 7), i.e. as many verifying threads as cores — a worker
   * costs its start-up (Node's bootstrap and the modules, ~0.25 s CPU) and its own JIT warm-up,
   * which the thread already running need not pay again. Needs `target`.
   */
  readonly workers?: number;
  /** File path or URL (with credentials) the workers connect to; SignatureLog.verify passes it. */
  readonly target?: string;
  /** Rows read per query. */
  readonly pageSize?: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly target: string;
  readonly logId: string;
  readonly publicKeySource: 'pinned' | 'log';
  /** Size and root of the newest tree head with a valid signature. */
  readonly treeSize: number;
  readonly rootHash: string;
  readonly sth?: SignedTreeHeadJson;
  readonly entriesRead: number;
  readonly signaturesChecked: number;
  readonly signaturesValid: number;
  readonly treeHeadsChecked: number;
  /** Entries appended by other writers while verification ran (covered by a newer valid head, not part of this report's tree). */
  readonly appendedDuringVerification: number;
  readonly problems: readonly VerifyProblem[];
  /** Every entry index named by an error. */
  readonly failingEntries: readonly number[];
  readonly errors: number;
  readonly warnings: number;
  readonly workers: number;
  readonly durationMs: number;
}

const STH_BATCH = 2000;
const MOVED_CANDIDATES = 256;
const REREAD_LIMIT = 2000;

type PoolJob =
  | { readonly type: 'range'; readonly from: number; readonly to: number }
  | { readonly type: 'sths'; readonly heads: readonly { message: Uint8Array; signature: Uint8Array }[] };

/** A worker's failure as the error it was there: an SpdmError keeps its code and details. */
function workerError(m: WorkerReply & { type: 'error' }): Error {
  if (m.code === undefined) return new Error(m.message);
  return new SpdmError(m.code as SpdmErrorCode, m.message, m.details ?? {});
}

type Waiting = {
  req: WorkerRequest & { id: number };
  resolve: (r: WorkerReply) => void;
  reject: (e: Error) => void;
};

/**
 * Worker threads running verify-worker.ts. Jobs wait in one queue; each worker is given the
 * next, and a second one while many remain, because the calling thread takes jobs from the same
 * queue (take) and, inside a SQLite range, handles no worker message until the range is done:
 * a worker with a job in hand does not sit idle meanwhile.
 */
class WorkerPool {
  private readonly workers: Worker[] = [];
  /** Jobs handed to each worker and not answered yet. */
  private readonly inHand: number[] = [];
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private readonly waiting: Waiting[] = [];
  private readonly owner = new Map<number, number>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(count: number, init: WorkerRequest, onProgress: (rows: number) => void) {
    for (let i = 0; i < count; i++) {
      const w = new Worker(new URL('./verify-worker.js', import.meta.url));
      w.on('message', (m: WorkerReply) => {
        if (m.type === 'progress') return onProgress(m.rows);
        if (m.type === 'closed') return;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.owner.delete(m.id);
        this.inHand[i] = (this.inHand[i] as number) - 1;
        if (m.type === 'error') p?.reject(workerError(m));
        else p?.resolve(m);
        this.pump();
      });
      w.on('error', (e) => {
        // A worker that dies takes the verification with it: fail every job rather than hang.
        this.failure = e;
        for (const [, p] of this.pending) p.reject(e);
        this.pending.clear();
        for (const j of this.waiting.splice(0)) j.reject(e);
      });
      w.postMessage(init);
      this.workers.push(w);
      this.inHand.push(0);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(req: PoolJob): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.push({ req: { ...req, id }, resolve, reject });
      this.pump();
    });
  }

  /** The next waiting job, for the calling thread to run itself (undefined when none is left). */
  take(): Waiting | undefined {
    return this.failure ? undefined : this.waiting.shift();
  }

  private pump(): void {
    for (let depth = 1; depth <= 2; depth++) {
      // A second job only while more wait than there are threads to share them: near the end
      // the calling thread takes what is left rather than a worker holding two.
      if (depth === 2 && this.waiting.length <= this.workers.length + 1) return;
      for (let i = 0; i < this.workers.length && this.waiting.length > 0; i++) {
        if ((this.inHand[i] as number) >= depth) continue;
        const job = this.waiting.shift() as Waiting;
        this.inHand[i] = (this.inHand[i] as number) + 1;
        this.pending.set(job.req.id, { resolve: job.resolve, reject: job.reject });
        this.owner.set(job.req.id, i);
        (this.workers[i] as Worker).postMessage(job.req);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => void w.terminate().then(() => resolve()), 5000);
            w.once('message', () => {
              clearTimeout(t);
              void w.terminate().then(() => resolve());
            });
            w.postMessage({ type: 'close' } satisfies WorkerRequest);
          }),
      ),
    );
  }
}

interface RootPair {
  s?: Uint8Array;
  r?: Uint8Array;
}

function rangeText(a: number, b: number): string {
  return a === b ? `entry ${a}` : `entries ${a}..${b}`;
}

export async function verifyLog(store: LogStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  const t0 = performance.now();
  const problems: VerifyProblem[] = [];
  const failing = new Set<number>();
  const add = (p: VerifyProblem): void => {
    problems.push(p);
    if (p.severity === 'error') {
      if (p.entry !== undefined) failing.add(p.entry);
      if (p.entries) for (let i = p.entries[0]; i <= p.entries[1] && i - p.entries[0] < 10_000_000; i++) failing.add(i);
    }
  };
  const progress = options.onProgress ?? (() => undefined);
  const pageSize = options.pageSize ?? 1000;

  // ---- 1. meta and key ----
  const meta = await store.readMeta();
  let metaKey: LogPublicKey | undefined;
  try {
    const pk = meta.get('public_key');
    if (!pk) throw new Error('no public_key in meta');
    metaKey = publicKeyFromSpki(Buffer.from(pk, 'hex'));
    if (meta.get('log_id') !== toHex(metaKey.logId)) {
      add({
        code: 'META_INVALID',
        severity: 'error',
        table: 'meta',
        fields: ['log_id'],
        message: `meta log_id ${meta.get('log_id') ?? '(none)'} is not the SHA-256 of the stored public key (${toHex(metaKey.logId)})`,
      });
    }
  } catch (e) {
    add({
      code: 'META_INVALID',
      severity: 'error',
      table: 'meta',
      fields: ['public_key'],
      message: `the log's public key cannot be read: ${e instanceof Error ? e.message : String(e)}`,
    });
  }
  const key = options.publicKey ?? metaKey;
  if (options.publicKey && metaKey && !equalBytes(options.publicKey.spki, metaKey.spki)) {
    add({
      code: 'KEY_MISMATCH',
      severity: 'error',
      table: 'meta',
      fields: ['public_key'],
      message: `the log names key ${toHex(metaKey.logId)}, not the pinned key ${toHex(options.publicKey.logId)}: every tree head is checked against the pinned key`,
    });
  }
  const logId = key?.logId ?? new Uint8Array(32);
  const inline = new SignatureChecker();
  if (key) inline.setLogKey(key.spki);

  // ---- 2. tree heads (well-formedness now, signatures below) ----
  const heads: SignedTreeHead[] = [];
  for (const r of await store.readSths()) {
    const h = sthFromColumns(r);
    if (!h || h.rootHash.length !== HASH_SIZE || h.treeSize < 0) {
      add({
        code: 'STH_MALFORMED',
        severity: 'error',
        table: 'sth',
        ...(typeof r.treeSize === 'number' ? { treeSize: r.treeSize } : {}),
        message: `tree head row ${String(r.treeSize)} is malformed`,
      });
      continue;
    }
    heads.push(h);
  }
  const sizeGuess = Math.max(0, ...heads.map((h) => h.treeSize));
  progress({ phase: 'tree heads', done: 0, total: sizeGuess });

  // ---- 3. chains ----
  progress({ phase: 'chains', done: 0, total: sizeGuess });
  const alteredChains = new Map<string, VerifyProblem>();
  let after: Uint8Array | undefined;
  for (;;) {
    const rows = await store.readChainRows(after, 200);
    for (const r of rows) {
      const d = r.digest instanceof Uint8Array ? r.digest : undefined;
      const c = r.chain instanceof Uint8Array ? r.chain : undefined;
      if (d) after = d;
      if (!d || !c || d.length !== HASH_SIZE) {
        add({
          code: 'CHAIN_MALFORMED',
          severity: 'error',
          table: 'chains',
          ...(d ? { chainDigest: toHex(d) } : {}),
          fields: [!d || d.length !== HASH_SIZE ? 'digest' : 'chain'],
          message: 'a chains row is malformed',
        });
        continue;
      }
      const actual = chainDigestOf(c);
      if (!equalBytes(actual, d)) {
        const hex = toHex(d);
        alteredChains.set(hex, {
          code: 'CHAIN_ALTERED',
          severity: 'error',
          table: 'chains',
          chainDigest: hex,
          fields: ['chain', 'digest'],
          message: `chains row ${hex}: its content hashes to ${toHex(actual)}, not to its key`,
        });
      }
    }
    if (rows.length < 200 || !after) break;
  }

  const workerCount = options.target
    ? (options.workers ?? (sizeGuess > 2000 ? Math.min(8, availableParallelism()) - 1 : 0))
    : 0;
  let rowsDone = 0;
  let lastProgress = 0;
  const onRows = (n: number) => {
    rowsDone += n;
    const now = performance.now();
    if (now - lastProgress > 50) {
      lastProgress = now;
      progress({ phase: 'entries', done: rowsDone, total: sizeGuess });
    }
  };
  const pool =
    workerCount > 0 && options.target
      ? new WorkerPool(
          workerCount,
          {
            type: 'init',
            target: options.target,
            ...(key ? { logSpki: key.spki } : {}),
            alteredChains: [...alteredChains.keys()],
            pageSize,
          },
          onRows,
        )
      : undefined;
  try {
    // ---- 2b. tree head signatures ----
    const valid: SignedTreeHead[] = [];
    const sthOk: boolean[] = [];
    if (key) {
      const jobs: Promise<readonly boolean[]>[] = [];
      for (let i = 0; i < heads.length; i += STH_BATCH) {
        const chunk = heads
          .slice(i, i + STH_BATCH)
          .map((h) => ({ message: sthSignedBytes(logId, h), signature: h.signature.slice() }));
        if (pool) jobs.push(pool.run({ type: 'sths', heads: chunk }).then((r) => (r.type === 'sths' ? r.ok : [])));
        else jobs.push(Promise.resolve(chunk.map((h) => inline.check({ t: 'sth', ...h }).ok)));
      }
      for (const r of await Promise.all(jobs)) sthOk.push(...r);
    }
    heads.forEach((h, i) => {
      if (sthOk[i]) valid.push(h);
      else
        add({
          code: 'STH_SIGNATURE_INVALID',
          severity: 'error',
          table: 'sth',
          treeSize: h.treeSize,
          message: `the tree head for size ${h.treeSize} (${new Date(h.timestamp).toISOString()}) is not signed by the log key: forged or altered`,
        });
    });
    for (let i = 1; i < valid.length; i++) {
      const a = valid[i - 1] as SignedTreeHead;
      const b = valid[i] as SignedTreeHead;
      if (b.timestamp < a.timestamp)
        add({
          code: 'STH_TIMESTAMP_DECREASES',
          severity: 'warning',
          table: 'sth',
          treeSize: b.treeSize,
          message: `tree head ${b.treeSize} is older than tree head ${a.treeSize}`,
        });
    }
    const latest = valid.at(-1);
    if (!latest)
      add({
        code: 'NO_VALID_STH',
        severity: 'error',
        table: 'sth',
        message: 'no tree head with a valid signature: nothing in this log can be trusted',
      });
    const N = latest?.treeSize ?? 0;

    let trusted: (TreeHead & { readonly timestamp?: number }) | undefined = options.trusted;
    if (
      options.trusted &&
      (!key ||
        !inline.check({
          t: 'sth',
          message: sthSignedBytes(logId, options.trusted),
          signature: options.trusted.signature,
        }).ok)
    ) {
      add({
        code: 'CHECKPOINT_INVALID',
        severity: 'error',
        table: 'checkpoint',
        treeSize: options.trusted.treeSize,
        message: 'the trusted checkpoint is not signed by this log key; it was not used',
      });
      trusted = undefined;
    }
    trusted ??= options.trustedCheckpoint;

    // ---- 4. entries, in ranges ----
    progress({ phase: 'entries', done: 0, total: N });
    const ctx = {
      checker: inline,
      chainsKnown: new Map<string, boolean>(),
      openings: new TranscriptOpenings(),
      alteredChains: new Set(alteredChains.keys()),
      pageSize,
      onRows,
    };
    /** Jobs of the pool's queue run in this thread, until none is left (see WorkerPool). */
    const runHere = async (p: WorkerPool): Promise<void> => {
      for (let job = p.take(); job; job = p.take()) {
        const { req } = job;
        try {
          if (req.type === 'range')
            job.resolve({ type: 'range', id: req.id, result: await checkRange(store, req.from, req.to, ctx) });
          else if (req.type === 'sths')
            job.resolve({ type: 'sths', id: req.id, ok: req.heads.map((h) => inline.check({ t: 'sth', ...h }).ok) });
          else job.reject(new Error(`a ${req.type} job cannot run in the calling thread`));
        } catch (e) {
          job.reject(e instanceof Error ? e : new Error(String(e)));
        }
        // Let the workers' answers in: each worker answered is handed its next job.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    const ranges: Promise<RangeResult>[] = [];
    if (pool) {
      // Many more ranges than threads, so that none sits idle while another finishes a long last range.
      const chunk = Math.max(pageSize, Math.ceil(N / ((pool.size + 1) * 16)));
      for (let a = 0; a < N; a += chunk) {
        const b = Math.min(N, a + chunk);
        ranges.push(
          pool
            .run({ type: 'range', from: a, to: b })
            .then((r) => (r.type === 'range' ? r.result : Promise.reject(new Error('bad worker reply')))),
        );
      }
    } else if (N > 0) {
      ranges.push(checkRange(store, 0, N, ctx));
    }
    const here = pool ? runHere(pool) : Promise.resolve();
    // Rows past the newest head: normally none (or appended meanwhile); checked here.
    const beyondResult = await checkRange(store, N, Number.MAX_SAFE_INTEGER, ctx);
    const [results] = await Promise.all([Promise.all(ranges), here]);

    // ---- 5. the tree ----
    const checkSizes = new Set<number>(valid.map((h) => h.treeSize));
    if (trusted) checkSizes.add(trusted.treeSize);
    const roots = new Map<number, RootPair>();
    const fS = new Frontier();
    const fR = new Frontier();
    let sBroken = false;
    let rBroken = false;
    if (checkSizes.has(0)) roots.set(0, { s: EMPTY_ROOT, r: EMPTY_ROOT });
    let entriesRead = beyondResult.rowsRead;
    let sigChecked = beyondResult.signaturesChecked;
    let sigValid = beyondResult.signaturesValid;
    let lastSeq = beyondResult.lastSeq;
    const gaps: [number, number][] = [];
    const mismatched: { seq: number; fields?: string[] }[] = [...beyondResult.mismatched];
    const chainUsers = new Map<string, number[]>();
    const collect = (r: RangeResult) => {
      problems.push(...r.problems);
      for (const p of r.problems) if (p.severity === 'error' && p.entry !== undefined) failing.add(p.entry);
      for (const [hex, users] of r.chainUsers) chainUsers.set(hex, [...(chainUsers.get(hex) ?? []), ...users]);
    };
    for (const r of results) {
      collect(r);
      entriesRead += r.rowsRead;
      sigChecked += r.signaturesChecked;
      sigValid += r.signaturesValid;
      lastSeq = Math.max(lastSeq, r.lastSeq);
      mismatched.push(...r.mismatched);
      for (const g of r.gaps) {
        const prev = gaps.at(-1);
        if (prev && prev[1] + 1 === g[0]) prev[1] = g[1];
        else gaps.push([g[0], g[1]]);
      }
      for (let k = 0; k < r.to - r.from; k++) {
        const inSpan = k < r.span;
        if (!sBroken && inSpan && r.storedPresent[k]) fS.append(r.stored.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE));
        else sBroken = true;
        if (!rBroken && inSpan && r.rebuiltPresent[k])
          fR.append(r.rebuilt.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE));
        else rBroken = true;
        const size = r.from + k + 1;
        if (checkSizes.has(size))
          roots.set(size, { ...(sBroken ? {} : { s: fS.root() }), ...(rBroken ? {} : { r: fR.root() }) });
      }
    }
    collect(beyondResult);
    const count = lastSeq + 1;

    const missingSample: number[] = [];
    for (const [a, b] of gaps) {
      if (a >= count) continue; // the cut-off tail: reported as TRUNCATED below
      const end = Math.min(b, count - 1);
      add({
        code: 'ENTRY_MISSING',
        severity: 'error',
        table: 'entries',
        entries: [a, end],
        message: `${rangeText(a, end)} missing (deleted)`,
      });
      for (let k = a; k <= end && missingSample.length < MOVED_CANDIDATES; k++) missingSample.push(k);
    }
    if (latest && count < N) {
      add({
        code: 'TRUNCATED',
        severity: 'error',
        table: 'entries',
        entries: [count, N - 1],
        treeSize: N,
        message: `log truncated: the tree head of ${new Date(latest.timestamp).toISOString()} covers ${N} entries, ${rangeText(count, N - 1)} are gone`,
      });
      for (let k = count; k < N && missingSample.length < MOVED_CANDIDATES; k++) missingSample.push(k);
    }
    if (trusted && trusted.treeSize > count) {
      add({
        code: 'TRUNCATED',
        severity: 'error',
        table: 'checkpoint',
        entries: [Math.max(count, 0), trusted.treeSize - 1],
        treeSize: trusted.treeSize,
        message: `log truncated: the trusted checkpoint${trusted.timestamp !== undefined ? ` of ${new Date(trusted.timestamp).toISOString()}` : ''} covers ${trusted.treeSize} entries, the log holds ${count}`,
      });
    }

    // How each signed size compares, over stored leaf hashes (s) and rebuilt leaves (r).
    const status = valid.map((h) => {
      const rp = roots.get(h.treeSize);
      return {
        h,
        checked: rp !== undefined && (rp.s !== undefined || rp.r !== undefined),
        okS: rp?.s !== undefined && equalBytes(rp.s, h.rootHash),
        okR: rp?.r !== undefined && equalBytes(rp.r, h.rootHash),
      };
    });
    const coveringStatus = (i: number) => status.find((s) => s.h.treeSize > i && s.checked);

    // Entries whose rebuilt leaf differs from their stored leaf hash: altered, leaf hash altered, or moved.
    const mismatchSet = new Set(mismatched.map((m) => m.seq));
    const candidates = mismatched.slice(0, MOVED_CANDIDATES).map((m) => m.seq);
    let reread = 0;
    for (const m of mismatched) {
      const i = m.seq;
      const fields = m.fields && m.fields.length > 0 ? m.fields : undefined;
      const cov = coveringStatus(i);
      if (cov?.okS) {
        add({
          code: 'ENTRY_ALTERED',
          severity: 'error',
          table: 'entries',
          entry: i,
          ...(fields ? { fields } : {}),
          message: `entry ${i} was altered after it was logged${fields ? `: ${fields.join(', ')}` : ' (which field cannot be told: the field locator was rewritten too)'}`,
        });
        continue;
      }
      if (cov?.okR) {
        add({
          code: 'LEAF_HASH_ALTERED',
          severity: 'error',
          table: 'entries',
          entry: i,
          fields: ['leaf_hash'],
          message: `entry ${i}: column leaf_hash was altered (the entry's content matches the signed tree)`,
        });
        continue;
      }
      let from: number | undefined;
      if (reread++ < REREAD_LIMIT) {
        const row = await store.readRow(i);
        const conv = row ? rowToEntry(row) : undefined;
        if (conv?.entry && conv.leafHash) {
          const ev = conv.entry.evidenceIndex;
          const tries = new Set<number>([
            ...candidates,
            ...missingSample,
            i - 2,
            i - 1,
            i + 1,
            i + 2,
            ...Array.from({ length: 8 }, (_, k) => ev + k),
          ]);
          for (const j of tries) {
            if (j === i || j < 0) continue;
            if (equalBytes(leafHash(encodeLeaf({ ...conv.entry, index: j })), conv.leafHash)) {
              from = j;
              break;
            }
          }
        }
      }
      if (from !== undefined)
        add({
          code: 'ENTRY_MOVED',
          severity: 'error',
          table: 'entries',
          entry: i,
          fields: ['seq'],
          message: `position ${i} holds entry ${from}: entries were reordered or renumbered`,
        });
      else
        add({
          code: 'ENTRY_ALTERED',
          severity: 'error',
          table: 'entries',
          entry: i,
          ...(fields ? { fields } : {}),
          message: `entry ${i}: its content and its stored leaf hash disagree${fields ? ` (fields ${fields.join(', ')})` : ''}`,
        });
    }

    // Signed sizes whose root matches neither way and that no named entry explains.
    let lastGood = 0;
    for (const s of status) {
      if (!s.checked) continue;
      if (s.okS || s.okR) {
        lastGood = s.h.treeSize;
        continue;
      }
      let explained = false;
      for (let i = lastGood; i < s.h.treeSize && !explained; i++) explained = mismatchSet.has(i) || failing.has(i);
      if (!explained) {
        add({
          code: 'ENTRIES_REWRITTEN',
          severity: 'error',
          table: 'entries',
          entries: [lastGood, s.h.treeSize - 1],
          treeSize: s.h.treeSize,
          message: `${rangeText(lastGood, s.h.treeSize - 1)}: the tree head for size ${s.h.treeSize} signed a different root; entries in this range were rewritten together with their leaf hashes`,
        });
      }
      break;
    }
    if (trusted) {
      const rp = roots.get(trusted.treeSize);
      if (
        rp &&
        (rp.s || rp.r) &&
        !(rp.s && equalBytes(rp.s, trusted.rootHash)) &&
        !(rp.r && equalBytes(rp.r, trusted.rootHash))
      ) {
        add({
          code: 'CHECKPOINT_MISMATCH',
          severity: 'error',
          table: 'checkpoint',
          treeSize: trusted.treeSize,
          message: `the first ${trusted.treeSize} entries no longer have the root of the trusted checkpoint: history was rewritten`,
        });
      }
    }

    // Chains that were altered, with the entries relying on them.
    for (const [hex, p] of alteredChains) {
      const users = chainUsers.get(hex) ?? [];
      add({
        ...p,
        message: `${p.message}; ${users.length} entr${users.length === 1 ? 'y relies' : 'ies rely'} on it${users.length ? ` (${users.slice(0, 10).join(', ')}${users.length > 10 ? ', …' : ''})` : ''}`,
      });
      for (const u of users) failing.add(u);
    }

    // ---- 6. state and later appends ----
    let appendedDuring = 0;
    const sthsNow = (await store.readSths()).map(sthFromColumns).filter((h): h is SignedTreeHead => h !== undefined);
    if (count > N) {
      const newer = sthsNow.filter((h) => h.treeSize >= count).sort((a, b) => a.treeSize - b.treeSize)[0];
      const newerOk =
        newer !== undefined &&
        key !== undefined &&
        inline.check({ t: 'sth', message: sthSignedBytes(logId, newer), signature: newer.signature }).ok;
      if (newerOk && beyondResult.gaps.length === 0) appendedDuring = count - N;
      else {
        const first = beyondResult.firstSeq >= 0 ? beyondResult.firstSeq : N;
        add({
          code: 'UNSIGNED_ENTRIES',
          severity: 'error',
          table: 'entries',
          entries: [first, count - 1],
          message: `${beyondResult.rowsRead} entr${beyondResult.rowsRead === 1 ? 'y' : 'ies'} in ${first}..${count - 1} not covered by any signed tree head (added without the log key)`,
        });
      }
    }
    const state = await store.readState();
    if (!state) {
      add({
        code: 'STATE_MISMATCH',
        severity: 'error',
        table: 'log_state',
        message: 'log_state row missing or malformed',
      });
    } else {
      const sth = sthsNow.find((h) => h.treeSize === state.size);
      let root: Uint8Array | undefined;
      try {
        root = Frontier.decode(state.size, state.frontier).root();
      } catch {
        root = undefined;
      }
      if (!sth || !root || !equalBytes(root, sth.rootHash)) {
        add({
          code: 'STATE_MISMATCH',
          severity: 'error',
          table: 'log_state',
          fields: ['size', 'frontier'],
          message: `log_state (size ${state.size}) does not match the signed tree head of that size; the next append would be refused`,
        });
      }
    }

    progress({ phase: 'done', done: Math.max(N, count), total: Math.max(N, count) });
    const errors = problems.filter((p) => p.severity === 'error').length;
    const order = (p: VerifyProblem) => p.entry ?? p.entries?.[0] ?? -1;
    return {
      ok: errors === 0,
      target: store.description,
      logId: toHex(logId),
      publicKeySource: options.publicKey ? 'pinned' : 'log',
      treeSize: N,
      rootHash: toHex(latest?.rootHash ?? EMPTY_ROOT),
      ...(latest ? { sth: sthToJson(latest, logId) } : {}),
      entriesRead,
      signaturesChecked: sigChecked,
      signaturesValid: sigValid,
      treeHeadsChecked: heads.length,
      appendedDuringVerification: appendedDuring,
      problems: problems.sort((a, b) => order(a) - order(b)),
      failingEntries: [...failing].sort((a, b) => a - b),
      errors,
      warnings: problems.length - errors,
      workers: workerCount,
      durationMs: performance.now() - t0,
    };
  } finally {
    await pool?.close();
  }
}
