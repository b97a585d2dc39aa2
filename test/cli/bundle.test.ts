/**
 * The one-file CLI and its V8 code cache (src/cli/bundle.ts): `npm run build` makes it, `spdm`
 * uses it only while every input is the file it was built from, and it behaves as the modules do.
 * Every other test that spawns `spdm` runs it too, so those are the bundle's behaviour tests;
 * these check the decision to use it and that the two forms give the same answers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { BUNDLE_DIR, inputStamp, loadBundle, type BundleManifest } from '../../src/cli/bundle.js';
import { spdmBin, emulate } from '../support/cli.js';
import { libspdmVectors, repoRoot } from '../support/paths.js';
import { buildProfile } from '../../src/responder/profiles.js';
import { Requester } from '../../src/requester/requester.js';
import { Responder } from '../../src/responder/responder.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-bundle-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const manifest = (): BundleManifest =>
  JSON.parse(readFileSync(join(BUNDLE_DIR, 'manifest.json'), 'utf8')) as BundleManifest;

/** `spdm ARGS` with the bundle on or off: exit code, stdout, stderr. */
async function cli(args: readonly string[], bundle: 'on' | 'off') {
  const env = { ...process.env, SPDMKIT_BUNDLE: bundle };
  try {
    const r = await run(process.execPath, [spdmBin, ...args], { env, timeout: 60_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

test('the build leaves a current bundle whose code cache V8 accepts in a plain node process', async () => {
  // A child with node's default flags, as `spdm` runs: the test runner's own flags could make
  // V8 refuse a cache that a user's `spdm` takes.
  const probe = `import('${new URL('../../src/cli/bundle.js', import.meta.url).href}').then((b) => {
    const l = b.loadBundle();
    console.log(JSON.stringify({ loaded: l !== undefined, cache: l?.cacheAccepted ?? false }));
  })`;
  const r = await run(process.execPath, ['-e', probe], { env: { ...process.env, SPDMKIT_BUNDLE: '' } });
  assert.deepEqual(JSON.parse(r.stdout), { loaded: true, cache: true });
  assert.ok(
    manifest().inputs.some(([p]) => p === 'dist/src/cli/main.js'),
    'the manifest lists the modules it holds',
  );
  assert.ok(
    manifest().inputs.some(([p]) => p.endsWith('node_modules/commander/package.json')),
    'and each package by its package.json',
  );
});

test('a bundle is used only while every input is the file it was built from', () => {
  // A copy of the package as far as the manifest reaches, with a manifest of the copies' own
  // stamps (a copy cannot keep a file's mtime to the nanosecond), to change one file in.
  const root = join(scratch, 'package');
  const dir = join(root, 'dist', 'bundle');
  mkdirSync(dir, { recursive: true });
  for (const name of ['spdm.cjs', 'spdm.v8cache']) cpSync(join(BUNDLE_DIR, name), join(dir, name));
  const inputs = manifest().inputs.map(([path]) => {
    // A package reached through a symlinked node_modules is named by its real path; the copy puts it under node_modules.
    const local = path.startsWith('../') ? path.slice(path.lastIndexOf('node_modules/')) : path;
    const to = join(root, local);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(repoRoot(), path), to);
    return inputStamp(local, root)!;
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: 1, inputs }));
  assert.ok(loadBundle({ dir, root, withCache: false }), 'an exact copy is current');

  const module = join(root, 'dist', 'src', 'verifier', 'verify.js');
  const { atime, mtime } = statSync(module);
  const text = readFileSync(module);
  appendFileSync(module, '\n');
  utimesSync(module, atime, mtime);
  assert.equal(loadBundle({ dir, root }), undefined, 'a module one byte longer (mtime set back): stale');
  writeFileSync(module, text);
  utimesSync(module, atime, new Date(mtime.getTime() + 1000));
  assert.equal(loadBundle({ dir, root }), undefined, 'the same bytes with a new mtime: stale');

  const pkg = join(root, 'node_modules', 'commander', 'package.json');
  rmSync(pkg);
  assert.equal(loadBundle({ dir, root }), undefined, 'a package gone: stale');
});

test('a missing or malformed manifest means no bundle, never an error', () => {
  const dir = join(scratch, 'manifests');
  mkdirSync(dir, { recursive: true });
  cpSync(join(BUNDLE_DIR, 'spdm.cjs'), join(dir, 'spdm.cjs'));
  assert.equal(loadBundle({ dir }), undefined, 'no manifest');
  const inputs = manifest().inputs;
  for (const text of [
    'not json',
    'null',
    '[]',
    JSON.stringify({ version: 2, inputs }),
    JSON.stringify({ version: 1, inputs: [] }),
    JSON.stringify({ version: 1, inputs: {} }),
    JSON.stringify({ version: 1, inputs: [[1, 2, 3]] }),
    JSON.stringify({ version: 1, inputs: [['dist/src/cli/main.js', 1]] }),
  ]) {
    writeFileSync(join(dir, 'manifest.json'), text);
    assert.equal(loadBundle({ dir }), undefined, text.slice(0, 40));
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: 1, inputs }));
  assert.ok(loadBundle({ dir, withCache: false }), 'the same manifest, well formed: used');
});

test('SPDMKIT_BUNDLE=off turns the bundle off', () => {
  const before = process.env['SPDMKIT_BUNDLE'];
  process.env['SPDMKIT_BUNDLE'] = 'off';
  try {
    assert.equal(loadBundle(), undefined);
  } finally {
    if (before === undefined) delete process.env['SPDMKIT_BUNDLE'];
    else process.env['SPDMKIT_BUNDLE'] = before;
  }
});

test('the bundle and the modules give the same exit code and output', async () => {
  const device = buildProfile({ name: 'bundle0', versions: [0x13], asymId: 0x0080, hashId: 0x02 });
  const evidence = join(scratch, 'evidence.json');
  writeFileSync(
    evidence,
    JSON.stringify(await new Requester(new LoopbackTransport(new Responder(device.profile))).authenticate()),
  );
  const root = join(scratch, 'root.der');
  writeFileSync(root, device.root.certificate);
  const policy = join(scratch, 'policy.yaml');
  writeFileSync(policy, 'version: 1\nrules:\n  cmaSan: off\n');
  const cases: string[][] = [
    ['--help'],
    ['authenticate', '--help'],
    ['log', '--help'],
    ['no-such-command'],
    ['authenticate', '--slot', '9'],
    ['verify', evidence, '--trust', root, '--policy', policy],
    ['verify', evidence, '--trust', root, '--policy', policy, '--json'],
    ['verify', evidence],
    ['dump', join(libspdmVectors(), 'captures', 'doe-v11.pcap')],
    ['dump', '--json', join(libspdmVectors(), 'captures', 'mctp-default.pcap')],
    ['dump', join(scratch, 'no-such.pcap')],
  ];
  for (const args of cases) {
    const [on, off] = await Promise.all([cli(args, 'on'), cli(args, 'off')]);
    // A verdict carries the moment it was made; everything else must match byte for byte.
    const at = (r: { code: number; stdout: string; stderr: string }) => ({
      ...r,
      stdout: r.stdout.replace(/"verifiedAt": "[^"]+"/g, '"verifiedAt": "…"'),
    });
    assert.deepEqual(at(on), at(off), `spdm ${args.join(' ')}`);
  }
});

test('spdm authenticate to the verdict through the bundle, against spdm emulate', async () => {
  const keys = join(libspdmVectors(), 'keys', 'ecp384');
  const profile = join(scratch, 'profile.json');
  writeFileSync(
    profile,
    JSON.stringify({
      name: 'bundle-device',
      hash: ['SHA-384'],
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
  const emu = await emulate(['--transport', 'doe', '--profile', profile]);
  try {
    const ca = join(keys, 'ca.cert.der');
    const policy = join(scratch, 'policy-auth.json');
    writeFileSync(policy, JSON.stringify({ version: 1, rules: { cmaSan: 'off' } }));
    const args = [
      'authenticate',
      '--connect',
      `127.0.0.1:${emu.port}`,
      '--transport',
      'doe',
      '--trust',
      ca,
      '--policy',
      policy,
      '--json',
    ];
    const [on, off] = [await cli(args, 'on'), await cli(args, 'off')];
    assert.equal(on.code, 0, on.stderr);
    assert.equal(off.code, 0, off.stderr);
    const verdict = (r: { stdout: string }) =>
      (JSON.parse(r.stdout) as { verdict?: { status?: unknown } }).verdict?.status;
    assert.equal(verdict(on), 'trusted');
    assert.equal(verdict(off), 'trusted');
  } finally {
    await emu.stop();
  }
});
