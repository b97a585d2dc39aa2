/**
 * Full authentication in-process per algorithm suite (issue 12, item 1), against the crypto
 * floor: exactly the cryptography one flow needs, done with raw node:crypto in the same run.
 *
 * One flow = VCA, GET_DIGESTS, GET_CERTIFICATE (whole chain), CHALLENGE, GET_MEASUREMENTS
 * (signed, all blocks), SPDM 1.3, with the requester and the emulator both in this process. Its
 * floor, counted from the protocol (the bytes hashed are the flow's own messages, captured):
 *
 *   emulator   2 nonces; Hash(M1) and sign(prefix ‖ Hash(M1)) for CHALLENGE_AUTH; Hash(L1) and
 *              sign(prefix ‖ Hash(L1)) for MEASUREMENTS
 *   requester  2 nonces; Hash(certificate chain) (checked against DIGESTS and CHALLENGE_AUTH);
 *              Hash(M1) and verify; Hash(L1) and verify
 *   cold cache the requester also parses each certificate of the chain and checks its signature
 *              (root self-signature, intermediate, leaf: X509Certificate + verify)
 *
 * "warm" is a device whose chain the requester has seen before (the shared certificate cache: a
 * fleet's root and intermediates, or the same device again); "cold" gives every flow a fresh
 * cache. The figure is CPU µs per flow (the process, both sides); flows/s is wall time.
 *
 * Each flow and its floor first run untimed until their cost per run has settled (harness
 * warmUp: at least BENCH_WARMUP seconds, default 1, at most BENCH_WARMUP_MAX, default 6): the CPU
 * figure is the whole process's, so V8 compiling the stack on its background threads would
 * otherwise be billed to whichever suite runs first (P-256 came out ~2× its steady cost after a
 * fixed second on a loaded machine). Start-up is bench:cold's.
 *
 * Then the census (what the stack actually asks of node:crypto per flow) and a profile summary
 * (where the CPU time goes, by src/ directory).
 *
 *   npm run build && node dist/bench/auth.bench.js [--json]
 *   BENCH_SUITE=P256 BENCH_SECONDS=3 node dist/bench/auth.bench.js
 */
import { createHash, createPublicKey, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { asymInfo } from '../src/crypto/algorithms.js';
import { combinedPrefix, SigningContext } from '../src/crypto/signature.js';
import { buildProfile } from '../src/responder/profiles.js';
import { Responder } from '../src/responder/responder.js';
import { Requester } from '../src/requester/requester.js';
import { LoopbackTransport } from '../src/transport/loopback.js';
import { CertificateCache } from '../src/x509/cache.js';
import { EmuSocketServer, EmuSocketTransport } from '../src/transport/emu-socket.js';
import { SimulatedDoeDevice } from '../src/pci/doe-device.js';
import { openDoeTransport } from '../src/pci/doe-transport.js';
import { compare, measure, Report, SECONDS, warmUp } from './harness.js';
import { censusPerRun, formatCensus } from './crypto-census.js';
import { formatBuckets, profileBuckets } from './profile.js';

const ALL_SUITES = [
  { name: 'ECDSA-P256/SHA-256', asymId: 0x0010, hashId: 0x01, hash: 'sha256' },
  { name: 'ECDSA-P384/SHA-384', asymId: 0x0080, hashId: 0x02, hash: 'sha384' },
  { name: 'RSAPSS-3072/SHA-384', asymId: 0x0008, hashId: 0x02, hash: 'sha384' },
  { name: 'Ed25519/SHA-512', asymId: 0x0400, hashId: 0x04, hash: 'sha512' },
] as const;
type Suite = (typeof ALL_SUITES)[number];
/** BENCH_SUITE=P384 (a substring of the name) runs one suite only. */
const SUITES = ALL_SUITES.filter((s) => s.name.includes(process.env['BENCH_SUITE'] ?? ''));

const VERSION = 0x13;
/** The least warm-up per side, seconds; warmUp goes on until the cost per flow has settled. */
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP'] ?? 1);
const TARGET = { op: '<=', ratio: 1.15 } as const;

/** Request and response codes of the messages the floor hashes. */
const Code = {
  GET_VERSION: 0x84,
  GET_CAPABILITIES: 0xe1,
  NEGOTIATE_ALGORITHMS: 0xe3,
  GET_DIGESTS: 0x81,
  GET_CERTIFICATE: 0x82,
  CHALLENGE: 0x83,
  GET_MEASUREMENTS: 0xe0,
} as const;

interface Captured {
  readonly request: Uint8Array;
  readonly response: Uint8Array;
}

/** One flow's messages, as the emulator saw them. */
async function captureFlow(responder: Responder): Promise<Captured[]> {
  const out: Captured[] = [];
  const handler = {
    handle: async (request: Uint8Array) => {
      const response = await responder.handle(request);
      out.push({ request: request.slice(), response: response.slice() });
      return response;
    },
  };
  await new Requester(new LoopbackTransport(handler)).authenticate();
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** The transcripts a 1.2+ flow signs, and the chain the requester hashes, from captured messages. */
function transcripts(flow: readonly Captured[], sigSize: number) {
  const code = (c: Captured) => c.request[1];
  const vca = flow.filter((c) =>
    [Code.GET_VERSION, Code.GET_CAPABILITIES, Code.NEGOTIATE_ALGORITHMS].includes(code(c) as never),
  );
  const b = flow.filter((c) => code(c) === Code.GET_DIGESTS || code(c) === Code.GET_CERTIFICATE);
  const chal = flow.find((c) => code(c) === Code.CHALLENGE);
  const meas = flow.filter((c) => code(c) === Code.GET_MEASUREMENTS);
  if (!chal || meas.length !== 1) throw new Error('the flow did not run one CHALLENGE and one GET_MEASUREMENTS');
  const pairs = (cs: readonly Captured[]) => cs.flatMap((c) => [c.request, c.response]);
  const withoutSig = (m: Uint8Array) => m.subarray(0, m.length - sigSize);
  const m1 = concat([...pairs(vca), ...pairs(b), chal.request, withoutSig(chal.response)]);
  const l1 = concat([...pairs(vca), meas[0]!.request, withoutSig(meas[0]!.response)]);
  // CERTIFICATE: Param1 slot, Param2, PortionLength u16, RemainderLength u16, then the portion.
  const chain = concat(
    flow
      .filter((c) => code(c) === Code.GET_CERTIFICATE)
      .map((c) => c.response.subarray(8, 8 + (c.response[4]! | (c.response[5]! << 8)))),
  );
  return { m1, l1, chain, messages: flow.length };
}

function primitive(s: Suite): { alg: string | null; opts: Record<string, unknown> } {
  const a = asymInfo(s.asymId)!;
  if (a.kind === 'ed25519') return { alg: null, opts: {} };
  if (a.kind === 'rsapss')
    return { alg: s.hash, opts: { padding: 6, saltLength: s.hash === 'sha256' ? 32 : s.hash === 'sha384' ? 48 : 64 } };
  return { alg: s.hash, opts: { dsaEncoding: 'ieee-p1363' } };
}

/** The floor of one flow, with raw node:crypto. */
function floorFlow(
  s: Suite,
  t: ReturnType<typeof transcripts>,
  keys: { privateKey: KeyObject; publicKey: KeyObject },
  chainDer: readonly Uint8Array[] | undefined,
): () => void {
  const { alg, opts } = primitive(s);
  const prefixCa = combinedPrefix(VERSION, SigningContext.CHALLENGE_AUTH_RESPONDER);
  const prefixMeas = combinedPrefix(VERSION, SigningContext.MEASUREMENTS);
  const priv = { key: keys.privateKey, ...opts };
  return () => {
    // emulator
    randomBytes(32);
    randomBytes(32);
    const caSig = sign(alg, Buffer.concat([prefixCa, createHash(s.hash).update(t.m1).digest()]), priv);
    const measSig = sign(alg, Buffer.concat([prefixMeas, createHash(s.hash).update(t.l1).digest()]), priv);
    // requester
    randomBytes(32);
    randomBytes(32);
    createHash(s.hash).update(t.chain).digest();
    let leafKey = keys.publicKey;
    if (chainDer) {
      const certs = chainDer.map((d) => new X509Certificate(d));
      for (let i = 0; i < certs.length; i++) {
        if (!certs[i]!.verify(certs[Math.max(0, i - 1)]!.publicKey)) throw new Error('floor: chain does not verify');
      }
      leafKey = certs.at(-1)!.publicKey;
    }
    const pub = { key: leafKey, ...opts };
    if (!verify(alg, Buffer.concat([prefixCa, createHash(s.hash).update(t.m1).digest()]), pub, caSig))
      throw new Error('floor: CHALLENGE_AUTH does not verify');
    if (!verify(alg, Buffer.concat([prefixMeas, createHash(s.hash).update(t.l1).digest()]), pub, measSig))
      throw new Error('floor: MEASUREMENTS does not verify');
  };
}

const report = new Report('spdmkit auth bench');
report.section(
  'auth',
  `Authentication in-process, SPDM 1.3, CPU µs per flow (both sides) against the raw node:crypto floor`,
);

for (const s of SUITES) {
  const built = buildProfile({ name: s.name, versions: [VERSION], asymId: s.asymId, hashId: s.hashId });
  const responder = new Responder(built.profile);
  const slot = built.profile.slots[0]!;
  const keys = { privateKey: slot.privateKey, publicKey: createPublicKey(slot.privateKey) };
  const t = transcripts(await captureFlow(responder), asymInfo(s.asymId)!.sigSize);
  const warmFlow = async () => {
    await new Requester(new LoopbackTransport(responder)).authenticate();
  };
  const coldFlow = async () => {
    await new Requester(new LoopbackTransport(responder), { certificateCache: new CertificateCache() }).authenticate();
  };
  report.note(
    `  ${s.name}: ${t.messages} exchanges; hashed M1 ${t.m1.length} B, L1 ${t.l1.length} B, chain ${t.chain.length} B (${slot.certificates.length} certificates)`,
  );
  for (const [label, flow, chainDer] of [
    ['warm', warmFlow, undefined],
    ['cold', coldFlow, slot.certificates],
  ] as const) {
    const floorOp = floorFlow(s, t, keys, chainDer);
    const settled = [
      await warmUp({ async: flow }, WARMUP_SECONDS),
      await warmUp({ sync: floorOp }, WARMUP_SECONDS / 4),
    ];
    report.note(`  ${s.name} ${label}: warmed up until steady, ${settled.map((x) => x.toFixed(1)).join(' s / ')} s`);
    const [stack, floor] = await compare({ async: flow }, { sync: floorOp });
    report.add({
      name: `${s.name} ${label} cache: CPU per flow`,
      value: stack.cpuUs,
      unit: 'µs',
      baseline: { name: 'floor', value: floor.cpuUs },
      target: TARGET,
    });
    report.add({
      name: `${s.name} ${label} cache: flows/s`,
      value: stack.perSecond,
      unit: '/s',
      baseline: { name: 'floor', value: floor.perSecond },
    });
  }
}

report.section(
  'auth-census',
  '\nWhat one warm flow asks of node:crypto (the census; the floor needs 2 sign, 2 verify, 5 hashes, 4 nonces):',
);
const census: Record<string, unknown> = {};
for (const s of SUITES) {
  const built = buildProfile({ name: `${s.name} census`, versions: [VERSION], asymId: s.asymId, hashId: s.hashId });
  const responder = new Responder(built.profile);
  const flow = async () => {
    await new Requester(new LoopbackTransport(responder)).authenticate();
  };
  await flow();
  const c = await censusPerRun(5, flow);
  census[s.name] = c;
  report.note(`  ${s.name}:`);
  for (const line of formatCensus(c)) report.note(line);
}
report.part.data['authCensus'] = census;

report.section(
  'auth-profile',
  "\nWhere a warm flow's CPU goes (V8 sampling profile, self time by the innermost spdmkit frame):",
);
const profiles: Record<string, unknown> = {};
for (const s of SUITES) {
  const built = buildProfile({ name: `${s.name} profile`, versions: [VERSION], asymId: s.asymId, hashId: s.hashId });
  const responder = new Responder(built.profile);
  const flow = async () => {
    await new Requester(new LoopbackTransport(responder)).authenticate();
  };
  const timed = await measure(flow, { seconds: Math.min(SECONDS, 1) });
  const { buckets, functions } = await profileBuckets(flow, Math.max(SECONDS, 1));
  profiles[s.name] = { cpuUsPerFlow: timed.cpuUs, buckets, functions: functions.slice(0, 20) };
  report.note(`  ${s.name} (${timed.cpuUs.toFixed(0)} µs/flow):`);
  for (const line of formatBuckets(buckets, timed.cpuUs, 9)) report.note(line);
  report.note('    the largest spdmkit functions outside node:crypto (self time, incl. what they call in node):');
  for (const line of formatBuckets(functions, timed.cpuUs, 8, 60)) report.note(`  ${line}`);
}
report.part.data['authProfile'] = profiles;

// The same flow through the spdm-emu socket protocol over loopback, and through the register-level
// DOE mailbox driver against the simulated DOE device (every dword crosses the mailbox registers).
report.section(
  'auth-transports',
  '\nOver transports (ECDSA-P384/SHA-384, SPDM 1.3, one connection), against in-process:',
);
{
  const built = buildProfile({ name: 'socket', versions: [VERSION], asymId: 0x0080, hashId: 0x02 });
  const inproc = async () => {
    await new Requester(new LoopbackTransport(new Responder(built.profile))).authenticate();
  };
  for (const transport of ['doe', 'mctp', 'none', 'tcp'] as const) {
    const server = await EmuSocketServer.listen({ port: 0, transport, handler: new Responder(built.profile) });
    const conn = await EmuSocketTransport.connect({ port: server.port, transport, endWith: 'continue' });
    const [r, base] = await compare(
      {
        async: async () => {
          await new Requester(conn).authenticate();
        },
      },
      { async: inproc },
    );
    await conn.close();
    await server.close();
    report.add({
      name: `spdm-emu socket, ${transport}: wall per flow`,
      value: r.wallUs,
      unit: 'µs',
      baseline: { name: 'in-process', value: base.wallUs },
    });
  }
  for (const [label, pollIntervalMs] of [
    ['Linux-like 1/128 s polling', undefined],
    ['0.01 ms polling', 0.01],
  ] as const) {
    const dev = new SimulatedDoeDevice({ handler: new Responder(built.profile) });
    const conn = await openDoeTransport(dev, pollIntervalMs === undefined ? {} : { pollIntervalMs });
    const r = await measure(
      async () => {
        await new Requester(conn).authenticate();
      },
      { warmup: 1 },
    );
    report.add({ name: `DOE mailbox (simulated, ${label}): wall per flow`, value: r.wallUs, unit: 'µs' });
  }
}

report.finish();
