/** Hostile evidence files: verify() never throws, never trusts, and names what is wrong. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Evidence } from '../../src/evidence/evidence.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { sameDevice, acceptanceRecord } from '../../src/verifier/acceptance.js';
import { codes, collect, edited, makeDevice, NOW, vendorRoot, viaJson } from './helpers.js';

let evidence: Evidence;
let trust: TrustStore;

before(async () => {
  evidence = await collect(makeDevice());
  trust = TrustStore.fromCertificates([vendorRoot().certificate]);
});

test('not evidence at all: MALFORMED_EVIDENCE naming the field', () => {
  const cases: [unknown, RegExp][] = [
    [null, /evidence: must be an object/],
    [42, /must be an object/],
    [[], /must be an object/],
    ['{"format":', /must be an object/],
    [{}, /evidence\.format: must be "spdmkit-evidence\/1"/],
    [
      edited(evidence, (d) => void (d['collectedAt'] = 'yesterday')),
      /evidence\.collectedAt: must be an ISO 8601 date and time/,
    ],
    [edited(evidence, (d) => void (d['versionByte'] = '1.2')), /evidence\.versionByte: must be an integer/],
    [
      edited(evidence, (d) => void (d.slots[0]!['certChain'] = 'zz')),
      /evidence\.slots\[0\]\.certChain: must be an even number of hex digits/,
    ],
    [
      edited(evidence, (d) => void (d.signatures[0]!['requesterNonce'] = 'abcd')),
      /signatures\[0\]\.requesterNonce: must be 32 bytes, has 2/,
    ],
    [edited(evidence, (d) => void (d.signatures[1]!['kind'] = 'FINISH')), /signatures\[1\]\.kind: must be one of/],
    // A relabelled session signature lacks what a KEY_EXCHANGE_RSP record must hold.
    [
      edited(evidence, (d) => void (d.signatures[1]!['kind'] = 'KEY_EXCHANGE_RSP')),
      /signatures\[1\]\.sessionId: is required for a KEY_EXCHANGE_RSP signature/,
    ],
    [
      edited(evidence, (d) => void (d.signatures[0]!['sessionId'] = '0x00010002')),
      /signatures\[0\]\.sessionId: a CHALLENGE_AUTH signature is never made inside a session/,
    ],
    [
      edited(evidence, (d) => void (d.signatures[1]!['sessionId'] = 'session-1')),
      /signatures\[1\]\.sessionId: must be 0x and 8 hex digits/,
    ],
    [
      edited(evidence, (d) => void (d.signatures[1]!['sessionId'] = '0xFFFFFFFF')),
      /signatures\[1\]\.sessionId: 0xffffffff is not a valid SessionID/,
    ],
    [
      edited(evidence, (d) => void (d.measurements[0]!['index'] = 255)),
      /measurements\[0\]\.index: 255 is outside 1\.\.254/,
    ],
    [
      edited(evidence, (d) => void (d.measurements[1]!['index'] = 1)),
      /measurements\[1\]\.index: index 1 appears twice/,
    ],
    [
      edited(evidence, (d) => void (d['signatures'] = new Array<Record<string, unknown>>(1000).fill({}))),
      /signatures: holds 1000 entries, at most 64/,
    ],
    [
      edited(evidence, (d) => void (d['pci'] = { vendorId: 0x10000, deviceId: 1, classCode: 0, revisionId: 0 })),
      /pci\.vendorId: 65536 is outside/,
    ],
    [
      edited(
        evidence,
        (d) => void (d['pci'] = { vendorId: 1, deviceId: 1, classCode: 0, revisionId: 0, subsystemId: 1 }),
      ),
      /subsystemVendorId and subsystemId come together/,
    ],
  ];
  for (const [doc, re] of cases) {
    const v = verify(doc, undefined, trust, { now: NOW });
    assert.equal(v.status, 'untrusted');
    assert.ok(
      codes(v).every((c) => c === 'MALFORMED_EVIDENCE'),
      JSON.stringify(v.reasons),
    );
    assert.ok(
      v.reasons.some((r) => re.test(r.message)),
      `${re} in ${JSON.stringify(v.reasons.map((r) => r.message))}`,
    );
  }
});

test('well-formed JSON with broken contents: a precise reason, not a crash', () => {
  const truncatedChain = edited(
    evidence,
    (d) => void (d.slots[0]!['certChain'] = (d.slots[0]!['certChain'] as string).slice(0, 200)),
  );
  const v1 = verify(truncatedChain, undefined, trust, { now: NOW });
  assert.ok(codes(v1).includes('CHAIN_INVALID'), JSON.stringify(v1.reasons));
  assert.ok(codes(v1).includes('SIGNATURE_INVALID'));

  const garbageTranscript = edited(evidence, (d) => void (d.signatures[0]!['transcript'] = 'ff'.repeat(40)));
  assert.ok(codes(verify(garbageTranscript, undefined, trust, { now: NOW })).includes('SIGNATURE_INVALID'));

  const badBlock = edited(evidence, (d) => {
    d.signatures = d.signatures.filter((s) => s['kind'] === 'CHALLENGE_AUTH');
    d.measurements[0]!['block'] = '0101ffff';
  });
  const v3 = verify(badBlock, undefined, trust, { now: NOW });
  assert.ok(codes(v3).includes('MALFORMED_EVIDENCE'));
  assert.match(v3.reasons.find((r) => r.code === 'MALFORMED_EVIDENCE')!.message, /^measurement 1: /);

  const unknownHash = edited(evidence, (d) => {
    (d['algorithms'] as Record<string, unknown>)['baseHash'] = 0x80;
    for (const s of d.signatures) s['hashAlgo'] = 0x80;
  });
  assert.equal(verify(unknownHash, undefined, trust, { now: NOW }).status, 'untrusted');

  // A hostile object (not from JSON): getters that throw.
  const hostile = Object.defineProperty({ format: 'spdmkit-evidence/1' }, 'collectedAt', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  assert.deepEqual(codes(verify(hostile, undefined, trust, { now: NOW })), ['MALFORMED_EVIDENCE']);
});

test('property: any JSON value, or any one field of genuine evidence replaced, never throws and is trusted only when harmless', () => {
  const record = acceptanceRecord(evidence);
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => {
      const v = verify(doc, undefined, trust, { now: NOW });
      assert.equal(v.status, 'untrusted');
      const s = sameDevice(record, doc);
      assert.equal(s.same, false);
    }),
    { numRuns: 200 },
  );

  // Paths to every leaf value of the evidence document.
  const base = viaJson(evidence) as unknown;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
    else paths.push(p);
  };
  walk(base, []);
  // Fields the verifier does not rely on (summaries, labels): changing them may leave the device trusted.
  // collectedAt is unsigned: it only matters under maxAgeSeconds (freshness proper comes from the nonce).
  const informational =
    /^(device|version|collectedAt|capabilities|algorithms\.(baseAsymName|baseHashName|measurementHashName|otherParams)|slots\.\d+\.(digest|certificates|chainProblems|certModel)|signatures\.\d+\.verified|measurements\.\d+\.(signed|typeName|type|raw|spec)|pci\.bdf)(\.|$)/;
  fc.assert(
    fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, replacement) => {
      const doc = viaJson(evidence) as unknown as Record<string, unknown>;
      let o: Record<string | number, unknown> = doc;
      for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
      const last = path.at(-1)!;
      if (JSON.stringify(o[last]) === JSON.stringify(replacement)) return;
      o[last] = replacement;
      const v = verify(doc, undefined, trust, { now: NOW });
      if (!informational.test(path.join('.')))
        assert.equal(v.status, 'untrusted', `${path.join('.')} = ${JSON.stringify(replacement)}`);
    }),
    { numRuns: 200 },
  );
});
