/**
 * The connection transcript module on its own: what M1 and L1/L2 hold, which events reset
 * message_m and B, the version-dependent signing context, the capture bound — and, against
 * DMTF libspdm's captured traffic, that transcripts built by these rules alone carry libspdm's
 * signatures (1.0 and 1.1: L1 without A; 1.2+: with it), while the other rule does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { libspdmVectors } from '../support/paths.js';
import { concat, fromHex } from '../../src/wire/bytes.js';
import { digest } from '../../src/crypto/hash.js';
import { SpdmError } from '../../src/wire/errors.js';
import { spdmVerify, SigningContext } from '../../src/crypto/signature.js';
import { RequestCode } from '../../src/spdm/codes.js';
import { ErrorCode } from '../../src/spdm/messages/error.js';
import { ConversationDecoder } from '../../src/spdm/conversation.js';
import { decodeSpdmCertChain } from '../../src/x509/spdm-chain.js';
import {
  ConnectionTranscript,
  errorEndsMeasurementRun,
  measurementTranscriptIncludesVca,
  requestEndsMeasurementRun,
  type SignedTranscript,
} from '../../src/spdm/connection-transcript.js';

const SHA256 = 0x01;
const bytes = (...b: number[]) => Uint8Array.from(b);

/** A connection with a two-pair VCA (GV/V, GC/C, NA/A as one-byte tags) at `version`. */
function connected(version: number, options = {}): ConnectionTranscript {
  const t = new ConnectionTranscript(options);
  t.reset();
  t.appendVca(bytes(0xa1), bytes(0xa2));
  t.setVersion(version);
  t.appendVca(bytes(0xa3), bytes(0xa4));
  t.appendVca(bytes(0xa5), bytes(0xa6));
  t.setHash(SHA256);
  return t;
}

test('M1 = A || B || C: DIGESTS restarts B, CERTIFICATE continues it, a completed CHALLENGE_AUTH consumes it', () => {
  const t = connected(0x12);
  t.startB(bytes(0xb0), bytes(0xb1));
  t.startB(bytes(0xb2), bytes(0xb3));
  t.appendB(bytes(0xb4), bytes(0xb5));
  const m1 = t.m1(bytes(0xc1), bytes(0xc2));
  assert.deepEqual(
    [...m1.transcript.bytes()],
    [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xb2, 0xb3, 0xb4, 0xb5, 0xc1, 0xc2],
  );
  assert.deepEqual(m1.transcript.digest(), digest(SHA256, m1.transcript.bytes()));
  assert.equal(m1.kind, 'CHALLENGE_AUTH');
  assert.equal(m1.complete, true);
  // Building M1 is pure; the completed challenge is the event that consumes B.
  assert.deepEqual(t.m1(bytes(0xc1), bytes(0xc2)).transcript.bytes(), m1.transcript.bytes());
  t.endChallenge();
  assert.deepEqual(
    [...t.m1(bytes(0xc3), bytes(0xc4)).transcript.bytes()],
    [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xc3, 0xc4],
  );
});

test('L1/L2: 1.2+ begins with A, 1.0/1.1 sign message_m alone; the signed pair closes it', () => {
  for (const version of [0x10, 0x11, 0x12, 0x13, 0x14]) {
    const t = connected(version);
    t.messageM.append(bytes(0xe0, 0), bytes(0x60, 0));
    const l = t.l1l2(bytes(0xe0, 1), bytes(0x60, 1));
    const m = [0xe0, 0, 0x60, 0, 0xe0, 1, 0x60, 1];
    const want = version >= 0x12 ? [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, ...m] : m;
    assert.deepEqual([...l.transcript.bytes()], want, `version 0x${version.toString(16)}`);
    assert.equal(measurementTranscriptIncludesVca(version), version >= 0x12);
    // Hashed with the negotiated hash either way (1.0/1.1 evidence records the hash too).
    assert.deepEqual(l.transcript.digest(), digest(SHA256, Uint8Array.from(want)));
    assert.equal(l.kind, 'MEASUREMENTS');
  }
});

test('signing context: none before 1.2, the responder strings from 1.2 on', () => {
  for (const version of [0x10, 0x11]) {
    const t = connected(version);
    assert.equal(t.signingContext('CHALLENGE_AUTH'), '');
    assert.equal(t.m1(bytes(1), bytes(2)).context, '');
    assert.equal(t.l1l2(bytes(1), bytes(2)).context, '');
  }
  for (const version of [0x12, 0x13, 0x14]) {
    const t = connected(version);
    assert.equal(t.m1(bytes(1), bytes(2)).context, SigningContext.CHALLENGE_AUTH_RESPONDER);
    assert.equal(t.l1l2(bytes(1), bytes(2)).context, SigningContext.MEASUREMENTS);
  }
  assert.throws(
    () => new ConnectionTranscript().signingContext('MEASUREMENTS'),
    TypeError,
    'no version yet is caller misuse',
  );
});

test('message_m reset rules: any request but GET_MEASUREMENTS or RESPOND_IF_READY, any ERROR but ResponseNotReady', () => {
  for (const code of Object.values(RequestCode)) {
    assert.equal(
      requestEndsMeasurementRun(code),
      code !== RequestCode.GET_MEASUREMENTS && code !== RequestCode.RESPOND_IF_READY,
      `request 0x${code.toString(16)}`,
    );
  }
  for (const code of Object.values(ErrorCode))
    assert.equal(errorEndsMeasurementRun(code), code !== ErrorCode.ResponseNotReady);

  const t = connected(0x12);
  const run = () => t.messageM.append(bytes(0xe0), bytes(0x60));
  run();
  t.request(RequestCode.GET_MEASUREMENTS);
  t.request(RequestCode.RESPOND_IF_READY);
  t.error(ErrorCode.ResponseNotReady);
  assert.equal(t.messageM.length, 2, 'the run goes on');
  t.error(ErrorCode.InvalidRequest);
  assert.equal(t.messageM.length, 0, 'an ERROR ends it');
  run();
  t.request(RequestCode.GET_DIGESTS);
  assert.equal(t.messageM.length, 0, 'another request ends it');
  run();
  t.l1l2(bytes(0xe0), bytes(0x60));
  assert.equal(t.messageM.length, 2, 'building L1/L2 is pure');
  t.endMeasurementRun();
  assert.equal(t.messageM.length, 0);
  run();
  t.reset();
  assert.equal(t.messageM.length, 0, 'GET_VERSION resets everything');
  assert.deepEqual([...t.m1(bytes(1), bytes(2)).transcript.bytes()], [1, 2], 'A and B are empty after GET_VERSION');
});

test('a session has its own message_m over the connection A', () => {
  const t = connected(0x12);
  const session = t.newMessageM();
  t.messageM.append(bytes(0xe0, 0xc), bytes(0x60, 0xc));
  session.append(bytes(0xe0, 0x5), bytes(0x60, 0x5));
  t.request(RequestCode.GET_DIGESTS, session);
  assert.equal(session.length, 0, 'a request inside the session ends the session run');
  assert.equal(t.messageM.length, 4, 'and leaves the clear one alone');
  session.append(bytes(0xe0, 0x5), bytes(0x60, 0x5));
  const l = t.l1l2(bytes(0xe0, 6), bytes(0x60, 6), session);
  assert.deepEqual([...l.transcript.bytes()], [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xe0, 5, 0x60, 5, 0xe0, 6, 0x60, 6]);
});

test('with a byte bound, a part that outgrows it is dropped and its signature reported incomplete until reset', () => {
  const t = connected(0x12, { maxBytes: 12 });
  t.startB(bytes(1, 1), bytes(2, 2));
  assert.equal(t.m1(bytes(3), bytes(4)).complete, true);
  t.appendB(new Uint8Array(5), new Uint8Array(5));
  assert.equal(t.m1(bytes(3), bytes(4)).complete, false, 'B outgrew the bound');
  t.appendB(bytes(1), bytes(2));
  assert.equal(t.m1(bytes(3), bytes(4)).complete, false, 'and stays dropped');
  t.endChallenge();
  assert.equal(t.m1(bytes(3), bytes(4)).complete, true);

  t.messageM.append(new Uint8Array(7), new Uint8Array(7));
  assert.equal(t.l1l2(bytes(5), bytes(6)).complete, false);
  t.endMeasurementRun();
  assert.equal(t.l1l2(bytes(5), bytes(6)).complete, true);

  // A 1.2 L1/L2 needs A as well; 1.1 does not.
  for (const [version, complete] of [
    [0x12, false],
    [0x11, true],
  ] as const) {
    const big = connected(version, { maxBytes: 8 });
    big.appendVca(new Uint8Array(4), new Uint8Array(4));
    assert.equal(big.l1l2(bytes(5), bytes(6)).complete, complete, `version 0x${version.toString(16)}`);
    assert.equal(big.m1(bytes(5), bytes(6)).complete, false);
  }
});

interface CaptureMessage {
  kind: string;
  direction: 'request' | 'response';
  payload: string;
}

interface Signed {
  readonly signed: SignedTranscript;
  readonly signature: Uint8Array;
  readonly version: number;
}

/**
 * Walks a libspdm capture's clear traffic telling a ConnectionTranscript each event, and returns
 * every signed transcript with libspdm's signature and the responder's leaf key.
 */
function walk(file: string): { signed: Signed[]; key: KeyObject; asymId: number; hashId: number; vca: Uint8Array } {
  const msgs = (
    JSON.parse(readFileSync(join(libspdmVectors(), 'captures', file), 'utf8')) as { messages: CaptureMessage[] }
  ).messages.filter((m) => m.kind === 'spdm');
  const decoder = new ConversationDecoder();
  const t = new ConnectionTranscript();
  const out: Signed[] = [];
  const vca: Uint8Array[] = [];
  let request: Uint8Array | undefined;
  let measurementSigned = false;
  let version = 0x10;
  let asymId = 0;
  let hashId = 0;
  let hashSize = 0;
  let chain: Uint8Array[] = [];
  let key: KeyObject | undefined;
  for (const m of msgs) {
    const d = decoder.feed(m.direction, fromHex(m.payload));
    if (d.direction === 'request') {
      if (d.kind === 'other') continue;
      request = d.msg.raw;
      t.request(request[1] as number);
      if (d.kind === 'GET_VERSION') t.reset();
      if (d.kind === 'GET_MEASUREMENTS') measurementSigned = d.msg.signatureRequested;
      continue;
    }
    if (!request) continue;
    switch (d.kind) {
      case 'VERSION':
      case 'CAPABILITIES':
      case 'ALGORITHMS':
        t.appendVca(request, d.msg.raw);
        vca.push(request, d.msg.raw);
        if (d.kind === 'CAPABILITIES') t.setVersion((version = d.msg.version));
        if (d.kind === 'ALGORITHMS') {
          ({ baseAsym: asymId, baseHash: hashId } = d.msg);
          t.setHash(hashId);
          hashSize = t.vcaDigest().length;
        }
        break;
      case 'DIGESTS':
        t.startB(request, d.msg.raw);
        chain = [];
        break;
      case 'CERTIFICATE':
        t.appendB(request, d.msg.raw);
        chain.push(d.msg.portion);
        if (d.msg.remainderLength === 0 && d.msg.slot === 0) {
          const leaf = decodeSpdmCertChain(concat(chain), version, hashSize).certificates.at(-1) as Uint8Array;
          key = new X509Certificate(Buffer.from(leaf)).publicKey;
        }
        break;
      case 'CHALLENGE_AUTH':
        out.push({ signed: t.m1(request, d.msg.unsigned), signature: d.msg.signature, version });
        t.endChallenge();
        break;
      case 'MEASUREMENTS':
        if (measurementSigned && d.msg.signature) {
          out.push({ signed: t.l1l2(request, d.msg.unsigned), signature: d.msg.signature, version });
          t.endMeasurementRun();
        } else {
          t.messageM.append(request, d.msg.raw);
        }
        break;
      case 'ERROR':
        t.error(d.msg.errorCode);
        break;
      default:
        break;
    }
    request = undefined;
  }
  assert.ok(key, `${file}: a slot 0 chain in the capture`);
  return { signed: out, key, asymId, hashId, vca: concat(vca) };
}

function verifies(w: ReturnType<typeof walk>, s: Signed, transcript: Uint8Array): boolean {
  return spdmVerify(
    w.key,
    w.asymId,
    {
      version: s.version,
      hashId: w.hashId,
      context: s.signed.context,
      transcript: [transcript],
      transcriptHash: digest(w.hashId, transcript),
    },
    s.signature,
  );
}

for (const [file, version] of [
  ['doe-v10.json', 0x10],
  ['doe-v11.json', 0x11],
  ['doe-v12-p256.json', 0x12],
  ['doe-v13.json', 0x13],
] as const) {
  test(`libspdm ${file}: M1 and L1/L2 built by the module carry libspdm's signatures, and only by its version's rule`, () => {
    const w = walk(file);
    const kinds = w.signed.map((s) => s.signed.kind);
    assert.ok(
      kinds.includes('CHALLENGE_AUTH') && kinds.includes('MEASUREMENTS'),
      `${file} signs both: ${kinds.join(', ')}`,
    );
    for (const s of w.signed) {
      assert.equal(s.version, version);
      const bytesSigned = s.signed.transcript.bytes();
      assert.ok(verifies(w, s, bytesSigned), `${s.signed.kind} verifies`);
      assert.deepEqual(
        s.signed.transcript.digest(),
        digest(w.hashId, bytesSigned),
        'the running hash is the hash of the bytes',
      );
      const startsWithVca = Buffer.from(bytesSigned.subarray(0, w.vca.length)).equals(Buffer.from(w.vca));
      if (s.signed.kind === 'CHALLENGE_AUTH') {
        assert.ok(startsWithVca, 'M1 begins with A');
        continue;
      }
      // The other version's L1/L2 rule gives bytes libspdm did not sign.
      assert.equal(startsWithVca, version >= 0x12);
      const otherRule = version >= 0x12 ? bytesSigned.subarray(w.vca.length) : concat([w.vca, bytesSigned]);
      assert.equal(verifies(w, s, otherRule), false, 'L1/L2 under the other version rule does not verify');
    }
  });
}

test('a hash this platform lacks is refused once, at setHash, and never again by a reset or a dropped part', () => {
  const t = new ConnectionTranscript({ maxBytes: 8 });
  t.setVersion(0x12);
  t.appendVca(bytes(1), bytes(2));
  assert.throws(
    () => t.setHash(0x4000_0000),
    (e: unknown) => e instanceof SpdmError && e.code === 'UNSUPPORTED_ALGORITHM',
  );
  t.appendVca(new Uint8Array(8), new Uint8Array(8));
  assert.equal(t.m1(bytes(3), bytes(4)).complete, false);
  t.reset();
  t.appendVca(bytes(1), bytes(2));
  t.setHash(SHA256);
  assert.deepEqual(t.vcaDigest(), digest(SHA256, bytes(1, 2)));
});
