/**
 * PSK_FINISH / PSK_FINISH_RSP (responder PSK_CAP 10b only): inside the session under the
 * handshake keys, the requester proves it holds the PSK with RequesterVerifyData =
 * HMAC(req finished key, Hash(A ‖ PSK_EXCHANGE ‖ PSK_EXCHANGE_RSP ‖ PSK_FINISH without it)).
 * TH2 (… ‖ PSK_FINISH ‖ PSK_FINISH_RSP) then gives the data keys.
 */
import { ResponseCode } from '../spdm/codes.js';
import { decodePskFinishRsp, encodePskFinish } from '../spdm/messages/psk.js';
import { deriveDataSecrets, verifyData } from '../session/key-schedule.js';
import type { FinishSend } from './finish.js';
import type { PskExchangeResult } from './psk-exchange.js';

export async function pskFinish(k: PskExchangeResult, version: number, send: FinishSend): Promise<void> {
  const p = k.params;
  const bare = encodePskFinish(version, { requesterVerifyData: new Uint8Array(0) });
  const rvd = verifyData(p, k.handshake.requestFinishedKey, k.transcript.requesterVerifyTranscript(bare).digest());
  const req = encodePskFinish(version, { requesterVerifyData: rvd });
  const resp = await send(req, ResponseCode.PSK_FINISH_RSP, decodePskFinishRsp);
  k.secure.installData(deriveDataSecrets(p, k.handshake.handshakeSecret, k.transcript.th2(req, resp.raw).digest()));
  // Nothing derives from the handshake secret or the finished keys once the data keys are in.
  for (const b of [k.handshake.handshakeSecret, k.handshake.requestFinishedKey, k.handshake.responseFinishedKey])
    b.fill(0);
}
