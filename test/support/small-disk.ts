/**
 * A place that runs out of space, for disk-full tests. As root where `mount -t tmpfs` is allowed
 * it is a real small tmpfs, filled with a filler file and freed by deleting it; elsewhere (no
 * root, or a container without CAP_SYS_ADMIN) the same tests run their writer under
 * RLIMIT_FSIZE (`ulimit -f`), where writes past the limit fail with EFBIG — the kernel's other
 * way of saying "no room". SPDMKIT_SMALL_DISK=rlimit forces the second.
 */
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  readonly kind: 'tmpfs' | 'rlimit';
  /** Where the files under test go. */
  readonly dir: string;
  /** Makes the disk full but for about `leaveBytes` (tmpfs), or caps writers' file size at what the files in `dir` hold now plus `leaveBytes` (rlimit). */
  fill(leaveBytes: number): void;
  /** Room again. */
  free(): void;
  /** Options for startCrashChild: the rlimit, while full. */
  readonly childLimit: { fileSizeBlocks?: number };
  cleanup(): void;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Mounts a tmpfs of `bytes` at a new directory, or returns undefined when that is not allowed here. */
export function mountTmpfs(
  bytes: number,
  owner?: { uid: number; gid: number },
): { dir: string; unmount: () => void } | undefined {
  if (!isRoot() || process.env['SPDMKIT_SMALL_DISK'] === 'rlimit') return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-small-'));
  const opts = [`size=${bytes}`, 'mode=0755', ...(owner ? [`uid=${owner.uid}`, `gid=${owner.gid}`] : [])].join(',');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'spdmkit-small', dir], { stdio: 'pipe' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    mounted = false;
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', unmount);
  return { dir, unmount };
}

/** Writes zeros to `file` until the file system has about `leaveBytes` left (or none). */
export function fillFileSystem(dir: string, file: string, leaveBytes: number): void {
  const fd = openSync(file, 'a');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const s = statfsSync(dir);
      const avail = s.bavail * s.bsize - leaveBytes;
      if (avail <= 0) break;
      try {
        writeSync(fd, chunk, 0, Math.min(chunk.length, avail));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
}

export function smallDisk(bytes: number, owner?: { uid: number; gid: number }): SmallDisk {
  const mount = mountTmpfs(bytes, owner);
  if (mount) {
    const filler = join(mount.dir, 'filler');
    const dir = join(mount.dir, 'data');
    mkdirSync(dir);
    if (owner) chownSync(dir, owner.uid, owner.gid);
    return {
      kind: 'tmpfs',
      dir,
      fill: (leave) => fillFileSystem(mount.dir, filler, leave),
      free: () => rmSync(filler, { force: true }),
      childLimit: {},
      cleanup: mount.unmount,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-rlimit-'));
  let limit: number | undefined;
  return {
    kind: 'rlimit',
    dir,
    fill: (leave) => {
      const largest = Math.max(0, ...readdirSync(dir).map((f) => statSync(join(dir, f)).size));
      limit = Math.ceil((largest + leave) / 512);
    },
    free: () => {
      limit = undefined;
    },
    get childLimit() {
      return limit === undefined ? {} : { fileSizeBlocks: limit };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
