/**
 * `spdm verify --ear-key` and `spdm ear keygen|jwks|verify`: the verdict signed as an EAR, written
 * where the options say, checked back as a relying party would; bad keys and options are exit 2.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { registerVerifyCommand } from '../../src/cli/verify-command.js';
import { registerEarCommands } from '../../src/cli/ear-command.js';
import { cmaSanString } from '../../src/verifier/cma-san.js';
import type { EarClaims } from '../../src/verifier/ear.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { NOW, PCI, collect, makeDevice, pem, tempDir, vendorRoot } from './helpers.js';

const NONCE = '5a'.repeat(32);
let evidence: Evidence;
let untrusted: Evidence;

before(async () => {
  evidence = await collect(makeDevice(), { nonce: Buffer.from(NONCE, 'hex') });
  untrusted = await collect(makeDevice({ root: vendorRoot('Initech') }));
});

async function run(argv: string[], stdin?: string): Promise<{ code: number | undefined; out: string; err: string }> {
  let code: number | undefined;
  let out = '';
  let err = '';
  const io = {
    setExitCode: (c: number) => (code = c),
    stdout: (s: string) => (out += s),
    stderr: (s: string) => (err += s),
    ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
  };
  const program = new Command().exitOverride();
  registerVerifyCommand(program, io);
  registerEarCommands(program, io);
  await program.parseAsync(argv, { from: 'user' });
  return { code, out, err };
}

test('verify --ear-key: the EAR on stdout (verdict on stderr) or in --ear FILE, with --jwks; ear verify accepts it', async () => {
  const t = tempDir();
  try {
    const roots = t.write('roots.pem', pem(vendorRoot().certificate));
    const ev = t.write('evidence.json', JSON.stringify(evidence));
    const key = join(t.dir, 'verifier.key');
    const gen = await run(['ear', 'keygen', key]);
    assert.equal(gen.code, 0, gen.err);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    const jwksFromKeygen = JSON.parse(gen.out) as { keys: { kid: string }[] };
    assert.equal((await run(['ear', 'keygen', key])).code, 2, 'an existing key is not replaced');

    const now = NOW.toISOString();
    const base = ['verify', ev, '--trust', roots, '--nonce', NONCE, '--now', now, '--ear-key', key];
    const toStdout = await run(base);
    assert.equal(toStdout.code, 0, toStdout.err);
    assert.match(toStdout.out, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    assert.match(toStdout.err, /^TRUSTED\n/);

    const earFile = join(t.dir, 'ear.jwt');
    const jwksFile = join(t.dir, 'jwks.json');
    const toFile = await run([...base, '--ear', earFile, '--jwks', jwksFile, '--json']);
    assert.equal(toFile.code, 0);
    assert.equal((JSON.parse(toFile.out) as { status: string }).status, 'trusted');
    const jwks = JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: { kid: string }[] };
    assert.deepEqual(jwks, jwksFromKeygen);
    assert.deepEqual(JSON.parse((await run(['ear', 'jwks', key])).out), jwks);

    const checked = await run(['ear', 'verify', earFile, '--jwks', jwksFile, '--nonce', NONCE]);
    assert.equal(checked.code, 0, checked.err);
    const claims = JSON.parse(checked.out) as EarClaims;
    assert.equal(claims.ear_status, 'affirming');
    assert.equal(claims.iat, Math.floor(NOW.getTime() / 1000));
    assert.equal(claims.eat_nonce, Buffer.from(NONCE, 'hex').toString('base64url'));
    assert.equal(claims.submods[cmaSanString(PCI)]?.eat_nonce, claims.eat_nonce);
    assert.match(claims.submods[cmaSanString(PCI)]?.ear_appraisal_policy_ids[0] ?? '', /^spdmkit:default-policy$/);

    // Standard input, as in `spdm verify … --ear-key k | spdm ear verify - --jwks j`.
    const piped = await run(['ear', 'verify', '-', '--jwks', jwksFile], toStdout.out);
    assert.equal(piped.code, 0, piped.err);

    // Another verifier's key, another challenge: refused with the code.
    const other = join(t.dir, 'other.key');
    const otherJwks = t.write('other.json', (await run(['ear', 'keygen', other])).out);
    const wrongKey = await run(['ear', 'verify', earFile, '--jwks', otherJwks]);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.err, /EAR_INVALID \(jwks\)/);
    const wrongNonce = await run(['ear', 'verify', earFile, '--jwks', jwksFile, '--nonce', '11'.repeat(32)]);
    assert.equal(wrongNonce.code, 1);
    assert.match(wrongNonce.err, /EAR_INVALID \(nonce\)/);

    // A policy file: its digest is the policy id.
    const policyText = 'version: 1\nrules: { cmaSan: required }\n';
    const policy = t.write('policy.yaml', policyText);
    const withPolicy = await run([...base, '--policy', policy]);
    const p = JSON.parse((await run(['ear', 'verify', '-', '--jwks', jwksFile], withPolicy.out)).out) as EarClaims;
    const { createHash } = await import('node:crypto');
    assert.deepEqual(p.submods[cmaSanString(PCI)]?.ear_appraisal_policy_ids, [
      `sha256:${createHash('sha256').update(policyText).digest('hex')}`,
    ]);
  } finally {
    t.cleanup();
  }
});

test('untrusted evidence: exit 1 and a contraindicated EAR; --ear-ttl sets exp, checked on the relying party clock', async () => {
  const t = tempDir();
  try {
    const roots = t.write('roots.pem', pem(vendorRoot().certificate));
    const ev = t.write('evidence.json', JSON.stringify(untrusted));
    const key = join(t.dir, 'v.key');
    const jwks = t.write('jwks.json', (await run(['ear', 'keygen', key, '--alg', 'EdDSA'])).out);
    const now = NOW.toISOString();
    const r = await run(['verify', ev, '--trust', roots, '--now', now, '--ear-key', key, '--ear-ttl', '60']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^UNTRUSTED\n/);
    const token = t.write('ear.jwt', r.out);
    const ok = await run(['ear', 'verify', token, '--jwks', jwks, '--now', now]);
    assert.equal(ok.code, 0, ok.err);
    const claims = JSON.parse(ok.out) as EarClaims;
    assert.equal(claims.ear_status, 'contraindicated');
    assert.equal(claims.exp, claims.iat + 60);
    const late = new Date(NOW.getTime() + 120_000).toISOString();
    const expired = await run(['ear', 'verify', token, '--jwks', jwks, '--now', late]);
    assert.equal(expired.code, 1);
    assert.match(expired.err, /EAR_INVALID \(expired\)/);
  } finally {
    t.cleanup();
  }
});

test('bad EAR options and files: exit 2, nothing signed', async () => {
  const t = tempDir();
  try {
    const roots = t.write('roots.pem', pem(vendorRoot().certificate));
    const ev = t.write('evidence.json', JSON.stringify(evidence));
    const now = NOW.toISOString();
    const noKey = await run(['verify', ev, '--trust', roots, '--now', now, '--ear', join(t.dir, 'x.jwt')]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.err, /need --ear-key/);
    const notAKey = t.write('bad.key', 'not a key');
    const bad = await run(['verify', ev, '--trust', roots, '--now', now, '--ear-key', notAKey]);
    assert.equal(bad.code, 2);
    assert.equal(bad.out, '');
    assert.match(bad.err, /--ear-key: .*not a PEM private key/);
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = t.write(
      'rsa.key',
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    const rsaRun = await run(['verify', ev, '--trust', roots, '--now', now, '--ear-key', rsa]);
    assert.equal(rsaRun.code, 2);
    assert.match(rsaRun.err, /P-256, P-384 or Ed25519/);

    const key = join(t.dir, 'v.key');
    await run(['ear', 'keygen', key]);
    const notJson = t.write('jwks.txt', 'nope');
    const token = t.write('ear.jwt', 'a.b.c');
    assert.equal((await run(['ear', 'verify', token, '--jwks', notJson])).code, 2);
    assert.equal((await run(['ear', 'verify', join(t.dir, 'missing.jwt'), '--jwks', notJson])).code, 2);
    const jwks = t.write('jwks.json', (await run(['ear', 'jwks', key])).out);
    const garbage = await run(['ear', 'verify', token, '--jwks', jwks]);
    assert.equal(garbage.code, 1);
    assert.match(garbage.err, /EAR_INVALID/);
  } finally {
    t.cleanup();
  }
});
