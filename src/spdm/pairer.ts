/**
 * Pairs the responses of an observed conversation with their requests, for anything following
 * a conversation from the outside (`spdm dump`, the signature replay, the session tracker).
 *
 * Two answers are kept apart:
 * - `answers`: the request just before the response, which it answers on the wire (what a dump
 *   shows: "#8 answers #7");
 * - `request`: the request whose outcome the response is. ERROR(ResponseNotReady) does not
 *   complete its request: the requester later sends RESPOND_IF_READY, and the response to that
 *   is the one to the original request (DSP0274 "RESPOND_IF_READY"), so a response after a
 *   RESPOND_IF_READY is paired with the request that got ResponseNotReady.
 *
 * A response completes its request: a second response with no request between them answers
 * nothing. The pairer holds only the last request of each sort, whatever the capture's length.
 */
import { RequestCode, ResponseCode } from './codes.js';
import { ErrorCode } from './messages/error.js';
import type { DecodedMessage, Direction } from './conversation.js';

/** How the pairer sees one message. */
export type PairingRole =
  /** A request other than RESPOND_IF_READY. */
  | 'request'
  /** RESPOND_IF_READY: asks again for the response to the request still pending. */
  | 'respond-if-ready'
  /** A response other than ERROR(ResponseNotReady). */
  | 'response'
  /** ERROR(ResponseNotReady): the request stays pending for a RESPOND_IF_READY. */
  | 'not-ready';

export interface Pairing<R> {
  /** The request just before this response (undefined after another response). */
  readonly answers?: R;
  /** The request this response is the outcome of (RESPOND_IF_READY resolved to the original one). */
  readonly request?: R;
}

/** The pairing role of a decoded message. */
export function pairingRole(d: DecodedMessage): PairingRole {
  if (d.direction === 'request') return d.kind === 'RESPOND_IF_READY' ? 'respond-if-ready' : 'request';
  return d.kind === 'ERROR' && d.msg.errorCode === ErrorCode.ResponseNotReady ? 'not-ready' : 'response';
}

/**
 * The pairing role of an undecoded message from its first bytes (version, code, Param1): for
 * what cannot be decoded, or is not SPDM at all (whose role is its direction).
 */
export function pairingRoleOfBytes(direction: Direction, message: Uint8Array): PairingRole {
  const code = message[1];
  if (direction === 'request') return code === RequestCode.RESPOND_IF_READY ? 'respond-if-ready' : 'request';
  return code === ResponseCode.ERROR && message[2] === ErrorCode.ResponseNotReady ? 'not-ready' : 'response';
}

export class RequestPairer<R> {
  /** The request just before now, until a response. */
  private last: R | undefined;
  /** The request awaiting its outcome (kept over ResponseNotReady and RESPOND_IF_READY). */
  private pending: R | undefined;

  /** Records a request. Returns nothing: requests are paired when their response comes. */
  request(r: R, role: 'request' | 'respond-if-ready' = 'request'): void {
    this.last = r;
    if (role === 'request') this.pending = r;
  }

  /** Pairs a response with the requests before it. */
  response(role: 'response' | 'not-ready' = 'response'): Pairing<R> {
    const answers = this.last;
    const request = this.pending;
    this.last = undefined;
    if (role === 'response') this.pending = undefined;
    return { ...(answers !== undefined ? { answers } : {}), ...(request !== undefined ? { request } : {}) };
  }

  /** Feeds one message in `role`: a request is recorded (empty pairing), a response paired. */
  feed(role: PairingRole, r: R): Pairing<R> {
    if (role === 'request' || role === 'respond-if-ready') {
      this.request(r, role);
      return {};
    }
    return this.response(role);
  }

  /** Forgets every request (a new connection). */
  clear(): void {
    this.last = undefined;
    this.pending = undefined;
  }
}
