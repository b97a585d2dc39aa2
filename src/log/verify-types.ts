/** Problems a log verification reports (verify.ts). */
export type ProblemCode =
  | 'META_INVALID'
  | 'KEY_MISMATCH'
  | 'STH_MALFORMED'
  | 'STH_SIGNATURE_INVALID'
  | 'STH_TIMESTAMP_DECREASES'
  | 'NO_VALID_STH'
  | 'ENTRY_MISSING'
  | 'TRUNCATED'
  | 'UNSIGNED_ENTRIES'
  | 'ENTRY_MALFORMED'
  | 'ENTRY_ALTERED'
  | 'ENTRY_MOVED'
  | 'LEAF_HASH_ALTERED'
  | 'FIELD_DIGESTS_ALTERED'
  | 'ENTRIES_REWRITTEN'
  | 'TRANSCRIPT_HASH_MISMATCH'
  | 'NOT_IN_TRANSCRIPT'
  | 'TRANSCRIPT_MISMATCH'
  | 'VERIFIED_FLAG_MISMATCH'
  | 'KIND_UNKNOWN'
  | 'CONTEXT_MISMATCH'
  | 'CHAIN_MISSING'
  | 'CHAIN_ALTERED'
  | 'CHAIN_MALFORMED'
  | 'NO_CHAIN'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_INVALID_AT_RECEIPT'
  | 'STATE_MISMATCH'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_MISMATCH';

export interface VerifyProblem {
  readonly code: ProblemCode;
  readonly severity: 'error' | 'warning';
  readonly table: 'meta' | 'entries' | 'chains' | 'sth' | 'log_state' | 'checkpoint';
  readonly entry?: number;
  /** First and last index (inclusive) when the problem concerns a range of entries. */
  readonly entries?: readonly [number, number];
  /** Columns concerned (entries: leaf field columns, leaf_hash, field_digests). */
  readonly fields?: readonly string[];
  readonly chainDigest?: string;
  readonly treeSize?: number;
  readonly message: string;
}
