/**
 * The log's Ed25519 key: it signs every tree head. The private key is a PKCS#8 PEM file that only
 * writers read (mode 0600); the public key is stored in the log's meta table and beside the key
 * as SPKI PEM, and a verifier should pin it (docs/log-format.md "The log key").
 *
 * The one module of the log that uses node:crypto directly: Ed25519 over arbitrary bytes, key
 * generation and PEM/DER import have no counterpart in crypto/ (whose signatures are SPDM's).
 */
import { LIMITS } from '../wire/limits.js';
import { readFileBounded } from '../wire/bounded-file.js';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { SpdmError } from '../wire/errors.js';
import { sha256 } from './merkle.js';
import { isStorageFull } from './store/errors.js';

export interface LogPublicKey {
  readonly key: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** SHA-256 of the SPKI: what a verifier pins and what every tree head signature covers. */
  readonly logId: Uint8Array;
}

function requireEd25519(k: KeyObject, what: string): KeyObject {
  if (k.asymmetricKeyType !== 'ed25519')
    throw new SpdmError(
      'UNSUPPORTED_ALGORITHM',
      `${what}: the log key must be Ed25519, got ${k.asymmetricKeyType ?? 'unknown'}`,
    );
  return k;
}

export function describePublicKey(key: KeyObject): LogPublicKey {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  requireEd25519(pub, 'public key');
  const spki = new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
  return { key: pub, spki, logId: sha256(spki) };
}

export function publicKeyFromSpki(spki: Uint8Array): LogPublicKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw new SpdmError('DECODE_ERROR', `log public key is not a DER SubjectPublicKeyInfo: ${String(e)}`);
  }
  return describePublicKey(key);
}

/** A public key from PEM text (SPKI or a private key, whose public half is taken). */
export function publicKeyFromPem(pem: string | Uint8Array, what = 'public key'): LogPublicKey {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  try {
    return describePublicKey(
      text.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(text)) : createPublicKey(text),
    );
  } catch (e) {
    if (e instanceof SpdmError) throw e;
    throw new SpdmError('DECODE_ERROR', `${what}: not a PEM Ed25519 key: ${String(e)}`);
  }
}

export function loadPublicKeyFile(path: string): LogPublicKey {
  return publicKeyFromPem(readFileBounded(path, LIMITS.keyFileBytes, 'keyFileBytes'), path);
}

export function loadPrivateKeyFile(path: string): KeyObject {
  let k: KeyObject;
  try {
    k = createPrivateKey(readFileBounded(path, LIMITS.keyFileBytes, 'keyFileBytes'));
  } catch (e) {
    throw new SpdmError('DECODE_ERROR', `log key ${path}: not a PEM private key: ${String(e)}`);
  }
  return requireEd25519(k, path);
}

export function publicKeyPem(pub: LogPublicKey): string {
  return pub.key.export({ format: 'pem', type: 'spki' }).toString();
}

/** Where the public half is written beside a key file: x.key → x.pub, anything else → anything.pub. */
export function publicKeyPathFor(keyFile: string): string {
  return keyFile.endsWith('.key') ? `${keyFile.slice(0, -4)}.pub` : `${keyFile}.pub`;
}

/**
 * Writes `text` to a new file at `path` as one step: it goes to a temporary file beside it, is
 * synced, and is then hard-linked into place, which fails with EEXIST when `path` exists (two
 * processes racing on a new log end up with one key, the loser reads the winner's). Whatever
 * stops it half-way — a full disk, a crash — leaves `path` absent or complete, never empty or
 * cut short. Returns false when `path` already existed.
 */
function writeNewFileAtomically(path: string, text: string, mode: number): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS')
        return writeNewFileDirectly(path, text, mode);
      throw e;
    }
    syncDirectory(dirname(path));
    return true;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** For file systems without hard links: O_EXCL and the content, the file removed again if writing it fails. */
function writeNewFileDirectly(path: string, text: string, mode: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw e;
  }
  closeSync(fd);
  return true;
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every file system lets a directory be synced; the link itself is already in place.
  }
}

function keyFileError(e: unknown, path: string): SpdmError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return new SpdmError(
    isStorageFull(e) ? 'STORAGE_FULL' : 'STORAGE_ERROR',
    `cannot create the log key ${path}: ${e instanceof Error ? e.message : String(e)}`,
    { cause: code || undefined, action: 'create log key' },
    { cause: e },
  );
}

/**
 * Loads the private key at `path`, or creates it when there is none (atomically, see
 * writeNewFileAtomically). A key file that cannot be written is a typed STORAGE_FULL or
 * STORAGE_ERROR, and leaves no file behind.
 */
export function loadOrCreatePrivateKey(path: string): { key: KeyObject; created: boolean } {
  if (existsSync(path)) return { key: loadPrivateKeyFile(path), created: false };
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  let created: boolean;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    created = writeNewFileAtomically(path, pem, 0o600);
  } catch (e) {
    throw keyFileError(e, path);
  }
  if (!created) return { key: loadPrivateKeyFile(path), created: false };
  try {
    // Replaced whole or not at all, like the key: a cut-short .pub would mislead whoever pins it.
    const pubPath = publicKeyPathFor(path);
    const temp = `${pubPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      writeFileSync(temp, publicKeyPem(describePublicKey(privateKey)), { mode: 0o644 });
      renameSync(temp, pubPath);
    } finally {
      rmSync(temp, { force: true });
    }
  } catch {
    // The .pub file is a convenience; the public key is in the log's meta table too.
  }
  return { key: privateKey, created: true };
}

export function generateLogKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey));
}

export function ed25519Verify(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}
