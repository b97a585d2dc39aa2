/**
 * The emulator's PSK sessions: PSK_EXCHANGE in the clear and PSK_FINISH inside the session
 * under the handshake keys. The PSK is the profile's entry under the PSKHint the request names
 * (DeviceProfile.session.psk; an empty hint picks the entry with an empty hint, as libspdm's
 * sample device does with its one PSK). Nothing here is signed.
 *
 * With PSK_CAP 10b (PSK_WITH_CONTEXT) PSK_EXCHANGE_RSP carries an H-byte ResponderContext and the
 * data keys wait for PSK_FINISH; with 01b there is no context and the data keys follow at once
 * from TH2 = A ‖ PSK_EXCHANGE ‖ PSK_EXCHANGE_RSP (libspdm's responder does the same).
 */
import { macEqual } from '../crypto/kdf.js';
import { requireHash } from '../crypto/hash.js';
import { concat, equalBytes } from '../wire/bytes.js';
import { RequestCode } from '../spdm/codes.js';
import type { ConnectionTranscript } from '../spdm/connection-transcript.js';
import type { SessionTranscript } from '../spdm/session-transcript.js';
import { CapabilityFlag, MEAS_CAP_MASK } from '../spdm/messages/capabilities.js';
import { ErrorCode } from '../spdm/messages/error.js';
import {
  decodePskExchange,
  decodePskFinish,
  encodePskExchangeRsp,
  encodePskFinishRsp,
  MAX_PSK_HINT_SIZE,
} from '../spdm/messages/psk.js';
import {
  deriveDataSecrets,
  deriveHandshakeSecrets,
  verifyData,
  type HandshakeSecrets,
  type KeyScheduleParams,
} from '../session/key-schedule.js';
import type { SecuredTransport } from '../session/record.js';
import { SecureSession } from '../session/secure-session.js';
import { chooseRequestSecuredVersion, sessionOpaqueFormat } from '../session/secured-version.js';
import type { RandomSource } from '../crypto/random.js';
import { ErrorReply } from './error-reply.js';
import type { DeviceProfile, PskEntry } from './profile.js';

/** What PSK_EXCHANGE needs of the responder: the negotiation, its transcripts, how it names sessions. */
export interface PskExchangeContext {
  readonly profile: DeviceProfile;
  readonly version: number;
  readonly hashId: number;
  readonly aeadId: number;
  readonly otherParams: number;
  readonly requesterFlags: number;
  readonly transcript: ConnectionTranscript;
  readonly random: RandomSource;
  readonly binding: SecuredTransport;
  readonly sequenceLimit: bigint | undefined;
  /** The responder holds as many sessions as it may. */
  readonly sessionsFull: boolean;
  newRspSessionId(reqSessionId: number): number;
  measurementSummaryHash(type: number): Uint8Array;
}

/** A PSK session as the responder holds it (the shape of its other sessions). */
export interface PskSessionState {
  readonly secure: SecureSession;
  readonly transcript: SessionTranscript;
  readonly params: KeyScheduleParams;
  readonly handshake: HandshakeSecrets;
}

function zero(h: HandshakeSecrets): void {
  for (const b of [h.handshakeSecret, h.requestFinishedKey, h.responseFinishedKey]) b.fill(0);
}

function findPsk(entries: readonly PskEntry[] | undefined, hint: Uint8Array): PskEntry | undefined {
  return entries?.find((e) => equalBytes(e.hint, hint));
}

export function answerPskExchange(
  ctx: PskExchangeContext,
  request: Uint8Array,
): { response: Uint8Array; session: PskSessionState } {
  const ours = ctx.profile.capabilities.flags;
  const pskCap = ours & (CapabilityFlag.PSK_NO_CONTEXT | CapabilityFlag.PSK_WITH_CONTEXT);
  // libspdm answers UnsupportedRequest when either side lacks PSK_CAP.
  if (pskCap === 0 || ctx.version < 0x11 || (ctx.requesterFlags & CapabilityFlag.PSK_NO_CONTEXT) === 0)
    throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.PSK_EXCHANGE);
  const both = (f: number) => (ours & f) !== 0 && (ctx.requesterFlags & f) !== 0;
  const encrypt = both(CapabilityFlag.ENCRYPT);
  if ((!encrypt && !both(CapabilityFlag.MAC)) || ctx.aeadId === 0) throw new ErrorReply(ErrorCode.UnexpectedRequest);
  const req = decodePskExchange(request);
  if (req.pskHint.length > MAX_PSK_HINT_SIZE) throw new ErrorReply(ErrorCode.InvalidRequest);
  if (req.measurementSummaryHashType !== 0 && (ours & MEAS_CAP_MASK) === 0)
    throw new ErrorReply(ErrorCode.InvalidRequest);
  if (ctx.sessionsFull) throw new ErrorReply(ErrorCode.SessionLimitExceeded);
  // No PSK under this hint: the request names nothing this device holds.
  const psk = findPsk(ctx.profile.session?.psk, req.pskHint);
  if (!psk) throw new ErrorReply(ErrorCode.InvalidRequest);
  const choice = chooseRequestSecuredVersion(
    sessionOpaqueFormat(ctx.version, ctx.otherParams),
    req.opaqueData,
    ctx.profile.session?.securedVersions,
  );
  if (!choice) throw new ErrorReply(ErrorCode.InvalidRequest);
  const { securedVersion, opaqueData } = choice;
  const withContext = (pskCap & CapabilityFlag.PSK_WITH_CONTEXT) !== 0;
  const hashSize = requireHash(ctx.hashId).size;
  const rspSessionId = ctx.newRspSessionId(req.reqSessionId);
  const summary =
    req.measurementSummaryHashType !== 0 ? ctx.measurementSummaryHash(req.measurementSummaryHashType) : undefined;
  const fields = {
    heartbeatPeriod: both(CapabilityFlag.HBEAT) ? (ctx.profile.session?.heartbeatPeriod ?? 0) : 0,
    rspSessionId,
    ...(summary ? { measurementSummaryHash: summary } : {}),
    responderContext: withContext ? ctx.random(hashSize) : new Uint8Array(0),
    ...(opaqueData ? { opaqueData } : {}),
  };
  const transcript = ctx.transcript.pskSession();
  // ResponderVerifyData is the last field (no length field names it): the response without it is
  // the same encoding with none, so it is encoded once and the verify data appended (TH1 hashed
  // the start already; acceptExchange hashes only the rest).
  const unverified = encodePskExchangeRsp(ctx.version, { ...fields, responderVerifyData: new Uint8Array(0) });
  const th1 = transcript.th1(req.raw, unverified).digest();
  const params: KeyScheduleParams = { version: ctx.version, hashId: ctx.hashId, aeadId: ctx.aeadId };
  const handshake = deriveHandshakeSecrets(params, psk.key, 'psk', th1);
  const response = concat([unverified, verifyData(params, handshake.responseFinishedKey, th1)]);
  transcript.acceptExchange(req.raw, response);
  const secure = new SecureSession({
    role: 'responder',
    reqSessionId: req.reqSessionId,
    rspSessionId,
    securedVersion,
    aeadId: ctx.aeadId,
    binding: ctx.binding,
    mode: encrypt ? 'encrypt' : 'mac-only',
    random: ctx.random,
    ...(ctx.sequenceLimit !== undefined ? { sequenceLimit: ctx.sequenceLimit } : {}),
    ...(ctx.profile.session?.sequenceNumberOrder
      ? { sequenceNumberOrder: ctx.profile.session.sequenceNumberOrder }
      : {}),
  });
  secure.installHandshake(handshake);
  if (!withContext) {
    secure.installData(deriveDataSecrets(params, handshake.handshakeSecret, transcript.th2().digest()));
    zero(handshake);
  }
  return { response, session: { secure, transcript, params, handshake } };
}

/**
 * PSK_FINISH under the handshake keys: RequesterVerifyData must prove the requester holds the
 * PSK. A wrong one is ERROR DecryptError (libspdm's answer) and `drop` ends the session.
 */
export function answerPskFinish(s: PskSessionState, request: Uint8Array, drop: (reason: string) => void): Uint8Array {
  const hashSize = requireHash(s.params.hashId).size;
  const req = decodePskFinish(request, { hashSize });
  const bare = req.raw.subarray(0, req.raw.length - hashSize);
  const expected = verifyData(
    s.params,
    s.handshake.requestFinishedKey,
    s.transcript.requesterVerifyTranscript(bare).digest(),
  );
  if (!macEqual(expected, req.requesterVerifyData)) {
    drop('PSK_FINISH RequesterVerifyData does not match');
    throw new ErrorReply(ErrorCode.DecryptError);
  }
  return encodePskFinishRsp(s.params.version, {});
}

/** The PSK_FINISH as TH2 holds it (the request's own length, whatever followed it). */
export function pskFinishRaw(s: PskSessionState, request: Uint8Array): Uint8Array {
  return decodePskFinish(request, { hashSize: requireHash(s.params.hashId).size }).raw;
}
