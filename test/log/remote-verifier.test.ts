/**
 * A remote attestation service's view: an export file and the pinned log key, nothing of spdmkit.
 * This verifier is written from docs/log-format.md with node:crypto only — leaf encoding, Merkle
 * tree, tree head signature and the SPDM signature construction — and must agree with the log.
 * Holding the side fields (nonces, slot, algorithms) to their places in the decoded transcript is
 * the Python second verifier's part (test/log/remote_verifier.py, python-verifier.test.ts).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify, X509Certificate, constants, type KeyObject } from 'node:crypto';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { openLog } from '../../src/log/log.js';
import { evidenceMatrix, makeEvidence, pciFor, SUITES, tempDir } from './helpers.js';

const tmp = tempDir('spdmkit-remote-');
after(() => tmp.cleanup());

// ---------------- the independent verifier ----------------

const HASH: Record<number, { name: string; size: number }> = {
  1: { name: 'sha256', size: 32 },
  2: { name: 'sha384', size: 48 },
  4: { name: 'sha512', size: 64 },
};
const sha256 = (...p: Buffer[]) => p.reduce((h, x) => h.update(x), createHash('sha256')).digest();
const u = (v: number, w: number) => {
  const b = Buffer.alloc(w);
  b.writeUIntBE(v, w - Math.min(w, 6), Math.min(w, 6));
  return b;
};
const tlv = (tag: number, value: Buffer) => Buffer.concat([Buffer.from([tag]), u(value.length, 4), value]);

type Json = Record<string, unknown>;

function pciBytes(p: Json): Buffer {
  const out: Buffer[] = [];
  if (p['bdf'] !== undefined) out.push(tlv(1, Buffer.from(p['bdf'] as string, 'utf8')));
  out.push(
    tlv(2, u(p['vendorId'] as number, 2)),
    tlv(3, u(p['deviceId'] as number, 2)),
    tlv(4, u(p['classCode'] as number, 4)),
    tlv(5, u(p['revisionId'] as number, 1)),
  );
  if (p['subsystemVendorId'] !== undefined) out.push(tlv(6, u(p['subsystemVendorId'] as number, 2)));
  if (p['subsystemId'] !== undefined) out.push(tlv(7, u(p['subsystemId'] as number, 2)));
  if (p['serialNumber'] !== undefined) out.push(tlv(8, Buffer.from(p['serialNumber'] as string, 'utf8')));
  return Buffer.concat(out);
}

function leafOf(e: Json): Buffer {
  const h = (k: string) => Buffer.from(e[k] as string, 'hex');
  const s = (k: string) => Buffer.from(e[k] as string, 'utf8');
  const parts: Buffer[] = [Buffer.from([1])];
  const add = (tag: number, key: string, enc: () => Buffer) => {
    if (e[key] !== undefined) parts.push(tlv(tag, enc()));
  };
  add(0x01, 'index', () => u(e['index'] as number, 8));
  add(0x02, 'evidenceIndex', () => u(e['evidenceIndex'] as number, 8));
  add(0x03, 'loggedAt', () => u(Date.parse(e['loggedAt'] as string), 8));
  add(0x04, 'collectedAt', () => s('collectedAt'));
  add(0x05, 'device', () => s('device'));
  add(0x06, 'pci', () => pciBytes(e['pci'] as Json));
  add(0x07, 'kind', () => s('kind'));
  add(0x08, 'version', () => u(e['version'] as number, 1));
  add(0x09, 'slot', () => u(e['slot'] as number, 1));
  add(0x0a, 'asymAlgo', () => u(e['asymAlgo'] as number, 4));
  add(0x0b, 'hashAlgo', () => u(e['hashAlgo'] as number, 4));
  add(0x0c, 'measurementHashAlgo', () => u(e['measurementHashAlgo'] as number, 4));
  add(0x0d, 'measurementSpec', () => u(e['measurementSpec'] as number, 1));
  add(0x0e, 'otherParams', () => u(e['otherParams'] as number, 4));
  add(0x0f, 'requesterNonce', () => h('requesterNonce'));
  add(0x10, 'responderNonce', () => h('responderNonce'));
  add(0x11, 'requesterContext', () => h('requesterContext'));
  add(0x12, 'context', () => s('context'));
  add(0x13, 'transcript', () => h('transcript'));
  add(0x14, 'transcriptHash', () => h('transcriptHash'));
  add(0x15, 'signature', () => h('signature'));
  add(0x16, 'measurementSummaryHash', () => h('measurementSummaryHash'));
  add(0x17, 'chainDigest', () => h('chainDigest'));
  add(0x18, 'measurements', () => {
    const blocks = (e['measurements'] as string[]).map((b) => Buffer.from(b, 'hex'));
    return Buffer.concat([u(blocks.length, 4), ...blocks.flatMap((b) => [u(b.length, 4), b])]);
  });
  add(0x19, 'verified', () => Buffer.from([e['verified'] ? 1 : 0]));
  return Buffer.concat(parts);
}

function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function leafKey(chain: Buffer, hashSize: number): KeyObject {
  let o = 4 + hashSize;
  let last: Buffer | undefined;
  while (o < chain.length) {
    // DER SEQUENCE: 0x30, then a short or long length.
    let len = chain[o + 1] as number;
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = chain.readUIntBE(o + 2, n);
      hdr = 2 + n;
    }
    last = chain.subarray(o, o + hdr + len);
    o += hdr + len;
  }
  return new X509Certificate(last as Buffer).publicKey;
}

function spdmSignatureOk(e: Json, chain: Buffer): boolean {
  const hash = HASH[e['hashAlgo'] as number] as { name: string; size: number };
  const transcript = Buffer.from(e['transcript'] as string, 'hex');
  const th = createHash(hash.name).update(transcript).digest();
  if (!th.equals(Buffer.from(e['transcriptHash'] as string, 'hex'))) return false;
  const version = e['version'] as number;
  let message = transcript;
  if (version >= 0x12) {
    const prefix = Buffer.alloc(100);
    for (let i = 0; i < 4; i++) prefix.write(`dmtf-spdm-v${version >> 4}.${version & 0xf}.*`, i * 16, 'latin1');
    const ctx = e['context'] as string;
    prefix.write(ctx, 100 - ctx.length, 'latin1');
    message = Buffer.concat([prefix, th]);
  }
  const key = leafKey(chain, hash.size);
  const sig = Buffer.from(e['signature'] as string, 'hex');
  switch (e['asymAlgo']) {
    case 0x0400:
      return verify(null, message, key, sig);
    case 0x0010:
    case 0x0080:
      return verify(hash.name, message, { key, dsaEncoding: 'ieee-p1363' }, sig);
    case 0x0002:
    case 0x0008:
    case 0x0040:
      return verify(hash.name, message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hash.size }, sig);
    default:
      return verify(hash.name, message, key, sig);
  }
}

interface RemoteResult {
  readonly entries: number;
  readonly signaturesOk: number;
  readonly root: string;
  readonly failures: string[];
}

function remoteVerify(file: string, pinnedSpkiHex: string): RemoteResult {
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Json);
  const failures: string[] = [];
  const header = lines[0] as Json;
  if (header['publicKey'] !== pinnedSpkiHex) failures.push('not the pinned log');
  const spki = Buffer.from(pinnedSpkiHex, 'hex');
  const logId = sha256(spki);
  if (header['logId'] !== logId.toString('hex')) failures.push('log id');
  const chains = new Map<string, Buffer>();
  const leaves: Buffer[] = [];
  let ok = 0;
  let sth: Json | undefined;
  for (const l of lines.slice(1)) {
    if (l['type'] === 'chain') {
      const c = Buffer.from(l['chain'] as string, 'hex');
      if (sha256(c).toString('hex') !== l['digest']) failures.push(`chain ${l['digest'] as string}`);
      chains.set(l['digest'] as string, c);
    } else if (l['type'] === 'entry') {
      if (l['index'] !== leaves.length) failures.push(`entry ${String(l['index'])}: out of order`);
      const lh = sha256(Buffer.from([0]), leafOf(l));
      if (lh.toString('hex') !== l['leafHash']) failures.push(`entry ${String(l['index'])}: leaf hash`);
      leaves.push(lh);
      const chain = chains.get(l['chainDigest'] as string);
      if (chain && spdmSignatureOk(l, chain)) ok++;
      else failures.push(`entry ${String(l['index'])}: signature`);
    } else if (l['type'] === 'sth') sth = l;
  }
  const root = mth(leaves);
  if (!sth) failures.push('no sth');
  else {
    if (sth['treeSize'] !== leaves.length || sth['rootHash'] !== root.toString('hex')) failures.push('sth root');
    const signed = Buffer.concat([
      Buffer.from('spdmkit signature log tree head v1', 'latin1'),
      Buffer.from([0]),
      logId,
      u(sth['treeSize'] as number, 8),
      u(sth['timestamp'] as number, 8),
      Buffer.from(sth['rootHash'] as string, 'hex'),
    ]);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    if (!verify(null, signed, key, Buffer.from(sth['signature'] as string, 'hex'))) failures.push('sth signature');
  }
  return { entries: leaves.length, signaturesOk: ok, root: root.toString('hex'), failures };
}

// ---------------- the test ----------------

test('a remote verifier with only the export file and the pinned key re-verifies every leaf, signature and the tree head', async () => {
  const log = await openLog(tmp.file('src.sqlite'));
  let file = '';
  let spkiHex = '';
  try {
    for (const ev of await evidenceMatrix('r')) await log.appendEvidence(ev);
    await log.appendEvidence(await makeEvidence({ suite: SUITES[3]!, version: 0x13, name: 'ctx', pci: pciFor(7) }));
    file = tmp.file('export.jsonl');
    const out = createWriteStream(file);
    await log.exportJsonl(out);
    out.end();
    await once(out, 'finish');
    spkiHex = Buffer.from(log.logKey.spki).toString('hex');
    const r = remoteVerify(file, spkiHex);
    assert.deepEqual(r.failures, []);
    assert.equal(r.entries, await log.size());
    assert.equal(r.signaturesOk, r.entries);
    assert.equal(r.root, Buffer.from((await log.signedTreeHead()).rootHash).toString('hex'));
  } finally {
    await log.close();
  }

  // And it notices an edited line.
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const k = lines.findIndex((l) => l.includes('"index":5,'));
  const edited = lines.map((l, i) => (i === k ? l.replace(/"device":"([^"]*)"/, '"device":"$1x"') : l)).join('\n');
  const bad = tmp.file('bad.jsonl');
  writeFileSync(bad, edited);
  assert.deepEqual(remoteVerify(bad, spkiHex).failures, ['entry 5: leaf hash', 'sth root']);
});
