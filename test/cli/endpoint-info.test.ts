/**
 * `spdm authenticate --endpoint-info` as a script runs it: the emulator in one process, the
 * requester in another. The signed ENDPOINT_INFO is in the text output (its DeviceClassIdentifier)
 * and in the JSON's evidence, which `spdm verify` then judges; a device that cannot sign one is
 * exit 1, UNSUPPORTED.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { emulate, spdm } from '../support/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-cli-epinfo-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const keys = join(libspdmVectors(), 'keys', 'ecp384');

function profile(capabilities: string[]): string {
  const file = join(mkdtempSync(join(scratch, 'profile-')), 'profile.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'ep-info-device',
      versions: ['1.2', '1.3'],
      hash: ['SHA-384'],
      capabilities,
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
  return file;
}

const CAPS = ['CERT', 'CHAL', 'MEAS_SIG', 'MEAS_FRESH'];
const policy = join(scratch, 'no-san.yaml');
writeFileSync(policy, 'version: 1\nrules:\n  cmaSan: off\n');

test('spdm authenticate --endpoint-info: text and JSON show the signed ENDPOINT_INFO; spdm verify judges it', async () => {
  const nonce = '3c'.repeat(32);
  const emu = await emulate(['--transport', 'doe', '--profile', profile([...CAPS, 'EP_INFO_SIG'])]);
  const common = ['authenticate', '--connect', `127.0.0.1:${emu.port}`, '--transport', 'doe', '--endpoint-info'];
  const text = await spdm([...common, '--trust', join(keys, 'ca.cert.der'), '--policy', policy]);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, /^ENDPOINT_INFO: signature verified/m);
  assert.match(text.stdout, /EPInfo: DeviceClassIdentifier, 1 element\(s\): registry 3/);
  assert.match(text.stdout, /SIGNATURES_VALID.*ENDPOINT_INFO/);
  const json = await spdm([...common, '--nonce', nonce, '--json', '--shutdown']);
  assert.equal(json.code, 0, json.stdout + json.stderr);
  assert.equal(await emu.done, 0);
  const out = JSON.parse(json.stdout) as {
    evidence: { signatures: { kind: string; epInfo?: string; requesterNonce: string }[] };
  };
  const ep = out.evidence.signatures.find((s) => s.kind === 'ENDPOINT_INFO');
  assert.ok(ep?.epInfo);
  assert.equal(ep.requesterNonce, nonce);
  const file = join(scratch, 'evidence.json');
  writeFileSync(file, json.stdout);
  const verdict = await spdm([
    'verify',
    file,
    '--trust',
    join(keys, 'ca.cert.der'),
    '--policy',
    policy,
    '--nonce',
    nonce,
  ]);
  assert.equal(verdict.code, 0, verdict.stdout);
  // EPInfo edited in the saved JSON: the record no longer is what the device signed.
  const edited = JSON.parse(json.stdout) as typeof out;
  edited.evidence.signatures.find((s) => s.kind === 'ENDPOINT_INFO')!.epInfo = '00000000';
  writeFileSync(file, JSON.stringify(edited));
  const forged = await spdm([
    'verify',
    file,
    '--trust',
    join(keys, 'ca.cert.der'),
    '--policy',
    policy,
    '--nonce',
    nonce,
  ]);
  assert.equal(forged.code, 1, forged.stdout);
  assert.match(forged.stdout, /SIGNATURE_INVALID.*ENDPOINT_INFO.*EPInfo recorded/);
});

test('spdm authenticate --endpoint-info against a device without EP_INFO_CAP with signature: exit 1, UNSUPPORTED', async () => {
  const emu = await emulate(['--transport', 'doe', '--profile', profile(CAPS)]);
  const r = await spdm([
    'authenticate',
    '--connect',
    `127.0.0.1:${emu.port}`,
    '--transport',
    'doe',
    '--endpoint-info',
    '--shutdown',
  ]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /FAILED UNSUPPORTED: .*ENDPOINT_INFO/);
  assert.equal(await emu.done, 0);
});
