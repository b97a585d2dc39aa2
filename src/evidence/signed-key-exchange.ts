/**
 * A KEY_EXCHANGE_RSP signature read from its transcript alone (A ‖ [D] ‖ Ct ‖ KEY_EXCHANGE ‖
 * KEY_EXCHANGE_RSP up to its Signature, spdm/key-exchange-transcript.ts): the VCA it begins with
 * (signed-analysis.ts compares it with the A of the connection's other signatures), Ct against the hash
 * of the chain the evidence records for the slot, the slot KEY_EXCHANGE named, the RandomData of
 * both messages at their places, the session ID the two halves make, the summary hash.
 */
import { equalBytes, toHex } from '../wire/bytes.js';
import { versionString } from '../spdm/codes.js';
import {
  sessionIdText,
  signedSessionId,
  splitKeyExchangeTranscript,
  type KeyExchangeTranscript,
} from '../spdm/key-exchange-transcript.js';
import type { SignatureEvidence } from './evidence.js';
import { checkStepVersions, signedNegotiation, transcriptBytes } from './signed-steps.js';
import type { RecordedChain, SignedAnalysis } from './signed-analysis.js';
import { recordedChainDigest } from './chain-digest.js';

export function analyseKeyExchangeSignature(
  chainOf: RecordedChain,
  s: SignatureEvidence,
  problems: string[],
  transcript?: Uint8Array,
): SignedAnalysis | undefined {
  let t: KeyExchangeTranscript;
  try {
    t = splitKeyExchangeTranscript(transcriptBytes(s, transcript), s.hashAlgo);
  } catch (err) {
    problems.push(`the signed transcript cannot be decoded: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  const kx = t.keyExchange;
  const rsp = t.response;
  checkStepVersions([...t.vca, ...(t.digests ? [t.digests] : [])], s.version, problems);
  if (kx.version !== s.version)
    problems.push(
      `KEY_EXCHANGE in the signed transcript is version ${versionString(kx.version)}, the signature was recorded as ${versionString(s.version)}`,
    );
  const negotiated = signedNegotiation(t.vca, s, problems);

  if (kx.slot !== s.slot)
    problems.push(`KEY_EXCHANGE asked slot ${kx.slot} to sign, the signature is recorded for slot ${s.slot}`);
  const chain = chainOf(s.slot);
  if (chain) {
    try {
      if (!equalBytes(recordedChainDigest(s.hashAlgo, chain), t.certChainHash))
        problems.push(
          s.slot === 0xff
            ? 'the public key recorded is not the one the device signed for (Ct differs)'
            : `the certificate chain recorded for slot ${s.slot} is not the one the device signed for (Ct differs)`,
        );
    } catch (err) {
      problems.push(`cannot hash the recorded chain: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // D is the device's own DIGESTS: the slot's digest there is the chain it then signed for.
  const dDigest = t.digests?.kind === 'DIGESTS' ? t.digests.msg.digests.find((d) => d.slot === s.slot) : undefined;
  if (dDigest && !equalBytes(dDigest.digest, t.certChainHash))
    problems.push(`the DIGESTS in the signed transcript gives slot ${s.slot} another digest than Ct`);

  const sessionId = sessionIdText(signedSessionId(t));
  if (s.sessionId === undefined) problems.push(`the signature records no session ID, the device signed ${sessionId}`);
  else if (s.sessionId !== sessionId)
    problems.push(`the session ID recorded (${s.sessionId}) is not the one signed (${sessionId})`);

  const msh = rsp.measurementSummaryHash ? toHex(rsp.measurementSummaryHash) : undefined;
  if (msh !== s.measurementSummaryHash)
    problems.push(
      `the measurement summary hash recorded (${s.measurementSummaryHash ?? 'none'}) is not the signed one (${msh ?? 'none'})`,
    );
  return {
    view: {
      sessionId,
      vca: toHex(t.vcaBytes),
      requesterNonce: toHex(kx.randomData),
      responderNonce: toHex(rsp.randomData),
      certChainHash: toHex(t.certChainHash),
      ...(negotiated ? { negotiated } : {}),
      measurementSummaryHashType: kx.measurementSummaryHashType,
      ...(msh !== undefined ? { measurementSummaryHash: msh } : {}),
    },
  };
}
