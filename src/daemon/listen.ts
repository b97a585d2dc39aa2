/**
 * Binding the API: a Unix socket (always) and TCP (when configured). The socket file gets the
 * configured mode and group before anyone else can connect: it is bound under a umask that leaves
 * only the owner, then chmod/chown'ed. A socket file left by a daemon that died is removed, but
 * only after checking that nothing answers on it — and a path that is not a socket is never
 * removed (a typo in the configuration must not delete a file).
 */
import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { SpdmError } from '../wire/errors.js';
import type { Api } from './server.js';

/** Whether something accepts connections on the socket at `path`. */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    const done = (answered: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(true), timeoutMs); // a listener too busy to accept still owns it
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Removes a stale socket at `path`; throws TRANSPORT_ERROR when it is live or not a socket. */
export async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket())
    throw new SpdmError('TRANSPORT_ERROR', `${path} exists and is not a socket: refusing to replace it`, { path });
  if (await socketAnswers(path))
    throw new SpdmError('TRANSPORT_ERROR', `${path}: another daemon is listening there`, { path, reason: 'in use' });
  await unlink(path);
}

/** A group name from /etc/group (Node has no getgrnam), or a number as is. */
export async function resolveGroup(group: string | number, groupFile = '/etc/group'): Promise<number> {
  if (typeof group === 'number') return group;
  let text = '';
  try {
    text = await readFile(groupFile, 'utf8');
  } catch {
    // No group file: the name cannot be resolved, reported below.
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new SpdmError('DECODE_ERROR', `socket.group: no group named "${group}" in ${groupFile}`, {
    field: 'socket.group',
  });
}

export interface UnixListenOptions {
  readonly path: string;
  readonly mode: number;
  readonly group?: string | number;
}

/** Binds `app` to the Unix socket (creating its directory), then sets the mode and group. */
export async function listenUnix(app: Api, o: UnixListenOptions): Promise<void> {
  const gid = o.group !== undefined ? await resolveGroup(o.group) : undefined;
  await mkdir(dirname(o.path), { recursive: true, mode: 0o755 });
  await clearStaleSocket(o.path);
  // bind() creates the file with the process umask: keep it owner-only until chmod below.
  const old = process.umask(0o177);
  try {
    await app.listen({ path: o.path });
  } finally {
    process.umask(old);
  }
  if (gid !== undefined) await chown(o.path, -1, gid);
  await chmod(o.path, o.mode);
}

/** Binds `app` to TCP; returns the port (useful with port 0). */
export async function listenTcp(app: Api, host: string, port: number): Promise<number> {
  await app.listen({ host, port });
  const a = app.server.address();
  return typeof a === 'object' && a !== null ? a.port : port;
}
