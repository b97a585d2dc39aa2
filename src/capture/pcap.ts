/**
 * Classic pcap files as spdm-emu writes them (`--pcap`): a 24-byte global header (either byte
 * order, micro- or nanosecond timestamps) and one record per transport message.
 *
 * Records are read one at a time (`pcapRecords`) from bytes in memory or from an open file
 * (`PcapFileSource`, which holds one block of the file, not the file), so a capture of any size
 * is read in bounded memory. Errors are DecodeErrors of message `pcap` naming the record field
 * and the file offset, the same whichever source the records come from.
 */
import { fstatSync, readSync } from 'node:fs';
import { DecodeError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';

export const LinkType = { MCTP: 291, PCI_DOE: 292 } as const;

export interface PcapRecord {
  readonly index: number;
  readonly timestampUs: number;
  readonly originalLength: number;
  readonly data: Uint8Array;
}

export interface PcapHeader {
  readonly linkType: number;
  readonly snapLength: number;
}

export interface PcapFile extends PcapHeader {
  readonly records: readonly PcapRecord[];
}

/** No SPDM transport message exceeds a DOE object (1 MiB); a larger record is corrupt or hostile. */
const MAX_RECORD = LIMITS.pcapRecordBytes;

/** Random access to the bytes of a capture. */
export interface PcapSource {
  readonly size: number;
  /**
   * `length` bytes at `position` (the caller keeps within `size`). The view may be reused by the
   * next read unless `stable`: keep a copy of what must outlive it.
   */
  read(position: number, length: number): Uint8Array;
  /** Views returned by read() stay valid (bytes in memory): records need not be copied. */
  readonly stable: boolean;
}

/** A capture in memory. */
export function bytesSource(bytes: Uint8Array): PcapSource {
  return { size: bytes.length, stable: true, read: (position, length) => bytes.subarray(position, position + length) };
}

/** Bytes read from the file per read(2): a window of this size is all a file source holds. */
const BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * An open regular file, read through one window of BLOCK_BYTES (at least the largest record and
 * its header, so a record never needs a second buffer). The size is taken when it is opened.
 */
export class PcapFileSource implements PcapSource {
  readonly size: number;
  readonly stable = false;
  private readonly window = new Uint8Array(Math.max(BLOCK_BYTES, MAX_RECORD + 16));
  private start = 0;
  private end = 0;

  constructor(private readonly fd: number) {
    this.size = fstatSync(fd).size;
  }

  read(position: number, length: number): Uint8Array {
    if (position < this.start || position + length > this.end) this.fill(position, length);
    return this.window.subarray(position - this.start, position - this.start + length);
  }

  private fill(position: number, length: number): void {
    let got = 0;
    const want = Math.min(this.window.length, Math.max(length, this.size - position));
    while (got < want) {
      const n = readSync(this.fd, this.window, got, want - got, position + got);
      if (n === 0) break;
      got += n;
    }
    this.start = position;
    this.end = position + got;
    // The file shrank since it was opened.
    if (got < length)
      throw new DecodeError(
        'pcap',
        'file',
        position + got,
        `needs ${length} byte(s), ${got} left (the file was truncated while it was read)`,
      );
  }
}

/** Reads the pcap fields at positions, failing like wire/Reader: field, offset, what was missing. */
class FieldReader {
  constructor(
    readonly src: PcapSource,
    public pos = 0,
  ) {}

  get remaining(): number {
    return this.src.size - this.pos;
  }

  fail(field: string, reason: string, at: number = this.pos): never {
    throw new DecodeError('pcap', field, at, reason);
  }

  need(n: number, field: string): void {
    if (n > this.remaining) this.fail(field, `needs ${n} byte(s), ${this.remaining} left`);
  }

  u32(field: string, little: boolean): number {
    this.need(4, field);
    const v = u32At(this.src.read(this.pos, 4), 0, little);
    this.pos += 4;
    return v;
  }
}

function u32At(b: Uint8Array, o: number, little: boolean): number {
  const [b0, b1, b2, b3] = [b[o] as number, b[o + 1] as number, b[o + 2] as number, b[o + 3] as number];
  return little ? (b0 | (b1 << 8) | (b2 << 16)) + b3 * 0x1000000 : b0 * 0x1000000 + ((b1 << 16) | (b2 << 8) | b3);
}

interface Format {
  readonly little: boolean;
  readonly nano: boolean;
}

function readHeader(r: FieldReader): PcapHeader & Format {
  const magic = r.u32('magic', true);
  let little: boolean;
  let nano = false;
  switch (magic) {
    case 0xa1b2c3d4:
      little = true;
      break;
    case 0xa1b23c4d:
      little = true;
      nano = true;
      break;
    case 0xd4c3b2a1:
      little = false;
      break;
    case 0x4d3cb2a1:
      little = false;
      nano = true;
      break;
    default:
      return r.fail('magic', `0x${magic.toString(16)} is not a pcap file`, 0);
  }
  r.need(4, 'version');
  r.pos += 4;
  r.need(8, 'thiszone+sigfigs');
  r.pos += 8;
  const snapLength = r.u32('snaplen', little);
  const linkType = r.u32('network', little);
  return { linkType, snapLength, little, nano };
}

/**
 * A capture read record by record. `header` is read (and checked) when it is opened; `records()`
 * yields each record as it is read, `count()` checks the framing of every record and counts them
 * without reading their data.
 */
export class PcapReader {
  readonly header: PcapHeader;
  private readonly format: Format;

  constructor(private readonly src: PcapSource) {
    const h = readHeader(new FieldReader(src));
    this.header = { linkType: h.linkType, snapLength: h.snapLength };
    this.format = h;
  }

  *records(): Generator<PcapRecord, number> {
    return yield* this.walk(true);
  }

  count(): number {
    const it = this.walk(false);
    for (;;) {
      const n = it.next();
      if (n.done) return n.value;
    }
  }

  private *walk(withData: boolean): Generator<PcapRecord, number> {
    const { little, nano } = this.format;
    const r = new FieldReader(this.src, 24);
    let index = 0;
    while (r.remaining > 0) {
      const at = r.pos;
      let sec: number, frac: number, incl: number, orig: number;
      if (r.remaining >= 16) {
        const h = this.src.read(at, 16);
        [sec, frac, incl, orig] = [u32At(h, 0, little), u32At(h, 4, little), u32At(h, 8, little), u32At(h, 12, little)];
        r.pos += 16;
      } else {
        // A header cut short: read field by field so that the error names the missing one.
        sec = r.u32(`record[${index}].ts_sec`, little);
        frac = r.u32(`record[${index}].ts_frac`, little);
        incl = r.u32(`record[${index}].incl_len`, little);
        orig = r.u32(`record[${index}].orig_len`, little);
      }
      if (incl > MAX_RECORD) r.fail(`record[${index}].incl_len`, `${incl} bytes exceeds ${MAX_RECORD}`, at + 8);
      r.need(incl, `record[${index}].data`);
      if (withData) {
        const view = this.src.read(r.pos, incl);
        // A file source reuses its window: each record gets bytes of its own, so what a decoder
        // keeps of one record (a chunk, a transcript message) holds that record and nothing more.
        const data = this.src.stable ? view : view.slice();
        yield { index, timestampUs: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac), originalLength: orig, data };
      }
      r.pos += incl;
      index++;
    }
    return index;
  }
}

/** Every record of a capture in memory. */
export function parsePcap(bytes: Uint8Array): PcapFile {
  const reader = new PcapReader(bytesSource(bytes));
  return { ...reader.header, records: [...reader.records()] };
}
