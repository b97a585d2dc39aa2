/** GET_DIGESTS / DIGESTS (with the 1.3 multi-key fields). */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { popcount } from '../../wire/bytes.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';

export interface GetDigestsRequest {
  readonly raw: Uint8Array;
  readonly version: number;
}

export interface SlotDigest {
  readonly slot: number;
  readonly digest: Uint8Array;
  /** 1.3 multi-key connection only. */
  readonly keyPairId?: number;
  readonly certificateInfo?: number;
  readonly keyUsageMask?: number;
}

export interface DigestsResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  /** 1.3+: slots that exist (Param1); 0 before 1.3. */
  readonly supportedSlotMask: number;
  /** Slots holding a chain (Param2). */
  readonly provisionedSlotMask: number;
  readonly digests: readonly SlotDigest[];
}

export interface DigestsDecodeContext {
  readonly hashSize: number;
  /** MULTI_KEY_CONN in effect for the responder (1.3+). */
  readonly multiKeyConn?: boolean;
}

export function encodeGetDigests(version: number): Uint8Array {
  return writeHeader(new Writer(4), version, RequestCode.GET_DIGESTS).finish();
}

export function decodeGetDigests(bytes: Uint8Array): GetDigestsRequest {
  const r = new Reader(bytes, 'GET_DIGESTS');
  const h = readHeader(r, RequestCode.GET_DIGESTS);
  return { raw: r.consumed(), version: h.version };
}

export function encodeDigests(
  version: number,
  m: { supportedSlotMask?: number; digests: readonly SlotDigest[] },
  multiKeyConn = false,
): Uint8Array {
  let mask = 0;
  const sorted = [...m.digests].sort((a, b) => a.slot - b.slot);
  for (const d of sorted) mask |= 1 << d.slot;
  const w = new Writer(4 + sorted.length * 70);
  writeHeader(w, version, ResponseCode.DIGESTS, version >= 0x13 ? (m.supportedSlotMask ?? mask) : 0, mask);
  for (const d of sorted) w.bytes(d.digest);
  if (version >= 0x13 && multiKeyConn) {
    for (const d of sorted) w.u8(d.keyPairId ?? 0);
    for (const d of sorted) w.u8(d.certificateInfo ?? 0);
    for (const d of sorted) w.u16(d.keyUsageMask ?? 0);
  }
  return w.finish();
}

export function decodeDigests(bytes: Uint8Array, ctx: DigestsDecodeContext): DigestsResponse {
  const r = new Reader(bytes, 'DIGESTS');
  const h = readHeader(r, ResponseCode.DIGESTS);
  const provisioned = h.param2;
  const supported = h.version >= 0x13 ? h.param1 : 0;
  if (h.version >= 0x13 && (provisioned & ~supported) !== 0) {
    r.fail(
      'Param2',
      `ProvisionedSlotMask 0x${provisioned.toString(16)} has slots not in SupportedSlotMask 0x${supported.toString(16)}`,
      3,
    );
  }
  const n = popcount(provisioned);
  const slots: number[] = [];
  for (let s = 0; s < 8; s++) if (provisioned & (1 << s)) slots.push(s);
  const digs: Uint8Array[] = [];
  for (let i = 0; i < n; i++) digs.push(r.bytes(ctx.hashSize, `Digest[${i}]`));
  const multi = h.version >= 0x13 && ctx.multiKeyConn === true;
  const kp: number[] = [];
  const ci: number[] = [];
  const ku: number[] = [];
  if (multi) {
    for (let i = 0; i < n; i++) kp.push(r.u8(`KeyPairID[${i}]`));
    for (let i = 0; i < n; i++) ci.push(r.u8(`CertificateInfo[${i}]`));
    for (let i = 0; i < n; i++) ku.push(r.u16(`KeyUsageMask[${i}]`));
  }
  const digests: SlotDigest[] = slots.map((slot, i) => ({
    slot,
    digest: digs[i] as Uint8Array,
    ...(multi ? { keyPairId: kp[i], certificateInfo: ci[i], keyUsageMask: ku[i] } : {}),
  }));
  return {
    raw: r.consumed(),
    version: h.version,
    supportedSlotMask: supported,
    provisionedSlotMask: provisioned,
    digests,
  };
}
