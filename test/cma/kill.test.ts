import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { openLog } from '../../src/log/log.js';
import { rig } from './helpers.js';

const BDF = '0000:01:00.0';
const WORKER = fileURLToPath(new URL('./kill-worker.js', import.meta.url));

test('SIGKILL mid-run: every event told is in the store, the acceptance record survives, the log verifies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-cma-kill-'));
  const child = spawn(process.execPath, [WORKER, dir, 'kill-worker'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const told: number[] = [];
  let accepted = false;
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'accepted') accepted = true;
        const m = /^event (\d+)$/.exec(line);
        if (m) told.push(Number(m[1]));
        if (accepted && told.length >= 40 && !child.killed) {
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`worker exited: ${_code}`)),
    );
  });
  assert.ok(accepted);

  // A new run on the same directory, with a different device behind the BDF (new keys).
  const r = rig(dir);
  try {
    await r.platform.add(BDF, 'genuine');
    const cma = await r.start();
    const ids = new Set((await cma.eventsSince(0, 1_000_000)).map((e) => e.id));
    for (const id of told) assert.ok(ids.has(id), `event ${id} was told before the kill and must be stored`);
    const maxTold = Math.max(...told);
    const all = [...ids].sort((a, b) => a - b);
    assert.deepEqual(
      all.slice(0, maxTold),
      Array.from({ length: maxTold }, (_, i) => i + 1),
    );
    assert.ok((await cma.decisions(BDF)).some((d) => d.action === 'accept'));
    await cma.idle();
    const d = cma.device(BDF);
    assert.equal(d.acceptance.state, 'unaccepted', 'another key behind the BDF is not the accepted device');
    assert.ok(d.sameDevice?.changes.some((c) => c.code === 'LEAF_KEY_CHANGED'));
    await cma.close();
    const log = await openLog(join(dir, 'signatures.sqlite'), { readOnly: true });
    try {
      assert.equal((await log.verify()).ok, true);
    } finally {
      await log.close();
    }
  } finally {
    await r.cleanup();
  }
});
