/**
 * GET_MEASUREMENT_EXTENSION_LOG / MEASUREMENT_EXTENSION_LOG (1.3) for the emulated device: the
 * profile's DMTF measurement extension log (or defaultMeasurementExtensionLog()), a portion per
 * request at the requested offset, each no larger than the requester asked for and than what
 * either side's DataTransferSize lets one message carry.
 */
import { createHash } from 'node:crypto';
import { ErrorCode } from '../spdm/messages/error.js';
import { RequestCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { DmtfMeasurementType } from '../spdm/messages/measurement-block.js';
import {
  decodeGetMeasurementExtensionLog,
  encodeDmtfMel,
  encodeMeasurementExtensionLog,
} from '../spdm/messages/mel.js';
import { ErrorReply } from './error-reply.js';

/** MEASUREMENT_EXTENSION_LOG's header: SPDM header, PortionLength, RemainderLength. */
const MEL_RESPONSE_HEADER = 12;

/** MELSpecification bit 0: the DMTF MEL format. */
export const MEL_SPEC_DMTF = 0x01;

/**
 * A small valid DMTF MEL: the events a boot extends measurement indices 1 and 2 with (ROM and
 * firmware stage digests, informational text) and the firmware version into index 5.
 */
export function defaultMeasurementExtensionLog(name: string): Uint8Array {
  const h = (label: string) => new Uint8Array(createHash('sha384').update(`${label}:${name}`).digest());
  return encodeDmtfMel([
    { melIndex: 1, measIndex: 1, dmtf: { raw: false, type: DmtfMeasurementType.IMMUTABLE_ROM, value: h('rom') } },
    {
      melIndex: 2,
      measIndex: 2,
      dmtf: {
        raw: true,
        type: DmtfMeasurementType.MUTABLE_FIRMWARE,
        value: new TextEncoder().encode('boot fw stage 1'),
      },
    },
    { melIndex: 3, measIndex: 2, dmtf: { raw: false, type: DmtfMeasurementType.MUTABLE_FIRMWARE, value: h('fw1') } },
    {
      melIndex: 4,
      measIndex: 5,
      dmtf: { raw: true, type: DmtfMeasurementType.FIRMWARE_VERSION, value: new TextEncoder().encode('1.0.0') },
    },
  ]);
}

export interface MelContext {
  readonly version: number;
  readonly flags: number;
  /** MELSpecificationSel of ALGORITHMS (0: none negotiated). */
  readonly melSpec: number;
  readonly mel: Uint8Array;
  /** The most bytes one response may take (the smaller DataTransferSize of the two sides). */
  readonly maxMessage: number;
}

export function answerGetMel(ctx: MelContext, request: Uint8Array): Uint8Array {
  if (ctx.version < 0x13 || (ctx.flags & CapabilityFlag.MEL) === 0)
    throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.GET_MEASUREMENT_EXTENSION_LOG);
  const req = decodeGetMeasurementExtensionLog(request);
  if (ctx.melSpec !== MEL_SPEC_DMTF) throw new ErrorReply(ErrorCode.UnexpectedRequest);
  if (req.offset >= ctx.mel.length) throw new ErrorReply(ErrorCode.InvalidRequest);
  const length = Math.min(req.length, Math.max(0, ctx.maxMessage - MEL_RESPONSE_HEADER), ctx.mel.length - req.offset);
  return encodeMeasurementExtensionLog(ctx.version, {
    portion: ctx.mel.subarray(req.offset, req.offset + length),
    remainderLength: ctx.mel.length - req.offset - length,
  });
}
