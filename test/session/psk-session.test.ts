/**
 * Live PSK sessions, requester ⇄ device emulator in-process: PSK_EXCHANGE (ResponderVerifyData
 * from the PSK), PSK_FINISH under the handshake keys when the device's PSK_CAP is 10b (or data
 * keys straight after PSK_EXCHANGE_RSP with 01b), then signed measurements, HEARTBEAT and
 * END_SESSION under the data keys — SPDM 1.1–1.4 × every AEAD, both PSK_CAP values, with and
 * without a PSKHint. A wrong PSK or an unknown hint fails typed and leaves the connection usable;
 * the records of a live session open with the capture decoder given the same PSK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { decodeError, ErrorCode } from '../../src/spdm/messages/error.js';
import { encodePskFinish } from '../../src/spdm/messages/psk.js';
import { ConversationDecoder, type Direction } from '../../src/spdm/conversation.js';
import { SessionTracker, type RecordResult } from '../../src/capture/session-tracker.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { profileFromJson } from '../../src/responder/profile-file.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import type { SecuredTransport } from '../../src/session/record.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { SUITES, device } from '../support/fixtures.js';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
/** libspdm's sample PSK and hint, each the C string with its NUL. */
const SAMPLE_PSK = ascii('TestPskData\0');
const SAMPLE_HINT = ascii('TestPskHint\0');
const OTHER_PSK = ascii('another key, 32 bytes long......');

const SESSION_FLAGS = F.ENCRYPT | F.MAC | F.HBEAT;
const REQ_FLAGS = F.CERT | F.CHAL | SESSION_FLAGS | F.PSK_NO_CONTEXT;

function pskProfile(
  versions: number[],
  o: { aead?: number; context?: boolean; suite?: number; flags?: number } = {},
): DeviceProfile {
  const base = device(SUITES[o.suite ?? 1]!).profile;
  const psk = o.context === false ? F.PSK_NO_CONTEXT : F.PSK_WITH_CONTEXT;
  return {
    ...base,
    versions,
    capabilities: { ...base.capabilities, flags: o.flags ?? DEFAULT_RESPONDER_FLAGS | SESSION_FLAGS | psk },
    algorithms: { ...base.algorithms, aead: [o.aead ?? AeadAlgo.AES_256_GCM] },
    session: {
      heartbeatPeriod: 7,
      psk: [
        { hint: new Uint8Array(0), key: SAMPLE_PSK },
        { hint: SAMPLE_HINT, key: OTHER_PSK },
      ],
    },
  };
}

function pskPair(
  profile: DeviceProfile,
  version: number,
  o: { binding?: SecuredTransport; flags?: number; handler?: (r: Responder) => SpdmHandler } = {},
) {
  const binding = o.binding ?? 'doe';
  const responder = new Responder(profile, { securedBinding: binding });
  const requester = new Requester(
    new LoopbackTransport(o.handler ? o.handler(responder) : responder, 0x10000, { securedBinding: binding }),
    { versions: [version], capabilityFlags: o.flags ?? REQ_FLAGS, session: {} },
  );
  return { responder, requester };
}

const AEADS = [
  ['AES-128-GCM', AeadAlgo.AES_128_GCM],
  ['AES-256-GCM', AeadAlgo.AES_256_GCM],
  ['ChaCha20-Poly1305', AeadAlgo.CHACHA20_POLY1305],
] as const;
const VERSIONS = [0x11, 0x12, 0x13, 0x14];

for (const [aname, aead] of AEADS) {
  for (const context of [true, false]) {
    test(`PSK session: ${aname} × SPDM 1.1–1.4, responder PSK_CAP ${context ? '10b (PSK_FINISH)' : '01b (no PSK_FINISH)'}: measurements, heartbeat, end`, async () => {
      for (const version of VERSIONS) {
        const { responder, requester } = pskPair(pskProfile([version], { aead, context }), version);
        await requester.connect();
        // The chain is read in the clear so that the in-session MEASUREMENTS signature can be checked.
        await requester.getDigests();
        await requester.getCertificateChain(0);
        const s = await requester.startSession({ psk: { key: SAMPLE_PSK }, measurementSummaryHashType: 0xff });
        const what = `SPDM ${version.toString(16)}`;
        assert.equal(requester.connection.version, version);
        assert.equal(s.phase, 'established', what);
        assert.equal(s.info.kind, 'psk');
        assert.equal(s.info.dhe, undefined, 'a PSK session has no DHE group');
        assert.equal(s.signature, undefined, 'a PSK session is not signed');
        assert.deepEqual(s.info.psk, { hint: '', finish: context });
        assert.equal(s.info.aead.id, aead);
        assert.equal(s.info.heartbeatPeriod, 7);
        assert.equal(s.info.securedVersion, '1.2', what);
        assert.ok(s.measurementSummaryHash, 'PSK_EXCHANGE_RSP carries the summary asked for');
        assert.equal(responder.stats.get(RequestCode.PSK_FINISH) ?? 0, context ? 1 : 0, what);
        const run = await s.getMeasurements();
        assert.ok(run.signature?.verified, 'signed measurements inside the PSK session');
        assert.ok(run.measurements.length > 0);
        await s.heartbeat();
        await s.end();
        assert.equal(s.phase, 'ended');
        assert.equal(responder.sessionCount, 0);
        // The PSK session added no session signature; the in-session MEASUREMENTS one re-verifies.
        assert.deepEqual(requester.sessionSignatures, []);
        for (const c of reverifySignatures(requester.evidence())) assert.ok(c.ok, c.reason);
        await requester.getDigests();
      }
    });
  }
}

test('PSK session with a PSKHint picks the key under that hint; MCTP record layout; MAC-only', async () => {
  for (const binding of ['doe', 'mctp'] as const) {
    const { requester } = pskPair(pskProfile([0x13]), 0x13, { binding });
    await requester.connect();
    const s = await requester.startSession({ psk: { key: OTHER_PSK, hint: SAMPLE_HINT } });
    assert.equal(s.info.binding, binding);
    assert.deepEqual(s.info.psk, { hint: Buffer.from(SAMPLE_HINT).toString('hex'), finish: true });
    for (let i = 0; i < 3; i++) await s.heartbeat();
    await s.end();
  }
  // MAC_CAP only on our side: records are authenticated, not encrypted.
  const { requester } = pskPair(pskProfile([0x12]), 0x12, { flags: F.CERT | F.CHAL | F.MAC | F.PSK_NO_CONTEXT });
  await requester.connect();
  const s = await requester.startSession({ psk: { key: SAMPLE_PSK } });
  assert.equal(s.info.mode, 'mac-only');
  await s.end();
});

test('a wrong PSK is VERIFY_DATA_MISMATCH before any record is sent, and the connection goes on', async () => {
  for (const context of [true, false]) {
    const { responder, requester } = pskPair(pskProfile([0x13], { context }), 0x13);
    await requester.connect();
    await assert.rejects(
      requester.startSession({ psk: { key: OTHER_PSK } }),
      (e: unknown) => isSpdmError(e) && e.code === 'VERIFY_DATA_MISMATCH' && /ResponderVerifyData/.test(e.message),
    );
    // The key under the hint is not the one without it.
    await assert.rejects(
      requester.startSession({ psk: { key: SAMPLE_PSK, hint: SAMPLE_HINT } }),
      (e: unknown) => isSpdmError(e) && e.code === 'VERIFY_DATA_MISMATCH',
    );
    assert.equal(responder.stats.get(RequestCode.PSK_FINISH) ?? 0, 0, 'no PSK_FINISH after a mismatch');
    await requester.getDigests();
    const s = await requester.startSession({ psk: { key: SAMPLE_PSK } });
    await s.heartbeat();
    await s.end();
  }
});

test('an unknown PSKHint is ERROR InvalidRequest; PSK_FINISH in the clear is SessionRequired; no PSK_CAP is UnsupportedRequest', async () => {
  const { requester, responder } = pskPair(pskProfile([0x12]), 0x12);
  await requester.connect();
  await assert.rejects(
    requester.startSession({ psk: { key: SAMPLE_PSK, hint: ascii('nobody') } }),
    (e: unknown) => isSpdmError(e) && e.code === 'DEVICE_ERROR' && /InvalidRequest/.test(e.message),
  );
  const clear = decodeError(await responder.handle(encodePskFinish(0x12, { requesterVerifyData: new Uint8Array(48) })));
  assert.equal(clear.errorCode, ErrorCode.SessionRequired);
  // A hint longer than 16 bytes, or no key: refused before anything is sent.
  const sent = responder.stats.get(RequestCode.PSK_EXCHANGE);
  await assert.rejects(requester.startSession({ psk: { key: SAMPLE_PSK, hint: new Uint8Array(17) } }), TypeError);
  await assert.rejects(requester.startSession({ psk: { key: new Uint8Array(0) } }), TypeError);
  assert.equal(responder.stats.get(RequestCode.PSK_EXCHANGE), sent);
  await requester.getDigests();

  const noPsk = pskPair(pskProfile([0x12], { flags: DEFAULT_RESPONDER_FLAGS | SESSION_FLAGS | F.KEY_EX }), 0x12);
  await noPsk.requester.connect();
  await assert.rejects(
    noPsk.requester.startSession({ psk: { key: SAMPLE_PSK } }),
    (e: unknown) => isSpdmError(e) && e.code === 'UNSUPPORTED' && /PSK_CAP/.test(e.message),
  );
});

test('a PSK_FINISH with wrong RequesterVerifyData is ERROR DecryptError in the clear: both sides drop the session, the connection goes on', async () => {
  // Fault injection inside the device: once PSK_EXCHANGE_RSP is out, the device's copy of the
  // request finished key is changed, so the requester's (correct) RequesterVerifyData no longer
  // matches what the device expects — as if the requester had used another PSK from here on.
  let armed = true;
  const { requester, responder } = pskPair(pskProfile([0x13]), 0x13, {
    handler: (r) => ({
      handle: (m) => r.handle(m),
      handleSecured: (rec) => {
        if (armed) {
          armed = false;
          const held = (r as unknown as { sessions: Map<number, { handshake: { requestFinishedKey: Uint8Array } }> })
            .sessions;
          for (const x of held.values()) x.handshake.requestFinishedKey[0]! ^= 0x01;
        }
        return r.handleSecured(rec);
      },
    }),
  });
  await requester.connect();
  await assert.rejects(
    requester.startSession({ psk: { key: SAMPLE_PSK } }),
    (e: unknown) => isSpdmError(e) && e.code === 'DEVICE_ERROR' && /DecryptError/.test(e.message),
  );
  assert.equal(responder.sessionCount, 0, 'the device dropped the session');
  await requester.getDigests();
  const s = await requester.startSession({ psk: { key: SAMPLE_PSK } });
  await s.heartbeat();
  await s.end();
});

test("a live PSK session's records open with the capture decoder given the same PSK (with and without PSK_FINISH)", async () => {
  for (const context of [true, false]) await liveRecordsDecode(context);
});

async function liveRecordsDecode(context: boolean): Promise<void> {
  const seen: { kind: 'clear' | 'secured'; direction: Direction; bytes: Uint8Array }[] = [];
  const { requester } = pskPair(pskProfile([0x13], { context }), 0x13, {
    handler: (r) => ({
      handle: async (m) => {
        seen.push({ kind: 'clear', direction: 'request', bytes: m });
        const out = await r.handle(m);
        seen.push({ kind: 'clear', direction: 'response', bytes: out });
        return out;
      },
      handleSecured: async (rec) => {
        seen.push({ kind: 'secured', direction: 'request', bytes: rec });
        const out = await r.handleSecured(rec);
        seen.push({ kind: 'secured', direction: 'response', bytes: out });
        return out;
      },
    }),
  });
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  const s = await requester.startSession({ psk: { key: SAMPLE_PSK } });
  await s.getMeasurements();
  await s.heartbeat();
  await s.end();

  const decoder = new ConversationDecoder();
  const tracker = new SessionTracker({ transport: 'doe', psk: SAMPLE_PSK });
  const records: RecordResult[] = [];
  for (const p of seen) {
    if (p.kind === 'clear') tracker.observe(decoder.feed(p.direction, p.bytes), decoder.state);
    else records.push(tracker.open(p.bytes, p.direction));
  }
  const [session] = tracker.sessions;
  assert.ok(session);
  assert.equal(session.kind, 'psk');
  assert.equal(session.sessionId, s.sessionId);
  assert.equal(session.responderVerifyData, true);
  assert.deepEqual(
    records.map((r) => r.status),
    records.map(() => 'decrypted'),
  );
  assert.equal(session.requesterVerifyData, context ? true : null);
  // [PSK_FINISH,] GET_MEASUREMENTS, HEARTBEAT, END_SESSION and their answers.
  assert.equal(records.length, 2 * ((context ? 1 : 0) + 3));
  assert.match(session.endedBy ?? '', /^END_SESSION_ACK/);
}

test('authenticate({ session: { psk } }): CHALLENGE outside, signed measurements inside, and no session signature claimed', async () => {
  const { requester, responder } = pskPair(pskProfile([0x12]), 0x12);
  const nonce = new Uint8Array(32).fill(0x3c);
  const ev = await requester.authenticate({ nonce, session: { heartbeat: true, psk: { key: SAMPLE_PSK } } });
  const ls = requester.lastSession;
  assert.ok(ls);
  assert.deepEqual(ls.ran, ['PSK_EXCHANGE', 'PSK_FINISH', 'GET_MEASUREMENTS', 'HEARTBEAT', 'END_SESSION']);
  assert.equal(ls.info.kind, 'psk');
  assert.equal(ls.keyExchangeSignature, undefined);
  assert.equal(responder.sessionCount, 0);
  assert.deepEqual(
    ev.signatures.map((x) => [x.kind, x.requesterNonce]),
    [
      ['CHALLENGE_AUTH', '3c'.repeat(32)],
      ['MEASUREMENTS', '3c'.repeat(32)],
    ],
  );
  // Without PSK_CAP on our side there is no PSK session, whatever the device offers.
  const plain = pskPair(pskProfile([0x12]), 0x12, { flags: F.CERT | F.CHAL | SESSION_FLAGS | F.KEY_EX });
  await assert.rejects(
    plain.requester.authenticate({ session: { psk: { key: SAMPLE_PSK } } }),
    (e: unknown) => isSpdmError(e) && e.code === 'UNSUPPORTED',
  );
});

test('profile files: "psk" entries by hint (hex or ascii:), and malformed ones are typed errors', () => {
  const p = profileFromJson(
    {
      capabilities: ['CERT', 'CHAL', 'MEAS_SIG', 'ENCRYPT', 'MAC', 'PSK_WITH_CONTEXT'],
      psk: [{ key: 'ascii:TestPskData\\0' }, { key: '0011ff', hint: 'ascii:TestPskHint\\0' }],
    },
    '.',
  );
  assert.deepEqual(
    p.session?.psk?.map((e) => [Buffer.from(e.hint).toString('latin1'), Buffer.from(e.key).toString('hex')]),
    [
      ['', Buffer.from(SAMPLE_PSK).toString('hex')],
      ['TestPskHint\0', '0011ff'],
    ],
  );
  assert.equal(profileFromJson({ psk: { key: 'aa' } }, '.').session?.psk?.length, 1);
  for (const [psk, field] of [
    [{ key: '' }, 'psk[0].key'],
    [{ key: 'zz' }, 'psk[0].key'],
    [{ key: 'aa', hint: 'ascii:seventeen bytes!!' }, 'psk[0].hint'],
    [[{ key: 'aa' }, { key: 'bb' }], 'psk[1].hint'],
    [{ key: 'aa', secret: 1 }, 'psk[0].secret'],
    ['aa', 'psk[0]'],
  ] as const) {
    assert.throws(
      () => profileFromJson({ psk }, '.'),
      (e: unknown) => isSpdmError(e) && e.code === 'DECODE_ERROR' && e.message.includes(field),
      JSON.stringify(psk),
    );
  }
});

test('a PSK session and a KEY_EXCHANGE session side by side on one connection, each ended on its own', async () => {
  const flags = DEFAULT_RESPONDER_FLAGS | SESSION_FLAGS | F.PSK_WITH_CONTEXT | F.KEY_EX;
  const { requester, responder } = pskPair(pskProfile([0x13], { flags }), 0x13, { flags: REQ_FLAGS | F.KEY_EX });
  await requester.connect();
  const kex = await requester.startSession();
  const psk = await requester.startSession({ psk: { key: SAMPLE_PSK } });
  assert.equal(responder.sessionCount, 2);
  assert.deepEqual([kex.info.kind, psk.info.kind], ['key-exchange', 'psk']);
  assert.ok(kex.signature && !psk.signature);
  await psk.heartbeat();
  await kex.heartbeat();
  await psk.end();
  assert.equal(responder.sessionCount, 1);
  await kex.getMeasurements();
  await kex.end();
  assert.equal(responder.sessionCount, 0);
  assert.equal(requester.sessionSignatures.length, 1, 'only the KEY_EXCHANGE session is signed');
});

test('a hostile PSK_EXCHANGE_RSP: truncated, tampered verify data, or a ResponderContext its PSK_CAP rules out, each a typed error', async () => {
  const rewrite = (edit: (rsp: Uint8Array) => Uint8Array, code = 0x66) => ({
    handler: (r: Responder): SpdmHandler => ({
      handle: async (m) => {
        const out = await r.handle(m);
        return out[1] === code ? edit(out) : out;
      },
      handleSecured: (rec) => r.handleSecured(rec),
    }),
  });
  const cases: [string, ReturnType<typeof rewrite>, string, RegExp][] = [
    ['truncated', rewrite((b) => b.subarray(0, b.length - 1)), 'DECODE_ERROR', /PSK_EXCHANGE_RSP/],
    [
      'verify data flipped',
      rewrite((b) => {
        const c = b.slice();
        c[c.length - 1]! ^= 0x80;
        return c;
      }),
      'VERIFY_DATA_MISMATCH',
      /ResponderVerifyData/,
    ],
    [
      // CAPABILITIES says PSK_CAP 01b (no context) while the device sends a ResponderContext.
      'context against PSK_CAP',
      rewrite((b) => {
        const c = b.slice();
        c[9] = (c[9]! & ~0x0c) | 0x04;
        return c;
      }, 0x61),
      'UNEXPECTED_RESPONSE',
      /ResponderContext/,
    ],
  ];
  for (const [name, o, code, message] of cases) {
    const { requester } = pskPair(pskProfile([0x12]), 0x12, o);
    await requester.connect();
    await assert.rejects(
      requester.startSession({ psk: { key: SAMPLE_PSK } }),
      (e: unknown) => isSpdmError(e) && e.code === code && message.test(e.message),
      name,
    );
  }
});
