/**
 * Opaque data: the 1.2+ general opaque data format (OpaqueDataFmt1) and the DSP0277 1.0 form used
 * with SPDM 1.1 (SpecID "DMTF" header). Both hold a list of registry-tagged elements.
 */
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

export interface OpaqueElement {
  readonly registryId: number;
  readonly vendorId: Uint8Array;
  readonly data: Uint8Array;
}

export interface OpaqueData {
  readonly format: 'general' | 'dsp0277-1.0';
  readonly elements: readonly OpaqueElement[];
}

const DMTF_SPEC_ID = 0x444d5446;

function readElements(r: Reader, count: number): OpaqueElement[] {
  const out: OpaqueElement[] = [];
  for (let i = 0; i < count; i++) {
    const start = r.offset;
    const registryId = r.u8(`Element[${i}].ID`);
    const vlen = r.u8(`Element[${i}].VendorLen`);
    const vendorId = r.bytes(vlen, `Element[${i}].VendorID`);
    const dlen = r.u16(`Element[${i}].OpaqueElementDataLen`);
    const data = r.bytes(dlen, `Element[${i}].OpaqueElementData`);
    // AlignPadding is mandatory, last element included, and zero: libspdm rejects opaque data
    // otherwise (libspdm_process_general_opaque_data_check, ..._get_element_from_opaque_data).
    const pad = (4 - ((r.offset - start) % 4)) % 4;
    const padAt = r.offset;
    const padding = r.bytes(pad, `Element[${i}].AlignPadding`);
    if (padding.some((b) => b !== 0)) r.fail(`Element[${i}].AlignPadding`, 'padding must be zero', padAt);
    out.push({ registryId, vendorId, data });
  }
  return out;
}

/** Decodes opaque data in the general format (1.2+) or, when it starts with the DMTF SpecID, the DSP0277 1.0 form. */
export function decodeOpaqueData(bytes: Uint8Array, messageName = 'OpaqueData'): OpaqueData {
  const r = new Reader(bytes, messageName);
  if (bytes.length >= 8 && new Reader(bytes, messageName).u32('SpecID') === DMTF_SPEC_ID) {
    r.u32('SpecID');
    const ver = r.u8('OpaqueVersion');
    if (ver !== 1) r.fail('OpaqueVersion', `unsupported version ${ver}`, 4);
    const total = r.u8('TotalElements');
    r.skip(2, 'Reserved');
    const elements = readElements(r, total);
    if (r.remaining !== 0) r.fail('OpaqueData', `${r.remaining} byte(s) after the last element`);
    return { format: 'dsp0277-1.0', elements };
  }
  const total = r.u8('TotalElements');
  r.skip(3, 'Reserved');
  const elements = readElements(r, total);
  if (r.remaining !== 0) r.fail('OpaqueData', `${r.remaining} byte(s) after the last element`);
  return { format: 'general', elements };
}

/**
 * Encodes opaque data: the general format (1.2+) by default, or the DSP0277 1.0 form used with
 * SPDM 1.1 (SpecID "DMTF", OpaqueVersion 1, TotalElements, Reserved).
 */
export function encodeOpaqueData(
  elements: readonly OpaqueElement[],
  format: OpaqueData['format'] = 'general',
): Uint8Array {
  const w = new Writer(64);
  if (format === 'dsp0277-1.0') w.u32(DMTF_SPEC_ID).u8(1).u8(elements.length).zeros(2);
  else w.u8(elements.length).zeros(3);
  for (const e of elements) {
    const start = w.length;
    w.u8(e.registryId).u8(e.vendorId.length).bytes(e.vendorId).u16(e.data.length).bytes(e.data);
    w.zeros((4 - ((w.length - start) % 4)) % 4);
  }
  return w.finish();
}
