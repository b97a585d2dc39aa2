/** Policy files: schema errors name the path of the bad field; YAML and JSON say the same thing; the published schema is the one enforced. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';
import { POLICY_SCHEMA } from '../../src/verifier/policy-schema.js';
import { SchemaValidator } from '../../src/verifier/schema.js';
import { compilePolicy, DEFAULT_POLICY, PolicyError } from '../../src/verifier/policy.js';
import { loadPolicyFile, parsePolicyText } from '../../src/verifier/policy-loader.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { collect, makeDevice, NOW, tempDir, vendorRoot } from './helpers.js';

function issuesOf(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    if (e instanceof PolicyError) return e.issues.map((i) => ({ path: i.path, message: i.message }));
    throw e;
  }
  assert.fail('expected a PolicyError');
}

const JSON_POLICY = `{
  "$schema": "../schemas/policy.schema.json",
  "version": 1,
  "rules": { "cmaSan": "required", "responderAuthEku": "warn" },
  "evidence": { "maxAgeSeconds": 300, "minSpdmVersion": "1.2", "requireDevicePolicy": true },
  "devices": [
    {
      "name": "Acme X100",
      "match": { "pci": { "vendorId": "8086", "deviceId": "0x0b25", "subsystemVendorId": "8086", "subsystemId": "0001" } },
      "measurements": { "1": ["AABB"], "2": ["ccdd", "eeff"] },
      "ignore": [3, 4],
      "minSvn": 1
    },
    { "name": "any Acme", "match": { "subjectPattern": "^CN=Acme " }, "unlisted": "ignore" }
  ]
}`;

const YAML_POLICY = `# the same policy, in YAML
$schema: ../schemas/policy.schema.json
version: 1
rules:
  cmaSan: required
  responderAuthEku: warn
evidence:
  maxAgeSeconds: 300
  minSpdmVersion: "1.2"
  requireDevicePolicy: true
devices:
  - name: Acme X100
    match:
      pci: { vendorId: "8086", deviceId: "0x0b25", subsystemVendorId: "8086", subsystemId: "0001" }
    measurements:
      1: [AABB]
      2:
        - ccdd
        - eeff
    ignore: [3, 4]
    minSvn: 1
  - name: any Acme
    match:
      subjectPattern: "^CN=Acme "
    unlisted: ignore
`;

function plain(p: ReturnType<typeof compilePolicy>): unknown {
  return JSON.parse(
    JSON.stringify({ ...p, source: undefined, sha256: undefined }, (_k, v: unknown) =>
      v instanceof Map
        ? [...v.entries()]
        : v instanceof Set
          ? [...v]
          : v instanceof RegExp
            ? v.source
            : typeof v === 'bigint'
              ? v.toString()
              : v,
    ),
  );
}

test('YAML and JSON policies compile to the same policy and give the same verdicts', async () => {
  const j = parsePolicyText(JSON_POLICY, { source: 'p.json' });
  const y = parsePolicyText(YAML_POLICY, { source: 'p.yaml' });
  assert.deepEqual(plain(y), plain(j));
  assert.equal(j.devices[0]!.match.pci?.deviceId, 0x0b25);
  assert.deepEqual(j.devices[0]!.referenceValues.get(1), ['aabb']);
  assert.equal(j.evidence.minSpdmVersion, 0x12);
  assert.equal(j.devices[0]!.minSvn, 1n);

  const trust = TrustStore.fromCertificates([vendorRoot().certificate]);
  const e = await collect(makeDevice());
  const vj = verify(e, j, trust, { now: NOW });
  const vy = verify(e, y, trust, { now: NOW });
  assert.deepEqual(vy, vj);
  assert.deepEqual(
    vj.reasons.map((r) => r.code),
    ['MEASUREMENT_MISMATCH', 'MEASUREMENT_MISMATCH', 'MEASUREMENT_UNEXPECTED'],
  );
  assert.deepEqual(
    vj.warnings.map((r) => r.code),
    [],
  );

  // Files, by extension.
  const t = tempDir();
  try {
    assert.deepEqual(
      plain(loadPolicyFile(t.write('policy.yml', YAML_POLICY))),
      plain(loadPolicyFile(t.write('policy.json', JSON_POLICY))),
    );
  } finally {
    t.cleanup();
  }
});

test('schema errors name the JSON path of the bad field (and the YAML line)', () => {
  const yamlIssues = issuesOf(() =>
    parsePolicyText(
      `version: 1
rules:
  chian: required
  cmaSan: maybe
devices:
  - name: Acme X100
    match:
      pci:
        vendorId: 8086
    measurements:
      2: [xyz]
      300: ["00"]
    minSvn: -1
`,
      { source: 'bad.yaml' },
    ),
  );
  const paths = yamlIssues.map((i) => i.path);
  assert.deepEqual(paths, [
    '/rules/chian',
    '/rules/cmaSan',
    '/devices/0/match/pci/vendorId',
    '/devices/0/measurements/2/0',
    '/devices/0/measurements/300',
    '/devices/0/minSvn',
  ]);
  const byPath = new Map(yamlIssues.map((i) => [i.path, i.message]));
  assert.match(byPath.get('/rules/chian')!, /unknown property "chian" \(allowed: chain, deny, .*\) \(line 3:3\)/);
  assert.match(byPath.get('/rules/cmaSan')!, /must be one of "required", "warn", "off", not "maybe" \(line 4:11\)/);
  // The YAML trap: an unquoted 8086 is the decimal number 8086, not the vendor 0x8086.
  assert.match(
    byPath.get('/devices/0/match/pci/vendorId')!,
    /must be a string, not integer 8086 \(a 16-bit ID as 4 hex digits, quoted/,
  );
  assert.match(byPath.get('/devices/0/measurements/2/0')!, /"xyz" is not a measurement value in hex/);
  assert.match(byPath.get('/devices/0/minSvn')!, /must be at least 0, not -1/);

  const jsonIssues = issuesOf(() =>
    compilePolicy({ version: 2, devices: [{ name: 'a', match: {} }, { match: { pci: { vendorId: '80861' } } }] }),
  );
  assert.deepEqual(
    jsonIssues.map((i) => i.path),
    ['/version', '/devices/0/match', '/devices/1', '/devices/1/match/pci/vendorId'],
  );
  assert.match(jsonIssues[2]!.message, /missing the required property "name"/);

  // Checks beyond the schema keep the same path style.
  const semantic = issuesOf(() =>
    compilePolicy({
      version: 1,
      devices: [
        { name: 'a', match: { subjectPattern: '(' }, measurements: { '3': ['00'] }, ignore: [3] },
        { name: 'a', match: { subject: 'CN=x' } },
      ],
    }),
  );
  assert.deepEqual(
    semantic.map((i) => i.path),
    ['/devices/0/match/subjectPattern', '/devices/0/ignore', '/devices/1/name'],
  );

  // Not JSON / not YAML at all.
  assert.match(issuesOf(() => parsePolicyText('{"version": 1,', { source: 'x.json' }))[0]!.message, /not valid JSON/);
  assert.match(
    issuesOf(() => parsePolicyText('version: 1\nversion: 1\n', { source: 'x.yaml' }))[0]!.message,
    /not valid YAML \(line 2/,
  );
  assert.match(issuesOf(() => loadPolicyFile('/nonexistent/policy.yaml'))[0]!.message, /cannot be read/);
});

test('the published schemas/policy.schema.json is the schema the validator enforces', () => {
  const published = JSON.parse(readFileSync(join(repoRoot(), 'schemas', 'policy.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(
    published,
    POLICY_SCHEMA,
    'regenerate schemas/policy.schema.json from src/verifier/policy-schema.ts',
  );
  // The validator refuses keywords it does not implement, so the schema cannot use one unnoticed.
  assert.throws(
    () => new SchemaValidator({ type: 'object', dependentRequired: {} }),
    /keyword "dependentRequired" is not supported/,
  );
  assert.throws(() => new SchemaValidator({ $ref: 'https://example.com/x' }), /only local/);
});

test('the policy in docs/policy.md is valid', () => {
  const md = readFileSync(join(repoRoot(), 'docs', 'policy.md'), 'utf8');
  const blocks = [...md.matchAll(/```(yaml|json)\n([\s\S]*?)```/g)];
  assert.ok(blocks.length >= 2);
  for (const b of blocks) parsePolicyText(b[2]!, { format: b[1] as 'yaml' | 'json', source: `docs/policy.md ${b[1]}` });
});

test('defaults: every certificate rule required except the strict responder-auth EKU, signed measurements, evidence time', () => {
  assert.equal(DEFAULT_POLICY.rules.cmaSan, 'required');
  assert.equal(DEFAULT_POLICY.rules.responderAuthEku, 'off');
  assert.equal(DEFAULT_POLICY.evidence.signedMeasurements, true);
  assert.equal(DEFAULT_POLICY.evidence.certificateTime, 'collected');
  assert.equal(DEFAULT_POLICY.evidence.requireDevicePolicy, false);
});
