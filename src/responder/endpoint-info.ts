/**
 * GET_ENDPOINT_INFO / ENDPOINT_INFO (1.3) for the emulated device: its DeviceClassIdentifier
 * (the profile's, or DEFAULT_ENDPOINT_INFO), signed with a slot's key over IL1/IL2 when asked
 * (ConnectionTranscript.endpointInfo holds that rule) and when EP_INFO_CAP says it signs.
 */
import { ErrorCode } from '../spdm/messages/error.js';
import { RequestCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import {
  decodeGetEndpointInfo,
  encodeDeviceClassIdentifier,
  encodeEndpointInfo,
  EndpointInfoSubCode,
} from '../spdm/messages/endpoint-info.js';
import { KeyUsage } from '../spdm/messages/key-pair-info.js';
import type { ConnectionTranscript, SignedTranscript } from '../spdm/connection-transcript.js';
import { ErrorReply } from './error-reply.js';
import type { SlotIdentity } from './profile.js';
import { PROVISIONED_KEY_SLOT } from './provisioned-key.js';

/**
 * One identifier: PCI-SIG (registry 3) vendor 0x1b36, one subordinate ID holding the device ID and
 * class code. 16 bytes on purpose: libspdm's requester wants ENDPOINT_INFO's exact size, and over
 * DOE a message is padded to whole dwords, so EPInfo is kept a multiple of 4.
 */
export const DEFAULT_ENDPOINT_INFO: Uint8Array = encodeDeviceClassIdentifier([
  {
    registryId: 0x03,
    vendorId: Uint8Array.of(0x36, 0x1b),
    subordinateIds: [Uint8Array.of(0x10, 0x00, 0x01, 0x08, 0x02)],
  },
]);

export interface EndpointInfoContext {
  readonly version: number;
  readonly multiKeyConn: boolean;
  readonly flags: number;
  readonly epInfo: Uint8Array;
  readonly transcript: ConnectionTranscript;
  /** The key a SlotID names under the negotiated algorithm: a slot 0-7, or 0xFF the provisioned public key. */
  signingSlot(slot: number): SlotIdentity | undefined;
  keyUsageOf(slot: SlotIdentity): number;
  nonce(): Uint8Array;
  sign(slot: SlotIdentity, signed: SignedTranscript<'ENDPOINT_INFO'>): Uint8Array;
}

export function answerGetEndpointInfo(ctx: EndpointInfoContext, request: Uint8Array): Uint8Array {
  if (ctx.version < 0x13) throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.GET_ENDPOINT_INFO);
  if ((ctx.flags & (CapabilityFlag.EP_INFO_NO_SIG | CapabilityFlag.EP_INFO_SIG)) === 0)
    throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.GET_ENDPOINT_INFO);
  const req = decodeGetEndpointInfo(request);
  if (req.subCode !== EndpointInfoSubCode.DEVICE_CLASS_IDENTIFIER) throw new ErrorReply(ErrorCode.InvalidRequest);
  if (!req.signatureRequested) return encodeEndpointInfo(ctx.version, { slot: 0, epInfo: ctx.epInfo });
  if ((ctx.flags & CapabilityFlag.EP_INFO_SIG) === 0)
    throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.GET_ENDPOINT_INFO);
  const slot = ctx.signingSlot(req.slot);
  if (!slot) throw new ErrorReply(ErrorCode.InvalidRequest);
  // KeyUsageMask belongs to certificate slots' key pairs; the provisioned key has none to check.
  if (slot.slot !== PROVISIONED_KEY_SLOT && ctx.multiKeyConn && (ctx.keyUsageOf(slot) & KeyUsage.ENDPOINT_INFO) === 0)
    throw new ErrorReply(ErrorCode.InvalidRequest);
  const fields = { slot: slot.slot, nonce: ctx.nonce(), epInfo: ctx.epInfo };
  const unsigned = encodeEndpointInfo(ctx.version, fields);
  const signature = ctx.sign(slot, ctx.transcript.endpointInfo(req.raw, unsigned));
  return encodeEndpointInfo(ctx.version, { ...fields, signature });
}
