/** Measurement record: a sequence of measurement blocks, DMTF-format values inside. */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';

export const DmtfMeasurementType = {
  IMMUTABLE_ROM: 0,
  MUTABLE_FIRMWARE: 1,
  HARDWARE_CONFIG: 2,
  FIRMWARE_CONFIG: 3,
  MEASUREMENT_MANIFEST: 4,
  DEVICE_MODE: 5,
  FIRMWARE_VERSION: 6,
  SECURE_VERSION_NUMBER: 7,
  HASH_EXTEND: 8,
  INFORMATIONAL: 9,
  STRUCTURED_MANIFEST: 10,
} as const;

const TYPE_NAMES = [
  'immutable ROM',
  'mutable firmware',
  'hardware configuration',
  'firmware configuration',
  'measurement manifest',
  'device mode',
  'firmware version',
  'security version number',
  'hash-extended',
  'informational',
  'structured manifest',
];

export function measurementTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `type ${t}`;
}

export interface DmtfMeasurement {
  /** Bit 7 of the value type: the value is the raw bit stream rather than a digest. */
  readonly raw: boolean;
  readonly type: number;
  readonly value: Uint8Array;
}

export interface MeasurementBlock {
  readonly index: number;
  readonly spec: number;
  /** The block's Measurement field (for DMTF spec: type, size, value). */
  readonly measurement: Uint8Array;
  /** Decoded when spec has the DMTF bit. */
  readonly dmtf?: DmtfMeasurement;
  /** The whole block as sent (header included): what the measurement summary hash covers. */
  readonly bytes: Uint8Array;
}

export function decodeMeasurementRecord(
  record: Uint8Array,
  count: number,
  messageName = 'MEASUREMENTS',
): MeasurementBlock[] {
  const r = new Reader(record, `${messageName}.MeasurementRecord`);
  const out: MeasurementBlock[] = [];
  for (let i = 0; i < count; i++) {
    const start = r.offset;
    const index = r.u8(`Block[${i}].Index`);
    const spec = r.u8(`Block[${i}].MeasurementSpecification`);
    const size = r.u16(`Block[${i}].MeasurementSize`);
    const measurement = r.bytes(size, `Block[${i}].Measurement`);
    let dmtf: DmtfMeasurement | undefined;
    if (spec & 0x01) {
      const mr = new Reader(measurement, `${messageName}.Block[${i}]`);
      const vt = mr.u8('DMTFSpecMeasurementValueType');
      const vs = mr.u16('DMTFSpecMeasurementValueSize');
      const value = mr.bytes(vs, 'DMTFSpecMeasurementValue');
      if (mr.remaining !== 0) mr.fail('MeasurementSize', `${mr.remaining} byte(s) beyond the DMTF value`);
      dmtf = { raw: (vt & 0x80) !== 0, type: vt & 0x7f, value };
    }
    out.push({ index, spec, measurement, ...(dmtf ? { dmtf } : {}), bytes: r.consumed(start) });
  }
  if (r.remaining !== 0) r.fail('MeasurementRecordLength', `${r.remaining} byte(s) after ${count} block(s)`);
  return out;
}

export function encodeDmtfBlock(index: number, m: DmtfMeasurement): Uint8Array {
  const w = new Writer(7 + m.value.length);
  w.u8(index)
    .u8(0x01)
    .u16(3 + m.value.length)
    .u8((m.raw ? 0x80 : 0) | (m.type & 0x7f))
    .u16(m.value.length)
    .bytes(m.value);
  return w.finish();
}
