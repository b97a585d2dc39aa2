/**
 * The verification floor of a signature log (issue 12, item 5): what any verifier of this log
 * must do per entry besides the signature check itself, each part done the cheapest raw way
 * there is, on this log's own rows.
 *
 *   row        read the entry's row out of SQLite (better-sqlite3, raw arrays, one statement)
 *   leaf       SHA-256(0x00 ‖ leaf bytes): the leaf hash the tree is built from (the leaf built
 *              beforehand, untimed: building it is already the verifier's own overhead)
 *   node       one SHA-256(0x01 ‖ left ‖ right): a tree of n leaves has n − 1 of them
 *   transcript Hash(transcript) with the entry's hash: the signature is over it (raw verify's
 *              input has it already, see raw-signatures.ts)
 *
 * Added to raw crypto.verify's cost per signature, it gives the entries per CPU-second no
 * verifier could beat; divided by raw verify alone, the best ratio any verifier can reach
 * against the baseline (raw verify × cores) on one core.
 */
import { hash } from 'node:crypto';
import Database from 'better-sqlite3';
import { hashInfo } from '../src/crypto/algorithms.js';
import { encodeLeaf } from '../src/log/entry.js';
import type { LogEntry } from '../src/log/entry.js';

export interface VerificationFloor {
  /** Entries the parts were measured over. */
  readonly entries: number;
  /** CPU µs per entry of each part. */
  readonly rowUs: number;
  readonly leafHashUs: number;
  readonly nodeHashUs: number;
  readonly transcriptHashUs: number;
  /** The four together. */
  readonly totalUs: number;
}

/** CPU µs per item of `fn` over `items`, the pass repeated until it has run for at least `minMs` of CPU. */
function cpuUsPer<T>(items: readonly T[], fn: (x: T) => unknown, minMs = 300): number {
  let n = 0;
  const c0 = process.cpuUsage();
  let used = 0;
  do {
    for (const x of items) fn(x);
    n += items.length;
    const c = process.cpuUsage(c0);
    used = c.user + c.system;
  } while (used < minMs * 1000);
  return used / n;
}

/**
 * The floor's parts over the SQLite log `file` (opened read-only, beside the verifier's own
 * connection) and `entries`, the same log's entries as the log returns them (a sample is enough:
 * the parts cost the same per entry wherever in the log it is).
 */
export function verificationFloor(file: string, entries: readonly LogEntry[]): VerificationFloor {
  const db = new Database(file, { readonly: true });
  let rowUs: number;
  try {
    const stmt = db.prepare('SELECT * FROM entries ORDER BY seq').raw(true);
    let rows = 0;
    const c0 = process.cpuUsage();
    for (const row of stmt.iterate()) if ((row as unknown[]).length > 0) rows++;
    const c = process.cpuUsage(c0);
    rowUs = (c.user + c.system) / Math.max(1, rows);
  } finally {
    db.close();
  }
  const leaves = entries.map((e) => {
    const leaf = encodeLeaf(e);
    const prefixed = Buffer.alloc(1 + leaf.length);
    prefixed.set(leaf, 1);
    return prefixed;
  });
  const leafHashUs = cpuUsPer(leaves, (l) => hash('sha256', l, 'buffer'));
  const nodes = [Buffer.alloc(65, 1)];
  const nodeHashUs = cpuUsPer(nodes, (b) => hash('sha256', b, 'buffer'));
  const transcripts = entries.map((e) => {
    const h = hashInfo(e.hashAlgo);
    if (!h) throw new Error(`log floor: entry ${e.index} has no hash algorithm ${e.hashAlgo}`);
    return { alg: h.node, bytes: e.transcript };
  });
  const transcriptHashUs = cpuUsPer(transcripts, (t) => hash(t.alg, t.bytes, 'buffer'));
  return {
    entries: entries.length,
    rowUs,
    leafHashUs,
    nodeHashUs,
    transcriptHashUs,
    totalUs: rowUs + leafHashUs + nodeHashUs + transcriptHashUs,
  };
}
