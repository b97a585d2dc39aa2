/**
 * GET_ENDPOINT_INFO / ENDPOINT_INFO (1.3+).
 *
 * GET_ENDPOINT_INFO: Param1 SubCode (1 = DeviceClassIdentifier), Param2 bits 3:0 SlotID,
 * RequestAttributes (bit 0 SignatureRequested), 3 reserved bytes, then a 32-byte Nonce only when a
 * signature is requested. ENDPOINT_INFO: Param2 bits 3:0 SlotID, 4 reserved bytes, Nonce (signed
 * only), EPInfoLength u32, EPInfo, Signature (signed only). Whether the response is signed comes
 * from the request; the signature is the responder's, or the requester's when GET_ENDPOINT_INFO
 * was an encapsulated request.
 */
import { slotFromParam, slotIdParam } from './slot-param.js';
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';
import { NONCE_SIZE } from './challenge.js';

export const EndpointInfoSubCode = { DEVICE_CLASS_IDENTIFIER: 0x01 } as const;
export const ENDPOINT_INFO_SIGNATURE_REQUESTED = 0x01;

export interface GetEndpointInfoRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly subCode: number;
  /** Param2 bits 3:0; 0xFF (0xF on the wire) is the provisioned public key. */
  readonly slot: number;
  readonly requestAttributes: number;
  readonly signatureRequested: boolean;
  readonly nonce?: Uint8Array;
}

export interface EndpointInfoResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly slot: number;
  readonly nonce?: Uint8Array;
  readonly epInfo: Uint8Array;
  readonly signature?: Uint8Array;
  /** The response without its Signature. */
  readonly unsigned: Uint8Array;
}

export interface EndpointInfoDecodeContext {
  readonly signatureRequested: boolean;
  /** Needed when signed. */
  readonly signatureSize?: number;
}

export function encodeGetEndpointInfo(
  version: number,
  m: { subCode: number; slot: number; requestAttributes: number; nonce?: Uint8Array },
): Uint8Array {
  const signed = (m.requestAttributes & ENDPOINT_INFO_SIGNATURE_REQUESTED) !== 0;
  const w = new Writer(40);
  writeHeader(w, version, RequestCode.GET_ENDPOINT_INFO, m.subCode, slotIdParam(m.slot));
  w.u8(m.requestAttributes).zeros(3);
  if (signed) w.bytes(m.nonce ?? new Uint8Array(NONCE_SIZE));
  return w.finish();
}

export function decodeGetEndpointInfo(bytes: Uint8Array): GetEndpointInfoRequest {
  const r = new Reader(bytes, 'GET_ENDPOINT_INFO');
  const h = readHeaderSince(r, RequestCode.GET_ENDPOINT_INFO, 0x13);
  const requestAttributes = r.u8('RequestAttributes');
  r.skip(3, 'Reserved');
  const signatureRequested = (requestAttributes & ENDPOINT_INFO_SIGNATURE_REQUESTED) !== 0;
  const nonce = signatureRequested ? r.bytes(NONCE_SIZE, 'Nonce') : undefined;
  return {
    raw: r.consumed(),
    version: h.version,
    subCode: h.param1,
    slot: slotFromParam(h.param2),
    requestAttributes,
    signatureRequested,
    ...(nonce ? { nonce } : {}),
  };
}

export function encodeEndpointInfo(
  version: number,
  m: { slot: number; nonce?: Uint8Array; epInfo: Uint8Array; signature?: Uint8Array },
): Uint8Array {
  const w = new Writer(48 + m.epInfo.length + (m.signature?.length ?? 0));
  writeHeader(w, version, ResponseCode.ENDPOINT_INFO, 0, slotIdParam(m.slot));
  w.u32(0);
  if (m.nonce) w.bytes(m.nonce);
  w.u32(m.epInfo.length).bytes(m.epInfo);
  if (m.signature) w.bytes(m.signature);
  return w.finish();
}

export function decodeEndpointInfo(bytes: Uint8Array, ctx: EndpointInfoDecodeContext): EndpointInfoResponse {
  const r = new Reader(bytes, 'ENDPOINT_INFO');
  const h = readHeaderSince(r, ResponseCode.ENDPOINT_INFO, 0x13);
  r.skip(4, 'Reserved');
  const nonce = ctx.signatureRequested ? r.bytes(NONCE_SIZE, 'Nonce') : undefined;
  const length = r.u32('EPInfoLength');
  const epInfo = r.bytes(length, 'EPInfo');
  const unsignedEnd = r.offset;
  let signature: Uint8Array | undefined;
  if (ctx.signatureRequested) {
    const size = ctx.signatureSize ?? r.fail('Signature', 'signature size unknown');
    signature = r.bytes(size, 'Signature');
  }
  return {
    raw: r.consumed(),
    version: h.version,
    slot: slotFromParam(h.param2),
    ...(nonce ? { nonce } : {}),
    epInfo,
    ...(signature ? { signature } : {}),
    unsigned: bytes.subarray(0, unsignedEnd),
  };
}

/** One DeviceClassIdentifier element: a standards body / vendor ID (SVH) and its subordinate IDs. */
export interface DeviceClassIdentifierElement {
  readonly registryId: number;
  readonly vendorId: Uint8Array;
  readonly subordinateIds: readonly Uint8Array[];
}

/**
 * Parses EPInfo for SubCode 1 (libspdm spdm_endpoint_info_device_class_identifier_t):
 * NumIdentifiers u8, Reserved[3], then per element IdElemLength u8 (bytes after itself), SVH
 * {ID u8, VendorIDLen u8, VendorID}, NumSubIds u8, then {SubIdLen u8, SubId} each.
 */
export function decodeDeviceClassIdentifier(epInfo: Uint8Array): DeviceClassIdentifierElement[] {
  const r = new Reader(epInfo, 'ENDPOINT_INFO.DeviceClassIdentifier');
  const count = r.u8('NumIdentifiers');
  r.skip(3, 'Reserved');
  const out: DeviceClassIdentifierElement[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.u8(`Element[${i}].IdElemLength`);
    const er = new Reader(r.bytes(len, `Element[${i}]`), `ENDPOINT_INFO.DeviceClassIdentifier.Element[${i}]`);
    const registryId = er.u8('ID');
    const vlen = er.u8('VendorIDLen');
    const vendorId = er.bytes(vlen, 'VendorID');
    const n = er.u8('NumSubIds');
    const subordinateIds: Uint8Array[] = [];
    for (let j = 0; j < n; j++) subordinateIds.push(er.bytes(er.u8(`SubId[${j}].Length`), `SubId[${j}]`));
    if (er.remaining !== 0) er.fail('IdElemLength', `${er.remaining} byte(s) after the last subordinate ID`);
    out.push({ registryId, vendorId, subordinateIds });
  }
  if (r.remaining !== 0) r.fail('EPInfo', `${r.remaining} byte(s) after the last element`);
  return out;
}

export function encodeDeviceClassIdentifier(elements: readonly DeviceClassIdentifierElement[]): Uint8Array {
  const w = new Writer(64);
  w.u8(elements.length).zeros(3);
  for (const e of elements) {
    const len = 2 + e.vendorId.length + 1 + e.subordinateIds.reduce((n, s) => n + 1 + s.length, 0);
    w.u8(len).u8(e.registryId).u8(e.vendorId.length).bytes(e.vendorId).u8(e.subordinateIds.length);
    for (const s of e.subordinateIds) w.u8(s.length).bytes(s);
  }
  return w.finish();
}
