/**
 * Each problem code, triggered by a generated chain that breaks exactly one rule. The assertions
 * compare the complete problem list, so a rule that fires too eagerly fails here too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OctetString, AsnConvert } from '@peculiar/asn1-schema';
import { Extension, KeyUsage, KeyUsageFlags, Version } from '@peculiar/asn1-x509';
import { BaseAsymAlgo, BaseHashAlgo } from '../../src/crypto/algorithms.js';
import { digest } from '../../src/crypto/hash.js';
import { parseCertificate, type ParsedCertificate } from '../../src/x509/certificate.js';
import {
  chainsToRoot,
  validateCertChain,
  validateSpdmChain,
  type ChainValidationOptions,
} from '../../src/x509/chain.js';
import {
  createCertificate,
  createDeviceChain,
  createRootCa,
  type CertIdentity,
  type LeafOptions,
} from '../../src/x509/generate.js';
import { encodeSpdmCertChain } from '../../src/x509/spdm-chain.js';
import { at, cachedKey, codes, deviceChain, flipByte, NOT_AFTER, NOT_BEFORE, NOW, parseAll } from './fixtures.js';

const P256 = BaseAsymAlgo.ECDSA_P256;
const base: ChainValidationOptions = { now: NOW, role: 'responder', version: 0x13, asymId: P256 };
const chain = deviceChain(P256);
const good = parseAll(chain.certificates);
const day = 24 * 3600 * 1000;

function leafUnder(
  issuer: CertIdentity,
  opts: {
    leaf?: LeafOptions;
    ca?: boolean;
    notBefore?: Date;
    notAfter?: Date;
    commonName?: string;
    customize?: Parameters<typeof createCertificate>[0]['customize'];
  } = {},
): ParsedCertificate {
  return parseCertificate(
    createCertificate({
      issuer,
      asymId: P256,
      commonName: opts.commonName ?? 'test leaf',
      ca: opts.ca ?? false,
      leaf: opts.leaf ?? {},
      keyPair: cachedKey(P256, 2),
      notBefore: opts.notBefore ?? NOT_BEFORE,
      notAfter: opts.notAfter ?? NOT_AFTER,
      ...(opts.customize ? { customize: opts.customize } : {}),
    }).certificate,
  );
}

function withLeaf(leaf: ParsedCertificate): ParsedCertificate[] {
  return [at(good, 0), at(good, 1), leaf];
}

function check(
  certs: readonly ParsedCertificate[],
  expected: string[],
  opts: Partial<ChainValidationOptions> = {},
): void {
  const report = validateCertChain(certs, { ...base, ...opts });
  assert.deepEqual(codes(report), expected);
  assert.equal(report.ok, expected.length === 0);
  for (const p of report.problems) assert.ok(p.message.length > 0);
}

test('baseline: the generated chain has no problem in any role, version or model it suits', () => {
  check(good, []);
  check(good, [], { version: 0x10 });
  check(good, [], { certModel: 1 });
  check(good, [], { certModel: 3 });
});

test('EMPTY_CHAIN', () => {
  check([], ['EMPTY_CHAIN@-1']);
});

test('EXPIRED and NOT_YET_VALID use the injected time', () => {
  check(withLeaf(leafUnder(chain.intermediate, { notAfter: new Date(NOW.getTime() - day) })), ['EXPIRED@2']);
  check(withLeaf(leafUnder(chain.intermediate, { notBefore: new Date(NOW.getTime() + day) })), ['NOT_YET_VALID@2']);
  check(good, ['EXPIRED@0', 'EXPIRED@1', 'EXPIRED@2'], { now: new Date(NOT_AFTER.getTime() + 1000) });
  check(good, ['NOT_YET_VALID@0', 'NOT_YET_VALID@1', 'NOT_YET_VALID@2'], {
    now: new Date(NOT_BEFORE.getTime() - 1000),
  });
  // Boundaries are inclusive (RFC 5280).
  check(good, [], { now: NOT_BEFORE });
  check(good, [], { now: NOT_AFTER });
});

test('LEAF_IS_CA: a CA certificate in the leaf position', () => {
  check(withLeaf(leafUnder(chain.intermediate, { ca: true })), ['LEAF_IS_CA@2']);
});

test('LEAF_DIGITAL_SIGNATURE and LEAF_KEY_USAGE_MISSING (GenericCert makes keyUsage optional)', () => {
  check(withLeaf(leafUnder(chain.intermediate, { leaf: { keyUsage: ['nonRepudiation'] } })), [
    'LEAF_DIGITAL_SIGNATURE@2',
  ]);
  const noKu = withLeaf(leafUnder(chain.intermediate, { leaf: { omitKeyUsage: true } }));
  check(noKu, ['LEAF_KEY_USAGE_MISSING@2']);
  check(noKu, [], { certModel: 3 });
});

test('LEAF_EKU: requester-only EKU on a responder leaf, responder-only EKU on a requester leaf', () => {
  const requesterOnly = withLeaf(
    leafUnder(chain.intermediate, { leaf: { responderAuthEku: false, requesterAuthEku: true } }),
  );
  check(requesterOnly, ['LEAF_EKU@2']);
  check(requesterOnly, [], { role: 'requester' });
  check(good, ['LEAF_EKU@2'], { role: 'requester' });
  const both = withLeaf(leafUnder(chain.intermediate, { leaf: { responderAuthEku: true, requesterAuthEku: true } }));
  check(both, []);
  check(both, [], { role: 'requester' });
  const neither = withLeaf(leafUnder(chain.intermediate, { leaf: { responderAuthEku: false } }));
  check(neither, []);
  check(neither, [], { role: 'requester' });
});

test('CHAIN_LINK: a leaf issued by another intermediate', () => {
  const other = createDeviceChain({
    asymId: P256,
    names: { intermediate: 'another intermediate' },
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    keyPairs: { root: cachedKey(P256, 0), intermediate: cachedKey(P256, 3), leaf: cachedKey(P256, 2) },
  });
  check([at(good, 0), at(good, 1), parseCertificate(other.leaf.certificate)], ['CHAIN_LINK@2']);
  // Certificates out of order break the links too.
  check(
    [at(good, 0), at(good, 2), at(good, 1)],
    ['CHAIN_LINK@1', 'CA_REQUIRED@1', 'KEY_CERT_SIGN@1', 'CHAIN_LINK@2', 'LEAF_IS_CA@2'],
  );
});

test('CHAIN_SIGNATURE: same issuer name, different key; and a tampered signature or TBS byte', () => {
  // An impostor intermediate with the same name but its own key signs the leaf.
  const impostor = createCertificate({
    issuer: chain.root,
    asymId: P256,
    commonName: parseCertificate(chain.intermediate.certificate).subject.slice(3),
    ca: true,
    keyPair: cachedKey(P256, 4),
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  check(withLeaf(leafUnder(impostor)), ['CHAIN_SIGNATURE@2']);

  const leafDer = chain.leaf.certificate;
  check(withLeaf(parseCertificate(flipByte(leafDer, leafDer.length - 1))), ['CHAIN_SIGNATURE@2']);
  const cn = Buffer.from(leafDer).indexOf('device');
  assert.ok(cn > 0);
  check(withLeaf(parseCertificate(flipByte(leafDer, cn, 0x20))), ['CHAIN_SIGNATURE@2']);
});

test('ROOT_SIGNATURE: a self-issued first certificate must self-verify', () => {
  const rootDer = chain.root.certificate;
  const tampered = parseCertificate(flipByte(rootDer, rootDer.length - 1));
  check([tampered, at(good, 1), at(good, 2)], ['ROOT_SIGNATURE@0']);
});

test('LEAF_KEY_ALGORITHM: the leaf key must match the negotiated algorithm', () => {
  check(good, ['LEAF_KEY_ALGORITHM@2'], { asymId: BaseAsymAlgo.ECDSA_P384 });
  check(good, ['LEAF_KEY_ALGORITHM@2'], { asymId: BaseAsymAlgo.RSASSA_2048 });
  check(good, ['LEAF_KEY_ALGORITHM@2'], { asymId: BaseAsymAlgo.EDDSA_ED25519 });
});

test('LEAF_BASIC_CONSTRAINTS_MISSING from SPDM 1.3 on; accepted at 1.2', () => {
  const noBc = withLeaf(leafUnder(chain.intermediate, { leaf: { omitBasicConstraints: true } }));
  check(noBc, ['LEAF_BASIC_CONSTRAINTS_MISSING@2'], { version: 0x13 });
  check(noBc, ['LEAF_BASIC_CONSTRAINTS_MISSING@2'], { version: 0x14 });
  check(noBc, [], { version: 0x12 });
  check(noBc, [], { version: 0x10 });
});

test('HARDWARE_IDENTITY_IN_ALIAS: hardware identity is for DeviceCert leaves only', () => {
  check(good, ['HARDWARE_IDENTITY_IN_ALIAS@2'], { certModel: 2 });
  check(good, [], { certModel: 1 });
  check(withLeaf(leafUnder(chain.intermediate, { leaf: { hardwareIdentity: false } })), [], { certModel: 2 });
});

test('CA_REQUIRED and KEY_CERT_SIGN: an end-entity certificate used as an issuer', () => {
  const notCa = createCertificate({
    issuer: chain.root,
    asymId: P256,
    commonName: 'not a CA',
    ca: false,
    keyPair: cachedKey(P256, 1),
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  check([at(good, 0), parseCertificate(notCa.certificate), leafUnder(notCa)], ['CA_REQUIRED@1', 'KEY_CERT_SIGN@1']);
});

test('KEY_CERT_SIGN alone: a CA whose keyUsage lacks keyCertSign', () => {
  const inter = createCertificate({
    issuer: chain.root,
    asymId: P256,
    commonName: 'ku ca',
    ca: true,
    keyPair: cachedKey(P256, 1),
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    customize: (tbs) => {
      const exts = tbs.extensions ?? [];
      const i = exts.findIndex((e) => e.extnID === '2.5.29.15');
      exts[i] = new Extension({
        extnID: '2.5.29.15',
        critical: true,
        extnValue: new OctetString(AsnConvert.serialize(new KeyUsage(KeyUsageFlags.digitalSignature))),
      });
    },
  });
  check([at(good, 0), parseCertificate(inter.certificate), leafUnder(inter)], ['KEY_CERT_SIGN@1']);
});

test('PATH_LEN: a root allowing no intermediate CA below it', () => {
  const root = createRootCa({
    asymId: P256,
    commonName: 'strict root',
    pathLen: 0,
    keyPair: cachedKey(P256, 0),
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const c = createDeviceChain({
    asymId: P256,
    root,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    keyPairs: { intermediate: cachedKey(P256, 1), leaf: cachedKey(P256, 2) },
  });
  check(parseAll(c.certificates), ['PATH_LEN@0']);
  // Directly under the root (no intermediate) pathLen 0 is fine.
  check([parseCertificate(root.certificate), leafUnder(root)], []);
});

test('UNKNOWN_CRITICAL_EXTENSION', () => {
  const leaf = leafUnder(chain.intermediate, {
    customize: (tbs) => {
      tbs.extensions?.push(
        new Extension({ extnID: '1.2.3.4.5', critical: true, extnValue: new OctetString(Uint8Array.of(0x05, 0x00)) }),
      );
    },
  });
  assert.deepEqual(leaf.unknownCriticalExtensions, ['1.2.3.4.5']);
  check(withLeaf(leaf), ['UNKNOWN_CRITICAL_EXTENSION@2']);
  // The same extension non-critical is ignored.
  const tolerant = leafUnder(chain.intermediate, {
    customize: (tbs) => {
      tbs.extensions?.push(
        new Extension({ extnID: '1.2.3.4.5', critical: false, extnValue: new OctetString(Uint8Array.of(0x05, 0x00)) }),
      );
    },
  });
  check(withLeaf(tolerant), []);
});

test('VERSION: a v1 certificate (no extensions possible)', () => {
  const v1 = leafUnder(chain.intermediate, {
    customize: (tbs) => {
      tbs.version = Version.v1;
      delete tbs.extensions;
    },
  });
  assert.equal(v1.version, 1);
  check(withLeaf(v1), ['VERSION@2', 'LEAF_KEY_USAGE_MISSING@2'], { version: 0x12 });
});

test('EMPTY_NAME: empty leaf subject (tolerated for GenericCert leaves)', () => {
  const anon = withLeaf(leafUnder(chain.intermediate, { commonName: '' }));
  assert.equal(at(anon, 2).subject, '');
  check(anon, ['EMPTY_NAME@2']);
  check(anon, [], { certModel: 3 });
});

test('ROOT_HASH through validateSpdmChain, and problems reported together', () => {
  const bytes = encodeSpdmCertChain(0x13, BaseHashAlgo.SHA_384, chain.certificates);
  const opts = { ...base, hashId: BaseHashAlgo.SHA_384 };
  assert.deepEqual(validateSpdmChain(bytes, opts).report, { ok: true, problems: [] });
  const badHash = flipByte(bytes, 4);
  assert.deepEqual(codes(validateSpdmChain(badHash, opts).report), ['ROOT_HASH@0']);
  assert.deepEqual(
    codes(validateSpdmChain(badHash, { ...opts, asymId: BaseAsymAlgo.ECDSA_P384, certModel: 2 }).report),
    ['ROOT_HASH@0', 'LEAF_KEY_ALGORITHM@2', 'HARDWARE_IDENTITY_IN_ALIAS@2'],
  );
});

test('chainsToRoot: expired anchor, impostor root with the same name, and RootHash selection', () => {
  const root = parseCertificate(chain.root.certificate);
  const tail = good.slice(1);
  assert.equal(chainsToRoot(tail, [root], NOW).trusted, true);

  const expired = chainsToRoot(tail, [root], new Date(NOT_AFTER.getTime() + day));
  assert.equal(expired.trusted, false);
  assert.match(expired.reason ?? '', /not valid at/);

  // Same subject name, different key: must not be accepted as the issuer.
  const impostor = parseCertificate(
    createRootCa({
      asymId: P256,
      commonName: root.subject.slice(3),
      keyPair: cachedKey(P256, 6),
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    }).certificate,
  );
  assert.equal(impostor.subjectDer.length, root.subjectDer.length);
  const forged = chainsToRoot(tail, [impostor], NOW);
  assert.equal(forged.trusted, false);
  assert.match(forged.reason ?? '', /does not verify/);
  // With both in the store the genuine one is found.
  assert.equal(chainsToRoot(tail, [impostor, root], NOW).anchor, root);

  // RootHash picks the anchor: the impostor's hash selects it, and then the signature fails.
  const h = (c: ParsedCertificate): Uint8Array => digest(BaseHashAlgo.SHA_256, c.der);
  assert.equal(
    chainsToRoot(tail, [impostor, root], NOW, { rootHash: h(root), hashId: BaseHashAlgo.SHA_256 }).anchor,
    root,
  );
  assert.equal(
    chainsToRoot(tail, [impostor, root], NOW, { rootHash: h(impostor), hashId: BaseHashAlgo.SHA_256 }).trusted,
    false,
  );
  assert.equal(chainsToRoot([], [root], NOW).trusted, false);
});

test('REPEATED_CERTIFICATE: a chain that loops links at every step and still names the repeats', () => {
  // root R issues Y; Y issues X, a second certificate for R's name and key, so Y's signature verifies after X again.
  const root = chain.root;
  const y = createCertificate({
    issuer: root,
    asymId: P256,
    commonName: 'loop CA',
    ca: true,
    keyPair: cachedKey(P256, 3),
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const x = createCertificate({
    issuer: y,
    asymId: P256,
    commonName: 'spdmkit ECDSA-P256 root CA',
    ca: true,
    keyPair: cachedKey(P256, 0),
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  const leaf = leafUnder(x);
  const loop = parseAll([root.certificate, y.certificate, x.certificate, y.certificate, x.certificate]);
  check([...loop, leaf], ['REPEATED_CERTIFICATE@2', 'REPEATED_CERTIFICATE@3', 'REPEATED_CERTIFICATE@4']);
  // The same certificate twice in a row is a repeat too (and a broken link, unless self-issued).
  check([at(good, 0), at(good, 0), at(good, 1), at(good, 2)], ['REPEATED_CERTIFICATE@1']);
});
