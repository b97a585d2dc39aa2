/**
 * `spdm dump FILE`, streamed: the capture is read record by record from the file (pcap.ts
 * PcapFileSource), each record is decoded (CaptureDecoder), written out and forgotten. Memory is
 * what the decoder keeps for later records plus one block of the file and one block of output,
 * whatever the size of the capture; time is linear in it.
 *
 * The output is the same text as formatDump() and, with `json`, the same JSON document as
 * `JSON.stringify(dumpCapture(...), null, 1)`, written one packet at a time. The text starts with
 * the number of packets, so the records are counted first (a pass over the record headers that
 * also rejects a malformed file before anything is written, as reading it whole did).
 *
 * Only a regular file can be read twice; anything else (a pipe, /dev/stdin) is read whole into
 * memory, bounded by LIMITS.captureFileBytes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { LIMITS, LimitError } from '../wire/limits.js';
import { SpdmError } from '../wire/errors.js';
import {
  CaptureDecoder,
  formatDumpFooter,
  formatDumpHeader,
  formatPacketLines,
  type Dump,
  type DumpOptions,
} from './dump.js';
import { bytesSource, PcapFileSource, PcapReader, type PcapSource } from './pcap.js';

export interface DumpFileOptions extends DumpOptions {
  /** The JSON document instead of the text. */
  readonly json?: boolean;
}

/** Output is handed to the stream in pieces of about this many characters. */
const OUTPUT_BATCH_CHARS = 64 * 1024;

/** Collects output and writes it in batches, waiting for the stream to drain when it asks to. */
class BatchedOutput {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly out: Writable) {}

  /** True when a batch is full: the caller then awaits flush(). */
  add(text: string): boolean {
    this.parts.push(text);
    this.size += text.length;
    return this.size >= OUTPUT_BATCH_CHARS;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    // once() rejects if the stream fails (EPIPE...) instead of waiting for a drain that never comes.
    if (!this.out.write(text)) await once(this.out, 'drain');
  }
}

/** JSON.stringify(value, null, 1) of a value nested `depth` levels deep in the document. */
function nestedJson(value: unknown, depth: number): string {
  return JSON.stringify(value, null, 1).replace(/\n/g, `\n${' '.repeat(depth)}`);
}

/** A capture that cannot be opened or read (missing, a directory): a typed error, as a malformed one is. */
function unreadable(path: string, e: unknown): SpdmError {
  return new SpdmError('DECODE_ERROR', `capture ${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
}

/** The capture's bytes: the open file itself when it is a regular file, else read whole, bounded. */
function sourceOf(fd: number, path: string): PcapSource {
  if (fstatSync(fd).isFile()) return new PcapFileSource(fd);
  const max = LIMITS.captureFileBytes;
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      throw unreadable(path, e);
    }
    if (n === 0) break;
    total += n;
    if (total > max)
      throw new LimitError(
        'captureFileBytes',
        total,
        max,
        path,
        `${path}: more than ${max} bytes of capture from a pipe (a regular file is streamed without this limit)`,
      );
    chunks.push(chunk.subarray(0, n));
  }
  return bytesSource(new Uint8Array(Buffer.concat(chunks)));
}

/**
 * Dumps the capture at `path` to `out`; returns the summary. A malformed file header or record
 * framing is a DecodeError thrown before anything is written.
 */
export async function dumpFile(path: string, out: Writable, options: DumpFileOptions = {}): Promise<Dump['summary']> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw unreadable(path, e);
  }
  try {
    const reader = new PcapReader(sourceOf(fd, path));
    const total = reader.count();
    const decoder = new CaptureDecoder(reader.header.linkType, options);
    const o = new BatchedOutput(out);
    const json = options.json === true;
    o.add(
      json
        ? `{\n "linkType": ${JSON.stringify(reader.header.linkType)},\n "packets": [`
        : `${formatDumpHeader(reader.header.linkType, total)}\n`,
    );
    let first = true;
    const lines: string[] = [];
    for (const rec of reader.records()) {
      const p = decoder.packet(rec);
      let text: string;
      if (json) {
        text = `${first ? '\n' : ',\n'}  ${nestedJson(p, 2)}`;
      } else {
        lines.length = 0;
        text = `${formatPacketLines(p, lines).join('\n')}\n`;
      }
      first = false;
      if (o.add(text)) await o.flush();
    }
    const summary = decoder.summary;
    const sessions = decoder.sessions;
    const notListed = decoder.sessionsNotListed;
    if (json) {
      const more = notListed > 0 ? `,\n "sessionsNotListed": ${notListed}` : '';
      o.add(
        `${first ? ']' : '\n ]'},\n "sessions": ${nestedJson(sessions, 1)}${more},\n "summary": ${nestedJson(summary, 1)}\n}\n`,
      );
    } else o.add(`${formatDumpFooter(summary, sessions, [], notListed).join('\n')}\n`);
    await o.flush();
    return summary;
  } finally {
    closeSync(fd);
  }
}
