/**
 * SET_CERTIFICATE with a chain over 64 KiB (SPDM 1.4). The request has no length field of its own
 * (the SPDM chain, with its 1.4 u32 Length, is the rest of the message), so there is no large
 * form: the message goes in CHUNK_SEND pieces, the device needs LARGE_RESP_CAP (libspdm's
 * responder: InvalidRequest without) and reads the chain back with LargeCertChain. The requester
 * refuses before sending what the device cannot take; the emulator refuses a chain whose Length
 * lies. Real requester against the real emulator in-process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { SpdmError } from '../../src/wire/errors.js';
import { toHex } from '../../src/wire/bytes.js';
import { LIMITS } from '../../src/wire/limits.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { encodeSetCertificate } from '../../src/spdm/messages/set-certificate.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { encodeSpdmCertChain } from '../../src/x509/spdm-chain.js';
import { createCertificate, createDeviceChain } from '../../src/x509/generate.js';
import { SUITES, device } from '../support/fixtures.js';

const P384 = SUITES[1]!;
const MSG = 0x30000;
const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.SET_CERT | F.CHUNK | F.LARGE_RESP;
const REQ_FLAGS = F.CERT | F.CHAL | F.CHUNK;

function profile(flags = RSP_FLAGS, versions = [0x14]): DeviceProfile {
  const base = device(P384).profile;
  return {
    ...base,
    versions,
    capabilities: { ...base.capabilities, flags, dataTransferSize: 0x1200, maxSpdmMsgSize: MSG },
  };
}

/** A new chain for the device's slot-0 key, its leaf padded with `padding` bytes of a private extension. */
function paddedChain(padding: number): Uint8Array[] {
  const key = device(P384).profile.slots[0]!.privateKey;
  const c = createDeviceChain({ asymId: P384.asymId, names: { leaf: 'unused' } });
  const leaf = createCertificate({
    issuer: c.intermediate,
    asymId: P384.asymId,
    commonName: 'reprovisioned large device',
    ca: false,
    keyPair: { privateKey: key, publicKey: createPublicKey(key) },
    customize: (tbs) => {
      tbs.extensions?.push(
        new Extension({
          extnID: '1.3.6.1.4.1.55555.3',
          critical: false,
          extnValue: new OctetString(new Uint8Array(padding).fill(0x3c)),
        }),
      );
    },
  });
  return [c.root.certificate, c.intermediate.certificate, leaf.certificate];
}

function requester(responder: Responder, version = 0x14) {
  return new Requester(new LoopbackTransport(responder, 0x10000), {
    versions: [version],
    capabilityFlags: REQ_FLAGS,
    dataTransferSize: 0x1200,
    maxSpdmMsgSize: MSG,
  });
}

const isCode = (code: string, message?: RegExp) => (e: unknown) =>
  e instanceof SpdmError && e.code === code && (!message || message.test(e.message));

const big = paddedChain(100_000);

test('SET_CERTIFICATE of a 100 KB chain at 1.4: sent in CHUNK_SEND pieces, read back with LargeCertChain on the next connection', async () => {
  const responder = new Responder(profile());
  const r = requester(responder);
  await r.connect();
  await r.setCertificate({ slot: 0, certificates: big });
  const expected = encodeSpdmCertChain(0x14, r.connection.hashId, big);
  assert.ok(expected.length > 0x10000);
  const sends = responder.stats.get(RequestCode.CHUNK_SEND) ?? 0;
  assert.ok(sends >= Math.ceil(expected.length / 0x1200), `${sends} CHUNK_SEND`);
  // A new connection to the same device: DIGESTS and CERTIFICATE answer with the new chain.
  const again = requester(responder);
  const evidence = await again.authenticate();
  assert.equal(evidence.slots[0]!.certChain, toHex(expected));
  assert.ok(evidence.signatures.every((s) => s.verified));
});

test('a chain over 64 KiB: refused before sending without the device LARGE_RESP_CAP, and by the device if sent anyway', async () => {
  const responder = new Responder(profile(RSP_FLAGS & ~F.LARGE_RESP));
  const r = requester(responder);
  await r.connect();
  await assert.rejects(r.setCertificate({ slot: 0, certificates: big }), isCode('UNSUPPORTED', /LARGE_RESP_CAP/));
  assert.equal(responder.stats.get(RequestCode.CHUNK_SEND) ?? 0, 0);
  // The same request straight to the emulator (no chunking needed in-process): InvalidRequest, as libspdm.
  const chain = encodeSpdmCertChain(0x14, r.connection.hashId, big);
  const answer = await responder.handle(encodeSetCertificate(0x14, { slot: 0, certChain: chain }));
  assert.deepEqual([answer[1], answer[2]], [0x7f, 0x01]);
});

test('a chain over LIMITS.largeCertChainBytes is refused before sending (LIMIT_EXCEEDED)', async () => {
  const responder = new Responder(profile());
  const r = requester(responder);
  await r.connect();
  await assert.rejects(
    r.setCertificate({ slot: 0, certificates: paddedChain(LIMITS.largeCertChainBytes) }),
    isCode('LIMIT_EXCEEDED', /largeCertChainBytes|1048576/),
  );
  assert.equal(responder.stats.get(RequestCode.CHUNK_SEND) ?? 0, 0);
});

test('SPDM 1.3 cannot express a chain over 64 KiB: ENCODE_ERROR before sending', async () => {
  const responder = new Responder(profile(RSP_FLAGS, [0x13]));
  const r = requester(responder, 0x13);
  await r.connect();
  await assert.rejects(r.setCertificate({ slot: 0, certificates: big }), isCode('ENCODE_ERROR'));
  assert.equal(responder.stats.get(RequestCode.CHUNK_SEND) ?? 0, 0);
});

test('the emulator refuses a SET_CERTIFICATE whose chain Length says more than the message carries, and keeps its slot', async () => {
  const responder = new Responder(profile());
  const r = requester(responder);
  await r.connect();
  const chain = encodeSpdmCertChain(0x14, r.connection.hashId, big);
  // Length names 16 bytes more than follow.
  const lying = chain.slice();
  Buffer.from(lying.buffer).writeUInt32LE(chain.length + 16, 0);
  const answer = await responder.handle(encodeSetCertificate(0x14, { slot: 0, certChain: lying }));
  assert.deepEqual([answer[1], answer[2]], [0x7f, 0x01]);
  const evidence = await requester(responder).authenticate();
  const original = device(P384).certificates;
  assert.equal(evidence.slots[0]!.certificates.length, original.length);
});
