/**
 * GET_MEASUREMENTS / MEASUREMENTS: every block in one signed request, or index by index with the
 * signature requested on the last one, which then covers every response of the run (L1/L2 over
 * message_m). Each response must answer what was asked (index, slot, echoed RequesterContext) and
 * carry well-formed blocks: no reserved or repeated index, the negotiated measurement
 * specification, digests as long as the measurement hash.
 */
import { hashInfo, measurementHashToBaseHash } from '../crypto/algorithms.js';
import { equalBytes, toHex, toHexEach } from '../wire/bytes.js';
import { isSpdmError, SpdmError } from '../wire/errors.js';
import { ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag, MEAS_CAP_MASK } from '../spdm/messages/capabilities.js';
import {
  decodeMeasurements,
  encodeGetMeasurements,
  MeasurementAttribute,
  type MeasurementsResponse,
} from '../spdm/messages/measurements.js';
import { measurementTypeName, type MeasurementBlock } from '../spdm/messages/measurement-block.js';
import type { MeasurementEvidence, SignatureEvidence } from '../evidence/evidence.js';
import type { Connection, RequestContext } from './connection.js';
import { checkOpaque, verifiedSignatureOn } from './proof.js';

export interface MeasurementRequestOptions {
  /** 'all' asks for every block in one signed request; 'one-by-one' walks the indices. */
  readonly mode?: 'all' | 'one-by-one';
  /**
   * Exactly these blocks (1-0xfe, each once; `[0xff]` is every block), one request each with the
   * signature asked for on the last, which covers them all: Redfish's MeasurementIndices. Overrides
   * `mode`. A block the device lacks fails the run with its ERROR.
   */
  readonly indices?: readonly number[];
  readonly slot?: number;
  readonly rawBitStream?: boolean;
}

export interface MeasurementRun {
  /** Every block read, as evidence; `signed` says whether a verified signature covers it. */
  readonly measurements: readonly MeasurementEvidence[];
  /** The verified signature of the run, when the device signs measurements. */
  readonly signature?: SignatureEvidence;
}

interface Exchanged {
  /** The request's wire bytes (what message_m and L1/L2 take). */
  readonly req: { readonly raw: Uint8Array };
  readonly resp: MeasurementsResponse;
  readonly nonce: Uint8Array | undefined;
  readonly context: Uint8Array | undefined;
}

function checkBlocks(c: Connection, blocks: readonly MeasurementBlock[]): void {
  const seen = new Set<number>();
  const mh = measurementHashToBaseHash(c.algorithms.measurementHash);
  const digestSize = mh !== undefined ? (hashInfo(mh)?.size ?? 0) : 0;
  for (const b of blocks) {
    if (b.index === 0 || b.index === 0xff)
      throw new SpdmError('UNEXPECTED_RESPONSE', `MEASUREMENTS: block index ${b.index} is reserved`);
    if (seen.has(b.index)) throw new SpdmError('UNEXPECTED_RESPONSE', `MEASUREMENTS: block index ${b.index} repeated`);
    seen.add(b.index);
    if ((b.spec & c.algorithms.measurementSpec) === 0)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `MEASUREMENTS: block ${b.index} uses measurement specification 0x${b.spec.toString(16)}`,
      );
    if (b.dmtf && !b.dmtf.raw && b.dmtf.value.length !== digestSize) {
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `MEASUREMENTS: block ${b.index} digest is ${b.dmtf.value.length} bytes, the measurement hash gives ${digestSize}`,
      );
    }
  }
}

/** One GET_MEASUREMENTS for `operation` (0 count, 1-0xfe an index, 0xff all), its answer checked. */
async function request(
  ctx: RequestContext,
  operation: number,
  signed: boolean,
  slot: number,
  raw: boolean,
): Promise<Exchanged> {
  const c = ctx.connection;
  const nonce = signed ? ctx.nonce() : undefined;
  const context = ctx.requesterContext();
  let attributes = signed ? MeasurementAttribute.SIGNATURE_REQUESTED : 0;
  if (raw && c.version >= 0x12) attributes |= MeasurementAttribute.RAW_BIT_STREAM_REQUESTED;
  const req = encodeGetMeasurements(c.version, {
    attributes,
    operation,
    ...(nonce ? { nonce } : {}),
    slot,
    ...(context ? { requesterContext: context } : {}),
  });
  let resp: MeasurementsResponse;
  try {
    resp = await ctx.send(req, ResponseCode.MEASUREMENTS, signed ? 'T2' : 'T1', (b) =>
      decodeMeasurements(b, { signatureRequested: signed, signatureSize: c.signatureSize }),
    );
  } catch (e) {
    // An ERROR ends the measurement run on both sides (and we give up on it after any other failure): message_m starts again.
    ctx.transcript.endMeasurementRun(ctx.measurementRun);
    throw e;
  }
  // The SlotID of a signed response says whose key signed it; it must be the slot we asked for.
  if (signed && c.version >= 0x11 && resp.slot !== slot)
    throw new SpdmError('UNEXPECTED_RESPONSE', `MEASUREMENTS: signed for slot ${resp.slot}, asked for slot ${slot}`, {
      slot,
    });
  if (context && (!resp.requesterContext || !equalBytes(context, resp.requesterContext)))
    throw new SpdmError('CONTEXT_MISMATCH', 'MEASUREMENTS: RequesterContext not echoed');
  checkOpaque(c, resp.opaqueData, 'MEASUREMENTS');
  if (operation === 0 && resp.numberOfBlocks !== 0)
    throw new SpdmError('UNEXPECTED_RESPONSE', 'MEASUREMENTS: blocks returned for a count query');
  if (operation > 0 && operation < 0xff) {
    if (resp.numberOfBlocks !== 1 || resp.blocks[0]?.index !== operation)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `MEASUREMENTS: asked for index ${operation}, got ${resp.blocks.map((b) => b.index).join(',') || 'none'}`,
      );
  }
  checkBlocks(c, resp.blocks);
  // The request is our own encoding, exactly the message: nothing to decode back for its bytes.
  return { req: { raw: req }, resp, nonce, context };
}

/** The signed response that ends a run: L1/L2 over message_m, verified with the slot's leaf key. */
async function finishSigned(ctx: RequestContext, slot: number, x: Exchanged): Promise<SignatureEvidence> {
  const { req, resp, nonce, context } = x;
  if (!nonce || !resp.signature) throw new TypeError('finishSigned: the request was not a signed one');
  const l = ctx.transcript.l1l2(req.raw, resp.unsigned, ctx.measurementRun);
  ctx.transcript.endMeasurementRun(ctx.measurementRun);
  const checked = verifiedSignatureOn(
    ctx.threadpoolChecks,
    ctx.connection,
    ctx.signer(slot).leafKey,
    slot,
    l,
    resp.signature,
    {
      requesterNonce: nonce,
      responderNonce: resp.nonce,
      ...(context ? { requesterContext: context } : {}),
    },
  );
  // Checked on this thread, the record is here already: awaiting it would still cost a hop.
  const ev = checked instanceof Promise ? await checked : checked;
  ctx.responderNonces.check(resp.nonce, nonce, 'MEASUREMENTS');
  return ev;
}

/** ContentChanged 01b on the signed response of a multi-request run: the earlier blocks are stale. */
function contentChanged(): SpdmError {
  return new SpdmError(
    'UNEXPECTED_RESPONSE',
    'MEASUREMENTS: the device reports ContentChanged: its measurements changed during the one-by-one sequence, the earlier blocks are stale',
  );
}

/** `indices` as given, once it is a list a run can ask for. @throws TypeError */
export function checkIndices(indices: readonly number[]): readonly number[] {
  if (indices.length === 0) throw new TypeError('indices: at least one measurement index');
  if (indices.length === 1 && indices[0] === 0xff) return indices;
  const seen = new Set<number>();
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 1 || i > 0xfe)
      throw new TypeError(`indices: ${i} is not a measurement index (1-254, or [255] alone for all)`);
    if (seen.has(i)) throw new TypeError(`indices: ${i} is listed twice`);
    seen.add(i);
  }
  return indices;
}

/** The text of `v`: a slice of `outerHex` (the hex of `outer`) when `v` lies within `outer`, as a decoded field does. */
function hexWithin(v: Uint8Array, outer: Uint8Array, outerHex: string): string {
  const at = v.byteOffset - outer.byteOffset;
  if (v.buffer !== outer.buffer || at < 0 || at + v.byteLength > outer.byteLength) return toHex(v);
  return outerHex.slice(2 * at, 2 * (at + v.byteLength));
}

function asEvidence(blocks: readonly MeasurementBlock[], signed: boolean): MeasurementEvidence[] {
  // The blocks in one encoding when they lie in one response (toHexEach); each value lies within
  // its block, so its text is a slice of the block's.
  const hex = toHexEach(blocks.map((b) => b.bytes));
  return blocks.map((b, i) => {
    const block = hex[i] as string;
    return {
      index: b.index,
      spec: b.spec,
      ...(b.dmtf ? { type: b.dmtf.type, typeName: measurementTypeName(b.dmtf.type), raw: b.dmtf.raw } : {}),
      value: hexWithin(b.dmtf?.value ?? b.measurement, b.bytes, block),
      block,
      signed,
    };
  });
}

/** One measurement run (each call is a run of its own): the blocks read and the signature over them. */
export async function getMeasurements(
  ctx: RequestContext,
  options: MeasurementRequestOptions = {},
): Promise<MeasurementRun> {
  const c = ctx.connection;
  const measCap = c.capabilities.flags & MEAS_CAP_MASK;
  if (measCap === 0) throw new SpdmError('UNSUPPORTED', 'device does not support measurements (MEAS_CAP)');
  const signed = measCap === CapabilityFlag.MEAS_SIG;
  const slot = options.slot ?? 0;
  // A signed run needs the slot's chain; ask for it before anything goes on the wire.
  if (signed) ctx.signer(slot);
  const raw = options.rawBitStream === true;
  ctx.transcript.endMeasurementRun(ctx.measurementRun);
  const indices = options.indices && checkIndices(options.indices);
  if (indices && !(indices.length === 1 && indices[0] === 0xff)) {
    const measurements: MeasurementEvidence[] = [];
    let signature: SignatureEvidence | undefined;
    for (const [i, index] of indices.entries()) {
      const last = i === indices.length - 1;
      const x = await request(ctx, index, signed && last, slot, raw);
      if (signed && last) {
        if (x.resp.contentChanged === 1) throw contentChanged();
        signature = await finishSigned(ctx, slot, x);
      } else (ctx.measurementRun ?? ctx.transcript.messageM).append(x.req.raw, x.resp.raw);
      measurements.push(...asEvidence(x.resp.blocks, signed));
    }
    return { measurements, ...(signature ? { signature } : {}) };
  }
  if ((options.mode ?? 'all') === 'all' || indices) {
    const x = await request(ctx, 0xff, signed, slot, raw);
    const signature = signed ? await finishSigned(ctx, slot, x) : undefined;
    return { measurements: asEvidence(x.resp.blocks, signed), ...(signature ? { signature } : {}) };
  }
  const count = await request(ctx, 0, false, slot, raw);
  (ctx.measurementRun ?? ctx.transcript.messageM).append(count.req.raw, count.resp.raw);
  const total = count.resp.totalIndices;
  const measurements: MeasurementEvidence[] = [];
  let signature: SignatureEvidence | undefined;
  let found = 0;
  // Blocks read since message_m last started: the run's signature covers exactly these.
  let covered: MeasurementBlock[] = [];
  for (let index = 1; index <= 0xfe && found < total; index++) {
    const last = found === total - 1;
    let x: Exchanged;
    try {
      x = await request(ctx, index, signed && last, slot, raw);
    } catch (e) {
      if (isSpdmError(e, 'DEVICE_ERROR') && e.details.errorCode === 0x01) {
        // No block at this index: the responder answered InvalidRequest and both sides restarted message_m.
        measurements.push(...asEvidence(covered, false));
        covered = [];
        continue;
      }
      throw e;
    }
    found++;
    covered.push(...x.resp.blocks);
    if (signed && last) {
      // ContentChanged 01b: the measurements changed while we walked the indices, so the blocks
      // read before this one are not the ones the signature vouches for now.
      if (x.resp.contentChanged === 1) throw contentChanged();
      signature = await finishSigned(ctx, slot, x);
      measurements.push(...asEvidence(covered, true));
      covered = [];
    } else {
      (ctx.measurementRun ?? ctx.transcript.messageM).append(x.req.raw, x.resp.raw);
    }
  }
  measurements.push(...asEvidence(covered, false));
  if (found < total)
    throw new SpdmError(
      'UNEXPECTED_RESPONSE',
      `MEASUREMENTS: device reports ${total} indices but only ${found} answered`,
    );
  return { measurements, ...(signature ? { signature } : {}) };
}
