/**
 * The decoded-opening cache of signed transcripts (spdm/signed-transcript.ts TranscriptOpenings),
 * which log verification uses so that a device's repeated opening (VCA, DIGESTS, the chain in
 * portions) is decoded once: a transcript shares a decoded opening only when it begins with
 * exactly its bytes, and what it decodes to is what it decodes to without the cache.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { splitTranscript, TranscriptOpenings, type SignedTranscriptStep } from '../../src/spdm/signed-transcript.js';
import { digest } from '../../src/crypto/hash.js';
import { openLog } from '../../src/log/log.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { makeEvidence, pciFor, SUITES, tempDir, vary } from './helpers.js';

const tmp = tempDir('spdmkit-openings-');
after(() => tmp.cleanup());

async function challengeTranscript(): Promise<{ bytes: Uint8Array; hashAlgo: number; ev: Evidence }> {
  const ev = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'open', pci: pciFor(3) });
  const s = ev.signatures.find((x) => x.kind === 'CHALLENGE_AUTH')!;
  return { bytes: new Uint8Array(Buffer.from(s.transcript, 'hex')), hashAlgo: s.hashAlgo, ev };
}

/** Byte offset of each step in the transcript. */
function offsets(steps: readonly SignedTranscriptStep[]): number[] {
  let off = 0;
  return steps.map((s) => {
    const at = off;
    off += s.msg.raw.length;
    return at;
  });
}

/** The transcript with its nonce-carrying tail (last request and response) replaced by that of `other`. */
function sameOpening(a: Uint8Array, cut: number, tailFrom: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([a.subarray(0, cut), tailFrom.subarray(cut)]));
}

test('a transcript beginning with a decoded opening reuses it and decodes exactly as without the cache', async () => {
  const { bytes, hashAlgo } = await challengeTranscript();
  const plain = splitTranscript(bytes, hashAlgo);
  const cache = new TranscriptOpenings();
  const first = splitTranscript(bytes, hashAlgo, { cache, hint: 'd' });
  assert.deepEqual(first, plain);
  assert.equal(cache.size, 1, 'the opening (all but CHALLENGE and CHALLENGE_AUTH) is kept');
  // Another transcript of the same opening, its nonce changed: the opening's messages are shared.
  const cut = offsets(plain).at(-2)!;
  const other = bytes.slice();
  other[cut + 8] = (other[cut + 8] as number) ^ 0xff; // inside CHALLENGE's nonce
  const again = splitTranscript(other, hashAlgo, { cache, hint: 'd' });
  assert.deepEqual(again, splitTranscript(other, hashAlgo));
  for (let i = 0; i < plain.length - 2; i++) assert.equal(again[i], first[i], `step ${i} shared`);
  assert.notDeepEqual(again.at(-2), first.at(-2));
});

test('one byte different inside the opening: nothing is shared, and the transcript decodes as it does uncached', async () => {
  const { bytes, hashAlgo } = await challengeTranscript();
  const plain = splitTranscript(bytes, hashAlgo);
  const at = offsets(plain);
  const cache = new TranscriptOpenings();
  const first = splitTranscript(bytes, hashAlgo, { cache, hint: 'd' });
  const algorithms = plain.findIndex((s) => s.kind === 'ALGORITHMS');
  const certificate = plain.findIndex((s) => s.kind === 'CERTIFICATE');
  // MeasurementHashAlgo of ALGORITHMS (offset 8), a byte of the certificate portion, the last byte of the opening.
  for (const pos of [at[algorithms]! + 8, at[certificate]! + 40, at.at(-2)! - 1]) {
    const altered = bytes.slice();
    altered[pos] = (altered[pos] as number) ^ 0x06;
    let expected: SignedTranscriptStep[] | Error;
    try {
      expected = splitTranscript(altered, hashAlgo);
    } catch (e) {
      expected = e as Error;
    }
    let got: SignedTranscriptStep[] | Error;
    try {
      got = splitTranscript(altered, hashAlgo, { cache, hint: 'd' });
    } catch (e) {
      got = e as Error;
    }
    assert.deepEqual(got, expected, `byte ${pos}`);
    if (Array.isArray(got))
      for (const s of got) assert.ok(!first.includes(s), `byte ${pos}: no step of the other opening`);
  }
  // The same bytes under another hash algorithm are another opening too.
  assert.equal(cache.find('d', sameOpening(bytes, at.at(-2)!, bytes), hashAlgo === 1 ? 2 : 1), undefined);
});

test('bounded: openings per hint and in all', async () => {
  const { bytes, hashAlgo } = await challengeTranscript();
  const at = offsets(splitTranscript(bytes, hashAlgo));
  const pos = at.find((_, i, a) => i > 0 && a[i]! - a[i - 1]! > 100)! - 20; // inside the certificate portion
  const cache = new TranscriptOpenings(6, 1 << 24, 2);
  for (let k = 0; k < 20; k++) {
    const b = bytes.slice();
    b[pos] = k;
    splitTranscript(b, hashAlgo, { cache, hint: `h${k % 4}` });
    assert.ok(cache.size <= 6, `after ${k + 1}: ${cache.size}`);
  }
  assert.equal(cache.size, 6);
  const tiny = new TranscriptOpenings(100, 1000);
  splitTranscript(bytes, hashAlgo, { cache: tiny, hint: 'x' });
  assert.equal(tiny.size, 0, 'an opening larger than the byte bound is not kept');
});

test('log verification: an entry whose opening differs in one byte from an earlier one is held to its own bytes', async () => {
  const file = tmp.file('openings.sqlite');
  const { ev } = await challengeTranscript();
  const log = await openLog(file);
  await log.appendEvidence(vary(ev, 1));
  await log.appendEvidence(vary(ev, 2));
  await log.close();
  // The later CHALLENGE_AUTH's ALGORITHMS made to say another MeasurementHashAlgo, its transcript hash made to match.
  const db = new Database(file);
  const rows = db
    .prepare("SELECT seq, transcript, hash_algo FROM entries WHERE kind = 'CHALLENGE_AUTH' ORDER BY seq")
    .all() as {
    seq: number;
    transcript: Buffer;
    hash_algo: number;
  }[];
  const target = rows.at(-1)!;
  const t = new Uint8Array(target.transcript);
  const steps = splitTranscript(t, target.hash_algo);
  const pos = offsets(steps)[steps.findIndex((s) => s.kind === 'ALGORITHMS')]! + 8;
  t[pos] = (t[pos] as number) ^ 0x06;
  db.prepare('UPDATE entries SET transcript = ?, transcript_hash = ? WHERE seq = ?').run(
    Buffer.from(t),
    Buffer.from(digest(target.hash_algo, t)),
    target.seq,
  );
  db.close();
  const ro = await openLog(file, { readOnly: true });
  try {
    const r = await ro.verify({ workers: 0 });
    const mine = r.problems.filter((p) => p.entry === target.seq);
    assert.ok(
      mine.some((p) => p.code === 'TRANSCRIPT_MISMATCH' && p.fields?.includes('meas_hash_algo')),
      JSON.stringify(mine),
    );
    assert.ok(
      mine.some((p) => p.code === 'SIGNATURE_INVALID'),
      JSON.stringify(mine),
    );
    assert.ok(!r.failingEntries.includes(rows[0]!.seq), 'the earlier entry with the original opening is fine');
  } finally {
    await ro.close();
  }
});
