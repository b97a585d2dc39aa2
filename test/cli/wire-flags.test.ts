/**
 * `spdm authenticate`'s flags for how messages travel — --chunk, --data-transfer-size,
 * --max-spdm-msg-size, --large-resp, and with --session --secured-version, --sequence-order,
 * --sequence-limit — through the command's own code (runAuthenticate) against the emulator on a
 * real socket: what each flag asks is what the device sees, and a bad value is a usage error
 * naming the flag before anything is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runAuthenticate, type AuthenticateCliOptions } from '../../src/cli/authenticate.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { EmuSocketServer } from '../../src/transport/emu-socket.js';
import { Responder } from '../../src/responder/responder.js';
import { profileFromJson } from '../../src/responder/profile-file.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { libspdmVectors } from '../support/paths.js';

const keys = join(libspdmVectors(), 'keys', 'ecp384');

function device(session: Record<string, unknown> = {}) {
  return profileFromJson(
    {
      name: 'wire-device',
      versions: ['1.2', '1.3'],
      capabilities: ['CERT', 'CHAL', 'MEAS_SIG', 'MEAS_FRESH', 'KEY_EX', 'ENCRYPT', 'MAC', 'KEY_UPD', 'CHUNK'],
      ...session,
      slots: [
        {
          slot: 0,
          asym: 'ECDSA-P384',
          certChain: join(keys, 'bundle_responder.certchain.der'),
          privateKey: join(keys, 'end_responder.key'),
        },
      ],
    },
    process.cwd(),
  );
}

async function run(responder: Responder, flags: Partial<AuthenticateCliOptions>) {
  const server = await EmuSocketServer.listen({ host: '127.0.0.1', port: 0, transport: 'mctp', handler: responder });
  try {
    return await runAuthenticate({
      connect: `127.0.0.1:${server.port}`,
      transport: 'mctp',
      slot: 0,
      measurements: 'all',
      ...flags,
    });
  } finally {
    await server.close();
  }
}

test('--chunk --data-transfer-size 64: the chain and the signed messages come in CHUNK_GET pieces; without it, none', async () => {
  const chunked = new Responder(device(), { securedBinding: 'mctp' });
  // MaxSPDMmsgSize defaults to 64 KiB with --chunk: a DIGESTS of more than 64 bytes must come whole.
  const r = await run(chunked, { chunk: true, dataTransferSize: '64' });
  assert.equal(r.exitCode, EXIT.OK, r.outcome.reason);
  assert.ok((chunked.stats.get(RequestCode.CHUNK_GET) ?? 0) > 0, 'responses larger than 64 bytes were chunked');
  const plain = new Responder(device(), { securedBinding: 'mctp' });
  const p = await run(plain, {});
  assert.equal(p.exitCode, EXIT.OK, p.outcome.reason);
  assert.equal(plain.stats.get(RequestCode.CHUNK_GET), undefined);
});

test('--session with --secured-version 1.1 --sequence-order be --sequence-limit: the session runs as asked and updates its keys at the limit', async () => {
  const responder = new Responder(device({ securedVersions: ['1.1', '1.2'], sequenceNumberOrder: 'be' }), {
    securedBinding: 'mctp',
  });
  const r = await run(responder, {
    session: 'key-exchange',
    securedVersion: '1.1',
    sequenceOrder: 'be',
    // FINISH, GET_MEASUREMENTS and END_SESSION would pass sequence number 1: a key update comes first.
    sequenceLimit: '2',
    keyUpdate: 'all',
  });
  assert.equal(r.exitCode, EXIT.OK, r.outcome.reason);
  const info = r.outcome.session?.info;
  assert.equal(info?.securedVersion, '1.1');
  assert.equal(info?.sequenceNumberOrder, 'be');
  assert.ok((responder.stats.get(RequestCode.KEY_UPDATE) ?? 0) > 2, 'keys updated at the limit, besides --key-update');
});

test('bad wire flags are usage errors naming the flag, before any connection', async () => {
  const cases: [Partial<AuthenticateCliOptions>, RegExp][] = [
    [{ session: 'key-exchange', securedVersion: '1.1,2.0' }, /--secured-version: "2.0"/],
    [{ sequenceLimit: '5' }, /need --session/],
    [{ session: 'key-exchange', sequenceLimit: '1' }, /--sequence-limit: 1 is outside/],
    [{ session: 'key-exchange', sequenceLimit: 'lots' }, /--sequence-limit: "lots"/],
    [{ dataTransferSize: '41' }, /--data-transfer-size: 41 is outside/],
    [{ maxSpdmMsgSize: '9000' }, /--max-spdm-msg-size needs --chunk/],
    [{ chunk: true, dataTransferSize: '4096', maxSpdmMsgSize: '100' }, /below --data-transfer-size/],
  ];
  for (const [flags, message] of cases) {
    // Nothing listens on port 9: a usage error must come before any attempt to connect.
    const r = await runAuthenticate({
      connect: '127.0.0.1:9',
      transport: 'mctp',
      slot: 0,
      measurements: 'all',
      ...flags,
    });
    assert.equal(r.exitCode, EXIT.USAGE, JSON.stringify(flags));
    assert.match(r.outcome.reason ?? '', message);
  }
});
