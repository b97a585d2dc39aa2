/**
 * KEY_UPDATE from the requester's side (DSP0274 1.1+, inside an established session; the key
 * schedule's "traffic upd" step is session/key-schedule.ts): UpdateKey moves the requester's
 * direction to its next key, UpdateAllKeys both directions, and VerifyNewKey, sent under the new
 * request key, proves it works. Each KEY_UPDATE_ACK must echo the operation and the Tag.
 *
 * Which key protects what (libspdm, shared/spec/keyschedule.md §7):
 *   KEY_UPDATE                       old request key
 *   KEY_UPDATE_ACK (UpdateKey)       the response key, unchanged
 *   KEY_UPDATE_ACK (UpdateAllKeys)   the NEW response key; an ERROR refusing the update comes
 *                                    under the old one, so the old one is kept until the answer
 *   VerifyNewKey                     the new request key, sequence number 0
 *
 * A device that refuses with ERROR leaves the session as it was (the response key rolled back).
 * Any other failure leaves the two sides' keys in doubt, so the session is ended: an ACK that
 * does not echo the request, an UpdateAllKeys ACK under the old response key, a VerifyNewKey that
 * is not acknowledged.
 */
import { DecodeError, SpdmError, isSpdmError } from '../wire/errors.js';
import type { RandomSource } from '../crypto/random.js';
import { ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import {
  decodeKeyUpdateAck,
  encodeKeyUpdate,
  KeyUpdateOperation,
  type KeyUpdateMessage,
} from '../spdm/messages/key-update.js';
import type { KeyScheduleParams } from '../session/key-schedule.js';
import type { SecureSession } from '../session/secure-session.js';
import type { RequestContext } from './connection.js';

/** 'one': UpdateKey (the requester's direction); 'all': UpdateAllKeys (both directions). */
export type KeyUpdateKind = 'one' | 'all';

export interface KeyUpdateRun {
  readonly operation: 'UpdateKey' | 'UpdateAllKeys';
  /** The Tags sent with the update and with VerifyNewKey (each echoed by its ACK). */
  readonly tags: { readonly update: number; readonly verify: number };
}

export interface KeyUpdateWiring {
  readonly context: RequestContext;
  readonly secure: SecureSession;
  readonly params: KeyScheduleParams;
  /** The capability flags we sent in GET_CAPABILITIES. */
  readonly requesterFlags: number;
  readonly random: RandomSource;
}

const OP_NAME: Record<number, string> = {
  [KeyUpdateOperation.UPDATE_KEY]: 'UpdateKey',
  [KeyUpdateOperation.UPDATE_ALL_KEYS]: 'UpdateAllKeys',
  [KeyUpdateOperation.VERIFY_NEW_KEY]: 'VerifyNewKey',
};

function opName(op: number): string {
  return OP_NAME[op] ?? `KeyOperation ${op}`;
}

/** Ends the session and returns the error that says why. */
function tornDown(secure: SecureSession, message: string, details: Record<string, unknown>): SpdmError {
  const e = new SpdmError('KEY_UPDATE_FAILED', `session ${secure.id}: ${message}`, {
    sessionId: secure.id,
    ...details,
  });
  secure.end(`torn down after KEY_UPDATE_FAILED: ${message}`);
  return e;
}

function checkEcho(secure: SecureSession, ack: KeyUpdateMessage, operation: number, tag: number): void {
  if (ack.operation !== operation)
    throw tornDown(secure, `KEY_UPDATE_ACK for ${opName(ack.operation)} answers ${opName(operation)}`, {
      operation: opName(operation),
      got: opName(ack.operation),
    });
  if (ack.tag !== tag)
    throw tornDown(
      secure,
      `KEY_UPDATE_ACK to ${opName(operation)} echoes Tag 0x${ack.tag.toString(16)}, sent 0x${tag.toString(16)}`,
      { operation: opName(operation), tag, got: ack.tag },
    );
}

/** Read afresh: a round trip may have ended the session (TypeScript would keep the earlier narrowing). */
function isEnded(secure: SecureSession): boolean {
  return secure.phase === 'ended';
}

/** KEY_UPDATE_ACK, exactly its 4-byte header: inside a record there is no transport padding to allow for. */
function decodeExactAck(bytes: Uint8Array): KeyUpdateMessage {
  if (bytes.length !== 4)
    throw new DecodeError('KEY_UPDATE_ACK', 'length', 4, `${bytes.length} bytes, the message is 4`);
  return decodeKeyUpdateAck(bytes);
}

function oneTag(random: RandomSource): number {
  return random(1)[0] as number;
}

export async function updateSessionKeys(w: KeyUpdateWiring, kind: KeyUpdateKind): Promise<KeyUpdateRun> {
  const { context, secure, params } = w;
  const version = context.connection.version;
  if (version < 0x11) throw new SpdmError('UNSUPPORTED', 'KEY_UPDATE needs SPDM 1.1 or later');
  if (!(w.requesterFlags & CapabilityFlag.KEY_UPD))
    throw new SpdmError(
      'UNSUPPORTED',
      'KEY_UPDATE needs KEY_UPD_CAP in our capabilities (RequesterOptions.capabilityFlags)',
    );
  if (!(context.connection.capabilities.flags & CapabilityFlag.KEY_UPD))
    throw new SpdmError('UNSUPPORTED', 'the device does not offer KEY_UPDATE (KEY_UPD_CAP clear)');
  if (secure.phase !== 'established')
    throw new SpdmError('SESSION_CLOSED', `session ${secure.id}: KEY_UPDATE in a session that is ${secure.phase}`, {
      sessionId: secure.id,
    });
  const operation = kind === 'all' ? KeyUpdateOperation.UPDATE_ALL_KEYS : KeyUpdateOperation.UPDATE_KEY;
  const tag = oneTag(w.random);
  // UpdateAllKeys: the device answers under its new key, so that is the one we open first.
  if (operation === KeyUpdateOperation.UPDATE_ALL_KEYS) secure.updateKeys('response', params);
  let ack: KeyUpdateMessage;
  try {
    ack = await context.send(
      encodeKeyUpdate(version, { operation, tag }),
      ResponseCode.KEY_UPDATE_ACK,
      // Deriving keys is cryptographic work: the device's CT bound (T2), not T1.
      'T2',
      decodeExactAck,
    );
  } catch (e) {
    // An ERROR the device sealed with the key it had before leaves both sides where they were;
    // anything else (a timeout, a record that did not open, an ERROR under a new response key
    // the device switched to anyway) leaves them in doubt.
    const refused =
      isSpdmError(e, 'DEVICE_ERROR') &&
      (operation === KeyUpdateOperation.UPDATE_KEY || secure.openedUnderOldKey || isEnded(secure));
    secure.rollbackKeyUpdate('response');
    if (!refused && !isEnded(secure))
      secure.end(`torn down after a failed KEY_UPDATE: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
  if (operation === KeyUpdateOperation.UPDATE_ALL_KEYS) {
    if (secure.openedUnderOldKey)
      throw tornDown(secure, 'KEY_UPDATE_ACK to UpdateAllKeys came under the old response key', {
        operation: 'UpdateAllKeys',
      });
    secure.commitKeyUpdate('response');
  }
  checkEcho(secure, ack, operation, tag);

  // The device has its new request key; ours follows, and VerifyNewKey goes under it. Nothing
  // we send needs the old one again (a failure from here on ends the session), so it goes now.
  secure.updateKeys('request', params);
  secure.commitKeyUpdate('request');
  const verifyTag = oneTag(w.random);
  let verified: KeyUpdateMessage;
  try {
    verified = await context.send(
      encodeKeyUpdate(version, { operation: KeyUpdateOperation.VERIFY_NEW_KEY, tag: verifyTag }),
      ResponseCode.KEY_UPDATE_ACK,
      'T2',
      decodeExactAck,
    );
  } catch (e) {
    if (!isEnded(secure))
      secure.end(`torn down after a failed VerifyNewKey: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
  checkEcho(secure, verified, KeyUpdateOperation.VERIFY_NEW_KEY, verifyTag);
  return {
    operation: operation === KeyUpdateOperation.UPDATE_ALL_KEYS ? 'UpdateAllKeys' : 'UpdateKey',
    tags: { update: tag, verify: verifyTag },
  };
}
