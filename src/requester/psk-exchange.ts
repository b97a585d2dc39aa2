/**
 * PSK_EXCHANGE / PSK_EXCHANGE_RSP: a session from a pre-shared key, named by a PSKHint the
 * device looks it up with. There is no signature and no (EC)DHE: the device proves it holds the
 * same PSK with ResponderVerifyData = HMAC(rsp finished key, Hash(TH1)), TH1 = A ‖ PSK_EXCHANGE ‖
 * PSK_EXCHANGE_RSP without it (spdm/session-transcript.ts holds the rule). That proves the
 * PSK, not the device's certificate key: a PSK session is no evidence of identity.
 *
 * The responder's PSK_CAP says what follows: 10b (with context) sends a ResponderContext and
 * waits for PSK_FINISH under the handshake keys (psk-finish.ts); 01b (without context) sends none
 * and the data keys follow at once from TH2 = A ‖ PSK_EXCHANGE ‖ PSK_EXCHANGE_RSP, as libspdm's
 * responder does.
 */
import { macEqual } from '../crypto/kdf.js';
import { SpdmError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag, MEAS_CAP_MASK } from '../spdm/messages/capabilities.js';
import { decodePskExchangeRsp, encodePskExchange, MAX_PSK_HINT_SIZE } from '../spdm/messages/psk.js';
import type { SessionTranscript } from '../spdm/session-transcript.js';
import {
  deriveDataSecrets,
  deriveHandshakeSecrets,
  verifyData,
  type HandshakeSecrets,
  type KeyScheduleParams,
} from '../session/key-schedule.js';
import type { NonceOrder, SecuredTransport } from '../session/record.js';
import { SecureSession } from '../session/secure-session.js';
import {
  encodeSupportedVersions,
  SUPPORTED_SECURED_VERSIONS,
  sessionOpaqueFormat,
} from '../session/secured-version.js';
import type { RequestContext } from './connection.js';
import { bothHave, reqSessionId } from './key-exchange.js';
import { responseSecuredVersion } from '../session/secured-version.js';

export interface PskOptions {
  /** The pre-shared key: the IKM of the handshake secret. Never sent. */
  readonly key: Uint8Array;
  /** PSKHint, 0..16 bytes: which PSK the device should use. None when omitted. */
  readonly hint?: Uint8Array;
}

export interface PskExchangeOptions {
  readonly psk: PskOptions;
  /** PSK_EXCHANGE Param1: 0 none, 1 TCB, 0xFF all (only with MEAS_CAP). */
  readonly measurementSummaryHashType: number;
  readonly binding: SecuredTransport;
  readonly sequenceLimit?: bigint;
  /** DSP0277 versions to offer (RequesterOptions.session.securedVersions), default all we speak. */
  readonly securedVersions?: readonly number[];
  /** Nonce byte order of a 1.0/1.1 session (RequesterOptions.session.sequenceNumberOrder). */
  readonly sequenceNumberOrder?: NonceOrder;
}

/** What PSK_EXCHANGE leaves: the session (handshake keys, or data keys without context), its transcripts. */
export interface PskExchangeResult {
  readonly secure: SecureSession;
  readonly transcript: SessionTranscript;
  readonly params: KeyScheduleParams;
  readonly handshake: HandshakeSecrets;
  /** The responder's PSK_CAP is 10b: PSK_FINISH must follow before the data keys. */
  readonly withContext: boolean;
  readonly heartbeatPeriod: number;
  readonly measurementSummaryHash?: Uint8Array;
  readonly hint: Uint8Array;
}

/** Both PSK_CAP fields are non-zero: ours (requester 01b) and the responder's (01b or 10b). */
function pskOnBothSides(ctx: RequestContext, ourFlags: number): boolean {
  const theirs = ctx.connection.capabilities.flags & (CapabilityFlag.PSK_NO_CONTEXT | CapabilityFlag.PSK_WITH_CONTEXT);
  return theirs !== 0 && (ourFlags & CapabilityFlag.PSK_NO_CONTEXT) !== 0;
}

export function checkPskOptions(psk: PskOptions): void {
  if (!(psk.key instanceof Uint8Array) || psk.key.length === 0) throw new TypeError('psk.key must be non-empty bytes');
  if (psk.hint !== undefined && (!(psk.hint instanceof Uint8Array) || psk.hint.length > MAX_PSK_HINT_SIZE))
    throw new TypeError(`psk.hint must be at most ${MAX_PSK_HINT_SIZE} bytes`);
}

export async function pskExchange(
  ctx: RequestContext,
  ourFlags: number,
  random: (n: number) => Uint8Array,
  o: PskExchangeOptions,
): Promise<PskExchangeResult> {
  const c = ctx.connection;
  checkPskOptions(o.psk);
  if (c.version < 0x11) throw new SpdmError('UNSUPPORTED', 'secure sessions need SPDM 1.1 or later');
  if (!pskOnBothSides(ctx, ourFlags)) throw new SpdmError('UNSUPPORTED', 'PSK_EXCHANGE needs PSK_CAP on both sides');
  const encrypt = bothHave(ctx, ourFlags, CapabilityFlag.ENCRYPT);
  if (!encrypt && !bothHave(ctx, ourFlags, CapabilityFlag.MAC))
    throw new SpdmError('UNSUPPORTED', 'a session needs ENCRYPT_CAP or MAC_CAP on both sides');
  if (c.aeadId === 0)
    throw new SpdmError(
      'ALGORITHM_MISMATCH',
      'ALGORITHMS selected no AEAD suite (offer them with RequesterOptions.session)',
    );
  if (o.measurementSummaryHashType !== 0 && (c.capabilities.flags & MEAS_CAP_MASK) === 0)
    throw new TypeError('measurementSummaryHashType needs a device with MEAS_CAP');
  const withContext = (c.capabilities.flags & CapabilityFlag.PSK_WITH_CONTEXT) !== 0;
  const hint = o.psk.hint ?? new Uint8Array(0);
  const format = sessionOpaqueFormat(c.version, c.algorithms.otherParams);
  const reqId = reqSessionId(random);
  // DSP0274 asks for a RequesterContext of at least H random bytes.
  const req = encodePskExchange(c.version, {
    measurementSummaryHashType: o.measurementSummaryHashType,
    reqSessionId: reqId,
    pskHint: hint,
    requesterContext: random(c.hashSize),
    ...(format ? { opaqueData: encodeSupportedVersions(o.securedVersions ?? SUPPORTED_SECURED_VERSIONS, format) } : {}),
  });
  ctx.transcript.request(RequestCode.PSK_EXCHANGE);
  const resp = await ctx.send(req, ResponseCode.PSK_EXCHANGE_RSP, 'T2', (b) =>
    decodePskExchangeRsp(b, {
      hashSize: c.hashSize,
      measurementSummaryHashPresent: o.measurementSummaryHashType !== 0,
    }),
  );
  // PSK_CAP 10b promises a ResponderContext, 01b forbids one (libspdm's requester checks both).
  if (withContext !== resp.responderContext.length > 0)
    throw new SpdmError(
      'UNEXPECTED_RESPONSE',
      withContext
        ? 'PSK_EXCHANGE_RSP: no ResponderContext although the responder has PSK_CAP with context'
        : 'PSK_EXCHANGE_RSP: a ResponderContext although the responder has PSK_CAP without context',
      { field: 'ResponderContextLength' },
    );
  const securedVersion = responseSecuredVersion(
    format,
    resp.opaqueData,
    'PSK_EXCHANGE_RSP',
    o.securedVersions ?? SUPPORTED_SECURED_VERSIONS,
  );
  const transcript = ctx.transcript.pskSession();
  const th1 = transcript.th1(req, resp.raw.subarray(0, resp.raw.length - c.hashSize)).digest();
  const params: KeyScheduleParams = { version: c.version, hashId: c.hashId, aeadId: c.aeadId };
  const handshake = deriveHandshakeSecrets(params, o.psk.key, 'psk', th1);
  const secure = new SecureSession({
    role: 'requester',
    reqSessionId: reqId,
    rspSessionId: resp.rspSessionId,
    securedVersion,
    aeadId: c.aeadId,
    binding: o.binding,
    mode: encrypt ? 'encrypt' : 'mac-only',
    random,
    ...(o.sequenceLimit !== undefined ? { sequenceLimit: o.sequenceLimit } : {}),
    ...(o.sequenceNumberOrder ? { sequenceNumberOrder: o.sequenceNumberOrder } : {}),
  });
  if (!macEqual(verifyData(params, handshake.responseFinishedKey, th1), resp.responderVerifyData)) {
    for (const b of [handshake.handshakeSecret, handshake.requestFinishedKey, handshake.responseFinishedKey]) b.fill(0);
    throw new SpdmError(
      'VERIFY_DATA_MISMATCH',
      'PSK_EXCHANGE_RSP: ResponderVerifyData does not match: the device does not hold this PSK (or not under this hint)',
      { sessionId: secure.id, field: 'ResponderVerifyData' },
    );
  }
  transcript.acceptExchange(req, resp.raw);
  secure.installHandshake(handshake);
  if (!withContext) {
    secure.installData(deriveDataSecrets(params, handshake.handshakeSecret, transcript.th2().digest()));
    for (const b of [handshake.handshakeSecret, handshake.requestFinishedKey, handshake.responseFinishedKey]) b.fill(0);
  }
  return {
    secure,
    transcript,
    params,
    handshake,
    withContext,
    heartbeatPeriod: resp.heartbeatPeriod,
    ...(resp.measurementSummaryHash ? { measurementSummaryHash: resp.measurementSummaryHash } : {}),
    hint,
  };
}
