/**
 * The spdm-emu socket transport against hostile peers on real loopback sockets: a device that
 * streams frames nobody asked for, one that answers too late, and a requester that floods the
 * emulator. None of them may grow our memory with what they send or shift replies onto the
 * wrong request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { EmuSocketServer, EmuSocketTransport } from '../../src/transport/emu-socket.js';
import {
  EmuCommand,
  EmuFrameReader,
  EMU_HEADER_SIZE,
  EMU_MAX_PAYLOAD,
  encodeEmuFrame,
  SERVER_HELLO,
  type EmuFrame,
} from '../../src/transport/emu-frame.js';
import { SpdmError } from '../../src/wire/errors.js';
import { LIMITS, LimitError } from '../../src/wire/limits.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { SUITES, device } from '../support/fixtures.js';

const MCTP = 1;
/** GET_VERSION in an MCTP message (type 5 = SPDM). */
const GET_VERSION = new Uint8Array([0x10, 0x84, 0x00, 0x00]);
const mctp = (spdm: Uint8Array) => new Uint8Array([0x05, ...spdm]);

/** A fake device on 127.0.0.1: greets like spdm_responder_emu, then does what `onFrame` says. */
async function fakeDevice(
  onFrame: (f: EmuFrame, sock: Socket) => void | Promise<void>,
): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => undefined);
    const reader = new EmuFrameReader();
    let chain = Promise.resolve();
    sock.on('data', (d: Buffer) => {
      for (const f of reader.push(new Uint8Array(d))) {
        // One frame at a time, in order, as a real responder answers.
        chain = chain.then(async () => {
          if (f.command === EmuCommand.TEST) sock.write(encodeEmuFrame(EmuCommand.TEST, MCTP, SERVER_HELLO));
          else await onFrame(f, sock);
        });
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : 0, sockets };
}

/** `p`, or undefined after `ms` (the timer does not keep the test process alive). */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

function drainedOrClosed(sock: Socket): Promise<void> {
  return new Promise((r) => {
    const done = () => {
      sock.off('drain', done);
      sock.off('close', done);
      r();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

async function stop(s: { server: Server; sockets: Socket[] }): Promise<void> {
  for (const x of s.sockets) x.destroy();
  await new Promise<void>((r) => s.server.close(() => r()));
}

test('a device that greets and then streams unsolicited frames fails the connection with PROTOCOL_ERROR, and its stream is not kept', async () => {
  const FRAME = 64 * 1024;
  const TOTAL = 64 * 1024 * 1024;
  let written = 0;
  let flood: Promise<void> = Promise.resolve();
  const dev = await fakeDevice(() => undefined);
  dev.server.on('connection', (sock) => {
    // After the greeting (answered by fakeDevice), stream frames as fast as the client reads them.
    flood = (async () => {
      await once(sock, 'data');
      await new Promise((r) => setTimeout(r, 20));
      const frame = encodeEmuFrame(EmuCommand.NORMAL, MCTP, new Uint8Array(FRAME).fill(0x05));
      try {
        while (written < TOTAL && !sock.destroyed) {
          written += frame.length;
          if (!sock.write(frame)) await drainedOrClosed(sock);
        }
      } catch {
        // The client hung up mid-stream: what the test expects.
      }
      sock.end();
    })();
  });
  const before = process.memoryUsage().arrayBuffers;
  const t = await EmuSocketTransport.connect({ port: dev.port, transport: 'mctp' });
  try {
    await within(
      new Promise((r) => setTimeout(r, 50)).then(() => flood),
      10_000,
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    await assert.rejects(t.exchange(GET_VERSION, { timeoutMs: 1000 }), (e: unknown) => {
      assert.ok(e instanceof SpdmError, String(e));
      assert.equal(e.code, 'PROTOCOL_ERROR');
      assert.match(e.message, /unsolicited spdm-emu frame \(command 0x1, 65536 payload bytes\)/);
      return true;
    });
    // The client stopped reading at the first unsolicited frame: the device could not push its
    // 64 MiB through (only what the kernel's socket buffers hold), and nothing of it was kept.
    assert.ok(written < TOTAL / 2, `the device wrote ${written} of ${TOTAL} bytes`);
    assert.ok(grown < 16 * 1024 * 1024, `buffers grew by ${grown} bytes`);
  } finally {
    await t.close();
    await stop(dev);
  }
});

test('a late reply to a timed-out request is never taken as the reply to the next request', async () => {
  const LATE = mctp(new Uint8Array([0x10, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x10])); // VERSION 1.0: the reply to request 1
  const FRESH = mctp(new Uint8Array([0x10, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12])); // VERSION 1.2: the reply to request 2
  const asked = new WeakMap<Socket, number>();
  const dev = await fakeDevice(async (f, sock) => {
    if (f.command !== EmuCommand.NORMAL) return;
    // Request 1 of each connection is answered after 300 ms; later ones at once (in order).
    const n = asked.get(sock) ?? 0;
    asked.set(sock, n + 1);
    if (n === 0) await new Promise((r) => setTimeout(r, 300));
    sock.write(encodeEmuFrame(EmuCommand.NORMAL, MCTP, n === 0 ? LATE : FRESH));
  });
  try {
    for (const pause of [0, 500]) {
      const t = await EmuSocketTransport.connect({ port: dev.port, transport: 'mctp' });
      try {
        await assert.rejects(
          t.exchange(GET_VERSION, { timeoutMs: 100 }),
          (e: unknown) => e instanceof SpdmError && e.code === 'TIMEOUT',
        );
        // Ask again at once (the late reply is still on its way) or after it arrived.
        await new Promise((r) => setTimeout(r, pause));
        const second = await t.exchange(GET_VERSION, { timeoutMs: 1000 }).then(
          (reply) => `the reply ${Buffer.from(reply).toString('hex')}`,
          (e: unknown) => e,
        );
        assert.ok(
          second instanceof SpdmError && second.code === 'TIMEOUT' && /earlier request/.test(second.message),
          `pause ${pause}: the second request got ${String(second)}`,
        );
      } finally {
        await t.close();
      }
    }
  } finally {
    await stop(dev);
  }
});

/** Responder answers, each after a short delay, so frames pile up behind the one being answered. */
function slowResponder(ms: number) {
  const r = new Responder(device(SUITES[0]!).profile);
  return { handle: async (req: Uint8Array) => (await new Promise((x) => setTimeout(x, ms)), r.handle(req)) };
}

test(`the emulator keeps at most ${LIMITS.emuServerQueuedFrames} frames a requester sends ahead, closes a flooding connection and keeps serving others`, async () => {
  const errors: Error[] = [];
  const s = await EmuSocketServer.listen({
    port: 0,
    transport: 'mctp',
    handler: slowResponder(10),
    onError: (e) => errors.push(e),
  });
  try {
    const FLOOD = 50;
    // An honest requester is connected throughout; it authenticates once the flood is over (the
    // emulator is one device, so requests interleaved with the flood's would reset its state).
    const honest = await EmuSocketTransport.connect({ port: s.port, transport: 'mctp', endWith: 'continue' });
    const sock = connect({ port: s.port, host: '127.0.0.1' });
    await once(sock, 'connect');
    const reader = new EmuFrameReader();
    let replies = 0;
    sock.on('data', (d: Buffer) => (replies += reader.push(new Uint8Array(d)).length));
    sock.write(
      Buffer.concat(Array.from({ length: FLOOD }, () => encodeEmuFrame(EmuCommand.NORMAL, MCTP, mctp(GET_VERSION)))),
    );
    const closed = (await within(once(sock, 'close'), 5_000)) !== undefined;
    sock.destroy();
    assert.ok(closed, `the flooding connection was not closed (${replies} replies)`);
    assert.ok(replies < FLOOD, `the emulator answered ${replies} of ${FLOOD} frames`);
    // The emulator reports it once the request it was answering is done.
    for (let i = 0; i < 100 && !errors.some((e) => e instanceof LimitError); i++)
      await new Promise((r) => setTimeout(r, 20));
    const limit = errors.find((e) => e instanceof LimitError);
    assert.ok(limit instanceof LimitError, errors.map((e) => e.message).join('; '));
    assert.equal(limit.code, 'LIMIT_EXCEEDED');
    assert.equal(limit.limit, 'emuServerQueuedFrames');
    try {
      const ev = await new Requester(honest).authenticate();
      assert.equal(ev.signatures.length, 2, 'the connection open during the flood is served');
    } finally {
      await honest.close();
    }
    // And after it.
    const t = await EmuSocketTransport.connect({ port: s.port, transport: 'mctp', endWith: 'continue' });
    await new Requester(t).connect();
    await t.close();
  } finally {
    await s.close();
  }
});

test('the frame reader never holds more than one frame: a whole maximum-size frame in small pieces, then many frames in one chunk', () => {
  const reader = new EmuFrameReader();
  const big = encodeEmuFrame(EmuCommand.NORMAL, MCTP, new Uint8Array(EMU_MAX_PAYLOAD));
  let frames = 0;
  for (let o = 0; o < big.length; o += 4096) {
    frames += reader.push(big.subarray(o, o + 4096)).length;
    assert.ok(reader.bufferedBytes < EMU_HEADER_SIZE + EMU_MAX_PAYLOAD, `${reader.bufferedBytes} bytes buffered`);
  }
  assert.equal(frames, 1);
  assert.equal(reader.bufferedBytes, 0);
  const small = encodeEmuFrame(EmuCommand.NORMAL, MCTP, new Uint8Array(100));
  const many = new Uint8Array(small.length * 1000 + 5);
  for (let i = 0; i < 1000; i++) many.set(small, i * small.length);
  assert.equal(reader.push(many).length, 1000);
  assert.equal(reader.bufferedBytes, 5, 'only the start of the next frame is kept');
});

test('a requester that sends requests but never reads the replies is dropped once the socket buffers are full, not buffered without end', async () => {
  const errors: Error[] = [];
  // Every request gets a 60 KiB reply, so the kernel's socket buffers fill after a few hundred.
  const bigReply = new Uint8Array(60 * 1024);
  bigReply.set([0x12, 0x04]);
  const s = await EmuSocketServer.listen({
    port: 0,
    transport: 'mctp',
    handler: { handle: async () => bigReply },
    onError: (e) => errors.push(e),
  });
  const sock = connect({ port: s.port, host: '127.0.0.1' });
  try {
    await once(sock, 'connect');
    sock.on('error', () => undefined);
    sock.pause(); // never reads
    sock.setNoDelay(true); // each request on its own, not coalesced into a burst
    const frame = encodeEmuFrame(EmuCommand.NORMAL, MCTP, mctp(GET_VERSION));
    const MAX = 1000;
    let sent = 0;
    // One request at a time, slower than the emulator answers: its queue of frames stays short
    // for as long as it keeps answering.
    while (sent < MAX && !errors.some((e) => e instanceof LimitError) && !sock.destroyed) {
      sock.write(frame);
      sent++;
      await new Promise((r) => setTimeout(r, 2));
    }
    for (let i = 0; i < 50 && !errors.some((e) => e instanceof LimitError); i++)
      await new Promise((r) => setTimeout(r, 20));
    const limit = errors.find((e) => e instanceof LimitError);
    assert.ok(
      limit instanceof LimitError,
      `after ${sent} unread replies of ${bigReply.length} bytes: ${errors.map((e) => e.message).join('; ') || 'no error'}`,
    );
    assert.equal(limit.limit, 'emuServerQueuedFrames');
    assert.ok(sent < MAX, `${sent} requests were answered into memory`);
    // Dropped once the kernel's buffers were full (a few MiB on loopback), not at the first burst.
    assert.ok(sent > 8, `dropped after ${sent} requests`);
  } finally {
    sock.destroy();
    await s.close();
  }
});
