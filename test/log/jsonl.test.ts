/** JSON Lines export and import: a round trip keeps the tree root; a damaged file is refused, naming the line. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { openLog } from '../../src/log/log.js';
import { loadPublicKeyFile } from '../../src/log/log-key.js';
import { verifyConsistency } from '../../src/log/merkle.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { evidenceMatrix, exportTo, tempDir } from './helpers.js';

const tmp = tempDir('spdmkit-jsonl-');
after(() => tmp.cleanup());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

let evs: Evidence[] = [];
let exportFile = '';
let sourceRoot = '';
let sourceSize = 0;

before(async () => {
  evs = await evidenceMatrix('j');
  const log = await openLog(tmp.file('source.sqlite'));
  try {
    for (const ev of evs) await log.appendEvidence(ev);
    exportFile = tmp.file('source.jsonl');
    await exportTo(log, exportFile);
    const sth = await log.signedTreeHead();
    sourceRoot = hex(sth.rootHash);
    sourceSize = sth.treeSize;
  } finally {
    await log.close();
  }
});

test('the export: a header, each chain once before its first use, every entry in order, the signed head last', () => {
  const lines = readFileSync(exportFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!['type'], 'header');
  assert.equal(lines[0]!['treeSize'], sourceSize);
  assert.equal(lines.at(-1)!['type'], 'sth');
  assert.equal(lines.at(-1)!['rootHash'], sourceRoot);
  const entries = lines.filter((l) => l['type'] === 'entry');
  assert.deepEqual(
    entries.map((e) => e['index']),
    Array.from({ length: sourceSize }, (_, i) => i),
  );
  const chains = lines.filter((l) => l['type'] === 'chain');
  assert.equal(chains.length, 4);
  const seen = new Set<string>();
  for (const l of lines) {
    if (l['type'] === 'chain') seen.add(l['digest'] as string);
    if (l['type'] === 'entry') assert.ok(seen.has(l['chainDigest'] as string), 'chain line first');
  }
  const first = entries[0]!;
  assert.match(first['loggedAt'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.match(first['signature'] as string, /^[0-9a-f]+$/);
});

test('export → import into a fresh database (another key): same tree root, same entries, and it verifies', async () => {
  const target = await openLog(tmp.file('copy.sqlite'));
  try {
    const r = await target.importJsonl(createReadStream(exportFile), {
      publicKey: loadPublicKeyFile(tmp.file('source.sqlite.pub')),
    });
    assert.equal(r.imported, sourceSize);
    assert.equal(hex(r.rootHash), sourceRoot);
    const sth = await target.signedTreeHead();
    assert.equal(sth.treeSize, sourceSize);
    assert.equal(hex(sth.rootHash), sourceRoot, 'same root');
    assert.notEqual(target.logId, r.sourceLogId, 'the copy signs with its own key');
    assert.equal((await target.verify()).ok, true);
    // Entries are byte-identical: export the copy and compare the entry and chain lines.
    await exportTo(target, tmp.file('copy.jsonl'));
    const body = (f: string) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"type":"entry"') || l.includes('"type":"chain"'));
    assert.deepEqual(body(tmp.file('copy.jsonl')), body(exportFile));
    // Importing the same file again adds nothing: the log already holds it.
    const again = await target.importJsonl(createReadStream(exportFile));
    assert.equal(again.imported, 0);
    assert.equal(await target.size(), sourceSize);
  } finally {
    await target.close();
  }
});

test('import into a log holding a prefix of the export adds the rest', async () => {
  const target = await openLog(tmp.file('prefix.sqlite'));
  try {
    await target.importJsonl(createReadStream(exportFile));
    assert.equal(await target.size(), sourceSize);
  } finally {
    await target.close();
  }
  // The source grows; its longer export extends the copy.
  const src = await openLog(tmp.file('source.sqlite'));
  const longer = tmp.file('longer.jsonl');
  try {
    await src.appendEvidence({ ...evs[0]!, device: 'late' });
    await exportTo(src, longer);
  } finally {
    await src.close();
  }
  const t2 = await openLog(tmp.file('prefix.sqlite'));
  try {
    const r = await t2.importJsonl(createReadStream(longer));
    assert.equal(r.imported, 2);
    assert.equal(await t2.size(), sourceSize + 2);
    assert.equal((await t2.verify()).ok, true);
    assert.equal((await t2.entry(sourceSize)).device, 'late');
  } finally {
    await t2.close();
  }
});

async function importText(text: string): Promise<{ error: Error | undefined; size: number }> {
  const log = await openLog(tmp.file(`bad-${Math.random().toString(36).slice(2)}.sqlite`));
  try {
    let error: Error | undefined;
    try {
      await log.importJsonl(Readable.from([text]));
    } catch (e) {
      error = e as Error;
    }
    return { error, size: await log.size() };
  } finally {
    await log.close();
  }
}

test('a damaged export is refused, naming the line and entry, and nothing is imported', async () => {
  const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
  const at = (i: number) => lines.findIndex((l) => l.includes(`"type":"entry","index":${i},`));
  const cases: [string, string[], RegExp][] = [
    [
      'edited device',
      lines.map((l, i) => (i === at(7) ? l.replace(/"device":"([^"]*)"/, '"device":"$1!"') : l)),
      new RegExp(`line ${at(7) + 1}: entry 7: its fields hash to`),
    ],
    [
      'edited signature',
      lines.map((l, i) =>
        i === at(3) ? l.replace(/"signature":"(..)/, (_m, a: string) => `"signature":"${a === 'ff' ? '00' : 'ff'}`) : l,
      ),
      /entry 3: its fields hash to/,
    ],
    [
      'two entries swapped',
      lines.map((l, i) => (i === at(4) ? (lines[at(5)] as string) : i === at(5) ? (lines[at(4)] as string) : l)),
      /index 5 where 4 was expected/,
    ],
    [
      'an entry dropped',
      lines.filter((_, i) => i !== at(9)),
      // The head after entry 9, or entry 10 itself, is the first line that no longer fits.
      /covers 10 entries, 9 come before it|index 10 where 9 was expected/,
    ],
    ['cut short (no head)', lines.slice(0, -3), /does not end with the sth line/],
    [
      'a forged head',
      lines.map((l, i) => (i === lines.length - 1 ? l.replace(/"rootHash":"(..)/, '"rootHash":"00') : l)),
      /not signed by the exported log key/,
    ],
    [
      'an altered chain',
      lines.map((l) =>
        l.includes('"type":"chain"')
          ? l.replace(/"chain":"(.{200})(.)/, (_m, a: string, b: string) => `"chain":"${a}${b === '0' ? '1' : '0'}`)
          : l,
      ),
      /does not hash to its digest/,
    ],
    ['not JSON', [...lines.slice(0, 3), '{oops', ...lines.slice(3)], /line 4: not JSON/],
    // No hash covers a member outside the leaf: kept, it would ride under a verified root.
    [
      'an unknown member on an entry',
      lines.map((l, i) => (i === at(2) ? l.replace('"type":"entry",', '"type":"entry","note":"hello",') : l)),
      new RegExp(`line ${at(2) + 1}: entry line: unknown member "note"`),
    ],
    [
      'an unknown member in pci',
      lines.map((l, i) => (i === at(0) ? l.replace('"pci":{', '"pci":{"slotName":"x",') : l)),
      /pci: unknown member "slotName"/,
    ],
    [
      'null for an optional field',
      lines.map((l, i) => (i === at(1) ? l.replace(/"device":"[^"]*"/, '"device":null') : l)),
      /entry line: device is null/,
    ],
    [
      'null for a required field',
      lines.map((l, i) => (i === at(1) ? l.replace(/"slot":\d+/, '"slot":null') : l)),
      /entry line: slot is null/,
    ],
    [
      'an unknown member on the header',
      lines.map((l, i) => (i === 0 ? l.replace('"type":"header",', '"type":"header","comment":"x",') : l)),
      /line 1: header line: unknown member "comment"/,
    ],
    [
      'an unknown member on a chain line',
      lines.map((l) => (l.includes('"type":"chain"') ? l.replace('"type":"chain",', '"type":"chain","x":1,') : l)),
      /chain line: unknown member "x"/,
    ],
    [
      'the sth line naming another log',
      lines.map((l, i) =>
        i === lines.length - 1 ? l.replace(/"logId":"(.)/, (_m, a: string) => `"logId":"${a === '0' ? '1' : '0'}`) : l,
      ),
      /names another logId than the header/,
    ],
  ];
  for (const [what, text, expected] of cases) {
    const r = await importText(`${text.join('\n')}\n`);
    assert.ok(r.error, `${what}: accepted`);
    assert.match(r.error.message, expected, what);
    assert.equal(r.size, 0, `${what}: nothing imported`);
  }
});

test('an export of another log is refused when the source key is pinned; a diverging log is not extended', async () => {
  const other = await openLog(tmp.file('other.sqlite'));
  try {
    await other.appendEvidence(evs[1]!);
    await assert.rejects(
      other.importJsonl(createReadStream(exportFile), { publicKey: other.logKey }),
      /not of the pinned log/,
    );
    await assert.rejects(other.importJsonl(createReadStream(exportFile)), /not a prefix of the export/);
    assert.equal(await other.size(), 2);
  } finally {
    await other.close();
  }
  writeFileSync(tmp.file('empty.jsonl'), '');
  const empty = await importText('');
  assert.match(empty.error?.message ?? '', /empty export/);
});

test('the export carries every signed head in order, each after the entry that completes it, with a consistency proof from the one before', async () => {
  const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const heads = parsed.filter((o) => o['type'] === 'sth');
  // One head for the empty log, one per appended evidence.
  assert.equal(heads.length, evs.length + 1);
  assert.equal(heads[0]!['treeSize'], 0);
  assert.equal(heads[0]!['consistency'], undefined);
  let entries = 0;
  let prev: Record<string, unknown> | undefined;
  for (const o of parsed) {
    if (o['type'] === 'entry') entries++;
    if (o['type'] !== 'sth') continue;
    assert.equal(o['treeSize'], entries, 'a head covers the entries before it');
    if (prev) {
      const path = (o['consistency'] as string[]).map((h) => new Uint8Array(Buffer.from(h, 'hex')));
      assert.ok(
        verifyConsistency(
          prev['treeSize'] as number,
          o['treeSize'],
          new Uint8Array(Buffer.from(prev['rootHash'] as string, 'hex')),
          new Uint8Array(Buffer.from(o['rootHash'] as string, 'hex')),
          path,
        ),
      );
    }
    prev = o;
  }
  assert.equal(parsed.at(-1)!['type'], 'sth');
});

test('a head dropped, a consistency proof altered or missing: each refused', async () => {
  const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
  const headAt = lines.map((l, i) => (l.includes('"type":"sth"') ? i : -1)).filter((i) => i >= 0);
  const mid = headAt[3]!;
  const o = JSON.parse(lines[mid]!) as Record<string, unknown>;
  const flip = (h: string) => `${h[0] === '0' ? '1' : '0'}${h.slice(1)}`;
  const withMid = (m: Record<string, unknown>) => lines.map((l, i) => (i === mid ? JSON.stringify(m) : l));
  const cases: [string, string[], RegExp][] = [
    [
      'a head dropped',
      lines.filter((_, i) => i !== headAt[2]),
      /consistency proof from size \d+ to \d+ does not verify/,
    ],
    [
      'a consistency proof altered',
      withMid({ ...o, consistency: (o['consistency'] as string[]).map((h, i) => (i === 0 ? flip(h) : h)) }),
      /does not verify/,
    ],
    ['no consistency proof', withMid({ ...o, consistency: undefined }), /has no consistency proof/],
  ];
  for (const [what, text, expected] of cases) {
    const r = await importText(`${text.join('\n')}\n`);
    assert.ok(r.error, `${what}: accepted`);
    assert.match(r.error.message, expected, what);
    assert.equal(r.size, 0, `${what}: nothing imported`);
  }
});
