/** How driver and file-system failures of a log become typed errors a caller can switch on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isConnectionLost, storageError } from '../../src/log/store/errors.js';
import { SpdmError } from '../../src/wire/errors.js';

const sqlite = { backend: 'sqlite', description: 'x.sqlite', action: 'write' } as const;
const postgres = { backend: 'postgres', description: 'postgres://h/db', action: 'write' } as const;
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

test('no room is STORAGE_FULL whichever layer says it: SQLite, PostgreSQL (53100), node:fs (ENOSPC, EDQUOT, EFBIG)', () => {
  for (const [e, ctx] of [
    [withCode('database or disk is full', 'SQLITE_FULL'), sqlite],
    [withCode('could not extend file', '53100'), postgres],
    [withCode('no space left on device', 'ENOSPC'), sqlite],
    [withCode('quota exceeded', 'EDQUOT'), sqlite],
    [withCode('file too large', 'EFBIG'), sqlite],
  ] as const) {
    const err = storageError(e, { ...ctx, outcome: 'rolled-back' });
    assert.equal(err.code, 'STORAGE_FULL', e.message);
    assert.equal(err.details['cause'], e.code);
    assert.equal(err.details['outcome'], 'rolled-back');
    assert.equal(err.cause, e);
  }
});

test('a lost PostgreSQL connection is STORAGE_ERROR with connectionLost, and says when the commit may have happened', () => {
  for (const e of [
    withCode('terminating connection due to administrator command', '57P01'),
    new Error('Connection terminated unexpectedly'),
    new Error('Query read timeout'),
    withCode('read ECONNRESET', 'ECONNRESET'),
  ]) {
    const err = storageError(e, { ...postgres, action: 'commit', outcome: 'unknown' });
    assert.equal(err.code, 'STORAGE_ERROR', e.message);
    assert.equal(err.details['connectionLost'], true, e.message);
    assert.equal(err.details['outcome'], 'unknown');
    assert.match(err.message, /may or may not have taken effect/);
    assert.equal(isConnectionLost(err), true);
  }
  const constraint = storageError(withCode('duplicate key value', '23505'), postgres);
  assert.equal(constraint.code, 'STORAGE_ERROR');
  assert.equal(constraint.details['connectionLost'], undefined);
  assert.equal(isConnectionLost(withCode('duplicate key value', '23505')), false);
});

test("the log's own typed errors pass through unchanged", () => {
  const own = new SpdmError('LOG_CORRUPT', 'log_state disagrees with the newest tree head');
  assert.equal(storageError(own, { ...sqlite, outcome: 'rolled-back' }), own);
});
