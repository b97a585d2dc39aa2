/**
 * Each logged measurement block is held to the blocks of the signed MEASUREMENTS responses, as
 * bytes. The entry and the transcript are edited apart here, directly (through the log, the leaf
 * hash would catch the edit first): a block changed on either side must be NOT_IN_TRANSCRIPT in
 * the `measurements` column, whatever else the edit breaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { draftsFromEvidence, type LogEntry } from '../../src/log/entry.js';
import { entryTranscriptProblems } from '../../src/log/entry-transcript.js';
import { makeEvidence, SUITES } from './helpers.js';

const ev = makeEvidence({ suite: SUITES[0]!, version: 0x13, name: 'blocks' });

async function measurementsEntry(): Promise<{ entry: LogEntry; chain: Uint8Array | undefined }> {
  const { drafts, chains } = draftsFromEvidence(await ev);
  const d = drafts.find((x) => x.kind === 'MEASUREMENTS' && x.measurements.length > 1);
  assert.ok(d, 'the evidence has a MEASUREMENTS signature over several blocks');
  const chain = chains.find((c) => d.chainDigest && Buffer.from(c.digest).equals(d.chainDigest))?.chain;
  return { entry: { ...d, index: 0, evidenceIndex: 0, loggedAt: 0n } as unknown as LogEntry, chain };
}

const blockProblems = (entry: LogEntry, chain: Uint8Array | undefined): string[] =>
  entryTranscriptProblems(entry, chain)
    .filter((p) => p.code === 'NOT_IN_TRANSCRIPT' && p.fields.includes('measurements'))
    .map((p) => p.message);

test('an untouched MEASUREMENTS entry has no problem against its transcript', async () => {
  const { entry, chain } = await measurementsEntry();
  assert.deepEqual(entryTranscriptProblems(entry, chain), []);
});

test('a logged block changed (same length, or cut short) while the transcript is not is reported by its position', async () => {
  const { entry, chain } = await measurementsEntry();
  const k = entry.measurements.length - 1;
  const flipped = entry.measurements[k]!.slice();
  flipped[flipped.length - 1]! ^= 0x01;
  const cut = entry.measurements[k]!.subarray(0, entry.measurements[k]!.length - 1);
  for (const changed of [flipped, cut]) {
    const measurements = entry.measurements.map((b, i) => (i === k ? changed : b));
    assert.deepEqual(blockProblems({ ...entry, measurements }, chain), [
      `measurement block ${k} is not a block of a signed MEASUREMENTS response`,
    ]);
  }
});

test('a block changed in the transcript while the logged one is not is reported', async () => {
  const { entry, chain } = await measurementsEntry();
  const k = entry.measurements.length - 1;
  const block = entry.measurements[k]!;
  const transcript = entry.transcript.slice();
  const at = Buffer.from(transcript).indexOf(Buffer.from(block));
  assert.ok(at >= 0, 'the logged block is in the transcript');
  // The block's last byte is in its measurement value: the transcript still decodes.
  transcript[at + block.length - 1]! ^= 0x01;
  assert.deepEqual(blockProblems({ ...entry, transcript }, chain), [
    `measurement block ${k} is not a block of a signed MEASUREMENTS response`,
  ]);
});
