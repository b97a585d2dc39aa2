/**
 * The evidence bundle end to end, as a remote verifier gets it: `spdm emulate` in one process,
 * `spdm authenticate --json --nonce N` in another, the file checked against
 * schemas/evidence.schema.json by Python's jsonschema, and `spdm verify` of the file (bin/spdm.js)
 * trusted with the right anchor and nonce, refusing a stale nonce, an unknown member and a flipped
 * transcript byte with their reason codes and exit 1. The worked example in docs/evidence.md is a
 * recorded run of the same kind, and is held to verifying and to matching its file here.
 * SPDMKIT_UPDATE_EXAMPLES=1 records it afresh.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libspdmVectors, repoRoot } from '../support/paths.js';
import { emulate, spdm } from '../support/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-bundle-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const NONCE = '5a'.repeat(32);
const EXAMPLES = join(repoRoot(), 'docs', 'examples');
/** The emulated device's vendor root: libspdm's sample ECP384 CA. */
const ROOT = join(libspdmVectors(), 'keys', 'ecp384', 'ca.cert.der');
/** Over the emulator socket there is no PCI config space, so no PCI identity: the CMA SAN rule is off. */
const POLICY = join(EXAMPLES, 'emulator-policy.yaml');

function libspdmProfile(): string {
  const keys = join(libspdmVectors(), 'keys', 'ecp384');
  const file = join(scratch, 'profile.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'libspdm-sample-p384',
      versions: ['1.2', '1.3'],
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
  return file;
}

/** `spdm authenticate --json` against a fresh emulator: the outcome as printed. */
async function authenticateJson(nonce: string): Promise<string> {
  const emu = await emulate(['--transport', 'mctp', '--profile', libspdmProfile()]);
  try {
    const r = await spdm([
      'authenticate',
      '--connect',
      `127.0.0.1:${emu.port}`,
      '--transport',
      'mctp',
      '--nonce',
      nonce,
      '--json',
      '--shutdown',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r.stdout;
  } finally {
    await emu.stop();
  }
}

function pythonJsonschema(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import cryptography, jsonschema'], { encoding: 'utf8' });
  return r.status === 0
    ? undefined
    : `python3 with cryptography and jsonschema is not available: ${r.stderr || r.error}`;
}

/** Python's jsonschema on `file` against the published schema: '' when valid, else the errors. */
function pythonSchemaErrors(file: string): string {
  const script = [
    'import json, sys',
    'from jsonschema import Draft202012Validator',
    'v = Draft202012Validator(json.load(open(sys.argv[1])))',
    "print('\\n'.join(f'{e.json_path}: {e.message[:200]}' for e in v.iter_errors(json.load(open(sys.argv[2])))))",
  ].join('\n');
  return execFileSync('python3', ['-c', script, join(repoRoot(), 'schemas', 'evidence.schema.json'), file], {
    encoding: 'utf8',
  }).trim();
}

type Json = Record<string, unknown>;

function write(name: string, doc: unknown): string {
  const p = join(scratch, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return p;
}

async function verifyJson(file: string, extra: string[] = []): Promise<{ code: number; codes: string[]; out: string }> {
  const r = await spdm(['verify', file, '--trust', ROOT, '--policy', POLICY, '--json', ...extra]);
  const verdict = JSON.parse(r.stdout || '{}') as { reasons?: { code: string }[] };
  return { code: r.code, codes: (verdict.reasons ?? []).map((x) => x.code), out: r.stdout + r.stderr };
}

test('spdm authenticate --json → schema-valid bundle → spdm verify: trusted with anchor and nonce, refused when stale or altered', async (t) => {
  const outcome = await authenticateJson(NONCE);
  const wrapped = write('outcome.json', outcome);
  const evidence = (JSON.parse(outcome) as { evidence: Json }).evidence;
  const bare = write('evidence.json', evidence);

  const missing = pythonJsonschema();
  if (missing) t.diagnostic(`schema check skipped: ${missing}`);
  else
    for (const f of [wrapped, bare])
      assert.equal(pythonSchemaErrors(f), '', `${f} against schemas/evidence.schema.json`);

  for (const f of [wrapped, bare]) {
    const ok = await verifyJson(f, ['--nonce', NONCE]);
    assert.equal(ok.code, 0, ok.out);
    assert.deepEqual(ok.codes, []);
    assert.match(ok.out, /"NONCE_MATCH"/);
  }
  const text = await spdm(['verify', bare, '--trust', ROOT, '--policy', POLICY, '--nonce', NONCE]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^TRUSTED\n/);

  // Another verifier's nonce: the evidence is not an answer to its challenge.
  const stale = await verifyJson(bare, ['--nonce', 'a7'.repeat(32)]);
  assert.equal(stale.code, 1);
  assert.deepEqual([...new Set(stale.codes)], ['NONCE_MISMATCH']);

  // A member the format does not have, deep inside: refused unread.
  const extra = structuredClone(evidence) as { signatures: Json[] };
  extra.signatures[0]!['trustedBy'] = 'me';
  const unknown = await verifyJson(write('unknown.json', extra), ['--nonce', NONCE]);
  assert.equal(unknown.code, 1);
  assert.deepEqual(unknown.codes, ['MALFORMED_EVIDENCE']);
  assert.match(unknown.out, /evidence\.signatures\[0\]\.trustedBy: unknown member/);

  // One byte of a signed transcript flipped: its signature no longer verifies.
  const flipped = structuredClone(evidence) as { signatures: Json[] };
  const tr = flipped.signatures[0]!['transcript'] as string;
  const at = tr.length - 10;
  flipped.signatures[0]!['transcript'] =
    `${tr.slice(0, at)}${(parseInt(tr.slice(at, at + 2), 16) ^ 0x01).toString(16).padStart(2, '0')}${tr.slice(at + 2)}`;
  const altered = await verifyJson(write('flipped.json', flipped), ['--nonce', NONCE]);
  assert.equal(altered.code, 1);
  assert.ok(altered.codes.includes('SIGNATURE_INVALID'), altered.out);
});

/** Byte strings longer than 48 hex digits shortened, as docs/evidence.md shows them. */
function abbreviated(doc: unknown): string {
  return JSON.stringify(
    doc,
    (_k, v: unknown) =>
      typeof v === 'string' && v.length > 48 && /^[0-9a-f]+$/.test(v)
        ? `${v.slice(0, 24)}…${v.slice(-8)} (${v.length / 2} bytes)`
        : v,
    2,
  );
}

const BEGIN = '<!-- example:evidence.json (test/cli/evidence-bundle.test.ts) -->\n```json\n';
const END = '\n```\n<!-- /example -->';

test('the worked example of docs/evidence.md is a recorded run that spdm verify trusts, shown as it is', async () => {
  const file = join(EXAMPLES, 'evidence.json');
  const docPath = join(repoRoot(), 'docs', 'evidence.md');
  if (process.env['SPDMKIT_UPDATE_EXAMPLES'] === '1') {
    const evidence = (JSON.parse(await authenticateJson(NONCE)) as { evidence: unknown }).evidence;
    writeFileSync(file, `${JSON.stringify(evidence, null, 2)}\n`);
    const doc = readFileSync(docPath, 'utf8');
    const a = doc.indexOf(BEGIN);
    const b = doc.indexOf(END, a);
    assert.ok(a >= 0 && b > a, 'docs/evidence.md has the example markers');
    writeFileSync(docPath, doc.slice(0, a + BEGIN.length) + abbreviated(evidence) + doc.slice(b));
  }
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const doc = readFileSync(docPath, 'utf8');
  assert.ok(
    doc.includes(`${BEGIN}${abbreviated(recorded)}${END}`),
    'docs/evidence.md shows docs/examples/evidence.json (SPDMKIT_UPDATE_EXAMPLES=1 rewrites both)',
  );
  assert.ok(doc.includes(NONCE), 'the doc names the nonce the example was collected with');
  const r = await verifyJson(file, ['--nonce', NONCE]);
  assert.equal(r.code, 0, r.out);
  if (!pythonJsonschema()) assert.equal(pythonSchemaErrors(file), '');
});
