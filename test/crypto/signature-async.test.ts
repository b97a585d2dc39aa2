/**
 * spdmVerifyAsync (the primitive in libuv's threadpool) gives the answer spdmVerify gives, for every
 * signature algorithm a device can negotiate, both signing constructions (1.0/1.1 over the whole
 * transcript, 1.2+ over prefix ‖ hash), and the signatures a hostile device sends instead of a good one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { BaseAsymAlgo } from '../../src/crypto/algorithms.js';
import {
  SigningContext,
  spdmSign,
  spdmVerify,
  spdmVerifyAsync,
  primitiveInput,
  type SignedData,
} from '../../src/crypto/signature.js';
import { digest } from '../../src/crypto/hash.js';
import { SpdmError } from '../../src/wire/errors.js';

const SHA256 = 0x01;
const SHA384 = 0x02;

function keys(asymId: number): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (asymId) {
    case BaseAsymAlgo.ECDSA_P256:
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case BaseAsymAlgo.ECDSA_P384:
      return generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    case BaseAsymAlgo.EDDSA_ED25519:
      return generateKeyPairSync('ed25519');
    default:
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
}

const transcript = [new Uint8Array(40).fill(0x11), new Uint8Array(300).fill(0x22)];
const signedData = (version: number, hashId: number): SignedData =>
  version >= 0x12
    ? {
        version,
        hashId,
        context: SigningContext.CHALLENGE_AUTH_RESPONDER,
        transcript,
        transcriptHash: digest(hashId, ...transcript),
      }
    : { version, hashId, context: '', transcript };

async function both(key: KeyObject, asymId: number, d: SignedData, sig: Uint8Array): Promise<boolean> {
  const sync = spdmVerify(key, asymId, d, sig);
  const threaded = await spdmVerifyAsync(key, asymId, d, sig);
  assert.equal(threaded, sync, 'spdmVerifyAsync and spdmVerify disagree');
  return threaded;
}

const SUITES = [
  ['ECDSA P-256', BaseAsymAlgo.ECDSA_P256, SHA256],
  ['ECDSA P-384', BaseAsymAlgo.ECDSA_P384, SHA384],
  ['Ed25519', BaseAsymAlgo.EDDSA_ED25519, SHA256],
  ['RSASSA-2048', BaseAsymAlgo.RSASSA_2048, SHA256],
  ['RSAPSS-2048', BaseAsymAlgo.RSAPSS_2048, SHA256],
] as const;

for (const [name, asymId, hashId] of SUITES) {
  test(`${name}: the threadpool verify accepts and refuses exactly what the synchronous one does`, async () => {
    const { privateKey, publicKey } = keys(asymId);
    const other = keys(asymId).publicKey;
    for (const version of [0x11, 0x12]) {
      const d = signedData(version, hashId);
      const sig = spdmSign(privateKey, asymId, d);
      assert.equal(await both(publicKey, asymId, d, sig), true, `${version.toString(16)}: a good signature`);

      const flipped = Uint8Array.from(sig);
      flipped[flipped.length - 1] = (flipped.at(-1) as number) ^ 0x01;
      assert.equal(await both(publicKey, asymId, d, flipped), false, 'one bit of the signature changed');
      assert.equal(await both(other, asymId, d, sig), false, "another device's key");
      // Ed25519 under 1.0/1.1 signs the transcript itself, so the hash plays no part there.
      const otherHash = await both(publicKey, asymId, signedData(version, hashId === SHA256 ? SHA384 : SHA256), sig);
      assert.equal(otherHash, asymId === BaseAsymAlgo.EDDSA_ED25519 && version < 0x12, 'another hash');
      assert.equal(await both(publicKey, asymId, d, sig.subarray(1)), false, 'one byte short');
      assert.equal(await both(publicKey, asymId, d, new Uint8Array(sig.length).fill(0xff)), false, 'all ones');
      assert.equal(await both(publicKey, asymId, d, new Uint8Array(sig.length)), false, 'all zeros');
    }
  });
}

test('ECDSA: a DER signature over the right bytes is refused, as SPDM carries raw r‖s only', async () => {
  const { privateKey, publicKey } = keys(BaseAsymAlgo.ECDSA_P256);
  const d = signedData(0x12, SHA256);
  const raw = spdmSign(privateKey, BaseAsymAlgo.ECDSA_P256, d);
  assert.equal(await both(publicKey, BaseAsymAlgo.ECDSA_P256, d, raw), true);
  // What the primitive signs for 1.2+ (M' = combined prefix ‖ transcript hash), signed in DER form.
  const message = Buffer.concat([primitiveInput(d)[0]!, primitiveInput(d)[1]!]);
  const der = nodeSign('sha256', message, privateKey);
  assert.equal(await both(publicKey, BaseAsymAlgo.ECDSA_P256, d, der), false);
  // The DER bytes cut or padded to the raw size still are not r‖s.
  const fitted = new Uint8Array(64);
  fitted.set(der.subarray(0, 64));
  assert.equal(await both(publicKey, BaseAsymAlgo.ECDSA_P256, d, fitted), false);
});

test('a key of another type than the algorithm: refused by both, not thrown', async () => {
  const ed = keys(BaseAsymAlgo.EDDSA_ED25519);
  const ec = keys(BaseAsymAlgo.ECDSA_P256);
  const d = signedData(0x12, SHA256);
  const sig = spdmSign(ec.privateKey, BaseAsymAlgo.ECDSA_P256, d);
  assert.equal(await both(ed.publicKey, BaseAsymAlgo.ECDSA_P256, d, sig), false);
  const p384 = keys(BaseAsymAlgo.ECDSA_P384);
  assert.equal(await both(p384.publicKey, BaseAsymAlgo.ECDSA_P256, d, sig), false);
});

test('an algorithm spdmkit does not verify: the same UNSUPPORTED_ALGORITHM from both', async () => {
  const { publicKey } = keys(BaseAsymAlgo.ECDSA_P256);
  const d = signedData(0x12, SHA256);
  for (const asymId of [BaseAsymAlgo.SM2_P256, BaseAsymAlgo.EDDSA_ED448, 0x8000_0000]) {
    assert.throws(
      () => spdmVerify(publicKey, asymId, d, new Uint8Array(64)),
      (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
    );
    await assert.rejects(
      spdmVerifyAsync(publicKey, asymId, d, new Uint8Array(64)),
      (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
    );
  }
});
