/**
 * The PCI-SIG way of carrying other protocols in SPDM VENDOR_DEFINED_REQUEST/RESPONSE (PCIe 6.x
 * "Secured SPDM messages"; CXL 3.x reuses it): StandardID 3 (PCI-SIG registry), Len 2, a 16-bit
 * VendorID — 0x0001 for PCI-SIG's own protocols, 0x1E98 for CXL's — and a payload whose first byte
 * is the protocol ID within that vendor (PCI-SIG: 0 IDE_KM, 1 TDISP; CXL: 0 IDE_KM, 1 TSP).
 * Also the little-endian u64 fields these protocols carry (addresses, masks), as bigint.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { DecodeError, SpdmError } from '../../wire/errors.js';

/** DSP0274 registry ID of PCI-SIG (CXL messages use it too). */
export const STANDARD_ID_PCISIG = 3;
export const VENDOR_ID_PCISIG = 0x0001;
export const VENDOR_ID_CXL = 0x1e98;

export const PciProtocolId = { IDE_KM: 0x00, TDISP: 0x01 } as const;
export const CxlProtocolId = { IDE_KM: 0x00, TSP: 0x01 } as const;

export interface VendorProtocolMessage {
  readonly vendorId: number;
  readonly protocolId: number;
  /** The protocol's own message, after the protocol ID byte. */
  readonly body: Uint8Array;
}

/** The two-byte little-endian VendorID field for `vendorId`. */
export function vendorIdField(vendorId: number): Uint8Array {
  return Uint8Array.of(vendorId & 0xff, vendorId >> 8);
}

/**
 * The protocol a VENDOR_DEFINED payload carries when its IDs are PCI-SIG's or CXL's; undefined
 * for any other registry or vendor (those are not ours to interpret). A PCI-SIG/CXL payload
 * without even the protocol ID byte is a DecodeError.
 */
export function decodeVendorProtocol(
  standardId: number,
  vendorId: Uint8Array,
  payload: Uint8Array,
): VendorProtocolMessage | undefined {
  if (standardId !== STANDARD_ID_PCISIG || vendorId.length !== 2) return undefined;
  const id = (vendorId[0] as number) | ((vendorId[1] as number) << 8);
  if (id !== VENDOR_ID_PCISIG && id !== VENDOR_ID_CXL) return undefined;
  const r = new Reader(payload, id === VENDOR_ID_CXL ? 'CXL vendor-defined payload' : 'PCI-SIG vendor-defined payload');
  const protocolId = r.u8('ProtocolID');
  return { vendorId: id, protocolId, body: r.rest() };
}

/** ProtocolID then the protocol's message: the VendorDefinedPayload of a PCI-SIG/CXL message. */
export function encodeVendorProtocolPayload(protocolId: number, body: Uint8Array): Uint8Array {
  return new Writer(1 + body.length).u8(protocolId).bytes(body).finish();
}

export function readU64(r: Reader, field: string): bigint {
  const lo = r.u32(field);
  const hi = r.u32(field);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function writeU64(w: Writer, v: bigint): Writer {
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new SpdmError('ENCODE_ERROR', `u64 out of range: ${v}`);
  return w.u32(Number(v & 0xffff_ffffn)).u32(Number(v >> 32n));
}

/** A message must end where its layout ends: trailing bytes are a DecodeError naming the message. */
export function expectEnd(r: Reader): void {
  if (r.remaining !== 0)
    throw new DecodeError(r.messageName, 'length', r.offset, `${r.remaining} unexpected byte(s) after the message`);
}
