/** Acceptance records and the same-device check after a reset: same device, swapped device, new firmware, forgery, replay. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Evidence } from '../../src/evidence/evidence.js';
import { SpdmError } from '../../src/wire/errors.js';
import { acceptanceRecord, sameDevice, type AcceptanceRecord } from '../../src/verifier/acceptance.js';
import { collect, edited, makeDevice, NOW, viaJson, type TestDevice } from './helpers.js';

let device: TestDevice;
let accepted: Evidence;
let record: AcceptanceRecord;

before(async () => {
  device = makeDevice();
  accepted = await collect(device);
  // Stored as JSON (a file, a database row) and read back.
  record = viaJson(acceptanceRecord(accepted, { now: NOW }));
});

test('a record is JSON: chain and leaf-key digests per slot, a digest per measurement, version and algorithms', () => {
  assert.equal(record.format, 'spdmkit-acceptance/1');
  assert.equal(record.slots.length, 1);
  assert.match(record.slots[0]!.certificatesSha256, /^[0-9a-f]{64}$/);
  assert.match(record.slots[0]!.leafPublicKeySha256, /^[0-9a-f]{64}$/);
  assert.equal(record.slots[0]!.leafSubject, 'CN=Acme X100');
  assert.deepEqual(
    record.measurements.map((m) => m.index),
    [1, 2, 3, 4, 5, 6],
  );
  assert.ok(record.measurements.every((m) => m.signed && /^[0-9a-f]{64}$/.test(m.blockSha256)));
  assert.equal(record.version, accepted.version);
  assert.equal(record.algorithms.baseAsym, accepted.algorithms.baseAsym);
  assert.deepEqual(viaJson(record), record);
});

test('re-accepted after reset: new connection, new nonces, same identity and measurements → same', async () => {
  const nonce = new Uint8Array(32).fill(7);
  const afterReset = await collect(device, { nonce, at: new Date('2026-03-02T08:00:00Z') });
  assert.notEqual(afterReset.signatures[0]!.requesterNonce, accepted.signatures[0]!.requesterNonce);
  const r = sameDevice(record, viaJson(afterReset), { expectedNonce: nonce });
  assert.deepEqual(r, { same: true, changes: [] });
});

test('device swapped after reset: another device of the same model → LEAF_KEY_CHANGED and CHAIN_CHANGED', async () => {
  // Same vendor root, same model name, same firmware and measurements: only the keys differ.
  const twin = await collect(makeDevice());
  const r = sameDevice(record, twin);
  assert.equal(r.same, false);
  assert.deepEqual(r.changes.map((c) => c.code).sort(), ['CHAIN_CHANGED', 'LEAF_KEY_CHANGED']);
  assert.match(r.changes.find((c) => c.code === 'LEAF_KEY_CHANGED')!.message, /slot 0: the leaf public key changed/);
});

test('firmware changed after reset: MEASUREMENT_CHANGED naming the index', async () => {
  const updated: TestDevice = {
    ...device,
    profile: { ...device.profile, measurements: makeDevice({ firmwareVersion: '1.1.0' }).profile.measurements },
  };
  const r = sameDevice(record, await collect(updated));
  assert.equal(r.same, false);
  assert.deepEqual(
    r.changes.map((c) => `${c.code}:${c.index}`),
    ['MEASUREMENT_CHANGED:2', 'MEASUREMENT_CHANGED:5'],
  );
  assert.match(r.changes[0]!.message, /^measurement 2 \(mutable firmware\) changed: /);
  assert.match(r.changes[1]!.message, /^measurement 5 \(firmware version\) changed: 312e302e30 → 312e312e30$/);
});

test('measurements added or removed are named', async () => {
  const fewer: TestDevice = {
    ...device,
    profile: { ...device.profile, measurements: device.profile.measurements.filter((m) => m.index !== 4) },
  };
  const r1 = sameDevice(record, await collect(fewer));
  assert.deepEqual(
    r1.changes.map((c) => `${c.code}:${c.index}`),
    ['MEASUREMENT_REMOVED:4'],
  );
  const extra = { ...device.profile.measurements[0]!, index: 9 };
  const more: TestDevice = {
    ...device,
    profile: { ...device.profile, measurements: [...device.profile.measurements, extra] },
  };
  const r2 = sameDevice(record, await collect(more));
  assert.deepEqual(
    r2.changes.map((c) => `${c.code}:${c.index}`),
    ['MEASUREMENT_ADDED:9'],
  );
});

test('the fresh evidence must verify with its own leaf key: edited evidence is not the same device', () => {
  const forgedSig = edited(accepted, (d) => {
    const s = d.signatures[1]!['signature'] as string;
    d.signatures[1]!['signature'] = (s[0] === 'f' ? '0' : 'f') + s.slice(1);
  });
  const r = sameDevice(record, forgedSig);
  assert.equal(r.same, false);
  assert.deepEqual(
    r.changes.map((c) => c.code),
    ['SIGNATURE_INVALID'],
  );

  // Old evidence edited to claim the recorded measurements although the device now runs other firmware.
  const forgedMeasurement = edited(accepted, (d) => {
    d.measurements[1]!['value'] = 'ff'.repeat(64);
  });
  assert.ok(sameDevice(record, forgedMeasurement).changes.some((c) => c.code === 'SIGNATURE_INVALID'));

  const unsigned = edited(accepted, (d) => {
    d.signatures = [];
  });
  assert.ok(sameDevice(record, unsigned).changes.some((c) => c.code === 'SIGNATURE_MISSING'));
});

test('replayed evidence (genuine, but not over the nonce just sent) → NONCE_MISMATCH', () => {
  const r = sameDevice(record, accepted, { expectedNonce: new Uint8Array(32).fill(9) });
  assert.equal(r.same, false);
  assert.ok(r.changes.every((c) => c.code === 'NONCE_MISMATCH') && r.changes.length === 2);
});

test('malformed records and evidence never throw', () => {
  assert.deepEqual(
    sameDevice({ format: 'x' }, accepted).changes.map((c) => c.code),
    ['MALFORMED_RECORD'],
  );
  assert.deepEqual(
    sameDevice({ ...record, slots: [{ slot: 0 }] }, accepted).changes.map((c) => c.code),
    ['MALFORMED_RECORD'],
  );
  assert.deepEqual(
    sameDevice(record, null).changes.map((c) => c.code),
    ['MALFORMED_EVIDENCE'],
  );
  assert.deepEqual(sameDevice(record, { format: 'spdmkit-evidence/1' }).same, false);
  assert.throws(
    () => acceptanceRecord({}),
    (e: unknown) => e instanceof SpdmError && e.code === 'DECODE_ERROR',
  );
  assert.throws(
    () => acceptanceRecord(edited(accepted, (d) => void (d.signatures[0]!['signature'] = '00'.repeat(64)))),
    (e: unknown) => e instanceof SpdmError && e.code === 'SIGNATURE_INVALID',
  );
});
