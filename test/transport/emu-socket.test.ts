/** The spdm-emu socket protocol over real loopback sockets, both ends ours. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { EmuSocketServer, EmuSocketTransport } from '../../src/transport/emu-socket.js';
import { EmuCommand, EmuFrameReader, encodeEmuFrame, type EmuTransportName } from '../../src/transport/emu-frame.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { SUITES, device } from '../support/fixtures.js';

async function server(transport: EmuTransportName) {
  return EmuSocketServer.listen({ port: 0, transport, handler: new Responder(device(SUITES[1]!).profile) });
}

for (const transport of ['doe', 'mctp', 'none', 'tcp'] as const) {
  test(`${transport}: the requester authenticates the emulator over a loopback socket`, async () => {
    const s = await server(transport);
    try {
      const t = await EmuSocketTransport.connect({ port: s.port, transport, endWith: 'continue' });
      const t0 = performance.now();
      const ev = await new Requester(t).authenticate();
      const ms = performance.now() - t0;
      await t.close();
      assert.equal(ev.signatures.length, 2);
      assert.deepEqual(
        reverifySignatures(ev).map((r) => r.ok),
        [true, true],
      );
      // Nagle off on both ends: a full flow over loopback takes milliseconds, not 40-90 ms per exchange.
      assert.ok(ms < 2000, `flow took ${ms} ms`);
    } finally {
      await s.close();
    }
  });
}

test('PCI_DOE: DOE discovery through the emulator lists discovery, CMA-SPDM and secured CMA-SPDM', async () => {
  const s = await server('doe');
  try {
    const t = await EmuSocketTransport.connect({ port: s.port, transport: 'doe', endWith: 'continue' });
    assert.deepEqual(await t.doeDiscovery(), [
      { vendorId: 1, type: 0 },
      { vendorId: 1, type: 1 },
      { vendorId: 1, type: 2 },
    ]);
    await t.close();
  } finally {
    await s.close();
  }
});

test('CONTINUE keeps the emulator serving new connections; SHUTDOWN stops it', async () => {
  const s = await server('mctp');
  let t = await EmuSocketTransport.connect({ port: s.port, transport: 'mctp', endWith: 'continue' });
  await new Requester(t).connect();
  await t.close();
  t = await EmuSocketTransport.connect({ port: s.port, transport: 'mctp', endWith: 'shutdown' });
  await new Requester(t).connect();
  await t.close();
  await s.closed;
  await assert.rejects(EmuSocketTransport.connect({ port: s.port, transport: 'mctp', connectTimeoutMs: 500 }));
});

/** Raw frames to the server, for protocol-level checks. */
async function rawExchange(
  port: number,
  frames: Uint8Array[],
): Promise<{ command: number; transportType: number; payload: Uint8Array }[]> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' });
    const reader = new EmuFrameReader();
    const got: { command: number; transportType: number; payload: Uint8Array }[] = [];
    sock.on('connect', () => frames.forEach((f) => sock.write(f)));
    sock.on('data', (d: Buffer) => {
      got.push(...reader.push(new Uint8Array(d)));
      if (got.length === frames.length) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
  });
}

test('unknown commands get UNKNOWN; the TEST greeting is answered with "Server Hello!"', async () => {
  const s = await server('mctp');
  try {
    const got = await rawExchange(s.port, [
      encodeEmuFrame(EmuCommand.TEST, 1, Buffer.from('Client Hello!\0')),
      encodeEmuFrame(0x1234, 1),
    ]);
    assert.equal(got[0]?.command, EmuCommand.TEST);
    assert.equal(Buffer.from(got[0].payload).toString('latin1'), 'Server Hello!\0');
    assert.equal(got[1]?.command, EmuCommand.UNKNOWN);
  } finally {
    await s.close();
  }
});

test('a peer on another transport type is disconnected, and the emulator keeps serving others', async () => {
  const errors: Error[] = [];
  const s = await EmuSocketServer.listen({
    port: 0,
    transport: 'doe',
    handler: new Responder(device(SUITES[0]!).profile),
    onError: (e) => errors.push(e),
  });
  try {
    const got = await rawExchange(s.port, [
      encodeEmuFrame(EmuCommand.NORMAL, 1, new Uint8Array([5, 0x10, 0x84, 0, 0])),
    ]);
    assert.equal(got.length, 0);
    assert.match(errors[0]?.message ?? '', /transport type 1/);
    const t = await EmuSocketTransport.connect({ port: s.port, transport: 'doe', endWith: 'continue' });
    await new Requester(t).connect();
    await t.close();
  } finally {
    await s.close();
  }
});

test('garbage on the socket is a typed error for that connection only', async () => {
  const errors: Error[] = [];
  const s = await EmuSocketServer.listen({
    port: 0,
    transport: 'mctp',
    handler: new Responder(device(SUITES[0]!).profile),
    onError: (e) => errors.push(e),
  });
  try {
    // A NORMAL frame whose MCTP payload has the integrity-check bit: not SPDM.
    const got = await rawExchange(s.port, [
      encodeEmuFrame(EmuCommand.NORMAL, 1, new Uint8Array([0x85, 0x10, 0x84, 0, 0])),
    ]);
    assert.equal(got.length, 0);
    assert.ok(errors.some((e) => /MCTP message/.test(e.message)));
  } finally {
    await s.close();
  }
});

test('OOB_ENCAP_KEY_UPDATE: the requester asks the emulator out of band, then answers its KEY_UPDATE in the session', async () => {
  const base = device(SUITES[1]!).profile;
  // The session and the encapsulated flow need these on both sides.
  const sessionFlags = F.ENCRYPT | F.MAC | F.KEY_EX | F.ENCAP | F.KEY_UPD;
  const responder = new Responder(
    {
      ...base,
      versions: [0x12],
      capabilities: { ...base.capabilities, flags: base.capabilities.flags | sessionFlags },
    },
    { securedBinding: 'mctp' },
  );
  const s = await EmuSocketServer.listen({ port: 0, transport: 'mctp', handler: responder });
  try {
    const t = await EmuSocketTransport.connect({ port: s.port, transport: 'mctp', endWith: 'continue' });
    const requester = new Requester(t, {
      versions: [0x12],
      capabilityFlags: F.CERT | F.CHAL | sessionFlags,
      session: {},
    });
    await requester.connect();
    const session = await requester.startSession();
    await t.requestDeviceKeyUpdate(session.sessionId);
    assert.equal(responder.deviceRequests(session.sessionId)?.keyUpdateRequested, true);
    const run = await session.answerEncapsulated();
    assert.equal(run.keyUpdated, true);
    // Measurements come under the new response key.
    assert.ok((await session.getMeasurements()).signature?.verified);
    await session.end();
    await t.close();
  } finally {
    await s.close();
  }
});
