/**
 * Memory per connection and per session (issue 12, item 7), in the requester and in the device
 * emulator: N requester ⇄ emulator pairs brought to a state, the heap measured after a full GC
 * (V8 heap + external memory, which holds the ArrayBuffers of every Uint8Array), then the
 * requesters dropped and the heap measured again — what went away was the requesters', what
 * stayed the emulators'. RSS grows by pages and rarely shrinks, so it is given for the whole step
 * (both sides) only.
 *
 *   connected      VCA, GET_DIGESTS, the certificate chain (what a session needs first)
 *   authenticated  the whole authentication, the requester keeping its evidence
 *   session        connected, then one KEY_EXCHANGE session established (ECDHE secp384r1,
 *                  AES-256-GCM), less the connected state
 *
 * For scale (not measured here): libspdm's whole context is ≈ 29 KB; spdm-rs needs 0.46–1.1 MB
 * of stack.
 *
 *   npm run build && node --expose-gc dist/bench/memory.bench.js [--json]
 *   BENCH_MEMORY_N=500 …      pairs per state (default 100)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AeadAlgo } from '../src/crypto/aead.js';
import { DheGroup } from '../src/crypto/dhe.js';
import { CapabilityFlag as F } from '../src/spdm/messages/capabilities.js';
import { buildProfile, DEFAULT_RESPONDER_FLAGS } from '../src/responder/profiles.js';
import type { DeviceProfile } from '../src/responder/profile.js';
import { Responder } from '../src/responder/responder.js';
import { Requester } from '../src/requester/requester.js';
import { LoopbackTransport } from '../src/transport/loopback.js';
import { Report } from './harness.js';

const N = Math.max(1, Math.round(Number(process.env['BENCH_MEMORY_N'] ?? 100)) || 100);

/** global.gc, exposed on the fly when node was started without --expose-gc. */
const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

interface Mem {
  readonly heap: number;
  readonly rss: number;
}

async function settle(): Promise<Mem> {
  // Let pending promise jobs and timers finish, then collect twice (weak references, finalizers).
  await new Promise((r) => setImmediate(r));
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

const SESSION_FLAGS = F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;
const base = buildProfile({ name: 'memory', versions: [0x13], asymId: 0x0080, hashId: 0x02 }).profile;
const profile: DeviceProfile = {
  ...base,
  capabilities: { ...base.capabilities, flags: DEFAULT_RESPONDER_FLAGS | SESSION_FLAGS },
  algorithms: { ...base.algorithms, dhe: [DheGroup.SECP384R1], aead: [AeadAlgo.AES_256_GCM] },
};

function pair(responder: Responder): Requester {
  return new Requester(new LoopbackTransport(responder, 0x10000, { securedBinding: 'doe' }), {
    versions: [0x13],
    capabilityFlags: F.CERT | F.CHAL | SESSION_FLAGS,
    session: {},
  });
}

type State = 'connected' | 'authenticated' | 'session';

async function reach(r: Requester, state: State): Promise<unknown> {
  if (state === 'authenticated') return r.authenticate();
  await r.connect();
  await r.getDigests();
  await r.getCertificateChain(0);
  if (state === 'session') return r.startSession();
  return undefined;
}

interface PassResult {
  /** Per pair, bytes. */
  readonly emulatorIdle: number;
  readonly requester: number;
  readonly emulator: number;
  readonly rss: number;
}

async function pass(state: State): Promise<PassResult> {
  const m0 = await settle();
  let responders: Responder[] | undefined = Array.from(
    { length: N },
    () => new Responder(profile, { securedBinding: 'doe' }),
  );
  const m1 = await settle();
  let requesters: Requester[] | undefined = responders.map(pair);
  let held: unknown[] | undefined = [];
  for (const r of requesters) held.push(await reach(r, state));
  const m2 = await settle();
  requesters = undefined;
  held = undefined;
  const m3 = await settle();
  const result = {
    emulatorIdle: (m1.heap - m0.heap) / N,
    requester: (m2.heap - m3.heap) / N,
    emulator: (m3.heap - m1.heap) / N,
    rss: (m2.rss - m1.rss) / N,
  };
  // Keep the responders alive until here: their state is what m3 measured.
  if (responders.length !== N) throw new Error('the emulators went away before they were measured');
  responders = undefined;
  return result;
}

const report = new Report('spdmkit memory bench');
report.section(
  'memory',
  `Memory per pair, ${N} requester ⇄ emulator pairs per state (V8 heap + external after a full GC; KiB)`,
);

// Warm-up: the shared certificate cache, compiled code, the key objects of the profile.
await reach(pair(new Responder(profile, { securedBinding: 'doe' })), 'session');
await reach(pair(new Responder(profile, { securedBinding: 'doe' })), 'authenticated');

const KiB = 1024;
const connected = await pass('connected');
const authenticated = await pass('authenticated');
const session = await pass('session');
report.add({ name: 'emulator instance, idle', value: connected.emulatorIdle / KiB, unit: 'KiB' });
report.add({ name: 'connected: requester', value: connected.requester / KiB, unit: 'KiB' });
report.add({ name: 'connected: emulator', value: connected.emulator / KiB, unit: 'KiB' });
report.add({ name: 'connected: RSS growth, both sides', value: connected.rss / KiB, unit: 'KiB' });
report.add({ name: 'authenticated (evidence kept): requester', value: authenticated.requester / KiB, unit: 'KiB' });
report.add({ name: 'authenticated: emulator', value: authenticated.emulator / KiB, unit: 'KiB' });
report.add({
  name: 'session on top of the connection: requester',
  value: (session.requester - connected.requester) / KiB,
  unit: 'KiB',
});
report.add({
  name: 'session on top of the connection: emulator',
  value: (session.emulator - connected.emulator) / KiB,
  unit: 'KiB',
});
report.add({ name: 'connected + session: RSS growth, both sides', value: session.rss / KiB, unit: 'KiB' });
report.note("  for scale, not measured here: libspdm's context ≈ 29 KB; spdm-rs 0.46–1.1 MB of stack");

report.finish();
