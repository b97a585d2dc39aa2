import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slabCopy } from '../../src/wire/slab.js';
import { concat, hexOfParts, toHex } from '../../src/wire/bytes.js';

test('slabCopy: equal bytes, sharing no memory with the original or with other copies', () => {
  for (const n of [0, 1, 64, 65, 200, 1500, 4096, 4097, 20_000]) {
    const src = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
    const a = slabCopy(src);
    const b = slabCopy(src);
    assert.deepEqual(a, src, `${n} bytes`);
    if (n === 0) continue;
    src[0] = (src[0]! + 1) & 0xff;
    a[n - 1] = (a[n - 1]! + 1) & 0xff;
    assert.equal(b[0], (src[0] - 1) & 0xff, 'a copy does not follow its original');
    assert.notEqual(b[n - 1], a[n - 1], 'copies do not share bytes');
  }
});

test('slabCopy: many copies across slab boundaries each keep their own bytes', () => {
  const copies = Array.from({ length: 200 }, (_, i) => slabCopy(new Uint8Array(700 + i).fill(i)));
  copies.forEach((c, i) => {
    assert.equal(c.length, 700 + i);
    assert.ok(c.every((x) => x === i));
  });
});

test('hexOfParts is toHex(concat(parts)), for one part, many, none, and more than the scratch holds', () => {
  const part = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);
  for (const parts of [
    [],
    [part(5, 1)],
    [part(4, 1), part(0, 2), part(300, 3), part(1800, 4)],
    [part(5000, 5), part(70_000, 6)],
    [part(3000, 7), part(3000, 8), part(3000, 9)],
  ]) {
    assert.equal(hexOfParts(parts), toHex(concat(parts)));
  }
  // A second call overwrites the scratch: the first call's text is unaffected.
  const first = hexOfParts([part(10, 1), part(10, 2)]);
  hexOfParts([part(10, 3), part(10, 4)]);
  assert.equal(first, toHex(concat([part(10, 1), part(10, 2)])));
});
