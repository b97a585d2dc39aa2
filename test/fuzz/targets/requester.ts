/**
 * The requester against genuine responses with mutations: our emulator answering live, and
 * libspdm's responder replayed from the captures. A mutation plan names exchanges (by their order
 * in the run) and what happens to each response: byte edits, replacement by an ERROR or a
 * ResponseNotReady, or a genuine response from another exchange. The requester must end with
 * evidence or a typed SpdmError, never an untyped exception or a hang, never wait longer than
 * LIMITS allows (each response, each ResponseNotReady, the whole flow), and must never produce
 * verified evidence over content a mutation changed:
 *
 *  - emulator: every accepted (non-ERROR) response that differs from what the emulator sent (other
 *    than by up to three zero padding bytes) in that or an earlier exchange, and that lies inside a
 *    signature's coverage (VCA,
 *    DIGESTS, CERTIFICATE and CHALLENGE_AUTH for the CHALLENGE_AUTH signature; MEASUREMENTS, and
 *    VCA from 1.2, for the MEASUREMENTS one) makes a verified signature a failure;
 *  - libspdm: our requests are not the ones libspdm's requester signed over, so no signature of a
 *    replayed response can verify; any verified signature is a failure. The replay hands our
 *    requester libspdm's nonces and contexts as its randomness and drops the two things libspdm
 *    negotiated that ours does not ask for (DHE/AEAD selections, multi-key DIGESTS fields), so an
 *    unmutated replay of every capture runs up to the CHALLENGE_AUTH signature check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/wire/bytes.js';
import { SpdmError } from '../../../src/wire/errors.js';
import { LIMITS } from '../../../src/wire/limits.js';
import { ResponseCode, RequestCode } from '../../../src/spdm/codes.js';
import { encodeError, encodeResponseNotReady } from '../../../src/spdm/messages/error.js';
import { decodeAlgorithms, encodeAlgorithms } from '../../../src/spdm/messages/algorithms.js';
import { decodeDigests, encodeDigests } from '../../../src/spdm/messages/digests.js';
import { hashInfo } from '../../../src/crypto/algorithms.js';
import { Requester } from '../../../src/requester/requester.js';
import type { RequesterOptions } from '../../../src/requester/options.js';
import type { RandomSource } from '../../../src/crypto/random.js';
import { Responder } from '../../../src/responder/responder.js';
import { buildProfile } from '../../../src/responder/profiles.js';
import type { DeviceProfile } from '../../../src/responder/profile.js';
import { LoopbackTransport } from '../../../src/transport/loopback.js';
import type { ExchangeOptions, SpdmHandler, Transport } from '../../../src/transport/transport.js';
import type { Clock } from '../../../src/transport/clock.js';
import type { Evidence } from '../../../src/evidence/evidence.js';
import { CertificateCache } from '../../../src/x509/cache.js';
import { libspdmVectors } from '../../support/paths.js';
import { applyEdits, editsArb, type Edit } from '../mutate.js';
import { defineTarget, expectTyped, FuzzFailure, noteOutcome, withinMs, type Json } from '../target.js';

export interface ResponseMutation {
  /** Which exchange of the run (0 = GET_VERSION), modulo the number the run has. */
  readonly exchange: number;
  /** silence: the device answers nothing (the transport's wait for it runs out). */
  readonly kind: 'edit' | 'error' | 'not-ready' | 'other-response' | 'silence';
  readonly edits: readonly Edit[];
  /** error: ErrorCode; not-ready: RDTExponent; other-response: which earlier exchange. */
  readonly a: number;
  /** error: ErrorData; not-ready: token (and whether to name the right request code). */
  readonly b: number;
}

export interface RequesterPlan {
  /** Which device: an emulator profile or a libspdm capture, modulo how many there are. */
  readonly device: number;
  readonly mode: 'all' | 'one-by-one';
  readonly mutations: readonly ResponseMutation[];
}

const ERROR_CODES = [0x01, 0x03, 0x04, 0x05, 0x07, 0x0d, 0x0f, 0x41, 0x42, 0x43, 0x44, 0xff];

const mutationArb: fc.Arbitrary<ResponseMutation> = fc.record({
  exchange: fc.nat({ max: 15 }),
  kind: fc.constantFrom<ResponseMutation['kind']>(
    'edit',
    'edit',
    'edit',
    'edit',
    'edit',
    'error',
    'not-ready',
    'other-response',
    'silence',
  ),
  edits: editsArb(3),
  a: fc.oneof(fc.constantFrom(...ERROR_CODES), fc.nat({ max: 255 })),
  b: fc.nat({ max: 255 }),
});

const planArb = (devices: number): fc.Arbitrary<RequesterPlan> =>
  fc.record({
    device: fc.nat({ max: devices - 1 }),
    mode: fc.constantFrom<RequesterPlan['mode']>('all', 'all', 'one-by-one'),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
  });

const planToJson = (p: RequesterPlan): Json => p as unknown as Json;
function planFromJson(j: Json): RequesterPlan {
  const p = j as unknown as RequesterPlan;
  if (typeof p !== 'object' || p === null || !Array.isArray(p.mutations) || typeof p.device !== 'number')
    throw new Error('regression input: expected a requester plan');
  return p;
}

/** One exchange as the device produced it and as the requester received it. */
export interface Exchange {
  readonly requestCode: number;
  readonly original: Uint8Array;
  readonly delivered: Uint8Array;
  /** Nothing reached the requester: its transport timed out. */
  readonly silenced?: boolean;
  /** How long the requester let the transport wait for this response. */
  readonly timeoutMs?: number;
}

/** The delivered response is the original followed by at most three zero bytes (transport padding). */
function sameContent(delivered: Uint8Array, original: Uint8Array): boolean {
  const extra = delivered.length - original.length;
  if (extra < 0 || extra > 3) return false;
  for (let i = 0; i < original.length; i++) if (delivered[i] !== original[i]) return false;
  for (let i = original.length; i < delivered.length; i++) if (delivered[i] !== 0) return false;
  return true;
}

function mutate(m: ResponseMutation, original: Uint8Array, requestCode: number, log: readonly Exchange[]): Uint8Array {
  const version = original[0] ?? 0x10;
  switch (m.kind) {
    case 'edit':
      return applyEdits(original, m.edits);
    case 'error':
      return encodeError(version, m.a, m.b);
    case 'not-ready':
      return encodeResponseNotReady(version, {
        rdtExponent: m.a % 32,
        requestCode: m.b % 4 === 0 ? m.b : requestCode,
        token: m.b,
        rdtm: (m.b % 7) + 1,
      });
    case 'other-response': {
      const other = log.length > 0 ? log[m.a % log.length] : undefined;
      return other ? other.original.slice() : applyEdits(original, m.edits);
    }
    case 'silence':
      return original;
  }
}

/** Sits between the requester and a device, applying the plan and recording every exchange. */
class MutatingHandler implements SpdmHandler {
  readonly log: Exchange[] = [];
  constructor(
    private readonly device: SpdmHandler,
    private readonly plan: RequesterPlan,
    private readonly span: number,
  ) {}

  private mutationsNow(): ResponseMutation[] {
    const n = this.log.length;
    return this.plan.mutations.filter((m) => m.exchange % this.span === n);
  }

  async handle(request: Uint8Array): Promise<Uint8Array> {
    const mutations = this.mutationsNow();
    const original = await this.device.handle(request);
    let delivered = original;
    for (const m of mutations) delivered = mutate(m, delivered, request[1] ?? 0, this.log);
    this.log.push({ requestCode: request[1] ?? 0, original, delivered });
    return delivered;
  }

  /** The next exchange is silenced: the device sees the request, the requester gets nothing. */
  silencedNext(): boolean {
    return this.mutationsNow().some((m) => m.kind === 'silence');
  }
}

/**
 * The loopback transport, recording how long each exchange was allowed to wait; a silenced
 * exchange fails the way a real transport's expired wait does, without spending that wait.
 */
class RecordingTransport implements Transport {
  readonly securedCapable = false;
  readonly maxMessageSize: number;
  private readonly inner: LoopbackTransport;
  constructor(
    private readonly handler: MutatingHandler,
    private readonly clock: InstantClock,
  ) {
    this.inner = new LoopbackTransport(handler);
    this.maxMessageSize = this.inner.maxMessageSize;
  }

  async exchange(request: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    const note = (x: Partial<Exchange>) => {
      const last = this.handler.log.length - 1;
      const e = this.handler.log[last];
      if (e) this.handler.log[last] = { ...e, ...x };
    };
    const waits = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};
    if (this.handler.silencedNext()) {
      await this.handler.handle(request.slice());
      note({ silenced: true, ...waits });
      this.clock.pass(options.timeoutMs ?? 0);
      throw new SpdmError('TIMEOUT', `no response within ${options.timeoutMs ?? 'unbounded'} ms`);
    }
    const out = await this.inner.exchange(request, options);
    note(waits);
    return out;
  }
}

/**
 * Every wait the requester asks for is bounded by LIMITS (its defaults, which these runs use): a
 * response wait by maxResponseWaitMs whatever CTExponent says, a ResponseNotReady wait by
 * maxNotReadyWaitMs whatever RDTExponent says, and the whole authenticate() by flowDeadlineMs.
 */
function checkTiming(log: readonly Exchange[], sleeps: readonly number[], elapsedMs: number): void {
  const long = log.find((x) => x.timeoutMs !== undefined && !(x.timeoutMs <= LIMITS.maxResponseWaitMs));
  if (long)
    throw new FuzzFailure(
      'invariant',
      `a response wait of ${long.timeoutMs} ms (to 0x${long.requestCode.toString(16)}) exceeds LIMITS.maxResponseWaitMs`,
    );
  const nap = sleeps.find((ms) => !(ms <= LIMITS.maxNotReadyWaitMs));
  if (nap !== undefined) throw new FuzzFailure('invariant', `a wait of ${nap} ms exceeds LIMITS.maxNotReadyWaitMs`);
  if (!(elapsedMs <= LIMITS.flowDeadlineMs))
    throw new FuzzFailure(
      'invariant',
      `authenticate() took ${elapsedMs} ms of device time, past LIMITS.flowDeadlineMs`,
    );
}

/** Instant time: every wait passes at once (and is recorded), so no plan costs wall time. */
class InstantClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.pass(ms);
    return Promise.resolve();
  }
  /** Time a silent device makes the transport wait. */
  pass(ms: number): void {
    this.t += Math.max(0, ms);
  }
}

const VCA = new Set<number>([RequestCode.GET_VERSION, RequestCode.GET_CAPABILITIES, RequestCode.NEGOTIATE_ALGORITHMS]);
const MEASUREMENT_REQUESTS = new Set<number>([RequestCode.GET_MEASUREMENTS, RequestCode.RESPOND_IF_READY]);

const BUSY = 0x03;
const RESPONSE_NOT_READY = 0x42;

/**
 * The exchanges whose responses the requester put under a verified signature of `kind` (its
 * transcript rules, modelled from the outside): for CHALLENGE_AUTH everything before the first
 * GET_MEASUREMENTS; for MEASUREMENTS the last accepted measurement response and those before it
 * back to the last ERROR that ended the sequence (Busy and ResponseNotReady are retried within one
 * request and do not), plus VCA from 1.2.
 */
function covered(kind: string, log: readonly Exchange[], version: number): number[] {
  const firstMeas = log.findIndex((x) => x.requestCode === RequestCode.GET_MEASUREMENTS);
  if (kind === 'CHALLENGE_AUTH') return log.map((_, i) => i).filter((i) => firstMeas < 0 || i < firstMeas);
  const out: number[] = [];
  const isMeas = (x: Exchange) => MEASUREMENT_REQUESTS.has(x.requestCode) && !x.silenced;
  let i = log.length - 1;
  while (i >= 0 && !(isMeas(log[i] as Exchange) && (log[i] as Exchange).delivered[1] === ResponseCode.MEASUREMENTS))
    i--;
  for (; i >= 0; i--) {
    const x = log[i] as Exchange;
    if (!isMeas(x)) break;
    if (x.delivered[1] === ResponseCode.MEASUREMENTS) out.push(i);
    else if (!(
      x.delivered[1] === ResponseCode.ERROR &&
      (x.delivered[2] === BUSY || x.delivered[2] === RESPONSE_NOT_READY)
    ))
      break;
  }
  if (version >= 0x12) log.forEach((x, k) => VCA.has(x.requestCode) && out.push(k));
  return out;
}

export function checkNoAcceptedMutation(ev: Evidence, log: readonly Exchange[]): void {
  // A genuine response delivered in another exchange's place (e.g. the CAPABILITIES the device sent
  // before a faked ResponseNotReady, as the answer to RESPOND_IF_READY) is not altered content.
  const changed = log.map(
    (x, i) =>
      !x.silenced &&
      x.delivered[1] !== ResponseCode.ERROR &&
      !log.slice(0, i + 1).some((y) => sameContent(x.delivered, y.original)),
  );
  const signedResponses: string[] = [];
  for (const s of ev.signatures) {
    if (!s.verified) continue;
    const cover = covered(s.kind, log, ev.versionByte);
    const hit = cover.find((i) => changed[i]);
    if (hit !== undefined) {
      throw new FuzzFailure(
        'accepted-mutation',
        `verified ${s.kind} signature although response #${hit} (to 0x${(log[hit] as Exchange).requestCode.toString(16)}) was altered inside its coverage`,
      );
    }
    if (s.kind === 'MEASUREMENTS') for (const i of cover) signedResponses.push(toHex((log[i] as Exchange).delivered));
  }
  // A block reported as signed must come from a response a verified signature covers.
  for (const m of ev.measurements) {
    if (m.signed && !signedResponses.some((r) => r.includes(m.block))) {
      throw new FuzzFailure(
        'accepted-mutation',
        `measurement ${m.index} is reported signed but no verified MEASUREMENTS signature covers the response it came from`,
      );
    }
  }
}

// ─── Emulator ──────────────────────────────────────────────────────────────────────────────

/** Versions 1.0-1.3 and the EC/EdDSA suites (RSA key generation is too slow to be worth it here). */
const EMULATOR_SUITES: readonly { version: number; asymId: number; hashId: number }[] = [
  { version: 0x10, asymId: 0x0010, hashId: 0x01 },
  { version: 0x11, asymId: 0x0080, hashId: 0x02 },
  { version: 0x12, asymId: 0x0010, hashId: 0x01 },
  { version: 0x13, asymId: 0x0080, hashId: 0x02 },
  { version: 0x13, asymId: 0x0400, hashId: 0x04 },
];

function outcomeLabel(e: Error | undefined): string {
  return e && 'code' in e ? String(e.code) : 'error';
}

export interface PlanOutcome {
  readonly ev: Evidence | undefined;
  readonly error: Error | undefined;
  readonly log: readonly Exchange[];
}

async function runAgainst(
  device: SpdmHandler,
  plan: RequesterPlan,
  span: number,
  start: number,
  extra: Pick<RequesterOptions, 'versions' | 'random'> = {},
): Promise<PlanOutcome> {
  const handler = new MutatingHandler(device, plan, span);
  const clock = new InstantClock(start);
  const requester = new Requester(new RecordingTransport(handler, clock), {
    clock,
    rttMs: 0,
    certificateCache: new CertificateCache(),
    ...extra,
  });
  const out = await withinMs(
    expectTyped(() => requester.authenticate({ mode: plan.mode })),
    10_000,
    'authenticate()',
  );
  checkTiming(handler.log, clock.sleeps, clock.now() - start);
  return out instanceof Error
    ? { ev: undefined, error: out, log: handler.log }
    : { ev: out, error: undefined, log: handler.log };
}

let emulatorProfiles: DeviceProfile[] | undefined;
const emulatorStart = Date.now();

/** Runs one plan against a fresh emulator (the device identities are made once per process). */
export async function emulatorOutcome(plan: RequesterPlan): Promise<PlanOutcome> {
  emulatorProfiles ??= EMULATOR_SUITES.map(
    (s) =>
      buildProfile({
        name: `fuzz ${s.version.toString(16)}`,
        versions: [s.version],
        asymId: s.asymId,
        hashId: s.hashId,
      }).profile,
  );
  const profile = emulatorProfiles[plan.device % emulatorProfiles.length] as DeviceProfile;
  // 7 exchanges with all measurements at once, 13 index by index.
  return runAgainst(new Responder(profile), plan, plan.mode === 'all' ? 7 : 13, emulatorStart);
}

export const EMULATOR_DEVICES = EMULATOR_SUITES.length;

export const requesterEmulator = defineTarget<RequesterPlan>({
  name: 'requester-emulator',
  what: 'authenticate() against the live emulator (1.0-1.3, P-256/P-384/Ed25519) with mutated responses',
  ciRuns: 300,
  prepare: async () => {
    return {
      arbitrary: planArb(EMULATOR_SUITES.length),
      run: async (plan) => {
        const { ev, error, log } = await emulatorOutcome(plan);
        noteOutcome('requester-emulator', ev ? `evidence (${ev.signatures.length} signatures)` : outcomeLabel(error));
        if (ev) checkNoAcceptedMutation(ev, log);
      },
    };
  },
  toJson: planToJson,
  fromJson: planFromJson,
});

// ─── libspdm captures ──────────────────────────────────────────────────────────────────────

interface CaptureMessage {
  readonly kind: string;
  readonly direction: string;
  readonly payload: string;
}

/** Answers each request code with libspdm's captured responses to it, in order (the last one again when they run out). */
class CaptureReplay implements SpdmHandler {
  private readonly next = new Map<number, number>();
  constructor(private readonly answers: ReadonlyMap<number, readonly Uint8Array[]>) {}

  async handle(request: Uint8Array): Promise<Uint8Array> {
    const code = request[1] ?? 0;
    const list = this.answers.get(code);
    if (!list || list.length === 0) return encodeError(request[0] ?? 0x10, 0x07, code);
    const i = this.next.get(code) ?? 0;
    this.next.set(code, i + 1);
    return (list[Math.min(i, list.length - 1)] as Uint8Array).slice();
  }
}

interface Replay {
  readonly answers: Map<number, Uint8Array[]>;
  /**
   * The nonces and RequesterContexts libspdm's requester sent (CHALLENGE, then the signed
   * GET_MEASUREMENTS), handed to our requester as its randomness so that the responses' echoes
   * match and a run gets as far as the signature checks.
   */
  readonly nonces: Uint8Array[];
  readonly contexts: Uint8Array[];
}

function loadReplays(): Map<string, Replay> {
  const dir = join(libspdmVectors(), 'captures');
  const out = new Map<string, Replay>();
  for (const file of [
    'doe-v10.json',
    'doe-v11.json',
    'doe-v12-p256.json',
    'doe-v13.json',
    'doe-default.json',
    'mctp-default.json',
    'doe-rsapss3072.json',
  ]) {
    const all = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { messages: CaptureMessage[] }).messages;
    const firstSecured = all.findIndex((m) => m.kind === 'secured-spdm');
    const msgs = all.slice(0, firstSecured < 0 ? all.length : firstSecured).filter((m) => m.kind === 'spdm');
    const answers = new Map<number, Uint8Array[]>();
    const nonces: Uint8Array[] = [];
    const contexts: Uint8Array[] = [];
    let hashSize = 0;
    for (let i = 0; i + 1 < msgs.length; i++) {
      const req = msgs[i] as CaptureMessage;
      const rsp = msgs[i + 1] as CaptureMessage;
      if (req.direction !== 'request' || rsp.direction !== 'response') continue;
      const reqBytes = fromHex(req.payload);
      const code = reqBytes[1] ?? 0;
      // CHALLENGE and a signed GET_MEASUREMENTS (attribute bit 0): Nonce at 4, then (after
      // SlotIDParam for measurements) the 1.3+ RequesterContext.
      const signedMeas = code === RequestCode.GET_MEASUREMENTS && ((reqBytes[2] ?? 0) & 1) !== 0;
      if (code === RequestCode.CHALLENGE || signedMeas) {
        nonces.push(reqBytes.slice(4, 36));
        const ctxAt = code === RequestCode.CHALLENGE ? 36 : 37;
        if ((reqBytes[0] ?? 0) >= 0x13) contexts.push(reqBytes.slice(ctxAt, ctxAt + 8));
      }
      // Index-by-index measurement walks answer ERROR for absent indices; keep the real answers.
      let bytes = fromHex(rsp.payload);
      if (code === RequestCode.GET_MEASUREMENTS && bytes[1] === ResponseCode.ERROR) continue;
      // libspdm's requester offered DHE/AEAD/key-schedule structures and ours offers none, so the
      // captured selection of them would stop every run at ALGORITHMS: drop them (and only them).
      if (code === RequestCode.NEGOTIATE_ALGORITHMS && bytes[1] === ResponseCode.ALGORITHMS) {
        const a = decodeAlgorithms(bytes);
        hashSize = hashInfo(a.baseHash)?.size ?? 0;
        bytes = encodeAlgorithms(a.version, { ...a, algStructs: [] });
      }
      // Likewise libspdm negotiated a multi-key connection (1.3+), which ours does not ask for:
      // its DIGESTS carry KeyPairID/CertificateInfo/KeyUsageMask per slot; drop those fields.
      if (code === RequestCode.GET_DIGESTS && bytes[1] === ResponseCode.DIGESTS && (bytes[0] ?? 0) >= 0x13) {
        const d = decodeDigests(bytes, { hashSize, multiKeyConn: true });
        bytes = encodeDigests(d.version, {
          supportedSlotMask: d.supportedSlotMask,
          digests: d.digests.map((x) => ({ slot: x.slot, digest: x.digest })),
        });
      }
      const list = answers.get(code) ?? [];
      list.push(bytes);
      answers.set(code, list);
    }
    out.set(file, { answers, nonces, contexts });
  }
  return out;
}

/** Randomness that replays the captured nonces (32 bytes) and contexts (8 bytes), then zeros. */
function replayRandom(r: Replay): RandomSource {
  let n = 0;
  let c = 0;
  return (size) => {
    const from = size === 32 ? r.nonces[n++] : size === 8 ? r.contexts[c++] : undefined;
    return from && from.length === size ? from.slice() : new Uint8Array(size).fill(0x5a);
  };
}

export const requesterLibspdm = defineTarget<RequesterPlan>({
  name: 'requester-libspdm',
  what: "authenticate() against libspdm's captured responses (1.0-1.4, DOE padding), mutated",
  ciRuns: 400,
  prepare: async () => {
    const replays = [...loadReplays().values()];
    // The captures were made in 2025; their certificates are checked at a date they are valid.
    const start = Date.parse('2025-06-01T00:00:00Z');
    return {
      arbitrary: planArb(replays.length),
      run: async (plan) => {
        const replay = replays[plan.device % replays.length] as Replay;
        const { ev, error } = await runAgainst(new CaptureReplay(replay.answers), plan, 12, start, {
          versions: [0x10, 0x11, 0x12, 0x13, 0x14],
          random: replayRandom(replay),
        });
        noteOutcome('requester-libspdm', ev ? `evidence (${ev.signatures.length} signatures)` : outcomeLabel(error));
        const verified = ev?.signatures.filter((s) => s.verified) ?? [];
        if (verified.length > 0)
          throw new FuzzFailure(
            'accepted-mutation',
            `verified ${verified.map((s) => s.kind).join(', ')} over requests libspdm never signed`,
          );
      },
    };
  },
  toJson: planToJson,
  fromJson: planFromJson,
});
