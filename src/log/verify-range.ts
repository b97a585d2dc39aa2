/**
 * Checks of one range of entries, independent of the others: read from the store, rebuild each
 * leaf and its hash, compare with the stored leaf hash and field locator, check the signed
 * material against the transcript and verify the device signature. Runs in the main thread for
 * small logs and in worker threads (each with its own database connection) for large ones; the
 * tree-level conclusions are drawn by verify.ts from the hashes returned.
 */
import { hashInfo } from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import { equalBytes, toHex } from '../wire/bytes.js';
import { differingFields, leafHashWithDigests } from './entry.js';
import { entryTranscriptProblems } from './entry-transcript.js';
import { HASH_SIZE } from './merkle.js';
import type { TranscriptOpenings } from '../spdm/signed-transcript.js';
import type { SignatureChecker } from './sigcheck.js';
import { rowToEntry, type LogStore } from './store/store.js';
import type { VerifyProblem } from './verify-types.js';

export interface RangeContext {
  readonly checker: SignatureChecker;
  /** Chain digests (hex) already looked up: present or not. */
  readonly chainsKnown: Map<string, boolean>;
  /** Chains whose content does not hash to their key (found by the chains pass). */
  readonly alteredChains: ReadonlySet<string>;
  readonly pageSize: number;
  /** Transcript openings decoded so far (kept across ranges: a worker checks many). */
  readonly openings?: TranscriptOpenings;
  /** Called with the number of rows completed since the last call. */
  readonly onRows?: (n: number) => void;
}

export interface RangeResult {
  readonly from: number;
  readonly to: number;
  /** Stored leaf hashes of positions from.. (32 bytes each) and which are present. */
  readonly stored: Uint8Array;
  readonly storedPresent: Uint8Array;
  /** Leaf hashes rebuilt from the columns. */
  readonly rebuilt: Uint8Array;
  readonly rebuiltPresent: Uint8Array;
  /** Positions covered by the arrays (rows up to the last one read). */
  readonly span: number;
  readonly rowsRead: number;
  /** Lowest and highest seq read, -1 when none. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly problems: VerifyProblem[];
  /** Rows whose rebuilt leaf differs from their stored leaf hash, with the fields the locator names. */
  readonly mismatched: { seq: number; fields?: string[] }[];
  /** Runs of positions with no row, inclusive. */
  readonly gaps: [number, number][];
  readonly chainUsers: [string, number[]][];
  readonly signaturesChecked: number;
  readonly signaturesValid: number;
}

class Packed {
  hashes = new Uint8Array(256 * HASH_SIZE);
  present = new Uint8Array(256);
  set(i: number, h: Uint8Array): void {
    if (i >= this.present.length) {
      let cap = this.present.length;
      while (cap <= i) cap *= 2;
      const hs = new Uint8Array(cap * HASH_SIZE);
      hs.set(this.hashes);
      const p = new Uint8Array(cap);
      p.set(this.present);
      this.hashes = hs;
      this.present = p;
    }
    this.hashes.set(h, i * HASH_SIZE);
    this.present[i] = 1;
  }
  finish(span: number): { hashes: Uint8Array; present: Uint8Array } {
    const hashes = new Uint8Array(span * HASH_SIZE);
    hashes.set(this.hashes.subarray(0, Math.min(this.hashes.length, span * HASH_SIZE)));
    const present = new Uint8Array(span);
    present.set(this.present.subarray(0, Math.min(this.present.length, span)));
    return { hashes, present };
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function checkRange(store: LogStore, from: number, to: number, ctx: RangeContext): Promise<RangeResult> {
  const problems: VerifyProblem[] = [];
  const add = (p: VerifyProblem) => problems.push(p);
  const S = new Packed();
  const R = new Packed();
  const mismatched: { seq: number; fields?: string[] }[] = [];
  const gaps: [number, number][] = [];
  const chainUsers = new Map<string, number[]>();
  let expected = from;
  let rowsRead = 0;
  let lastSeq = -1;
  let firstSeq = -1;
  let sigChecked = 0;
  let sigValid = 0;

  for (;;) {
    const limit = Math.min(ctx.pageSize, to - expected);
    if (limit <= 0) break;
    const rows = await store.readRows(expected, limit);
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = row['seq'];
      if (typeof seq !== 'number' || seq >= to) continue;
      rowsRead++;
      if (firstSeq < 0) firstSeq = seq;
      lastSeq = seq;
      if (seq > expected) gaps.push([expected, seq - 1]);
      expected = seq + 1;
      const at = seq - from;

      const conv = rowToEntry(row);
      for (const p of conv.problems)
        add({
          code: 'ENTRY_MALFORMED',
          severity: 'error',
          table: 'entries',
          entry: seq,
          fields: [p.column],
          message: `entry ${seq} column ${p.column}: ${p.message}`,
        });
      const e = conv.entry;
      let rHash: Uint8Array | undefined;
      let digests: Uint8Array | undefined;
      if (e) {
        try {
          const enc = leafHashWithDigests(e);
          rHash = enc.leafHash;
          digests = enc.fieldDigests;
        } catch (err) {
          add({
            code: 'ENTRY_MALFORMED',
            severity: 'error',
            table: 'entries',
            entry: seq,
            message: `entry ${seq} cannot be encoded: ${message(err)}`,
          });
        }
      }
      if (conv.leafHash) S.set(at, conv.leafHash);
      if (rHash) R.set(at, rHash);
      if (rHash && conv.leafHash && !equalBytes(rHash, conv.leafHash)) {
        const fields = conv.fieldDigests && digests ? differingFields(conv.fieldDigests, digests) : undefined;
        mismatched.push({ seq, ...(fields ? { fields } : {}) });
      } else if (digests && conv.fieldDigests && !equalBytes(digests, conv.fieldDigests)) {
        add({
          code: 'FIELD_DIGESTS_ALTERED',
          severity: 'error',
          table: 'entries',
          entry: seq,
          fields: ['field_digests'],
          message: `entry ${seq}: column field_digests was altered (the entry itself matches its leaf hash)`,
        });
      }
      if (!e) continue;

      // The signed material, checked against the transcript it must come from.
      let th: Uint8Array | undefined;
      if (!hashInfo(e.hashAlgo)) {
        add({
          code: 'TRANSCRIPT_HASH_MISMATCH',
          severity: 'error',
          table: 'entries',
          entry: seq,
          fields: ['hash_algo'],
          message: `entry ${seq}: unknown hash algorithm 0x${e.hashAlgo.toString(16)}`,
        });
      } else {
        try {
          th = digest(e.hashAlgo, e.transcript);
        } catch (err) {
          add({
            code: 'TRANSCRIPT_HASH_MISMATCH',
            severity: 'error',
            table: 'entries',
            entry: seq,
            fields: ['hash_algo'],
            message: `entry ${seq}: ${message(err)}`,
          });
        }
        if (th && !equalBytes(th, e.transcriptHash)) {
          add({
            code: 'TRANSCRIPT_HASH_MISMATCH',
            severity: 'error',
            table: 'entries',
            entry: seq,
            fields: ['transcript', 'transcript_hash'],
            message: `entry ${seq}: the transcript hashes to ${toHex(th)}, the entry records ${toHex(e.transcriptHash)}`,
          });
        }
      }
      // The recorded chain, looked up once per digest: the transcript binds it, the signature needs its leaf key.
      const hex = e.chainDigest ? toHex(e.chainDigest) : undefined;
      let known = false;
      if (hex && e.chainDigest) {
        let k = ctx.chainsKnown.get(hex);
        if (k === undefined) {
          const c = await store.readChain(e.chainDigest);
          if (c) ctx.checker.addChain(hex, c);
          k = c !== undefined;
          ctx.chainsKnown.set(hex, k);
        }
        known = k;
      }

      // Every side field against the signed transcript, read where the codecs put it.
      // A device's transcripts share their opening: looked for among those of the same chain, kind and version.
      const openings = ctx.openings ? { cache: ctx.openings, hint: `${hex ?? '-'}/${e.kind}/${e.version}` } : undefined;
      for (const p of entryTranscriptProblems(e, known && hex ? ctx.checker.chain(hex) : undefined, openings))
        add({
          code: p.code,
          severity: 'error',
          table: 'entries',
          entry: seq,
          fields: p.fields,
          message: `entry ${seq}: ${p.message}`,
        });

      // The device signature, with the leaf key of the stored chain.
      if (!hex) {
        // Nothing here can check this signature: it is not evidence of anything until it is.
        add({
          code: 'NO_CHAIN',
          severity: 'error',
          table: 'entries',
          entry: seq,
          fields: ['chain_digest'],
          message: `entry ${seq}: no certificate chain recorded; the signature cannot be re-verified`,
        });
        continue;
      }
      if (!known) {
        add({
          code: 'CHAIN_MISSING',
          severity: 'error',
          table: 'entries',
          entry: seq,
          fields: ['chain_digest'],
          message: `entry ${seq}: certificate chain ${hex} is not in the chains table`,
        });
        continue;
      }
      if (ctx.alteredChains.has(hex)) chainUsers.set(hex, [...(chainUsers.get(hex) ?? []), seq]);
      if (!th) continue;
      const r = ctx.checker.check({
        t: 'spdm',
        chain: hex,
        ...(e.slot === 0xff ? { publicKey: true } : {}),
        version: e.version,
        hashAlgo: e.hashAlgo,
        asymAlgo: e.asymAlgo,
        context: e.context,
        transcriptHash: th,
        transcript: e.transcript,
        signature: e.signature,
      });
      sigChecked++;
      if (r.ok) {
        sigValid++;
        // The entry says the requester found it invalid on receipt; a signature that verifies now
        // means the bytes or that record changed since.
        if (!e.verified)
          add({
            code: 'VERIFIED_FLAG_MISMATCH',
            severity: 'error',
            table: 'entries',
            entry: seq,
            fields: ['verified'],
            message: `entry ${seq}: recorded as not verified on receipt, but the signature verifies`,
          });
      } else if (!e.verified)
        add({
          code: 'SIGNATURE_INVALID_AT_RECEIPT',
          severity: 'warning',
          table: 'entries',
          entry: seq,
          fields: ['signature'],
          message: `entry ${seq}: the signature did not verify when it was received either (as logged): ${r.reason ?? ''}`,
        });
      else
        add({
          code: 'SIGNATURE_INVALID',
          severity: 'error',
          table: 'entries',
          entry: seq,
          fields: ['signature'],
          message: `entry ${seq}: ${r.reason ?? 'invalid'} (the signature or a field it covers was altered)`,
        });
    }
    ctx.onRows?.(rows.length);
    if (rows.length < limit) break;
  }
  if (Number.isFinite(to) && to !== Number.MAX_SAFE_INTEGER && expected < to) gaps.push([expected, to - 1]);
  const span = Math.max(0, (lastSeq >= 0 ? lastSeq + 1 : from) - from);
  const s = S.finish(span);
  const r = R.finish(span);
  return {
    from,
    to,
    stored: s.hashes,
    storedPresent: s.present,
    rebuilt: r.hashes,
    rebuiltPresent: r.present,
    span,
    rowsRead,
    firstSeq,
    lastSeq,
    problems,
    mismatched,
    gaps,
    chainUsers: [...chainUsers.entries()],
    signaturesChecked: sigChecked,
    signaturesValid: sigValid,
  };
}
