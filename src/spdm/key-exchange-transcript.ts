/**
 * The transcript a KEY_EXCHANGE_RSP signature covers, as Evidence records it, split back into its
 * parts (session-transcript.ts holds the rule that builds it):
 *
 *   A (GET_VERSION .. ALGORITHMS) ‖ [D] ‖ Ct ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP up to its Signature
 *
 * D is the first DIGESTS of a 1.3 multi-key connection (present only when NEGOTIATE_ALGORITHMS
 * asked for one, and only when that DIGESTS was read before KEY_EXCHANGE; never for slot 0xFF),
 * Ct is Hash(the SPDM certificate chain) — bare hash bytes, not a message. What the VCA
 * negotiated sizes the rest: the hash (Ct, the summary hash), the DHE group (ExchangeData), the
 * responder's MEAS_CAP (whether KEY_EXCHANGE_RSP may carry a summary hash).
 */
import { DecodeError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from './codes.js';
import { ConversationDecoder } from './conversation.js';
import { peekHeader } from './header.js';
import { MEAS_CAP_MASK } from './messages/capabilities.js';
import { decodeKeyExchangeRsp, type KeyExchangeRequest, type KeyExchangeResponse } from './messages/key-exchange.js';
import { VCA_MESSAGE_CODES, type SignedTranscriptStep } from './signed-transcript.js';

const NAME = 'KEY_EXCHANGE_RSP transcript';

const VCA_CODES = VCA_MESSAGE_CODES;

export interface KeyExchangeTranscript {
  /** The VCA messages (A), in order. */
  readonly vca: readonly SignedTranscriptStep[];
  /** A's bytes, to compare with the A of the connection's other signatures. */
  readonly vcaBytes: Uint8Array;
  /** D (a DIGESTS response), when the transcript holds one. */
  readonly digests?: SignedTranscriptStep;
  /** Ct: Hash(the certificate chain of the slot KEY_EXCHANGE names). */
  readonly certChainHash: Uint8Array;
  readonly keyExchange: KeyExchangeRequest;
  /** Byte offset of KEY_EXCHANGE in the transcript. */
  readonly keyExchangeOffset: number;
  /** KEY_EXCHANGE_RSP without Signature (and so without ResponderVerifyData). */
  readonly response: KeyExchangeResponse;
  readonly responseOffset: number;
}

/** Offsets of the RandomData fields: KEY_EXCHANGE has ReqSessionID, SessionPolicy, Reserved after the header; the response RspSessionID, MutAuthRequested, ReqSlotIDParam. */
export const KEY_EXCHANGE_RANDOM_OFFSET = 8;
export const KEY_EXCHANGE_RSP_RANDOM_OFFSET = 8;

/** The session the two halves make (DSP0277: RspSessionID in the high half, ReqSessionID in the low), as signed. */
export function signedSessionId(t: KeyExchangeTranscript): number {
  return ((t.response.rspSessionId << 16) | t.keyExchange.reqSessionId) >>> 0;
}

/** A SessionID as Evidence writes it: 0x and 8 hex digits. */
export function sessionIdText(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Splits a KEY_EXCHANGE_RSP signed transcript. `hashAlgo` is the signature's hash (Ct's size,
 * until ALGORITHMS in A names it). Throws DecodeError naming the part that does not decode.
 */
export function splitKeyExchangeTranscript(bytes: Uint8Array, hashAlgo: number): KeyExchangeTranscript {
  const decoder = new ConversationDecoder({ baseHashAlgo: hashAlgo }, { signatures: 'omitted' });
  const vca: SignedTranscriptStep[] = [];
  let off = 0;
  while (off < bytes.length && vca.length < VCA_CODES.size) {
    const h = peekHeader(bytes.subarray(off));
    if (!VCA_CODES.has(h.code)) break;
    const d = decoder.next(h.code & 0x80 ? 'request' : 'response', bytes.subarray(off));
    if (d.kind === 'other') throw new DecodeError(NAME, 'A', off, `${d.name} has no codec`);
    vca.push({ ...d, code: h.code, version: h.version });
    off += d.msg.raw.length;
  }
  if (vca[0]?.code !== RequestCode.GET_VERSION || vca.at(-1)?.code !== ResponseCode.ALGORITHMS)
    throw new DecodeError(NAME, 'A', off, 'the transcript does not start with the VCA (GET_VERSION .. ALGORITHMS)');
  const vcaEnd = off;
  const state = decoder.state;
  const hashSize = decoder.hashSize;
  if (hashSize === undefined) throw new DecodeError(NAME, 'Ct', off, 'ALGORITHMS selected no hash this verifier knows');
  const withD = state.multiKeyConnRsp && off + 2 <= bytes.length && bytes[off + 1] === ResponseCode.DIGESTS;
  // D is there only if the requester read DIGESTS first; a Ct that happens to start like a
  // DIGESTS header is told apart by the rest not decoding.
  const attempts = withD ? [true, false] : [false];
  let firstError: unknown;
  for (const d of attempts) {
    try {
      return rest(bytes, vcaEnd, d, hashSize, vca, decoder, state.responderFlags ?? 0);
    } catch (e) {
      firstError ??= e;
    }
  }
  throw firstError;
}

function rest(
  bytes: Uint8Array,
  vcaEnd: number,
  withD: boolean,
  hashSize: number,
  vca: readonly SignedTranscriptStep[],
  vcaDecoder: ConversationDecoder,
  responderFlags: number,
): KeyExchangeTranscript {
  // A fresh decoder at the VCA's state, so that a failed attempt with D leaves nothing behind.
  const decoder = new ConversationDecoder(vcaDecoder.state, { signatures: 'omitted' });
  let off = vcaEnd;
  let digests: SignedTranscriptStep | undefined;
  if (withD) {
    const h = peekHeader(bytes.subarray(off));
    const d = decoder.next('response', bytes.subarray(off));
    if (d.kind !== 'DIGESTS') throw new DecodeError(NAME, 'D', off, 'not a DIGESTS response');
    digests = { ...d, code: h.code, version: h.version };
    off += d.msg.raw.length;
  }
  if (off + hashSize > bytes.length) throw new DecodeError(NAME, 'Ct', off, `${hashSize} bytes expected`);
  const certChainHash = bytes.slice(off, off + hashSize);
  off += hashSize;
  const keyExchangeOffset = off;
  if (off + 4 > bytes.length || bytes[off + 1] !== RequestCode.KEY_EXCHANGE)
    throw new DecodeError(NAME, 'KEY_EXCHANGE', off, 'KEY_EXCHANGE expected after Ct');
  const kx = decoder.next('request', bytes.subarray(off));
  if (kx.kind !== 'KEY_EXCHANGE') throw new DecodeError(NAME, 'KEY_EXCHANGE', off, 'not a KEY_EXCHANGE request');
  off += kx.msg.raw.length;
  const responseOffset = off;
  const sizes = decoder.exchangeDataSizes;
  if (!sizes) throw new DecodeError(NAME, 'KEY_EXCHANGE_RSP', off, 'ALGORITHMS selected no DHE group');
  // The signed part ends before Signature: no signature and no ResponderVerifyData to read.
  const response = decodeKeyExchangeRsp(bytes.subarray(off), {
    hashSize,
    signatureSize: 0,
    exchangeDataSize: sizes.response,
    measurementSummaryHashPresent: kx.msg.measurementSummaryHashType !== 0 && (responderFlags & MEAS_CAP_MASK) !== 0,
    handshakeInTheClear: true,
  });
  off += response.raw.length;
  if (off !== bytes.length)
    throw new DecodeError(
      NAME,
      'KEY_EXCHANGE_RSP',
      off,
      `${bytes.length - off} bytes after the signed part of KEY_EXCHANGE_RSP`,
    );
  if (response.version !== kx.msg.version)
    throw new DecodeError(NAME, 'KEY_EXCHANGE_RSP', responseOffset + 0, 'version differs from KEY_EXCHANGE');
  return {
    vca,
    vcaBytes: bytes.slice(0, vcaEnd),
    ...(digests ? { digests } : {}),
    certChainHash,
    keyExchange: kx.msg,
    keyExchangeOffset,
    response,
    responseOffset,
  };
}
