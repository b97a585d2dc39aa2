/** `spdm provision` against `spdm emulate` in another process, as a provisioning script would run them. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { emulate, spdm } from '../support/cli.js';
import { createDeviceChain } from '../../src/x509/generate.js';
import { parseCsr } from '../../src/x509/csr.js';
import { toHex } from '../../src/wire/bytes.js';
import { parseCertificate } from '../../src/x509/certificate.js';

const dir = mkdtempSync(join(tmpdir(), 'spdmkit-provision-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A device identity in files (the profile's chain and key), and a second chain for the same key. */
function identity() {
  const chain = createDeviceChain({ asymId: 0x0080, names: { leaf: 'factory identity' } });
  const key = chain.leaf.privateKey;
  const second = createDeviceChain({
    asymId: 0x0080,
    names: { leaf: 'owner identity' },
    keyPairs: { leaf: { privateKey: key, publicKey: createPublicKey(key) } },
  });
  writeFileSync(join(dir, 'chain.der'), Buffer.concat(chain.certificates));
  writeFileSync(join(dir, 'leaf.pem'), key.export({ type: 'pkcs8', format: 'pem' }));
  const pem = second.certificates
    .map((c) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(c).toString('base64')}\n-----END CERTIFICATE-----\n`)
    .join('');
  writeFileSync(join(dir, 'owner.pem'), pem);
  writeFileSync(
    join(dir, 'profile.json'),
    JSON.stringify({
      name: 'provisionable',
      versions: ['1.2', '1.3'],
      // A factory: slot 1 may be provisioned in the clear (the session test below needs no such thing).
      trustedEnvironment: true,
      slots: [{ slot: 0, asym: 'ECDSA-P384', certChain: 'chain.der', privateKey: 'leaf.pem' }],
    }),
  );
  writeFileSync(
    join(dir, 'profile-session.json'),
    JSON.stringify({
      name: 'provisionable-in-session',
      versions: ['1.3'],
      capabilities: [
        'CERT',
        'CHAL',
        'MEAS_SIG',
        'KEY_EX',
        'ENCRYPT',
        'MAC',
        'SET_CERT',
        'CSR',
        'GET_KEY_PAIR_INFO',
        'SET_KEY_PAIR_INFO',
      ],
      slots: [{ slot: 0, asym: 'ECDSA-P384', certChain: 'chain.der', privateKey: 'leaf.pem' }],
    }),
  );
  return { leaf: parseCertificate(chain.certificates.at(-1)!), owner: parseCertificate(second.certificates.at(-1)!) };
}

test('spdm provision csr | set-certificate | key-pair-info against spdm emulate', async () => {
  const id = identity();
  const emu = await emulate(['--transport', 'doe', '--profile', join(dir, 'profile.json')]);
  try {
    const connect = ['--connect', `127.0.0.1:${emu.port}`, '--transport', 'doe'];
    // CSR as DER: over the device's key, with the subject asked for, verified by openssl too.
    const csrFile = join(dir, 'device.csr');
    const csr = await spdm(['provision', 'csr', ...connect, '--out', csrFile, '--subject', 'provisioned-unit-7']);
    assert.equal(csr.code, 0, csr.stderr);
    assert.match(csr.stdout, /signature verified/);
    const parsed = parseCsr(new Uint8Array(readFileSync(csrFile)));
    assert.equal(toHex(parsed.spki), toHex(id.leaf.spki));
    const subject = execFileSync(
      'openssl',
      ['req', '-inform', 'DER', '-in', csrFile, '-verify', '-noout', '-subject'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    assert.match(subject, /CN = provisioned-unit-7/);

    // A new chain for slot 1, read back by the command and then by a separate authentication.
    const set = await spdm([
      'provision',
      'set-certificate',
      ...connect,
      '--slot',
      '1',
      '--chain',
      join(dir, 'owner.pem'),
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /slot 1: 3 certificates installed and read back, leaf .*owner identity/);
    const auth = await spdm(['authenticate', ...connect, '--slot', '1', '--json']);
    assert.equal(auth.code, 0, auth.stderr);
    const ev = (
      JSON.parse(auth.stdout) as { evidence: { slots: { slot: number; certificates: { subject: string }[] }[] } }
    ).evidence;
    assert.equal(ev.slots.find((s) => s.slot === 1)?.certificates.at(-1)?.subject, id.owner.subject);

    // Key pairs: listed, changed, and an erase of a key pair in use refused (exit 1, the device's error named).
    const list = await spdm(['provision', 'key-pair-info', ...connect, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const pairs = (JSON.parse(list.stdout) as { keyPairs: { keyPairId: number; assocCertSlotMask: number }[] })
      .keyPairs;
    assert.deepEqual(
      pairs.map((k) => [k.keyPairId, k.assocCertSlotMask]),
      [[1, 0b11]],
    );
    const change = await spdm(['provision', 'key-pair-info', ...connect, '--key-pair', '1', '--usage', '0x6']);
    assert.equal(change.code, 0, change.stderr);
    assert.match(change.stdout, /key pair 1\/1: usage 0x6 /);
    const erase = await spdm(['provision', 'key-pair-info', ...connect, '--key-pair', '1', '--erase']);
    assert.equal(erase.code, 1);
    assert.match(erase.stderr, /OperationFailed/);

    // Erase slot 1 again (1.3).
    const gone = await spdm(['provision', 'set-certificate', ...connect, '--slot', '1', '--erase']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, /slot 1 erased/);
  } finally {
    await emu.stop();
  }
});

test('spdm provision --session key-exchange: the requests go inside a secure session, the read-back in the clear', async () => {
  identity();
  const emu = await emulate(['--transport', 'mctp', '--profile', join(dir, 'profile-session.json')]);
  try {
    const connect = ['--connect', `127.0.0.1:${emu.port}`, '--transport', 'mctp', '--session', 'key-exchange'];
    const set = await spdm([
      'provision',
      'set-certificate',
      ...connect,
      '--slot',
      '3',
      '--chain',
      join(dir, 'owner.pem'),
      '--json',
    ]);
    assert.equal(set.code, 0, set.stderr);
    const out = JSON.parse(set.stdout) as { ok: boolean; readBack: string; slot: number };
    assert.deepEqual([out.ok, out.slot, out.readBack], [true, 3, 'installed']);
    const csr = await spdm(['provision', 'csr', ...connect, '--out', join(dir, 'in-session.csr'), '--pem']);
    assert.equal(csr.code, 0, csr.stderr);
    assert.match(readFileSync(join(dir, 'in-session.csr'), 'utf8'), /^-----BEGIN CERTIFICATE REQUEST-----/);
    const kp = await spdm(['provision', 'key-pair-info', ...connect]);
    assert.equal(kp.code, 0, kp.stderr);
    assert.match(kp.stdout, /key pair 1\/1: .* slots 0x9,/);
  } finally {
    await emu.stop();
  }
});

test('spdm provision: usage mistakes are exit 2 before a device is touched', async () => {
  const noChain = await spdm(['provision', 'set-certificate', '--connect', '127.0.0.1:1', '--slot', '1']);
  assert.equal(noChain.code, 2);
  assert.match(noChain.stderr, /--chain FILE or --erase/);
  const badMask = await spdm(['provision', 'key-pair-info', '--connect', '127.0.0.1:1', '--usage', 'xyz']);
  assert.equal(badMask.code, 2);
  const noId = await spdm(['provision', 'key-pair-info', '--connect', '127.0.0.1:1', '--erase']);
  assert.equal(noId.code, 2);
  assert.match(noId.stderr, /needs --key-pair/);
  const missing = await spdm([
    'provision',
    'set-certificate',
    '--connect',
    '127.0.0.1:1',
    '--slot',
    '1',
    '--chain',
    join(dir, 'nope.pem'),
  ]);
  assert.equal(missing.code, 2);
});
