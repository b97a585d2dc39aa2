/**
 * spdmkitd as a process: bin/spdmkitd.js over a simulated platform (three functions of the
 * shipped default platform), driven with the real `spdm status` / `spdm devices` commands over
 * its socket; SIGHUP reloads, SIGTERM drains and exits 0; every log line is JSON.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { socketAnswers } from '../../src/daemon/listen.js';
import { repoRoot } from '../support/paths.js';
import { raw } from './http.js';

const root = repoRoot();
const shipped = join(root, 'platform', 'default');
const dir = mkdtempSync(join(tmpdir(), 'spdmkitd-proc-'));
const GOOD = '0000:01:00.0';
const UNTRUSTED = '0000:06:00.0';
const NO_DOE = '0000:0e:00.0';

// A small platform: three functions of the shipped one, their device files reached through a link.
const full = parse(readFileSync(join(shipped, 'platform.yaml'), 'utf8')) as { functions: { bdf: string }[] };
symlinkSync(join(shipped, 'devices'), join(dir, 'devices'));
writeFileSync(
  join(dir, 'platform.yaml'),
  stringify({
    ...full,
    $schema: undefined,
    functions: full.functions.filter((f) => [GOOD, UNTRUSTED, NO_DOE].includes(f.bdf)),
  }),
);
const socketPath = join(dir, 'run', 'spdmkitd.sock');
const TOKEN = 'process-test-token-0123456789';
writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
writeFileSync(
  join(dir, 'spdmkitd.yaml'),
  [
    'version: 1',
    'socket: {mode: "0600"}',
    'dataDir: state',
    `trust: [${join(shipped, 'trust')}]`,
    `deny: [${join(shipped, 'deny-list.txt')}]`,
    `policy: ${join(shipped, 'policy.yaml')}`,
    'platform: {kind: simulated, file: platform.yaml}',
    'listen: {host: 127.0.0.1, port: 0, tokenFile: token}',
    '',
  ].join('\n'),
);

const daemon = spawn(
  process.execPath,
  [join(root, 'bin', 'spdmkitd.js'), '--config', join(dir, 'spdmkitd.yaml'), '--socket', socketPath],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let stderr = '';
daemon.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
after(() => {
  if (daemon.exitCode === null) daemon.kill('SIGKILL');
});

function spdm(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin', 'spdm.js'), ...args, '--socket', socketPath], (e, out, err) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; daemon log:\n${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('spdmkitd serves its socket, and spdm status / spdm devices drive it', { timeout: 120_000 }, async () => {
  await until('the socket', () => existsSync(socketPath) && socketAnswers(socketPath));
  assert.equal(statSync(socketPath).mode & 0o777, 0o600);
  await until('the first authentications', async () => {
    const s = await spdm('status', '--json');
    const devices = JSON.parse(s.out || '[]') as { authenticated: { state: string }; doe: string }[];
    return devices.length === 3 && devices.every((d) => d.doe !== 'cma' || d.authenticated.state !== 'unknown');
  });
  const table = await spdm('status');
  assert.equal(table.code, 0, table.err);
  const lines = table.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^BDF\s+VENDOR:DEVICE\s+AUTHENTICATED\s+VERDICT\s+ACCEPTED\s+OWNER$/);
  assert.match(
    lines.find((l) => l.startsWith(GOOD))!,
    /1dea:a001\s+1\s+trusted\s+no\s+cma/,
  );
  assert.match(
    lines.find((l) => l.startsWith(UNTRUSTED))!,
    /\s0\s+untrusted \(CHAIN_UNTRUSTED\)/,
  );
  assert.match(
    lines.find((l) => l.startsWith(NO_DOE))!,
    /\?\s+- \(NO_DOE\)/,
  );

  const accepted = await spdm('devices', 'accept', GOOD);
  assert.equal(accepted.code, 0, accepted.err);
  assert.match(accepted.out, /yes \(verdict\)/);
  const refused = await spdm('devices', 'accept', UNTRUSTED);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /DEVICE_STATE/);
  const forced = await spdm('devices', 'accept', UNTRUSTED, '--operator', 'ann', '--reason', 'lab');
  assert.equal(forced.code, 0, forced.err);
  assert.match(forced.out, /yes \(operator\)/);
  const reset = await spdm('devices', 'reset', GOOD, '--kind', 'flr');
  assert.equal(reset.code, 0, reset.err);
  const connect = await spdm('devices', 'connect', GOOD, '--tsm', 'tsm0');
  assert.equal(connect.code, 0, connect.err);
  assert.match(connect.out, /tsm:tsm0/);
  const owned = await spdm('devices', 'reauth', GOOD);
  assert.equal(owned.code, 1);
  assert.match(owned.err, /DEVICE_OWNED/);
  assert.equal((await spdm('devices', 'disconnect', GOOD)).code, 0);
  const badBdf = await spdm('devices', 'reauth', 'not-a-bdf');
  assert.equal(badBdf.code, 2, 'a malformed BDF is a usage error');
  assert.match(badBdf.err, /params\/bdf/);
  const unknown = await spdm('devices', 'reauth', '0000:42:00.0');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /DEVICE_NOT_FOUND/);
});

test("the configured TCP listener takes the token file's token and nothing else", { timeout: 60_000 }, async () => {
  const line = stderr.split('\n').find((l) => l.includes('"msg":"spdmkitd listening"'));
  const port = (JSON.parse(line ?? '{}') as { tcpPort?: number }).tcpPort;
  assert.ok(typeof port === 'number' && port > 0, `the listening line names the TCP port: ${line ?? ''}`);
  const none = await raw({ port }, 'GET', '/v1/devices');
  assert.equal(none.status, 401);
  const ok = await raw({ port }, 'GET', '/v1/devices', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(ok.status, 200);
  assert.equal((ok.json()['devices'] as unknown[]).length, 3);
});

test('SIGHUP reloads, SIGTERM drains and exits 0; the log is JSON lines', { timeout: 60_000 }, async () => {
  daemon.kill('SIGHUP');
  await until('the reload line', () => /"msg":"reload"/.test(stderr));
  // An event stream is never idle: draining must end it rather than wait for it.
  const stream = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ socketPath, path: '/v1/events' }, resolve);
    req.on('error', reject);
    req.end();
  });
  stream.resume();
  const streamEnded = new Promise<void>((resolve) => stream.on('close', () => resolve()));
  daemon.kill('SIGTERM');
  assert.equal(await exited, 0);
  await streamEnded;
  assert.equal(existsSync(socketPath), false, 'the socket file is gone');
  const lines = stderr.trim().split('\n');
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
  const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  for (const m of ['spdmkitd listening', 'reload', 'stopping', 'stopped']) assert.ok(msgs.includes(m), m);
  assert.ok(
    msgs.some((m) => m.startsWith('cma event ')),
    'device events are logged',
  );
  const reload = JSON.parse(lines.find((l) => l.includes('"msg":"reload"'))!) as {
    reload: { ok: boolean; anchors: number };
  };
  assert.equal(reload.reload.ok, true);
  assert.ok(reload.reload.anchors > 0);
  // Not running any more: a client says so with exit 3.
  assert.equal((await spdm('status')).code, 3);
});
