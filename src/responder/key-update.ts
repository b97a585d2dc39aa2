/**
 * KEY_UPDATE inside an established session, the emulator's side (DSP0274 1.1+, the same switch
 * points as libspdm's responder, shared/spec/keyschedule.md §7):
 *
 *   UpdateKey       the request key moves on at once (the next request, VerifyNewKey, comes under
 *                   it); the ACK goes under the response key, unchanged.
 *   UpdateAllKeys   both move on; the ACK already goes under the new response key, and the old
 *                   response key is dropped there and then (nothing is ever sent under it again).
 *   VerifyNewKey    must come under the new request key: the old one is zeroised, the update done.
 *
 * Until VerifyNewKey the old request key stays, and a record under it still opens (the requester
 * may not have seen our ACK): that is session/secure-session.ts. A second UpdateKey/UpdateAllKeys
 * before VerifyNewKey, or VerifyNewKey with no update pending or under the old key, is
 * ERROR InvalidRequest, and the session keeps the keys it had.
 */
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { ErrorCode } from '../spdm/messages/error.js';
import { RequestCode } from '../spdm/codes.js';
import { decodeKeyUpdate, encodeKeyUpdateAck, KeyUpdateOperation } from '../spdm/messages/key-update.js';
import type { KeyScheduleParams } from '../session/key-schedule.js';
import type { SecureSession } from '../session/secure-session.js';

/** The ACK to send, or the ERROR code (and data) to answer with. */
export type KeyUpdateAnswer =
  { readonly ack: Uint8Array } | { readonly errorCode: number; readonly errorData?: number };

export interface KeyUpdateContext {
  readonly version: number;
  /** Capability flags of the responder's CAPABILITIES and of the requester's GET_CAPABILITIES. */
  readonly responderFlags: number;
  readonly requesterFlags: number;
  readonly params: KeyScheduleParams;
}

/** The header and nothing else: inside a record there is no transport padding to allow for. */
const KEY_UPDATE_SIZE = 4;

export function answerKeyUpdate(secure: SecureSession, request: Uint8Array, c: KeyUpdateContext): KeyUpdateAnswer {
  if (!(c.responderFlags & CapabilityFlag.KEY_UPD) || !(c.requesterFlags & CapabilityFlag.KEY_UPD))
    return { errorCode: ErrorCode.UnsupportedRequest, errorData: RequestCode.KEY_UPDATE };
  if (secure.phase !== 'established') return { errorCode: ErrorCode.UnexpectedRequest };
  if (request.length !== KEY_UPDATE_SIZE) return { errorCode: ErrorCode.InvalidRequest };
  // Param1 outside 1..3 is a DecodeError, which the caller answers with InvalidRequest.
  const req = decodeKeyUpdate(request);
  const pending = secure.keyUpdatePending('request');
  switch (req.operation) {
    case KeyUpdateOperation.UPDATE_KEY:
      if (pending) return { errorCode: ErrorCode.InvalidRequest };
      secure.updateKeys('request', c.params);
      break;
    case KeyUpdateOperation.UPDATE_ALL_KEYS:
      if (pending) return { errorCode: ErrorCode.InvalidRequest };
      secure.updateKeys('request', c.params);
      secure.updateKeys('response', c.params);
      secure.commitKeyUpdate('response');
      break;
    default:
      // VerifyNewKey proves the new key only when it came under it.
      if (!pending || secure.openedUnderOldKey) return { errorCode: ErrorCode.InvalidRequest };
      secure.commitKeyUpdate('request');
  }
  return { ack: encodeKeyUpdateAck(c.version, { operation: req.operation, tag: req.tag }) };
}

/**
 * KEY_UPDATE outside any session (libspdm's answers): SessionRequired from SPDM 1.2 on,
 * Unspecified in 1.1 which has no such code; UnsupportedRequest without KEY_UPD_CAP on both sides.
 */
export function keyUpdateOutsideSession(c: Omit<KeyUpdateContext, 'params'>): {
  readonly errorCode: number;
  readonly errorData?: number;
} {
  if (!(c.responderFlags & CapabilityFlag.KEY_UPD) || !(c.requesterFlags & CapabilityFlag.KEY_UPD))
    return { errorCode: ErrorCode.UnsupportedRequest, errorData: RequestCode.KEY_UPDATE };
  return { errorCode: c.version >= 0x12 ? ErrorCode.SessionRequired : ErrorCode.Unspecified };
}
