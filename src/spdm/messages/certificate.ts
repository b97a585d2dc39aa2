/** GET_CERTIFICATE / CERTIFICATE, including the 1.4 LargeCertChain form and 1.3 SlotSizeRequested. */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';

const LARGE = 0x80;

export interface GetCertificateRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly slot: number;
  readonly offset: number;
  readonly length: number;
  /** 1.3+ RequestAttributes bit 0: only the chain size is wanted. */
  readonly slotSizeRequested: boolean;
  /** 1.4 LargeCertChain: offset/length are the u32 fields. */
  readonly large: boolean;
}

export interface CertificateResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly slot: number;
  /** 1.3+ CertModel (CertificateInfo bits 2:0). */
  readonly certModel: number;
  readonly portion: Uint8Array;
  readonly remainderLength: number;
  readonly large: boolean;
}

export function encodeGetCertificate(
  version: number,
  m: { slot: number; offset: number; length: number; slotSizeRequested?: boolean; large?: boolean },
): Uint8Array {
  const large = version >= 0x14 && m.large === true;
  const w = new Writer(16);
  writeHeader(
    w,
    version,
    RequestCode.GET_CERTIFICATE,
    (m.slot & 0x0f) | (large ? LARGE : 0),
    version >= 0x13 && m.slotSizeRequested ? 1 : 0,
  );
  if (large) w.u16(0).u16(0).u32(m.offset).u32(m.length);
  else w.u16(m.offset).u16(m.length);
  return w.finish();
}

export function decodeGetCertificate(bytes: Uint8Array): GetCertificateRequest {
  const r = new Reader(bytes, 'GET_CERTIFICATE');
  const h = readHeader(r, RequestCode.GET_CERTIFICATE);
  const large = h.version >= 0x14 && (h.param1 & LARGE) !== 0;
  let offset = r.u16('Offset');
  let length = r.u16('Length');
  if (large) {
    offset = r.u32('LargeOffset');
    length = r.u32('LargeLength');
  }
  const slot = h.param1 & 0x0f;
  if (slot > 7) r.fail('Param1', `SlotID ${slot} out of range 0-7`, 2);
  return {
    raw: r.consumed(),
    version: h.version,
    slot,
    offset,
    length,
    slotSizeRequested: h.version >= 0x13 && (h.param2 & 1) === 1,
    large,
  };
}

export function encodeCertificate(
  version: number,
  m: { slot: number; certModel?: number; portion: Uint8Array; remainderLength: number; large?: boolean },
): Uint8Array {
  const large = version >= 0x14 && m.large === true;
  const w = new Writer(16 + m.portion.length);
  writeHeader(
    w,
    version,
    ResponseCode.CERTIFICATE,
    (m.slot & 0x0f) | (large ? LARGE : 0),
    version >= 0x13 ? (m.certModel ?? 0) & 0x07 : 0,
  );
  if (large) w.u16(0).u16(0).u32(m.portion.length).u32(m.remainderLength);
  else w.u16(m.portion.length).u16(m.remainderLength);
  w.bytes(m.portion);
  return w.finish();
}

export function decodeCertificate(bytes: Uint8Array): CertificateResponse {
  const r = new Reader(bytes, 'CERTIFICATE');
  const h = readHeader(r, ResponseCode.CERTIFICATE);
  const large = h.version >= 0x14 && (h.param1 & LARGE) !== 0;
  let portionLength = r.u16('PortionLength');
  let remainderLength = r.u16('RemainderLength');
  if (large) {
    portionLength = r.u32('LargePortionLength');
    remainderLength = r.u32('LargeRemainderLength');
  }
  const portion = r.bytes(portionLength, 'CertChain');
  return {
    raw: r.consumed(),
    version: h.version,
    slot: h.param1 & 0x0f,
    certModel: h.version >= 0x13 ? h.param2 & 0x07 : 0,
    portion,
    remainderLength,
    large,
  };
}
