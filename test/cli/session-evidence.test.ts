/**
 * `spdm authenticate --json --session key-exchange` as a script uses it: the emulator in one
 * process, the requester in another, its JSON piped into `spdm verify -` (or saved to a file). The session's
 * KEY_EXCHANGE_RSP and in-session MEASUREMENTS signatures travel in that JSON and are judged.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isSpdmError } from '../../src/wire/errors.js';
import { libspdmVectors } from '../support/paths.js';
import { emulate, spdm, spdmBin } from '../support/cli.js';

const bin = spdmBin;

/** `spdm ARGS` with `input` on its standard input, as a shell pipe gives it. */
function spdmPiped(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-cli-session-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('spdm authenticate --json --session key-exchange piped into spdm verify -: trusted, the session signatures judged; edited, untrusted', async () => {
  const keys = join(libspdmVectors(), 'keys', 'ecp384');
  const profile = join(scratch, 'profile.json');
  writeFileSync(
    profile,
    JSON.stringify({
      name: 'session-device',
      versions: ['1.2', '1.3'],
      hash: ['SHA-384'],
      capabilities: ['CERT', 'CHAL', 'MEAS_SIG', 'MEAS_FRESH', 'KEY_EX', 'ENCRYPT', 'MAC', 'HBEAT'],
      heartbeatPeriod: 5,
      slots: [
        {
          slot: 0,
          asym: 'ECDSA-P384',
          certChain: join(keys, 'bundle_responder.certchain.der'),
          privateKey: join(keys, 'end_responder.key'),
        },
      ],
    }),
  );
  const policy = join(scratch, 'no-san.yaml');
  writeFileSync(policy, 'version: 1\nrules:\n  cmaSan: off\n');
  const nonce = '9e'.repeat(32);
  const emu = await emulate(['--transport', 'mctp', '--profile', profile]);
  const auth = await spdm([
    'authenticate',
    '--connect',
    `127.0.0.1:${emu.port}`,
    '--transport',
    'mctp',
    '--session',
    'key-exchange',
    '--nonce',
    nonce,
    '--json',
    '--shutdown',
  ]);
  assert.equal(auth.code, 0, auth.stdout + auth.stderr);
  assert.equal(await emu.done, 0);
  const out = JSON.parse(auth.stdout) as {
    session: { info: { sessionId: number } };
    evidence: { signatures: { kind: string; sessionId?: string; requesterNonce: string; signature: string }[] };
  };
  const sid = `0x${out.session.info.sessionId.toString(16).padStart(8, '0')}`;
  assert.deepEqual(
    out.evidence.signatures.map((s) => [s.kind, s.sessionId]),
    [
      ['CHALLENGE_AUTH', undefined],
      ['KEY_EXCHANGE_RSP', sid],
      ['MEASUREMENTS', sid],
    ],
  );
  // `spdm authenticate --json … | spdm verify - …`
  const ca = join(keys, 'ca.cert.der');
  const verdict = await spdmPiped(
    ['verify', '--trust', ca, '--policy', policy, '--nonce', nonce, '--json', '-'],
    auth.stdout,
  );
  assert.equal(verdict.code, 0, verdict.stdout + verdict.stderr);
  const v = JSON.parse(verdict.stdout) as { status: string; checks: { code: string; message: string }[] };
  assert.equal(v.status, 'trusted');
  assert.match(v.checks.find((c) => c.code === 'SIGNATURES_VALID')?.message ?? '', /KEY_EXCHANGE_RSP/);

  // The KEY_EXCHANGE_RSP signature edited in the file: untrusted (exit 1), that signature named.
  const kx = out.evidence.signatures[1]!;
  kx.signature = `${kx.signature.slice(0, 10)}${kx.signature[10] === '0' ? '1' : '0'}${kx.signature.slice(11)}`;
  const forged = join(scratch, 'forged.json');
  writeFileSync(forged, JSON.stringify(out));
  const refused = await spdm(['verify', '--trust', ca, '--policy', policy, '--json', forged]);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  const r = JSON.parse(refused.stdout) as { status: string; reasons: { code: string; message: string }[] };
  assert.equal(r.status, 'untrusted');
  assert.ok(
    r.reasons.some((x) => x.code === 'SIGNATURE_INVALID' && /signature 1 \(KEY_EXCHANGE_RSP, slot 0\)/.test(x.message)),
    JSON.stringify(r.reasons),
  );
});

test('spdm verify - reads standard input only up to the evidence bound', async () => {
  const { readEvidenceStream } = await import('../../src/cli/verify.js');
  assert.equal(await readEvidenceStream(Readable.from([Buffer.from('{"a"'), Buffer.from(':1}')]), 8), '{"a":1}');
  await assert.rejects(
    readEvidenceStream(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), 8),
    (e: unknown) =>
      isSpdmError(e, 'LIMIT_EXCEEDED') && /standard input: 12 exceeds the evidenceFileBytes limit of 8/.test(e.message),
  );
  const bad = await spdmPiped(['verify', '--trust', join(libspdmVectors(), 'keys', 'ecp384', 'ca.cert.der'), '-'], '{');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /spdm verify: standard input is not JSON/);
});
