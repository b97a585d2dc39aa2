/**
 * The PCIe CMA rule for the leaf certificate (PCIe r6.1 sec 6.31.3, as Linux implements it in
 * pci_cma_construct_san / pci_cma_note_san): the leaf's subjectAltName must carry an otherName of
 * type 2.23.147 whose UTF8String equals, byte for byte, a string built from the function's config
 * space:
 *
 *   Vendor=%04hx:Device=%04hx:CC=%06x:REV=%02hhx[:SSVID=%04hx:SSID=%04hx][:%016llx]
 *
 * (lowercase hex; subsystem IDs only for Type 0 headers; the Device Serial Number, without a key,
 * only when the DSN capability is present). Other GeneralNames and otherNames are ignored.
 */
import type { PciIdentity } from '../evidence/evidence.js';
import type { ParsedCertificate } from '../x509/certificate.js';
import { OID_PCIE_CMA } from '../x509/oids.js';

function hex(v: number, width: number): string {
  return (v >>> 0).toString(16).padStart(width, '0');
}

/** The expected SAN string for `pci`, exactly as Linux builds it. */
export function cmaSanString(pci: PciIdentity): string {
  let s = `Vendor=${hex(pci.vendorId & 0xffff, 4)}:Device=${hex(pci.deviceId & 0xffff, 4)}:CC=${hex(pci.classCode & 0xffffff, 6)}:REV=${hex(pci.revisionId & 0xff, 2)}`;
  if (pci.subsystemVendorId !== undefined && pci.subsystemId !== undefined) {
    s += `:SSVID=${hex(pci.subsystemVendorId & 0xffff, 4)}:SSID=${hex(pci.subsystemId & 0xffff, 4)}`;
  }
  if (
    pci.serialNumber !== undefined &&
    /^[0-9a-fA-F]{1,16}$/.test(pci.serialNumber) &&
    !/^0+$/.test(pci.serialNumber)
  ) {
    s += `:${pci.serialNumber.toLowerCase().padStart(16, '0')}`;
  }
  return s;
}

export type CmaSanResult =
  | { readonly ok: true; readonly expected: string }
  | {
      readonly ok: false;
      readonly code: 'SAN_MISSING' | 'SAN_MISMATCH';
      readonly expected: string;
      readonly found: readonly string[];
      readonly message: string;
    };

/** Checks the leaf certificate against the PCI identity the device was found with. */
export function checkCmaSan(leaf: ParsedCertificate, pci: PciIdentity): CmaSanResult {
  const expected = cmaSanString(pci);
  const cma = leaf.otherNames.filter((n) => n.typeId === OID_PCIE_CMA);
  if (cma.length === 0) {
    return {
      ok: false,
      code: 'SAN_MISSING',
      expected,
      found: [],
      message: `leaf "${leaf.subject}" has no PCIe CMA subjectAltName (otherName 2.23.147); expected "${expected}"`,
    };
  }
  if (cma.some((n) => n.tag === 0x0c && n.value === expected)) return { ok: true, expected };
  const found = cma.map((n) =>
    n.tag === 0x0c && n.value !== undefined ? n.value : `<tag 0x${n.tag.toString(16)}, not a UTF8String>`,
  );
  return {
    ok: false,
    code: 'SAN_MISMATCH',
    expected,
    found,
    message: `leaf "${leaf.subject}" names ${found.map((f) => `"${f}"`).join(', ')} in its PCIe CMA subjectAltName, the device is "${expected}"`,
  };
}
