/**
 * `spdm demo`, the main job, run as a user runs it: the real CLI starts spdmkitd on the default
 * simulated platform, every function comes out as its kind, the lifecycle steps happen through
 * the daemon's API and event stream, and the signature log re-verifies. Exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/spdm.js', import.meta.url));

test('spdm demo: 16 functions as their kinds, reset / swap / firmware update / TSM hand-off as expected, log re-verified, exit 0', () => {
  const r = spawnSync(process.execPath, [BIN, 'demo', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `stderr:\n${r.stderr}`);
  const report = JSON.parse(r.stdout) as {
    ok: boolean;
    functions: number;
    asExpected: number;
    devices: {
      bdf: string;
      authenticated: { state: string; reason?: { code: string } };
      acceptance: { state: string };
    }[];
    steps: { title: string; ok: boolean; lines: string[] }[];
    log: { entries: number; signaturesValid: number; ok: boolean };
  };
  assert.equal(report.ok, true);
  assert.equal(report.functions, 16);
  assert.equal(report.asExpected, 16);
  const by = new Map(report.devices.map((d) => [d.bdf, d]));
  // A few kinds, read back from the daemon's own device list.
  assert.equal(by.get('0000:06:00.0')?.authenticated.reason?.code, 'CHAIN_UNTRUSTED');
  assert.equal(by.get('0000:07:00.0')?.authenticated.reason?.code, 'SIGNATURE_INVALID');
  assert.equal(by.get('0000:0e:00.0')?.authenticated.state, 'unknown');
  assert.deepEqual(
    report.steps.map((s) => s.ok),
    [true, true, true, true],
  );
  // The swap and the firmware update name what changed, in the events the stream delivered.
  assert.ok(report.steps[1]?.lines.some((l) => /same-device .*LEAF_KEY_CHANGED/.test(l)));
  assert.ok(report.steps[2]?.lines.some((l) => /same-device .*MEASUREMENT_CHANGED/.test(l)));
  assert.ok(report.log.ok && report.log.entries > 16 && report.log.signaturesValid === report.log.entries);
  // Progress and the table went to stderr under --json.
  assert.match(r.stderr, /\[16\/16\]/);
  assert.match(r.stderr, /demo complete/);
});
