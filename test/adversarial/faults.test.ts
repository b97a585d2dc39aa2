/**
 * The fault wrapper must itself be trustworthy, or a case could pass for the wrong reason: with no
 * fault it is invisible, and a re-signature of unchanged bytes with the slot key — what every
 * "validly signed" case builds on — verifies at every version, in both measurement modes, so a
 * failing case fails because of the one thing it changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { Responder } from '../../src/responder/responder.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { SimulatedDoeDevice } from '../../src/pci/doe-device.js';
import { openDoeTransport } from '../../src/pci/doe-transport.js';
import { unsignedPart } from '../../src/responder/faults/edit.js';
import {
  DOE_FAULT_TIMING,
  FaultyResponder,
  HOSTILE_CASES,
  HOSTILE_PCI,
  hostileIdentity,
  type Fault,
} from '../../src/responder/faults/index.js';
import type { Transport } from '../../src/transport/transport.js';

/** Re-signs every CHALLENGE_AUTH and signed MEASUREMENTS over the bytes as they are, with the slot key. */
const resignUnchanged: Fault = async (x) => {
  const signed =
    x.code === RequestCode.CHALLENGE || (x.code === RequestCode.GET_MEASUREMENTS && ((x.original[2] ?? 0) & 1) === 1);
  if (!signed) return undefined;
  const h = await x.honest();
  if (h[1] === ResponseCode.ERROR) return undefined;
  return x.resign(
    x.code === RequestCode.CHALLENGE ? 'CHALLENGE_AUTH' : 'MEASUREMENTS',
    unsignedPart(h, x.mirror.negotiated),
  );
};

async function authenticateAndVerify(
  transport: Transport,
  fired: () => number,
  versions: readonly number[],
  mode: 'all' | 'one-by-one',
) {
  const nonce = new Uint8Array(randomBytes(32));
  const evidence = await new Requester(transport, { pci: HOSTILE_PCI, versions }).authenticate({ nonce, mode });
  const verdict = verify(evidence, undefined, TrustStore.fromCertificates([hostileIdentity().root.certificate]), {
    expectedNonce: nonce,
  });
  return { evidence, verdict, fired: fired() };
}

for (const version of [0x10, 0x11, 0x12, 0x13]) {
  for (const mode of ['all', 'one-by-one'] as const) {
    test(`SPDM ${version >> 4}.${version & 0xf}, ${mode}: the wrapper without a fault is invisible, and re-signing unchanged bytes verifies`, async () => {
      const profile = hostileIdentity().profile;
      const key = profile.slots[0]!.privateKey;
      const clean = new FaultyResponder(new Responder(profile), key, () => undefined);
      const a = await authenticateAndVerify(new LoopbackTransport(clean), () => clean.fired, [version], mode);
      assert.equal(a.fired, 0);
      assert.equal(a.verdict.status, 'trusted', JSON.stringify(a.verdict.reasons));
      assert.equal(a.evidence.signatures.length, 2);

      const resigned = new FaultyResponder(new Responder(profile), key, resignUnchanged);
      const b = await authenticateAndVerify(new LoopbackTransport(resigned), () => resigned.fired, [version], mode);
      assert.equal(b.fired, 2, 'both signatures were made by the wrapper');
      assert.equal(b.verdict.status, 'trusted', JSON.stringify(b.verdict.reasons));
      assert.ok(b.verdict.checks.some((c) => c.code === 'SIGNATURES_VALID'));
      if (version >= 0x11)
        assert.ok(
          b.verdict.checks.some((c) => c.code === 'MEASUREMENT_SUMMARY_MATCH'),
          'the summary hash check ran and matched',
        );
    });
  }
}

test('the honest hostile device behind the DOE mailbox with the short fault-case timings authenticates and is trusted', async () => {
  const profile = hostileIdentity().profile;
  const clean = new FaultyResponder(new Responder(profile), profile.slots[0]!.privateKey, () => undefined);
  const transport = await openDoeTransport(new SimulatedDoeDevice({ handler: clean }), DOE_FAULT_TIMING);
  const r = await authenticateAndVerify(transport, () => clean.fired, [0x13], 'all');
  assert.equal(r.verdict.status, 'trusted', JSON.stringify(r.verdict.reasons));
});

test('case names are unique kebab-case and every case says what it does', () => {
  const names = HOSTILE_CASES.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, 'duplicate case names');
  for (const c of HOSTILE_CASES) {
    assert.match(c.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, c.name);
    assert.ok(c.description.length > 10 && !c.description.includes('\n'), c.name);
  }
  assert.ok(HOSTILE_CASES.length >= 60, `${HOSTILE_CASES.length} cases`);
});

test('controls for the timing cases: a huge CTExponent or one huge ResponseNotReady from a device that then answers is waited out, not refused', async () => {
  const { encodeResponseNotReady } = await import('../../src/spdm/messages/error.js');
  const profile = hostileIdentity().profile;
  const key = profile.slots[0]!.privateKey;
  // CTExponent 255 (2^255 µs) in CAPABILITIES, every answer prompt (and signed over the edited VCA).
  const hugeCt: Fault = async (x) => {
    if (x.code !== RequestCode.GET_CAPABILITIES) return resignUnchanged(x);
    const h = (await x.honest()).slice();
    h[5] = 255;
    return h;
  };
  const a = new FaultyResponder(new Responder(profile), key, hugeCt);
  const ra = await authenticateAndVerify(new LoopbackTransport(a), () => a.fired, [0x13], 'all');
  assert.equal(ra.evidence.capabilities.ctExponent, 255);
  assert.equal(ra.verdict.status, 'trusted');
  // One ResponseNotReady asking for 2^255 µs, then the answer: the wait is clamped, the flow succeeds.
  let asked = false;
  const once: Fault = async (x) => {
    if (x.code !== RequestCode.CHALLENGE || asked) return undefined;
    asked = true;
    return encodeResponseNotReady(0x13, { rdtExponent: 255, requestCode: RequestCode.CHALLENGE, token: 9, rdtm: 1 });
  };
  const b = new FaultyResponder(new Responder(profile), key, once);
  const nonce = new Uint8Array(randomBytes(32));
  const t0 = Date.now();
  const ev = await new Requester(new LoopbackTransport(b), {
    pci: HOSTILE_PCI,
    versions: [0x13],
    maxNotReadyWaitMs: 20,
  }).authenticate({ nonce });
  assert.ok(Date.now() - t0 < 5_000, 'the 2^255 µs wait was clamped');
  assert.equal(ev.signatures.length, 2);
});
