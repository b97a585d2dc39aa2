/**
 * DSP0277 secured-message records: split, verify and decrypt, then unwrap the transport's inner
 * framing. Inputs are records sealed with known keys and then edited (the MAC then fails: null),
 * records whose *authentic* plaintext is malformed (sealed around arbitrary bytes, so that the
 * ApplicationDataLength/RandomData checks behind the MAC are reached), and random bytes; over
 * DOE, MCTP and TCP, encrypted and authenticate-only, with every AEAD.
 */
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/wire/bytes.js';
import { Writer } from '../../../src/wire/writer.js';
import { AeadAlgo, aeadEncrypt } from '../../../src/crypto/aead.js';
import {
  decodeSecuredRecord,
  openSecuredRecord,
  RECORD_LAYOUTS,
  recordNonce,
  sealSecuredRecord,
  unwrapApplicationData,
  wrapApplicationData,
  type RecordKeys,
  type SecuredTransport,
  type SessionMode,
} from '../../../src/session/record.js';
import { applyEdits, editsArb } from '../mutate.js';
import { defineTarget, expectTypedSync, FuzzFailure, type Json } from '../target.js';

interface RecordInput {
  readonly transport: SecuredTransport;
  readonly mode: SessionMode;
  readonly aeadId: number;
  readonly sequence: number;
  readonly bytes: Uint8Array;
}

const TRANSPORTS: readonly SecuredTransport[] = ['doe', 'mctp', 'tcp'];
const MODES: readonly SessionMode[] = ['encrypt', 'mac-only'];
const AEADS = [AeadAlgo.AES_128_GCM, AeadAlgo.AES_256_GCM, AeadAlgo.CHACHA20_POLY1305];
const SESSION_ID = 0xfffe0001;

const keysFor = (aeadId: number): RecordKeys => ({
  aeadId,
  key: Uint8Array.from({ length: aeadId === AeadAlgo.AES_128_GCM ? 16 : 32 }, (_, i) => (i * 13 + 5) & 0xff),
  iv: Uint8Array.from({ length: 12 }, (_, i) => 0x30 + i),
});

/** A record sealed around `plain` as is: an authentic record whose plaintext may be malformed. */
function sealRaw(t: SecuredTransport, aeadId: number, sequence: number, plain: Uint8Array): Uint8Array {
  const layout = RECORD_LAYOUTS[t];
  const w = new Writer(6 + layout.sequenceNumberSize);
  w.u32(SESSION_ID);
  for (let i = 0; i < layout.sequenceNumberSize; i++) w.u8(Math.floor(sequence / 2 ** (8 * i)) & 0xff);
  w.u16(Math.min(0xffff, plain.length + 16));
  const header = w.finish().slice();
  const k = keysFor(aeadId);
  const { ciphertext, tag } = aeadEncrypt(aeadId, k.key, recordNonce(k.iv, BigInt(sequence)), plain, header);
  return new Writer(header.length + ciphertext.length + tag.length).bytes(header).bytes(ciphertext).bytes(tag).finish();
}

function runRecord(i: RecordInput): void {
  const layout = RECORD_LAYOUTS[i.transport];
  expectTypedSync(() => {
    const rec = decodeSecuredRecord(i.bytes, layout);
    if (rec.raw.length + rec.trailing.length !== i.bytes.length)
      throw new FuzzFailure('invariant', 'record + trailing is not the input');
    const opened = openSecuredRecord(rec, keysFor(i.aeadId), BigInt(i.sequence), { layout, mode: i.mode });
    if (opened) unwrapApplicationData(i.transport, opened.applicationData);
  });
}

const HEARTBEAT = Uint8Array.of(0x12, 0xe8, 0, 0);

export const securedRecord = defineTarget<RecordInput>({
  name: 'secured-record',
  what: 'DSP0277 record decode/open/unwrap: edited sealed records, authentic malformed plaintext, random bytes',
  ciRuns: 1500,
  prepare: async () => ({
    arbitrary: fc
      .record({
        transport: fc.constantFrom(...TRANSPORTS),
        mode: fc.constantFrom(...MODES),
        aeadId: fc.constantFrom(...AEADS),
        sequence: fc.oneof(fc.nat({ max: 3 }), fc.constant(0xffff), fc.constant(0x10000)),
        how: fc.constantFrom('edited', 'edited', 'plaintext', 'random'),
        payload: fc.uint8Array({ maxLength: 64 }),
        random: fc.uint8Array({ maxLength: 40 }),
        edits: editsArb(3),
      })
      .map(({ transport, mode, aeadId, sequence, how, payload, random, edits }): RecordInput => {
        const layout = RECORD_LAYOUTS[transport];
        let bytes: Uint8Array;
        if (how === 'plaintext')
          bytes = sealRaw(
            transport,
            aeadId,
            sequence,
            applyEdits(new Writer(2 + payload.length).u16(payload.length).bytes(payload).finish(), edits),
          );
        else if (how === 'random') bytes = applyEdits(payload, edits);
        else {
          const app = wrapApplicationData(transport, payload.length > 0 ? payload : HEARTBEAT);
          const randomData = mode === 'encrypt' ? random.subarray(0, layout.maxRandomPadding) : undefined;
          const sealed = sealSecuredRecord(SESSION_ID, app, keysFor(aeadId), BigInt(sequence), {
            layout,
            mode,
            ...(randomData ? { randomData } : {}),
          });
          bytes = applyEdits(sealed, edits);
        }
        return { transport, mode, aeadId, sequence, bytes };
      }),
    run: runRecord,
  }),
  toJson: (i): Json => ({
    transport: i.transport,
    mode: i.mode,
    aeadId: i.aeadId,
    sequence: i.sequence,
    hex: toHex(i.bytes),
  }),
  fromJson: (j) => {
    const o = j as { transport?: unknown; mode?: unknown; aeadId?: unknown; sequence?: unknown; hex?: unknown };
    if (
      !TRANSPORTS.includes(o.transport as SecuredTransport) ||
      !MODES.includes(o.mode as SessionMode) ||
      typeof o.aeadId !== 'number' ||
      typeof o.sequence !== 'number' ||
      typeof o.hex !== 'string'
    ) {
      throw new Error('regression input: expected a secured record');
    }
    return {
      transport: o.transport as SecuredTransport,
      mode: o.mode as SessionMode,
      aeadId: o.aeadId,
      sequence: o.sequence,
      bytes: fromHex(o.hex),
    };
  },
});
