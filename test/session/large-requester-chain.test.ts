/**
 * SPDM 1.4 LargeCertChain in mutual authentication: the emulator reads a requester chain over
 * 64 KiB with encapsulated GET_CERTIFICATE in the u32 form when the requester set LARGE_RESP_CAP
 * (libspdm's responder decides on the requester's flag alone: it is the side answering
 * CERTIFICATE), and our requester answers that form, refuses it without LARGE_RESP_CAP
 * (UnsupportedRequest) and answers the 16-bit form for such a chain with DataTooLarge and the
 * size (libspdm's requester). A CERTIFICATE that lies about the chain's size, or a chain over
 * LIMITS.largeCertChainBytes, ends the flow. Real requester against the real emulator; the flow
 * runs in the clear (HANDSHAKE_IN_THE_CLEAR) so the test can watch and alter it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { isSpdmError } from '../../src/wire/errors.js';
import { LIMITS } from '../../src/wire/limits.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import {
  decodeDeliverEncapsulatedResponse,
  decodeEncapsulatedRequest,
  decodeEncapsulatedResponseAck,
} from '../../src/spdm/messages/encapsulated.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import type { RequesterIdentity } from '../../src/requester/identity.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { createCertificate, createDeviceChain } from '../../src/x509/generate.js';
import { BaseAsymAlgo } from '../../src/crypto/algorithms.js';
import { SUITES, device } from '../support/fixtures.js';

const P384 = BaseAsymAlgo.ECDSA_P384;
const CLEAR = F.HANDSHAKE_IN_THE_CLEAR;
const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.MUT_AUTH | F.ENCAP | CLEAR;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.MUT_AUTH | F.ENCAP | CLEAR;

/** A requester identity whose leaf carries `padding` bytes of a private extension. */
function bigIdentity(padding: number) {
  const base = createDeviceChain({
    asymId: P384,
    names: { root: 'Host Root CA', intermediate: 'Host Intermediate', leaf: 'unused' },
  });
  const leaf = createCertificate({
    issuer: base.intermediate,
    asymId: P384,
    commonName: 'host requester',
    ca: false,
    leaf: { responderAuthEku: false, requesterAuthEku: true },
    customize: (tbs) => {
      tbs.extensions?.push(
        new Extension({
          extnID: '1.3.6.1.4.1.55555.2',
          critical: false,
          extnValue: new OctetString(new Uint8Array(padding).fill(0xa5)),
        }),
      );
    },
  });
  const certificates = [base.root.certificate, base.intermediate.certificate, leaf.certificate];
  const identity: RequesterIdentity = {
    slots: [{ slot: 0, certificates, privateKey: leaf.privateKey, asymId: P384 }],
  };
  return { identity, root: base.root.certificate, bytes: certificates.reduce((n, c) => n + c.length, 0) };
}

function profile(trust: Uint8Array): DeviceProfile {
  const base = device(SUITES[1]!).profile;
  return {
    ...base,
    versions: [0x14],
    capabilities: { ...base.capabilities, flags: RSP_FLAGS },
    mutualAuth: { session: 'encap', trust: [trust] },
  };
}

/** Every encapsulated request the emulator made and response the requester delivered, in the clear; `edit` may alter a delivered response. */
function watched(responder: Responder, edit: (inner: Uint8Array) => Uint8Array = (x) => x) {
  const asked: Uint8Array[] = [];
  const delivered: Uint8Array[] = [];
  const handler = {
    handle: async (r: Uint8Array) => {
      let request = r;
      if (r[1] === RequestCode.DELIVER_ENCAPSULATED_RESPONSE) {
        const d = decodeDeliverEncapsulatedResponse(r);
        const inner = edit(d.payload.slice());
        delivered.push(inner);
        request = new Uint8Array([...r.subarray(0, r.length - d.payload.length), ...inner]);
      }
      const resp = await responder.handle(request);
      if (resp[1] === ResponseCode.ENCAPSULATED_REQUEST) asked.push(decodeEncapsulatedRequest(resp).payload.slice());
      if (resp[1] === ResponseCode.ENCAPSULATED_RESPONSE_ACK) {
        const ack = decodeEncapsulatedResponseAck(resp);
        if (ack.payload.length > 0) asked.push(ack.payload.slice());
      }
      return resp;
    },
    handleSecured: (r: Uint8Array) => responder.handleSecured(r),
  };
  return { handler, asked, delivered };
}

function requesterFor(
  handler: ConstructorParameters<typeof LoopbackTransport>[0],
  identity: RequesterIdentity,
  flags: number,
) {
  return new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: 'doe' }), {
    versions: [0x14],
    capabilityFlags: flags,
    session: {},
    identity,
  });
}

const getCertificates = (asked: Uint8Array[]) => asked.filter((r) => r[1] === RequestCode.GET_CERTIFICATE);

const big = bigIdentity(100_000);

test('1.4, requester LARGE_RESP_CAP: the emulator reads a 100 KB requester chain with LargeCertChain, FINISH verifies', async () => {
  assert.ok(big.bytes > 0x10000);
  const responder = new Responder(profile(big.root));
  const w = watched(responder);
  const requester = requesterFor(w.handler, big.identity, REQ_FLAGS | F.LARGE_RESP);
  await requester.connect();
  const s = await requester.startSession();
  assert.equal(s.phase, 'established');
  assert.deepEqual(s.info.mutualAuth?.asked.slice(0, 2), ['GET_DIGESTS', 'GET_CERTIFICATE']);
  const gets = getCertificates(w.asked);
  // Every GET_CERTIFICATE in the u32 form: Param1 bit 7, 16 bytes.
  for (const r of gets) {
    assert.equal(r[2]! & 0x80, 0x80);
    assert.equal(r.length, 16);
  }
  // Portions as large as one DELIVER_ENCAPSULATED_RESPONSE carries: far fewer requests than 1 KiB at a time.
  assert.ok(gets.length > 1 && gets.length < Math.ceil(big.bytes / 1024), `${gets.length} GET_CERTIFICATE`);
  for (const c of w.delivered.filter((x) => x[1] === ResponseCode.CERTIFICATE)) assert.equal(c[2]! & 0x80, 0x80);
  await s.end();
});

test('1.4 without requester LARGE_RESP_CAP: the 16-bit form is asked and our requester answers DataTooLarge with the chain size', async () => {
  const responder = new Responder(profile(big.root));
  const w = watched(responder);
  const requester = requesterFor(w.handler, big.identity, REQ_FLAGS);
  await requester.connect();
  await assert.rejects(requester.startSession(), (e) => isSpdmError(e, 'DEVICE_ERROR'));
  const gets = getCertificates(w.asked);
  assert.equal(gets.length, 1);
  assert.equal(gets[0]![2]! & 0x80, 0);
  const answer = w.delivered.at(-1)!;
  assert.deepEqual([answer[1], answer[2]], [ResponseCode.ERROR, 0x12]);
  // ExtendedErrorData: the SPDM chain's size (header and root hash included).
  assert.equal(Buffer.from(answer).readUInt32LE(4), big.bytes + 4 + 48);
});

test('our requester without LARGE_RESP_CAP refuses a LargeCertChain GET_CERTIFICATE with UnsupportedRequest', async () => {
  // A small chain, so that the emulator asks the 16-bit form; the test turns its request into the large one.
  const small = bigIdentity(0);
  const responder = new Responder(profile(small.root));
  const asked: Uint8Array[] = [];
  const handler = {
    handle: async (r: Uint8Array) => {
      const resp = await responder.handle(r);
      if (resp[1] !== ResponseCode.ENCAPSULATED_RESPONSE_ACK) return resp;
      const ack = decodeEncapsulatedResponseAck(resp);
      if (ack.payload[1] !== RequestCode.GET_CERTIFICATE) return resp;
      const p = Buffer.from(ack.payload);
      const large = Buffer.alloc(16);
      p.copy(large, 0, 0, 4);
      large[2] = large[2]! | 0x80;
      large.writeUInt32LE(p.readUInt16LE(4), 8);
      large.writeUInt32LE(p.readUInt16LE(6), 12);
      asked.push(new Uint8Array(large));
      return new Uint8Array([...resp.subarray(0, resp.length - ack.payload.length), ...large]);
    },
    handleSecured: (r: Uint8Array) => responder.handleSecured(r),
  };
  const delivered: Uint8Array[] = [];
  const spy = {
    handle: async (r: Uint8Array) => {
      if (r[1] === RequestCode.DELIVER_ENCAPSULATED_RESPONSE)
        delivered.push(decodeDeliverEncapsulatedResponse(r).payload.slice());
      return handler.handle(r);
    },
    handleSecured: handler.handleSecured,
  };
  const requester = requesterFor(spy, small.identity, REQ_FLAGS);
  await requester.connect();
  await assert.rejects(requester.startSession(), (e) => isSpdmError(e));
  assert.equal(asked.length, 1);
  const answer = delivered.at(-1)!;
  assert.deepEqual([answer[1], answer[2], answer[3]], [ResponseCode.ERROR, 0x07, RequestCode.GET_CERTIFICATE]);
});

test('a requester CERTIFICATE that lies about the chain size (LargeRemainderLength) ends the flow at its first portion', async () => {
  const responder = new Responder(profile(big.root));
  const w = watched(responder, (inner) => {
    if (inner[1] !== ResponseCode.CERTIFICATE) return inner;
    Buffer.from(inner.buffer, inner.byteOffset).writeUInt32LE(0xffffff00, 12);
    return inner;
  });
  const requester = requesterFor(w.handler, big.identity, REQ_FLAGS | F.LARGE_RESP);
  await requester.connect();
  await assert.rejects(requester.startSession(), (e) => isSpdmError(e, 'DEVICE_ERROR'));
  assert.equal(getCertificates(w.asked).length, 1);
});

test('a requester chain over LIMITS.largeCertChainBytes is refused from its first portion, not read', async () => {
  const huge = bigIdentity(LIMITS.largeCertChainBytes);
  const responder = new Responder(profile(huge.root));
  const w = watched(responder);
  const requester = requesterFor(w.handler, huge.identity, REQ_FLAGS | F.LARGE_RESP);
  await requester.connect();
  await assert.rejects(requester.startSession(), (e) => isSpdmError(e, 'DEVICE_ERROR'));
  assert.equal(getCertificates(w.asked).length, 1);
  // The connection goes on: measurements outside the session still come.
  assert.ok((await requester.getMeasurements()).length > 0);
});
