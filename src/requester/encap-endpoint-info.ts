/**
 * Our answer to an encapsulated GET_ENDPOINT_INFO (1.3): the device asks the requester for its
 * DeviceClassIdentifier, signed on request with one of our slots' keys. The rules, as libspdm's
 * requester applies them (libspdm_req_encap_endpoint_info.c):
 *   - before 1.3, or without EP_INFO_CAP in our GET_CAPABILITIES: UnsupportedRequest;
 *   - a SubCode other than DeviceClassIdentifier: InvalidRequest;
 *   - signed: our EP_INFO_CAP must say "with signature" (else UnsupportedRequest); the SlotID must
 *     name a slot of ours holding a key of the negotiated ReqBaseAsymAlg (else InvalidRequest —
 *     we hold no provisioned public key, so 0xF is refused too). The answer names that slot, brings
 *     a fresh nonce, and signs A ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO-without-signature with the
 *     requester's context string (ConnectionTranscript.requesterEndpointInfo);
 *   - unsigned: the answer names slot 0 and carries no nonce and no signature.
 * Every refusal is an ERROR answered inside the flow, as a responder would answer.
 */
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { RequestCode } from '../spdm/codes.js';
import { encodeError, ErrorCode } from '../spdm/messages/error.js';
import { NONCE_SIZE } from '../spdm/messages/challenge.js';
import {
  decodeGetEndpointInfo,
  encodeDeviceClassIdentifier,
  encodeEndpointInfo,
  EndpointInfoSubCode,
} from '../spdm/messages/endpoint-info.js';
import type { ConnectionTranscript } from '../spdm/connection-transcript.js';
import type { IdentityView } from './identity.js';

/**
 * The requester's DeviceClassIdentifier when the caller gives none: PCI-SIG (registry 3), vendor
 * 0x1b36, one subordinate ID. 16 bytes, a multiple of 4: over DOE the message is padded to whole
 * dwords and libspdm's responder wants ENDPOINT_INFO's exact size.
 */
export const DEFAULT_REQUESTER_ENDPOINT_INFO: Uint8Array = encodeDeviceClassIdentifier([
  {
    registryId: 0x03,
    vendorId: Uint8Array.of(0x36, 0x1b),
    subordinateIds: [Uint8Array.of(0x20, 0x00, 0x01, 0x0c, 0x03)],
  },
]);

export interface EncapEndpointInfoContext {
  readonly version: number;
  /** The capability flags we sent (EP_INFO_CAP). */
  readonly ourFlags: number;
  /** Our EPInfo (a DeviceClassIdentifier). */
  readonly epInfo: Uint8Array;
  /** Our identity under the negotiated ReqBaseAsymAlg; none: nothing can be signed. */
  readonly identity: IdentityView | undefined;
  readonly transcript: ConnectionTranscript;
  readonly random: (n: number) => Uint8Array;
}

/** Answers the device's GET_ENDPOINT_INFO: ENDPOINT_INFO, or the ERROR the rules above name. */
export function answerEncapGetEndpointInfo(request: Uint8Array, c: EncapEndpointInfoContext): Uint8Array {
  const v = c.version;
  const unsupported = (): Uint8Array => encodeError(v, ErrorCode.UnsupportedRequest, RequestCode.GET_ENDPOINT_INFO);
  if (v < 0x13 || (c.ourFlags & (CapabilityFlag.EP_INFO_NO_SIG | CapabilityFlag.EP_INFO_SIG)) === 0)
    return unsupported();
  const req = decodeGetEndpointInfo(request);
  if (req.subCode !== EndpointInfoSubCode.DEVICE_CLASS_IDENTIFIER) return encodeError(v, ErrorCode.InvalidRequest);
  if (!req.signatureRequested) return encodeEndpointInfo(v, { slot: 0, epInfo: c.epInfo });
  if ((c.ourFlags & CapabilityFlag.EP_INFO_SIG) === 0) return unsupported();
  const id = c.identity;
  if (!id?.has(req.slot)) return encodeError(v, ErrorCode.InvalidRequest);
  const fields = { slot: req.slot, nonce: c.random(NONCE_SIZE), epInfo: c.epInfo };
  const unsigned = encodeEndpointInfo(v, fields);
  const signature = id.sign(req.slot, c.transcript.requesterEndpointInfo(req.raw, unsigned));
  return encodeEndpointInfo(v, { ...fields, signature });
}
