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
  DmtfEventType,
  EncapPayloadType,
  KeyPairOperation,
  KeyUpdateOperation,
  decodeChunkGet,
  decodeChunkResponse,
  decodeChunkSend,
  decodeChunkSendAck,
  decodeCsr,
  decodeDeliverEncapsulatedResponse,
  decodeDeviceClassIdentifier,
  decodeDmtfMel,
  decodeEncapsulatedRequest,
  decodeEncapsulatedResponseAck,
  decodeEndSession,
  decodeEndSessionAck,
  decodeEndpointInfo,
  decodeEventAck,
  decodeFinish,
  decodeFinishRsp,
  decodeGetCsr,
  decodeGetEncapsulatedRequest,
  decodeGetEndpointInfo,
  decodeGetKeyPairInfo,
  decodeGetMeasurementExtensionLog,
  decodeGetSupportedEventTypes,
  decodeHeartbeat,
  decodeHeartbeatAck,
  decodeKeyExchange,
  decodeKeyExchangeRsp,
  decodeKeyPairInfo,
  decodeKeyUpdate,
  decodeKeyUpdateAck,
  decodeMeasurementExtensionLog,
  decodePskExchange,
  decodePskExchangeRsp,
  decodePskFinish,
  decodePskFinishRsp,
  decodeSendEvent,
  decodeSetCertificate,
  decodeSetCertificateRsp,
  decodeSetKeyPairInfo,
  decodeSetKeyPairInfoAck,
  decodeSubscribeEventTypes,
  decodeSubscribeEventTypesAck,
  decodeSupportedEventTypes,
  decodeVendorDefinedRequest,
  decodeVendorDefinedResponse,
  encodeChunkGet,
  encodeChunkResponse,
  encodeChunkSend,
  encodeChunkSendAck,
  encodeCsr,
  encodeDeliverEncapsulatedResponse,
  encodeDeviceClassIdentifier,
  encodeDmtfMel,
  encodeEncapsulatedRequest,
  encodeEncapsulatedResponseAck,
  encodeEndSession,
  encodeEndSessionAck,
  encodeEndpointInfo,
  encodeEventAck,
  encodeFinish,
  encodeFinishRsp,
  encodeGetCsr,
  encodeGetEncapsulatedRequest,
  encodeGetEndpointInfo,
  encodeGetKeyPairInfo,
  encodeGetMeasurementExtensionLog,
  encodeGetSupportedEventTypes,
  encodeHeartbeat,
  encodeHeartbeatAck,
  encodeKeyExchange,
  encodeKeyExchangeRsp,
  encodeKeyPairInfo,
  encodeKeyUpdate,
  encodeKeyUpdateAck,
  encodeMeasurementExtensionLog,
  encodePskExchange,
  encodePskExchangeRsp,
  encodePskFinish,
  encodePskFinishRsp,
  encodeSendEvent,
  encodeSetCertificate,
  encodeSetCertificateRsp,
  encodeSetKeyPairInfo,
  encodeSetKeyPairInfoAck,
  encodeSubscribeEventTypes,
  encodeSubscribeEventTypesAck,
  encodeSupportedEventTypes,
  encodeVendorDefinedRequest,
  encodeVendorDefinedResponse,
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
  /**
   * Prefix lengths that are themselves valid (shorter) messages: a nested message is optional
   * (ENCAPSULATED_REQUEST header only, CHUNK_SEND_ACK without a response), so the prefix that
   * stops right before it decodes, to a message no longer than the prefix.
   */
  readonly prefixDecodes?: (n: number) => boolean;
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
  readonly prefixDecodes?: (n: number) => boolean;
}

function sample<T extends { readonly raw: Uint8Array }>(s: SampleSpec<T>): Sample {
  return {
    name: s.name,
    bytes: s.bytes,
    decode: s.decode,
    messageName: s.messageName,
    selfDelimiting: s.selfDelimiting ?? true,
    ...(s.prefixDecodes ? { prefixDecodes: s.prefixDecodes } : {}),
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
const reqFlags: Record<number, number> = {
  0x10: 0,
  0x11: 0x0000f7c6,
  0x12: 0x0002f7c6,
  0x13: 0x0882f7c6,
  0x14: 0x8882f7c6,
};
const rspFlags: Record<number, number> = {
  0x10: 0x37,
  0x11: 0x0000fbf7,
  0x12: 0x001afbf7,
  0x13: 0x399afbf7,
  0x14: 0xb99afbf7,
};
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
    {
      v: 0x13,
      hash: 48,
      multi: false,
      supported: 0xff,
      digests: [0, 1, 4].map((slot) => ({ slot, digest: seq(48, slot) })),
    },
    { v: 0x13, hash: 48, multi: false, supported: 0x01, digests: [] },
    {
      v: 0x13,
      hash: 48,
      multi: true,
      supported: 0x13,
      digests: [0, 1, 4].map((slot) => ({
        slot,
        digest: seq(48, slot),
        keyPairId: slot + 1,
        certificateInfo: 1 + (slot % 3),
        keyUsageMask: 0x000f ^ slot,
      })),
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
      bytes: encodeDigests(
        c.v,
        { ...(c.supported !== undefined ? { supportedSlotMask: c.supported } : {}), digests: c.digests },
        c.multi,
      ),
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
      fields: {
        version: c.v,
        slot: c.slot,
        offset: c.offset,
        length: c.length,
        slotSizeRequested: c.slotSizeRequested,
        large: c.large,
      },
      params: c.params,
    });
  }
}
{
  const cases = [
    { v: 0x10, slot: 0, certModel: 0, portion: seq(100), remainderLength: 0x200, large: false, params: [0, 0] },
    { v: 0x12, slot: 5, certModel: 0, portion: seq(0x400, 3), remainderLength: 0, large: false, params: [5, 0] },
    // 1.3 SlotSizeRequested answer: no portion, the whole chain size as remainder.
    {
      v: 0x13,
      slot: 3,
      certModel: 2,
      portion: new Uint8Array(0),
      remainderLength: 0x677,
      large: false,
      params: [3, 2],
    },
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
      fields: {
        version: c.v,
        slot: c.slot,
        certModel: c.certModel,
        portion: c.portion,
        remainderLength: c.remainderLength,
        large: c.large,
      },
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
      bytes: encodeChallenge(c.v, {
        slot: c.slot,
        measurementSummaryHashType: c.msh,
        nonce,
        ...(requesterContext ? { requesterContext } : {}),
      }),
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
    // Slot 0xFF (provisioned public key): Param1 slot nibble 0xF, no slot mask; decoded as 0xFF again.
    { v: 0x14, H: 64, S: 132, slot: 0xff, p1: 0x0f, mut: false, mask: 0x00, msh: true, opaque: opaque12 },
  ];
  for (const c of cases) {
    const certChainHash = seq(c.H, 0x20);
    const nonce = seq(32, 0x30);
    const measurementSummaryHash = c.msh ? seq(c.H, 0x50) : undefined;
    const requesterContext = c.v >= 0x13 ? seq(8, 0x11) : undefined;
    const signature = seq(c.S, 0x60);
    const fields = {
      slot: c.slot,
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
      decode: (b: Uint8Array) =>
        decodeChallengeAuth(b, { hashSize: c.H, signatureSize: c.S, measurementSummaryHashRequested: c.msh }),
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
    // Slot 0xFF (provisioned public key) is SlotIDParam 0xF on the wire, 0xFF decoded.
    { v: 0x12, attrs: 0x01, op: 0x05, slot: 0xff, len: 37 },
    { v: 0x13, attrs: 0x00, op: 0x00, slot: undefined, len: 12 },
    { v: 0x13, attrs: 0x05, op: 0xff, slot: 1, len: 45 },
    { v: 0x14, attrs: 0x03, op: 0x02, slot: 0, len: 45 },
  ];
  for (const c of cases) {
    const signed = (c.attrs & 1) === 1;
    const nonce = signed ? seq(32, 0x70) : undefined;
    const requesterContext = c.v >= 0x13 ? seq(8, 0x11) : undefined;
    const m = {
      attributes: c.attrs,
      operation: c.op,
      ...(nonce ? { nonce } : {}),
      ...(c.slot !== undefined ? { slot: c.slot } : {}),
      ...(requesterContext ? { requesterContext } : {}),
    };
    add({
      name: `GET_MEASUREMENTS ${vname(c.v)} attrs ${c.attrs} op ${c.op}`,
      bytes: encodeGetMeasurements(c.v, m),
      length: c.len,
      messageName: 'GET_MEASUREMENTS',
      decode: decodeGetMeasurements,
      encode: (d) => encodeGetMeasurements(d.version, d),
      fields: {
        version: c.v,
        attributes: c.attrs,
        signatureRequested: signed,
        operation: c.op,
        nonce,
        slot: c.slot,
        requesterContext,
      },
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
const rawDef: BlockDef = {
  index: 2,
  spec: 1,
  dmtf: { raw: true, type: 6, value: new TextEncoder().encode('fw-1.2.3') },
};
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
    { v: 0x13, total: 0, slot: 0xff, cc: 2, blocks: [digestBlock, deviceModeBlock], opaque, S: 96 },
    { v: 0x14, total: 0, slot: 1, cc: 2, blocks: [rawBlock], opaque: new Uint8Array(0), S: 384 },
  ];
  for (const c of cases) {
    const record = concat(c.blocks);
    const nonce = seq(32, 0xc0);
    const requesterContext = c.v >= 0x13 ? seq(8, 0x11) : undefined;
    const signature = c.S ? seq(c.S, 0xd0) : undefined;
    const { message, unsigned } = encodeMeasurements(
      c.v,
      {
        totalIndices: c.total,
        slot: c.slot,
        contentChanged: c.cc,
        numberOfBlocks: c.blocks.length,
        record,
        nonce,
        opaqueData: c.opaque,
        ...(requesterContext ? { requesterContext } : {}),
      },
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
      params: [c.total, (c.v >= 0x11 ? c.slot & 0x0f : 0) | (c.v >= 0x12 ? c.cc << 4 : 0)],
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
  const bytes =
    code === ErrorCode.ResponseNotReady
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
      notReady:
        code === ErrorCode.ResponseNotReady ? { rdtExponent: 12, requestCode: 0x83, token: 7, rdtm: 3 } : undefined,
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

// ================================================================ 1.1+ sessions, encapsulation, 1.2/1.3/1.4 additions
const none = new Uint8Array(0);
/** A NestedDecoder from a plain decoder. */
function nd<T extends { readonly raw: Uint8Array }>(
  decode: (b: Uint8Array) => T,
): (b: Uint8Array) => { value: T; raw: Uint8Array } {
  return (b) => {
    const value = decode(b);
    return { value, raw: value.raw };
  };
}
/** DSP0277 SupportedVersion(1.0, 1.1) opaque data, in the form each version uses. */
const smOpaque11 = encodeOpaqueData(
  [{ registryId: 0, vendorId: none, data: Uint8Array.of(1, 1, 2, 0x00, 0x10, 0x00, 0x11) }],
  'dsp0277-1.0',
);
const smOpaque12 = encodeOpaqueData([
  { registryId: 0, vendorId: none, data: Uint8Array.of(1, 1, 2, 0x00, 0x10, 0x00, 0x11) },
  { registryId: 0, vendorId: none, data: Uint8Array.of(1, 2, 64) },
]);

// ---------------------------------------------------------------- KEY_EXCHANGE / KEY_EXCHANGE_RSP
for (const c of [
  { v: 0x11, D: 64, msh: 0x00, slot: 0, policy: 0, opaque: smOpaque11 },
  { v: 0x12, D: 96, msh: 0xff, slot: 0xff, policy: 1, opaque: smOpaque12 },
  { v: 0x13, D: 256, msh: 0x01, slot: 3, policy: 3, opaque: smOpaque12 },
  // 1.4 ML-KEM-512: the requester sends its encapsulation key.
  { v: 0x14, D: 800, msh: 0x00, slot: 1, policy: 2, opaque: none },
]) {
  const f = {
    measurementSummaryHashType: c.msh,
    slot: c.slot,
    reqSessionId: 0xfffe,
    sessionPolicy: c.policy,
    randomData: seq(32, 0x21),
    exchangeData: seq(c.D, 0x33),
    opaqueData: c.opaque,
  };
  add({
    name: `KEY_EXCHANGE ${vname(c.v)} D=${c.D}`,
    bytes: encodeKeyExchange(c.v, f),
    length: 40 + c.D + 2 + c.opaque.length,
    messageName: 'KEY_EXCHANGE',
    decode: (b: Uint8Array) => decodeKeyExchange(b, { exchangeDataSize: c.D }),
    encode: (m) => encodeKeyExchange(m.version, m),
    fields: { version: c.v, ...f },
    params: [c.msh, c.slot],
  });
}
for (const c of [
  { v: 0x11, D: 64, H: 32, S: 64, msh: false, clear: false, opaque: smOpaque11, mut: 0x00 },
  { v: 0x12, D: 96, H: 48, S: 96, msh: true, clear: false, opaque: smOpaque12, mut: 0x01 },
  { v: 0x13, D: 96, H: 48, S: 96, msh: true, clear: true, opaque: smOpaque12, mut: 0x02 },
  // 1.4 ML-KEM-512 ciphertext, ML-DSA-44 signature.
  { v: 0x14, D: 768, H: 64, S: 2420, msh: false, clear: true, opaque: none, mut: 0x04 },
]) {
  const measurementSummaryHash = c.msh ? seq(c.H, 0x44) : undefined;
  const responderVerifyData = c.clear ? undefined : seq(c.H, 0x55);
  const f = {
    heartbeatPeriod: 0xf0,
    rspSessionId: 0xfffd,
    mutAuthRequested: c.mut,
    reqSlotIdParam: c.mut ? 0x02 : 0,
    randomData: seq(32, 0x22),
    exchangeData: seq(c.D, 0x34),
    ...(measurementSummaryHash ? { measurementSummaryHash } : {}),
    opaqueData: c.opaque,
    signature: seq(c.S, 0x66),
    ...(responderVerifyData ? { responderVerifyData } : {}),
  };
  const unsignedLength = 40 + c.D + (c.msh ? c.H : 0) + 2 + c.opaque.length;
  const bytes = encodeKeyExchangeRsp(c.v, f);
  add({
    name: `KEY_EXCHANGE_RSP ${vname(c.v)}${c.msh ? ' with summary hash' : ''}${c.clear ? ' handshake in the clear' : ' with verify data'}`,
    bytes,
    length: unsignedLength + c.S + (c.clear ? 0 : c.H),
    messageName: 'KEY_EXCHANGE_RSP',
    decode: (b: Uint8Array) =>
      decodeKeyExchangeRsp(b, {
        hashSize: c.H,
        signatureSize: c.S,
        exchangeDataSize: c.D,
        measurementSummaryHashPresent: c.msh,
        handshakeInTheClear: c.clear,
      }),
    encode: (m) => encodeKeyExchangeRsp(m.version, m),
    fields: {
      version: c.v,
      ...f,
      measurementSummaryHash,
      responderVerifyData,
      unsigned: bytes.subarray(0, unsignedLength),
    },
    params: [0xf0, 0],
  });
}

// ---------------------------------------------------------------- FINISH / FINISH_RSP
for (const c of [
  { v: 0x11, H: 48, S: 0, slot: 0, opaque: none },
  { v: 0x12, H: 48, S: 384, slot: 0, opaque: none },
  { v: 0x13, H: 32, S: 64, slot: 0xff, opaque: none },
  { v: 0x14, H: 48, S: 0, slot: 0, opaque: smOpaque12 },
  { v: 0x14, H: 48, S: 96, slot: 2, opaque: none },
]) {
  const signature = c.S ? seq(c.S, 0x77) : undefined;
  const f = {
    signatureIncluded: c.S > 0,
    reqSlotId: c.slot,
    opaqueData: c.opaque,
    ...(signature ? { signature } : {}),
    requesterVerifyData: seq(c.H, 0x88),
  };
  const unsignedLength = 4 + (c.v >= 0x14 ? 2 + c.opaque.length : 0);
  const bytes = encodeFinish(c.v, f);
  add({
    name: `FINISH ${vname(c.v)}${c.S ? ' signed' : ''}${c.opaque.length ? ' with opaque' : ''}`,
    bytes,
    length: unsignedLength + c.S + c.H,
    messageName: 'FINISH',
    decode: (b: Uint8Array) => decodeFinish(b, { hashSize: c.H, requesterSignatureSize: c.S || 384 }),
    encode: (m) => encodeFinish(m.version, m),
    fields: { version: c.v, ...f, signature, unsigned: bytes.subarray(0, unsignedLength) },
    params: [c.S ? 1 : 0, c.slot],
  });
}
for (const c of [
  { v: 0x11, H: 48, clear: false, opaque: none },
  { v: 0x12, H: 32, clear: true, opaque: none },
  { v: 0x14, H: 48, clear: true, opaque: smOpaque12 },
  { v: 0x14, H: 48, clear: false, opaque: none },
]) {
  const responderVerifyData = c.clear ? seq(c.H, 0x99) : undefined;
  add({
    name: `FINISH_RSP ${vname(c.v)}${c.clear ? ' with verify data' : ''}${c.opaque.length ? ' with opaque' : ''}`,
    bytes: encodeFinishRsp(c.v, { opaqueData: c.opaque, ...(responderVerifyData ? { responderVerifyData } : {}) }),
    length: 4 + (c.v >= 0x14 ? 2 + c.opaque.length : 0) + (c.clear ? c.H : 0),
    messageName: 'FINISH_RSP',
    decode: (b: Uint8Array) => decodeFinishRsp(b, { hashSize: c.H, handshakeInTheClear: c.clear }),
    encode: (m) => encodeFinishRsp(m.version, m),
    fields: { version: c.v, opaqueData: c.opaque, responderVerifyData },
    params: [0, 0],
  });
}

// ---------------------------------------------------------------- PSK_EXCHANGE / PSK_EXCHANGE_RSP / PSK_FINISH / PSK_FINISH_RSP
const pskHint = new TextEncoder().encode('TestPskHint\0');
for (const c of [
  { v: 0x11, msh: 0xff, policy: 0, hint: pskHint, ctx: 48, opaque: smOpaque11 },
  { v: 0x12, msh: 0x01, policy: 1, hint: pskHint, ctx: 64, opaque: smOpaque12 },
  { v: 0x14, msh: 0x00, policy: 3, hint: none, ctx: 32, opaque: none },
]) {
  const f = {
    measurementSummaryHashType: c.msh,
    sessionPolicy: c.policy,
    reqSessionId: 0xfffc,
    pskHint: c.hint,
    requesterContext: seq(c.ctx, 0x12),
    opaqueData: c.opaque,
  };
  add({
    name: `PSK_EXCHANGE ${vname(c.v)}${c.hint.length ? ' with hint' : ''}`,
    bytes: encodePskExchange(c.v, f),
    length: 12 + c.hint.length + c.ctx + c.opaque.length,
    messageName: 'PSK_EXCHANGE',
    decode: decodePskExchange,
    encode: (m) => encodePskExchange(m.version, m),
    fields: { version: c.v, ...f },
    params: [c.msh, c.policy],
  });
}
for (const c of [
  { v: 0x11, H: 48, msh: false, ctx: 0, opaque: smOpaque11 },
  { v: 0x13, H: 48, msh: true, ctx: 64, opaque: smOpaque12 },
  { v: 0x14, H: 32, msh: true, ctx: 0, opaque: none },
]) {
  const measurementSummaryHash = c.msh ? seq(c.H, 0x45) : undefined;
  const f = {
    heartbeatPeriod: 0x0a,
    rspSessionId: 0xfffb,
    ...(measurementSummaryHash ? { measurementSummaryHash } : {}),
    responderContext: seq(c.ctx, 0x13),
    opaqueData: c.opaque,
    responderVerifyData: seq(c.H, 0x56),
  };
  add({
    name: `PSK_EXCHANGE_RSP ${vname(c.v)}${c.msh ? ' with summary hash' : ''} context ${c.ctx}`,
    bytes: encodePskExchangeRsp(c.v, f),
    length: 12 + (c.msh ? c.H : 0) + c.ctx + c.opaque.length + c.H,
    messageName: 'PSK_EXCHANGE_RSP',
    decode: (b: Uint8Array) => decodePskExchangeRsp(b, { hashSize: c.H, measurementSummaryHashPresent: c.msh }),
    encode: (m) => encodePskExchangeRsp(m.version, m),
    fields: { version: c.v, ...f, measurementSummaryHash },
    params: [0x0a, 0],
  });
}
for (const c of [
  { v: 0x11, H: 48, opaque: none },
  { v: 0x14, H: 48, opaque: smOpaque12 },
]) {
  add({
    name: `PSK_FINISH ${vname(c.v)}`,
    bytes: encodePskFinish(c.v, { opaqueData: c.opaque, requesterVerifyData: seq(c.H, 0x57) }),
    length: 4 + (c.v >= 0x14 ? 2 + c.opaque.length : 0) + c.H,
    messageName: 'PSK_FINISH',
    decode: (b: Uint8Array) => decodePskFinish(b, { hashSize: c.H }),
    encode: (m) => encodePskFinish(m.version, m),
    fields: { version: c.v, opaqueData: c.opaque, requesterVerifyData: seq(c.H, 0x57) },
  });
}
for (const c of [
  { v: 0x12, opaque: none },
  { v: 0x14, opaque: none },
  { v: 0x14, opaque: smOpaque12 },
]) {
  add({
    name: `PSK_FINISH_RSP ${vname(c.v)}${c.opaque.length ? ' with opaque' : ''}`,
    bytes: encodePskFinishRsp(c.v, { opaqueData: c.opaque }),
    length: 4 + (c.v >= 0x14 ? 2 + c.opaque.length : 0),
    messageName: 'PSK_FINISH_RSP',
    decode: decodePskFinishRsp,
    encode: (m) => encodePskFinishRsp(m.version, m),
    fields: { version: c.v, opaqueData: c.opaque },
  });
}

// ---------------------------------------------------------------- HEARTBEAT, KEY_UPDATE, END_SESSION
add({
  name: 'HEARTBEAT 1.1',
  bytes: encodeHeartbeat(0x11),
  length: 4,
  messageName: 'HEARTBEAT',
  decode: decodeHeartbeat,
  encode: (m) => encodeHeartbeat(m.version),
  fields: { version: 0x11 },
});
add({
  name: 'HEARTBEAT_ACK 1.3',
  bytes: encodeHeartbeatAck(0x13),
  length: 4,
  messageName: 'HEARTBEAT_ACK',
  decode: decodeHeartbeatAck,
  encode: (m) => encodeHeartbeatAck(m.version),
  fields: { version: 0x13 },
});
for (const [v, operation, tag] of [
  [0x11, KeyUpdateOperation.UPDATE_KEY, 0x01],
  [0x12, KeyUpdateOperation.UPDATE_ALL_KEYS, 0x7f],
  [0x14, KeyUpdateOperation.VERIFY_NEW_KEY, 0xff],
] as const) {
  add({
    name: `KEY_UPDATE ${vname(v)} op ${operation}`,
    bytes: encodeKeyUpdate(v, { operation, tag }),
    length: 4,
    messageName: 'KEY_UPDATE',
    decode: decodeKeyUpdate,
    encode: (m) => encodeKeyUpdate(m.version, m),
    fields: { version: v, operation, tag },
    params: [operation, tag],
  });
  add({
    name: `KEY_UPDATE_ACK ${vname(v)} op ${operation}`,
    bytes: encodeKeyUpdateAck(v, { operation, tag }),
    length: 4,
    messageName: 'KEY_UPDATE_ACK',
    decode: decodeKeyUpdateAck,
    encode: (m) => encodeKeyUpdateAck(m.version, m),
    fields: { version: v, operation, tag },
    params: [operation, tag],
  });
}
for (const clear of [false, true]) {
  add({
    name: `END_SESSION 1.2${clear ? ' NegotiatedStateClearing' : ''}`,
    bytes: encodeEndSession(0x12, { negotiatedStateClearing: clear }),
    length: 4,
    messageName: 'END_SESSION',
    decode: decodeEndSession,
    encode: (m) => encodeEndSession(m.version, m),
    fields: { version: 0x12, negotiatedStateClearing: clear },
    params: [clear ? 1 : 0, 0],
  });
}
add({
  name: 'END_SESSION_ACK 1.2',
  bytes: encodeEndSessionAck(0x12),
  length: 4,
  messageName: 'END_SESSION_ACK',
  decode: decodeEndSessionAck,
  encode: (m) => encodeEndSessionAck(m.version),
  fields: { version: 0x12 },
});

// ---------------------------------------------------------------- encapsulated requests
for (const v of [0x11, 0x14]) {
  add({
    name: `GET_ENCAPSULATED_REQUEST ${vname(v)}`,
    bytes: encodeGetEncapsulatedRequest(v),
    length: 4,
    messageName: 'GET_ENCAPSULATED_REQUEST',
    decode: decodeGetEncapsulatedRequest,
    encode: (m) => encodeGetEncapsulatedRequest(m.version),
    fields: { version: v },
  });
}
{
  const getDigests11 = encodeGetDigests(0x11);
  add({
    name: 'ENCAPSULATED_REQUEST 1.1 GET_DIGESTS',
    bytes: encodeEncapsulatedRequest(0x11, { requestId: 1, payload: getDigests11 }),
    length: 8,
    messageName: 'ENCAPSULATED_REQUEST',
    decode: (b: Uint8Array) => decodeEncapsulatedRequest(b, nd(decodeGetDigests)),
    encode: (m) =>
      encodeEncapsulatedRequest(m.version, {
        requestId: m.requestId,
        payload: m.nested ? encodeGetDigests(m.nested.version) : none,
      }),
    fields: { version: 0x11, requestId: 1, payload: getDigests11, nested: { raw: getDigests11, version: 0x11 } },
    params: [1, 0],
    // The 4-byte prefix is an ENCAPSULATED_REQUEST without a request.
    prefixDecodes: (n) => n === 4,
  });
  const getCert = encodeGetCertificate(0x14, { slot: 0, offset: 0, length: 0x27fec, large: true });
  add({
    name: 'ENCAPSULATED_REQUEST 1.4 large GET_CERTIFICATE',
    bytes: encodeEncapsulatedRequest(0x14, { requestId: 7, payload: getCert }),
    length: 20,
    messageName: 'ENCAPSULATED_REQUEST',
    decode: (b: Uint8Array) => decodeEncapsulatedRequest(b, nd(decodeGetCertificate)),
    encode: (m) =>
      encodeEncapsulatedRequest(m.version, {
        requestId: m.requestId,
        payload: m.nested ? encodeGetCertificate(m.version, m.nested) : none,
      }),
    fields: { version: 0x14, requestId: 7, payload: getCert },
    params: [7, 0],
    prefixDecodes: (n) => n === 4,
  });
  add({
    name: 'ENCAPSULATED_REQUEST 1.3 no more requests',
    bytes: encodeEncapsulatedRequest(0x13, { requestId: 0, payload: none }),
    length: 4,
    messageName: 'ENCAPSULATED_REQUEST',
    decode: (b: Uint8Array) => decodeEncapsulatedRequest(b, nd(decodeGetDigests)),
    encode: (m) => encodeEncapsulatedRequest(m.version, m),
    fields: { version: 0x13, requestId: 0, payload: none, nested: undefined },
  });
  // Without a nested decoder the payload is simply the rest.
  add({
    name: 'ENCAPSULATED_REQUEST 1.2 undecoded payload',
    bytes: encodeEncapsulatedRequest(0x12, { requestId: 3, payload: encodeGetDigests(0x12) }),
    length: 8,
    messageName: 'ENCAPSULATED_REQUEST',
    decode: (b: Uint8Array) => decodeEncapsulatedRequest(b),
    encode: (m) => encodeEncapsulatedRequest(m.version, m),
    fields: { version: 0x12, requestId: 3, payload: encodeGetDigests(0x12), nested: undefined },
    selfDelimiting: false,
  });

  const digests = encodeDigests(0x12, { digests: [0, 1].map((slot) => ({ slot, digest: seq(32, slot) })) });
  add({
    name: 'DELIVER_ENCAPSULATED_RESPONSE 1.2 DIGESTS',
    bytes: encodeDeliverEncapsulatedResponse(0x12, { requestId: 1, payload: digests }),
    length: 4 + 4 + 64,
    messageName: 'DELIVER_ENCAPSULATED_RESPONSE',
    decode: (b: Uint8Array) =>
      decodeDeliverEncapsulatedResponse(
        b,
        nd((x) => decodeDigests(x, { hashSize: 32 })),
      ),
    encode: (m) =>
      encodeDeliverEncapsulatedResponse(m.version, {
        requestId: m.requestId,
        payload: m.nested ? encodeDigests(m.version, m.nested) : none,
      }),
    fields: { version: 0x12, requestId: 1, payload: digests },
    params: [1, 0],
  });
  const auth = encodeChallengeAuth(
    0x13,
    { slot: 0, slotMask: 0x07, certChainHash: seq(48, 1), nonce: seq(32, 2), requesterContext: seq(8, 3) },
    seq(384, 4),
  ).message;
  add({
    name: 'DELIVER_ENCAPSULATED_RESPONSE 1.3 requester CHALLENGE_AUTH',
    bytes: encodeDeliverEncapsulatedResponse(0x13, { requestId: 3, payload: auth }),
    length: 4 + auth.length,
    messageName: 'DELIVER_ENCAPSULATED_RESPONSE',
    decode: (b: Uint8Array) =>
      decodeDeliverEncapsulatedResponse(
        b,
        nd((x) => decodeChallengeAuth(x, { hashSize: 48, signatureSize: 384, measurementSummaryHashRequested: false })),
      ),
    encode: (m) =>
      encodeDeliverEncapsulatedResponse(m.version, {
        requestId: m.requestId,
        payload: m.nested ? encodeChallengeAuth(m.version, m.nested, m.nested.signature).message : none,
      }),
    fields: { version: 0x13, requestId: 3, payload: auth },
    params: [3, 0],
  });

  const getCert11 = encodeGetCertificate(0x11, { slot: 0, offset: 0, length: 0x400 });
  const challenge14 = encodeChallenge(0x14, {
    slot: 0,
    measurementSummaryHashType: 0,
    nonce: seq(32, 9),
    requesterContext: seq(8, 1),
  });
  const nestedRequest = nd((x: Uint8Array) => (x[1] === 0x82 ? decodeGetCertificate(x) : decodeChallenge(x)));
  for (const c of [
    {
      name: '1.1 next request GET_CERTIFICATE',
      v: 0x11,
      id: 2,
      type: EncapPayloadType.PRESENT,
      ack: 0,
      payload: getCert11,
      slotNumber: undefined,
    },
    { name: '1.2 done', v: 0x12, id: 0, type: EncapPayloadType.ABSENT, ack: 3, payload: none, slotNumber: undefined },
    {
      name: '1.3 ReqSlotNumber',
      v: 0x13,
      id: 0,
      type: EncapPayloadType.REQ_SLOT_NUMBER,
      ack: 2,
      payload: Uint8Array.of(5),
      slotNumber: 5,
    },
    {
      name: '1.4 next request CHALLENGE',
      v: 0x14,
      id: 3,
      type: EncapPayloadType.PRESENT,
      ack: 2,
      payload: challenge14,
      slotNumber: undefined,
    },
  ]) {
    add({
      name: `ENCAPSULATED_RESPONSE_ACK ${c.name}`,
      bytes: encodeEncapsulatedResponseAck(c.v, {
        requestId: c.id,
        payloadType: c.type,
        ackRequestId: c.ack,
        payload: c.payload,
      }),
      length: (c.v >= 0x12 ? 8 : 4) + c.payload.length,
      messageName: 'ENCAPSULATED_RESPONSE_ACK',
      decode: (b: Uint8Array) => decodeEncapsulatedResponseAck(b, nestedRequest),
      encode: (m) => encodeEncapsulatedResponseAck(m.version, m),
      fields: {
        version: c.v,
        requestId: c.id,
        payloadType: c.type,
        ackRequestId: c.ack,
        payload: c.payload,
        reqSlotNumber: c.slotNumber,
      },
      params: [c.id, c.type],
    });
  }
}

// ---------------------------------------------------------------- GET_CSR / CSR, SET_CERTIFICATE / SET_CERTIFICATE_RSP
for (const c of [
  { v: 0x12, keyPairId: 0, attrs: 0, info: none, opaque: none },
  // 1.3: KeyPairID 1, CertModel 1 (device cert), CSRTrackingTag 5, Overwrite.
  { v: 0x13, keyPairId: 1, attrs: 0x80 | (5 << 3) | 1, info: seq(40, 0x30), opaque: smOpaque12 },
  { v: 0x14, keyPairId: 2, attrs: 0x02, info: none, opaque: none },
]) {
  add({
    name: `GET_CSR ${vname(c.v)}${c.info.length ? ' with RequesterInfo and opaque' : ''}`,
    bytes: encodeGetCsr(c.v, {
      keyPairId: c.keyPairId,
      requestAttributes: c.attrs,
      requesterInfo: c.info,
      opaqueData: c.opaque,
    }),
    length: 8 + c.info.length + c.opaque.length,
    messageName: 'GET_CSR',
    decode: decodeGetCsr,
    encode: (m) => encodeGetCsr(m.version, m),
    fields: {
      version: c.v,
      keyPairId: c.keyPairId,
      requestAttributes: c.attrs,
      certModel: c.attrs & 7,
      csrTrackingTag: (c.attrs >> 3) & 7,
      overwrite: (c.attrs & 0x80) !== 0,
      requesterInfo: c.info,
      opaqueData: c.opaque,
    },
    params: [c.keyPairId, c.attrs],
  });
}
add({
  name: 'CSR 1.2',
  bytes: encodeCsr(0x12, { csr: seq(300, 0x31) }),
  length: 308,
  messageName: 'CSR',
  decode: decodeCsr,
  encode: (m) => encodeCsr(m.version, m),
  fields: { version: 0x12, csr: seq(300, 0x31) },
});
/** An SPDM cert chain: Length (u16 + reserved, or u32 in 1.4), root hash, certificates. */
function certChain(v: number, H: number, certs: number): Uint8Array {
  const total = 4 + H + certs;
  const head = v >= 0x14 ? new Writer(4).u32(total).finish() : new Writer(4).u16(total).u16(0).finish();
  return concat([head, seq(H + certs, 0x41)]);
}
for (const c of [
  { v: 0x12, slot: 0, certModel: 0, erase: false, keyPairId: 0, chain: certChain(0x12, 32, 500), p1: 0x00 },
  { v: 0x13, slot: 2, certModel: 1, erase: false, keyPairId: 1, chain: certChain(0x13, 48, 700), p1: 0x12 },
  { v: 0x13, slot: 3, certModel: 0, erase: true, keyPairId: 4, chain: none, p1: 0x83 },
  { v: 0x14, slot: 0, certModel: 1, erase: false, keyPairId: 1, chain: certChain(0x14, 48, 70000), p1: 0x10 },
]) {
  add({
    name: `SET_CERTIFICATE ${vname(c.v)}${c.erase ? ' erase' : ` chain ${c.chain.length}`}`,
    bytes: encodeSetCertificate(c.v, { ...c, certChain: c.chain }),
    length: 4 + c.chain.length,
    messageName: 'SET_CERTIFICATE',
    decode: decodeSetCertificate,
    encode: (m) => encodeSetCertificate(m.version, m),
    fields: {
      version: c.v,
      slot: c.slot,
      certModel: c.certModel,
      erase: c.erase,
      keyPairId: c.keyPairId,
      certChain: c.chain,
    },
    params: [c.p1, c.keyPairId],
  });
}
add({
  name: 'SET_CERTIFICATE_RSP 1.3',
  bytes: encodeSetCertificateRsp(0x13, { slot: 6 }),
  length: 4,
  messageName: 'SET_CERTIFICATE_RSP',
  decode: decodeSetCertificateRsp,
  encode: (m) => encodeSetCertificateRsp(m.version, m),
  fields: { version: 0x13, slot: 6 },
  params: [6, 0],
});

// ---------------------------------------------------------------- GET_ENDPOINT_INFO / ENDPOINT_INFO
const epInfo = encodeDeviceClassIdentifier([
  { registryId: 0, vendorId: none, subordinateIds: [Uint8Array.of(0x12, 0x34, 0x56)] },
  { registryId: 3, vendorId: Uint8Array.of(0x01, 0x00), subordinateIds: [Uint8Array.of(1), seq(5)] },
]);
for (const c of [
  { v: 0x13, slot: 0, param: 0, attrs: 1 },
  // The provisioned public key: slot 0xFF to callers, 0xF in Param2.
  { v: 0x14, slot: 0xff, param: 0x0f, attrs: 0 },
]) {
  const nonce = c.attrs ? seq(32, 0x61) : undefined;
  add({
    name: `GET_ENDPOINT_INFO ${vname(c.v)}${c.attrs ? ' signed' : ''}`,
    bytes: encodeGetEndpointInfo(c.v, {
      subCode: 1,
      slot: c.slot,
      requestAttributes: c.attrs,
      ...(nonce ? { nonce } : {}),
    }),
    length: c.attrs ? 40 : 8,
    messageName: 'GET_ENDPOINT_INFO',
    decode: decodeGetEndpointInfo,
    encode: (m) => encodeGetEndpointInfo(m.version, m),
    fields: {
      version: c.v,
      subCode: 1,
      slot: c.slot,
      requestAttributes: c.attrs,
      signatureRequested: c.attrs === 1,
      nonce,
    },
    params: [1, c.param],
  });
  const signature = c.attrs ? seq(96, 0x62) : undefined;
  const rnonce = c.attrs ? seq(32, 0x63) : undefined;
  const bytes = encodeEndpointInfo(c.v, {
    slot: c.slot,
    ...(rnonce ? { nonce: rnonce } : {}),
    epInfo,
    ...(signature ? { signature } : {}),
  });
  const unsignedLength = 8 + (c.attrs ? 32 : 0) + 4 + epInfo.length;
  add({
    name: `ENDPOINT_INFO ${vname(c.v)}${c.attrs ? ' signed' : ''}`,
    bytes,
    length: unsignedLength + (c.attrs ? 96 : 0),
    messageName: 'ENDPOINT_INFO',
    decode: (b: Uint8Array) => decodeEndpointInfo(b, { signatureRequested: c.attrs === 1, signatureSize: 96 }),
    encode: (m) => encodeEndpointInfo(m.version, m),
    fields: {
      version: c.v,
      slot: c.slot,
      nonce: rnonce,
      epInfo,
      signature,
      unsigned: bytes.subarray(0, unsignedLength),
    },
    params: [0, c.param],
  });
}
add({
  name: 'DeviceClassIdentifier of 2 elements',
  bytes: epInfo,
  length: 4 + 8 + 14,
  messageName: 'ENDPOINT_INFO.DeviceClassIdentifier',
  decode: (b: Uint8Array) => ({ raw: b, elements: decodeDeviceClassIdentifier(b) }),
  encode: (m) => encodeDeviceClassIdentifier(m.elements),
  fields: {
    elements: [
      { registryId: 0, vendorId: none, subordinateIds: [Uint8Array.of(0x12, 0x34, 0x56)] },
      { registryId: 3, vendorId: Uint8Array.of(0x01, 0x00), subordinateIds: [Uint8Array.of(1), seq(5)] },
    ],
  },
});

// ---------------------------------------------------------------- key pairs
add({
  name: 'GET_KEY_PAIR_INFO 1.3',
  bytes: encodeGetKeyPairInfo(0x13, { keyPairId: 3 }),
  length: 5,
  messageName: 'GET_KEY_PAIR_INFO',
  decode: decodeGetKeyPairInfo,
  encode: (m) => encodeGetKeyPairInfo(m.version, m),
  fields: { version: 0x13, keyPairId: 3 },
});
for (const v of [0x13, 0x14]) {
  const f = {
    totalKeyPairs: 24,
    keyPairId: 1,
    capabilities: 0x3f,
    keyUsageCapabilities: 0x0001,
    currentKeyUsage: 0x0001,
    asymAlgoCapabilities: 0x1ff,
    currentAsymAlgo: 0x01,
    assocCertSlotMask: 0x03,
    publicKeyInfo: seq(15, 0x30),
    ...(v >= 0x14
      ? { pqcAsymAlgoCapabilities: Uint8Array.of(7, 0, 0, 0), currentPqcAsymAlgo: Uint8Array.of(0, 0, 0, 0) }
      : {}),
  };
  add({
    name: `KEY_PAIR_INFO ${vname(v)}`,
    bytes: encodeKeyPairInfo(v, f),
    length: 23 + 15 + (v >= 0x14 ? 10 : 0),
    messageName: 'KEY_PAIR_INFO',
    decode: decodeKeyPairInfo,
    encode: (m) => encodeKeyPairInfo(m.version, m),
    fields: { version: v, ...f },
  });
}
for (const c of [
  { v: 0x13, op: KeyPairOperation.CHANGE, len: 13 },
  { v: 0x13, op: KeyPairOperation.ERASE, len: 5 },
  { v: 0x14, op: KeyPairOperation.GENERATE, len: 18 },
  { v: 0x14, op: KeyPairOperation.ERASE, len: 5 },
]) {
  const erase = c.op === KeyPairOperation.ERASE;
  const f = {
    operation: c.op,
    keyPairId: 2,
    desiredKeyUsage: erase ? 0 : 0x0004,
    desiredAsymAlgo: erase ? 0 : 0x10,
    desiredAssocCertSlotMask: erase ? 0 : 0x05,
    ...(c.v >= 0x14 && !erase ? { desiredPqcAsymAlgo: Uint8Array.of(1, 0, 0, 0) } : {}),
  };
  add({
    name: `SET_KEY_PAIR_INFO ${vname(c.v)} op ${c.op}`,
    bytes: encodeSetKeyPairInfo(c.v, f),
    length: c.len,
    messageName: 'SET_KEY_PAIR_INFO',
    decode: decodeSetKeyPairInfo,
    encode: (m) => encodeSetKeyPairInfo(m.version, m),
    fields: { version: c.v, ...f },
    params: [c.op, 0],
  });
}
add({
  name: 'SET_KEY_PAIR_INFO_ACK 1.3',
  bytes: encodeSetKeyPairInfoAck(0x13),
  length: 4,
  messageName: 'SET_KEY_PAIR_INFO_ACK',
  decode: decodeSetKeyPairInfoAck,
  encode: (m) => encodeSetKeyPairInfoAck(m.version),
  fields: { version: 0x13 },
});

// ---------------------------------------------------------------- measurement extension log
const melEntries = [
  { melIndex: 1, measIndex: 0x11, dmtf: { raw: true, type: 9, value: new TextEncoder().encode('ROM') } },
  { melIndex: 2, measIndex: 0x11, dmtf: { raw: false, type: 8, value: seq(48, 0x70) } },
];
const mel = encodeDmtfMel(melEntries);
add({
  name: 'GET_MEASUREMENT_EXTENSION_LOG 1.3',
  bytes: encodeGetMeasurementExtensionLog(0x13, { offset: 0x40, length: 0x27ff4 }),
  length: 12,
  messageName: 'GET_MEASUREMENT_EXTENSION_LOG',
  decode: decodeGetMeasurementExtensionLog,
  encode: (m) => encodeGetMeasurementExtensionLog(m.version, m),
  fields: { version: 0x13, offset: 0x40, length: 0x27ff4 },
});
add({
  name: 'MEASUREMENT_EXTENSION_LOG 1.4',
  bytes: encodeMeasurementExtensionLog(0x14, { portion: mel, remainderLength: 17 }),
  length: 12 + mel.length,
  messageName: 'MEASUREMENT_EXTENSION_LOG',
  decode: decodeMeasurementExtensionLog,
  encode: (m) => encodeMeasurementExtensionLog(m.version, m),
  fields: { version: 0x14, portion: mel, remainderLength: 17 },
});
add({
  name: 'DMTF MEL of 2 entries',
  bytes: mel,
  length: 16 + 14 + 59,
  messageName: 'MEASUREMENT_EXTENSION_LOG.MEL',
  decode: (b: Uint8Array) => ({ raw: b, ...decodeDmtfMel(b) }),
  encode: (m) => encodeDmtfMel(m.entries),
  fields: { entries: melEntries.map((e) => ({ ...e, bytes: encodeDmtfMel([e]).subarray(16) })) },
});

// ---------------------------------------------------------------- chunking
for (const c of [
  { v: 0x12, seqNo: 0, last: false, handle: 3, size: 5000, chunk: seq(100, 1) },
  { v: 0x13, seqNo: 7, last: true, handle: 3, size: undefined, chunk: seq(60, 2) },
  { v: 0x14, seqNo: 0, last: false, handle: 9, size: 70000, chunk: seq(100, 3) },
  { v: 0x14, seqNo: 0x12345, last: true, handle: 9, size: undefined, chunk: seq(10, 4) },
]) {
  const f = {
    lastChunk: c.last,
    handle: c.handle,
    chunkSeqNo: c.seqNo,
    ...(c.size !== undefined ? { largeMessageSize: c.size } : {}),
    chunk: c.chunk,
  };
  const length = 12 + (c.seqNo === 0 ? 4 : 0) + c.chunk.length;
  add({
    name: `CHUNK_SEND ${vname(c.v)} seq ${c.seqNo}`,
    bytes: encodeChunkSend(c.v, f),
    length,
    messageName: 'CHUNK_SEND',
    decode: decodeChunkSend,
    encode: (m) => encodeChunkSend(m.version, m),
    fields: { version: c.v, ...f, largeMessageSize: c.size },
    params: [c.last ? 1 : 0, c.handle],
  });
  add({
    name: `CHUNK_RESPONSE ${vname(c.v)} seq ${c.seqNo}`,
    bytes: encodeChunkResponse(c.v, f),
    length,
    messageName: 'CHUNK_RESPONSE',
    decode: decodeChunkResponse,
    encode: (m) => encodeChunkResponse(m.version, m),
    fields: { version: c.v, ...f, largeMessageSize: c.size },
    params: [c.last ? 1 : 0, c.handle],
  });
}
for (const [v, seqNo] of [
  [0x12, 0x0102],
  [0x14, 0x01020304],
] as const) {
  add({
    name: `CHUNK_GET ${vname(v)}`,
    bytes: encodeChunkGet(v, { handle: 4, chunkSeqNo: seqNo }),
    length: v >= 0x14 ? 8 : 6,
    messageName: 'CHUNK_GET',
    decode: decodeChunkGet,
    encode: (m) => encodeChunkGet(m.version, m),
    fields: { version: v, handle: 4, chunkSeqNo: seqNo },
    params: [0, 4],
  });
}
{
  const setCertRsp = encodeSetCertificateRsp(0x13, { slot: 1 });
  const err = encodeError(0x14, ErrorCode.InvalidRequest);
  const nestedResponse = nd((x: Uint8Array) => (x[1] === 0x7f ? decodeError(x) : decodeSetCertificateRsp(x)));
  for (const c of [
    { name: '1.2 more chunks', v: 0x12, seqNo: 2, early: false, payload: none },
    { name: '1.3 last chunk with the response', v: 0x13, seqNo: 5, early: false, payload: setCertRsp },
    { name: '1.4 early error', v: 0x14, seqNo: 0x10000, early: true, payload: err },
  ]) {
    const head = c.v >= 0x14 ? 8 : 6;
    add({
      name: `CHUNK_SEND_ACK ${c.name}`,
      bytes: encodeChunkSendAck(c.v, {
        earlyErrorDetected: c.early,
        handle: 7,
        chunkSeqNo: c.seqNo,
        payload: c.payload,
      }),
      length: head + c.payload.length,
      messageName: 'CHUNK_SEND_ACK',
      decode: (b: Uint8Array) => decodeChunkSendAck(b, nestedResponse),
      encode: (m) => encodeChunkSendAck(m.version, m),
      fields: { version: c.v, earlyErrorDetected: c.early, handle: 7, chunkSeqNo: c.seqNo, payload: c.payload },
      params: [c.early ? 1 : 0, 7],
      // Up to the sequence number it is a complete ACK; 1-3 more bytes cannot be a message (padding).
      prefixDecodes: (n) => n >= head && n < head + 4,
    });
  }
}

// ---------------------------------------------------------------- VENDOR_DEFINED
for (const c of [
  {
    v: 0x10,
    large: false,
    standardId: 3,
    vendorId: Uint8Array.of(0x01, 0x00),
    payload: Uint8Array.of(0x00, 0x01, 0x02),
    unusedLength: undefined,
  },
  { v: 0x13, large: false, standardId: 0, vendorId: none, payload: none, unusedLength: undefined },
  { v: 0x14, large: true, standardId: 4, vendorId: Uint8Array.of(1, 2, 3, 4), payload: seq(70, 9), unusedLength: 0 },
]) {
  const f = {
    large: c.large,
    standardId: c.standardId,
    vendorId: c.vendorId,
    ...(c.unusedLength !== undefined ? { unusedLength: c.unusedLength } : {}),
    payload: c.payload,
  };
  const length = 7 + c.vendorId.length + 2 + (c.large ? 4 : 0) + c.payload.length;
  add({
    name: `VENDOR_DEFINED_REQUEST ${vname(c.v)}${c.large ? ' large' : ''}`,
    bytes: encodeVendorDefinedRequest(c.v, f),
    length,
    messageName: 'VENDOR_DEFINED_REQUEST',
    decode: decodeVendorDefinedRequest,
    encode: (m) => encodeVendorDefinedRequest(m.version, m),
    fields: { version: c.v, ...f, unusedLength: c.unusedLength },
    params: [c.large ? 0x80 : 0, 0],
  });
  add({
    name: `VENDOR_DEFINED_RESPONSE ${vname(c.v)}${c.large ? ' large' : ''}`,
    bytes: encodeVendorDefinedResponse(c.v, f),
    length,
    messageName: 'VENDOR_DEFINED_RESPONSE',
    decode: decodeVendorDefinedResponse,
    encode: (m) => encodeVendorDefinedResponse(m.version, m),
    fields: { version: c.v, ...f, unusedLength: c.unusedLength },
    params: [c.large ? 0x80 : 0, 0],
  });
}

// ---------------------------------------------------------------- events
for (const [name, enc, dec] of [
  ['GET_SUPPORTED_EVENT_TYPES', encodeGetSupportedEventTypes, decodeGetSupportedEventTypes],
  ['SUBSCRIBE_EVENT_TYPES_ACK', encodeSubscribeEventTypesAck, decodeSubscribeEventTypesAck],
  ['EVENT_ACK', encodeEventAck, decodeEventAck],
] as const) {
  add({
    name: `${name} 1.3`,
    bytes: enc(0x13),
    length: 4,
    messageName: name,
    decode: dec,
    encode: (m) => enc(m.version),
    fields: { version: 0x13 },
  });
}
add({
  name: 'SUPPORTED_EVENT_TYPES 1.3',
  bytes: encodeSupportedEventTypes(0x13, { eventGroupCount: 1, supportedEventGroups: seq(8, 0) }),
  length: 16,
  messageName: 'SUPPORTED_EVENT_TYPES',
  decode: decodeSupportedEventTypes,
  encode: (m) => encodeSupportedEventTypes(m.version, m),
  fields: { version: 0x13, eventGroupCount: 1, supportedEventGroups: seq(8, 0) },
  params: [1, 0],
});
for (const [count, list] of [
  [0, none],
  [2, seq(20, 5)],
] as const) {
  add({
    name: `SUBSCRIBE_EVENT_TYPES 1.4 ${count} group(s)`,
    bytes: encodeSubscribeEventTypes(0x14, { subscribeEventGroupCount: count, subscribeList: list }),
    length: count ? 8 + list.length : 4,
    messageName: 'SUBSCRIBE_EVENT_TYPES',
    decode: decodeSubscribeEventTypes,
    encode: (m) => encodeSubscribeEventTypes(m.version, m),
    fields: { version: 0x14, subscribeEventGroupCount: count, subscribeList: list },
    params: [count, 0],
  });
}
{
  const events = [
    {
      eventInstanceId: 10,
      registryId: 0,
      vendorId: none,
      eventTypeId: DmtfEventType.MEASUREMENT_CHANGED,
      eventDetail: seq(32, 1),
    },
    { eventInstanceId: 11, registryId: 3, vendorId: Uint8Array.of(0x01, 0x00), eventTypeId: 0x8001, eventDetail: none },
  ];
  add({
    name: 'SEND_EVENT 1.3 2 events',
    bytes: encodeSendEvent(0x13, { events }),
    length: 8 + (14 + 32) + (16 + 0),
    messageName: 'SEND_EVENT',
    decode: decodeSendEvent,
    encode: (m) => encodeSendEvent(m.version, m),
    fields: { version: 0x13, events },
  });
}

export const SAMPLES: readonly Sample[] = samples;
