/**
 * The emulator asks the requester for its ENDPOINT_INFO (1.3) with an encapsulated
 * GET_ENDPOINT_INFO — libspdm's responder does so when spdm-emu's OOB_ENCAP_ENDPOINT_INFO arms it
 * (libspdm_rsp_encap_get_endpoint_info.c). One query is one request and the check of its answer;
 * the clear flow runs it as an EndpointInfoTask, a session's device requests as one of their tasks.
 *
 * Signed when the policy says so, the requester offers EP_INFO_CAP with signature and a requester
 * identity is established (mutual authentication) to check it with: the request names that
 * identity's slot and brings our nonce, and the answer must name the same slot, bring a nonce of
 * its own and sign A ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO-without-signature with the requester's
 * context string, verified with the identity's leaf key. Unsigned otherwise: the answer names slot
 * 0. Either way the EPInfo must be a DeviceClassIdentifier that parses; any failure refuses it.
 */
import { asymInfo } from '../crypto/algorithms.js';
import { equalBytes } from '../wire/bytes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { NONCE_SIZE } from '../spdm/messages/challenge.js';
import {
  decodeDeviceClassIdentifier,
  decodeEndpointInfo,
  encodeGetEndpointInfo,
  ENDPOINT_INFO_SIGNATURE_REQUESTED,
  EndpointInfoSubCode,
  type DeviceClassIdentifierElement,
} from '../spdm/messages/endpoint-info.js';
import type { ConnectionTranscript } from '../spdm/connection-transcript.js';
import { checkTranscriptSignature } from '../spdm/transcript-signature.js';
import { withoutPadding } from '../spdm/trailing.js';
import { EncapRefusal, type EncapsulatedTask, type TaskStep } from './encapsulated-flow.js';
import type { AuthenticatedRequester } from './mutual-auth.js';

/** What the emulator learnt from the requester's ENDPOINT_INFO. */
export interface RequesterEndpointInfo {
  readonly epInfo: Uint8Array;
  readonly identifiers: readonly DeviceClassIdentifierElement[];
  /** Set when the answer was signed and the signature verified with this requester slot's key. */
  readonly signedBySlot?: number;
  /** The session it was asked in; undefined in the clear. */
  readonly sessionId?: number;
}

export interface EndpointInfoQueryParams {
  readonly version: number;
  readonly hashId: number;
  /** ReqBaseAsymAlg selected. */
  readonly reqAsymId: number;
  readonly transcript: ConnectionTranscript;
  readonly random: (n: number) => Uint8Array;
  /** Ask for a signature by this requester (its slot signs); undefined: unsigned. */
  readonly signer?: AuthenticatedRequester;
  /** Where a session's answer travels in a record (no transport padding may follow). */
  readonly inSession: boolean;
  readonly sessionId?: number;
}

/** Can this requester be asked at all (1.3, EP_INFO_CAP), and can its answer be signed (EP_INFO_CAP with signature)? */
export function endpointInfoAskable(version: number, requesterFlags: number): { ask: boolean; signed: boolean } {
  const ask = version >= 0x13 && (requesterFlags & (CapabilityFlag.EP_INFO_NO_SIG | CapabilityFlag.EP_INFO_SIG)) !== 0;
  return { ask, signed: ask && (requesterFlags & CapabilityFlag.EP_INFO_SIG) !== 0 };
}

export class EndpointInfoQuery {
  readonly request: Uint8Array;
  private readonly nonce: Uint8Array | undefined;

  constructor(private readonly p: EndpointInfoQueryParams) {
    const signer = p.signer;
    this.nonce = signer ? p.random(NONCE_SIZE) : undefined;
    this.request = encodeGetEndpointInfo(p.version, {
      subCode: EndpointInfoSubCode.DEVICE_CLASS_IDENTIFIER,
      slot: signer?.slot ?? 0,
      requestAttributes: signer ? ENDPOINT_INFO_SIGNATURE_REQUESTED : 0,
      ...(this.nonce ? { nonce: this.nonce } : {}),
    });
  }

  /** The requester's ENDPOINT_INFO, checked (EncapRefusal or DecodeError when it fails). */
  check(response: Uint8Array): RequesterEndpointInfo {
    const p = this.p;
    const signer = p.signer;
    const signatureSize = signer ? asymInfo(p.reqAsymId)?.sigSize : 0;
    if (signatureSize === undefined) throw new EncapRefusal('no ReqBaseAsymAlg to check a signature with');
    const decoded = decodeEndpointInfo(response, { signatureRequested: signer !== undefined, signatureSize });
    // Inside a record nothing may follow the message; in the clear only the transport's padding.
    if (p.inSession && decoded.raw.length !== response.length)
      throw new EncapRefusal(`ENDPOINT_INFO: ${response.length - decoded.raw.length} byte(s) after it`);
    const r = p.inSession ? decoded : withoutPadding(response, decoded, 'ENDPOINT_INFO');
    const identifiers = decodeDeviceClassIdentifier(r.epInfo);
    const where = p.sessionId !== undefined ? { sessionId: p.sessionId } : {};
    if (!signer) {
      if (r.slot !== 0) throw new EncapRefusal(`an unsigned ENDPOINT_INFO names slot ${r.slot}`);
      return { epInfo: r.epInfo, identifiers, ...where };
    }
    if (r.slot !== signer.slot) throw new EncapRefusal(`ENDPOINT_INFO from slot ${r.slot}, asked slot ${signer.slot}`);
    if (!r.nonce || !r.signature) throw new EncapRefusal('a signed ENDPOINT_INFO without its nonce or signature');
    if (this.nonce && equalBytes(r.nonce, this.nonce))
      throw new EncapRefusal('ENDPOINT_INFO: the nonce is ours, echoed');
    const { ok } = checkTranscriptSignature(
      signer.leafKey,
      { version: p.version, asymId: p.reqAsymId, hashId: p.hashId },
      p.transcript.requesterEndpointInfo(this.request, r.unsigned),
      r.signature,
    );
    if (!ok) throw new EncapRefusal("the requester's ENDPOINT_INFO signature does not verify");
    return { epInfo: r.epInfo, identifiers, signedBySlot: signer.slot, ...where };
  }
}

/** A clear flow that asks GET_ENDPOINT_INFO once; `onResult` hears what it learnt. */
export class EndpointInfoTask implements EncapsulatedTask {
  readonly restart = 'once';
  private begun = false;
  /** Set once the flow has ended, either way. */
  finished = false;

  constructor(
    private readonly query: EndpointInfoQuery,
    private readonly onResult: (info: RequesterEndpointInfo) => void,
  ) {}

  start(): Uint8Array | undefined {
    if (this.begun) return undefined;
    this.begun = true;
    return this.query.request;
  }

  answer(_request: Uint8Array, response: Uint8Array): TaskStep {
    this.onResult(this.query.check(response));
    this.finished = true;
    return { end: {} };
  }

  abandon(): void {
    if (this.begun) this.finished = true;
  }
}
