/**
 * DSP0277 sequence-number choices in live sessions, requester ⇄ emulator in-process:
 *
 * - the binding's byte order of the sequence number in the AEAD nonce (RequesterOptions.session
 *   .sequenceNumberOrder, DeviceProfile.session.sequenceNumberOrder), which DSP0277 1.0/1.1 leave
 *   to the binding and 1.2 fixed little-endian (libspdm sets its option only below 1.2);
 * - the per-key AEAD limit (session.sequenceLimit): before a key would pass it the session runs
 *   KEY_UPDATE UpdateAllKeys when both sides set KEY_UPD_CAP, or ends with END_SESSION and refuses
 *   the request with SESSION_SEQUENCE; the emulator drops a session whose peer goes past its own.
 *
 * The big-endian PSK session is also read back by the capture decoder (SessionTracker, legacy
 * nonce order 'auto'), an observer with nothing but the PSK: it must find 'be' by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { ConversationDecoder, type Direction } from '../../src/spdm/conversation.js';
import { SessionTracker } from '../../src/capture/session-tracker.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { profileFromJson } from '../../src/responder/profile-file.js';
import { Requester } from '../../src/requester/requester.js';
import type { SessionAlgorithmOptions } from '../../src/requester/options.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import { SUITES, device } from '../support/fixtures.js';

const PSK = new TextEncoder().encode('TestPskData\0');
const SESSION = F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;
const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | SESSION | F.PSK_WITH_CONTEXT;
const REQ_FLAGS = F.CERT | F.CHAL | SESSION | F.PSK_NO_CONTEXT;

function profile(session: NonNullable<DeviceProfile['session']> = {}, flags = RSP_FLAGS): DeviceProfile {
  const base = device(SUITES[1]!).profile;
  return {
    ...base,
    versions: [0x13],
    capabilities: { ...base.capabilities, flags },
    session: { psk: [{ hint: new Uint8Array(0), key: PSK }], ...session },
  };
}

type Seen = { kind: 'clear' | 'secured'; direction: Direction; bytes: Uint8Array };

/** The emulator with every message kept, as a capture of the link would have them. */
function tapped(responder: Responder): { handler: SpdmHandler; seen: Seen[] } {
  const seen: Seen[] = [];
  const handler: SpdmHandler = {
    handle: async (m) => {
      seen.push({ kind: 'clear', direction: 'request', bytes: m });
      const out = await responder.handle(m);
      seen.push({ kind: 'clear', direction: 'response', bytes: out });
      return out;
    },
    handleSecured: async (rec) => {
      seen.push({ kind: 'secured', direction: 'request', bytes: rec });
      const out = await responder.handleSecured(rec);
      seen.push({ kind: 'secured', direction: 'response', bytes: out });
      return out;
    },
  };
  return { handler, seen };
}

function requester(handler: SpdmHandler, session: SessionAlgorithmOptions, flags = REQ_FLAGS) {
  return new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: 'doe' }), {
    versions: [0x13],
    capabilityFlags: flags,
    session,
  });
}

test('DSP0277 1.1 with the big-endian sequence number on both sides: KEY_EXCHANGE and PSK sessions run; the capture decoder finds "be"', async () => {
  for (const kind of ['key-exchange', 'psk'] as const) {
    const responder = new Responder(profile({ sequenceNumberOrder: 'be' }));
    const t = tapped(responder);
    const r = requester(t.handler, { securedVersions: [0x1100], sequenceNumberOrder: 'be' });
    await r.connect();
    await r.getDigests();
    await r.getCertificateChain(0);
    const s = await r.startSession(kind === 'psk' ? { psk: { key: PSK } } : {});
    assert.equal(s.info.securedVersion, '1.1');
    assert.equal(s.info.sequenceNumberOrder, 'be');
    // Records 1, 2, … are where the orders differ (0 gives the same nonce in both).
    for (let i = 0; i < 3; i++) await s.heartbeat();
    assert.ok((await s.getMeasurements()).measurements.length > 0);
    await s.end();
    if (kind !== 'psk') continue;
    for (const legacy of ['auto', 'le'] as const) {
      const decoder = new ConversationDecoder();
      const tracker = new SessionTracker({ transport: 'doe', psk: PSK, legacyNonceOrder: legacy });
      const statuses: string[] = [];
      for (const p of t.seen) {
        if (p.kind === 'clear') tracker.observe(decoder.feed(p.direction, p.bytes), decoder.state);
        else statuses.push(tracker.open(p.bytes, p.direction).status);
      }
      if (legacy === 'auto') {
        assert.equal(tracker.sessions[0]?.nonceOrder, 'be');
        assert.deepEqual(
          statuses,
          statuses.map(() => 'decrypted'),
        );
      } else {
        // Little-endian opens only the records under counter 0 (PSK_EXCHANGE_RSP's keys, then the first data pair).
        assert.ok(statuses.includes('failed'), statuses.join(','));
      }
    }
  }
});

test('the two sides on different byte orders at DSP0277 1.1: the second record under a key does not open', async () => {
  const responder = new Responder(profile({ sequenceNumberOrder: 'be' }));
  const r = requester(responder, { securedVersions: [0x1100] });
  await r.connect();
  const s = await r.startSession();
  // FINISH/FINISH_RSP and the first data exchange use counter 0: the same nonce either way.
  await s.heartbeat();
  await assert.rejects(s.heartbeat(), (e) => isSpdmError(e));
  assert.equal(s.phase, 'ended');
});

test('DSP0277 1.2 is little-endian whatever the option says, on both sides', async () => {
  const responder = new Responder(profile({ sequenceNumberOrder: 'be' }));
  const r = requester(responder, { sequenceNumberOrder: 'be' });
  await r.connect();
  const s = await r.startSession();
  assert.equal(s.info.securedVersion, '1.2');
  assert.equal(s.info.sequenceNumberOrder, 'le');
  for (let i = 0; i < 3; i++) await s.heartbeat();
  await s.end();
  // A requester left at the default against the 'be' device: still one order at 1.2.
  const r2 = requester(new Responder(profile({ sequenceNumberOrder: 'be' })), {});
  await r2.connect();
  const s2 = await r2.startSession();
  for (let i = 0; i < 3; i++) await s2.heartbeat();
  await s2.end();
});

test('a device that only selects DSP0277 1.1 gets a 1.1 session; one that selects nothing we offer is refused', async () => {
  const r = requester(new Responder(profile({ securedVersions: [0x1100] })), {});
  await r.connect();
  const s = await r.startSession();
  assert.equal(s.info.securedVersion, '1.1');
  await s.end();
  const none = requester(new Responder(profile({ securedVersions: [0x1000] })), { securedVersions: [0x1200, 0x1100] });
  await none.connect();
  await assert.rejects(none.startSession(), (e) => isSpdmError(e, 'DEVICE_ERROR'));
  const unknown = requester(new Responder(profile()), { securedVersions: [0x1300] });
  await unknown.connect();
  await assert.rejects(unknown.startSession(), TypeError);
});

test('AEAD limit with KEY_UPD_CAP on both sides: the session updates its keys before a key would pass the limit, and goes on', async () => {
  const responder = new Responder(profile({}, RSP_FLAGS | F.KEY_UPD));
  const r = requester(responder, { sequenceLimit: 3n }, REQ_FLAGS | F.KEY_UPD);
  await r.connect();
  const s = await r.startSession();
  for (let i = 0; i < 20; i++) await s.heartbeat();
  assert.equal(s.phase, 'established');
  // Data keys from 0: every exchange spends one number each way; the last is kept for KEY_UPDATE.
  assert.ok(s.forcedKeyUpdates >= 5, `${s.forcedKeyUpdates} forced key updates`);
  assert.equal(responder.stats.get(RequestCode.KEY_UPDATE), 2 * s.forcedKeyUpdates);
  await s.end();
  assert.equal(responder.sessionCount, 0);
});

test('AEAD limit without KEY_UPDATE: the session is ended with END_SESSION before the limit and the request refused with SESSION_SEQUENCE', async () => {
  const responder = new Responder(profile());
  const r = requester(responder, { sequenceLimit: 3n });
  await r.connect();
  const s = await r.startSession();
  for (let i = 0; i < 3; i++) await s.heartbeat();
  await assert.rejects(s.heartbeat(), (e) => isSpdmError(e, 'SESSION_SEQUENCE') && /ended/.test(e.message));
  assert.equal(s.phase, 'ended');
  // END_SESSION reached the device: nothing is left half-open there.
  assert.equal(responder.stats.get(RequestCode.END_SESSION), 1);
  assert.equal(responder.sessionCount, 0);
  // The connection goes on.
  assert.ok((await r.getMeasurements()).length > 0);
});

test("the emulator's own limit (profile session.sequenceLimit): a request past it ends the session there", async () => {
  const responder = new Responder(profile({ sequenceLimit: 2n }));
  const r = requester(responder, {});
  await r.connect();
  const s = await r.startSession();
  for (let i = 0; i < 3; i++) await s.heartbeat();
  await assert.rejects(s.heartbeat(), (e) => isSpdmError(e));
  assert.equal(s.phase, 'ended');
  assert.equal(responder.sessionCount, 0);
});

test('the options are checked: sequenceLimit below 2, an unknown byte order; the profile file takes them', async () => {
  const r = requester(new Responder(profile()), { sequenceLimit: 1n });
  await r.connect();
  await assert.rejects(r.startSession(), TypeError);
  const bad = requester(new Responder(profile()), { sequenceNumberOrder: 'middle' as 'le' });
  await bad.connect();
  await assert.rejects(bad.startSession(), TypeError);
  const p = profileFromJson({ securedVersions: ['1.1'], sequenceNumberOrder: 'be', sequenceLimit: 1000 }, '.');
  assert.deepEqual(p.session?.securedVersions, [0x1100]);
  assert.equal(p.session?.sequenceNumberOrder, 'be');
  assert.equal(p.session?.sequenceLimit, 1000n);
  assert.throws(() => profileFromJson({ sequenceNumberOrder: 'BE' }, '.'), /sequenceNumberOrder/);
  assert.throws(() => profileFromJson({ securedVersions: ['1.3'] }, '.'), /securedVersions\[0\]/);
  assert.throws(() => profileFromJson({ sequenceLimit: 1 }, '.'), /sequenceLimit/);
});
