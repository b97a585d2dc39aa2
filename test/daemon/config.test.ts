import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DaemonConfigError,
  loadDaemonConfigFile,
  parseDaemonConfigText,
  type DaemonConfig,
} from '../../src/daemon/config.js';
import { DAEMON_CONFIG_SCHEMA } from '../../src/daemon/config-schema.js';
import { isSpdmError } from '../../src/wire/errors.js';
import { repoRoot } from '../support/paths.js';

function issuesOf(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DaemonConfigError, `expected DaemonConfigError, got ${String(e)}`);
    assert.equal(e.code, 'DECODE_ERROR');
    return [...e.issues];
  }
  assert.fail('expected the configuration to be refused');
}

const YAML = `
version: 1
socket:
  mode: "0640"
  group: spdm
listen:
  port: 0
  tokenFile: token
dataDir: ./state
trust: [roots/]
deny: [deny.txt]
policy: policy.yaml
concurrency: 2
autoAccept: true
holdDrivers: true
platform:
  kind: simulated
  file: platform.json
events:
  heartbeatSeconds: 5
`;

test('a YAML configuration: defaults applied, octal mode, paths resolved against the file', () => {
  const c: DaemonConfig = parseDaemonConfigText(YAML, { source: '/etc/spdmkit/spdmkitd.yaml' });
  assert.equal(c.socket.path, undefined, 'the socket default is the command’s to choose');
  assert.equal(c.socket.mode, 0o640);
  assert.equal(c.socket.group, 'spdm');
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 0, tokenFile: '/etc/spdmkit/token' });
  assert.equal(c.dataDir, '/etc/spdmkit/state');
  assert.deepEqual(c.trust, ['/etc/spdmkit/roots']);
  assert.deepEqual(c.deny, ['/etc/spdmkit/deny.txt']);
  assert.equal(c.policy, '/etc/spdmkit/policy.yaml');
  assert.equal(c.concurrency, 2);
  assert.equal(c.autoAccept, true);
  assert.equal(c.holdDrivers, true);
  assert.deepEqual(c.platform, { kind: 'simulated', file: '/etc/spdmkit/platform.json' });
  assert.deepEqual(c.events, { heartbeatSeconds: 5, maxBufferedBytes: 1024 * 1024 });
});

test('a minimal JSON configuration gets the documented defaults', () => {
  const c = parseDaemonConfigText('{"version":1,"dataDir":"/var/lib/spdmkit","platform":{"kind":"sysfs"}}', {
    source: 'x.json',
  });
  assert.equal(c.socket.mode, 0o660);
  assert.equal(c.listen, undefined);
  assert.equal(c.concurrency, 4);
  assert.equal(c.autoAccept, false);
  assert.equal(c.holdDrivers, false, 'drivers are not touched unless asked');
  assert.deepEqual(c.platform, { kind: 'sysfs' });
  assert.deepEqual(c.trust, []);
});

test('every malformed value is refused with the path of its field', () => {
  const base = { version: 1, dataDir: '/d', platform: { kind: 'sysfs' } };
  const cases: [unknown, string, RegExp][] = [
    [{ ...base, version: 2 }, '/version', /must be 1/],
    [{ ...base, concurrency: 0 }, '/concurrency', /at least 1|minimum|>= 1/],
    [{ ...base, concurrency: 1.5 }, '/concurrency', /integer/],
    [{ ...base, concurrency: '4' }, '/concurrency', /integer/],
    [{ ...base, autoAccept: 'yes' }, '/autoAccept', /boolean/],
    [{ ...base, socket: { mode: 660 } }, '/socket/mode', /string/],
    [{ ...base, socket: { mode: '0999' } }, '/socket/mode', /octal file mode/],
    [{ ...base, socket: { path: 'x'.repeat(200) } }, '/socket/path', /at most|long/],
    [{ ...base, socket: { group: 'bad group' } }, '/socket/group', /./],
    [{ ...base, socket: { extra: 1 } }, '/socket/extra', /unknown property/],
    [{ ...base, listen: { port: 70000, tokenFile: 't' } }, '/listen/port', /./],
    [{ ...base, listen: { port: 1 } }, '/listen', /tokenFile/],
    [{ ...base, trust: 'roots' }, '/trust', /array/],
    [{ ...base, trust: [''] }, '/trust/0', /./],
    [{ ...base, platform: { kind: 'simulated' } }, '/platform', /./],
    [{ ...base, platform: { kind: 'qemu' } }, '/platform', /./],
    [{ ...base, events: { heartbeatSeconds: 0 } }, '/events/heartbeatSeconds', /./],
    [{ version: 1, platform: { kind: 'sysfs' } }, '', /dataDir/],
    [[], '', /object/],
    [null, '', /object/],
    ['text', '', /object/],
  ];
  for (const [doc, path, message] of cases) {
    const issues = issuesOf(() => parseDaemonConfigText(JSON.stringify(doc), { source: 'c.json' }));
    const hit = issues.find((i) => i.path === path);
    assert.ok(hit, `${JSON.stringify(doc)}: no issue at ${path || '/'} in ${JSON.stringify(issues)}`);
    assert.match(hit.message, message, JSON.stringify(doc));
  }
});

test('hostile text: bad syntax, duplicate keys, deep nesting, alias bombs and huge files are typed errors', () => {
  assert.match(issuesOf(() => parseDaemonConfigText('{"version": 1,', { source: 'c.json' }))[0]!.message, /JSON/);
  assert.match(
    issuesOf(() => parseDaemonConfigText('version: 1\nversion: 1\n', { source: 'c.yaml' }))[0]!.message,
    /not valid YAML \(line 2/,
  );
  const line = issuesOf(() =>
    parseDaemonConfigText('version: 1\ndataDir: /d\nplatform: {kind: sysfs}\nconcurrency: many\n', {
      source: 'c.yaml',
    }),
  )[0]!;
  assert.equal(line.path, '/concurrency');
  assert.match(line.message, /line 4/);
  for (const [text, source] of [
    ['['.repeat(100_000), 'c.json'],
    ['a:\n' + '  '.repeat(1).concat('- '.repeat(50_000)), 'c.yaml'],
    ['x'.repeat(2 * 1024 * 1024), 'c.yaml'],
  ] as const) {
    assert.throws(
      () => parseDaemonConfigText(text, { source }),
      (e: unknown) => isSpdmError(e, 'LIMIT_EXCEEDED') || isSpdmError(e, 'DECODE_ERROR'),
    );
  }
  // Each alias level multiplies the previous one by ten: a billion nodes if expanded.
  const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++)
    bomb.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  assert.throws(
    () => parseDaemonConfigText(bomb.join('\n'), { source: 'c.yaml' }),
    (e: unknown) => isSpdmError(e, 'DECODE_ERROR') || isSpdmError(e, 'LIMIT_EXCEEDED'),
  );
});

test('files: a missing file is a DECODE_ERROR naming it; a file on disk loads relative to itself', () => {
  assert.match(issuesOf(() => loadDaemonConfigFile('/nonexistent/spdmkitd.yaml'))[0]!.message, /cannot be read/);
  const dir = mkdtempSync(join(tmpdir(), 'spdmkitd-config-'));
  const file = join(dir, 'spdmkitd.yaml');
  writeFileSync(file, 'version: 1\ndataDir: state\nplatform: {kind: simulated, file: p.json}\n');
  const c = loadDaemonConfigFile(file);
  assert.equal(c.dataDir, join(dir, 'state'));
  assert.deepEqual(c.platform, { kind: 'simulated', file: join(dir, 'p.json') });
});

test('the published schemas/daemon-config.schema.json is the schema the loader enforces', () => {
  const published = JSON.parse(
    readFileSync(join(repoRoot(), 'schemas', 'daemon-config.schema.json'), 'utf8'),
  ) as unknown;
  assert.deepEqual(published, DAEMON_CONFIG_SCHEMA, 'run npm run daemon-docs to regenerate it');
});
