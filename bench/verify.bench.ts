/**
 * verify() of one evidence in a warm process: ECDSA P-384 / SHA-384, SPDM 1.2, CHALLENGE_AUTH and
 * MEASUREMENTS signatures, a 3-certificate chain (root, intermediate, leaf) under a trusted root,
 * collected from the emulator in-process. The baseline, measured alternately in the same process,
 * is the floor no verifier can go under: node:crypto verifying the evidence's two signatures,
 * everything SPDM-specific worked out beforehand. The ratio is what the verifier adds (decoding
 * the signed transcripts, the chain and policy checks).
 *
 *   node dist/bench/verify.bench.js
 *   BENCH_SECONDS=3 node dist/bench/verify.bench.js --json
 *
 * Prints figures; never fails on a timing.
 */
import type { Evidence } from '../src/evidence/evidence.js';
import { LoopbackTransport } from '../src/transport/loopback.js';
import { Requester } from '../src/requester/requester.js';
import { Responder } from '../src/responder/responder.js';
import { buildProfile } from '../src/responder/profiles.js';
import { compilePolicy } from '../src/verifier/policy.js';
import { TrustStore } from '../src/verifier/trust-store.js';
import { verify } from '../src/verifier/verify.js';
import { createRootCa } from '../src/x509/generate.js';
import { compare, Report } from './harness.js';
import { rawSignatures, verifyRaw } from './raw-signatures.js';

const P384 = 0x0080;
const SHA384 = 0x02;

/** The evidence's signatures as node:crypto verifies them (bench/raw-signatures.ts). */
function rawChecks(e: Evidence): (() => boolean)[] {
  return rawSignatures(e).map((r) => () => verifyRaw(r));
}

async function main(): Promise<void> {
  const report = new Report('spdmkit verifier bench');
  report.section('verify', 'verify() of one evidence, warm process');
  const root = createRootCa({
    asymId: P384,
    commonName: 'Bench Root CA',
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
  });
  const { profile } = buildProfile({ name: 'bench-p384', versions: [0x12], asymId: P384, hashId: SHA384, root });
  const evidence = await new Requester(new LoopbackTransport(new Responder(profile)), {
    deviceName: profile.name,
  }).authenticate({});
  // As read back from a file: the verifier sees JSON, not the requester's objects.
  const doc: unknown = JSON.parse(JSON.stringify(evidence));
  const trust = TrustStore.fromCertificates([root.certificate]);
  const policy = compilePolicy({ version: 1 });
  const first = verify(doc, policy, trust);
  const raw = rawChecks(evidence);
  if (!raw.every((f) => f())) throw new Error('a raw signature does not verify');
  const kinds = evidence.signatures.map((s) => s.kind).join(' + ');
  report.note(
    `  evidence: ECDSA-P384/SHA-384, SPDM 1.2, ${kinds}, ${profile.slots[0]?.certificates.length ?? 0}-certificate chain; verdict ${first.status} (${first.reasons.map((r) => r.code).join(', ') || 'no reasons'})`,
  );
  const [v, floor] = await compare({ sync: () => verify(doc, policy, trust) }, { sync: () => raw.every((f) => f()) });
  report.add({
    name: 'verify() CPU per evidence',
    value: v.cpuUs,
    unit: 'µs',
    baseline: { name: `crypto.verify of its ${raw.length} signatures`, value: floor.cpuUs },
  });
  report.finish();
}

await main();
