/**
 * SPDM 1.4 LargeCertChain: a certificate chain over 64 KiB (the 1.0–1.3 16-bit Length maximum)
 * read with GET_CERTIFICATE's u32 Offset/Length form when the device sets LARGE_RESP_CAP, as
 * libspdm's requester does; the device answers the 16-bit form for such a chain with
 * DataTooLarge and its size (libspdm's responder). The chain goes into the evidence, re-verifies,
 * is trusted by the verifier and is stored and re-verified by the signature log. The requester
 * reads at most LIMITS.largeCertChainBytes. Real requester against the real in-process emulator.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { fromHex } from '../../src/wire/bytes.js';
import { SpdmError } from '../../src/wire/errors.js';
import { LIMITS } from '../../src/wire/limits.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import { createCertificate } from '../../src/x509/generate.js';
import { compilePolicy } from '../../src/verifier/policy.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { verify } from '../../src/verifier/verify.js';
import { openLog } from '../../src/log/log.js';
import { ASYM, fixedClock, makeDevice, NOT_AFTER, NOT_BEFORE, NOW, tempDir, viaJson } from '../verifier/helpers.js';

/** A device whose leaf carries `padding` bytes of a private, non-critical extension: the chain grows past 64 KiB. */
function bigChainDevice(padding: number, flags: number): { profile: DeviceProfile; chainBytes: number } {
  const d = makeDevice({ versions: [0x14], san: null });
  const leaf = createCertificate({
    issuer: d.intermediate,
    asymId: ASYM,
    commonName: 'Acme X100',
    ca: false,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    customize: (tbs) => {
      tbs.extensions?.push(
        new Extension({
          extnID: '1.3.6.1.4.1.55555.1',
          critical: false,
          extnValue: new OctetString(new Uint8Array(padding).fill(0x5a)),
        }),
      );
    },
  });
  const certificates = [d.root.certificate, d.intermediate.certificate, leaf.certificate];
  return {
    profile: {
      ...d.profile,
      capabilities: { ...d.profile.capabilities, flags },
      slots: [{ slot: 0, certificates, privateKey: leaf.privateKey, asymId: ASYM, certModel: 1 }],
    },
    chainBytes: certificates.reduce((n, c) => n + c.length, 0),
  };
}

/** The responder, every GET_CERTIFICATE it was sent kept, its CERTIFICATE responses passed through `edit`. */
function recording(profile: DeviceProfile, edit: (r: Uint8Array) => Uint8Array = (r) => r) {
  const responder = new Responder(profile);
  const requests: Uint8Array[] = [];
  const handler: SpdmHandler = {
    handle: async (r) => {
      if (r[1] === RequestCode.GET_CERTIFICATE) requests.push(r.slice());
      const resp = await responder.handle(r);
      return resp[1] === 0x02 ? edit(resp) : resp;
    },
  };
  return { handler, requests };
}

const run = (handler: SpdmHandler) =>
  new Requester(new LoopbackTransport(handler, 0x10000), { versions: [0x14], clock: fixedClock() }).authenticate();

const LARGE_FLAGS = DEFAULT_RESPONDER_FLAGS | F.LARGE_RESP;
const big = bigChainDevice(100_000, LARGE_FLAGS);
const tmp = tempDir();
after(() => tmp.cleanup());

test('a 100 KB chain at SPDM 1.4 with LARGE_RESP_CAP: read with LargeCertChain, in the evidence, re-verified and trusted', async () => {
  assert.ok(big.chainBytes > 0x10000);
  const rec = recording(big.profile);
  const ev = await run(rec.handler);
  // Every GET_CERTIFICATE used the large form: Param1 bit 7, u32 Offset/Length at 8 and 12.
  assert.ok(rec.requests.length > 1);
  for (const r of rec.requests) {
    assert.equal(r[2]! & 0x80, 0x80);
    assert.equal(r.length, 16);
  }
  const chain = fromHex(ev.slots[0]!.certChain);
  assert.ok(chain.length > 0x10000);
  // The 1.4 chain header: a u32 Length covering the whole structure.
  assert.equal(Buffer.from(chain).readUInt32LE(0), chain.length);
  assert.equal(ev.slots[0]!.certificates.length, 3);
  assert.ok(reverifySignatures(viaJson(ev)).every((c) => c.ok));
  const verdict = verify(
    viaJson(ev),
    compilePolicy({ version: 1, rules: { cmaSan: 'off' } }),
    TrustStore.fromCertificates([makeDevice().root.certificate]),
    { now: NOW },
  );
  assert.equal(verdict.status, 'trusted', JSON.stringify(verdict.reasons));

  const log = await openLog(join(tmp.dir, 'log.sqlite'));
  try {
    await log.appendEvidence(ev);
    const report = await log.verify({ workers: 0 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.signaturesValid, ev.signatures.length);
  } finally {
    await log.close();
  }
});

test('without LARGE_RESP_CAP the device answers the 16-bit GET_CERTIFICATE with DataTooLarge and the chain size', async () => {
  const d = bigChainDevice(100_000, DEFAULT_RESPONDER_FLAGS);
  const rec = recording(d.profile);
  await assert.rejects(run(rec.handler), (e: unknown) => e instanceof SpdmError && /DataTooLarge/.test(e.message));
  assert.equal(rec.requests[0]![2]! & 0x80, 0);
  // The DataTooLarge ERROR carries the size as ExtendedErrorData.
  const responder = new Responder(d.profile);
  const r = new Requester(
    new LoopbackTransport(
      {
        handle: async (q) => {
          const a = await responder.handle(q);
          if (q[1] === RequestCode.GET_CERTIFICATE) {
            assert.deepEqual([a[1], a[2]], [0x7f, 0x12]);
            assert.equal(Buffer.from(a).readUInt32LE(4), d.chainBytes + 4 + 32);
          }
          return a;
        },
      },
      0x10000,
    ),
    { versions: [0x14], clock: fixedClock() },
  );
  await assert.rejects(r.authenticate());
});

test('a CERTIFICATE in the other form than asked is refused', async () => {
  // A small chain, a device without LARGE_RESP_CAP: the 16-bit form is asked, the large form comes back.
  const d = makeDevice({ versions: [0x14], san: null });
  const rec = recording(d.profile, (resp) => {
    const b = Buffer.from(resp);
    const out = Buffer.alloc(b.length + 8);
    b.copy(out, 0, 0, 4);
    out[2] = out[2]! | 0x80;
    out.writeUInt32LE(b.readUInt16LE(4), 8);
    out.writeUInt32LE(b.readUInt16LE(6), 12);
    b.copy(out, 16, 8);
    return new Uint8Array(out);
  });
  await assert.rejects(
    run(rec.handler),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNEXPECTED_RESPONSE' && /LargeCertChain/.test(e.message),
  );
  assert.equal(rec.requests[0]![2]! & 0x80, 0);
});

test('a chain over LIMITS.largeCertChainBytes is refused from its first portion, not read', async () => {
  const huge = bigChainDevice(LIMITS.largeCertChainBytes, LARGE_FLAGS);
  const rec = recording(huge.profile);
  await assert.rejects(
    run(rec.handler),
    (e: unknown) => e instanceof SpdmError && e.code === 'CERT_CHAIN_INVALID' && /exceeds 1048576/.test(e.message),
  );
  assert.equal(rec.requests.length, 1);
});
