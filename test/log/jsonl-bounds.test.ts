/**
 * `spdm log import` against hostile exports: a line too long to hold, a line that would balloon
 * once parsed, an entry index of the wrong type, and exports whose lines are big but legal. The
 * import reads the file as a stream, names the line that is refused, and stays all or nothing.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, readFileSync, statSync, writeFileSync, type ReadStream } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openLog } from '../../src/log/log.js';
import { runLogImport, runLogVerify } from '../../src/cli/log.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { LIMITS, LimitError } from '../../src/wire/limits.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { exportTo, makeEvidence, Sink, SUITES, tempDir } from './helpers.js';
import { repoRoot } from '../support/paths.js';

const tmp = tempDir('spdmkit-jsonl-bounds-');
after(() => tmp.cleanup());

let evidence: Evidence;
let lines: string[] = [];

before(async () => {
  evidence = await makeEvidence({ suite: SUITES[0]!, version: 0x12, name: 'bounds' });
  const log = await openLog(tmp.file('source.sqlite'));
  try {
    for (let k = 0; k < 4; k++) await log.appendEvidence({ ...evidence, device: `bounds-${k}` });
    await exportTo(log, tmp.file('source.jsonl'));
  } finally {
    await log.close();
  }
  lines = readFileSync(tmp.file('source.jsonl'), 'utf8').trim().split('\n');
});

const entryLine = (i: number) => lines.findIndex((l) => l.includes(`"type":"entry","index":${i},`));

/** Imports `file` into a new SQLite log; the error (if any), the log's size after, the bytes read. */
async function importFile(
  file: string,
  opts: { maxLineBytes?: number } = {},
): Promise<{ error: unknown; size: number; bytesRead: number }> {
  const log = await openLog(tmp.file(`target-${Math.random().toString(36).slice(2)}.sqlite`));
  const input: ReadStream = createReadStream(file);
  try {
    let error: unknown;
    try {
      await log.importJsonl(input, opts);
    } catch (e) {
      error = e;
    }
    return { error, size: await log.size(), bytesRead: input.bytesRead };
  } finally {
    input.destroy();
    await log.close();
  }
}

/** The export with line `at` (0-based) replaced. */
function withLine(name: string, at: number, line: string): { file: string; offset: number } {
  const copy = [...lines];
  copy[at] = line;
  const file = tmp.file(name);
  writeFileSync(file, `${copy.join('\n')}\n`);
  return { file, offset: Buffer.byteLength(copy.slice(0, at).join('\n')) + 1 };
}

test('a 20 MB line over a lowered maxLineBytes: refused naming the line, read no further than the bound, nothing imported', async () => {
  const at = entryLine(5);
  const long = lines[at]!.replace(
    /"device":"([^"]*)"/,
    (_m, d: string) => `"device":"${d}${'x'.repeat(20 * 1024 * 1024)}"`,
  );
  const { file, offset } = withLine('long.jsonl', at, long);
  const max = 1024 * 1024;
  const r = await importFile(file, { maxLineBytes: max });
  assert.ok(r.error instanceof LimitError, String(r.error));
  assert.equal(r.error.code, 'LIMIT_EXCEEDED');
  assert.equal(r.error.where, `line ${at + 1}`);
  assert.equal(r.error.max, max);
  assert.match(r.error.message, new RegExp(`^line ${at + 1}: longer than the maxLineBytes limit of ${max} bytes`));
  // The earlier entries were valid; the import is one transaction, so none of them stays.
  assert.equal(r.size, 0, 'nothing imported');
  // Read up to the bound and one more chunk of the stream (64 KiB), not the 20 MB.
  assert.ok(r.bytesRead <= offset + max + 64 * 1024, `read ${r.bytesRead} bytes of ${statSync(file).size}`);
});

test(`the default line bound is LIMITS.logImportLineBytes (${LIMITS.logImportLineBytes} bytes)`, async () => {
  const at = entryLine(2);
  const long = lines[at]!.replace(
    /"device":"([^"]*)"/,
    (_m, d: string) => `"device":"${d}${'y'.repeat(LIMITS.logImportLineBytes)}"`,
  );
  const { file, offset } = withLine('default-long.jsonl', at, long);
  const r = await importFile(file);
  assert.ok(r.error instanceof LimitError, String(r.error));
  assert.equal(r.error.limit, 'logImportLineBytes');
  assert.match(r.error.message, new RegExp(`^line ${at + 1}: longer than the logImportLineBytes limit`));
  assert.equal(r.size, 0);
  assert.ok(r.bytesRead <= offset + LIMITS.logImportLineBytes + 64 * 1024, `read ${r.bytesRead} bytes`);
});

test('a line of many small values (which JSON.parse would turn into far more memory than the line) is refused before parsing, naming line and column', async () => {
  const at = lines.findIndex((l) => l.includes('"type":"chain"'));
  const { file } = withLine('many.jsonl', at, lines[at]!.replace(/}$/, `,"x":[${'{},'.repeat(100_000)}{}]}`));
  const r = await importFile(file);
  assert.ok(r.error instanceof LimitError, String(r.error));
  assert.equal(r.error.limit, 'logImportLineItems');
  assert.match(r.error.message, new RegExp(`^line ${at + 1}:\\d+: more than ${LIMITS.logImportLineItems} JSON values`));
  assert.equal(r.size, 0);
});

test('a deeply nested line is refused naming the line and the jsonNestingDepth limit', async () => {
  const at = entryLine(0);
  const { file } = withLine(
    'deep.jsonl',
    at,
    lines[at]!.replace(/}$/, `,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`),
  );
  const r = await importFile(file);
  assert.ok(r.error instanceof LimitError, String(r.error));
  assert.equal(r.error.limit, 'jsonNestingDepth');
  assert.match(
    r.error.message,
    new RegExp(`^line ${at + 1}:\\d+: arrays and objects nested more than ${LIMITS.jsonNestingDepth} deep`),
  );
});

test('an entry index written as a string is named as such, not as "index 0 where 0 was expected"', async () => {
  const at = entryLine(0);
  const { file } = withLine('string-index.jsonl', at, lines[at]!.replace('"index":0,', '"index":"0",'));
  const r = await importFile(file);
  assert.ok(r.error instanceof Error);
  assert.equal(r.error.message, `line ${at + 1}: entry index must be a non-negative integer, got string "0"`);
  assert.equal(r.size, 0);
  const { file: f2 } = withLine('float-field.jsonl', at, lines[at]!.replace(/"slot":0/, '"slot":"0"'));
  assert.match(
    String((await importFile(f2)).error),
    new RegExp(`line ${at + 1}: slot must be a non-negative integer, got string "0"`),
  );
});

test('big legal lines are written as the import goes (every LIMITS.logImportPendingBytes), not held until 1000 entries', async () => {
  const log = await openLog(tmp.file('big-source.sqlite'));
  const big = 'z'.repeat(3 * 1024 * 1024);
  try {
    // 8 evidences × 2 entries, each carrying a 3 MiB device name: ~48 MiB of lines.
    for (let k = 0; k < 8; k++) await log.appendEvidence({ ...evidence, device: `${big}-${k}` });
    await exportTo(log, tmp.file('big.jsonl'));
  } finally {
    await log.close();
  }
  const target = await openLog(tmp.file('big-target.sqlite'));
  try {
    const progress: number[] = [];
    const r = await target.importJsonl(createReadStream(tmp.file('big.jsonl')), {
      onProgress: (n) => progress.push(n),
    });
    assert.equal(r.imported, 16);
    assert.equal((await target.verify()).ok, true);
    // Each flush reports progress: at least one before the end, when the pending lines passed the bound.
    const perEntry = 3 * 1024 * 1024;
    assert.ok(progress.length >= 2, `progress ${progress.join(', ')}`);
    assert.ok(
      progress[0]! <= Math.ceil(LIMITS.logImportPendingBytes / perEntry),
      `first write after ${progress[0]} entries`,
    );
  } finally {
    await target.close();
  }
});

test('spdm log import --max-line-bytes: exit 2 and the line named, from runLogImport and from bin/spdm.js', async () => {
  const at = entryLine(3);
  const { file } = withLine(
    'cli-long.jsonl',
    at,
    lines[at]!.replace(/"device":"([^"]*)"/, (_m, d: string) => `"device":"${d}${'q'.repeat(300_000)}"`),
  );
  const out = new Sink();
  const err = new Sink();
  const db = tmp.file('cli-target.sqlite');
  assert.equal(await runLogImport(file, { db, maxLineBytes: 100_000 }, { stdout: out, stderr: err }), EXIT.USAGE);
  assert.match(
    err.text,
    new RegExp(`^spdm log import: LIMIT_EXCEEDED: line ${at + 1}: longer than the maxLineBytes limit of 100000 bytes`),
  );
  const bin = join(repoRoot(), 'bin', 'spdm.js');
  const r = await promisify(execFile)(
    process.execPath,
    [bin, 'log', 'import', '--db', db, '--max-line-bytes', '100000', file],
    { timeout: 30_000 },
  ).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr ?? '' }),
  );
  assert.equal(r.code, EXIT.USAGE, r.stderr);
  assert.match(r.stderr, new RegExp(`line ${at + 1}: longer than the maxLineBytes limit of 100000 bytes`));
  // And the same file imports with a bound that fits it.
  assert.equal(
    await runLogImport(file, { db, maxLineBytes: 1_000_000 }, { stdout: out, stderr: err }),
    EXIT.USAGE,
    'the edited entry no longer hashes to its leaf',
  );
  assert.match(err.text, /its fields hash to/);
});

test('log verify --checkpoint: a checkpoint file larger than LIMITS.checkpointFileBytes is refused (exit 2), not read whole', async () => {
  const cp = tmp.file('checkpoint.json');
  const quiet = () => ({ stdout: new Sink(), stderr: new Sink() });
  const db = tmp.file('source.sqlite');
  assert.equal(await runLogVerify({ db, checkpoint: cp }, quiet()), EXIT.OK);
  // The same tree head, padded past the bound: still valid JSON, so only the bound refuses it.
  writeFileSync(cp, `${readFileSync(cp, 'utf8')}${' '.repeat(LIMITS.checkpointFileBytes)}`);
  const c = quiet();
  assert.equal(await runLogVerify({ db, checkpoint: cp }, c), EXIT.USAGE);
  assert.match(
    c.stderr.text,
    new RegExp(
      `^spdm log verify: LIMIT_EXCEEDED: .*checkpoint\\.json is \\d+ bytes, more than the checkpointFileBytes limit of ${LIMITS.checkpointFileBytes}`,
    ),
  );
});
