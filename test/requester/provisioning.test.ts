/**
 * Provisioning and the rest of SPDM 1.3, requester against the real emulator in-process: GET_CSR,
 * SET_CERTIFICATE, key-pair information, ENDPOINT_INFO (signed and not) and the measurement
 * extension log with its paging — and devices that lie about them (through the fault wrapper).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpdmError } from '../../src/wire/errors.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { spdmVerify } from '../../src/crypto/signature.js';
import { digest } from '../../src/crypto/hash.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { checkCsrSignature, commonNameSubject } from '../../src/x509/csr.js';
import { encodeSequence, encodeTlv, Tag } from '../../src/x509/der.js';
import { createDeviceChain, generateKeyPair, identityPublicKey } from '../../src/x509/generate.js';
import { Responder } from '../../src/responder/responder.js';
import { FaultyResponder, type Fault } from '../../src/responder/faults/wrapper.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { CapabilityFlag } from '../../src/spdm/messages/capabilities.js';
import { KeyPairAsymAlgo, KeyUsage } from '../../src/spdm/messages/key-pair-info.js';
import { encodeDmtfMel, encodeMeasurementExtensionLog } from '../../src/spdm/messages/mel.js';
import { DmtfMeasurementType } from '../../src/spdm/messages/measurement-block.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import type { RequesterOptions } from '../../src/requester/options.js';
import { SUITES, device, pair, variant } from '../support/fixtures.js';

const P384 = SUITES[1]!;

function v13(profile: DeviceProfile = device(P384).profile): DeviceProfile {
  return variant(profile, { versions: [0x13] });
}

/** The device only offers multi-key connections: requests name key pairs and certificate models. */
function multiKeyOnly(profile: DeviceProfile): DeviceProfile {
  return variant(profile, {
    flags: (profile.capabilities.flags & ~CapabilityFlag.MULTI_KEY_NEG) | CapabilityFlag.MULTI_KEY_ONLY,
  });
}

async function connected(profile: DeviceProfile, options: RequesterOptions = {}) {
  const { requester, responder } = pair(profile, options);
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  return { requester, responder };
}

function isDeviceError(name: string) {
  return (e: unknown) => e instanceof SpdmError && e.code === 'DEVICE_ERROR' && e.details['errorName'] === name;
}

function isCode(code: string, message?: RegExp) {
  return (e: unknown) => e instanceof SpdmError && e.code === code && (!message || message.test(e.message));
}

function pem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

test('GET_CSR: a PKCS#10 request over the slot key, subject from the leaf, verified by node and by openssl', async () => {
  const built = device(P384);
  const { requester } = await connected(v13());
  const { der, csr } = await requester.getCsr();
  const leaf = parseCertificate(built.certificates.at(-1)!);
  // The CSR names the device's own key and is signed with it.
  assert.equal(toHex(csr.spki), toHex(leaf.spki));
  assert.equal(checkCsrSignature(csr, leaf.publicKey), undefined);
  assert.equal(toHex(csr.subjectDer), toHex(leaf.subjectDer));
  // Another key does not verify it.
  assert.notEqual(checkCsrSignature(csr, generateKeyPair(P384.asymId).publicKey), undefined);
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-csr-'));
  try {
    writeFileSync(join(dir, 'csr.pem'), pem('CERTIFICATE REQUEST', der));
    const out = execFileSync('openssl', ['req', '-in', join(dir, 'csr.pem'), '-verify', '-noout'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.equal(out.trim(), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GET_CSR: RequesterInfo gives the subject and attributes; a malformed one is refused', async () => {
  const { requester } = await connected(v13());
  const subject = commonNameSubject('provisioned by the test');
  const someKey = new Uint8Array(
    createPublicKey(generateKeyPair(0x0010).privateKey).export({ type: 'spki', format: 'der' }),
  );
  const info = encodeSequence(encodeTlv(Tag.INTEGER, Uint8Array.of(0)), subject, someKey, encodeTlv(0xa0));
  const { csr } = await requester.getCsr({ requesterInfo: info });
  assert.equal(toHex(csr.subjectDer), toHex(subject));
  // The device's key, not the one the requester put in its info.
  assert.notEqual(toHex(csr.spki), toHex(someKey));
  await assert.rejects(
    requester.getCsr({ requesterInfo: info.subarray(0, info.length - 1) }),
    isDeviceError('InvalidRequest'),
  );
});

test('GET_CSR on a multi-key connection names the key pair; an unknown one is refused', async () => {
  const { requester } = await connected(multiKeyOnly(v13()));
  assert.equal(requester.connection.multiKeyConn, true);
  const { csr } = await requester.getCsr({ keyPairId: 1, certModel: 1 });
  assert.equal(checkCsrSignature(csr), undefined);
  await assert.rejects(requester.getCsr({ keyPairId: 7, certModel: 1 }), isDeviceError('InvalidRequest'));
  await assert.rejects(requester.getCsr(), /multi-key connection needs keyPairId/);
});

test('SET_CERTIFICATE: the new chain is what DIGESTS and GET_CERTIFICATE answer, across connections, and CHALLENGE verifies with it', async () => {
  const built = device(P384);
  const key = built.profile.slots[0]!.privateKey;
  const fresh = createDeviceChain({
    asymId: P384.asymId,
    names: { leaf: 'reprovisioned device' },
    keyPairs: { leaf: { privateKey: key, publicKey: createPublicKey(key) } },
  });
  // In the clear, only slot 0 may be provisioned, unless the device is in a trusted environment.
  const strict = await connected(v13());
  await assert.rejects(
    strict.requester.setCertificate({ slot: 1, certificates: fresh.certificates }),
    isDeviceError('UnexpectedRequest'),
  );
  await strict.requester.setCertificate({ slot: 0, certificates: built.certificates });
  const { requester, responder } = await connected({ ...v13(), provisioning: { trustedEnvironment: true } });
  await requester.setCertificate({ slot: 1, certificates: fresh.certificates });
  for (let round = 0; round < 2; round++) {
    // A new GET_VERSION is a new connection, not a new device: the provisioned slot stays.
    await requester.connect();
    const digests = await requester.getDigests();
    assert.deepEqual(
      digests.map((d) => d.slot),
      [0, 1],
    );
    const chain = await requester.getCertificateChain(1);
    const expected = parseCertificate(fresh.certificates.at(-1)!);
    assert.equal(toHex(digest(P384.hashId, chain)), toHex(digests[1]!.digest));
    assert.ok(Buffer.from(chain).includes(Buffer.from(expected.der)));
    const ev = await requester.challenge(1);
    assert.equal(ev.verified, true);
  }
  assert.equal(responder.stats.get(RequestCode.SET_CERTIFICATE), 1);
  // 1.3 erase: the slot is gone from DIGESTS.
  await requester.setCertificate({ slot: 1, erase: true });
  await requester.connect();
  assert.deepEqual(
    (await requester.getDigests()).map((d) => d.slot),
    [0],
  );
});

test('SET_CERTIFICATE refuses a chain for a key the device does not hold, and one whose links do not verify', async () => {
  const { requester } = await connected({ ...v13(), provisioning: { trustedEnvironment: true } });
  const foreign = createDeviceChain({ asymId: P384.asymId });
  await assert.rejects(
    requester.setCertificate({ slot: 2, certificates: foreign.certificates }),
    isDeviceError('InvalidRequest'),
  );
  const built = device(P384);
  const unlinked = [foreign.certificates[0]!, ...built.certificates.slice(1)];
  await assert.rejects(requester.setCertificate({ slot: 2, certificates: unlinked }), isDeviceError('InvalidRequest'));
  await requester.connect();
  assert.deepEqual(
    (await requester.getDigests()).map((d) => d.slot),
    [0],
  );
});

test('KEY_PAIR_INFO reflects SET_KEY_PAIR_INFO: usage change, disassociation, erase, and a generated key the next CSR uses', async () => {
  const built = device(P384);
  const { requester } = await connected(v13());
  const [kp] = await requester.listKeyPairs();
  assert.equal(kp!.totalKeyPairs, 1);
  assert.equal(kp!.currentAsymAlgo, KeyPairAsymAlgo.ECC384);
  assert.equal(kp!.assocCertSlotMask, 0b1);
  await requester.setKeyPairInfo({
    keyPairId: 1,
    desiredKeyUsage: KeyUsage.KEY_EX | KeyUsage.CHALLENGE,
    desiredAssocCertSlotMask: 1,
  });
  assert.equal((await requester.getKeyPairInfo(1)).currentKeyUsage, KeyUsage.KEY_EX | KeyUsage.CHALLENGE);
  // A key pair backing a slot cannot be erased.
  await assert.rejects(
    requester.setKeyPairInfo({ keyPairId: 1, operation: 'erase' }),
    isDeviceError('OperationFailed'),
  );
  await requester.setKeyPairInfo({ keyPairId: 1, desiredAssocCertSlotMask: 0 });
  await requester.setKeyPairInfo({ keyPairId: 1, operation: 'erase' });
  const erased = await requester.getKeyPairInfo(1);
  assert.deepEqual([erased.currentAsymAlgo, erased.currentKeyUsage, erased.assocCertSlotMask], [0, 0, 0]);
  await requester.setKeyPairInfo({ keyPairId: 1, operation: 'generate', desiredKeyUsage: KeyUsage.CHALLENGE });
  const generated = await requester.getKeyPairInfo(1);
  assert.equal(generated.currentAsymAlgo, KeyPairAsymAlgo.ECC384);
  // The multi-key requester asks for key pair 1: its CSR is over the new key, not the slot's old one.
  await assert.rejects(requester.setKeyPairInfo({ keyPairId: 2 }), isDeviceError('InvalidRequest'));
  const leafSpki = toHex(parseCertificate(built.certificates.at(-1)!).spki);
  const m = await connected(multiKeyOnly(v13()));
  await m.requester.setKeyPairInfo({ keyPairId: 1, desiredAssocCertSlotMask: 0 });
  await m.requester.setKeyPairInfo({ keyPairId: 1, operation: 'generate', desiredKeyUsage: KeyUsage.CHALLENGE });
  const { csr } = await m.requester.getCsr({ keyPairId: 1, certModel: 1 });
  assert.notEqual(toHex(csr.spki), leafSpki);
  assert.equal(checkCsrSignature(csr), undefined);
});

test('ENDPOINT_INFO signed: verifies over IL1/IL2 with our nonce, and re-verifies from the record alone', async () => {
  const built = device(P384);
  const { requester } = await connected(v13());
  const r = await requester.getEndpointInfo();
  assert.ok(r.signature);
  assert.equal(r.identifiers.length, 1);
  assert.equal(r.identifiers[0]!.registryId, 3);
  const s = r.signature;
  assert.equal(s.context, 'responder-endpoint_info signing');
  // IL1/IL2 = A ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO without the signature: it ends with the EPInfo.
  assert.ok(s.transcript.endsWith(s.epInfo));
  const key = identityPublicKey({ privateKey: built.profile.slots[0]!.privateKey });
  const ok = spdmVerify(
    key,
    P384.asymId,
    {
      version: 0x13,
      hashId: P384.hashId,
      context: s.context,
      transcript: [fromHex(s.transcript)],
      transcriptHash: fromHex(s.transcriptHash),
    },
    fromHex(s.signature),
  );
  assert.equal(ok, true);
  assert.equal(toHex(digest(P384.hashId, fromHex(s.transcript))), s.transcriptHash);
  const unsigned = await requester.getEndpointInfo({ signed: false });
  assert.equal(unsigned.signature, undefined);
  assert.equal(toHex(unsigned.epInfo), s.epInfo);
});

test('ENDPOINT_INFO tampered after signing is refused (SIGNATURE_INVALID); a device without EP_INFO_CAP is not asked', async () => {
  const profile = v13();
  const tamper: Fault = async (x) => {
    if (x.code !== RequestCode.GET_ENDPOINT_INFO) return undefined;
    const b = (await x.honest()).slice();
    // The last EPInfo byte sits just before the signature.
    b[b.length - 97] = (b[b.length - 97] as number) ^ 0x01;
    return b;
  };
  const responder = new FaultyResponder(new Responder(profile), profile.slots[0]!.privateKey, tamper);
  const requester = new Requester(new LoopbackTransport(responder));
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  await assert.rejects(requester.getEndpointInfo(), isCode('SIGNATURE_INVALID'));
  const plain = await connected(variant(profile, { flags: profile.capabilities.flags & ~CapabilityFlag.EP_INFO_SIG }));
  await assert.rejects(plain.requester.getEndpointInfo(), isCode('UNSUPPORTED'));
  assert.equal(plain.responder.stats.get(RequestCode.GET_ENDPOINT_INFO), undefined);
});

function bigMel(entries: number): Uint8Array {
  return encodeDmtfMel(
    Array.from({ length: entries }, (_, i) => ({
      melIndex: i + 1,
      measIndex: 2,
      dmtf: { raw: false, type: DmtfMeasurementType.MUTABLE_FIRMWARE, value: new Uint8Array(48).fill(i) },
    })),
  );
}

test('MEL: read in portions of what our DataTransferSize allows, and parsed', async () => {
  const mel = bigMel(40);
  const profile: DeviceProfile = { ...v13(), measurementExtensionLog: mel };
  const { requester, responder } = await connected(profile, { dataTransferSize: 512, maxSpdmMsgSize: 512 });
  const r = await requester.getMeasurementExtensionLog();
  assert.equal(toHex(r.mel), toHex(mel));
  assert.equal(r.entries.length, 40);
  assert.equal(responder.stats.get(RequestCode.GET_MEASUREMENT_EXTENSION_LOG), Math.ceil(mel.length / (512 - 12)));
  // The default profile's own log is a valid DMTF MEL too.
  const d = await connected(v13());
  assert.ok((await d.requester.getMeasurementExtensionLog()).entries.length > 0);
});

function lyingMel(fault: (offset: number, length: number, honest: Uint8Array) => Uint8Array | undefined) {
  const profile: DeviceProfile = { ...v13(), measurementExtensionLog: bigMel(40) };
  const f: Fault = async (x) => {
    if (x.code !== RequestCode.GET_MEASUREMENT_EXTENSION_LOG) return undefined;
    const dv = new DataView(x.original.buffer, x.original.byteOffset);
    return fault(dv.getUint32(4, true), dv.getUint32(8, true), await x.honest());
  };
  const responder = new FaultyResponder(new Responder(profile), profile.slots[0]!.privateKey, f);
  return {
    requester: new Requester(new LoopbackTransport(responder), { dataTransferSize: 512, maxSpdmMsgSize: 512 }),
    responder,
  };
}

test('MEL from a device that lies about lengths: typed errors, bounded work', async () => {
  const cases: [string, (o: number, l: number, h: Uint8Array) => Uint8Array | undefined, (e: unknown) => boolean][] = [
    [
      'announces a 4 GiB log',
      (_o, _l, h) => encodeMeasurementExtensionLog(0x13, { portion: h.subarray(12), remainderLength: 0xffffff00 }),
      isCode('LIMIT_EXCEEDED'),
    ],
    [
      'changes the total half way',
      (o, _l, h) => {
        if (o === 0) return undefined;
        const dv = new DataView(h.buffer, h.byteOffset);
        return encodeMeasurementExtensionLog(0x13, {
          portion: h.subarray(12),
          remainderLength: dv.getUint32(8, true) + 100,
        });
      },
      isCode('UNEXPECTED_RESPONSE', /makes it/),
    ],
    [
      'sends more than asked',
      (_o, l) => encodeMeasurementExtensionLog(0x13, { portion: new Uint8Array(l + 1), remainderLength: 0 }),
      isCode('UNEXPECTED_RESPONSE', /exceeds/),
    ],
    [
      'sends empty portions forever',
      () => encodeMeasurementExtensionLog(0x13, { portion: new Uint8Array(0), remainderLength: 1000 }),
      isCode('UNEXPECTED_RESPONSE', /empty portion/),
    ],
    [
      'sends a log that is not a DMTF MEL',
      (_o, l, h) => {
        const b = h.slice();
        b[12] = 0xff; // NumberOfEntries, first byte
        return l > 0 ? b : undefined;
      },
      isCode('DECODE_ERROR'),
    ],
  ];
  for (const [name, fault, check] of cases) {
    const { requester, responder } = lyingMel(fault);
    await requester.connect();
    await assert.rejects(requester.getMeasurementExtensionLog(), check, name);
    assert.ok((responder.stats.get(RequestCode.GET_MEASUREMENT_EXTENSION_LOG) ?? 0) <= 8, `${name}: bounded rounds`);
  }
  // A smaller bound of the caller's own applies at the first portion.
  const { requester } = lyingMel(() => undefined);
  await requester.connect();
  await assert.rejects(requester.getMeasurementExtensionLog({ maxBytes: 100 }), isCode('LIMIT_EXCEEDED'));
});

test('profile files give the ENDPOINT_INFO and the MEL the emulator serves, and refuse malformed ones', async () => {
  const { profileFromJson } = await import('../../src/responder/profile-file.js');
  const { encodeDeviceClassIdentifier } = await import('../../src/spdm/messages/endpoint-info.js');
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-profile-'));
  try {
    const mel = bigMel(3);
    writeFileSync(join(dir, 'mel.bin'), mel);
    const epInfo = encodeDeviceClassIdentifier([
      { registryId: 4, vendorId: Uint8Array.of(1, 2, 3, 4), subordinateIds: [Uint8Array.of(9, 9, 9)] },
    ]);
    const profile = profileFromJson({ versions: ['1.3'], endpointInfo: toHex(epInfo), mel: 'mel.bin' }, dir);
    const { requester } = await connected(profile);
    assert.equal(toHex((await requester.getEndpointInfo()).epInfo), toHex(epInfo));
    assert.equal(toHex((await requester.getMeasurementExtensionLog()).mel), toHex(mel));
    writeFileSync(join(dir, 'bad.bin'), mel.subarray(0, mel.length - 1));
    assert.throws(() => profileFromJson({ mel: 'bad.bin' }, dir), /profile: mel:/);
    assert.throws(() => profileFromJson({ endpointInfo: '0100' }, dir), /profile: endpointInfo:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inside a secure session: ENDPOINT_INFO signed, the MEL, key pairs, GET_CSR and SET_CERTIFICATE of another slot', async () => {
  const base = v13();
  const F = CapabilityFlag;
  const profile: DeviceProfile = {
    ...base,
    capabilities: { ...base.capabilities, flags: base.capabilities.flags | F.ENCRYPT | F.MAC | F.KEY_EX },
  };
  const responder = new Responder(profile, { securedBinding: 'doe' });
  const requester = new Requester(new LoopbackTransport(responder, 0x10000, { securedBinding: 'doe' }), {
    versions: [0x13],
    capabilityFlags: F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX,
    session: {},
  });
  await requester.connect();
  const s = await requester.startSession();
  const ep = await s.getEndpointInfo();
  assert.equal(ep.signature?.verified, true);
  assert.ok((await s.getMeasurementExtensionLog()).entries.length > 0);
  await s.setKeyPairInfo({ keyPairId: 1, desiredKeyUsage: KeyUsage.CHALLENGE, desiredAssocCertSlotMask: 1 });
  assert.equal((await s.getKeyPairInfo(1)).currentKeyUsage, KeyUsage.CHALLENGE);
  assert.equal(checkCsrSignature((await s.getCsr()).csr), undefined);
  const key = profile.slots[0]!.privateKey;
  const chain = createDeviceChain({
    asymId: P384.asymId,
    keyPairs: { leaf: { privateKey: key, publicKey: createPublicKey(key) } },
  });
  await s.setCertificate({ slot: 2, certificates: chain.certificates });
  await s.end();
  // Provisioned in the session, answered in the clear afterwards.
  assert.deepEqual(
    (await requester.getDigests()).map((d) => d.slot),
    [0, 2],
  );
  await requester.getCertificateChain(2);
  assert.equal((await requester.challenge(2)).verified, true);
  assert.ok((responder.stats.get(RequestCode.GET_ENDPOINT_INFO) ?? 0) >= 1);
});

test('SPDM 1.2: GET_CSR and SET_CERTIFICATE work, erase and the 1.3 requests do not exist; 1.1 has no provisioning', async () => {
  const built = device(P384);
  const { requester } = await connected(variant(built.profile, { versions: [0x12] }));
  assert.equal(checkCsrSignature((await requester.getCsr()).csr), undefined);
  await requester.setCertificate({ slot: 0, certificates: built.certificates });
  await assert.rejects(requester.setCertificate({ slot: 0, erase: true }), isCode('UNSUPPORTED', /1\.3/));
  await assert.rejects(requester.getEndpointInfo(), isCode('UNSUPPORTED'));
  await assert.rejects(requester.getMeasurementExtensionLog(), isCode('UNSUPPORTED'));
  await assert.rejects(requester.listKeyPairs(), isCode('UNSUPPORTED'));
  const old = await connected(variant(built.profile, { versions: [0x11] }));
  await assert.rejects(old.requester.getCsr(), isCode('UNSUPPORTED', /1\.2/));
  // And the emulator answers a 1.1 GET_CSR sent anyway with ERROR UnsupportedRequest.
  const { encodeGetCsr } = await import('../../src/spdm/messages/csr.js');
  const raw = await old.responder.handle(encodeGetCsr(0x11, {}));
  assert.deepEqual([...raw.subarray(0, 4)], [0x11, 0x7f, 0x07, RequestCode.GET_CSR]);
});
