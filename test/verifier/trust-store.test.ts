/** The trust store: anchors and deny-list from files and directories, reload and watch without a restart. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import type { Evidence } from '../../src/evidence/evidence.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore, type ReloadResult } from '../../src/verifier/trust-store.js';
import { loadDenyList } from '../../src/verifier/deny-list.js';
import { TrustSourceError } from '../../src/verifier/cert-files.js';
import { loadTrustAnchors } from '../../src/verifier/trust-store.js';
import { codes, collect, makeDevice, NOW, pem, tempDir, vendorRoot, type TestDevice } from './helpers.js';

let acme: TestDevice;
let globex: TestDevice;
let acmeEvidence: Evidence;
let globexEvidence: Evidence;

before(async () => {
  acme = makeDevice();
  globex = makeDevice({ name: 'Globex G1', root: vendorRoot('Globex') });
  acmeEvidence = await collect(acme);
  globexEvidence = await collect(globex);
});

test('anchors from a directory of PEM and DER files; reload picks up a new root and a new deny entry', () => {
  const t = tempDir();
  try {
    t.write('acme.pem', pem(vendorRoot().certificate));
    t.write('README.txt', 'not a certificate, not read');
    const store = new TrustStore({ anchors: t.dir });
    assert.equal(store.anchors.length, 1);
    assert.equal(verify(acmeEvidence, undefined, store, { now: NOW }).status, 'trusted');
    assert.deepEqual(codes(verify(globexEvidence, undefined, store, { now: NOW })), ['CHAIN_UNTRUSTED']);

    // The admin provisions the Globex root (DER this time); no restart.
    t.write('globex.der', vendorRoot('Globex').certificate);
    const r = store.reload();
    assert.equal(r.ok, true);
    assert.equal(r.anchors, 2);
    assert.equal(verify(globexEvidence, undefined, store, { now: NOW }).status, 'trusted');
  } finally {
    t.cleanup();
  }
});

test('deny-list files: text (fingerprint, issuer+serial), JSON, certificates; reload applies new entries', () => {
  const t = tempDir();
  try {
    const rootPath = t.write('roots.pem', pem(vendorRoot().certificate) + pem(vendorRoot('Globex').certificate));
    const denyPath = t.write('deny.txt', '# nothing denied yet\n');
    const store = new TrustStore({ anchors: rootPath, deny: denyPath });
    assert.equal(verify(acmeEvidence, undefined, store, { now: NOW }).status, 'trusted');

    const leaf = parseCertificate(acme.leaf.certificate);
    const inter = parseCertificate(globex.intermediate.certificate);
    t.write(
      'deny.txt',
      `# compromised Acme X100 leaf\nsha256:${leaf.fingerprintSha256}\nserial:${inter.serialNumber} issuer:${inter.issuer}\n`,
    );
    assert.equal(store.reload().denyEntries, 2);
    const va = verify(acmeEvidence, undefined, store, { now: NOW });
    assert.deepEqual(codes(va), ['CERT_DENIED']);
    assert.equal(va.reasons[0]!['source'], 'deny.txt:2');
    const vg = verify(globexEvidence, undefined, store, { now: NOW });
    assert.deepEqual(codes(vg), ['CERT_DENIED']);
    assert.equal(vg.reasons[0]!['by'], 'issuer-serial');

    // JSON and certificate files in a deny directory.
    const d = tempDir();
    try {
      d.write(
        'list.json',
        JSON.stringify({
          fingerprints: [leaf.fingerprintSha256],
          issuerSerial: [{ issuer: inter.issuer, serial: inter.serialNumber }],
        }),
      );
      d.write('revoked.pem', pem(globex.leaf.certificate));
      const list = loadDenyList(d.dir);
      assert.equal(list.size, 4);
      assert.equal(list.match(parseCertificate(globex.leaf.certificate))?.by, 'fingerprint');
    } finally {
      d.cleanup();
    }
  } finally {
    t.cleanup();
  }
});

test('a reload that fails keeps the previous anchors and deny-list, and says why', () => {
  const t = tempDir();
  try {
    t.write('acme.pem', pem(vendorRoot().certificate));
    const results: ReloadResult[] = [];
    const store = new TrustStore({ anchors: t.dir, onReload: (r) => results.push(r) });
    t.write('broken.pem', '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n');
    const r = store.reload();
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /broken\.pem/);
    assert.equal(store.anchors.length, 1);
    assert.equal(store.generation, 1);
    assert.equal(results.length, 1);
    assert.equal(verify(acmeEvidence, undefined, store, { now: NOW }).status, 'trusted');
    unlinkSync(`${t.dir}/broken.pem`);
    assert.equal(store.reload().ok, true);
    assert.equal(store.generation, 2);
  } finally {
    t.cleanup();
  }
});

test('bad sources fail at load with the file named', () => {
  const t = tempDir();
  try {
    assert.throws(
      () => new TrustStore({ anchors: `${t.dir}/missing.pem` }),
      (e: unknown) => e instanceof TrustSourceError && /cannot read/.test(e.message),
    );
    assert.throws(() => new TrustStore({ anchors: t.dir }), /no certificate found/);
    const bad = t.write('deny.txt', 'sha256:1234\n');
    t.write('root.pem', pem(vendorRoot().certificate));
    assert.throws(() => new TrustStore({ anchors: `${t.dir}/root.pem`, deny: bad }), /deny\.txt:1/);
    // The CLI loader (spdm authenticate --trust) still works and still throws DECODE_ERROR.
    assert.equal(loadTrustAnchors(`${t.dir}/root.pem`).length, 1);
    assert.throws(
      () => loadTrustAnchors(`${t.dir}/nope`),
      (e: unknown) => e instanceof TrustSourceError && e.code === 'DECODE_ERROR',
    );
  } finally {
    t.cleanup();
  }
});

test('watch(): a root dropped into the directory is picked up without calling reload()', async () => {
  const t = tempDir();
  const store = new TrustStore({
    anchors: t.dir,
    certificates: [vendorRoot().certificate],
    watch: true,
    watchDebounceMs: 20,
  });
  try {
    assert.deepEqual(codes(verify(globexEvidence, undefined, store, { now: NOW })), ['CHAIN_UNTRUSTED']);
    t.write('globex.pem', pem(vendorRoot('Globex').certificate));
    const deadline = Date.now() + 5000;
    while (store.generation < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(store.generation >= 2, 'reloaded after the change');
    assert.equal(verify(globexEvidence, undefined, store, { now: NOW }).status, 'trusted');
  } finally {
    store.close();
    t.cleanup();
  }
});
