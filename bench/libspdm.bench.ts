/**
 * Requester CPU against libspdm's responder, ours beside libspdm's own requester (issue 12,
 * item 2). Needs DMTF's emulators built outside this repository: LIBSPDM_EMU_BIN names the
 * directory holding spdm_responder_emu and spdm_requester_emu (and the sample keys they read
 * from their working directory). Without it the bench prints a note and no figures.
 *
 * Two spdm_responder_emu, started alike: one serves our flows, the other libspdm's, one connection
 * after another (it keeps serving after a CONTINUE; a connection closed before any message stops
 * it, so readiness is read from /proc/net/tcp instead of by connecting). Not one for both: after
 * libspdm's requester negotiated MULTI_KEY_CONN, the responder's DIGESTS to the next connection
 * (ours, which does not) says ProvisionedSlotMask 0x13 beside SupportedSlotMask 0x3, which our
 * decoder refuses — connection state kept across CONTINUE. Both requesters run the same steps:
 * SPDM 1.3, ECDSA P-384 / SHA-384 pinned on the responder, VCA, GET_DIGESTS, GET_CERTIFICATE,
 * CHALLENGE, one signed GET_MEASUREMENTS for all blocks, no mutual authentication, no session,
 * the chain judged against libspdm's sample root (ecp384/ca.cert.der) on both sides.
 *
 *   (a) cold, process for process: `spdm authenticate` (bin/spdm.js) against
 *       `spdm_requester_emu --exe_conn DIGEST,CERT,CHAL,MEAS`, CPU (user + system) of the child;
 *       `node -e 0` beside them says what Node's own start costs.
 *   (b) per flow: ours in a warm process (connect, Requester.authenticate(), verify(); the CPU of
 *       this process only — the responder is another) against theirs as the whole process minus
 *       the same process doing VCA only (`--exe_conn VCA`).
 *
 * Child CPU comes from bash's `times` after a batch of runs (the rusage of its waited-for
 * children, millisecond resolution, so a batch of several runs is divided by its length). The
 * sides alternate in BENCH_ROUNDS rounds; each figure is the median round. NODE_EXTRA_CA_CERTS is
 * removed from the children's environment: with a CA bundle named there Node parses it at start,
 * which is the machine's setting, not Node's cost nor ours.
 *
 *   LIBSPDM_EMU_BIN=/path/to/spdm-emu/build/bin npm run bench:libspdm [-- --json]
 *   BENCH_RUNS=3 (cold runs per batch)  BENCH_FLOWS=8 (warm flows per round)  BENCH_ROUNDS=5
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EmuSocketTransport } from '../src/transport/emu-socket.js';
import type { Transport } from '../src/transport/transport.js';
import { Requester } from '../src/requester/requester.js';
import { systemRandom } from '../src/crypto/random.js';
import { TrustStore } from '../src/verifier/trust-store.js';
import { loadPolicyFile } from '../src/verifier/policy-loader.js';
import { verify } from '../src/verifier/verify.js';
import { toHex } from '../src/wire/bytes.js';
import { Report, ROOT, ROUNDS, timedChildEnv } from './harness.js';

const BIN = process.env['LIBSPDM_EMU_BIN'];
const RUNS = count(process.env['BENCH_RUNS'], 3);
const FLOWS = count(process.env['BENCH_FLOWS'], 8);
const spdm = join(ROOT, 'bin', 'spdm.js');
const policyFile = join(ROOT, 'docs', 'examples', 'emulator-policy.yaml');

function count(text: string | undefined, fallback: number): number {
  const n = Math.round(Number(text));
  return text !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

const childEnv = timedChildEnv();

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

/** CPU (ms, user + system) and wall (ms) per run of `argv` over a batch of RUNS runs, each of which must exit 0. */
function batch(argv: readonly string[], cwd: string): { cpuMs: number; wallMs: number } {
  const line = argv.map(quote).join(' ');
  const script = `for i in $(seq ${RUNS}); do ${line} >/dev/null 2>&1 || exit 90; done; times`;
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', script], { cwd, env: childEnv, encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: a run failed (bash exit ${r.status ?? r.signal})`);
  // `times` prints the shell's own line, then its children's: "0m0.123s 0m0.045s".
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(r.stdout.trim());
  if (!m) throw new Error(`could not read the children's times from ${JSON.stringify(r.stdout)}`);
  const cpuMs = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
  return { cpuMs: cpuMs / RUNS, wallMs: wallMs / RUNS };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Whether something listens on TCP `port` (IPv4 or IPv6), read without connecting. */
function listening(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const row of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f[1]?.endsWith(hex.trim()) && f[3] === '0A') return true;
    }
  }
  return false;
}

async function startResponder(bin: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    join(bin, 'spdm_responder_emu'),
    [
      ...['--trans', 'PCI_DOE', '--port', String(port)],
      ...['--asym', 'ECDSA_P384', '--hash', 'SHA_384'],
      ...['--mut_auth', 'NO', '--basic_mut_auth', 'NO'],
    ],
    { cwd: bin, stdio: ['ignore', 'ignore', 'ignore'], env: childEnv },
  );
  const deadline = performance.now() + 10_000;
  while (!listening(port)) {
    if (child.exitCode !== null) throw new Error(`spdm_responder_emu exited (${child.exitCode}) before listening`);
    if (performance.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`spdm_responder_emu is not listening on ${port} after 10 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

/** Counts the requests of a flow (one untimed run, to say what each side sent). */
class CountingTransport implements Transport {
  readonly codes: string[] = [];
  constructor(private readonly inner: EmuSocketTransport) {}
  get maxMessageSize(): number {
    return this.inner.maxMessageSize;
  }
  get securedCapable(): boolean {
    return this.inner.securedCapable;
  }
  exchange(request: Uint8Array, options?: Parameters<Transport['exchange']>[1]): Promise<Uint8Array> {
    this.codes.push(`0x${(request[1] ?? 0).toString(16)}`);
    return this.inner.exchange(request, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const report = new Report('spdmkit libspdm bench');
report.section('libspdm', 'Requester CPU against libspdm spdm_responder_emu, ours beside libspdm spdm_requester_emu');

async function main(bin: string): Promise<void> {
  for (const exe of ['spdm_responder_emu', 'spdm_requester_emu'])
    if (!existsSync(join(bin, exe))) throw new Error(`LIBSPDM_EMU_BIN=${bin} has no ${exe}`);
  const rootCert = join(bin, 'ecp384', 'ca.cert.der');
  const port = await freePort();
  const theirPort = await freePort();
  const responders: ChildProcess[] = [];
  const alive = () => {
    for (const r of responders)
      if (r.exitCode !== null || r.signalCode !== null)
        throw new Error(`spdm_responder_emu stopped (${r.exitCode ?? r.signalCode})`);
  };
  try {
    responders.push(await startResponder(bin, port));
    responders.push(await startResponder(bin, theirPort));
    const theirs = (conn: string) => [
      join(bin, 'spdm_requester_emu'),
      ...['--trans', 'PCI_DOE', '--port', String(theirPort), '--ver', '1.3'],
      ...['--exe_conn', conn, '--exe_session', 'NO_END', '--exe_mode', 'CONTINUE', '--meas_op', 'ALL'],
    ];
    const ours = [
      process.execPath,
      spdm,
      'authenticate',
      ...['--connect', `127.0.0.1:${port}`, '--transport', 'doe', '--version', '1.3', '--measurements', 'all'],
      ...['--trust', rootCert, '--policy', policyFile],
    ];
    const nodeBare = [process.execPath, '-e', '0'];

    // The warm side: trust store and policy loaded once, as a long-running verifier holds them.
    const store = new TrustStore({ anchors: [rootCert] });
    const policy = loadPolicyFile(policyFile);
    const open = () => EmuSocketTransport.connect({ port, transport: 'doe', endWith: 'continue' });
    const flow = async (judge: boolean) => {
      const transport = await open();
      try {
        const nonce = systemRandom(32);
        const requester = new Requester(transport, { deviceName: 'libspdm', versions: [0x13] });
        const evidence = await requester.authenticate({ mode: 'all', requireChallenge: true, nonce });
        if (judge) {
          const v = verify(evidence, policy, store, { expectedNonce: toHex(nonce) });
          if (v.status !== 'trusted') throw new Error(`verdict ${v.status}: ${JSON.stringify(v.reasons)}`);
        }
      } finally {
        await transport.close();
      }
    };
    const vcaOnly = async () => {
      const transport = await open();
      try {
        await new Requester(transport, { deviceName: 'libspdm', versions: [0x13] }).connect();
      } finally {
        await transport.close();
      }
    };
    const warm = async (fn: () => Promise<void>) => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < FLOWS; i++) await fn();
      const d = process.cpuUsage(cpu0);
      return { cpuMs: (d.user + d.system) / 1000 / FLOWS, wallMs: (performance.now() - t0) / FLOWS };
    };

    // What our flow sends, once, untimed.
    const counting = new CountingTransport(await open());
    try {
      await new Requester(counting, { deviceName: 'libspdm', versions: [0x13] }).authenticate({
        mode: 'all',
        requireChallenge: true,
      });
    } finally {
      await counting.close();
    }
    for (let i = 0; i < 3; i++) await flow(true);
    await vcaOnly();

    const sides = {
      oursCold: [] as number[],
      theirsCold: [] as number[],
      theirsVca: [] as number[],
      node: [] as number[],
      oursWarm: [] as number[],
      oursWarmNoVerify: [] as number[],
      oursWarmVca: [] as number[],
    };
    const walls = { oursCold: [] as number[], theirsCold: [] as number[], oursWarm: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const oc = batch(ours, ROOT);
      alive();
      const tc = batch(theirs('DIGEST,CERT,CHAL,MEAS'), bin);
      alive();
      const tv = batch(theirs('VCA'), bin);
      alive();
      const nb = batch(nodeBare, ROOT);
      const ow = await warm(() => flow(true));
      const on = await warm(() => flow(false));
      const ov = await warm(vcaOnly);
      sides.oursCold.push(oc.cpuMs);
      sides.theirsCold.push(tc.cpuMs);
      sides.theirsVca.push(tv.cpuMs);
      sides.node.push(nb.cpuMs);
      sides.oursWarm.push(ow.cpuMs);
      sides.oursWarmNoVerify.push(on.cpuMs);
      sides.oursWarmVca.push(ov.cpuMs);
      walls.oursCold.push(oc.wallMs);
      walls.theirsCold.push(tc.wallMs);
      walls.oursWarm.push(ow.wallMs);
    }
    const m = Object.fromEntries(Object.entries(sides).map(([k, v]) => [k, median(v)])) as Record<
      keyof typeof sides,
      number
    >;
    // Their per-flow cost: each round's whole process minus that round's VCA-only process.
    const theirsFlow = median(sides.theirsCold.map((c, i) => c - sides.theirsVca[i]!));
    const theirsName = 'libspdm requester, whole − VCA-only process';

    report.note(
      `  SPDM 1.3, ECDSA P-384 / SHA-384, PCI_DOE over the spdm-emu socket; ${ROUNDS} rounds of ${RUNS} cold runs and ${FLOWS} warm flows per side, median round`,
    );
    report.note(
      `  our flow sends ${counting.codes.length} requests (${counting.codes.join(' ')}); libspdm's sends VCA, GET_DIGESTS and GET_CERTIFICATE again after CHALLENGE and GET_DIGESTS before GET_MEASUREMENTS (spdm-emu's sequence)`,
    );
    report.note('\n  (b) per flow');
    report.add({
      name: 'ours warm: connect, authenticate(), verify()',
      value: m.oursWarm,
      unit: 'ms CPU',
      baseline: { name: theirsName, value: theirsFlow },
      target: { op: '<=', ratio: 1.0 },
    });
    report.add({
      name: 'ours warm: connect, authenticate() (no verdict)',
      value: m.oursWarmNoVerify,
      unit: 'ms CPU',
      baseline: { name: theirsName, value: theirsFlow },
    });
    report.add({
      name: 'ours warm, flow − VCA-only flow (as theirs)',
      value: m.oursWarm - m.oursWarmVca,
      unit: 'ms CPU',
      baseline: { name: theirsName, value: theirsFlow },
    });
    report.note(
      `  VCA only: ours warm ${m.oursWarmVca.toFixed(2)} ms CPU per connection; libspdm's requester process ${m.theirsVca.toFixed(1)} ms CPU`,
    );
    report.note('\n  (a) cold, process for process (CPU = user + system of the child)');
    report.add({
      name: 'spdm authenticate (to the verdict)',
      value: m.oursCold,
      unit: 'ms CPU',
      baseline: { name: 'spdm_requester_emu DIGEST,CERT,CHAL,MEAS', value: m.theirsCold },
      target: { op: '<=', ratio: 3 },
    });
    report.add({
      name: 'node -e 0 (Node start-up alone)',
      value: m.node,
      unit: 'ms CPU',
      baseline: { name: 'spdm_requester_emu DIGEST,CERT,CHAL,MEAS', value: m.theirsCold },
    });
    report.add({
      name: 'spdm authenticate − node -e 0',
      value: m.oursCold - m.node,
      unit: 'ms CPU',
      baseline: { name: 'spdm_requester_emu DIGEST,CERT,CHAL,MEAS', value: m.theirsCold },
    });
    report.note(
      `  wall per run (mostly waiting on spdm_responder_emu): spdm authenticate ${median(walls.oursCold).toFixed(0)} ms, spdm_requester_emu ${median(walls.theirsCold).toFixed(0)} ms, ours warm flow ${median(walls.oursWarm).toFixed(0)} ms`,
    );
    report.part.data['libspdm'] = { bin, rounds: ROUNDS, runsPerBatch: RUNS, flowsPerRound: FLOWS, sides };
  } finally {
    for (const r of responders) {
      if (r.exitCode !== null || r.signalCode !== null) continue;
      const gone = new Promise((resolve) => r.once('exit', resolve));
      r.kill('SIGTERM');
      await gone;
    }
  }
}

if (BIN === undefined || BIN === '') {
  report.note(
    "  skipped: set LIBSPDM_EMU_BIN to a directory with spdm-emu's spdm_responder_emu and spdm_requester_emu (built outside this repository, Release)",
  );
} else {
  await main(BIN);
}
report.finish();
