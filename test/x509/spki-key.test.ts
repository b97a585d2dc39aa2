import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { spkiPublicKey } from '../../src/x509/spki-key.js';

/** What node's DER import makes of an SPKI: the key re-exported, or its refusal. */
function viaDer(spki: Uint8Array): string {
  try {
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'der' })
      .toString('hex');
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

function viaSpkiPublicKey(spki: Uint8Array): string {
  try {
    return spkiPublicKey(spki).export({ type: 'spki', format: 'der' }).toString('hex');
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

const KEYS = [
  ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
  ['RSA-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['Ed25519', () => generateKeyPairSync('ed25519')],
  ['Ed448', () => generateKeyPairSync('ed448')],
] as const;

for (const [name, make] of KEYS) {
  test(`${name}: the same key as node's DER import, and every one-byte corruption accepted or refused as it is`, () => {
    const { publicKey } = make();
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    const key = spkiPublicKey(spki);
    assert.ok(key.equals(publicKey));
    assert.equal(key.asymmetricKeyType, publicKey.asymmetricKeyType);
    assert.deepEqual(key.asymmetricKeyDetails, publicKey.asymmetricKeyDetails);
    let refused = 0;
    for (let i = 0; i < spki.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = spki.slice();
        bad[i]! ^= mask;
        const expected = viaDer(bad);
        if (expected.startsWith('refused')) refused++;
        assert.equal(viaSpkiPublicKey(bad), expected, `byte ${i} ^ 0x${mask.toString(16)}`);
      }
    }
    // The corruptions reach both outcomes (an EC point off its curve, a broken frame, ...).
    assert.ok(refused > 0);
  });
}

test('RSA keys whose numbers are odd but well framed are imported exactly as the DER import does', () => {
  const len = (n: number) => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
  const tlv = (tag: number, body: Uint8Array) => Uint8Array.from([tag, ...len(body.length), ...body]);
  const int = (hex: string) => {
    const b = Buffer.from(hex, 'hex');
    return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  };
  const rsa = (n: string, e: string) =>
    tlv(
      0x30,
      Uint8Array.from([
        ...Buffer.from('300d06092a864886f70d0101010500', 'hex'),
        ...tlv(0x03, Uint8Array.from([0, ...tlv(0x30, Uint8Array.from([...int(n), ...int(e)]))])),
      ]),
    );
  const n = 'c5'.repeat(256);
  for (const [modulus, exponent] of [
    [n, '010001'],
    [n, '01'],
    [n, '02'],
    ['0b', '03'],
    [n.slice(0, -2) + '02', '010001'],
    [n, 'ff'.repeat(300)],
  ] as const) {
    const spki = rsa(modulus, exponent);
    assert.equal(viaSpkiPublicKey(spki), viaDer(spki), `n ${modulus.slice(0, 8)}… e ${exponent.slice(0, 8)}`);
  }
});
