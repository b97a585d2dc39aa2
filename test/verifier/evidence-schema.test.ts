/**
 * schemas/evidence.schema.json says what the evidence decoder accepts: genuine evidence of every
 * shape the requester writes passes both, every hostile variation fails both, and random edits of a
 * genuine document (every member set to values at the rules' edges, removed, or joined by an unknown
 * one) get the same answer from the two — checked with the repository's own JSON
 * Schema validator and with Python's `jsonschema` (an independent implementation).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Evidence } from '../../src/evidence/evidence.js';
import { parseEvidence } from '../../src/verifier/evidence-input.js';
import { EVIDENCE_SCHEMA } from '../../src/verifier/evidence-schema.js';
import { SchemaValidator } from '../../src/verifier/schema.js';
import { repoRoot } from '../support/paths.js';
import { collect, edited, makeDevice, sessionDevice, sessionEvidence, viaJson } from './helpers.js';
import { hostileCases } from './evidence-cases.js';

const published = (): unknown =>
  JSON.parse(readFileSync(join(repoRoot(), 'schemas', 'evidence.schema.json'), 'utf8')) as unknown;
const validator = new SchemaValidator(EVIDENCE_SCHEMA);
const schemaAccepts = (doc: unknown): boolean => validator.validate(doc, 1).length === 0;

/** Genuine documents: plain, one by one, without PCI identity, SPDM 1.1 (no signing context), a session's, a signed ENDPOINT_INFO's, wrapped. */
let genuine: [string, unknown][];

before(async () => {
  const plain = await collect(makeDevice());
  const session = (await sessionEvidence(sessionDevice([0x13]), 0x13)).evidence;
  genuine = [
    ['1.3, all measurements at once', viaJson(plain)],
    ['one by one', viaJson(await collect(makeDevice(), { mode: 'one-by-one' }))],
    ['no PCI identity', viaJson(await collect(makeDevice(), { pci: null }))],
    ['SPDM 1.1', viaJson(await collect(makeDevice({ versions: [0x11] })))],
    ['KEY_EXCHANGE_RSP in a session', viaJson(session)],
    ['a signed ENDPOINT_INFO', viaJson(await collect(makeDevice({ versions: [0x13] }), { endpointInfo: true }))],
    [
      'the authenticate --json wrapper',
      viaJson({ authenticated: true, trusted: true, evidence: plain, verdict: { status: 'trusted', reasons: [] } }),
    ],
  ];
});

/** Documents the decoder refuses for a rule no JSON Schema can state (a value appears once). */
function onlyUniqueness(problems: readonly string[]): boolean {
  return problems.length > 0 && problems.every((p) => / appears twice$/.test(p));
}

test('the published schemas/evidence.schema.json is the schema in the source, and compiles', () => {
  assert.deepEqual(
    published(),
    EVIDENCE_SCHEMA,
    'regenerate schemas/evidence.schema.json from src/verifier/evidence-schema.ts (JSON.stringify(EVIDENCE_SCHEMA, null, 2))',
  );
});

test('genuine evidence passes the decoder and the schema; every hostile variation fails both', () => {
  for (const [name, doc] of genuine) {
    assert.ok(parseEvidence(doc).evidence, `${name}: ${JSON.stringify(parseEvidence(doc).problems)}`);
    assert.deepEqual(validator.validate(doc), [], name);
  }
  const base = genuine[0]![1] as Evidence;
  for (const [name, edit] of hostileCases()) {
    const doc = edited(base, edit);
    assert.equal(parseEvidence(doc).evidence, undefined, name);
    assert.equal(schemaAccepts(doc), false, `${name}: the schema accepts what the decoder refuses`);
  }
  // The decoder's own rule beyond the schema: a slot or an index appears once.
  const twice = edited(base, (d) => void d.measurements.push({ ...d.measurements[0]! }));
  assert.ok(onlyUniqueness(parseEvidence(twice).problems));
  assert.equal(schemaAccepts(twice), true);
});

type Path = readonly (string | number)[];
/** One edit of a document: a member or element set to a value, a member removed, or an unknown one added. */
type Edit = readonly [op: 'set', path: Path, value: unknown] | readonly [op: 'delete' | 'add', path: Path];

/** Values at the edges the rules draw: types, integer bounds, hex of odd and even length, the text forms. */
const EDGE_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  7,
  8,
  0x10,
  0x1f,
  0x20,
  0x7f,
  0x80,
  0xfe,
  0xff,
  0x100,
  0xffff,
  0x10000,
  0xffffff,
  0x1000000,
  0xffffffff,
  2 ** 32,
  1.5,
  '',
  'ab',
  'AB',
  'abc',
  'zz',
  'aa\n',
  '1.2',
  '0x00000001',
  '0xffffffff',
  '0000:03:00.0',
  '2026-03-01T12:00:00Z',
  'aa'.repeat(8),
  'aa'.repeat(32),
  'aa'.repeat(64),
  'aa'.repeat(65),
  [],
  {},
  ['x'],
];

/** Arrays whose entries all have one shape: their first entry stands for the rest. */
const UNIFORM = new Set(['certificates', 'chainProblems', 'measurements', 'flagNames']);

/**
 * Every edit of `base` worth trying: each member and element (but the first of a uniform array)
 * set to each edge value, each member removed, an unknown member added to each object.
 */
function edgeEdits(base: unknown): Edit[] {
  const edits: Edit[] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    if (Array.isArray(v)) {
      const n = UNIFORM.has(String(p.at(-1))) ? Math.min(1, v.length) : v.length;
      for (let i = 0; i < n; i++) {
        for (const x of EDGE_VALUES) edits.push(['set', [...p, i], x]);
        walk(v[i], [...p, i]);
      }
    } else if (typeof v === 'object' && v !== null) {
      edits.push(['add', p]);
      for (const [k, x] of Object.entries(v)) {
        edits.push(['delete', [...p, k]]);
        for (const e of EDGE_VALUES) edits.push(['set', [...p, k], e]);
        walk(x, [...p, k]);
      }
    }
  };
  walk(base, []);
  return edits;
}

/** `base` with `edit` applied, as a new document (Python applies the same edits the same way). */
function applyEdit(base: unknown, edit: Edit): unknown {
  const doc = viaJson(base);
  const path = edit[1];
  const parent = path
    .slice(0, edit[0] === 'add' ? undefined : -1)
    .reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc) as Record<string | number, unknown>;
  if (edit[0] === 'add') parent['extra'] = 'x';
  else if (edit[0] === 'delete') delete parent[path.at(-1)!];
  else parent[path.at(-1)!] = edit[2];
  return doc;
}

/** The decoder's and a schema validator's answers agree on `doc` (uniqueness aside). */
function agree(doc: unknown, schemaOk: boolean): string | undefined {
  const { evidence, problems } = parseEvidence(doc);
  if (evidence !== undefined && !schemaOk) return 'the decoder accepts, the schema refuses';
  if (evidence === undefined && schemaOk && !onlyUniqueness(problems))
    return `the schema accepts, the decoder refuses: ${problems.join('; ')}`;
  return undefined;
}

test('every edge edit of genuine evidence gets the same answer from the decoder and the schema', () => {
  for (const [name, base] of genuine.slice(0, 6)) {
    for (const edit of edgeEdits(base)) {
      const doc = applyEdit(base, edit);
      const why = agree(doc, schemaAccepts(doc));
      assert.equal(why, undefined, `${name}, ${JSON.stringify(edit)}: ${why}`);
    }
  }
});

function pythonJsonschema(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import cryptography, jsonschema'], { encoding: 'utf8' });
  return r.status === 0
    ? undefined
    : `python3 with cryptography and jsonschema is not available: ${r.stderr || r.error}`;
}

/** Python's jsonschema (Draft 2020-12) on each document, against the published schema file. */
function pythonValidates(docs: readonly unknown[], base: unknown, edits: readonly Edit[]): boolean[] {
  const script = [
    'import copy, functools, json, sys',
    'from jsonschema import Draft202012Validator',
    'schema = json.load(open(sys.argv[1]))',
    'Draft202012Validator.check_schema(schema)',
    'v = Draft202012Validator(schema)',
    'job = json.load(sys.stdin)',
    'def edited(base, edit):',
    '    doc = copy.deepcopy(base)',
    '    op, path = edit[0], edit[1]',
    "    parent = functools.reduce(lambda o, k: o[k], path if op == 'add' else path[:-1], doc)",
    "    if op == 'add': parent['extra'] = 'x'",
    "    elif op == 'delete': del parent[path[-1]]",
    '    else: parent[path[-1]] = edit[2]',
    '    return doc',
    "docs = job['docs'] + [edited(job['base'], e) for e in job['edits']]",
    'print(json.dumps([v.is_valid(d) for d in docs]))',
  ].join('\n');
  const out = execFileSync('python3', ['-c', script, join(repoRoot(), 'schemas', 'evidence.schema.json')], {
    input: JSON.stringify({ docs, base, edits }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as boolean[];
}

test("Python's jsonschema agrees: genuine evidence valid, hostile variations and edge edits judged as the decoder judges them", (t) => {
  const missing = pythonJsonschema();
  if (missing) return t.skip(missing);
  const base = genuine[0]![1] as Evidence;
  const hostile = hostileCases().map(([, edit]) => edited(base, edit));
  const edits = edgeEdits(base);
  const docs = [...genuine.map(([, d]) => d), ...hostile];
  const verdicts = pythonValidates(docs, base, edits);
  assert.equal(verdicts.length, docs.length + edits.length);
  genuine.forEach(([name], i) => assert.equal(verdicts[i], true, `${name}: Python's jsonschema refuses it`));
  hostileCases().forEach(([name], i) =>
    assert.equal(verdicts[genuine.length + i], false, `${name}: Python's jsonschema accepts it`),
  );
  edits.forEach((edit, i) => {
    const why = agree(applyEdit(base, edit), verdicts[docs.length + i]!);
    assert.equal(why, undefined, `${JSON.stringify(edit)}: ${why}`);
  });
});
