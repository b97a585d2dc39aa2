/**
 * SET_CERTIFICATE / SET_CERTIFICATE_RSP (1.2+).
 *
 * SET_CERTIFICATE carries a whole SPDM certificate chain (messages.md §18) and nothing after it,
 * so the message ends where the chain's own Length says: u16 Length + u16 Reserved up to 1.3,
 * u32 Length in 1.4. 1.3 adds Param1 bits 6:4 CertModel and bit 7 Erase (no chain at all) and
 * Param2 KeyPairID.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';

export const SET_CERTIFICATE_ERASE = 0x80;

/** Bytes of the SPDM cert chain header (Length + Reserved, or the 1.4 u32 Length). */
export const CERT_CHAIN_HEADER_SIZE = 4;

export interface SetCertificateRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1 bits 3:0. */
  readonly slot: number;
  /** 1.3+ Param1 bits 6:4 (0 before). */
  readonly certModel: number;
  /** 1.3+ Param1 bit 7: erase the slot; no chain follows. */
  readonly erase: boolean;
  /** 1.3+ Param2 (0 before). */
  readonly keyPairId: number;
  /** The SPDM certificate chain (header, root hash, DER certificates); empty on erase. */
  readonly certChain: Uint8Array;
}

export interface SetCertificateResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** Param1 bits 3:0. */
  readonly slot: number;
}

export function encodeSetCertificate(
  version: number,
  m: { slot: number; certModel?: number; erase?: boolean; keyPairId?: number; certChain: Uint8Array },
): Uint8Array {
  const v13 = version >= 0x13;
  const erase = v13 && m.erase === true;
  const p1 = (m.slot & 0x0f) | (v13 ? ((m.certModel ?? 0) & 0x07) << 4 : 0) | (erase ? SET_CERTIFICATE_ERASE : 0);
  const w = new Writer(4 + m.certChain.length);
  writeHeader(w, version, RequestCode.SET_CERTIFICATE, p1, v13 ? (m.keyPairId ?? 0) : 0);
  if (!erase) w.bytes(m.certChain);
  return w.finish();
}

export function decodeSetCertificate(bytes: Uint8Array): SetCertificateRequest {
  const r = new Reader(bytes, 'SET_CERTIFICATE');
  const h = readHeaderSince(r, RequestCode.SET_CERTIFICATE, 0x12);
  const v13 = h.version >= 0x13;
  const slot = h.param1 & 0x0f;
  if (slot > 7) r.fail('Param1', `SlotID ${slot} out of range 0-7`, 2);
  const erase = v13 && (h.param1 & SET_CERTIFICATE_ERASE) !== 0;
  let certChain: Uint8Array = new Uint8Array(0);
  if (!erase) {
    const start = r.offset;
    const length = h.version >= 0x14 ? r.u32('CertChain.Length') : r.u16('CertChain.Length');
    if (h.version < 0x14) r.skip(2, 'CertChain.Reserved');
    if (length < CERT_CHAIN_HEADER_SIZE)
      r.fail('CertChain.Length', `${length} is shorter than the chain header`, start);
    r.skip(length - CERT_CHAIN_HEADER_SIZE, 'CertChain');
    certChain = bytes.subarray(start, r.offset);
  }
  return {
    raw: r.consumed(),
    version: h.version,
    slot,
    certModel: v13 ? (h.param1 >> 4) & 0x07 : 0,
    erase,
    keyPairId: v13 ? h.param2 : 0,
    certChain,
  };
}

export function encodeSetCertificateRsp(version: number, m: { slot: number }): Uint8Array {
  return writeHeader(new Writer(4), version, ResponseCode.SET_CERTIFICATE_RSP, m.slot & 0x0f, 0).finish();
}

export function decodeSetCertificateRsp(bytes: Uint8Array): SetCertificateResponse {
  const r = new Reader(bytes, 'SET_CERTIFICATE_RSP');
  const h = readHeaderSince(r, ResponseCode.SET_CERTIFICATE_RSP, 0x12);
  return { raw: r.consumed(), version: h.version, slot: h.param1 & 0x0f };
}
