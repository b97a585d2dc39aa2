/**
 * The Merkle tree of RFC 9162 §2.1 (same as RFC 6962 §2.1), over SHA-256:
 *
 *   MTH({})      = SHA-256()
 *   leaf hash    = SHA-256(0x00 || leaf bytes)
 *   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   k = largest power of two < n
 *
 * with the audit path (§2.1.3) and consistency proof (§2.1.4) and their verification algorithms.
 * Everything here works on leaf *hashes*; the leaf bytes are entry.ts's business.
 */
import { BaseHashAlgo } from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import { equalBytes } from '../wire/bytes.js';

export const HASH_SIZE = 32;
const LEAF_PREFIX = new Uint8Array([0x00]);

export function sha256(...parts: Uint8Array[]): Uint8Array {
  return digest(BaseHashAlgo.SHA_256, ...parts);
}

/** SHA-256(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, leaf);
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  // One 65-byte buffer and a one-shot hash: two of these per entry and frontier when a log is verified.
  const b = new Uint8Array(1 + left.length + right.length);
  b[0] = 0x01;
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return sha256(b);
}

/** MTH of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256();

/** Largest power of two strictly smaller than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * The perfect subtrees a log of `size` leaves decomposes into, largest first (one per set bit of
 * `size`). Appending a leaf merges equal-sized subtrees like binary addition; the root is the
 * right fold of the list, which is exactly MTH for any size. Stored by writers so an append costs
 * O(log n) hashes and no read of older leaves.
 */
export class Frontier {
  private nodes: Uint8Array[];
  private count: number;

  constructor(size = 0, nodes: readonly Uint8Array[] = []) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad tree size ${size}`);
    if (nodes.length !== popcount(size))
      throw new RangeError(`a tree of ${size} leaves has ${popcount(size)} frontier nodes, got ${nodes.length}`);
    this.count = size;
    this.nodes = [...nodes];
  }

  get size(): number {
    return this.count;
  }

  get hashes(): readonly Uint8Array[] {
    return this.nodes;
  }

  clone(): Frontier {
    return new Frontier(this.count, this.nodes);
  }

  append(leafHashValue: Uint8Array): void {
    let h = leafHashValue;
    let n = this.count;
    // Each trailing one bit of the old size is a subtree of the same height as `h`: merge it.
    while (n & 1) {
      const left = this.nodes.pop() as Uint8Array;
      h = nodeHash(left, h);
      n = Math.floor(n / 2);
    }
    this.nodes.push(h);
    this.count++;
  }

  root(): Uint8Array {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let r = this.nodes[this.nodes.length - 1] as Uint8Array;
    for (let i = this.nodes.length - 2; i >= 0; i--) r = nodeHash(this.nodes[i] as Uint8Array, r);
    return r;
  }

  /** Serialised as the concatenated node hashes (the size is stored beside it). */
  encode(): Uint8Array {
    const out = new Uint8Array(this.nodes.length * HASH_SIZE);
    this.nodes.forEach((h, i) => out.set(h, i * HASH_SIZE));
    return out;
  }

  static decode(size: number, bytes: Uint8Array): Frontier {
    if (bytes.length !== popcount(size) * HASH_SIZE)
      throw new RangeError(`frontier of ${bytes.length} bytes does not fit a tree of ${size} leaves`);
    const nodes: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += HASH_SIZE) nodes.push(bytes.slice(o, o + HASH_SIZE));
    return new Frontier(size, nodes);
  }
}

function popcount(n: number): number {
  let c = 0;
  let x = n;
  while (x > 0) {
    c += x % 2;
    x = Math.floor(x / 2);
  }
  return c;
}

/** MTH(D[start:end]) over leaf hashes. */
export function subtreeRoot(leaves: readonly Uint8Array[], start = 0, end = leaves.length): Uint8Array {
  if (start < 0 || end > leaves.length || start > end)
    throw new RangeError(`bad range [${start}, ${end}) of ${leaves.length} leaves`);
  const f = new Frontier();
  for (let i = start; i < end; i++) f.append(leaves[i] as Uint8Array);
  return f.root();
}

/** MTH(D[n]) over all the given leaf hashes. */
export function rootOf(leaves: readonly Uint8Array[]): Uint8Array {
  return subtreeRoot(leaves);
}

function checkSizes(leaves: readonly Uint8Array[], n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > leaves.length)
    throw new RangeError(`tree size ${n} out of range (log has ${leaves.length} leaves)`);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): the audit path of leaf `m` in the tree of the first `n` leaves, leaf side first. */
export function inclusionPath(leaves: readonly Uint8Array[], m: number, n: number = leaves.length): Uint8Array[] {
  checkSizes(leaves, n);
  if (!Number.isSafeInteger(m) || m < 0 || m >= n)
    throw new RangeError(`leaf index ${m} is not in a tree of ${n} leaves`);
  const path: Uint8Array[] = [];
  // Iterative form of the recursion: walk down, collecting siblings root side first, then reverse.
  let lo = 0;
  let hi = n;
  let idx = m;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (idx < k) {
      path.push(subtreeRoot(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(subtreeRoot(leaves, lo, lo + k));
      lo += k;
      idx -= k;
    }
  }
  return path.reverse();
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]): proves the tree of the first m leaves is a prefix of the tree of n. */
export function consistencyPath(leaves: readonly Uint8Array[], m: number, n: number = leaves.length): Uint8Array[] {
  checkSizes(leaves, n);
  return consistencyPathWith((lo, hi) => subtreeRoot(leaves, lo, hi), m, n);
}

/**
 * Every perfect aligned subtree's hash, level by level, built as leaves are appended: level j holds
 * the roots of D[i·2^j : (i+1)·2^j]. Any MTH(D[lo:hi]) whose lo is aligned to the largest power of
 * two below hi − lo (every range a consistency proof asks for) then costs O(log n) lookups, so a
 * reader streaming a log (the export) can prove every head consistent with the one before in one
 * pass. About 64 bytes per leaf.
 */
export class SubtreeLevels {
  private readonly levels: Uint8Array[][] = [[]];

  get size(): number {
    return (this.levels[0] as Uint8Array[]).length;
  }

  append(leafHash: Uint8Array): void {
    let h = leafHash;
    for (let j = 0; ; j++) {
      const level = this.levels[j] ?? (this.levels[j] = []);
      level.push(h);
      if (level.length % 2 === 1) return;
      h = nodeHash(level[level.length - 2] as Uint8Array, h);
    }
  }

  /** MTH(D[lo:hi]) for lo a multiple of the largest power of two below hi − lo (RangeError otherwise). */
  root(lo: number, hi: number): Uint8Array {
    if (lo < 0 || hi > this.size || lo > hi) throw new RangeError(`bad range [${lo}, ${hi}) of ${this.size} leaves`);
    if (lo === hi) return sha256();
    const size = hi - lo;
    if (isPowerOfTwo(size)) {
      const j = Math.log2(size);
      if (lo % size !== 0) throw new RangeError(`[${lo}, ${hi}) is not an aligned subtree`);
      return (this.levels[j] as Uint8Array[])[lo / size] as Uint8Array;
    }
    const k = splitPoint(size);
    return nodeHash(this.root(lo, lo + k), this.root(lo + k, hi));
  }

  consistencyPath(m: number, n: number): Uint8Array[] {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.size)
      throw new RangeError(`tree size ${n} out of range (${this.size} leaves)`);
    return consistencyPathWith((lo, hi) => this.root(lo, hi), m, n);
  }
}

function consistencyPathWith(subtree: (lo: number, hi: number) => Uint8Array, m: number, n: number): Uint8Array[] {
  if (!Number.isSafeInteger(m) || m < 0 || m > n)
    throw new RangeError(`first tree size ${m} must be between 0 and ${n}`);
  if (m === 0 || m === n) return [];
  const out: Uint8Array[] = [];
  // SUBPROOF(m, D[lo:hi], b), iteratively; nodes are collected root side first and reversed.
  let lo = 0;
  let hi = n;
  let mm = m;
  let b = true;
  for (;;) {
    const size = hi - lo;
    if (mm === size) {
      if (!b) out.push(subtree(lo, hi));
      break;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      out.push(subtree(lo + k, hi));
      hi = lo + k;
    } else {
      out.push(subtree(lo, lo + k));
      lo += k;
      mm -= k;
      b = false;
    }
  }
  return out.reverse();
}

/** RFC 9162 §2.1.3.2: the root an audit path leads to, or undefined when the path has the wrong shape. */
export function rootFromInclusionPath(
  leafIndex: number,
  treeSize: number,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize)
    return undefined;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const r = rootFromInclusionPath(leafIndex, treeSize, leaf, path);
  return r !== undefined && equalBytes(r, root);
}

/**
 * RFC 9162 §2.1.4.2. The RFC defines proofs for 0 < first < second; the edge cases follow the
 * usual convention: first == second needs an empty proof and equal roots, first == 0 an empty proof
 * (every tree extends the empty one).
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  path: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (first === second) return path.length === 0 && equalBytes(firstRoot, secondRoot);
  if (first === 0) return path.length === 0;
  if (path.length === 0) return false;
  const p = isPowerOfTwo(first) ? [firstRoot, ...path] : [...path];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = p[0] as Uint8Array;
  let sr = fr;
  for (let i = 1; i < p.length; i++) {
    const c = p[i] as Uint8Array;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}
