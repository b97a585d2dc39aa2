import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/wire/errors.js';
import {
  decodeMctpMessage,
  encodeMctpMessage,
  decodeMctpTransportHeader,
  encodeMctpTransportHeader,
} from '../../src/transport/mctp.js';
import { decodeTcpBinding, encodeTcpBinding, TcpMessageType } from '../../src/transport/tcp-binding.js';
import { EmuFrameReader, encodeEmuFrame, EmuCommand, EMU_MAX_PAYLOAD } from '../../src/transport/emu-frame.js';

const msg = new Uint8Array([0x12, 0x84, 0, 0]);

test('MCTP: SPDM is type 5 in front of the message; the integrity-check bit is refused', () => {
  assert.deepEqual([...encodeMctpMessage(5, msg)], [5, 0x12, 0x84, 0, 0]);
  assert.deepEqual(decodeMctpMessage(encodeMctpMessage(6, msg)), { type: 6, body: msg });
  assert.throws(() => decodeMctpMessage(new Uint8Array([0x85, 1])), DecodeError);
  assert.throws(() => decodeMctpMessage(new Uint8Array([])), DecodeError);
  const h = {
    headerVersion: 1,
    destinationEid: 8,
    sourceEid: 9,
    som: true,
    eom: true,
    packetSequence: 2,
    tagOwner: true,
    messageTag: 5,
  };
  assert.deepEqual(decodeMctpTransportHeader(encodeMctpTransportHeader(h)), h);
});

test('DSP0287: PayloadLength counts version, type and payload; anything inconsistent is refused', () => {
  const b = encodeTcpBinding(TcpMessageType.SPDM, msg);
  assert.deepEqual([...b.subarray(0, 4)], [6, 0, 1, 5]);
  assert.deepEqual(decodeTcpBinding(b).body, msg);
  for (let n = 0; n < b.length; n++) assert.throws(() => decodeTcpBinding(b.subarray(0, n)), DecodeError);
  assert.throws(() => decodeTcpBinding(new Uint8Array([...b, 0])), DecodeError);
  assert.throws(() => decodeTcpBinding(new Uint8Array([6, 0, 2, 5, ...msg])), DecodeError);
});

test('spdm-emu frames: big-endian header, reassembled across arbitrary TCP segmentation', () => {
  const f = encodeEmuFrame(EmuCommand.NORMAL, 2, msg);
  assert.deepEqual([...f.subarray(0, 12)], [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4]);
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }),
      (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map((p, i) => encodeEmuFrame(i, 3, p)));
        const reader = new EmuFrameReader();
        const got: Uint8Array[] = [];
        let o = 0;
        let c = 0;
        while (o < stream.length) {
          const n = cuts[c++ % cuts.length] as number;
          for (const fr of reader.push(new Uint8Array(stream.subarray(o, o + n)))) got.push(fr.payload);
          o += n;
        }
        assert.deepEqual(
          got.map((g) => Buffer.from(g).toString('hex')),
          payloads.map((p) => Buffer.from(p).toString('hex')),
        );
      },
    ),
  );
});

test('spdm-emu frames: a header announcing more than the limit fails before allocating', () => {
  const h = encodeEmuFrame(1, 1, new Uint8Array(0));
  new DataView(h.buffer).setUint32(8, EMU_MAX_PAYLOAD + 1);
  assert.throws(
    () => new EmuFrameReader().push(h),
    (e: unknown) => e instanceof DecodeError && e.field === 'PayloadSize',
  );
});

test('MCTP capture: our framing reproduces every captured transport header and message type byte', async () => {
  const { readFileSync } = await import('node:fs');
  const path = await import('node:path');
  const { libspdmVectors } = await import('../support/paths.js');
  const cap = JSON.parse(readFileSync(path.join(libspdmVectors(), 'captures', 'mctp-default.json'), 'utf8')) as {
    messages: { kind: string; transportHeader: string; payload: string }[];
  };
  // spdm-emu writes a fake single-packet MCTP header (SOM|EOM, EIDs 0) in front of each message.
  const header = {
    headerVersion: 0,
    destinationEid: 0,
    sourceEid: 0,
    som: true,
    eom: true,
    packetSequence: 0,
    tagOwner: false,
    messageTag: 0,
  };
  let n = 0;
  for (const m of cap.messages) {
    const type = m.kind === 'secured-spdm' ? 6 : 5;
    const framed = Buffer.concat([
      encodeMctpTransportHeader(header),
      encodeMctpMessage(type, Buffer.from(m.payload, 'hex')),
    ]);
    assert.equal(framed.toString('hex'), m.transportHeader + m.payload);
    n++;
  }
  assert.ok(n > 2000);
});
