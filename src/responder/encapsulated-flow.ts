/**
 * The emulator's one engine for encapsulated requests (DSP0274 "GET_ENCAPSULATED_REQUEST"): the
 * device asks the requester questions inside the requester's own requests. The engine owns the
 * rules every such flow shares; what is asked, and what an answer means, is a task's (a plug-in):
 * mutual authentication (responder/mutual-auth.ts), the device's requests inside a session
 * (responder/device-requests.ts).
 *
 * What the engine holds:
 *   - RequestID sequencing: 1, 2, … 255, 1, … per engine (a session's engine keeps counting across
 *     its flows, as libspdm does); an implicit first request (KEY_EXCHANGE_RSP's "with
 *     GET_DIGESTS") is RequestID 0;
 *   - the one outstanding request: DELIVER_ENCAPSULATED_RESPONSE must name its RequestID, else the
 *     flow ends with ERROR InvalidRequest; a DELIVER with nothing outstanding is UnexpectedRequest;
 *   - the requester's answer: another version or an ERROR ends the flow (InvalidRequest); so does
 *     an answer the task refuses (EncapRefusal) or that does not decode;
 *   - ENCAPSULATED_RESPONSE_ACK: PayloadType 1 with the next request, or the end — PayloadType 2
 *     with the ReqSlotNumber when the task names a slot other than 0 (libspdm), else PayloadType 0;
 *   - a bound on the requests of one flow, so a requester cannot keep a flow going for ever;
 *   - a GET_ENCAPSULATED_REQUEST while a request is outstanding: a task that may 'restart'
 *     abandons it and starts afresh; a 'once' task (mutual authentication) answers NoPendingRequests
 *     and keeps its flow.
 */
import { DecodeError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { peekHeader } from '../spdm/header.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { ErrorCode } from '../spdm/messages/error.js';
import {
  decodeDeliverEncapsulatedResponse,
  decodeGetEncapsulatedRequest,
  EncapPayloadType,
  encodeEncapsulatedRequest,
  encodeEncapsulatedResponseAck,
} from '../spdm/messages/encapsulated.js';
import { ErrorReply } from './error-reply.js';

/**
 * Most requests one flow carries. Below 255 so that no RequestID comes twice in one flow; far
 * above what a flow needs (a 64 KiB chain read 1 KiB at a time is 64 GET_CERTIFICATEs).
 */
export const MAX_REQUESTS_PER_FLOW = 254;

/** A requester answer a task refuses; the engine answers ERROR InvalidRequest and ends the flow. */
export class EncapRefusal extends Error {}

/** What a task does with an answer: ask the next request, or end the flow (naming the requester's slot). */
export type TaskStep = { readonly next: Uint8Array } | { readonly end: { readonly reqSlot?: number } };

/** A flow's own logic, plugged into the engine; `C` is the connection context it is handed. */
export interface EncapsulatedTask<C extends EncapContext = EncapContext> {
  /** 'restart': a GET_ENCAPSULATED_REQUEST abandons what is outstanding; 'once': it is refused while a flow runs. */
  readonly restart: 'restart' | 'once';
  /** The first request of a new flow; undefined when there is nothing to ask (NoPendingRequests). */
  start(c: C): Uint8Array | undefined;
  /**
   * The requester's answer (its version checked, not an ERROR) to `request`: the next request or
   * the end. Throws EncapRefusal / DecodeError / ErrorReply to refuse it.
   */
  answer(request: Uint8Array, response: Uint8Array, c: C): TaskStep;
  /** The flow ended without reaching its end (refused, or abandoned by the requester). */
  abandon?(): void;
  /** The requester answered ERROR (or with another version): for the task's record. */
  refused?(why: string): void;
}

/** What the engine needs of the connection. */
export interface EncapContext {
  readonly version: number;
  readonly responderFlags: number;
  readonly requesterFlags: number;
}

/** GET_ENCAPSULATED_REQUEST with nothing to ask: NoPendingRequests from 1.3, UnexpectedRequest before. */
function nothingPending(version: number): ErrorReply {
  return new ErrorReply(version >= 0x13 ? ErrorCode.NoPendingRequests : ErrorCode.UnexpectedRequest);
}

/**
 * GET_ENCAPSULATED_REQUEST / DELIVER_ENCAPSULATED_RESPONSE where no flow exists at all (in the
 * clear, with no mutual authentication under way): UnsupportedRequest without our ENCAP_CAP, else
 * nothing to ask / nothing outstanding.
 */
export function answerWithoutFlow(request: Uint8Array, c: Pick<EncapContext, 'version' | 'responderFlags'>): never {
  const code = peekHeader(request).code;
  if (code === RequestCode.GET_ENCAPSULATED_REQUEST) decodeGetEncapsulatedRequest(request);
  else decodeDeliverEncapsulatedResponse(request);
  if (!(c.responderFlags & CapabilityFlag.ENCAP)) throw new ErrorReply(ErrorCode.UnsupportedRequest, code);
  if (code === RequestCode.GET_ENCAPSULATED_REQUEST) throw nothingPending(c.version);
  throw new ErrorReply(ErrorCode.UnexpectedRequest);
}

export class EncapsulatedFlow<
  C extends EncapContext = EncapContext,
  T extends EncapsulatedTask<C> = EncapsulatedTask<C>,
> {
  private requestId = 0;
  /** The request last sent, which the next DELIVER_ENCAPSULATED_RESPONSE must answer. */
  private outstanding: { readonly id: number; readonly request: Uint8Array } | undefined;
  /** Requests sent in the current flow. */
  private sent = 0;

  /** `implicit`: a request the requester answers without fetching it (RequestID 0). */
  constructor(
    readonly task: T,
    implicit?: Uint8Array,
  ) {
    if (implicit) {
      this.outstanding = { id: 0, request: implicit };
      this.sent = 1;
    }
  }

  private issue(request: Uint8Array): number {
    this.requestId = (this.requestId % 255) + 1;
    this.outstanding = { id: this.requestId, request };
    this.sent++;
    return this.requestId;
  }

  /** A request is outstanding: the flow waits for its DELIVER_ENCAPSULATED_RESPONSE. */
  get running(): boolean {
    return this.outstanding !== undefined;
  }

  private drop(): void {
    this.outstanding = undefined;
    this.task.abandon?.();
  }

  /** GET_ENCAPSULATED_REQUEST: the first request of a flow, or NoPendingRequests. */
  onGet(request: Uint8Array, c: C): Uint8Array {
    decodeGetEncapsulatedRequest(request);
    if (!(c.responderFlags & CapabilityFlag.ENCAP) || !(c.requesterFlags & CapabilityFlag.ENCAP))
      throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.GET_ENCAPSULATED_REQUEST);
    if (this.task.restart === 'once') {
      if (this.outstanding) throw nothingPending(c.version);
    } else {
      // A flow the requester abandoned is forgotten: its task is not asked again.
      this.drop();
    }
    const first = this.task.start(c);
    if (!first) throw nothingPending(c.version);
    this.sent = 0;
    return encodeEncapsulatedRequest(c.version, { requestId: this.issue(first), payload: first });
  }

  /** DELIVER_ENCAPSULATED_RESPONSE: the answer checked, then the next request or the end. `ended`: the flow ended well. */
  onDeliver(request: Uint8Array, c: C): { response: Uint8Array; ended: boolean } {
    const req = decodeDeliverEncapsulatedResponse(request);
    if (!(c.responderFlags & CapabilityFlag.ENCAP))
      throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.DELIVER_ENCAPSULATED_RESPONSE);
    const pending = this.outstanding;
    if (!pending) throw new ErrorReply(ErrorCode.UnexpectedRequest);
    let step: TaskStep;
    try {
      if (req.requestId !== pending.id) throw new EncapRefusal(`RequestID ${req.requestId}, outstanding ${pending.id}`);
      const h = peekHeader(req.payload);
      if (h.version !== c.version || h.code === ResponseCode.ERROR) {
        this.task.refused?.(h.code === ResponseCode.ERROR ? `ERROR 0x${h.param1.toString(16)}` : 'version');
        throw new EncapRefusal('the requester answered ERROR or another version');
      }
      step = this.task.answer(pending.request, req.payload, c);
      if ('next' in step && this.sent >= MAX_REQUESTS_PER_FLOW)
        throw new EncapRefusal(`more than ${MAX_REQUESTS_PER_FLOW} requests in one flow`);
    } catch (e) {
      this.drop();
      if (e instanceof EncapRefusal || e instanceof DecodeError) throw new ErrorReply(ErrorCode.InvalidRequest);
      throw e;
    }
    if ('next' in step)
      return {
        response: encodeEncapsulatedResponseAck(c.version, {
          requestId: this.issue(step.next),
          payloadType: EncapPayloadType.PRESENT,
          ackRequestId: req.requestId,
          payload: step.next,
        }),
        ended: false,
      };
    this.outstanding = undefined;
    const slot = step.end.reqSlot ?? 0;
    return {
      response: encodeEncapsulatedResponseAck(c.version, {
        requestId: 0,
        ackRequestId: req.requestId,
        ...(slot !== 0
          ? { payloadType: EncapPayloadType.REQ_SLOT_NUMBER, reqSlotNumber: slot }
          : { payloadType: EncapPayloadType.ABSENT }),
      }),
      ended: true,
    };
  }
}
