/**
 * A device whose chain leaves its root out (SPDM 1.2+): the profile's slot "rootCertificate"
 * names the root, the emulator's RootHash is that root's hash — not the first certificate's —
 * and a requester with the root as its trust anchor gets a trusted verdict. The profile reader
 * refuses a rootCertificate that did not issue the chain's first certificate, or a chain that
 * already starts with its root.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileFromJson } from '../../src/responder/profile-file.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { decodeSpdmCertChain } from '../../src/x509/spdm-chain.js';
import { splitDerCertificates } from '../../src/x509/der.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { compilePolicy } from '../../src/verifier/policy.js';
import { verify } from '../../src/verifier/verify.js';
import { fromHex } from '../../src/wire/bytes.js';
import { isSpdmError } from '../../src/wire/errors.js';
import { libspdmVectors } from '../support/paths.js';

const keys = join(libspdmVectors(), 'keys', 'ecp384');
const dir = mkdtempSync(join(tmpdir(), 'spdmkit-root-cert-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bundle = splitDerCertificates(new Uint8Array(readFileSync(join(keys, 'bundle_responder.certchain.der'))));
const root = bundle[0]!;
// The same chain without its root: intermediate, then leaf.
const withoutRoot = join(dir, 'chain-without-root.der');
writeFileSync(withoutRoot, Buffer.concat(bundle.slice(1)));
const rootFile = join(dir, 'root.der');
writeFileSync(rootFile, root);

function profile(slot: Record<string, unknown>) {
  return profileFromJson(
    {
      name: 'rootless-chain',
      versions: ['1.2', '1.3'],
      hash: ['SHA-384'],
      slots: [{ slot: 0, asym: 'ECDSA-P384', privateKey: join(keys, 'end_responder.key'), ...slot }],
    },
    dir,
  );
}

async function authenticate(slot: Record<string, unknown>) {
  const requester = new Requester(new LoopbackTransport(new Responder(profile(slot))), { versions: [0x13] });
  const evidence = await requester.authenticate();
  // libspdm's sample leaf carries no CMA SAN: that rule is not what this test is about.
  const policy = compilePolicy({ version: 1, rules: { cmaSan: 'off' } });
  const verdict = verify(evidence, policy, TrustStore.fromCertificates([root]));
  const chain = decodeSpdmCertChain(fromHex(evidence.slots[0]!.certChain), 0x13, 48);
  return { verdict, chain };
}

test('a chain without its root and its rootCertificate: RootHash names the root, the verdict is trusted', async () => {
  const { verdict, chain } = await authenticate({ certChain: withoutRoot, rootCertificate: rootFile });
  assert.equal(chain.certificates.length, bundle.length - 1, 'the root is not sent');
  assert.deepEqual(chain.rootHash, new Uint8Array(createHash('sha384').update(root).digest()));
  assert.equal(verdict.status, 'trusted', JSON.stringify(verdict.reasons));
});

test("the same chain without rootCertificate: RootHash is the first certificate's, which no anchor matches", async () => {
  const { verdict, chain } = await authenticate({ certChain: withoutRoot });
  assert.deepEqual(chain.rootHash, new Uint8Array(createHash('sha384').update(bundle[1]!).digest()));
  assert.notEqual(verdict.status, 'trusted');
});

test('a rootCertificate that did not issue the first certificate, or a chain that starts at its root, is refused', () => {
  const otherRoot = join(libspdmVectors(), 'keys', 'ecp256', 'ca.cert.der');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ certChain: withoutRoot, rootCertificate: otherRoot }, /did not issue and sign/],
    [
      { certChain: join(keys, 'bundle_responder.certchain.der'), rootCertificate: rootFile },
      /already starts with its root/,
    ],
    [{ certChain: withoutRoot, rootCertificate: join(keys, 'bundle_responder.certchain.der') }, /holds 3 certificates/],
  ];
  for (const [slot, message] of cases)
    assert.throws(
      () => profile(slot),
      (e: unknown) =>
        isSpdmError(e, 'DECODE_ERROR') && /slots\[0\]\.rootCertificate/.test(e.message) && message.test(e.message),
    );
});
