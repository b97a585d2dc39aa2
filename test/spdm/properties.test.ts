/**
 * Property tests (fast-check): whatever bytes a decoder is given, it either decodes them or throws
 * a DecodeError, never anything else; and what it decodes is a prefix of its input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../src/wire/errors.js';
import { equalBytes } from '../../src/wire/bytes.js';
import {
  ConversationDecoder,
  decodeAlgorithms,
  decodeCapabilities,
  decodeCertificate,
  decodeChallenge,
  decodeChallengeAuth,
  decodeDigests,
  decodeError,
  decodeGetCapabilities,
  decodeGetCertificate,
  decodeGetDigests,
  decodeGetMeasurements,
  decodeGetVersion,
  decodeMeasurementRecord,
  decodeMeasurements,
  decodeNegotiateAlgorithms,
  decodeOpaqueData,
  decodeRespondIfReady,
  decodeVersion,
  peekHeader,
  RequestCode,
  ResponseCode,
} from '../../src/spdm/index.js';
import { SAMPLES } from './samples.js';

const RUNS = 300;

interface Target {
  readonly name: string;
  /** The code a well-formed input starts with after the version byte (none for headerless data). */
  readonly code?: number;
  readonly decode: (b: Uint8Array) => unknown;
}

const TARGETS: readonly Target[] = [
  { name: 'GET_VERSION', code: RequestCode.GET_VERSION, decode: decodeGetVersion },
  { name: 'VERSION', code: ResponseCode.VERSION, decode: decodeVersion },
  { name: 'GET_CAPABILITIES', code: RequestCode.GET_CAPABILITIES, decode: decodeGetCapabilities },
  { name: 'CAPABILITIES', code: ResponseCode.CAPABILITIES, decode: decodeCapabilities },
  { name: 'NEGOTIATE_ALGORITHMS', code: RequestCode.NEGOTIATE_ALGORITHMS, decode: decodeNegotiateAlgorithms },
  { name: 'ALGORITHMS', code: ResponseCode.ALGORITHMS, decode: decodeAlgorithms },
  { name: 'GET_DIGESTS', code: RequestCode.GET_DIGESTS, decode: decodeGetDigests },
  { name: 'DIGESTS (32)', code: ResponseCode.DIGESTS, decode: (b) => decodeDigests(b, { hashSize: 32 }) },
  { name: 'DIGESTS (48, multi-key)', code: ResponseCode.DIGESTS, decode: (b) => decodeDigests(b, { hashSize: 48, multiKeyConn: true }) },
  { name: 'GET_CERTIFICATE', code: RequestCode.GET_CERTIFICATE, decode: decodeGetCertificate },
  { name: 'CERTIFICATE', code: ResponseCode.CERTIFICATE, decode: decodeCertificate },
  { name: 'CHALLENGE', code: RequestCode.CHALLENGE, decode: decodeChallenge },
  {
    name: 'CHALLENGE_AUTH',
    code: ResponseCode.CHALLENGE_AUTH,
    decode: (b) => decodeChallengeAuth(b, { hashSize: 32, signatureSize: 64, measurementSummaryHashRequested: false }),
  },
  {
    name: 'CHALLENGE_AUTH (summary hash)',
    code: ResponseCode.CHALLENGE_AUTH,
    decode: (b) => decodeChallengeAuth(b, { hashSize: 48, signatureSize: 96, measurementSummaryHashRequested: true }),
  },
  { name: 'GET_MEASUREMENTS', code: RequestCode.GET_MEASUREMENTS, decode: decodeGetMeasurements },
  { name: 'MEASUREMENTS', code: ResponseCode.MEASUREMENTS, decode: (b) => decodeMeasurements(b, { signatureRequested: false, signatureSize: 0 }) },
  { name: 'MEASUREMENTS (signed)', code: ResponseCode.MEASUREMENTS, decode: (b) => decodeMeasurements(b, { signatureRequested: true, signatureSize: 64 }) },
  { name: 'ERROR', code: ResponseCode.ERROR, decode: decodeError },
  { name: 'RESPOND_IF_READY', code: RequestCode.RESPOND_IF_READY, decode: decodeRespondIfReady },
  { name: 'measurement record', decode: (b) => decodeMeasurementRecord(b, 3) },
  { name: 'opaque data', decode: (b) => decodeOpaqueData(b) },
  { name: 'header', decode: peekHeader },
];

/** Runs `decode`; a result must be a prefix of the input, a failure a DecodeError. */
function decodesOrDecodeError(decode: (b: Uint8Array) => unknown, input: Uint8Array): boolean {
  let out: unknown;
  try {
    out = decode(input);
  } catch (e) {
    if (e instanceof DecodeError && e.code === 'DECODE_ERROR' && e.messageName.length > 0 && e.field.length > 0) return true;
    throw e;
  }
  if (typeof out === 'object' && out !== null && 'raw' in out && out.raw instanceof Uint8Array) {
    assert.ok(out.raw.length <= input.length && equalBytes(out.raw, input.subarray(0, out.raw.length)), 'raw is a prefix of the input');
  }
  return true;
}

const anyVersion = fc.oneof(fc.constantFrom(0x10, 0x11, 0x12, 0x13, 0x14), fc.integer({ min: 0, max: 255 }));

for (const t of TARGETS) {
  test(`property: ${t.name} on random bytes`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), (b) => decodesOrDecodeError(t.decode, b)),
      { numRuns: RUNS },
    );
  });

  test(`property: ${t.name} on random bodies behind a plausible header`, () => {
    const prefix =
      t.code !== undefined
        ? fc.tuple(anyVersion, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([v, p1, p2]) => Uint8Array.of(v, t.code ?? 0, p1, p2))
        : fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 6 })).map(([n, len]) => Uint8Array.of(n, 0, 0, 0, 0, len, 4, 0));
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 300 }), (p, body) => {
        const b = new Uint8Array(p.length + body.length);
        b.set(p);
        b.set(body, p.length);
        return decodesOrDecodeError(t.decode, b);
      }),
      { numRuns: RUNS },
    );
  });
}

/** A corpus message with a few random edits: byte changes, a cut, or bytes appended. */
const mutatedSample = fc
  .record({
    sample: fc.integer({ min: 0, max: SAMPLES.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    extra: fc.uint8Array({ maxLength: 8 }),
  })
  .map(({ sample, edits, cut, extra }) => {
    const s = SAMPLES[sample];
    assert.ok(s);
    let b = s.bytes.slice();
    for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
    if (cut !== undefined && b.length > 0) b = b.slice(0, cut % b.length);
    else if (extra.length > 0) {
      const grown = new Uint8Array(b.length + extra.length);
      grown.set(b);
      grown.set(extra, b.length);
      b = grown;
    }
    return { s, b };
  });

test('property: mutated corpus messages decode or fail with a DecodeError', () => {
  fc.assert(
    fc.property(mutatedSample, ({ s, b }) => decodesOrDecodeError(s.decode, b)),
    { numRuns: 3000 },
  );
});

test('property: ConversationDecoder over sequences of mutated messages', () => {
  const sequence = fc.array(fc.tuple(mutatedSample, fc.boolean()), { minLength: 1, maxLength: 12 });
  fc.assert(
    fc.property(sequence, fc.boolean(), (msgs, seeded) => {
      const dec = new ConversationDecoder(seeded ? { baseHashAlgo: 0x02, baseAsymAlgo: 0x80, measurementHashAlgo: 0x04 } : {});
      for (const [{ b }, flip] of msgs) {
        const isRequest = ((b[1] ?? 0) & 0x80) !== 0;
        const direction = isRequest !== flip ? 'request' : 'response';
        try {
          const d = dec.feed(direction, b);
          const raw = d.kind === 'other' ? d.raw : d.msg.raw;
          assert.equal(raw.length + d.trailing.length, b.length, 'message + trailing = payload');
          assert.ok(d.trailing.length <= 3 && d.trailing.every((x) => x === 0));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }
      return true;
    }),
    { numRuns: 1000 },
  );
});
