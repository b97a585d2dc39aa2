/**
 * A signed ENDPOINT_INFO read from its transcript alone (IL1/IL2 = A ‖ GET_ENDPOINT_INFO ‖
 * ENDPOINT_INFO up to its Signature, spdm/endpoint-info-transcript.ts): the VCA it begins with
 * (signed-analysis.ts compares it with the A of the connection's other signatures), the Nonce of
 * both messages at their places, the slot the request named and the response answers for, and
 * the EPInfo the record carries against the one signed. IL holds no chain hash: the chain is bound
 * by the leaf key the signature verifies with, nothing else.
 */
import { toHex } from '../wire/bytes.js';
import { versionString } from '../spdm/codes.js';
import { splitEndpointInfoTranscript, type EndpointInfoTranscript } from '../spdm/endpoint-info-transcript.js';
import type { SignatureEvidence } from './evidence.js';
import { checkStepVersions, signedNegotiation, transcriptBytes } from './signed-steps.js';
import type { RecordedChain, SignedAnalysis } from './signed-analysis.js';

export function analyseEndpointInfoSignature(
  _chainOf: RecordedChain,
  s: SignatureEvidence,
  problems: string[],
  transcript?: Uint8Array,
): SignedAnalysis | undefined {
  let t: EndpointInfoTranscript;
  try {
    t = splitEndpointInfoTranscript(transcriptBytes(s, transcript), s.hashAlgo);
  } catch (err) {
    problems.push(`the signed transcript cannot be decoded: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  const { request: req, response: rsp } = t;
  checkStepVersions(t.vca, s.version, problems);
  for (const [name, m] of [
    ['GET_ENDPOINT_INFO', req],
    ['ENDPOINT_INFO', rsp],
  ] as const)
    if (m.version !== s.version)
      problems.push(
        `${name} in the signed transcript is version ${versionString(m.version)}, the signature was recorded as ${versionString(s.version)}`,
      );
  const negotiated = signedNegotiation(t.vca, s, problems);
  if (!req.signatureRequested || !req.nonce) {
    problems.push('the signed ENDPOINT_INFO does not answer a GET_ENDPOINT_INFO that asked for a signature');
    return undefined;
  }
  if (!rsp.nonce) {
    problems.push('the signed ENDPOINT_INFO carries no Nonce');
    return undefined;
  }
  if (req.slot !== s.slot)
    problems.push(`GET_ENDPOINT_INFO asked slot ${req.slot} to sign, the signature is recorded for slot ${s.slot}`);
  if (rsp.slot !== req.slot)
    problems.push(`the signed ENDPOINT_INFO answers for slot ${rsp.slot}, slot ${req.slot} was asked`);
  const epInfo = toHex(rsp.epInfo);
  if (s.epInfo === undefined) problems.push(`the signature records no EPInfo, the device signed ${short(epInfo)}`);
  else if (s.epInfo.toLowerCase() !== epInfo)
    problems.push(`the EPInfo recorded (${short(s.epInfo)}) is not the one signed (${short(epInfo)})`);
  return {
    view: {
      vca: toHex(t.vcaBytes),
      requesterNonce: toHex(req.nonce),
      responderNonce: toHex(rsp.nonce),
      ...(negotiated ? { negotiated } : {}),
      epInfo,
    },
  };
}

function short(hex: string): string {
  return hex.length > 40 ? `${hex.slice(0, 36)}…` : hex || '(empty)';
}
