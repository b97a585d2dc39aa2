/**
 * The transcript a signed ENDPOINT_INFO covers (IL1/IL2, DSP0274 1.3), as Evidence records it,
 * split back into its parts (connection-transcript.ts holds the rule that builds it):
 *
 *   A (GET_VERSION .. ALGORITHMS) ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO up to its Signature
 *
 * Nothing else belongs in it: the requester's message_e holds that one pair, in a session or not.
 * Both messages are 1.3+ (their codecs refuse an earlier version). ALGORITHMS in A sizes the
 * response; the signature's hash only seeds the decoder.
 */
import { DecodeError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from './codes.js';
import { ConversationDecoder } from './conversation.js';
import { peekHeader } from './header.js';
import type { EndpointInfoResponse, GetEndpointInfoRequest } from './messages/endpoint-info.js';
import type { SignedTranscriptStep } from './signed-transcript.js';

const NAME = 'ENDPOINT_INFO transcript';

/** The VCA's messages in the order A holds them. */
const VCA_ORDER: readonly number[] = [
  RequestCode.GET_VERSION,
  ResponseCode.VERSION,
  RequestCode.GET_CAPABILITIES,
  ResponseCode.CAPABILITIES,
  RequestCode.NEGOTIATE_ALGORITHMS,
  ResponseCode.ALGORITHMS,
];

export interface EndpointInfoTranscript {
  /** The VCA messages (A), in order. */
  readonly vca: readonly SignedTranscriptStep[];
  /** A's bytes, to compare with the A of the connection's other signatures. */
  readonly vcaBytes: Uint8Array;
  readonly request: GetEndpointInfoRequest;
  /** Byte offset of GET_ENDPOINT_INFO in the transcript. */
  readonly requestOffset: number;
  /** ENDPOINT_INFO without its Signature. */
  readonly response: EndpointInfoResponse;
  readonly responseOffset: number;
}

/** Offsets of the Nonce fields: GET_ENDPOINT_INFO has RequestAttributes and 3 reserved bytes after the header, ENDPOINT_INFO 4 reserved bytes. */
export const GET_ENDPOINT_INFO_NONCE_OFFSET = 8;
export const ENDPOINT_INFO_NONCE_OFFSET = 8;

/**
 * Splits an ENDPOINT_INFO signed transcript. Throws DecodeError naming the part that does not
 * decode or is out of place (anything but A, then the one request and its response).
 */
export function splitEndpointInfoTranscript(bytes: Uint8Array, hashAlgo: number): EndpointInfoTranscript {
  const decoder = new ConversationDecoder({ baseHashAlgo: hashAlgo }, { signatures: 'omitted' });
  const vca: SignedTranscriptStep[] = [];
  let off = 0;
  for (const code of VCA_ORDER) {
    if (off + 4 > bytes.length || bytes[off + 1] !== code)
      throw new DecodeError(NAME, 'A', off, 'the transcript does not start with the VCA (GET_VERSION .. ALGORITHMS)');
    const h = peekHeader(bytes.subarray(off));
    const d = decoder.next(code & 0x80 ? 'request' : 'response', bytes.subarray(off));
    if (d.kind === 'other') throw new DecodeError(NAME, 'A', off, `${d.name} has no codec`);
    vca.push({ ...d, code: h.code, version: h.version });
    off += d.msg.raw.length;
  }
  const vcaEnd = off;
  const requestOffset = off;
  if (off + 4 > bytes.length || bytes[off + 1] !== RequestCode.GET_ENDPOINT_INFO)
    throw new DecodeError(NAME, 'GET_ENDPOINT_INFO', off, 'GET_ENDPOINT_INFO expected after the VCA');
  const req = decoder.next('request', bytes.subarray(off));
  if (req.kind !== 'GET_ENDPOINT_INFO')
    throw new DecodeError(NAME, 'GET_ENDPOINT_INFO', off, 'not a GET_ENDPOINT_INFO request');
  off += req.msg.raw.length;
  const responseOffset = off;
  if (off + 4 > bytes.length || bytes[off + 1] !== ResponseCode.ENDPOINT_INFO)
    throw new DecodeError(NAME, 'ENDPOINT_INFO', off, 'ENDPOINT_INFO expected after GET_ENDPOINT_INFO');
  const rsp = decoder.next('response', bytes.subarray(off));
  if (rsp.kind !== 'ENDPOINT_INFO') throw new DecodeError(NAME, 'ENDPOINT_INFO', off, 'not an ENDPOINT_INFO response');
  off += rsp.msg.raw.length;
  if (off !== bytes.length)
    throw new DecodeError(
      NAME,
      'ENDPOINT_INFO',
      off,
      `${bytes.length - off} bytes after the signed part of ENDPOINT_INFO`,
    );
  return {
    vca,
    vcaBytes: bytes.slice(0, vcaEnd),
    request: req.msg,
    requestOffset,
    response: rsp.msg,
    responseOffset,
  };
}
