/**
 * What the emulator asks of a requester inside an established session, over the encapsulated
 * flow (GET_ENCAPSULATED_REQUEST / DELIVER_ENCAPSULATED_RESPONSE): a responder-initiated
 * KEY_UPDATE and SEND_EVENT (1.3 events), plus the event subscription requests the requester
 * makes of us (GET_SUPPORTED_EVENT_TYPES, SUBSCRIBE_EVENT_TYPES), and an armed GET_ENDPOINT_INFO
 * (responder/encap-endpoint-info.ts: the requester's ENDPOINT_INFO, signed on request).
 *
 * KEY_UPDATE from the responder follows libspdm's responder (libspdm_rsp_encap_key_update.c):
 *   1. ENCAPSULATED_REQUEST carries KEY_UPDATE UpdateKey, under the response key as it is;
 *      UpdateKey from the responder renews the RESPONSE direction (the one the responder sends on).
 *   2. The requester's KEY_UPDATE_ACK (under its request key, unchanged) must echo it exactly.
 *      Only then does the response key move on, at once and for good: the ENCAPSULATED_RESPONSE_ACK
 *      that carries VerifyNewKey is the first record under the new key.
 *   3. The ACK to VerifyNewKey ends that task. libspdm's requester refuses UpdateAllKeys from a
 *      responder, so the emulator never asks it.
 *
 * Events: a session subscribes to types of the DMTF group (the only group the emulator raises);
 * `emit` queues an event for a session that subscribed to its type and for no other. The queue is
 * bounded: an event that does not fit is lost, and the next SEND_EVENT leads with EventLost
 * (LastAckedEventInstanceID, LastLostEventInstanceID) when the session subscribed to it.
 *
 * A requester answer that is not the one asked for (wrong code, wrong Tag, ERROR) ends the flow:
 * the responder answers ERROR InvalidRequest and drops the task, keys as they are at that point.
 */
import { RequestCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { ErrorCode } from '../spdm/messages/error.js';
import { decodeKeyUpdateAck, encodeKeyUpdate, KeyUpdateOperation } from '../spdm/messages/key-update.js';
import {
  decodeEventAck,
  decodeGetSupportedEventTypes,
  decodeSubscribeEventTypes,
  encodeSendEvent,
  encodeSubscribeEventTypesAck,
  encodeSupportedEventTypes,
  type SpdmEvent,
} from '../spdm/messages/events.js';
import {
  decodeEventGroups,
  DMTF_EVENT_DETAIL_SIZE,
  DMTF_EVENT_GROUP_VERSION,
  dmtfEventGroup,
  encodeEventGroups,
  EVENT_GROUP_ALL_TYPES,
  isDmtfGroup,
} from '../spdm/messages/event-groups.js';
import type { KeyScheduleParams } from '../session/key-schedule.js';
import type { SecureSession } from '../session/secure-session.js';
import type { RandomSource } from '../crypto/random.js';
import { ErrorReply } from './error-reply.js';
import { EncapRefusal, type EncapContext, type EncapsulatedTask, type TaskStep } from './encapsulated-flow.js';
import type { EndpointInfoQuery, RequesterEndpointInfo } from './encap-endpoint-info.js';
import type { ProfileEvent } from './profile.js';

/** Events one session's queue holds before further events are lost. */
export const MAX_QUEUED_EVENTS = 16;
/** Events one SEND_EVENT carries; more go in the next one of the same flow. */
export const MAX_EVENTS_PER_SEND = 8;

export const DmtfEvent = { EVENT_LOST: 1, MEASUREMENT_CHANGED: 2, MEASUREMENT_PRE_UPDATE: 3, CERTIFICATE_CHANGED: 4 };

export interface DeviceRequestContext extends EncapContext {
  /** The armed encapsulated GET_ENDPOINT_INFO for this session, taken (undefined: none armed). */
  readonly takeEndpointInfo?: () => EndpointInfoQuery | undefined;
  /** What the requester's checked ENDPOINT_INFO told. */
  readonly onEndpointInfo?: (info: RequesterEndpointInfo) => void;
  readonly params: KeyScheduleParams;
  readonly random: RandomSource;
}

type Pending =
  | { readonly kind: 'update'; readonly tag: number }
  | { readonly kind: 'verify'; readonly tag: number }
  | { readonly kind: 'events'; readonly lastId: number }
  | { readonly kind: 'endpoint-info'; readonly query: EndpointInfoQuery };

/** One session's device-initiated work and event subscription: the task its encapsulated engine runs. */
export class DeviceRequests implements EncapsulatedTask<DeviceRequestContext> {
  readonly restart = 'restart';
  /** DMTF event types this session subscribed to. */
  private subscribed = new Set<number>();
  private readonly queue: SpdmEvent[] = [];
  private nextInstanceId = 1;
  private lastAcked = 0;
  private lostLast: number | undefined;
  private keyUpdateWanted = false;
  private pending: Pending | undefined;
  /** VerifyNewKey, asked right after the UpdateKey ACK switched the response key. */
  private verifyRequest: Uint8Array | undefined;
  /** What this session's flows did, in order (tests, stats). */
  readonly log: string[] = [];

  constructor(readonly session: SecureSession) {}

  get subscriptions(): readonly number[] {
    return [...this.subscribed].sort((a, b) => a - b);
  }

  get queuedEvents(): number {
    return this.queue.length;
  }

  /** A KEY_UPDATE towards the requester, sent at its next GET_ENCAPSULATED_REQUEST. */
  requestKeyUpdate(): void {
    this.keyUpdateWanted = true;
  }

  get keyUpdateRequested(): boolean {
    return this.keyUpdateWanted;
  }

  /**
   * Queues a DMTF event for the requester when this session subscribed to its type: the event's
   * instance ID, or undefined when the session did not ask for it. A full queue loses the event.
   */
  emit(eventTypeId: number, eventDetail: Uint8Array): number | undefined {
    const size = DMTF_EVENT_DETAIL_SIZE[eventTypeId];
    if (size === undefined) throw new TypeError(`emitEvent: DMTF event type ${eventTypeId} is not defined`);
    if (eventDetail.length !== size)
      throw new TypeError(`emitEvent: DMTF event type ${eventTypeId} has ${size} bytes of detail`);
    if (!this.subscribed.has(eventTypeId) || this.session.phase !== 'established') return undefined;
    const id = this.nextInstanceId++;
    if (this.queue.length >= MAX_QUEUED_EVENTS) {
      this.lostLast = id;
      return id;
    }
    this.queue.push({ eventInstanceId: id, registryId: 0, vendorId: new Uint8Array(0), eventTypeId, eventDetail });
    return id;
  }

  /** Nothing queued to ask: GET_ENCAPSULATED_REQUEST is answered NoPendingRequests. */
  get idle(): boolean {
    return !this.keyUpdateWanted && this.queue.length === 0 && this.lostLast === undefined;
  }

  /** The next request of the flow, or undefined when there is nothing (more) to ask. */
  private nextRequest(c: DeviceRequestContext): Uint8Array | undefined {
    if (this.pending?.kind === 'verify' && this.verifyRequest) {
      const verify = this.verifyRequest;
      this.verifyRequest = undefined;
      return verify;
    }
    if (this.keyUpdateWanted && this.session.phase === 'established') {
      this.keyUpdateWanted = false;
      const tag = c.random(1)[0] as number;
      this.pending = { kind: 'update', tag };
      this.log.push('KEY_UPDATE UpdateKey');
      return encodeKeyUpdate(c.version, { operation: KeyUpdateOperation.UPDATE_KEY, tag });
    }
    const query = this.session.phase === 'established' ? c.takeEndpointInfo?.() : undefined;
    if (query) {
      this.pending = { kind: 'endpoint-info', query };
      this.log.push('GET_ENDPOINT_INFO');
      return query.request;
    }
    const events: SpdmEvent[] = [];
    if (this.lostLast !== undefined) {
      // EventLost takes its own instance ID; it is sent only to a session that asked for it.
      if (this.subscribed.has(DmtfEvent.EVENT_LOST)) {
        const detail = new Uint8Array(8);
        new DataView(detail.buffer).setUint32(0, this.lastAcked, true);
        new DataView(detail.buffer).setUint32(4, this.lostLast, true);
        events.push({
          eventInstanceId: this.nextInstanceId++,
          registryId: 0,
          vendorId: new Uint8Array(0),
          eventTypeId: DmtfEvent.EVENT_LOST,
          eventDetail: detail,
        });
      }
      this.lostLast = undefined;
    }
    while (events.length < MAX_EVENTS_PER_SEND && this.queue.length > 0) events.push(this.queue.shift() as SpdmEvent);
    if (events.length === 0) {
      this.pending = undefined;
      return undefined;
    }
    const last = events[events.length - 1] as SpdmEvent;
    this.pending = { kind: 'events', lastId: last.eventInstanceId };
    this.log.push(`SEND_EVENT ${events.length}`);
    return encodeSendEvent(c.version, { events });
  }

  /** A new flow: the first thing to ask, or nothing (the engine answers NoPendingRequests). */
  start(c: DeviceRequestContext): Uint8Array | undefined {
    return this.nextRequest(c);
  }

  /** A flow the requester abandoned (or that was refused) is forgotten: its task is not asked again. */
  abandon(): void {
    this.pending = undefined;
    this.verifyRequest = undefined;
  }

  refused(why: string): void {
    this.log.push(`refused (${why})`);
  }

  /** The requester's answer to the outstanding request, then the next request or the end. */
  answer(_request: Uint8Array, response: Uint8Array, c: DeviceRequestContext): TaskStep {
    const pending = this.pending;
    if (!pending) throw new EncapRefusal('no device request is outstanding');
    this.take(pending, response, c);
    const next = this.nextRequest(c);
    return next ? { next } : { end: {} };
  }

  private take(pending: Pending, response: Uint8Array, c: DeviceRequestContext): void {
    switch (pending.kind) {
      case 'update':
      case 'verify': {
        // Inside a record there is no transport padding: the ACK is its header, exactly.
        if (response.length !== 4) throw new ErrorReply(ErrorCode.InvalidRequest);
        const ack = decodeKeyUpdateAck(response);
        const op = pending.kind === 'update' ? KeyUpdateOperation.UPDATE_KEY : KeyUpdateOperation.VERIFY_NEW_KEY;
        if (ack.operation !== op || ack.tag !== pending.tag) throw new ErrorReply(ErrorCode.InvalidRequest);
        if (pending.kind === 'update') {
          // The requester has the next response key ready: switch now, the next record goes under it.
          this.session.updateKeys('response', c.params);
          this.session.commitKeyUpdate('response');
          const tag = c.random(1)[0] as number;
          this.pending = { kind: 'verify', tag };
          this.log.push('KEY_UPDATE VerifyNewKey');
          // VerifyNewKey is asked before any other task: nextRequest sees it first.
          this.verifyRequest = encodeKeyUpdate(c.version, { operation: KeyUpdateOperation.VERIFY_NEW_KEY, tag });
        } else {
          this.log.push('key update done');
        }
        return;
      }
      case 'events':
        decodeEventAck(response);
        if (response.length !== 4) throw new ErrorReply(ErrorCode.InvalidRequest);
        this.lastAcked = pending.lastId;
        return;
      case 'endpoint-info':
        c.onEndpointInfo?.(pending.query.check(response));
        return;
    }
  }

  /**
   * SUBSCRIBE_EVENT_TYPES: the DMTF group's types, all of them, or none (count 0). `raise` are
   * the profile's events for a new subscriber, queued for the types it took.
   */
  onSubscribe(request: Uint8Array, c: DeviceRequestContext, raise: readonly ProfileEvent[] = []): Uint8Array {
    checkEventCap(c, RequestCode.SUBSCRIBE_EVENT_TYPES);
    const req = decodeSubscribeEventTypes(request);
    // Inside a record there is no padding: the message is exactly its fields (libspdm checks the same).
    if (req.raw.length !== request.length) throw new ErrorReply(ErrorCode.InvalidRequest);
    if (req.subscribeEventGroupCount === 0) {
      this.subscribed = new Set();
      this.queue.length = 0;
      this.lostLast = undefined;
      return encodeSubscribeEventTypesAck(c.version);
    }
    if (req.subscribeList.length === 0) throw new ErrorReply(ErrorCode.InvalidRequest);
    const groups = decodeEventGroups(req.subscribeList, req.subscribeEventGroupCount, 'SUBSCRIBE_EVENT_TYPES');
    const wanted = new Set<number>();
    for (const g of groups) {
      // Only the DMTF group is raised here: a subscription to another is refused whole.
      if (!isDmtfGroup(g) || g.version !== DMTF_EVENT_GROUP_VERSION) throw new ErrorReply(ErrorCode.InvalidRequest);
      if (g.attributes & EVENT_GROUP_ALL_TYPES) {
        if (g.eventTypes.length !== 0) throw new ErrorReply(ErrorCode.InvalidRequest);
        for (const t of Object.keys(DMTF_EVENT_DETAIL_SIZE)) wanted.add(Number(t));
      } else {
        if (g.eventTypes.length === 0) throw new ErrorReply(ErrorCode.InvalidRequest);
        for (const t of g.eventTypes) {
          if (DMTF_EVENT_DETAIL_SIZE[t] === undefined) throw new ErrorReply(ErrorCode.InvalidRequest);
          wanted.add(t);
        }
      }
    }
    this.subscribed = wanted;
    for (const e of raise) this.emit(e.type, e.detail);
    return encodeSubscribeEventTypesAck(c.version);
  }
}

function checkEventCap(c: DeviceRequestContext, code: number): void {
  if (c.version < 0x13 || !(c.responderFlags & CapabilityFlag.EVENT))
    throw new ErrorReply(ErrorCode.UnsupportedRequest, code);
}

/** GET_SUPPORTED_EVENT_TYPES: the DMTF group, every type. */
export function answerSupportedEventTypes(request: Uint8Array, c: DeviceRequestContext): Uint8Array {
  checkEventCap(c, RequestCode.GET_SUPPORTED_EVENT_TYPES);
  const req = decodeGetSupportedEventTypes(request);
  if (req.raw.length !== request.length) throw new ErrorReply(ErrorCode.InvalidRequest);
  return encodeSupportedEventTypes(c.version, {
    eventGroupCount: 1,
    supportedEventGroups: encodeEventGroups([dmtfEventGroup()]),
  });
}

/** Event requests outside a session: SessionRequired where events are offered at all. */
export function eventsOutsideSession(
  c: Pick<DeviceRequestContext, 'version' | 'responderFlags'>,
  code: number,
): ErrorReply {
  if (c.version < 0x13 || !(c.responderFlags & CapabilityFlag.EVENT))
    return new ErrorReply(ErrorCode.UnsupportedRequest, code);
  return new ErrorReply(ErrorCode.SessionRequired);
}
