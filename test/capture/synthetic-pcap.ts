/**
 * Synthetic PCI DOE captures (pcap link type 292) written straight to a file, for the dump tests
 * and bench/dump.bench.ts: a large MEASUREMENTS fetched in many CHUNK_GET / CHUNK_RESPONSE
 * rounds, and captures of many empty or garbage records.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { LinkType } from '../../src/capture/pcap.js';
import { encodeDoeObject, DoeObjectType } from '../../src/transport/doe.js';
import { encodeChunkGet, encodeChunkResponse } from '../../src/spdm/messages/chunk.js';
import { encodeError } from '../../src/spdm/messages/error.js';
import { encodeGetMeasurements, encodeMeasurements } from '../../src/spdm/messages/measurements.js';
import { encodeDmtfBlock } from '../../src/spdm/messages/measurement-block.js';
import { encodeGetVersion, encodeVersion } from '../../src/spdm/messages/version.js';

/** Writes a pcap file record by record through a 1 MiB buffer. */
export class PcapWriter {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(1 << 20);
  private used = 0;
  records = 0;
  bytes = 0;

  constructor(path: string, linkType: number = LinkType.PCI_DOE) {
    this.fd = openSync(path, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(0xffff, 16);
    h.writeUInt32LE(linkType, 20);
    this.put(h);
  }

  /** One record; `inclLen` overrides the length field (to write a lying header). */
  record(data: Uint8Array, inclLen = data.length): void {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_700_000_000 + Math.floor(this.records / 1000), 0);
    h.writeUInt32LE((this.records % 1000) * 1000, 4);
    h.writeUInt32LE(inclLen, 8);
    h.writeUInt32LE(data.length, 12);
    this.put(h);
    this.put(data);
    this.records++;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private put(b: Uint8Array): void {
    this.bytes += b.length;
    if (this.used + b.length > this.buf.length) this.flush();
    if (b.length > this.buf.length) {
      writeSync(this.fd, b);
      return;
    }
    this.buf.set(b, this.used);
    this.used += b.length;
  }

  private flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }
}

/** An SPDM message as a CMA/SPDM DOE object. */
export function doeSpdm(message: Uint8Array): Uint8Array {
  return encodeDoeObject({ vendorId: 1, type: DoeObjectType.CMA_SPDM, payload: message });
}

/** Deterministic filler bytes. */
export function filler(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

/**
 * An unsigned MEASUREMENTS response of about `bytes` bytes (SPDM `version`): raw bit-stream
 * blocks of up to 60,000 bytes each.
 */
export function largeMeasurements(version: number, bytes: number): Uint8Array {
  const blocks: Uint8Array[] = [];
  let left = bytes;
  for (let i = 1; left > 0 && i < 255; i++) {
    const n = Math.min(60_000, left);
    blocks.push(encodeDmtfBlock(i, { raw: true, type: 1, value: filler(n, i) }));
    left -= n;
  }
  const record = Buffer.concat(blocks);
  return encodeMeasurements(version, { numberOfBlocks: blocks.length, record, nonce: filler(32, 99) }).message;
}

export interface ChunkedCapture {
  /** The large messages, in order, as they should reassemble. */
  readonly large: readonly Uint8Array[];
  readonly records: number;
  readonly bytes: number;
}

/**
 * `messages` large MEASUREMENTS of `largeBytes` each, each fetched like libspdm does: GET_MEASUREMENTS,
 * ERROR LargeResponse, then CHUNK_GET / CHUNK_RESPONSE rounds of `chunkBytes` (SPDM 1.4, whose
 * 32-bit ChunkSeqNo allows any number of chunks).
 */
export function writeChunkedCapture(
  path: string,
  o: { largeBytes: number; chunkBytes: number; messages?: number },
): ChunkedCapture {
  const v = 0x14;
  const w = new PcapWriter(path);
  const large: Uint8Array[] = [];
  w.record(doeSpdm(encodeGetVersion()));
  w.record(doeSpdm(encodeVersion([{ major: 1, minor: 4, update: 0, alpha: 0 }])));
  for (let m = 0; m < (o.messages ?? 1); m++) {
    const meas = largeMeasurements(v, o.largeBytes);
    large.push(meas);
    const handle = (m + 1) & 0xff;
    w.record(doeSpdm(encodeGetMeasurements(v, { attributes: 0, operation: 0xff })));
    w.record(doeSpdm(encodeError(v, 0x0f, 0, Uint8Array.of(handle))));
    for (let seq = 0, at = 0; at < meas.length; seq++) {
      const chunk = meas.subarray(at, at + o.chunkBytes);
      at += chunk.length;
      w.record(doeSpdm(encodeChunkGet(v, { handle, chunkSeqNo: seq })));
      w.record(
        doeSpdm(
          encodeChunkResponse(v, {
            lastChunk: at === meas.length,
            handle,
            chunkSeqNo: seq,
            ...(seq === 0 ? { largeMessageSize: meas.length } : {}),
            chunk,
          }),
        ),
      );
    }
  }
  w.close();
  return { large, records: w.records, bytes: w.bytes };
}

/** `count` records that are not SPDM: empty ones, and DOE objects too short for their header. */
export function writeGarbageCapture(path: string, count: number): { readonly records: number; readonly bytes: number } {
  const w = new PcapWriter(path);
  const garbage = Uint8Array.of(1, 0, 5);
  for (let i = 0; i < count; i++) w.record(i % 2 === 0 ? new Uint8Array(0) : garbage);
  w.close();
  return { records: w.records, bytes: w.bytes };
}
