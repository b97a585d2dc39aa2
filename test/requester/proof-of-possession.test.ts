/**
 * A certificate chain is public: a device is authenticated only by a verified signature over a
 * fresh requester nonce. A device — or a man-in-the-middle — that hides CHALLENGE and signed
 * measurements must fail with SIGNATURE_MISSING, never come out "authenticated".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError } from '../../src/wire/errors.js';
import { Responder } from '../../src/responder/responder.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import { EmuSocketServer } from '../../src/transport/emu-socket.js';
import { CapabilityFlag } from '../../src/spdm/messages/capabilities.js';
import { ResponseCode } from '../../src/spdm/codes.js';
import type { SpdmHandler } from '../../src/transport/transport.js';
import { runAuthenticate } from '../../src/cli/authenticate.js';
import { SUITES, device, variant } from '../support/fixtures.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MEAS = CapabilityFlag.MEAS_NO_SIG | CapabilityFlag.MEAS_SIG;

/**
 * Sits between requester and a genuine device: rewrites CAPABILITIES so CHAL_CAP is clear and
 * measurements look unsigned, drops the signature request from GET_MEASUREMENTS, and (optionally)
 * replaces every measurement byte — all in unsigned bytes, so nothing can catch it but the rule.
 */
function mitm(device: SpdmHandler, opts: { rewriteMeasurements?: boolean } = {}): SpdmHandler {
  return {
    async handle(req: Uint8Array): Promise<Uint8Array> {
      const forwarded = req.slice();
      if (forwarded[1] === 0xe0) forwarded[2] = (forwarded[2] as number) & ~0x01; // GET_MEASUREMENTS: no signature requested
      const r = (await device.handle(forwarded)).slice();
      if (r[1] === ResponseCode.CAPABILITIES) {
        const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
        const flags = dv.getUint32(8, true);
        dv.setUint32(8, ((flags & ~CapabilityFlag.CHAL & ~MEAS) | CapabilityFlag.MEAS_NO_SIG) >>> 0, true);
      }
      if (r[1] === ResponseCode.MEASUREMENTS && opts.rewriteMeasurements) {
        // Record at offset 8 (header, NumberOfBlocks, 3-byte length); each block: Index, Spec,
        // Size(2), then the DMTF Type(1) ValueSize(2) Value — replace every value byte.
        const end = 8 + ((r[5] as number) | ((r[6] as number) << 8) | ((r[7] as number) << 16));
        for (let o = 8; o + 4 <= end;) {
          const size = (r[o + 2] as number) | ((r[o + 3] as number) << 8);
          for (let i = o + 7; i < o + 4 + size; i++) r[i] = (r[i] as number) ^ 0x5a;
          o += 4 + size;
        }
      }
      return r;
    },
  };
}

function isMissing(e: unknown): boolean {
  assert.ok(e instanceof SpdmError, `expected SpdmError, got ${String(e)}`);
  assert.equal(e.code, 'SIGNATURE_MISSING', e.message);
  assert.match(e.message, /no proof of key possession|CHALLENGE/);
  return true;
}

for (const v of [0x10, 0x11, 0x12, 0x13]) {
  test(`man-in-the-middle clearing CHAL_CAP and MEAS_SIG (SPDM ${v >> 4}.${v & 0xf}) → SIGNATURE_MISSING, not authenticated`, async () => {
    const built = device(SUITES[0]!);
    const responder = new Responder(variant(built.profile, { versions: [v] }));
    await assert.rejects(new Requester(new LoopbackTransport(mitm(responder))).authenticate(), isMissing);
  });
}

test('the same with every measurement rewritten → SIGNATURE_MISSING', async () => {
  const built = device(SUITES[1]!);
  await assert.rejects(
    new Requester(
      new LoopbackTransport(mitm(new Responder(built.profile), { rewriteMeasurements: true })),
    ).authenticate(),
    isMissing,
  );
});

test('a device offering neither CHALLENGE nor signed measurements → SIGNATURE_MISSING', async () => {
  const built = device(SUITES[0]!);
  const flags = (built.profile.capabilities.flags & ~CapabilityFlag.CHAL & ~MEAS) | CapabilityFlag.MEAS_NO_SIG;
  const r = new Requester(new LoopbackTransport(new Responder(variant(built.profile, { flags }))));
  await assert.rejects(r.authenticate(), isMissing);
});

test('a device without CHALLENGE but with signed measurements is authenticated by the MEASUREMENTS signature, unless CHALLENGE is required', async () => {
  const built = device(SUITES[0]!);
  const flags = built.profile.capabilities.flags & ~CapabilityFlag.CHAL;
  const profile = variant(built.profile, { flags });
  const ev = await new Requester(new LoopbackTransport(new Responder(profile))).authenticate();
  assert.deepEqual(
    ev.signatures.map((s) => s.kind),
    ['MEASUREMENTS'],
  );
  assert.ok(ev.measurements.every((m) => m.signed));
  await assert.rejects(
    new Requester(new LoopbackTransport(new Responder(profile))).authenticate({ requireChallenge: true }),
    (e: unknown) => {
      assert.ok(e instanceof SpdmError && e.code === 'SIGNATURE_MISSING');
      assert.match(e.message, /CHALLENGE/);
      return true;
    },
  );
});

test('skipping measurements on a device without CHALLENGE leaves no proof → SIGNATURE_MISSING', async () => {
  const built = device(SUITES[0]!);
  const r = new Requester(
    new LoopbackTransport(
      new Responder(variant(built.profile, { flags: built.profile.capabilities.flags & ~CapabilityFlag.CHAL })),
    ),
  );
  await assert.rejects(r.authenticate({ skipMeasurements: true }), isMissing);
});

test('CHALLENGE with unsigned measurements: authenticated, and the measurements stay marked unsigned', async () => {
  const built = device(SUITES[0]!);
  const flags = (built.profile.capabilities.flags & ~MEAS) | CapabilityFlag.MEAS_NO_SIG;
  const ev = await new Requester(
    new LoopbackTransport(new Responder(variant(built.profile, { flags }))),
  ).authenticate();
  assert.deepEqual(
    ev.signatures.map((s) => s.kind),
    ['CHALLENGE_AUTH'],
  );
  assert.ok(ev.measurements.length > 0 && ev.measurements.every((m) => !m.signed));
});

test('spdm authenticate --trust over a real socket: the man-in-the-middle gets exit 1 SIGNATURE_MISSING, never a verdict', async () => {
  const built = device(SUITES[1]!);
  const server = await EmuSocketServer.listen({
    port: 0,
    transport: 'mctp',
    handler: mitm(new Responder(built.profile), { rewriteMeasurements: true }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-pop-'));
  try {
    const root = built.root.certificate;
    writeFileSync(join(dir, 'root.der'), root);
    const { exitCode, outcome } = await runAuthenticate({
      connect: `127.0.0.1:${server.port}`,
      transport: 'mctp',
      slot: 0,
      trust: join(dir, 'root.der'),
      measurements: 'all',
    });
    assert.equal(exitCode, 1);
    assert.equal(outcome.authenticated, false);
    assert.equal(outcome.errorCode, 'SIGNATURE_MISSING');
    assert.equal(outcome.trusted, undefined);
    assert.equal(outcome.verdict, undefined);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spdm authenticate over the DOE transport requires CHALLENGE by default (PCIe CMA)', async () => {
  const built = device(SUITES[0]!);
  const handler = new Responder(
    variant(built.profile, { flags: built.profile.capabilities.flags & ~CapabilityFlag.CHAL }),
  );
  const server = await EmuSocketServer.listen({ port: 0, transport: 'doe', handler });
  try {
    const base = {
      connect: `127.0.0.1:${server.port}`,
      transport: 'doe' as const,
      slot: 0,
      measurements: 'all' as const,
    };
    const refused = await runAuthenticate(base);
    assert.equal(refused.exitCode, 1);
    assert.equal(refused.outcome.errorCode, 'SIGNATURE_MISSING');
    const allowed = await runAuthenticate({ ...base, requireChallenge: false });
    assert.equal(allowed.exitCode, 0, allowed.outcome.reason);
    assert.deepEqual(
      allowed.outcome.evidence?.signatures.map((s) => s.kind),
      ['MEASUREMENTS'],
    );
  } finally {
    await server.close();
  }
});
