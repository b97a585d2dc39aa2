/** HMAC / HKDF known answers (RFC 5869 appendix A, test cases 1-3) and input limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { SpdmError } from '../../src/wire/errors.js';
import { hkdf, hkdfExpand, hkdfExpandBlock1, hkdfExtract, hmac, macEqual } from '../../src/crypto/kdf.js';
import { allHashes, isHashSupported } from '../../src/crypto/algorithms.js';

const SHA256 = 0x01;
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

const CASES = [
  {
    name: 'RFC 5869 A.1 (basic)',
    ikm: new Uint8Array(22).fill(0x0b),
    salt: range(0x00, 0x0c),
    info: range(0xf0, 0xf9),
    length: 42,
    prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'RFC 5869 A.2 (longer inputs and outputs)',
    ikm: range(0x00, 0x4f),
    salt: range(0x60, 0xaf),
    info: range(0xb0, 0xff),
    length: 82,
    prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
    okm:
      'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09' +
      'da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    name: 'RFC 5869 A.3 (zero-length salt and info)',
    ikm: new Uint8Array(22).fill(0x0b),
    salt: new Uint8Array(0),
    info: new Uint8Array(0),
    length: 42,
    prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

for (const c of CASES) {
  test(`HKDF-SHA256 ${c.name}: PRK and OKM`, () => {
    const prk = hkdfExtract(SHA256, c.salt, c.ikm);
    assert.equal(toHex(prk), c.prk);
    assert.equal(toHex(hkdfExpand(SHA256, prk, c.info, c.length)), c.okm);
    assert.equal(toHex(hkdf(SHA256, c.salt, c.ikm, c.info, c.length)), c.okm);
    // Node's own one-shot HKDF agrees.
    assert.equal(Buffer.from(hkdfSync('sha256', c.ikm, c.salt, c.info, c.length)).toString('hex'), c.okm);
  });
}

for (const h of allHashes().filter((x) => isHashSupported(x.id))) {
  test(`HKDF-Expand over ${h.name}: every length to 2 × HashLen + 1 is node's hkdfSync, with nothing past L in its buffer`, () => {
    // Every SPDM key schedule step asks for at most HashLen bytes: one block, which hkdfExpand
    // computes without the loop. Both sides of that boundary, for every hash, against node's own HKDF.
    const ikm = range(0x20, 0x20 + h.size - 1);
    const salt = range(0x01, 0x0d);
    const info = range(0x40, 0x5a);
    const prk = hkdfExtract(h.id, salt, ikm);
    for (let len = 1; len <= 2 * h.size + 1; len++) {
      const okm = hkdfExpand(h.id, prk, info, len);
      assert.equal(toHex(okm), Buffer.from(hkdfSync(h.node, ikm, salt, info, len)).toString('hex'), `L = ${len}`);
      // A caller that zeroes the OKM (or reads its ArrayBuffer) finds no more of the block there.
      const backing = new Uint8Array(okm.buffer);
      for (let i = 0; i < backing.length; i++)
        if (i < okm.byteOffset || i >= okm.byteOffset + okm.length)
          assert.equal(backing[i], 0, `L = ${len}, byte ${i}`);
    }
  });
}

for (const h of allHashes().filter((x) => isHashSupported(x.id))) {
  test(`HKDF-Expand of one block over ${h.name} (info ‖ 0x01 given whole): node's hkdfSync for every L to HashLen, nothing past L; longer L or a missing counter refused`, () => {
    const ikm = range(0x30, 0x30 + h.size - 1);
    const salt = range(0x02, 0x0e);
    const info = range(0x60, 0x7a);
    const infoBlock1 = Uint8Array.from([...info, 0x01]);
    const prk = hkdfExtract(h.id, salt, ikm);
    for (let len = 0; len <= h.size; len++) {
      const okm = hkdfExpandBlock1(h.id, prk, infoBlock1, len);
      const want = len === 0 ? '' : Buffer.from(hkdfSync(h.node, ikm, salt, info, len)).toString('hex');
      assert.equal(toHex(okm), want, `L = ${len}`);
      const backing = new Uint8Array(okm.buffer);
      for (let i = 0; i < backing.length; i++)
        if (i < okm.byteOffset || i >= okm.byteOffset + okm.length)
          assert.equal(backing[i], 0, `L = ${len}, byte ${i}`);
    }
    assert.throws(() => hkdfExpandBlock1(h.id, prk, infoBlock1, h.size + 1), SpdmError);
    assert.throws(() => hkdfExpandBlock1(h.id, prk, info, 16), TypeError);
  });
}

test('HMAC-SHA256 (RFC 4231 test case 2) and chunked input', () => {
  const key = new TextEncoder().encode('Jefe');
  const data = new TextEncoder().encode('what do ya want for nothing?');
  const want = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
  assert.equal(toHex(hmac(SHA256, key, data)), want);
  assert.equal(toHex(hmac(SHA256, key, data.subarray(0, 5), data.subarray(5))), want);
});

test('HKDF-Expand over SHA-384: lengths 0 .. 255 × HashLen, a longer output extends a shorter one; beyond is refused', () => {
  const prk = fromHex(
    '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
  );
  for (const len of [0, 1, 47, 48, 49, 96, 255 * 48]) {
    const ours = hkdfExpand(0x02, prk, Uint8Array.of(1, 2, 3), len);
    assert.equal(ours.length, len);
    if (len > 0)
      assert.deepEqual(
        ours.subarray(0, 1),
        hkdfExpand(0x02, prk, Uint8Array.of(1, 2, 3), 1),
        'a longer output extends a shorter one',
      );
  }
  assert.throws(() => hkdfExpand(0x02, prk, new Uint8Array(0), 255 * 48 + 1), SpdmError);
  assert.throws(() => hkdfExpand(0x02, prk, new Uint8Array(0), -1), SpdmError);
  assert.throws(
    () => hkdfExtract(0x1234, new Uint8Array(0), prk),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
  );
});

test('macEqual: equal, different, different length', () => {
  assert.ok(macEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)));
  assert.ok(!macEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)));
  assert.ok(!macEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2)));
});
