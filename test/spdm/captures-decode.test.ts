/**
 * Known-answer decoding of real libspdm traffic (shared/vectors/libspdm/captures): every clear
 * SPDM message goes through ConversationDecoder and must decode to its kind (no 'other'), and
 * re-encode to exactly libspdm's bytes, nested encapsulated messages included; only DOE may add
 * (zero) padding after a message. Certificate chains retrieved in both directions (the requester's
 * through encapsulated GET_CERTIFICATE) are checked against the DIGESTS and CHALLENGE_AUTH hashes.
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
  ConversationDecoder,
  DECODED_CODES,
  decodeDeviceClassIdentifier,
  decodeDmtfMel,
  decodeOpaqueData,
  encodeOpaqueData,
  type DecodedMessage,
  type DecodedSpdmMessage,
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

/** Each capture's clear messages, decoded once and shared by the tests below. */
interface Decoded {
  readonly cap: Capture;
  readonly messages: readonly { readonly index: number; readonly bytes: Uint8Array; readonly d: DecodedMessage }[];
  /** The decoder after the last message (for its state). */
  readonly decoder: ConversationDecoder;
}

const cache = new Map<string, Decoded>();

function decodeCapture(file: string): Decoded {
  const hit = cache.get(file);
  if (hit) return hit;
  const cap = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Capture;
  const decoder = new ConversationDecoder();
  const messages: { index: number; bytes: Uint8Array; d: DecodedMessage }[] = [];
  cap.messages.forEach((m, index) => {
    if (m.kind !== 'spdm') return;
    assert.ok(m.direction === 'request' || m.direction === 'response', `#${index}: direction ${m.direction}`);
    const bytes = fromHex(m.payload);
    try {
      messages.push({ index, bytes, d: decoder.feed(m.direction, bytes) });
    } catch (e) {
      assert.fail(`${file} #${index} (${m.payload.slice(0, 16)}…): ${(e as Error).message}`);
    }
  });
  const out = { cap, messages, decoder };
  cache.set(file, out);
  return out;
}

/** The message nested in an encapsulated message or a CHUNK_SEND_ACK, if any. */
function nestedOf(d: DecodedSpdmMessage): DecodedSpdmMessage | undefined {
  switch (d.kind) {
    case 'ENCAPSULATED_REQUEST':
    case 'DELIVER_ENCAPSULATED_RESPONSE':
    case 'ENCAPSULATED_RESPONSE_ACK':
    case 'CHUNK_SEND_ACK':
      return d.msg.nested;
    default:
      return undefined;
  }
}

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

  setHash(baseHash: number): void {
    this.hashNode = hashInfo(baseHash)?.node;
  }

  on(d: DecodedSpdmMessage): void {
    switch (d.kind) {
      case 'ALGORITHMS':
        this.setHash(d.msg.baseHash);
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
            assert.equal(
              createHash(this.hashNode).update(chain).digest('hex'),
              want,
              `DIGESTS digest of slot ${d.msg.slot} = Hash(chain)`,
            );
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

/** Kinds every capture of a version has (the flow is the same; sessions from 1.1, provisioning from 1.2, 1.3 additions from 1.3). */
function expectedKinds(version: number): string[] {
  const out = [
    'GET_VERSION',
    'VERSION',
    'GET_CAPABILITIES',
    'CAPABILITIES',
    'NEGOTIATE_ALGORITHMS',
    'ALGORITHMS',
    'GET_DIGESTS',
    'DIGESTS',
    'GET_CERTIFICATE',
    'CERTIFICATE',
    'CHALLENGE',
    'CHALLENGE_AUTH',
    'GET_MEASUREMENTS',
    'MEASUREMENTS',
    'ERROR',
  ];
  if (version >= 0x11) {
    out.push('KEY_EXCHANGE', 'KEY_EXCHANGE_RSP', 'FINISH', 'FINISH_RSP', 'PSK_EXCHANGE', 'PSK_EXCHANGE_RSP');
    out.push(
      'GET_ENCAPSULATED_REQUEST',
      'ENCAPSULATED_REQUEST',
      'DELIVER_ENCAPSULATED_RESPONSE',
      'ENCAPSULATED_RESPONSE_ACK',
    );
    out.push('>GET_DIGESTS', '>DIGESTS', '>GET_CERTIFICATE', '>CERTIFICATE', '>CHALLENGE', '>CHALLENGE_AUTH');
  }
  if (version >= 0x12) out.push('GET_CSR', 'CSR', 'SET_CERTIFICATE', 'SET_CERTIFICATE_RSP');
  if (version >= 0x13) {
    out.push(
      'GET_MEASUREMENT_EXTENSION_LOG',
      'MEASUREMENT_EXTENSION_LOG',
      'GET_ENDPOINT_INFO',
      'ENDPOINT_INFO',
      '>GET_ENDPOINT_INFO',
      '>ENDPOINT_INFO',
    );
    out.push('GET_KEY_PAIR_INFO', 'KEY_PAIR_INFO', 'SET_KEY_PAIR_INFO', 'SET_KEY_PAIR_INFO_ACK');
  }
  return out;
}

for (const file of files) {
  test(`capture ${file}: every clear SPDM message decodes, nothing is 'other', everything re-encodes byte-for-byte`, (t) => {
    const { cap, messages } = decodeCapture(file);
    assert.ok(cap.linkType === LINK_DOE || cap.linkType === LINK_MCTP, `unexpected link type ${cap.linkType}`);
    const chains = new ChainTracker();
    // The requester's chains, fetched by the responder through encapsulated requests.
    const reqChains = new ChainTracker();
    const kinds = new Map<string, number>();
    let nestedCount = 0;
    let padded = 0;
    let version = 0x10;

    for (const { index, bytes, d } of messages) {
      const code = bytes[1] as number;
      const where = `${file} #${index} ${d.kind}`;
      assert.notEqual(d.kind, 'other', `${where}: code 0x${code.toString(16)} came back as 'other'`);
      if (d.kind === 'other') continue;
      assert.equal(d.kind, DECODED_CODES.get(code), where);

      // Padding: DOE carries whole dwords, so exactly enough zeros to reach a 4-byte boundary;
      // MCTP carries the message as is.
      if (cap.linkType === LINK_DOE) {
        assert.equal(bytes.length % 4, 0, `${where}: DOE payload is whole dwords`);
        assert.equal(d.trailing.length, (4 - (d.msg.raw.length % 4)) % 4, `${where}: padding length`);
        assert.ok(
          d.trailing.every((b) => b === 0),
          `${where}: padding is zero`,
        );
        if (d.trailing.length > 0) padded++;
      } else {
        assert.equal(d.trailing.length, 0, `${where}: no padding on MCTP`);
      }

      // reencode() rebuilds nested messages from their own fields, so this covers them too.
      assert.equal(toHex(reencode(d)), toHex(d.msg.raw), `${where}: re-encoding differs from libspdm's bytes`);
      if (d.kind === 'ALGORITHMS') {
        version = d.msg.version;
        reqChains.setHash(d.msg.baseHash);
      }
      chains.on(d);
      kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);

      const nested = nestedOf(d);
      if (nested) {
        assert.ok('payload' in d.msg);
        assert.equal(toHex(reencode(nested)), toHex(d.msg.payload), `${where}: nested ${nested.kind} re-encodes`);
        assert.equal(nested.msg.version, d.msg.version, `${where}: nested version`);
        reqChains.on(nested);
        kinds.set(`>${nested.kind}`, (kinds.get(`>${nested.kind}`) ?? 0) + 1);
        nestedCount++;
      }
    }

    for (const k of expectedKinds(version)) assert.ok((kinds.get(k) ?? 0) > 0, `${file}: no ${k} decoded`);
    assert.ok(chains.verified >= 2, `${file}: digests checked against chains: ${chains.verified}`);
    if (version >= 0x11)
      assert.ok(reqChains.verified >= 2, `${file}: requester digests checked against chains: ${reqChains.verified}`);

    t.diagnostic(
      `${file}: ${messages.length} decoded (${nestedCount} with a nested message), ${padded} with DOE padding, ` +
        `${chains.verified} responder / ${reqChains.verified} requester digest-chain checks; ${[...kinds.entries()]
          .filter(([k]) => !/^(GET_)?MEASUREMENTS$|^ERROR$/.test(k))
          .map(([k, c]) => `${k}×${c}`)
          .join(' ')}`,
    );
  });
}

test('session messages: sizes from the negotiation, HANDSHAKE_IN_THE_CLEAR, PSK hint', () => {
  let checked = 0;
  for (const file of files) {
    const { messages } = decodeCapture(file);
    const dec = new ConversationDecoder();
    for (const { bytes, d } of messages) {
      dec.feed(d.direction, bytes);
      switch (d.kind) {
        case 'KEY_EXCHANGE':
          assert.equal(d.msg.exchangeData.length, dec.exchangeDataSizes?.request, `${file}: ExchangeData = D`);
          assert.equal(d.msg.reqSessionId, 0xffff);
          break;
        case 'KEY_EXCHANGE_RSP':
          // Every session capture negotiates HANDSHAKE_IN_THE_CLEAR: the verify data moves to FINISH_RSP.
          assert.equal(dec.handshakeInTheClear, true, file);
          assert.equal(d.msg.responderVerifyData, undefined, `${file}: no ResponderVerifyData in KEY_EXCHANGE_RSP`);
          assert.equal(
            d.msg.measurementSummaryHash?.length,
            dec.hashSize,
            `${file}: KEY_EXCHANGE asked for all measurements`,
          );
          assert.equal(d.msg.signature.length, dec.signatureSize);
          assert.equal(d.msg.mutAuthRequested, 0x02, `${file}: mutual authentication with encapsulated requests`);
          assert.equal(d.msg.heartbeatPeriod, 0xf0);
          checked++;
          break;
        case 'FINISH':
          assert.equal(d.msg.signatureIncluded, true);
          assert.equal(
            d.msg.signature?.length,
            dec.requesterSignatureSize,
            `${file}: FINISH signed with ReqBaseAsymAlg`,
          );
          assert.equal(dec.state.finishSignatureIncluded, true);
          break;
        case 'FINISH_RSP':
          assert.equal(
            d.msg.responderVerifyData?.length,
            dec.hashSize,
            `${file}: FINISH_RSP carries ResponderVerifyData`,
          );
          break;
        case 'PSK_EXCHANGE':
          assert.equal(
            new TextDecoder().decode(d.msg.pskHint),
            'TestPskHint\0',
            `${file}: PSK hint, trailing NUL included`,
          );
          assert.equal(d.msg.requesterContext.length, 64);
          break;
        case 'PSK_EXCHANGE_RSP':
          assert.equal(d.msg.responderContext.length, 64);
          assert.equal(d.msg.measurementSummaryHash?.length, dec.hashSize);
          break;
        default:
          break;
      }
    }
  }
  assert.ok(checked >= 12, `KEY_EXCHANGE_RSP checked: ${checked}`);
});

test('opaque data in KEY_EXCHANGE / PSK_EXCHANGE and their responses: DSP0277 elements, exact re-encoding', (t) => {
  let checked = 0;
  for (const file of files) {
    const { messages } = decodeCapture(file);
    for (const { d } of messages) {
      if (
        d.kind !== 'KEY_EXCHANGE' &&
        d.kind !== 'PSK_EXCHANGE' &&
        d.kind !== 'KEY_EXCHANGE_RSP' &&
        d.kind !== 'PSK_EXCHANGE_RSP'
      )
        continue;
      const opaque = d.msg.opaqueData;
      const o = decodeOpaqueData(opaque);
      // SPDM 1.1 carries the DSP0277 1.0 form (SpecID "DMTF"); 1.2+ the general format.
      assert.equal(o.format, d.msg.version === 0x11 ? 'dsp0277-1.0' : 'general', `${file}: opaque format`);
      assert.equal(toHex(encodeOpaqueData(o.elements, o.format)), toHex(opaque), `${file}: opaque data re-encodes`);
      const isRequest = d.kind === 'KEY_EXCHANGE' || d.kind === 'PSK_EXCHANGE';
      // SMDataVersion 1, SMDataID 1 SupportedVersion (requests) / 0 VersionSelection (responses).
      const el = o.elements.find((e) => e.registryId === 0 && e.data[0] === 1 && e.data[1] === (isRequest ? 1 : 0));
      assert.ok(el, `${file}: ${isRequest ? 'SupportedVersion' : 'VersionSelection'} element in ${d.kind}`);
      assert.equal(el.data.length, isRequest ? 3 + 2 * (el.data[2] ?? 0) : 4);
      checked++;
    }
  }
  // 6 session captures × (2 KEY_EXCHANGE + 1 PSK_EXCHANGE, and their responses).
  assert.equal(checked, 36, `opaque data checked in ${checked} messages`);
  t.diagnostic(`${checked} session-establishment opaque data fields decoded and re-encoded`);
});

test('1.3 additions: MEL, endpoint info, key pairs, CSR and SET_CERTIFICATE contents', () => {
  let mels = 0;
  let endpointInfos = 0;
  let setCerts = 0;
  for (const file of files) {
    const { messages } = decodeCapture(file);
    let hashNode: string | undefined;
    for (const { d } of messages) {
      if (d.kind === 'other') continue;
      if (d.kind === 'ALGORITHMS') hashNode = hashInfo(d.msg.baseHash)?.node;
      if (d.kind === 'MEASUREMENT_EXTENSION_LOG') {
        assert.equal(d.msg.remainderLength, 0);
        const mel = decodeDmtfMel(d.msg.portion);
        assert.deepEqual(
          mel.entries.map((e) => [e.melIndex, e.measIndex, e.dmtf.type, e.dmtf.raw]),
          [
            [1, 0x11, 9, true],
            [2, 0x11, 9, true],
            [3, 0x11, 6, true],
          ],
        );
        assert.equal(new TextDecoder().decode(mel.entries[0]?.dmtf.value), 'ROM');
        mels++;
      }
      const eps: DecodedSpdmMessage[] = [d];
      const nested = nestedOf(d);
      if (nested) eps.push(nested);
      for (const e of eps) {
        if (e.kind !== 'ENDPOINT_INFO') continue;
        // Signed in both directions (the requester's answer to the encapsulated GET_ENDPOINT_INFO too).
        assert.equal(e.msg.nonce?.length, 32);
        assert.ok(e.msg.signature && e.msg.signature.length >= 96);
        assert.deepEqual(decodeDeviceClassIdentifier(e.msg.epInfo), [
          { registryId: 0, vendorId: new Uint8Array(0), subordinateIds: [fromHex('123456')] },
        ]);
        endpointInfos++;
      }
      if (d.kind === 'KEY_PAIR_INFO') {
        assert.equal(d.msg.keyPairId, 1);
        assert.equal(d.msg.publicKeyInfo[0], 0x30, 'PublicKeyInfo is DER');
        assert.equal(d.msg.pqcAsymAlgoCapabilities?.length, d.msg.version >= 0x14 ? 4 : undefined);
      }
      if (d.kind === 'CSR') assert.equal(d.msg.csr[0], 0x30, 'CSR is DER');
      if (d.kind === 'SET_CERTIFICATE' && hashNode) {
        // RootHash (after the 4-byte chain header) = Hash(first certificate's DER).
        const chain = d.msg.certChain;
        const H = createHash(hashNode).digest().length;
        const root = chain.subarray(4 + H);
        assert.equal(root[0], 0x30);
        assert.equal(root[1], 0x82);
        const rootLen = 4 + (((root[2] ?? 0) << 8) | (root[3] ?? 0));
        assert.equal(
          createHash(hashNode).update(root.subarray(0, rootLen)).digest('hex'),
          toHex(chain.subarray(4, 4 + H)),
          `${file}: SET_CERTIFICATE RootHash`,
        );
        setCerts++;
      }
    }
  }
  // 1.3+ captures: doe-default, doe-rsapss3072, doe-v13, mctp-default; SET_CERTIFICATE also in doe-v12-p256.
  assert.equal(mels, 4);
  assert.equal(endpointInfos, 8);
  assert.equal(setCerts, 15);
});
