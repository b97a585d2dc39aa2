/**
 * A second, independent verifier in another language: test/log/remote_verifier.py, written from
 * docs/log-format.md and schemas/log-export.schema.json (Python standard library, `cryptography`,
 * `jsonschema`). It must accept the real export of a log of real evidence — every suite, SPDM
 * 1.0–1.3, PCI identities, secure sessions (KEY_EXCHANGE_RSP, 1.3 multi-key), slot 0xFF devices,
 * signed ENDPOINT_INFO —
 * and refuse each tampered copy, naming the entry and field; and `spdm log import` (then `spdm log
 * verify`) must refuse the same copies. The tampering comes in two strengths: a plain edit (the leaf
 * hash or a head's signature gives it away) and a consistent rewrite by someone holding the log key
 * (leaf hashes recomputed, every head re-signed), which only the binding of each field to the device's
 * signed transcript can catch.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { openLog } from '../../src/log/log.js';
import { entryFromJson } from '../../src/log/jsonl.js';
import { leafHashWithDigests } from '../../src/log/entry.js';
import { consistencyPath, rootOf, sha256 } from '../../src/log/merkle.js';
import { signTreeHead } from '../../src/log/sth.js';
import { loadPrivateKeyFile } from '../../src/log/log-key.js';
import { runLogImport, runLogVerify } from '../../src/cli/log.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { digest } from '../../src/crypto/hash.js';
import { repoRoot } from '../support/paths.js';
import {
  evidenceMatrix,
  exportTo,
  logCliIo,
  makeEvidence,
  makePublicKeyEvidence,
  makeSessionEvidence,
  pciFor,
  SUITES,
  tempDir,
} from './helpers.js';

const VERIFIER = join(repoRoot(), 'test', 'log', 'remote_verifier.py');

/** Why the Python side cannot run here, or undefined when it can. */
function pythonMissing(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import cryptography, jsonschema'], { stdio: 'pipe', timeout: 30_000 });
    return undefined;
  } catch (e) {
    return `python3 with cryptography and jsonschema is not available (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}
const missing = pythonMissing();

const tmp = tempDir('spdmkit-pyverify-');
after(() => tmp.cleanup());

type Json = Record<string, unknown>;

interface PyResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function python(file: string, pubkey: string, ...extra: string[]): Promise<PyResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', [VERIFIER, file, '--pubkey', pubkey, ...extra], { timeout: 120_000 }, (e, out, err) => {
      // A timeout or a missing interpreter has no exit code: that is the test failing, not a verdict.
      if (e && typeof e.code !== 'number') reject(new Error(`python3 did not run to an exit: ${e.message}`));
      else resolve({ code: e ? (e.code as number) : 0, out: String(out), err: String(err) });
    });
  });
}

let imports = 0;
/** What the TS side makes of an export: refused by `log import`, refused by `log verify` after importing, or accepted. */
async function typescript(
  file: string,
  pubkey: string,
): Promise<{ stage: 'import' | 'verify' | 'accepted'; text: string }> {
  const db = tmp.file(`import-${imports++}.sqlite`);
  const i = logCliIo();
  if ((await runLogImport(file, { db, pubkey }, i)) !== EXIT.OK) return { stage: 'import', text: i.err.text };
  const v = logCliIo();
  const code = await runLogVerify({ db, json: true }, v);
  const report = JSON.parse(v.out.text) as { problems: { code: string; severity: string; message: string }[] };
  const text = report.problems.map((p) => `${p.severity} ${p.code}: ${p.message}`).join('\n');
  return { stage: code === EXIT.OK ? 'accepted' : 'verify', text };
}

// ---------------- the log ----------------

let lines: Json[] = [];
let pub = '';
let signer: KeyObject;
let logId: Uint8Array;
let size = 0;

before(async () => {
  if (missing) return;
  const db = tmp.file('source.sqlite');
  const log = await openLog(db);
  try {
    // Every suite at SPDM 1.0-1.3 (Ed25519 from 1.2), two of three with a PCI identity.
    for (const ev of await evidenceMatrix('py')) await log.appendEvidence(ev);
    // Measurements one by one: unsigned MEASUREMENTS before the signed one in L.
    await log.appendEvidence(
      await makeEvidence({ suite: SUITES[0]!, version: 0x13, name: 'one-by-one', pci: pciFor(20), mode: 'one-by-one' }),
    );
    // Secure sessions: KEY_EXCHANGE_RSP and in-session MEASUREMENTS, 1.1-1.3, and a 1.3 multi-key connection (D).
    for (const [k, version] of [0x11, 0x12, 0x13].entries())
      await log.appendEvidence(
        await makeSessionEvidence({ suite: SUITES[k]!, version, name: `session${k}`, pci: pciFor(21 + k) }),
      );
    await log.appendEvidence(
      await makeSessionEvidence({ suite: SUITES[0]!, version: 0x13, name: 'multikey', multiKey: true }),
    );
    // Slot 0xFF: a provisioned public key instead of a certificate chain, with and without a session.
    for (const version of [0x11, 0x12, 0x13])
      await log.appendEvidence(await makePublicKeyEvidence({ suite: SUITES[1]!, version, name: `keyed${version}` }));
    await log.appendEvidence(
      await makeSessionEvidence({ suite: SUITES[3]!, version: 0x13, name: 'keyed-session', provisionedKey: true }),
    );
    // Signed ENDPOINT_INFO (IL1/IL2), of a certificate slot and of a provisioned key.
    await log.appendEvidence(
      await makeEvidence({ suite: SUITES[1]!, version: 0x13, name: 'ep', pci: pciFor(25), endpointInfo: true }),
    );
    await log.appendEvidence(
      await makePublicKeyEvidence({ suite: SUITES[0]!, version: 0x13, name: 'ep-keyed', endpointInfo: true }),
    );
    size = await log.size();
    await exportTo(log, tmp.file('export.jsonl'));
    signer = loadPrivateKeyFile(`${db}.key`);
    logId = log.logKey.logId;
  } finally {
    await log.close();
  }
  pub = `${db}.pub`;
  lines = readFileSync(tmp.file('export.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Json);
});

const entries = (l: Json[]) => l.filter((o) => o['type'] === 'entry');
/** The first entry the predicate picks (a live object of `l`, to edit). */
function pick(l: Json[], p: (e: Json) => boolean, what: string): Json {
  const e = entries(l).find(p);
  if (!e) throw new Error(`the test log has no ${what}`);
  return e;
}
const flipHex = (h: string, at = 0) => {
  const b = fromHex(h);
  b[at] = (b[at] as number) ^ 0x01;
  return toHex(b);
};

/**
 * What someone holding the log key can do after editing entries: recompute every leaf hash, every
 * head's root and consistency proof, re-sign every head, fix the header's size. The result is a
 * well-formed, correctly signed export: only the fields' binding to the signed transcripts tells.
 */
function reseal(l: Json[]): void {
  const leaves: Uint8Array[] = [];
  let previous: number | undefined;
  for (const o of l) {
    if (o['type'] === 'entry') {
      o['index'] = leaves.length;
      const { leafHash } = leafHashWithDigests(entryFromJson(o, 0));
      o['leafHash'] = toHex(leafHash);
      leaves.push(leafHash);
    } else if (o['type'] === 'sth') {
      const head = signTreeHead(
        signer,
        logId,
        { treeSize: leaves.length, rootHash: rootOf(leaves) },
        o['timestamp'] as number,
      );
      o['treeSize'] = head.treeSize;
      o['rootHash'] = toHex(head.rootHash);
      o['signature'] = toHex(head.signature);
      if (previous !== undefined) o['consistency'] = consistencyPath(leaves, previous, leaves.length).map(toHex);
      previous = leaves.length;
    }
  }
  (l[0] as Json)['treeSize'] = leaves.length;
}

function write(l: Json[], name: string): string {
  const f = tmp.file(`${name.replace(/[^a-z0-9]+/gi, '-')}.jsonl`);
  writeFileSync(f, `${l.map((o) => JSON.stringify(o)).join('\n')}\n`);
  return f;
}

// ---------------- the tests ----------------

test(
  'the Python verifier accepts the real export: every leaf, head, consistency proof and device signature',
  { skip: missing },
  async () => {
    const file = tmp.file('export.jsonl');
    const r = await python(file, pub);
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(r.out, `OK ${size} entries\n`);
    const kinds = new Set(
      entries(lines).map((e) => `${String(e['kind'])}/${String(e['version'])}/${e['slot'] === 0xff ? 'ff' : 'chain'}`),
    );
    for (const k of [
      'CHALLENGE_AUTH/16/chain',
      'MEASUREMENTS/19/chain',
      'KEY_EXCHANGE_RSP/17/chain',
      'KEY_EXCHANGE_RSP/19/ff',
      'CHALLENGE_AUTH/18/ff',
      'ENDPOINT_INFO/19/chain',
      'ENDPOINT_INFO/19/ff',
    ])
      assert.ok(kinds.has(k), `the log has a ${k} entry`);
    assert.ok(entries(lines).some((e) => e['pci'] !== undefined));

    const j = await python(file, pub, '--json');
    const report = JSON.parse(j.out) as { ok: boolean; entries: number; rootHash: string };
    const last = lines.at(-1) as Json;
    assert.deepEqual([report.ok, report.entries, report.rootHash], [true, size, last['rootHash']]);
    // And the TS side agrees on the untouched file.
    assert.equal((await typescript(file, pub)).stage, 'accepted');
  },
);

test('the Python verifier refuses an export pinned to another log key', { skip: missing }, async () => {
  const other = tmp.file('other.pub');
  writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  const r = await python(tmp.file('export.jsonl'), other);
  assert.equal(r.code, 1);
  assert.match(r.out, /^header: publicKey: the export is of another log than the pinned key's \(line 1\)\n$/);
});

interface Tamper {
  readonly name: string;
  readonly edit: (l: Json[]) => void;
  /** Re-seal with the log key after the edit (a consistent rewrite). */
  readonly reseal?: boolean;
  /** The Python verifier's first line of output. */
  readonly py: RegExp;
  /** Where the TS side refuses it, and how it says so. */
  readonly ts: { stage: 'import' | 'verify'; text: RegExp };
}

const chAuth12 = (e: Json) => e['kind'] === 'CHALLENGE_AUTH' && e['version'] === 0x12 && e['slot'] === 0;
const meas13 = (e: Json) => e['kind'] === 'MEASUREMENTS' && e['version'] === 0x13 && e['slot'] === 0;
const keyed = (kind: string) => (e: Json) => e['kind'] === kind && e['slot'] === 0xff;
const kx = (e: Json) => e['kind'] === 'KEY_EXCHANGE_RSP' && e['slot'] === 0;
const ep = (e: Json) => e['kind'] === 'ENDPOINT_INFO' && e['slot'] === 0;

const TAMPERS: Tamper[] = [
  // ---- plain edits: the leaf hash or the head signature gives them away ----
  {
    name: 'a signature byte edited',
    edit: (l) => {
      const e = pick(l, chAuth12, 'CHALLENGE_AUTH 1.2');
      e['signature'] = flipHex(e['signature'] as string, 10);
    },
    py: /^entry \d+: leafHash: the fields hash to [0-9a-f]{64} \(altered\)/,
    ts: { stage: 'import', text: /not to the exported leafHash \(altered\)/ },
  },
  {
    name: 'an entry dropped',
    // Entry 4, the first of an evidence's two: entry 5 then stands where 4 should.
    edit: (l) => void l.splice(l.indexOf(pick(l, (e) => e['index'] === 4, 'entry 4')), 1),
    py: /^entry 5: index: expected 4 \(entries dropped or reordered\)/,
    ts: { stage: 'import', text: /entry index 5 where 4 was expected/ },
  },
  {
    name: 'an unknown member in an entry',
    edit: (l) => void (pick(l, meas13, 'MEASUREMENTS 1.3')['note'] = 'trust me'),
    py: /^entry \d+: note: schema: Additional properties are not allowed \('note' was unexpected\)/,
    ts: { stage: 'import', text: /entry line: unknown member "note"/ },
  },
  {
    name: 'an unknown member in a pci object',
    edit: (l) => void ((pick(l, (e) => e['pci'] !== undefined, 'entry with pci')['pci'] as Json)['slotName'] = 'x'),
    py: /^entry \d+: pci: schema: Additional properties are not allowed \('slotName' was unexpected\)/,
    ts: { stage: 'import', text: /pci: unknown member "slotName"/ },
  },
  {
    name: 'a member set to null',
    edit: (l) => void (pick(l, meas13, 'MEASUREMENTS 1.3')['device'] = null),
    py: /^entry \d+: device: schema: None is not of type 'string'/,
    ts: { stage: 'import', text: /device is null/ },
  },
  {
    name: 'a pci class code wider than 24 bits',
    edit: (l) =>
      void ((pick(l, (e) => e['pci'] !== undefined, 'entry with pci')['pci'] as Json)['classCode'] = 0x1010802),
    py: /^entry \d+: pci\.classCode: schema: 16844802 is greater than the maximum of 16777215/,
    ts: { stage: 'import', text: /pci: log entry field pci\.classCode: 16844802 is not a 24-bit class code/ },
  },
  {
    name: 'loggedAt naming no real day',
    edit: (l) => void (pick(l, meas13, 'MEASUREMENTS 1.3')['loggedAt'] = '2026-02-30T10:00:00.000Z'),
    py: /^entry \d+: loggedAt: '2026-02-30T10:00:00\.000Z' is not a real instant/,
    ts: { stage: 'import', text: /loggedAt must be ISO 8601 UTC with milliseconds/ },
  },
  {
    name: 'an entry without its leafHash',
    edit: (l) => void delete pick(l, meas13, 'MEASUREMENTS 1.3')['leafHash'],
    py: /^entry \d+: leafHash: schema: 'leafHash' is a required property/,
    ts: { stage: 'import', text: /field leafHash missing/ },
  },
  {
    name: 'a header hash name other than the one an export writes',
    edit: (l) => void ((l[0] as Json)['hash'] = 'SHA-512'),
    py: /^header: hash: schema: 'SHA-256' was expected \(line 1\)/,
    ts: { stage: 'import', text: /line 1: header line: hash is not what an export writes there, got string "SHA-512"/ },
  },
  {
    name: 'a forged tree head (root and size changed, old signature)',
    edit: (l) => {
      const last = l.at(-1) as Json;
      last['rootHash'] = flipHex(last['rootHash'] as string);
    },
    py: /^sth: signature: the tree head of size \d+ is not signed by the pinned log key/,
    ts: { stage: 'import', text: /the tree head is not signed by the exported log key/ },
  },
  {
    name: 'a tree head signed by another key',
    edit: (l) => {
      const last = l.at(-1) as Json;
      const forged = signTreeHead(
        generateKeyPairSync('ed25519').privateKey,
        logId,
        { treeSize: last['treeSize'] as number, rootHash: fromHex(last['rootHash'] as string) },
        last['timestamp'] as number,
      );
      last['signature'] = toHex(forged.signature);
    },
    py: /^sth: signature: the tree head of size \d+ is not signed by the pinned log key/,
    ts: { stage: 'import', text: /not signed by the exported log key/ },
  },
  {
    name: 'a tree head dropped from the middle',
    edit: (l) =>
      void l.splice(
        l.findIndex((o) => o['type'] === 'sth' && o['treeSize'] === 10),
        1,
      ),
    py: /^sth: consistency: the proof from size 8 to 12 does not verify/,
    ts: { stage: 'import', text: /the consistency proof from size 8 to 12 does not verify/ },
  },
  {
    name: 'the newest head cut off',
    edit: (l) => void l.pop(),
    py: /^sth: \(file\): the export does not end with a signed tree head \(cut short\?\)/,
    ts: { stage: 'import', text: /does not end with the sth line/ },
  },
  {
    name: 'a consistency proof on the first head',
    edit: (l) => void ((l.find((o) => o['type'] === 'sth') as Json)['consistency'] = []),
    py: /^sth: consistency: the first head has no head before it to be consistent with \(line 2\)/,
    ts: { stage: 'import', text: /line 2: the first tree head has a consistency proof/ },
  },
  // ---- consistent rewrites with the log key: only the signed transcripts tell ----
  {
    name: 'a signature byte edited, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, chAuth12, 'CHALLENGE_AUTH 1.2');
      e['signature'] = flipHex(e['signature'] as string, 10);
    },
    py: /^entry \d+: signature: does not verify with the recorded key/,
    ts: { stage: 'verify', text: /error SIGNATURE_INVALID: entry \d+/ },
  },
  {
    name: 'the requester nonce rewritten, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, meas13, 'MEASUREMENTS 1.3');
      e['requesterNonce'] = flipHex(e['requesterNonce'] as string);
    },
    py: /^entry \d+: requesterNonce: not the nonce of the signed request/,
    ts: { stage: 'import', text: /NOT_IN_TRANSCRIPT \(requester_nonce\)/ },
  },
  {
    name: 'the responder nonce of a KEY_EXCHANGE_RSP rewritten, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, kx, 'KEY_EXCHANGE_RSP');
      e['responderNonce'] = flipHex(e['responderNonce'] as string, 31);
    },
    py: /^entry \d+: responderNonce: not the nonce of the signed response/,
    ts: { stage: 'import', text: /NOT_IN_TRANSCRIPT \(responder_nonce\)/ },
  },
  {
    name: 'the requester context rewritten, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(
        l,
        (x) => x['requesterContext'] !== undefined && x['kind'] === 'CHALLENGE_AUTH',
        '1.3 CHALLENGE_AUTH',
      );
      e['requesterContext'] = flipHex(e['requesterContext'] as string, 7);
    },
    py: /^entry \d+: requesterContext: not the one of the signed request/,
    ts: { stage: 'import', text: /NOT_IN_TRANSCRIPT \(requester_context\)/ },
  },
  {
    name: 'the requester context removed, resealed',
    reseal: true,
    edit: (l) => void delete pick(l, (x) => x['requesterContext'] !== undefined, '1.3 entry')['requesterContext'],
    py: /^entry \d+: requesterContext: absent, but the signed request carries one/,
    ts: { stage: 'import', text: /NOT_IN_TRANSCRIPT \(requester_context\)/ },
  },
  {
    name: 'a CHALLENGE_AUTH relabelled MEASUREMENTS, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, chAuth12, 'CHALLENGE_AUTH 1.2');
      e['kind'] = 'MEASUREMENTS';
      e['context'] = 'responder-measurements signing';
    },
    py: /^entry \d+: kind: recorded as MEASUREMENTS, but the device signed a CHALLENGE_AUTH transcript/,
    ts: { stage: 'import', text: /TRANSCRIPT_MISMATCH \(kind\)/ },
  },
  {
    name: 'the signing context of another kind, resealed',
    reseal: true,
    // A 1.1 KEY_EXCHANGE_RSP: before 1.2 the signature covers the transcript alone, with no context.
    edit: (l) => void (pick(l, kx, 'KEY_EXCHANGE_RSP')['context'] = 'responder-challenge_auth signing'),
    py: /^entry \d+: context: 'responder-challenge_auth signing', but a KEY_EXCHANGE_RSP of SPDM 0x11 is signed with ''/,
    ts: { stage: 'import', text: /CONTEXT_MISMATCH/ },
  },
  {
    name: 'measurementHashAlgo rewritten, resealed',
    reseal: true,
    edit: (l) => void (pick(l, chAuth12, 'CHALLENGE_AUTH 1.2')['measurementHashAlgo'] = 0x08),
    py: /^entry \d+: measurementHashAlgo: 0x8, but the signed ALGORITHMS selected 0x2/,
    ts: { stage: 'import', text: /TRANSCRIPT_MISMATCH \(meas_hash_algo\)/ },
  },
  {
    name: 'the slot rewritten, resealed',
    reseal: true,
    edit: (l) => void (pick(l, meas13, 'MEASUREMENTS 1.3')['slot'] = 1),
    py: /^entry \d+: slot: 1, but the signed request names slot 0/,
    ts: { stage: 'import', text: /TRANSCRIPT_MISMATCH \(slot\)/ },
  },
  {
    name: 'a measurement block altered, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, meas13, 'MEASUREMENTS 1.3');
      const m = e['measurements'] as string[];
      m[2] = flipHex(m[2] as string, 7);
    },
    py: /^entry \d+: measurements\[2\]: not a block of a MEASUREMENTS response in the signed transcript/,
    ts: { stage: 'import', text: /NOT_IN_TRANSCRIPT \(measurements\)/ },
  },
  {
    name: 'the measurement summary hash removed, resealed',
    reseal: true,
    edit: (l) => void delete pick(l, chAuth12, 'CHALLENGE_AUTH 1.2')['measurementSummaryHash'],
    py: /^entry \d+: measurementSummaryHash: not the MeasurementSummaryHash of the signed response/,
    ts: { stage: 'import', text: /NOT_IN_TRANSCRIPT \(meas_summary_hash\)/ },
  },
  {
    name: 'verified: false on a valid signature, resealed',
    reseal: true,
    edit: (l) => void (pick(l, meas13, 'MEASUREMENTS 1.3')['verified'] = false),
    py: /^entry \d+: verified: false, but the signature verifies/,
    ts: { stage: 'verify', text: /error VERIFIED_FLAG_MISMATCH/ },
  },
  {
    name: 'a slot 0xFF entry pointed at another public key, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, keyed('CHALLENGE_AUTH'), 'slot 0xFF CHALLENGE_AUTH');
      const spki = new Uint8Array(
        generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'der' }),
      );
      const digest = toHex(sha256(spki));
      l.splice(l.indexOf(e), 0, { type: 'chain', digest, chain: toHex(spki) });
      e['chainDigest'] = digest;
    },
    py: /^entry \d+: chainDigest: the recorded chain does not hash to the signed CertChainHash/,
    ts: { stage: 'import', text: /TRANSCRIPT_MISMATCH \(chain_digest\)/ },
  },
  {
    name: 'a signature byte of a slot 0xFF KEY_EXCHANGE_RSP edited, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, keyed('KEY_EXCHANGE_RSP'), 'slot 0xFF KEY_EXCHANGE_RSP');
      e['signature'] = flipHex(e['signature'] as string, 3);
    },
    py: /^entry \d+: signature: does not verify with the recorded key/,
    ts: { stage: 'verify', text: /error SIGNATURE_INVALID/ },
  },
  {
    name: 'the responder nonce of an ENDPOINT_INFO rewritten, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, ep, 'ENDPOINT_INFO');
      e['responderNonce'] = flipHex(e['responderNonce'] as string, 0);
    },
    py: /^entry \d+: responderNonce: not the nonce of the signed response/,
    ts: { stage: 'import', text: /NOT_IN_TRANSCRIPT \(responder_nonce\)/ },
  },
  {
    name: 'the slot of an ENDPOINT_INFO rewritten, resealed',
    reseal: true,
    edit: (l) => void (pick(l, ep, 'ENDPOINT_INFO')['slot'] = 2),
    py: /^entry \d+: slot: 2, but the signed request names slot 0/,
    ts: { stage: 'import', text: /TRANSCRIPT_MISMATCH \(slot\)/ },
  },
  {
    name: 'an EPInfo byte of an ENDPOINT_INFO edited, its transcript hash recomputed, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, ep, 'ENDPOINT_INFO');
      const t = fromHex(e['transcript'] as string);
      t[t.length - 1] = t.at(-1)! ^ 0x01;
      e['transcript'] = toHex(t);
      e['transcriptHash'] = toHex(digest(e['hashAlgo'] as number, t));
    },
    py: /^entry \d+: signature: does not verify with the recorded key/,
    ts: { stage: 'verify', text: /error SIGNATURE_INVALID/ },
  },
  {
    name: 'a measurement block added to an ENDPOINT_INFO, resealed',
    reseal: true,
    edit: (l) => {
      const block = (pick(l, meas13, 'MEASUREMENTS 1.3')['measurements'] as string[])[0]!;
      pick(l, ep, 'ENDPOINT_INFO')['measurements'] = [block];
    },
    py: /^entry \d+: measurements: a ENDPOINT_INFO entry signs no measurement blocks/,
    ts: { stage: 'import', text: /NOT_IN_TRANSCRIPT \(measurements\)/ },
  },
  {
    name: 'a CHALLENGE_AUTH relabelled ENDPOINT_INFO, resealed',
    reseal: true,
    edit: (l) => {
      const e = pick(l, (x) => x['kind'] === 'CHALLENGE_AUTH' && x['version'] === 0x13, 'CHALLENGE_AUTH 1.3');
      e['kind'] = 'ENDPOINT_INFO';
      e['context'] = 'responder-endpoint_info signing';
    },
    py: /^entry \d+: kind: recorded as ENDPOINT_INFO, but the device signed a CHALLENGE_AUTH transcript/,
    ts: { stage: 'import', text: /TRANSCRIPT_MISMATCH/ },
  },
  {
    name: 'tree heads re-signed with a timestamp going back',
    reseal: true,
    edit: (l) => {
      const heads = l.filter((o) => o['type'] === 'sth');
      const h = heads[3] as Json;
      h['timestamp'] = ((heads[2] as Json)['timestamp'] as number) - 1;
    },
    py: /^sth: timestamp: earlier than the head of size \d+ before it/,
    ts: { stage: 'import', text: /is older than the one before it/ },
  },
];

for (const t of TAMPERS) {
  test(`both verifiers refuse: ${t.name}`, { skip: missing }, async () => {
    const l = structuredClone(lines);
    t.edit(l);
    if (t.reseal) reseal(l);
    const file = write(l, t.name);
    const [py, ts] = await Promise.all([python(file, pub), typescript(file, pub)]);
    assert.equal(py.code, 1, `Python accepted it: ${py.out}${py.err}`);
    assert.match(py.out, t.py);
    assert.match(py.out, /\(line \d+\)\n$/);
    assert.equal(ts.stage, t.ts.stage, ts.text);
    assert.match(ts.text, t.ts.text);
  });
}

test(
  'a kind no verifier knows, resealed: both the Python verifier and spdm log import refuse it (KIND_UNKNOWN)',
  { skip: missing },
  async () => {
    // Nothing binds an unknown kind's nonces to its transcript, so neither side takes it on trust.
    const l = structuredClone(lines);
    const e = pick(l, meas13, 'MEASUREMENTS 1.3');
    e['kind'] = 'MEASUREMENTS_V2';
    e['requesterNonce'] = flipHex(e['requesterNonce'] as string);
    reseal(l);
    const file = write(l, 'unknown-kind');
    const [py, ts] = await Promise.all([python(file, pub), typescript(file, pub)]);
    assert.equal(py.code, 1);
    assert.match(py.out, /^entry \d+: kind: 'MEASUREMENTS_V2' is not a signed response this verifier can check/);
    assert.equal(ts.stage, 'import', ts.text);
    assert.match(ts.text, /MEASUREMENTS_V2/);
  },
);
