/**
 * Known-answer test against DMTF libspdm: every CHALLENGE_AUTH and signed MEASUREMENTS signature
 * in the captured traffic is re-verified from the captured bytes alone — the conversation is
 * decoded with our codecs, transcripts rebuilt with our rules (M1 = A||B||C, L1 = [A||]message_m,
 * message_m restarted by ERROR), the leaf key taken from the captured CERTIFICATE responses and
 * the signature checked with our signature code (1.2+ signing prefix, r||s, PSS salt length).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { fromHex } from '../../src/wire/bytes.js';
import { ConversationDecoder } from '../../src/spdm/conversation.js';
import { SignatureTracker, type SignatureFinding } from '../../src/capture/signatures.js';

interface CaptureMessage {
  kind: string;
  direction: 'request' | 'response';
  payload: string;
}

const dir = join(libspdmVectors(), 'captures');
const captures = readdirSync(dir).filter((f) => f.endsWith('.json'));

function replay(file: string): SignatureFinding[] {
  const msgs = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { messages: CaptureMessage[] }).messages.filter(
    (m) => m.kind === 'spdm',
  );
  const decoder = new ConversationDecoder();
  const tracker = new SignatureTracker();
  const findings: SignatureFinding[] = [];
  for (const m of msgs) {
    const f = tracker.observe(decoder.feed(m.direction, fromHex(m.payload)));
    if (f) findings.push(f);
  }
  return findings;
}

for (const file of captures) {
  test(`libspdm capture ${file}: every CHALLENGE_AUTH and signed MEASUREMENTS signature re-verifies`, (t) => {
    const findings = replay(file);
    const challenge = findings.filter((f) => f.kind === 'CHALLENGE_AUTH').length;
    const measurements = findings.filter((f) => f.kind === 'MEASUREMENTS').length;
    t.diagnostic(`${challenge} CHALLENGE_AUTH, ${measurements} signed MEASUREMENTS`);
    assert.ok(challenge >= 1, 'capture has at least one CHALLENGE_AUTH');
    assert.ok(measurements >= 1, 'capture has at least one signed MEASUREMENTS');
    assert.deepEqual(
      findings.filter((f) => f.ok !== true),
      [],
    );
  });
}
