/**
 * The kinds of signature Evidence carries, one row each: which response is signed, in answer to
 * which request, the 1.2+ signing context, whether it belongs to a secure session, and whether
 * it proves that the device holds its leaf key. Every reader of a signature's kind (the verifier's
 * input check and re-verification, the signature log, the CMA layer's signature view) asks here.
 * A new signed message is a member of SignedMessageKind and a row here; the compiler then names
 * the two other per-kind tables it needs a row in: how its transcript is read
 * (evidence/signed-analysis.ts ANALYSERS) and where its nonces sit (cma/signature-view.ts LOCATE).
 */
import { SigningContext, usesSigningContext } from '../crypto/signature.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import type { SignedMessageKind } from './evidence.js';

export interface SignedKindRule {
  /** The signed response's code. */
  readonly responseCode: number;
  /** The request it answers, whose nonce (random data) the signature covers. */
  readonly requestCode: number;
  /** The context string of SPDM 1.2+ (the signature over 1.0/1.1 has none). */
  readonly context: SigningContext;
  /**
   * Where the signed response may travel: 'never' in a session (DSP0274 forbids CHALLENGE
   * there), 'optional', or 'required' (the response that sets the session up).
   */
  readonly session: 'never' | 'optional' | 'required';
  /**
   * The signature covers a nonce (random data) of the requester's, fresh for this run, in the
   * signed request: a valid one shows the device holds the private key of its leaf certificate
   * now, not that someone replayed a signature it made once.
   */
  readonly provesKeyPossession: boolean;
}

export const SIGNED_KINDS: Readonly<Record<SignedMessageKind, SignedKindRule>> = {
  CHALLENGE_AUTH: {
    responseCode: ResponseCode.CHALLENGE_AUTH,
    requestCode: RequestCode.CHALLENGE,
    context: SigningContext.CHALLENGE_AUTH_RESPONDER,
    session: 'never',
    provesKeyPossession: true,
  },
  MEASUREMENTS: {
    responseCode: ResponseCode.MEASUREMENTS,
    requestCode: RequestCode.GET_MEASUREMENTS,
    context: SigningContext.MEASUREMENTS,
    session: 'optional',
    provesKeyPossession: true,
  },
  KEY_EXCHANGE_RSP: {
    responseCode: ResponseCode.KEY_EXCHANGE_RSP,
    requestCode: RequestCode.KEY_EXCHANGE,
    context: SigningContext.KEY_EXCHANGE_RSP,
    session: 'required',
    provesKeyPossession: true,
  },
  // 1.3: signed over IL1/IL2 and the Nonce of GET_ENDPOINT_INFO, in the clear or in a session.
  ENDPOINT_INFO: {
    responseCode: ResponseCode.ENDPOINT_INFO,
    requestCode: RequestCode.GET_ENDPOINT_INFO,
    context: SigningContext.ENDPOINT_INFO_RESPONDER,
    session: 'optional',
    provesKeyPossession: true,
  },
};

/** Every kind, in table order. */
export const SIGNED_MESSAGE_KINDS = Object.keys(SIGNED_KINDS) as readonly SignedMessageKind[];

export function isSignedMessageKind(v: unknown): v is SignedMessageKind {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(SIGNED_KINDS, v);
}

/** The context a `kind` signature carries under `version` ('' before 1.2). */
export function signingContextOf(kind: SignedMessageKind, version: number): string {
  return usesSigningContext(version) ? SIGNED_KINDS[kind].context : '';
}
