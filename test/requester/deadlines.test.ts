/**
 * A device's timing claims are untrusted: CTExponent and RDTExponent are exponents it picks. Every
 * wait is clamped, every request and every flow has a deadline, and the error says what the device
 * asked for and which limit applied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError, SpdmError } from '../../src/wire/errors.js';
import { LIMITS } from '../../src/wire/limits.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Requester } from '../../src/requester/requester.js';
import { Responder } from '../../src/responder/responder.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { RequesterOptions } from '../../src/requester/options.js';
import { encodeResponseNotReady } from '../../src/spdm/messages/error.js';
import { misbehaving, type Misbehavior } from '../../src/responder/faults/misbehavior.js';
import { SUITES, device } from '../support/fixtures.js';
import { recordingClock } from '../support/recording-clock.js';

/** A device that answers CHALLENGE, and every RESPOND_IF_READY after it, with ResponseNotReady forever. */
function neverReady(profile: DeviceProfile, rdtExponent: number) {
  const inner = new Responder(profile);
  return new LoopbackTransport({
    async handle(req: Uint8Array) {
      if (req[1] === CHALLENGE || req[1] === 0xff)
        return encodeResponseNotReady(req[0] as number, { rdtExponent, requestCode: CHALLENGE, token: 7, rdtm: 1 });
      return inner.handle(req);
    },
  });
}

const CHALLENGE = 0x83;

function withCt(p: DeviceProfile, ctExponent: number): DeviceProfile {
  return { ...p, capabilities: { ...p.capabilities, ctExponent } };
}

/** Authenticates `profile`, behind the fault wrapper when `misbehave` is given. */
function run(profile: DeviceProfile, options: RequesterOptions = {}, misbehave?: Misbehavior) {
  return new Requester(
    new LoopbackTransport(misbehave ? misbehaving(profile, misbehave) : new Responder(profile)),
    options,
  ).authenticate();
}

function expectCode(code: string, check?: (e: SpdmError) => void) {
  return (e: unknown) => {
    assert.ok(isSpdmError(e), `expected SpdmError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  };
}

test(
  'CTExponent 31 (a 36-minute crypto timeout) on a silent device: TIMEOUT at maxResponseWaitMs, naming both',
  { timeout: 5000 },
  async () => {
    const built = device(SUITES[0]!);
    const t0 = Date.now();
    await assert.rejects(
      run(withCt(built.profile, 31), { maxResponseWaitMs: 150 }, { hang: { code: CHALLENGE } }),
      expectCode('TIMEOUT', (e) => {
        assert.match(e.message, /CHALLENGE/);
        assert.match(e.message, /CTExponent 31/);
        assert.match(e.message, /maxResponseWaitMs/);
        assert.equal(e.details['limitMs'], 150);
        assert.ok((e.details['askedMs'] as number) > 2_000_000);
      }),
    );
    assert.ok(Date.now() - t0 < 2000, 'gave up at the cap, not after the device-claimed time');
  },
);

test('CTExponent 42 overflows no timer: a genuine device that takes 60 ms is waited for', async () => {
  const built = device(SUITES[0]!);
  const ev = await run(withCt(built.profile, 42), {}, { delay: { code: CHALLENGE, ms: 60 } });
  assert.equal(ev.signatures[0]?.kind, 'CHALLENGE_AUTH');
});

test('the default cap is LIMITS.maxResponseWaitMs and is stated in the error', { timeout: 5000 }, async () => {
  assert.equal(LIMITS.maxResponseWaitMs, 10_000);
  const built = device(SUITES[0]!);
  await assert.rejects(
    run(withCt(built.profile, 50), { maxResponseWaitMs: 100 }, { hang: { code: CHALLENGE } }),
    expectCode('TIMEOUT', (e) => assert.match(e.message, /capped at 100 ms/)),
  );
});

test('ResponseNotReady asking for 12 days (RDTExponent 40) is clamped to maxNotReadyWaitMs, then collected', async () => {
  const built = device(SUITES[0]!);
  const clock = recordingClock();
  const ev = await run(built.profile, { clock }, { notReady: { code: CHALLENGE, times: 1, rdtExponent: 40, rdtm: 1 } });
  assert.equal(ev.signatures[0]?.kind, 'CHALLENGE_AUTH');
  assert.deepEqual(clock.slept, [LIMITS.maxNotReadyWaitMs]);
});

test('endless ResponseNotReady → NOT_READY after notReadyRetries waits', async () => {
  const built = device(SUITES[0]!);
  const clock = recordingClock();
  await assert.rejects(
    new Requester(neverReady(built.profile, 20), { clock, notReadyRetries: 5 }).authenticate(),
    expectCode('NOT_READY', (e) => assert.match(e.message, /after 5 waits/)),
  );
  assert.equal(clock.slept.length, 5);
});

test('ResponseNotReady rounds stop at the request deadline, with what the device asked for in the message', async () => {
  const built = device(SUITES[0]!);
  const clock = recordingClock();
  // 8 rounds of 2 s would be 16 s; the request may take 5 s.
  await assert.rejects(
    new Requester(neverReady(built.profile, 40), { clock, requestDeadlineMs: 5000 }).authenticate(),
    expectCode('TIMEOUT', (e) => {
      assert.equal(e.details['deadline'], 'request');
      assert.match(e.message, /RDTExponent 40/);
      assert.match(e.message, /clamped to 2000 ms/);
      assert.match(e.message, /requestDeadlineMs/);
    }),
  );
  assert.ok(clock.slept.reduce((a, b) => a + b, 0) <= 5000);
});

test(
  'the whole flow has a deadline: a device slow on every request fails with the flow deadline',
  { timeout: 5000 },
  async () => {
    const built = device(SUITES[0]!);
    // CHALLENGE takes 200 ms, within its own allowance but past what is left of a 150 ms flow.
    const slow: Misbehavior = { delay: { code: 0x81, ms: 200 } };
    await assert.rejects(
      run(built.profile, { flowDeadlineMs: 150 }, slow),
      expectCode('TIMEOUT', (e) => assert.equal(e.details['deadline'], 'flow')),
    );
  },
);

test('a Busy device is retried only while the request deadline allows', async () => {
  const built = device(SUITES[0]!);
  const clock = recordingClock();
  await assert.rejects(
    run(built.profile, { clock, busyRetries: 100, requestDeadlineMs: 100 }, { busy: { code: 0x81, times: 100 } }),
    expectCode('TIMEOUT', (e) => assert.equal(e.details['deadline'], 'request')),
  );
});

test('limits given as options are checked: nonsense is a TypeError from the caller, not a silent 1 ms timer', () => {
  const t = new LoopbackTransport({ handle: async () => new Uint8Array() });
  assert.throws(() => new Requester(t, { maxResponseWaitMs: 2 ** 40 }), TypeError);
  assert.throws(() => new Requester(t, { flowDeadlineMs: -1 }), TypeError);
  assert.throws(() => new Requester(t, { notReadyRetries: 1.5 }), TypeError);
});
