/** The canonical leaf encoding: byte-exact as docs/log-format.md describes it, deterministic, reversible. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeLeaf,
  draftsFromEvidence,
  encodeLeaf,
  encodePci,
  fieldDigests,
  differingFields,
  leafHashWithDigests,
  FIELDS,
  type EntryDraft,
  type LogEntry,
} from '../../src/log/entry.js';
import { leafHash } from '../../src/log/merkle.js';
import { DecodeError } from '../../src/wire/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evidenceMatrix, makeEvidence, makePublicKeyEvidence, makeSessionEvidence, pciFor, SUITES } from './helpers.js';
import { sha256 } from '../../src/log/merkle.js';
import { repoRoot } from '../support/paths.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const b = (...x: number[]) => new Uint8Array(x);

const SMALL: LogEntry = {
  index: 1,
  evidenceIndex: 0,
  loggedAt: 1_700_000_000_000,
  collectedAt: 'T',
  kind: 'K',
  version: 0x12,
  slot: 0,
  asymAlgo: 0x10,
  hashAlgo: 0x01,
  measurementHashAlgo: 0x02,
  measurementSpec: 0x01,
  otherParams: 0,
  requesterNonce: b(0xaa),
  responderNonce: b(0xbb),
  context: 'c',
  transcript: b(1, 2),
  transcriptHash: b(3),
  signature: b(4),
  measurements: [],
  verified: true,
};

test('leaf bytes of a small entry, written out by hand from docs/log-format.md', () => {
  const expected = [
    '01', // leaf format
    '01 00000008 0000000000000001', // index
    '02 00000008 0000000000000000', // evidenceIndex
    '03 00000008 0000018bcfe56800', // loggedAt 1700000000000 ms
    '04 00000001 54', // collectedAt "T"
    '07 00000001 4b', // kind "K" (device 0x05 and pci 0x06 absent)
    '08 00000001 12', // version
    '09 00000001 00', // slot
    '0a 00000004 00000010', // asymAlgo
    '0b 00000004 00000001', // hashAlgo
    '0c 00000004 00000002', // measurementHashAlgo
    '0d 00000001 01', // measurementSpec
    '0e 00000004 00000000', // otherParams
    '0f 00000001 aa', // requesterNonce
    '10 00000001 bb', // responderNonce (requesterContext 0x11 absent)
    '12 00000001 63', // context "c"
    '13 00000002 0102', // transcript
    '14 00000001 03', // transcriptHash
    '15 00000001 04', // signature (summary hash 0x16, chain digest 0x17 absent)
    '18 00000004 00000000', // measurements: count 0
    '19 00000001 01', // verified
  ]
    .join('')
    .replace(/ /g, '');
  assert.equal(hex(encodeLeaf(SMALL)), expected);
  assert.deepEqual(decodeLeaf(encodeLeaf(SMALL)), SMALL);
});

test('leaf bytes of an entry with every optional field, pci included, as in the second worked example', () => {
  const full: LogEntry = {
    ...SMALL,
    device: 'd',
    pci: { bdf: '0000:03:00.0', vendorId: 0x8086, deviceId: 0x1234, classCode: 0x010802, revisionId: 1 },
    requesterContext: b(0xcc),
    measurementSummaryHash: b(5),
    chainDigest: b(6),
    measurements: [b(7, 8)],
  };
  const expected = [
    '01',
    '01 00000008 0000000000000001',
    '02 00000008 0000000000000000',
    '03 00000008 0000018bcfe56800',
    '04 00000001 54',
    '05 00000001 64', // device "d"
    // pci: a nested TLV with no format byte of its own, 46 bytes
    '06 0000002e',
    '01 0000000c 303030303a30333a30302e30', // bdf "0000:03:00.0"
    '02 00000002 8086', // vendorId
    '03 00000002 1234', // deviceId
    '04 00000004 00010802', // classCode (24-bit value in a u32)
    '05 00000001 01', // revisionId
    '07 00000001 4b',
    '08 00000001 12',
    '09 00000001 00',
    '0a 00000004 00000010',
    '0b 00000004 00000001',
    '0c 00000004 00000002',
    '0d 00000001 01',
    '0e 00000004 00000000',
    '0f 00000001 aa',
    '10 00000001 bb',
    '11 00000001 cc', // requesterContext
    '12 00000001 63',
    '13 00000002 0102',
    '14 00000001 03',
    '15 00000001 04',
    '16 00000001 05', // measurementSummaryHash
    '17 00000001 06', // chainDigest
    '18 0000000a 00000001 00000002 0708', // one block of 2 bytes
    '19 00000001 01',
  ]
    .join('')
    .replace(/ /g, '');
  assert.equal(hex(encodeLeaf(full)), expected);
  assert.deepEqual(decodeLeaf(encodeLeaf(full)), full);
});

test('nested PCI identity and measurement list encodings', () => {
  assert.equal(
    hex(encodePci({ vendorId: 0x8086, deviceId: 0x1234, classCode: 0x010802, revisionId: 1 })),
    '02000000028086' + '03000000021234' + '040000000400010802' + '050000000101',
  );
  const withBlocks = { ...SMALL, measurements: [b(9), b(7, 7)], device: 'd', requesterContext: new Uint8Array(0) };
  const leaf = hex(encodeLeaf(withBlocks));
  assert.ok(leaf.includes('05' + '00000001' + '64'), 'device');
  assert.ok(leaf.includes('11' + '00000000'), 'an empty requester context is present, not absent');
  assert.ok(
    leaf.includes('18' + '0000000f' + '00000002' + '00000001' + '09' + '00000002' + '0707'),
    'measurements: count, then length-prefixed blocks',
  );
  assert.notEqual(
    hex(encodeLeaf({ ...SMALL, requesterContext: new Uint8Array(0) })),
    hex(encodeLeaf(SMALL)),
    'absent and empty differ',
  );
});

test('encoding refuses values it cannot represent exactly', () => {
  assert.throws(() => encodeLeaf({ ...SMALL, version: 0x100 }), /version/);
  assert.throws(() => encodeLeaf({ ...SMALL, index: -1 }), /index/);
  assert.throws(() => encodeLeaf({ ...SMALL, loggedAt: 1.5 }), /loggedAt/);
  assert.throws(() => encodeLeaf({ ...SMALL, kind: undefined as unknown as string }), /kind/);
});

test('decoding rejects what the encoder never produces', () => {
  const good = encodeLeaf(SMALL);
  assert.throws(() => decodeLeaf(good.slice(0, -1)), DecodeError);
  const bad = good.slice();
  bad[0] = 2;
  assert.throws(() => decodeLeaf(bad), /leaf format/);
  // Swap the order of two fields: tags must ascend.
  const parts = [good.subarray(1, 14), good.subarray(14, 27)];
  const swapped = new Uint8Array([1, ...(parts[1] as Uint8Array), ...(parts[0] as Uint8Array), ...good.subarray(27)]);
  assert.throws(() => decodeLeaf(swapped), /out of order/);
});

test('field locator: empty strings and byte strings count (Node 20 zlib.crc32 returns 0 for an empty TextEncoder result)', () => {
  const a = leafHashWithDigests({ ...SMALL, context: '' });
  const b = leafHashWithDigests({ ...SMALL, context: '', device: '' });
  assert.equal(hex(a.fieldDigests), hex(fieldDigests({ ...SMALL, context: '' })));
  assert.equal(hex(b.fieldDigests), hex(fieldDigests({ ...SMALL, context: '', device: '' })));
});

test('field locator names exactly the field that changed', () => {
  const base = fieldDigests(SMALL);
  assert.deepEqual(differingFields(base, fieldDigests({ ...SMALL, signature: b(5) })), ['signature']);
  assert.deepEqual(differingFields(base, fieldDigests({ ...SMALL, device: 'x' })), ['device']);
  assert.deepEqual(differingFields(base, fieldDigests({ ...SMALL, loggedAt: SMALL.loggedAt + 1, slot: 1 })), [
    'logged_at',
    'slot',
  ]);
  assert.equal(differingFields(base.subarray(1), base), undefined);
});

const bytes = fc.uint8Array({ maxLength: 40 }).map((x) => new Uint8Array(x));
const entryArb: fc.Arbitrary<LogEntry> = fc.record(
  {
    index: fc.nat(),
    evidenceIndex: fc.nat(),
    loggedAt: fc.nat({ max: 2 ** 48 }),
    collectedAt: fc.string(),
    device: fc.string(),
    pci: fc.record(
      {
        vendorId: fc.nat(0xffff),
        deviceId: fc.nat(0xffff),
        classCode: fc.nat(0xffffff),
        revisionId: fc.nat(0xff),
        bdf: fc.string(),
        serialNumber: fc.string(),
      },
      { requiredKeys: ['vendorId', 'deviceId', 'classCode', 'revisionId'] },
    ),
    kind: fc.constantFrom('CHALLENGE_AUTH', 'MEASUREMENTS', 'KEY_EXCHANGE_RSP'),
    version: fc.nat(0xff),
    slot: fc.nat(0xff),
    asymAlgo: fc.nat(0xffffffff),
    hashAlgo: fc.nat(0xffffffff),
    measurementHashAlgo: fc.nat(0xffffffff),
    measurementSpec: fc.nat(0xff),
    otherParams: fc.nat(0xffffffff),
    requesterNonce: bytes,
    responderNonce: bytes,
    requesterContext: bytes,
    context: fc.string(),
    transcript: bytes,
    transcriptHash: bytes,
    signature: bytes,
    measurementSummaryHash: bytes,
    chainDigest: bytes,
    measurements: fc.array(bytes, { maxLength: 4 }),
    verified: fc.boolean(),
  },
  { requiredKeys: FIELDS.filter((f) => !f.optional).map((f): keyof LogEntry => f.name) },
);

test('property: decodeLeaf(encodeLeaf(e)) = e, and the encoding is a function of the value only', () => {
  fc.assert(
    fc.property(entryArb, (e) => {
      // Lone surrogates are not UTF-8; entries are stored after a UTF-8 round trip.
      const wf = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
      const clean: LogEntry = {
        ...e,
        collectedAt: wf(e.collectedAt),
        context: wf(e.context),
        kind: e.kind,
        ...(e.device !== undefined ? { device: wf(e.device) } : {}),
        ...(e.pci
          ? {
              pci: {
                ...e.pci,
                ...(e.pci.bdf !== undefined ? { bdf: wf(e.pci.bdf) } : {}),
                ...(e.pci.serialNumber !== undefined ? { serialNumber: wf(e.pci.serialNumber) } : {}),
              },
            }
          : {}),
      };
      const leaf = encodeLeaf(clean);
      assert.deepEqual(decodeLeaf(leaf), clean);
      // The streaming form used by verification agrees with the materialised leaf.
      const streamed = leafHashWithDigests(clean);
      assert.equal(hex(streamed.leafHash), hex(leafHash(leaf)));
      assert.equal(hex(streamed.fieldDigests), hex(fieldDigests(clean)));
      // Same value built in another key order: same bytes.
      const reordered = Object.fromEntries(Object.entries(clean).reverse()) as unknown as LogEntry;
      assert.equal(hex(encodeLeaf(reordered)), hex(leaf));
    }),
    { numRuns: 300 },
  );
});

test('drafts from real evidence: one per signature, chains by digest, measurement blocks only where signed', async () => {
  const ev = await makeEvidence({ suite: SUITES[0]!, version: 0x13, name: 'nvme0', pci: pciFor(0) });
  const { drafts, chains } = draftsFromEvidence(ev);
  assert.deepEqual(
    drafts.map((d) => d.kind),
    ['CHALLENGE_AUTH', 'MEASUREMENTS'],
  );
  assert.equal(chains.length, 1);
  const [chal, meas] = drafts as [(typeof drafts)[number], (typeof drafts)[number]];
  assert.equal(hex(chal.chainDigest!), hex(chains[0]!.digest));
  assert.equal(chal.measurements.length, 0);
  assert.ok(chal.measurementSummaryHash && chal.measurementSummaryHash.length === 32);
  assert.equal(meas.measurements.length, ev.measurements.length);
  assert.equal(chal.device, 'nvme0');
  assert.deepEqual(chal.pci, pciFor(0));
  assert.equal(chal.context, 'responder-challenge_auth signing');
  const all = await evidenceMatrix('m');
  assert.equal(
    all.reduce((n, e) => n + draftsFromEvidence(e).drafts.length, 0),
    28,
  );
  assert.throws(
    () => draftsFromEvidence({ ...ev, signatures: [{ ...ev.signatures[0]!, signature: 'zz' }] }),
    /signatures\[0\]\.signature/,
  );
});

test('a MEASUREMENTS entry takes its blocks from the decoded transcript: bytes that merely occur in it are not a block', async () => {
  const ev = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'nvme1' });
  const measIndex = ev.signatures.findIndex((s) => s.kind === 'MEASUREMENTS');
  const sig = ev.signatures[measIndex]!;
  // A listed "measurement" whose bytes are the signed response nonce: a byte search finds it in
  // the transcript, decoding does not see a measurement block there.
  const decoy = { ...ev.measurements[0]!, index: 0xee, block: sig.responderNonce };
  const { drafts } = draftsFromEvidence({ ...ev, measurements: [...ev.measurements, decoy] });
  const meas = drafts[measIndex]!;
  assert.deepEqual(
    meas.measurements.map(hex),
    ev.measurements.map((m) => m.block),
  );
  // A transcript that does not decode yields no blocks (the transcript itself is still logged).
  const broken = draftsFromEvidence({
    ...ev,
    signatures: ev.signatures.map((s, i) => (i === measIndex ? { ...s, transcript: `${s.transcript}ff` } : s)),
  });
  assert.deepEqual(broken.drafts[measIndex]!.measurements, []);
  assert.ok(broken.drafts[measIndex]!.transcript.length > 0);
});

/**
 * Holds an annotated transcript of the document to a real entry: each line is `offset  bytes  comment`,
 * the bytes literal hex or `<field>` (the entry's bytes), `<SHA-256(chain)>` or `<random N>`.
 */
function matchLayout(layout: string, e: EntryDraft, chain: Uint8Array): void {
  const named = (name: string): Uint8Array => {
    if (name === 'SHA-256(chain)') return sha256(chain);
    const block = /^measurements\[(\d+)\]$/.exec(name);
    if (block) return e.measurements[Number(block[1])] ?? assert.fail(`no ${name}`);
    const v = (e as unknown as Record<string, unknown>)[name];
    assert.ok(v instanceof Uint8Array, `<${name}> names no byte field of the entry`);
    return v;
  };
  let pos = 0;
  for (const line of layout.split('\n')) {
    const m = /^ *(\d+) {2}(\S(?:.*?\S)?)(?: {2,}.*)?$/.exec(line);
    if (!m) continue; // a comment carried over to its own line
    assert.equal(Number(m[1]), pos, `the offset of "${line.trim()}"`);
    for (const tok of (m[2] as string).match(/<[^>]+>|[0-9a-f]+/g) ?? []) {
      const random = /^<random (\d+)>$/.exec(tok);
      if (random) {
        pos += Number(random[1]);
        continue;
      }
      const want = tok.startsWith('<') ? named(tok.slice(1, -1)) : Buffer.from(tok, 'hex');
      assert.equal(hex(e.transcript.subarray(pos, pos + want.length)), hex(want), `${tok} at byte ${pos}`);
      pos += want.length;
    }
  }
  assert.equal(pos, e.transcript.length, 'the layout covers the whole transcript');
}

test('the worked transcripts of docs/log-format.md section 1 are real entries, byte for byte', async () => {
  const doc = readFileSync(join(repoRoot(), 'docs', 'log-format.md'), 'utf8');
  const section = doc.slice(doc.indexOf('**Worked examples: where the fields are.**'), doc.indexOf('## 2. '));
  const layouts = new Map(
    [...section.matchAll(/^`(\w+)` \((\d+) bytes[\s\S]*?```\n([\s\S]*?)```/gm)].map((m) => [
      m[1] as string,
      { size: Number(m[2]), layout: m[3] as string },
    ]),
  );
  assert.deepEqual([...layouts.keys()], ['CHALLENGE_AUTH', 'MEASUREMENTS', 'KEY_EXCHANGE_RSP', 'ENDPOINT_INFO']);
  // What the examples say they are: SPDM 1.3, ECDSA-P256/SHA-256, slot 0xFF, a session for the
  // third, a device that signs ENDPOINT_INFO for the fourth.
  const keyed = draftsFromEvidence(await makePublicKeyEvidence({ suite: SUITES[0]!, version: 0x13, name: 'doc' }));
  const session = draftsFromEvidence(
    await makeSessionEvidence({ suite: SUITES[0]!, version: 0x13, name: 'doc', provisionedKey: true }),
  );
  const ep = draftsFromEvidence(
    await makePublicKeyEvidence({ suite: SUITES[0]!, version: 0x13, name: 'doc', endpointInfo: true }),
  );
  const real = [
    ...keyed.drafts.map((d) => ({ d, chain: keyed.chains[0]!.chain })),
    ...session.drafts.filter((d) => d.kind === 'KEY_EXCHANGE_RSP').map((d) => ({ d, chain: session.chains[0]!.chain })),
    ...ep.drafts.filter((d) => d.kind === 'ENDPOINT_INFO').map((d) => ({ d, chain: ep.chains[0]!.chain })),
  ];
  assert.equal(real.length, 4);
  for (const { d, chain } of real) {
    const doc = layouts.get(d.kind);
    assert.ok(doc, d.kind);
    assert.equal(d.slot, 0xff);
    assert.equal(d.transcript.length, doc.size, `${d.kind}: the size the document gives`);
    matchLayout(doc.layout, d, chain);
  }
});
