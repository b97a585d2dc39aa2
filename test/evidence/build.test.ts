/**
 * buildEvidence: the Evidence document the verifier, the signature log and `spdm verify` read.
 * Its inputs come from a real in-process run (Requester over loopback to an emulated device), so
 * the document is checked against what a requester really gathers, not against hand-made shapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEvidence, type EvidenceInput, type SlotRecord } from '../../src/evidence/build.js';
import { EVIDENCE_FORMAT, type PciIdentity } from '../../src/evidence/evidence.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { BaseHashAlgo, MeasurementHashAlgo } from '../../src/crypto/algorithms.js';
import { digest } from '../../src/crypto/hash.js';
import { toHex } from '../../src/wire/bytes.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { CapabilityFlag as F, decodeCapabilities, encodeCapabilities } from '../../src/spdm/messages/capabilities.js';
import { decodeAlgorithms, encodeAlgorithms, MeasurementSpec } from '../../src/spdm/messages/algorithms.js';
import { MeasurementSummaryHashType } from '../../src/spdm/messages/challenge.js';
import type { Clock } from '../../src/transport/clock.js';
import { SUITES, device, pair, variant } from '../support/fixtures.js';

const PCI: PciIdentity = {
  bdf: '0000:3b:00.0',
  vendorId: 0x8086,
  deviceId: 0x0b25,
  classCode: 0x120000,
  revisionId: 1,
  serialNumber: '00-11-22-33-44-55-66-77',
};

/** A clock that stands still: collectedAt must be its time, not the wall clock's. */
function stillClock(ms: number): Clock {
  return { now: () => ms, sleep: async () => undefined };
}

/** One authentication of an ECDSA-P384/SHA-384 device at `version`, step by step, with what each step returned. */
async function realRun(version: number, at: number) {
  const built = device(SUITES[1]!);
  const { requester } = pair(variant(built.profile, { versions: [version] }), {
    clock: stillClock(at),
    deviceName: 'gpu0',
    pci: PCI,
  });
  const connection = await requester.connect();
  const digests = await requester.getDigests();
  const chain = await requester.getCertificateChain(0);
  const challenge = await requester.challenge(0, MeasurementSummaryHashType.ALL);
  const measurements = await requester.getMeasurements();
  const signatures = requester.evidence().signatures;
  return { built, requester, connection, digests, chain, challenge, measurements, signatures };
}

test('buildEvidence from a real 1.2 run: versions, algorithm names, slot chain and certificates, signatures, sorted measurements, identity, clock', async () => {
  // A little after now, so the device's fresh certificates are valid at the injected time.
  const at = Date.now() + 1234;
  const run = await realRun(0x12, at);
  const slot0: SlotRecord = {
    digest: run.digests.find((d) => d.slot === 0)!.digest,
    chain: run.chain,
    certModel: 0,
    certificates: run.built.certificates.map(parseCertificate),
    problems: [],
  };
  const problem = { code: 'CERT_EXPIRED', certIndex: 0, message: 'leaf expired' };
  const input: EvidenceInput = {
    connection: run.connection,
    // Out of order, one slot with a digest but no chain, one never seen in DIGESTS.
    slots: new Map<number, SlotRecord>([
      [3, { digest: new Uint8Array(48).fill(3), certModel: 1, problems: [problem] }],
      [5, { certModel: 0, problems: [] }],
      [0, slot0],
    ]),
    signatures: run.signatures,
    // Reversed: the document lists them by index whatever order they were recorded in.
    measurements: [...run.measurements].reverse(),
    collectedAtMs: at,
    device: 'gpu0',
    pci: PCI,
  };
  const ev = buildEvidence(input);

  assert.equal(ev.format, EVIDENCE_FORMAT);
  assert.equal(ev.collectedAt, new Date(at).toISOString());
  assert.equal(ev.device, 'gpu0');
  assert.deepEqual(ev.pci, PCI);
  assert.equal(ev.version, '1.2');
  assert.equal(ev.versionByte, 0x12);

  const caps = run.connection.capabilities;
  assert.equal(ev.capabilities.flags, caps.flags);
  for (const name of ['CERT', 'CHAL', 'MEAS_SIG']) assert.ok(ev.capabilities.flagNames.includes(name), name);
  assert.ok(!ev.capabilities.flagNames.includes('MEAS_NO_SIG'), 'a flag that is not set is not named');
  assert.equal(ev.capabilities.ctExponent, caps.ctExponent);
  assert.equal(ev.capabilities.dataTransferSize, caps.dataTransferSize);
  assert.equal(ev.capabilities.maxSpdmMsgSize, caps.maxSpdmMsgSize);

  assert.equal(ev.algorithms.baseAsym, 0x0080);
  assert.equal(ev.algorithms.baseAsymName, 'ECDSA-P384');
  assert.equal(ev.algorithms.baseHash, BaseHashAlgo.SHA_384);
  assert.equal(ev.algorithms.baseHashName, 'SHA-384');
  assert.equal(ev.algorithms.measurementHash, MeasurementHashAlgo.SHA_384);
  assert.equal(ev.algorithms.measurementHashName, 'SHA-384');
  assert.equal(ev.algorithms.measurementSpec, MeasurementSpec.DMTF);

  // Slots in slot order; one never seen in DIGESTS is left out.
  assert.deepEqual(
    ev.slots.map((s) => s.slot),
    [0, 3],
  );
  const s0 = ev.slots[0]!;
  assert.equal(s0.certChain, toHex(run.chain));
  assert.equal(s0.digest, toHex(digest(BaseHashAlgo.SHA_384, run.chain)), 'the digest DIGESTS reported for the chain');
  assert.deepEqual(s0.chainProblems, []);
  assert.equal(s0.certificates.length, run.built.certificates.length);
  const leaf = parseCertificate(run.built.certificates.at(-1)!);
  assert.deepEqual(s0.certificates.at(-1), {
    subject: leaf.subject,
    issuer: leaf.issuer,
    serialNumber: leaf.serialNumber,
    notBefore: leaf.notBefore.toISOString(),
    notAfter: leaf.notAfter.toISOString(),
    fingerprintSha256: leaf.fingerprintSha256,
  });
  const s3 = ev.slots[1]!;
  assert.equal(s3.certChain, '', 'a slot whose chain was not read has an empty chain');
  assert.deepEqual(s3.certificates, []);
  assert.equal(s3.certModel, 1);
  assert.deepEqual(s3.chainProblems, [problem]);

  // Signatures as given, and still re-verifiable by anyone holding only the document.
  assert.deepEqual(
    ev.signatures.map((s) => s.kind),
    ['CHALLENGE_AUTH', 'MEASUREMENTS'],
  );
  assert.deepEqual(ev.signatures[0], run.challenge);
  assert.deepEqual(
    reverifySignatures(ev).map((r) => r.ok),
    [true, true],
  );

  assert.deepEqual(
    ev.measurements.map((m) => m.index),
    [...run.measurements].map((m) => m.index).sort((x, y) => x - y),
  );
  assert.ok(ev.measurements.length >= 2 && ev.measurements.every((m) => m.signed));
  assert.ok(
    ev.measurements.every((m, i) => i === 0 || ev.measurements[i - 1]!.index < m.index),
    'strictly by index',
  );

  // The document is plain data: it survives JSON, as the log and `spdm verify` read it.
  assert.deepEqual(JSON.parse(JSON.stringify(ev)), ev);
});

test("buildEvidence is what the Requester hands out: the same document from the same run's state", async () => {
  const at = Date.now() + 5000;
  const run = await realRun(0x13, at);
  const fromRequester = run.requester.evidence();
  const ev = buildEvidence({
    connection: run.connection,
    slots: new Map([
      [
        0,
        {
          digest: run.digests.find((d) => d.slot === 0)!.digest,
          chain: run.chain,
          certModel: fromRequester.slots[0]!.certModel,
          certificates: run.built.certificates.map(parseCertificate),
          problems: [],
        },
      ],
    ]),
    signatures: run.signatures,
    measurements: run.measurements,
    collectedAtMs: at,
    device: 'gpu0',
    pci: PCI,
  });
  assert.deepEqual(ev, fromRequester);
  assert.equal(ev.version, '1.3');
});

test('buildEvidence without a device name or PCI identity leaves both keys out; raw bit stream, no signing algorithm and flag bit 31 are named as such', () => {
  const capabilities = decodeCapabilities(
    encodeCapabilities({
      version: 0x14,
      ctExponent: 12,
      flags: (F.MEAS_NO_SIG | F.LARGE_RESP) >>> 0,
      dataTransferSize: 4096,
      maxSpdmMsgSize: 65536,
    }),
  );
  const algorithms = decodeAlgorithms(
    encodeAlgorithms(0x14, {
      measurementSpec: MeasurementSpec.DMTF,
      otherParams: 0,
      measurementHash: MeasurementHashAlgo.RAW_BIT_STREAM,
      baseAsym: 0,
      baseHash: BaseHashAlgo.SHA3_256,
      melSpec: 0,
      algStructs: [],
    }),
  );
  const ev = buildEvidence({
    connection: { version: 0x14, capabilities, algorithms, hashId: algorithms.baseHash, asymId: algorithms.baseAsym },
    slots: new Map(),
    signatures: [],
    measurements: [],
    collectedAtMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  });
  assert.equal('device' in ev, false);
  assert.equal('pci' in ev, false);
  assert.equal(ev.collectedAt, '2026-01-02T03:04:05.678Z');
  assert.equal(ev.version, '1.4');
  // Bit 31 set: the document carries the flags as an unsigned number, as DSP0274 writes them.
  assert.equal(ev.capabilities.flags, 0x80000008);
  assert.deepEqual(ev.capabilities.flagNames, ['MEAS_NO_SIG', 'LARGE_RESP']);
  assert.equal(ev.capabilities.ctExponent, 12);
  assert.equal(ev.algorithms.baseAsymName, 'none');
  assert.equal(ev.algorithms.baseHashName, 'SHA3-256');
  assert.equal(ev.algorithms.measurementHashName, 'raw bit stream');
  assert.deepEqual(ev.slots, []);
  assert.deepEqual(ev.measurements, []);
});
