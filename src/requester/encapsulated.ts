/**
 * The encapsulated request flow, requester side (DSP0274 "GET_ENCAPSULATED_REQUEST"): the device
 * asks us questions inside our own requests. We fetch its request with GET_ENCAPSULATED_REQUEST
 * (or, for KEY_EXCHANGE_RSP's MutAuthRequested "with GET_DIGESTS", answer an implicit GET_DIGESTS
 * with RequestID 0), answer it with DELIVER_ENCAPSULATED_RESPONSE, and the ENCAPSULATED_RESPONSE_ACK
 * carries the next request, the end, or the slot the device wants us to sign with.
 *
 * We answer from our own identity: GET_DIGESTS, GET_CERTIFICATE and — for 1.1 basic mutual
 * authentication — CHALLENGE, signing [A ‖] Mut_B ‖ Mut_C with the requester key. Anything else is
 * answered with an encapsulated ERROR, as libspdm's requester does. The device drives the loop, so
 * it is bounded: a device that never stops asking gets LIMIT_EXCEEDED, not a hang.
 */
import { isSpdmError, SpdmError } from '../wire/errors.js';
import { LimitError } from '../wire/limits.js';
import { Writer } from '../wire/writer.js';
import { codeName, RequestCode, ResponseCode } from '../spdm/codes.js';
import { peekHeader } from '../spdm/header.js';
import { decodeGetDigests, encodeDigests } from '../spdm/messages/digests.js';
import { decodeGetCertificate, encodeCertificate } from '../spdm/messages/certificate.js';
import { decodeChallenge, encodeChallengeAuth, NONCE_SIZE } from '../spdm/messages/challenge.js';
import { encodeError, ErrorCode } from '../spdm/messages/error.js';
import {
  decodeEncapsulatedRequest,
  decodeEncapsulatedResponseAck,
  EncapPayloadType,
  encodeDeliverEncapsulatedResponse,
  encodeGetEncapsulatedRequest,
} from '../spdm/messages/encapsulated.js';
import type { ConnectionTranscript } from '../spdm/connection-transcript.js';
import type { RoundTrip } from './exchange.js';
import type { IdentityView } from './identity.js';
import { answerEncapGetEndpointInfo } from './encap-endpoint-info.js';

/** Most encapsulated requests one flow may carry (a chain of 64 KiB read 1 KiB at a time fits). */
export const MAX_ENCAPSULATED_REQUESTS = 96;

/**
 * The bound for a flow reading a chain of `chainBytes`: MAX_ENCAPSULATED_REQUESTS, or for a
 * LargeCertChain one over 64 KiB as many more as reading it 1 KiB at a time takes. Still finite:
 * our chains are bounded by LIMITS.largeCertChainBytes.
 */
export function encapsulatedRequestLimit(chainBytes: number): number {
  return Math.max(MAX_ENCAPSULATED_REQUESTS, Math.ceil(chainBytes / 1024) + 32);
}

/** Most of our chain one 16-bit CERTIFICATE carries, whatever Length the device asks for. */
const MAX_PORTION = 1024;

/** CERTIFICATE before its portion: header, PortionLength, RemainderLength (u16, or u32 in the 1.4 LargeCertChain form). */
const CERTIFICATE_HEADER = 8;
const LARGE_CERTIFICATE_HEADER = 16;

/** The channel a flow runs on: the clear one (basic mutual authentication, HANDSHAKE_IN_THE_CLEAR) or the session's. */
export type EncapsulatedSend = RoundTrip;

export interface EncapsulatedFlowOptions {
  /** 'get-request' starts with GET_ENCAPSULATED_REQUEST; 'digests' with DIGESTS to an implicit GET_DIGESTS (RequestID 0). */
  readonly start: 'get-request' | 'digests';
  /**
   * 'basic': after CHALLENGE_AUTH (out of session, CHALLENGE allowed); 'session': KEY_EXCHANGE
   * mutual authentication; 'device': a flow the device asked for out of band (in the clear, e.g.
   * to read our ENDPOINT_INFO), where a device with nothing to ask gives an empty run.
   */
  readonly purpose: 'basic' | 'session' | 'device';
  readonly version: number;
  /** Our identity under the negotiated ReqBaseAsymAlg; only a 'device' flow may run without one (GET_DIGESTS, GET_CERTIFICATE, CHALLENGE are then UnsupportedRequest). */
  readonly identity: IdentityView | undefined;
  readonly transcript: ConnectionTranscript;
  readonly random: (n: number) => Uint8Array;
  /**
   * The largest response the device can take from us in one DELIVER_ENCAPSULATED_RESPONSE
   * (requester/chunk-limits.ts encapsulatedResponseLimit): CERTIFICATE portions are cut to it.
   */
  readonly maxResponseBytes: number;
  /** For GET_ENDPOINT_INFO: the capability flags we sent (EP_INFO_CAP) and our EPInfo; without them it is UnsupportedRequest. */
  readonly endpointInfo?: { readonly ourFlags: number; readonly epInfo: Uint8Array };
  /**
   * We sent LARGE_RESP_CAP: a 1.4 GET_CERTIFICATE in the LargeCertChain form is answered in it;
   * without, it is refused with UnsupportedRequest (libspdm's requester).
   */
  readonly largeResponses?: boolean;
}

export interface EncapsulatedFlowResult {
  /** ENCAPSULATED_RESPONSE_ACK PayloadType 2: the slot the device wants the FINISH signed with. */
  readonly reqSlot?: number;
  /** The requests the device made, by name, in order. */
  readonly asked: readonly string[];
  /** True once we answered an encapsulated CHALLENGE with a signed CHALLENGE_AUTH. */
  readonly challenged: boolean;
  /** The slot that CHALLENGE named. */
  readonly challengedSlot?: number;
}

/** Our answer to each request code the device may ask in a flow; others get UnsupportedRequest. */
export type EncapsulatedHandlers = Readonly<Partial<Record<number, (request: Uint8Array) => Uint8Array>>>;

/**
 * One encapsulated request of the device's, answered as a responder would answer it: a header that
 * does not decode or another version is an encapsulated ERROR, so is a request no handler takes and
 * a malformed one (a handler's SpdmError). A bound of ours that the device broke (LimitError) is not
 * an answer: it ends the flow. `asked` records the request by name.
 */
export function answerEncapsulated(
  version: number,
  request: Uint8Array,
  asked: string[],
  handlers: EncapsulatedHandlers,
): Uint8Array {
  let code: number;
  let v: number;
  try {
    ({ code, version: v } = peekHeader(request));
  } catch {
    return encodeError(version, ErrorCode.InvalidRequest);
  }
  asked.push(codeName(code));
  if (v !== version) return encodeError(version, ErrorCode.VersionMismatch);
  const handler = handlers[code];
  if (!handler) return encodeError(version, ErrorCode.UnsupportedRequest, code);
  try {
    return handler(request);
  } catch (e) {
    if (e instanceof SpdmError && !(e instanceof LimitError)) return encodeError(version, ErrorCode.InvalidRequest);
    throw e;
  }
}

/** How one flow runs the loop that every flow shares. */
export interface EncapsulatedLoop {
  readonly version: number;
  /** Answers one request of the device's (answerEncapsulated with the flow's handlers). */
  readonly answer: (request: Uint8Array) => Uint8Array;
  /** Start by delivering this answer to the implicit GET_DIGESTS (RequestID 0) instead of asking. */
  readonly implicitFirst?: Uint8Array;
  /** An error to GET_ENCAPSULATED_REQUEST that means the device has nothing to ask: an empty run. */
  readonly nothingPending?: (e: unknown) => boolean;
  /** PayloadType 2 (ReqSlotNumber) is allowed and ends the flow once this checks the slot; without it, refused. */
  readonly reqSlot?: (slot: number) => void;
  /** The bound on the requests the device may make, and how LIMIT_EXCEEDED names it. */
  readonly limit: { readonly max: number; readonly name: string; readonly where: string };
}

/**
 * The device drives the flow: GET_ENCAPSULATED_REQUEST (unless an implicit first request),
 * then DELIVER_ENCAPSULATED_RESPONSE for each of its requests, each ENCAPSULATED_RESPONSE_ACK
 * (its 1.2 AckRequestID checked) bringing the next request, the end, or the ReqSlotNumber.
 */
export async function runEncapsulatedLoop(
  send: EncapsulatedSend,
  l: EncapsulatedLoop,
): Promise<{ readonly reqSlot?: number }> {
  let requestId: number;
  let nested: Uint8Array;
  if (l.implicitFirst) {
    requestId = 0;
    nested = l.implicitFirst;
  } else {
    let er;
    try {
      er = await send(encodeGetEncapsulatedRequest(l.version), ResponseCode.ENCAPSULATED_REQUEST, (b) =>
        decodeEncapsulatedRequest(b),
      );
    } catch (e) {
      if (l.nothingPending?.(e)) return {};
      throw e;
    }
    if (er.payload.length === 0) return {};
    requestId = er.requestId;
    nested = l.answer(er.payload);
  }
  for (let n = 0; n < l.limit.max; n++) {
    const ack = await send(
      encodeDeliverEncapsulatedResponse(l.version, { requestId, payload: nested }),
      ResponseCode.ENCAPSULATED_RESPONSE_ACK,
      (b) => decodeEncapsulatedResponseAck(b),
    );
    if (l.version >= 0x12 && ack.ackRequestId !== requestId)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `ENCAPSULATED_RESPONSE_ACK: AckRequestID ${ack.ackRequestId}, delivered RequestID ${requestId}`,
      );
    switch (ack.payloadType) {
      case EncapPayloadType.ABSENT:
        return {};
      case EncapPayloadType.REQ_SLOT_NUMBER: {
        if (!l.reqSlot)
          throw new SpdmError(
            'UNEXPECTED_RESPONSE',
            'ENCAPSULATED_RESPONSE_ACK: PayloadType 2 where no slot is asked for',
          );
        const slot = ack.reqSlotNumber ?? -1;
        l.reqSlot(slot);
        return { reqSlot: slot };
      }
      case EncapPayloadType.PRESENT:
        if (ack.payload.length === 0)
          throw new SpdmError('UNEXPECTED_RESPONSE', 'ENCAPSULATED_RESPONSE_ACK: PayloadType 1 with no request');
        requestId = ack.requestId;
        nested = l.answer(ack.payload);
        break;
      default:
        throw new SpdmError('UNEXPECTED_RESPONSE', `ENCAPSULATED_RESPONSE_ACK: PayloadType ${ack.payloadType}`);
    }
  }
  throw new LimitError(
    l.limit.name,
    l.limit.max + 1,
    l.limit.max,
    l.limit.where,
    `the device asked more than ${l.limit.max} encapsulated requests`,
  );
}

/** The state of one flow: Mut_B as the device read our identity, what it asked. */
class Answerer {
  readonly mutB: Uint8Array[] = [];
  readonly asked: string[] = [];
  challenged = false;
  challengedSlot: number | undefined;

  constructor(private readonly o: EncapsulatedFlowOptions) {}

  result(): EncapsulatedFlowResult {
    return {
      asked: this.asked,
      challenged: this.challenged,
      ...(this.challengedSlot !== undefined ? { challengedSlot: this.challengedSlot } : {}),
    };
  }

  private error(code: number, data = 0): Uint8Array {
    return encodeError(this.o.version, code, data);
  }

  answer(request: Uint8Array): Uint8Array {
    const id = this.o.identity;
    return answerEncapsulated(this.o.version, request, this.asked, {
      ...(id
        ? {
            [RequestCode.GET_DIGESTS]: (r: Uint8Array) => this.digests(r, id),
            [RequestCode.GET_CERTIFICATE]: (r: Uint8Array) => this.certificate(r, id),
            [RequestCode.CHALLENGE]: (r: Uint8Array) =>
              this.o.purpose === 'basic' ? this.challengeAuth(r, id) : this.error(ErrorCode.UnexpectedRequest),
          }
        : {}),
      // Outside an established session, as libspdm's requester answers: SessionRequired from
      // 1.2 (1.1 has no such code), InvalidRequest in a session's handshake.
      [RequestCode.KEY_UPDATE]: () =>
        this.o.purpose === 'session'
          ? this.error(ErrorCode.InvalidRequest)
          : this.error(this.o.version >= 0x12 ? ErrorCode.SessionRequired : ErrorCode.Unspecified),
      // In a session's handshake libspdm's requester refuses it (the session is not established).
      [RequestCode.GET_ENDPOINT_INFO]: (r) =>
        this.o.purpose === 'session' ? this.error(ErrorCode.InvalidRequest) : this.endpointInfo(r),
    });
  }

  private endpointInfo(request: Uint8Array): Uint8Array {
    const e = this.o.endpointInfo;
    return answerEncapGetEndpointInfo(request, {
      version: this.o.version,
      ourFlags: e?.ourFlags ?? 0,
      epInfo: e?.epInfo ?? new Uint8Array(0),
      identity: this.o.identity,
      transcript: this.o.transcript,
      random: this.o.random,
    });
  }

  digests(request: Uint8Array, id: IdentityView): Uint8Array {
    const req = decodeGetDigests(request);
    const response = encodeDigests(this.o.version, {
      digests: id.slots().map((s) => ({ slot: s.slot, digest: id.chainHash(s.slot) as Uint8Array })),
    });
    this.mutB.push(req.raw, response);
    return response;
  }

  certificate(request: Uint8Array, id: IdentityView): Uint8Array {
    const req = decodeGetCertificate(request);
    // The 1.4 LargeCertChain form needs our LARGE_RESP_CAP (libspdm: UnsupportedRequest).
    if (req.large && this.o.largeResponses !== true)
      return this.error(ErrorCode.UnsupportedRequest, RequestCode.GET_CERTIFICATE);
    const chain = id.chain(req.slot);
    if (!chain || req.offset > chain.length || req.slotSizeRequested) return this.error(ErrorCode.InvalidRequest);
    // A 1.4 chain over 64 KiB asked in the 16-bit form: DataTooLarge with its size, as libspdm's requester answers.
    if (!req.large && this.o.version >= 0x14 && chain.length > 0xffff)
      return encodeError(this.o.version, ErrorCode.DataTooLarge, 0, new Writer(4).u32(chain.length).finish());
    // A portion the device's receive buffer cannot hold would be dropped (or kill its connection):
    // cut it to what one DELIVER_ENCAPSULATED_RESPONSE may carry, as libspdm's requester does.
    const room = this.o.maxResponseBytes - (req.large ? LARGE_CERTIFICATE_HEADER : CERTIFICATE_HEADER);
    if (room <= 0) return this.error(ErrorCode.Unspecified);
    // The large form is for chains a 1 KiB portion at a time would take hundreds of requests to read.
    const size = Math.min(req.length, req.large ? room : MAX_PORTION, room, chain.length - req.offset);
    const response = encodeCertificate(this.o.version, {
      slot: req.slot,
      portion: chain.subarray(req.offset, req.offset + size),
      remainderLength: chain.length - req.offset - size,
      large: req.large,
    });
    this.mutB.push(req.raw, response);
    return response;
  }

  challengeAuth(request: Uint8Array, id: IdentityView): Uint8Array {
    const req = decodeChallenge(request);
    const hash = req.slot === 0xff ? undefined : id.chainHash(req.slot);
    // We hold no measurements: a summary hash cannot be asked of a requester.
    if (!hash || req.measurementSummaryHashType !== 0) return this.error(ErrorCode.InvalidRequest);
    const fields = {
      slot: req.slot,
      slotMask: id.slots().reduce((m, s) => m | (1 << s.slot), 0),
      certChainHash: hash,
      nonce: this.o.random(NONCE_SIZE),
      ...(req.requesterContext ? { requesterContext: req.requesterContext } : {}),
    };
    const { unsigned } = encodeChallengeAuth(this.o.version, fields, new Uint8Array(0));
    const signed = this.o.transcript.mutualM1(this.mutB, req.raw, unsigned);
    const signature = id.sign(req.slot, signed);
    this.challenged = true;
    this.challengedSlot = req.slot;
    return encodeChallengeAuth(this.o.version, fields, signature).message;
  }
}

/** The device has nothing to ask: NoPendingRequests (1.3+) or, before 1.3, UnexpectedRequest. */
export function nothingPending(e: unknown, version: number): boolean {
  if (!isSpdmError(e, 'DEVICE_ERROR')) return false;
  const code = e.details.errorCode;
  return version >= 0x13 ? code === ErrorCode.NoPendingRequests : code === ErrorCode.UnexpectedRequest;
}

export async function encapsulatedFlow(
  send: EncapsulatedSend,
  o: EncapsulatedFlowOptions,
): Promise<EncapsulatedFlowResult> {
  const a = new Answerer(o);
  const id = o.identity;
  if (!id && o.purpose !== 'device') throw new TypeError('encapsulated flow: mutual authentication needs our identity');
  const { reqSlot } = await runEncapsulatedLoop(send, {
    version: o.version,
    answer: (r) => a.answer(r),
    ...(o.start === 'digests' && id
      ? { implicitFirst: a.digests(new Uint8Array([o.version, RequestCode.GET_DIGESTS, 0, 0]), id) }
      : {}),
    // A flow the device asked for out of band may find it has nothing to ask after all.
    ...(o.purpose === 'device' ? { nothingPending: (e: unknown) => nothingPending(e, o.version) } : {}),
    ...(id
      ? {
          reqSlot: (slot: number) => {
            if (!id.has(slot))
              throw new SpdmError(
                'UNEXPECTED_RESPONSE',
                `ENCAPSULATED_RESPONSE_ACK: ReqSlotNumber ${slot} names no slot of ours with the negotiated key`,
              );
          },
        }
      : {}),
    limit: {
      max: encapsulatedRequestLimit(
        Math.max(0, ...(id?.slots() ?? []).map((s) => s.certificates.reduce((n, c) => n + c.length, 0))),
      ),
      name: 'encapsulatedRequests',
      where: 'encapsulated request flow',
    },
  });
  return reqSlot === undefined ? a.result() : { ...a.result(), reqSlot };
}
