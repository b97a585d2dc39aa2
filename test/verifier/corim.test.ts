/** Reference values imported from an IETF CoRIM (CBOR) verify a genuine device and catch a patched one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, Tag } from 'cbor2';
import { SpdmError } from '../../src/wire/errors.js';
import { fromHex } from '../../src/wire/bytes.js';
import { importCorim } from '../../src/verifier/corim.js';
import { compilePolicy } from '../../src/verifier/policy.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { collect, makeDevice, NOW, vendorRoot } from './helpers.js';

const SHA256 = 1; // IANA Named Information hash algorithm
const SHA384 = 7;

function corim(reference: [number, Map<number, unknown>][], options: { nested?: boolean } = {}): Uint8Array {
  const env = new Map([
    [
      0,
      new Map<number, unknown>([
        [1, 'Acme'],
        [2, 'X100'],
      ]),
    ],
  ]);
  const measurementMaps = reference.map(
    ([index, mval]) =>
      new Map<number, unknown>([
        [0, index],
        [1, mval],
      ]),
  );
  const comid = new Map<number, unknown>([
    [1, new Map([[0, 'acme-x100-rv']])],
    [4, new Map([[0, [[env, measurementMaps]]]])],
  ]);
  const tag = new Tag(506, options.nested === false ? comid : encode(comid));
  return encode(
    new Tag(
      501,
      new Map<number, unknown>([
        [0, 'acme-x100-corim'],
        [1, [tag]],
      ]),
    ),
  );
}

test('CoRIM reference values → policy device entry → trusted; a patched firmware is a mismatch', async () => {
  const device = makeDevice();
  const e = await collect(device);
  const value = (i: number) => fromHex(e.measurements.find((m) => m.index === i)!.value);
  const reference: [number, Map<number, unknown>][] = [
    [
      1,
      new Map([
        [
          2,
          [
            [SHA256, value(1)],
            [SHA384, new Uint8Array(48)],
          ],
        ],
      ]),
    ],
    [2, new Map([[2, [[SHA256, value(2)]]]])],
    [3, new Map([[2, [[SHA256, value(3)]]]])],
    [4, new Map([[2, [[SHA256, value(4)]]]])],
    [5, new Map([[4, new Tag(560, value(5))]])],
    [6, new Map([[1, new Tag(553, 1)]])],
  ];
  for (const nested of [true, false]) {
    const imported = importCorim(corim(reference, { nested }), {
      match: () => ({ pci: { vendorId: '8086', deviceId: '0b25' } }),
    });
    assert.deepEqual(imported.warnings, []);
    assert.equal(imported.devices.length, 1);
    const entry = imported.devices[0]!;
    assert.equal(entry.name, 'Acme X100');
    assert.equal(entry.measurements['1']!.length, 2);
    assert.equal(entry.minSvn, '1');
    assert.equal(entry.svnIndex, 6);
    const policy = compilePolicy({ version: 1, evidence: { requireDevicePolicy: true }, devices: imported.devices });
    const trust = TrustStore.fromCertificates([vendorRoot().certificate]);
    const v = verify(e, policy, trust, { now: NOW });
    assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
    assert.equal(v.devicePolicy, 'Acme X100');

    const patched = await collect(makeDevice({ firmwareVersion: '1.0.1' }));
    assert.deepEqual(
      verify(patched, policy, trust, { now: NOW }).reasons.map((r) => `${r.code}:${String(r['index'])}`),
      ['MEASUREMENT_MISMATCH:2', 'MEASUREMENT_MISMATCH:5'],
    );
  }

  // An exact SVN becomes the acceptable raw value of its index.
  const exact = importCorim(corim([[6, new Map([[1, 1]])]]), { match: () => ({ subject: 'CN=Acme X100' }) });
  assert.deepEqual(exact.devices[0]!.measurements['6'], ['0100000000000000']);
});

test('what a CoRIM import cannot use is reported, not dropped', () => {
  const r = importCorim(
    corim([
      [0, new Map([[2, [[SHA256, new Uint8Array(32)]]]])],
      [
        2,
        new Map<number, unknown>([
          [0, new Map()],
          [2, [[SHA256, new Uint8Array(32)]]],
        ]),
      ],
    ]),
    { match: () => ({ subject: 'x' }) },
  );
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0]!, /mkey 0 is not an SPDM measurement index/);
  assert.match(r.warnings[1]!, /measurement value 0 is not used/);
  assert.throws(
    () => importCorim(new Uint8Array([0xff, 0x00]), { match: () => ({}) }),
    (e: unknown) => e instanceof SpdmError && /not CBOR/.test(e.message),
  );
  assert.throws(() => importCorim(encode(new Tag(18, [])), { match: () => ({}) }), /signed CoRIMs are not supported/);
  assert.throws(() => importCorim(encode({ a: 1 }), { match: () => ({}) }), /not a corim-map/);
});
