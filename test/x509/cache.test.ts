import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CertificateCache } from '../../src/x509/cache.js';
import { validateCertChain } from '../../src/x509/chain.js';
import { SpdmError } from '../../src/wire/errors.js';
import { NOW, deviceChain, flipByte, codes } from './fixtures.js';

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
