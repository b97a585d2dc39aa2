/**
 * `spdm emulate --sample-keys DIR` (libspdm's sample-key layout) and `spdm authenticate
 * --requester-chain/--requester-key`, two processes over real sockets: the emulator asks for mutual
 * authentication as spdm_responder_emu does by default (basic after CHALLENGE_AUTH, encapsulated in
 * KEY_EXCHANGE), reads our chain, checks it against the sample CA and verifies our signatures.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { emulate, spdm } from '../support/cli.js';

const keys = join(libspdmVectors(), 'keys');
const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-mutual-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function noSanPolicy(): string {
  const file = join(scratch, 'no-san.yaml');
  writeFileSync(file, 'version: 1\nrules:\n  cmaSan: off\n');
  return file;
}

interface Outcome {
  authenticated: boolean;
  trusted: boolean;
  basicMutualAuth?: { flow: string; requesterSlot: number; asked: string[] };
  session?: { info: { mutualAuth?: { flow: string; asked: string[] } }; ran: string[] };
}

for (const version of ['1.2', '1.4']) {
  test(`spdm emulate --sample-keys asks for mutual authentication; spdm authenticate --requester-chain gives it (SPDM ${version}, DOE)`, async () => {
    const emu = await emulate(['--transport', 'doe', '--sample-keys', keys]);
    const r = await spdm([
      'authenticate',
      '--connect',
      `127.0.0.1:${emu.port}`,
      '--transport',
      'doe',
      '--version',
      version,
      '--trust',
      join(keys, 'ecp384', 'ca.cert.der'),
      '--policy',
      noSanPolicy(),
      '--session',
      'key-exchange',
      '--mutual',
      '--requester-chain',
      join(keys, 'rsa3072', 'bundle_requester.certchain.der'),
      '--requester-key',
      join(keys, 'rsa3072', 'end_requester.key'),
      '--shutdown',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const o = JSON.parse(r.stdout) as Outcome;
    assert.equal(o.trusted, true);
    assert.equal(o.basicMutualAuth?.flow, 'basic');
    assert.deepEqual(o.basicMutualAuth?.asked.slice(0, 2), ['GET_DIGESTS', 'GET_CERTIFICATE']);
    assert.equal(o.basicMutualAuth?.asked.at(-1), 'CHALLENGE');
    assert.equal(o.session?.info.mutualAuth?.flow, 'encap');
    assert.equal(await emu.done, 0);
  });
}

test('spdm authenticate --mutual without an identity is a usage error', async () => {
  const r = await spdm(['authenticate', '--connect', '127.0.0.1:1', '--mutual']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /--mutual needs --requester-chain and --requester-key/);
});

test('spdm authenticate --requester-chain without --requester-key is a usage error before anything is sent', async () => {
  const r = await spdm([
    'authenticate',
    '--connect',
    '127.0.0.1:1',
    '--requester-chain',
    join(keys, 'rsa3072', 'bundle_requester.certchain.der'),
  ]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /--requester-chain and --requester-key go together/);
});

test("spdm authenticate with a requester key that is not the chain leaf's is a usage error", async () => {
  const r = await spdm([
    'authenticate',
    '--connect',
    '127.0.0.1:1',
    '--requester-chain',
    join(keys, 'rsa3072', 'bundle_requester.certchain.der'),
    '--requester-key',
    join(keys, 'ecp384', 'end_requester.key'),
  ]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /not the private key of the last certificate/);
});

test('spdm emulate --sample-keys on a directory without libspdm keys fails with a clear message', async () => {
  const r = await spdm(['emulate', '--port', '0', '--sample-keys', scratch]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /sample-key layout/);
});
