/**
 * VENDOR_DEFINED_REQUEST / VENDOR_DEFINED_RESPONSE (1.0+).
 *
 * StandardID u16 (registry, messages.md §5.7), Len u8, VendorID[Len], then ReqLength/RespLength
 * u16 and the payload. 1.4 Large form (Param1 bit 7, used when both sides have LARGE_RESP_CAP):
 * the u16 length is still there but unused (libspdm skips it without writing it), followed by a
 * u32 LargeLength and the payload.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';

export const VENDOR_DEFINED_LARGE = 0x80;

export interface VendorDefinedMessage {
  readonly raw: Uint8Array;
  readonly version: number;
  /** 1.4 Param1 bit 7. */
  readonly large: boolean;
  readonly standardId: number;
  readonly vendorId: Uint8Array;
  /** Large form only: the value of the unused u16 length field, kept so the message re-encodes. */
  readonly unusedLength?: number;
  readonly payload: Uint8Array;
}

function encode(code: number, version: number, m: Omit<VendorDefinedMessage, 'raw' | 'version'>): Uint8Array {
  const large = version >= 0x14 && m.large;
  const w = new Writer(16 + m.vendorId.length + m.payload.length);
  writeHeader(w, version, code, large ? VENDOR_DEFINED_LARGE : 0, 0);
  w.u16(m.standardId).u8(m.vendorId.length).bytes(m.vendorId);
  if (large) w.u16(m.unusedLength ?? 0).u32(m.payload.length);
  else w.u16(m.payload.length);
  w.bytes(m.payload);
  return w.finish();
}

function decode(bytes: Uint8Array, code: number, name: string, lengthField: string): VendorDefinedMessage {
  const r = new Reader(bytes, name);
  const h = readHeader(r, code);
  const large = h.version >= 0x14 && (h.param1 & VENDOR_DEFINED_LARGE) !== 0;
  const standardId = r.u16('StandardID');
  const vendorId = r.bytes(r.u8('Len'), 'VendorID');
  const shortLength = r.u16(lengthField);
  const length = large ? r.u32(`Large${lengthField}`) : shortLength;
  const payload = r.bytes(length, 'VendorDefinedPayload');
  return {
    raw: r.consumed(),
    version: h.version,
    large,
    standardId,
    vendorId,
    ...(large ? { unusedLength: shortLength } : {}),
    payload,
  };
}

export type VendorDefinedRequest = VendorDefinedMessage;
export type VendorDefinedResponse = VendorDefinedMessage;

export function encodeVendorDefinedRequest(
  version: number,
  m: Omit<VendorDefinedMessage, 'raw' | 'version'>,
): Uint8Array {
  return encode(RequestCode.VENDOR_DEFINED_REQUEST, version, m);
}

export function decodeVendorDefinedRequest(bytes: Uint8Array): VendorDefinedRequest {
  return decode(bytes, RequestCode.VENDOR_DEFINED_REQUEST, 'VENDOR_DEFINED_REQUEST', 'ReqLength');
}

export function encodeVendorDefinedResponse(
  version: number,
  m: Omit<VendorDefinedMessage, 'raw' | 'version'>,
): Uint8Array {
  return encode(ResponseCode.VENDOR_DEFINED_RESPONSE, version, m);
}

export function decodeVendorDefinedResponse(bytes: Uint8Array): VendorDefinedResponse {
  return decode(bytes, ResponseCode.VENDOR_DEFINED_RESPONSE, 'VENDOR_DEFINED_RESPONSE', 'RespLength');
}
