/**
 * Messages of other protocols inside a live session: PLDM over MCTP as DSP0277 application data
 * (the emulator answers GetTID, as spdm-emu's responder does for libspdm's `--exe_session APP`),
 * and VENDOR_DEFINED_REQUEST of a vendor whose protocols the emulator does not speak, which it echoes. What it does not speak gets an SPDM
 * ERROR inside the session, which goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { ErrorCode, decodeError } from '../../src/spdm/messages/error.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import type { SecuredTransport } from '../../src/session/record.js';
import type { ApplicationReply } from '../../src/requester/session.js';
import { SUITES, device } from '../support/fixtures.js';

const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;
const PLDM = 0x01;

function setup(binding: SecuredTransport) {
  const base = device(SUITES[1]!).profile;
  const profile: DeviceProfile = {
    ...base,
    versions: [0x12],
    capabilities: { ...base.capabilities, flags: RSP_FLAGS },
    algorithms: { ...base.algorithms, dhe: [DheGroup.SECP384R1], aead: [AeadAlgo.AES_256_GCM] },
  };
  const responder = new Responder(profile, { securedBinding: binding });
  let secured = 0;
  const handler: SpdmHandler = {
    handle: (b) => responder.handle(b),
    handleSecured: (b) => {
      secured++;
      return responder.handleSecured(b);
    },
  };
  const requester = new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: binding }), {
    versions: [0x12],
    capabilityFlags: REQ_FLAGS,
    session: {},
  });
  return { responder, requester, secured: () => secured };
}

function app(r: ApplicationReply): { messageType: number; payload: number[] } {
  assert.ok('messageType' in r, 'an application message came back');
  return { messageType: r.messageType, payload: [...r.payload] };
}

function spdmError(r: ApplicationReply): number {
  assert.ok('spdm' in r, 'an SPDM message came back');
  return decodeError(r.spdm).errorCode;
}

test('PLDM GetTID over MCTP inside the session: TID 1, the instance ID echoed', async () => {
  const { requester } = setup('mctp');
  await requester.connect();
  const s = await requester.startSession();
  // Rq bit | instance 5; header version 0, type 0 (control and discovery); GetTID.
  assert.deepEqual(app(await s.sendApplicationMessage(PLDM, Uint8Array.of(0x85, 0x00, 0x02))), {
    messageType: PLDM,
    payload: [0x05, 0x00, 0x02, 0x00, 0x01],
  });
  // Other commands, types and lengths: PLDM completion codes.
  assert.deepEqual(
    app(await s.sendApplicationMessage(PLDM, Uint8Array.of(0x80, 0x00, 0x03))).payload,
    [0x00, 0x00, 0x03, 0x05],
  );
  assert.deepEqual(
    app(await s.sendApplicationMessage(PLDM, Uint8Array.of(0x80, 0x02, 0x02))).payload,
    [0x00, 0x02, 0x02, 0x20],
  );
  assert.deepEqual(
    app(await s.sendApplicationMessage(PLDM, Uint8Array.of(0x80, 0x00, 0x02, 0xff))).payload,
    [0x00, 0x00, 0x02, 0x03],
  );
  // A PLDM response, a truncated header, an MCTP type the emulator does not speak: SPDM ERROR.
  assert.equal(
    spdmError(await s.sendApplicationMessage(PLDM, Uint8Array.of(0x00, 0x00, 0x02, 0x00))),
    ErrorCode.UnsupportedRequest,
  );
  assert.equal(spdmError(await s.sendApplicationMessage(PLDM, Uint8Array.of(0x80))), ErrorCode.UnsupportedRequest);
  assert.equal(spdmError(await s.sendApplicationMessage(0x7e, Uint8Array.of(1, 2, 3))), ErrorCode.UnsupportedRequest);
  assert.equal(s.phase, 'established');
  await s.getMeasurements();
  await s.end();
});

test('application data over DOE: UNSUPPORTED before anything is sent; over TCP the emulator speaks none', async () => {
  const doe = setup('doe');
  await doe.requester.connect();
  const s = await doe.requester.startSession();
  const before = doe.secured();
  await assert.rejects(s.sendApplicationMessage(PLDM, Uint8Array.of(0x80, 0x00, 0x02)), (e) =>
    isSpdmError(e, 'UNSUPPORTED'),
  );
  assert.equal(doe.secured(), before);
  await s.heartbeat();
  const tcp = setup('tcp');
  await tcp.requester.connect();
  const t = await tcp.requester.startSession();
  assert.equal(
    spdmError(await t.sendApplicationMessage(PLDM, Uint8Array.of(0x80, 0x00, 0x02))),
    ErrorCode.UnsupportedRequest,
  );
  await t.heartbeat();
});

test('VENDOR_DEFINED_REQUEST inside the session: echoed; a malformed one is InvalidRequest', async () => {
  for (const binding of ['doe', 'mctp'] as const) {
    const { requester, responder } = setup(binding);
    await requester.connect();
    const s = await requester.startSession();
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    // A PCI-SIG VendorID the emulator speaks no protocol of (0x0001 and CXL's 0x1E98 it does).
    const r = await s.vendorDefined({ standardId: 3, vendorId: Uint8Array.of(0x86, 0x80), payload });
    assert.equal(r.standardId, 3);
    assert.deepEqual([...r.vendorId], [0x86, 0x80]);
    assert.deepEqual(r.payload, payload);
    assert.equal(responder.stats.get(RequestCode.VENDOR_DEFINED_REQUEST), 1);
    // ReqLength beyond the message.
    const bad = await s.send(Uint8Array.of(0x12, RequestCode.VENDOR_DEFINED_REQUEST, 0, 0, 3, 0, 0, 0x10, 0));
    assert.equal(decodeError(bad).errorCode, ErrorCode.InvalidRequest);
    await s.getMeasurements();
    await s.end();
  }
});
