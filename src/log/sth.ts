/**
 * Signed tree heads. The log key signs, with Ed25519 (pure, RFC 8032), these bytes:
 *
 *   "spdmkit signature log tree head v1" || 0x00     35 bytes, domain separation
 *   log_id                                           32 bytes, SHA-256 of the log key's SPKI
 *   tree_size                                        u64 big-endian
 *   timestamp                                        u64 big-endian, milliseconds since the epoch
 *   root_hash                                        32 bytes, MTH of the first tree_size leaves
 *
 * Binding the log id means a head cannot be replayed as another log's.
 */
import type { KeyObject } from 'node:crypto';
import { equalBytes, fromHex, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { ed25519Sign, ed25519Verify } from './log-key.js';
import { HASH_SIZE } from './merkle.js';

export const STH_LABEL = 'spdmkit signature log tree head v1';

export interface TreeHead {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
}

export interface SignedTreeHead extends TreeHead {
  readonly timestamp: number;
  readonly signature: Uint8Array;
}

export interface SignedTreeHeadJson {
  readonly treeSize: number;
  readonly timestamp: number;
  readonly time: string;
  readonly rootHash: string;
  readonly signature: string;
  readonly logId?: string;
}

function u64(v: number, what: string): Uint8Array {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new SpdmError('ENCODE_ERROR', `tree head ${what} ${v} is not a non-negative integer`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v), false);
  return out;
}

export function sthSignedBytes(
  logId: Uint8Array,
  h: { treeSize: number; timestamp: number; rootHash: Uint8Array },
): Uint8Array {
  if (logId.length !== HASH_SIZE || h.rootHash.length !== HASH_SIZE)
    throw new SpdmError('ENCODE_ERROR', 'log id and root hash are 32 bytes');
  const label = new Uint8Array(Buffer.from(STH_LABEL, 'latin1'));
  const out = new Uint8Array(label.length + 1 + 32 + 8 + 8 + 32);
  let o = 0;
  out.set(label, o);
  o += label.length + 1;
  out.set(logId, o);
  o += 32;
  out.set(u64(h.treeSize, 'size'), o);
  o += 8;
  out.set(u64(h.timestamp, 'timestamp'), o);
  o += 8;
  out.set(h.rootHash, o);
  return out;
}

export function signTreeHead(
  privateKey: KeyObject,
  logId: Uint8Array,
  head: TreeHead,
  timestamp: number,
): SignedTreeHead {
  const h = { treeSize: head.treeSize, rootHash: head.rootHash, timestamp };
  return { ...h, signature: ed25519Sign(privateKey, sthSignedBytes(logId, h)) };
}

export function verifyTreeHead(publicKey: KeyObject, logId: Uint8Array, sth: SignedTreeHead): boolean {
  try {
    return ed25519Verify(publicKey, sthSignedBytes(logId, sth), sth.signature);
  } catch {
    return false;
  }
}

export function sthToJson(sth: SignedTreeHead, logId?: Uint8Array): SignedTreeHeadJson {
  return {
    treeSize: sth.treeSize,
    timestamp: sth.timestamp,
    time: new Date(sth.timestamp).toISOString(),
    rootHash: toHex(sth.rootHash),
    signature: toHex(sth.signature),
    ...(logId ? { logId: toHex(logId) } : {}),
  };
}

export function sthFromJson(j: unknown): SignedTreeHead & { logId?: Uint8Array } {
  const o = j as Record<string, unknown>;
  const bad = (f: string) =>
    new SpdmError('DECODE_ERROR', `signed tree head: field ${f} missing or malformed`, { field: f });
  if (typeof o !== 'object' || o === null) throw bad('(object)');
  const int = (f: string) => {
    const v = o[f];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(f);
    return v;
  };
  const hex = (f: string, len?: number) => {
    const v = o[f];
    if (typeof v !== 'string') throw bad(f);
    let b: Uint8Array;
    try {
      b = fromHex(v);
    } catch {
      throw bad(f);
    }
    if (len !== undefined && b.length !== len) throw bad(f);
    return b;
  };
  return {
    treeSize: int('treeSize'),
    timestamp: int('timestamp'),
    rootHash: hex('rootHash', HASH_SIZE),
    signature: hex('signature'),
    ...(o['logId'] !== undefined ? { logId: hex('logId', HASH_SIZE) } : {}),
  };
}

export function sameTreeHead(a: TreeHead, b: TreeHead): boolean {
  return a.treeSize === b.treeSize && equalBytes(a.rootHash, b.rootHash);
}
