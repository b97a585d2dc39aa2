/**
 * The hostile emulator as a separate process: `spdm emulate --hostile list` prints the table, and
 * the cases marked overSocket are served by `spdm emulate --hostile NAME` and met by
 * `spdm authenticate` over a real socket, which must fail with the case's error code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/paths.js';
import { HOSTILE_CASES, isErrorExpectation } from '../../src/responder/faults/index.js';

const run = promisify(execFile);
const bin = join(repoRoot(), 'bin', 'spdm.js');

async function spdm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], { timeout: 20_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** `spdm emulate --hostile NAME` on a free port; resolves once it listens. */
function emulate(name: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [bin, 'emulate', '--hostile', name, '--port', '0', '--transport', 'mctp'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on [^:]+:(\d+)/.exec(err);
      if (m) resolve({ port: Number(m[1]), stop });
    });
    child.once('exit', () => reject(new Error(`emulator exited: ${err}`)));
  });
}

test('spdm emulate --hostile list prints every case with its expected outcome', async () => {
  const r = await spdm(['emulate', '--hostile', 'list']);
  assert.equal(r.code, 0, r.stderr);
  for (const c of HOSTILE_CASES) assert.match(r.stdout, new RegExp(`^${c.name} `, 'm'), c.name);
  assert.match(r.stdout, new RegExp(`^${HOSTILE_CASES.length} cases\\.`, 'm'));
});

test('spdm emulate --hostile refuses an unknown case and a DOE register fault', async () => {
  const unknown = await spdm(['emulate', '--hostile', 'no-such-case']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no hostile case "no-such-case"/);
  const doe = HOSTILE_CASES.find((c) => c.via === 'doe');
  assert.ok(doe);
  const r = await spdm(['emulate', '--hostile', doe.name]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /in-process only/);
});

// Two processes per case, most of it Node start-up: a few at a time keeps the file short.
describe('over the socket', { concurrency: 3 }, () => {
  for (const c of HOSTILE_CASES.filter((x) => x.overSocket)) {
    const e = c.expect;
    if (!isErrorExpectation(e)) throw new Error(`${c.name}: overSocket cases must expect an error`);
    test(`${c.name} → ${e.error}`, async () => {
      const emu = await emulate(c.name);
      try {
        const r = await spdm([
          'authenticate',
          '--connect',
          `127.0.0.1:${emu.port}`,
          '--transport',
          'mctp',
          '--json',
          '--shutdown',
        ]);
        assert.equal(r.code, 1, `exit code: ${r.stdout}${r.stderr}`);
        const outcome = JSON.parse(r.stdout) as { authenticated: boolean; errorCode?: string; reason?: string };
        assert.equal(outcome.authenticated, false);
        assert.equal(outcome.errorCode, e.error, outcome.reason);
        if (e.detail) assert.match(outcome.reason ?? '', e.detail);
      } finally {
        await emu.stop();
      }
    });
  }
});
