/**
 * `spdm emulate --profile` with a "provisionedKey" (libspdm's sample responder key, no certificate)
 * and `spdm authenticate --device-public-key`, two processes over a real socket: slot 0xFF, a
 * verdict from the policy's trustedPublicKeys alone, the wrong key refused, and `spdm verify` on
 * the saved evidence deciding the same way.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { emulate, spdm, type RunningEmulator } from '../support/cli.js';

const key = join(libspdmVectors(), 'keys', 'ecp384', 'end_responder.key');
const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-pubkey-'));
const spki = createPublicKey(createPrivateKey(readFileSync(key))).export({ type: 'spki', format: 'der' });
const pubPem = join(scratch, 'device.pub.pem');
writeFileSync(
  pubPem,
  createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }),
);
const pubDer = join(scratch, 'device.pub.der');
writeFileSync(pubDer, spki);
const trusting = join(scratch, 'trusting.json');
writeFileSync(
  trusting,
  JSON.stringify({ version: 1, trustedPublicKeys: [`sha256:${createHash('sha256').update(spki).digest('hex')}`] }),
);
const empty = join(scratch, 'empty.json');
writeFileSync(empty, JSON.stringify({ version: 1 }));
const profile = join(scratch, 'profile.json');
writeFileSync(
  profile,
  JSON.stringify({
    name: 'keyed',
    versions: ['1.2', '1.3'],
    hash: 'SHA-384',
    provisionedKey: { asym: 'ECDSA-P384', privateKey: key, publicKey: pubDer },
  }),
);

let emu: RunningEmulator;
before(async () => {
  emu = await emulate(['--profile', profile]);
});
after(async () => {
  await emu.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const authenticate = (...extra: string[]) =>
  spdm(['authenticate', '--connect', `127.0.0.1:${emu.port}`, '--json', ...extra]);

interface Outcome {
  authenticated: boolean;
  trusted?: boolean;
  reason?: string;
  evidence?: { publicKey?: string; slots: unknown[]; signatures: { slot: number }[] };
}

test('spdm authenticate --device-public-key (PEM): slot 0xFF, trusted by the policy alone; spdm verify agrees', async () => {
  const r = await authenticate('--device-public-key', pubPem, '--policy', trusting);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const o = JSON.parse(r.stdout) as Outcome;
  assert.equal(o.trusted, true, o.reason);
  assert.equal(o.evidence?.publicKey, Buffer.from(spki).toString('hex'));
  assert.deepEqual(o.evidence?.slots, []);
  assert.ok(o.evidence?.signatures.every((s) => s.slot === 0xff));
  const saved = join(scratch, 'evidence.json');
  writeFileSync(saved, r.stdout);
  assert.equal((await spdm(['verify', saved, '--policy', trusting])).code, 0);
  const untrusted = await spdm(['verify', saved, '--policy', empty]);
  assert.equal(untrusted.code, 1, untrusted.stdout + untrusted.stderr);
  assert.match(untrusted.stdout, /PUBLIC_KEY_UNTRUSTED/);
});

test('spdm authenticate --device-public-key: a policy not naming the key is untrusted, another key is refused', async () => {
  const r = await authenticate('--device-public-key', pubDer, '--policy', empty);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal((JSON.parse(r.stdout) as Outcome).trusted, false);
  const other = join(scratch, 'other.pub.der');
  writeFileSync(
    other,
    generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' }),
  );
  const wrong = await authenticate('--device-public-key', other);
  assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
  const o = JSON.parse(wrong.stdout) as Outcome;
  assert.equal(o.authenticated, false);
  assert.match(o.reason ?? '', /provisioned public key/);
  // A private key file is not a public key to give.
  const bad = await authenticate('--device-public-key', key);
  assert.equal(bad.code, 2, bad.stdout + bad.stderr);
});
