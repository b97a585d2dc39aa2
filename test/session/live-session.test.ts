/**
 * Live secure sessions, requester ⇄ device emulator in-process: KEY_EXCHANGE (signature over the
 * TH with the slot's leaf key, ResponderVerifyData), FINISH inside the session under the handshake
 * keys, then signed measurements, HEARTBEAT and END_SESSION under the data keys — for every ECDHE
 * group × AEAD × SPDM 1.1/1.2/1.3, over the loopback (DOE record layout and MCTP record layout)
 * and over a simulated DOE mailbox (secured CMA-SPDM, data object type 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { encodeHeartbeat } from '../../src/spdm/messages/heartbeat.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import type { RequesterOptions } from '../../src/requester/options.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SecuredTransport } from '../../src/session/record.js';
import { reverifySignature, reverifySignatures } from '../../src/evidence/reverify.js';
import { SimulatedDoeDevice } from '../../src/pci/doe-device.js';
import { openDoeTransport } from '../../src/pci/doe-transport.js';
import { verify } from '../../src/verifier/verify.js';
import { compilePolicy } from '../../src/verifier/policy.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { SUITES, device } from '../support/fixtures.js';

const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.KEY_UPD;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.KEY_UPD;

function sessionProfile(
  dhe: number,
  aead: number,
  versions: number[],
  extra: { flags?: number; suite?: number } = {},
): DeviceProfile {
  const base = device(SUITES[extra.suite ?? 1]!).profile;
  return {
    ...base,
    versions,
    capabilities: { ...base.capabilities, flags: extra.flags ?? RSP_FLAGS },
    algorithms: { ...base.algorithms, dhe: [dhe], aead: [aead] },
    session: { heartbeatPeriod: 5 },
  };
}

function requesterOptions(version: number, flags = REQ_FLAGS): RequesterOptions {
  return { versions: [version], capabilityFlags: flags, session: {} };
}

function loopbackPair(profile: DeviceProfile, version: number, binding: SecuredTransport = 'doe', flags = REQ_FLAGS) {
  const responder = new Responder(profile, { securedBinding: binding });
  const requester = new Requester(
    new LoopbackTransport(responder, 0x10000, { securedBinding: binding }),
    requesterOptions(version, flags),
  );
  return { responder, requester };
}

const GROUPS = [
  ['secp256r1', DheGroup.SECP256R1],
  ['secp384r1', DheGroup.SECP384R1],
  ['secp521r1', DheGroup.SECP521R1],
] as const;
const AEADS = [
  ['AES-128-GCM', AeadAlgo.AES_128_GCM],
  ['AES-256-GCM', AeadAlgo.AES_256_GCM],
  ['ChaCha20-Poly1305', AeadAlgo.CHACHA20_POLY1305],
] as const;
const VERSIONS = [0x11, 0x12, 0x13];

for (const [gname, group] of GROUPS) {
  for (const [aname, aead] of AEADS) {
    test(`session over loopback: ${gname} × ${aname} × SPDM 1.1–1.4, measurements, heartbeat, both key updates, end`, async () => {
      for (const version of [...VERSIONS, 0x14]) {
        const { responder, requester } = loopbackPair(sessionProfile(group, aead, [version]), version);
        await requester.connect();
        const s = await requester.startSession({ slot: 0, measurementSummaryHashType: 0xff });
        assert.equal(s.phase, 'established');
        assert.equal(s.info.kind, 'key-exchange');
        assert.equal(s.info.dhe?.id, group);
        assert.equal(s.info.aead.id, aead);
        assert.equal(s.info.heartbeatPeriod, 5);
        assert.equal(s.info.securedVersion, version === 0x11 ? '1.2' : '1.2');
        assert.ok(s.measurementSummaryHash);
        assert.equal(responder.sessionCount, 1);
        const run = await s.getMeasurements();
        assert.ok(run.signature?.verified, 'signed measurements inside the session');
        assert.ok(run.measurements.length > 0);
        await s.heartbeat();
        // Both key updates, each proved by a signed request under the new keys.
        assert.equal((await s.keyUpdate('one')).operation, 'UpdateKey');
        assert.ok((await s.getMeasurements({ indices: [1] })).signature?.verified);
        assert.equal((await s.keyUpdate('all')).operation, 'UpdateAllKeys');
        assert.ok((await s.getMeasurements({ indices: [1] })).signature?.verified);
        await s.end();
        assert.equal(s.phase, 'ended');
        assert.equal(responder.sessionCount, 0);
        // Offline: the KEY_EXCHANGE_RSP signature and the in-session MEASUREMENTS signature re-verify.
        const ev = requester.evidence();
        assert.ok(s.signature, 'a KEY_EXCHANGE session carries its signature');
        assert.deepEqual(reverifySignature(ev, s.signature), { index: -1, kind: 'KEY_EXCHANGE_RSP', ok: true });
        for (const c of reverifySignatures(ev)) assert.ok(c.ok, c.reason);
        // The connection goes on in the clear after the session.
        await requester.getDigests();
      }
    });
  }
}

test('session over the MCTP record layout (2-byte sequence numbers, random padding, inner type 0x05)', async () => {
  for (const version of VERSIONS) {
    const { requester } = loopbackPair(
      sessionProfile(DheGroup.SECP384R1, AeadAlgo.AES_256_GCM, [version]),
      version,
      'mctp',
    );
    await requester.connect();
    const s = await requester.startSession();
    assert.equal(s.info.binding, 'mctp');
    const run = await s.getMeasurements({ mode: 'one-by-one' });
    assert.ok(run.signature?.verified);
    for (let i = 0; i < 3; i++) await s.heartbeat();
    await s.end();
  }
});

test('authenticate-only session (MAC_CAP without ENCRYPT_CAP)', async () => {
  const flags = RSP_FLAGS & ~F.ENCRYPT;
  const { requester } = loopbackPair(
    sessionProfile(DheGroup.SECP256R1, AeadAlgo.AES_128_GCM, [0x12], { flags }),
    0x12,
    'doe',
    REQ_FLAGS & ~F.ENCRYPT,
  );
  await requester.connect();
  const s = await requester.startSession();
  assert.equal(s.info.mode, 'mac-only');
  await s.getMeasurements();
  await s.end();
});

test('HANDSHAKE_IN_THE_CLEAR: FINISH/FINISH_RSP in the clear with ResponderVerifyData in FINISH_RSP', async () => {
  for (const version of VERSIONS) {
    const { requester } = loopbackPair(
      sessionProfile(DheGroup.SECP384R1, AeadAlgo.AES_256_GCM, [version], {
        flags: RSP_FLAGS | F.HANDSHAKE_IN_THE_CLEAR,
      }),
      version,
      'doe',
      REQ_FLAGS | F.HANDSHAKE_IN_THE_CLEAR,
    );
    await requester.connect();
    const s = await requester.startSession();
    assert.equal(s.info.handshakeInTheClear, true);
    await s.getMeasurements();
    await s.end();
  }
});

test('two sessions at once; send() takes any request', async () => {
  const { responder, requester } = loopbackPair(
    sessionProfile(DheGroup.SECP256R1, AeadAlgo.CHACHA20_POLY1305, [0x13]),
    0x13,
  );
  await requester.connect();
  const a = await requester.startSession();
  const b = await requester.startSession();
  assert.notEqual(a.sessionId, b.sessionId);
  assert.equal(responder.sessionCount, 2);
  const ack = await a.send(encodeHeartbeat(0x13));
  assert.equal(ack[1], 0x68);
  const unsupported = await b.send(Uint8Array.of(0x13, RequestCode.KEY_EXCHANGE, 0, 0));
  assert.equal(unsupported[1], 0x7f, 'KEY_EXCHANGE inside a session is an ERROR, in the session');
  await a.end();
  await b.heartbeat();
  await b.end();
});

test('session over a simulated DOE mailbox (secured CMA-SPDM, type 2)', async () => {
  for (const version of VERSIONS) {
    const responder = new Responder(sessionProfile(DheGroup.SECP384R1, AeadAlgo.AES_256_GCM, [version]), {
      securedBinding: 'doe',
    });
    const dev = new SimulatedDoeDevice({
      handler: responder,
      securedHandler: { handle: (r) => responder.handleSecured(r) },
    });
    const transport = await openDoeTransport(dev);
    const requester = new Requester(transport, requesterOptions(version));
    await requester.connect();
    const s = await requester.startSession();
    assert.equal(s.info.binding, 'doe');
    const run = await s.getMeasurements();
    assert.ok(run.signature?.verified);
    await s.heartbeat();
    await s.end();
    await transport.close();
  }
});

test('no session without KEY_EX_CAP on the device: typed error before anything is sent', async () => {
  const { requester } = loopbackPair(
    sessionProfile(DheGroup.SECP384R1, AeadAlgo.AES_256_GCM, [0x12], { flags: DEFAULT_RESPONDER_FLAGS }),
    0x12,
  );
  await requester.connect();
  await assert.rejects(requester.startSession(), (e) => isSpdmError(e, 'UNSUPPORTED'));
});

test('the verifier judges evidence whose signed measurements were taken inside a session', async () => {
  const built = device(SUITES[1]!);
  const { requester } = loopbackPair(sessionProfile(DheGroup.SECP384R1, AeadAlgo.AES_256_GCM, [0x13]), 0x13);
  await requester.connect();
  const s = await requester.startSession();
  await s.getMeasurements();
  await s.end();
  const ev = requester.evidence();
  // Both signatures of the session are evidence, each naming the session.
  assert.ok(s.signature);
  assert.deepEqual(
    ev.signatures.map((x) => [x.kind, x.sessionId]),
    [
      ['KEY_EXCHANGE_RSP', s.signature?.sessionId],
      ['MEASUREMENTS', s.signature?.sessionId],
    ],
  );
  // No PCI identity in an in-process run: the CMA subjectAltName rule has nothing to check.
  const policy = compilePolicy({ version: 1, rules: { cmaSan: 'off' } });
  const v = verify(JSON.parse(JSON.stringify(ev)), policy, TrustStore.fromCertificates([built.root.certificate]));
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
});

test('FFDHE 2048/3072/4096 sessions, and every signing suite of the fixtures (P-256, P-384, RSASSA-PSS, Ed25519)', async () => {
  for (const group of [DheGroup.FFDHE2048, DheGroup.FFDHE3072, DheGroup.FFDHE4096]) {
    const { requester } = loopbackPair(sessionProfile(group, AeadAlgo.AES_256_GCM, [0x12]), 0x12);
    await requester.connect();
    const s = await requester.startSession();
    assert.equal(s.info.dhe?.id, group);
    await s.heartbeat();
    await s.end();
  }
  for (let suite = 0; suite < SUITES.length; suite++) {
    const { requester } = loopbackPair(
      sessionProfile(DheGroup.SECP256R1, AeadAlgo.AES_128_GCM, [0x13], { suite }),
      0x13,
    );
    await requester.connect();
    const s = await requester.startSession();
    assert.ok(s.signature);
    assert.equal(reverifySignature(requester.evidence(), s.signature).ok, true, SUITES[suite]!.name);
    await s.getMeasurements();
    await s.end();
  }
});

test('authenticate({ session }): signed measurements inside the session over the caller nonce, then END_SESSION', async () => {
  const { requester, responder } = loopbackPair(sessionProfile(DheGroup.SECP384R1, AeadAlgo.AES_256_GCM, [0x12]), 0x12);
  const nonce = new Uint8Array(32).fill(0x5a);
  const ev = await requester.authenticate({ nonce, session: { heartbeat: true } });
  assert.deepEqual(requester.lastSession?.ran, [
    'KEY_EXCHANGE',
    'FINISH',
    'GET_MEASUREMENTS',
    'HEARTBEAT',
    'END_SESSION',
  ]);
  assert.equal(responder.sessionCount, 0);
  const meas = ev.signatures.find((x) => x.kind === 'MEASUREMENTS');
  assert.equal(meas?.requesterNonce, '5a'.repeat(32));
  const ls = requester.lastSession;
  assert.ok(ls?.keyExchangeSignature);
  assert.equal(reverifySignature(ev, ls.keyExchangeSignature).ok, true);
});

test('HEARTBEAT is refused before sending unless both sides negotiated HBEAT_CAP; the session goes on', async () => {
  for (const [who, rsp, req] of [
    ['device', RSP_FLAGS & ~F.HBEAT, REQ_FLAGS],
    ['requester', RSP_FLAGS, REQ_FLAGS & ~F.HBEAT],
  ] as const) {
    const responder = new Responder(sessionProfile(DheGroup.SECP256R1, AeadAlgo.AES_128_GCM, [0x12], { flags: rsp }));
    // Counts the records that reach the device, so the test sees that nothing was sent.
    let records = 0;
    const counting = {
      handle: (r: Uint8Array) => responder.handle(r),
      handleSecured: (r: Uint8Array) => {
        records++;
        return responder.handleSecured(r);
      },
    };
    const requester = new Requester(new LoopbackTransport(counting, 0x10000), requesterOptions(0x12, req));
    await requester.connect();
    const s = await requester.startSession();
    const seen = records;
    await assert.rejects(
      () => s.heartbeat(),
      (e: unknown) => isSpdmError(e) && e.code === 'UNSUPPORTED' && /HBEAT_CAP/.test(e.message),
      who,
    );
    assert.equal(records, seen, `${who}: nothing was sent`);
    await s.getMeasurements();
    await s.end();
  }
});
