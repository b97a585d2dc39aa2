/** The streamed device listing (GET /v1/devices): its bytes, its chunks, its end on a dead client. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ListingStream, listingBytes } from '../../src/daemon/listing.js';

async function read(s: ListingStream): Promise<string[]> {
  const chunks: string[] = [];
  for await (const c of s) chunks.push((c as Buffer).toString('utf8'));
  return chunks;
}

const devices = (n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ bdf: `0000:${i.toString(16).padStart(2, '0')}:00.0`, é: i }));

test('the listing streamed in chunks is byte for byte the array of the pieces, of the announced length', async () => {
  for (const n of [0, 1, 2, 7, 50]) {
    for (const chunkChars of [1, 40, 100, 1 << 16]) {
      const pieces = devices(n);
      const chunks = await read(new ListingStream(pieces, { chunkChars }));
      const body = chunks.join('');
      assert.equal(body, `{"devices":[${pieces.join(',')}]}`, `${n} devices, chunks of ${chunkChars}`);
      const bytes = pieces.reduce((s, p) => s + Buffer.byteLength(p), 0);
      assert.equal(Buffer.byteLength(body), listingBytes(n, bytes));
      // Bounded chunks: many devices and small chunks make many chunks, none much over the bound.
      if (n === 50 && chunkChars === 100) assert.ok(chunks.length >= 10, `${chunks.length} chunks`);
      const longest = Math.max(...pieces.map((p) => p.length), 0);
      for (const c of chunks) assert.ok(c.length <= chunkChars + longest + 16, `a chunk of ${c.length} chars`);
    }
  }
});

test('other work runs between the chunks of a listing', async () => {
  const s = new ListingStream(devices(200), { chunkChars: 50 });
  let ticks = 0;
  const t = setInterval(() => ticks++, 0);
  try {
    const chunks = await read(s);
    assert.ok(chunks.length >= 100);
    assert.ok(ticks > 0, 'a timer ran while the listing was written');
  } finally {
    clearInterval(t);
  }
});

test('a listing nobody reads to the end is dropped at its deadline', async () => {
  const s = new ListingStream(devices(100), { chunkChars: 10, deadlineMs: 50 });
  s.once('data', () => s.pause()); // read one chunk, then stall
  // The deadline's timer does not hold the process open (a server's socket does): this one does.
  const guard = setTimeout(() => s.destroy(new Error('the test waited 5 s')), 5000);
  const [err] = (await once(s, 'error')) as [Error];
  clearTimeout(guard);
  assert.match(err.message, /not read within/);
  assert.equal(s.destroyed, true);
});
