/** `spdm dump` on every libspdm capture: nothing undecodable, every checkable signature verified. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { dumpCapture, formatDump } from '../../src/capture/dump.js';
import { parsePcap } from '../../src/capture/pcap.js';
import { DecodeError } from '../../src/wire/errors.js';

const dir = join(libspdmVectors(), 'captures');

for (const file of readdirSync(dir).filter((f) => f.endsWith('.pcap'))) {
  test(`dump ${file}: every packet decoded, requests paired, signatures verified`, (t) => {
    const bytes = new Uint8Array(readFileSync(join(dir, file)));
    const d = dumpCapture(bytes);
    const json = JSON.parse(readFileSync(join(dir, file.replace('.pcap', '.json')), 'utf8')) as {
      messages: { kind: string; direction: string }[];
    };
    t.diagnostic(JSON.stringify(d.summary));
    assert.equal(d.summary.packets, json.messages.length);
    assert.equal(d.summary.errors, 0);
    assert.deepEqual(
      d.packets.filter((p) => p.decodeError),
      [],
    );
    // Directions agree with the reference split of the same capture wherever it could tell; secured
    // records (which it leaves 'unknown') alternate, as every spdm-emu exchange is one request, one response.
    assert.deepEqual(
      d.packets.map((p, i) => (json.messages[i]?.direction === 'unknown' ? 'unknown' : p.direction)),
      json.messages.map((m) => m.direction),
    );
    d.packets.forEach((p, i) => {
      if (i > 0)
        assert.notEqual(
          p.direction,
          d.packets[i - 1]!.direction,
          `packet ${i} breaks the request/response alternation`,
        );
    });
    assert.equal(d.summary.signatures.failed, 0);
    assert.ok(d.summary.signatures.verified >= 2);
    assert.equal(d.summary.secured, json.messages.filter((m) => m.kind === 'secured-spdm').length);
    // Every response names the request it answers.
    for (const p of d.packets) if (p.direction === 'response') assert.equal(p.answers, p.index - 1);
    const text = formatDump(d);
    assert.match(text, /CHALLENGE_AUTH/);
    assert.match(text, /signature: VERIFIED/);
  });
}

test('pcap parser: truncated files and absurd record lengths are typed errors', () => {
  const bytes = new Uint8Array(readFileSync(join(dir, 'doe-v12-p256.pcap')));
  for (const n of [0, 10, 23, 30, 41]) assert.throws(() => parsePcap(bytes.subarray(0, n)), DecodeError);
  const bad = bytes.slice(0, 40);
  new DataView(bad.buffer).setUint32(24 + 8, 0x7fffffff, true);
  assert.throws(
    () => parsePcap(bad),
    (e: unknown) => e instanceof DecodeError && /incl_len/.test(e.field),
  );
});
