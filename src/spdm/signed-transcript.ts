/**
 * A signed transcript (the M1 of a CHALLENGE_AUTH or the L1/L2 of a MEASUREMENTS, as Evidence
 * records it) split back into its messages with the codecs. The verifier reads what was signed
 * from it, and the signature log the measurement blocks a signature covers.
 */
import { LIMITS } from '../wire/limits.js';
import { SpdmError } from '../wire/errors.js';
import { codeName, isRequestCode, RequestCode, ResponseCode } from './codes.js';
import { peekHeader } from './header.js';
import { ConversationDecoder, type DecodedSpdmMessage } from './conversation.js';

/** One message of a signed transcript, with its code and version. */
export type SignedTranscriptStep = DecodedSpdmMessage & { readonly code: number; readonly version: number };

/** Most messages a signed transcript may hold (a chain read in 64-byte portions is ~2000). */
const MAX_TRANSCRIPT_MESSAGES = LIMITS.transcriptMessages;

/** What M1 (CHALLENGE_AUTH) and L (MEASUREMENTS) transcripts are made of. */
const TRANSCRIPT_CODES: ReadonlySet<number> = new Set([
  RequestCode.GET_VERSION,
  ResponseCode.VERSION,
  RequestCode.GET_CAPABILITIES,
  ResponseCode.CAPABILITIES,
  RequestCode.NEGOTIATE_ALGORITHMS,
  ResponseCode.ALGORITHMS,
  RequestCode.GET_DIGESTS,
  ResponseCode.DIGESTS,
  RequestCode.GET_CERTIFICATE,
  ResponseCode.CERTIFICATE,
  RequestCode.CHALLENGE,
  ResponseCode.CHALLENGE_AUTH,
  RequestCode.GET_MEASUREMENTS,
  ResponseCode.MEASUREMENTS,
]);

/** The VCA messages: A, where M1, 1.2+ L1/L2 and every session transcript begin. */
export const VCA_MESSAGE_CODES: ReadonlySet<number> = new Set([
  RequestCode.GET_VERSION,
  ResponseCode.VERSION,
  RequestCode.GET_CAPABILITIES,
  ResponseCode.CAPABILITIES,
  RequestCode.NEGOTIATE_ALGORITHMS,
  ResponseCode.ALGORITHMS,
]);

/** Bytes of A at the start of `steps` (0 when they do not begin with GET_VERSION). */
export function vcaLength(steps: readonly SignedTranscriptStep[]): number {
  if (steps[0]?.code !== RequestCode.GET_VERSION) return 0;
  let n = 0;
  for (const st of steps) {
    if (!VCA_MESSAGE_CODES.has(st.code)) break;
    n += st.msg.raw.length;
  }
  return n;
}

/**
 * Splits a signed transcript into its messages, decoding them in order with the conversation
 * decoder (what the VCA negotiated and what each request asked for shape the responses), the
 * signature's hash algorithm standing in for an ALGORITHMS the transcript does not hold (1.0/1.1 L).
 */
export function splitTranscript(bytes: Uint8Array, hashAlgo: number): SignedTranscriptStep[] {
  const decoder = new ConversationDecoder({ baseHashAlgo: hashAlgo }, { signatures: 'omitted' });
  const steps: SignedTranscriptStep[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (steps.length >= MAX_TRANSCRIPT_MESSAGES)
      throw new SpdmError('DECODE_ERROR', `more than ${MAX_TRANSCRIPT_MESSAGES} messages`);
    const rest = bytes.subarray(off);
    const h = peekHeader(rest);
    if (!TRANSCRIPT_CODES.has(h.code)) {
      throw new SpdmError(
        'DECODE_ERROR',
        `${codeName(h.code)} (0x${h.code.toString(16)}) at byte ${off} has no place in a signed transcript`,
      );
    }
    // TRANSCRIPT_CODES all have codecs: a message without one is a DecodeError there, never returned.
    const d = decoder.nextMessage(isRequestCode(h.code) ? 'request' : 'response', rest);
    steps.push({ kind: d.kind, msg: d.msg, code: h.code, version: h.version } as SignedTranscriptStep);
    off += d.msg.raw.length;
  }
  return steps;
}
