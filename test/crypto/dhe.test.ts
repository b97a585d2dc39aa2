/**
 * The SPDM DHE groups (crypto/dhe.ts): both sides of every group agree on the secret, in the
 * ExchangeData layout SPDM uses; a peer's ExchangeData is refused with a DecodeError naming the
 * field for a wrong length, a point off the curve or out of the field, an FFDHE value of 0, 1 or
 * p − 1 (or p and beyond); the RFC 5903 ECDH vectors give the known answers for P-256/384/521, and
 * the RFC 7919 primes are recomputed from the RFC's construction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { DecodeError, SpdmError } from '../../src/wire/errors.js';
import {
  allDheGroups,
  decodeDheExchangeData,
  DheGroup,
  DheKeyPair,
  dheInfo,
  ffdhePrime,
  isDheSupported,
  requireDhe,
} from '../../src/crypto/dhe.js';
import { dheExchangeSize } from '../../src/spdm/sizes.js';
import type { RandomSource } from '../../src/crypto/random.js';

const SUPPORTED = allDheGroups().filter((g) => g.supported);

/** A deterministic RandomSource: SHA-256 in counter mode over a seed. */
function seeded(seed: string): RandomSource {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

/** ⌊e · 2^bits⌋, from the series Σ 1/k! with 64 guard bits. */
function eTimesPowerOfTwo(bits: bigint): bigint {
  const one = 1n << (bits + 64n);
  let term = one;
  let sum = one;
  for (let k = 1n; term > 0n; k++) {
    term /= k;
    sum += term;
  }
  return sum >> 64n;
}

const isDecodeError = (field: string) => (e: unknown) =>
  e instanceof DecodeError && e.code === 'DECODE_ERROR' && e.field === field;

test('the group table: SPDM bits, ExchangeData sizes (spdm/sizes.ts reads them from here), SM2 unsupported', () => {
  assert.deepEqual(
    allDheGroups().map((g) => [g.id, g.name, g.exchangeSize]),
    [
      [0x01, 'ffdhe2048', 256],
      [0x02, 'ffdhe3072', 384],
      [0x04, 'ffdhe4096', 512],
      [0x08, 'secp256r1', 64],
      [0x10, 'secp384r1', 96],
      [0x20, 'secp521r1', 132],
      [0x40, 'SM2_P256', 64],
    ],
  );
  for (const g of allDheGroups()) assert.equal(dheExchangeSize(g.id), g.exchangeSize);
  assert.equal(isDheSupported(DheGroup.SM2_P256), false);
  assert.equal(isDheSupported(0x80), false);
  for (const bad of [DheGroup.SM2_P256, 0x80, 0x03]) {
    assert.throws(
      () => DheKeyPair.generate(bad),
      (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
    );
    assert.throws(
      () => decodeDheExchangeData(bad, new Uint8Array(64)),
      (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
    );
  }
  assert.equal(requireDhe(DheGroup.SECP384R1).secretSize, 48);
});

for (const g of SUPPORTED) {
  test(`${g.name}: both sides derive the same ${g.secretSize}-byte secret from each other's ExchangeData`, () => {
    const random = seeded(g.name);
    const requester = DheKeyPair.generate(g.id, { random });
    const responder = DheKeyPair.generate(g.id, { random });
    assert.equal(requester.exchangeData.length, g.exchangeSize);
    assert.equal(responder.exchangeData.length, g.exchangeSize);
    assert.notDeepEqual(requester.exchangeData, responder.exchangeData);
    const a = requester.sharedSecret(decodeDheExchangeData(g.id, responder.exchangeData));
    const b = responder.sharedSecret(decodeDheExchangeData(g.id, requester.exchangeData));
    assert.equal(a.length, g.secretSize);
    assert.deepEqual(a, b);
    // The RandomSource decides the key: the same seed gives the same pair.
    assert.deepEqual(DheKeyPair.generate(g.id, { random: seeded(g.name) }).exchangeData, requester.exchangeData);
    // Without one, the OS CSPRNG.
    const fresh = DheKeyPair.generate(g.id);
    assert.deepEqual(
      fresh.sharedSecret(decodeDheExchangeData(g.id, requester.exchangeData)),
      requester.sharedSecret(decodeDheExchangeData(g.id, fresh.exchangeData)),
    );
  });

  test(`${g.name}: a peer's ExchangeData of the wrong length is a DecodeError naming the message and offset`, () => {
    const good = DheKeyPair.generate(g.id, { random: seeded(`${g.name}-len`) }).exchangeData;
    for (const len of [0, g.exchangeSize - 1, g.exchangeSize + 1]) {
      const b = new Uint8Array(len);
      b.set(good.subarray(0, Math.min(len, good.length)));
      assert.throws(() => decodeDheExchangeData(g.id, b), isDecodeError('ExchangeData'));
    }
    assert.throws(
      () => decodeDheExchangeData(g.id, good.subarray(1), { messageName: 'KEY_EXCHANGE_RSP', offset: 40 }),
      (e: unknown) => e instanceof DecodeError && e.messageName === 'KEY_EXCHANGE_RSP' && e.offset === 40,
    );
  });
}

for (const g of SUPPORTED.filter((x) => x.kind === 'ecdhe')) {
  test(`${g.name}: points off the curve, coordinates not below p, and the all-zero point are refused`, () => {
    const s = g.secretSize;
    const good = DheKeyPair.generate(g.id, { random: seeded(`${g.name}-bad`) }).exchangeData;
    const offCurve = new Uint8Array(good);
    offCurve[g.exchangeSize - 1]! ^= 0x01;
    assert.throws(() => decodeDheExchangeData(g.id, offCurve), isDecodeError('ExchangeData'));
    assert.throws(() => decodeDheExchangeData(g.id, new Uint8Array(g.exchangeSize)), isDecodeError('ExchangeData'));
    // X = p (0xFF.. for P-521 is above p too): not a field element, whatever Y is.
    const bigX = new Uint8Array(good);
    bigX.fill(0xff, 0, s);
    assert.throws(() => decodeDheExchangeData(g.id, bigX), isDecodeError('ExchangeData.X'));
    const bigY = new Uint8Array(good);
    bigY.fill(0xff, s);
    assert.throws(
      () => decodeDheExchangeData(g.id, bigY, { offset: 40 }),
      (e: unknown) => isDecodeError('ExchangeData.Y')(e) && (e as DecodeError).offset === 40 + s,
    );
    // The same point with its coordinates swapped is not on the curve either (one in a huge number of chances).
    const swapped = new Uint8Array(g.exchangeSize);
    swapped.set(good.subarray(s), 0);
    swapped.set(good.subarray(0, s), s);
    assert.throws(() => decodeDheExchangeData(g.id, swapped), DecodeError);
  });
}

for (const g of SUPPORTED.filter((x) => x.kind === 'ffdhe')) {
  test(`${g.name}: y = 0, 1, p − 1, p and 2^bits − 1 are refused; 2 and p − 2 are accepted`, () => {
    const p = ffdhePrime(g.id);
    assert.ok(p !== undefined);
    const enc = (v: bigint) => fromHex(v.toString(16).padStart(g.exchangeSize * 2, '0'));
    for (const y of [0n, 1n, p - 1n, p, 2n ** BigInt(g.exchangeSize * 8) - 1n])
      assert.throws(() => decodeDheExchangeData(g.id, enc(y)), isDecodeError('ExchangeData'), `y = ${y}`);
    for (const y of [2n, p - 2n]) assert.equal(decodeDheExchangeData(g.id, enc(y)).group, g.id);
  });

  test(`${g.name}: the prime is RFC 7919's construction 2^b − 2^(b−64) + (⌊2^(b−130)·e⌋ + X)·2^64 − 1`, () => {
    const p = ffdhePrime(g.id);
    assert.ok(p !== undefined);
    const b = BigInt(g.exchangeSize * 8);
    // RFC 7919 Appendix A: the X that makes each p a safe prime.
    const X = new Map([
      [2048n, 560316n],
      [3072n, 2625351n],
      [4096n, 5736041n],
    ]).get(b);
    assert.ok(X !== undefined);
    assert.equal(p, 2n ** b - 2n ** (b - 64n) + (eTimesPowerOfTwo(b - 130n) + X) * 2n ** 64n - 1n);
  });
}

test('a small FFDHE private key gives the public value 2^x mod p, padded to |p|', () => {
  const kp = DheKeyPair.generate(DheGroup.FFDHE2048, { privateKey: Uint8Array.of(10) });
  assert.equal(kp.exchangeData.length, 256);
  assert.equal(toHex(kp.exchangeData), '00'.repeat(254) + '0400', '2^10 = 0x400, zero-padded');
  // Our secret with the peer value 2^10 is 2^100 — both 2^100 and the padding are exact.
  const peer = decodeDheExchangeData(DheGroup.FFDHE2048, kp.exchangeData);
  assert.equal(toHex(kp.sharedSecret(peer)), (2n ** 100n).toString(16).padStart(512, '0'));
  assert.throws(() => DheKeyPair.generate(DheGroup.FFDHE2048, { privateKey: Uint8Array.of(1) }), TypeError);
});

/** RFC 5903 §8: the initiator's i and g^i, the responder's r and g^r, and the shared X coordinate. */
const RFC5903 = [
  {
    group: DheGroup.SECP256R1,
    i: 'c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433',
    gix: 'dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180',
    giy: '5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3',
    r: 'c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53',
    grx: 'd12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63',
    gry: '56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab',
    girx: 'd6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de',
  },
  {
    group: DheGroup.SECP384R1,
    i: '099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194',
    gix: '667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa',
    giy: '9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c',
    r: '41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc',
    grx: 'e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571',
    gry: 'dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c',
    girx: '11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746',
  },
  {
    group: DheGroup.SECP521R1,
    i:
      '0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d937ba9777' +
      'f5957b2639bab072462f68c27a57382d4a52',
    gix:
      '0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42e00b8e380aeae57c2d107564' +
      '941885942af5a7f4601723c4195d176ced3e',
    giy:
      '017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6c' +
      'f2261a6a7f1507438bf01beb6ca3926f9582',
    r:
      '0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a3163e4c2' +
      'f869cca7458aa4a4effc311f5cb151685eb9',
    grx:
      '00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356436adc6e95bb0352f6be64a6' +
      'c2912d4ef2d0433ced2b6171640012d9460f',
    gry:
      '015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae' +
      '49cb57091f4732296579ab44fcd17f0fc56a',
    girx:
      '01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a34786859810c06' +
      'b3c715a3a8cc3151f2bee417996d19f3ddea',
  },
];

for (const v of RFC5903) {
  const name = dheInfo(v.group)?.name ?? '';
  test(`${name}: RFC 5903 known answer — ExchangeData is g^i = X ‖ Y, and the shared secret is girx both ways`, () => {
    const initiator = DheKeyPair.generate(v.group, { privateKey: fromHex(v.i) });
    const responder = DheKeyPair.generate(v.group, { privateKey: fromHex(v.r) });
    assert.equal(toHex(initiator.exchangeData), v.gix + v.giy);
    assert.equal(toHex(responder.exchangeData), v.grx + v.gry);
    assert.equal(toHex(initiator.sharedSecret(decodeDheExchangeData(v.group, fromHex(v.grx + v.gry)))), v.girx);
    assert.equal(toHex(responder.sharedSecret(decodeDheExchangeData(v.group, fromHex(v.gix + v.giy)))), v.girx);
  });
}

test('a peer key of another group is a TypeError (the caller decoded it for the wrong group)', () => {
  const a = DheKeyPair.generate(DheGroup.SECP256R1, { random: seeded('x') });
  const b = DheKeyPair.generate(DheGroup.SECP384R1, { random: seeded('y') });
  assert.throws(() => a.sharedSecret(decodeDheExchangeData(DheGroup.SECP384R1, b.exchangeData)), TypeError);
});
