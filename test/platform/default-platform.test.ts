/**
 * The shipped default platform end to end, as the CMA layer will drive it: for every function,
 * open its config space, read its PCI identity, find its DOE mailbox (or not), authenticate over
 * it and let the verifier judge with the shipped trust anchors, deny-list and reference values.
 * Each kind of device must come out as what it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSpdmError } from '../../src/wire/errors.js';
import { toHex } from '../../src/wire/bytes.js';
import { systemClock, type Clock } from '../../src/transport/clock.js';
import type { Transport } from '../../src/transport/transport.js';
import { findExtendedCapability, PCI_EXT_CAP_ID_DOE } from '../../src/pci/config-space.js';
import { openDoeTransport } from '../../src/pci/doe-transport.js';
import { readPciIdentity } from '../../src/pci/identity.js';
import { Requester } from '../../src/requester/requester.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { loadPolicyFile } from '../../src/verifier/policy-loader.js';
import { verify } from '../../src/verifier/verify.js';
import type { ReasonCode } from '../../src/verifier/verdict.js';
import { defaultPlatformFiles, loadDefaultPlatform } from '../../src/platform/default.js';
import { PLATFORM_SCHEMA } from '../../src/platform/platform-schema.js';
import { repoRoot } from '../support/paths.js';

/** The verifier's and requester's notion of now: mid-2026 (the expired device's chain ended in 2024). */
const NOW = Date.parse('2026-06-01T12:00:00Z');
const start = Date.now();
const clock: Clock = { now: () => NOW + (Date.now() - start), sleep: (ms) => systemClock.sleep(ms) };

type Outcome =
  | { readonly trusted: true }
  | { readonly untrusted: ReasonCode }
  | { readonly error: string }
  | { readonly noDoe: true }
  | { readonly noCma: true };

/** What each kind must yield. */
const EXPECTED: Readonly<Record<string, Outcome>> = {
  genuine: { trusted: true },
  slow: { trusted: true },
  counterfeit: { untrusted: 'CHAIN_UNTRUSTED' },
  tampered: { untrusted: 'MEASUREMENT_MISMATCH' },
  expired: { untrusted: 'CERT_EXPIRED' },
  'wrong-san': { untrusted: 'SAN_MISMATCH' },
  denied: { untrusted: 'CERT_DENIED' },
  clone: { error: 'SIGNATURE_INVALID' },
  // A CHALLENGE_AUTH 7 bytes short.
  misbehaving: { error: 'DECODE_ERROR' },
  'no-doe': { noDoe: true },
  'no-cma': { noCma: true },
};

/** Counts ResponseNotReady answers (ERROR 0x42) going past, to show the slow device used them. */
class Watching implements Transport {
  notReady = 0;
  constructor(private readonly inner: Transport) {}
  get maxMessageSize(): number {
    return this.inner.maxMessageSize;
  }
  get securedCapable(): boolean {
    return this.inner.securedCapable;
  }
  async exchange(request: Uint8Array, options?: { timeoutMs?: number }): Promise<Uint8Array> {
    const r = await this.inner.exchange(request, options);
    if (r[1] === 0x7f && r[2] === 0x42) this.notReady++;
    return r;
  }
}

test('the default platform: every kind of device is told apart by the requester and the verifier', async () => {
  const files = defaultPlatformFiles();
  const trust = new TrustStore({ anchors: files.trustAnchors, deny: files.denyList });
  const policy = loadPolicyFile(files.policy);
  const platform = loadDefaultPlatform();
  try {
    const fns = await platform.functions();
    assert.equal(fns.length, 16);
    assert.deepEqual(
      fns.map((f) => f.bdf),
      [...fns.map((f) => f.bdf)].sort(),
    );
    const kinds = new Set<string>();
    await Promise.all(
      fns.map(async (fn) => {
        const kind = platform.deviceAt(fn.bdf)?.kind ?? '?';
        kinds.add(kind);
        const expected = EXPECTED[kind];
        assert.ok(expected, `${fn.bdf}: unexpected kind ${kind}`);
        const where = `${fn.bdf} (${kind})`;
        const cs = await fn.openConfigSpace();
        const pci = await readPciIdentity(cs, fn.bdf);
        assert.equal(pci.bdf, fn.bdf);
        const doeAt = await findExtendedCapability(cs, PCI_EXT_CAP_ID_DOE);
        if ('noDoe' in expected) {
          assert.equal(doeAt, undefined, where);
          await cs.close?.();
          return;
        }
        assert.notEqual(doeAt, undefined, where);
        let transport;
        try {
          transport = await openDoeTransport(cs, { ownsConfigSpace: true });
        } catch (e) {
          await cs.close?.();
          assert.ok('noCma' in expected, `${where}: ${String(e)}`);
          assert.ok(isSpdmError(e) && e.code === 'UNSUPPORTED', `${where}: ${String(e)}`);
          return;
        }
        assert.ok(!('noCma' in expected), `${where}: a CMA mailbox was found`);
        const watching = new Watching(transport);
        try {
          const nonce = new Uint8Array(32).fill(fn.bdf.length);
          const requester = new Requester(watching, { pci, clock });
          let evidence;
          try {
            evidence = await requester.authenticate({ nonce });
          } catch (e) {
            assert.ok('error' in expected, `${where}: ${String(e)}`);
            assert.ok(isSpdmError(e), `${where}: not a typed error: ${String(e)}`);
            assert.equal(e.code, expected.error, where);
            return;
          }
          assert.ok(!('error' in expected), `${where}: authenticated`);
          const verdict = verify(evidence, policy, trust, { now: new Date(clock.now()), expectedNonce: toHex(nonce) });
          const codes = verdict.reasons.map((r) => r.code);
          if ('trusted' in expected) {
            assert.equal(verdict.status, 'trusted', `${where}: ${JSON.stringify(verdict.reasons)}`);
            if (kind === 'slow') assert.ok(watching.notReady >= 1, `${where}: ${watching.notReady} ResponseNotReady`);
            else assert.equal(watching.notReady, 0, where);
          } else if ('untrusted' in expected) {
            assert.equal(verdict.status, 'untrusted', where);
            assert.deepEqual([...new Set(codes)], [expected.untrusted], `${where}: ${JSON.stringify(verdict.reasons)}`);
          }
        } finally {
          await transport.close();
        }
      }),
    );
    assert.deepEqual([...kinds].sort(), Object.keys(EXPECTED).sort(), 'every kind is on the default platform');
  } finally {
    await platform.close();
    trust.close();
  }
});

test('the default platform ships: its files are in package.json "files" and its schema is the published one', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('platform'), 'package.json "files" ships platform/');
  assert.ok(pkg.files.includes('schemas'), 'package.json "files" ships schemas/');
  const published = JSON.parse(readFileSync(join(repoRoot(), 'schemas', 'platform.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(
    published,
    PLATFORM_SCHEMA,
    'regenerate schemas/platform.schema.json from src/platform/platform-schema.ts',
  );
  assert.ok(defaultPlatformFiles().platform.startsWith(repoRoot()));
});
