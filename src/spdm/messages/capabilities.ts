/**
 * GET_CAPABILITIES / CAPABILITIES. Lengths depend on the version: the 1.0 request is the header
 * alone, 1.1 adds CTExponent and Flags, 1.2 adds DataTransferSize and MaxSPDMmsgSize. A 1.3+
 * responder appends its supported-algorithms block when both sides set Param1 bit 0.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { decodeAlgorithmOffer, encodeAlgorithmOfferBody, type AlgorithmOffer } from './algorithms.js';

export const CapabilityFlag = {
  CACHE: 0x00000001,
  CERT: 0x00000002,
  CHAL: 0x00000004,
  MEAS_NO_SIG: 0x00000008,
  MEAS_SIG: 0x00000010,
  MEAS_FRESH: 0x00000020,
  ENCRYPT: 0x00000040,
  MAC: 0x00000080,
  MUT_AUTH: 0x00000100,
  KEY_EX: 0x00000200,
  PSK_NO_CONTEXT: 0x00000400,
  PSK_WITH_CONTEXT: 0x00000800,
  ENCAP: 0x00001000,
  HBEAT: 0x00002000,
  KEY_UPD: 0x00004000,
  HANDSHAKE_IN_THE_CLEAR: 0x00008000,
  PUB_KEY_ID: 0x00010000,
  CHUNK: 0x00020000,
  ALIAS_CERT: 0x00040000,
  SET_CERT: 0x00080000,
  CSR: 0x00100000,
  CERT_INSTALL_RESET: 0x00200000,
  EP_INFO_NO_SIG: 0x00400000,
  EP_INFO_SIG: 0x00800000,
  MEL: 0x01000000,
  EVENT: 0x02000000,
  MULTI_KEY_ONLY: 0x04000000,
  MULTI_KEY_NEG: 0x08000000,
  GET_KEY_PAIR_INFO: 0x10000000,
  SET_KEY_PAIR_INFO: 0x20000000,
  SET_KEY_PAIR_RESET: 0x40000000,
  LARGE_RESP: 0x80000000,
} as const;

export const MEAS_CAP_MASK = 0x18;

/** Bits defined per version (from the DSP0274 tables): anything else is reserved. */
export function responderFlagMask(version: number): number {
  if (version <= 0x10) return 0x0000003f;
  if (version === 0x11) return 0x0001ffff;
  if (version === 0x12) return 0x003fffff;
  if (version === 0x13) return 0x3fffffff;
  return 0xffffffff;
}

export function requesterFlagMask(version: number): number {
  if (version <= 0x10) return 0;
  if (version === 0x11) return 0x0001ffc6;
  if (version === 0x12) return 0x0003ffc6;
  if (version === 0x13) return 0x0ec3ffc6;
  return 0x8ec3ffc6;
}

/** CapabilityFlag as [name, bit(s)] pairs, listed once. */
const FLAG_ENTRIES: readonly (readonly [string, number])[] = Object.entries(CapabilityFlag);

export function flagNames(flags: number): string[] {
  const out: string[] = [];
  const f = flags >>> 0;
  for (const [k, v] of FLAG_ENTRIES) if ((f & v) >>> 0 === v) out.push(k);
  return out;
}

export interface CapabilitiesFields {
  readonly version: number;
  readonly ctExponent: number;
  readonly flags: number;
  /** 1.2+ */
  readonly dataTransferSize: number;
  /** 1.2+ */
  readonly maxSpdmMsgSize: number;
  /** 1.4 ExtFlags. */
  readonly extFlags?: number;
  /** 1.3+ Param1 bit 0: the request asks for / the response carries the supported-algorithms block. */
  readonly supportedAlgorithmsFlag?: boolean;
}

export interface GetCapabilitiesRequest extends CapabilitiesFields {
  readonly raw: Uint8Array;
}

export interface CapabilitiesResponse extends CapabilitiesFields {
  readonly raw: Uint8Array;
  /** 1.3+ supported-algorithms block, when present. */
  readonly supportedAlgorithms?: AlgorithmOffer;
}

export function encodeGetCapabilities(m: CapabilitiesFields): Uint8Array {
  const w = new Writer(20);
  const p1 = m.version >= 0x13 && m.supportedAlgorithmsFlag ? 1 : 0;
  writeHeader(w, m.version, RequestCode.GET_CAPABILITIES, p1);
  if (m.version >= 0x11) {
    w.u8(0)
      .u8(m.ctExponent)
      .u16(m.version >= 0x14 ? (m.extFlags ?? 0) : 0)
      .u32(m.flags);
  }
  if (m.version >= 0x12) w.u32(m.dataTransferSize).u32(m.maxSpdmMsgSize);
  return w.finish();
}

export function decodeGetCapabilities(bytes: Uint8Array): GetCapabilitiesRequest {
  const r = new Reader(bytes, 'GET_CAPABILITIES');
  const h = readHeader(r, RequestCode.GET_CAPABILITIES);
  let ctExponent = 0;
  let flags = 0;
  let extFlags = 0;
  let dataTransferSize = 0;
  let maxSpdmMsgSize = 0;
  if (h.version >= 0x11) {
    r.skip(1, 'Reserved');
    ctExponent = r.u8('CTExponent');
    extFlags = r.u16('ExtFlags');
    flags = r.u32('Flags');
  }
  if (h.version >= 0x12) {
    dataTransferSize = r.u32('DataTransferSize');
    maxSpdmMsgSize = r.u32('MaxSPDMmsgSize');
  }
  return {
    raw: r.consumed(),
    version: h.version,
    ctExponent,
    flags,
    extFlags: h.version >= 0x14 ? extFlags : 0,
    dataTransferSize,
    maxSpdmMsgSize,
    supportedAlgorithmsFlag: h.version >= 0x13 && (h.param1 & 1) === 1,
  };
}

export function encodeCapabilities(m: CapabilitiesFields & { supportedAlgorithms?: AlgorithmOffer }): Uint8Array {
  const w = new Writer(64);
  const withAlgs = m.version >= 0x13 && m.supportedAlgorithmsFlag === true && m.supportedAlgorithms !== undefined;
  writeHeader(w, m.version, ResponseCode.CAPABILITIES, withAlgs ? 1 : 0);
  w.u8(0)
    .u8(m.ctExponent)
    .u16(m.version >= 0x14 ? (m.extFlags ?? 0) : 0)
    .u32(m.flags);
  if (m.version >= 0x12) w.u32(m.dataTransferSize).u32(m.maxSpdmMsgSize);
  if (withAlgs && m.supportedAlgorithms) {
    const body = encodeAlgorithmOfferBody(m.version, m.supportedAlgorithms);
    w.u8(m.supportedAlgorithms.algStructs.length)
      .u8(0)
      .u16(body.length + 4)
      .bytes(body);
  }
  return w.finish();
}

export function decodeCapabilities(bytes: Uint8Array): CapabilitiesResponse {
  const r = new Reader(bytes, 'CAPABILITIES');
  const h = readHeader(r, ResponseCode.CAPABILITIES);
  r.skip(1, 'Reserved');
  const ctExponent = r.u8('CTExponent');
  const extFlags = r.u16('ExtFlags');
  const flags = r.u32('Flags');
  let dataTransferSize = 0;
  let maxSpdmMsgSize = 0;
  if (h.version >= 0x12) {
    dataTransferSize = r.u32('DataTransferSize');
    maxSpdmMsgSize = r.u32('MaxSPDMmsgSize');
  }
  const withAlgs = h.version >= 0x13 && (h.param1 & 1) === 1;
  let supportedAlgorithms: AlgorithmOffer | undefined;
  if (withAlgs) {
    const start = r.offset;
    const numAlgStructs = r.u8('SupportedAlgorithms.Param1');
    r.skip(1, 'SupportedAlgorithms.Param2');
    const length = r.u16('SupportedAlgorithms.Length');
    if (length < 4) r.fail('SupportedAlgorithms.Length', `too small: ${length}`, start + 2);
    const block = r.bytes(length - 4, 'SupportedAlgorithms');
    supportedAlgorithms = decodeAlgorithmOffer(block, h.version, numAlgStructs, 'CAPABILITIES.SupportedAlgorithms');
  }
  return {
    raw: r.consumed(),
    version: h.version,
    ctExponent,
    flags,
    extFlags: h.version >= 0x14 ? extFlags : 0,
    dataTransferSize,
    maxSpdmMsgSize,
    supportedAlgorithmsFlag: withAlgs,
    ...(supportedAlgorithms ? { supportedAlgorithms } : {}),
  };
}
