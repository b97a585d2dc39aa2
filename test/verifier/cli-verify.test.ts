/** `spdm verify`: exit 0 trusted, 1 untrusted, 2 bad input; wrapper or bare evidence; text or JSON. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import type { Evidence } from '../../src/evidence/evidence.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { registerVerifyCommand, runVerifyCommand } from '../../src/cli/verify.js';
import type { Verdict } from '../../src/verifier/verdict.js';
import { collect, makeDevice, NOW, pem, tempDir, vendorRoot, type TestDevice } from './helpers.js';

let device: TestDevice;
let evidence: Evidence;

before(async () => {
  device = makeDevice();
  evidence = await collect(device);
});

async function run(argv: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
  let code: number | undefined;
  let out = '';
  let err = '';
  const program = new Command().exitOverride();
  registerVerifyCommand(program, {
    setExitCode: (c) => (code = c),
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
  });
  await program.parseAsync(argv, { from: 'user' });
  return { code, out, err };
}

test('trusted → 0, untrusted → 1, with the verdict printed as text or JSON', async () => {
  const t = tempDir();
  try {
    const roots = t.write('roots.pem', pem(vendorRoot().certificate));
    const wrapped = t.write('auth.json', JSON.stringify({ authenticated: true, trusted: true, evidence }, null, 2));
    const bare = t.write('evidence.json', JSON.stringify(evidence));
    const now = NOW.toISOString();

    const ok = await run(['verify', wrapped, '--trust', roots, '--now', now]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /^TRUSTED\n/);
    assert.match(ok.out, /✓ CHAIN_TRUSTED/);

    const json = await run(['verify', bare, '--trust', roots, '--json', '--now', now]);
    assert.equal(json.code, 0);
    assert.equal((JSON.parse(json.out) as Verdict).status, 'trusted');

    // The same evidence against a deny-list naming its leaf, and under a policy wanting other firmware.
    const deny = t.write('deny.txt', `sha256:${parseCertificate(device.leaf.certificate).fingerprintSha256}\n`);
    const denied = await run(['verify', bare, '--trust', roots, '--deny', deny, '--json', '--now', now]);
    assert.equal(denied.code, 1);
    assert.deepEqual(
      (JSON.parse(denied.out) as Verdict).reasons.map((r) => r.code),
      ['CERT_DENIED'],
    );

    const policy = t.write(
      'policy.yaml',
      'version: 1\ndevices:\n  - name: X100\n    match: { pci: { vendorId: "8086" } }\n    measurements: { 2: ["00"] }\n    unlisted: ignore\n',
    );
    const mismatch = await run(['verify', bare, '--trust', roots, '--policy', policy, '--now', now]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.out, /✗ MEASUREMENT_MISMATCH: measurement 2 mismatch: expected 00 got [0-9a-f]+/);

    const otherRoot = t.write('other.pem', pem(vendorRoot('Initech').certificate));
    assert.equal((await run(['verify', bare, '--trust', otherRoot, '--now', now])).code, 1);

    // A stale nonce.
    assert.equal((await run(['verify', bare, '--trust', roots, '--nonce', '11'.repeat(32), '--now', now])).code, 1);
  } finally {
    t.cleanup();
  }
});

test('bad input → 2 with a message on stderr', async () => {
  const t = tempDir();
  try {
    const roots = t.write('roots.pem', pem(vendorRoot().certificate));
    const ev = t.write('evidence.json', JSON.stringify(evidence));
    const notJson = t.write('broken.json', '{"format": "spdmkit-evidence/1", ');
    const badPolicy = t.write('policy.json', '{"version": 1, "rules": {"cmaSan": "sometimes"}}');
    const cases: [string[], RegExp][] = [
      [['verify', `${t.dir}/missing.json`, '--trust', roots], /cannot read .*missing\.json/],
      [['verify', notJson, '--trust', roots], /broken\.json is not JSON/],
      [['verify', ev, '--trust', `${t.dir}/nope.pem`], /trust anchors: cannot read/],
      [['verify', ev, '--trust', roots, '--policy', badPolicy], /\/rules\/cmaSan: must be one of/],
      [['verify', ev], /--trust/],
      [['verify', ev, '--trust', roots, '--nonce', 'xyz'], /--nonce/],
      [['verify', ev, '--trust', roots, '--now', 'tomorrow'], /--now/],
    ];
    for (const [argv, re] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.out, '');
      assert.match(r.err, re);
    }
    // Parseable JSON that is not evidence is a verdict, not bad input.
    const notEvidence = t.write('other.json', '{"hello": "world"}');
    const r = runVerifyCommand(notEvidence, { trust: [roots] });
    assert.equal(r.exitCode, 1);
    assert.deepEqual(
      r.verdict?.reasons.map((x) => x.code),
      ['MALFORMED_EVIDENCE'],
    );
  } finally {
    t.cleanup();
  }
});
