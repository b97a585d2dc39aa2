/**
 * KEY_EXCHANGE / KEY_EXCHANGE_RSP: an ephemeral (EC)DHE exchange that the device signs with the
 * leaf key of the slot named, over A ‖ [D] ‖ Ct ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP up to its
 * Signature (spdm/session-transcript.ts holds the rule). The response must carry a valid DHE
 * value, select a DSP0277 version we offered, and — unless HANDSHAKE_IN_THE_CLEAR — prove it
 * derived the handshake secrets with ResponderVerifyData = HMAC(rsp finished key, Hash(TH1)).
 */
import { decodeDheExchangeData, DheKeyPair, requireDhe } from '../crypto/dhe.js';
import { macEqual } from '../crypto/kdf.js';
import { toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag, MEAS_CAP_MASK } from '../spdm/messages/capabilities.js';
import { decodeKeyExchangeRsp, encodeKeyExchange, RANDOM_DATA_SIZE } from '../spdm/messages/key-exchange.js';
import type { SessionTranscript } from '../spdm/session-transcript.js';
import {
  deriveHandshakeSecrets,
  verifyData,
  type HandshakeSecrets,
  type KeyScheduleParams,
} from '../session/key-schedule.js';
import type { NonceOrder, SecuredTransport } from '../session/record.js';
import { INVALID_SESSION_ID_HALF, SecureSession, sessionIdHex } from '../session/secure-session.js';
import {
  encodeSupportedVersions,
  SUPPORTED_SECURED_VERSIONS,
  responseSecuredVersion,
  sessionOpaqueFormat,
} from '../session/secured-version.js';
import type { SessionSignatureEvidence } from '../evidence/evidence.js';
import type { RequestContext } from './connection.js';
import { checkedSignature } from './proof.js';

export interface KeyExchangeOptions {
  readonly slot: number;
  /** KEY_EXCHANGE Param1: 0 none, 1 TCB, 0xFF all (only with MEAS_CAP). */
  readonly measurementSummaryHashType: number;
  readonly binding: SecuredTransport;
  readonly sequenceLimit?: bigint;
  /** DSP0277 versions to offer (RequesterOptions.session.securedVersions), default all we speak. */
  readonly securedVersions?: readonly number[];
  /** Nonce byte order of a 1.0/1.1 session (RequesterOptions.session.sequenceNumberOrder). */
  readonly sequenceNumberOrder?: NonceOrder;
  /** We can authenticate ourselves (MUT_AUTH_CAP on both sides and an identity with the negotiated ReqBaseAsymAlg key). */
  readonly canMutuallyAuthenticate: boolean;
}

/**
 * What KEY_EXCHANGE_RSP's MutAuthRequested asked of us: a signed FINISH, after the encapsulated
 * flow ('encap': GET_ENCAPSULATED_REQUEST first; 'digests': DIGESTS delivered at once) or without
 * one ('plain', signing with the slot ReqSlotIDParam names).
 */
export interface MutualAuthRequest {
  readonly flow: 'plain' | 'encap' | 'digests';
  /** ReqSlotIDParam bits 3:0 (0xF: the provisioned public key). */
  readonly reqSlotIdParam: number;
}

/** MutAuthRequested values (exactly one bit, as libspdm requires): bit 0 plain, bit 1 with the encapsulated flow, bit 2 with GET_DIGESTS. */
const MUT_AUTH_FLOWS: Readonly<Record<number, MutualAuthRequest['flow']>> = { 1: 'plain', 2: 'encap', 4: 'digests' };

/** What KEY_EXCHANGE leaves for FINISH: the session with handshake keys, its transcripts, the signature record. */
export interface KeyExchangeResult {
  readonly secure: SecureSession;
  readonly transcript: SessionTranscript;
  readonly params: KeyScheduleParams;
  readonly handshake: HandshakeSecrets;
  readonly inTheClear: boolean;
  readonly heartbeatPeriod: number;
  readonly measurementSummaryHash?: Uint8Array;
  readonly signature: SessionSignatureEvidence;
  /** Set when the device asked for mutual authentication. */
  readonly mutualAuth?: MutualAuthRequest;
}

/** Both sides set `flag`. */
export function bothHave(ctx: RequestContext, ours: number, flag: number): boolean {
  return (ctx.connection.capabilities.flags & flag) !== 0 && (ours & flag) !== 0;
}

/** A ReqSessionID: never 0xFFFF (so that no RspSessionID makes the invalid 0xFFFFFFFF), and never one whose record would start like an SPDM ERROR (0x1V 0x7F). */
export function reqSessionId(random: (n: number) => Uint8Array): number {
  for (;;) {
    const b = random(2);
    const id = (b[0] as number) | ((b[1] as number) << 8);
    if (id !== INVALID_SESSION_ID_HALF && !((id & 0xf0) === 0x10 && id >> 8 === 0x7f)) return id;
  }
}

export async function keyExchange(
  ctx: RequestContext,
  ourFlags: number,
  random: (n: number) => Uint8Array,
  o: KeyExchangeOptions,
): Promise<KeyExchangeResult> {
  const c = ctx.connection;
  if (c.version < 0x11) throw new SpdmError('UNSUPPORTED', 'secure sessions need SPDM 1.1 or later');
  if (!bothHave(ctx, ourFlags, CapabilityFlag.KEY_EX))
    throw new SpdmError('UNSUPPORTED', 'KEY_EXCHANGE needs KEY_EX_CAP on both sides');
  const encrypt = bothHave(ctx, ourFlags, CapabilityFlag.ENCRYPT);
  if (!encrypt && !bothHave(ctx, ourFlags, CapabilityFlag.MAC))
    throw new SpdmError('UNSUPPORTED', 'a session needs ENCRYPT_CAP or MAC_CAP on both sides');
  if (c.dheId === 0 || c.aeadId === 0)
    throw new SpdmError(
      'ALGORITHM_MISMATCH',
      'ALGORITHMS selected no DHE group or AEAD suite (offer them with RequesterOptions.session)',
    );
  if (o.measurementSummaryHashType !== 0 && (c.capabilities.flags & MEAS_CAP_MASK) === 0)
    throw new TypeError('measurementSummaryHashType needs a device with MEAS_CAP');
  const signer = ctx.signer(o.slot);
  const dhe = requireDhe(c.dheId);
  const inTheClear = bothHave(ctx, ourFlags, CapabilityFlag.HANDSHAKE_IN_THE_CLEAR);
  const format = sessionOpaqueFormat(c.version, c.algorithms.otherParams);
  const keyPair = DheKeyPair.generate(c.dheId, { random });
  // The requester's nonce of this run, as CHALLENGE and GET_MEASUREMENTS use: the signature over
  // it is a proof of key possession a verifier can tie to the nonce it chose.
  const randomData = ctx.nonce();
  if (randomData.length !== RANDOM_DATA_SIZE) throw new TypeError(`RandomData must be ${RANDOM_DATA_SIZE} bytes`);
  const reqId = reqSessionId(random);
  const req = encodeKeyExchange(c.version, {
    measurementSummaryHashType: o.measurementSummaryHashType,
    slot: o.slot,
    reqSessionId: reqId,
    randomData,
    exchangeData: keyPair.exchangeData,
    ...(format ? { opaqueData: encodeSupportedVersions(o.securedVersions ?? SUPPORTED_SECURED_VERSIONS, format) } : {}),
  });
  ctx.transcript.request(RequestCode.KEY_EXCHANGE);
  const resp = await ctx.send(req, ResponseCode.KEY_EXCHANGE_RSP, 'T2', (b) =>
    decodeKeyExchangeRsp(b, {
      hashSize: c.hashSize,
      signatureSize: c.signatureSize,
      exchangeDataSize: dhe.exchangeSize,
      measurementSummaryHashPresent: o.measurementSummaryHashType !== 0,
      handshakeInTheClear: inTheClear,
    }),
  );
  ctx.responderNonces.check(resp.randomData, randomData, 'KEY_EXCHANGE_RSP');
  let mutualAuth: MutualAuthRequest | undefined;
  if (resp.mutAuthRequested !== 0) {
    const flow = MUT_AUTH_FLOWS[resp.mutAuthRequested & 0x07];
    if (!flow || (resp.mutAuthRequested & 0xf8) !== 0)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `KEY_EXCHANGE_RSP: MutAuthRequested 0x${resp.mutAuthRequested.toString(16)} is not one of 1, 2, 4`,
      );
    if (!o.canMutuallyAuthenticate)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        'KEY_EXCHANGE_RSP asks for mutual authentication, which we did not offer (MUT_AUTH_CAP and a requester identity)',
      );
    if (flow !== 'plain' && !bothHave(ctx, ourFlags, CapabilityFlag.ENCAP))
      throw new SpdmError('UNEXPECTED_RESPONSE', 'KEY_EXCHANGE_RSP asks for the encapsulated flow without ENCAP_CAP');
    mutualAuth = { flow, reqSlotIdParam: resp.reqSlotIdParam & 0x0f };
  }
  const peer = decodeDheExchangeData(c.dheId, resp.exchangeData, { messageName: 'KEY_EXCHANGE_RSP', offset: 40 });
  const securedVersion = responseSecuredVersion(
    format,
    resp.opaqueData,
    'KEY_EXCHANGE_RSP',
    o.securedVersions ?? SUPPORTED_SECURED_VERSIONS,
  );
  const transcript = ctx.transcript.keyExchangeSession(signer.chainHash, o.slot);
  const signed = transcript.keyExchangeSignature(req, resp.unsigned);
  const transcriptHash = checkedSignature(c, signer.leafKey, o.slot, signed, resp.signature);
  const vdSize = resp.responderVerifyData ? c.hashSize : 0;
  const th1 = transcript.th1(req, resp.raw.subarray(0, resp.raw.length - vdSize)).digest();
  const params: KeyScheduleParams = { version: c.version, hashId: c.hashId, aeadId: c.aeadId };
  const shared = keyPair.sharedSecret(peer);
  const handshake = deriveHandshakeSecrets(params, shared, 'dhe', th1);
  shared.fill(0);
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
  if (resp.responderVerifyData) {
    const expected = verifyData(params, handshake.responseFinishedKey, th1);
    if (!macEqual(expected, resp.responderVerifyData))
      throw new SpdmError(
        'VERIFY_DATA_MISMATCH',
        'KEY_EXCHANGE_RSP: ResponderVerifyData does not match the handshake secrets',
        {
          sessionId: secure.id,
          field: 'ResponderVerifyData',
        },
      );
  }
  transcript.acceptExchange(req, resp.raw);
  secure.installHandshake(handshake);
  const signature: SessionSignatureEvidence = {
    kind: 'KEY_EXCHANGE_RSP',
    sessionId: sessionIdHex(secure.sessionId),
    slot: o.slot,
    version: c.version,
    asymAlgo: c.asymId,
    hashAlgo: c.hashId,
    context: signed.context,
    requesterNonce: toHex(randomData),
    responderNonce: toHex(resp.randomData),
    transcript: toHex(signed.transcript.bytes()),
    transcriptHash: toHex(transcriptHash),
    signature: toHex(resp.signature),
    ...(resp.measurementSummaryHash ? { measurementSummaryHash: toHex(resp.measurementSummaryHash) } : {}),
    verified: true,
  };
  return {
    secure,
    transcript,
    params,
    handshake,
    inTheClear,
    heartbeatPeriod: resp.heartbeatPeriod,
    ...(resp.measurementSummaryHash ? { measurementSummaryHash: resp.measurementSummaryHash } : {}),
    signature,
    ...(mutualAuth ? { mutualAuth } : {}),
  };
}
