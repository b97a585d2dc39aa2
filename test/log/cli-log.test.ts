/** `spdm log verify|export|import|show|info` as a user runs them: exit codes, named failures, progress. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import Database from 'better-sqlite3';
import {
  registerLogCommands,
  runLogExport,
  runLogImport,
  runLogInfo,
  runLogShow,
  runLogVerify,
} from '../../src/cli/log.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { appendEvidenceToLog, DEFAULT_LOG_TARGET, openLog } from '../../src/log/log.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { evidenceMatrix, logCliIo, tempDir, vary } from './helpers.js';

const tmp = tempDir('spdmkit-cli-log-');
after(() => tmp.cleanup());

let evs: Evidence[] = [];
let db = '';
before(async () => {
  evs = await evidenceMatrix('cli');
  db = tmp.file('cli.sqlite');
  const log = await openLog(db);
  try {
    await log.appendEvidences(evs);
  } finally {
    await log.close();
  }
});

test('log verify: OK and exit 0 on an intact log; the report names the key source and the tree', async () => {
  const c = logCliIo();
  assert.equal(await runLogVerify({ db }, c), EXIT.OK);
  assert.match(c.out.text, /tree size 28, root [0-9a-f]{64}/);
  assert.match(c.out.text, /28 device signatures re-verified \(28 valid\)/);
  assert.match(c.out.text, /log key: taken from the log itself/);
  assert.match(c.out.text, /\nOK\n$/);
  const pinned = logCliIo();
  assert.equal(await runLogVerify({ db, pubkey: `${db}.pub`, json: true }, pinned), EXIT.OK);
  const report = JSON.parse(pinned.out.text) as { ok: boolean; publicKeySource: string };
  assert.deepEqual([report.ok, report.publicKeySource], [true, 'pinned']);
});

test('log verify: exit 1 and the failing entries named, on stdout and stderr', async () => {
  const copy = tmp.file('tampered.sqlite');
  const src = new Database(db, { readonly: true });
  await src.backup(copy);
  src.close();
  const d = new Database(copy);
  d.prepare("UPDATE entries SET device = 'forged' WHERE seq IN (5, 6)").run();
  d.prepare('DELETE FROM entries WHERE seq = 20').run();
  d.close();
  const c = logCliIo();
  assert.equal(await runLogVerify({ db: copy, pubkey: `${db}.pub` }, c), EXIT.FAILED);
  assert.match(c.out.text, /ENTRY_ALTERED\s+entry 5 \[device\]/);
  assert.match(c.out.text, /ENTRY_ALTERED\s+entry 6 \[device\]/);
  assert.match(c.out.text, /ENTRY_MISSING\s+entries 20\.\.20/);
  assert.match(c.out.text, /FAILED: 3 errors; failing entries: 5\.\.6, 20/);
  assert.match(c.err.text, /failing entries 5\.\.6, 20/);
});

test('log verify: progress on stderr — periodic lines when not a terminal, a redrawn bar on one', async () => {
  const file = tmp.file('progress.sqlite');
  const log = await openLog(file);
  try {
    const batch = Array.from({ length: 600 }, (_, k) => vary(evs[k % evs.length] as Evidence, k));
    await log.appendEvidences(batch);
  } finally {
    await log.close();
  }
  const lines = logCliIo({ intervalMs: 0 });
  assert.equal(await runLogVerify({ db: file, workers: 0 }, lines), EXIT.OK);
  assert.match(lines.err.text, /verifying: entries \d+\/1200 entries/);
  assert.ok(lines.err.text.split('\n').length > 2);
  assert.ok(!lines.err.text.includes('\r'));
  const bar = logCliIo({ tty: true, intervalMs: 0 });
  assert.equal(await runLogVerify({ db: file }, bar), EXIT.OK);
  assert.match(bar.err.text, /\rverifying \[#+ *\] +\d+% \d+\/1200 entries/);
  assert.ok(bar.err.text.endsWith('\n'));
});

test('log verify --checkpoint: saved on success, and a log later cut back to an older signed state fails against it', async () => {
  const file = tmp.file('cp.sqlite');
  const cp = tmp.file('cp.json');
  for (const ev of evs.slice(0, 6)) await appendEvidenceToLog(file, ev);
  assert.equal(await runLogVerify({ db: file, checkpoint: cp }, logCliIo()), EXIT.OK);
  assert.ok(existsSync(cp));
  assert.equal((JSON.parse(readFileSync(cp, 'utf8')) as { treeSize: number }).treeSize, 12);
  // Cut back to size 8 consistently: entries, heads and state — invisible without the checkpoint.
  const d = new Database(file);
  d.prepare('DELETE FROM entries WHERE seq >= 8').run();
  d.prepare('DELETE FROM sth WHERE tree_size > 8').run();
  const { Frontier } = await import('../../src/log/merkle.js');
  const f = new Frontier();
  for (const r of d.prepare('SELECT leaf_hash FROM entries ORDER BY seq').all() as { leaf_hash: Buffer }[])
    f.append(new Uint8Array(r.leaf_hash));
  d.prepare('UPDATE log_state SET size = 8, frontier = ?').run(Buffer.from(f.encode()));
  d.close();
  assert.equal(await runLogVerify({ db: file }, logCliIo()), EXIT.OK);
  const c = logCliIo();
  assert.equal(await runLogVerify({ db: file, checkpoint: cp }, c), EXIT.FAILED);
  assert.match(c.out.text, /TRUNCATED\s+entries 8\.\.11/);
});

test('log export, import, show and info', async () => {
  const out = tmp.file('export.jsonl');
  const e = logCliIo();
  assert.equal(await runLogExport({ db, out }, e), EXIT.OK);
  assert.match(e.err.text, /exported 28 entries and 4 certificate chains/);
  const copy = tmp.file('imported.sqlite');
  const i = logCliIo();
  assert.equal(await runLogImport(out, { db: copy, pubkey: `${db}.pub` }, i), EXIT.OK);
  assert.match(i.out.text, /imported 28 entries/);
  const rootOf = (t: string) => /root ([0-9a-f]{64})/.exec(t)?.[1];
  const info1 = logCliIo();
  const info2 = logCliIo();
  assert.equal(await runLogInfo({ db }, info1), EXIT.OK);
  assert.equal(await runLogInfo({ db: copy }, info2), EXIT.OK);
  assert.equal(rootOf(info1.out.text), rootOf(info2.out.text));
  assert.match(info1.out.text, /BEGIN PUBLIC KEY/);

  const s = logCliIo();
  assert.equal(await runLogShow({ db, from: 2, count: 2 }, s), EXIT.OK);
  assert.match(s.out.text, /#2 {2}\S+ {2}cli1 {2}CHALLENGE_AUTH {2}SPDM 1\.1 {2}ECDSA-P256\/SHA-256 {2}slot 0/);
  assert.match(s.out.text, /#3 .* MEASUREMENTS .*\n.*\n.*\n {4}6 measurement blocks signed/);
  const j = logCliIo();
  assert.equal(await runLogShow({ db, from: 0, count: 1, json: true }, j), EXIT.OK);
  assert.equal((JSON.parse(j.out.text) as { entries: unknown[] }).entries.length, 1);

  const bad = logCliIo();
  assert.equal(await runLogImport(tmp.file('nope.jsonl'), { db: copy }, bad), EXIT.USAGE);
  assert.match(bad.err.text, /no such file/);
  const missing = logCliIo();
  assert.equal(await runLogVerify({ db: tmp.file('absent.sqlite') }, missing), EXIT.USAGE);
  assert.match(missing.err.text, /no signature log/);
});

test('registered under a commander program: `log verify --db` sets the exit status; without --db the log is ./spdmkit-log.sqlite', async () => {
  const codes: number[] = [];
  const c = logCliIo();
  const program = new Command().exitOverride();
  registerLogCommands(program, { setExitCode: (x) => codes.push(x), io: c });
  await program.parseAsync(['log', 'verify', '--db', db], { from: 'user' });
  assert.deepEqual(codes, [0]);

  const cwd = process.cwd();
  process.chdir(tmp.dir);
  try {
    assert.equal(DEFAULT_LOG_TARGET, './spdmkit-log.sqlite');
    await appendEvidenceToLog(DEFAULT_LOG_TARGET, evs[0] as Evidence);
    assert.ok(existsSync(tmp.file('spdmkit-log.sqlite')) && existsSync(tmp.file('spdmkit-log.sqlite.key')));
    await program.parseAsync(['log', 'show'], { from: 'user' });
    await program.parseAsync(['log', 'verify'], { from: 'user' });
  } finally {
    process.chdir(cwd);
  }
  assert.deepEqual(codes, [0, 0, 0]);
  assert.match(c.out.text, /signature log \.\/spdmkit-log\.sqlite: 2 entries/);
});
