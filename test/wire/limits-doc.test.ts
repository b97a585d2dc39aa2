/** docs/limits.md lists every bound in LIMITS with its value: a new limit cannot go undocumented. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIMITS, LimitError, timerMs } from '../../src/wire/limits.js';
import { repoRoot } from '../support/paths.js';

test('docs/limits.md has a row for every LIMITS entry, with its value', () => {
  const doc = readFileSync(join(repoRoot(), 'docs', 'limits.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `([A-Za-z]+)` \| ([^|]+) \|/gm)) rows.set(m[1] as string, (m[2] as string).trim());
  for (const [name, value] of Object.entries(LIMITS)) {
    assert.ok(rows.has(name), `docs/limits.md has no row for ${name}`);
    assert.equal(
      rows.get(name),
      String(value),
      `docs/limits.md gives ${name} as ${rows.get(name)}, the code has ${value}`,
    );
  }
  for (const name of rows.keys()) assert.ok(name in LIMITS, `docs/limits.md lists ${name}, which LIMITS does not have`);
});

test('LimitError carries the limit, the value, the bound and where', () => {
  const e = new LimitError('logImportLineBytes', 20, 10, 'line 3');
  assert.equal(e.code, 'LIMIT_EXCEEDED');
  assert.deepEqual(e.details, { limit: 'logImportLineBytes', value: 20, max: 10, where: 'line 3' });
  assert.match(e.message, /line 3: 20 exceeds the logImportLineBytes limit of 10/);
});

test('timerMs never returns a wait Node would overflow', () => {
  assert.equal(timerMs(2 ** 42), LIMITS.maxTimerMs);
  assert.equal(timerMs(Number.POSITIVE_INFINITY), LIMITS.maxTimerMs);
  assert.equal(timerMs(Number.NaN), 0);
  assert.equal(timerMs(-5), 0);
  assert.equal(timerMs(1.2), 2);
});
