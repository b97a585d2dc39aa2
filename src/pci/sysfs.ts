/**
 * Linux sysfs backend: PCI config space through /sys/bus/pci/devices/<BDF>/config (4-byte
 * pread/pwrite, little-endian), the device list from the sysfs attribute files, and a scan for
 * DOE capabilities.
 *
 * Privileges: the config file is root-owned 0644. Opening it read-write needs root; unprivileged
 * reads return only the first 64 bytes (the kernel cuts them short), so the extended capabilities —
 * and the DOE mailbox — are out of reach. Recent kernels (drivers/pci/doe.c with CONFIG_SYSFS) also
 * list each DOE mailbox's protocols in <device>/doe_features/, which anyone can read.
 *
 * Note that the kernel drives DOE mailboxes itself (drivers/pci/doe.c, and CMA where built in);
 * exchanges from user space can collide with it, which shows up as Busy.
 */
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isSpdmError, SpdmError } from '../wire/errors.js';
import { PCI_SIG_VENDOR_ID, type DoeProtocol } from '../transport/doe.js';
import {
  checkConfigOffset,
  findExtendedCapabilities,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_EXT_CAP_ID_DOE,
  type ConfigSpace,
} from './config-space.js';

export const SYSFS_PCI_DEVICES = '/sys/bus/pci/devices';

export interface PciAddress {
  readonly domain: number;
  readonly bus: number;
  readonly device: number;
  readonly function: number;
}

// Domain is 4 hex digits normally; VMD and some hosts use 5+ (e.g. 10000:00:02.0), so up to 8 are accepted.
const BDF_RE = /^([0-9a-f]{4,8}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/;

/** Parses a sysfs PCI address `DDDD:BB:DD.F` (lower-case hex, as the kernel names devices). */
export function parseBdf(bdf: string): PciAddress {
  const m = BDF_RE.exec(bdf);
  const device = m ? Number.parseInt(m[3] as string, 16) : 0xff;
  if (!m || device > 0x1f) {
    throw new SpdmError(
      'TRANSPORT_ERROR',
      `invalid PCI address "${bdf}": expected DDDD:BB:DD.F (lower-case hex, device 00-1f, function 0-7)`,
      { bdf },
    );
  }
  return {
    domain: Number.parseInt(m[1] as string, 16),
    bus: Number.parseInt(m[2] as string, 16),
    device,
    function: Number.parseInt(m[4] as string, 10),
  };
}

export function isBdf(name: string): boolean {
  const m = BDF_RE.exec(name);
  return m !== null && Number.parseInt(m[3] as string, 16) <= 0x1f;
}

function errnoOf(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

function fsError(op: string, path: string, e: unknown, extra: Record<string, unknown> = {}): SpdmError {
  const errno = errnoOf(e);
  const hint = errno === 'EACCES' || errno === 'EPERM' ? ' (PCI config space access needs root)' : '';
  const reason = e instanceof Error ? e.message : String(e);
  return new SpdmError(
    'TRANSPORT_ERROR',
    `${op} ${path}: ${reason}${hint}`,
    { path, ...(errno ? { errno } : {}), ...extra },
    { cause: e },
  );
}

export interface SysfsOpenOptions {
  /** Directory holding the device entries (default /sys/bus/pci/devices). */
  readonly root?: string;
  /** Open read-only (enough for capability walks; default false: the DOE mailbox needs writes). */
  readonly readOnly?: boolean;
}

/** ConfigSpace over a sysfs `config` file: every access is one 4-byte pread/pwrite. */
export class SysfsConfigSpace implements ConfigSpace {
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly bdf: string,
    readonly path: string,
    readonly size: number,
    readonly writable: boolean,
  ) {}

  static async open(bdf: string, opts: SysfsOpenOptions = {}): Promise<SysfsConfigSpace> {
    parseBdf(bdf);
    const path = join(opts.root ?? SYSFS_PCI_DEVICES, bdf, 'config');
    const writable = !(opts.readOnly ?? false);
    let fh: FileHandle;
    try {
      fh = await open(path, writable ? 'r+' : 'r');
    } catch (e) {
      throw fsError('cannot open', path, e);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new SpdmError('TRANSPORT_ERROR', `${path} is not a file`, { path });
      // sysfs sizes the attribute to the device's config space: 256 (PCI) or 4096 (PCIe).
      const size = Math.min(PCI_CFG_SPACE_EXP_SIZE, st.size - (st.size % 4));
      return new SysfsConfigSpace(fh, bdf, path, size, writable);
    } catch (e) {
      await fh.close();
      throw e instanceof SpdmError ? e : fsError('cannot stat', path, e);
    }
  }

  async read32(offset: number): Promise<number> {
    checkConfigOffset(offset, this.size, this.path);
    this.checkOpen();
    const buf = Buffer.alloc(4);
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.fh.read(buf, 0, 4, offset));
    } catch (e) {
      throw fsError('cannot read', this.path, e, { offset });
    }
    if (bytesRead !== 4) {
      throw new SpdmError(
        'TRANSPORT_ERROR',
        `short read of ${this.path} at 0x${offset.toString(16)}: ${bytesRead} of 4 bytes (unprivileged readers see only the first 64 bytes of config space)`,
        { path: this.path, offset, bytesRead, reason: 'short-read' },
      );
    }
    return buf.readUInt32LE(0);
  }

  async write32(offset: number, value: number): Promise<void> {
    checkConfigOffset(offset, this.size, this.path);
    this.checkOpen();
    if (!this.writable)
      throw new SpdmError('TRANSPORT_ERROR', `${this.path} was opened read-only`, { path: this.path, offset });
    const buf = Buffer.alloc(4);
    buf.writeUInt32LE(value >>> 0, 0);
    let bytesWritten: number;
    try {
      ({ bytesWritten } = await this.fh.write(buf, 0, 4, offset));
    } catch (e) {
      throw fsError('cannot write', this.path, e, { offset });
    }
    if (bytesWritten !== 4) {
      throw new SpdmError(
        'TRANSPORT_ERROR',
        `short write to ${this.path} at 0x${offset.toString(16)}: ${bytesWritten} of 4 bytes`,
        { path: this.path, offset, bytesWritten, reason: 'short-write' },
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new TypeError(`${this.path} is closed`);
  }
}

// ---------------------------------------------------------------------------------------------
// Topology

export interface PciDeviceInfo {
  readonly bdf: string;
  readonly vendorId: number;
  readonly deviceId: number;
  /** 24-bit class code (base class, subclass, programming interface), when the attribute is readable. */
  readonly classCode?: number;
  /** The device's sysfs directory. */
  readonly path: string;
}

async function readHexAttribute(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const t = text.trim();
  return /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : undefined;
}

/**
 * Every PCI device under `root`, sorted by address, with vendor/device IDs and class from the sysfs
 * attribute files (readable without privileges). Entries that are not PCI addresses, or whose
 * vendor/device attributes cannot be read, are left out. A missing root (no PCI bus) gives [].
 */
export async function listPciDevices(root: string = SYSFS_PCI_DEVICES): Promise<PciDeviceInfo[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return [];
    throw fsError('cannot list', root, e);
  }
  const out: PciDeviceInfo[] = [];
  for (const bdf of names.filter(isBdf).sort()) {
    const path = join(root, bdf);
    const vendorId = await readHexAttribute(join(path, 'vendor'));
    const deviceId = await readHexAttribute(join(path, 'device'));
    if (vendorId === undefined || deviceId === undefined) continue;
    const classCode = await readHexAttribute(join(path, 'class'));
    out.push({ bdf, vendorId, deviceId, path, ...(classCode !== undefined ? { classCode } : {}) });
  }
  return out;
}

/**
 * The protocols recent Linux kernels list in <device>/doe_features: one file per protocol named
 * "VVVV:TT", plus "doe_discovery". Undefined when the directory does not exist.
 */
export async function readKernelDoeFeatures(devicePath: string): Promise<DoeProtocol[] | undefined> {
  let names: string[];
  try {
    names = await readdir(join(devicePath, 'doe_features'));
  } catch {
    return undefined;
  }
  const out: DoeProtocol[] = [];
  for (const n of names.sort()) {
    if (n === 'doe_discovery') {
      out.push({ vendorId: PCI_SIG_VENDOR_ID, type: 0 });
      continue;
    }
    const m = /^([0-9a-f]{4}):([0-9a-f]{2})$/.exec(n);
    if (m) out.push({ vendorId: Number.parseInt(m[1] as string, 16), type: Number.parseInt(m[2] as string, 16) });
  }
  return out.sort((a, b) => a.vendorId - b.vendorId || a.type - b.type);
}

export interface DoeScanEntry {
  readonly device: PciDeviceInfo;
  /** Offsets of the DOE capabilities in config space; undefined when config space could not be read. */
  readonly doeOffsets: readonly number[] | undefined;
  /** Protocols from <device>/doe_features (recent kernels); undefined without that directory. */
  readonly kernelFeatures: readonly DoeProtocol[] | undefined;
  /** Why config space could not be walked (permissions, short read, malformed list). */
  readonly problem?: { readonly code: string; readonly message: string };
}

export interface DoeScanOptions {
  readonly root?: string;
  /** Return every device, not only those with DOE or that could not be checked (default false). */
  readonly all?: boolean;
}

/**
 * Which devices have a DOE mailbox. Reads each device's config space read-only (needs root for the
 * extended region) and its doe_features directory. By default returns the devices with DOE plus
 * those that could not be checked (with `problem` saying why), so nothing is silently skipped.
 */
export async function scanDoeDevices(opts: DoeScanOptions = {}): Promise<DoeScanEntry[]> {
  const root = opts.root ?? SYSFS_PCI_DEVICES;
  const out: DoeScanEntry[] = [];
  for (const device of await listPciDevices(root)) {
    const kernelFeatures = await readKernelDoeFeatures(device.path);
    let doeOffsets: number[] | undefined;
    let problem: DoeScanEntry['problem'];
    let cs: SysfsConfigSpace | undefined;
    try {
      cs = await SysfsConfigSpace.open(device.bdf, { root, readOnly: true });
      if (cs.size < PCI_CFG_SPACE_SIZE) {
        problem = { code: 'SHORT_CONFIG', message: `${cs.path} holds only ${cs.size} bytes of config space` };
      } else {
        doeOffsets = await findExtendedCapabilities(cs, PCI_EXT_CAP_ID_DOE);
      }
    } catch (e) {
      if (!isSpdmError(e)) throw e;
      const d = e.details;
      const code = typeof d['errno'] === 'string' ? d['errno'] : d['reason'] === 'short-read' ? 'SHORT_READ' : e.code;
      problem = { code, message: e.message };
    } finally {
      await cs?.close();
    }
    const hasDoe = (doeOffsets?.length ?? 0) > 0 || (kernelFeatures?.length ?? 0) > 0;
    if (opts.all || hasDoe || doeOffsets === undefined) {
      out.push({ device, doeOffsets, kernelFeatures, ...(problem ? { problem } : {}) });
    }
  }
  return out;
}
