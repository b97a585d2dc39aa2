/**
 * Event subscription from the requester's side (SPDM 1.3, inside an established session):
 * GET_SUPPORTED_EVENT_TYPES lists the device's event groups, SUBSCRIBE_EVENT_TYPES picks the
 * types it shall deliver (none: unsubscribe from all). The events themselves come over the
 * encapsulated flow (session-encapsulated.ts). The device's lists are decoded in full
 * (spdm/messages/event-groups.ts): a list that does not parse is a DecodeError.
 */
import { SpdmError } from '../wire/errors.js';
import { ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import {
  decodeSubscribeEventTypesAck,
  decodeSupportedEventTypes,
  encodeGetSupportedEventTypes,
  encodeSubscribeEventTypes,
} from '../spdm/messages/events.js';
import { decodeEventGroups, encodeEventGroups, type EventGroup } from '../spdm/messages/event-groups.js';
import type { RequestContext } from './connection.js';

function requireEvents(context: RequestContext): void {
  if (context.connection.version < 0x13) throw new SpdmError('UNSUPPORTED', 'events need SPDM 1.3 or later');
  if (!(context.connection.capabilities.flags & CapabilityFlag.EVENT))
    throw new SpdmError('UNSUPPORTED', 'the device does not offer events (EVENT_CAP clear)');
}

export async function getSupportedEventTypes(context: RequestContext): Promise<EventGroup[]> {
  requireEvents(context);
  const version = context.connection.version;
  const r = await context.send(
    encodeGetSupportedEventTypes(version),
    ResponseCode.SUPPORTED_EVENT_TYPES,
    'T1',
    decodeSupportedEventTypes,
  );
  if (r.eventGroupCount === 0)
    throw new SpdmError('UNEXPECTED_RESPONSE', 'SUPPORTED_EVENT_TYPES: EventGroupCount 0 from a device with EVENT_CAP');
  return decodeEventGroups(r.supportedEventGroups, r.eventGroupCount, 'SUPPORTED_EVENT_TYPES');
}

/** Subscribes to `groups` (each with its types, or Attributes bit 0 for all); an empty list unsubscribes from everything. */
export async function subscribeEventTypes(context: RequestContext, groups: readonly EventGroup[]): Promise<void> {
  requireEvents(context);
  const version = context.connection.version;
  if (groups.length > 0xff) throw new TypeError('subscribeEvents: at most 255 event groups');
  await context.send(
    encodeSubscribeEventTypes(version, {
      subscribeEventGroupCount: groups.length,
      ...(groups.length > 0 ? { subscribeList: encodeEventGroups(groups) } : {}),
    }),
    ResponseCode.SUBSCRIBE_EVENT_TYPES_ACK,
    'T1',
    decodeSubscribeEventTypesAck,
  );
}
