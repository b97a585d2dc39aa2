/**
 * The package as a consumer gets it: `npm pack`, the tarball unpacked into a temporary project,
 * a small program type-checked against the package's .d.ts and run. It imports the root and every
 * subpath of the export map; importing the root alone must load no native module (better-sqlite3
 * is loaded only when a SQLite log is opened).
 *
 * The temporary project gets the package's dependencies as links to this repository's
 * node_modules instead of an `npm install`, so the test runs offline; a dependency the package
 * uses but does not declare is then missing there and the program fails to load.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { repoRoot } from '../support/paths.js';

const root = repoRoot();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  dependencies: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
};
const ROOT_NAMES = Object.keys(await import('../../src/index.js')).length;
const SUBPATHS = Object.keys(manifest.exports)
  .filter((k) => k !== '.' && k !== './package.json')
  .map((k) => `${manifest.name}/${k.slice(2)}`);

let work = '';
let consumer = '';
let packed: string[] = [];

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

/** The consumer: the README's example against the packed package, and one name from each subpath. */
function consumerMain(): string {
  const imports = SUBPATHS.map((s, i) => `import * as sub${i} from '${s}';`).join('\n');
  const counts = SUBPATHS.map((s, i) => `  '${s}': Object.keys(sub${i}).length,`).join('\n');
  return `import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Requester, LoopbackTransport, reverifySignatures, SpdmError, type Evidence, type SignatureCheck } from 'spdmkit';
import { Responder, buildProfile } from 'spdmkit/emulator';
import { openLog } from 'spdmkit/log';
import { peekHeader } from 'spdmkit/codecs';
${imports}

function nativeModules(): string[] {
  const report = process.report.getReport() as unknown as { sharedObjects: string[] };
  return report.sharedObjects.filter((p) => p.endsWith('.node'));
}

const device = buildProfile({ name: 'nvme0', versions: [0x13], asymId: 0x0080, hashId: 0x02 });
const requester = new Requester(new LoopbackTransport(new Responder(device.profile)));
const evidence: Evidence = await requester.authenticate();
const checks: SignatureCheck[] = reverifySignatures(evidence);
const header = peekHeader(new Uint8Array([0x13, 0x84, 0, 0]));
const nativeBeforeLog = nativeModules();
const log = await openLog(join(mkdtempSync(join(tmpdir(), 'spdmkit-consumer-')), 'log.sqlite'));
const appended = await log.appendEvidence(evidence);
await log.close();
const pkg = createRequire(import.meta.url)('spdmkit/package.json') as { name: string };
console.log(JSON.stringify({
  version: evidence.version,
  signatures: checks.length,
  allValid: checks.every((c) => c.ok),
  header: header.code,
  isError: new SpdmError('DECODE_ERROR', 'x') instanceof Error,
  appended: appended.count,
  nativeBeforeLog,
  nativeAfterLog: nativeModules(),
  packageName: pkg.name,
  subpaths: {
${counts}
  },
}));
`;
}

/** Imports the root alone and reports what that loaded. */
const CONSUMER_ROOT = `import { createRequire } from 'node:module';
const start = performance.now();
const spdmkit = await import('spdmkit');
const ms = performance.now() - start;
const report = process.report.getReport() as unknown as { sharedObjects: string[] };
const cjs = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({
  names: Object.keys(spdmkit).length,
  ms: Math.round(ms),
  native: report.sharedObjects.filter((p) => p.endsWith('.node')),
  drivers: cjs.filter((p) => /[\\\\/]node_modules[\\\\/](better-sqlite3|pg|bindings)[\\\\/]/.test(p)),
}));
`;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'spdmkit-pack-'));
  const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root);
  const info = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const first = info[0];
  assert.ok(first, 'npm pack reported no tarball');
  packed = first.files.map((f) => f.path);

  consumer = join(work, 'consumer');
  const installed = join(consumer, 'node_modules', manifest.name);
  mkdirSync(installed, { recursive: true });
  run('tar', ['-xzf', join(work, first.filename), '-C', installed, '--strip-components=1'], work);
  const modules = realpathSync(join(root, 'node_modules'));
  for (const dep of [...Object.keys(manifest.dependencies), '@types/node']) {
    const link = join(consumer, 'node_modules', dep);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(modules, dep), link);
  }
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        types: ['node'],
        outDir: 'out',
        skipLibCheck: false,
      },
      include: ['main.ts', 'root-only.ts'],
    }),
  );
  writeFileSync(join(consumer, 'main.ts'), consumerMain());
  writeFileSync(join(consumer, 'root-only.ts'), CONSUMER_ROOT);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds every export-map target and no source map points at a missing file', () => {
  const files = new Set(packed);
  for (const [key, target] of Object.entries(manifest.exports)) {
    for (const path of typeof target === 'string' ? [target] : [target.types, target.default]) {
      assert.ok(files.has(posix.normalize(path)), `export ${key} → ${path} is not in the package`);
    }
  }
  const maps = packed.filter((p) => p.endsWith('.js.map'));
  assert.ok(maps.length > 0, 'no source maps packed');
  for (const map of maps) {
    assert.ok(files.has(map.slice(0, -'.map'.length)), `${map} has no script`);
    const { sources } = JSON.parse(readFileSync(join(consumer, 'node_modules', manifest.name, map), 'utf8')) as {
      sources: string[];
    };
    for (const s of sources)
      assert.ok(files.has(posix.join(posix.dirname(map), s)), `${map} points at ${s}, which is not in the package`);
  }
  for (const js of packed.filter((p) => p.endsWith('.js') && p.startsWith('dist/'))) {
    assert.ok(files.has(`${js}.map`), `${js} has no source map`);
  }
});

test('a consumer program type-checks against the packed .d.ts files', () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer);
  } catch (e) {
    assert.fail(`tsc failed:\n${(e as { stdout?: string }).stdout ?? String(e)}`);
  }
});

test(`the root export (${ROOT_NAMES} names) loads no native module`, (t) => {
  const r = JSON.parse(run(process.execPath, ['out/root-only.js'], consumer)) as {
    names: number;
    ms: number;
    native: string[];
    drivers: string[];
  };
  t.diagnostic(`import 'spdmkit': ${r.names} names in ${r.ms} ms`);
  assert.equal(r.names, ROOT_NAMES);
  assert.deepEqual(r.native, []);
  assert.deepEqual(r.drivers, []);
});

test('the consumer runs: authenticates an emulated device, re-verifies it, logs it, imports every subpath', () => {
  const r = JSON.parse(run(process.execPath, ['out/main.js'], consumer)) as {
    version: string;
    signatures: number;
    allValid: boolean;
    appended: number;
    nativeBeforeLog: string[];
    nativeAfterLog: string[];
    packageName: string;
    subpaths: Record<string, number>;
  };
  assert.ok(r.signatures > 0 && r.allValid);
  assert.equal(r.appended, r.signatures);
  assert.equal(r.packageName, manifest.name);
  // Every subpath was imported, and only opening the SQLite log brought in the native driver.
  assert.deepEqual(r.nativeBeforeLog, []);
  assert.ok(
    r.nativeAfterLog.some((p) => p.includes('better_sqlite3')),
    `better-sqlite3 not loaded by openLog: ${r.nativeAfterLog.join(', ')}`,
  );
  assert.deepEqual(Object.keys(r.subpaths).sort(), [...SUBPATHS].sort());
  for (const [s, n] of Object.entries(r.subpaths)) assert.ok(n > 0, `${s} exports nothing`);
});
