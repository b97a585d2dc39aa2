/**
 * The CLI as a script runs it, for the tests that spawn it: `spdm ARGS` to completion, and
 * `spdm emulate` in the background until it says where it listens.
 */
import { spawn, execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

const run = promisify(execFile);
export const spdmBin = join(repoRoot(), 'bin', 'spdm.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `spdm ARGS`: its exit code and output (a timeout or a crash reads as code -1). */
export async function spdm(args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
  try {
    const r = await run(process.execPath, [spdmBin, ...args], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

export interface RunningEmulator {
  readonly port: number;
  /** The exit code, once it stops (SHUTDOWN, or stop()). */
  readonly done: Promise<number>;
  /** SIGTERM, and wait for it to exit. */
  stop(): Promise<number>;
}

/** `spdm emulate --port 0 ARGS`, resolved with its port once it listens; rejected if it exits first. */
export function emulate(args: readonly string[]): Promise<RunningEmulator> {
  const child = spawn(process.execPath, [spdmBin, 'emulate', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const done = new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on [^:]+:(\d+)/.exec(err);
      if (m)
        resolve({
          port: Number(m[1]),
          done,
          stop: () => {
            child.kill('SIGTERM');
            return done;
          },
        });
    });
    child.on('exit', (c) => reject(new Error(`emulator exited ${c}: ${err}`)));
  });
}
