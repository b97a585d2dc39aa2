/**
 * A SQLite log verified by someone who may only read it: a read-only directory (a copy on read-only
 * media), a file another process is appending to, a file in rollback-journal mode. A read-only open
 * never writes the log, reads it as an immutable file only where that is safe, and otherwise says
 * why it cannot.
 *
 * Permissions only bind an unprivileged process, so the CLI runs as `nobody` (runuser) when the tests
 * run as root, and as the test's own user otherwise; as root without runuser those tests are skipped.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { EXIT } from '../../src/cli/exit-codes.js';
import { openLog } from '../../src/log/log.js';
import { FileStamp } from '../../src/log/store/sqlite-readonly.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { makeEvidence, pciFor, SUITES, tempDir, vary } from './helpers.js';
import { repoRoot } from '../support/paths.js';

const tmp = tempDir('spdmkit-log-ro-');
const isRoot = process.getuid?.() === 0;

function hasRunuser(): boolean {
  try {
    execFileSync('runuser', ['--help'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

const skipReader: string | false =
  process.platform === 'win32'
    ? 'POSIX permissions only'
    : isRoot && !hasRunuser()
      ? 'running as root without runuser: no unprivileged user to read the log as'
      : false;
if (skipReader) console.log(`# read-only directory tests skipped: ${skipReader}`);

/** Directories made read-only by a test, given back their write bit so that cleanup can remove them. */
const locked: string[] = [];
after(() => {
  for (const d of locked) chmodSync(d, 0o755);
  tmp.cleanup();
});

let evs: Evidence[] = [];
before(async () => {
  // The temp dir is 0700: `nobody` must be able to reach the directories inside it.
  chmodSync(tmp.dir, 0o755);
  const e = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'ro', pci: pciFor(0) });
  evs = Array.from({ length: 20 }, (_, k) => vary(e, k));
});

async function makeLog(file: string, count = evs.length): Promise<void> {
  const log = await openLog(file, { keyFile: `${file}.key` });
  try {
    await log.appendEvidences(evs.slice(0, count));
  } finally {
    await log.close();
  }
}

/** `spdm log verify` as a process that cannot write what root made read-only. */
async function verifyAsReader(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = join(repoRoot(), 'bin', 'spdm.js');
  const argv = [bin, 'log', 'verify', ...args];
  const [cmd, cmdArgs] = isRoot
    ? ['runuser', ['-u', 'nobody', '--', process.execPath, ...argv]]
    : [process.execPath, argv];
  return promisify(execFile)(cmd, cmdArgs, { timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

function lockDir(dir: string): void {
  chmodSync(dir, 0o555);
  locked.push(dir);
}

function fingerprint(dir: string): string {
  const h = createHash('sha256');
  for (const n of readdirSync(dir).sort()) h.update(`${n}\0`).update(readFileSync(join(dir, n)));
  return h.digest('hex');
}

test(
  'read-only directory, read-only file: verify reads it, with and without workers, and writes nothing',
  {
    skip: skipReader,
  },
  async () => {
    const dir = tmp.file('media');
    mkdirSync(dir);
    const db = join(dir, 'log.sqlite');
    await makeLog(db);
    chmodSync(db, 0o444);
    lockDir(dir);
    const before = fingerprint(dir);
    for (const workers of ['0', '2']) {
      const r = await verifyAsReader(['--db', db, '--workers', workers]);
      assert.equal(r.code, EXIT.OK, `--workers ${workers}: ${r.stderr}`);
      assert.match(r.stdout, /tree size 40, root [0-9a-f]{64}/);
      assert.match(r.stdout, /40 device signatures re-verified \(40 valid\)/);
      assert.match(r.stdout, /\nOK\n$/);
    }
    // No -shm, no -wal, not a byte of the file changed.
    assert.equal(fingerprint(dir), before);
    assert.deepEqual(readdirSync(dir).sort(), ['log.sqlite', 'log.sqlite.key', 'log.sqlite.pub']);
  },
);

test(
  'read-only directory, writable file: refused with STORAGE_ERROR naming the file, the mode and what to do',
  {
    skip: skipReader,
  },
  async () => {
    const dir = tmp.file('writable-file');
    mkdirSync(dir);
    const db = join(dir, 'log.sqlite');
    await makeLog(db);
    chmodSync(db, 0o644);
    lockDir(dir);
    const r = await verifyAsReader(['--db', db]);
    assert.equal(r.code, EXIT.USAGE, r.stdout);
    assert.match(r.stderr, new RegExp(`STORAGE_ERROR: ${db}: open failed, storage failure \\(SQLITE_`));
    assert.match(r.stderr, /writable \(mode 0644\), so reading it without locks \(immutable\) is not safe/);
    assert.match(r.stderr, /chmod a-w/);
    assert.deepEqual(readdirSync(dir).sort(), ['log.sqlite', 'log.sqlite.key', 'log.sqlite.pub']);
  },
);

test(
  'read-only directory, commits in a -wal beside the file: refused, naming the -wal (immutable would miss them)',
  {
    skip: skipReader,
  },
  async () => {
    const src = tmp.file('live.sqlite');
    const dir = tmp.file('with-wal');
    mkdirSync(dir);
    const db = join(dir, 'log.sqlite');
    // A copy taken while a writer has the log open: the entries are still in the -wal only.
    const log = await openLog(src, { keyFile: `${src}.key` });
    try {
      await log.appendEvidences(evs);
      copyFileSync(src, db);
      copyFileSync(`${src}-wal`, `${db}-wal`);
    } finally {
      await log.close();
    }
    chmodSync(db, 0o444);
    chmodSync(`${db}-wal`, 0o444);
    lockDir(dir);
    const r = await verifyAsReader(['--db', db]);
    assert.equal(r.code, EXIT.USAGE, r.stdout);
    assert.match(r.stderr, new RegExp(`STORAGE_ERROR: ${db}: open failed`));
    assert.match(
      r.stderr,
      new RegExp(`${db}-wal holds commits that reading the file alone \\(immutable\\) would miss`),
    );
  },
);

test('writable directory: a read-only log follows another connection appending, and verifies what it reads', async () => {
  const db = tmp.file('shared.sqlite');
  await makeLog(db, 10);
  const writer = await openLog(db, { keyFile: `${db}.key` });
  const reader = await openLog(db, { readOnly: true });
  try {
    assert.equal(await reader.size(), 20);
    await writer.appendEvidences(evs.slice(10));
    assert.equal(await reader.size(), 40);
    const report = await reader.verify({ workers: 2 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.treeSize, 40);
  } finally {
    await reader.close();
    await writer.close();
  }
});

test('read-only open of a rollback-journal copy: verify leaves it in that mode (no switch to WAL)', async () => {
  const db = tmp.file('delete-mode.sqlite');
  await makeLog(db);
  const d = new Database(db);
  d.pragma('journal_mode = DELETE');
  d.close();
  const bytes = readFileSync(db);
  assert.deepEqual([bytes[18], bytes[19]], [1, 1]);
  const log = await openLog(db, { readOnly: true });
  try {
    const report = await log.verify({ workers: 2 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  } finally {
    await log.close();
  }
  // Header bytes 18/19 are 2 once a file is in WAL mode; the file is unchanged altogether.
  assert.ok(readFileSync(db).equals(bytes));
  assert.deepEqual(
    readdirSync(tmp.dir).filter((n) => n.startsWith('delete-mode.sqlite')),
    ['delete-mode.sqlite', 'delete-mode.sqlite.key', 'delete-mode.sqlite.pub'],
  );
});

test(
  'read-only directory: a read as immutable fails with STORAGE_ERROR once the file was changed under it',
  {
    skip: skipReader,
  },
  async () => {
    const dir = tmp.file('changed');
    mkdirSync(dir);
    const db = join(dir, 'log.sqlite');
    await makeLog(db);
    chmodSync(db, 0o444);
    const script = join(dir, 'reader.mjs');
    // Opens the log, reads it, waits for a line on stdin, reads again: prints each outcome.
    writeFileSync(
      script,
      `import { openLog } from ${JSON.stringify(pathToFileURL(join(repoRoot(), 'dist', 'src', 'log', 'log.js')).href)};
const log = await openLog(process.argv[2], { readOnly: true });
const size = () => log.size().then((n) => ({ size: n }), (e) => ({ code: e.code, message: e.message }));
console.log(JSON.stringify(await size()));
process.stdin.once('data', async () => { console.log(JSON.stringify(await size())); await log.close(); process.exit(0); });
`,
    );
    lockDir(dir);
    const child = isRoot
      ? spawn('runuser', ['-u', 'nobody', '--', process.execPath, script, db], { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(process.execPath, [script, db], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const deadline = setTimeout(() => child.kill(), 60_000);
    try {
      const first = await lines.next();
      assert.deepEqual(JSON.parse(String(first.value)), { size: 40 });
      // What a writer's checkpoint would do to the file, as far as its stamp is concerned.
      const later = new Date(Date.now() + 5000);
      utimesSync(db, later, later);
      child.stdin.write('\n');
      const second = JSON.parse(String((await lines.next()).value)) as { code?: string; message?: string };
      assert.equal(second.code, 'STORAGE_ERROR');
      assert.match(
        second.message ?? '',
        new RegExp(`^${db}: read failed, the log was read without locks as an immutable file and it was modified`),
      );
    } finally {
      clearTimeout(deadline);
      child.kill();
    }
  },
);

test('FileStamp: the immutable read guard notices a write to the file and a -wal or -shm that appears', () => {
  const f = tmp.file('stamped.bin');
  writeFileSync(f, 'abc');
  const fresh = new FileStamp(f);
  assert.equal(fresh.changed(), undefined);
  appendFileSync(f, 'd');
  assert.equal(fresh.changed(), 'it was modified');
  const again = new FileStamp(f);
  writeFileSync(`${f}-shm`, '');
  assert.match(again.changed() ?? '', /stamped\.bin-shm appeared: a writer opened the log/);
});
