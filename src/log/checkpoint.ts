/**
 * Tree heads as C2SP checkpoints (c2sp.org/tlog-checkpoint) in signed notes (c2sp.org/signed-note),
 * the format Go's and sigstore's transparency logs publish, so that existing witnesses and monitors
 * can follow a spdmkit log:
 *
 *   <origin>\n<tree size, decimal>\n<root hash, base64>\n
 *   \n
 *   — <key name> <base64(key ID ‖ Ed25519 signature over the three lines above)>\n
 *
 * The key is the log key itself (Ed25519). Its name is the origin; its key ID is the first four
 * bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ the 32-byte public key), 0x01 being the signed-note
 * algorithm byte for Ed25519; a verifier key is written `<name>+<key ID hex>+<base64(0x01 ‖ key)>`.
 * The note signs a different message from the log's own tree-head signature (section 3 of
 * docs/log-format.md begins with a fixed ASCII label no origin line can equal), so one key serves
 * both without either signature standing for the other.
 *
 * The default origin is `spdmkit.log/<log id hex>`: unique per log (the log id is SHA-256 of the
 * key), stable, schema-less as the checkpoint specification asks.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { SpdmError } from '../wire/errors.js';
import { equalBytes, toHex } from '../wire/bytes.js';
import { ed25519Sign, ed25519Verify, type LogPublicKey } from './log-key.js';
import { HASH_SIZE } from './merkle.js';
import type { TreeHead } from './sth.js';

/** The signed-note algorithm byte for Ed25519. */
const ED25519_ALG = 0x01;
/** Longest note accepted for verification: a checkpoint is three short lines and a few signatures. */
export const MAX_CHECKPOINT_BYTES = 8192;

export function defaultOrigin(logId: Uint8Array): string {
  return `spdmkit.log/${toHex(logId)}`;
}

/** The raw 32-byte Ed25519 key of a log key (its SPKI is the 12-byte Ed25519 prefix and the key). */
function rawKey(pub: LogPublicKey): Uint8Array {
  if (pub.spki.length !== 44) throw new SpdmError('UNSUPPORTED_ALGORITHM', 'the log key is not an Ed25519 key');
  return pub.spki.subarray(12);
}

function checkOrigin(origin: string): void {
  // A key name is non-empty, with no whitespace and no '+' (signed-note); the origin line the same.
  if (origin.length === 0 || origin.length > 256 || /[\s+]/u.test(origin))
    throw new SpdmError(
      'CHECKPOINT_INVALID',
      `origin ${JSON.stringify(origin)}: non-empty, no spaces or '+', at most 256 characters`,
    );
}

export function noteKeyId(name: string, pub: LogPublicKey): Uint8Array {
  return createHash('sha256')
    .update(Buffer.from(`${name}\n`, 'utf8'))
    .update(Uint8Array.of(ED25519_ALG))
    .update(rawKey(pub))
    .digest()
    .subarray(0, 4);
}

/** The verifier key string witnesses and Go's `note` package take: `<name>+<key ID hex>+<base64(0x01 ‖ key)>`. */
export function noteVerifierKey(name: string, pub: LogPublicKey): string {
  checkOrigin(name);
  const key = Buffer.concat([Uint8Array.of(ED25519_ALG), rawKey(pub)]).toString('base64');
  return `${name}+${toHex(noteKeyId(name, pub))}+${key}`;
}

function body(origin: string, head: TreeHead): string {
  return `${origin}\n${head.treeSize}\n${Buffer.from(head.rootHash).toString('base64')}\n`;
}

/**
 * A signed checkpoint of `head`. The caller passes a head of this log (verified or just signed);
 * the note adds a signature in the checkpoint's own format, it does not vouch for the head by itself.
 */
export function signCheckpoint(
  head: TreeHead,
  key: { readonly privateKey: KeyObject; readonly publicKey: LogPublicKey },
  origin = defaultOrigin(key.publicKey.logId),
): string {
  checkOrigin(origin);
  const text = body(origin, head);
  const sig = ed25519Sign(key.privateKey, Buffer.from(text, 'utf8'));
  const blob = Buffer.concat([noteKeyId(origin, key.publicKey), sig]).toString('base64');
  return `${text}\n\u2014 ${origin} ${blob}\n`;
}

export interface Checkpoint extends TreeHead {
  readonly origin: string;
}

function bad(why: string): SpdmError {
  return new SpdmError('CHECKPOINT_INVALID', `checkpoint: ${why}`);
}

/**
 * Parses a signed checkpoint and checks the signature of `publicKey` under the name `origin`
 * (default: the log's default origin). Other signatures (a witness's cosignature) are allowed and
 * ignored. Throws CHECKPOINT_INVALID naming what is wrong.
 */
export function verifyCheckpoint(
  note: string,
  publicKey: LogPublicKey,
  origin = defaultOrigin(publicKey.logId),
): Checkpoint {
  if (Buffer.byteLength(note, 'utf8') > MAX_CHECKPOINT_BYTES) throw bad(`longer than ${MAX_CHECKPOINT_BYTES} bytes`);
  const split = note.indexOf('\n\n');
  if (split < 0) throw bad('no blank line between the text and the signatures');
  const text = note.slice(0, split + 1);
  const lines = text.split('\n').slice(0, -1);
  if (lines.length < 3) throw bad('the text needs an origin, a tree size and a root hash line');
  const [o, size, root] = lines as [string, string, string];
  if (o !== origin) throw bad(`origin ${JSON.stringify(o)} is not ${JSON.stringify(origin)}`);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size)))
    throw bad(`tree size ${JSON.stringify(size)} is not a decimal integer`);
  const rootHash = Buffer.from(root, 'base64');
  if (rootHash.length !== HASH_SIZE || rootHash.toString('base64') !== root)
    throw bad('the root hash is not the base64 of 32 bytes');
  const sigLines = note.slice(split + 2).split('\n');
  if (sigLines.at(-1) !== '') throw bad('the last signature line does not end with a newline');
  const keyId = noteKeyId(origin, publicKey);
  let ok = false;
  for (const line of sigLines.slice(0, -1)) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) throw bad(`malformed signature line ${JSON.stringify(line.slice(0, 80))}`);
    if (m[1] !== origin) continue;
    const blob = Buffer.from(m[2] as string, 'base64');
    if (blob.length !== 4 + 64 || !equalBytes(blob.subarray(0, 4), keyId)) continue;
    if (ed25519Verify(publicKey.key, Buffer.from(text, 'utf8'), blob.subarray(4))) ok = true;
  }
  if (!ok) throw bad(`no valid signature by the log key named ${origin}`);
  return { origin, treeSize: Number(size), rootHash: new Uint8Array(rootHash) };
}
