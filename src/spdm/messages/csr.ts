/**
 * GET_CSR / CSR (1.2+). 1.3 gives GET_CSR's Param1 (KeyPairID) and Param2 (RequestAttributes:
 * CertModel bits 2:0, CSRTrackingTag bits 5:3, Overwrite bit 7) a meaning; both are reserved in 1.2.
 */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';
import { readHeaderSince } from './common.js';
import { MAX_OPAQUE_LENGTH } from './challenge.js';

export const CsrAttribute = { CERT_MODEL_MASK: 0x07, CSR_TRACKING_TAG_MASK: 0x38, OVERWRITE: 0x80 } as const;

export interface GetCsrRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  /** 1.3+ Param1 (0 before). */
  readonly keyPairId: number;
  /** 1.3+ Param2 (0 before). */
  readonly requestAttributes: number;
  readonly certModel: number;
  readonly csrTrackingTag: number;
  readonly overwrite: boolean;
  /** DER CertificationRequestInfo fragment supplied by the requester (may be empty). */
  readonly requesterInfo: Uint8Array;
  readonly opaqueData: Uint8Array;
}

export interface CsrResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** DER PKCS#10 CertificationRequest. */
  readonly csr: Uint8Array;
}

export function encodeGetCsr(
  version: number,
  m: { keyPairId?: number; requestAttributes?: number; requesterInfo?: Uint8Array; opaqueData?: Uint8Array },
): Uint8Array {
  const info = m.requesterInfo ?? new Uint8Array(0);
  const opaque = m.opaqueData ?? new Uint8Array(0);
  const w = new Writer(8 + info.length + opaque.length);
  writeHeader(
    w,
    version,
    RequestCode.GET_CSR,
    version >= 0x13 ? (m.keyPairId ?? 0) : 0,
    version >= 0x13 ? (m.requestAttributes ?? 0) : 0,
  );
  w.u16(info.length).u16(opaque.length).bytes(info).bytes(opaque);
  return w.finish();
}

export function decodeGetCsr(bytes: Uint8Array): GetCsrRequest {
  const r = new Reader(bytes, 'GET_CSR');
  const h = readHeaderSince(r, RequestCode.GET_CSR, 0x12);
  const infoLength = r.u16('RequesterInfoLength');
  const opaqueAt = r.offset;
  const opaqueLength = r.u16('OpaqueDataLength');
  if (opaqueLength > MAX_OPAQUE_LENGTH)
    r.fail('OpaqueDataLength', `${opaqueLength} exceeds ${MAX_OPAQUE_LENGTH}`, opaqueAt);
  const requesterInfo = r.bytes(infoLength, 'RequesterInfo');
  const opaqueData = r.bytes(opaqueLength, 'OpaqueData');
  const v13 = h.version >= 0x13;
  const attrs = v13 ? h.param2 : 0;
  return {
    raw: r.consumed(),
    version: h.version,
    keyPairId: v13 ? h.param1 : 0,
    requestAttributes: attrs,
    certModel: attrs & CsrAttribute.CERT_MODEL_MASK,
    csrTrackingTag: (attrs & CsrAttribute.CSR_TRACKING_TAG_MASK) >> 3,
    overwrite: (attrs & CsrAttribute.OVERWRITE) !== 0,
    requesterInfo,
    opaqueData,
  };
}

export function encodeCsr(version: number, m: { csr: Uint8Array }): Uint8Array {
  return writeHeader(new Writer(8 + m.csr.length), version, ResponseCode.CSR)
    .u16(m.csr.length)
    .u16(0)
    .bytes(m.csr)
    .finish();
}

export function decodeCsr(bytes: Uint8Array): CsrResponse {
  const r = new Reader(bytes, 'CSR');
  const h = readHeaderSince(r, ResponseCode.CSR, 0x12);
  const length = r.u16('CSRLength');
  r.skip(2, 'Reserved');
  const csr = r.bytes(length, 'CSR');
  return { raw: r.consumed(), version: h.version, csr };
}
