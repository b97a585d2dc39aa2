/**
 * Known-answer decoding of real libspdm traffic (shared/vectors/libspdm/captures): every clear
 * SPDM message goes through ConversationDecoder, in-scope messages must decode to their kind and
 * re-encode to exactly libspdm's bytes, and only DOE may add (zero) padding after a message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { hashInfo } from '../../src/crypto/algorithms.js';
import {
  AlgType,
  ConversationDecoder,
  DECODED_CODES,
  decodeOpaqueData,
  encodeOpaqueData,
  type DecodedMessage,
  type Direction,
} from '../../src/spdm/index.js';
import { reencode } from './reencode.js';

interface CaptureMessage {
  readonly kind: 'doe-discovery' | 'spdm' | 'secured-spdm';
  readonly direction: string;
  readonly transportHeader: string;
  readonly payload: string;
}

interface Capture {
  readonly source: string;
  readonly linkType: number;
  readonly messages: readonly CaptureMessage[];
}

const LINK_DOE = 292;
const LINK_MCTP = 291;

const dir = join(libspdmVectors(), 'captures');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('the capture set is present', () => {
  assert.ok(files.length >= 7, `expected the 7 libspdm captures, found ${files.length}`);
});

/** Follows certificate retrieval so decoded digests can be checked against the chains they hash. */
class ChainTracker {
  private hashNode: string | undefined;
  private readonly digests = new Map<number, string>();
  private readonly chains = new Map<number, Uint8Array[]>();
  private pendingSlot: number | undefined;
  private challengeSlot: number | undefined;
  verified = 0;

  on(d: DecodedMessage): void {
    switch (d.kind) {
      case 'ALGORITHMS':
        this.hashNode = hashInfo(d.msg.baseHash)?.node;
        return;
      case 'DIGESTS':
        this.digests.clear();
        for (const s of d.msg.digests) this.digests.set(s.slot, toHex(s.digest));
        return;
      case 'GET_CERTIFICATE':
        this.pendingSlot = d.msg.slot;
        if (d.msg.offset === 0) this.chains.set(d.msg.slot, []);
        return;
      case 'CERTIFICATE': {
        assert.equal(d.msg.slot, this.pendingSlot, 'CERTIFICATE answers the slot asked for');
        const parts = this.chains.get(d.msg.slot) ?? [];
        parts.push(d.msg.portion);
        this.chains.set(d.msg.slot, parts);
        if (d.msg.remainderLength === 0) {
          const chain = Buffer.concat(parts);
          // SPDM cert chain header: Length (u16 up to 1.3; u32 in 1.4) covers the whole chain.
          const declared = d.msg.version >= 0x14 ? chain.readUInt32LE(0) : chain.readUInt16LE(0);
          assert.equal(declared, chain.length, `slot ${d.msg.slot} chain Length field`);
          const want = this.digests.get(d.msg.slot);
          if (want !== undefined && this.hashNode) {
            assert.equal(createHash(this.hashNode).update(chain).digest('hex'), want, `DIGESTS digest of slot ${d.msg.slot} = Hash(chain)`);
            this.verified++;
          }
        }
        return;
      }
      case 'CHALLENGE':
        this.challengeSlot = d.msg.slot;
        return;
      case 'CHALLENGE_AUTH': {
        const want = this.challengeSlot === undefined ? undefined : this.digests.get(this.challengeSlot);
        if (want !== undefined) {
          assert.equal(toHex(d.msg.certChainHash), want, 'CHALLENGE_AUTH CertChainHash = DIGESTS digest of the slot');
          this.verified++;
        }
        return;
      }
      default:
        return;
    }
  }
}

for (const file of files) {
  test(`capture ${file}: every clear SPDM message decodes and re-encodes byte-for-byte`, (t) => {
    const cap = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Capture;
    assert.ok(cap.linkType === LINK_DOE || cap.linkType === LINK_MCTP, `unexpected link type ${cap.linkType}`);
    const dec = new ConversationDecoder();
    const chains = new ChainTracker();
    const kinds = new Map<string, number>();
    const others = new Map<string, number>();
    let full = 0;
    let other = 0;
    let skipped = 0;
    let padded = 0;

    cap.messages.forEach((m, i) => {
      if (m.kind !== 'spdm') {
        skipped++;
        return;
      }
      assert.ok(m.direction === 'request' || m.direction === 'response', `#${i}: direction ${m.direction}`);
      const bytes = fromHex(m.payload);
      let d: DecodedMessage;
      try {
        d = dec.feed(m.direction as Direction, bytes);
      } catch (e) {
        assert.fail(`${file} #${i} (${m.payload.slice(0, 16)}…): ${(e as Error).message}`);
      }
      const code = bytes[1] as number;
      const expectedKind = DECODED_CODES.get(code);
      const where = `${file} #${i} ${d.kind}`;
      if (d.kind === 'other') {
        assert.equal(expectedKind, undefined, `${where}: in-scope code 0x${code.toString(16)} came back as 'other'`);
        assert.equal(d.trailing.length, 0);
        other++;
        others.set(d.name, (others.get(d.name) ?? 0) + 1);
        return;
      }
      assert.equal(d.kind, expectedKind, where);

      // Padding: DOE carries whole dwords, so exactly enough zeros to reach a 4-byte boundary;
      // MCTP carries the message as is.
      if (cap.linkType === LINK_DOE) {
        assert.equal(bytes.length % 4, 0, `${where}: DOE payload is whole dwords`);
        assert.equal(d.trailing.length, (4 - (d.msg.raw.length % 4)) % 4, `${where}: padding length`);
        assert.ok(d.trailing.every((b) => b === 0), `${where}: padding is zero`);
        if (d.trailing.length > 0) padded++;
      } else {
        assert.equal(d.trailing.length, 0, `${where}: no padding on MCTP`);
      }

      assert.equal(toHex(reencode(d)), toHex(d.msg.raw), `${where}: re-encoding differs from libspdm's bytes`);
      chains.on(d);
      full++;
      kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
    });

    // Every in-scope message type of the flow (VCA, digests, certificate, challenge, measurements,
    // errors) is in each capture: make sure none went missing silently.
    for (const k of ['GET_VERSION', 'VERSION', 'GET_CAPABILITIES', 'CAPABILITIES', 'NEGOTIATE_ALGORITHMS', 'ALGORITHMS', 'GET_DIGESTS', 'DIGESTS', 'GET_CERTIFICATE', 'CERTIFICATE', 'CHALLENGE', 'CHALLENGE_AUTH', 'GET_MEASUREMENTS', 'MEASUREMENTS', 'ERROR']) {
      assert.ok((kinds.get(k) ?? 0) > 0, `${file}: no ${k} decoded`);
    }
    assert.ok(chains.verified >= 2, `${file}: digests checked against chains: ${chains.verified}`);

    const otherList = [...others.entries()].map(([n, c]) => `${n}×${c}`).join(', ');
    t.diagnostic(
      `${file}: ${full} decoded fully, ${other} other${otherList ? ` (${otherList})` : ''}, ${padded} with DOE padding, ${skipped} skipped (secured/discovery), ${chains.verified} digest/chain checks`,
    );
  });
}

/** DHE ExchangeData sizes by AlgSupported bit (shared/spec/messages.md §5.5). */
const DHE_SIZE: Readonly<Record<number, number>> = { 0x01: 256, 0x02: 384, 0x04: 512, 0x08: 64, 0x10: 96, 0x20: 132, 0x40: 64 };

test('opaque data codec vs the opaque data libspdm puts in KEY_EXCHANGE / PSK_EXCHANGE (sent in the clear)', (t) => {
  let checked = 0;
  for (const file of files) {
    const cap = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Capture;
    const dec = new ConversationDecoder();
    let dheSize: number | undefined;
    let version = 0;
    for (const m of cap.messages) {
      if (m.kind !== 'spdm') continue;
      const b = fromHex(m.payload);
      const d = dec.feed(m.direction as Direction, b);
      if (d.kind === 'ALGORITHMS') {
        version = d.msg.version;
        dheSize = DHE_SIZE[d.msg.algStructs.find((s) => s.type === AlgType.DHE)?.supported ?? 0];
      }
      if (d.kind !== 'other' || (d.header.code !== 0xe4 && d.header.code !== 0xe6)) continue;
      let opaque: Uint8Array;
      if (d.header.code === 0xe4) {
        // KEY_EXCHANGE: header, ReqSessionID, SessionPolicy, Reserved, RandomData[32], ExchangeData[D], OpaqueDataLength.
        assert.ok(dheSize !== undefined);
        const at = 40 + dheSize;
        opaque = b.subarray(at + 2, at + 2 + ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8)));
      } else {
        // PSK_EXCHANGE: PSKHintLength @6, RequesterContextLength @8, OpaqueDataLength @10, then the three.
        const u16 = (o: number): number => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
        const start = 12 + u16(6) + u16(8);
        opaque = b.subarray(start, start + u16(10));
      }
      const o = decodeOpaqueData(opaque);
      // SPDM 1.1 carries the DSP0277 1.0 form (SpecID "DMTF"); 1.2+ the general format.
      assert.equal(o.format, version === 0x11 ? 'dsp0277-1.0' : 'general', `${file}: opaque format`);
      assert.equal(toHex(encodeOpaqueData(o.elements, o.format)), toHex(opaque), `${file}: opaque data re-encodes`);
      // DSP0277 SupportedVersion element: SMDataVersion 1, SMDataID 1, count, versions.
      const sv = o.elements.find((e) => e.registryId === 0 && e.data[0] === 1 && e.data[1] === 1);
      assert.ok(sv, `${file}: SupportedVersion element`);
      assert.equal(sv.data.length, 3 + 2 * (sv.data[2] ?? 0));
      checked++;
    }
  }
  assert.ok(checked >= 10, `opaque data checked in ${checked} messages`);
  t.diagnostic(`${checked} KEY_EXCHANGE/PSK_EXCHANGE opaque data fields decoded and re-encoded`);
});
