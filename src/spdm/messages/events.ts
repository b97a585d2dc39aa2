/**
 * Events (1.3+): GET_SUPPORTED_EVENT_TYPES / SUPPORTED_EVENT_TYPES, SUBSCRIBE_EVENT_TYPES /
 * SUBSCRIBE_EVENT_TYPES_ACK, SEND_EVENT / EVENT_ACK.
 *
 * The event-group lists of SUPPORTED_EVENT_TYPES and SUBSCRIBE_EVENT_TYPES are length-prefixed
 * and kept as bytes (their inner format is not pinned down in shared/spec; libspdm's sample
 * device fills them with arbitrary bytes). SUBSCRIBE_EVENT_TYPES with SubscribeEventGroupCount 0
 * (unsubscribe from everything) is the header alone: libspdm sends and requires exactly 4 bytes.
 * SEND_EVENT has a count but no list length, so its events are parsed (libspdm
 * libspdm_com_event.c): EventInstanceID u32, Reserved u32, SVH {ID u8, VendorIDLen u8, VendorID},
 * EventTypeID u16, EventDetailLen u16, EventDetail.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';

export const DmtfEventType = {
  EVENT_LOST: 1,
  MEASUREMENT_CHANGED: 2,
  MEASUREMENT_PRE_UPDATE: 3,
  CERTIFICATE_CHANGED: 4,
} as const;

export interface HeaderOnlyMessage {
  readonly raw: Uint8Array;
  readonly version: number;
}

export type GetSupportedEventTypesRequest = HeaderOnlyMessage;
export type SubscribeEventTypesAckResponse = HeaderOnlyMessage;
export type EventAckResponse = HeaderOnlyMessage;

export interface SupportedEventTypesResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1. */
  readonly eventGroupCount: number;
  readonly supportedEventGroups: Uint8Array;
}

export interface SubscribeEventTypesRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1; 0 = unsubscribe from all (no list). */
  readonly subscribeEventGroupCount: number;
  readonly subscribeList: Uint8Array;
}

export interface SpdmEvent {
  readonly eventInstanceId: number;
  /** SVH registry ID (messages.md §5.7): 0 = DMTF. */
  readonly registryId: number;
  readonly vendorId: Uint8Array;
  readonly eventTypeId: number;
  readonly eventDetail: Uint8Array;
}

export interface SendEventRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly events: readonly SpdmEvent[];
}

function headerOnly(code: number, name: string) {
  return {
    encode: (version: number): Uint8Array => writeHeader(new Writer(4), version, code).finish(),
    decode: (bytes: Uint8Array): HeaderOnlyMessage => {
      const r = new Reader(bytes, name);
      const h = readHeaderSince(r, code, 0x13);
      return { raw: r.consumed(), version: h.version };
    },
  };
}

const getSupported = headerOnly(RequestCode.GET_SUPPORTED_EVENT_TYPES, 'GET_SUPPORTED_EVENT_TYPES');
const subscribeAck = headerOnly(ResponseCode.SUBSCRIBE_EVENT_TYPES_ACK, 'SUBSCRIBE_EVENT_TYPES_ACK');
const eventAck = headerOnly(ResponseCode.EVENT_ACK, 'EVENT_ACK');

export const encodeGetSupportedEventTypes = getSupported.encode;
export const decodeGetSupportedEventTypes = getSupported.decode;
export const encodeSubscribeEventTypesAck = subscribeAck.encode;
export const decodeSubscribeEventTypesAck = subscribeAck.decode;
export const encodeEventAck = eventAck.encode;
export const decodeEventAck = eventAck.decode;

export function encodeSupportedEventTypes(
  version: number,
  m: { eventGroupCount: number; supportedEventGroups: Uint8Array },
): Uint8Array {
  const w = new Writer(8 + m.supportedEventGroups.length);
  writeHeader(w, version, ResponseCode.SUPPORTED_EVENT_TYPES, m.eventGroupCount);
  return w.u32(m.supportedEventGroups.length).bytes(m.supportedEventGroups).finish();
}

export function decodeSupportedEventTypes(bytes: Uint8Array): SupportedEventTypesResponse {
  const r = new Reader(bytes, 'SUPPORTED_EVENT_TYPES');
  const h = readHeaderSince(r, ResponseCode.SUPPORTED_EVENT_TYPES, 0x13);
  const length = r.u32('SupportedEventGroupsListLen');
  const supportedEventGroups = r.bytes(length, 'SupportedEventGroupsList');
  return { raw: r.consumed(), version: h.version, eventGroupCount: h.param1, supportedEventGroups };
}

export function encodeSubscribeEventTypes(
  version: number,
  m: { subscribeEventGroupCount: number; subscribeList?: Uint8Array },
): Uint8Array {
  const list = m.subscribeList ?? new Uint8Array(0);
  const w = new Writer(8 + list.length);
  writeHeader(w, version, RequestCode.SUBSCRIBE_EVENT_TYPES, m.subscribeEventGroupCount);
  if (m.subscribeEventGroupCount !== 0) w.u32(list.length).bytes(list);
  return w.finish();
}

export function decodeSubscribeEventTypes(bytes: Uint8Array): SubscribeEventTypesRequest {
  const r = new Reader(bytes, 'SUBSCRIBE_EVENT_TYPES');
  const h = readHeaderSince(r, RequestCode.SUBSCRIBE_EVENT_TYPES, 0x13);
  let subscribeList = bytes.subarray(4, 4);
  if (h.param1 !== 0) {
    const length = r.u32('SubscribeListLen');
    subscribeList = r.bytes(length, 'SubscribeList');
  }
  return { raw: r.consumed(), version: h.version, subscribeEventGroupCount: h.param1, subscribeList };
}

export function encodeSendEvent(version: number, m: { events: readonly SpdmEvent[] }): Uint8Array {
  const w = new Writer(64);
  writeHeader(w, version, RequestCode.SEND_EVENT).u32(m.events.length);
  for (const e of m.events) {
    w.u32(e.eventInstanceId).u32(0).u8(e.registryId).u8(e.vendorId.length).bytes(e.vendorId);
    w.u16(e.eventTypeId).u16(e.eventDetail.length).bytes(e.eventDetail);
  }
  return w.finish();
}

export function decodeSendEvent(bytes: Uint8Array): SendEventRequest {
  const r = new Reader(bytes, 'SEND_EVENT');
  const h = readHeaderSince(r, RequestCode.SEND_EVENT, 0x13);
  const count = r.u32('EventCount');
  if (count === 0) r.fail('EventCount', 'no events', 4);
  const events: SpdmEvent[] = [];
  for (let i = 0; i < count; i++) {
    const eventInstanceId = r.u32(`Event[${i}].EventInstanceID`);
    r.skip(4, `Event[${i}].Reserved`);
    const registryId = r.u8(`Event[${i}].SVH.ID`);
    const vendorId = r.bytes(r.u8(`Event[${i}].SVH.VendorIDLen`), `Event[${i}].SVH.VendorID`);
    const eventTypeId = r.u16(`Event[${i}].EventTypeID`);
    const eventDetail = r.bytes(r.u16(`Event[${i}].EventDetailLen`), `Event[${i}].EventDetail`);
    events.push({ eventInstanceId, registryId, vendorId, eventTypeId, eventDetail });
  }
  return { raw: r.consumed(), version: h.version, events };
}
