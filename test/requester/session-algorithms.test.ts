/**
 * Session algorithms in NEGOTIATE_ALGORITHMS / ALGORITHMS (DHE, AEADCipherSuite, ReqBaseAsymAlg,
 * KeySchedule), requester against the device emulator in-process: without session options the
 * request is byte for byte what it always was; with them every DHE × AEAD pair is selected as
 * asked, the responder picks by its own priority and only where both sides' capabilities call
 * for a struct, and the Connection records the selection. A responder that selects two
 * algorithms, one not offered, or leaves a needed struct out is refused with ALGORITHM_MISMATCH
 * naming the struct. libspdm's captured ALGORITHMS pass the same rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpdmError } from '../../src/wire/errors.js';
import { encodeError, ErrorCode } from '../../src/spdm/messages/error.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { allDheGroups, DheGroup } from '../../src/crypto/dhe.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import { ConversationDecoder } from '../../src/spdm/conversation.js';
import { checkSelectedAlgorithms, neededAlgStructs } from '../../src/spdm/capability-rules.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import {
  AlgType,
  algStructValue,
  decodeAlgorithms,
  encodeAlgorithms,
  encodeNegotiateAlgorithms,
  KeySchedule,
  MeasurementSpec,
  OtherParams,
  type AlgStruct,
  type AlgorithmsResponse,
} from '../../src/spdm/messages/algorithms.js';
import type { CapabilitiesResponse } from '../../src/spdm/messages/capabilities.js';
import type { GetCapabilitiesRequest } from '../../src/spdm/messages/capabilities.js';
import type { NegotiateAlgorithmsRequest } from '../../src/spdm/messages/algorithms.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import type { RequesterOptions } from '../../src/requester/options.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { libspdmVectors } from '../support/paths.js';
import { SUITES, device } from '../support/fixtures.js';

const SESSION_RESPONDER = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.PSK_WITH_CONTEXT | F.MUT_AUTH;
const SESSION_REQUESTER = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.PSK_NO_CONTEXT;

function profile(changes: { flags?: number; versions?: number[]; algorithms?: Partial<DeviceProfile['algorithms']> }) {
  const base = device(SUITES[1]!).profile;
  return {
    ...base,
    ...(changes.versions ? { versions: changes.versions } : {}),
    capabilities: { ...base.capabilities, flags: changes.flags ?? SESSION_RESPONDER },
    algorithms: { ...base.algorithms, ...changes.algorithms },
  };
}

/** Connects a requester to the emulator; `edit` may rewrite the emulator's responses; the requests are recorded. */
async function connect(
  p: DeviceProfile,
  options: RequesterOptions,
  edit: (response: Uint8Array) => Uint8Array = (r) => r,
) {
  const responder = new Responder(p);
  const requests: Uint8Array[] = [];
  const requester = new Requester(
    new LoopbackTransport({
      handle: async (req) => {
        requests.push(req);
        return edit(await responder.handle(req));
      },
    }),
    options,
  );
  const connection = await requester.connect();
  return { connection, requests };
}

const negotiateAlgorithms = (requests: readonly Uint8Array[]) =>
  requests.find((r) => r[1] === RequestCode.NEGOTIATE_ALGORITHMS);

test('no session options: NEGOTIATE_ALGORITHMS is byte for byte the request without AlgStructs', async () => {
  const { connection, requests } = await connect(profile({ versions: [0x12] }), {});
  const sent = negotiateAlgorithms(requests);
  assert.ok(sent);
  // Pinned: 1.2, DMTF measurements, OpaqueDataFmt1, the default BaseAsymAlgo and BaseHashAlgo masks, no AlgStruct.
  assert.equal(toHex(sent), '12e30000' + '2000' + '01' + '02' + 'ff050000' + '3f000000' + '00'.repeat(12) + '00000000');
  const expected = encodeNegotiateAlgorithms(0x12, {
    measurementSpec: MeasurementSpec.DMTF,
    otherParams: OtherParams.OPAQUE_FMT_1,
    baseAsym: 0x05ff,
    baseHash: 0x3f,
    melSpec: 0,
    extAsym: [],
    extHash: [],
    algStructs: [],
  });
  assert.deepEqual(sent, expected);
  assert.deepEqual([connection.dheId, connection.aeadId, connection.keyScheduleId, connection.reqAsymId], [0, 0, 0, 0]);
  // The same for every version: Param1 is 0, nothing follows MELSpecification.
  for (const v of [0x11, 0x13]) {
    const r = await connect(profile({ versions: [v] }), { capabilityFlags: SESSION_REQUESTER });
    const na = negotiateAlgorithms(r.requests)!;
    assert.equal(na[2], 0, `Param1 at ${v.toString(16)}`);
    assert.equal(na.length, 32);
  }
});

const DHE = allDheGroups().filter((g) => g.supported);
const AEADS = [AeadAlgo.AES_128_GCM, AeadAlgo.AES_256_GCM, AeadAlgo.CHACHA20_POLY1305];

test('every DHE × AEAD pair the requester asks for is selected, with the SPDM key schedule (1.2)', async () => {
  for (const g of DHE) {
    for (const aead of AEADS) {
      const { connection, requests } = await connect(profile({ versions: [0x12] }), {
        capabilityFlags: SESSION_REQUESTER,
        session: { dhe: [g.id], aead: [aead] },
      });
      assert.deepEqual(
        [connection.dheId, connection.aeadId, connection.keyScheduleId, connection.reqAsymId],
        [g.id, aead, KeySchedule.SPDM, 0],
        `${g.name} × 0x${aead.toString(16)}`,
      );
      const na = negotiateAlgorithms(requests)!;
      assert.equal(na[2], 3, 'DHE, AEAD and KeySchedule structs');
    }
  }
});

test('the responder chooses by its own priority among what was offered; 1.1 and 1.3 negotiate too', async () => {
  const p = profile({
    algorithms: { dhe: [DheGroup.SECP256R1, DheGroup.SECP384R1], aead: [AeadAlgo.CHACHA20_POLY1305] },
  });
  for (const v of [0x11, 0x12, 0x13]) {
    const { connection } = await connect({ ...p, versions: [v] }, { capabilityFlags: SESSION_REQUESTER, session: {} });
    assert.equal(connection.dheId, DheGroup.SECP256R1, `version ${v.toString(16)}`);
    assert.equal(connection.aeadId, AeadAlgo.CHACHA20_POLY1305);
    assert.equal(connection.keyScheduleId, KeySchedule.SPDM);
  }
  // Its first choice not offered: its next.
  const { connection } = await connect(
    { ...p, versions: [0x12] },
    { capabilityFlags: SESSION_REQUESTER, session: { dhe: [DheGroup.SECP384R1, DheGroup.FFDHE2048] } },
  );
  assert.equal(connection.dheId, DheGroup.SECP384R1);
  // Nothing in common: 0, and the requester's rule refuses a responder that cannot make the session it asked for.
  await assert.rejects(
    connect({ ...p, versions: [0x12] }, { capabilityFlags: SESSION_REQUESTER, session: { dhe: [DheGroup.FFDHE2048] } }),
    (e: unknown) =>
      e instanceof SpdmError && e.code === 'ALGORITHM_MISMATCH' && /DHE \(AlgStruct type 2\)/.test(e.message),
  );
  // SPDM 1.0 has no AlgStructs at all.
  const old = await connect({ ...p, versions: [0x10] }, { capabilityFlags: SESSION_REQUESTER, session: {} });
  assert.equal(old.connection.dheId, 0);
  assert.equal(negotiateAlgorithms(old.requests)![2], 0);
});

test('a struct is selected only where both sides have the capability: PSK without KEY_EX gets no DHE; no session caps, nothing', async () => {
  const pskOnly = await connect(profile({ versions: [0x12] }), {
    capabilityFlags: F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.PSK_NO_CONTEXT,
    session: {},
  });
  assert.deepEqual(
    [pskOnly.connection.dheId, pskOnly.connection.aeadId, pskOnly.connection.keyScheduleId],
    [0, AeadAlgo.AES_256_GCM, KeySchedule.SPDM],
  );
  const none = await connect(profile({ versions: [0x12] }), { session: {} });
  assert.deepEqual([none.connection.dheId, none.connection.aeadId, none.connection.keyScheduleId], [0, 0, 0]);
  // A responder without KEY_EX_CAP / PSK_CAP answers 0 in every struct, and that is no mismatch.
  const plain = await connect(profile({ versions: [0x12], flags: DEFAULT_RESPONDER_FLAGS }), {
    capabilityFlags: SESSION_REQUESTER,
    session: {},
  });
  assert.deepEqual([plain.connection.dheId, plain.connection.aeadId, plain.connection.keyScheduleId], [0, 0, 0]);
  // Mutual authentication: ReqBaseAsymAlg, only when offered and both have MUT_AUTH_CAP.
  const mutual = await connect(profile({ versions: [0x12] }), {
    capabilityFlags: SESSION_REQUESTER | F.MUT_AUTH,
    session: { reqBaseAsym: [0x0010, 0x0080] },
  });
  assert.equal(mutual.connection.reqAsymId, 0x0080, 'the responder prefers P-384');
  assert.equal(negotiateAlgorithms(mutual.requests)![2], 4);
});

/** Rewrites the ALGORITHMS response's AlgStructs (the requester refuses it before the transcript matters). */
function editStructs(f: (s: readonly AlgStruct[]) => AlgStruct[]) {
  return (r: Uint8Array) => {
    if (r[1] !== ResponseCode.ALGORITHMS) return r;
    const a = decodeAlgorithms(r);
    return encodeAlgorithms(a.version, { ...a, algStructs: f(a.algStructs) });
  };
}

const setStruct = (type: number, supported: number) => (s: readonly AlgStruct[]) =>
  s.map((x) => (x.type === type ? { ...x, supported } : x));

async function rejects(
  edit: (r: Uint8Array) => Uint8Array,
  pattern: RegExp,
  session: RequesterOptions['session'] = {},
) {
  await assert.rejects(
    connect(profile({ versions: [0x12] }), { capabilityFlags: SESSION_REQUESTER, session }, edit),
    (e: unknown) => {
      assert.ok(e instanceof SpdmError, String(e));
      assert.equal(e.code, 'ALGORITHM_MISMATCH', e.message);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('hostile ALGORITHMS: two bits, an unoffered bit, a missing or empty needed struct → ALGORITHM_MISMATCH naming it', async () => {
  await rejects(
    editStructs(setStruct(AlgType.DHE, 0x18)),
    /DHE \(AlgStruct type 2\) 0x18 is not exactly one algorithm/,
  );
  await rejects(
    editStructs(setStruct(AlgType.DHE, DheGroup.SECP384R1)),
    /DHE \(AlgStruct type 2\) 0x10 was not offered/,
    { dhe: [DheGroup.SECP256R1] },
  );
  await rejects(
    editStructs(setStruct(AlgType.AEAD, 0x03)),
    /AEADCipherSuite \(AlgStruct type 3\) 0x3 is not exactly one algorithm/,
  );
  await rejects(
    editStructs(setStruct(AlgType.AEAD, AeadAlgo.SM4_GCM)),
    /AEADCipherSuite \(AlgStruct type 3\) 0x8 was not offered/,
  );
  await rejects(
    editStructs((s) => s.filter((x) => x.type !== AlgType.DHE)),
    /DHE \(AlgStruct type 2\) is missing/,
  );
  await rejects(
    editStructs((s) => s.filter((x) => x.type !== AlgType.KEY_SCHEDULE)),
    /KeySchedule \(AlgStruct type 5\) is missing/,
  );
  await rejects(
    editStructs(setStruct(AlgType.AEAD, 0)),
    /AEADCipherSuite \(AlgStruct type 3\): nothing selected although both sides' capabilities need it/,
  );
  await rejects(
    editStructs((s) => [
      ...s.filter((x) => x.type < AlgType.REQ_BASE_ASYM),
      { type: 4, supported: 0x10, external: [] },
      ...s.filter((x) => x.type > AlgType.REQ_BASE_ASYM),
    ]),
    /ReqBaseAsymAlg: AlgStruct type 4 selected \(0x10\) although none was offered/,
  );
  await rejects(
    editStructs((s) =>
      s.map((x) => (x.type === AlgType.DHE ? { ...x, external: [{ registryId: 0, algorithmId: 1 }] } : x)),
    ),
    /DHE \(AlgStruct type 2\) selects an external algorithm/,
  );
});

test('1.2+ sessions need OpaqueDataFmt1: a responder selecting a key schedule without it is refused', async () => {
  const noFmt = (r: Uint8Array) => {
    if (r[1] !== ResponseCode.ALGORITHMS) return r;
    const a = decodeAlgorithms(r);
    return encodeAlgorithms(a.version, { ...a, otherParams: a.otherParams & ~0x0f });
  };
  await rejects(noFmt, /KeySchedule \(AlgStruct type 5\) selected without OpaqueDataFmt1/);
  // Without session structs nothing changes: no format is still a valid answer.
  const plain = await connect(profile({ versions: [0x12] }), {}, noFmt);
  assert.equal(plain.connection.algorithms.otherParams & 0x0f, 0);
});

// libspdm's traffic: the ALGORITHMS its responder sent pass the same rule, with the selection it made.
interface CaptureMessage {
  kind: string;
  direction: 'request' | 'response';
  payload: string;
}

/** spdm-emu's defaults, whatever the version: secp384r1, AES-256-GCM, RSASSA-PSS 3072 for the requester's FINISH signature. */
const LIBSPDM_SELECTION = { dhe: DheGroup.SECP384R1, aead: AeadAlgo.AES_256_GCM, reqAsym: 0x0008 };

for (const name of ['doe-default', 'mctp-default', 'doe-v11', 'doe-v12-p256', 'doe-v13', 'doe-rsapss3072', 'doe-v10']) {
  test(`libspdm ${name}: ALGORITHMS decodes with its DHE/AEAD selection and passes the requester's rule`, () => {
    const file = join(libspdmVectors(), 'captures', `${name}.json`);
    const msgs = (JSON.parse(readFileSync(file, 'utf8')) as { messages: CaptureMessage[] }).messages.filter(
      (m) => m.kind === 'spdm',
    );
    const decoder = new ConversationDecoder();
    let gc: GetCapabilitiesRequest | undefined;
    let caps: CapabilitiesResponse | undefined;
    let na: NegotiateAlgorithmsRequest | undefined;
    let alg: AlgorithmsResponse | undefined;
    for (const m of msgs) {
      const d = decoder.feed(m.direction, fromHex(m.payload));
      if (d.kind === 'GET_CAPABILITIES') gc ??= d.msg;
      if (d.kind === 'CAPABILITIES') caps ??= d.msg;
      if (d.kind === 'NEGOTIATE_ALGORITHMS') na ??= d.msg;
      if (d.kind === 'ALGORITHMS') alg ??= d.msg;
    }
    assert.ok(gc && caps && na && alg);
    if (name === 'doe-v10') {
      assert.deepEqual(alg.algStructs, []);
      return;
    }
    const want = LIBSPDM_SELECTION;
    assert.equal(algStructValue(alg.algStructs, AlgType.DHE), want.dhe);
    assert.equal(algStructValue(alg.algStructs, AlgType.AEAD), want.aead);
    assert.equal(algStructValue(alg.algStructs, AlgType.REQ_BASE_ASYM), want.reqAsym);
    assert.equal(algStructValue(alg.algStructs, AlgType.KEY_SCHEDULE), KeySchedule.SPDM);
    const needed = neededAlgStructs(gc.flags, caps.flags);
    assert.deepEqual(
      [...needed].sort(),
      [AlgType.DHE, AlgType.AEAD, AlgType.REQ_BASE_ASYM, AlgType.KEY_SCHEDULE],
      'libspdm asks for every session capability',
    );
    checkSelectedAlgorithms(alg, caps, {
      baseAsym: na.baseAsym,
      baseHash: na.baseHash,
      otherParams: na.otherParams,
      algStructs: na.algStructs,
      requesterFlags: gc.flags,
    });
    // libspdm answers every struct offered, as the emulator does (the 1.4 PQC ones with 0).
    assert.equal(na.algStructs.length, alg.algStructs.length);
  });
}

test('ERROR to a NEGOTIATE_ALGORITHMS offering ReqBaseAsymAlg names the offer (libspdm refuses a requester key it cannot verify)', async () => {
  // libspdm's responder accepts RSA requester keys only by default and answers InvalidRequest to an
  // ECDSA-only offer: the error must point at the requester key, not leave the user guessing.
  const refuse = (r: Uint8Array) =>
    r[1] === ResponseCode.ALGORITHMS ? encodeError(r[0]!, ErrorCode.InvalidRequest) : r;
  const options: RequesterOptions = {
    capabilityFlags: SESSION_REQUESTER | F.MUT_AUTH,
    session: { reqBaseAsym: [0x0080] },
  };
  await assert.rejects(connect(profile({ versions: [0x13] }), options, refuse), (e: unknown) => {
    assert.ok(e instanceof SpdmError && e.code === 'DEVICE_ERROR');
    assert.match(e.message, /NEGOTIATE_ALGORITHMS: device answered ERROR InvalidRequest.*ReqBaseAsymAlg ECDSA-P384/);
    assert.equal((e.details as { errorName?: string }).errorName, 'InvalidRequest');
    return true;
  });
  // Without a requester signature offer the error is the device's alone.
  await assert.rejects(
    connect(profile({ versions: [0x13] }), { capabilityFlags: SESSION_REQUESTER }, refuse),
    (e: unknown) => {
      assert.ok(e instanceof SpdmError && e.code === 'DEVICE_ERROR');
      assert.doesNotMatch(e.message, /ReqBaseAsymAlg/);
      return true;
    },
  );
});
