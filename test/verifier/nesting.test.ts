/**
 * Deeply nested and oversized policy and evidence files: refused with a typed error that names the
 * file, where in it, and the bound (LIMITS.jsonNestingDepth, LIMITS.policyFileBytes) — never
 * "Maximum call stack size exceeded". Through the library and through `bin/spdm.js verify`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadPolicyFile, parsePolicyText } from '../../src/verifier/policy-loader.js';
import { compilePolicy, PolicyError } from '../../src/verifier/policy.js';
import { runVerifyCommand } from '../../src/cli/verify.js';
import { LIMITS, LimitError } from '../../src/wire/limits.js';
import { checkJsonText, tooDeepAt } from '../../src/wire/json-depth.js';
import { repoRoot } from '../support/paths.js';
import { pem, tempDir, vendorRoot } from './helpers.js';

const t = tempDir();
after(() => t.cleanup());
const D = LIMITS.jsonNestingDepth;
const nested = (n: number, inner = '') => `${'['.repeat(n)}${inner}${']'.repeat(n)}`;

function isNestingLimit(e: unknown, where: RegExp): boolean {
  assert.ok(e instanceof LimitError, `${String(e)}`);
  assert.equal(e.code, 'LIMIT_EXCEEDED');
  assert.equal(e.limit, 'jsonNestingDepth');
  assert.equal(e.max, D);
  assert.match(e.where, where);
  assert.match(e.message, new RegExp(`nested more than ${D} deep \\(the jsonNestingDepth limit\\)`));
  return true;
}

test('a JSON policy of 100k nested arrays: a LimitError naming the file, line and column, and the limit', () => {
  assert.throws(
    () => parsePolicyText(nested(100_000), { source: 'deep.json' }),
    (e) => isNestingLimit(e, /^deep\.json line 1:65$/),
  );
  const inRules = `{"version": 1,\n  "rules": ${nested(100_000)}}`;
  assert.throws(
    () => parsePolicyText(inRules, { source: 'p.json' }),
    (e) => isNestingLimit(e, /^p\.json line 2:\d+$/),
  );
});

test('YAML policies nested too deep, in block and in flow style: a LimitError naming the line', () => {
  assert.throws(
    () => parsePolicyText(`${'- '.repeat(100_000)}x\n`, { source: 'deep.yaml' }),
    (e) => isNestingLimit(e, /^deep\.yaml line 1:\d+$/),
  );
  assert.throws(
    () => parsePolicyText(`version: 1\nrules: ${nested(100_000)}\n`, { source: 'flow.yaml' }),
    (e) => isNestingLimit(e, /^flow\.yaml line 2:\d+$/),
  );
  const block = Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
  assert.throws(
    () => parsePolicyText(`${block} 1\n`, { source: 'indent.yaml' }),
    (e) => isNestingLimit(e, /^indent\.yaml line \d+:\d+$/),
  );
});

test('nesting up to the limit is not refused for its depth (the schema then says what is wrong)', () => {
  for (const [text, format] of [
    [`{"version": 1, "rules": ${nested(D - 1)}}`, 'json'],
    [`version: 1\nrules: ${nested(D - 1)}\n`, 'yaml'],
  ] as const) {
    assert.throws(
      () => parsePolicyText(text, { source: `ok.${format}`, format }),
      (e: unknown) =>
        e instanceof PolicyError && /\/rules: must be an object/.test(e.message) && !/nested/.test(e.message),
    );
  }
});

test('a policy value built in code, or grown by YAML aliases, is checked too: one issue at the path where it goes too deep', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.throws(
    () => compilePolicy({ version: 1, rules: deep }, 'built'),
    (e: unknown) =>
      e instanceof PolicyError &&
      e.issues.length === 1 &&
      e.issues[0]!.path === `/rules${'/0'.repeat(D - 1)}` &&
      /nested more than 64 deep \(the jsonNestingDepth limit\)/.test(e.message),
  );
  // Each half is shallow enough in the text; the alias puts one inside the other.
  const yaml = `version: 1\nx: &a ${nested(40, '1')}\nrules: ${nested(30, '*a')}\n`;
  assert.throws(
    () => parsePolicyText(yaml, { source: 'alias.yaml' }),
    (e: unknown) => e instanceof PolicyError && /jsonNestingDepth/.test(e.message),
  );
});

test('a policy file larger than LIMITS.policyFileBytes is refused before it is parsed', () => {
  const big = t.write('big.json', `{"version": 1}${' '.repeat(LIMITS.policyFileBytes)}`);
  assert.throws(
    () => loadPolicyFile(big),
    (e: unknown) =>
      e instanceof LimitError &&
      e.limit === 'policyFileBytes' &&
      e.max === LIMITS.policyFileBytes &&
      e.message.includes(big),
  );
});

test('the text scan ignores brackets inside strings and escapes', () => {
  checkJsonText(JSON.stringify({ s: '['.repeat(1000), e: '\\"[[[['.repeat(100) }), 'x');
  assert.throws(() => checkJsonText(`{"a": "\\\\", "b": ${nested(D + 1)}}`, 'x'), LimitError);
  assert.equal(tooDeepAt(JSON.parse(nested(D))), undefined);
  assert.equal(tooDeepAt(JSON.parse(nested(D + 1)))?.path, '/0'.repeat(D));
});

const run = promisify(execFile);
async function spdm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [join(repoRoot(), 'bin', 'spdm.js'), ...args], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

test('spdm verify --policy deep.json / deep.yaml, and deeply nested evidence: exit 2 naming file, line and limit', async () => {
  const roots = t.write('roots.pem', pem(vendorRoot().certificate));
  const ev = t.write('ev.json', '{}');
  const deepJson = t.write('deep.json', nested(100_000));
  const deepYaml = t.write('deep.yaml', `version: 1\nrules:\n${'  - '.repeat(1)}${'- '.repeat(100_000)}x\n`);
  const deepEv = t.write('deep-ev.json', `{"format": "spdmkit-evidence/1", "slots": ${nested(100_000)}}`);
  const cases: [string[], RegExp][] = [
    [
      ['verify', ev, '--trust', roots, '--policy', deepJson],
      /^spdm verify: .*deep\.json line 1:65: arrays and objects nested more than 64 deep \(the jsonNestingDepth limit\)\n$/,
    ],
    [
      ['verify', ev, '--trust', roots, '--policy', deepYaml],
      /^spdm verify: .*deep\.yaml line 3:\d+: YAML collections nested more than 64 deep \(the jsonNestingDepth limit\)\n$/,
    ],
    [
      ['verify', deepEv, '--trust', roots],
      /^spdm verify: .*deep-ev\.json line 1:\d+: arrays and objects nested more than 64 deep \(the jsonNestingDepth limit\)\n$/,
    ],
  ];
  for (const [argv, re] of cases) {
    const r = await spdm(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, re);
  }
  // The same through the command function.
  const r = runVerifyCommand(ev, { trust: [roots], policy: deepJson });
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /deep\.json line 1:65: .*jsonNestingDepth/);
});
