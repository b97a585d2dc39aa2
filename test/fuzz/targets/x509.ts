/**
 * Certificate chains as a device sends them: the SPDM chain header, the DER framing, each
 * certificate's fields, and the chain rules (then the trust decision against the chain's own
 * root). Seeds are genuine chains — our generated identities and libspdm's sample bundles (P-256,
 * P-384, RSA-3072) — and the edits are DER-aware: a TLV is picked from the parsed tree and its tag,
 * length or contents changed, after which the SPDM header length is optionally repaired so the
 * damage reaches the certificate parser rather than the header check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/wire/bytes.js';
import { createDeviceChain } from '../../../src/x509/generate.js';
import { encodeSpdmCertChain } from '../../../src/x509/spdm-chain.js';
import { readTlv, splitDerCertificates } from '../../../src/x509/der.js';
import { chainsToRoot, validateSpdmChain } from '../../../src/x509/chain.js';
import { parseCertificate } from '../../../src/x509/certificate.js';
import { libspdmVectors } from '../../support/paths.js';
import { applyEdits, editsArb, type Edit } from '../mutate.js';
import { defineTarget, expectTypedSync, type Json } from '../target.js';

interface ChainInput {
  readonly version: number;
  readonly hashId: number;
  readonly asymId: number;
  readonly bytes: Uint8Array;
}

interface Seed {
  readonly version: number;
  readonly hashId: number;
  readonly asymId: number;
  readonly chain: Uint8Array;
}

/** Offsets of every TLV header in `der`, walking into constructed values (and BIT/OCTET STRINGs that hold DER). */
function tlvOffsets(der: Uint8Array): number[] {
  const out: number[] = [];
  const fail = (): never => {
    throw new Error('stop');
  };
  const walk = (start: number, end: number, depth: number): void => {
    let off = start;
    while (off < end && depth < 12 && out.length < 400) {
      let t;
      try {
        t = readTlv(der.subarray(0, end), off, fail);
      } catch {
        return;
      }
      out.push(off);
      const constructed = (t.tag & 0x20) !== 0;
      if (constructed) walk(off + t.headerLength, t.end, depth + 1);
      else if (t.tag === 0x04) walk(off + t.headerLength, t.end, depth + 1);
      else if (t.tag === 0x03 && t.length > 1) walk(off + t.headerLength + 1, t.end, depth + 1);
      off = t.end;
    }
  };
  walk(0, der.length, 0);
  return out;
}

type DerEdit =
  | { readonly op: 'tag'; readonly node: number; readonly value: number }
  | { readonly op: 'length'; readonly node: number; readonly form: number; readonly delta: number }
  | { readonly op: 'contents'; readonly node: number; readonly edits: readonly Edit[] };

const derEditArb: fc.Arbitrary<DerEdit> = fc.oneof(
  fc.record({
    op: fc.constant('tag' as const),
    node: fc.nat(),
    value: fc.oneof(
      fc.constantFrom(
        0x00,
        0x01,
        0x02,
        0x03,
        0x04,
        0x05,
        0x06,
        0x0c,
        0x13,
        0x17,
        0x18,
        0x30,
        0x31,
        0xa0,
        0xa3,
        0x1f,
        0xff,
      ),
      fc.nat({ max: 255 }),
    ),
  }),
  fc.record({
    op: fc.constant('length' as const),
    node: fc.nat(),
    form: fc.nat({ max: 5 }),
    delta: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({ op: fc.constant('contents' as const), node: fc.nat(), edits: editsArb(2) }),
);

/** Applies one DER-aware edit to the certificate list inside an SPDM chain (after its header and RootHash). */
function applyDerEdit(chain: Uint8Array, certStart: number, e: DerEdit): Uint8Array {
  const certs = chain.subarray(certStart);
  const nodes = tlvOffsets(certs);
  if (nodes.length === 0) return chain;
  const at = certStart + (nodes[e.node % nodes.length] as number);
  const out = chain.slice();
  if (e.op === 'tag') {
    out[at] = e.value;
    return out;
  }
  const lenByte = chain[at + 1] ?? 0;
  const n = lenByte < 0x80 ? 0 : lenByte & 0x7f;
  let len = 0;
  if (n === 0) len = lenByte;
  else for (let i = 0; i < n; i++) len = len * 256 + (chain[at + 2 + i] ?? 0);
  const valueStart = at + 2 + n;
  if (e.op === 'contents') {
    const value = applyEdits(chain.subarray(valueStart, Math.min(chain.length, valueStart + len)), e.edits);
    return concat3(chain.subarray(0, valueStart), value, chain.subarray(Math.min(chain.length, valueStart + len)));
  }
  // Re-encode the length in another form: short, long with 1-4 bytes, indefinite, or off by delta.
  const newLen = Math.max(0, len + e.delta);
  let header: number[];
  if (e.form === 0) header = [newLen & 0x7f];
  else if (e.form === 5) header = [0x80];
  else {
    const bytes = [];
    for (let i = e.form - 1; i >= 0; i--) bytes.push(Math.floor(newLen / 256 ** i) & 0xff);
    header = [0x80 | e.form, ...bytes];
  }
  return concat3(chain.subarray(0, at + 1), Uint8Array.from(header), chain.subarray(valueStart));
}

function concat3(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + c.length);
  out.set(a);
  out.set(b, a.length);
  out.set(c, a.length + b.length);
  return out;
}

/** Writes the SPDM chain header's Length as the buffer's real size (u16 + reserved, or u32 from 1.4). */
function repairLength(b: Uint8Array, version: number): Uint8Array {
  const out = b.slice();
  if (version >= 0x14) {
    if (out.length >= 4) new DataView(out.buffer).setUint32(0, out.length, true);
  } else if (out.length >= 2) {
    new DataView(out.buffer).setUint16(0, out.length & 0xffff, true);
  }
  return out;
}

const HASH_SIZE: Record<number, number> = { 0x01: 32, 0x02: 48, 0x04: 64 };

function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const [asymId, hashId] of [
    [0x0010, 0x01],
    [0x0080, 0x02],
    [0x0400, 0x04],
  ] as const) {
    const c = createDeviceChain({
      asymId,
      names: { root: 'Fuzz Root', intermediate: 'Fuzz Intermediate', leaf: 'Fuzz Leaf' },
    });
    for (const version of [0x11, 0x13, 0x14])
      out.push({ version, hashId, asymId, chain: encodeSpdmCertChain(version, hashId, c.certificates) });
  }
  for (const [dir, asymId, hashId] of [
    ['ecp256', 0x0010, 0x01],
    ['ecp384', 0x0080, 0x02],
    ['rsa3072', 0x0008, 0x02],
  ] as const) {
    const certs = splitDerCertificates(
      new Uint8Array(readFileSync(join(libspdmVectors(), 'keys', dir, 'bundle_responder.certchain.der'))),
    );
    out.push({ version: 0x12, hashId, asymId, chain: encodeSpdmCertChain(0x12, hashId, certs) });
  }
  return out;
}

function runChain(i: ChainInput): void {
  const now = new Date('2026-03-01T00:00:00Z');
  expectTypedSync(() => {
    const v = validateSpdmChain(i.bytes, {
      version: i.version,
      hashId: i.hashId,
      asymId: i.asymId,
      role: 'responder',
      now,
    });
    const first = v.certificates[0];
    if (first) chainsToRoot(v.certificates, [first], now, { rootHash: v.chain.rootHash, hashId: i.hashId });
    return v;
  });
  // The certificates one by one too: the parser on its own, as the trust store and deny-list use it.
  expectTypedSync(() => {
    const start = 4 + (HASH_SIZE[i.hashId] ?? 32);
    for (const der of splitDerCertificates(i.bytes.subarray(Math.min(start, i.bytes.length)))) parseCertificate(der);
  });
}

export const certChain = defineTarget<ChainInput>({
  name: 'cert-chain',
  what: 'SPDM certificate chain decode, X.509 parse and chain rules, with DER-aware edits of genuine chains',
  ciRuns: 600,
  prepare: async () => {
    const corpus = seeds();
    return {
      arbitrary: fc
        .tuple(
          fc.nat({ max: corpus.length - 1 }),
          fc.array(derEditArb, { minLength: 1, maxLength: 3 }),
          fc.option(editsArb(2), { nil: undefined }),
          fc.boolean(),
        )
        .map(([k, derEdits, byteEdits, repair]) => {
          const s = corpus[k] as Seed;
          const certStart = 4 + (HASH_SIZE[s.hashId] ?? 32);
          let b = s.chain;
          for (const e of derEdits) b = applyDerEdit(b, certStart, e);
          if (byteEdits) b = applyEdits(b, byteEdits);
          if (repair) b = repairLength(b, s.version);
          return { version: s.version, hashId: s.hashId, asymId: s.asymId, bytes: b };
        }),
      run: runChain,
    };
  },
  toJson: (i): Json => ({ version: i.version, hashId: i.hashId, asymId: i.asymId, hex: toHex(i.bytes) }),
  fromJson: (j) => {
    const o = j as { version?: unknown; hashId?: unknown; asymId?: unknown; hex?: unknown };
    if (
      typeof o.version !== 'number' ||
      typeof o.hashId !== 'number' ||
      typeof o.asymId !== 'number' ||
      typeof o.hex !== 'string'
    )
      throw new Error('regression input: expected a chain');
    return { version: o.version, hashId: o.hashId, asymId: o.asymId, bytes: fromHex(o.hex) };
  },
});
