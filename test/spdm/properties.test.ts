/**
 * Property tests (fast-check): whatever bytes a decoder is given, it either decodes them or throws
 * a DecodeError, never anything else; and what it decodes is a prefix of its input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LimitError } from '../../src/wire/limits.js';
import { DecodeError } from '../../src/wire/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../../src/wire/bytes.js';
import { libspdmVectors } from '../support/paths.js';
import { ConversationDecoder } from '../../src/spdm/index.js';
import { SAMPLES } from './samples.js';
import { DECODERS as TARGETS, decodesOrDecodeError } from '../fuzz/decoder-table.js';

const RUNS = 300;

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
        ? fc
            .tuple(anyVersion, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
            .map(([v, p1, p2]) => Uint8Array.of(v, t.code ?? 0, p1, p2))
        : fc
            .tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 6 }))
            .map(([n, len]) => Uint8Array.of(n, 0, 0, 0, 0, len, 4, 0));
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
      // Seeded: what a 1.3 ALGORITHMS / CAPABILITIES would have said (P-384, SHA-384, secp384r1,
      // RSAPSS-3072 requester, both sides HANDSHAKE_IN_THE_CLEAR).
      const dec = new ConversationDecoder(
        seeded
          ? {
              baseHashAlgo: 0x02,
              baseAsymAlgo: 0x80,
              measurementHashAlgo: 0x04,
              dheGroup: 0x10,
              reqBaseAsymAlgo: 0x08,
              requesterFlags: 0x8000,
              responderFlags: 0x8018,
              multiKeyConnReq: true,
            }
          : {},
      );
      for (const [{ b }, flip] of msgs) {
        const isRequest = ((b[1] ?? 0) & 0x80) !== 0;
        const direction = isRequest !== flip ? 'request' : 'response';
        try {
          const d = dec.feed(direction, b);
          const raw = d.kind === 'other' ? d.raw : d.msg.raw;
          assert.equal(raw.length + d.trailing.length, b.length, 'message + trailing = payload');
          // Trailing bytes are zeros; more than dword padding explains is reported as an anomaly
          // (the observer's view of an over-sized message), never passed over silently.
          assert.ok(d.trailing.every((x) => x === 0));
          if (d.trailing.length > 3)
            assert.ok('anomaly' in d && typeof d.anomaly === 'string', 'excess zeros carry an anomaly');
        } catch (e) {
          // A malformed message is a DecodeError; one past a bound (e.g. a LargeMessageSize over
          // largeMessageBytes) a LimitError: both typed, anything else is a defect.
          if (!(e instanceof DecodeError) && !(e instanceof LimitError)) throw e;
        }
      }
      return true;
    }),
    { numRuns: 1000 },
  );
});

test('property: ConversationDecoder over libspdm captures with a few bytes changed', () => {
  // The clear messages of two captures (DOE 1.3 and MCTP 1.4), without the index-by-index
  // GET_MEASUREMENTS / ERROR walk: every session, encapsulation and 1.3 message stays in.
  const conversations = ['doe-v13.json', 'mctp-default.json'].map((f) => {
    const cap = JSON.parse(readFileSync(join(libspdmVectors(), 'captures', f), 'utf8')) as {
      messages: { kind: string; direction: string; payload: string }[];
    };
    return cap.messages
      .filter((m) => m.kind === 'spdm' && !/^..(e0|60|7f)/.test(m.payload))
      .map((m) => ({ direction: m.direction as 'request' | 'response', bytes: fromHex(m.payload) }));
  });
  const edit = fc.record({
    message: fc.nat(),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
    cut: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: conversations.length - 1 }),
      fc.array(edit, { minLength: 1, maxLength: 3 }),
      (which, edits) => {
        const msgs = (conversations[which] ?? []).map((m) => ({ ...m, bytes: m.bytes.slice() }));
        for (const e of edits) {
          const m = msgs[e.message % msgs.length];
          if (!m || m.bytes.length === 0) continue;
          if (e.cut) m.bytes = m.bytes.slice(0, e.at % m.bytes.length);
          else m.bytes[e.at % m.bytes.length] = e.value;
        }
        const dec = new ConversationDecoder();
        for (const m of msgs) {
          try {
            const d = dec.feed(m.direction, m.bytes);
            const raw = d.kind === 'other' ? d.raw : d.msg.raw;
            assert.equal(raw.length + d.trailing.length, m.bytes.length, 'message + trailing = payload');
          } catch (e) {
            // A malformed message is a DecodeError; one past a bound (e.g. a LargeMessageSize over
            // largeMessageBytes) a LimitError: both typed, anything else is a defect.
            if (!(e instanceof DecodeError) && !(e instanceof LimitError)) throw e;
          }
        }
        return true;
      },
    ),
    { numRuns: 150 },
  );
});
