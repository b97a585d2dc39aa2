/**
 * Runs one hostile case the way a host meets the device — the real requester over the loopback
 * transport, the hostile socket server, or the simulated DOE mailbox — then the verifier on the
 * evidence when the requester produced any, and checks the outcome against the case's expectation.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { SpdmError } from '../../src/wire/errors.js';
import { Requester } from '../../src/requester/requester.js';
import type { RequesterOptions } from '../../src/requester/options.js';
import type { AuthenticateOptions } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { EmuSocketTransport } from '../../src/transport/emu-socket.js';
import type { SpdmHandler, Transport } from '../../src/transport/transport.js';
import type { Evidence } from '../../src/evidence/evidence.js';
import { verify } from '../../src/verifier/verify.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import type { Verdict } from '../../src/verifier/verdict.js';
import {
  HostileEmuServer,
  openFaultyDoe,
  HOSTILE_PCI,
  isErrorExpectation,
  type HostileCase,
  type HostileDevice,
} from '../../src/responder/faults/index.js';

export interface Outcome {
  readonly error?: unknown;
  readonly evidence?: Evidence;
  readonly verdict?: Verdict;
  /** Replies the fault wrapper changed during the run. */
  readonly fired: number;
  /** Whether the device had a fault in its wrapper (false: the profile itself is the fault). */
  readonly faulted: boolean;
  /** The requester nonce of the run, and the roots a verifier trusts for the device. */
  readonly nonce: Uint8Array;
  readonly trustAnchors: readonly Uint8Array[];
}

/** Put in front of the device's handler (e.g. to record the exchange). */
export type HandlerTap = (handler: SpdmHandler) => SpdmHandler;

async function authenticate(c: HostileCase, d: HostileDevice, open: () => Promise<Transport>): Promise<Outcome> {
  const nonce = new Uint8Array(randomBytes(32));
  let transport: Transport | undefined;
  try {
    transport = await open();
    const options: RequesterOptions = { deviceName: c.name, pci: HOSTILE_PCI, ...(c.requester ?? {}) };
    const requester = new Requester(transport, options);
    const auth: AuthenticateOptions = { nonce, ...(c.authenticate ?? {}) };
    const evidence = await requester.authenticate(auth);
    const verdict = verify(evidence, undefined, TrustStore.fromCertificates(d.trustAnchors), { expectedNonce: nonce });
    return { evidence, verdict, fired: d.handler.fired, faulted: d.faulted, nonce, trustAnchors: d.trustAnchors };
  } catch (error) {
    return { error, fired: d.handler.fired, faulted: d.faulted, nonce, trustAnchors: d.trustAnchors };
  } finally {
    await transport?.close?.();
  }
}

/** One run of `c` (variant `variant` of a sweep), with `tap` between the transport and the device when given. */
export async function runCase(c: HostileCase, variant = 0, tap?: HandlerTap): Promise<Outcome> {
  const front = (d: HostileDevice): SpdmHandler => (tap ? tap(d.handler) : d.handler);
  switch (c.via) {
    case 'handler': {
      const d = c.device(variant);
      return authenticate(c, d, async () => new LoopbackTransport(front(d)));
    }
    case 'socket': {
      const d = c.device();
      const server = await HostileEmuServer.listen({ port: 0, transport: 'mctp', handler: front(d), fault: c.socket });
      try {
        return await authenticate(c, d, () =>
          EmuSocketTransport.connect({
            port: server.port,
            transport: 'mctp',
            endWith: 'continue',
            connectTimeoutMs: 2000,
          }),
        );
      } finally {
        await server.close();
      }
    }
    case 'doe': {
      const d = c.device();
      return authenticate(c, d, async () => (await openFaultyDoe(front(d), c.doe)).transport);
    }
  }
}

function describe(o: Outcome): string {
  if (o.error instanceof SpdmError) return `${o.error.code}: ${o.error.message} ${JSON.stringify(o.error.details)}`;
  if (o.error !== undefined)
    return `non-SpdmError ${o.error instanceof Error ? `${o.error.name}: ${o.error.message}\n${o.error.stack ?? ''}` : inspect(o.error)}`;
  return `ACCEPTED (verdict ${o.verdict?.status ?? '?'}: ${(o.verdict?.reasons ?? []).map((r) => r.code).join(', ') || 'no reasons'})`;
}

/** Asserts that the outcome is exactly what the case expects. */
export function assertExpected(c: HostileCase, o: Outcome, label = c.name): void {
  const e = c.expect;
  if (isErrorExpectation(e)) {
    assert.ok(o.error instanceof SpdmError, `${label}: expected SpdmError ${e.error}, got ${describe(o)}`);
    assert.equal(o.error.code, e.error, `${label}: expected ${e.error}, got ${describe(o)}`);
    if (e.detail) assert.match(o.error.message, e.detail, `${label}: ${describe(o)}`);
    for (const [k, v] of Object.entries(e.details ?? {}))
      assert.deepEqual(o.error.details[k], v, `${label}: details.${k} — ${describe(o)}`);
    if (c.via === 'doe' && c.failure !== undefined)
      assert.equal(o.error.details['failure'], c.failure, `${label}: DOE failure — ${describe(o)}`);
    return;
  }
  assert.ok(
    o.evidence && o.verdict,
    `${label}: expected evidence for the verifier (verdict ${e.verdict}), got ${describe(o)}`,
  );
  assert.equal(o.verdict.status, 'untrusted', `${label}: the verifier trusted it — ${describe(o)}`);
  const hit = o.verdict.reasons.find(
    (r) => r.code === e.verdict && (e.problem === undefined || r['problem'] === e.problem),
  );
  assert.ok(
    hit,
    `${label}: expected reason ${e.verdict}${e.problem ? ` (${e.problem})` : ''}, got ${o.verdict.reasons.map((r) => `${r.code}${r['problem'] ? `(${inspect(r['problem'])})` : ''}: ${r.message}`).join('; ')}`,
  );
}

/** Every variant of a sweep that fires, then the first that does not (bounded). */
export async function runSweep(c: HostileCase, onVariant: (variant: number, o: Outcome) => void): Promise<number> {
  for (let v = 0; v < 0x10000; v++) {
    const o = await runCase(c, v);
    if (o.fired === 0) return v;
    onVariant(v, o);
  }
  throw new Error(`${c.name}: sweep did not end within 65536 variants`);
}
