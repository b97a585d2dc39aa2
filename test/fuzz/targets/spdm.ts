/**
 * SPDM message decoders: random bytes, random bodies behind a plausible header, and the sample
 * corpus (test/spdm/samples.ts, one message per layout of every codec and version) with edits.
 * The decoders and the invariant (raw is a prefix; failures are DecodeErrors) are the ones
 * test/spdm/properties.test.ts checks; here they run for as long as the runner is asked. Also the
 * stateful ConversationDecoder over libspdm's conversations.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConversationDecoder } from '../../../src/spdm/conversation.js';
import { libspdmVectors } from '../../support/paths.js';
import { fromHex, toHex } from '../../../src/wire/bytes.js';
import { DECODERS, decodesOrDecodeError } from '../decoder-table.js';
import { SAMPLES } from '../../spdm/samples.js';
import { applyEdits, editsArb } from '../mutate.js';
import { defineTarget, expectTypedSync, FuzzFailure, type Json } from '../target.js';

interface DecoderInput {
  /** A DECODERS name, or `sample:` and a SAMPLES name (the sample's own decode context). */
  readonly decoder: string;
  readonly bytes: Uint8Array;
}

const DECODE = new Map<string, (b: Uint8Array) => unknown>([
  ...DECODERS.map((d) => [d.name, d.decode] as const),
  ...SAMPLES.map((s) => [`sample:${s.name}`, s.decode] as const),
]);

const toJson = (i: DecoderInput): Json => ({ decoder: i.decoder, hex: toHex(i.bytes) });
function fromJson(j: Json): DecoderInput {
  const o = j as { decoder?: unknown; hex?: unknown };
  if (typeof o.decoder !== 'string' || typeof o.hex !== 'string')
    throw new Error('regression input: expected {decoder, hex}');
  return { decoder: o.decoder, bytes: fromHex(o.hex) };
}

function runDecoder(i: DecoderInput): void {
  const decode = DECODE.get(i.decoder);
  if (!decode) throw new Error(`no decoder named ${i.decoder}`);
  expectTypedSync(() => {
    try {
      decodesOrDecodeError(decode, i.bytes);
    } catch (e) {
      // decodesOrDecodeError rethrows what is not a DecodeError; an AssertionError is a broken prefix invariant.
      if (e instanceof Error && e.name === 'AssertionError')
        throw new FuzzFailure('invariant', e.message, { cause: e });
      throw e;
    }
  });
}

const version = fc.oneof(fc.constantFrom(0x10, 0x11, 0x12, 0x13, 0x14), fc.integer({ min: 0, max: 255 }));

export const spdmDecoders = defineTarget<DecoderInput>({
  name: 'spdm-decoders',
  what: 'every SPDM decoder on random bytes and random bodies behind its own header',
  ciRuns: 3000,
  prepare: async () => ({
    arbitrary: fc
      .tuple(
        fc.nat({ max: DECODERS.length - 1 }),
        fc.boolean(),
        version,
        fc.uint8Array({ minLength: 2, maxLength: 2 }),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([i, headed, v, params, body]) => {
        const d = DECODERS[i] as (typeof DECODERS)[number];
        if (!headed || d.code === undefined) return { decoder: d.name, bytes: body };
        const b = new Uint8Array(4 + body.length);
        b.set([v, d.code, params[0] ?? 0, params[1] ?? 0]);
        b.set(body, 4);
        return { decoder: d.name, bytes: b };
      }),
    run: runDecoder,
  }),
  toJson,
  fromJson,
});

export const spdmSamplesMutated = defineTarget<DecoderInput>({
  name: 'spdm-samples-mutated',
  what: 'every layout of every SPDM message (the samples corpus) with field-aware byte edits',
  ciRuns: 3000,
  prepare: async () => ({
    arbitrary: fc.tuple(fc.nat({ max: SAMPLES.length - 1 }), editsArb(5)).map(([i, edits]) => {
      const s = SAMPLES[i] as (typeof SAMPLES)[number];
      return { decoder: `sample:${s.name}`, bytes: applyEdits(s.bytes, edits) };
    }),
    run: runDecoder,
  }),
  toJson,
  fromJson,
});

/** The clear-text messages of three libspdm captures (sessions, encapsulation, 1.3 and 1.4), the first 200 of each. */
function captureConversations(): { direction: 'request' | 'response'; bytes: Uint8Array }[][] {
  return ['doe-v13.json', 'mctp-default.json', 'doe-default.json'].map((f) => {
    const cap = JSON.parse(readFileSync(join(libspdmVectors(), 'captures', f), 'utf8')) as {
      messages: { kind: string; direction: string; payload: string }[];
    };
    return cap.messages
      .filter((m) => m.kind === 'spdm' && (m.direction === 'request' || m.direction === 'response'))
      .slice(0, 200)
      .map((m) => ({ direction: m.direction as 'request' | 'response', bytes: fromHex(m.payload) }));
  });
}

interface ConversationInput {
  readonly messages: readonly { readonly direction: 'request' | 'response'; readonly bytes: Uint8Array }[];
}

/**
 * The stateful decoder of whole conversations (src/spdm/conversation.ts, owned by the capture
 * work): libspdm's traffic with a few messages edited.
 */
export const spdmConversation = defineTarget<ConversationInput>({
  name: 'spdm-conversation',
  what: 'ConversationDecoder over libspdm conversations with edited messages',
  ciRuns: 60,
  prepare: async () => {
    const convs = captureConversations();
    return {
      arbitrary: fc
        .tuple(
          fc.nat({ max: convs.length - 1 }),
          fc.array(fc.tuple(fc.nat(), editsArb(2)), { minLength: 1, maxLength: 3 }),
        )
        .map(([k, edits]) => {
          const msgs = (convs[k] ?? []).map((m) => ({ ...m }));
          for (const [at, e] of edits) {
            const i = at % msgs.length;
            const m = msgs[i];
            if (m) msgs[i] = { direction: m.direction, bytes: applyEdits(m.bytes, e) };
          }
          return { messages: msgs };
        }),
      run: (i) => {
        const dec = new ConversationDecoder();
        for (const m of i.messages) {
          expectTypedSync(() => {
            const d = dec.feed(m.direction, m.bytes);
            const raw = d.kind === 'other' ? d.raw : d.msg.raw;
            if (raw.length + d.trailing.length !== m.bytes.length)
              throw new FuzzFailure('invariant', 'message + trailing is not the payload');
          });
        }
      },
    };
  },
  toJson: (i) => ({ messages: i.messages.map((m) => ({ direction: m.direction, hex: toHex(m.bytes) })) }),
  fromJson: (j) => {
    const o = j as { messages?: { direction?: unknown; hex?: unknown }[] };
    if (!Array.isArray(o.messages)) throw new Error('regression input: expected {messages}');
    return {
      messages: o.messages.map((m) => ({
        direction: m.direction === 'request' ? 'request' : 'response',
        bytes: fromHex(String(m.hex)),
      })),
    };
  },
});
