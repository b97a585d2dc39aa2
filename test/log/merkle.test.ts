/** The Merkle tree against RFC 6962/9162 reference vectors and a naive implementation, every (m, n) up to 64. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  EMPTY_ROOT,
  Frontier,
  consistencyPath,
  inclusionPath,
  leafHash,
  rootFromInclusionPath,
  rootOf,
  subtreeRoot,
  SubtreeLevels,
  verifyConsistency,
  verifyInclusion,
} from '../../src/log/merkle.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

// The certificate-transparency test leaves and roots (merkle_tree_test.cc; also in transparency-dev/merkle).
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(unhex);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// (leaf index 0-based, tree size, path)
const CT_INCLUSION: [number, number, string[]][] = [
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
const CT_CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

const LEAVES = CT_LEAVES.map(leafHash);

// Naive MTH straight from the RFC's recursive definition, independent of merkle.ts.
function sha(...p: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const x of p) h.update(x);
  return new Uint8Array(h.digest());
}
function naiveMth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(new Uint8Array([1]), naiveMth(leaves.slice(0, k)), naiveMth(leaves.slice(k)));
}

test('leaf and empty-tree hashes follow RFC 9162 (0x00 prefix, SHA-256 of nothing)', () => {
  assert.equal(hex(EMPTY_ROOT), CT_ROOTS[0]);
  assert.equal(hex(leafHash(new Uint8Array(0))), CT_ROOTS[1]);
  assert.equal(hex(LEAVES[0] as Uint8Array), hex(sha(new Uint8Array([0]))));
});

test('MTH of the CT test leaves for every size 0..8 matches the published roots', () => {
  for (let n = 0; n <= 8; n++) {
    assert.equal(hex(rootOf(LEAVES.slice(0, n))), CT_ROOTS[n], `size ${n}`);
    const f = new Frontier();
    for (const l of LEAVES.slice(0, n)) f.append(l);
    assert.equal(hex(f.root()), CT_ROOTS[n], `incremental size ${n}`);
  }
});

test('inclusion proofs equal the CT vectors and verify', () => {
  for (const [index, size, path] of CT_INCLUSION) {
    const p = inclusionPath(LEAVES, index, size);
    assert.deepEqual(p.map(hex), path, `leaf ${index} of ${size}`);
    assert.ok(verifyInclusion(index, size, LEAVES[index] as Uint8Array, p, unhex(CT_ROOTS[size] as string)));
    assert.ok(!verifyInclusion(index, size, LEAVES[index] as Uint8Array, p, unhex(CT_ROOTS[size - 1] as string)));
  }
});

test('consistency proofs equal the CT vectors and verify', () => {
  for (const [m, n, path] of CT_CONSISTENCY) {
    const p = consistencyPath(LEAVES, m, n);
    assert.deepEqual(p.map(hex), path, `${m} -> ${n}`);
    assert.ok(verifyConsistency(m, n, unhex(CT_ROOTS[m] as string), unhex(CT_ROOTS[n] as string), p));
  }
});

const many = Array.from({ length: 64 }, (_, i) => leafHash(new Uint8Array([i, (i * 37) & 0xff, i >> 3])));
const naiveRoots = Array.from({ length: 65 }, (_, n) => naiveMth(many.slice(0, n)));

test('roots of every size 0..64 equal the naive recursive MTH (Frontier, subtreeRoot, encode/decode)', () => {
  const f = new Frontier();
  for (let n = 0; n <= 64; n++) {
    assert.equal(hex(f.root()), hex(naiveRoots[n] as Uint8Array), `frontier ${n}`);
    assert.equal(hex(subtreeRoot(many, 0, n)), hex(naiveRoots[n] as Uint8Array));
    const g = Frontier.decode(n, f.encode());
    assert.equal(hex(g.root()), hex(f.root()));
    if (n < 64) f.append(many[n] as Uint8Array);
  }
  assert.throws(() => Frontier.decode(5, new Uint8Array(32)), /frontier/);
});

test('inclusion proofs for every leaf of every tree size up to 64 verify, and fail for any other leaf, index, size or root', () => {
  for (let n = 1; n <= 64; n++) {
    const root = naiveRoots[n] as Uint8Array;
    for (let m = 0; m < n; m++) {
      const p = inclusionPath(many, m, n);
      const leaf = many[m] as Uint8Array;
      assert.ok(verifyInclusion(m, n, leaf, p, root), `leaf ${m} of ${n}`);
      assert.equal(hex(rootFromInclusionPath(m, n, leaf, p) as Uint8Array), hex(root));
      assert.ok(!verifyInclusion(m, n, many[(m + 1) % 64] as Uint8Array, p, root), 'other leaf');
      if (n > 1) assert.ok(!verifyInclusion((m + 1) % n, n, leaf, p, root), 'other index');
      if (n < 64) assert.ok(!verifyInclusion(m, n + 1, leaf, p, naiveRoots[n + 1] as Uint8Array), 'other size');
      assert.ok(!verifyInclusion(m, n, leaf, p, naiveRoots[n - 1] as Uint8Array), 'other root');
      if (p.length > 0) {
        const bad = p.map((x) => x.slice());
        bad[0] = Uint8Array.from(bad[0] as Uint8Array, (x, i) => (i === 0 ? x ^ 1 : x));
        assert.ok(!verifyInclusion(m, n, leaf, bad, root), 'altered path');
        assert.ok(!verifyInclusion(m, n, leaf, p.slice(0, -1), root), 'short path');
      }
      assert.ok(!verifyInclusion(m, n, leaf, [...p, root], root), 'long path');
    }
    assert.throws(() => inclusionPath(many, n, n));
  }
});

test('consistency proofs for every 0 <= m <= n <= 64 verify, and fail against other roots or sizes', () => {
  for (let n = 0; n <= 64; n++) {
    for (let m = 0; m <= n; m++) {
      const p = consistencyPath(many, m, n);
      const r1 = naiveRoots[m] as Uint8Array;
      const r2 = naiveRoots[n] as Uint8Array;
      assert.ok(verifyConsistency(m, n, r1, r2, p), `${m} -> ${n}`);
      if (m > 0 && m < n) {
        assert.ok(!verifyConsistency(m, n, naiveRoots[m - 1] as Uint8Array, r2, p), `${m} -> ${n} wrong old root`);
        assert.ok(!verifyConsistency(m, n, r1, naiveRoots[n - 1] as Uint8Array, p), `${m} -> ${n} wrong new root`);
        assert.ok(!verifyConsistency(m, n, r1, r2, p.slice(1)), `${m} -> ${n} short proof`);
        if (n < 64)
          assert.ok(
            !verifyConsistency(m, n + 1, r1, naiveRoots[n + 1] as Uint8Array, p),
            `${m} -> ${n} claimed as ${n + 1}`,
          );
        const bad = p.map((x) => x.slice());
        bad[bad.length - 1] = Uint8Array.from(bad[bad.length - 1] as Uint8Array, (x, i) => (i === 31 ? x ^ 0x80 : x));
        assert.ok(!verifyConsistency(m, n, r1, r2, bad), `${m} -> ${n} altered proof`);
      }
    }
  }
  assert.ok(!verifyConsistency(3, 2, naiveRoots[3] as Uint8Array, naiveRoots[2] as Uint8Array, []));
  assert.ok(!verifyConsistency(4, 4, naiveRoots[4] as Uint8Array, naiveRoots[5] as Uint8Array, []));
});

test('SubtreeLevels (the streaming export) gives the same roots and consistency proofs as the leaf-list functions, every 0 <= m <= n <= 64', () => {
  const levels = new SubtreeLevels();
  for (let n = 0; n <= 64; n++) {
    if (n > 0) levels.append(many[n - 1] as Uint8Array);
    assert.equal(hex(levels.root(0, n)), hex(naiveRoots[n] as Uint8Array), `root ${n}`);
    for (let m = 0; m <= n; m++)
      assert.deepEqual(levels.consistencyPath(m, n).map(hex), consistencyPath(many, m, n).map(hex), `${m} -> ${n}`);
  }
  assert.throws(() => levels.root(1, 3), RangeError, 'an unaligned range');
});
