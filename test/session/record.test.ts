/** DSP0277 records: layout per transport, round trips, nonce construction, hostile bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex } from '../../src/wire/bytes.js';
import { DecodeError, SpdmError } from '../../src/wire/errors.js';
import { AeadAlgo, aeadEncrypt } from '../../src/crypto/aead.js';
import { SecureSession } from '../../src/session/secure-session.js';
import { deriveDataSecrets } from '../../src/session/key-schedule.js';
import {
  advanceSequence,
  decodeSecuredRecord,
  openSecuredRecord,
  RECORD_LAYOUTS,
  recordNonce,
  recordNonceOf,
  sealSecuredRecord,
  sequenceHalves,
  sequenceMatches,
  unwrapApplicationData,
  wrapApplicationData,
  type RecordKeys,
  type SecuredTransport,
  type SessionMode,
} from '../../src/session/record.js';

const TRANSPORTS: readonly SecuredTransport[] = ['doe', 'mctp', 'tcp'];
const MODES: readonly SessionMode[] = ['encrypt', 'mac-only'];
const keysFor = (aeadId: number): RecordKeys => ({
  aeadId,
  key: Uint8Array.from({ length: aeadId === AeadAlgo.AES_128_GCM ? 16 : 32 }, (_, i) => i * 7),
  iv: Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i),
});
const HEARTBEAT = Uint8Array.of(0x12, 0xe8, 0, 0);

test('nonce = IV XOR the counter: little-endian in bytes 0..7 (1.2+), big-endian in bytes 4..11 (1.0/1.1 option)', () => {
  const iv = new Uint8Array(12);
  assert.equal(toHex(recordNonce(iv, 0x0102n)), '020100000000000000000000');
  assert.equal(toHex(recordNonce(iv, 0x0102n, 'be')), '000000000000000000000102');
  assert.equal(toHex(recordNonce(iv, (1n << 64n) - 1n)), 'ffffffffffffffff00000000');
  const iv2 = Uint8Array.from({ length: 12 }, () => 0xff);
  assert.equal(toHex(recordNonce(iv2, 1n)), 'feffffffffffffffffffffff');
  assert.deepEqual(iv2, new Uint8Array(12).fill(0xff), 'the IV is not modified');
  assert.throws(() => recordNonce(iv, 1n << 64n), SpdmError);
  assert.throws(() => recordNonce(iv, -1n), SpdmError);
});

for (const transport of TRANSPORTS) {
  for (const mode of MODES) {
    test(`${transport} ${mode}: the wire layout and a round trip for every AEAD`, () => {
      const layout = RECORD_LAYOUTS[transport];
      const app = wrapApplicationData(transport, HEARTBEAT);
      for (const aeadId of [AeadAlgo.AES_128_GCM, AeadAlgo.AES_256_GCM, AeadAlgo.CHACHA20_POLY1305]) {
        const keys = keysFor(aeadId);
        const randomData = transport === 'mctp' && mode === 'encrypt' ? Uint8Array.of(9, 9, 9, 9, 9) : undefined;
        const rec = sealSecuredRecord(0xfffe0001, app, keys, 0x10203n, {
          layout,
          mode,
          ...(randomData ? { randomData } : {}),
        });
        const n = layout.sequenceNumberSize;
        assert.equal(toHex(rec.subarray(0, 4)), '0100feff', 'SessionID u32 LE');
        if (n === 2) assert.equal(toHex(rec.subarray(4, 6)), '0302', 'low two counter bytes, LE');
        const length = rec[4 + n]! | (rec[5 + n]! << 8);
        const inner = mode === 'encrypt' ? 2 + app.length + (randomData?.length ?? 0) : app.length;
        assert.equal(length, inner + 16);
        assert.equal(rec.length, 6 + n + length);
        if (mode === 'mac-only')
          assert.deepEqual(rec.subarray(6 + n, 6 + n + app.length), app, 'authenticate-only data is in the clear');
        const parsed = decodeSecuredRecord(rec, layout);
        assert.equal(parsed.sessionId, 0xfffe0001);
        assert.equal(parsed.reqSessionId, 0x0001);
        assert.equal(parsed.rspSessionId, 0xfffe);
        assert.equal(parsed.sequenceNumber, n === 2 ? 0x0203 : undefined);
        const opened = openSecuredRecord(parsed, keys, 0x10203n, { layout, mode });
        assert.ok(opened);
        assert.deepEqual(opened.applicationData, app);
        assert.deepEqual(opened.randomData, randomData ?? new Uint8Array(0));
        const innerMsg = unwrapApplicationData(transport, opened.applicationData);
        assert.ok(innerMsg.isSpdm);
        assert.deepEqual(innerMsg.payload, HEARTBEAT);
        // Wrong counter, wrong key, wrong mode: no plaintext.
        assert.equal(openSecuredRecord(parsed, keys, 0x10204n, { layout, mode }), null);
        assert.equal(
          openSecuredRecord(parsed, { ...keys, key: keys.key.map((b) => b ^ 1) }, 0x10203n, { layout, mode }),
          null,
        );
        assert.equal(openSecuredRecord(parsed, keys, 0x10203n, { layout, mode, nonceOrder: 'be' }), null);
      }
    });
  }
}

test('DOE: the dword padding after the record is allowed (zeros, < 4 bytes), anything else is a DecodeError', () => {
  const layout = RECORD_LAYOUTS.doe;
  const keys = keysFor(AeadAlgo.AES_256_GCM);
  const rec = sealSecuredRecord(1, HEARTBEAT, keys, 0n, { layout, mode: 'encrypt' });
  const padded = new Uint8Array(rec.length + 2);
  padded.set(rec);
  const parsed = decodeSecuredRecord(padded, layout);
  assert.equal(parsed.trailing.length, 2);
  assert.deepEqual(parsed.raw, rec);
  assert.ok(openSecuredRecord(parsed, keys, 0n, { layout, mode: 'encrypt' }));
  const field = (f: string) => (e: unknown) => e instanceof DecodeError && e.field === f;
  assert.throws(() => decodeSecuredRecord(new Uint8Array([...rec, 0, 0, 0, 0]), layout), field('trailing'));
  assert.throws(() => decodeSecuredRecord(new Uint8Array([...rec, 0, 1]), layout), field('trailing'));
  assert.throws(
    () => decodeSecuredRecord(new Uint8Array([...rec, 0]), RECORD_LAYOUTS.mctp),
    DecodeError,
    'MCTP records are exact',
  );
});

test('malformed records: every truncation, a Length beyond the bytes or shorter than the MAC, are DecodeErrors naming the field', () => {
  for (const transport of TRANSPORTS) {
    const layout = RECORD_LAYOUTS[transport];
    const rec = sealSecuredRecord(7, wrapApplicationData(transport, HEARTBEAT), keysFor(2), 3n, {
      layout,
      mode: 'encrypt',
    });
    for (let n = 0; n < rec.length; n++)
      assert.throws(
        () => decodeSecuredRecord(rec.subarray(0, n), layout),
        DecodeError,
        `${transport} truncated to ${n}`,
      );
    const at = 4 + layout.sequenceNumberSize;
    const short = Uint8Array.from(rec);
    short[at] = 15;
    short[at + 1] = 0;
    assert.throws(
      () => decodeSecuredRecord(short, layout),
      (e: unknown) => e instanceof DecodeError && e.field === 'Length' && e.offset === at,
    );
    const long = Uint8Array.from(rec);
    long[at + 1] = 0xff;
    assert.throws(
      () => decodeSecuredRecord(long, layout),
      (e: unknown) => e instanceof DecodeError && e.field === 'Length',
    );
  }
});

test('the MCTP wire sequence number must be the low bytes of the expected counter', () => {
  const layout = RECORD_LAYOUTS.mctp;
  const keys = keysFor(2);
  const rec = decodeSecuredRecord(
    sealSecuredRecord(1, wrapApplicationData('mctp', HEARTBEAT), keys, 0x1_0005n, { layout, mode: 'encrypt' }),
    layout,
  );
  assert.equal(rec.sequenceNumber, 5);
  assert.ok(sequenceMatches(rec, 0x1_0005n, layout));
  assert.ok(sequenceMatches(rec, 0x5n, layout));
  assert.ok(!sequenceMatches(rec, 0x6n, layout));
  // 0x5 matches the wire bytes but not the nonce: the tag says no.
  assert.equal(openSecuredRecord(rec, keys, 5n, { layout, mode: 'encrypt' }), null);
  assert.ok(openSecuredRecord(rec, keys, 0x1_0005n, { layout, mode: 'encrypt' }));
});

test('an authentic record with a malformed plaintext is a DecodeError (ApplicationDataLength, RandomData)', () => {
  const layout = RECORD_LAYOUTS.doe;
  const keys = keysFor(2);
  const forge = (plain: Uint8Array) => {
    const header = Uint8Array.of(1, 0, 0, 0, (plain.length + 16) & 0xff, (plain.length + 16) >> 8);
    const { ciphertext, tag } = aeadEncrypt(keys.aeadId, keys.key, recordNonce(keys.iv, 0n), plain, header);
    return decodeSecuredRecord(new Uint8Array([...header, ...ciphertext, ...tag]), layout);
  };
  assert.throws(
    () => openSecuredRecord(forge(Uint8Array.of(10, 0, 1, 2, 3)), keys, 0n, { layout, mode: 'encrypt' }),
    (e: unknown) => e instanceof DecodeError && e.field === 'ApplicationDataLength',
  );
  assert.throws(
    () => openSecuredRecord(forge(Uint8Array.of(1)), keys, 0n, { layout, mode: 'encrypt' }),
    (e: unknown) => e instanceof DecodeError && e.field === 'ApplicationDataLength',
  );
  assert.throws(
    () => openSecuredRecord(forge(Uint8Array.of(1, 0, 9, 0xaa)), keys, 0n, { layout, mode: 'encrypt' }),
    (e: unknown) => e instanceof DecodeError && e.field === 'RandomData',
    'DOE carries no random data',
  );
  assert.throws(
    () => sealSecuredRecord(1, HEARTBEAT, keys, 0n, { layout, mode: 'encrypt', randomData: Uint8Array.of(1) }),
    SpdmError,
  );
  assert.throws(
    () =>
      sealSecuredRecord(1, HEARTBEAT, keys, 0n, {
        layout: RECORD_LAYOUTS.mctp,
        mode: 'encrypt',
        randomData: new Uint8Array(33),
      }),
    SpdmError,
  );
});

test('inner application data per transport: MCTP type byte, TCP binding header; malformed ones are DecodeErrors', () => {
  assert.deepEqual(wrapApplicationData('doe', HEARTBEAT), HEARTBEAT);
  assert.equal(toHex(wrapApplicationData('mctp', HEARTBEAT)), '0512e80000');
  assert.equal(toHex(wrapApplicationData('tcp', HEARTBEAT)), '0600010512e80000');
  assert.deepEqual(unwrapApplicationData('tcp', wrapApplicationData('tcp', HEARTBEAT)).header, {
    payloadLength: 6,
    bindingVersion: 1,
    messageType: 5,
  });
  const pldm = unwrapApplicationData('mctp', Uint8Array.of(0x01, 0x80, 0x02));
  assert.equal(pldm.isSpdm, false);
  assert.deepEqual(pldm.header, { mctpMessageType: 1 });
  assert.throws(() => unwrapApplicationData('mctp', new Uint8Array(0)), DecodeError);
  assert.throws(() => unwrapApplicationData('mctp', Uint8Array.of(0x85, 1)), DecodeError);
  assert.throws(
    () => unwrapApplicationData('tcp', Uint8Array.of(6, 0, 2, 5, 0x12, 0xe8, 0, 0)),
    DecodeError,
    'binding version 2',
  );
  assert.throws(
    () => unwrapApplicationData('tcp', Uint8Array.of(7, 0, 1, 5, 0x12, 0xe8, 0, 0)),
    DecodeError,
    'length mismatch',
  );
  assert.throws(() => unwrapApplicationData('tcp', Uint8Array.of(6, 0, 1)), DecodeError);
});

test('property: seal then open gives the data back; any single corrupted byte gives null or a DecodeError, nothing else', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...TRANSPORTS),
      fc.constantFrom(...MODES),
      fc.uint8Array({ maxLength: 300 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.integer({ min: 0, max: 32 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (transport, mode, data, seq, randomLength, where, xor) => {
        const layout = RECORD_LAYOUTS[transport];
        const keys = keysFor(AeadAlgo.AES_256_GCM);
        const randomData =
          mode === 'encrypt' ? new Uint8Array(Math.min(randomLength, layout.maxRandomPadding)).fill(0x5a) : undefined;
        const rec = sealSecuredRecord(0x12345678, data, keys, seq, {
          layout,
          mode,
          ...(randomData ? { randomData } : {}),
        });
        const opened = openSecuredRecord(decodeSecuredRecord(rec, layout), keys, seq, { layout, mode });
        assert.ok(opened);
        assert.deepEqual(opened.applicationData, data);
        const bad = Uint8Array.from(rec);
        const i = where % bad.length;
        bad[i] = (bad[i] as number) ^ xor;
        try {
          // Every header byte is in the AAD (and the data, for authenticate-only records): no byte is unprotected.
          assert.equal(openSecuredRecord(decodeSecuredRecord(bad, layout), keys, seq, { layout, mode }), null);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('the counter as u32 halves: the same nonce as the bigint form across the 2^32 carry, both byte orders', () => {
  const iv = Uint8Array.from({ length: 12 }, (_, i) => 0x11 * (i + 1));
  const c = sequenceHalves(0xfffffffen);
  assert.deepEqual(c, { hi: 0, lo: 0xfffffffe });
  for (let want = 0xfffffffen; want <= 0x1_00000001n; want++) {
    for (const order of ['le', 'be'] as const)
      assert.deepEqual(recordNonceOf(iv, c.hi, c.lo, order), recordNonce(iv, want, order), `${want} ${order}`);
    advanceSequence(c);
  }
  assert.deepEqual(c, { hi: 1, lo: 2 });
  const last = sequenceHalves((1n << 64n) - 1n);
  assert.deepEqual(last, { hi: 0xffffffff, lo: 0xffffffff });
  advanceSequence(last);
  assert.deepEqual(last, { hi: 0x100000000, lo: 0 }, 'past the last sequence number');
  assert.throws(() => recordNonceOf(iv, last.hi, last.lo), SpdmError, 'no nonce past 2^64 - 1');
  assert.throws(() => recordNonceOf(iv, 0, -1), SpdmError);
  assert.throws(() => recordNonceOf(iv, 0.5, 0), SpdmError);
  assert.throws(() => sequenceHalves(1n << 64n), SpdmError);
});

/** The record built the long way: ApplicationData joined, the plaintext joined, then header || ciphertext || tag. */
function referenceRecord(
  transport: SecuredTransport,
  mode: SessionMode,
  sessionId: number,
  app: Uint8Array,
  keys: RecordKeys,
  sequence: bigint,
  random: Uint8Array,
): Uint8Array {
  const n = RECORD_LAYOUTS[transport].sequenceNumberSize;
  const inner = mode === 'encrypt' ? 2 + app.length + random.length : app.length;
  const length = inner + 16;
  const header = new Uint8Array(6 + n);
  new DataView(header.buffer).setUint32(0, sessionId, true);
  for (let i = 0; i < n; i++) header[4 + i] = Number((sequence >> BigInt(8 * i)) & 0xffn);
  header[4 + n] = length & 0xff;
  header[5 + n] = length >> 8;
  const nonce = recordNonce(keys.iv, sequence);
  if (mode === 'mac-only') {
    const aad = new Uint8Array([...header, ...app]);
    return new Uint8Array([...aad, ...aeadEncrypt(keys.aeadId, keys.key, nonce, new Uint8Array(0), aad).tag]);
  }
  const plain = new Uint8Array([app.length & 0xff, app.length >> 8, ...app, ...random]);
  const { ciphertext, tag } = aeadEncrypt(keys.aeadId, keys.key, nonce, plain, header);
  return new Uint8Array([...header, ...ciphertext, ...tag]);
}

test('records of every size class are the bytes of the long way round, and open to views of the same data', () => {
  // Sizes either side of where records stop being cut from a shared buffer (8 KiB), and of where
  // sealing switches from one update() over a plaintext assembled in the record to one per part
  // into a record allocated after (32 KiB: 32,706 + header, framing, random and tag is at most
  // 32,768 on every transport, 32,760 is past it on every one), and the largest.
  for (const size of [0, 1, 8189, 8190, 8191, 20000, 32706, 32760, 0xffff - 16 - 2 - 32 - 13]) {
    for (const transport of TRANSPORTS) {
      for (const mode of MODES) {
        for (const aeadId of [AeadAlgo.AES_256_GCM, AeadAlgo.CHACHA20_POLY1305]) {
          const layout = RECORD_LAYOUTS[transport];
          const keys = keysFor(aeadId);
          const data = Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff);
          const app = transport === 'mctp' ? new Uint8Array([5, ...data]) : data;
          const random = mode === 'encrypt' && transport === 'mctp' ? new Uint8Array(32).fill(0xc3) : new Uint8Array(0);
          const seq = 0x1_2345_6789n;
          const rec = sealSecuredRecord(0xabcd1234, app, keys, seq, {
            layout,
            mode,
            ...(random.length ? { randomData: random } : {}),
          });
          const what = `${size} B ${transport} ${mode} 0x${aeadId.toString(16)}`;
          assert.ok(
            Buffer.from(rec).equals(referenceRecord(transport, mode, 0xabcd1234, app, keys, seq, random)),
            what,
          );
          const opened = openSecuredRecord(decodeSecuredRecord(rec, layout), keys, seq, { layout, mode });
          assert.ok(opened, what);
          assert.ok(Buffer.from(opened.applicationData).equals(app), what);
          assert.ok(Buffer.from(opened.randomData).equals(random), what);
        }
      }
    }
  }
});

test('SecureSession.seal frames the message for the binding without joining it first: the same record as wrapApplicationData', () => {
  const params = { version: 0x13, hashId: 0x02, aeadId: AeadAlgo.AES_256_GCM };
  const ds = () => deriveDataSecrets(params, new Uint8Array(48).fill(3), new Uint8Array(48).fill(4));
  for (const transport of TRANSPORTS) {
    for (const mode of MODES) {
      // A small record, one past the shared buffer, one sealed part by part (the binding's header its own part).
      for (const size of [4, 9000, 40000]) {
        const common = {
          reqSessionId: 0x1234,
          rspSessionId: 0xabcd,
          securedVersion: 0x1200,
          aeadId: AeadAlgo.AES_256_GCM,
          binding: transport,
          mode,
        };
        const req = new SecureSession({ ...common, role: 'requester' });
        const rsp = new SecureSession({ ...common, role: 'responder' });
        req.installData(ds());
        rsp.installData(ds());
        const message = Uint8Array.from({ length: size }, (_, i) => (i ? i & 0xff : 0x13));
        const keys = { aeadId: AeadAlgo.AES_256_GCM, ...ds().request };
        for (let seq = 0n; seq < 3n; seq++) {
          const rec = req.seal(message);
          const expected = sealSecuredRecord(req.sessionId, wrapApplicationData(transport, message), keys, seq, {
            layout: RECORD_LAYOUTS[transport],
            mode,
          });
          assert.ok(Buffer.from(rec).equals(expected), `${transport} ${mode} ${size} #${seq}`);
          assert.ok(Buffer.from(rsp.open(rec)).equals(message));
        }
        assert.equal(req.sendSequence, 3n);
        assert.equal(rsp.receiveSequence, 3n);
      }
    }
  }
});

test('records sealed one after another stay whole while kept, of every size up to and past the shared-buffer limit', () => {
  const keys = keysFor(AeadAlgo.AES_256_GCM);
  const opts = { layout: RECORD_LAYOUTS.mctp, mode: 'encrypt' as const };
  const kept: { record: Uint8Array; copy: Uint8Array; message: Uint8Array; sequence: bigint }[] = [];
  let sequence = 0n;
  for (const size of [1, 4, 17, 100, 1000, 4096, 8100, 8200, 9000, 30_000, 40_000]) {
    for (let k = 0; k < 12; k++) {
      const message = Uint8Array.from({ length: size }, (_, i) => (i * 13 + k + size) & 0xff);
      const record = sealSecuredRecord(0x11223344, wrapApplicationData('mctp', message), keys, sequence, opts);
      kept.push({ record, copy: record.slice(), message, sequence });
      sequence++;
    }
  }
  for (const { record, copy, message, sequence: s } of kept) {
    assert.deepEqual(record, copy, `record ${s} changed after later seals`);
    const opened = openSecuredRecord(decodeSecuredRecord(record, RECORD_LAYOUTS.mctp), keys, s, opts);
    assert.ok(opened, `record ${s} opens`);
    assert.deepEqual(unwrapApplicationData('mctp', opened.applicationData).payload, message);
  }
});

test('a seal that fails leaves none of its plaintext in the memory later records are cut from', () => {
  const marker = Uint8Array.from({ length: 64 }, (_, i) => 0xc0 ^ i);
  const bad: RecordKeys = { ...keysFor(AeadAlgo.AES_256_GCM), key: new Uint8Array(5) };
  const opts = { layout: RECORD_LAYOUTS.doe, mode: 'encrypt' as const };
  assert.throws(() => sealSecuredRecord(1, marker, bad, 0n, opts), SpdmError);
  const next = sealSecuredRecord(1, HEARTBEAT, keysFor(AeadAlgo.AES_256_GCM), 0n, opts);
  const around = Buffer.from(next.buffer);
  assert.equal(around.indexOf(Buffer.from(marker)), -1, 'the refused plaintext is still in the shared buffer');
});

test('a large seal that fails is the same typed error, and the next large seal is whole', () => {
  // Past 32 KiB the record is sealed part by part into a buffer allocated after the cipher ran.
  const message = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 11) & 0xff);
  const app = wrapApplicationData('mctp', message);
  const opts = { layout: RECORD_LAYOUTS.mctp, mode: 'encrypt' as const, randomData: new Uint8Array(32).fill(0x77) };
  const bad: RecordKeys = { ...keysFor(AeadAlgo.CHACHA20_POLY1305), key: new Uint8Array(5) };
  assert.throws(
    () => sealSecuredRecord(1, app, bad, 0n, opts),
    (e: unknown) => e instanceof SpdmError && e.code === 'ENCODE_ERROR',
  );
  const keys = keysFor(AeadAlgo.CHACHA20_POLY1305);
  const rec = sealSecuredRecord(1, app, keys, 0n, opts);
  const opened = openSecuredRecord(decodeSecuredRecord(rec, RECORD_LAYOUTS.mctp), keys, 0n, opts);
  assert.ok(opened);
  assert.deepEqual(unwrapApplicationData('mctp', opened.applicationData).payload, message);
  assert.deepEqual(opened.randomData, opts.randomData);
  // A flipped bit anywhere (SessionID, sequence number, the first part's ciphertext, the message's, the tag): null.
  for (const at of [0, 4, 8, 10, 20_000, rec.length - 1]) {
    const t = rec.slice();
    t[at] = (t[at] as number) ^ 1;
    assert.equal(openSecuredRecord(decodeSecuredRecord(t, RECORD_LAYOUTS.mctp), keys, 0n, opts), null, `byte ${at}`);
  }
});
