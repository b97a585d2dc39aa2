/**
 * GET_MEASUREMENT_EXTENSION_LOG / MEASUREMENT_EXTENSION_LOG (1.3+), and the DMTF MEL format the
 * portions concatenate to.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';
import type { DmtfMeasurement } from './measurement-block.js';

export interface GetMeasurementExtensionLogRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly offset: number;
  readonly length: number;
}

export interface MeasurementExtensionLogResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** This portion of the MEL (PortionLength bytes). */
  readonly portion: Uint8Array;
  readonly remainderLength: number;
}

export function encodeGetMeasurementExtensionLog(version: number, m: { offset: number; length: number }): Uint8Array {
  return writeHeader(new Writer(12), version, RequestCode.GET_MEASUREMENT_EXTENSION_LOG)
    .u32(m.offset)
    .u32(m.length)
    .finish();
}

export function decodeGetMeasurementExtensionLog(bytes: Uint8Array): GetMeasurementExtensionLogRequest {
  const r = new Reader(bytes, 'GET_MEASUREMENT_EXTENSION_LOG');
  const h = readHeaderSince(r, RequestCode.GET_MEASUREMENT_EXTENSION_LOG, 0x13);
  const offset = r.u32('Offset');
  const length = r.u32('Length');
  return { raw: r.consumed(), version: h.version, offset, length };
}

export function encodeMeasurementExtensionLog(
  version: number,
  m: { portion: Uint8Array; remainderLength: number },
): Uint8Array {
  const w = new Writer(12 + m.portion.length);
  writeHeader(w, version, ResponseCode.MEASUREMENT_EXTENSION_LOG)
    .u32(m.portion.length)
    .u32(m.remainderLength)
    .bytes(m.portion);
  return w.finish();
}

export function decodeMeasurementExtensionLog(bytes: Uint8Array): MeasurementExtensionLogResponse {
  const r = new Reader(bytes, 'MEASUREMENT_EXTENSION_LOG');
  const h = readHeaderSince(r, ResponseCode.MEASUREMENT_EXTENSION_LOG, 0x13);
  const portionLength = r.u32('PortionLength');
  const remainderLength = r.u32('RemainderLength');
  const portion = r.bytes(portionLength, 'MEL');
  return { raw: r.consumed(), version: h.version, portion, remainderLength };
}

export interface MelEntry {
  readonly melIndex: number;
  /** The measurement index (MEASUREMENTS block index) the entry extends. */
  readonly measIndex: number;
  readonly dmtf: DmtfMeasurement;
  /** The whole entry as sent. */
  readonly bytes: Uint8Array;
}

export interface DmtfMel {
  readonly entries: readonly MelEntry[];
}

/**
 * Parses a complete DMTF MEL: NumberOfEntries u32, MELEntriesLen u32, Reserved u64, then entries
 * {MELIndex u32, MeasIndex u8, Reserved[3], DMTFSpecMeasurementValueType u8, ValueSize u16, Value}.
 */
export function decodeDmtfMel(mel: Uint8Array): DmtfMel {
  const r = new Reader(mel, 'MEASUREMENT_EXTENSION_LOG.MEL');
  const count = r.u32('NumberOfEntries');
  const entriesLength = r.u32('MELEntriesLen');
  r.skip(8, 'Reserved');
  const er = new Reader(r.bytes(entriesLength, 'MELEntries'), 'MEASUREMENT_EXTENSION_LOG.MEL.MELEntries');
  const entries: MelEntry[] = [];
  for (let i = 0; i < count; i++) {
    const start = er.offset;
    const melIndex = er.u32(`Entry[${i}].MELIndex`);
    const measIndex = er.u8(`Entry[${i}].MeasIndex`);
    er.skip(3, `Entry[${i}].Reserved`);
    const vt = er.u8(`Entry[${i}].DMTFSpecMeasurementValueType`);
    const value = er.bytes(er.u16(`Entry[${i}].DMTFSpecMeasurementValueSize`), `Entry[${i}].DMTFSpecMeasurementValue`);
    entries.push({
      melIndex,
      measIndex,
      dmtf: { raw: (vt & 0x80) !== 0, type: vt & 0x7f, value },
      bytes: er.consumed(start),
    });
  }
  if (er.remaining !== 0) er.fail('MELEntriesLen', `${er.remaining} byte(s) after ${count} entries`);
  if (r.remaining !== 0) r.fail('MEL', `${r.remaining} byte(s) after the entries`);
  return { entries };
}

export function encodeDmtfMel(entries: readonly Omit<MelEntry, 'bytes'>[]): Uint8Array {
  const body = new Writer(64);
  for (const e of entries) {
    body
      .u32(e.melIndex)
      .u8(e.measIndex)
      .zeros(3)
      .u8((e.dmtf.raw ? 0x80 : 0) | (e.dmtf.type & 0x7f))
      .u16(e.dmtf.value.length)
      .bytes(e.dmtf.value);
  }
  const b = body.finish();
  return new Writer(16 + b.length).u32(entries.length).u32(b.length).zeros(8).bytes(b).finish();
}
