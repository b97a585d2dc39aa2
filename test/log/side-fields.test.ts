/**
 * A logged entry is held to its signed transcript. Each case appends evidence whose side fields
 * were rewritten before it reached the log — what a requester with a bug, or someone holding the
 * log key and rewriting entries, leaf hashes and heads consistently, produces — so the tree checks
 * pass and only the transcript can tell. verify() must name the entry, the code and the column.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Evidence } from '../../src/evidence/evidence.js';
import { openLog } from '../../src/log/log.js';
import type { VerifyReport } from '../../src/log/verify.js';
import { exportTo, makeEvidence, pciFor, SUITES, tempDir } from './helpers.js';
import { createReadStream } from 'node:fs';

const tmp = tempDir('spdmkit-side-');
after(() => tmp.cleanup());
let n = 0;

async function logged(ev: Evidence): Promise<VerifyReport> {
  const log = await openLog(tmp.file(`side-${++n}.sqlite`));
  try {
    await log.appendEvidence(ev);
    return await log.verify();
  } finally {
    await log.close();
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** A deep copy of `ev` edited by `edit`. */
function edited(ev: Evidence, edit: (e: Mutable<Evidence>) => void): Evidence {
  const copy = structuredClone(ev) as Mutable<Evidence>;
  edit(copy);
  return copy;
}

function findProblem(r: VerifyReport, code: string, field: string): boolean {
  return r.problems.some((p) => p.code === code && p.severity === 'error' && (p.fields ?? []).includes(field));
}

const ev13 = makeEvidence({ suite: SUITES[0]!, version: 0x13, name: 'side', pci: pciFor(1) });
const ev11 = makeEvidence({ suite: SUITES[0]!, version: 0x11, name: 'side11' });

test('untouched evidence at 1.1 and 1.3 verifies with no problem at all', async () => {
  for (const ev of [await ev13, await ev11]) {
    const r = await logged(ev);
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.deepEqual(
      r.problems.map((p) => p.code),
      [],
    );
  }
});

test('a rewritten measurementHashAlgo, measurementSpec or otherParams is refused against the signed ALGORITHMS', async () => {
  const ev = await ev13;
  for (const [field, column, edit] of [
    ['measurementHash', 'meas_hash_algo', (e: Mutable<Evidence>) => (e.algorithms.measurementHash ^= 0x6)],
    ['measurementSpec', 'meas_spec', (e: Mutable<Evidence>) => (e.algorithms.measurementSpec ^= 0x2)],
    ['otherParams', 'other_params', (e: Mutable<Evidence>) => (e.algorithms.otherParams ^= 0x2)],
  ] as const) {
    const r = await logged(edited(ev, edit));
    assert.equal(r.ok, false, field);
    assert.ok(findProblem(r, 'TRANSCRIPT_MISMATCH', column), `${field}: ${JSON.stringify(r.problems)}`);
  }
});

test('a requester nonce replaced by bytes found elsewhere in the transcript is refused: nonces are read at their place', async () => {
  const ev = await ev13;
  // The responder nonce occurs in the transcript too: a substring search would accept it as the requester's.
  const r = await logged(
    edited(ev, (e) => {
      for (const s of e.signatures) s.requesterNonce = s.responderNonce;
    }),
  );
  assert.equal(r.ok, false);
  assert.ok(findProblem(r, 'NOT_IN_TRANSCRIPT', 'requester_nonce'), JSON.stringify(r.problems));
});

test('the requester context removed from a 1.3 entry is refused: it is signed, so it is required', async () => {
  const ev = await ev13;
  assert.ok(ev.signatures.every((s) => s.requesterContext !== undefined));
  const r = await logged(
    edited(ev, (e) => {
      for (const s of e.signatures) delete (s as { requesterContext?: string }).requesterContext;
    }),
  );
  assert.equal(r.ok, false);
  assert.ok(findProblem(r, 'NOT_IN_TRANSCRIPT', 'requester_context'), JSON.stringify(r.problems));
});

test('a CHALLENGE_AUTH relabelled MEASUREMENTS is refused, with its own context or the MEASUREMENTS one', async () => {
  const ev = await ev13;
  const at = ev.signatures.findIndex((s) => s.kind === 'CHALLENGE_AUTH');
  for (const context of ['responder-challenge_auth signing', 'responder-measurements signing']) {
    const r = await logged(
      edited(ev, (e) => {
        e.signatures[at]!.kind = 'MEASUREMENTS';
        e.signatures[at]!.context = context;
      }),
    );
    assert.equal(r.ok, false, context);
    const entryProblems = r.problems.filter((p) => p.entry === at);
    assert.ok(
      entryProblems.some((p) => p.code === 'TRANSCRIPT_MISMATCH' && p.fields?.includes('kind')),
      `${context}: ${JSON.stringify(entryProblems)}`,
    );
  }
});

test('the chain of another device recorded for the slot is refused against CertChainHash', async () => {
  const ev = await ev13;
  // The fixtures give every device of a suite the same chain: another suite's is another device's.
  const other = await makeEvidence({ suite: SUITES[2]!, version: 0x13, name: 'other-device' });
  assert.notEqual(other.slots[0]!.certChain, ev.slots[0]!.certChain);
  const r = await logged(
    edited(ev, (e) => {
      e.slots[0]!.certChain = other.slots[0]!.certChain;
    }),
  );
  assert.equal(r.ok, false);
  const at = ev.signatures.findIndex((s) => s.kind === 'CHALLENGE_AUTH');
  assert.ok(
    r.problems.some((p) => p.entry === at && p.code === 'TRANSCRIPT_MISMATCH' && p.fields?.includes('chain_digest')),
    JSON.stringify(r.problems),
  );
});

test('verified: false on a signature that verifies is reported (VERIFIED_FLAG_MISMATCH)', async () => {
  const r = await logged(
    edited(await ev13, (e) => {
      e.signatures[0]!.verified = false;
    }),
  );
  assert.equal(r.ok, false);
  assert.ok(findProblem(r, 'VERIFIED_FLAG_MISMATCH', 'verified'), JSON.stringify(r.problems));
});

test('an entry without a chain is an error, not a warning: its signature was never checked', async () => {
  const r = await logged(
    edited(await ev13, (e) => {
      for (const s of e.slots) delete (s as { certChain?: string }).certChain;
    }),
  );
  assert.equal(r.ok, false);
  assert.ok(findProblem(r, 'NO_CHAIN', 'chain_digest'), JSON.stringify(r.problems));
});

test('log import refuses an export whose entry disagrees with its transcript, naming line, code and column', async () => {
  const ev = await ev13;
  const source = await openLog(tmp.file('side-export.sqlite'));
  const file = tmp.file('side-export.jsonl');
  try {
    await source.appendEvidence(
      edited(ev, (e) => {
        for (const s of e.signatures) s.requesterNonce = s.responderNonce;
      }),
    );
    await exportTo(source, file);
  } finally {
    await source.close();
  }
  const target = await openLog(tmp.file('side-import.sqlite'));
  try {
    await assert.rejects(
      () => target.importJsonl(createReadStream(file)),
      (e: unknown) => e instanceof Error && /line \d+: entry 0: NOT_IN_TRANSCRIPT \(requester_nonce\)/.test(e.message),
    );
    assert.equal(await target.size(), 0, 'nothing imported');
  } finally {
    await target.close();
  }
});
