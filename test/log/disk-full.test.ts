/**
 * The signature log when the disk fills up (test/support/small-disk.ts: a real small tmpfs as root,
 * else RLIMIT_FSIZE): appends fail with a typed STORAGE_FULL — no crash, no damaged log —, every
 * acknowledged append stays, the log verifies while full, and once there is room again the log
 * verifies and takes appends. Also a log key that cannot be written, and PostgreSQL with its
 * tablespace on a full tmpfs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openLog } from '../../src/log/log.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { SpdmError } from '../../src/wire/errors.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { mountTmpfs, smallDisk, fillFileSystem, type SmallDisk } from '../support/small-disk.js';
import { makeEvidence, SUITES, tempDir } from './helpers.js';
import { checkAfterCrash, recordAcks, startCrashChild, type Ack, type CrashChild } from './crash.js';
import type { CrashMessage } from './crash-worker.js';

const tmp = tempDir('spdmkit-full-');
let server: PostgresServer | undefined;
let base: Evidence;
let evidenceFile = '';
const disks: SmallDisk[] = [];

before(async () => {
  base = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'full' });
  evidenceFile = tmp.file('evidence.json');
  writeFileSync(evidenceFile, JSON.stringify([base]));
});
after(async () => {
  await server?.stop();
  for (const d of disks) d.cleanup();
  tmp.cleanup();
});

function disk(bytes: number): SmallDisk {
  const d = smallDisk(bytes);
  disks.push(d);
  return d;
}

/** Runs a writer until it gives up (maxFailures failed appends in a row) and exits by itself. */
async function runUntilItGivesUp(child: CrashChild): Promise<void> {
  await child.until((ms) => ms.some((m) => m.t === 'loaded'), 30_000, 'the writer to load');
  child.go();
  const t = setTimeout(() => void child.kill(), 60_000);
  const exit = await child.exited;
  clearTimeout(t);
  assert.deepEqual(exit, { code: 0, signal: null }, `the writer was not crashed by a full disk: ${child.output}`);
}

function fails(child: CrashChild): Extract<CrashMessage, { t: 'fail' }>[] {
  return child.messages.filter((m): m is Extract<CrashMessage, { t: 'fail' }> => m.t === 'fail');
}

/** tmpfs says ENOSPC (SQLITE_FULL); under RLIMIT_FSIZE node:fs says EFBIG, but SQLite reports a failed write as SQLITE_IOERR_WRITE. */
function expectedCodes(d: SmallDisk): readonly string[] {
  return d.kind === 'tmpfs' ? ['STORAGE_FULL'] : ['STORAGE_FULL', 'STORAGE_ERROR'];
}

function assertTypedFailures(child: CrashChild, codes: readonly string[], label: string): void {
  const f = fails(child);
  assert.ok(f.length > 0, `${label}: the full disk made appends fail`);
  for (const m of f) {
    assert.ok(m.typed && codes.includes(m.code), `${label}: a typed ${codes.join(' or ')}, got ${JSON.stringify(m)}`);
    if (m.device !== '(open)')
      assert.ok(
        m.outcome === 'rolled-back' || m.outcome === 'unknown',
        `${label}: the outcome is named: ${JSON.stringify(m)}`,
      );
  }
}

test('SQLite: creating a log on a full disk fails with a typed error and leaves nothing that stops it being created once there is room', async (t) => {
  const d = disk(2 * 1024 * 1024);
  t.diagnostic(`small disk: ${d.kind}`);
  d.fill(0);
  const target = join(d.dir, 'new.sqlite');
  const keyFile = join(d.dir, 'new.key');
  const child = startCrashChild(
    { target, keyFile, evidenceFile, prefix: 'full', maxAppends: 3, maxFailures: 3, lifetimeMs: 20_000 },
    d.childLimit,
  );
  await runUntilItGivesUp(child);
  assert.equal(child.acks.length, 0);
  assertTypedFailures(child, expectedCodes(d), 'new log on a full disk');
  // No key file that holds no key (a later open would refuse it for ever).
  if (existsSync(keyFile)) assert.ok(statSync(keyFile).size > 0, 'no empty key file left behind');

  d.free();
  const acked = new Map<string, Ack>();
  const r = await checkAfterCrash(target, keyFile, acked, { ...base, device: 'after-free' }, 'with room again');
  assert.equal(r.size, 0);
  assert.ok(readFileSync(keyFile, 'utf8').includes('PRIVATE KEY'));
});

test('SQLite: appends on a filling disk fail with a typed error; acknowledged ones stay, the log verifies while full and takes appends once there is room', async (t) => {
  const d = disk(4 * 1024 * 1024);
  t.diagnostic(`small disk: ${d.kind}`);
  const target = join(d.dir, 'log.sqlite');
  const keyFile = join(d.dir, 'log.key');
  const acked = new Map<string, Ack>();
  for (let i = 0; i < 3; i++)
    await checkAfterCrash(target, keyFile, acked, { ...base, device: `before-${i}` }, 'before filling');
  d.fill(256 * 1024);
  const child = startCrashChild(
    { target, keyFile, evidenceFile, prefix: 'fill', maxAppends: 5000, maxFailures: 3, lifetimeMs: 30_000 },
    d.childLimit,
  );
  await runUntilItGivesUp(child);
  recordAcks(acked, child);
  assertTypedFailures(child, expectedCodes(d), 'appends on a full disk');
  t.diagnostic(
    `${child.acks.length} appends acknowledged before the disk was full, then ${fails(child).length} typed failures`,
  );

  // Still full: everything acknowledged is there and the log verifies.
  await checkAfterCrash(target, keyFile, acked, undefined, 'while full');
  if (d.kind === 'tmpfs') {
    // This process writes to the same full disk: a typed error, then the same log object appends once there is room.
    const log = await openLog(target, { keyFile });
    try {
      const sizeBefore = await log.size();
      const err = await log.appendEvidence({ ...base, device: 'in-process-full' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(
        err instanceof SpdmError && err.code === 'STORAGE_FULL',
        `a typed STORAGE_FULL in this process: ${String(err)}`,
      );
      assert.equal(err.details['outcome'], 'rolled-back');
      assert.equal(await log.size(), sizeBefore);
      d.free();
      const r = await log.appendEvidence({ ...base, device: 'in-process-room' });
      assert.equal(r.first, sizeBefore);
      acked.set('in-process-room', { device: 'in-process-room', ...r });
    } finally {
      await log.close();
    }
  }
  d.free();
  await checkAfterCrash(target, keyFile, acked, { ...base, device: 'after-free' }, 'with room again');
  const again = startCrashChild({
    target,
    keyFile,
    evidenceFile,
    prefix: 'again',
    maxAppends: 5,
    maxFailures: 1,
    lifetimeMs: 20_000,
  });
  await runUntilItGivesUp(again);
  assert.equal(fails(again).length, 0, JSON.stringify(fails(again)));
  assert.equal(again.messages.filter((m) => m.t === 'ack').length, 1 + 2 + 3 + 1 + 2);
  recordAcks(acked, again);
  await checkAfterCrash(target, keyFile, acked, undefined, 'after more appends');
});

test('a log key that cannot be written (its disk is full): a typed STORAGE_FULL, and once there is room the log is created', async (t) => {
  server ??= await startPostgres();
  const url = await server.createDatabase('spdmkit_full_key');
  const d = disk(1024 * 1024);
  t.diagnostic(`small disk: ${d.kind}`);
  d.fill(0);
  // The database is the server's: the only file this writer creates is its key.
  const keyFile = join(d.dir, 'pg.key');
  const child = startCrashChild(
    { target: url, keyFile, evidenceFile, prefix: 'key', maxAppends: 1, maxFailures: 1, lifetimeMs: 20_000 },
    d.childLimit,
  );
  await runUntilItGivesUp(child);
  const f = fails(child);
  assert.equal(f.length, 1);
  assert.ok(
    f[0]?.typed && f[0].code === 'STORAGE_FULL' && f[0].device === '(open)',
    `opening fails with a typed STORAGE_FULL: ${JSON.stringify(f)}`,
  );
  assert.ok(!existsSync(keyFile), 'no key file left that holds no key');
  d.free();
  const acked = new Map<string, Ack>();
  await checkAfterCrash(url, keyFile, acked, { ...base, device: 'after-free' }, 'with room again');
  assert.ok(readFileSync(keyFile, 'utf8').includes('PRIVATE KEY'));
});

function postgresOsUser(): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

test('PostgreSQL: a log whose tablespace fills up fails appends with STORAGE_FULL (53100), keeps every acknowledged one, and appends again once there is room', async (t) => {
  server ??= await startPostgres();
  const owner = postgresOsUser();
  const mount = process.env['SPDMKIT_PG_URL'] ? undefined : owner ? mountTmpfs(24 * 1024 * 1024, owner) : undefined;
  if (!mount) {
    t.skip('needs the throwaway server and, as root, mount -t tmpfs for its tablespace (not available here)');
    return;
  }
  disks.push({
    kind: 'tmpfs',
    dir: mount.dir,
    fill: () => undefined,
    free: () => undefined,
    childLimit: {},
    cleanup: mount.unmount,
  });
  const space = join(mount.dir, 'ts');
  execFileSync('install', ['-d', '-o', String(owner!.uid), '-g', String(owner!.gid), '-m', '0700', space]);
  const name = `spdmkit_full_${process.pid}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE TABLESPACE ${name} LOCATION '${space}'`);
    await admin.query(`CREATE DATABASE ${name} TABLESPACE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(server.url);
  u.pathname = `/${name}`;
  const url = u.toString();
  const keyFile = tmp.file('pgfull.key');
  const acked = new Map<string, Ack>();
  const log = await openLog(url, { keyFile });
  const filler = join(mount.dir, 'filler');
  try {
    for (let i = 0; i < 3; i++) {
      const r = await log.appendEvidence({ ...base, device: `before-${i}` });
      acked.set(`before-${i}`, { device: `before-${i}`, ...r });
    }
    fillFileSystem(mount.dir, filler, 64 * 1024);
    let err: unknown;
    let appended = 0;
    for (let i = 0; i < 2000 && err === undefined; i++) {
      try {
        const r = await log.appendEvidence({ ...base, device: `fill-${i}` });
        acked.set(`fill-${i}`, { device: `fill-${i}`, ...r });
        appended++;
      } catch (e) {
        err = e;
      }
    }
    assert.ok(err instanceof SpdmError && err.code === 'STORAGE_FULL', `a typed STORAGE_FULL: ${String(err)}`);
    assert.equal(err.details['cause'], '53100');
    assert.equal(err.details['outcome'], 'rolled-back');
    t.diagnostic(`${appended} appends acknowledged before the tablespace was full`);
    // Still full: the same connection reads, everything acknowledged is there and the log verifies.
    await checkAfterCrash(url, keyFile, acked, undefined, 'while full');
    await assert.rejects(
      log.appendEvidence({ ...base, device: 'still-full' }),
      (e: unknown) => e instanceof SpdmError && e.code === 'STORAGE_FULL',
    );
    rmSync(filler, { force: true });
    const r = await log.appendEvidence({ ...base, device: 'room' });
    acked.set('room', { device: 'room', ...r });
  } finally {
    await log.close();
  }
  await checkAfterCrash(url, keyFile, acked, { ...base, device: 'after-free' }, 'with room again');
  const admin2 = new pg.Client({ connectionString: server.url });
  await admin2.connect();
  try {
    await admin2.query(`DROP DATABASE ${name}`);
    await admin2.query(`DROP TABLESPACE ${name}`);
  } finally {
    await admin2.end();
  }
});
