/**
 * NEGOTIATE_ALGORITHMS / ALGORITHMS, and the AlgStruct tables both carry (DHE, AEAD,
 * ReqBaseAsymAlg, KeySchedule; 1.4 adds ReqPqcAsymAlg and KEMAlg).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';

export const AlgType = { DHE: 2, AEAD: 3, REQ_BASE_ASYM: 4, KEY_SCHEDULE: 5, REQ_PQC_ASYM: 6, KEM: 7 } as const;

/** KeySchedule (AlgType 5) bits: the SPDM key schedule is the only one defined. */
export const KeySchedule = { SPDM: 0x0001 } as const;

const ALG_STRUCT_NAMES: Readonly<Record<number, string>> = {
  [AlgType.DHE]: 'DHE',
  [AlgType.AEAD]: 'AEADCipherSuite',
  [AlgType.REQ_BASE_ASYM]: 'ReqBaseAsymAlg',
  [AlgType.KEY_SCHEDULE]: 'KeySchedule',
  [AlgType.REQ_PQC_ASYM]: 'ReqPqcAsymAlg',
  [AlgType.KEM]: 'KEMAlg',
};

/** The DSP0274 name of an AlgStruct type ("DHE", "AEADCipherSuite", ...), for messages. */
export function algStructName(type: number): string {
  return ALG_STRUCT_NAMES[type] ?? `AlgType ${type}`;
}

/**
 * The AlgSupported bits `version` defines for the session AlgStruct types: DHE gains SM2_P256,
 * AEAD SM4-GCM and ReqBaseAsymAlg SM2/EdDSA in 1.2. 0 before 1.1, and for 1.4's ReqPqcAsymAlg
 * and KEMAlg, which this library neither offers nor selects.
 */
export function algStructMask(type: number, version: number): number {
  if (version < 0x11) return 0;
  const v12 = version >= 0x12;
  switch (type) {
    case AlgType.DHE:
      return v12 ? 0x7f : 0x3f;
    case AlgType.AEAD:
      return v12 ? 0x0f : 0x07;
    case AlgType.REQ_BASE_ASYM:
      return v12 ? 0x0fff : 0x01ff;
    case AlgType.KEY_SCHEDULE:
      return KeySchedule.SPDM;
    default:
      return 0;
  }
}

export const MeasurementSpec = { DMTF: 0x01 } as const;
export const OtherParams = { OPAQUE_FMT_0: 0x01, OPAQUE_FMT_1: 0x02, MULTI_KEY_CONN: 0x10 } as const;

export interface ExtAlg {
  readonly registryId: number;
  readonly algorithmId: number;
}

export interface AlgStruct {
  readonly type: number;
  readonly supported: number;
  readonly external: readonly ExtAlg[];
}

/** The algorithm fields shared by NEGOTIATE_ALGORITHMS and the 1.3 CAPABILITIES block. */
export interface AlgorithmOffer {
  readonly measurementSpec: number;
  readonly otherParams: number;
  readonly baseAsym: number;
  readonly baseHash: number;
  /** 1.4 */
  readonly pqcAsym?: number;
  readonly melSpec: number;
  readonly extAsym: readonly ExtAlg[];
  readonly extHash: readonly ExtAlg[];
  readonly algStructs: readonly AlgStruct[];
}

export interface NegotiateAlgorithmsRequest extends AlgorithmOffer {
  readonly raw: Uint8Array;
  readonly version: number;
}

export interface AlgorithmsResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly measurementSpec: number;
  readonly otherParams: number;
  readonly measurementHash: number;
  readonly baseAsym: number;
  readonly baseHash: number;
  readonly pqcAsym?: number;
  readonly melSpec: number;
  readonly extAsym: readonly ExtAlg[];
  readonly extHash: readonly ExtAlg[];
  readonly algStructs: readonly AlgStruct[];
}

function readExt(r: Reader, field: string): ExtAlg {
  const registryId = r.u8(`${field}.RegistryID`);
  r.skip(1, `${field}.Reserved`);
  const algorithmId = r.u16(`${field}.AlgorithmID`);
  return { registryId, algorithmId };
}

function writeExt(w: Writer, e: ExtAlg): void {
  w.u8(e.registryId).u8(0).u16(e.algorithmId);
}

function readAlgStructs(r: Reader, count: number, version: number): AlgStruct[] {
  const out: AlgStruct[] = [];
  const max = version >= 0x14 ? 6 : 4;
  if (count > max) r.fail('Param1', `${count} AlgStruct tables, at most ${max} allowed`, 2);
  let lastType = 0;
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const type = r.u8(`AlgStruct[${i}].AlgType`);
    const cnt = r.u8(`AlgStruct[${i}].AlgCount`);
    const fixed = cnt >> 4;
    const extCount = cnt & 0x0f;
    if (type < AlgType.DHE || type > (version >= 0x14 ? AlgType.KEM : AlgType.KEY_SCHEDULE)) {
      r.fail(`AlgStruct[${i}].AlgType`, `unknown AlgType ${type}`, at);
    }
    if (type <= lastType) r.fail(`AlgStruct[${i}].AlgType`, `AlgType ${type} out of order or repeated`, at);
    lastType = type;
    if (fixed !== 2) r.fail(`AlgStruct[${i}].AlgCount`, `FixedAlgCount must be 2, got ${fixed}`, at + 1);
    const supported = r.u16(`AlgStruct[${i}].AlgSupported`);
    const external: ExtAlg[] = [];
    for (let j = 0; j < extCount; j++) external.push(readExt(r, `AlgStruct[${i}].AlgExternal[${j}]`));
    out.push({ type, supported, external });
  }
  return out;
}

function writeAlgStructs(w: Writer, structs: readonly AlgStruct[]): void {
  for (const s of structs) {
    w.u8(s.type)
      .u8(0x20 | (s.external.length & 0x0f))
      .u16(s.supported);
    for (const e of s.external) writeExt(w, e);
  }
}

/** Body of an algorithm offer from MeasurementSpecification to the end (no header, no Length). */
export function encodeAlgorithmOfferBody(version: number, o: AlgorithmOffer): Uint8Array {
  const w = new Writer(64);
  w.u8(o.measurementSpec)
    .u8(version >= 0x12 ? o.otherParams : 0)
    .u32(o.baseAsym)
    .u32(o.baseHash);
  if (version >= 0x14) w.u32(o.pqcAsym ?? 0).zeros(8);
  else w.zeros(12);
  w.u8(o.extAsym.length)
    .u8(o.extHash.length)
    .u8(0)
    .u8(version >= 0x13 ? o.melSpec : 0);
  for (const e of o.extAsym) writeExt(w, e);
  for (const e of o.extHash) writeExt(w, e);
  if (version >= 0x11) writeAlgStructs(w, o.algStructs);
  return w.finish();
}

/** Decodes an algorithm offer body (the part `encodeAlgorithmOfferBody` writes). */
export function decodeAlgorithmOffer(
  body: Uint8Array,
  version: number,
  numAlgStructs: number,
  name: string,
): AlgorithmOffer {
  const r = new Reader(body, name);
  return readOffer(r, version, numAlgStructs);
}

function readOffer(r: Reader, version: number, numAlgStructs: number): AlgorithmOffer {
  const measurementSpec = r.u8('MeasurementSpecification');
  const otherParams = r.u8('OtherParamsSupport');
  const baseAsym = r.u32('BaseAsymAlgo');
  const baseHash = r.u32('BaseHashAlgo');
  let pqcAsym: number | undefined;
  if (version >= 0x14) {
    pqcAsym = r.u32('PQCAsymAlgo');
    r.skip(8, 'Reserved');
  } else {
    r.skip(12, 'Reserved');
  }
  const extAsymCount = r.u8('ExtAsymCount');
  const extHashCount = r.u8('ExtHashCount');
  r.skip(1, 'Reserved');
  const melSpec = r.u8('MELSpecification');
  const maxExt = version >= 0x11 ? 20 : 8;
  if (extAsymCount + extHashCount > maxExt)
    r.fail('ExtAsymCount', `${extAsymCount + extHashCount} external algorithms, at most ${maxExt}`);
  const extAsym: ExtAlg[] = [];
  for (let i = 0; i < extAsymCount; i++) extAsym.push(readExt(r, `ExtAsym[${i}]`));
  const extHash: ExtAlg[] = [];
  for (let i = 0; i < extHashCount; i++) extHash.push(readExt(r, `ExtHash[${i}]`));
  const algStructs = version >= 0x11 ? readAlgStructs(r, numAlgStructs, version) : [];
  return {
    measurementSpec,
    otherParams: version >= 0x12 ? otherParams : 0,
    baseAsym,
    baseHash,
    ...(pqcAsym !== undefined ? { pqcAsym } : {}),
    melSpec: version >= 0x13 ? melSpec : 0,
    extAsym,
    extHash,
    algStructs,
  };
}

export function encodeNegotiateAlgorithms(version: number, o: AlgorithmOffer): Uint8Array {
  const body = encodeAlgorithmOfferBody(version, o);
  const w = new Writer(6 + body.length);
  writeHeader(w, version, RequestCode.NEGOTIATE_ALGORITHMS, version >= 0x11 ? o.algStructs.length : 0);
  w.u16(6 + body.length).bytes(body);
  return w.finish();
}

export function decodeNegotiateAlgorithms(bytes: Uint8Array): NegotiateAlgorithmsRequest {
  const r = new Reader(bytes, 'NEGOTIATE_ALGORITHMS');
  const h = readHeader(r, RequestCode.NEGOTIATE_ALGORITHMS);
  const length = r.u16('Length');
  const maxLen = h.version >= 0x11 ? 0x80 : 0x40;
  if (length > maxLen) r.fail('Length', `${length} exceeds the ${maxLen}-byte maximum`, 4);
  if (length < 32) r.fail('Length', `${length} is shorter than the fixed fields`, 4);
  if (length > bytes.length) r.fail('Length', `says ${length} bytes, only ${bytes.length} present`, 4);
  const inner = new Reader(bytes.subarray(0, length), 'NEGOTIATE_ALGORITHMS', 6);
  const offer = readOffer(inner, h.version, h.param1);
  if (inner.remaining !== 0) inner.fail('Length', `${inner.remaining} byte(s) after the last AlgStruct`, 4);
  return { raw: bytes.subarray(0, length), version: h.version, ...offer };
}

export interface AlgorithmsSelection {
  readonly measurementSpec: number;
  readonly otherParams: number;
  readonly measurementHash: number;
  readonly baseAsym: number;
  readonly baseHash: number;
  readonly pqcAsym?: number;
  readonly melSpec: number;
  readonly extAsym?: readonly ExtAlg[];
  readonly extHash?: readonly ExtAlg[];
  readonly algStructs: readonly AlgStruct[];
}

export function encodeAlgorithms(version: number, s: AlgorithmsSelection): Uint8Array {
  const w = new Writer(64);
  const structs = version >= 0x11 ? s.algStructs : [];
  writeHeader(w, version, ResponseCode.ALGORITHMS, structs.length);
  const lenAt = w.length;
  w.u16(0);
  w.u8(s.measurementSpec)
    .u8(version >= 0x12 ? s.otherParams : 0)
    .u32(s.measurementHash)
    .u32(s.baseAsym)
    .u32(s.baseHash);
  if (version >= 0x14) w.u32(s.pqcAsym ?? 0).zeros(7);
  else w.zeros(11);
  const extAsym = s.extAsym ?? [];
  const extHash = s.extHash ?? [];
  w.u8(version >= 0x13 ? s.melSpec : 0)
    .u8(extAsym.length)
    .u8(extHash.length)
    .u16(0);
  for (const e of extAsym) writeExt(w, e);
  for (const e of extHash) writeExt(w, e);
  writeAlgStructs(w, structs);
  const out = w.finish();
  out[lenAt] = out.length & 0xff;
  out[lenAt + 1] = (out.length >> 8) & 0xff;
  return out;
}

export function decodeAlgorithms(bytes: Uint8Array): AlgorithmsResponse {
  const r = new Reader(bytes, 'ALGORITHMS');
  const h = readHeader(r, ResponseCode.ALGORITHMS);
  const length = r.u16('Length');
  if (length < 36) r.fail('Length', `${length} is shorter than the fixed fields`, 4);
  if (length > bytes.length) r.fail('Length', `says ${length} bytes, only ${bytes.length} present`, 4);
  const inner = new Reader(bytes.subarray(0, length), 'ALGORITHMS', 6);
  const measurementSpec = inner.u8('MeasurementSpecificationSel');
  const otherParams = inner.u8('OtherParamsSelection');
  const measurementHash = inner.u32('MeasurementHashAlgo');
  const baseAsym = inner.u32('BaseAsymSel');
  const baseHash = inner.u32('BaseHashSel');
  let pqcAsym: number | undefined;
  if (h.version >= 0x14) {
    pqcAsym = inner.u32('PQCAsymSel');
    inner.skip(7, 'Reserved');
  } else {
    inner.skip(11, 'Reserved');
  }
  const melSpec = inner.u8('MELSpecificationSel');
  const extAsymCount = inner.u8('ExtAsymSelCount');
  const extHashCount = inner.u8('ExtHashSelCount');
  if (extAsymCount > 1) inner.fail('ExtAsymSelCount', `must be 0 or 1, got ${extAsymCount}`, 32);
  if (extHashCount > 1) inner.fail('ExtHashSelCount', `must be 0 or 1, got ${extHashCount}`, 33);
  inner.skip(2, 'Reserved');
  const extAsym: ExtAlg[] = [];
  for (let i = 0; i < extAsymCount; i++) extAsym.push(readExt(inner, `ExtAsymSel[${i}]`));
  const extHash: ExtAlg[] = [];
  for (let i = 0; i < extHashCount; i++) extHash.push(readExt(inner, `ExtHashSel[${i}]`));
  const algStructs = h.version >= 0x11 ? readAlgStructs(inner, h.param1, h.version) : [];
  if (inner.remaining !== 0) inner.fail('Length', `${inner.remaining} byte(s) after the last AlgStruct`, 4);
  return {
    raw: bytes.subarray(0, length),
    version: h.version,
    measurementSpec,
    otherParams: h.version >= 0x12 ? otherParams : 0,
    measurementHash,
    baseAsym,
    baseHash,
    ...(pqcAsym !== undefined ? { pqcAsym } : {}),
    melSpec: h.version >= 0x13 ? melSpec : 0,
    extAsym,
    extHash,
    algStructs,
  };
}

export function algStructValue(structs: readonly AlgStruct[], type: number): number {
  return structs.find((s) => s.type === type)?.supported ?? 0;
}
