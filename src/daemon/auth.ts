/**
 * Bearer tokens for the TCP listener (the Unix socket is guarded by its file mode instead). The
 * comparison hashes both sides first so that it takes the same time whatever the length or the
 * first differing byte of a guess.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readTextFileBounded } from '../wire/bounded-file.js';
import { SpdmError } from '../wire/errors.js';

export const MIN_TOKEN_LENGTH = 16;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** A checker for `Authorization` header values against `token`. */
export function bearerChecker(token: string): (authorization: string | undefined) => boolean {
  if (token.length < MIN_TOKEN_LENGTH)
    throw new TypeError(`a bearer token needs at least ${MIN_TOKEN_LENGTH} characters`);
  const want = digest(token);
  return (authorization) => {
    const m = /^Bearer ([\x21-\x7e]+)$/.exec(authorization ?? '');
    // Hash something even for a malformed header, so that its handling takes the same time.
    const got = digest(m?.[1] ?? '');
    return timingSafeEqual(want, got) && m !== null;
  };
}

/** The token of a token file: its first line, trimmed. Throws DECODE_ERROR naming the file. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readTextFileBounded(path, 4096, 'tokenFileBytes');
  } catch (e) {
    throw new SpdmError(
      'DECODE_ERROR',
      `${path}: cannot read the token file: ${e instanceof Error ? e.message : String(e)}`,
      {
        field: 'listen.tokenFile',
      },
    );
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token))
    throw new SpdmError(
      'DECODE_ERROR',
      `${path}: the token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces on the first line`,
      { field: 'listen.tokenFile' },
    );
  return token;
}
