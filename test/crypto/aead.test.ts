/** AEAD known answers (GCM spec test cases 4 and 16, RFC 8439 §2.8.2) and hostile input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { SpdmError } from '../../src/wire/errors.js';
import { AeadAlgo, aeadDecrypt, aeadEncrypt, aeadInfo, isAeadSupported, requireAead } from '../../src/crypto/aead.js';

const GCM_PLAIN = fromHex(
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
);
const GCM_AAD = fromHex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
const GCM_IV = fromHex('cafebabefacedbaddecaf888');

const VECTORS = [
  {
    name: 'AES-128-GCM (GCM spec test case 4)',
    id: AeadAlgo.AES_128_GCM,
    key: fromHex('feffe9928665731c6d6a8f9467308308'),
    nonce: GCM_IV,
    aad: GCM_AAD,
    plain: GCM_PLAIN,
    cipher:
      '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
  {
    name: 'AES-256-GCM (GCM spec test case 16)',
    id: AeadAlgo.AES_256_GCM,
    key: fromHex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308'),
    nonce: GCM_IV,
    aad: GCM_AAD,
    plain: GCM_PLAIN,
    cipher:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  {
    name: 'ChaCha20-Poly1305 (RFC 8439 §2.8.2)',
    id: AeadAlgo.CHACHA20_POLY1305,
    key: Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i),
    nonce: fromHex('070000004041424344454647'),
    aad: fromHex('50515253c0c1c2c3c4c5c6c7'),
    plain: new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    ),
    cipher:
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
      '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
      '3ff4def08e4b7a9de576d26586cec64b6116',
    tag: '1ae10b594f09e26a7e902ecbd0600691',
  },
];

for (const v of VECTORS) {
  test(`${v.name}: encrypt gives the published ciphertext and tag, decrypt inverts it`, () => {
    const { ciphertext, tag } = aeadEncrypt(v.id, v.key, v.nonce, v.plain, v.aad);
    assert.equal(toHex(ciphertext), v.cipher);
    assert.equal(toHex(tag), v.tag);
    assert.deepEqual(aeadDecrypt(v.id, v.key, v.nonce, fromHex(v.cipher), v.aad, fromHex(v.tag)), v.plain);
  });

  test(`${v.name}: any flipped bit in ciphertext, AAD, tag, nonce or key gives null, never an exception`, () => {
    const c = fromHex(v.cipher);
    const t = fromHex(v.tag);
    const flip = (b: Uint8Array, i: number) => {
      const x = Uint8Array.from(b);
      x[i] = (x[i] as number) ^ 0x01;
      return x;
    };
    assert.equal(aeadDecrypt(v.id, v.key, v.nonce, flip(c, 7), v.aad, t), null);
    assert.equal(aeadDecrypt(v.id, v.key, v.nonce, c, flip(v.aad, 0), t), null);
    assert.equal(aeadDecrypt(v.id, v.key, v.nonce, c, v.aad, flip(t, 15)), null);
    assert.equal(aeadDecrypt(v.id, v.key, flip(v.nonce, 11), c, v.aad, t), null);
    assert.equal(aeadDecrypt(v.id, flip(v.key, 0), v.nonce, c, v.aad, t), null);
    // Wrong sizes are bad input, not a crash.
    assert.equal(aeadDecrypt(v.id, v.key.subarray(1), v.nonce, c, v.aad, t), null);
    assert.equal(aeadDecrypt(v.id, v.key, v.nonce.subarray(1), c, v.aad, t), null);
    assert.equal(aeadDecrypt(v.id, v.key, v.nonce, c, v.aad, t.subarray(0, 12)), null);
    assert.equal(aeadDecrypt(v.id, v.key, v.nonce, c.subarray(0, c.length - 1), v.aad, t), null);
    assert.equal(aeadDecrypt(v.id, v.key, v.nonce, new Uint8Array(0), new Uint8Array(0), t), null);
  });
}

test('empty plaintext (authenticate-only records): the tag covers the AAD alone', () => {
  const key = new Uint8Array(32).fill(7);
  const nonce = new Uint8Array(12).fill(9);
  const aad = new TextEncoder().encode('header and clear application data');
  const { ciphertext, tag } = aeadEncrypt(AeadAlgo.AES_256_GCM, key, nonce, new Uint8Array(0), aad);
  assert.equal(ciphertext.length, 0);
  assert.deepEqual(aeadDecrypt(AeadAlgo.AES_256_GCM, key, nonce, new Uint8Array(0), aad, tag), new Uint8Array(0));
  assert.equal(aeadDecrypt(AeadAlgo.AES_256_GCM, key, nonce, new Uint8Array(0), aad.subarray(1), tag), null);
});

test('SM4-GCM and unknown suites are refused as unsupported; encrypting with a wrong key size is an error', () => {
  assert.equal(aeadInfo(AeadAlgo.SM4_GCM)?.name, 'SM4-GCM');
  assert.equal(isAeadSupported(AeadAlgo.SM4_GCM), false);
  assert.equal(isAeadSupported(AeadAlgo.CHACHA20_POLY1305), true);
  const unsupported = (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM';
  assert.throws(() => requireAead(AeadAlgo.SM4_GCM), unsupported);
  assert.throws(() => requireAead(0x10), unsupported);
  assert.throws(
    () =>
      aeadDecrypt(
        AeadAlgo.SM4_GCM,
        new Uint8Array(16),
        new Uint8Array(12),
        new Uint8Array(4),
        new Uint8Array(0),
        new Uint8Array(16),
      ),
    unsupported,
  );
  assert.throws(
    () =>
      aeadEncrypt(AeadAlgo.AES_128_GCM, new Uint8Array(32), new Uint8Array(12), new Uint8Array(1), new Uint8Array(0)),
    SpdmError,
  );
});
