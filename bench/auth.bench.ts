/**
 * In-process authentication throughput per algorithm suite, beside the raw cost of the same
 * signatures done with node:crypto in the same run. One authentication = VCA, GET_DIGESTS,
 * GET_CERTIFICATE (whole chain), CHALLENGE (responder signs, requester verifies and validates
 * the chain), GET_MEASUREMENTS signed (sign + verify): two signatures, two SPDM verifications,
 * three certificate signature checks, on both sides of the wire in this one process.
 */
import { sign, verify, createHash } from 'node:crypto';
import { asymInfo } from '../src/crypto/algorithms.js';
import { generateKeyPair } from '../src/x509/generate.js';
import { buildProfile } from '../src/responder/profiles.js';
import { Responder } from '../src/responder/responder.js';
import { Requester } from '../src/requester/requester.js';
import { LoopbackTransport } from '../src/transport/loopback.js';
import { spdmSign, spdmVerify } from '../src/crypto/signature.js';
import { EmuSocketServer, EmuSocketTransport } from '../src/transport/emu-socket.js';
import { SimulatedDoeDevice } from '../src/pci/doe-device.js';
import { openDoeTransport } from '../src/pci/doe-transport.js';

const SUITES = [
  { name: 'ECDSA-P256/SHA-256', asymId: 0x0010, hashId: 0x01 },
  { name: 'ECDSA-P384/SHA-384', asymId: 0x0080, hashId: 0x02 },
  { name: 'RSAPSS-3072/SHA-384', asymId: 0x0008, hashId: 0x02 },
  { name: 'Ed25519/SHA-512', asymId: 0x0400, hashId: 0x04 },
];

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 1.5);

async function timeLoop(fn: () => Promise<void> | void): Promise<{ ops: number; msPerOp: number }> {
  for (let i = 0; i < 3; i++) await fn();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    await fn();
    n++;
  }
  const ms = performance.now() - t0;
  return { ops: (n * 1000) / ms, msPerOp: ms / n };
}

function nodeAlgo(asymId: number, hash: string) {
  const a = asymInfo(asymId)!;
  if (a.kind === 'ed25519') return { alg: null, opts: {} };
  if (a.kind === 'rsapss') return { alg: hash, opts: { padding: 6, saltLength: 48 } };
  if (a.kind === 'ecdsa') return { alg: hash, opts: { dsaEncoding: 'ieee-p1363' as const } };
  return { alg: hash, opts: {} };
}

async function main(): Promise<void> {
  console.log(`spdmkit bench: ${SECONDS}s per measurement, node ${process.version}\n`);
  const rows: string[][] = [
    ['suite', 'version', 'auth/s', 'ms/auth', 'raw 2×sign+2×verify ms', 'auth ÷ raw', 'spdmSign+Verify ÷ raw'],
  ];
  for (const s of SUITES) {
    const built = buildProfile({ name: s.name, versions: [0x12, 0x13], asymId: s.asymId, hashId: s.hashId });
    const hashName = s.hashId === 0x01 ? 'sha256' : s.hashId === 0x02 ? 'sha384' : 'sha512';
    const { privateKey, publicKey } = generateKeyPair(s.asymId);
    const msg = new Uint8Array(100 + 48);
    const { alg, opts } = nodeAlgo(s.asymId, hashName);
    const raw = await timeLoop(() => {
      for (let i = 0; i < 2; i++) {
        const sig = sign(alg, msg, { key: privateKey, ...opts });
        if (!verify(alg, msg, { key: publicKey, ...opts }, sig)) throw new Error('raw verify failed');
      }
    });
    const th = new Uint8Array(createHash(hashName).update('x').digest());
    const ours = await timeLoop(() => {
      for (let i = 0; i < 2; i++) {
        const d = { version: 0x13, hashId: s.hashId, context: 'responder-challenge_auth signing', transcriptHash: th };
        const sig = spdmSign(privateKey, s.asymId, d);
        if (!spdmVerify(publicKey, s.asymId, d, sig)) throw new Error('spdm verify failed');
      }
    });
    for (const version of [0x12, 0x13]) {
      const profile = { ...built.profile, versions: [version] };
      const responder = new Responder(profile);
      const auth = await timeLoop(async () => {
        const r = new Requester(new LoopbackTransport(responder));
        await r.authenticate();
      });
      rows.push([
        s.name,
        `${version >> 4}.${version & 0xf}`,
        auth.ops.toFixed(0),
        auth.msPerOp.toFixed(2),
        raw.msPerOp.toFixed(2),
        (auth.msPerOp / raw.msPerOp).toFixed(2),
        (ours.msPerOp / raw.msPerOp).toFixed(2),
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  // The same flow through the spdm-emu socket protocol over loopback (our client and server, Nagle off).
  console.log('\nover the spdm-emu socket protocol on loopback (ECDSA-P384/SHA-384, SPDM 1.3, one connection):');
  const built = buildProfile({ name: 'socket', versions: [0x13], asymId: 0x0080, hashId: 0x02 });
  for (const transport of ['doe', 'mctp', 'none', 'tcp'] as const) {
    const server = await EmuSocketServer.listen({ port: 0, transport, handler: new Responder(built.profile) });
    const t = await EmuSocketTransport.connect({ port: server.port, transport, endWith: 'continue' });
    const r = await timeLoop(async () => {
      await new Requester(t).authenticate();
    });
    const inproc = await timeLoop(async () => {
      await new Requester(new LoopbackTransport(new Responder(built.profile))).authenticate();
    });
    await t.close();
    await server.close();
    console.log(
      `  ${transport.padEnd(5)} ${r.msPerOp.toFixed(2)} ms/auth (${r.ops.toFixed(0)}/s); in-process ${inproc.msPerOp.toFixed(2)} ms; socket overhead ${(r.msPerOp - inproc.msPerOp).toFixed(2)} ms for 8 exchanges`,
    );
  }
  // Through the register-level DOE mailbox driver and the simulated DOE device: every dword of
  // every message crosses the Write/Read Data Mailbox registers, Status is polled.
  {
    for (const [label, pollIntervalMs] of [
      ['Linux-like 1/128 s polling', undefined],
      ['0.01 ms polling', 0.01],
    ] as const) {
      const dev = new SimulatedDoeDevice({ handler: new Responder(built.profile) });
      const t = await openDoeTransport(dev, pollIntervalMs === undefined ? {} : { pollIntervalMs });
      const r = await timeLoop(async () => {
        await new Requester(t).authenticate();
      });
      console.log(
        `  DOE mailbox, simulated device, register level, ${label}: ${r.msPerOp.toFixed(2)} ms/auth (${r.ops.toFixed(0)}/s)`,
      );
    }
  }
  const mem = process.memoryUsage();
  console.log(`\nrss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);
}

await main();
