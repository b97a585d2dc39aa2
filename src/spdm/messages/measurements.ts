/** GET_MEASUREMENTS / MEASUREMENTS (signed and unsigned forms, 1.3 RequesterContext). */
import { slotFromParam, slotIdParam } from './slot-param.js';
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { MAX_OPAQUE_LENGTH, NONCE_SIZE, REQUESTER_CONTEXT_SIZE } from './challenge.js';
import { decodeMeasurementRecord, type MeasurementBlock } from './measurement-block.js';

export const MeasurementAttribute = {
  SIGNATURE_REQUESTED: 0x01,
  RAW_BIT_STREAM_REQUESTED: 0x02,
  NEW_MEASUREMENT_REQUESTED: 0x04,
} as const;
export const MeasurementOperation = { TOTAL_NUMBER: 0x00, ALL: 0xff } as const;
export const ContentChanged = { NOT_SUPPORTED: 0, CHANGED: 1, UNCHANGED: 2 } as const;

export interface GetMeasurementsRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly attributes: number;
  readonly signatureRequested: boolean;
  readonly operation: number;
  readonly nonce?: Uint8Array;
  /** 1.1+ when signed; 0x0F = provisioned key. */
  readonly slot?: number;
  readonly requesterContext?: Uint8Array;
}

export interface MeasurementsResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1: TotalNumberOfMeasurementIndices when the operation was 0. */
  readonly totalIndices: number;
  readonly slot: number;
  /** 1.2+ ContentChanged (Param2 bits 5:4). */
  readonly contentChanged: number;
  readonly numberOfBlocks: number;
  readonly record: Uint8Array;
  readonly blocks: readonly MeasurementBlock[];
  readonly nonce: Uint8Array;
  readonly opaqueData: Uint8Array;
  readonly requesterContext?: Uint8Array;
  readonly signature?: Uint8Array;
  /** The response without its Signature: what the last entry of transcript L holds. */
  readonly unsigned: Uint8Array;
}

export interface MeasurementsDecodeContext {
  readonly signatureRequested: boolean;
  readonly signatureSize: number;
}

export function encodeGetMeasurements(
  version: number,
  m: { attributes: number; operation: number; nonce?: Uint8Array; slot?: number; requesterContext?: Uint8Array },
): Uint8Array {
  const signed = (m.attributes & MeasurementAttribute.SIGNATURE_REQUESTED) !== 0;
  let attrs = m.attributes & 0x01;
  if (version >= 0x12) attrs |= m.attributes & 0x02;
  if (version >= 0x13) attrs |= m.attributes & 0x04;
  const w = new Writer(48);
  writeHeader(w, version, RequestCode.GET_MEASUREMENTS, attrs, m.operation);
  if (signed) {
    w.bytes(m.nonce ?? new Uint8Array(NONCE_SIZE));
    if (version >= 0x11) w.u8(slotIdParam(m.slot ?? 0));
  }
  if (version >= 0x13) w.bytes(m.requesterContext ?? new Uint8Array(REQUESTER_CONTEXT_SIZE));
  return w.finish();
}

export function decodeGetMeasurements(bytes: Uint8Array): GetMeasurementsRequest {
  const r = new Reader(bytes, 'GET_MEASUREMENTS');
  const h = readHeader(r, RequestCode.GET_MEASUREMENTS);
  const signed = (h.param1 & MeasurementAttribute.SIGNATURE_REQUESTED) !== 0;
  let nonce: Uint8Array | undefined;
  let slot: number | undefined;
  if (signed) {
    nonce = r.bytes(NONCE_SIZE, 'Nonce');
    if (h.version >= 0x11) {
      slot = slotFromParam(r.u8('SlotIDParam'));
    }
  }
  const requesterContext = h.version >= 0x13 ? r.bytes(REQUESTER_CONTEXT_SIZE, 'RequesterContext') : undefined;
  return {
    raw: r.consumed(),
    version: h.version,
    attributes: h.param1,
    signatureRequested: signed,
    operation: h.param2,
    ...(nonce ? { nonce } : {}),
    ...(slot !== undefined ? { slot } : {}),
    ...(requesterContext ? { requesterContext } : {}),
  };
}

export function encodeMeasurements(
  version: number,
  m: {
    totalIndices?: number;
    slot?: number;
    contentChanged?: number;
    numberOfBlocks: number;
    record: Uint8Array;
    nonce: Uint8Array;
    opaqueData?: Uint8Array;
    requesterContext?: Uint8Array;
  },
  signature?: Uint8Array,
): { message: Uint8Array; unsigned: Uint8Array } {
  const opaque = m.opaqueData ?? new Uint8Array(0);
  const w = new Writer(64 + m.record.length + opaque.length + (signature?.length ?? 0));
  let p2 = 0;
  if (version >= 0x11) p2 |= slotIdParam(m.slot ?? 0);
  if (version >= 0x12) p2 |= ((m.contentChanged ?? 0) & 0x03) << 4;
  writeHeader(w, version, ResponseCode.MEASUREMENTS, m.totalIndices ?? 0, p2);
  w.u8(m.numberOfBlocks).u24(m.record.length).bytes(m.record).bytes(m.nonce).u16(opaque.length).bytes(opaque);
  if (version >= 0x13) w.bytes(m.requesterContext ?? new Uint8Array(REQUESTER_CONTEXT_SIZE));
  const unsignedLen = w.length;
  if (signature) w.bytes(signature);
  const message = w.finish();
  return { message, unsigned: message.subarray(0, unsignedLen) };
}

export function decodeMeasurements(bytes: Uint8Array, ctx: MeasurementsDecodeContext): MeasurementsResponse {
  const r = new Reader(bytes, 'MEASUREMENTS');
  const h = readHeader(r, ResponseCode.MEASUREMENTS);
  const numberOfBlocks = r.u8('NumberOfBlocks');
  const recordLength = r.u24('MeasurementRecordLength');
  const record = r.bytes(recordLength, 'MeasurementRecord');
  const blocks = decodeMeasurementRecord(record, numberOfBlocks);
  const nonce = r.bytes(NONCE_SIZE, 'Nonce');
  const opaqueLength = r.u16('OpaqueDataLength');
  if (opaqueLength > MAX_OPAQUE_LENGTH)
    r.fail('OpaqueDataLength', `${opaqueLength} exceeds ${MAX_OPAQUE_LENGTH}`, r.offset - 2);
  const opaqueData = r.bytes(opaqueLength, 'OpaqueData');
  const requesterContext = h.version >= 0x13 ? r.bytes(REQUESTER_CONTEXT_SIZE, 'RequesterContext') : undefined;
  const unsignedEnd = r.offset;
  const signature = ctx.signatureRequested ? r.bytes(ctx.signatureSize, 'Signature') : undefined;
  return {
    raw: r.consumed(),
    version: h.version,
    totalIndices: h.param1,
    slot: h.version >= 0x11 ? slotFromParam(h.param2) : 0,
    contentChanged: h.version >= 0x12 ? (h.param2 >> 4) & 0x03 : 0,
    numberOfBlocks,
    record,
    blocks,
    nonce,
    opaqueData,
    ...(requesterContext ? { requesterContext } : {}),
    ...(signature ? { signature } : {}),
    unsigned: bytes.subarray(0, unsignedEnd),
  };
}
