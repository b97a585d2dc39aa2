/**
 * What a secure session signs, as evidence: the real requester runs a KEY_EXCHANGE session
 * against the real in-process emulator and takes the signed measurements inside it; the
 * KEY_EXCHANGE_RSP signature (over A ‖ Ct ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP) and the in-session
 * MEASUREMENTS are part of the Evidence, re-verify from the document alone, are judged by
 * verify() like CHALLENGE_AUTH, go into the signature log and come back out of `spdm log verify`,
 * and show in the CMA layer's signature view with their nonces located.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import type { Evidence } from '../../src/evidence/evidence.js';
import { reverifySignatures } from '../../src/evidence/reverify.js';
import { digest } from '../../src/crypto/hash.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { splitKeyExchangeTranscript } from '../../src/spdm/key-exchange-transcript.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { verify } from '../../src/verifier/verify.js';
import { sameDevice, acceptanceRecord } from '../../src/verifier/acceptance.js';
import { openLog } from '../../src/log/log.js';
import { deviceSignature } from '../../src/cma/signature-view.js';
import { formatEntry } from '../../src/cli/log.js';
import {
  codes,
  edited,
  NOW,
  SESSION_NONCE,
  SESSION_REQUESTER_FLAGS as REQ_FLAGS,
  sessionDevice,
  sessionEvidence,
  tempDir,
  vendorRoot,
  viaJson,
} from './helpers.js';

const NONCE = SESSION_NONCE;

const trust = () => TrustStore.fromCertificates([vendorRoot().certificate]);
const judge = (doc: unknown, expectedNonce = NONCE) => verify(doc, undefined, trust(), { now: NOW, expectedNonce });

let device13: DeviceProfile;
let ev13: Evidence;
let sid13: number;
before(async () => {
  device13 = sessionDevice([0x13]);
  ({ evidence: ev13, sessionId: sid13 } = await sessionEvidence(device13, 0x13));
});

test('a session run: KEY_EXCHANGE_RSP and the in-session MEASUREMENTS are evidence, naming the session; SPDM 1.1-1.3 each verify trusted over the caller nonce', async () => {
  const sid = `0x${sid13.toString(16).padStart(8, '0')}`;
  assert.deepEqual(
    ev13.signatures.map((s) => [s.kind, s.sessionId, s.context]),
    [
      ['CHALLENGE_AUTH', undefined, 'responder-challenge_auth signing'],
      ['KEY_EXCHANGE_RSP', sid, 'responder-key_exchange_rsp signing'],
      ['MEASUREMENTS', sid, 'responder-measurements signing'],
    ],
  );
  const kx = ev13.signatures[1]!;
  // The transcript is A ‖ Ct ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP-up-to-signature, Ct the chain's hash.
  const t = splitKeyExchangeTranscript(fromHex(kx.transcript), kx.hashAlgo);
  assert.equal(toHex(t.certChainHash), toHex(digest(kx.hashAlgo, fromHex(ev13.slots[0]!.certChain))));
  assert.equal(toHex(t.keyExchange.randomData), NONCE, 'KEY_EXCHANGE RandomData is the caller nonce');
  assert.equal(toHex(t.response.randomData), kx.responderNonce);
  assert.equal(((t.response.rspSessionId << 16) | t.keyExchange.reqSessionId) >>> 0, sid13);
  assert.ok(reverifySignatures(viaJson(ev13)).every((c) => c.ok));

  for (const version of [0x11, 0x12, 0x13]) {
    const { evidence } =
      version === 0x13 ? { evidence: ev13 } : await sessionEvidence(sessionDevice([version]), version);
    assert.ok(evidence.signatures.some((s) => s.kind === 'KEY_EXCHANGE_RSP'));
    if (version === 0x11) assert.equal(evidence.signatures.find((s) => s.kind === 'KEY_EXCHANGE_RSP')!.context, '');
    const v = judge(viaJson(evidence));
    assert.equal(v.status, 'trusted', `SPDM ${version.toString(16)}: ${JSON.stringify(v.reasons)}`);
    const sigs = v.checks.find((c) => c.code === 'SIGNATURES_VALID');
    assert.match(sigs?.message ?? '', /KEY_EXCHANGE_RSP/);
    assert.ok(v.checks.some((c) => c.code === 'NONCE_MATCH'));
  }
});

test('a 1.3 multi-key connection: the first DIGESTS (D) is in the KEY_EXCHANGE_RSP transcript before Ct, and the evidence verifies trusted', async () => {
  const base = sessionDevice([0x13]);
  const profile: DeviceProfile = {
    ...base,
    capabilities: {
      ...base.capabilities,
      flags: (base.capabilities.flags & ~F.MULTI_KEY_NEG) | F.MULTI_KEY_ONLY,
    },
  };
  const { evidence } = await sessionEvidence(profile, 0x13);
  const kx = evidence.signatures.find((s) => s.kind === 'KEY_EXCHANGE_RSP')!;
  const t = splitKeyExchangeTranscript(fromHex(kx.transcript), kx.hashAlgo);
  assert.equal(t.digests?.kind, 'DIGESTS');
  assert.equal(toHex(t.certChainHash), evidence.slots[0]!.digest);
  const v = judge(viaJson(evidence));
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
});

test('a tampered session signature makes the evidence untrusted, with the reason named', () => {
  const kxAt = ev13.signatures.findIndex((s) => s.kind === 'KEY_EXCHANGE_RSP');
  const measAt = ev13.signatures.findIndex((s) => s.kind === 'MEASUREMENTS');
  const kx = ev13.signatures[kxAt]!;
  const t = splitKeyExchangeTranscript(fromHex(kx.transcript), kx.hashAlgo);
  const ctAt = t.keyExchangeOffset - t.certChainHash.length;
  /** The KEY_EXCHANGE_RSP transcript with byte `at` flipped and its hash recomputed, so only the deeper checks can tell. */
  const flipped = (at: number) => (d: { signatures: Record<string, unknown>[] }) => {
    const b = fromHex(kx.transcript);
    b[at] = b[at]! ^ 0x01;
    d.signatures[kxAt]!['transcript'] = toHex(b);
    d.signatures[kxAt]!['transcriptHash'] = toHex(digest(kx.hashAlgo, b));
  };
  const cases: [string, unknown, 'SIGNATURE_INVALID' | 'MALFORMED_EVIDENCE' | 'NONCE_MISMATCH', RegExp][] = [
    [
      'a byte of KEY_EXCHANGE_RSP ExchangeData',
      edited(ev13, flipped(t.responseOffset + 45)),
      'SIGNATURE_INVALID',
      /signature 1 \(KEY_EXCHANGE_RSP, slot 0\): signature does not verify/,
    ],
    [
      'the transcript without its hash',
      edited(ev13, (d) => void (d.signatures[kxAt]!['transcript'] = `${kx.transcript.slice(0, -2)}00`)),
      'SIGNATURE_INVALID',
      /KEY_EXCHANGE_RSP.*transcript hash [0-9a-f]+ differs from the recorded/,
    ],
    ['Ct', edited(ev13, flipped(ctAt)), 'SIGNATURE_INVALID', /is not the one the device signed for \(Ct differs\)/],
    [
      'the signature',
      edited(ev13, (d) => {
        const sig = fromHex(kx.signature);
        sig[5] = sig[5]! ^ 0x80;
        d.signatures[kxAt]!['signature'] = toHex(sig);
      }),
      'SIGNATURE_INVALID',
      /KEY_EXCHANGE_RSP, slot 0\): signature does not verify with the leaf key/,
    ],
    [
      'the recorded session ID',
      edited(ev13, (d) => void (d.signatures[kxAt]!['sessionId'] = '0x12345678')),
      'SIGNATURE_INVALID',
      /the session ID recorded \(0x12345678\) is not the one signed/,
    ],
    [
      'the recorded responder RandomData',
      edited(ev13, (d) => void (d.signatures[kxAt]!['responderNonce'] = 'ab'.repeat(32))),
      'SIGNATURE_INVALID',
      /the responder nonce recorded \((ab)+\) is not the one in the signed response/,
    ],
    [
      'relabelled CHALLENGE_AUTH (session ID kept)',
      edited(ev13, (d) => void (d.signatures[kxAt]!['kind'] = 'CHALLENGE_AUTH')),
      'MALFORMED_EVIDENCE',
      /signatures\[1\]\.sessionId: a CHALLENGE_AUTH signature is never made inside a session/,
    ],
    [
      'relabelled CHALLENGE_AUTH with its context',
      edited(ev13, (d) => {
        const s = d.signatures[kxAt]!;
        s['kind'] = 'CHALLENGE_AUTH';
        s['context'] = 'responder-challenge_auth signing';
        delete s['sessionId'];
      }),
      'SIGNATURE_INVALID',
      /CHALLENGE_AUTH, slot 0\): signature does not verify.*the signed transcript cannot be decoded/,
    ],
    [
      'the in-session MEASUREMENTS relabelled KEY_EXCHANGE_RSP',
      edited(ev13, (d) => {
        d.signatures[measAt]!['kind'] = 'KEY_EXCHANGE_RSP';
        d.signatures[measAt]!['context'] = 'responder-key_exchange_rsp signing';
      }),
      'SIGNATURE_INVALID',
      /KEY_EXCHANGE_RSP, slot 0\): signature does not verify.*the signed transcript cannot be decoded/,
    ],
  ];
  for (const [what, doc, code, message] of cases) {
    const v = judge(doc);
    assert.equal(v.status, 'untrusted', what);
    const r = v.reasons.filter((x) => x.code === code);
    assert.ok(
      r.some((x) => message.test(x.message)),
      `${what}: ${JSON.stringify(v.reasons.map((x) => [x.code, x.message]))}`,
    );
  }
  // Fresh evidence means a KEY_EXCHANGE over the verifier's nonce, as for CHALLENGE.
  const stale = judge(viaJson(ev13), 'd4'.repeat(32));
  assert.ok(stale.reasons.some((r) => r.code === 'NONCE_MISMATCH' && /\(KEY_EXCHANGE_RSP\)/.test(r.message)));
});

test('a KEY_EXCHANGE_RSP from another connection (other VCA) spliced into the evidence is refused, although it verifies on its own', async () => {
  // With KEY_UPD_CAP too the requester's GET_CAPABILITIES differs: same device, same nonce, another A.
  const other = (await sessionEvidence(device13, 0x13, REQ_FLAGS | F.KEY_UPD)).evidence;
  const foreign = other.signatures.find((s) => s.kind === 'KEY_EXCHANGE_RSP')!;
  assert.equal(judge(viaJson(other)).status, 'trusted');
  const spliced = edited(ev13, (d) => {
    const at = d.signatures.findIndex((s) => s['kind'] === 'KEY_EXCHANGE_RSP');
    d.signatures[at] = viaJson(foreign) as unknown as Record<string, unknown>;
  });
  const v = judge(spliced);
  assert.equal(v.status, 'untrusted');
  assert.ok(
    v.reasons.some(
      (r) =>
        r.code === 'SIGNATURE_INVALID' &&
        /signature 1 \(KEY_EXCHANGE_RSP\) was made over other VCA messages/.test(r.message),
    ),
    JSON.stringify(v.reasons),
  );
});

test('a device without CHALLENGE or measurements: its KEY_EXCHANGE_RSP over the caller nonce is the proof of key possession, for the requester and the verifier', async () => {
  const base = sessionDevice([0x13]);
  const profile: DeviceProfile = {
    ...base,
    capabilities: { ...base.capabilities, flags: F.CERT | F.KEY_EX | F.ENCRYPT | F.MAC | F.HBEAT },
  };
  const { evidence } = await sessionEvidence(profile, 0x13, F.CERT | F.KEY_EX | F.ENCRYPT | F.MAC | F.HBEAT);
  assert.deepEqual(
    evidence.signatures.map((s) => s.kind),
    ['KEY_EXCHANGE_RSP'],
  );
  const v = judge(viaJson(evidence));
  assert.equal(v.status, 'trusted', JSON.stringify(v.reasons));
  assert.ok(v.checks.some((c) => c.code === 'NONCE_MATCH'));
  // The same evidence over another nonce is a replay.
  assert.deepEqual(codes(judge(viaJson(evidence), 'f6'.repeat(32))), ['NONCE_MISMATCH']);
});

test('the same-device check counts a session signature as proof of key possession and holds it to the nonce', () => {
  const record = acceptanceRecord(viaJson(ev13), { now: NOW });
  assert.deepEqual(sameDevice(record, viaJson(ev13), { expectedNonce: NONCE }).changes, []);
  // Only the session's signatures left: still a proof of possession.
  const onlySession = edited(ev13, (d) => void d.signatures.splice(0, 1));
  assert.equal(judge(onlySession).status, 'trusted');
  const r = sameDevice(record, onlySession, { expectedNonce: 'e5'.repeat(32) });
  assert.ok(r.changes.some((c) => c.code === 'NONCE_MISMATCH' && /KEY_EXCHANGE_RSP/.test(c.message)));
});

const tmp = tempDir();
after(() => tmp.cleanup());

test('the signature log appends the session signatures, and log verify re-verifies them and names a mislabelled one', async () => {
  const file = `${tmp.dir}/log.sqlite`;
  const log = await openLog(file);
  try {
    const { first, count } = await log.appendEvidence(ev13);
    assert.equal(count, 3);
    const kx = await log.entry(first + 1);
    assert.equal(kx.kind, 'KEY_EXCHANGE_RSP');
    assert.equal(kx.context, 'responder-key_exchange_rsp signing');
    assert.equal(toHex(kx.transcript), ev13.signatures[1]!.transcript);
    // `spdm log show` reads the session from the signed transcript.
    assert.match(formatEntry(kx), new RegExp(`session ${ev13.signatures[1]!.sessionId!} \\(as signed\\)`));
    const meas = await log.entry(first + 2);
    assert.equal(meas.kind, 'MEASUREMENTS');
    assert.ok(meas.measurements.length > 0, 'the in-session MEASUREMENTS entry carries its signed blocks');
    const report = await log.verify({ workers: 0 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.signaturesChecked, 3);
    assert.equal(report.signaturesValid, 3);
  } finally {
    await log.close();
  }
  // A session signature appended under another kind's label (its context left as signed).
  const bad = `${tmp.dir}/bad.sqlite`;
  const badLog = await openLog(bad);
  try {
    const relabelled = edited(ev13, (d) => {
      d.signatures[1]!['kind'] = 'MEASUREMENTS';
    }) as Evidence;
    await badLog.appendEvidence(relabelled);
    const report = await badLog.verify({ workers: 0 });
    assert.equal(report.ok, false);
    const p = report.problems.find((x) => x.code === 'CONTEXT_MISMATCH');
    assert.ok(p, JSON.stringify(report.problems));
    assert.equal(p.entry, 1);
    assert.deepEqual(p.fields, ['kind', 'context']);
  } finally {
    await badLog.close();
  }
  // An edited stored context: the entry no longer matches its leaf, and its kind's context is not it.
  const db = new Database(file);
  db.prepare('UPDATE entries SET context = ? WHERE seq = 1').run('responder-challenge_auth signing');
  db.close();
  const again = await openLog(file, { readOnly: true });
  try {
    const report = await again.verify({ workers: 0 });
    assert.deepEqual([...new Set(report.problems.filter((p) => p.entry === 1).map((p) => p.code))].sort(), [
      'CONTEXT_MISMATCH',
      'ENTRY_ALTERED',
      'SIGNATURE_INVALID',
    ]);
  } finally {
    await again.close();
  }
});

test('the CMA signature view shows a KEY_EXCHANGE_RSP with its type, code and both RandomData located', () => {
  const kx = ev13.signatures[1]!;
  const view = deviceSignature('0000:03:00.0', ev13, kx, 7, '');
  assert.equal(view.type, 'responder-key_exchange_rsp signing');
  assert.equal(view.rspCode, 0x64);
  const t = fromHex(kx.transcript);
  assert.ok(view.reqNonceOffset > 0 && view.rspNonceOffset > view.reqNonceOffset);
  assert.equal(toHex(t.subarray(view.reqNonceOffset, view.reqNonceOffset + 32)), NONCE);
  assert.equal(toHex(t.subarray(view.rspNonceOffset, view.rspNonceOffset + 32)), kx.responderNonce);
  assert.equal(view.sigOffset, t.length);
  assert.equal(codes(judge(viaJson(ev13))).length, 0);
});

test('property: any one field of session evidence replaced never throws, and is trusted only when the field is not signed', () => {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
    else paths.push(p);
  };
  walk(viaJson(ev13), []);
  const measAt = ev13.signatures.findIndex((s) => s.kind === 'MEASUREMENTS');
  // Summaries and labels, as in malformed.test.ts; and the session a MEASUREMENTS travelled in, which is not signed.
  const informational = new RegExp(
    `^(device|version|collectedAt|capabilities|algorithms\\.(baseAsymName|baseHashName|measurementHashName|otherParams)|slots\\.\\d+\\.(digest|certificates|chainProblems|certModel)|signatures\\.\\d+\\.verified|signatures\\.${measAt}\\.sessionId|measurements\\.\\d+\\.(signed|typeName|type|raw|spec)|pci\\.bdf)(\\.|$)`,
  );
  fc.assert(
    fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, replacement) => {
      const doc = viaJson(ev13) as unknown as Record<string, unknown>;
      let o: Record<string | number, unknown> = doc;
      for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
      const last = path.at(-1)!;
      if (JSON.stringify(o[last]) === JSON.stringify(replacement)) return;
      o[last] = replacement;
      const v = judge(doc);
      if (!informational.test(path.join('.')))
        assert.equal(v.status, 'untrusted', `${path.join('.')} = ${JSON.stringify(replacement)}`);
    }),
    { numRuns: 300 },
  );
});
