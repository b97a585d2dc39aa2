/**
 * spdmkitd killed with SIGKILL and started again on the same data directory: bin/spdmkitd.js on
 * the shipped default platform (16 functions) with autoAccept, one untrusted device accepted by an
 * operator's override, the process killed while re-authentications are in flight. The second run
 * must hold every acceptance record and decision, serve every event told before the kill under
 * the same id (new ids continue after them), keep a signature log that verifies, and accept no
 * device again except through the same-device check — the override staying an override.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Acceptance, CmaDecision, CmaEvent } from '../../src/cma/api.js';
import { openCmaStore } from '../../src/cma/store/open.js';
import { callApi } from '../../src/daemon/client.js';
import { openEventStream } from '../../src/daemon/event-client.js';
import { socketAnswers } from '../../src/daemon/listen.js';
import { openLog } from '../../src/log/log.js';
import { repoRoot } from '../support/paths.js';

const root = repoRoot();
const shipped = join(root, 'platform', 'default');
const dir = mkdtempSync(join(tmpdir(), 'spdmkitd-restart-'));
const state = join(dir, 'state');
const socketPath = join(dir, 'spdmkitd.sock');
const target = { socketPath };
const GOOD = '0000:01:00.0';
const COUNTERFEIT = '0000:06:00.0';
writeFileSync(
  join(dir, 'spdmkitd.yaml'),
  [
    'version: 1',
    'dataDir: state',
    `trust: [${join(shipped, 'trust')}]`,
    `deny: [${join(shipped, 'deny-list.txt')}]`,
    `policy: ${join(shipped, 'policy.yaml')}`,
    `platform: {kind: simulated, file: ${join(shipped, 'platform.yaml')}}`,
    'autoAccept: true',
    '',
  ].join('\n'),
);

interface DeviceJson {
  bdf: string;
  doe: string;
  authenticated: { state: string };
  verdict?: { status: string };
  acceptance: Acceptance;
  sameDevice?: { same: boolean };
  busy: boolean;
}

let running: ChildProcess | undefined;
let stderr = '';
after(() => {
  if (running && running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'spdmkitd.js'), '--config', join(dir, 'spdmkitd.yaml'), '--socket', socketPath],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running = child;
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited };
}

function spdm(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin', 'spdm.js'), ...args, '--socket', socketPath], (e, out, err) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; daemon log:\n${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function get<T>(path: string): Promise<T> {
  const a = await callApi(target, 'GET', path);
  assert.equal(a.status, 200, `GET ${path}: ${JSON.stringify(a.body)}`);
  return a.body as T;
}

const devices = async () => (await get<{ devices: DeviceJson[] }>('/v1/devices')).devices;

/** Every function settled: nothing busy, every CMA function authenticated, the `accepted` ones accepted. */
async function settled(accepted: readonly string[] = []): Promise<DeviceJson[]> {
  let list: DeviceJson[] = [];
  await until('every function to settle', async () => {
    list = await devices();
    return (
      list.length === 16 &&
      list.every((d) => !d.busy && (d.doe !== 'cma' || d.authenticated.state !== 'unknown')) &&
      list.every((d) => d.verdict?.status !== 'trusted' || d.acceptance.state === 'accepted') &&
      accepted.every((bdf) => list.find((d) => d.bdf === bdf)?.acceptance.state === 'accepted')
    );
  });
  return list;
}

/** Every event with id > `afterId` the daemon serves, read from its stream until `lastId`. */
async function eventsUpTo(afterId: number, lastId: number): Promise<CmaEvent[]> {
  const s = await openEventStream(target, afterId);
  try {
    await s.waitFor((e) => e.id >= lastId, 30_000, `event ${lastId}`);
    return s.events.filter((e) => e.id <= lastId);
  } finally {
    s.close();
  }
}

/** Every event the daemon serves from the first, once a settled daemon's replay has gone quiet. */
async function allEvents(): Promise<CmaEvent[]> {
  const s = await openEventStream(target, 0);
  try {
    let seen = -1;
    await until('the replay to go quiet', async () => {
      const n = s.events.length;
      await new Promise((r) => setTimeout(r, 300));
      const quiet = n > 0 && n === s.events.length && n === seen;
      seen = n;
      return quiet;
    });
    return [...s.events];
  } finally {
    s.close();
  }
}

test(
  'spdmkitd killed mid-run and restarted: records, decisions, events and the log intact, nothing re-trusted silently',
  {
    timeout: 180_000,
  },
  async () => {
    // ---------------------------------------------------------------------------- first run
    const first = start();
    await until('the socket', () => existsSync(socketPath) && socketAnswers(socketPath));
    const before = await settled();
    const accepted = before.filter((d) => d.acceptance.state === 'accepted').map((d) => d.bdf);
    assert.ok(accepted.includes(GOOD), 'the genuine device is auto-accepted');
    assert.ok(accepted.every((bdf) => before.find((d) => d.bdf === bdf)?.acceptance.state === 'accepted'));
    const forced = await callApi(target, 'POST', `/v1/devices/${COUNTERFEIT}/accept`, {
      override: { operator: 'ann', reason: 'lab bring-up' },
    });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    const forcedAcceptance = (forced.body as DeviceJson).acceptance;
    assert.ok(forcedAcceptance.state === 'accepted');
    assert.equal(forcedAcceptance.by, 'operator');
    accepted.push(COUNTERFEIT);

    const decisionsBefore = new Map<string, CmaDecision[]>();
    for (const d of before)
      decisionsBefore.set(d.bdf, (await get<{ decisions: CmaDecision[] }>(`/v1/devices/${d.bdf}/decisions`)).decisions);
    assert.ok(decisionsBefore.get(COUNTERFEIT)?.some((x) => x.action === 'override' && x.operator === 'ann'));

    // Watch the stream, start re-authentications, and kill the process as soon as the first of
    // them has a signature committed (the rest of them is in flight).
    const told: CmaEvent[] = [];
    const watch = await openEventStream(target, 0, (e) => told.push(e));
    const baseline = (
      await watch.waitFor(
        (e) => e.type === 'acceptance' && e.bdf === COUNTERFEIT && e.acceptance.state === 'accepted',
        10_000,
        'the override',
      )
    ).id;
    for (const bdf of [GOOD, COUNTERFEIT, '0000:02:00.0', '0000:03:00.0'])
      void callApi(target, 'POST', `/v1/devices/${bdf}/reauthenticate`, {}).catch(() => undefined);
    await watch.waitFor((e) => e.id > baseline && e.type === 'signature', 30_000, 'a re-authentication signature');
    first.child.kill('SIGKILL');
    const gone = await first.exited;
    assert.equal(gone.signal, 'SIGKILL');
    watch.close();
    const lastTold = told.at(-1)!.id;
    assert.deepEqual(
      told.map((e) => e.id),
      Array.from({ length: lastTold }, (_, i) => i + 1),
      'the first run told events 1..N in order',
    );

    // --------------------------------------------------------------------------- second run
    const second = start();
    await until('the socket again', () => socketAnswers(socketPath));
    const afterRestart = await settled(accepted);

    // Every event told before the kill is served again, unchanged, from ?after=0 and from a later id.
    const replay = await eventsUpTo(0, lastTold);
    assert.deepEqual(replay, told, 'events before the kill are served with their ids and contents');
    const mid = Math.floor(lastTold / 2);
    const tail = await eventsUpTo(mid, lastTold);
    assert.deepEqual(tail, told.slice(mid), `?after=${mid} serves the rest`);

    // New ids continue after the stored ones: no id is reused, none is skipped.
    const lastNow = await allEvents();
    const ids = lastNow.map((e) => e.id);
    assert.deepEqual(
      ids,
      Array.from({ length: ids.length }, (_, i) => i + 1),
    );
    const newEvents = lastNow.filter((e) => e.id > lastTold);
    assert.ok(newEvents.length > 0);
    assert.ok(
      newEvents.some((e) => e.type === 'device-added'),
      'the second run announces its functions',
    );

    // Decisions intact, and none added: nothing was accepted afresh (no accept, no override).
    for (const d of afterRestart) {
      const now = (await get<{ decisions: CmaDecision[] }>(`/v1/devices/${d.bdf}/decisions`)).decisions;
      assert.deepEqual(now, decisionsBefore.get(d.bdf) ?? [], `decisions of ${d.bdf}`);
    }

    // Accepted again only through the same-device check, each by 'same-device', naming its basis.
    for (const bdf of accepted) {
      const d = afterRestart.find((x) => x.bdf === bdf)!;
      assert.equal(d.acceptance.state, 'accepted', `${bdf} is the same device`);
      assert.equal(d.acceptance.state === 'accepted' && d.acceptance.by, 'same-device', bdf);
      assert.equal(d.sameDevice?.same, true, bdf);
    }
    const override = afterRestart.find((x) => x.bdf === COUNTERFEIT)!;
    assert.equal(override.verdict?.status, 'untrusted', 'the override did not make the verifier trust it');
    assert.ok(override.acceptance.state === 'accepted');
    assert.equal(override.acceptance.basis, 'operator', 'the acceptance says it rests on an override');
    assert.equal(override.acceptance.operator, 'ann');
    assert.match(override.acceptance.note ?? '', /over an untrusted verdict/);
    const good = afterRestart.find((x) => x.bdf === GOOD)!;
    assert.ok(good.acceptance.state === 'accepted');
    assert.equal(good.acceptance.basis, 'auto', 'auto-accepted before the kill, by the same-device check now');
    for (const e of newEvents) {
      if (e.type === 'acceptance' && e.acceptance.state === 'accepted')
        assert.equal(e.acceptance.by, 'same-device', `event ${e.id}: ${e.bdf} accepted other than by the check`);
      if (e.type === 'same-device') assert.equal(e.same, true, `event ${e.id}`);
    }
    const unacceptedNow = afterRestart.filter((d) => d.acceptance.state !== 'accepted').map((d) => d.bdf);
    assert.deepEqual(
      unacceptedNow.sort(),
      before
        .filter((d) => d.acceptance.state !== 'accepted' && d.bdf !== COUNTERFEIT)
        .map((d) => d.bdf)
        .sort(),
    );

    // `spdm events` prints the same stream: --after and --count, as lines or JSON Lines.
    const json = await spdm('events', '--after', '0', '--count', String(lastTold), '--json');
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(
      json.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as CmaEvent),
      told,
    );
    const lines = await spdm('events', '--after', String(mid), '--count', '3');
    assert.equal(lines.code, 0, lines.err);
    const rows = lines.out.trimEnd().split('\n');
    assert.equal(rows.length, 3);
    rows.forEach((row, i) => {
      const e = told[mid + i]!;
      assert.ok(row.startsWith(`${e.id}  ${e.at}  ${e.type}`), row);
      assert.ok(row.includes(e.bdf), row);
    });
    const recent = await spdm('events', '--after', String(lastTold), '--count', String(newEvents.length));
    assert.equal(recent.code, 0, recent.err);
    assert.ok(
      recent.out
        .split('\n')
        .some((l) => l.includes(`${COUNTERFEIT}  accepted by same-device (basis operator), operator ann`)),
      recent.out,
    );
    assert.equal((await spdm('events', '--after', 'x')).code, 2, 'a bad id is a usage error');

    // Following the live stream: the daemon's drain ends it, and the command says so (exit 3).
    const following = spdm('events', '--after', String(lastNow.at(-1)!.id));
    await new Promise((r) => setTimeout(r, 500));
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
    const followed = await following;
    assert.equal(followed.code, 3, followed.err);
    assert.equal(followed.out, '', 'nothing happened after the last event');

    // The acceptance records are the ones the first run made (by, time, operator), none rewritten.
    const store = await openCmaStore(state);
    try {
      const loaded = await store.load({ recentEvents: 1 });
      const recs = new Map(loaded.acceptances.map((a) => [a.bdf, a]));
      assert.deepEqual([...recs.keys()].sort(), [...accepted].sort());
      for (const bdf of accepted) {
        const firstAcceptance = told.find(
          (e): e is Extract<CmaEvent, { type: 'acceptance' }> =>
            e.type === 'acceptance' && e.bdf === bdf && e.acceptance.state === 'accepted',
        );
        assert.ok(firstAcceptance && firstAcceptance.acceptance.state === 'accepted');
        assert.equal(recs.get(bdf)?.at, firstAcceptance.acceptance.at, `${bdf}: the record of the first run`);
        assert.equal(recs.get(bdf)?.by, firstAcceptance.acceptance.by);
      }
      assert.equal(recs.get(COUNTERFEIT)?.operator, 'ann');
    } finally {
      await store.close();
    }

    // The signature log verifies and holds every signature either run told about.
    const log = await openLog(join(state, 'signatures.sqlite'), { readOnly: true });
    try {
      assert.equal((await log.verify()).ok, true);
      const sth = await log.signedTreeHead();
      const maxIndex = Math.max(
        ...[...told, ...newEvents].flatMap((e) => (e.type === 'signature' ? [e.signature.logIndex] : [])),
      );
      assert.ok(sth.treeSize > maxIndex, `tree size ${sth.treeSize} holds index ${maxIndex}`);
    } finally {
      await log.close();
    }
  },
);
