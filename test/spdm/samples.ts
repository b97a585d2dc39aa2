/**
 * A corpus of encoded SPDM messages, one or more per layout variant of every codec and version
 * (1.0-1.4). Each sample knows its spec length, how to decode it (with the decode context it was
 * made for), which fields the decode must give back and how to re-encode the decoded message.
 * roundtrip.test.ts checks those; truncation.test.ts and properties.test.ts reuse the bytes.
 */
import assert from 'node:assert/strict';
import { concat, toHex } from '../../src/wire/bytes.js';
import { Writer } from '../../src/wire/writer.js';
import {
  AlgType,
  ErrorCode,
  decodeAlgorithms,
  decodeCapabilities,
  decodeCertificate,
  decodeChallenge,
  decodeChallengeAuth,
  decodeDigests,
  decodeError,
  decodeGetCapabilities,
  decodeGetCertificate,
  decodeGetDigests,
  decodeGetMeasurements,
  decodeGetVersion,
  decodeMeasurementRecord,
  decodeMeasurements,
  decodeNegotiateAlgorithms,
  decodeOpaqueData,
  decodeRespondIfReady,
  decodeVersion,
  encodeAlgorithms,
  encodeCapabilities,
  encodeCertificate,
  encodeChallenge,
  encodeChallengeAuth,
  encodeDigests,
  encodeDmtfBlock,
  encodeError,
  encodeGetCapabilities,
  encodeGetCertificate,
  encodeGetDigests,
  encodeGetMeasurements,
  encodeGetVersion,
  encodeMeasurements,
  encodeNegotiateAlgorithms,
  encodeOpaqueData,
  encodeRespondIfReady,
  encodeResponseNotReady,
  encodeVersion,
  type AlgStruct,
  type AlgorithmOffer,
  type AlgorithmsSelection,
  type DmtfMeasurement,
  type CapabilitiesFields,
  type MeasurementBlock,
  type OpaqueElement,
  type SlotDigest,
} from '../../src/spdm/index.js';

export const VERSIONS = [0x10, 0x11, 0x12, 0x13, 0x14] as const;

export interface Sample {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Decodes with the context the sample was made for. */
  readonly decode: (b: Uint8Array) => { readonly raw: Uint8Array };
  /** A DecodeError from this decoder names a message starting with this. */
  readonly messageName: string;
  /**
   * False when the format's tail has no length of its own (vendor-defined ERROR extended data),
   * so a longer prefix is itself a valid, shorter message.
   */
  readonly selfDelimiting: boolean;
  /** encode -> decode gives the fields back; decode -> encode gives the bytes back. */
  readonly roundTrip: () => void;
}

interface SampleSpec<T extends { readonly raw: Uint8Array }> {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Length the spec gives for this variant. */
  readonly length: number;
  readonly messageName: string;
  readonly decode: (b: Uint8Array) => T;
  readonly encode: (m: T) => Uint8Array;
  readonly fields: { readonly [K in keyof T]?: unknown };
  /** Expected Param1/Param2 bytes. */
  readonly params?: readonly [number, number];
  readonly selfDelimiting?: boolean;
}

function sample<T extends { readonly raw: Uint8Array }>(s: SampleSpec<T>): Sample {
  return {
    name: s.name,
    bytes: s.bytes,
    decode: s.decode,
    messageName: s.messageName,
    selfDelimiting: s.selfDelimiting ?? true,
    roundTrip: () => {
      assert.equal(s.bytes.length, s.length, `${s.name}: encoded length`);
      if (s.params) {
        assert.equal(s.bytes[2], s.params[0], `${s.name}: Param1`);
        assert.equal(s.bytes[3], s.params[1], `${s.name}: Param2`);
      }
      const m = s.decode(s.bytes);
      assert.equal(toHex(m.raw), toHex(s.bytes), `${s.name}: raw is the whole message`);
      const got = m as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(s.fields)) assert.deepEqual(got[k], v, `${s.name}: field ${k}`);
      assert.equal(toHex(s.encode(m)), toHex(s.bytes), `${s.name}: decode -> encode`);
    },
  };
}

/** Deterministic filler bytes. */
export function seq(n: number, start = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i * 7) & 0xff);
}

function vname(v: number): string {
  return `${v >> 4}.${v & 0xf}`;
}

const samples: Sample[] = [];
const add = <T extends { readonly raw: Uint8Array }>(s: SampleSpec<T>): void => {
  samples.push(sample(s));
};

// ---------------------------------------------------------------- GET_VERSION / VERSION
add({
  name: 'GET_VERSION',
  bytes: encodeGetVersion(),
  length: 4,
  messageName: 'GET_VERSION',
  decode: decodeGetVersion,
  encode: () => encodeGetVersion(),
  fields: { version: 0x10 },
  params: [0, 0],
});
for (const entries of [
  [{ major: 1, minor: 0, update: 0, alpha: 0 }],
  [
    { major: 1, minor: 0, update: 0, alpha: 0 },
    { major: 1, minor: 1, update: 0, alpha: 0 },
    { major: 1, minor: 2, update: 1, alpha: 0 },
    { major: 1, minor: 3, update: 0, alpha: 2 },
    { major: 1, minor: 4, update: 0, alpha: 0 },
  ],
]) {
  add({
    name: `VERSION ${entries.length} entries`,
    bytes: encodeVersion(entries),
    length: 6 + 2 * entries.length,
    messageName: 'VERSION',
    decode: decodeVersion,
    encode: (m) => encodeVersion(m.entries),
    fields: { version: 0x10, entries },
  });
}

// ---------------------------------------------------------------- GET_CAPABILITIES / CAPABILITIES
const reqFlags: Record<number, number> = { 0x10: 0, 0x11: 0x0000f7c6, 0x12: 0x0002f7c6, 0x13: 0x0882f7c6, 0x14: 0x8882f7c6 };
const rspFlags: Record<number, number> = { 0x10: 0x37, 0x11: 0x0000fbf7, 0x12: 0x001afbf7, 0x13: 0x399afbf7, 0x14: 0xb99afbf7 };
for (const v of VERSIONS) {
  const f: CapabilitiesFields = {
    version: v,
    ctExponent: v >= 0x11 ? 12 : 0,
    flags: reqFlags[v] ?? 0,
    dataTransferSize: v >= 0x12 ? 4096 : 0,
    maxSpdmMsgSize: v >= 0x12 ? 0x12000 : 0,
    extFlags: v >= 0x14 ? 0x0001 : 0,
    supportedAlgorithmsFlag: v >= 0x13,
  };
  add({
    name: `GET_CAPABILITIES ${vname(v)}`,
    bytes: encodeGetCapabilities(f),
    length: v === 0x10 ? 4 : v === 0x11 ? 12 : 20,
    messageName: 'GET_CAPABILITIES',
    decode: decodeGetCapabilities,
    encode: (m) => encodeGetCapabilities(m),
    fields: { ...f },
    params: [v >= 0x13 ? 1 : 0, 0],
  });
}

const structs13: AlgStruct[] = [
  { type: AlgType.DHE, supported: 0x1b, external: [] },
  { type: AlgType.AEAD, supported: 0x06, external: [] },
  { type: AlgType.REQ_BASE_ASYM, supported: 0x0f, external: [] },
  { type: AlgType.KEY_SCHEDULE, supported: 0x01, external: [] },
];
const structs14: AlgStruct[] = [
  { type: AlgType.DHE, supported: 0x1b, external: [{ registryId: 1, algorithmId: 0x0005 }] },
  { type: AlgType.AEAD, supported: 0x06, external: [] },
  { type: AlgType.REQ_BASE_ASYM, supported: 0x0f, external: [] },
  { type: AlgType.KEY_SCHEDULE, supported: 0x01, external: [] },
  { type: AlgType.REQ_PQC_ASYM, supported: 0x07, external: [] },
  { type: AlgType.KEM, supported: 0x07, external: [] },
];

for (const v of VERSIONS) {
  const f: CapabilitiesFields = {
    version: v,
    ctExponent: 14,
    flags: rspFlags[v] ?? 0,
    dataTransferSize: v >= 0x12 ? 0x1200 : 0,
    maxSpdmMsgSize: v >= 0x12 ? 0x10000 : 0,
    extFlags: 0,
    supportedAlgorithmsFlag: false,
  };
  add({
    name: `CAPABILITIES ${vname(v)}`,
    bytes: encodeCapabilities(f),
    length: v <= 0x11 ? 12 : 20,
    messageName: 'CAPABILITIES',
    decode: decodeCapabilities,
    encode: (m) => encodeCapabilities(m),
    fields: { ...f },
    params: [0, 0],
  });
}
{
  const offer13: AlgorithmOffer = {
    measurementSpec: 1,
    otherParams: 0x12,
    baseAsym: 0x90,
    baseHash: 0x03,
    melSpec: 1,
    extAsym: [],
    extHash: [],
    algStructs: structs13,
  };
  const offer14: AlgorithmOffer = {
    ...offer13,
    pqcAsym: 0x07,
    extAsym: [{ registryId: 4, algorithmId: 0x0102 }],
    extHash: [{ registryId: 4, algorithmId: 0x0304 }],
    algStructs: structs14,
  };
  // Block = Param1, Param2, Length (4) + the 26 bytes NEGOTIATE_ALGORITHMS has from offset 6 + ext algs + AlgStructs.
  for (const [v, offer, extFlags, len] of [
    [0x13, offer13, 0, 20 + 30 + 4 * 4],
    [0x14, offer14, 0x0001, 20 + 30 + 8 + 6 * 4 + 4],
  ] as const) {
    const f = {
      version: v,
      ctExponent: 14,
      flags: rspFlags[v] ?? 0,
      dataTransferSize: 0x1200,
      maxSpdmMsgSize: 0x10000,
      extFlags,
      supportedAlgorithmsFlag: true,
      supportedAlgorithms: offer,
    };
    add({
      name: `CAPABILITIES ${vname(v)} with SupportedAlgorithms`,
      bytes: encodeCapabilities(f),
      length: len,
      messageName: 'CAPABILITIES',
      decode: decodeCapabilities,
      encode: (m) => encodeCapabilities(m),
      fields: f,
      params: [1, 0],
    });
  }
}

// ---------------------------------------------------------------- NEGOTIATE_ALGORITHMS / ALGORITHMS
const structs11: AlgStruct[] = [
  { type: AlgType.DHE, supported: 0x1b, external: [{ registryId: 1, algorithmId: 0x0005 }] },
  { type: AlgType.AEAD, supported: 0x06, external: [] },
  { type: AlgType.REQ_BASE_ASYM, supported: 0x0f, external: [] },
  { type: AlgType.KEY_SCHEDULE, supported: 0x01, external: [] },
];
for (const v of VERSIONS) {
  const offer: AlgorithmOffer = {
    measurementSpec: 1,
    otherParams: v >= 0x13 ? 0x12 : v === 0x12 ? 0x02 : 0,
    baseAsym: 0x90,
    baseHash: 0x03,
    ...(v >= 0x14 ? { pqcAsym: 0x07 } : {}),
    melSpec: v >= 0x13 ? 1 : 0,
    extAsym: v === 0x10 ? [{ registryId: 4, algorithmId: 1 }] : [],
    extHash: v === 0x10 ? [{ registryId: 4, algorithmId: 2 }] : [],
    algStructs: v === 0x10 ? [] : v === 0x14 ? structs14 : structs11,
  };
  const structBytes = offer.algStructs.reduce((n, s) => n + 4 + 4 * s.external.length, 0);
  add({
    name: `NEGOTIATE_ALGORITHMS ${vname(v)}`,
    bytes: encodeNegotiateAlgorithms(v, offer),
    length: 32 + 4 * (offer.extAsym.length + offer.extHash.length) + structBytes,
    messageName: 'NEGOTIATE_ALGORITHMS',
    decode: decodeNegotiateAlgorithms,
    encode: (m) => encodeNegotiateAlgorithms(m.version, m),
    fields: { version: v, ...offer },
    params: [offer.algStructs.length, 0],
  });
}
for (const v of VERSIONS) {
  const structs: AlgStruct[] =
    v === 0x10
      ? []
      : [
          { type: AlgType.DHE, supported: 0x10, external: [] },
          { type: AlgType.AEAD, supported: 0x02, external: [] },
          { type: AlgType.REQ_BASE_ASYM, supported: 0x08, external: [] },
          { type: AlgType.KEY_SCHEDULE, supported: 0x01, external: [] },
          ...(v >= 0x14
            ? [
                { type: AlgType.REQ_PQC_ASYM, supported: 0, external: [] },
                { type: AlgType.KEM, supported: 0x02, external: [] },
              ]
            : []),
        ];
  const sel: AlgorithmsSelection & { extAsym: AlgorithmOffer['extAsym']; extHash: AlgorithmOffer['extHash'] } = {
    measurementSpec: 1,
    otherParams: v >= 0x13 ? 0x12 : v === 0x12 ? 0x02 : 0,
    measurementHash: 0x08,
    baseAsym: 0x80,
    baseHash: 0x02,
    ...(v >= 0x14 ? { pqcAsym: 0x02 } : {}),
    melSpec: v >= 0x13 ? 1 : 0,
    extAsym: v === 0x11 ? [{ registryId: 4, algorithmId: 7 }] : [],
    extHash: v === 0x11 ? [{ registryId: 4, algorithmId: 8 }] : [],
    algStructs: structs,
  };
  add({
    name: `ALGORITHMS ${vname(v)}`,
    bytes: encodeAlgorithms(v, sel),
    length: 36 + 4 * (sel.extAsym.length + sel.extHash.length) + 4 * structs.length,
    messageName: 'ALGORITHMS',
    decode: decodeAlgorithms,
    encode: (m) => encodeAlgorithms(m.version, m),
    fields: { version: v, ...sel },
    params: [structs.length, 0],
  });
}

// ---------------------------------------------------------------- GET_DIGESTS / DIGESTS
for (const v of VERSIONS) {
  add({
    name: `GET_DIGESTS ${vname(v)}`,
    bytes: encodeGetDigests(v),
    length: 4,
    messageName: 'GET_DIGESTS',
    decode: decodeGetDigests,
    encode: (m) => encodeGetDigests(m.version),
    fields: { version: v },
  });
}
{
  const cases: { v: number; hash: number; multi: boolean; supported?: number; digests: SlotDigest[] }[] = [
    { v: 0x10, hash: 48, multi: false, digests: [0, 1].map((slot) => ({ slot, digest: seq(48, slot) })) },
    { v: 0x11, hash: 32, multi: false, digests: [{ slot: 0, digest: seq(32, 9) }] },
    { v: 0x12, hash: 32, multi: false, digests: [0, 7].map((slot) => ({ slot, digest: seq(32, slot) })) },
    { v: 0x13, hash: 48, multi: false, supported: 0xff, digests: [0, 1, 4].map((slot) => ({ slot, digest: seq(48, slot) })) },
    { v: 0x13, hash: 48, multi: false, supported: 0x01, digests: [] },
    {
      v: 0x13,
      hash: 48,
      multi: true,
      supported: 0x13,
      digests: [0, 1, 4].map((slot) => ({ slot, digest: seq(48, slot), keyPairId: slot + 1, certificateInfo: 1 + (slot % 3), keyUsageMask: 0x000f ^ slot })),
    },
    {
      v: 0x14,
      hash: 64,
      multi: true,
      supported: 0x0c,
      digests: [{ slot: 2, digest: seq(64, 2), keyPairId: 9, certificateInfo: 3, keyUsageMask: 0xc001 }],
    },
  ];
  for (const c of cases) {
    const n = c.digests.length;
    const mask = c.digests.reduce((m, d) => m | (1 << d.slot), 0);
    add({
      name: `DIGESTS ${vname(c.v)} ${n} slot(s)${c.multi ? ' multi-key' : ''}`,
      bytes: encodeDigests(c.v, { ...(c.supported !== undefined ? { supportedSlotMask: c.supported } : {}), digests: c.digests }, c.multi),
      length: 4 + n * c.hash + (c.multi ? 4 * n : 0),
      messageName: 'DIGESTS',
      decode: (b: Uint8Array) => decodeDigests(b, { hashSize: c.hash, multiKeyConn: c.multi }),
      encode: (m) => encodeDigests(m.version, m, c.multi),
      fields: { version: c.v, supportedSlotMask: c.supported ?? 0, provisionedSlotMask: mask, digests: c.digests },
      params: [c.supported ?? 0, mask],
    });
  }
}

// ---------------------------------------------------------------- GET_CERTIFICATE / CERTIFICATE
{
  const cases = [
    { v: 0x10, slot: 1, offset: 0x100, length: 0x400, slotSizeRequested: false, large: false, params: [1, 0] },
    { v: 0x12, slot: 7, offset: 0, length: 0xffff, slotSizeRequested: false, large: false, params: [7, 0] },
    { v: 0x13, slot: 2, offset: 0, length: 0, slotSizeRequested: true, large: false, params: [2, 1] },
    { v: 0x14, slot: 3, offset: 0x0400, length: 0x0800, slotSizeRequested: false, large: false, params: [3, 0] },
    { v: 0x14, slot: 4, offset: 0x12345, length: 0x27ff0, slotSizeRequested: false, large: true, params: [0x84, 0] },
  ] as const;
  for (const c of cases) {
    add({
      name: `GET_CERTIFICATE ${vname(c.v)}${c.large ? ' large' : ''}${c.slotSizeRequested ? ' SlotSizeRequested' : ''}`,
      bytes: encodeGetCertificate(c.v, c),
      length: c.large ? 16 : 8,
      messageName: 'GET_CERTIFICATE',
      decode: decodeGetCertificate,
      encode: (m) => encodeGetCertificate(m.version, m),
      fields: { version: c.v, slot: c.slot, offset: c.offset, length: c.length, slotSizeRequested: c.slotSizeRequested, large: c.large },
      params: c.params,
    });
  }
}
{
  const cases = [
    { v: 0x10, slot: 0, certModel: 0, portion: seq(100), remainderLength: 0x200, large: false, params: [0, 0] },
    { v: 0x12, slot: 5, certModel: 0, portion: seq(0x400, 3), remainderLength: 0, large: false, params: [5, 0] },
    // 1.3 SlotSizeRequested answer: no portion, the whole chain size as remainder.
    { v: 0x13, slot: 3, certModel: 2, portion: new Uint8Array(0), remainderLength: 0x677, large: false, params: [3, 2] },
    { v: 0x14, slot: 4, certModel: 1, portion: seq(300, 5), remainderLength: 70000, large: true, params: [0x84, 1] },
  ] as const;
  for (const c of cases) {
    add({
      name: `CERTIFICATE ${vname(c.v)}${c.large ? ' large' : ''} portion ${c.portion.length}`,
      bytes: encodeCertificate(c.v, c),
      length: (c.large ? 16 : 8) + c.portion.length,
      messageName: 'CERTIFICATE',
      decode: decodeCertificate,
      encode: (m) => encodeCertificate(m.version, m),
      fields: { version: c.v, slot: c.slot, certModel: c.certModel, portion: c.portion, remainderLength: c.remainderLength, large: c.large },
      params: c.params,
    });
  }
}

// ---------------------------------------------------------------- CHALLENGE / CHALLENGE_AUTH
{
  const cases = [
    { v: 0x10, slot: 0, msh: 0x00 },
    { v: 0x11, slot: 1, msh: 0x01 },
    { v: 0x12, slot: 0xff, msh: 0xff },
    { v: 0x13, slot: 3, msh: 0x01 },
    { v: 0x14, slot: 0, msh: 0xff },
  ];
  for (const c of cases) {
    const nonce = seq(32, c.v);
    const requesterContext = c.v >= 0x13 ? seq(8, 0x11) : undefined;
    add({
      name: `CHALLENGE ${vname(c.v)} slot ${c.slot} type ${c.msh}`,
      bytes: encodeChallenge(c.v, { slot: c.slot, measurementSummaryHashType: c.msh, nonce, ...(requesterContext ? { requesterContext } : {}) }),
      length: c.v >= 0x13 ? 44 : 36,
      messageName: 'CHALLENGE',
      decode: decodeChallenge,
      encode: (m) => encodeChallenge(m.version, m),
      fields: { version: c.v, slot: c.slot, measurementSummaryHashType: c.msh, nonce, requesterContext },
      params: [c.slot, c.msh],
    });
  }
}
{
  const opaque12 = encodeOpaqueData([{ registryId: 0, vendorId: new Uint8Array(0), data: seq(6, 0x40) }]);
  const cases = [
    { v: 0x10, H: 48, S: 96, slot: 0, p1: 0x00, mut: false, mask: 0x03, msh: false, opaque: new Uint8Array(0) },
    { v: 0x11, H: 32, S: 64, slot: 1, p1: 0x81, mut: true, mask: 0x02, msh: true, opaque: new Uint8Array(0) },
    { v: 0x12, H: 48, S: 384, slot: 0, p1: 0x00, mut: false, mask: 0x01, msh: false, opaque: opaque12 },
    // libspdm 1.2+ still sets BasicMutAuthReq (seen in the doe-v13 / doe-default captures).
    { v: 0x13, H: 48, S: 96, slot: 0, p1: 0x80, mut: true, mask: 0x13, msh: true, opaque: new Uint8Array(0) },
    // Slot 0xFF (provisioned public key): Param1 slot nibble 0xF, no slot mask.
    { v: 0x14, H: 64, S: 132, slot: 0x0f, p1: 0x0f, mut: false, mask: 0x00, msh: true, opaque: opaque12 },
  ];
  for (const c of cases) {
    const certChainHash = seq(c.H, 0x20);
    const nonce = seq(32, 0x30);
    const measurementSummaryHash = c.msh ? seq(c.H, 0x50) : undefined;
    const requesterContext = c.v >= 0x13 ? seq(8, 0x11) : undefined;
    const signature = seq(c.S, 0x60);
    const fields = {
      slot: c.v === 0x14 ? 0xff : c.slot,
      basicMutAuthRequested: c.mut,
      slotMask: c.mask,
      certChainHash,
      nonce,
      ...(measurementSummaryHash ? { measurementSummaryHash } : {}),
      opaqueData: c.opaque,
      ...(requesterContext ? { requesterContext } : {}),
    };
    const { message, unsigned } = encodeChallengeAuth(c.v, fields, signature);
    const unsignedLength = 4 + c.H + 32 + (c.msh ? c.H : 0) + 2 + c.opaque.length + (c.v >= 0x13 ? 8 : 0);
    assert.equal(unsigned.length, unsignedLength);
    add({
      name: `CHALLENGE_AUTH ${vname(c.v)}${c.msh ? ' with summary hash' : ''}${c.opaque.length ? ' with opaque' : ''}`,
      bytes: message,
      length: unsignedLength + c.S,
      messageName: 'CHALLENGE_AUTH',
      decode: (b: Uint8Array) => decodeChallengeAuth(b, { hashSize: c.H, signatureSize: c.S, measurementSummaryHashRequested: c.msh }),
      encode: (m) => encodeChallengeAuth(m.version, m, m.signature).message,
      fields: {
        version: c.v,
        slot: c.slot,
        basicMutAuthRequested: c.mut,
        slotMask: c.mask,
        certChainHash,
        nonce,
        measurementSummaryHash,
        opaqueData: c.opaque,
        requesterContext,
        signature,
        unsigned,
      },
      params: [c.p1, c.mask],
    });
  }
}

// ---------------------------------------------------------------- GET_MEASUREMENTS / MEASUREMENTS
{
  const cases = [
    { v: 0x10, attrs: 0x00, op: 0x00, slot: undefined, len: 4 },
    { v: 0x10, attrs: 0x01, op: 0xff, slot: undefined, len: 36 },
    { v: 0x11, attrs: 0x01, op: 0x01, slot: 3, len: 37 },
    { v: 0x12, attrs: 0x02, op: 0xfe, slot: undefined, len: 4 },
    { v: 0x12, attrs: 0x01, op: 0x05, slot: 0x0f, len: 37 },
    { v: 0x13, attrs: 0x00, op: 0x00, slot: undefined, len: 12 },
    { v: 0x13, attrs: 0x05, op: 0xff, slot: 1, len: 45 },
    { v: 0x14, attrs: 0x03, op: 0x02, slot: 0, len: 45 },
  ];
  for (const c of cases) {
    const signed = (c.attrs & 1) === 1;
    const nonce = signed ? seq(32, 0x70) : undefined;
    const requesterContext = c.v >= 0x13 ? seq(8, 0x11) : undefined;
    const m = { attributes: c.attrs, operation: c.op, ...(nonce ? { nonce } : {}), ...(c.slot !== undefined ? { slot: c.slot } : {}), ...(requesterContext ? { requesterContext } : {}) };
    add({
      name: `GET_MEASUREMENTS ${vname(c.v)} attrs ${c.attrs} op ${c.op}`,
      bytes: encodeGetMeasurements(c.v, m),
      length: c.len,
      messageName: 'GET_MEASUREMENTS',
      decode: decodeGetMeasurements,
      encode: (d) => encodeGetMeasurements(d.version, d),
      fields: { version: c.v, attributes: c.attrs, signatureRequested: signed, operation: c.op, nonce, slot: c.slot, requesterContext },
      params: [c.attrs, c.op],
    });
  }
}

/** A block with a non-DMTF MeasurementSpecification: the measurement is opaque bytes. */
export function rawSpecBlock(index: number, spec: number, measurement: Uint8Array): Uint8Array {
  return new Writer(4 + measurement.length).u8(index).u8(spec).u16(measurement.length).bytes(measurement).finish();
}

/** Re-encodes a decoded measurement block. */
export function encodeBlock(b: MeasurementBlock): Uint8Array {
  return b.dmtf ? encodeDmtfBlock(b.index, b.dmtf) : rawSpecBlock(b.index, b.spec, b.measurement);
}

interface BlockDef {
  readonly index: number;
  readonly spec: number;
  readonly dmtf?: DmtfMeasurement;
  /** For a non-DMTF specification: the opaque measurement. */
  readonly measurement?: Uint8Array;
}

function blockBytes(d: BlockDef): Uint8Array {
  return d.dmtf ? encodeDmtfBlock(d.index, d.dmtf) : rawSpecBlock(d.index, d.spec, d.measurement ?? new Uint8Array(0));
}

/** The MeasurementBlock a decoder must return for a block definition. */
function expectedBlock(d: BlockDef): MeasurementBlock {
  const bytes = blockBytes(d);
  return { index: d.index, spec: d.spec, measurement: bytes.subarray(4), ...(d.dmtf ? { dmtf: d.dmtf } : {}), bytes };
}

const digestDef: BlockDef = { index: 1, spec: 1, dmtf: { raw: false, type: 0, value: seq(48, 0x80) } };
const rawDef: BlockDef = { index: 2, spec: 1, dmtf: { raw: true, type: 6, value: new TextEncoder().encode('fw-1.2.3') } };
const deviceModeDef: BlockDef = { index: 0xfe, spec: 1, dmtf: { raw: true, type: 5, value: seq(16, 0x90) } };
const vendorSpecDef: BlockDef = { index: 0x10, spec: 0x00, measurement: seq(9, 0xa0) };
const digestBlock = blockBytes(digestDef);
const rawBlock = blockBytes(rawDef);
const deviceModeBlock = blockBytes(deviceModeDef);
const vendorSpecBlock = blockBytes(vendorSpecDef);

{
  const opaque = encodeOpaqueData([{ registryId: 3, vendorId: Uint8Array.of(0x01, 0x00), data: seq(3, 0xb0) }]);
  const cases = [
    { v: 0x10, total: 8, slot: 0, cc: 0, blocks: [] as Uint8Array[], opaque: new Uint8Array(0), S: 0 },
    { v: 0x10, total: 0, slot: 0, cc: 0, blocks: [digestBlock], opaque: new Uint8Array(0), S: 96 },
    { v: 0x11, total: 0, slot: 0, cc: 0, blocks: [digestBlock, rawBlock], opaque: new Uint8Array(0), S: 0 },
    { v: 0x12, total: 0, slot: 2, cc: 2, blocks: [digestBlock, rawBlock, vendorSpecBlock], opaque, S: 64 },
    { v: 0x13, total: 0, slot: 0, cc: 1, blocks: [deviceModeBlock], opaque: new Uint8Array(0), S: 0 },
    { v: 0x13, total: 0, slot: 0x0f, cc: 2, blocks: [digestBlock, deviceModeBlock], opaque, S: 96 },
    { v: 0x14, total: 0, slot: 1, cc: 2, blocks: [rawBlock], opaque: new Uint8Array(0), S: 384 },
  ];
  for (const c of cases) {
    const record = concat(c.blocks);
    const nonce = seq(32, 0xc0);
    const requesterContext = c.v >= 0x13 ? seq(8, 0x11) : undefined;
    const signature = c.S ? seq(c.S, 0xd0) : undefined;
    const { message, unsigned } = encodeMeasurements(
      c.v,
      { totalIndices: c.total, slot: c.slot, contentChanged: c.cc, numberOfBlocks: c.blocks.length, record, nonce, opaqueData: c.opaque, ...(requesterContext ? { requesterContext } : {}) },
      signature,
    );
    const unsignedLength = 8 + record.length + 32 + 2 + c.opaque.length + (c.v >= 0x13 ? 8 : 0);
    assert.equal(unsigned.length, unsignedLength);
    add({
      name: `MEASUREMENTS ${vname(c.v)} ${c.blocks.length} block(s)${signature ? ' signed' : ''}${c.opaque.length ? ' with opaque' : ''}`,
      bytes: message,
      length: unsignedLength + c.S,
      messageName: 'MEASUREMENTS',
      decode: (b: Uint8Array) => decodeMeasurements(b, { signatureRequested: c.S > 0, signatureSize: c.S }),
      encode: (m) => encodeMeasurements(m.version, m, m.signature).message,
      fields: {
        version: c.v,
        totalIndices: c.total,
        slot: c.v >= 0x11 ? c.slot : 0,
        contentChanged: c.v >= 0x12 ? c.cc : 0,
        numberOfBlocks: c.blocks.length,
        record,
        nonce,
        opaqueData: c.opaque,
        requesterContext,
        signature,
        unsigned,
      },
      params: [c.total, (c.v >= 0x11 ? c.slot : 0) | (c.v >= 0x12 ? c.cc << 4 : 0)],
    });
  }
}

// Measurement records on their own: DMTF digest, DMTF raw bit stream, non-DMTF specification.
for (const defs of [[digestDef], [rawDef, deviceModeDef], [digestDef, vendorSpecDef, rawDef]]) {
  const record = concat(defs.map(blockBytes));
  add({
    name: `measurement record of ${defs.length} block(s)`,
    bytes: record,
    length: defs.reduce((n, d) => n + 4 + (d.dmtf ? 3 + d.dmtf.value.length : (d.measurement?.length ?? 0)), 0),
    messageName: 'MEASUREMENTS',
    decode: (b: Uint8Array) => ({ raw: b, blocks: decodeMeasurementRecord(b, defs.length) }),
    encode: (m) => concat(m.blocks.map(encodeBlock)),
    fields: { blocks: defs.map(expectedBlock) },
  });
}

// ---------------------------------------------------------------- ERROR / RESPOND_IF_READY
export const EXTENDED_ERROR_DATA: Readonly<Record<number, Uint8Array>> = {
  [ErrorCode.ResponseNotReady]: Uint8Array.of(12, 0x83, 7, 3),
  [ErrorCode.ResponseTooLarge]: Uint8Array.of(0x45, 0x23, 0x01, 0x00),
  [ErrorCode.LargeResponse]: Uint8Array.of(9),
  // Vendor/other standard: {VendorIDLen, VendorID, opaque}; no length of its own.
  [ErrorCode.VendorDefined]: Uint8Array.of(2, 0x01, 0x00, 0xaa, 0xbb),
};
Object.entries(ErrorCode).forEach(([name, code], i) => {
  const v = VERSIONS[i % VERSIONS.length] ?? 0x12;
  const ext = EXTENDED_ERROR_DATA[code] ?? new Uint8Array(0);
  const errorData = code === ErrorCode.UnsupportedRequest ? 0xe4 : code === ErrorCode.VendorDefined ? 3 : 0;
  const bytes = code === ErrorCode.ResponseNotReady
    ? encodeResponseNotReady(v, { rdtExponent: 12, requestCode: 0x83, token: 7, rdtm: 3 })
    : encodeError(v, code, errorData, ext);
  add({
    name: `ERROR ${vname(v)} ${name}`,
    bytes,
    length: 4 + ext.length,
    messageName: 'ERROR',
    decode: decodeError,
    encode: (m) => encodeError(m.version, m.errorCode, m.errorData, m.extendedData),
    fields: {
      version: v,
      errorCode: code,
      errorData,
      extendedData: ext,
      notReady: code === ErrorCode.ResponseNotReady ? { rdtExponent: 12, requestCode: 0x83, token: 7, rdtm: 3 } : undefined,
      responseSize: code === ErrorCode.ResponseTooLarge ? 0x12345 : undefined,
      largeResponseHandle: code === ErrorCode.LargeResponse ? 9 : undefined,
    },
    params: [code, errorData],
    selfDelimiting: code !== ErrorCode.VendorDefined,
  });
});
for (const [v, requestCode, token] of [
  [0x10, 0x83, 7],
  [0x13, 0xe0, 0xff],
] as const) {
  add({
    name: `RESPOND_IF_READY ${vname(v)}`,
    bytes: encodeRespondIfReady(v, requestCode, token),
    length: 4,
    messageName: 'RESPOND_IF_READY',
    decode: decodeRespondIfReady,
    encode: (m) => encodeRespondIfReady(m.version, m.requestCode, m.token),
    fields: { version: v, requestCode, token },
    params: [requestCode, token],
  });
}

// ---------------------------------------------------------------- opaque data
{
  const none = new Uint8Array(0);
  const elementSets: { name: string; elements: OpaqueElement[]; length: number }[] = [
    { name: 'no elements', elements: [], length: 4 },
    // Element sizes 1+1+VendorLen+2+DataLen: 9 (pad 3), 8 (pad 0), 7 (pad 1), 10 (pad 2).
    {
      name: 'paddings 3/0/1/2',
      elements: [
        { registryId: 0, vendorId: none, data: seq(5, 1) },
        { registryId: 0, vendorId: none, data: seq(4, 2) },
        { registryId: 3, vendorId: Uint8Array.of(0x01, 0x00), data: seq(1, 3) },
        { registryId: 4, vendorId: Uint8Array.of(1, 2, 3, 4), data: seq(2, 4) },
      ],
      length: 4 + 12 + 8 + 8 + 12,
    },
    // DSP0277 SupportedVersion(1.0, 1.1) and AEADLimit(64) elements, as libspdm sends them.
    {
      name: 'DSP0277 elements',
      elements: [
        { registryId: 0, vendorId: none, data: Uint8Array.of(1, 1, 2, 0x00, 0x10, 0x00, 0x11) },
        { registryId: 0, vendorId: none, data: Uint8Array.of(1, 2, 64) },
      ],
      length: 4 + 12 + 8,
    },
  ];
  for (const format of ['general', 'dsp0277-1.0'] as const) {
    for (const set of elementSets) {
      add({
        name: `opaque data ${format} ${set.name}`,
        bytes: encodeOpaqueData(set.elements, format),
        length: set.length + (format === 'general' ? 0 : 4),
        messageName: 'OpaqueData',
        decode: (b: Uint8Array) => ({ raw: b, ...decodeOpaqueData(b) }),
        encode: (m) => encodeOpaqueData(m.elements, m.format),
        fields: { format, elements: set.elements },
      });
    }
  }
}

export const SAMPLES: readonly Sample[] = samples;
