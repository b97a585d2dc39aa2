/**
 * A logged entry held to its signed transcript. The entry's side fields (nonces, requester
 * context, summary hash, algorithms, slot, kind, chain) are covered by the leaf hash, so a
 * consistent rewrite of entry, leaf hash and tree head by someone with the log key — or a
 * requester that recorded the wrong thing — would pass the tree checks. What the device signed is
 * the transcript; every side field must be what the transcript says, read where the codecs put it
 * (evidence/signed-analysis.ts, the reading the verifier uses), never found by a byte search:
 *
 * - the nonces and the requester context from the signed request and response;
 * - `kind` from the signed response (a relabelled entry is refused), the slot from the request;
 * - `asymAlgo`, `hashAlgo`, `measurementHashAlgo`, `measurementSpec`, `otherParams` from the
 *   ALGORITHMS response when the transcript holds the VCA (every M1, 1.2+ L1/L2, KEY_EXCHANGE_RSP);
 * - the chain: its hash must be CHALLENGE_AUTH's CertChainHash or KEY_EXCHANGE_RSP's Ct (L1/L2
 *   and IL1/IL2 hold no chain hash: a MEASUREMENTS or ENDPOINT_INFO entry's chain is bound by the
 *   leaf hash alone, and by the signature verifying with its key);
 * - each logged measurement block must be a block of a signed MEASUREMENTS response;
 * - the signing context is the kind's under the version.
 */
import { equalBytes, toHex } from '../wire/bytes.js';
import type { SignatureEvidence } from '../evidence/evidence.js';
import { analyseSignature, signedBlockBytes, type SignedView } from '../evidence/signed-analysis.js';
import { isSignedMessageKind } from '../evidence/signed-kinds.js';
import { splitEndpointInfoTranscript } from '../spdm/endpoint-info-transcript.js';
import type { OpeningLookup } from '../spdm/signed-transcript.js';
import { sessionIdText, signedSessionId, splitKeyExchangeTranscript } from '../spdm/key-exchange-transcript.js';
import type { LogEntry } from './entry.js';
import type { ProblemCode } from './verify-types.js';

export interface TranscriptProblem {
  readonly code: Extract<
    ProblemCode,
    'NOT_IN_TRANSCRIPT' | 'TRANSCRIPT_MISMATCH' | 'CONTEXT_MISMATCH' | 'KIND_UNKNOWN'
  >;
  readonly fields: readonly string[];
  readonly message: string;
}

/**
 * Which entry column an analysis problem is about, from the analysis' wording (its messages name
 * the field they compare). Order matters: the first match wins.
 */
const PROBLEM_FIELDS: readonly [RegExp, TranscriptProblem['code'], readonly string[]][] = [
  [/signing context|have no signing context/, 'CONTEXT_MISMATCH', ['kind', 'context']],
  [/requester nonce/, 'NOT_IN_TRANSCRIPT', ['requester_nonce']],
  [/responder nonce/, 'NOT_IN_TRANSCRIPT', ['responder_nonce']],
  [/requester context/, 'NOT_IN_TRANSCRIPT', ['requester_context']],
  [/measurement summary hash/, 'NOT_IN_TRANSCRIPT', ['meas_summary_hash']],
  [
    /certificate chain recorded|public key recorded|cannot hash the recorded chain|another digest than Ct/,
    'TRANSCRIPT_MISMATCH',
    ['chain_digest'],
  ],
  [/BaseAsymAlgo/, 'TRANSCRIPT_MISMATCH', ['asym_algo']],
  [/BaseHashAlgo/, 'TRANSCRIPT_MISMATCH', ['hash_algo']],
  [/recorded as .* but the device signed|does not end with/, 'TRANSCRIPT_MISMATCH', ['kind']],
  [/slot/, 'TRANSCRIPT_MISMATCH', ['slot']],
  [/version/, 'TRANSCRIPT_MISMATCH', ['version']],
];

function classify(problem: string): Pick<TranscriptProblem, 'code' | 'fields'> {
  for (const [re, code, fields] of PROBLEM_FIELDS) if (re.test(problem)) return { code, fields };
  return { code: 'TRANSCRIPT_MISMATCH', fields: ['transcript'] };
}

/**
 * The hex of the entry's transcript, its hash and its signature, made only if something reads
 * them: the analysis takes the transcript's bytes as they are, and hex of a transcript (a
 * certificate chain read in portions) per entry was a share of log verification. Accessors on a
 * prototype rather than in each record's literal, which made every record a slow object.
 */
class LoggedSignature {
  constructor(private readonly entry: LogEntry) {}
  get transcript(): string {
    return toHex(this.entry.transcript);
  }
  get transcriptHash(): string {
    return toHex(this.entry.transcriptHash);
  }
  get signature(): string {
    return toHex(this.entry.signature);
  }
}

/** The entry as the evidence's signature record it was made from. */
function asSignature(e: LogEntry & { kind: SignatureEvidence['kind'] }): SignatureEvidence {
  let sessionId: string | undefined;
  let epInfo: string | undefined;
  // The log stores neither the session ID nor the EPInfo: each is in the signed transcript, so take it from there.
  try {
    if (e.kind === 'KEY_EXCHANGE_RSP')
      sessionId = sessionIdText(signedSessionId(splitKeyExchangeTranscript(e.transcript, e.hashAlgo)));
    if (e.kind === 'ENDPOINT_INFO')
      epInfo = toHex(splitEndpointInfoTranscript(e.transcript, e.hashAlgo).response.epInfo);
  } catch {
    // The analysis reports the undecodable transcript.
  }
  const s = new LoggedSignature(e) as unknown as { -readonly [K in keyof SignatureEvidence]: SignatureEvidence[K] };
  s.kind = e.kind;
  s.slot = e.slot;
  s.version = e.version;
  s.asymAlgo = e.asymAlgo;
  s.hashAlgo = e.hashAlgo;
  s.context = e.context;
  s.requesterNonce = toHex(e.requesterNonce);
  s.responderNonce = toHex(e.responderNonce);
  if (e.requesterContext) s.requesterContext = toHex(e.requesterContext);
  if (e.measurementSummaryHash) s.measurementSummaryHash = toHex(e.measurementSummaryHash);
  if (sessionId) s.sessionId = sessionId;
  if (epInfo !== undefined) s.epInfo = epInfo;
  s.verified = e.verified;
  return s;
}

/** The negotiation fields of the entry against the signed ALGORITHMS (when the transcript holds it). */
function negotiationProblems(e: LogEntry, v: SignedView): TranscriptProblem[] {
  const n = v.negotiated;
  if (!n) return [];
  const out: TranscriptProblem[] = [];
  const pairs: [string, string, number, number][] = [
    ['meas_hash_algo', 'MeasurementHashAlgo', e.measurementHashAlgo, n.measurementHash],
    ['meas_spec', 'MeasurementSpecificationSel', e.measurementSpec, n.measurementSpec],
    ['other_params', 'OtherParamsSelection', e.otherParams, n.otherParams],
  ];
  for (const [column, name, recorded, signed] of pairs)
    if (recorded !== signed)
      out.push({
        code: 'TRANSCRIPT_MISMATCH',
        fields: [column],
        message: `the signed ALGORITHMS selected ${name} 0x${signed.toString(16)}, the entry records 0x${recorded.toString(16)}`,
      });
  return out;
}

/**
 * Each logged block must be one a signed MEASUREMENTS response carries, compared as bytes (the
 * lean analysis holds them; a response carries a handful of blocks, so a scan beats hashing hex).
 */
function blockProblems(e: LogEntry, v: SignedView): TranscriptProblem[] {
  const signed = v.blocks.map((b) => signedBlockBytes(b) ?? Buffer.from(b.block, 'hex'));
  const out: TranscriptProblem[] = [];
  e.measurements.forEach((b, k) => {
    if (!signed.some((s) => equalBytes(s, b)))
      out.push({
        code: 'NOT_IN_TRANSCRIPT',
        fields: ['measurements'],
        message: `measurement block ${k} is not a block of a signed MEASUREMENTS response`,
      });
  });
  return out;
}

/** Hex of each recorded chain, made once: thousands of entries share a chain (the checker holds one array per chain). */
const chainHexes = new WeakMap<Uint8Array, string>();
function chainHexOf(chain: Uint8Array): string {
  let hex = chainHexes.get(chain);
  if (hex === undefined) {
    hex = toHex(chain);
    chainHexes.set(chain, hex);
  }
  return hex;
}

/**
 * Every way the entry's fields disagree with its signed transcript. `chain` is the recorded SPDM
 * certificate chain (undefined when there is none to bind). A kind this verifier does not know
 * cannot be read, so none of its side fields is bound to what was signed: KIND_UNKNOWN, an error
 * like the others (import refuses it, verify fails), never an entry taken on trust. `openings`:
 * where transcript openings already decoded are kept (log verification), and which to try.
 */
export function entryTranscriptProblems(
  e: LogEntry,
  chain: Uint8Array | undefined,
  openings?: OpeningLookup,
): TranscriptProblem[] {
  if (!isSignedMessageKind(e.kind))
    return [
      {
        code: 'KIND_UNKNOWN',
        fields: ['kind'],
        message: `kind "${e.kind}" is not a signed message this verifier knows`,
      },
    ];
  const entry = e as LogEntry & { kind: SignatureEvidence['kind'] };
  const chainHex = chain ? chainHexOf(chain) : undefined;
  // The signature itself is checked by the caller (worker threads, shared key cache).
  const view = analyseSignature(() => chainHex, asSignature(entry), 0, { ok: true }, e.transcript, openings, true);
  const out: TranscriptProblem[] = view.problems.map((p) => ({ ...classify(p), message: p }));
  out.push(...negotiationProblems(e, view), ...blockProblems(e, view));
  return out;
}
