/**
 * What the requester holds once VCA is done, and what each request module gets of it: a request
 * module (get-digests.ts, …, after spdm-rs's requester/<req>_req.rs) runs one request against a
 * {@link RequestContext} and returns what it learned; the Requester sequences them and keeps state.
 */
import type { CapabilitiesResponse } from '../spdm/messages/capabilities.js';
import type { AlgorithmsResponse } from '../spdm/messages/algorithms.js';
import type { ConnectionTranscript, MessageM } from '../spdm/connection-transcript.js';
import type { KeyObject } from 'node:crypto';
import type { Decoder } from './exchange.js';
import type { ResponderNonces } from './proof.js';

export interface Connection {
  readonly version: number;
  readonly capabilities: CapabilitiesResponse;
  readonly algorithms: AlgorithmsResponse;
  readonly hashId: number;
  readonly asymId: number;
  readonly hashSize: number;
  readonly signatureSize: number;
  /**
   * 1.3+ multi-key connection for the responder: its DIGESTS carry KeyPairID/CertificateInfo/
   * KeyUsageMask and CERTIFICATE reports the CertModel. In effect exactly when we set
   * OtherParamsSupport bit 4, which we do only for a responder that supports nothing else.
   */
  readonly multiKeyConn: boolean;
  /** The DHE group ALGORITHMS selected (a DHENamedGroup bit), 0 when none (no session algorithms offered or needed). */
  readonly dheId: number;
  /** The AEAD cipher suite selected (an AEADCipherSuite bit), 0 when none. */
  readonly aeadId: number;
  /** The key schedule selected (KeySchedule.SPDM), 0 when none. */
  readonly keyScheduleId: number;
  /** The requester's signing algorithm selected (a ReqBaseAsymAlg bit, for mutual authentication), 0 when none. */
  readonly reqAsymId: number;
}

export interface RequestContext {
  readonly connection: Connection;
  /** A, B, C and message_m of this connection: a request module appends what the rules say. */
  readonly transcript: ConnectionTranscript;
  /** The measurement run requests go into: a secure session's own, or (when absent) the connection's. */
  readonly measurementRun?: MessageM;
  /**
   * One round trip, the response decoded by `decode`; `timing` is the response time DSP0274
   * allows: T1 (no cryptography) or T2 (CT, the device's claim).
   */
  send<T extends { readonly raw: Uint8Array }>(
    request: Uint8Array,
    expect: number,
    timing: 'T1' | 'T2',
    decode: Decoder<T>,
  ): Promise<T>;
  /** A requester nonce for one signed request: the caller's for this flow, else fresh random bytes. */
  nonce(): Uint8Array;
  /** A fresh RequesterContext from 1.3 on (CHALLENGE and GET_MEASUREMENTS carry one); undefined before. */
  requesterContext(): Uint8Array | undefined;
  /** Responder nonces already signed over on this connection. */
  readonly responderNonces: ResponderNonces;
  /**
   * The chain read from `slot` and its leaf key, which signatures for that slot must verify with;
   * for slot 0xFF the provisioned public key, its DER SubjectPublicKeyInfo standing for the chain
   * (what CertChainHash and Ct hash), with the hash of that chain under the connection's hash.
   * @throws TypeError when the chain has not been retrieved or no public key was given (a caller's mistake)
   */
  signer(slot: number): { readonly chain: Uint8Array; readonly chainHash: Uint8Array; readonly leafKey: KeyObject };
  /** RequesterOptions.signatureChecks: whether CHALLENGE_AUTH and MEASUREMENTS signatures are checked in the threadpool. */
  readonly threadpoolChecks: boolean;
}
