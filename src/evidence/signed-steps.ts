/**
 * Checks every kind's transcript analysis shares (signed-analysis.ts): the message versions, and
 * the negotiation the signed ALGORITHMS records.
 */
import { codeName, RequestCode, ResponseCode, versionString } from '../spdm/codes.js';
import type { SignedTranscriptStep as Step } from '../spdm/signed-transcript.js';
import type { SignatureEvidence } from './evidence.js';
import type { SignedNegotiation } from './signed-analysis.js';
import { fromHex } from '../wire/bytes.js';

/**
 * A signature's transcript as bytes: the caller's when it holds them (the log stores bytes, the
 * verifier decoded them to re-verify), else decoded here, inside the analyser's guard so that bad
 * hex is a problem like any undecodable transcript.
 */
export function transcriptBytes(s: SignatureEvidence, transcript: Uint8Array | undefined): Uint8Array {
  return transcript ?? fromHex(s.transcript);
}

/** GET_VERSION and VERSION are 1.0 whatever was negotiated. */
const VERSION_CODES: ReadonlySet<number> = new Set([RequestCode.GET_VERSION, ResponseCode.VERSION]);

/** Every SignedTranscriptStep's version: the VCA's GET_VERSION/VERSION are 1.0, the rest the signature's version. */
export function checkStepVersions(steps: readonly Step[], version: number, problems: string[]): void {
  for (const st of steps) {
    const want = VERSION_CODES.has(st.code) ? 0x10 : version;
    if (st.version !== want) {
      problems.push(
        `${codeName(st.code)} in the signed transcript is version ${versionString(st.version)}, the signature was recorded as ${versionString(version)}`,
      );
      return;
    }
  }
}

/** The negotiation the signed ALGORITHMS records (when the transcript holds it), checked against the signature's algorithms. */
export function signedNegotiation(
  steps: readonly Step[],
  s: SignatureEvidence,
  problems: string[],
): SignedNegotiation | undefined {
  const alg = steps.find((st): st is Extract<Step, { kind: 'ALGORITHMS' }> => st.kind === 'ALGORITHMS');
  if (!alg) return undefined;
  const a = alg.msg;
  if (a.baseAsym !== s.asymAlgo)
    problems.push(
      `the device negotiated BaseAsymAlgo 0x${a.baseAsym.toString(16)}, the signature is recorded as 0x${s.asymAlgo.toString(16)}`,
    );
  if (a.baseHash !== s.hashAlgo)
    problems.push(
      `the device negotiated BaseHashAlgo 0x${a.baseHash.toString(16)}, the signature is recorded as 0x${s.hashAlgo.toString(16)}`,
    );
  return {
    version: alg.version,
    baseAsym: a.baseAsym,
    baseHash: a.baseHash,
    measurementHash: a.measurementHash,
    measurementSpec: a.measurementSpec,
    otherParams: a.otherParams,
  };
}
