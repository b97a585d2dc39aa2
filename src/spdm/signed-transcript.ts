/**
 * A signed transcript (the M1 of a CHALLENGE_AUTH or the L1/L2 of a MEASUREMENTS, as Evidence
 * records it) split back into its messages with the codecs. The verifier reads what was signed
 * from it, and the signature log the measurement blocks a signature covers.
 */
import { LIMITS } from '../wire/limits.js';
import { SpdmError } from '../wire/errors.js';
import { codeName, isRequestCode, RequestCode, ResponseCode } from './codes.js';
import { peekHeader } from './header.js';
import { equalBytes } from '../wire/bytes.js';
import { ConversationDecoder, type ConversationState, type DecodedSpdmMessage } from './conversation.js';

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
export function splitTranscript(bytes: Uint8Array, hashAlgo: number, openings?: OpeningLookup): SignedTranscriptStep[] {
  const hit = openings?.cache.find(openings.hint, bytes, hashAlgo);
  const decoder = new ConversationDecoder(hit ? hit.state : { baseHashAlgo: hashAlgo }, { signatures: 'omitted' });
  const steps: SignedTranscriptStep[] = hit ? hit.steps.slice() : [];
  let off = hit ? hit.bytes.length : 0;
  // Where the last request began, and the decoder's state there: the opening a miss leaves behind.
  let lastRequest: { off: number; steps: number; state: Readonly<ConversationState> } | undefined;
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
    const request = isRequestCode(h.code);
    if (openings && !hit && request) lastRequest = { off, steps: steps.length, state: decoder.state };
    // TRANSCRIPT_CODES all have codecs: a message without one is a DecodeError there, never returned.
    const d = decoder.nextMessage(request ? 'request' : 'response', rest);
    steps.push({ kind: d.kind, msg: d.msg, code: h.code, version: h.version } as SignedTranscriptStep);
    off += d.msg.raw.length;
  }
  // Everything before the last request (the final request and response carry the fresh nonces).
  if (openings && lastRequest && lastRequest.off > 0)
    openings.cache.add(openings.hint, {
      bytes: bytes.slice(0, lastRequest.off),
      hashAlgo,
      steps: Object.freeze(steps.slice(0, lastRequest.steps)),
      state: lastRequest.state,
    });
  return steps;
}

/** Where to look for an opening already decoded: the cache, and the caller's guess of which openings may match. */
export interface OpeningLookup {
  readonly cache: TranscriptOpenings;
  /**
   * Which candidates to compare against (e.g. the certificate chain and kind of a log entry).
   * Only narrows the search: an opening is used only when its bytes are the transcript's first
   * bytes, compared in full, so a wrong hint costs a miss and never a wrong result.
   */
  readonly hint: string;
}

interface Opening {
  /** The opening's bytes (a copy): a transcript must begin with exactly these to use it. */
  readonly bytes: Uint8Array;
  readonly hashAlgo: number;
  /** Its messages, decoded; shared by every transcript that begins with it, so never changed. */
  readonly steps: readonly SignedTranscriptStep[];
  /** The decoder's state after them. */
  readonly state: Readonly<ConversationState>;
}

/**
 * Decoded openings of signed transcripts: every message but the last request and its response.
 * A device's transcripts repeat the same opening (the VCA, the DIGESTS and the certificate chain
 * read in portions) before the request and response that carry the fresh nonces, and a signature
 * log verified holds thousands of them; decoding each opening once per distinct byte string
 * spares most of the decoding. Safe because each message of a transcript is self-delimiting and
 * decoded from its own bytes and the state the messages before it left: the same first bytes
 * decode to the same messages and the same state whatever follows them.
 *
 * The key is the opening's bytes themselves, compared in full on every use. Bounded in openings
 * per hint, in openings, and in bytes held (the oldest forgotten first).
 */
export class TranscriptOpenings {
  private readonly byHint = new Map<string, Opening[]>();
  private count = 0;
  private held = 0;

  constructor(
    private readonly maxOpenings = 1024,
    private readonly maxBytes = 16 * 1024 * 1024,
    private readonly perHint = 4,
  ) {}

  /** Openings held now. */
  get size(): number {
    return this.count;
  }

  /** An opening `bytes` begins with (shorter than `bytes`), decoded under `hashAlgo`. */
  find(hint: string, bytes: Uint8Array, hashAlgo: number): Opening | undefined {
    const list = this.byHint.get(hint);
    if (!list) return undefined;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const o of list) {
      const n = o.bytes.length;
      if (o.hashAlgo === hashAlgo && n < bytes.length && view.compare(o.bytes, 0, n, 0, n) === 0) return o;
    }
    return undefined;
  }

  add(hint: string, o: Opening): void {
    // Steps are views into the transcript they were decoded from: count that, not only the copy.
    const cost = 2 * o.bytes.length;
    if (cost > this.maxBytes) return;
    let list = this.byHint.get(hint);
    if (!list) {
      list = [];
      this.byHint.set(hint, list);
    }
    if (list.some((x) => x.hashAlgo === o.hashAlgo && equalBytes(x.bytes, o.bytes))) return;
    list.unshift(o);
    this.count++;
    this.held += cost;
    if (list.length > this.perHint) this.drop(list, list.length - 1);
    while (this.count > this.maxOpenings || this.held > this.maxBytes) {
      const oldest = this.byHint.entries().next();
      if (oldest.done) break;
      const [h, l] = oldest.value;
      this.drop(l, l.length - 1);
      if (l.length === 0) this.byHint.delete(h);
    }
    if (list.length === 0) this.byHint.delete(hint);
  }

  private drop(list: Opening[], i: number): void {
    const [o] = list.splice(i, 1);
    if (!o) return;
    this.count--;
    this.held -= 2 * o.bytes.length;
  }
}
