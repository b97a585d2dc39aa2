/**
 * Classic pcap files as spdm-emu writes them (`--pcap`): a 24-byte global header (either byte
 * order, micro- or nanosecond timestamps) and one record per transport message.
 */
import { LIMITS } from '../wire/limits.js';
import { Reader } from '../wire/reader.js';

export const LinkType = { MCTP: 291, PCI_DOE: 292 } as const;

export interface PcapRecord {
  readonly index: number;
  readonly timestampUs: number;
  readonly originalLength: number;
  readonly data: Uint8Array;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snapLength: number;
  readonly records: readonly PcapRecord[];
}

/** No SPDM transport message exceeds a DOE object (1 MiB); a larger record is corrupt or hostile. */
const MAX_RECORD = LIMITS.pcapRecordBytes;

export function parsePcap(bytes: Uint8Array): PcapFile {
  const r = new Reader(bytes, 'pcap');
  const magic = r.u32('magic');
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
  const u32 = (field: string) => (little ? r.u32(field) : r.u32be(field));
  r.skip(4, 'version');
  r.skip(8, 'thiszone+sigfigs');
  const snapLength = u32('snaplen');
  const linkType = u32('network');
  const records: PcapRecord[] = [];
  while (r.remaining > 0) {
    const at = r.offset;
    const sec = u32(`record[${records.length}].ts_sec`);
    const frac = u32(`record[${records.length}].ts_frac`);
    const incl = u32(`record[${records.length}].incl_len`);
    const orig = u32(`record[${records.length}].orig_len`);
    if (incl > MAX_RECORD) r.fail(`record[${records.length}].incl_len`, `${incl} bytes exceeds ${MAX_RECORD}`, at + 8);
    const data = r.bytes(incl, `record[${records.length}].data`);
    records.push({ index: records.length, timestampUs: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac), originalLength: orig, data });
  }
  return { linkType, snapLength, records };
}
