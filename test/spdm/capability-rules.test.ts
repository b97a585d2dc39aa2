/**
 * What a responder's CAPABILITIES and ALGORITHMS may say (checkResponderCapabilities,
 * checkSelectedAlgorithms): each rule rejects a violating message with its code and a message
 * naming the field, and lets a conforming one through. Messages are built with the codecs
 * (encoded, then decoded as the requester decodes them), never as hand-made objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError, type SpdmErrorCode } from '../../src/wire/errors.js';
import {
  BaseAsymAlgo as Asym,
  BaseHashAlgo as Hash,
  isHashSupported,
  MeasurementHashAlgo as MHash,
} from '../../src/crypto/algorithms.js';
import {
  CapabilityFlag as F,
  decodeCapabilities,
  encodeCapabilities,
  type CapabilitiesResponse,
} from '../../src/spdm/messages/capabilities.js';
import {
  AlgType,
  decodeAlgorithms,
  encodeAlgorithms,
  MeasurementSpec,
  OtherParams,
  type AlgorithmsResponse,
  type AlgorithmsSelection,
} from '../../src/spdm/messages/algorithms.js';
import {
  checkResponderCapabilities,
  checkSelectedAlgorithms,
  type AlgorithmOffer,
} from '../../src/spdm/capability-rules.js';

const VERSIONS = [0x10, 0x11, 0x12, 0x13, 0x14];

/** A CAPABILITIES as the requester decodes it off the wire. */
function caps(version: number, flags: number, sizes: { dts?: number; max?: number } = {}): CapabilitiesResponse {
  return decodeCapabilities(
    encodeCapabilities({
      version,
      ctExponent: 10,
      flags: flags >>> 0,
      dataTransferSize: sizes.dts ?? 4096,
      maxSpdmMsgSize: sizes.max ?? 65536,
    }),
  );
}

/** An ALGORITHMS as the requester decodes it: a conforming P-384/SHA-384 selection unless `s` changes it. */
function algs(version: number, s: Partial<AlgorithmsSelection> = {}): AlgorithmsResponse {
  return decodeAlgorithms(
    encodeAlgorithms(version, {
      measurementSpec: MeasurementSpec.DMTF,
      otherParams: version >= 0x12 ? OtherParams.OPAQUE_FMT_1 : 0,
      measurementHash: MHash.SHA_384,
      baseAsym: Asym.ECDSA_P384,
      baseHash: Hash.SHA_384,
      melSpec: 0,
      algStructs: [],
      ...s,
    }),
  );
}

const OFFER: AlgorithmOffer = {
  baseAsym: Asym.ECDSA_P256 | Asym.ECDSA_P384,
  baseHash: Hash.SHA_256 | Hash.SHA_384,
  otherParams: OtherParams.OPAQUE_FMT_1,
};

/** A device that authenticates: a chain, CHALLENGE, signed fresh measurements (all defined since 1.0). */
const SIGNER = F.CERT | F.CHAL | F.MEAS_SIG | F.MEAS_FRESH;

function rejects(fn: () => void, code: SpdmErrorCode, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpdmError, `an SpdmError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, field);
    return true;
  });
}

const capsRejected = (c: CapabilitiesResponse, version: number, field: RegExp) =>
  rejects(() => checkResponderCapabilities(c, version), 'CAPABILITY_MISMATCH', field);

const algsRejected = (a: AlgorithmsResponse, c: CapabilitiesResponse, field: RegExp, offer = OFFER) =>
  rejects(() => checkSelectedAlgorithms(a, c, offer), 'ALGORITHM_MISMATCH', field);

// ---- CAPABILITIES ----

test('CAPABILITIES that conform pass at every version', () => {
  for (const v of VERSIONS) {
    checkResponderCapabilities(caps(v, SIGNER), v);
    checkResponderCapabilities(caps(v, 0), v);
    // Unsigned measurements need no key to check them with.
    checkResponderCapabilities(caps(v, F.MEAS_NO_SIG), v);
  }
  // 1.1+: a provisioned public key stands in for a chain.
  checkResponderCapabilities(caps(0x11, F.PUB_KEY_ID | F.CHAL | F.MEAS_SIG), 0x11);
  // 1.2: DataTransferSize at its 42-byte minimum, MaxSPDMmsgSize equal to it.
  checkResponderCapabilities(caps(0x12, SIGNER, { dts: 42, max: 42 }), 0x12);
});

test('CAPABILITIES: flag bits reserved in the negotiated version are rejected, naming the flags', () => {
  capsRejected(caps(0x10, SIGNER | F.ENCRYPT), 0x10, /^CAPABILITIES: reserved flag bits set \(0x76\)/);
  capsRejected(caps(0x11, SIGNER | F.CHUNK), 0x11, /reserved flag bits/);
  capsRejected(caps(0x12, SIGNER | F.EP_INFO_NO_SIG), 0x12, /reserved flag bits/);
  capsRejected(caps(0x13, SIGNER | F.LARGE_RESP), 0x13, /reserved flag bits set \(0x80000036\)/);
  // The same bits are defined one version later.
  checkResponderCapabilities(caps(0x12, SIGNER | F.CHUNK), 0x12);
  checkResponderCapabilities(caps(0x13, SIGNER | F.EP_INFO_NO_SIG), 0x13);
  checkResponderCapabilities(caps(0x14, SIGNER | F.LARGE_RESP), 0x14);
});

test('CAPABILITIES: MEAS_CAP 11b is reserved', () => {
  for (const v of VERSIONS)
    capsRejected(
      caps(v, F.CERT | F.MEAS_NO_SIG | F.MEAS_SIG),
      v,
      /^CAPABILITIES: MEAS_CAP has the reserved value 11b$/,
    );
});

test('CAPABILITIES: CERT_CAP and PUB_KEY_ID_CAP together are rejected (1.1+)', () => {
  for (const v of [0x11, 0x12, 0x13])
    capsRejected(
      caps(v, SIGNER | F.PUB_KEY_ID),
      v,
      /^CAPABILITIES: CERT_CAP and PUB_KEY_ID_CAP are mutually exclusive$/,
    );
});

test('CAPABILITIES: a signing capability without a key to verify it is rejected', () => {
  const field = /^CAPABILITIES: CHAL_CAP or signed measurements without CERT_CAP or PUB_KEY_ID_CAP/;
  for (const v of VERSIONS) {
    capsRejected(caps(v, F.CHAL), v, field);
    capsRejected(caps(v, F.MEAS_SIG), v, field);
  }
});

test('CAPABILITIES: DataTransferSize below 42 bytes is rejected (1.2+), naming the size', () => {
  capsRejected(
    caps(0x12, SIGNER, { dts: 41, max: 41 }),
    0x12,
    /^CAPABILITIES: DataTransferSize 41 is below the 42-byte minimum$/,
  );
  capsRejected(caps(0x13, SIGNER, { dts: 0, max: 0 }), 0x13, /DataTransferSize 0 /);
  // Before 1.2 the field does not exist on the wire (it decodes as 0): nothing to check.
  checkResponderCapabilities(caps(0x11, SIGNER, { dts: 0, max: 0 }), 0x11);
});

test('CAPABILITIES: MaxSPDMmsgSize smaller than DataTransferSize is rejected (1.2+)', () => {
  capsRejected(
    caps(0x12, SIGNER, { dts: 4096, max: 4095 }),
    0x12,
    /^CAPABILITIES: MaxSPDMmsgSize is smaller than DataTransferSize$/,
  );
});

// ---- ALGORITHMS ----

test('ALGORITHMS that conform pass at every version, for signing, measuring-only and non-measuring devices', () => {
  for (const v of VERSIONS) {
    checkSelectedAlgorithms(algs(v), caps(v, SIGNER), OFFER);
    // A device that neither signs nor measures need not select a signing or measurement algorithm.
    checkSelectedAlgorithms(algs(v, { baseAsym: 0, measurementHash: 0, measurementSpec: 0 }), caps(v, F.CERT), OFFER);
    // Unsigned measurements: a measurement hash, no signing algorithm needed.
    checkSelectedAlgorithms(algs(v, { baseAsym: 0 }), caps(v, F.MEAS_NO_SIG), OFFER);
    // Raw bit stream is one measurement "algorithm" too.
    checkSelectedAlgorithms(algs(v, { measurementHash: MHash.RAW_BIT_STREAM }), caps(v, SIGNER), OFFER);
  }
  // 1.1+: AlgStructs the responder answers with nothing selected.
  checkSelectedAlgorithms(
    algs(0x11, { algStructs: [{ type: AlgType.DHE, supported: 0, external: [] }] }),
    caps(0x11, SIGNER),
    OFFER,
  );
});

test('ALGORITHMS: BaseAsymSel must be exactly one offered algorithm when the device signs (or selects one)', () => {
  const c = caps(0x12, SIGNER);
  algsRejected(
    algs(0x12, { baseAsym: Asym.ECDSA_P256 | Asym.ECDSA_P384 }),
    c,
    /^ALGORITHMS: BaseAsymSel 0x90 is not exactly one algorithm$/,
  );
  algsRejected(algs(0x12, { baseAsym: 0 }), c, /^ALGORITHMS: BaseAsymSel 0x0 is not exactly one algorithm$/);
  algsRejected(algs(0x12, { baseAsym: Asym.EDDSA_ED25519 }), c, /^ALGORITHMS: BaseAsymSel 0x400 was not offered$/);
  // A device that does not sign may select none, but not one that was never offered.
  algsRejected(
    algs(0x12, { baseAsym: Asym.EDDSA_ED25519 }),
    caps(0x12, F.MEAS_NO_SIG),
    /BaseAsymSel 0x400 was not offered/,
  );
});

test('ALGORITHMS: BaseHashSel must be exactly one offered algorithm', () => {
  const c = caps(0x12, SIGNER);
  algsRejected(
    algs(0x12, { baseHash: Hash.SHA_256 | Hash.SHA_384 }),
    c,
    /^ALGORITHMS: BaseHashSel 0x3 is not exactly one algorithm$/,
  );
  algsRejected(algs(0x12, { baseHash: 0 }), c, /^ALGORITHMS: BaseHashSel 0x0 is not exactly one algorithm$/);
  algsRejected(algs(0x12, { baseHash: Hash.SHA_512 }), c, /^ALGORITHMS: BaseHashSel 0x4 was not offered$/);
});

test('ALGORITHMS: a measuring device must select the DMTF measurement specification', () => {
  algsRejected(
    algs(0x12, { measurementSpec: 0 }),
    caps(0x12, SIGNER),
    /^ALGORITHMS: MeasurementSpecificationSel 0x0 is not DMTF$/,
  );
  algsRejected(
    algs(0x10, { measurementSpec: 0x02 }),
    caps(0x10, F.MEAS_NO_SIG),
    /MeasurementSpecificationSel 0x2 is not DMTF/,
  );
});

test('ALGORITHMS: a measuring device must select exactly one measurement hash', () => {
  const c = caps(0x12, SIGNER);
  const field = (hex: string) => new RegExp(`^ALGORITHMS: MeasurementHashAlgo 0x${hex} is not exactly one algorithm$`);
  algsRejected(algs(0x12, { measurementHash: MHash.SHA_256 | MHash.SHA_384 }), c, field('6'));
  algsRejected(algs(0x12, { measurementHash: 0 }), c, field('0'));
  // The first bit past SM3-256 is reserved.
  algsRejected(algs(0x12, { measurementHash: 0x100 }), c, field('100'));
});

test('ALGORITHMS: a measurement hash this platform cannot compute is rejected, one it can passes', () => {
  // Every defined measurement hash but SM3 is in every OpenSSL Node ships; SM3 depends on the build.
  const c = caps(0x12, SIGNER);
  const sm3 = algs(0x12, { measurementHash: MHash.SM3_256 });
  if (isHashSupported(Hash.SM3_256)) checkSelectedAlgorithms(sm3, c, OFFER);
  else algsRejected(sm3, c, /^ALGORITHMS: MeasurementHashAlgo 0x80 cannot be computed here$/);
  checkSelectedAlgorithms(algs(0x12, { measurementHash: MHash.SHA3_512 }), c, OFFER);
});

test('ALGORITHMS: measurement algorithms from a device without MEAS_CAP are rejected', () => {
  const c = caps(0x12, F.CERT | F.CHAL);
  const field = /^ALGORITHMS: measurement algorithms selected by a responder without MEAS_CAP$/;
  algsRejected(algs(0x12), c, field);
  algsRejected(algs(0x12, { measurementHash: 0 }), c, field);
  algsRejected(algs(0x12, { measurementSpec: 0 }), c, field);
});

test('ALGORITHMS: an opaque data format must be one that was offered (1.2+)', () => {
  const c = caps(0x12, SIGNER);
  algsRejected(
    algs(0x12, { otherParams: OtherParams.OPAQUE_FMT_0 }),
    c,
    /^ALGORITHMS: opaque data format 0x1 was not offered$/,
  );
  algsRejected(
    algs(0x12, { otherParams: OtherParams.OPAQUE_FMT_0 | OtherParams.OPAQUE_FMT_1 }),
    c,
    /^ALGORITHMS: opaque data format 0x3 was not offered$/,
  );
  // No format selected, or a bit outside the format nibble, is not a format.
  checkSelectedAlgorithms(algs(0x12, { otherParams: 0 }), c, OFFER);
  checkSelectedAlgorithms(algs(0x13, { otherParams: OtherParams.MULTI_KEY_CONN }), caps(0x13, SIGNER), OFFER);
});

test('ALGORITHMS: an AlgStruct selection nobody offered is rejected, naming its type', () => {
  algsRejected(
    algs(0x11, { algStructs: [{ type: AlgType.DHE, supported: 0x0010, external: [] }] }),
    caps(0x11, SIGNER),
    /^ALGORITHMS: AlgStruct type 2 selected although none was offered$/,
  );
  algsRejected(
    algs(0x12, {
      algStructs: [
        { type: AlgType.DHE, supported: 0, external: [] },
        { type: AlgType.KEY_SCHEDULE, supported: 0x0001, external: [] },
      ],
    }),
    caps(0x12, SIGNER),
    /AlgStruct type 5 selected/,
  );
});
