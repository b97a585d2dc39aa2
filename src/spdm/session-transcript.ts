/**
 * The transcripts of one secure session (DSP0274 "Transcript and transcript hash calculation
 * rules", shared/spec/transcripts.md §4), created by the connection's ConnectionTranscript, which
 * gives it its start: A ‖ [D] ‖ Ct for KEY_EXCHANGE, A for PSK_EXCHANGE.
 *
 * KEY_EXCHANGE (K = KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP, F = FINISH ‖ FINISH_RSP):
 * - KEY_EXCHANGE_RSP's signature covers A ‖ [D] ‖ Ct ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP up to and
 *   including OpaqueData;
 * - TH1 (handshake secrets, ResponderVerifyData) adds the Signature;
 * - with mutual authentication the requester's FINISH signature covers A ‖ [D] ‖ Ct ‖ K (whole) ‖
 *   [D_encap] ‖ Ct_req ‖ FINISH up to its Signature; RequesterVerifyData adds the Signature;
 * - FINISH_RSP's ResponderVerifyData (HANDSHAKE_IN_THE_CLEAR only) covers … ‖ FINISH (whole) ‖
 *   FINISH_RSP without it; TH2 (data secrets) is everything, FINISH_RSP whole.
 *
 * PSK_EXCHANGE: TH1 = A ‖ PSK_EXCHANGE ‖ PSK_EXCHANGE_RSP without ResponderVerifyData;
 * RequesterVerifyData covers A ‖ PSK_EXCHANGE ‖ PSK_EXCHANGE_RSP (whole) ‖ PSK_FINISH without it;
 * TH2 adds PSK_FINISH and PSK_FINISH_RSP — or, when the responder's PSK_CAP is 01 (no context) and
 * there is no PSK_FINISH, TH2 = A ‖ PSK_EXCHANGE ‖ PSK_EXCHANGE_RSP (whole), as libspdm does.
 *
 * Builders are pure (each returns a new Transcript forked from what the session holds); the two
 * events are `acceptExchange()` (K, or the PSK pair, is in) and `mutualAuth()` (the requester's
 * identity joins after K). Inputs are the exact wire bytes named by each parameter; the codecs
 * give them (`unsigned`, `raw`, and the verify data fields' lengths).
 */
import type { MessageM, SignedTranscript } from './connection-transcript.js';
import { equalBytes } from '../wire/bytes.js';
import { Transcript } from './transcript.js';

export type SessionKind = 'key-exchange' | 'psk';

/** What the ConnectionTranscript hands a new session (module-internal wiring, not for callers). */
export interface SessionTranscriptInit {
  readonly kind: SessionKind;
  /** A ‖ [D] ‖ Ct (KEY_EXCHANGE) or A (PSK), hashed with the negotiated hash. */
  readonly base: Transcript;
  readonly complete: boolean;
  readonly messageM: MessageM;
  readonly signingContext: (kind: 'KEY_EXCHANGE_RSP' | 'FINISH') => string;
}

export class SessionTranscript {
  readonly kind: SessionKind;
  /** This session's measurement run (libspdm session_transcript.message_m), over the connection's A. */
  readonly messageM: MessageM;
  /** False when the connection's A had outgrown its bound: nothing built here can be checked. */
  readonly complete: boolean;
  private readonly base: Transcript;
  private readonly context: SessionTranscriptInit['signingContext'];
  /** base ‖ K (whole) ‖ [D_encap ‖ Ct_req], once the exchange was accepted. */
  private afterExchange: Transcript | undefined;
  private mutual = false;
  /**
   * base ‖ exchange ‖ the response as far as it was hashed (up to the Signature, then through it),
   * kept going between keyExchangeSignature(), th1() and acceptExchange(): each asks for a longer
   * prefix of the same bytes, so one transcript, its last message extended, serves all three
   * instead of a fork of base each. Dropped once accepted.
   */
  private line: { readonly exchange: Uint8Array; readonly t: Transcript } | undefined;

  /** Use ConnectionTranscript.keyExchangeSession() or pskSession(). */
  constructor(init: SessionTranscriptInit) {
    this.kind = init.kind;
    this.base = init.base;
    this.complete = init.complete;
    this.messageM = init.messageM;
    this.context = init.signingContext;
  }

  /** The start of every TH of this session: A ‖ [D] ‖ Ct, or A for PSK. */
  start(): Transcript {
    return this.base.fork();
  }

  /** KEY_EXCHANGE: what the responder signs, A ‖ [D] ‖ Ct ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP up to its Signature. */
  keyExchangeSignature(keyExchange: Uint8Array, responseUnsigned: Uint8Array): SignedTranscript<'KEY_EXCHANGE_RSP'> {
    this.require('key-exchange', 'keyExchangeSignature');
    return {
      kind: 'KEY_EXCHANGE_RSP',
      transcript: this.exchangeLine(keyExchange, responseUnsigned).snapshot(),
      context: this.context('KEY_EXCHANGE_RSP'),
      complete: this.complete,
    };
  }

  /**
   * TH1: the exchange request and its response up to ResponderVerifyData — for KEY_EXCHANGE_RSP
   * through the Signature, for PSK_EXCHANGE_RSP everything before ResponderVerifyData.
   */
  th1(exchange: Uint8Array, responseWithoutVerifyData: Uint8Array): Transcript {
    return this.exchangeLine(exchange, responseWithoutVerifyData).snapshot();
  }

  /** The exchange is done (its verify data checked): K, or PSK_EXCHANGE ‖ PSK_EXCHANGE_RSP, whole, joins every later TH. */
  acceptExchange(exchange: Uint8Array, response: Uint8Array): void {
    if (this.afterExchange) throw new TypeError('session transcript: the exchange was already accepted');
    this.afterExchange = this.exchangeLine(exchange, response);
    this.line = undefined;
  }

  /**
   * base ‖ exchange ‖ response: the line continued when it holds this exchange and the start of
   * this response (the same bytes), otherwise a new line forked from base. Either way the transcript is exactly base ‖ exchange ‖ response.
   */
  private exchangeLine(exchange: Uint8Array, response: Uint8Array): Transcript {
    const line = this.line;
    if (line && (line.exchange === exchange || equalBytes(line.exchange, exchange)) && line.t.extendLast(response))
      return line.t;
    const t = this.base.fork();
    t.append(exchange, response);
    this.line = { exchange, t };
    return t;
  }

  /**
   * Mutual authentication (KEY_EXCHANGE only): the requester's identity follows K — the
   * encapsulated DIGESTS when the requester's multi-key connection is in effect (D_encap), then
   * Ct_req = Hash(the requester's certificate chain, or its provisioned key for slot 0xFF).
   */
  mutualAuth(requesterCertChainHash: Uint8Array, encapDigests?: Uint8Array): void {
    this.require('key-exchange', 'mutualAuth');
    const t = this.requireExchange('mutualAuth');
    if (this.mutual) throw new TypeError('session transcript: mutual authentication was already recorded');
    if (encapDigests) t.append(encapDigests);
    t.append(requesterCertChainHash);
    this.mutual = true;
  }

  /** FINISH signature (mutual authentication): … ‖ K ‖ [D_encap] ‖ Ct_req ‖ FINISH up to its Signature. */
  finishSignature(finishUnsigned: Uint8Array): SignedTranscript<'FINISH'> {
    this.require('key-exchange', 'finishSignature');
    const t = this.requireExchange('finishSignature').fork();
    t.append(finishUnsigned);
    return { kind: 'FINISH', transcript: t, context: this.context('FINISH'), complete: this.complete };
  }

  /**
   * What RequesterVerifyData covers: … ‖ the exchange (whole) [‖ D_encap ‖ Ct_req] ‖ FINISH
   * through its Signature, or PSK_FINISH — both without RequesterVerifyData.
   */
  requesterVerifyTranscript(finishWithoutVerifyData: Uint8Array): Transcript {
    const t = this.requireExchange('requesterVerifyTranscript').fork();
    t.append(finishWithoutVerifyData);
    return t;
  }

  /** FINISH_RSP's ResponderVerifyData (HANDSHAKE_IN_THE_CLEAR): … ‖ FINISH (whole) ‖ FINISH_RSP without it. */
  finishRspVerifyTranscript(finish: Uint8Array, finishRspWithoutVerifyData: Uint8Array): Transcript {
    this.require('key-exchange', 'finishRspVerifyTranscript');
    const t = this.requireExchange('finishRspVerifyTranscript').fork();
    t.append(finish, finishRspWithoutVerifyData);
    return t;
  }

  /**
   * TH2, for the data secrets: … ‖ FINISH ‖ FINISH_RSP (or PSK_FINISH ‖ PSK_FINISH_RSP), whole.
   * A PSK session without PSK_FINISH (the responder's PSK_CAP is 01) passes neither: TH2 is then
   * the exchange alone. A KEY_EXCHANGE session always has both.
   */
  th2(finish?: Uint8Array, finishRsp?: Uint8Array): Transcript {
    if ((finish === undefined) !== (finishRsp === undefined))
      throw new TypeError('session transcript: TH2 takes both finish messages or neither');
    if (this.kind === 'key-exchange' && finish === undefined)
      throw new TypeError('session transcript: a KEY_EXCHANGE session has FINISH and FINISH_RSP in TH2');
    const t = this.requireExchange('th2').fork();
    if (finish && finishRsp) t.append(finish, finishRsp);
    return t;
  }

  private require(kind: SessionKind, what: string): void {
    if (this.kind !== kind) throw new TypeError(`session transcript: ${what} is for ${kind} sessions`);
  }

  private requireExchange(what: string): Transcript {
    // Building a later TH before the exchange was accepted is a caller's ordering mistake.
    if (!this.afterExchange) throw new TypeError(`session transcript: ${what} before acceptExchange()`);
    return this.afterExchange;
  }
}
