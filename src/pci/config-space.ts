/**
 * PCI configuration space access and the PCIe extended capability walk (PCIe r6.x sec 7.6).
 *
 * `ConfigSpace` is DW-granular and asynchronous so that a backend can do real I/O (the Linux
 * sysfs `config` file) as well as simulate a device in memory.
 */
import { DecodeError, SpdmError } from '../wire/errors.js';

export interface ConfigSpace {
  /** Reads the DW at `offset` (DW aligned, below `size`), as an unsigned 32-bit number. */
  read32(offset: number): Promise<number>;
  write32(offset: number, value: number): Promise<void>;
  /** Bytes of configuration space: 256 for conventional PCI, 4096 for PCIe. */
  readonly size: number;
  /** Releases the backend (file handle); optional. */
  close?(): Promise<void>;
}

export const PCI_CFG_SPACE_SIZE = 0x100;
export const PCI_CFG_SPACE_EXP_SIZE = 0x1000;
export const PCI_EXT_CAP_ID_DOE = 0x002e;

export interface ExtendedCapability {
  readonly offset: number;
  readonly id: number;
  readonly version: number;
  /** Next capability offset (low 2 bits masked, as PCIe requires); 0 ends the list. */
  readonly next: number;
}

/** Throws TRANSPORT_ERROR unless `offset` is a DW-aligned offset inside a config space of `size` bytes. */
export function checkConfigOffset(offset: number, size: number, where = 'config space'): void {
  if (!Number.isInteger(offset) || offset < 0 || offset % 4 !== 0 || offset + 4 > size) {
    throw new SpdmError('TRANSPORT_ERROR', `${where}: offset ${offset} is not a DW-aligned offset below ${size}`, {
      offset,
      size,
    });
  }
}

export function decodeExtendedCapabilityHeader(offset: number, header: number): ExtendedCapability {
  return {
    offset,
    id: header & 0xffff,
    version: (header >>> 16) & 0xf,
    // PCIe: "The bottom two bits of this offset are Reserved ... software must mask them."
    next: (header >>> 20) & 0xffc,
  };
}

export function encodeExtendedCapabilityHeader(id: number, version: number, next: number): number {
  return ((id & 0xffff) | ((version & 0xf) << 16) | ((next & 0xfff) << 20)) >>> 0;
}

const LIST = 'PCI extended capability list';

/**
 * Walks the extended capability list from 0x100, yielding each capability in list order and
 * stopping at a Next of 0. An empty list (header 0 at 0x100, or a config space without the
 * extended region) yields nothing. A list that loops, or points below 0x100 or beyond the config
 * space, is a DecodeError naming the offending header; a header of all ones (device gone or config
 * read failing) is a TRANSPORT_ERROR. At most (size - 0x100) / 4 headers are read.
 */
export async function* walkExtendedCapabilities(cs: ConfigSpace): AsyncGenerator<ExtendedCapability, void, undefined> {
  if (cs.size <= PCI_CFG_SPACE_SIZE) return;
  const seen = new Set<number>();
  const maxEntries = (cs.size - PCI_CFG_SPACE_SIZE) / 4;
  let offset = PCI_CFG_SPACE_SIZE;
  for (let i = 0; i < maxEntries; i++) {
    const header = await cs.read32(offset);
    if (header === 0xffffffff) {
      throw new SpdmError(
        'TRANSPORT_ERROR',
        `extended capability header at 0x${offset.toString(16)} reads all ones: device absent or config read failing`,
        { offset },
      );
    }
    if (header === 0 && offset === PCI_CFG_SPACE_SIZE) return; // no extended capabilities at all
    seen.add(offset);
    const cap = decodeExtendedCapabilityHeader(offset, header);
    yield cap;
    if (cap.next === 0) return;
    const id = `capability 0x${cap.id.toString(16)} at 0x${offset.toString(16)}`;
    if (cap.next < PCI_CFG_SPACE_SIZE) {
      throw new DecodeError(
        LIST,
        'Next',
        offset,
        `${id} points to 0x${cap.next.toString(16)}, below the extended region at 0x100`,
      );
    }
    if (cap.next + 4 > cs.size) {
      throw new DecodeError(
        LIST,
        'Next',
        offset,
        `${id} points to 0x${cap.next.toString(16)}, beyond the ${cs.size}-byte config space`,
      );
    }
    if (seen.has(cap.next)) {
      throw new DecodeError(LIST, 'Next', offset, `${id} points back to 0x${cap.next.toString(16)}: the list loops`);
    }
    offset = cap.next;
  }
  // Unreachable given the seen-set (there are only maxEntries distinct offsets); a hard bound all the same.
  throw new DecodeError(LIST, 'Next', offset, `more than ${maxEntries} entries`);
}

/** Every extended capability, in list order (see walkExtendedCapabilities for the errors). */
export async function listExtendedCapabilities(cs: ConfigSpace): Promise<ExtendedCapability[]> {
  const out: ExtendedCapability[] = [];
  for await (const cap of walkExtendedCapabilities(cs)) out.push(cap);
  return out;
}

/** Offsets of every extended capability with ID `capId` (a device may have several DOE mailboxes). */
export async function findExtendedCapabilities(cs: ConfigSpace, capId: number): Promise<number[]> {
  return (await listExtendedCapabilities(cs)).filter((c) => c.id === capId).map((c) => c.offset);
}

/**
 * Offset of the first extended capability with ID `capId`, or undefined when the list ends
 * without it. Stops at the first match, so a malformed entry after it does not matter.
 */
export async function findExtendedCapability(cs: ConfigSpace, capId: number): Promise<number | undefined> {
  for await (const cap of walkExtendedCapabilities(cs)) {
    if (cap.id === capId) return cap.offset;
  }
  return undefined;
}

/**
 * A plain config space in memory: reads and writes a byte array. Handy for building test devices
 * (and the base of the simulated DOE device).
 */
export class MemoryConfigSpace implements ConfigSpace {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(size: number = PCI_CFG_SPACE_EXP_SIZE) {
    if (size !== PCI_CFG_SPACE_SIZE && size !== PCI_CFG_SPACE_EXP_SIZE) {
      throw new SpdmError('TRANSPORT_ERROR', `config space size must be 256 or 4096, got ${size}`);
    }
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  get size(): number {
    return this.bytes.length;
  }
  peek32(offset: number): number {
    checkConfigOffset(offset, this.size);
    return this.view.getUint32(offset, true);
  }
  poke32(offset: number, value: number): void {
    checkConfigOffset(offset, this.size);
    this.view.setUint32(offset, value >>> 0, true);
  }
  async read32(offset: number): Promise<number> {
    return this.peek32(offset);
  }
  async write32(offset: number, value: number): Promise<void> {
    this.poke32(offset, value);
  }
}
