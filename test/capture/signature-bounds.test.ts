/**
 * The signature tracker of `spdm dump` keeps bounded transcripts: a message_m grown past
 * LIMITS.captureTranscriptBytes by a hostile capture is dropped, and the signature over it is
 * reported as not checked (naming the limit) instead of being kept and verified at any size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { fromHex } from '../../src/wire/bytes.js';
import { ConversationDecoder } from '../../src/spdm/conversation.js';
import { SignatureTracker, type SignatureFinding } from '../../src/capture/signatures.js';
import { encodeGetMeasurements } from '../../src/spdm/messages/measurements.js';
import { LIMITS } from '../../src/wire/limits.js';
import { largeMeasurements } from './synthetic-pcap.js';

interface CaptureMessage {
  kind: string;
  direction: 'request' | 'response';
  payload: string;
}

/** doe-v12-p256 replayed; before its first signed GET_MEASUREMENTS, `inject` pairs are fed. */
function replay(inject: readonly Uint8Array[]): SignatureFinding[] {
  const file = join(libspdmVectors(), 'captures', 'doe-v12-p256.json');
  const msgs = (JSON.parse(readFileSync(file, 'utf8')) as { messages: CaptureMessage[] }).messages.filter(
    (m) => m.kind === 'spdm',
  );
  const decoder = new ConversationDecoder();
  const tracker = new SignatureTracker();
  const findings: SignatureFinding[] = [];
  let injected = false;
  for (const m of msgs) {
    const bytes = fromHex(m.payload);
    // GET_MEASUREMENTS (0xe0) with Param1 bit 0: a signature requested.
    if (!injected && bytes[1] === 0xe0 && ((bytes[2] ?? 0) & 1) === 1) {
      injected = true;
      for (let i = 0; i < inject.length; i++)
        tracker.observe(decoder.feed(i % 2 === 0 ? 'request' : 'response', inject[i] as Uint8Array));
    }
    const f = tracker.observe(decoder.feed(m.direction, bytes));
    if (f) findings.push(f);
  }
  assert.ok(injected, 'the capture has a signed GET_MEASUREMENTS');
  return findings;
}

test('a message_m past captureTranscriptBytes is dropped: its signature is reported unchecked, naming the limit', () => {
  const plain = replay([]);
  const first = plain.find((f) => f.kind === 'MEASUREMENTS');
  assert.equal(first?.ok, true, 'without injection the signed MEASUREMENTS verifies');

  // Unsigned measurements of ~15 MB each (raw bit streams), until message_m would pass the bound.
  const meas = largeMeasurements(0x12, 15_000_000);
  const pairs: Uint8Array[] = [];
  for (let total = 0; total <= LIMITS.captureTranscriptBytes; total += meas.length)
    pairs.push(encodeGetMeasurements(0x12, { attributes: 0, operation: 1 }), meas);
  const findings = replay(pairs);
  const hit = findings.find((f) => f.kind === 'MEASUREMENTS');
  assert.equal(hit?.ok, null);
  assert.match(hit?.reason ?? '', /captureTranscriptBytes limit of 33554432 bytes/);
  // CHALLENGE_AUTH (A, B) is untouched by it.
  assert.ok(findings.filter((f) => f.kind === 'CHALLENGE_AUTH').every((f) => f.ok === true));
});
