/**
 * authenticate({ endpointInfo: true }): a signed ENDPOINT_INFO of the slot authenticated, over the
 * run's nonce, joins the evidence's signatures (and so the verifier's, the log's and the CMA
 * view's input) — in the clear at 1.3 and 1.4, inside a session naming it, and a signed answer
 * got by hand with getEndpointInfo() too. A device that cannot sign one is refused before asking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyseSignatures } from '../../src/evidence/signed-analysis.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { parseEvidence } from '../../src/verifier/evidence-input.js';
import { Requester } from '../../src/requester/requester.js';
import { Responder } from '../../src/responder/responder.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { decodeDeviceClassIdentifier } from '../../src/spdm/messages/endpoint-info.js';
import { SpdmError } from '../../src/wire/errors.js';
import { fromHex } from '../../src/wire/bytes.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import {
  collect,
  makeDevice,
  PCI,
  SESSION_NONCE,
  SESSION_REQUESTER_FLAGS,
  sessionDevice,
  fixedClock,
  viaJson,
} from '../verifier/helpers.js';

const NONCE = '5a'.repeat(32);
const sidHex = (id: number) => `0x${id.toString(16).padStart(8, '0')}`;
const isCode = (code: string) => (e: unknown) => e instanceof SpdmError && e.code === code;

for (const version of [0x13, 0x14]) {
  test(`SPDM ${version.toString(16)}: authenticate({ endpointInfo }) adds a signed ENDPOINT_INFO over the run's nonce`, async () => {
    const e = await collect(makeDevice({ versions: [version] }), {
      versions: [version],
      nonce: fromHex(NONCE),
      endpointInfo: true,
    });
    assert.deepEqual(
      e.signatures.map((s) => s.kind),
      ['CHALLENGE_AUTH', 'ENDPOINT_INFO', 'MEASUREMENTS'],
    );
    const ep = e.signatures.find((s) => s.kind === 'ENDPOINT_INFO')!;
    assert.equal(ep.slot, 0);
    assert.equal(ep.version, version);
    assert.equal(ep.requesterNonce, NONCE);
    assert.equal(ep.verified, true);
    assert.equal(decodeDeviceClassIdentifier(fromHex(ep.epInfo!)).length, 1);
    const parsed = parseEvidence(viaJson(e));
    assert.deepEqual(parsed.problems, []);
    assert.ok(reverifySignatures(parsed.evidence!).every((c) => c.ok));
    assert.ok(analyseSignatures(parsed.evidence!).every((v) => v.valid));
  });
}

test('without the option nothing is asked; getEndpointInfo() by hand adds its signature, an unsigned answer none', async () => {
  const profile = makeDevice({ versions: [0x13] }).profile;
  const responder = new Responder(profile);
  const r = new Requester(new LoopbackTransport(responder), { clock: fixedClock() });
  const e = await r.authenticate();
  assert.equal(responder.stats.get(RequestCode.GET_ENDPOINT_INFO), undefined);
  assert.ok(!e.signatures.some((s) => s.kind === 'ENDPOINT_INFO'));
  await r.getEndpointInfo({ signed: false });
  assert.equal(r.evidence().signatures.length, e.signatures.length);
  await r.getEndpointInfo();
  assert.deepEqual(
    r.evidence().signatures.map((s) => s.kind),
    [...e.signatures.map((s) => s.kind), 'ENDPOINT_INFO'],
  );
});

test('a signed ENDPOINT_INFO inside a session names the session and is judged with the others', async () => {
  const profile = sessionDevice([0x13]);
  const r = new Requester(new LoopbackTransport(new Responder(profile), 0x10000, { securedBinding: 'doe' }), {
    versions: [0x13],
    capabilityFlags: SESSION_REQUESTER_FLAGS,
    session: {},
    pci: PCI,
    clock: fixedClock(),
  });
  await r.authenticate({ nonce: fromHex(SESSION_NONCE) });
  const s = await r.startSession();
  const ep = await s.getEndpointInfo();
  await s.end();
  const sid = `0x${s.sessionId.toString(16).padStart(8, '0')}`;
  assert.equal(ep.signature?.sessionId, sid);
  const e = viaJson(r.evidence());
  const rec = e.signatures.find((x) => x.kind === 'ENDPOINT_INFO');
  assert.equal(rec?.sessionId, sid);
  const parsed = parseEvidence(e);
  assert.deepEqual(parsed.problems, []);
  const views = analyseSignatures(parsed.evidence!);
  assert.ok(
    views.every((v) => v.valid),
    JSON.stringify(views.map((v) => v.problems)),
  );
  // In the session, over the same A as the connection's signatures.
  const vcas = new Set(views.map((v) => v.vca));
  assert.equal(vcas.size, 1);
});

test("authenticate({ session, endpointInfo }) asks ENDPOINT_INFO inside the session, over the run's nonce", async () => {
  const profile = sessionDevice([0x13]);
  const responder = new Responder(profile);
  // Every request the device saw in the clear: GET_ENDPOINT_INFO must not be among them.
  const clear: number[] = [];
  const transport = new LoopbackTransport(
    {
      handle: (req) => {
        clear.push(req[1]!);
        return responder.handle(req);
      },
      handleSecured: (rec) => responder.handleSecured(rec),
    },
    0x10000,
    { securedBinding: 'doe' },
  );
  const r = new Requester(transport, {
    versions: [0x13],
    capabilityFlags: SESSION_REQUESTER_FLAGS,
    session: {},
    pci: PCI,
    clock: fixedClock(),
  });
  const e = viaJson(await r.authenticate({ nonce: fromHex(SESSION_NONCE), session: {}, endpointInfo: true }));
  assert.equal(responder.stats.get(RequestCode.GET_ENDPOINT_INFO), 1);
  assert.ok(!clear.includes(RequestCode.GET_ENDPOINT_INFO), 'not asked in the clear');
  assert.deepEqual(r.lastSession?.ran.slice(0, 3), ['KEY_EXCHANGE', 'FINISH', 'GET_ENDPOINT_INFO']);
  const ep = e.signatures.find((x) => x.kind === 'ENDPOINT_INFO');
  assert.equal(
    ep?.sessionId,
    r.lastSession?.info.sessionId !== undefined ? sidHex(r.lastSession.info.sessionId) : 'none',
  );
  assert.equal(ep?.requesterNonce, SESSION_NONCE);
  const parsed = parseEvidence(e);
  assert.deepEqual(parsed.problems, []);
  assert.ok(reverifySignatures(parsed.evidence!).every((c) => c.ok));
  assert.ok(analyseSignatures(parsed.evidence!).every((v) => v.valid));
});

test('authenticate({ endpointInfo }) refuses a device that cannot sign one (no EP_INFO_SIG, or before 1.3) without asking', async () => {
  const base = makeDevice({ versions: [0x13] }).profile;
  const unsigned: DeviceProfile = {
    ...base,
    capabilities: { ...base.capabilities, flags: (base.capabilities.flags & ~F.EP_INFO_SIG) | F.EP_INFO_NO_SIG },
  };
  const responder = new Responder(unsigned);
  const r = new Requester(new LoopbackTransport(responder));
  await assert.rejects(r.authenticate({ endpointInfo: true }), isCode('UNSUPPORTED'));
  assert.equal(responder.stats.get(RequestCode.GET_ENDPOINT_INFO), undefined);
  await assert.rejects(
    collect(makeDevice({ versions: [0x12] }), { endpointInfo: true }),
    /GET_ENDPOINT_INFO needs SPDM 1.3/,
  );
});
