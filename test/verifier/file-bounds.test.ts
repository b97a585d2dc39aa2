/**
 * The files `spdm verify` reads besides the evidence and the policy — trust anchors and deny-lists —
 * are read with a bound (LIMITS.trustFileBytes, LIMITS.denyListFileBytes): a file past it is bad
 * input naming the file and the limit, not read whole into memory.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { runVerifyCommand } from '../../src/cli/verify.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { loadCertificates, TrustSourceError } from '../../src/verifier/cert-files.js';
import { LIMITS, LimitError } from '../../src/wire/limits.js';
import { readFileBounded } from '../../src/wire/bounded-file.js';
import { pem, tempDir, vendorRoot } from './helpers.js';

const t = tempDir();
after(() => t.cleanup());

/** `head`, then `n` bytes of `fill` (written in 1 MiB pieces). */
function padded(name: string, head: string, n: number, fill = ' '): string {
  const path = t.write(name, head);
  const fd = openSync(path, 'a');
  try {
    const piece = Buffer.alloc(1024 * 1024, fill);
    for (let left = n; left > 0; left -= piece.length) writeSync(fd, piece, 0, Math.min(left, piece.length));
  } finally {
    closeSync(fd);
  }
  return path;
}

test('a trust-anchor file past LIMITS.trustFileBytes is refused naming the file and the limit (a valid PEM with padding)', () => {
  const root = pem(vendorRoot().certificate);
  const big = padded('big-roots.pem', root, LIMITS.trustFileBytes, '\n');
  assert.throws(
    () => loadCertificates(big),
    (e: unknown) =>
      e instanceof TrustSourceError &&
      e.cause instanceof LimitError &&
      e.cause.limit === 'trustFileBytes' &&
      e.message.includes(big),
  );
  const ev = t.write('ev.json', '{}');
  const r = runVerifyCommand(ev, { trust: [big] });
  assert.equal(r.exitCode, EXIT.USAGE);
  assert.match(
    r.stderr,
    new RegExp(`big-roots\\.pem is \\d+ bytes, more than the trustFileBytes limit of ${LIMITS.trustFileBytes}`),
  );
});

test('a deny-list past LIMITS.denyListFileBytes is refused naming the file and the limit (comments only, otherwise valid)', () => {
  const roots = t.write('roots.pem', pem(vendorRoot().certificate));
  const deny = padded('deny.txt', '# nothing denied\n', LIMITS.denyListFileBytes, '#');
  const r = runVerifyCommand(t.write('ev2.json', '{}'), { trust: [roots], deny: [deny] });
  assert.equal(r.exitCode, EXIT.USAGE, r.stdout);
  assert.match(
    r.stderr,
    new RegExp(`deny\\.txt is \\d+ bytes, more than the denyListFileBytes limit of ${LIMITS.denyListFileBytes}`),
  );
});

test('readFileBounded: a file at the bound is read whole, one byte more is a LimitError', () => {
  const at = padded('at.bin', '', 100_000, 'a');
  assert.equal(readFileBounded(at, 100_000, 'x').length, 100_000);
  assert.throws(
    () => readFileBounded(at, 99_999, 'x'),
    (e: unknown) => e instanceof LimitError && e.limit === 'x' && e.value === 100_000 && e.max === 99_999,
  );
  assert.equal(readFileBounded(t.write('empty', ''), 0, 'x').length, 0);
  // No size to check beforehand (a device, a pipe, or a file still growing): read to one byte past the bound.
  assert.throws(
    () => readFileBounded('/dev/zero', 1_000_000, 'x'),
    (e: unknown) => e instanceof LimitError && e.value === 1_000_001 && e.max === 1_000_000,
  );
});
