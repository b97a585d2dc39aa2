/**
 * The log's Ed25519 key: it signs every tree head. The private key is a PKCS#8 PEM file that only
 * writers read (mode 0600); the public key is stored in the log's meta table and beside the key
 * as SPKI PEM, and a verifier should pin it (docs/log-format.md "The log key").
 *
 * The one module of the log that uses node:crypto directly: Ed25519 over arbitrary bytes, key
 * generation and PEM/DER import have no counterpart in crypto/ (whose signatures are SPDM's).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { SpdmError } from '../../wire/errors.js';
import { sha256 } from './merkle.js';

export interface LogPublicKey {
  readonly key: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** SHA-256 of the SPKI: what a verifier pins and what every tree head signature covers. */
  readonly logId: Uint8Array;
}

function requireEd25519(k: KeyObject, what: string): KeyObject {
  if (k.asymmetricKeyType !== 'ed25519') throw new SpdmError('UNSUPPORTED_ALGORITHM', `${what}: the log key must be Ed25519, got ${k.asymmetricKeyType ?? 'unknown'}`);
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
    return describePublicKey(text.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(text)) : createPublicKey(text));
  } catch (e) {
    if (e instanceof SpdmError) throw e;
    throw new SpdmError('DECODE_ERROR', `${what}: not a PEM Ed25519 key: ${String(e)}`);
  }
}

export function loadPublicKeyFile(path: string): LogPublicKey {
  return publicKeyFromPem(readFileSync(path), path);
}

export function loadPrivateKeyFile(path: string): KeyObject {
  let k: KeyObject;
  try {
    k = createPrivateKey(readFileSync(path));
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
 * Loads the private key at `path`, or creates it when there is none. Creation uses O_EXCL, so two
 * processes racing on a new log end up with one key: the loser reads the winner's file.
 */
export function loadOrCreatePrivateKey(path: string): { key: KeyObject; created: boolean } {
  if (existsSync(path)) return { key: loadPrivateKeyFile(path), created: false };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { key: loadPrivateKeyFile(path), created: false };
    throw e;
  }
  try {
    writeSync(fd, pem);
  } finally {
    closeSync(fd);
  }
  const pubPath = publicKeyPathFor(path);
  try {
    const pfd = openSync(pubPath, 'w', 0o644);
    try {
      writeSync(pfd, publicKeyPem(describePublicKey(privateKey)));
    } finally {
      closeSync(pfd);
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
