import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { logKeyOptions } from '../../src/cli/log-env.js';
import { defaultKeyFile } from '../../src/log/log.js';

test('the CLI takes the log key location from SPDMKIT_LOG_KEY and XDG_CONFIG_HOME; unset or empty variables give no option', () => {
  assert.deepEqual(logKeyOptions({ SPDMKIT_LOG_KEY: '/keys/log.key', XDG_CONFIG_HOME: '/cfg' }), {
    keyFile: '/keys/log.key',
    configDir: '/cfg',
  });
  assert.deepEqual(logKeyOptions({ SPDMKIT_LOG_KEY: '', XDG_CONFIG_HOME: '' }), {});
  assert.deepEqual(logKeyOptions({}), {});
});

test('the library places a default key from the target and the configDir it is given, not from the environment', () => {
  assert.equal(
    defaultKeyFile('postgres://db.example:5433/fleet', '/cfg'),
    join('/cfg', 'spdmkit', 'log-db.example-5433-fleet.key'),
  );
  assert.equal(defaultKeyFile('logs/a.sqlite', '/cfg'), `${resolve('logs/a.sqlite')}.key`);
  const saved = process.env['XDG_CONFIG_HOME'];
  process.env['XDG_CONFIG_HOME'] = '/from-env';
  try {
    assert.ok(!defaultKeyFile('postgres://h/db').startsWith('/from-env'));
  } finally {
    if (saved === undefined) delete process.env['XDG_CONFIG_HOME'];
    else process.env['XDG_CONFIG_HOME'] = saved;
  }
});
