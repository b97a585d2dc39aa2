/**
 * FINISH / FINISH_RSP: the requester proves it derived the same handshake secrets
 * (RequesterVerifyData = HMAC(req finished key, Hash(… ‖ FINISH without it))), inside the session
 * under the handshake keys — or in the clear with HANDSHAKE_IN_THE_CLEAR, when FINISH_RSP carries
 * ResponderVerifyData instead. TH2 (… ‖ FINISH ‖ FINISH_RSP) then gives the data keys.
 */
import { macEqual } from '../crypto/kdf.js';
import { SpdmError } from '../wire/errors.js';
import { ResponseCode } from '../spdm/codes.js';
import { decodeFinishRsp, encodeFinish } from '../spdm/messages/finish.js';
import { deriveDataSecrets, verifyData } from '../session/key-schedule.js';
import type { RoundTrip } from './exchange.js';
import type { SignedTranscript } from '../spdm/connection-transcript.js';
import type { KeyExchangeResult } from './key-exchange.js';

/** One round trip in the clear (HANDSHAKE_IN_THE_CLEAR) or inside the session (handshake keys). */
export type FinishSend = RoundTrip;

/** Mutual authentication: the slot FINISH names (Param2) and the signature over the FINISH transcript with its key. */
export interface FinishSigner {
  readonly slot: number;
  sign(signed: SignedTranscript<'FINISH'>): Uint8Array;
}

export async function finish(
  k: KeyExchangeResult,
  version: number,
  hashSize: number,
  send: { clear: FinishSend; secured: FinishSend },
  signer?: FinishSigner,
): Promise<void> {
  const p = k.params;
  const head = { signatureIncluded: signer !== undefined, reqSlotId: signer?.slot ?? 0 };
  // Signed (mutual authentication): … ‖ K ‖ Ct_req ‖ FINISH up to its Signature; the verify data then covers the Signature too.
  const signature = signer?.sign(
    k.transcript.finishSignature(encodeFinish(version, { ...head, requesterVerifyData: new Uint8Array(0) })),
  );
  const withSignature = { ...head, ...(signature ? { signature } : {}) };
  const bare = encodeFinish(version, { ...withSignature, requesterVerifyData: new Uint8Array(0) });
  const rvd = verifyData(p, k.handshake.requestFinishedKey, k.transcript.requesterVerifyTranscript(bare).digest());
  const req = encodeFinish(version, { ...withSignature, requesterVerifyData: rvd });
  const via = k.inTheClear ? send.clear : send.secured;
  const resp = await via(req, ResponseCode.FINISH_RSP, (b) =>
    decodeFinishRsp(b, { hashSize, handshakeInTheClear: k.inTheClear }),
  );
  if (resp.responderVerifyData) {
    const without = resp.raw.subarray(0, resp.raw.length - hashSize);
    const t = k.transcript.finishRspVerifyTranscript(req, without).digest();
    if (!macEqual(verifyData(p, k.handshake.responseFinishedKey, t), resp.responderVerifyData)) {
      k.secure.end('FINISH_RSP ResponderVerifyData does not match');
      throw new SpdmError(
        'VERIFY_DATA_MISMATCH',
        'FINISH_RSP: ResponderVerifyData does not match the handshake secrets',
        {
          sessionId: k.secure.id,
          field: 'ResponderVerifyData',
        },
      );
    }
  }
  const th2 = k.transcript.th2(req, resp.raw).digest();
  k.secure.installData(deriveDataSecrets(p, k.handshake.handshakeSecret, th2));
  // Nothing derives from the handshake secret or the finished keys once the data keys are in.
  for (const b of [k.handshake.handshakeSecret, k.handshake.requestFinishedKey, k.handshake.responseFinishedKey])
    b.fill(0);
}
