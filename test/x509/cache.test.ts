import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CertificateCache } from '../../src/x509/cache.js';
import { BaseAsymAlgo, BaseHashAlgo } from '../../src/crypto/algorithms.js';
import { validateCertChain, validateSpdmChain } from '../../src/x509/chain.js';
import { encodeSpdmCertChain } from '../../src/x509/spdm-chain.js';
import { SpdmError } from '../../src/wire/errors.js';
import { NOW, NOT_AFTER, NOT_BEFORE, deviceChain, flipByte, codes } from './fixtures.js';

test('the certificate cache parses each DER once and returns the same parsed object', () => {
  const cache = new CertificateCache(8);
  const { certificates } = deviceChain(0x0010);
  const first = certificates.map((d) => cache.parse(d));
  const again = certificates.map((d) => cache.parse(d.slice()));
  assert.equal(cache.misses, 3);
  assert.equal(cache.hits, 3);
  first.forEach((c, i) => assert.equal(again[i], c));
});

test('the cache is bounded: the least recently used entry goes first', () => {
  const cache = new CertificateCache(2);
  const [root, inter, leaf] = deviceChain(0x0010).certificates as [Uint8Array, Uint8Array, Uint8Array];
  cache.parse(root);
  cache.parse(inter);
  cache.parse(root); // root is now the most recent
  cache.parse(leaf); // evicts inter
  cache.parse(root);
  assert.equal(cache.hits, 2);
  cache.parse(inter);
  assert.equal(cache.misses, 4);
});

test('a tampered certificate is a different cache entry and still fails its signature check', () => {
  const cache = new CertificateCache();
  const { certificates } = deviceChain(0x0010);
  const good = certificates.map((d) => cache.parse(d));
  assert.deepEqual(
    codes(validateCertChain(good, { now: NOW, role: 'responder', version: 0x12, asymId: 0x0010, cache })),
    [],
  );
  const leafDer = certificates[2] as Uint8Array;
  const bad = [good[0]!, good[1]!, cache.parse(flipByte(leafDer, leafDer.length - 5))];
  assert.ok(
    codes(validateCertChain(bad, { now: NOW, role: 'responder', version: 0x12, asymId: 0x0010, cache })).includes(
      'CHAIN_SIGNATURE@2',
    ),
  );
});

test('parse failures are not cached', () => {
  const cache = new CertificateCache();
  const junk = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
  assert.throws(() => cache.parse(junk), SpdmError);
  assert.throws(() => cache.parse(junk), SpdmError);
  assert.equal(cache.misses, 2);
});

test('a chain validated through the cache reads as it would without it, at any time and under any options', () => {
  const cache = new CertificateCache();
  const bytes = encodeSpdmCertChain(0x13, BaseHashAlgo.SHA_256, deviceChain(0x0010).certificates);
  const base = {
    now: NOW,
    role: 'responder',
    version: 0x13,
    asymId: BaseAsymAlgo.ECDSA_P256,
    hashId: BaseHashAlgo.SHA_256,
  } as const;
  const day = 24 * 3600 * 1000;
  const variants = [
    base,
    { ...base, now: new Date(NOT_AFTER.getTime() + day) },
    { ...base, now: new Date(NOT_BEFORE.getTime() - day) },
    base,
    { ...base, asymId: BaseAsymAlgo.ECDSA_P384 },
    { ...base, certModel: 3 },
    { ...base, role: 'requester' },
    base,
  ] as const;
  for (const opts of variants) {
    const fresh = validateSpdmChain(bytes, opts);
    const twice = [validateSpdmChain(bytes.slice(), { ...opts, cache }), validateSpdmChain(bytes, { ...opts, cache })];
    for (const v of twice) {
      assert.deepEqual(v.report, fresh.report);
      assert.deepEqual(
        v.certificates.map((c) => c.fingerprintSha256),
        fresh.certificates.map((c) => c.fingerprintSha256),
      );
    }
    // The chain a reading reports is the caller's own bytes.
    assert.equal(twice[1]!.chain.raw, bytes);
  }
  assert.deepEqual(codes(validateSpdmChain(bytes, { ...variants[1], cache }).report), [
    'EXPIRED@0',
    'EXPIRED@1',
    'EXPIRED@2',
  ]);
});
