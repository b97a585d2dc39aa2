/**
 * Tree heads for witnesses: `spdm log checkpoint` prints a C2SP signed-note checkpoint that a
 * verifier written from c2sp.org/signed-note and c2sp.org/tlog-checkpoint alone (below, with
 * node:crypto) accepts; `checkpoint-verify` and `proof-verify` check checkpoints and RFC 9162
 * proofs offline, and refuse a wrong key, an edited note or a proof for another tree.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  runLogCheckpoint,
  runLogCheckpointVerify,
  runLogProof,
  runLogProofVerify,
  runLogVerify,
} from '../../src/cli/log.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { openLog } from '../../src/log/log.js';
import { generateLogKey, describePublicKey, loadPrivateKeyFile, publicKeyPem } from '../../src/log/log-key.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { evidenceMatrix, logCliIo, tempDir } from './helpers.js';

const tmp = tempDir('spdmkit-checkpoint-');
after(() => tmp.cleanup());

const db = tmp.file('log.sqlite');
const pub = tmp.file('log.sqlite.pub');
let older = '';
let olderSize = 0;

before(async () => {
  const log = await openLog(db);
  const evs = await evidenceMatrix('cp');
  for (const ev of evs.slice(0, 4)) await log.appendEvidence(ev);
  olderSize = await log.size();
  older = tmp.file('older.cp');
  writeFileSync(older, await log.checkpoint());
  for (const ev of evs.slice(4)) await log.appendEvidence(ev);
  await log.close();
});

/** c2sp.org/signed-note with an Ed25519 key, from the specification: key ID, signature lines, signed text. */
function independentlyVerify(note: string, spkiPem: string, name: string): { size: number; root: Buffer } {
  const key = createPublicKey(spkiPem);
  const raw = (key.export({ format: 'der', type: 'spki' }) as Buffer).subarray(12);
  const keyId = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([0x01]), raw]))
    .digest()
    .subarray(0, 4);
  const [text, sigs] = note.split('\n\n') as [string, string];
  const signed = Buffer.from(`${text}\n`);
  let found = false;
  for (const line of sigs.split('\n').filter((l) => l !== '')) {
    const [dash, who, b64] = line.split(' ');
    assert.equal(dash, '\u2014');
    const blob = Buffer.from(b64!, 'base64');
    if (who === name && blob.subarray(0, 4).equals(keyId)) found ||= cryptoVerify(null, signed, key, blob.subarray(4));
  }
  assert.ok(found, 'a signature by the log key under its name');
  const [origin, size, root] = text.split('\n');
  assert.equal(origin, name);
  return { size: Number(size), root: Buffer.from(root!, 'base64') };
}

test('spdm log checkpoint: a C2SP checkpoint an independent signed-note verifier accepts, for the newest head', async () => {
  const o = logCliIo();
  assert.equal(await runLogCheckpoint({ db }, o), EXIT.OK, o.err.text);
  const log = await openLog(db, { readOnly: true });
  const sth = await log.signedTreeHead();
  const name = `spdmkit.log/${log.logId}`;
  await log.close();
  const cp = independentlyVerify(o.out.text, readFileSync(pub, 'utf8'), name);
  assert.equal(cp.size, sth.treeSize);
  assert.equal(cp.root.toString('hex'), Buffer.from(sth.rootHash).toString('hex'));
  // The verifier key string witnesses are configured with.
  assert.match(o.err.text, new RegExp(`verifier key: ${name.replace('/', '\\/')}\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]+=*`));
});

test('checkpoint-verify: OK with the pinned key and against the log; an edited note, another key, another origin are refused', async () => {
  const file = tmp.file('now.cp');
  assert.equal(await runLogCheckpoint({ db, out: file }, logCliIo()), EXIT.OK);
  const good = logCliIo();
  assert.equal(await runLogCheckpointVerify(file, { pubkey: pub, db }, good), EXIT.OK, good.err.text);
  assert.match(good.out.text, /checkpoint OK: spdmkit\.log\/[0-9a-f]{64}, size \d+/);

  const note = readFileSync(file, 'utf8');
  const [origin, size] = note.split('\n');
  const edited = tmp.file('edited.cp');
  writeFileSync(edited, note.replace(`\n${size}\n`, `\n${Number(size) + 1}\n`));
  const other = tmp.file('other.pub');
  writeFileSync(other, publicKeyPem(describePublicKey(generateLogKey())));
  for (const [what, f, opts] of [
    ['edited size', edited, {}],
    ['another key', file, { pubkey: other }],
    ['another origin', file, { origin: `${origin}x` }],
  ] as const) {
    const r = logCliIo();
    assert.equal(await runLogCheckpointVerify(f, { pubkey: pub, ...opts }, r), EXIT.FAILED, what);
    assert.match(r.err.text, /checkpoint/, what);
  }
});

test('proof-verify: an inclusion proof and a consistency proof from an older checkpoint verify offline; a proof for another tree does not', async () => {
  const now = tmp.file('now2.cp');
  assert.equal(await runLogCheckpoint({ db, out: now }, logCliIo()), EXIT.OK);
  const inc = logCliIo();
  assert.equal(await runLogProof('inclusion', 3, { db }, inc), EXIT.OK, inc.err.text);
  const incFile = tmp.file('inc.json');
  writeFileSync(incFile, inc.out.text);
  const ok = logCliIo();
  assert.equal(await runLogProofVerify(incFile, { checkpoint: now, pubkey: pub }, ok), EXIT.OK, ok.err.text);
  assert.match(ok.out.text, /entry 3 is in the tree/);

  const con = logCliIo();
  assert.equal(await runLogProof('consistency', olderSize, { db }, con), EXIT.OK);
  const conFile = tmp.file('con.json');
  writeFileSync(conFile, con.out.text);
  const olderRoot = Buffer.from(readFileSync(older, 'utf8').split('\n')[2]!, 'base64').toString('hex');
  assert.equal(
    (JSON.parse(con.out.text) as { firstRoot: string }).firstRoot,
    olderRoot,
    'the older checkpoint is its first root',
  );
  assert.equal(await runLogProofVerify(conFile, { checkpoint: now, pubkey: pub }, logCliIo()), EXIT.OK);

  // The same proofs against the older checkpoint: another size, refused.
  const bad = logCliIo();
  assert.equal(await runLogProofVerify(incFile, { checkpoint: older, pubkey: pub }, bad), EXIT.FAILED);
  // A leaf hash changed: the path no longer leads to the checkpoint's root.
  const doc = JSON.parse(inc.out.text) as { leafHash: string };
  const forged = tmp.file('forged.json');
  writeFileSync(
    forged,
    JSON.stringify({ ...doc, leafHash: `${doc.leafHash[0] === '0' ? '1' : '0'}${doc.leafHash.slice(1)}` }),
  );
  const r = logCliIo();
  assert.equal(await runLogProofVerify(forged, { checkpoint: now, pubkey: pub }, r), EXIT.FAILED);
  assert.match(r.err.text, /does not verify/);
});

test('spdm log verify --checkpoint takes a C2SP checkpoint: an older one passes; one of a rewritten history or a longer log fails', async () => {
  const ok = logCliIo();
  assert.equal(await runLogVerify({ db, checkpoint: older, pubkey: pub, workers: 0 }, ok), EXIT.OK, ok.err.text);
  assert.equal(readFileSync(older, 'utf8').split('\n')[1], String(olderSize), 'a C2SP checkpoint is not rewritten');

  const key = loadPrivateKeyFile(tmp.file('log.sqlite.key'));
  const publicKey = describePublicKey(key);
  const rewritten = tmp.file('rewritten.cp');
  writeFileSync(
    rewritten,
    signCheckpoint({ treeSize: olderSize, rootHash: new Uint8Array(32).fill(7) }, { privateKey: key, publicKey }),
  );
  const longer = tmp.file('longer.cp');
  writeFileSync(
    longer,
    signCheckpoint({ treeSize: 10_000, rootHash: new Uint8Array(32).fill(7) }, { privateKey: key, publicKey }),
  );
  for (const [file, code] of [
    [rewritten, 'CHECKPOINT_MISMATCH'],
    [longer, 'TRUNCATED'],
  ] as const) {
    const r = logCliIo();
    assert.equal(
      await runLogVerify({ db, checkpoint: file, pubkey: pub, workers: 0, json: true }, r),
      EXIT.FAILED,
      code,
    );
    const report = JSON.parse(r.out.text) as { problems: { code: string }[] };
    assert.ok(
      report.problems.some((p) => p.code === code),
      `${code}: ${r.out.text.slice(0, 400)}`,
    );
  }
  // Signed by another key: refused before verifying anything.
  const other = generateLogKey();
  const forged = tmp.file('forged.cp');
  writeFileSync(
    forged,
    signCheckpoint(
      { treeSize: 1, rootHash: new Uint8Array(32) },
      { privateKey: other, publicKey: { ...describePublicKey(other), logId: publicKey.logId } },
    ),
  );
  const f = logCliIo();
  assert.equal(await runLogVerify({ db, checkpoint: forged, pubkey: pub, workers: 0 }, f), EXIT.FAILED);
  assert.match(f.err.text, /no valid signature by the log key/);
});
