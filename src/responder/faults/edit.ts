/**
 * Byte surgery on SPDM responses for the fault wrapper: patch a field, cut, append, or decode a
 * signed response, change its fields and encode it again without its signature (the caller
 * re-signs). Everything returns a new buffer; the responder's own bytes are never mutated.
 */
import { decodeChallengeAuth, encodeChallengeAuth } from '../../spdm/messages/challenge.js';
import { decodeMeasurements, encodeMeasurements } from '../../spdm/messages/measurements.js';
import type { MirrorNegotiation } from './mirror.js';

export function setU8(msg: Uint8Array, offset: number, value: number): Uint8Array {
  const out = msg.slice();
  out[offset] = value & 0xff;
  return out;
}

export function setU16(msg: Uint8Array, offset: number, value: number): Uint8Array {
  const out = msg.slice();
  out[offset] = value & 0xff;
  out[offset + 1] = (value >> 8) & 0xff;
  return out;
}

export function setU24(msg: Uint8Array, offset: number, value: number): Uint8Array {
  const out = setU16(msg, offset, value & 0xffff);
  out[offset + 2] = (value >> 16) & 0xff;
  return out;
}

export function setU32(msg: Uint8Array, offset: number, value: number): Uint8Array {
  const out = setU16(msg, offset, value & 0xffff);
  out[offset + 2] = (value >>> 16) & 0xff;
  out[offset + 3] = (value >>> 24) & 0xff;
  return out;
}

export function readU16(msg: Uint8Array, offset: number): number {
  return (msg[offset] ?? 0) | ((msg[offset + 1] ?? 0) << 8);
}

export function readU32(msg: Uint8Array, offset: number): number {
  return (readU16(msg, offset) | (readU16(msg, offset + 2) << 16)) >>> 0;
}

export function append(msg: Uint8Array, extra: Uint8Array | readonly number[]): Uint8Array {
  const tail = extra instanceof Uint8Array ? extra : Uint8Array.from(extra);
  const out = new Uint8Array(msg.length + tail.length);
  out.set(msg);
  out.set(tail, msg.length);
  return out;
}

export function flip(msg: Uint8Array, offset: number, mask = 0x01): Uint8Array {
  return setU8(msg, offset, (msg[offset] ?? 0) ^ mask);
}

/** A signed response split at its Signature field (the last `signatureSize` bytes). */
export function unsignedPart(msg: Uint8Array, neg: MirrorNegotiation): Uint8Array {
  return msg.slice(0, msg.length - neg.signatureSize);
}

export interface ChallengeAuthFields {
  slot: number;
  slotMask: number;
  certChainHash: Uint8Array;
  nonce: Uint8Array;
  measurementSummaryHash?: Uint8Array;
  opaqueData: Uint8Array;
  requesterContext?: Uint8Array;
}

/** Decodes CHALLENGE_AUTH (answering `request`), lets `edit` change it, returns it unsigned. */
export function editChallengeAuth(
  msg: Uint8Array,
  request: Uint8Array,
  neg: MirrorNegotiation,
  edit: (f: ChallengeAuthFields) => void,
): Uint8Array {
  const d = decodeChallengeAuth(msg, {
    hashSize: neg.hashSize,
    signatureSize: neg.signatureSize,
    measurementSummaryHashRequested: (request[3] ?? 0) !== 0,
  });
  const f: ChallengeAuthFields = {
    slot: d.slot,
    slotMask: d.slotMask,
    certChainHash: d.certChainHash.slice(),
    nonce: d.nonce.slice(),
    ...(d.measurementSummaryHash ? { measurementSummaryHash: d.measurementSummaryHash.slice() } : {}),
    opaqueData: d.opaqueData.slice(),
    ...(d.requesterContext ? { requesterContext: d.requesterContext.slice() } : {}),
  };
  edit(f);
  return encodeChallengeAuth(neg.version, f, new Uint8Array(0)).unsigned.slice();
}

export interface MeasurementsFields {
  totalIndices: number;
  slot: number;
  contentChanged: number;
  numberOfBlocks: number;
  record: Uint8Array;
  nonce: Uint8Array;
  opaqueData: Uint8Array;
  requesterContext?: Uint8Array;
}

/** Decodes MEASUREMENTS (answering `request`), lets `edit` change it, returns it unsigned. */
export function editMeasurements(
  msg: Uint8Array,
  request: Uint8Array,
  neg: MirrorNegotiation,
  edit: (f: MeasurementsFields) => void,
): Uint8Array {
  const signed = ((request[2] ?? 0) & 0x01) !== 0;
  const d = decodeMeasurements(msg, { signatureRequested: signed, signatureSize: neg.signatureSize });
  const f: MeasurementsFields = {
    totalIndices: d.totalIndices,
    slot: d.slot,
    contentChanged: d.contentChanged,
    numberOfBlocks: d.numberOfBlocks,
    record: d.record.slice(),
    nonce: d.nonce.slice(),
    opaqueData: d.opaqueData.slice(),
    ...(d.requesterContext ? { requesterContext: d.requesterContext.slice() } : {}),
  };
  edit(f);
  return encodeMeasurements(neg.version, f).unsigned.slice();
}

/** A DMTF measurement block with every length field given explicitly (they may lie). */
export function rawBlock(o: {
  index: number;
  spec?: number;
  size?: number;
  valueType?: number;
  valueSize?: number;
  value: Uint8Array;
}): Uint8Array {
  const valueSize = o.valueSize ?? o.value.length;
  const size = o.size ?? 3 + o.value.length;
  const out = new Uint8Array(7 + o.value.length);
  out[0] = o.index;
  out[1] = o.spec ?? 0x01;
  out[2] = size & 0xff;
  out[3] = (size >> 8) & 0xff;
  out[4] = o.valueType ?? 0x80;
  out[5] = valueSize & 0xff;
  out[6] = (valueSize >> 8) & 0xff;
  out.set(o.value, 7);
  return out;
}
