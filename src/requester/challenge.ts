/**
 * CHALLENGE / CHALLENGE_AUTH: the device signs M1 (VCA, B, C) over our nonce with the leaf key of
 * the challenged slot, which proves it holds that key. The response must name the slot, hash the
 * chain we read from it, echo the 1.3 RequesterContext and bring a fresh nonce of its own.
 */
import { equalBytes } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { decodeChallengeAuth, encodeChallenge } from '../spdm/messages/challenge.js';
import type { SignatureEvidence } from '../evidence/evidence.js';
import type { RequestContext } from './connection.js';
import { checkOpaque, verifiedSignatureOn } from './proof.js';

/**
 * @param basicMutualAuth runs the encapsulated flow when CHALLENGE_AUTH sets BasicMutAuthReq
 *   (1.1+, deprecated from 1.2): given only when we offered MUT_AUTH_CAP with an identity; a device
 *   asking for it otherwise is refused, as libspdm refuses it.
 */
export async function challenge(
  ctx: RequestContext,
  slot: number,
  measurementSummaryHashType: number,
  basicMutualAuth?: () => Promise<void>,
): Promise<SignatureEvidence> {
  const c = ctx.connection;
  if ((c.capabilities.flags & CapabilityFlag.CHAL) === 0)
    throw new SpdmError('UNSUPPORTED', 'device does not support CHALLENGE (CHAL_CAP)');
  const signer = ctx.signer(slot);
  ctx.transcript.request(RequestCode.CHALLENGE);
  const nonce = ctx.nonce();
  const context = ctx.requesterContext();
  const req = encodeChallenge(c.version, {
    slot,
    measurementSummaryHashType,
    nonce,
    ...(context ? { requesterContext: context } : {}),
  });
  const resp = await ctx.send(req, ResponseCode.CHALLENGE_AUTH, 'T2', (b) =>
    decodeChallengeAuth(b, {
      hashSize: c.hashSize,
      signatureSize: c.signatureSize,
      measurementSummaryHashRequested: measurementSummaryHashType !== 0,
    }),
  );
  if (resp.slot !== slot)
    throw new SpdmError('UNEXPECTED_RESPONSE', `CHALLENGE_AUTH: slot ${resp.slot}, challenged slot ${slot}`);
  // SlotMask lists certificate slots: the provisioned public key (0xFF) is none of them (libspdm sends 0 and does not look).
  if (slot !== 0xff && !(resp.slotMask & (1 << slot)))
    throw new SpdmError(
      'UNEXPECTED_RESPONSE',
      `CHALLENGE_AUTH: SlotMask 0x${resp.slotMask.toString(16)} lacks slot ${slot}`,
    );
  if (!equalBytes(signer.chainHash, resp.certChainHash))
    throw new SpdmError(
      'DIGEST_MISMATCH',
      slot === 0xff
        ? 'CHALLENGE_AUTH: CertChainHash is not the hash of the provisioned public key'
        : `CHALLENGE_AUTH: CertChainHash does not match slot ${slot}'s chain`,
      { slot },
    );
  ctx.responderNonces.check(resp.nonce, nonce, 'CHALLENGE_AUTH');
  if (context && (!resp.requesterContext || !equalBytes(context, resp.requesterContext)))
    throw new SpdmError('CONTEXT_MISMATCH', 'CHALLENGE_AUTH: RequesterContext not echoed');
  checkOpaque(c, resp.opaqueData, 'CHALLENGE_AUTH');
  if (resp.basicMutAuthRequested && !basicMutualAuth)
    throw new SpdmError(
      'UNEXPECTED_RESPONSE',
      'CHALLENGE_AUTH asks for basic mutual authentication, which we did not offer (MUT_AUTH_CAP and a requester identity)',
    );
  const m1 = ctx.transcript.m1(req, resp.unsigned);
  // CHALLENGE_AUTH consumes B and C whether or not its signature verifies: the next M1 starts after it.
  ctx.transcript.endChallenge();
  const checked = verifiedSignatureOn(ctx.threadpoolChecks, c, signer.leafKey, slot, m1, resp.signature, {
    requesterNonce: nonce,
    responderNonce: resp.nonce,
    ...(context ? { requesterContext: context } : {}),
    ...(resp.measurementSummaryHash ? { measurementSummaryHash: resp.measurementSummaryHash } : {}),
  });
  // Checked on this thread, the record is here already: awaiting it would still cost a hop.
  const evidence = checked instanceof Promise ? await checked : checked;
  // The device's proof is checked first; only then do we prove ourselves to it.
  if (resp.basicMutAuthRequested && basicMutualAuth) await basicMutualAuth();
  return evidence;
}
