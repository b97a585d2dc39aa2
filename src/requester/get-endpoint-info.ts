/**
 * GET_ENDPOINT_INFO / ENDPOINT_INFO (1.3): the device's DeviceClassIdentifier, signed on request
 * with a slot's key over IL1/IL2 (ConnectionTranscript.endpointInfo: A ‖ GET_ENDPOINT_INFO ‖
 * ENDPOINT_INFO without the signature) and our fresh nonce. A signed answer must name the slot
 * asked for and bring a fresh nonce of its own; an unsigned one names slot 0. Either way the EPInfo
 * must parse.
 */
import { toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import {
  decodeDeviceClassIdentifier,
  decodeEndpointInfo,
  encodeGetEndpointInfo,
  ENDPOINT_INFO_SIGNATURE_REQUESTED,
  EndpointInfoSubCode,
  type DeviceClassIdentifierElement,
} from '../spdm/messages/endpoint-info.js';
import type { EndpointInfoSignatureEvidence } from '../evidence/evidence.js';
import type { RequestContext } from './connection.js';
import { checkedSignature } from './proof.js';

export interface EndpointInfoOptions {
  /** Ask for a signature (needs EP_INFO_CAP with signature); default true when the device signs. */
  readonly signed?: boolean;
  /** The slot whose key signs (its chain must have been read), or 0xFF the provisioned public key. Default 0. */
  readonly slot?: number;
}

export interface EndpointInfoResult {
  readonly epInfo: Uint8Array;
  readonly identifiers: readonly DeviceClassIdentifierElement[];
  /** Present when signed: the verified signature. */
  readonly signature?: EndpointInfoSignatureEvidence;
}

/**
 * Whether the connection can carry GET_ENDPOINT_INFO (signed, when `signed` or by default when the
 * device signs): UNSUPPORTED otherwise. The answer is whether it will be signed. Checked before a
 * flow starts anything it would leave half done.
 */
export function checkEndpointInfoSupported(c: RequestContext['connection'], signed?: boolean): boolean {
  const flags = c.capabilities.flags;
  if (c.version < 0x13) throw new SpdmError('UNSUPPORTED', 'GET_ENDPOINT_INFO needs SPDM 1.3 or later');
  if ((flags & (CapabilityFlag.EP_INFO_NO_SIG | CapabilityFlag.EP_INFO_SIG)) === 0)
    throw new SpdmError('UNSUPPORTED', 'device does not support GET_ENDPOINT_INFO (EP_INFO_CAP)');
  const sign = signed ?? (flags & CapabilityFlag.EP_INFO_SIG) !== 0;
  if (sign && (flags & CapabilityFlag.EP_INFO_SIG) === 0)
    throw new SpdmError('UNSUPPORTED', 'device does not sign ENDPOINT_INFO (EP_INFO_CAP without signature)');
  return sign;
}

export async function getEndpointInfo(ctx: RequestContext, o: EndpointInfoOptions): Promise<EndpointInfoResult> {
  const c = ctx.connection;
  const signed = checkEndpointInfoSupported(c, o.signed);
  const slot = o.slot ?? 0;
  // 0xFF: the provisioned public key (PUB_KEY_ID_CAP), 0xF in the message.
  if (!Number.isInteger(slot) || ((slot < 0 || slot > 7) && slot !== 0xff))
    throw new TypeError(`slot ${slot} out of range 0-7 or 0xFF`);
  if (!signed && slot !== 0) throw new TypeError('an unsigned ENDPOINT_INFO names no slot: leave slot 0');
  const signer = signed ? ctx.signer(slot) : undefined;
  ctx.transcript.request(RequestCode.GET_ENDPOINT_INFO, ctx.measurementRun);
  const nonce = signed ? ctx.nonce() : undefined;
  const req = encodeGetEndpointInfo(c.version, {
    subCode: EndpointInfoSubCode.DEVICE_CLASS_IDENTIFIER,
    slot,
    requestAttributes: signed ? ENDPOINT_INFO_SIGNATURE_REQUESTED : 0,
    ...(nonce ? { nonce } : {}),
  });
  const resp = await ctx.send(req, ResponseCode.ENDPOINT_INFO, signed ? 'T2' : 'T1', (b) =>
    decodeEndpointInfo(b, { signatureRequested: signed, signatureSize: c.signatureSize }),
  );
  if (resp.slot !== slot)
    throw new SpdmError('UNEXPECTED_RESPONSE', `ENDPOINT_INFO: slot ${resp.slot}, asked slot ${slot}`);
  const identifiers = decodeDeviceClassIdentifier(resp.epInfo);
  if (!signer || !nonce || !resp.nonce || !resp.signature) return { epInfo: resp.epInfo, identifiers };
  ctx.responderNonces.check(resp.nonce, nonce, 'ENDPOINT_INFO');
  const il = ctx.transcript.endpointInfo(req, resp.unsigned);
  const transcriptHash = checkedSignature(c, signer.leafKey, slot, il, resp.signature);
  return {
    epInfo: resp.epInfo,
    identifiers,
    signature: {
      kind: 'ENDPOINT_INFO',
      slot,
      version: c.version,
      asymAlgo: c.asymId,
      hashAlgo: c.hashId,
      context: il.context,
      requesterNonce: toHex(nonce),
      responderNonce: toHex(resp.nonce),
      transcript: toHex(il.transcript.bytes()),
      transcriptHash: toHex(transcriptHash),
      signature: toHex(resp.signature),
      epInfo: toHex(resp.epInfo),
      verified: true,
    },
  };
}
