/**
 * The PCI identity of a device, read from its config space: what the PCIe CMA Subject Alternative
 * Name rule compares the leaf certificate against (IDs, class code, revision, subsystem IDs for
 * type 0 headers, and the Device Serial Number extended capability when present).
 */
import type { PciIdentity } from '../evidence/evidence.js';
import { findExtendedCapability, type ConfigSpace } from './config-space.js';

/** Extended capability ID of the Device Serial Number capability. */
export const PCI_EXT_CAP_ID_DSN = 0x0003;

export async function readPciIdentity(cs: ConfigSpace, bdf?: string): Promise<PciIdentity> {
  const ids = await cs.read32(0x00);
  const classRev = await cs.read32(0x08);
  const headerType = ((await cs.read32(0x0c)) >>> 16) & 0x7f;
  let subsystem: { subsystemVendorId: number; subsystemId: number } | undefined;
  if (headerType === 0) {
    const ss = await cs.read32(0x2c);
    subsystem = { subsystemVendorId: ss & 0xffff, subsystemId: ss >>> 16 };
  }
  let serialNumber: string | undefined;
  if (cs.size > 0x100) {
    const dsn = await findExtendedCapability(cs, PCI_EXT_CAP_ID_DSN);
    if (dsn !== undefined) {
      const lo = await cs.read32(dsn + 4);
      const hi = await cs.read32(dsn + 8);
      serialNumber = hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
    }
  }
  return {
    ...(bdf ? { bdf } : {}),
    vendorId: ids & 0xffff,
    deviceId: ids >>> 16,
    classCode: classRev >>> 8,
    revisionId: classRev & 0xff,
    ...(subsystem ?? {}),
    ...(serialNumber && serialNumber !== '0000000000000000' ? { serialNumber } : {}),
  };
}
