/**
 * What a cold `spdm authenticate` loads before it reaches the device (issue 12, cold start): the
 * verifier only with trust anchors, the requester only once a device answers, the YAML parser
 * only for a YAML file. Read from the process itself — every module its ESM loader resolves and
 * every CommonJS file it requires — so a static import added back shows here, not as a slower bench.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spdmBin } from '../support/cli.js';
import { createRootCa } from '../../src/x509/generate.js';

const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-cold-imports-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// The hooks run on the loader's own thread: each resolved URL is appended to the file it is told.
const hooks = join(scratch, 'hooks.mjs');
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
let out;
export function initialize(file) { out = file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(out, r.url + '\\n');
  return r;
}
`,
);
const preload = join(scratch, 'preload.mjs');
writeFileSync(
  preload,
  `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
const out = process.env.SPDMKIT_LOADED;
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: out });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(out, Object.keys(cache).join('\\n') + '\\n'));
`,
);

const root = join(scratch, 'root.der');
writeFileSync(root, createRootCa({ asymId: 0x0080, commonName: 'cold imports root' }).certificate);
const jsonPolicy = join(scratch, 'policy.json');
writeFileSync(jsonPolicy, '{ "version": 1 }\n');
const yamlPolicy = join(scratch, 'policy.yaml');
writeFileSync(yamlPolicy, 'version: 1\n');

let runs = 0;
/** `spdm ARGS` against a port nobody listens on: its exit code and the files it loaded. */
function loaded(args: readonly string[]): Promise<{ code: number; files: string[] }> {
  const out = join(scratch, `loaded-${runs++}.txt`);
  const argv = ['--import', pathToFileURL(preload).href, spdmBin, 'authenticate', '--connect', '127.0.0.1:1', ...args];
  return new Promise((resolve) => {
    // The modules, not the one-file bundle: what a module reaches is what the bundle initialises
    // (its modules start on first use too), and only the modules show it file by file.
    const env = { ...process.env, SPDMKIT_LOADED: out, SPDMKIT_BUNDLE: 'off' };
    execFile(process.execPath, argv, { env, timeout: 60_000 }, (err) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, files: readFileSync(out, 'utf8').split('\n').filter(Boolean) });
    });
  });
}

const has = (files: readonly string[], part: string) => files.some((f) => f.includes(part));

test('an unreachable device: neither the requester nor the verifier is loaded', async () => {
  const r = await loaded(['--transport', 'mctp']);
  assert.equal(r.code, 3);
  assert.ok(has(r.files, '/dist/src/transport/emu-socket.js'), 'the record names what was loaded');
  assert.ok(!has(r.files, '/dist/src/requester/requester.js'));
  for (const m of ['verify.js', 'trust-store.js', 'policy-loader.js'])
    assert.ok(!has(r.files, `/dist/src/verifier/${m}`), m);
  assert.ok(!has(r.files, '/dist/src/cli/log-command.js'), 'only the named command is registered');
});

test('trust anchors and a JSON policy: the verifier is loaded, the YAML parser is not', async () => {
  const r = await loaded(['--transport', 'mctp', '--trust', root, '--policy', jsonPolicy]);
  assert.equal(r.code, 3);
  assert.ok(has(r.files, '/dist/src/verifier/trust-store.js'));
  assert.ok(!has(r.files, '/node_modules/yaml/'));
});

test('a YAML policy loads the YAML parser', async () => {
  const r = await loaded(['--transport', 'mctp', '--trust', root, '--policy', yamlPolicy]);
  assert.equal(r.code, 3);
  assert.ok(has(r.files, '/node_modules/yaml/'));
});
