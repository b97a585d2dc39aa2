// The layer table is enforced by lint: these run the project's own eslint.config.js (through
// ESLint's Node API, as `npm run lint` does) on snippets given a path inside src/, so a rule
// that stopped firing, or started firing on allowed imports, fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { repoRoot } from '../support/paths.js';

// The snippets are not files of the TypeScript project, so lint them without type information;
// the layer rule needs none.
const eslint = new ESLint({ cwd: repoRoot(), overrideConfig: tseslint.configs.disableTypeChecked });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath });
  assert.ok(result);
  return result.messages.filter((m) => m.ruleId === 'spdmkit/layers').map((m) => m.message);
}

test('wire importing spdm fails lint, naming the layers and the table', async () => {
  const errors = await layerErrors(
    'src/wire/x.ts',
    "import { RequestCode } from '../spdm/codes.js';\nvoid RequestCode;",
  );
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /Layer 'wire' may not import 'spdm' \(\.\.\/spdm\/codes\.js\); it may import: nothing/);
  assert.match(errors[0]!, /ARCHITECTURE\.md/);
});

test('imports the table allows pass', async () => {
  assert.deepEqual(
    await layerErrors(
      'src/verifier/x.ts',
      "import { a } from '../x509/chain.js';\nimport { b } from '../evidence/evidence.js';\nvoid a; void b;",
    ),
    [],
  );
  assert.deepEqual(
    await layerErrors(
      'src/spdm/messages/x.ts',
      "import { a } from '../../wire/reader.js';\nimport { b } from '../codes.js';\nvoid a; void b;",
    ),
    [],
  );
  assert.deepEqual(await layerErrors('src/cli/x.ts', "import { a } from '../responder/responder.js';\nvoid a;"), []);
  assert.deepEqual(await layerErrors('src/index.ts', "export { Requester } from './requester/requester.js';"), []);
});

test('re-exports and import() are checked like imports', async () => {
  assert.equal((await layerErrors('src/crypto/x.ts', "export { a } from '../x509/chain.js';")).length, 1);
  assert.equal((await layerErrors('src/crypto/x.ts', "export * from '../spdm/codes.js';")).length, 1);
  assert.equal(
    (await layerErrors('src/capture/x.ts', "export async function f() { return import('../verifier/verify.js'); }"))
      .length,
    1,
  );
  assert.equal(
    (await layerErrors('src/capture/x.ts', "export async function f() { return import('../log/log.js'); }")).length,
    1,
  );
});

test('pci may import types, and only types, from evidence', async () => {
  assert.deepEqual(
    await layerErrors(
      'src/pci/x.ts',
      "import type { PciIdentity } from '../evidence/evidence.js';\nexport type P = PciIdentity;",
    ),
    [],
  );
  assert.deepEqual(
    await layerErrors(
      'src/pci/x.ts',
      "import { type PciIdentity } from '../evidence/evidence.js';\nexport type P = PciIdentity;",
    ),
    [],
  );
  const errors = await layerErrors(
    'src/pci/x.ts',
    "import { buildEvidence } from '../evidence/evidence.js';\nvoid buildEvidence;",
  );
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /only types from 'evidence'/);
});

test('log may import evidence, spdm, crypto and wire; only log/store reaches the databases', async () => {
  assert.deepEqual(
    await layerErrors(
      'src/log/x.ts',
      "import { a } from '../evidence/evidence.js';\nimport { b } from '../crypto/hash.js';\nimport { c } from '../spdm/codes.js';\nvoid a; void b; void c;",
    ),
    [],
  );
  assert.equal((await layerErrors('src/log/x.ts', "import { a } from '../verifier/verify.js';\nvoid a;")).length, 1);
  assert.equal((await layerErrors('src/evidence/x.ts', "import { a } from '../log/log.js';\nvoid a;")).length, 1);
  assert.match(
    (await layerErrors('src/log/x.ts', "import Database from 'better-sqlite3';\nvoid Database;"))[0] ?? '',
    /'better-sqlite3' may be imported only by log\/store/,
  );
  assert.equal((await layerErrors('src/log/x.ts', "export async function f() { return import('pg'); }")).length, 1);
  assert.deepEqual(
    await layerErrors(
      'src/log/store/sqlite.ts',
      "import Database from 'better-sqlite3';\nimport { a } from '../../wire/bytes.js';\nvoid Database; void a;",
    ),
    [],
  );
  // The log's old place under evidence/ is not the log any more: no database driver there.
  assert.equal(
    (await layerErrors('src/evidence/log/store-sqlite.ts', "import Database from 'better-sqlite3';\nvoid Database;"))
      .length,
    1,
  );
});

test('a documented exception allows its one file and layer, nothing else', async () => {
  assert.deepEqual(
    await layerErrors('src/log/sigcheck.ts', "import { a } from '../x509/certificate.js';\nvoid a;"),
    [],
  );
  assert.equal(
    (await layerErrors('src/log/other.ts', "import { a } from '../x509/certificate.js';\nvoid a;")).length,
    1,
  );
  assert.equal(
    (await layerErrors('src/log/sigcheck.ts', "import { a } from '../verifier/verify.js';\nvoid a;")).length,
    1,
  );
});

test('a folder of src/ missing from the table fails lint until the table names it', async () => {
  assert.match(
    (await layerErrors('src/newthing/x.ts', "import { a } from '../wire/bytes.js';\nvoid a;"))[0] ?? '',
    /src\/newthing\/ is not a layer/,
  );
  assert.match(
    (await layerErrors('src/wire/x.ts', "import { a } from '../newthing/y.js';\nvoid a;"))[0] ?? '',
    /src\/newthing\/ is not a layer/,
  );
});
