/**
 * The CMA service over the shipped default simulated platform: every kind of function comes out as what it is, and the platform's events — firmware
 * update, swap, hot-unplug — reach the acceptance decisions through the same-device check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCma } from '../../src/cma/manager.js';
import { defaultPlatformFiles, loadDefaultPlatform } from '../../src/platform/default.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { loadPolicyFile, parsePolicyText } from '../../src/verifier/policy-loader.js';
import type { Clock } from '../../src/transport/clock.js';
import { FakeClock } from '../pci/fake-clock.js';

/** The verifier's notion of now: mid-2026 (the expired device's chain ended in 2024). */
const NOW = Date.parse('2026-06-01T12:00:00Z');

/** Why each kind that is not trusted comes out `no` (a verdict reason, or the requester's error). */
const WHY: Readonly<Record<string, string>> = {
  counterfeit: 'CHAIN_UNTRUSTED',
  tampered: 'MEASUREMENT_MISMATCH',
  expired: 'CERT_EXPIRED',
  'wrong-san': 'SAN_MISMATCH',
  denied: 'CERT_DENIED',
  clone: 'SIGNATURE_INVALID',
  misbehaving: 'DECODE_ERROR',
  'no-doe': 'NO_DOE',
  'no-cma': 'NO_CMA',
};

test('CMA over the default simulated platform', async () => {
  const fake = new FakeClock();
  const clock: Clock = { now: () => NOW + fake.now(), sleep: (ms) => fake.sleep(ms) };
  const files = defaultPlatformFiles();
  const trust = new TrustStore({ anchors: files.trustAnchors, deny: files.denyList });
  const policy = loadPolicyFile(files.policy);
  const platform = loadDefaultPlatform({ clock });
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-cma-default-'));
  const cma = await createCma({ platform, trust, policy, dataDir: dir, clock, autoAccept: true });
  try {
    await cma.idle();
    const rows = cma.devices().map((d) => ({
      bdf: d.bdf,
      kind: platform.deviceAt(d.bdf)?.kind,
      doe: d.doe,
      auth: d.authenticated.state,
      why: d.authenticated.state === 'yes' ? '' : d.authenticated.reason.code,
      acc: d.acceptance.state,
    }));
    assert.equal(rows.length, 16);
    for (const r of rows) {
      const where = `${r.bdf} (${r.kind})`;
      if (r.kind === 'genuine' || r.kind === 'slow') {
        assert.equal(r.auth, 'yes', where);
        assert.equal(r.acc, 'accepted', where);
        continue;
      }
      assert.equal(r.auth, r.kind === 'no-doe' || r.kind === 'no-cma' ? 'unknown' : 'no', where);
      assert.equal(r.why, WHY[r.kind ?? ''], where);
      assert.equal(r.acc, 'unaccepted', where);
    }
    const genuine = rows.filter((r) => r.kind === 'genuine').map((r) => r.bdf);
    const [a, b, c] = genuine;
    await platform.inject({ type: 'firmware-update', bdf: a!, version: '9.9.9' });
    await platform.inject({ type: 'flr', bdf: b! });
    await cma.idle();
    assert.equal(cma.device(a!).acceptance.state, 'unaccepted');
    assert.ok(cma.device(a!).sameDevice?.changes.some((x) => x.code === 'MEASUREMENT_CHANGED'));
    const accB = cma.device(b!).acceptance;
    assert.equal(accB.state === 'accepted' && accB.by, 'same-device');
    const spare = platform.spareNames()[0];
    if (spare && c) {
      await platform.inject({ type: 'swap', bdf: c, device: spare });
      await cma.idle();
      console.log(
        spare,
        cma.device(c).sameDevice?.changes.map((x) => x.code),
      );
      assert.equal(cma.device(c).acceptance.state, 'unaccepted');
    }
    await platform.inject({ type: 'hot-unplug', bdf: b! });
    await cma.idle();
    assert.ok(!cma.devices().some((d) => d.bdf === b));
  } finally {
    await cma.close();
    await platform.close();
    trust.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('setPolicy (SIGHUP): the new policy decides from the next verification on, the verdicts reached stay until then', async () => {
  const fake = new FakeClock();
  const clock: Clock = { now: () => NOW + fake.now(), sleep: (ms) => fake.sleep(ms) };
  const files = defaultPlatformFiles();
  const trust = new TrustStore({ anchors: files.trustAnchors, deny: files.denyList });
  const platform = loadDefaultPlatform({ clock });
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-cma-policy-'));
  const cma = await createCma({ platform, trust, policy: loadPolicyFile(files.policy), dataDir: dir, clock });
  const wrongSan = '0000:0a:00.0';
  const reasonOf = () => {
    const a = cma.device(wrongSan).authenticated;
    return a.state === 'yes' ? 'yes' : a.reason.code;
  };
  try {
    await cma.idle();
    assert.equal(reasonOf(), 'SAN_MISMATCH');
    // An operator's policy that leaves the CMA SAN out of it.
    cma.setPolicy(parsePolicyText('version: 1\nrules:\n  cmaSan: off\n', { format: 'yaml' }));
    assert.equal(reasonOf(), 'SAN_MISMATCH', 'nothing changes before the next verification');
    await cma.reauthenticate(wrongSan);
    await cma.idle();
    assert.equal(reasonOf(), 'yes');
    cma.setPolicy(undefined);
    await cma.reauthenticate(wrongSan);
    await cma.idle();
    assert.equal(reasonOf(), 'SAN_MISMATCH', 'the default policy checks the CMA SAN again');
  } finally {
    await cma.close();
    await platform.close();
    trust.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
