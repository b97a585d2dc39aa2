/**
 * Reading a user's file with a bound. readFileSync reads whatever is there — a multi-gigabyte
 * file, or one that grew after a size check — so files we parse are read through here instead:
 * at most `maxBytes` are ever held, and one byte more fails with a LimitError naming the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LimitError } from './limits.js';

/**
 * The bytes of `path`, at most `maxBytes` of them. `limit` names the LIMITS entry (or the option)
 * in the error. Errors of the file system (no such file, a directory) are thrown as Node gives them.
 */
export function readFileBounded(path: string, maxBytes: number, limit: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isFile() && st.size > maxBytes)
      throw new LimitError(
        limit,
        st.size,
        maxBytes,
        path,
        `${path} is ${st.size} bytes, more than the ${limit} limit of ${maxBytes}`,
      );
    // The size can change between fstat and read (or be unknown, for a pipe): read until the end
    // or one byte past the bound, growing the buffer only as data actually arrives.
    let buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(st.isFile() ? st.size + 1 : 0, 64 * 1024)));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes)
          throw new LimitError(
            limit,
            n,
            maxBytes,
            path,
            `${path} holds more than the ${limit} limit of ${maxBytes} bytes`,
          );
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, 2 * buf.length));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const k = readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** readFileBounded as UTF-8 text. */
export function readTextFileBounded(path: string, maxBytes: number, limit: string): string {
  return readFileBounded(path, maxBytes, limit).toString('utf8');
}
