/**
 * The DSP0277 (secured messages) version an exchange response selects in its opaque data: a fact
 * about the session both peers need, whoever reads it (a live requester, or a capture's observer).
 */
import { SpdmError } from '../wire/errors.js';
import { decodeOpaqueData, encodeOpaqueData } from '../spdm/opaque.js';

/** The DSP0277 version in VersionSelection (DMTF element, SMDataID 0), as its u16 (0x1300 = 1.3). */
export function selectedSecuredMessageVersion(opaque: Uint8Array): number | undefined {
  if (opaque.length === 0) return undefined;
  try {
    for (const e of decodeOpaqueData(opaque).elements) {
      const d = e.data;
      if (e.registryId === 0 && d.length >= 4 && d[1] === 0) return (d[2] as number) | ((d[3] as number) << 8);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** A secured message version u16 as text: 0x1300 is "1.3". */
export function securedVersionText(v: number): string {
  return `${(v >> 12) & 0xf}.${(v >> 8) & 0xf}`;
}

// ---------------------------------------------------------------------------------------------
// Version negotiation in KEY_EXCHANGE / PSK_EXCHANGE opaque data (messages.md §19.3)

/** DSP0277 versions this library speaks, most preferred first (the record format is the same; 1.2 fixed the LE nonce). */
export const SUPPORTED_SECURED_VERSIONS: readonly number[] = [0x1200, 0x1100, 0x1000];

const SM_DATA_VERSION = 1;
const SM_VERSION_SELECTION = 0;
const SM_SUPPORTED_VERSION = 1;

/** Which opaque data form a session exchange uses: DSP0277 1.0 with SPDM 1.1, the general format once OtherParams negotiated it (1.2+). */
export function sessionOpaqueFormat(spdmVersion: number, otherParams: number): 'general' | 'dsp0277-1.0' | undefined {
  if (spdmVersion === 0x11) return 'dsp0277-1.0';
  return (otherParams & 0x02) !== 0 ? 'general' : undefined;
}

/** KEY_EXCHANGE / PSK_EXCHANGE OpaqueData: one SupportedVersion element listing `versions`. */
export function encodeSupportedVersions(versions: readonly number[], format: 'general' | 'dsp0277-1.0'): Uint8Array {
  const data = new Uint8Array(3 + 2 * versions.length);
  data[0] = SM_DATA_VERSION;
  data[1] = SM_SUPPORTED_VERSION;
  data[2] = versions.length;
  versions.forEach((v, i) => {
    data[3 + 2 * i] = v & 0xff;
    data[4 + 2 * i] = v >>> 8;
  });
  return encodeOpaqueData([{ registryId: 0, vendorId: new Uint8Array(0), data }], format);
}

/** The versions a SupportedVersion element lists, or undefined when the opaque data holds none (or is malformed). */
export function offeredSecuredVersions(opaque: Uint8Array): number[] | undefined {
  if (opaque.length === 0) return undefined;
  try {
    for (const e of decodeOpaqueData(opaque).elements) {
      const d = e.data;
      if (e.registryId !== 0 || e.vendorId.length !== 0 || d.length < 3 || d[1] !== SM_SUPPORTED_VERSION) continue;
      const n = d[2] as number;
      if (d.length < 3 + 2 * n) return undefined;
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((d[3 + 2 * i] as number) | ((d[4 + 2 * i] as number) << 8));
      return out;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** KEY_EXCHANGE_RSP / PSK_EXCHANGE_RSP OpaqueData: the VersionSelection element. */
export function encodeVersionSelection(version: number, format: 'general' | 'dsp0277-1.0'): Uint8Array {
  const data = Uint8Array.of(SM_DATA_VERSION, SM_VERSION_SELECTION, version & 0xff, version >>> 8);
  return encodeOpaqueData([{ registryId: 0, vendorId: new Uint8Array(0), data }], format);
}

/**
 * A caller's list of DSP0277 versions to offer or accept (u16, 0x1100 = 1.1): non-empty, each one
 * this library speaks. TypeError otherwise: it is the caller's configuration, not a peer's.
 */
export function checkSecuredVersions(versions: readonly number[]): readonly number[] {
  if (versions.length === 0) throw new TypeError('securedVersions: at least one DSP0277 version');
  for (const v of versions)
    if (!Number.isInteger(v) || !SUPPORTED_SECURED_VERSIONS.some((s) => s >> 8 === v >> 8))
      throw new TypeError(
        `securedVersions: 0x${Number(v).toString(16)} is not one of ${SUPPORTED_SECURED_VERSIONS.map(securedVersionText).join(', ')}`,
      );
  return versions;
}

/** The version both sides speak (highest of ours the peer offers, comparing major.minor only), or undefined. */
export function chooseSecuredVersion(
  offered: readonly number[],
  ours: readonly number[] = SUPPORTED_SECURED_VERSIONS,
): number | undefined {
  return SUPPORTED_SECURED_VERSIONS.find(
    (v) => ours.some((o) => o >> 8 === v >> 8) && offered.some((o) => o >> 8 === v >> 8),
  );
}

/**
 * The responder's choice for a KEY_EXCHANGE or PSK_EXCHANGE: the highest DSP0277 version it shares
 * with the request's SupportedVersionList and the VersionSelection element that says so; 1.0 with
 * no opaque data when the connection negotiated no opaque format. Undefined when the request lists
 * none we share (the responder answers InvalidRequest).
 */
export function chooseRequestSecuredVersion(
  format: ReturnType<typeof sessionOpaqueFormat>,
  requestOpaque: Uint8Array,
  ours: readonly number[] = SUPPORTED_SECURED_VERSIONS,
): { readonly securedVersion: number; readonly opaqueData?: Uint8Array } | undefined {
  if (!format) return { securedVersion: 0x1000 };
  const offered = offeredSecuredVersions(requestOpaque);
  const chosen = offered && chooseSecuredVersion(offered, ours);
  if (chosen === undefined) return undefined;
  return { securedVersion: chosen, opaqueData: encodeVersionSelection(chosen, format) };
}

/**
 * The DSP0277 version a KEY_EXCHANGE_RSP / PSK_EXCHANGE_RSP selected from the ones we offered;
 * 1.0 when no opaque data format was negotiated (and then the response must carry no opaque data).
 */
export function responseSecuredVersion(
  format: ReturnType<typeof sessionOpaqueFormat>,
  opaqueData: Uint8Array,
  messageName: string,
  offered: readonly number[] = SUPPORTED_SECURED_VERSIONS,
): number {
  if (!format) {
    if (opaqueData.length !== 0)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `${messageName}: opaque data present although no opaque format was negotiated`,
      );
    return 0x1000;
  }
  const v = selectedSecuredMessageVersion(opaqueData);
  if (v === undefined || !offered.some((s) => s >> 8 === v >> 8))
    throw new SpdmError(
      'UNEXPECTED_RESPONSE',
      `${messageName}: secured message version ${v === undefined ? 'not selected' : `0x${v.toString(16)} was not offered`}`,
    );
  return v;
}
