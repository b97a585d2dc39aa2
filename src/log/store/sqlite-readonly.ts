/**
 * When a read-only SQLite log may be read as an immutable file, and the check that it stayed one.
 *
 * The log is a WAL database. Even a read-only connection reads it through the wal-index, the -shm
 * file beside it, which it opens or creates; a reader that cannot create files in the log's
 * directory (a log on read-only media or a read-only mount, a copy in a directory the user may not
 * write) gets SQLITE_READONLY_DIRECTORY or SQLITE_CANTOPEN before it reads a page. SQLite can then
 * still read the main file with `immutable=1`: no locks, no -shm, and no -wal either, which is
 * correct only if nobody writes the file while it is read and no commit lives in a -wal. So the
 * fallback is taken only when all of these hold:
 *
 *   - the file is readable and its directory is not writable by this process: otherwise the open
 *     failed for another reason, which is reported as it is;
 *   - there is no -shm beside it (no WAL connection has the log open now; a writer that opens it
 *     later has to create one) and no -wal with anything in it (immutable mode would not read those
 *     commits and report an older log, or a torn one after an interrupted checkpoint);
 *   - the file is read-only for everyone: on a read-only file system, or without any write
 *     permission bit, so that no writer but root, or its owner after a chmod, can open it.
 *
 * What root could still do is caught after the fact: every read on an immutable connection checks
 * that the file is the one opened (device, inode, size, mtime, ctime) and that no -wal or -shm has
 * appeared, and fails instead of returning what a writer may have torn.
 */
import { accessSync, constants, statSync, type BigIntStats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export type ImmutableCheck =
  /** The open failed for a reason the fallback does not address: report it, with `hint` if any. */
  | { readonly kind: 'unrelated'; readonly hint?: string }
  /** The -shm is what is missing, but reading without it would not be safe: why, and what to do. */
  | { readonly kind: 'refused'; readonly hint: string }
  | { readonly kind: 'allowed' };

function accessError(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (e) {
    return errnoCode(e);
  }
}

function errnoCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EACCES';
}

function statOrUndefined(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

export function checkImmutable(path: string): ImmutableCheck {
  const dir = dirname(resolve(path));
  const unreadable = accessError(path, constants.R_OK);
  if (unreadable !== undefined) return { kind: 'unrelated', hint: `this user may not read it (${unreadable})` };
  if (accessError(dir, constants.W_OK) === undefined) return { kind: 'unrelated' };
  const shm = `the -shm file a WAL log is read through cannot be created in ${dir}`;
  const copy = `copy the log (with its -wal file, if any) to a directory you may write, or verify it as a user who may write in ${dir}`;
  if (statOrUndefined(`${path}-shm`))
    return {
      kind: 'refused',
      hint: `${shm}, and ${path}-shm exists but cannot be used (another process may have the log open): ${copy}`,
    };
  const wal = statOrUndefined(`${path}-wal`);
  if (wal && wal.size > 0n)
    return {
      kind: 'refused',
      hint: `${shm}, and ${path}-wal holds commits that reading the file alone (immutable) would miss: ${copy}`,
    };
  if (accessError(path, constants.W_OK) === 'EROFS') return { kind: 'allowed' };
  const mode = Number((statOrUndefined(path)?.mode ?? 0n) & 0o777n);
  if ((mode & 0o222) !== 0)
    return {
      kind: 'refused',
      hint: `${shm}, and it is writable (mode ${mode.toString(8).padStart(4, '0')}), so reading it without locks (immutable) is not safe: make it read-only (chmod a-w), or ${copy}`,
    };
  return { kind: 'allowed' };
}

/** SQLite URI for reading `path` as immutable (the path percent-encoded, as SQLite decodes it). */
export function immutableUri(path: string): string {
  return `${pathToFileURL(resolve(path)).href}?immutable=1`;
}

function stamp(path: string): string {
  const s = statSync(path, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** The file an immutable connection reads, as it was when opened. */
export class FileStamp {
  private readonly opened: string;

  constructor(private readonly path: string) {
    this.opened = stamp(path);
  }

  /** Why the file is no longer the one opened, or undefined while it is. */
  changed(): string | undefined {
    for (const side of ['-wal', '-shm'])
      if (statOrUndefined(`${this.path}${side}`)) return `${this.path}${side} appeared: a writer opened the log`;
    let now: string;
    try {
      now = stamp(this.path);
    } catch (e) {
      return `it can no longer be examined (${errnoCode(e)})`;
    }
    return now === this.opened ? undefined : 'it was modified';
  }
}
