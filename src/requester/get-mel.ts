/**
 * GET_MEASUREMENT_EXTENSION_LOG / MEASUREMENT_EXTENSION_LOG (1.3): the device's measurement
 * extension log, read portion by portion. The first portion's PortionLength + RemainderLength is
 * the log's size and is held to `maxBytes` before anything is kept; every later portion must
 * agree with it, stay within the length asked for and bring at least one byte, so a device that
 * lies about lengths gets a typed error after at most size / portion rounds, never an unbounded
 * buffer or an endless loop. The whole must then parse as a DMTF MEL.
 */
import { concat } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { LimitError } from '../wire/limits.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import {
  decodeDmtfMel,
  decodeMeasurementExtensionLog,
  encodeGetMeasurementExtensionLog,
  type MelEntry,
} from '../spdm/messages/mel.js';
import type { RequestContext } from './connection.js';

/** MELSpecificationSel bit 0: the DMTF format, the one this requester reads. */
const MEL_SPEC_DMTF = 0x01;

export interface MelReadOptions {
  /** The largest portion to ask for (what our DataTransferSize leaves after the 12-byte header). */
  readonly portionMax: number;
  /** The largest log accepted (LIMITS.melBytes by default). */
  readonly maxBytes: number;
}

export interface MelResult {
  /** The log as read: NumberOfEntries, MELEntriesLen, Reserved, the entries. */
  readonly mel: Uint8Array;
  readonly entries: readonly MelEntry[];
}

function lie(why: string): never {
  throw new SpdmError('UNEXPECTED_RESPONSE', `MEASUREMENT_EXTENSION_LOG: ${why}`);
}

export async function getMeasurementExtensionLog(ctx: RequestContext, o: MelReadOptions): Promise<MelResult> {
  const c = ctx.connection;
  if (c.version < 0x13) throw new SpdmError('UNSUPPORTED', 'GET_MEASUREMENT_EXTENSION_LOG needs SPDM 1.3 or later');
  if ((c.capabilities.flags & CapabilityFlag.MEL) === 0)
    throw new SpdmError('UNSUPPORTED', 'device does not keep a measurement extension log (MEL_CAP)');
  if (c.algorithms.melSpec !== MEL_SPEC_DMTF)
    throw new SpdmError(
      'UNSUPPORTED',
      `ALGORITHMS selected MELSpecification 0x${c.algorithms.melSpec.toString(16)}, not DMTF`,
    );
  if (!Number.isInteger(o.portionMax) || o.portionMax < 1) throw new TypeError('portionMax must be a positive integer');
  const portions: Uint8Array[] = [];
  let offset = 0;
  let total: number | undefined;
  do {
    const length = Math.min(o.portionMax, total === undefined ? o.portionMax : total - offset);
    ctx.transcript.request(RequestCode.GET_MEASUREMENT_EXTENSION_LOG, ctx.measurementRun);
    const req = encodeGetMeasurementExtensionLog(c.version, { offset, length });
    const r = await ctx.send(req, ResponseCode.MEASUREMENT_EXTENSION_LOG, 'T1', decodeMeasurementExtensionLog);
    const got = r.portion.length;
    if (got === 0) lie(`an empty portion at offset ${offset}`);
    if (got > length) lie(`PortionLength ${got} exceeds the ${length} byte(s) asked for at offset ${offset}`);
    const claimed = offset + got + r.remainderLength;
    if (total === undefined) {
      if (claimed > o.maxBytes)
        throw new LimitError(
          'maxMelBytes',
          claimed,
          o.maxBytes,
          'MEASUREMENT_EXTENSION_LOG',
          `the device announces a ${claimed}-byte log`,
        );
      total = claimed;
    } else if (claimed !== total) {
      lie(`the log was ${total} bytes, the portion at offset ${offset} makes it ${claimed}`);
    }
    portions.push(r.portion);
    offset += got;
  } while (offset < total);
  const mel = concat(portions);
  return { mel, entries: decodeDmtfMel(mel).entries };
}
