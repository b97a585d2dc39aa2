/**
 * A device without a certificate (PUB_KEY_ID_CAP): the requester is given the device's public key
 * out of band and names SlotID 0xFF in CHALLENGE, GET_MEASUREMENTS and KEY_EXCHANGE, sending no
 * GET_DIGESTS or GET_CERTIFICATE. CertChainHash and Ct are then Hash(DER SubjectPublicKeyInfo)
 * (libspdm), the evidence records that key so that the signatures re-verify offline, the verifier
 * trusts it only when the policy lists it, and the signature log re-verifies its entries with it.
 * Real requester against the real in-process emulator throughout.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Evidence } from '../../src/evidence/evidence.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { digest } from '../../src/crypto/hash.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { SpdmError } from '../../src/wire/errors.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { splitKeyExchangeTranscript } from '../../src/spdm/key-exchange-transcript.js';
import { splitTranscript } from '../../src/spdm/signed-transcript.js';
import { buildProfile, PUBLIC_KEY_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import { profileFromJson } from '../../src/responder/profile-file.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import type { RequesterOptions } from '../../src/requester/options.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import { compilePolicy } from '../../src/verifier/policy.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { verify } from '../../src/verifier/verify.js';
import { openLog } from '../../src/log/log.js';
import { deviceSignature } from '../../src/cma/signature-view.js';
import { codes, edited, fixedClock, NOW, tempDir, viaJson } from '../verifier/helpers.js';

const ASYM = 0x0010; // ECDSA P-256: quick to generate
const HASH = 0x01;
const NONCE = 'a7'.repeat(32);

function keyDevice(versions: number[], session = false) {
  const built = buildProfile({ name: 'keyed', versions, asymId: ASYM, hashId: HASH, provisionedKey: true });
  const profile: DeviceProfile = session
    ? {
        ...built.profile,
        capabilities: {
          ...built.profile.capabilities,
          flags: PUBLIC_KEY_RESPONDER_FLAGS | F.KEY_EX | F.ENCRYPT | F.MAC,
        },
        algorithms: { ...built.profile.algorithms, dhe: [DheGroup.SECP256R1], aead: [AeadAlgo.AES_256_GCM] },
      }
    : built.profile;
  return { profile, publicKey: built.publicKey };
}

/** The responder, with every request code it was sent recorded. */
function recording(profile: DeviceProfile): { handler: SpdmHandler; codes: number[] } {
  const responder = new Responder(profile, { securedBinding: 'doe' });
  const seen: number[] = [];
  const handler: SpdmHandler = {
    handle: (r) => {
      seen.push(r[1] ?? 0);
      return responder.handle(r);
    },
    handleSecured: (r) => responder.handleSecured(r),
  };
  return { handler, codes: seen };
}

function requester(handler: SpdmHandler, version: number, o: Partial<RequesterOptions> = {}): Requester {
  return new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: 'doe' }), {
    versions: [version],
    clock: fixedClock(),
    ...o,
  });
}

const otherKey = () =>
  new Uint8Array(
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }),
  );
const fingerprint = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');
const noAnchors = () => TrustStore.fromCertificates([]);

const tmp = tempDir();
after(() => tmp.cleanup());

for (const version of [0x11, 0x12, 0x13]) {
  test(`SPDM ${version.toString(16)}: slot 0xFF — no GET_DIGESTS/GET_CERTIFICATE, CertChainHash = Hash(SPKI), signatures re-verify with the recorded key`, async () => {
    const d = keyDevice([version]);
    const rec = recording(d.profile);
    const ev = await requester(rec.handler, version, { devicePublicKey: d.publicKey }).authenticate({
      nonce: fromHex(NONCE),
    });
    assert.ok(!rec.codes.includes(RequestCode.GET_DIGESTS) && !rec.codes.includes(RequestCode.GET_CERTIFICATE));
    assert.ok(rec.codes.includes(RequestCode.CHALLENGE) && rec.codes.includes(RequestCode.GET_MEASUREMENTS));
    assert.equal(ev.publicKey, toHex(d.publicKey));
    assert.deepEqual(ev.slots, []);
    assert.deepEqual(
      ev.signatures.map((s) => [s.kind, s.slot, s.verified]),
      [
        ['CHALLENGE_AUTH', 0xff, true],
        ['MEASUREMENTS', 0xff, true],
      ],
    );
    // CHALLENGE_AUTH: ResponseAttributes slot 0xF, SlotMask 0, CertChainHash the hash of the key (libspdm).
    const auth = splitTranscript(fromHex(ev.signatures[0]!.transcript), HASH).at(-1)!.msg.raw;
    assert.equal(auth[1], 0x03);
    assert.equal(auth[2]! & 0x0f, 0x0f);
    assert.equal(auth[3], 0);
    assert.equal(toHex(auth.subarray(4, 36)), toHex(digest(HASH, d.publicKey)));
    assert.ok(reverifySignatures(viaJson(ev)).every((c) => c.ok));
  });
}

test('the wrong public key is refused at CHALLENGE_AUTH, a key of another algorithm before anything is signed', async () => {
  const d = keyDevice([0x12]);
  await assert.rejects(
    requester(recording(d.profile).handler, 0x12, { devicePublicKey: otherKey() }).authenticate(),
    (e: unknown) => e instanceof SpdmError && e.code === 'DIGEST_MISMATCH',
  );
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  const rec = recording(d.profile);
  await assert.rejects(
    requester(rec.handler, 0x12, { devicePublicKey: rsa }).authenticate(),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
  );
  assert.ok(!rec.codes.includes(RequestCode.CHALLENGE));
  // A private key is not a public key to record.
  assert.throws(
    () =>
      requester(rec.handler, 0x12, {
        devicePublicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
      }),
    /must be a public key/,
  );
  assert.throws(
    () => requester(rec.handler, 0x12, { devicePublicKey: new Uint8Array([0x30, 0x03, 1, 2, 3]) }),
    /SubjectPublicKeyInfo/,
  );
});

test('a key given for a device with certificates, or none given for a device with only a key, is refused', async () => {
  const certDevice = buildProfile({ name: 'certs', versions: [0x12], asymId: ASYM, hashId: HASH });
  await assert.rejects(
    requester(recording(certDevice.profile).handler, 0x12, { devicePublicKey: certDevice.publicKey }).authenticate(),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED' && /PUB_KEY_ID_CAP clear/.test(e.message),
  );
  const d = keyDevice([0x12]);
  await assert.rejects(
    requester(recording(d.profile).handler, 0x12).authenticate(),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED' && /devicePublicKey/.test(e.message),
  );
});

test('a KEY_EXCHANGE session with slot 0xFF: Ct = Hash(SPKI) and no D in the signed transcript; it re-verifies', async () => {
  const d = keyDevice([0x13], true);
  const r = requester(recording(d.profile).handler, 0x13, {
    devicePublicKey: d.publicKey,
    capabilityFlags: F.KEY_EX | F.ENCRYPT | F.MAC,
    session: {},
  });
  const ev = await r.authenticate({ nonce: fromHex(NONCE), session: {} });
  assert.deepEqual(r.lastSession?.ran, ['KEY_EXCHANGE', 'FINISH', 'GET_MEASUREMENTS', 'END_SESSION']);
  const kx = ev.signatures.find((s) => s.kind === 'KEY_EXCHANGE_RSP');
  assert.ok(kx);
  assert.equal(kx.slot, 0xff);
  const t = splitKeyExchangeTranscript(fromHex(kx.transcript), HASH);
  assert.equal(t.digests, undefined);
  assert.equal(t.keyExchange.slot, 0xff);
  assert.equal(toHex(t.certChainHash), toHex(digest(HASH, d.publicKey)));
  assert.ok(reverifySignatures(viaJson(ev)).every((c) => c.ok));
  const policy = compilePolicy({ version: 1, trustedPublicKeys: [toHex(d.publicKey)] });
  const verdict = verify(viaJson(ev), policy, noAnchors(), { now: NOW, expectedNonce: NONCE });
  assert.deepEqual(codes(verdict), []);
  assert.equal(verdict.status, 'trusted');
});

test('the verifier trusts a slot 0xFF device only when the policy names its key, and refuses tampered evidence', async () => {
  const d = keyDevice([0x12]);
  const ev = await requester(recording(d.profile).handler, 0x12, { devicePublicKey: d.publicKey }).authenticate({
    nonce: fromHex(NONCE),
  });
  const judge = (doc: unknown, trusted: unknown[]) =>
    verify(doc, compilePolicy({ version: 1, trustedPublicKeys: trusted }), noAnchors(), {
      now: NOW,
      expectedNonce: NONCE,
    });
  const byDer = judge(viaJson(ev), [toHex(d.publicKey)]);
  assert.equal(byDer.status, 'trusted', JSON.stringify(byDer.reasons));
  assert.ok(byDer.checks.some((c) => c.code === 'PUBLIC_KEY_TRUSTED'));
  assert.equal(judge(viaJson(ev), [`sha256:${fingerprint(d.publicKey)}`]).status, 'trusted');

  const unlisted = judge(viaJson(ev), [`sha256:${fingerprint(otherKey())}`]);
  assert.equal(unlisted.status, 'untrusted');
  assert.deepEqual(codes(unlisted), ['PUBLIC_KEY_UNTRUSTED']);
  assert.deepEqual(codes(verify(viaJson(ev), undefined, noAnchors(), { now: NOW })), ['PUBLIC_KEY_UNTRUSTED']);

  // Another key put in the evidence (and trusted by the policy): the signatures no longer verify with it.
  const swapped = otherKey();
  const forged = judge(
    edited(ev, (doc) => void (doc['publicKey'] = toHex(swapped))),
    [toHex(swapped)],
  );
  assert.equal(forged.status, 'untrusted');
  assert.ok(codes(forged).includes('SIGNATURE_INVALID'), JSON.stringify(forged.reasons));
  // No key at all: nothing to verify the slot 0xFF signatures with.
  const keyless = judge(
    edited(ev, (doc) => void delete doc['publicKey']),
    [toHex(d.publicKey)],
  );
  assert.equal(keyless.status, 'untrusted');
  assert.ok(codes(keyless).includes('CHAIN_UNTRUSTED'));
  // A signed measurement changed after signing.
  const m = ev.measurements[0]!;
  const altered = judge(
    edited(ev, (doc) => {
      const t = doc.signatures[1]!['transcript'] as string;
      doc.signatures[1]!['transcript'] = t.replace(
        m.value,
        m.value.replace(/^../, (x) => (x === '00' ? '01' : '00')),
      );
    }),
    [toHex(d.publicKey)],
  );
  assert.equal(altered.status, 'untrusted');
  assert.ok(codes(altered).includes('SIGNATURE_INVALID'));
  // Hostile keys: not hex, not a SubjectPublicKeyInfo — refused with a reason, never a throw.
  assert.deepEqual(
    codes(
      judge(
        edited(ev, (doc) => void (doc['publicKey'] = 'zz')),
        [],
      ),
    ),
    ['MALFORMED_EVIDENCE'],
  );
  const garbage = judge(
    edited(ev, (doc) => void (doc['publicKey'] = '3003010203')),
    [],
  );
  assert.equal(garbage.status, 'untrusted');
  assert.ok(codes(garbage).includes('SIGNATURE_INVALID'));
  assert.throws(() => compilePolicy({ version: 1, trustedPublicKeys: ['3003010203'] }), /SubjectPublicKeyInfo/);
});

test('the signature log stores the key like a chain, re-verifies slot 0xFF entries with it, and notices an altered key', async () => {
  const d = keyDevice([0x13]);
  const ev = await requester(recording(d.profile).handler, 0x13, { devicePublicKey: d.publicKey }).authenticate();
  const file = join(tmp.dir, 'log.sqlite');
  const log = await openLog(file);
  try {
    const { first, count } = await log.appendEvidence(ev);
    assert.equal(count, 2);
    const e = await log.entry(first);
    assert.equal(e.slot, 0xff);
    assert.equal(toHex(e.chainDigest!), fingerprint(d.publicKey));
    const report = await log.verify({ workers: 0 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.signaturesValid, 2);
  } finally {
    await log.close();
  }
  const db = new Database(file);
  db.prepare('UPDATE chains SET chain = ?').run(Buffer.from(otherKey()));
  db.close();
  const again = await openLog(file, { readOnly: true });
  try {
    const report = await again.verify({ workers: 0 });
    assert.equal(report.ok, false);
    assert.ok(report.signaturesValid < 2, JSON.stringify(report.problems));
  } finally {
    await again.close();
  }
  // The CMA signature view carries the key the signature verifies with.
  const view = deviceSignature('0000:03:00.0', ev, ev.signatures[0]!, 0, '');
  assert.equal(view.slot, 0xff);
  assert.equal(view.publicKey, toHex(d.publicKey));
});

test('profile file: "provisionedKey" makes a certificate-less device (PUB_KEY_ID) and checks the public key file', async () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(join(tmp.dir, 'rsp.key'), pair.privateKey.export({ type: 'sec1', format: 'pem' }));
  writeFileSync(join(tmp.dir, 'rsp.key.der'), pair.privateKey.export({ type: 'sec1', format: 'der' }));
  const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
  writeFileSync(join(tmp.dir, 'rsp.pub.der'), spki);
  writeFileSync(join(tmp.dir, 'other.pub.der'), otherKey());
  const profile = profileFromJson(
    {
      versions: ['1.2'],
      hash: 'SHA-256',
      provisionedKey: { asym: 'ECDSA-P256', privateKey: 'rsp.key.der', publicKey: 'rsp.pub.der' },
    },
    tmp.dir,
  );
  assert.deepEqual(profile.slots, []);
  assert.equal(profile.capabilities.flags & (F.PUB_KEY_ID | F.CERT), F.PUB_KEY_ID);
  const ev: Evidence = await requester(recording(profile).handler, 0x12, { devicePublicKey: spki }).authenticate();
  assert.ok(ev.signatures.every((s) => s.slot === 0xff && s.verified));
  assert.throws(
    () =>
      profileFromJson(
        { provisionedKey: { asym: 'ECDSA-P256', privateKey: 'rsp.key', publicKey: 'other.pub.der' } },
        tmp.dir,
      ),
    /not the public half/,
  );
  assert.throws(
    () => profileFromJson({ provisionedKey: { asym: 'ECDSA-P384', privateKey: 'rsp.key' } }, tmp.dir),
    /does not match the algorithm/,
  );
  assert.throws(
    () =>
      profileFromJson(
        { capabilities: ['CERT', 'CHAL'], provisionedKey: { asym: 'ECDSA-P256', privateKey: 'rsp.key' } },
        tmp.dir,
      ),
    /needs PUB_KEY_ID/,
  );
});

test('signed ENDPOINT_INFO with slot 0xFF (1.3): 0xF on the wire, signed with the provisioned key; another key is refused', async () => {
  const d = keyDevice([0x13]);
  const profile: DeviceProfile = {
    ...d.profile,
    capabilities: { ...d.profile.capabilities, flags: PUBLIC_KEY_RESPONDER_FLAGS | F.EP_INFO_SIG },
  };
  const r = requester(recording(profile).handler, 0x13, { devicePublicKey: d.publicKey });
  await r.connect();
  const info = await r.getEndpointInfo({ slot: 0xff });
  assert.equal(info.signature?.slot, 0xff);
  assert.equal(info.signature?.verified, true);
  // IL: A ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO, each naming SlotID 0xF in Param2.
  const il = fromHex(info.signature.transcript);
  // GET_ENDPOINT_INFO is 40 bytes when signed; ENDPOINT_INFO without its signature 44 + EPInfo.
  const rsp = il.length - (44 + info.epInfo.length);
  const get = rsp - 40;
  assert.equal(il[get + 1], RequestCode.GET_ENDPOINT_INFO);
  assert.equal(il[get + 3], 0x0f, 'GET_ENDPOINT_INFO Param2: SlotID 0xF');
  assert.equal(il[rsp + 3], 0x0f, 'ENDPOINT_INFO Param2: SlotID 0xF');
  const wrong = requester(recording(profile).handler, 0x13, { devicePublicKey: otherKey() });
  await wrong.connect();
  await assert.rejects(wrong.getEndpointInfo({ slot: 0xff }), (e) => e instanceof SpdmError);
  const none = requester(recording(profile).handler, 0x13);
  await none.connect().catch(() => undefined);
  await assert.rejects(none.getEndpointInfo({ slot: 0xff }), TypeError);
});
