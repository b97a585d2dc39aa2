/**
 * Large messages (CHUNK_SEND / CHUNK_GET), requester ⇄ device emulator in-process with small
 * DataTransferSizes on both sides: CERTIFICATE, CHALLENGE_AUTH, MEASUREMENTS and KEY_EXCHANGE_RSP
 * come back in CHUNK_RESPONSE pieces, KEY_EXCHANGE and FINISH go out in CHUNK_SEND pieces (inside
 * the session for what travels there), for SPDM 1.2, 1.3 and 1.4. Every signature verifying on
 * both sides shows that both transcripts hold the reassembled messages, not the chunks. A device
 * that lies about chunks, and a requester that sends bad chunks, get typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import {
  decodeChunkResponse,
  decodeChunkSendAck,
  encodeChunkResponse,
  encodeChunkSend,
} from '../../src/spdm/messages/chunk.js';
import { decodeError, ErrorCode } from '../../src/spdm/messages/error.js';
import { encodeGetMeasurements } from '../../src/spdm/messages/measurements.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import type { RequesterOptions } from '../../src/requester/options.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { SUITES, device } from '../support/fixtures.js';

const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX | F.CHUNK;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX | F.CHUNK;

function chunkProfile(versions: number[], dataTransferSize: number, flags = RSP_FLAGS): DeviceProfile {
  const base = device(SUITES[1]!).profile;
  return {
    ...base,
    versions,
    capabilities: { ...base.capabilities, flags, dataTransferSize, maxSpdmMsgSize: 0x10000 },
  };
}

function options(version: number, dataTransferSize: number, extra: RequesterOptions = {}): RequesterOptions {
  return {
    versions: [version],
    capabilityFlags: REQ_FLAGS,
    dataTransferSize,
    maxSpdmMsgSize: 0x10000,
    session: {},
    ...extra,
  };
}

/** Counts the secured-path requests too: stats only sees the inner code of what opened. */
function counts(r: Responder): { send: number; get: number } {
  return { send: r.stats.get(RequestCode.CHUNK_SEND) ?? 0, get: r.stats.get(RequestCode.CHUNK_GET) ?? 0 };
}

for (const version of [0x12, 0x13, 0x14]) {
  test(`chunked authenticate with a session, SPDM ${version.toString(16)}: every large message in chunks, signatures verify`, async () => {
    const responder = new Responder(chunkProfile([version], 96));
    const requester = new Requester(new LoopbackTransport(responder), options(version, 64));
    const ev = await requester.authenticate({ session: {} });
    const kinds = ev.signatures.map((s) => [s.kind, s.verified]);
    assert.deepEqual(
      kinds.map(([k]) => k),
      ['CHALLENGE_AUTH', 'KEY_EXCHANGE_RSP', 'MEASUREMENTS'],
    );
    for (const [k, ok] of kinds) assert.equal(ok, true, `${String(k)} verifies`);
    for (const c of reverifySignatures(ev)) assert.ok(c.ok, c.reason);
    const n = counts(responder);
    assert.ok(n.send > 0, 'KEY_EXCHANGE (and FINISH) went out in CHUNK_SEND pieces');
    assert.ok(n.get > 10, 'the chain, CHALLENGE_AUTH, KEY_EXCHANGE_RSP and MEASUREMENTS came in CHUNK_RESPONSE pieces');
    assert.equal(requester.lastSession?.ran.join(','), 'KEY_EXCHANGE,FINISH,GET_MEASUREMENTS,END_SESSION');
  });
}

test('chunking both ways at the 1.2 minimum DataTransferSize (42) and at 256', async () => {
  for (const [rsp, req] of [
    [42, 42],
    [256, 256],
  ] as const) {
    const responder = new Responder(chunkProfile([0x12], rsp));
    const requester = new Requester(new LoopbackTransport(responder), options(0x12, req));
    const ev = await requester.authenticate({ session: {} });
    assert.ok(ev.signatures.every((s) => s.verified));
    assert.ok(counts(responder).get > 0);
  }
});

/** The emulator, with every clear message that crosses the wire kept (code and size). */
function wireWatched(responder: Responder): { handler: SpdmHandler; wire: { code: number; size: number }[] } {
  const wire: { code: number; size: number }[] = [];
  const handler: SpdmHandler = {
    handle: async (request) => {
      wire.push({ code: request[1] ?? 0, size: request.length });
      const response = await responder.handle(request);
      wire.push({ code: response[1] ?? 0, size: response.length });
      return response;
    },
    handleSecured: (record) => responder.handleSecured(record),
  };
  return { handler, wire };
}

for (const version of [0x12, 0x13, 0x14]) {
  test(`SPDM ${version.toString(16)} at DataTransferSize 42: NEGOTIATE_ALGORITHMS and ALGORITHMS travel in chunks too, nothing larger crosses`, async () => {
    // Four AlgStructs make NEGOTIATE_ALGORITHMS 48 bytes and ALGORITHMS 52: over a 42-byte transfer.
    // Chunking is allowed from CAPABILITIES on; before the fix both went whole (libspdm at 1.4 chunks them).
    const responder = new Responder(chunkProfile([version], 42));
    const { handler, wire } = wireWatched(responder);
    const requester = new Requester(new LoopbackTransport(handler), options(version, 42));
    const ev = await requester.authenticate({ session: {} });
    assert.ok(ev.signatures.every((s) => s.verified));
    const oversized = wire.filter((m) => m.size > 42);
    assert.deepEqual(oversized, [], 'no clear message larger than both DataTransferSizes');
    assert.ok(
      !wire.some((m) => m.code === RequestCode.NEGOTIATE_ALGORITHMS),
      'NEGOTIATE_ALGORITHMS went in CHUNK_SEND',
    );
    assert.ok(!wire.some((m) => m.code === ResponseCode.ALGORITHMS), 'ALGORITHMS came by CHUNK_GET');
    // Transcript A holds the whole messages: the KEY_EXCHANGE_RSP and CHALLENGE_AUTH signatures verify over it.
    for (const c of reverifySignatures(ev)) assert.ok(c.ok, c.reason);
  });
}

test('a device with a small DataTransferSize: requests go in CHUNK_SEND, and what it sends is bounded by its own size too', async () => {
  // The requester takes 4 KiB; the device 48-byte messages. As libspdm (sender_data_transfer_size) the
  // device sends nothing larger than it takes: the response to the last CHUNK_SEND of KEY_EXCHANGE
  // comes as ERROR LargeResponse in place of the ACK, then by CHUNK_GET. FINISH (52 bytes) is chunked
  // inside the session and FINISH_RSP rides in its last ACK, whose data keys then work.
  const responder = new Responder(chunkProfile([0x13], 48));
  const requester = new Requester(new LoopbackTransport(responder), options(0x13, 4096));
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  const s = await requester.startSession();
  assert.ok(counts(responder).send >= 5);
  assert.ok(counts(responder).get > 0);
  const run = await s.getMeasurements();
  assert.ok(run.signature?.verified);
  await s.end();
});

test('without CHUNK_CAP on both sides nothing is chunked (and CERTIFICATE comes in DataTransferSize portions)', async () => {
  const responder = new Responder(chunkProfile([0x12], 256, RSP_FLAGS & ~F.CHUNK));
  const requester = new Requester(new LoopbackTransport(responder), options(0x12, 4096, { maxSpdmMsgSize: 4096 }));
  const ev = await requester.authenticate();
  assert.ok(ev.signatures.every((s) => s.verified));
  assert.deepEqual(counts(responder), { send: 0, get: 0 });
});

test('a response beyond the requester MaxSPDMmsgSize is ERROR ResponseTooLarge, a typed DEVICE_ERROR', async () => {
  const responder = new Responder(chunkProfile([0x12], 256));
  // 300 bytes take the chain (in portions) and CHALLENGE_AUTH, not all measurement blocks signed in one.
  const requester = new Requester(new LoopbackTransport(responder), options(0x12, 64, { maxSpdmMsgSize: 300 }));
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  await requester.challenge(0);
  await assert.rejects(requester.getMeasurements({ mode: 'all' }), (e: unknown) => {
    assert.ok(isSpdmError(e, 'DEVICE_ERROR'), String(e));
    assert.equal(e.details.errorName, 'ResponseTooLarge');
    return true;
  });
});

/** A device that answers CHUNK_GET with what `edit` makes of its honest CHUNK_RESPONSE. */
class LyingChunks implements SpdmHandler {
  constructor(
    private readonly inner: Responder,
    private readonly edit: (response: Uint8Array, request: Uint8Array) => Uint8Array,
  ) {}
  async handle(request: Uint8Array): Promise<Uint8Array> {
    const response = await this.inner.handle(request);
    return request[1] === RequestCode.CHUNK_GET ? this.edit(response, request) : response;
  }
}

async function lyingRun(edit: (response: Uint8Array, request: Uint8Array) => Uint8Array): Promise<unknown> {
  const responder = new Responder(chunkProfile([0x13], 128));
  const requester = new Requester(
    new LoopbackTransport(new LyingChunks(responder, edit)),
    options(0x13, 64, { maxSpdmMsgSize: 8192, session: undefined }),
  );
  try {
    await requester.authenticate();
  } catch (e) {
    return e;
  }
  assert.fail('the lying device was accepted');
}

function rewrite(
  response: Uint8Array,
  change: (m: ReturnType<typeof decodeChunkResponse>) => Parameters<typeof encodeChunkResponse>[1],
): Uint8Array {
  const m = decodeChunkResponse(response);
  return encodeChunkResponse(m.version, change(m));
}

test('lying device: LargeMessageSize beyond our MaxSPDMmsgSize is refused at chunk 0 (LIMIT_EXCEEDED)', async () => {
  const e = await lyingRun((r) =>
    rewrite(r, (m) => ({ ...m, ...(m.chunkSeqNo === 0 ? { largeMessageSize: 0x7fffffff } : {}) })),
  );
  assert.ok(isSpdmError(e, 'LIMIT_EXCEEDED'), String(e));
});

test('lying device: a chunk out of sequence is a typed error', async () => {
  const e = await lyingRun((r) => rewrite(r, (m) => ({ ...m, chunkSeqNo: m.chunkSeqNo === 1 ? 2 : m.chunkSeqNo })));
  assert.ok(isSpdmError(e, 'PROTOCOL_ERROR'), String(e));
  assert.match((e as Error).message, /chunk 2, we asked for 1/);
});

test('lying device: a CHUNK_RESPONSE larger than our DataTransferSize is refused', async () => {
  const e = await lyingRun((r) =>
    rewrite(r, (m) => (m.lastChunk ? m : { ...m, chunk: new Uint8Array([...m.chunk, ...new Uint8Array(64)]) })),
  );
  assert.ok(isSpdmError(e, 'PROTOCOL_ERROR'), String(e));
  assert.match((e as Error).message, /our DataTransferSize is 64/);
});

test('lying device: endless empty chunks end at the first one (no hang, no growth)', async () => {
  const e = await lyingRun((r) => rewrite(r, (m) => ({ ...m, lastChunk: false, chunk: new Uint8Array(0) })));
  assert.ok(isSpdmError(e, 'PROTOCOL_ERROR'), String(e));
  assert.match((e as Error).message, /empty and not the last/);
});

test('lying device: chunks beyond LargeMessageSize, or a last chunk short of it, are DecodeErrors', async () => {
  const over = await lyingRun((r) =>
    rewrite(r, (m) => ({ ...m, ...(m.chunkSeqNo === 0 ? { largeMessageSize: m.chunk.length + 1 } : {}) })),
  );
  assert.ok(isSpdmError(over, 'DECODE_ERROR'), String(over));
  const short = await lyingRun((r) => rewrite(r, (m) => ({ ...m, lastChunk: true })));
  assert.ok(isSpdmError(short, 'DECODE_ERROR'), String(short));
});

test('lying device: a CHUNK_RESPONSE of another handle is refused', async () => {
  const e = await lyingRun((r) => rewrite(r, (m) => ({ ...m, handle: (m.handle + 1) & 0xff })));
  assert.ok(isSpdmError(e, 'PROTOCOL_ERROR'), String(e));
});

/** The emulator after VCA with chunking: CHUNK_SEND sequences go to it directly. */
async function negotiatedResponder(version = 0x13): Promise<Responder> {
  const responder = new Responder(chunkProfile([version], 64));
  await new Requester(new LoopbackTransport(responder), options(version, 64)).connect();
  return responder;
}

function ackOf(response: Uint8Array) {
  assert.equal(response[1], ResponseCode.CHUNK_SEND_ACK);
  return decodeChunkSendAck(response);
}

test('emulator: CHUNK_SEND out of order, too large, or announcing too much gets EarlyErrorDetected + InvalidRequest', async () => {
  const r = await negotiatedResponder();
  const large = encodeGetMeasurements(0x13, { attributes: 0, operation: 0xff });
  const big = new Uint8Array(200);
  big.set(large);
  const first = encodeChunkSend(0x13, {
    lastChunk: false,
    handle: 1,
    chunkSeqNo: 0,
    largeMessageSize: 200,
    chunk: big.subarray(0, 40),
  });
  assert.equal(ackOf(await r.handle(first)).earlyErrorDetected, false);
  const skip = encodeChunkSend(0x13, { lastChunk: false, handle: 1, chunkSeqNo: 2, chunk: big.subarray(40, 80) });
  const ack = ackOf(await r.handle(skip));
  assert.equal(ack.earlyErrorDetected, true);
  assert.equal(decodeError(ack.payload).errorCode, ErrorCode.InvalidRequest);
  // The reassembly was dropped: chunk 1 now has no chunk 0 before it.
  const next = encodeChunkSend(0x13, { lastChunk: false, handle: 1, chunkSeqNo: 1, chunk: big.subarray(40, 80) });
  assert.equal(ackOf(await r.handle(next)).earlyErrorDetected, true);
  // A chunk message larger than the device's DataTransferSize (64).
  const fat = encodeChunkSend(0x13, {
    lastChunk: false,
    handle: 2,
    chunkSeqNo: 0,
    largeMessageSize: 200,
    chunk: big.subarray(0, 60),
  });
  assert.equal(ackOf(await r.handle(fat)).earlyErrorDetected, true);
  // LargeMessageSize beyond the device's MaxSPDMmsgSize.
  const huge = encodeChunkSend(0x13, {
    lastChunk: false,
    handle: 3,
    chunkSeqNo: 0,
    largeMessageSize: 0x10001,
    chunk: big.subarray(0, 40),
  });
  assert.equal(ackOf(await r.handle(huge)).earlyErrorDetected, true);
});

test('emulator: CHUNK_GET with nothing parked is UnexpectedRequest; 1.4 sequence numbers are u32 on the wire', async () => {
  const r = await negotiatedResponder(0x14);
  const resp = await r.handle(new Uint8Array([0x14, RequestCode.CHUNK_GET, 0, 0, 0, 0, 0, 0]));
  assert.equal(decodeError(resp).errorCode, ErrorCode.UnexpectedRequest);
  const requester = new Requester(new LoopbackTransport(r), options(0x14, 64, { session: undefined }));
  const ev = await requester.authenticate();
  assert.equal(ev.version, '1.4');
  assert.ok(r.stats.get(RequestCode.CHUNK_GET)! > 0);
});

test('emulator: a CHUNK_SEND of exactly its DataTransferSize is taken with DOE padding after it, not with more', async () => {
  // libspdm fills each chunk to the DataTransferSize and DOE pads it to a dword: 62 → 64 + 2 would
  // be refused if the padding counted; four trailing bytes are no padding.
  const r = await negotiatedResponder();
  const big = new Uint8Array(200);
  big.set(encodeGetMeasurements(0x13, { attributes: 0, operation: 0xff }));
  const chunk0 = (handle: number, trailing: number) => {
    const m = encodeChunkSend(0x13, {
      lastChunk: false,
      handle,
      chunkSeqNo: 0,
      largeMessageSize: 200,
      chunk: big.subarray(0, 64 - 16),
    });
    assert.equal(m.length, 64);
    const padded = new Uint8Array(m.length + trailing);
    padded.set(m);
    return padded;
  };
  assert.equal(ackOf(await r.handle(chunk0(4, 2))).earlyErrorDetected, false, 'two padding bytes');
  const again = await negotiatedResponder();
  assert.equal(ackOf(await again.handle(chunk0(5, 4))).earlyErrorDetected, true, 'four trailing bytes');
});
