/** The CLI as scripts use it: `spdm emulate` in one process, `spdm authenticate` in another. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { emulate, spdm } from '../support/cli.js';
import { createRootCa } from '../../src/x509/generate.js';

const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function libspdmProfile(extra: Record<string, unknown> = {}): string {
  const keys = join(libspdmVectors(), 'keys', 'ecp384');
  const dir = mkdtempSync(join(scratch, 'profile-'));
  const file = join(dir, 'profile.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'libspdm-sample-p384',
      versions: ['1.0', '1.1', '1.2', '1.3'],
      hash: ['SHA-384'],
      slots: [
        {
          slot: 0,
          asym: 'ECDSA-P384',
          certChain: join(keys, 'bundle_responder.certchain.der'),
          privateKey: join(keys, 'end_responder.key'),
        },
      ],
      ...extra,
    }),
  );
  return file;
}

/** A policy with the CMA SAN rule off, for devices reached without config space. */
function noSanPolicy(): string {
  const file = join(mkdtempSync(join(scratch, 'policy-')), 'no-san.yaml');
  writeFileSync(file, 'version: 1\nrules:\n  cmaSan: off\n');
  return file;
}

for (const transport of ['doe', 'mctp', 'none', 'tcp']) {
  test(`spdm emulate + spdm authenticate over ${transport}`, async () => {
    const emu = await emulate(['--transport', transport, '--profile', libspdmProfile()]);
    const ca = join(libspdmVectors(), 'keys', 'ecp384', 'ca.cert.der');
    // The verifier's default policy requires the PCIe CMA SAN, which needs the PCI identity that only
    // config space gives: over the emulator socket there is none, so the verdict is untrusted.
    const noPci = await spdm([
      'authenticate',
      '--connect',
      `127.0.0.1:${emu.port}`,
      '--transport',
      transport,
      '--trust',
      ca,
      '--json',
    ]);
    assert.equal(noPci.code, 1, noPci.stdout + noPci.stderr);
    const refused = JSON.parse(noPci.stdout) as {
      authenticated: boolean;
      trusted: boolean;
      verdict: { reasons: { code: string }[] };
    };
    assert.equal(refused.authenticated, true);
    assert.equal(refused.trusted, false);
    assert.deepEqual(
      refused.verdict.reasons.map((r) => r.code),
      ['PCI_IDENTITY_MISSING'],
    );
    // The same device with a policy that turns the CMA SAN rule off: the verifier's TRUSTED, exit 0.
    const ok = await spdm([
      'authenticate',
      '--connect',
      `127.0.0.1:${emu.port}`,
      '--transport',
      transport,
      '--trust',
      ca,
      '--policy',
      noSanPolicy(),
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const outcome = JSON.parse(ok.stdout) as {
      authenticated: boolean;
      trusted: boolean;
      verdict: { status: string };
      evidence: { version: string; signatures: unknown[] };
    };
    assert.equal(outcome.authenticated, true);
    assert.equal(outcome.trusted, true);
    assert.equal(outcome.verdict.status, 'trusted');
    assert.equal(outcome.evidence.version, '1.3');
    assert.equal(outcome.evidence.signatures.length, 2);
    // Another root: the device authenticates but is not trusted → exit 1, with the reason.
    const dir = mkdtempSync(join(scratch, 'root-'));
    const other = join(dir, 'other.der');
    writeFileSync(other, createRootCa({ asymId: 0x0080, commonName: 'Somebody Else' }).certificate);
    const untrusted = await spdm([
      'authenticate',
      '--connect',
      `127.0.0.1:${emu.port}`,
      '--transport',
      transport,
      '--trust',
      other,
      '--policy',
      noSanPolicy(),
      '--version',
      '1.2',
      '--shutdown',
    ]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stdout, /✗ CHAIN_UNTRUSTED/);
    assert.match(untrusted.stdout, /AUTHENTICATED but UNTRUSTED: CHAIN_UNTRUSTED/);
    assert.equal(await emu.done, 0, 'SHUTDOWN stops the emulator cleanly');
  });
}

test('spdm authenticate --deny: a device whose leaf is on the deny-list is UNTRUSTED with CERT_DENIED, exit 1', async () => {
  const emu = await emulate(['--transport', 'mctp', '--profile', libspdmProfile()]);
  const keys = join(libspdmVectors(), 'keys', 'ecp384');
  const leaf = readFileSync(join(keys, 'end_responder.cert.der'));
  const deny = join(mkdtempSync(join(scratch, 'deny-')), 'deny.txt');
  writeFileSync(deny, `sha256:${createHash('sha256').update(leaf).digest('hex')}\n`);
  const r = await spdm([
    'authenticate',
    '--connect',
    `127.0.0.1:${emu.port}`,
    '--transport',
    'mctp',
    '--trust',
    join(keys, 'ca.cert.der'),
    '--policy',
    noSanPolicy(),
    '--deny',
    deny,
    '--shutdown',
  ]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ CERT_DENIED/);
  assert.match(r.stdout, /AUTHENTICATED but UNTRUSTED: CERT_DENIED/);
  assert.equal(await emu.done, 0);
});

test("spdm authenticate --nonce: the evidence is collected with the caller's nonce, and --policy without --trust is a usage error", async () => {
  const emu = await emulate(['--transport', 'mctp', '--profile', libspdmProfile()]);
  const nonce = 'a5'.repeat(32);
  const ca = join(libspdmVectors(), 'keys', 'ecp384', 'ca.cert.der');
  const r = await spdm([
    'authenticate',
    '--connect',
    `127.0.0.1:${emu.port}`,
    '--transport',
    'mctp',
    '--trust',
    ca,
    '--policy',
    noSanPolicy(),
    '--nonce',
    nonce,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const o = JSON.parse(r.stdout) as { evidence: { signatures: { requesterNonce: string }[] } };
  assert.ok(o.evidence.signatures.length > 0 && o.evidence.signatures.every((s) => s.requesterNonce === nonce));
  assert.equal(
    (
      await spdm([
        'authenticate',
        '--connect',
        `127.0.0.1:${emu.port}`,
        '--transport',
        'mctp',
        '--policy',
        noSanPolicy(),
      ])
    ).code,
    2,
  );
  assert.equal(
    (
      await spdm([
        'authenticate',
        '--connect',
        `127.0.0.1:${emu.port}`,
        '--transport',
        'mctp',
        '--trust',
        ca,
        '--nonce',
        'abc',
        '--shutdown',
      ])
    ).code,
    2,
  );
  await spdm(['authenticate', '--connect', `127.0.0.1:${emu.port}`, '--transport', 'mctp', '--shutdown']);
  assert.equal(await emu.done, 0);
});

test('spdm authenticate --session psk: CHALLENGE in the clear, signed measurements inside a PSK session; bad --psk use exits 2', async () => {
  const emu = await emulate([
    '--transport',
    'doe',
    '--profile',
    libspdmProfile({
      capabilities: ['CERT', 'CHAL', 'MEAS_SIG', 'MEAS_FRESH', 'ENCRYPT', 'MAC', 'HBEAT', 'PSK_WITH_CONTEXT'],
      heartbeatPeriod: 9,
      psk: [{ key: 'ascii:TestPskData\\0', hint: 'ascii:TestPskHint\\0' }],
    }),
  ]);
  const at = ['--connect', `127.0.0.1:${emu.port}`, '--transport', 'doe'];
  const psk = ['--session', 'psk', '--psk', 'ascii:TestPskData\\0', '--psk-hint', 'ascii:TestPskHint\\0'];
  const json = await spdm(['authenticate', ...at, ...psk, '--heartbeat', '--json']);
  assert.equal(json.code, 0, json.stdout + json.stderr);
  const outcome = JSON.parse(json.stdout) as {
    authenticated: boolean;
    evidence: { signatures: { kind: string }[] };
    session: {
      info: { kind: string; psk: { hint: string; finish: boolean }; heartbeatPeriod: number; dhe?: unknown };
      ran: string[];
      keyExchangeSignature?: unknown;
    };
  };
  assert.equal(outcome.authenticated, true);
  assert.deepEqual(
    outcome.evidence.signatures.map((x) => x.kind),
    ['CHALLENGE_AUTH', 'MEASUREMENTS'],
  );
  assert.equal(outcome.session.info.kind, 'psk');
  assert.deepEqual(outcome.session.info.psk, { hint: Buffer.from('TestPskHint\0').toString('hex'), finish: true });
  assert.equal(outcome.session.info.heartbeatPeriod, 9);
  assert.equal(outcome.session.info.dhe, undefined);
  assert.equal(outcome.session.keyExchangeSignature, undefined);
  assert.deepEqual(outcome.session.ran, ['PSK_EXCHANGE', 'PSK_FINISH', 'GET_MEASUREMENTS', 'HEARTBEAT', 'END_SESSION']);
  const text = await spdm(['authenticate', ...at, ...psk]);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(
    text.stdout,
    /^session 0x[0-9a-f]{8}: PSK \(hint 5465737450736b48696e7400\), AES-256-GCM.*ran PSK_EXCHANGE, PSK_FINISH, GET_MEASUREMENTS, END_SESSION$/m,
  );
  assert.match(text.stdout, /PSK_EXCHANGE_RSP: ResponderVerifyData verified with the PSK \(no signature/);
  assert.doesNotMatch(text.stdout, /KEY_EXCHANGE_RSP/);
  // The wrong key: the device's ResponderVerifyData does not verify, exit 1 with the typed reason.
  const wrong = await spdm([
    'authenticate',
    ...at,
    '--session',
    'psk',
    '--psk',
    'ascii:TestPskData',
    '--psk-hint',
    'ascii:TestPskHint\\0',
    '--json',
  ]);
  assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
  assert.equal((JSON.parse(wrong.stdout) as { errorCode: string }).errorCode, 'VERIFY_DATA_MISMATCH');
  for (const bad of [
    ['--session', 'psk'],
    ['--psk', 'aa'],
    ['--session', 'key-exchange', '--psk', 'aa'],
    ['--session', 'psk', '--psk', 'xyz'],
    ['--session', 'psk', '--psk', 'aa', '--psk-hint', '00'.repeat(17)],
  ])
    assert.equal((await spdm(['authenticate', ...at, ...bad])).code, 2, bad.join(' '));
  await spdm(['authenticate', ...at, '--shutdown']);
  assert.equal(await emu.done, 0);
});

test('spdm authenticate: unreachable device exits 3, bad arguments exit 2', async () => {
  assert.equal((await spdm(['authenticate', '--connect', '127.0.0.1:1', '--transport', 'mctp'])).code, 3);
  assert.equal((await spdm(['authenticate', '--connect', 'nonsense', '--transport', 'mctp'])).code, 2);
  assert.equal((await spdm(['authenticate', '--connect', '127.0.0.1:1', '--transport', 'pigeon'])).code, 2);
});

test('an error the CLI does not map (the port to listen on is taken) exits 1 and prints it; an unreadable capture is a usage error, 2', async () => {
  // EADDRINUSE is no error main() knows: it reaches bin/spdm.js's last-resort handler.
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  try {
    const port = (taken.address() as AddressInfo).port;
    const r = await spdm(['emulate', '--port', String(port)]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /spdm: unexpected error: .*EADDRINUSE/);
  } finally {
    await new Promise((r) => taken.close(r));
  }
  const missing = await spdm(['dump', join(scratch, 'no-such.pcap')]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /spdm: DECODE_ERROR: capture .*no-such\.pcap: cannot read: ENOENT/);
  const dir = await spdm(['dump', scratch]);
  assert.equal(dir.code, 2, dir.stderr);
  assert.match(dir.stderr, /cannot read: EISDIR/);
});

test('spdm dump prints every packet of a capture and exits 0', async () => {
  const r = await spdm(['dump', join(libspdmVectors(), 'captures', 'doe-v11.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /GET_VERSION/);
  assert.match(r.stdout, /signatures \d+ verified, 0 invalid/);
  const j = await spdm(['dump', '--json', join(libspdmVectors(), 'captures', 'mctp-default.pcap')]);
  assert.equal(j.code, 0);
  assert.equal((JSON.parse(j.stdout) as { linkType: number }).linkType, 291);
});

test('spdm authenticate --session key-exchange --key-update all|one: the update runs inside the session and is reported', async () => {
  const keys = join(libspdmVectors(), 'keys', 'ecp384');
  const file = join(mkdtempSync(join(scratch, 'profile-')), 'profile.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'session-device',
      capabilities: ['CERT', 'CHAL', 'MEAS_SIG', 'MEAS_FRESH', 'ENCRYPT', 'MAC', 'KEY_EX', 'HBEAT', 'KEY_UPD'],
      hash: ['SHA-384'],
      heartbeatPeriod: 30,
      slots: [
        {
          slot: 0,
          asym: 'ECDSA-P384',
          certChain: join(keys, 'bundle_responder.certchain.der'),
          privateKey: join(keys, 'end_responder.key'),
        },
      ],
    }),
  );
  for (const transport of ['doe', 'mctp']) {
    const emu = await emulate(['--transport', transport, '--profile', file]);
    const base = ['authenticate', '--connect', `127.0.0.1:${emu.port}`, '--transport', transport];
    const json = await spdm([...base, '--session', 'key-exchange', '--key-update', 'all', '--json']);
    assert.equal(json.code, 0, json.stdout + json.stderr);
    const outcome = JSON.parse(json.stdout) as { session: { ran: string[] } };
    assert.deepEqual(outcome.session.ran, [
      'KEY_EXCHANGE',
      'FINISH',
      'GET_MEASUREMENTS',
      'KEY_UPDATE(UpdateAllKeys)',
      'KEY_UPDATE(VerifyNewKey)',
      'END_SESSION',
    ]);
    const text = await spdm([...base, '--session', 'key-exchange', '--heartbeat', '--key-update', 'one', '--shutdown']);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(
      text.stdout,
      /heartbeat 30 s; ran KEY_EXCHANGE, FINISH, GET_MEASUREMENTS, HEARTBEAT, KEY_UPDATE\(UpdateKey\), KEY_UPDATE\(VerifyNewKey\), END_SESSION/,
    );
    assert.equal(await emu.done, 0);
  }
  const bad = await spdm([
    'authenticate',
    '--connect',
    '127.0.0.1:1',
    '--session',
    'key-exchange',
    '--key-update',
    'both',
  ]);
  assert.equal(bad.code, 2, bad.stderr);
});
