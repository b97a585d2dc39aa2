/**
 * The DSP0277 (secured messages) version an exchange response selects in its opaque data: a fact
 * about the session both peers need, whoever reads it (a live requester, or a capture's observer).
 */
import { decodeOpaqueData } from '../spdm/opaque.js';

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
