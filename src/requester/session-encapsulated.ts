/**
 * The encapsulated flow inside an established session, requester side: the device asks us to
 * update keys (responder-initiated KEY_UPDATE), delivers events (SEND_EVENT, 1.3) or reads our
 * ENDPOINT_INFO (GET_ENDPOINT_INFO, 1.3: requester/encap-endpoint-info.ts). We start it
 * with GET_ENCAPSULATED_REQUEST; each answer goes back in DELIVER_ENCAPSULATED_RESPONSE and the
 * ENCAPSULATED_RESPONSE_ACK carries the next request or the end. A device with nothing to ask
 * answers NoPendingRequests (1.3) or UnexpectedRequest (before): an empty run, not an error.
 *
 * Key switch points for a responder-initiated update, as libspdm's requester
 * (libspdm_req_encap_key_update_ack.c) and responder (libspdm_rsp_encap_key_update.c) do them:
 *   KEY_UPDATE UpdateKey       came under the old response key. It renews the RESPONSE direction:
 *                              we derive the next response key and keep the old one as fallback;
 *                              our KEY_UPDATE_ACK goes under our request key, unchanged.
 *   ENCAPSULATED_RESPONSE_ACK  with VerifyNewKey: the device switched, so it opens under the new key.
 *   KEY_UPDATE VerifyNewKey    must have come under the new key: the old one is zeroised.
 * UpdateAllKeys from a device is refused (InvalidRequest), as libspdm's requester refuses it; so is
 * a second UpdateKey before VerifyNewKey, and VerifyNewKey with no update pending or under the old key.
 *
 * The device drives the loop, so everything is bounded: the number of requests, the events
 * collected. A device's malformed request is answered with an encapsulated ERROR, as a responder
 * would; a malformed ACK (RequestID not echoed, unknown PayloadType) is an SpdmError here.
 */
import { SpdmError } from '../wire/errors.js';
import { LimitError } from '../wire/limits.js';
import { RequestCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { encodeError, ErrorCode } from '../spdm/messages/error.js';
import { decodeKeyUpdate, encodeKeyUpdateAck, KeyUpdateOperation } from '../spdm/messages/key-update.js';
import { decodeSendEvent, encodeEventAck, type SpdmEvent } from '../spdm/messages/events.js';
import { checkDmtfEvent, isDmtfGroup } from '../spdm/messages/event-groups.js';
import type { KeyScheduleParams } from '../session/key-schedule.js';
import type { SecureSession, SessionPhase } from '../session/secure-session.js';
import { answerEncapsulated, nothingPending, runEncapsulatedLoop, type EncapsulatedSend } from './encapsulated.js';
import { answerEncapGetEndpointInfo, type EncapEndpointInfoContext } from './encap-endpoint-info.js';

/** Most encapsulated requests one in-session flow may carry. */
export const MAX_SESSION_ENCAPSULATED_REQUESTS = 64;
/** Most events one flow collects (default; `maxEvents` lowers it). */
export const MAX_EVENTS_PER_FLOW = 256;

export interface SessionEncapsulatedOptions {
  readonly version: number;
  readonly secure: SecureSession;
  readonly params: KeyScheduleParams;
  /** The capability flags we sent and the device's (KEY_UPDATE needs KEY_UPD_CAP on both sides, events EVENT_CAP on ours). */
  readonly requesterFlags: number;
  readonly responderFlags: number;
  readonly maxEvents?: number;
  /** What GET_ENDPOINT_INFO is answered from (our EPInfo, identity, the connection's A); without it, UnsupportedRequest. */
  readonly endpointInfo?: Omit<EncapEndpointInfoContext, 'version' | 'ourFlags'>;
}

export interface SessionEncapsulatedRun {
  /** The requests the device made, by name, in order. */
  readonly asked: readonly string[];
  /** True when the device renewed its response key (UpdateKey then VerifyNewKey) in this flow. */
  readonly keyUpdated: boolean;
  /** The events the device delivered, in order (the DMTF ones checked for their detail sizes). */
  readonly events: readonly SpdmEvent[];
}

class SessionAnswerer {
  readonly asked: string[] = [];
  readonly events: SpdmEvent[] = [];
  keyUpdated = false;
  /** The response-key update an UpdateKey started in this flow, until VerifyNewKey. */
  updateStarted = false;

  constructor(private readonly o: SessionEncapsulatedOptions) {}

  private error(code: number, data = 0): Uint8Array {
    return encodeError(this.o.version, code, data);
  }

  answer(request: Uint8Array): Uint8Array {
    return answerEncapsulated(this.o.version, request, this.asked, {
      [RequestCode.KEY_UPDATE]: (r) => this.keyUpdate(r),
      [RequestCode.SEND_EVENT]: (r) => this.sendEvent(r),
      [RequestCode.GET_ENDPOINT_INFO]: (r) => this.endpointInfo(r),
    });
  }

  private endpointInfo(request: Uint8Array): Uint8Array {
    const e = this.o.endpointInfo;
    if (!e) return this.error(ErrorCode.UnsupportedRequest, RequestCode.GET_ENDPOINT_INFO);
    return answerEncapGetEndpointInfo(request, { ...e, version: this.o.version, ourFlags: this.o.requesterFlags });
  }

  private keyUpdate(request: Uint8Array): Uint8Array {
    const o = this.o;
    if (!(o.requesterFlags & CapabilityFlag.KEY_UPD) || !(o.responderFlags & CapabilityFlag.KEY_UPD))
      return this.error(ErrorCode.UnsupportedRequest, RequestCode.KEY_UPDATE);
    // Inside a record there is no transport padding: the request is its header, exactly.
    if (request.length !== 4) return this.error(ErrorCode.InvalidRequest);
    const req = decodeKeyUpdate(request);
    const secure = o.secure;
    const pending = secure.keyUpdatePending('response');
    switch (req.operation) {
      case KeyUpdateOperation.UPDATE_KEY:
        if (pending) return this.error(ErrorCode.InvalidRequest);
        secure.updateKeys('response', o.params);
        this.updateStarted = true;
        break;
      case KeyUpdateOperation.VERIFY_NEW_KEY:
        // It proves the new key only when it came under it.
        if (!pending || secure.openedUnderOldKey) return this.error(ErrorCode.InvalidRequest);
        secure.commitKeyUpdate('response');
        this.updateStarted = false;
        this.keyUpdated = true;
        break;
      default:
        return this.error(ErrorCode.InvalidRequest);
    }
    return encodeKeyUpdateAck(o.version, { operation: req.operation, tag: req.tag });
  }

  private sendEvent(request: Uint8Array): Uint8Array {
    if (this.o.version < 0x13) return this.error(ErrorCode.UnsupportedRequest, RequestCode.SEND_EVENT);
    const req = decodeSendEvent(request);
    if (req.raw.length !== request.length) return this.error(ErrorCode.InvalidRequest);
    for (const e of req.events) if (isDmtfGroup(e)) checkDmtfEvent(e);
    const max = Math.min(this.o.maxEvents ?? MAX_EVENTS_PER_FLOW, MAX_EVENTS_PER_FLOW);
    if (this.events.length + req.events.length > max)
      throw new LimitError(
        'sessionEvents',
        this.events.length + req.events.length,
        max,
        'encapsulated SEND_EVENT',
        `the device delivered more than ${max} events in one flow`,
      );
    this.events.push(...req.events);
    return encodeEventAck(this.o.version);
  }
}

export async function sessionEncapsulatedFlow(
  send: EncapsulatedSend,
  o: SessionEncapsulatedOptions,
): Promise<SessionEncapsulatedRun> {
  const secure = o.secure;
  if (secure.phase !== 'established')
    throw new SpdmError(
      'SESSION_CLOSED',
      `session ${secure.id}: encapsulated requests in a session that is ${secure.phase}`,
      {
        sessionId: secure.id,
      },
    );
  if (!(o.requesterFlags & CapabilityFlag.ENCAP) || !(o.responderFlags & CapabilityFlag.ENCAP))
    throw new SpdmError('UNSUPPORTED', 'encapsulated requests need ENCAP_CAP on both sides');
  const a = new SessionAnswerer(o);
  let finished = false;
  try {
    await runEncapsulatedLoop(send, {
      version: o.version,
      answer: (r) => a.answer(r),
      nothingPending: (e) => nothingPending(e, o.version),
      limit: {
        max: MAX_SESSION_ENCAPSULATED_REQUESTS,
        name: 'sessionEncapsulatedRequests',
        where: 'encapsulated request flow in a session',
      },
    });
    finished = true;
    return { asked: a.asked, keyUpdated: a.keyUpdated, events: a.events };
  } finally {
    // An UpdateKey the device never verified: after a flow that ended well, keep the key the
    // device last sent under; after a failure, the key it had before.
    if (a.updateStarted && (secure.phase as SessionPhase) !== 'ended' && secure.keyUpdatePending('response')) {
      if (!finished || secure.openedUnderOldKey) secure.rollbackKeyUpdate('response');
      else secure.commitKeyUpdate('response');
    }
  }
}
