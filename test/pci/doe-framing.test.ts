/** DOE data-object framing and discovery payloads: round trips, malformed headers, and byte equality with libspdm's captures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DecodeError, SpdmError } from '../../src/wire/errors.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import {
  answerDoeDiscovery,
  CMA_DOE_PROTOCOLS,
  decodeDoeDiscoveryRequest,
  decodeDoeDiscoveryResponse,
  decodeDoeObject,
  DOE_MAX_OBJECT_DW,
  DOE_MAX_PAYLOAD_BYTES,
  DoeObjectType,
  encodeDoeDiscoveryRequest,
  encodeDoeDiscoveryResponse,
  encodeDoeHeader,
  encodeDoeObject,
  PCI_SIG_VENDOR_ID,
} from '../../src/transport/doe.js';
import { libspdmVectors } from '../support/paths.js';

interface CaptureMessage {
  readonly kind: string;
  readonly direction: string;
  readonly transportHeader: string;
  readonly payload: string;
}

const KIND_TYPE: Record<string, number> = {
  'doe-discovery': DoeObjectType.DISCOVERY,
  spdm: DoeObjectType.CMA_SPDM,
  'secured-spdm': DoeObjectType.SECURED_CMA_SPDM,
};

function doeCaptures(): { name: string; messages: CaptureMessage[] }[] {
  const dir = join(libspdmVectors(), 'captures');
  return readdirSync(dir)
    .filter((f) => f.startsWith('doe-') && f.endsWith('.json'))
    .sort()
    .map((f) => ({
      name: f,
      messages: (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { messages: CaptureMessage[] }).messages,
    }));
}

function decodeError(field: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof DecodeError && e.messageName === 'DOE object' && e.field === field;
}

test('every DOE object in every libspdm capture re-frames byte for byte', () => {
  const captures = doeCaptures();
  assert.ok(captures.length >= 6, 'the six DOE captures are present');
  let count = 0;
  for (const { name, messages } of captures) {
    for (const [i, m] of messages.entries()) {
      const type = KIND_TYPE[m.kind];
      assert.ok(type !== undefined, `${name}#${i}: unexpected kind ${m.kind}`);
      const wire = fromHex(m.transportHeader + m.payload);
      const payload = fromHex(m.payload);
      assert.equal(toHex(encodeDoeObject({ vendorId: PCI_SIG_VENDOR_ID, type, payload })), toHex(wire), `${name}#${i}`);
      // The capture's payload carries the DW padding; the SPDM message without it frames to the same bytes.
      let end = payload.length;
      while (end > payload.length - 3 && end > 0 && payload[end - 1] === 0) end--;
      assert.equal(
        toHex(encodeDoeObject({ vendorId: PCI_SIG_VENDOR_ID, type, payload: payload.subarray(0, end) })),
        toHex(wire),
        `${name}#${i} unpadded`,
      );
      const d = decodeDoeObject(wire);
      assert.equal(d.vendorId, PCI_SIG_VENDOR_ID);
      assert.equal(d.type, type);
      assert.equal(d.lengthDw, wire.length / 4);
      assert.equal(toHex(d.payload), m.payload);
      count++;
    }
  }
  assert.ok(count > 1000, `${count} objects checked`);
});

test("the captures' DOE discovery is what our device side answers, request for request", () => {
  for (const { name, messages } of doeCaptures()) {
    const disc = messages.filter((m) => m.kind === 'doe-discovery');
    assert.equal(disc.length, 6, `${name}: three request/response pairs`);
    const listed = [];
    for (let i = 0; i < disc.length; i += 2) {
      const req = disc[i] as CaptureMessage;
      const res = disc[i + 1] as CaptureMessage;
      const request = decodeDoeDiscoveryRequest(fromHex(req.payload));
      assert.deepEqual(request, { index: i / 2, version: 0 });
      assert.equal(toHex(encodeDoeDiscoveryRequest(request)), req.payload);
      assert.equal(
        toHex(answerDoeDiscovery(fromHex(req.payload))),
        res.transportHeader + res.payload,
        `${name}: answer to index ${request.index}`,
      );
      const entry = decodeDoeDiscoveryResponse(fromHex(res.payload));
      assert.equal(toHex(encodeDoeDiscoveryResponse(entry)), res.payload);
      listed.push({ vendorId: entry.vendorId, type: entry.type });
      assert.equal(entry.nextIndex, i / 2 === 2 ? 0 : i / 2 + 1);
    }
    assert.deepEqual(listed, CMA_DOE_PROTOCOLS);
  }
});

test('framing pads to a DW with zeros and counts the header in the length', () => {
  const o = encodeDoeObject({ vendorId: 0x1e98, type: 2, payload: new Uint8Array([1, 2, 3, 4, 5]) });
  assert.equal(toHex(o), '981e0200' + '04000000' + '01020304' + '05000000');
  assert.deepEqual(decodeDoeObject(o).payload, new Uint8Array([1, 2, 3, 4, 5, 0, 0, 0]));
  const empty = encodeDoeObject({ vendorId: 1, type: 0, payload: new Uint8Array(0) });
  assert.equal(toHex(empty), '0100000002000000');
  assert.equal(decodeDoeObject(empty).payload.length, 0);
});

test('a 2^18-DW object is encoded with length 0 and decodes back to 2^18', () => {
  const payload = new Uint8Array(DOE_MAX_PAYLOAD_BYTES);
  payload[payload.length - 1] = 0xaa;
  const o = encodeDoeObject({ vendorId: 1, type: 1, payload });
  assert.equal(o.length, DOE_MAX_OBJECT_DW * 4);
  assert.equal(new DataView(o.buffer).getUint32(4, true), 0);
  const d = decodeDoeObject(o);
  assert.equal(d.lengthDw, DOE_MAX_OBJECT_DW);
  assert.equal(d.payload[d.payload.length - 1], 0xaa);
  assert.throws(
    () => encodeDoeObject({ vendorId: 1, type: 1, payload: new Uint8Array(DOE_MAX_PAYLOAD_BYTES + 1) }),
    (e: unknown) => e instanceof SpdmError && e.code === 'ENCODE_ERROR',
  );
});

test('malformed objects are DecodeErrors naming the field', () => {
  const good = encodeDoeObject({ vendorId: 1, type: 1, payload: new Uint8Array([0x10, 0x84, 0, 0]) });
  const mutate = (f: (b: Uint8Array) => void): Uint8Array => {
    const b = good.slice();
    f(b);
    return b;
  };
  assert.throws(() => decodeDoeObject(mutate((b) => (b[3] = 0x01))), decodeError('Reserved'), 'DW0 31:24');
  assert.throws(() => decodeDoeObject(mutate((b) => (b[6] = 0x04))), decodeError('Reserved'), 'DW1 bit 18');
  assert.throws(() => decodeDoeObject(mutate((b) => (b[7] = 0x80))), decodeError('Reserved'), 'DW1 bit 31');
  assert.throws(() => decodeDoeObject(mutate((b) => (b[4] = 1))), decodeError('Length'), 'length 1 < 2');
  assert.throws(
    () => decodeDoeObject(mutate((b) => (b[4] = 4))),
    decodeError('Length'),
    'length says more than the buffer',
  );
  assert.throws(
    () => decodeDoeObject(mutate((b) => (b[4] = 0))),
    decodeError('Length'),
    'length 0 means 2^18, not this buffer',
  );
  assert.throws(() => decodeDoeObject(good.subarray(0, 10)), decodeError('Length'), 'not a DW multiple');
  assert.throws(() => decodeDoeObject(good.subarray(0, 6)), decodeError('Header'), 'shorter than the header');
  const longer = new Uint8Array(good.length + 4);
  longer.set(good);
  assert.throws(() => decodeDoeObject(longer), decodeError('Length'), 'buffer longer than the object');
});

test('the Connection ID types carry DW1 bits 29:18; only 31:30 stay reserved', () => {
  const o = encodeDoeObject({
    vendorId: 1,
    type: DoeObjectType.SPDM_CONNECTION_ID,
    payload: new Uint8Array(4),
    connectionId: 0xabc,
  });
  const d = decodeDoeObject(o);
  assert.equal(d.connectionId, 0xabc);
  assert.equal(d.lengthDw, 3);
  const bad = o.slice();
  bad[7] = (bad[7] as number) | 0x40;
  assert.throws(() => decodeDoeObject(bad), decodeError('Reserved'));
  assert.throws(
    () => encodeDoeHeader({ vendorId: 1, type: DoeObjectType.CMA_SPDM, payloadBytes: 4, connectionId: 1 }),
    (e: unknown) => e instanceof SpdmError && e.code === 'ENCODE_ERROR',
  );
});

test('discovery codecs: version byte, reserved bytes, the optional version-2 DW, out-of-range index', () => {
  assert.equal(toHex(encodeDoeDiscoveryRequest({ index: 3, version: 2 })), '03020000');
  assert.throws(
    () => decodeDoeDiscoveryRequest(fromHex('00000100')),
    (e: unknown) => e instanceof DecodeError && e.field === 'Reserved',
  );
  assert.throws(
    () => decodeDoeDiscoveryRequest(fromHex('000000')),
    (e: unknown) => e instanceof DecodeError && e.field === 'Reserved',
  );
  const v2 = encodeDoeDiscoveryResponse({
    vendorId: 1,
    type: 3,
    nextIndex: 4,
    extra: { maxObjectLengthDw: 0x400, additionalInfo: 7 },
  });
  assert.deepEqual(decodeDoeDiscoveryResponse(v2), {
    vendorId: 1,
    type: 3,
    nextIndex: 4,
    extra: { maxObjectLengthDw: 0x400, additionalInfo: 7 },
  });
  assert.throws(
    () => decodeDoeDiscoveryResponse(fromHex('010001')),
    (e: unknown) => e instanceof DecodeError && e.messageName === 'DOE Discovery response',
  );
  assert.throws(
    () => decodeDoeDiscoveryResponse(fromHex('0100010200')),
    (e: unknown) => e instanceof DecodeError && e.field === 'Length',
  );
  assert.throws(
    () => answerDoeDiscovery(encodeDoeDiscoveryRequest({ index: 3 })),
    (e: unknown) => e instanceof DecodeError && e.field === 'Index',
  );
});
