/** Requester against the device emulator: every version × algorithm suite, full flow, evidence checked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError } from '../../src/wire/errors.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { fromHex } from '../../src/wire/bytes.js';
import { digest } from '../../src/crypto/hash.js';
import { chainsToRoot } from '../../src/x509/chain.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { decodeSpdmCertChain } from '../../src/x509/spdm-chain.js';
import { hashInfo } from '../../src/crypto/algorithms.js';
import { SUITES, device, pair, variant } from '../support/fixtures.js';

const VERSIONS = [0x10, 0x11, 0x12, 0x13];

for (const suite of SUITES) {
  for (const version of VERSIONS) {
    const label = `${version >> 4}.${version & 0xf}`;
    const edOnOld = suite.asymId === 0x0400 && version < 0x12;
    test(`SPDM ${label} × ${suite.name}: ${edOnOld ? 'EdDSA does not exist before 1.2, so no algorithm in common' : 'full flow yields verifiable evidence'}`, async () => {
      const built = device(suite);
      const { requester } = pair(variant(built.profile, { versions: [version] }), { deviceName: built.profile.name });
      if (edOnOld) {
        await assert.rejects(
          requester.authenticate(),
          (e: unknown) =>
            e instanceof SpdmError && e.code === 'DEVICE_ERROR' && e.details['errorName'] === 'InvalidRequest',
        );
        return;
      }
      const ev = await requester.authenticate();
      assert.equal(ev.versionByte, version);
      assert.equal(ev.algorithms.baseAsym, suite.asymId);
      assert.equal(ev.algorithms.baseHash, suite.hashId);
      assert.equal(ev.slots.length, 1);
      const slot = ev.slots[0]!;
      const hashSize = hashInfo(suite.hashId)!.size;
      // The chain we read is the device's, byte for byte, and its digest is what DIGESTS said.
      const chain = decodeSpdmCertChain(fromHex(slot.certChain), version, hashSize);
      assert.deepEqual(
        chain.certificates.map((c) => Buffer.from(c).toString('hex')),
        built.certificates.map((c) => Buffer.from(c).toString('hex')),
      );
      assert.equal(Buffer.from(digest(suite.hashId, fromHex(slot.certChain))).toString('hex'), slot.digest);
      assert.deepEqual(slot.chainProblems, []);
      assert.deepEqual(
        ev.signatures.map((s) => s.kind),
        ['CHALLENGE_AUTH', 'MEASUREMENTS'],
      );
      assert.ok(ev.signatures.every((s) => s.verified && s.version === version));
      assert.equal(ev.signatures[0]!.context, version >= 0x12 ? 'responder-challenge_auth signing' : '');
      assert.ok(ev.signatures[0]!.measurementSummaryHash, 'CHALLENGE asked for the measurement summary hash');
      assert.equal(ev.measurements.length, built.profile.measurements.length);
      assert.ok(ev.measurements.every((m) => m.signed));
      // Anyone holding only the evidence can verify every signature again.
      assert.deepEqual(
        reverifySignatures(ev).map((r) => r.ok),
        [true, true],
      );
      // And the chain leads to the generated root, not to another one.
      const certs = chain.certificates.map(parseCertificate);
      assert.equal(chainsToRoot(certs, [parseCertificate(built.root.certificate)], new Date()).trusted, true);
    });
  }
}

test('measurements one by one: the signature on the last request covers every block', async () => {
  const built = device(SUITES[1]!);
  for (const version of VERSIONS) {
    const { requester, responder } = pair(variant(built.profile, { versions: [version] }));
    await requester.connect();
    await requester.getDigests();
    await requester.getCertificateChain(0);
    const blocks = await requester.getMeasurements({ mode: 'one-by-one' });
    assert.equal(blocks.length, 6);
    assert.ok(
      blocks.every((b) => b.signed),
      `all blocks signed at ${version.toString(16)}`,
    );
    // count query + 6 indices, no probing past the last one
    assert.equal(responder.stats.get(0xe0), 7);
    const ev = requester.evidence();
    assert.equal(ev.signatures.length, 1);
    assert.deepEqual(
      reverifySignatures(ev).map((r) => r.ok),
      [true],
    );
  }
});

test('measurements with gaps in the indices: blocks before a gap are reported unsigned, the rest signed', async () => {
  const built = device(SUITES[0]!);
  const sparse = { ...built.profile, measurements: built.profile.measurements.filter((m) => m.index !== 3) };
  const { requester } = pair(sparse);
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  const blocks = await requester.getMeasurements({ mode: 'one-by-one' });
  assert.deepEqual(
    blocks.map((b) => [b.index, b.signed]),
    [
      [1, false],
      [2, false],
      [4, true],
      [5, true],
      [6, true],
    ],
  );
  assert.deepEqual(
    reverifySignatures(requester.evidence()).map((r) => r.ok),
    [true],
  );
});

test('measurements by index (Redfish MeasurementIndices): exactly the blocks asked for, one signature over them all', async () => {
  const built = device(SUITES[1]!);
  for (const version of VERSIONS) {
    const { requester, responder } = pair(variant(built.profile, { versions: [version] }));
    const ev = await requester.authenticate({ indices: [4, 2], skipMeasurements: false });
    assert.deepEqual(
      ev.measurements.map((m) => [m.index, m.signed]),
      [
        [2, true],
        [4, true],
      ],
    );
    // Two GET_MEASUREMENTS, no count query, no walk over the other indices.
    assert.equal(responder.stats.get(0xe0), 2);
    const meas = ev.signatures.filter((s) => s.kind === 'MEASUREMENTS');
    assert.equal(meas.length, 1);
    assert.ok(reverifySignatures(ev).every((r) => r.ok));
  }
  // [255] alone is "every block", as a single signed request.
  const { requester, responder } = pair(built.profile);
  const ev = await requester.authenticate({ indices: [0xff] });
  assert.equal(ev.measurements.length, 6);
  assert.equal(responder.stats.get(0xe0), 1);
  // A block the device does not have fails the run with the device's answer; nothing half-read is kept.
  const { requester: r2 } = pair(built.profile);
  await assert.rejects(
    r2.authenticate({ indices: [1, 9] }),
    (e: unknown) => e instanceof SpdmError && e.code === 'DEVICE_ERROR' && e.details['errorName'] === 'InvalidRequest',
  );
  assert.equal(r2.evidence().measurements.length, 0);
  // Bad lists are the caller's mistake.
  for (const indices of [[], [0], [0xff, 1], [3, 3], [1.5]]) {
    await assert.rejects(pair(built.profile).requester.authenticate({ indices }), TypeError, JSON.stringify(indices));
  }
});

test('raw bit stream measurements (1.2+) carry the measured content itself', async () => {
  const built = device(SUITES[0]!);
  const { requester } = pair(variant(built.profile, { versions: [0x12] }));
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  const blocks = await requester.getMeasurements({ rawBitStream: true });
  const fw = built.profile.measurements.find((m) => m.index === 2)!;
  const got = blocks.find((b) => b.index === 2)!;
  assert.equal(got.raw, true);
  assert.equal(got.value, Buffer.from(fw.value).toString('hex'));
});

test('version negotiation picks the highest common version and honours the minimum', async () => {
  const built = device(SUITES[0]!);
  let { requester } = pair(variant(built.profile, { versions: [0x10, 0x11, 0x12] }));
  assert.equal((await requester.connect()).version, 0x12);
  ({ requester } = pair(variant(built.profile, { versions: [0x10, 0x11, 0x12, 0x13] }), { versions: [0x10, 0x11] }));
  assert.equal((await requester.connect()).version, 0x11);
  ({ requester } = pair(variant(built.profile, { versions: [0x10, 0x11] }), { minVersion: 0x12 }));
  await assert.rejects(requester.connect(), (e: unknown) => e instanceof SpdmError && e.code === 'NO_COMMON_VERSION');
});

test('a chain larger than one DataTransferSize is read in portions', async () => {
  const built = device(SUITES[2]!); // RSA-3072 chain: about 3.5 KB
  const { requester, responder } = pair(variant(built.profile, { versions: [0x12] }), { dataTransferSize: 512 });
  const ev = await requester.authenticate();
  const chainLen = fromHex(ev.slots[0]!.certChain).length;
  assert.ok(chainLen > 2000);
  assert.equal(responder.stats.get(0x82), Math.ceil(chainLen / (512 - 8)));
});

test('1.3 multi-key: a multi-key-only device is asked for a multi-key connection and its DIGESTS key fields decode', async () => {
  const built = device(SUITES[1]!);
  const onlyFlags = (built.profile.capabilities.flags & ~0x0c000000) | 0x04000000;
  const { requester } = pair(variant(built.profile, { versions: [0x13], flags: onlyFlags }));
  const conn = await requester.connect();
  assert.equal(conn.multiKeyConn, true);
  const digests = await requester.getDigests();
  // KeyUsageMask: ChallengeUse | MeasurementUse | EndpointInfoUse (the default profile signs ENDPOINT_INFO).
  assert.deepEqual(
    digests.map((d) => [d.slot, d.keyPairId, d.certificateInfo, d.keyUsageMask]),
    [[0, 1, 1, 0x000e]],
  );
  await requester.getCertificateChain(0);
  await requester.challenge(0);
});

test('1.3 multi-key: a device without MULTI_KEY_CAP refuses a multi-key request; a negotiable one keeps single-key unless asked', async () => {
  const built = device(SUITES[1]!);
  const { requester } = pair(variant(built.profile, { versions: [0x13] }));
  assert.equal((await requester.connect()).multiKeyConn, false);
  const { Responder } = await import('../../src/responder/responder.js');
  const { encodeGetVersion } = await import('../../src/spdm/messages/version.js');
  const { encodeGetCapabilities } = await import('../../src/spdm/messages/capabilities.js');
  const { encodeNegotiateAlgorithms } = await import('../../src/spdm/messages/algorithms.js');
  const r = new Responder(
    variant(built.profile, { versions: [0x13], flags: built.profile.capabilities.flags & ~0x0c000000 }),
  );
  await r.handle(encodeGetVersion());
  await r.handle(
    encodeGetCapabilities({ version: 0x13, ctExponent: 0, flags: 6, dataTransferSize: 4096, maxSpdmMsgSize: 4096 }),
  );
  const resp = await r.handle(
    encodeNegotiateAlgorithms(0x13, {
      measurementSpec: 1,
      otherParams: 0x12,
      baseAsym: 0x80,
      baseHash: 0x02,
      melSpec: 0,
      extAsym: [],
      extHash: [],
      algStructs: [],
    }),
  );
  assert.deepEqual([resp[1], resp[2]], [0x7f, 0x01]);
});

test("a caller-chosen nonce (a remote verifier's) is the requester nonce of every signature in the evidence", async () => {
  const built = device(SUITES[0]!);
  const { requester } = pair(variant(built.profile, { versions: [0x12] }));
  const nonce = new Uint8Array(32).fill(0xa5);
  const ev = await requester.authenticate({ nonce });
  assert.deepEqual(
    ev.signatures.map((s) => s.requesterNonce),
    [Buffer.from(nonce).toString('hex'), Buffer.from(nonce).toString('hex')],
  );
  assert.deepEqual(
    reverifySignatures(ev).map((r) => r.ok),
    [true, true],
  );
  await assert.rejects(
    requester.authenticate({ nonce: new Uint8Array(8) }),
    (e: unknown) => e instanceof TypeError && /nonce must be 32 bytes/.test(e.message),
  );
});
