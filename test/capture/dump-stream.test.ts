/**
 * `spdm dump` on captures far larger than the libspdm ones: a large message in thousands of
 * chunks reassembles to its bytes, a declared size over the bound is a typed error of that record,
 * and a capture of 200,000 garbage records is dumped in a heap far smaller than holding its
 * records would need. The streamed output is the same as the in-memory dump's.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { repoRoot } from '../support/paths.js';
import { dumpCapture, formatDump } from '../../src/capture/dump.js';
import { dumpFile } from '../../src/capture/dump-file.js';
import { PcapFileSource, PcapReader, parsePcap } from '../../src/capture/pcap.js';
import { ConversationDecoder, type DecodedMessage } from '../../src/spdm/conversation.js';
import { encodeChunkGet, encodeChunkResponse } from '../../src/spdm/messages/chunk.js';
import { encodeGetMeasurements } from '../../src/spdm/messages/measurements.js';
import { encodeGetVersion, encodeVersion } from '../../src/spdm/messages/version.js';
import { DecodeError } from '../../src/wire/errors.js';
import { LIMITS, LimitError } from '../../src/wire/limits.js';
import { toHex } from '../../src/wire/bytes.js';
import {
  doeSpdm,
  filler,
  largeMeasurements,
  PcapWriter,
  writeChunkedCapture,
  writeGarbageCapture,
} from './synthetic-pcap.js';

const dir = mkdtempSync(join(tmpdir(), 'spdmkit-dump-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const V = 0x14;

/** The decoder after a GET_MEASUREMENTS without signature, ready for CHUNK_GET / CHUNK_RESPONSE. */
function measuringDecoder(): ConversationDecoder {
  const dec = new ConversationDecoder();
  dec.feed('request', encodeGetMeasurements(V, { attributes: 0, operation: 0xff }));
  return dec;
}

function feedChunks(
  dec: ConversationDecoder,
  large: Uint8Array,
  sizes: (i: number) => number,
  handle = 3,
): DecodedMessage {
  let last: DecodedMessage | undefined;
  for (let seq = 0, at = 0; at < large.length || seq === 0; seq++) {
    const chunk = large.subarray(at, Math.min(large.length, at + sizes(seq)));
    at += chunk.length;
    dec.feed('request', encodeChunkGet(V, { handle, chunkSeqNo: seq }));
    last = dec.feed(
      'response',
      encodeChunkResponse(V, {
        lastChunk: at === large.length,
        handle,
        chunkSeqNo: seq,
        ...(seq === 0 ? { largeMessageSize: large.length } : {}),
        chunk,
      }),
    );
  }
  if (!last) throw new Error('no chunk');
  return last;
}

async function dumpToString(path: string, json = false): Promise<string> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  await dumpFile(path, out, json ? { json: true } : {});
  return Buffer.concat(parts).toString('utf8');
}

test('a large message in 12,000 chunks of uneven sizes (empty ones too) reassembles to its exact bytes', () => {
  const large = largeMeasurements(V, 300_000);
  const dec = measuringDecoder();
  // 0, 1, ..., 48 bytes per chunk: every size, empty chunks included, nothing aligned.
  const d = feedChunks(dec, large, (i) => i % 49);
  assert.ok(
    d.kind === 'CHUNK_RESPONSE' && d.large?.kind === 'MEASUREMENTS',
    'the last chunk carries the decoded MEASUREMENTS',
  );
  if (d.kind === 'CHUNK_RESPONSE' && d.large?.kind === 'MEASUREMENTS') {
    assert.equal(d.msg.chunkSeqNo > 12_000, true);
    assert.equal(d.large.msg.raw.length, large.length);
    assert.equal(toHex(d.large.msg.raw), toHex(large));
    assert.equal(d.large.msg.blocks.length, 5);
  }
  assert.equal(dec.state.chunkResponse, undefined, 'a completed reassembly is dropped');
});

test('two decoders continuing one reassembly (one seeded with the other state) keep their own bytes', () => {
  const a = measuringDecoder();
  const first = largeMeasurements(V, 2_000);
  a.feed('request', encodeChunkGet(V, { handle: 1, chunkSeqNo: 0 }));
  a.feed(
    'response',
    encodeChunkResponse(V, {
      lastChunk: false,
      handle: 1,
      chunkSeqNo: 0,
      largeMessageSize: first.length,
      chunk: first.subarray(0, 1000),
    }),
  );
  const b = new ConversationDecoder(a.state);
  const other = Uint8Array.from(first);
  const at = first.length - 40; // inside the nonce: still a valid MEASUREMENTS, different bytes
  other[at] = (other[at] ?? 0) ^ 0xff;
  const endA = a.feed(
    'response',
    encodeChunkResponse(V, { lastChunk: true, handle: 1, chunkSeqNo: 1, chunk: first.subarray(1000) }),
  );
  const endB = b.feed(
    'response',
    encodeChunkResponse(V, { lastChunk: true, handle: 1, chunkSeqNo: 1, chunk: other.subarray(1000) }),
  );
  assert.ok(endA.kind === 'CHUNK_RESPONSE' && endA.large && endB.kind === 'CHUNK_RESPONSE' && endB.large);
  if (
    endA.kind === 'CHUNK_RESPONSE' &&
    endA.large?.kind === 'MEASUREMENTS' &&
    endB.kind === 'CHUNK_RESPONSE' &&
    endB.large?.kind === 'MEASUREMENTS'
  ) {
    assert.equal(toHex(endA.large.msg.raw), toHex(first));
    assert.equal(toHex(endB.large.msg.raw), toHex(other));
  }
});

test('a LargeMessageSize over LIMITS.largeMessageBytes is refused at chunk 0, without allocating it', () => {
  const dec = measuringDecoder();
  dec.feed('request', encodeChunkGet(V, { handle: 2, chunkSeqNo: 0 }));
  const over = encodeChunkResponse(V, {
    lastChunk: false,
    handle: 2,
    chunkSeqNo: 0,
    largeMessageSize: LIMITS.largeMessageBytes + 1,
    chunk: filler(64),
  });
  assert.throws(
    () => dec.feed('response', over),
    (e: unknown) =>
      e instanceof LimitError &&
      e.limit === 'largeMessageBytes' &&
      e.value === LIMITS.largeMessageBytes + 1 &&
      /CHUNK_RESPONSE\.LargeMessageSize/.test(e.message),
  );
  assert.equal(dec.state.chunkResponse, undefined);
  // At the bound it is accepted; the buffer grows with what arrives, not with what is declared.
  dec.feed(
    'response',
    encodeChunkResponse(V, {
      lastChunk: false,
      handle: 2,
      chunkSeqNo: 0,
      largeMessageSize: LIMITS.largeMessageBytes,
      chunk: filler(64),
    }),
  );
  const state = dec.state;
  const a = state.chunkResponse;
  assert.equal(a?.received, 64);
  assert.ok((a?.bytes.buffer.byteLength ?? Infinity) <= 64 * 1024, 'no buffer of the declared size up front');
});

test('dump: the over-bound chunk is an error of its record, the dump goes on', async () => {
  const path = join(dir, 'over-bound.pcap');
  const w = new PcapWriter(path);
  w.record(doeSpdm(encodeGetMeasurements(V, { attributes: 0, operation: 0xff })));
  w.record(doeSpdm(encodeChunkGet(V, { handle: 2, chunkSeqNo: 0 })));
  w.record(
    doeSpdm(
      encodeChunkResponse(V, {
        lastChunk: false,
        handle: 2,
        chunkSeqNo: 0,
        largeMessageSize: 0xffffffff,
        chunk: filler(64),
      }),
    ),
  );
  w.record(doeSpdm(encodeGetVersion()));
  w.record(doeSpdm(encodeVersion([{ major: 1, minor: 4, update: 0, alpha: 0 }])));
  w.close();
  const d = dumpCapture(new Uint8Array(readFileSync(path)));
  assert.equal(d.summary.packets, 5);
  assert.equal(d.summary.errors, 1);
  const bad = d.packets[2];
  assert.equal(bad?.name, 'CHUNK_RESPONSE');
  assert.match(bad?.decodeError ?? '', /LargeMessageSize: 4294967295 exceeds the largeMessageBytes limit of 16777216/);
  assert.equal(d.packets[4]?.name, 'VERSION');
  assert.equal(d.packets[4]?.decodeError, undefined);
  const text = await dumpToString(path);
  assert.match(
    text,
    /#2 ← CHUNK_RESPONSE answers #1\n(.*\n)*? {4}DECODE ERROR: CHUNK_RESPONSE\.LargeMessageSize: 4294967295 exceeds the largeMessageBytes limit/,
  );
});

test('streamed dump of a chunked capture: same text and JSON as the in-memory dump, every chunk decoded', async () => {
  const path = join(dir, 'chunked.pcap');
  const cap = writeChunkedCapture(path, { largeBytes: 120_000, chunkBytes: 64, messages: 2 });
  const d = dumpCapture(new Uint8Array(readFileSync(path)));
  assert.equal(d.summary.packets, cap.records);
  assert.equal(d.summary.errors, 0);
  assert.equal(d.summary.decoded, cap.records);
  assert.equal(await dumpToString(path), `${formatDump(d)}\n`);
  assert.equal(await dumpToString(path, true), `${JSON.stringify(d, null, 1)}\n`);
});

test('streamed dump of an empty capture and of a truncated one (an error before any output)', async () => {
  const empty = join(dir, 'empty.pcap');
  new PcapWriter(empty).close();
  const d = dumpCapture(new Uint8Array(readFileSync(empty)));
  assert.equal(await dumpToString(empty), `${formatDump(d)}\n`);
  assert.equal(await dumpToString(empty, true), `${JSON.stringify(d, null, 1)}\n`);

  const cut = join(dir, 'cut.pcap');
  const w = new PcapWriter(cut);
  w.record(doeSpdm(encodeGetVersion()));
  w.record(doeSpdm(encodeGetVersion()), 400); // says 400 bytes, holds 12
  w.close();
  const out = new PassThrough();
  let written = 0;
  out.on('data', (b: Buffer) => (written += b.length));
  await assert.rejects(
    dumpFile(cut, out),
    (e: unknown) =>
      e instanceof DecodeError && e.field === 'record[1].data' && /needs 400 byte\(s\), 12 left/.test(e.message),
  );
  assert.equal(written, 0);
  assert.throws(
    () => parsePcap(new Uint8Array(readFileSync(cut))),
    (e: unknown) => e instanceof DecodeError && e.message === 'pcap.record[1].data @68: needs 400 byte(s), 12 left',
  );
});

test('the file reader yields the same records as the in-memory parser, in either byte order', () => {
  const path = join(dir, 'order.pcap');
  writeChunkedCapture(path, { largeBytes: 5_000, chunkBytes: 100 });
  const le = readFileSync(path);
  // The same capture big-endian with nanosecond timestamps.
  const be = Buffer.from(le);
  be.writeUInt32BE(0xa1b23c4d, 0);
  for (const o of [4, 6]) be.writeUInt16BE(le.readUInt16LE(o), o);
  for (const o of [8, 12, 16, 20]) be.writeUInt32BE(le.readUInt32LE(o), o);
  for (let at = 24; at < le.length; at += 16 + le.readUInt32LE(at + 8)) {
    be.writeUInt32BE(le.readUInt32LE(at), at);
    be.writeUInt32BE(le.readUInt32LE(at + 4) * 1000, at + 4);
    be.writeUInt32BE(le.readUInt32LE(at + 8), at + 8);
    be.writeUInt32BE(le.readUInt32LE(at + 12), at + 12);
  }
  const bePath = join(dir, 'order-be.pcap');
  writeFileSync(bePath, be);
  const expect = parsePcap(new Uint8Array(le));
  assert.ok(expect.records.length > 100);
  for (const file of [path, bePath]) {
    const fd = openSync(file, 'r');
    try {
      const r = new PcapReader(new PcapFileSource(fd));
      assert.equal(r.header.linkType, expect.linkType);
      assert.equal(r.count(), expect.records.length);
      const got = [...r.records()];
      assert.equal(got.length, expect.records.length);
      got.forEach((g, i) => {
        const e = expect.records[i];
        assert.equal(g.index, e?.index);
        assert.equal(g.timestampUs, e?.timestampUs);
        assert.equal(toHex(g.data), toHex(e?.data ?? new Uint8Array(0)));
      });
    } finally {
      closeSync(fd);
    }
  }
});

test(
  '200,000 garbage records are dumped in a 40 MB heap (holding them took ~340 MB)',
  { timeout: 60_000 },
  async () => {
    const path = join(dir, 'garbage.pcap');
    writeGarbageCapture(path, 200_000);
    const outPath = join(dir, 'garbage.out');
    const fd = openSync(outPath, 'w');
    const bin = join(repoRoot(), 'bin', 'spdm.js');
    const child = spawn(process.execPath, ['--max-old-space-size=40', bin, 'dump', path], {
      stdio: ['ignore', fd, 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    closeSync(fd);
    assert.equal(stderr.includes('heap out of memory'), false, 'no out-of-memory crash');
    assert.equal(code, 1, `exit 1 (errors in the capture), not a crash: ${stderr.slice(0, 300)}`);
    const text = readFileSync(outPath, 'utf8');
    assert.match(text, /^link type 292 \(PCI DOE\), 200000 packets\n/);
    assert.match(
      text,
      /\n200000 packets: 0 SPDM decoded, 0 SPDM header-only, 0 secured \(0 decrypted, 0 not decrypted, 0 failed\), 200000 errors; /,
    );
  },
);
