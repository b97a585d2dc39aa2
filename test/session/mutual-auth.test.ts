/**
 * Mutual authentication, requester ⇄ emulator in-process: the emulator reads the requester's
 * chain with encapsulated GET_DIGESTS / GET_CERTIFICATE (or the "with GET_DIGESTS" variant, or no
 * flow with a provisioned chain), checks it against its requester trust anchor and verifies the
 * signed FINISH; 1.1+ basic mutual authentication runs an encapsulated CHALLENGE after
 * CHALLENGE_AUTH. Bad identities (untrusted root, wrong key) are refused and the session does not
 * come up, while the connection goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import type { MutualAuthPolicy } from '../../src/responder/mutual-auth.js';
import { Requester } from '../../src/requester/requester.js';
import type { RequesterIdentity } from '../../src/requester/identity.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { createDeviceChain, generateKeyPair } from '../../src/x509/generate.js';
import { BaseAsymAlgo } from '../../src/crypto/algorithms.js';
import { SUITES, device } from '../support/fixtures.js';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { loadIdentityFiles, profileFromJson } from '../../src/responder/profile-file.js';
import { profileFromSampleKeys } from '../../src/responder/sample-keys.js';

const P384 = BaseAsymAlgo.ECDSA_P384;
const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.MUT_AUTH | F.ENCAP;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.MUT_AUTH | F.ENCAP;

function requesterIdentity(asymId: number, slot = 0) {
  const chain = createDeviceChain({
    asymId,
    names: { root: 'Host Root CA', intermediate: 'Host Intermediate', leaf: 'host requester' },
    leaf: { responderAuthEku: false, requesterAuthEku: true },
  });
  const identity: RequesterIdentity = {
    slots: [{ slot, certificates: chain.certificates, privateKey: chain.leaf.privateKey, asymId }],
  };
  return { identity, root: chain.root.certificate, chain };
}

function profileWith(policy: MutualAuthPolicy, versions: number[], flags = RSP_FLAGS): DeviceProfile {
  const base = device(SUITES[1]!).profile;
  return { ...base, versions, capabilities: { ...base.capabilities, flags }, mutualAuth: policy };
}

function pair(profile: DeviceProfile, version: number, identity: RequesterIdentity | undefined, flags = REQ_FLAGS) {
  const responder = new Responder(profile);
  const requester = new Requester(new LoopbackTransport(responder, 0x10000, { securedBinding: 'doe' }), {
    versions: [version],
    capabilityFlags: flags,
    // Without an identity, offer a ReqBaseAsymAlg anyway: the device may then ask for what we cannot give.
    session: identity ? {} : { reqBaseAsym: [P384] },
    ...(identity ? { identity } : {}),
  });
  return { responder, requester };
}

for (const mode of ['encap', 'digests', 'plain'] as const) {
  test(`KEY_EXCHANGE mutual authentication (${mode}) × SPDM 1.1–1.4, with and without HANDSHAKE_IN_THE_CLEAR`, async () => {
    const id = requesterIdentity(P384);
    for (const version of [0x11, 0x12, 0x13, 0x14]) {
      for (const clear of [false, true]) {
        const policy: MutualAuthPolicy = {
          session: mode,
          trust: [id.root],
          ...(mode === 'plain' ? { requesterCertificates: id.identity.slots[0]!.certificates } : {}),
        };
        const extra = clear ? F.HANDSHAKE_IN_THE_CLEAR : 0;
        const { responder, requester } = pair(
          profileWith(policy, [version], RSP_FLAGS | extra),
          version,
          id.identity,
          REQ_FLAGS | extra,
        );
        await requester.connect();
        const s = await requester.startSession();
        assert.equal(s.phase, 'established', `${mode} 0x${version.toString(16)} clear=${clear}`);
        const run = await s.getMeasurements();
        assert.ok(run.signature?.verified);
        await s.heartbeat();
        await s.end();
        assert.equal(responder.sessionCount, 0);
        const encaps = responder.stats.get(RequestCode.DELIVER_ENCAPSULATED_RESPONSE) ?? 0;
        if (mode === 'plain') assert.equal(encaps, 0, 'no encapsulated flow without one asked');
        else assert.ok(encaps >= 2, 'the device read our DIGESTS and chain');
      }
    }
  });
}

test('KEY_EXCHANGE mutual authentication: the requester slot the device names signs FINISH', async () => {
  const id = requesterIdentity(P384, 3);
  const { requester } = pair(
    profileWith({ session: 'encap', requesterSlot: 3, trust: [id.root] }, [0x13]),
    0x13,
    id.identity,
  );
  await requester.connect();
  const s = await requester.startSession();
  assert.equal(s.phase, 'established');
  await s.end();
});

test('KEY_EXCHANGE mutual authentication: a requester chain from an untrusted root gets no session, none left half open; the connection goes on', async () => {
  const id = requesterIdentity(P384);
  const other = requesterIdentity(P384);
  for (const clear of [false, true]) {
    const extra = clear ? F.HANDSHAKE_IN_THE_CLEAR : 0;
    const { responder, requester } = pair(
      profileWith({ session: 'encap', trust: [other.root] }, [0x13], RSP_FLAGS | extra),
      0x13,
      id.identity,
      REQ_FLAGS | extra,
    );
    await requester.connect();
    await assert.rejects(requester.startSession(), (e) => isSpdmError(e, 'DEVICE_ERROR'));
    // The refused handshake is gone at once, not kept until the requester gives up on it.
    assert.equal(responder.sessionCount, 0, `clear=${clear}: the emulator dropped the half-open session`);
    // The connection is intact: measurements outside the session still come.
    const run = await requester.getMeasurements();
    assert.ok(run.length > 0);
    assert.equal(responder.authenticatedRequesters.length, 0);
  }
});

test("KEY_EXCHANGE mutual authentication: FINISH signed with a key that is not the chain's is refused and the session torn down", async () => {
  const id = requesterIdentity(P384);
  const wrong = generateKeyPair(P384);
  const forged: RequesterIdentity = {
    slots: [{ ...id.identity.slots[0]!, privateKey: wrong.privateKey }],
  };
  const { responder, requester } = pair(profileWith({ session: 'encap', trust: [id.root] }, [0x13]), 0x13, forged);
  await requester.connect();
  await assert.rejects(requester.startSession(), (e) => isSpdmError(e));
  assert.equal(responder.sessionCount, 0, 'the emulator dropped the session');
  const run = await requester.getMeasurements();
  assert.ok(run.length > 0, 'the connection still answers');
});

test('a device asking for mutual authentication we did not offer is refused', async () => {
  const id = requesterIdentity(P384);
  const { requester } = pair(profileWith({ session: 'encap', trust: [id.root] }, [0x13]), 0x13, undefined);
  await requester.connect();
  // MUT_AUTH_CAP and a ReqBaseAsymAlg offered, but no identity to show: refused, not half-done.
  await assert.rejects(requester.startSession(), (e) => isSpdmError(e, 'UNEXPECTED_RESPONSE'));
});

test('basic mutual authentication after CHALLENGE_AUTH (1.1–1.3): the device challenges us and verifies our CHALLENGE_AUTH', async () => {
  for (const version of [0x11, 0x12, 0x13]) {
    const id = requesterIdentity(P384);
    const { responder, requester } = pair(
      profileWith({ basic: true, trust: [id.root] }, [version]),
      version,
      id.identity,
    );
    const evidence = await requester.authenticate();
    assert.ok(evidence.signatures.some((s) => s.kind === 'CHALLENGE_AUTH' && s.verified));
    assert.equal(responder.authenticatedRequesters.length, 1, `0x${version.toString(16)}: the device authenticated us`);
    assert.equal(responder.stats.get(RequestCode.GET_ENCAPSULATED_REQUEST), 1);
  }
});

test('a device with a small DataTransferSize and no chunking reads our chain in portions that fit it (basic and KEY_EXCHANGE mutual auth)', async () => {
  // libspdm's responder asks for Length 0xFFFF and drops a DELIVER_ENCAPSULATED_RESPONSE larger
  // than its receive buffer; the CERTIFICATE portion must be cut to its DataTransferSize.
  for (const version of [0x12, 0x13]) {
    const id = requesterIdentity(P384);
    const base = profileWith({ basic: true, session: 'encap', trust: [id.root] }, [version]);
    const dts = 200;
    const responder = new Responder({
      ...base,
      capabilities: { ...base.capabilities, dataTransferSize: dts, maxSpdmMsgSize: dts },
    });
    const sizes: number[] = [];
    const watched = {
      handle: async (r: Uint8Array) => {
        sizes.push(r.length);
        return responder.handle(r);
      },
      handleSecured: (r: Uint8Array) => responder.handleSecured(r),
    };
    const requester = new Requester(new LoopbackTransport(watched, 0x10000, { securedBinding: 'doe' }), {
      versions: [version],
      capabilityFlags: REQ_FLAGS,
      session: {},
      identity: id.identity,
    });
    const evidence = await requester.authenticate({ session: {} });
    assert.ok(evidence.signatures.every((s) => s.verified));
    assert.equal(responder.authenticatedRequesters.length, 1, 'basic mutual authentication');
    assert.ok(
      evidence.signatures.some((s) => s.kind === 'KEY_EXCHANGE_RSP'),
      'the mutually authenticated session came up',
    );
    // Two reads of the chain (basic, then in the session), each in portions of at most dts - 12 bytes.
    const delivered = responder.stats.get(RequestCode.DELIVER_ENCAPSULATED_RESPONSE) ?? 0;
    assert.ok(delivered > 12, `${delivered} encapsulated responses`);
    assert.ok(Math.max(...sizes) <= dts, `largest clear request ${Math.max(...sizes)} bytes, the device takes ${dts}`);
  }
});

test('basic mutual authentication with a forged key: the device refuses our CHALLENGE_AUTH', async () => {
  const id = requesterIdentity(P384);
  const wrong = generateKeyPair(P384);
  const forged: RequesterIdentity = { slots: [{ ...id.identity.slots[0]!, privateKey: wrong.privateKey }] };
  const { responder, requester } = pair(profileWith({ basic: true, trust: [id.root] }, [0x12]), 0x12, forged);
  await assert.rejects(requester.authenticate(), (e) => isSpdmError(e, 'DEVICE_ERROR'));
  assert.equal(responder.authenticatedRequesters.length, 0);
});

test('profile files carry the mutual-authentication policy; a bad one is a DECODE_ERROR naming the field', () => {
  const keys = join(libspdmVectors(), 'keys');
  const p = profileFromJson(
    {
      mutualAuth: {
        session: 'plain',
        basic: true,
        requesterSlot: 1,
        trust: ['ecp384/ca.cert.der'],
        requesterCertChain: 'ecp384/bundle_requester.certchain.der',
        endpointInfo: 'signed',
      },
    },
    keys,
  );
  assert.equal(p.mutualAuth?.session, 'plain');
  assert.equal(p.mutualAuth?.endpointInfo, 'signed');
  assert.equal(p.mutualAuth?.basic, true);
  assert.equal(p.mutualAuth?.requesterSlot, 1);
  assert.equal(p.mutualAuth?.trust?.length, 1);
  assert.ok((p.mutualAuth?.requesterCertificates?.length ?? 0) >= 2);
  for (const [bad, field] of [
    [{ session: 'sometimes' }, 'mutualAuth.session'],
    [{ basic: 'yes' }, 'mutualAuth.basic'],
    [{ requesterSlot: 9 }, 'mutualAuth.requesterSlot'],
    [{ endpointInfo: 'always' }, 'mutualAuth.endpointInfo'],
    [{ endpointInfo: true }, 'mutualAuth.endpointInfo'],
    [{ trust: 'ca.der' }, 'mutualAuth.trust'],
    [{ trust: ['no-such-file.der'] }, 'mutualAuth'],
  ] as const)
    assert.throws(
      () => profileFromJson({ mutualAuth: bad }, keys),
      (e) => isSpdmError(e, 'DECODE_ERROR') && e.message.includes(field),
      JSON.stringify(bad),
    );
});

test('the libspdm sample-key layout gives the emulator its identity, trust anchors and mutual-authentication policy', async () => {
  const keys = join(libspdmVectors(), 'keys');
  const profile = profileFromSampleKeys(keys, profileFromJson({ versions: ['1.3'] }, keys));
  assert.deepEqual(
    [...new Set(profile.slots.map((s) => s.asymId))].sort((a, b) => a - b),
    [BaseAsymAlgo.RSASSA_3072, BaseAsymAlgo.RSAPSS_3072, BaseAsymAlgo.ECDSA_P256, BaseAsymAlgo.ECDSA_P384].sort(
      (a, b) => a - b,
    ),
  );
  assert.equal(profile.mutualAuth?.session, 'encap');
  assert.equal(profile.mutualAuth?.trust?.length, 3);
  // libspdm's requester identity (RSA-3072, as its requester emulator signs by default) is accepted.
  const f = loadIdentityFiles(
    join(keys, 'rsa3072', 'bundle_requester.certchain.der'),
    join(keys, 'rsa3072', 'end_requester.key'),
  );
  const identity: RequesterIdentity = { slots: f.asymIds.map((asymId) => ({ slot: 0, ...f, asymId })) };
  const { responder, requester } = pair(profile, 0x13, identity);
  const evidence = await requester.authenticate({ session: {} });
  assert.ok(evidence.signatures.some((s) => s.kind === 'KEY_EXCHANGE_RSP'));
  assert.equal(responder.authenticatedRequesters.length, 1, 'basic mutual authentication');
  assert.equal(requester.lastSession?.info.mutualAuth?.flow, 'encap');
});
