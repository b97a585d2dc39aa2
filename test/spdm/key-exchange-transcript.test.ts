/**
 * The KEY_EXCHANGE_RSP signed transcript split back into A, Ct, KEY_EXCHANGE and the response, on
 * a transcript the real requester recorded against the real emulator — and on every cut, every
 * extension and every one-byte change of it: a typed error or a split, never a crash.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { digest } from '../../src/crypto/hash.js';
import { concat, fromHex, toHex } from '../../src/wire/bytes.js';
import { isSpdmError } from '../../src/wire/errors.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import { splitKeyExchangeTranscript } from '../../src/spdm/key-exchange-transcript.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SignatureEvidence } from '../../src/evidence/evidence.js';
import { SUITES, device } from '../support/fixtures.js';

let sig: SignatureEvidence;
let chain: Uint8Array;
before(async () => {
  const base = device(SUITES[0]!).profile;
  const profile = {
    ...base,
    versions: [0x12],
    capabilities: { ...base.capabilities, flags: DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX },
    algorithms: { ...base.algorithms, dhe: [DheGroup.SECP256R1], aead: [AeadAlgo.AES_128_GCM] },
  };
  const requester = new Requester(new LoopbackTransport(new Responder(profile), 0x10000, { securedBinding: 'doe' }), {
    versions: [0x12],
    capabilityFlags: F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX,
    session: {},
  });
  await requester.connect();
  const s = await requester.startSession({ measurementSummaryHashType: 0xff });
  await s.end();
  assert.ok(s.signature, 'a KEY_EXCHANGE session carries its KEY_EXCHANGE_RSP signature');
  sig = s.signature;
  chain = fromHex(requester.evidence().slots[0]!.certChain);
});

test('a recorded KEY_EXCHANGE_RSP transcript splits into A, Ct, KEY_EXCHANGE and the response up to its signature', () => {
  const bytes = fromHex(sig.transcript);
  const t = splitKeyExchangeTranscript(bytes, sig.hashAlgo);
  assert.deepEqual(
    t.vca.map((st) => st.code),
    [
      RequestCode.GET_VERSION,
      ResponseCode.VERSION,
      RequestCode.GET_CAPABILITIES,
      ResponseCode.CAPABILITIES,
      RequestCode.NEGOTIATE_ALGORITHMS,
      ResponseCode.ALGORITHMS,
    ],
  );
  assert.equal(t.digests, undefined, 'no multi-key connection: no D');
  assert.equal(toHex(t.certChainHash), toHex(digest(sig.hashAlgo, chain)));
  assert.equal(t.keyExchangeOffset, t.vcaBytes.length + t.certChainHash.length);
  assert.equal(toHex(t.keyExchange.randomData), sig.requesterNonce);
  assert.equal(toHex(t.response.randomData), sig.responderNonce);
  // Summary hash type 0xFF asked: the response carries one, as recorded.
  assert.equal(t.keyExchange.measurementSummaryHashType, 0xff);
  assert.equal(toHex(t.response.measurementSummaryHash ?? new Uint8Array()), sig.measurementSummaryHash);
  assert.equal(t.responseOffset + t.response.raw.length, bytes.length);
});

test('every cut, an extra byte, and every one-byte change give a typed error or a split, never a crash', () => {
  const bytes = fromHex(sig.transcript);
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(
      () => splitKeyExchangeTranscript(bytes.subarray(0, n), sig.hashAlgo),
      (e: unknown) => isSpdmError(e),
      `cut at ${n}`,
    );
  }
  assert.throws(
    () => splitKeyExchangeTranscript(concat([bytes, Uint8Array.of(0)]), sig.hashAlgo),
    /1 bytes after the signed part of KEY_EXCHANGE_RSP/,
  );
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.slice();
    b[i] = b[i]! ^ 0xff;
    try {
      splitKeyExchangeTranscript(b, sig.hashAlgo);
    } catch (e) {
      assert.ok(isSpdmError(e), `byte ${i}: ${String(e)}`);
    }
  }
});
