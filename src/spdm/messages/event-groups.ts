/**
 * The event-group lists inside SUPPORTED_EVENT_TYPES and SUBSCRIBE_EVENT_TYPES (1.3), and the
 * DMTF event details SEND_EVENT carries. shared/spec does not pin these down; the layout is
 * libspdm's (unit_test/spdm_unit_test_common/event_support.c, libspdm_com_event.c):
 *
 *   EventGroupID   SVH: ID u8 (registry, 0 = DMTF), VendorIDLen u8, VendorID
 *   EventTypeCount u16
 *   EventGroupVer  u16
 *   Attributes     u32   SUBSCRIBE_EVENT_TYPES: bit 0 AllEventTypes (then no type list)
 *   EventTypeList  EventTypeCount × { EventTypeID u16, Reserved u16 }
 *
 * The DMTF group (version 1) has four event types, each with a fixed EventDetail size: EventLost
 * (8: LastAckedEventInstanceID u32, LastLostEventInstanceID u32), MeasurementChanged (32: a bit
 * per measurement index), MeasurementPreUpdate (32, the same), CertificateChanged (1: a bit per slot).
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { DecodeError } from '../../wire/errors.js';
import type { SpdmEvent } from './events.js';

export const DMTF_REGISTRY_ID = 0;
export const DMTF_EVENT_GROUP_VERSION = 1;
/** SUBSCRIBE_EVENT_TYPES event group Attributes bit 0: every type of the group, no list. */
export const EVENT_GROUP_ALL_TYPES = 0x1;

/** Most groups, and types per group, one list may name (a list is a few dozen bytes in practice). */
export const MAX_EVENT_GROUPS = 16;
export const MAX_EVENT_TYPES_PER_GROUP = 64;

/** EventDetail length of each DMTF event type. */
export const DMTF_EVENT_DETAIL_SIZE: Readonly<Record<number, number>> = { 1: 8, 2: 32, 3: 32, 4: 1 };

const DMTF_EVENT_NAMES: Readonly<Record<number, string>> = {
  1: 'EventLost',
  2: 'MeasurementChanged',
  3: 'MeasurementPreUpdate',
  4: 'CertificateChanged',
};

export function dmtfEventName(typeId: number): string {
  return DMTF_EVENT_NAMES[typeId] ?? `DMTF event type ${typeId}`;
}

export interface EventGroup {
  readonly registryId: number;
  readonly vendorId: Uint8Array;
  readonly version: number;
  readonly attributes: number;
  readonly eventTypes: readonly number[];
}

export function isDmtfGroup(g: Pick<EventGroup, 'registryId' | 'vendorId'>): boolean {
  return g.registryId === DMTF_REGISTRY_ID && g.vendorId.length === 0;
}

export function encodeEventGroups(groups: readonly EventGroup[]): Uint8Array {
  const w = new Writer(64);
  for (const g of groups) {
    w.u8(g.registryId).u8(g.vendorId.length).bytes(g.vendorId);
    w.u16(g.eventTypes.length).u16(g.version).u32(g.attributes);
    for (const t of g.eventTypes) w.u16(t).u16(0);
  }
  return w.finish();
}

/** `count` groups, exactly filling `list` (the list's length came from its own length field). */
export function decodeEventGroups(list: Uint8Array, count: number, messageName: string): EventGroup[] {
  if (count > MAX_EVENT_GROUPS)
    throw new DecodeError(messageName, 'EventGroupCount', 2, `${count} groups, at most ${MAX_EVENT_GROUPS} are read`);
  const r = new Reader(list, messageName);
  const groups: EventGroup[] = [];
  for (let i = 0; i < count; i++) {
    const registryId = r.u8(`EventGroup[${i}].ID`);
    const vendorId = r.bytes(r.u8(`EventGroup[${i}].VendorIDLen`), `EventGroup[${i}].VendorID`);
    const typeCount = r.u16(`EventGroup[${i}].EventTypeCount`);
    if (typeCount > MAX_EVENT_TYPES_PER_GROUP)
      r.fail(`EventGroup[${i}].EventTypeCount`, `${typeCount} types, at most ${MAX_EVENT_TYPES_PER_GROUP} are read`);
    const version = r.u16(`EventGroup[${i}].EventGroupVer`);
    const attributes = r.u32(`EventGroup[${i}].Attributes`);
    const eventTypes: number[] = [];
    for (let t = 0; t < typeCount; t++) {
      eventTypes.push(r.u16(`EventGroup[${i}].EventType[${t}].ID`));
      r.skip(2, `EventGroup[${i}].EventType[${t}].Reserved`);
    }
    groups.push({ registryId, vendorId, version, attributes, eventTypes });
  }
  if (r.remaining !== 0) r.fail('EventGroupsList', `${r.remaining} bytes after ${count} groups`);
  return groups;
}

/** The DMTF group as a device that raises every DMTF event type lists it. */
export function dmtfEventGroup(eventTypes: readonly number[] = [1, 2, 3, 4], attributes = 0): EventGroup {
  return {
    registryId: DMTF_REGISTRY_ID,
    vendorId: new Uint8Array(0),
    version: DMTF_EVENT_GROUP_VERSION,
    attributes,
    eventTypes,
  };
}

/** A DMTF event's EventDetail, checked for its type's fixed size (libspdm refuses any other). */
export function checkDmtfEvent(e: SpdmEvent, messageName = 'SEND_EVENT'): void {
  const size = DMTF_EVENT_DETAIL_SIZE[e.eventTypeId];
  if (size === undefined)
    throw new DecodeError(messageName, 'EventTypeID', 0, `DMTF event type ${e.eventTypeId} is not defined`);
  if (e.eventDetail.length !== size)
    throw new DecodeError(
      messageName,
      'EventDetailLen',
      0,
      `${dmtfEventName(e.eventTypeId)} carries ${e.eventDetail.length} bytes, the type has ${size}`,
    );
}
