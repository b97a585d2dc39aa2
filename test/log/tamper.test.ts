/**
 * Tamper evidence: every kind of change to a stored log is detected by verify() and named — which
 * entry (or range, chain, tree head) and which column. Each case edits a copy of one real log with
 * plain SQL, as an attacker with write access to the database file would.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openLog } from '../../src/log/log.js';
import { generateLogKey, describePublicKey, loadPublicKeyFile } from '../../src/log/log-key.js';
import { encodeLeafWithDigests, FIELD_BY_COLUMN } from '../../src/log/entry.js';
import { Frontier, leafHash } from '../../src/log/merkle.js';
import { signTreeHead, sthSignedBytes } from '../../src/log/sth.js';
import { ENTRY_COLUMNS, rowToEntry, type RawEntryRow } from '../../src/log/store/store.js';
import type { VerifyReport } from '../../src/log/verify.js';
import type { SignedTreeHead } from '../../src/log/sth.js';
import { evidenceMatrix, makeEvidence, pciFor, SUITES, tempDir } from './helpers.js';

const tmp = tempDir('spdmkit-tamper-');
after(() => tmp.cleanup());
let base = '';
let N = 0;
let sthSizes: number[] = [];
let heads: SignedTreeHead[] = [];
let counter = 0;

before(async () => {
  base = tmp.file('base.sqlite');
  const log = await openLog(base);
  for (const ev of await evidenceMatrix('t')) await log.appendEvidence(ev);
  await log.appendEvidence(await makeEvidence({ suite: SUITES[0]!, version: 0x13, name: 'ctx', pci: pciFor(20) }));
  N = await log.size();
  await log.close();
  const db = new Database(base, { readonly: true });
  heads = (
    db.prepare('SELECT tree_size, timestamp, root_hash, signature FROM sth ORDER BY tree_size').all() as {
      tree_size: number;
      timestamp: number;
      root_hash: Buffer;
      signature: Buffer;
    }[]
  ).map((r) => ({
    treeSize: r.tree_size,
    timestamp: r.timestamp,
    rootHash: new Uint8Array(r.root_hash),
    signature: new Uint8Array(r.signature),
  }));
  sthSizes = heads.map((h) => h.treeSize);
  db.close();
});

/** A fresh copy of the base log, edited by `edit`, then verified (key pinned from the original .pub). */
async function tampered(
  edit: (db: Database.Database) => void,
  opts: { trusted?: SignedTreeHead; pin?: boolean } = {},
): Promise<VerifyReport> {
  const file = tmp.file(`case-${++counter}.sqlite`);
  copyFileSync(base, file);
  const db = new Database(file);
  edit(db);
  db.close();
  const log = await openLog(file, {
    readOnly: true,
    ...(opts.pin === false ? {} : { publicKey: loadPublicKeyFile(`${base}.pub`) }),
  });
  try {
    return await log.verify({ ...(opts.trusted ? { trusted: opts.trusted } : {}), workers: 0 });
  } finally {
    await log.close();
  }
}

function describe(r: VerifyReport): string {
  return JSON.stringify(
    r.problems.map((p) => ({
      code: p.code,
      entry: p.entry,
      entries: p.entries,
      fields: p.fields,
      chain: p.chainDigest?.slice(0, 8),
    })),
  );
}

function row(db: Database.Database, seq: number): Record<string, unknown> {
  return db.prepare('SELECT * FROM entries WHERE seq = ?').get(seq) as Record<string, unknown>;
}

/** One byte (or one character, or one bit of an integer) of a value changed. */
function editOneByte(v: unknown): unknown {
  if (typeof v === 'number') return v ^ 1;
  if (typeof v === 'string') {
    const i = v.search(/[0-9A-Za-z]/);
    const c = v[i] as string;
    const next = /[0-9]/.test(c)
      ? String((Number(c) + 1) % 10)
      : c === 'z'
        ? 'a'
        : c === 'Z'
          ? 'A'
          : String.fromCharCode(c.charCodeAt(0) + 1);
    return v.slice(0, i) + next + v.slice(i + 1);
  }
  const b = Buffer.from(v as Buffer);
  b[b.length >> 1] = (b[b.length >> 1] as number) ^ 0x01;
  return b;
}

function usable(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return /[0-9A-Za-z]/.test(v);
  if (Buffer.isBuffer(v)) return v.length > 0;
  return true;
}

test('the untouched log verifies, with the pinned key', async () => {
  const r = await tampered(() => undefined);
  assert.equal(r.ok, true, describe(r));
  assert.equal(r.publicKeySource, 'pinned');
  assert.equal(r.treeSize, N);
});

test('one byte of any column of any entry changed: detected, and the entry and the column are named', async () => {
  const db = new Database(base, { readonly: true });
  const rows = (db.prepare('SELECT * FROM entries ORDER BY seq').all() as Record<string, unknown>[]).slice(3);
  db.close();
  for (const column of ENTRY_COLUMNS) {
    const target = rows.find((r) => usable(r[column]) && (column !== 'context' || (r['version'] as number) >= 0x12));
    assert.ok(target, `a row with a value in ${column}`);
    const seq = target['seq'] as number;
    if (column === 'seq') {
      const r = await tampered((d) => d.prepare('UPDATE entries SET seq = ? WHERE seq = ?').run(seq + 1000, seq));
      assert.equal(r.ok, false);
      assert.ok(
        r.problems.some((p) => p.code === 'ENTRY_MISSING' && p.entries?.[0] === seq),
        `seq: ${describe(r)}`,
      );
      assert.ok(
        r.problems.some((p) => p.code === 'ENTRY_MOVED' && p.entry === seq + 1000 && p.fields?.includes('seq')),
        `seq: ${describe(r)}`,
      );
      assert.ok(r.failingEntries.includes(seq));
      continue;
    }
    const r = await tampered((d) =>
      d.prepare(`UPDATE entries SET ${column} = ? WHERE seq = ?`).run(editOneByte(target[column]), seq),
    );
    assert.equal(r.ok, false, `${column} edit went unnoticed`);
    assert.ok(r.failingEntries.includes(seq), `${column}: entry ${seq} not named: ${describe(r)}`);
    assert.ok(
      r.problems.some((p) => p.entry === seq && p.fields?.includes(column)),
      `${column}: no problem names entry ${seq} and column ${column}: ${describe(r)}`,
    );
    // Nothing else is blamed.
    assert.deepEqual(r.failingEntries, [seq], `${column}: ${describe(r)}`);
    if (column === 'leaf_hash') assert.ok(r.problems.some((p) => p.code === 'LEAF_HASH_ALTERED'));
    else if (column === 'field_digests') assert.ok(r.problems.some((p) => p.code === 'FIELD_DIGESTS_ALTERED'));
    else if (FIELD_BY_COLUMN.has(column))
      assert.ok(
        r.problems.some((p) => (p.code === 'ENTRY_ALTERED' || p.code === 'ENTRY_MALFORMED') && p.entry === seq),
        `${column}: ${describe(r)}`,
      );
  }
});

test('one byte of any leaf column changed: the rebuilt leaf is refused and its locator names exactly that column', async () => {
  // The leaf of each stored row is rebuilt field by field (integers and booleans written straight
  // into it): a change to any one column must change that field's TLV and no other.
  const db = new Database(base, { readonly: true });
  const rows = (db.prepare('SELECT * FROM entries ORDER BY seq').all() as Record<string, unknown>[]).slice(3);
  db.close();
  for (const [column] of FIELD_BY_COLUMN) {
    if (column === 'seq') continue;
    const target = rows.find((r) => usable(r[column]));
    assert.ok(target, `a row with a value in ${column}`);
    const seq = target['seq'] as number;
    const r = await tampered((d) =>
      d.prepare(`UPDATE entries SET ${column} = ? WHERE seq = ?`).run(editOneByte(target[column]), seq),
    );
    const named = r.problems.filter(
      (p) => (p.code === 'ENTRY_ALTERED' || p.code === 'ENTRY_MALFORMED') && p.entry === seq,
    );
    assert.equal(named.length, 1, `${column}: ${describe(r)}`);
    assert.deepEqual(named[0]?.fields, [column], `${column}: ${describe(r)}`);
    assert.deepEqual(r.failingEntries, [seq], `${column}: ${describe(r)}`);
  }
});

test('one byte of a certificate chain or of its key changed: the chain and every entry relying on it are named', async () => {
  const db = new Database(base, { readonly: true });
  const chain = db.prepare('SELECT digest, chain FROM chains ORDER BY digest LIMIT 1').get() as {
    digest: Buffer;
    chain: Buffer;
  };
  const users = (
    db.prepare('SELECT seq FROM entries WHERE chain_digest = ? ORDER BY seq').all(chain.digest) as { seq: number }[]
  ).map((r) => r.seq);
  db.close();
  assert.ok(users.length >= 4);
  const hexd = chain.digest.toString('hex');

  const edited = await tampered((d) =>
    d.prepare('UPDATE chains SET chain = ? WHERE digest = ?').run(editOneByte(chain.chain), chain.digest),
  );
  assert.equal(edited.ok, false);
  assert.ok(
    edited.problems.some((p) => p.code === 'CHAIN_ALTERED' && p.chainDigest === hexd && p.fields?.includes('chain')),
    describe(edited),
  );
  for (const u of users) assert.ok(edited.failingEntries.includes(u), `entry ${u} uses the altered chain`);

  const rekeyed = await tampered((d) =>
    d.prepare('UPDATE chains SET digest = ? WHERE digest = ?').run(editOneByte(chain.digest), chain.digest),
  );
  assert.equal(rekeyed.ok, false);
  assert.ok(
    rekeyed.problems.some((p) => p.code === 'CHAIN_ALTERED' && p.fields?.includes('digest')),
    describe(rekeyed),
  );
  for (const u of users)
    assert.ok(
      rekeyed.problems.some((p) => p.code === 'CHAIN_MISSING' && p.entry === u && p.fields?.includes('chain_digest')),
      `entry ${u}: ${describe(rekeyed)}`,
    );
});

test('an entry dropped from the middle is named', async () => {
  const r = await tampered((d) => d.prepare('DELETE FROM entries WHERE seq = 11').run());
  assert.equal(r.ok, false);
  assert.ok(
    r.problems.some((p) => p.code === 'ENTRY_MISSING' && p.entries?.[0] === 11 && p.entries[1] === 11),
    describe(r),
  );
  assert.deepEqual(r.failingEntries, [11]);
});

test('an entry dropped and the rest renumbered to close the gap: every moved entry and the cut-off tail are named', async () => {
  const r = await tampered((d) => {
    d.prepare('DELETE FROM entries WHERE seq = 20').run();
    for (let s = 21; s < N; s++) d.prepare('UPDATE entries SET seq = ? WHERE seq = ?').run(s - 1, s);
  });
  assert.equal(r.ok, false);
  for (let s = 20; s < N - 1; s++)
    assert.ok(
      r.problems.some((p) => p.code === 'ENTRY_MOVED' && p.entry === s && p.message.includes(`holds entry ${s + 1}`)),
      `${s}: ${describe(r)}`,
    );
  assert.ok(
    r.problems.some((p) => p.code === 'TRUNCATED' && p.entries?.[0] === N - 1),
    describe(r),
  );
});

test('two entries swapped: both positions are named with the entry each now holds', async () => {
  const r = await tampered((d) => {
    d.prepare('UPDATE entries SET seq = -1 WHERE seq = 4').run();
    d.prepare('UPDATE entries SET seq = 4 WHERE seq = 17').run();
    d.prepare('UPDATE entries SET seq = 17 WHERE seq = -1').run();
  });
  assert.equal(r.ok, false);
  assert.ok(
    r.problems.some((p) => p.code === 'ENTRY_MOVED' && p.entry === 4 && p.message.includes('holds entry 17')),
    describe(r),
  );
  assert.ok(
    r.problems.some((p) => p.code === 'ENTRY_MOVED' && p.entry === 17 && p.message.includes('holds entry 4')),
    describe(r),
  );
  assert.deepEqual(r.failingEntries, [4, 17]);
});

test('the log truncated: the missing tail is named from the newest signed head', async () => {
  const r = await tampered((d) => d.prepare('DELETE FROM entries WHERE seq >= ?').run(N - 5));
  assert.equal(r.ok, false);
  assert.ok(
    r.problems.some((p) => p.code === 'TRUNCATED' && p.entries?.[0] === N - 5 && p.entries[1] === N - 1),
    describe(r),
  );
  assert.deepEqual(r.failingEntries, [N - 5, N - 4, N - 3, N - 2, N - 1]);
});

test('truncated together with its newer heads and a recomputed state: only a verifier holding an earlier checkpoint can tell, and then it names the lost entries', async () => {
  const k = sthSizes[sthSizes.length - 4] as number;
  const cut = (d: Database.Database) => {
    const leaves = (
      d.prepare('SELECT leaf_hash FROM entries WHERE seq < ? ORDER BY seq').all(k) as { leaf_hash: Buffer }[]
    ).map((x) => new Uint8Array(x.leaf_hash));
    const f = new Frontier();
    for (const l of leaves) f.append(l);
    d.prepare('DELETE FROM entries WHERE seq >= ?').run(k);
    d.prepare('DELETE FROM sth WHERE tree_size > ?').run(k);
    d.prepare('UPDATE log_state SET size = ?, frontier = ?').run(k, Buffer.from(f.encode()));
  };
  const blind = await tampered(cut);
  assert.equal(blind.ok, true, 'a consistent prefix signed by the log key is a valid (older) log');
  assert.equal(blind.treeSize, k);
  const checkpoint = heads.at(-1) as SignedTreeHead;
  const r = await tampered(cut, { trusted: checkpoint });
  assert.equal(r.ok, false);
  assert.ok(
    r.problems.some(
      (p) => p.code === 'TRUNCATED' && p.table === 'checkpoint' && p.entries?.[0] === k && p.entries[1] === N - 1,
    ),
    describe(r),
  );
});

test('forged tree heads are named: an altered newest head, a head signed by another key, a whole log re-signed with a substituted key', async () => {
  const latest = heads.at(-1) as SignedTreeHead;
  const altered = await tampered((d) =>
    d.prepare('UPDATE sth SET root_hash = ? WHERE tree_size = ?').run(Buffer.alloc(32, 7), latest.treeSize),
  );
  assert.equal(altered.ok, false);
  assert.ok(
    altered.problems.some((p) => p.code === 'STH_SIGNATURE_INVALID' && p.treeSize === latest.treeSize),
    describe(altered),
  );
  const prev = sthSizes[sthSizes.length - 2] as number;
  assert.ok(
    altered.problems.some((p) => p.code === 'UNSIGNED_ENTRIES' && p.entries?.[0] === prev),
    'entries after the last genuine head are named',
  );

  const mallory = generateLogKey();
  const mpub = describePublicKey(mallory);
  const forged = signTreeHead(
    mallory,
    describePublicKey(mallory).logId,
    { treeSize: N + 10, rootHash: new Uint8Array(32) },
    latest.timestamp + 1,
  );
  const inserted = await tampered((d) =>
    d
      .prepare('INSERT INTO sth VALUES (?, ?, ?, ?)')
      .run(forged.treeSize, forged.timestamp, Buffer.from(forged.rootHash), Buffer.from(forged.signature)),
  );
  assert.equal(inserted.ok, false);
  assert.ok(
    inserted.problems.some((p) => p.code === 'STH_SIGNATURE_INVALID' && p.treeSize === N + 10),
    describe(inserted),
  );
  assert.deepEqual(inserted.failingEntries, [], 'an invalid head is not trusted, so it blames no entry');

  // Mallory edits entry 9's device name, recomputes its leaf hash, rebuilds every head with her key and puts it in meta.
  const resign = (d: Database.Database) => {
    const r9 = row(d, 9);
    const conv = rowToEntry(
      Object.fromEntries(
        Object.entries(r9).map(([k2, v]) => [k2, Buffer.isBuffer(v) ? new Uint8Array(v) : v]),
      ) as RawEntryRow,
    );
    const e = { ...conv.entry!, device: 'mallory' };
    const enc = encodeLeafWithDigests(e);
    d.prepare('UPDATE entries SET device = ?, leaf_hash = ?, field_digests = ? WHERE seq = 9').run(
      'mallory',
      Buffer.from(leafHash(enc.leaf)),
      Buffer.from(enc.fieldDigests),
    );
    const leaves = (d.prepare('SELECT leaf_hash FROM entries ORDER BY seq').all() as { leaf_hash: Buffer }[]).map(
      (x) => new Uint8Array(x.leaf_hash),
    );
    d.prepare('DELETE FROM sth').run();
    const f = new Frontier();
    const ins = d.prepare('INSERT INTO sth VALUES (?, ?, ?, ?)');
    for (const h of heads) {
      while (f.size < h.treeSize) f.append(leaves[f.size] as Uint8Array);
      const s = signTreeHead(mallory, mpub.logId, { treeSize: h.treeSize, rootHash: f.root() }, h.timestamp);
      ins.run(s.treeSize, s.timestamp, Buffer.from(s.rootHash), Buffer.from(s.signature));
    }
    d.prepare('UPDATE log_state SET frontier = ?').run(Buffer.from(f.encode()));
    d.prepare("UPDATE meta SET value = ? WHERE key = 'public_key'").run(Buffer.from(mpub.spki).toString('hex'));
    d.prepare("UPDATE meta SET value = ? WHERE key = 'log_id'").run(Buffer.from(mpub.logId).toString('hex'));
  };
  const unpinned = await tampered(resign, { pin: false });
  assert.equal(
    unpinned.publicKeySource,
    'log',
    'without a pinned key nothing can tell Mallory’s log from the real one',
  );
  const pinned = await tampered(resign);
  assert.equal(pinned.ok, false);
  assert.ok(
    pinned.problems.some((p) => p.code === 'KEY_MISMATCH'),
    describe(pinned),
  );
  assert.ok(
    pinned.problems.some((p) => p.code === 'STH_SIGNATURE_INVALID'),
    describe(pinned),
  );
  assert.equal(sthSignedBytes(mpub.logId, latest).length, 35 + 32 + 8 + 8 + 32);
});

test('an entry rewritten together with its leaf hash and field locator: the range under the first head that no longer matches is named', async () => {
  const target = 13;
  const r = await tampered((d) => {
    const r13 = row(d, target);
    const conv = rowToEntry(
      Object.fromEntries(
        Object.entries(r13).map(([k2, v]) => [k2, Buffer.isBuffer(v) ? new Uint8Array(v) : v]),
      ) as RawEntryRow,
    );
    const e = { ...conv.entry!, collectedAt: '1999-01-01T00:00:00.000Z' };
    const enc = encodeLeafWithDigests(e);
    d.prepare('UPDATE entries SET collected_at = ?, leaf_hash = ?, field_digests = ? WHERE seq = ?').run(
      e.collectedAt,
      Buffer.from(leafHash(enc.leaf)),
      Buffer.from(enc.fieldDigests),
      target,
    );
  });
  assert.equal(r.ok, false);
  const p = r.problems.find((x) => x.code === 'ENTRIES_REWRITTEN');
  assert.ok(p && p.entries, describe(r));
  assert.ok(p.entries[0] <= target && target <= p.entries[1], describe(r));
  assert.ok(p.entries[1] - p.entries[0] < 2, 'one head per append: the range is one evidence');
});

test('log_state altered: named, and appends are refused until it is repaired', async () => {
  const r = await tampered((d) => d.prepare('UPDATE log_state SET size = 3').run());
  assert.equal(r.ok, false);
  assert.ok(
    r.problems.some((p) => p.code === 'STATE_MISMATCH' && p.table === 'log_state'),
    describe(r),
  );
  const file = tmp.file(`case-${counter}.sqlite`);
  copyFileSync(`${base}.key`, `${file}.key`);
  const log = await openLog(file);
  try {
    await assert.rejects(
      log.appendEvidence(await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'late' })),
      /log_state/,
    );
  } finally {
    await log.close();
  }
});

test('meta altered: a log id that does not match the stored key is named', async () => {
  const r = await tampered((d) => d.prepare("UPDATE meta SET value = ? WHERE key = 'log_id'").run('00'.repeat(32)));
  assert.equal(r.ok, false);
  assert.ok(
    r.problems.some((p) => p.code === 'META_INVALID' && p.fields?.includes('log_id')),
    describe(r),
  );
});
