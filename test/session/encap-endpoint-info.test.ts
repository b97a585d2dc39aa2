/**
 * Encapsulated GET_ENDPOINT_INFO (1.3), requester ⇄ emulator in-process: the emulator, armed
 * (requestEndpointInfo, as spdm-emu's OOB_ENCAP_ENDPOINT_INFO arms libspdm's responder), asks the
 * requester's ENDPOINT_INFO at its next GET_ENCAPSULATED_REQUEST — in the clear after basic mutual
 * authentication, and inside a session — signed with the requester identity it authenticated, or
 * unsigned. What goes wrong: a signature, EPInfo or slot changed on the wire, a signature by a key
 * that is not the identity's, trailing bytes in a record, a request our requester must refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { BaseAsymAlgo, BaseHashAlgo, asymInfo } from '../../src/crypto/algorithms.js';
import { spdmSign } from '../../src/crypto/signature.js';
import { digest } from '../../src/crypto/hash.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import { decodeError, ErrorCode } from '../../src/spdm/messages/error.js';
import {
  decodeEndpointInfo,
  encodeGetEndpointInfo,
  ENDPOINT_INFO_SIGNATURE_REQUESTED,
  EndpointInfoSubCode,
} from '../../src/spdm/messages/endpoint-info.js';
import { ConnectionTranscript } from '../../src/spdm/connection-transcript.js';
import { checkTranscriptSignature } from '../../src/spdm/transcript-signature.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import type { MutualAuthPolicy } from '../../src/responder/mutual-auth.js';
import { EncapRefusal } from '../../src/responder/encapsulated-flow.js';
import { EndpointInfoQuery } from '../../src/responder/encap-endpoint-info.js';
import { Requester } from '../../src/requester/requester.js';
import { IdentityView, type RequesterIdentity } from '../../src/requester/identity.js';
import {
  answerEncapGetEndpointInfo,
  DEFAULT_REQUESTER_ENDPOINT_INFO,
} from '../../src/requester/encap-endpoint-info.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import { createDeviceChain, generateKeyPair } from '../../src/x509/generate.js';
import { SUITES, device } from '../support/fixtures.js';

const P384 = BaseAsymAlgo.ECDSA_P384;
const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.MUT_AUTH | F.ENCAP;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT | F.MUT_AUTH | F.ENCAP;
const OUR_EP_INFO = Uint8Array.of(1, 0, 0, 0, 7, 0, 0, 1, 3, 0xaa, 0xbb, 0xcc);

function requesterIdentity() {
  const chain = createDeviceChain({
    asymId: P384,
    names: { root: 'Host Root CA', intermediate: 'Host Intermediate', leaf: 'host requester' },
    leaf: { responderAuthEku: false, requesterAuthEku: true },
  });
  const identity: RequesterIdentity = {
    slots: [{ slot: 0, certificates: chain.certificates, privateKey: chain.leaf.privateKey, asymId: P384 }],
  };
  return { identity, root: chain.root.certificate };
}

function profileWith(policy: MutualAuthPolicy): DeviceProfile {
  const base = device(SUITES[1]!).profile;
  return { ...base, versions: [0x13], capabilities: { ...base.capabilities, flags: RSP_FLAGS }, mutualAuth: policy };
}

/** Rewrites the requester's ENDPOINT_INFO inside a clear DELIVER_ENCAPSULATED_RESPONSE. */
type Edit = (endpointInfo: Uint8Array) => Uint8Array;

function setup(o: {
  policy: Omit<MutualAuthPolicy, 'trust'>;
  epInfoFlag: number;
  identity?: RequesterIdentity;
  edit?: Edit;
}) {
  const id = requesterIdentity();
  const responder = new Responder(profileWith({ ...o.policy, trust: [id.root] }));
  const handler: SpdmHandler = {
    handle: (r) => {
      const isEndpointInfo = r[1] === RequestCode.DELIVER_ENCAPSULATED_RESPONSE && r[5] === ResponseCode.ENDPOINT_INFO;
      if (!o.edit || !isEndpointInfo) return responder.handle(r);
      const edited = o.edit(r.subarray(4));
      const out = new Uint8Array(4 + edited.length);
      out.set(r.subarray(0, 4));
      out.set(edited, 4);
      return responder.handle(out);
    },
    handleSecured: (r) => responder.handleSecured(r),
  };
  const requester = new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: 'doe' }), {
    versions: [0x13],
    capabilityFlags: REQ_FLAGS | o.epInfoFlag,
    session: {},
    identity: o.identity ?? id.identity,
    endpointInfo: OUR_EP_INFO,
  });
  return { responder, requester, id };
}

/** Connection, chain, CHALLENGE with basic mutual authentication: the emulator then knows who we are. */
async function authenticated(requester: Requester): Promise<void> {
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  await requester.challenge(0);
  assert.ok(requester.basicMutualAuth, 'basic mutual authentication ran');
}

test('signed, in the clear and in a session: the emulator asks, our requester signs, the emulator verifies with the identity it authenticated', async () => {
  const { responder, requester } = setup({
    policy: { basic: true, session: 'encap', endpointInfo: 'signed' },
    epInfoFlag: F.EP_INFO_SIG,
  });
  await authenticated(requester);
  // Nothing armed: an empty run.
  assert.deepEqual((await requester.answerEncapsulatedRequests()).asked, []);
  assert.equal(responder.requestEndpointInfo(), true);
  assert.deepEqual((await requester.answerEncapsulatedRequests()).asked, ['GET_ENDPOINT_INFO']);
  assert.equal(responder.requesterEndpointInfo.length, 1);
  const clear = responder.requesterEndpointInfo[0]!;
  assert.equal(clear.signedBySlot, 0);
  assert.equal(clear.sessionId, undefined);
  assert.deepEqual(clear.epInfo, OUR_EP_INFO);
  assert.equal(clear.identifiers[0]?.subordinateIds[0]?.length, 3);

  const s = await requester.startSession();
  assert.equal(responder.requestEndpointInfo(), true);
  const run = await s.answerEncapsulated();
  assert.deepEqual(run.asked, ['GET_ENDPOINT_INFO']);
  const inSession = responder.requesterEndpointInfo[1]!;
  assert.equal(inSession.signedBySlot, 0);
  assert.equal(inSession.sessionId, s.sessionId);
  assert.deepEqual(responder.deviceRequests(s.sessionId)?.log, ['GET_ENDPOINT_INFO']);
  // Asked once per arming: the next flow has nothing.
  assert.deepEqual((await s.answerEncapsulated()).asked, []);
  await s.end();
});

test('unsigned: by policy, or because the requester offers EP_INFO_CAP without signature', async () => {
  for (const [endpointInfo, flag] of [
    ['unsigned', F.EP_INFO_SIG],
    ['signed', F.EP_INFO_NO_SIG],
  ] as const) {
    const { responder, requester } = setup({ policy: { basic: true, endpointInfo }, epInfoFlag: flag });
    await authenticated(requester);
    assert.equal(responder.requestEndpointInfo(), true);
    assert.deepEqual((await requester.answerEncapsulatedRequests()).asked, ['GET_ENDPOINT_INFO']);
    const r = responder.requesterEndpointInfo[0]!;
    assert.equal(r.signedBySlot, undefined, `${endpointInfo} / 0x${flag.toString(16)}`);
    assert.deepEqual(r.epInfo, OUR_EP_INFO);
  }
});

test('signed without an authenticated requester identity: asked unsigned (there is nothing to check a signature with)', async () => {
  const { responder, requester } = setup({ policy: { endpointInfo: 'signed' }, epInfoFlag: F.EP_INFO_SIG });
  await requester.connect();
  assert.equal(responder.requestEndpointInfo(), true);
  await requester.answerEncapsulatedRequests();
  assert.equal(responder.requesterEndpointInfo[0]?.signedBySlot, undefined);
});

test('the emulator asks nothing without the policy, or from a requester without EP_INFO_CAP', async () => {
  const a = setup({ policy: { basic: true }, epInfoFlag: F.EP_INFO_SIG });
  await authenticated(a.requester);
  assert.equal(a.responder.requestEndpointInfo(), false);
  const b = setup({ policy: { basic: true, endpointInfo: 'signed' }, epInfoFlag: 0 });
  await authenticated(b.requester);
  assert.equal(b.responder.requestEndpointInfo(), false);
  assert.deepEqual((await b.requester.answerEncapsulatedRequests()).asked, []);
});

const flip =
  (at: (m: Uint8Array) => number): Edit =>
  (m) => {
    const out = m.slice();
    const i = at(m);
    out[i] = (out[i] as number) ^ 0x01;
    return out;
  };

test('tampered on the way: a signature, EPInfo or SlotID changed, or a signature by another key — refused, nothing recorded', async () => {
  const sig = asymInfo(P384)!.sigSize;
  const edits: [string, Edit][] = [
    ['signature', flip((m) => m.length - 1)],
    ['EPInfo', flip((m) => m.length - sig - 1)],
    ['SlotID', flip(() => 3)],
    ['nonce', flip(() => 8)],
  ];
  for (const [what, edit] of edits) {
    const { responder, requester } = setup({
      policy: { basic: true, endpointInfo: 'signed' },
      epInfoFlag: F.EP_INFO_SIG,
      edit,
    });
    await authenticated(requester);
    responder.requestEndpointInfo();
    await assert.rejects(
      requester.answerEncapsulatedRequests(),
      (e) => isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === ErrorCode.InvalidRequest,
      what,
    );
    assert.equal(responder.requesterEndpointInfo.length, 0, what);
  }
  // Structurally perfect, signed over exactly what is signed, but with a key that is not the
  // authenticated identity's: the emulator's check is against that identity, not the message.
  const id = requesterIdentity();
  // The identity's own key re-signing proves the re-signing right; another key must then fail.
  for (const [who, privateKey] of [
    ['the identity', id.identity.slots[0]!.privateKey],
    ['another key', generateKeyPair(P384).privateKey],
  ] as const) {
    const vca: Uint8Array[] = [];
    let asked: Uint8Array | undefined;
    const responder = new Responder(profileWith({ basic: true, endpointInfo: 'signed', trust: [id.root] }));
    const handler: SpdmHandler = {
      handle: async (r) => {
        let request = r;
        if (r[1] === RequestCode.DELIVER_ENCAPSULATED_RESPONSE && r[5] === ResponseCode.ENDPOINT_INFO && asked) {
          const sigSize = asymInfo(P384)!.sigSize;
          const unsigned = r.subarray(4, r.length - sigSize);
          const t = new ConnectionTranscript();
          t.setVersion(0x13);
          t.setHash(BaseHashAlgo.SHA_384);
          for (let i = 0; i < vca.length; i += 2) t.appendVca(vca[i]!, vca[i + 1]!);
          const il = t.requesterEndpointInfo(asked, unsigned);
          const signature = spdmSign(privateKey, P384, {
            version: 0x13,
            hashId: BaseHashAlgo.SHA_384,
            context: il.context,
            transcript: il.transcript.messages,
            transcriptHash: il.transcript.digest(),
          });
          request = Uint8Array.from([...r.subarray(0, r.length - sigSize), ...signature]);
        }
        const out = await responder.handle(request);
        if (
          r[1] === RequestCode.GET_VERSION ||
          r[1] === RequestCode.GET_CAPABILITIES ||
          r[1] === RequestCode.NEGOTIATE_ALGORITHMS
        )
          vca.push(r, out);
        if (out[1] === ResponseCode.ENCAPSULATED_REQUEST && out[5] === RequestCode.GET_ENDPOINT_INFO)
          asked = out.subarray(4);
        return out;
      },
      handleSecured: (r) => responder.handleSecured(r),
    };
    const requester = new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: 'doe' }), {
      versions: [0x13],
      capabilityFlags: REQ_FLAGS | F.EP_INFO_SIG,
      session: {},
      identity: id.identity,
    });
    await authenticated(requester);
    assert.equal(responder.requestEndpointInfo(), true);
    if (who === 'the identity') {
      await requester.answerEncapsulatedRequests();
      assert.equal(responder.requesterEndpointInfo[0]?.signedBySlot, 0, who);
    } else {
      await assert.rejects(
        requester.answerEncapsulatedRequests(),
        (e) => isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === ErrorCode.InvalidRequest,
        who,
      );
      assert.equal(responder.requesterEndpointInfo.length, 0, who);
    }
    assert.ok(asked, 'the emulator asked');
  }
});

test("our requester's answers: refusals by rule, and a signature over A ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO under the requester context", () => {
  const { identity } = requesterIdentity();
  const transcript = vcaTranscript();
  const view = new IdentityView(identity, 0x13, BaseHashAlgo.SHA_384, P384);
  let n = 0;
  const ctx = {
    version: 0x13,
    ourFlags: F.EP_INFO_SIG,
    epInfo: DEFAULT_REQUESTER_ENDPOINT_INFO,
    identity: view,
    transcript,
    random: (k: number) => new Uint8Array(k).fill(++n),
  };
  const nonce = new Uint8Array(32).fill(0xee);
  const signedReq = (slot: number, subCode: number = EndpointInfoSubCode.DEVICE_CLASS_IDENTIFIER) =>
    encodeGetEndpointInfo(0x13, { subCode, slot, requestAttributes: ENDPOINT_INFO_SIGNATURE_REQUESTED, nonce });
  const unsignedReq = encodeGetEndpointInfo(0x13, {
    subCode: EndpointInfoSubCode.DEVICE_CLASS_IDENTIFIER,
    slot: 0,
    requestAttributes: 0,
  });
  const errorOf = (b: Uint8Array): number => {
    assert.equal(b[1], ResponseCode.ERROR);
    return decodeError(b).errorCode;
  };
  assert.equal(errorOf(answerEncapGetEndpointInfo(unsignedReq, { ...ctx, ourFlags: 0 })), ErrorCode.UnsupportedRequest);
  assert.equal(
    errorOf(answerEncapGetEndpointInfo(unsignedReq, { ...ctx, version: 0x12 })),
    ErrorCode.UnsupportedRequest,
  );
  assert.equal(errorOf(answerEncapGetEndpointInfo(signedReq(0, 2), ctx)), ErrorCode.InvalidRequest);
  assert.equal(
    errorOf(answerEncapGetEndpointInfo(signedReq(0), { ...ctx, ourFlags: F.EP_INFO_NO_SIG })),
    ErrorCode.UnsupportedRequest,
  );
  assert.equal(
    errorOf(answerEncapGetEndpointInfo(signedReq(3), ctx)),
    ErrorCode.InvalidRequest,
    'a slot we do not hold',
  );
  assert.equal(
    errorOf(answerEncapGetEndpointInfo(signedReq(0xff), ctx)),
    ErrorCode.InvalidRequest,
    'no provisioned key',
  );

  const unsigned = decodeEndpointInfo(answerEncapGetEndpointInfo(unsignedReq, ctx), { signatureRequested: false });
  assert.equal(unsigned.slot, 0);
  assert.deepEqual(unsigned.epInfo, DEFAULT_REQUESTER_ENDPOINT_INFO);
  assert.equal(DEFAULT_REQUESTER_ENDPOINT_INFO.length % 4, 0, 'a whole number of dwords (DOE)');

  const req = signedReq(0);
  const signed = decodeEndpointInfo(answerEncapGetEndpointInfo(req, ctx), {
    signatureRequested: true,
    signatureSize: asymInfo(P384)!.sigSize,
  });
  const key = leafKey(identity);
  const suite = { version: 0x13, asymId: P384, hashId: BaseHashAlgo.SHA_384 };
  assert.ok(
    checkTranscriptSignature(key, suite, transcript.requesterEndpointInfo(req, signed.unsigned), signed.signature!).ok,
  );
  // The responder's context string does not verify it: the requester signs as the requester.
  assert.ok(!checkTranscriptSignature(key, suite, transcript.endpointInfo(req, signed.unsigned), signed.signature!).ok);
});

test('the emulator refuses trailing bytes after an ENDPOINT_INFO in a record, and an answer to another query', () => {
  const { identity } = requesterIdentity();
  const transcript = vcaTranscript();
  const view = new IdentityView(identity, 0x13, BaseHashAlgo.SHA_384, P384);
  const chain = view.chain(0)!;
  const signer = { slot: 0, chain, chainHash: digest(BaseHashAlgo.SHA_384, chain), leafKey: leafKey(identity) };
  let n = 0;
  const random = (k: number) => new Uint8Array(k).fill(++n);
  const query = (inSession: boolean) =>
    new EndpointInfoQuery({
      version: 0x13,
      hashId: BaseHashAlgo.SHA_384,
      reqAsymId: P384,
      transcript,
      random,
      signer,
      inSession,
    });
  const answer = (q: EndpointInfoQuery) =>
    answerEncapGetEndpointInfo(q.request, {
      version: 0x13,
      ourFlags: F.EP_INFO_SIG,
      epInfo: DEFAULT_REQUESTER_ENDPOINT_INFO,
      identity: view,
      transcript,
      random,
    });
  const ok = query(true);
  assert.equal(ok.check(answer(ok)).signedBySlot, 0);
  const record = query(true);
  assert.throws(() => record.check(Uint8Array.from([...answer(record), 0])), EncapRefusal);
  // In the clear a DOE dword's padding may follow (zeros, at most 3 bytes); more is refused.
  const clear = query(false);
  assert.equal(clear.check(Uint8Array.from([...answer(clear), 0, 0])).signedBySlot, 0);
  const clear2 = query(false);
  assert.throws(() => clear2.check(Uint8Array.from([...answer(clear2), 0, 0, 0, 0])));
  // An answer to another query (another nonce in the request): the signature covers the request, so it fails.
  const a = query(true);
  const b = query(true);
  assert.throws(() => b.check(answer(a)), EncapRefusal);
});

/** A connection transcript with a 1.3 VCA in it (what A is does not matter here, only that both sides hold the same). */
function vcaTranscript(): ConnectionTranscript {
  const t = new ConnectionTranscript();
  t.setVersion(0x13);
  t.setHash(BaseHashAlgo.SHA_384);
  t.appendVca(Uint8Array.of(0x10, 0x84, 0, 0), Uint8Array.of(0x10, 0x04, 0, 0, 0, 1, 0, 0x13));
  return t;
}

function leafKey(identity: RequesterIdentity): KeyObject {
  return createPublicKey(identity.slots[0]!.privateKey);
}
