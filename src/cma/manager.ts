/**
 * The device lifecycle (CmaService): enumerate the platform's functions, authenticate each over
 * its DOE mailbox, have the verifier judge the evidence, log every signature, and keep user
 * space's decision. The rules that make it safe:
 *
 * - `accepted` always rests on an acceptance record. A record is made from a trusted verdict
 *   (accept, autoAccept) or an operator's override; after a restart, a reset, a hot-plug or a TSM
 *   hand-back the device is accepted again only when sameDevice(record, fresh evidence over our
 *   fresh nonce) passes — the trust store is never consulted on that path. A changed device loses
 *   its record and stays unaccepted (autoAccept included) until an operator decides.
 * - One flow per BDF at a time, at most `concurrency` attempts at once, transient failures retried
 *   with exponential backoff on the injected clock.
 * - A function owned by a TSM is not touched: in-flight work is let finish for `abortGraceMs`, then
 *   aborted by closing its transport.
 * - Every state change and the events announcing it are committed together before anyone is told.
 */
import type { RandomSource } from '../crypto/random.js';
import { systemRandom } from '../crypto/random.js';
import type { Evidence } from '../evidence/evidence.js';
import { openLog, type SignatureLog } from '../log/log.js';
import { sthToJson, type SignedTreeHeadJson } from '../log/sth.js';
import type { PlatformEvent, PlatformFunction, ResetKind } from '../platform/platform.js';
import { NONCE_SIZE } from '../spdm/messages/challenge.js';
import { systemClock, type Clock } from '../transport/clock.js';
import { acceptanceRecord, sameDevice } from '../verifier/acceptance.js';
import type { TrustSource } from '../verifier/trust-store.js';
import { verify } from '../verifier/verify.js';
import { toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { Mutex } from '../log/store/store.js';
import type {
  Acceptance,
  CmaEvent,
  CmaEventBody,
  CmaService,
  DeviceSignature,
  DeviceView,
  SignedMeasurements,
  StateReason,
} from './api.js';
import { checkBdf } from './bdf.js';
import { deviceView, newDevice, restoreDevice, storedState, type Device } from './device.js';
import { FlowHandle, runFlow, type AbortReason, type FlowResult } from './flow.js';
import { failureState, isTransient, reasonOf } from './outcome.js';
import type { Policy } from '../verifier/policy.js';
import { nonNegativeNumber, positiveInt, type CmaOptions } from './options.js';
import { Scheduler } from './scheduler.js';
import { deviceSignature } from './signature-view.js';
import { openCmaStore } from './store/open.js';
import type { CmaStore, CommitBatch, StoredAcceptance, StoredDecision } from './store/store.js';
import { signedMeasurementsOf, slotViews } from './views.js';
import { join } from 'node:path';

const RESET_KINDS: readonly ResetKind[] = ['flr', 'secondary-bus', 'resume', 'notified'];
const TSM_NAME = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_TEXT = 1024;
/** The most events one eventsSince call returns (a page; the caller asks again from its last id). */
export const MAX_EVENTS_PAGE = 10_000;

function checkSlot(slot: unknown): number {
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot > 7)
    throw new TypeError(`slot must be an integer 0..7, got ${String(slot)}`);
  return slot;
}

function checkText(v: unknown, name: string, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT)
    throw new TypeError(`${name} must be a non-empty string of at most ${MAX_TEXT} characters`);
  return v;
}

/** Read through a call so that a check before an await does not narrow it after. */
function owned(dev: Device): boolean {
  return dev.owner.kind === 'tsm';
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A commit in the making: the state to write and the events that announce it. */
interface Batch {
  devices: Device[];
  acceptances: NonNullable<CommitBatch['acceptances']>[number][];
  decisions: StoredDecision[];
  signatures: DeviceSignature[];
  events: CmaEventBody[];
}

function batch(): Batch {
  return { devices: [], acceptances: [], decisions: [], signatures: [], events: [] };
}

class CmaManager implements CmaService {
  private readonly known = new Map<string, Device>();
  private readonly records = new Map<string, StoredAcceptance>();
  private readonly sigs = new Map<string, DeviceSignature[]>();
  private readonly recent: CmaEvent[] = [];
  private readonly listeners = new Set<(e: CmaEvent) => void>();
  private readonly commitLock = new Mutex();
  private readonly scheduler: Scheduler;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly trust: TrustSource;
  private readonly retryAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly graceMs: number;
  private readonly recentMax: number;
  private readonly sigsMax: number;
  private readonly pendingWork = new Set<Promise<void>>();
  private lastEventId = 0;
  /** The verifier policy in force (setPolicy replaces it). */
  private policy: Policy | undefined;
  private closed = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly opts: CmaOptions,
    private readonly store: CmaStore,
    private readonly log: SignatureLog,
    private readonly ownsLog: boolean,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.policy = opts.policy;
    this.random = opts.random ?? systemRandom;
    const deny = opts.deny;
    this.trust = deny
      ? {
          get anchors() {
            return opts.trust.anchors;
          },
          denyList: deny,
        }
      : opts.trust;
    this.scheduler = new Scheduler(positiveInt(opts.concurrency, 4, 'concurrency'));
    this.retryAttempts = nonNegativeNumber(opts.retry?.attempts, 3, 'retry.attempts');
    if (!Number.isInteger(this.retryAttempts)) throw new TypeError('retry.attempts must be an integer');
    this.retryBaseMs = nonNegativeNumber(opts.retry?.baseMs, 200, 'retry.baseMs');
    this.retryMaxMs = nonNegativeNumber(opts.retry?.maxMs, 5000, 'retry.maxMs');
    this.graceMs = nonNegativeNumber(opts.abortGraceMs, 2000, 'abortGraceMs');
    this.recentMax = positiveInt(opts.recentEvents, 10_000, 'recentEvents');
    this.sigsMax = positiveInt(opts.signaturesPerDevice, 256, 'signaturesPerDevice');
  }

  // ------------------------------------------------------------------------------- start-up

  async start(): Promise<void> {
    const loaded = await this.store.load({ recentEvents: this.recentMax, signaturesPerDevice: this.sigsMax });
    for (const s of loaded.devices) this.known.set(s.bdf, restoreDevice(s));
    for (const a of loaded.acceptances) this.records.set(a.bdf, a);
    for (const s of loaded.signatures) {
      const list = this.sigs.get(s.bdf) ?? [];
      list.push(s);
      this.sigs.set(s.bdf, list);
    }
    this.lastEventId = loaded.lastEventId;
    this.recent.push(...loaded.recentEvents);
    this.unsubscribe = this.opts.platform.subscribe((e) => this.onPlatformEvent(e));
    const fns = await this.opts.platform.functions();
    for (const fn of fns) await this.plugged(fn);
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private report(e: unknown): void {
    try {
      this.opts.onError?.(e);
    } catch {
      // a failing error handler must not take the service down
    }
  }

  // --------------------------------------------------------------------------------- events

  /** Writes the batch and its events in one transaction, then tells the listeners. */
  private async commit(b: Batch): Promise<CmaEvent[]> {
    return this.commitLock.run(async () => {
      const at = this.now();
      const events = b.events.map((body, i) => ({ ...body, id: this.lastEventId + 1 + i, at }));
      await this.store.commit({
        devices: [...new Set(b.devices)].map(storedState),
        acceptances: b.acceptances,
        decisions: b.decisions,
        signatures: b.signatures,
        events,
      });
      this.lastEventId += events.length;
      this.recent.push(...events);
      if (this.recent.length > this.recentMax) this.recent.splice(0, this.recent.length - this.recentMax);
      for (const e of events) {
        for (const l of [...this.listeners]) {
          try {
            l(e);
          } catch (err) {
            this.report(err);
          }
        }
      }
      return events;
    });
  }

  async eventsSince(afterId: number, limit = 1000): Promise<readonly CmaEvent[]> {
    if (!Number.isSafeInteger(afterId) || afterId < 0)
      throw new TypeError(`afterId must be a non-negative integer, got ${String(afterId)}`);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError(`limit must be a positive integer`);
    const n = Math.min(limit, MAX_EVENTS_PAGE);
    // Ids rise by one, so the window in memory starts at a known id and afterId indexes it.
    const oldest = this.recent[0]?.id ?? this.lastEventId + 1;
    if (afterId + 1 >= oldest) return this.recent.slice(afterId + 1 - oldest, afterId + 1 - oldest + n);
    // Older than the window: every committed event is in the store (it is written before it is
    // kept here or told), so the store's page is complete up to the newest event.
    if (this.closed) throw new SpdmError('DEVICE_STATE', 'the CMA service is closed', { bdf: '', state: 'closed' });
    return this.store.eventsSince(afterId, n);
  }

  subscribe(listener: (event: CmaEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ------------------------------------------------------------------------------ platform

  private onPlatformEvent(e: PlatformEvent): void {
    if (this.closed) return;
    const done = (p: Promise<unknown>) => this.background(p);
    if (e.type === 'added') {
      done(
        (async () => {
          const fn = (await this.opts.platform.functions()).find((f) => f.bdf === e.bdf);
          if (fn) await this.plugged(fn);
        })(),
      );
    } else if (e.type === 'removed') done(this.unplugged(e.bdf));
    else if (e.type === 'reset') {
      const dev = this.known.get(e.bdf);
      if (dev?.present) done(this.resetDevice(dev, e.kind));
    }
  }

  /** Work no caller awaits (platform events): idle() waits for it, failures go to onError. */
  private background(p: Promise<unknown>): void {
    const tracked = p.then(
      () => undefined,
      (err: unknown) => this.report(err),
    );
    this.pendingWork.add(tracked);
    void tracked.then(() => this.pendingWork.delete(tracked));
  }

  private async plugged(fn: PlatformFunction): Promise<void> {
    const dev = this.known.get(fn.bdf) ?? newDevice(fn.bdf);
    if (dev.present) return;
    this.known.set(fn.bdf, dev);
    dev.fn = fn;
    dev.present = true;
    dev.incarnation++;
    dev.acceptable = false;
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'device-added', bdf: dev.bdf, ...(dev.identity ? { identity: dev.identity } : {}) });
    this.pendSameDevice(dev, b, 'the function (re)appeared: accepted again only when the same-device check passes');
    await this.commit(b);
    if (dev.owner.kind === 'tsm') dev.needsAuth = true;
    else this.background(this.authenticateQueued(dev));
  }

  private async unplugged(bdf: string): Promise<void> {
    const dev = this.known.get(bdf);
    if (!dev?.present) return;
    dev.present = false;
    dev.incarnation++;
    dev.fn = undefined;
    dev.authenticated = { state: 'unknown', reason: { code: 'DEVICE_NOT_FOUND', message: 'the function was removed' } };
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'device-removed', bdf });
    await this.commit(b);
    await dev.running?.abort({ code: 'DEVICE_NOT_FOUND', message: `${bdf} was removed during authentication` });
  }

  /** An accepted device whose identity must be shown again: unaccepted, its record kept for the check. */
  private pendSameDevice(dev: Device, b: Batch, message: string): void {
    if (dev.acceptance.state !== 'accepted') return;
    dev.acceptance = { state: 'unaccepted', reason: { code: 'SAME_DEVICE_PENDING', message } };
    b.events.push({ type: 'acceptance', bdf: dev.bdf, acceptance: dev.acceptance });
  }

  private async resetDevice(dev: Device, kind: ResetKind): Promise<void> {
    dev.resetSeq++;
    // The evidence in hand describes the device before the reset: nothing to accept on.
    dev.acceptable = false;
    dev.authenticated = {
      state: 'unknown',
      reason: { code: 'RESET', message: `the function was reset (${kind}): re-authentication pending` },
    };
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'reset', bdf: dev.bdf, kind });
    this.pendSameDevice(dev, b, `reset (${kind}): accepted again only when the same-device check passes`);
    await this.commit(b);
    // Whatever the flow in flight learns now is about the device before the reset.
    await dev.running?.abort({ code: 'DEVICE_STATE', message: `${dev.bdf} was reset during authentication` });
    if (dev.owner.kind === 'tsm') {
      dev.needsAuth = true;
      return;
    }
    await this.authenticateQueued(dev);
  }

  // ---------------------------------------------------------------------------- scheduling

  /** Queues an authentication (joining one already queued and not started). */
  private authenticateQueued(dev: Device): Promise<void> {
    if (dev.queued) return dev.queued;
    dev.busy++;
    const incarnation = dev.incarnation;
    const p = this.scheduler.run(dev.bdf, async (attempt) => {
      dev.queued = undefined;
      try {
        await this.authenticateNow(dev, incarnation, attempt);
      } finally {
        dev.busy--;
      }
    });
    dev.queued = p;
    return p;
  }

  private current(dev: Device, incarnation: number): boolean {
    return dev.present && dev.incarnation === incarnation && this.known.get(dev.bdf) === dev;
  }

  private backoff(attempt: number): number {
    return Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1));
  }

  /** Runs flows until one is not transient, the retries are spent, or the device is no longer ours. */
  private async flowWithRetries(
    dev: Device,
    incarnation: number,
    attempt: <A>(fn: () => Promise<A>) => Promise<A>,
    nonceFor: () => Uint8Array,
    flowOptions: { slot: number; indices?: readonly number[] },
  ): Promise<{ result: FlowResult; nonce: Uint8Array }> {
    for (let tries = 0; ; tries++) {
      const nonce = nonceFor();
      const handle = new FlowHandle();
      const fn = dev.fn;
      let result: FlowResult;
      if (this.closed) {
        result = {
          doe: dev.doe,
          error: new SpdmError('DEVICE_STATE', 'the CMA service is closing', { bdf: dev.bdf, state: 'closed' }),
        };
      } else if (!fn || !this.current(dev, incarnation)) {
        result = {
          doe: dev.doe,
          error: new SpdmError('DEVICE_NOT_FOUND', `${dev.bdf} is not present`, { bdf: dev.bdf }),
        };
      } else {
        dev.running = handle;
        try {
          result = await attempt(() =>
            runFlow(
              fn,
              {
                clock: this.clock,
                random: this.random,
                nonce,
                slot: flowOptions.slot,
                ...(this.opts.requester ? { requester: this.opts.requester } : {}),
                ...(this.opts.doe ? { doe: this.opts.doe } : {}),
                authenticate: {
                  // PCIe CMA requires CHALLENGE: a device without it has not shown it holds its key.
                  requireChallenge: true,
                  ...this.opts.authenticate,
                  ...(flowOptions.indices ? { indices: flowOptions.indices } : {}),
                },
              },
              handle,
            ),
          );
        } finally {
          if (dev.running === handle) dev.running = undefined;
        }
      }
      const gone = () => this.closed || !this.current(dev, incarnation) || owned(dev);
      const stop =
        result.evidence !== undefined ||
        !isTransient(result.error) ||
        handle.aborted !== undefined ||
        tries >= this.retryAttempts ||
        gone();
      if (stop) return { result, nonce };
      await this.clock.sleep(this.backoff(tries + 1));
      // Handed to a TSM, unplugged or closing while we waited: no further attempt on the mailbox.
      if (gone()) return { result, nonce };
    }
  }

  private async authenticateNow(
    dev: Device,
    incarnation: number,
    attempt: <A>(fn: () => Promise<A>) => Promise<A>,
  ): Promise<void> {
    if (this.closed || !this.current(dev, incarnation)) return;
    if (dev.owner.kind === 'tsm') {
      dev.needsAuth = true;
      return;
    }
    const resetSeq = dev.resetSeq;
    const run = this.flowWithRetries(dev, incarnation, attempt, () => this.random(NONCE_SIZE), { slot: dev.slot });
    dev.current = run;
    let outcome;
    try {
      outcome = await run;
    } finally {
      dev.current = undefined;
    }
    if (!this.current(dev, incarnation)) return; // unplugged: device-removed said so
    await this.apply(dev, outcome.result, outcome.nonce, resetSeq !== dev.resetSeq || owned(dev));
  }

  /** Appends the evidence's signatures to the log; their views and events go into `b`. */
  private async logSignatures(dev: Device, evidence: Evidence, b: Batch): Promise<void> {
    if (evidence.signatures.length === 0) return;
    const r = await this.log.appendEvidence(evidence);
    const at = this.now();
    const list = this.sigs.get(dev.bdf) ?? [];
    evidence.signatures.forEach((s, i) => {
      const view = deviceSignature(dev.bdf, evidence, s, r.first + i, at);
      list.push(view);
      dev.signatureEntries.push(view.logIndex);
      b.signatures.push(view);
      b.events.push({ type: 'signature', bdf: dev.bdf, signature: view });
    });
    if (list.length > this.sigsMax) list.splice(0, list.length - this.sigsMax);
    // Like the kernel's capped signatures/ directory: the newest are kept (the log keeps all).
    if (dev.signatureEntries.length > this.sigsMax)
      dev.signatureEntries.splice(0, dev.signatureEntries.length - this.sigsMax);
    this.sigs.set(dev.bdf, list);
  }

  /** A finished flow's result becomes the device's state, and the decisions follow from it. */
  private async apply(dev: Device, r: FlowResult, nonce: Uint8Array, stale: boolean): Promise<void> {
    const b = batch();
    b.devices.push(dev);
    let evidence = r.evidence;
    let error = r.error;
    let logFailed = false;
    if (evidence) {
      try {
        await this.logSignatures(dev, evidence, b);
      } catch (e) {
        // Evidence that is not in the log is not evidence anyone can check again: do not act on
        // it. The device is not at fault, so this reads as `unknown`.
        error = e;
        evidence = undefined;
        logFailed = true;
      }
    }
    if (stale) {
      // Started before a reset or a TSM hand-over: its signatures are kept, its conclusions are not.
      await this.commit(b);
      return;
    }
    const at = this.now();
    if (r.identity) dev.identity = r.identity;
    dev.doe = r.doe;
    dev.generation++;
    if (evidence) {
      const verdict = verify(evidence, this.policy, this.trust, {
        expectedNonce: toHex(nonce),
        now: new Date(this.clock.now()),
      });
      dev.verdict = verdict;
      dev.evidence = evidence;
      dev.evidenceNonce = toHex(nonce);
      dev.acceptable = true;
      dev.slots = slotViews(evidence);
      const slot = evidence.signatures.at(-1)?.slot ?? dev.slot;
      const first = verdict.reasons[0];
      dev.authenticated =
        verdict.status === 'trusted'
          ? { state: 'yes', at, slot }
          : {
              state: 'no',
              at,
              reason: first
                ? { code: first.code, message: first.message }
                : { code: 'UNTRUSTED', message: 'untrusted' },
            };
    } else {
      dev.verdict = undefined;
      dev.acceptable = false;
      const reason: StateReason =
        r.doe === 'no-doe'
          ? { code: 'NO_DOE', message: 'the function has no DOE mailbox' }
          : r.doe === 'no-cma'
            ? { code: 'NO_CMA', message: 'no DOE mailbox of the function lists CMA-SPDM' }
            : reasonOf(error);
      dev.authenticated =
        r.doe === 'cma' && !logFailed && failureState(error) === 'no'
          ? { state: 'no', at, reason }
          : { state: 'unknown', reason };
    }
    b.events.push({
      type: 'authenticated',
      bdf: dev.bdf,
      authenticated: dev.authenticated,
      ...(dev.verdict
        ? {
            verdict: {
              status: dev.verdict.status,
              reasons: dev.verdict.reasons.map((x) => ({ code: x.code, message: x.message })),
            },
          }
        : {}),
      generation: dev.generation,
    });
    this.decide(dev, evidence, nonce, b, at);
    await this.commit(b);
  }

  /** What user space concludes from a flow: the same-device check, autoAccept, or nothing. */
  private decide(dev: Device, evidence: Evidence | undefined, nonce: Uint8Array, b: Batch, at: string): void {
    const before = dev.acceptance;
    if (before.state === 'rejected') return; // stays until an operator accepts
    const rec = this.records.get(dev.bdf);
    let next: Acceptance = before;
    if (rec) {
      if (evidence) {
        const check = sameDevice(rec.record, evidence, { expectedNonce: nonce });
        dev.sameDevice = { at, same: check.same, changes: check.changes };
        b.events.push({ type: 'same-device', bdf: dev.bdf, same: check.same, changes: check.changes });
        if (check.same) {
          next =
            before.state === 'accepted'
              ? before
              : {
                  state: 'accepted',
                  at,
                  by: 'same-device',
                  ...(rec.by !== 'same-device' ? { basis: rec.by } : {}),
                  ...(rec.operator ? { operator: rec.operator } : {}),
                  note:
                    rec.by === 'operator'
                      ? `same device as accepted by operator ${rec.operator ?? ''} over an untrusted verdict at ${rec.at}${rec.note ? ` (${rec.note})` : ''}`
                      : `same device as accepted by ${rec.by} at ${rec.at}`,
                };
        } else {
          const codes = [...new Set(check.changes.map((c) => c.code))];
          dev.changed = {
            code: 'DEVICE_CHANGED',
            message: `not the device that was accepted: ${codes.join(', ')}${check.changes[0] ? ` (${check.changes[0].message})` : ''}`,
          };
          next = { state: 'unaccepted', reason: dev.changed };
          this.records.delete(dev.bdf);
          b.acceptances.push({ bdf: dev.bdf, remove: true });
          b.decisions.push({
            bdf: dev.bdf,
            at,
            action: 'drop',
            reason: dev.changed.message,
            detail: check.changes,
          });
        }
      } else if (before.state === 'accepted') {
        const why = dev.authenticated.state === 'yes' ? 'no evidence' : dev.authenticated.reason.message;
        next = {
          state: 'unaccepted',
          reason: { code: 'SAME_DEVICE_PENDING', message: `the same-device check could not run: ${why}` },
        };
      }
    } else if (evidence && dev.verdict?.status === 'trusted' && this.opts.autoAccept && !dev.changed) {
      const record = this.recordOf(evidence, at);
      const stored: StoredAcceptance = { bdf: dev.bdf, record, by: 'auto', at };
      this.records.set(dev.bdf, stored);
      b.acceptances.push(stored);
      b.decisions.push({ bdf: dev.bdf, at, action: 'accept', operator: 'auto', reason: 'trusted verdict, autoAccept' });
      next = { state: 'accepted', at, by: 'auto' };
    } else if (before.state === 'unaccepted') {
      const reason: StateReason = dev.changed
        ? dev.changed
        : !evidence
          ? { code: 'NOT_AUTHENTICATED', message: 'no evidence from the latest authentication' }
          : dev.verdict?.status === 'trusted'
            ? { code: 'AWAITING_DECISION', message: 'trusted by the verifier; waiting for accept' }
            : {
                code: 'UNTRUSTED',
                message: `the verifier did not trust the device: ${dev.verdict?.reasons.map((x) => x.code).join(', ') ?? ''}`,
              };
      next = { state: 'unaccepted', reason };
    }
    if (!same(next, before)) {
      dev.acceptance = next;
      b.events.push({ type: 'acceptance', bdf: dev.bdf, acceptance: next });
    }
  }

  private recordOf(evidence: Evidence, at: string) {
    try {
      return acceptanceRecord(evidence, { now: new Date(at) });
    } catch (e) {
      throw new SpdmError('DEVICE_STATE', `the evidence cannot be recorded for acceptance: ${reasonOf(e).message}`, {
        bdf: evidence.pci?.bdf ?? '',
      });
    }
  }

  // ------------------------------------------------------------------------------- queries

  private present(bdf: unknown): Device {
    const b = checkBdf(bdf);
    const dev = this.known.get(b);
    if (!dev?.present) throw new SpdmError('DEVICE_NOT_FOUND', `no function at ${b}`, { bdf: b });
    return dev;
  }

  private notOwned(dev: Device): void {
    if (dev.owner.kind === 'tsm')
      throw new SpdmError('DEVICE_OWNED', `${dev.bdf} is owned by TSM ${dev.owner.tsm}: its DOE mailbox is not ours`, {
        bdf: dev.bdf,
        owner: dev.owner.tsm,
      });
  }

  devices(): readonly DeviceView[] {
    return [...this.known.values()]
      .filter((d) => d.present)
      .sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0))
      .map(deviceView);
  }

  device(bdf: string): DeviceView {
    return deviceView(this.present(bdf));
  }

  evidence(bdf: string): Evidence | undefined {
    return this.present(bdf).evidence;
  }

  signatures(bdf: string): readonly DeviceSignature[] {
    const dev = this.present(bdf);
    return [...(this.sigs.get(dev.bdf) ?? [])];
  }

  /** The decision history of a device (accept, override, reject, drop), oldest first. */
  decisions(bdf: string): Promise<StoredDecision[]> {
    return this.store.decisions(checkBdf(bdf));
  }

  // ------------------------------------------------------------------------------ decisions

  private open(): void {
    if (this.closed) throw new SpdmError('DEVICE_STATE', 'the CMA service is closed', { bdf: '', state: 'closed' });
  }

  async accept(
    bdf: string,
    options: { readonly override?: { readonly operator: string; readonly reason: string } } = {},
  ): Promise<DeviceView> {
    this.open();
    const dev = this.present(bdf);
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const override = options.override;
    if (override !== undefined && (typeof override !== 'object' || override === null))
      throw new TypeError('override must be { operator, reason }');
    const operator = override ? checkText(override.operator, 'override.operator', true) : undefined;
    const reason = override ? checkText(override.reason, 'override.reason', true) : undefined;
    this.notOwned(dev);
    const evidence = dev.evidence;
    if (!evidence || !dev.acceptable || !dev.verdict)
      throw new SpdmError('DEVICE_STATE', `${dev.bdf} has no evidence from its latest authentication to accept`, {
        bdf: dev.bdf,
      });
    const trusted = dev.verdict.status === 'trusted';
    if (!trusted && !override)
      throw new SpdmError(
        'DEVICE_STATE',
        `${dev.bdf} is not trusted by the verifier (${dev.verdict.reasons.map((r) => r.code).join(', ')}): accept it only with an override naming the operator and the reason`,
        { bdf: dev.bdf },
      );
    const at = this.now();
    const record = this.recordOf(evidence, at);
    const by = trusted ? 'verdict' : 'operator';
    const stored: StoredAcceptance = {
      bdf: dev.bdf,
      record,
      by,
      at,
      ...(operator ? { operator } : {}),
      ...(reason ? { note: reason } : {}),
    };
    this.records.set(dev.bdf, stored);
    dev.changed = undefined;
    dev.acceptance = {
      state: 'accepted',
      at,
      by,
      ...(operator ? { operator } : {}),
      ...(reason ? { note: reason } : {}),
    };
    const b = batch();
    b.devices.push(dev);
    b.acceptances.push(stored);
    b.decisions.push({
      bdf: dev.bdf,
      at,
      action: trusted ? 'accept' : 'override',
      ...(operator ? { operator } : {}),
      ...(reason ? { reason } : {}),
      detail: { verdict: dev.verdict.status, reasons: dev.verdict.reasons.map((r) => r.code) },
    });
    b.events.push({ type: 'acceptance', bdf: dev.bdf, acceptance: dev.acceptance });
    await this.commit(b);
    return deviceView(dev);
  }

  async reject(
    bdf: string,
    options: { readonly operator?: string; readonly reason?: string } = {},
  ): Promise<DeviceView> {
    this.open();
    const dev = this.present(bdf);
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const operator = checkText(options.operator, 'operator', false);
    const reason = checkText(options.reason, 'reason', false);
    const at = this.now();
    dev.acceptance = {
      state: 'rejected',
      at,
      reason: { code: 'REJECTED', message: reason ?? 'rejected by the operator' },
      ...(operator ? { operator } : {}),
    };
    const b = batch();
    b.devices.push(dev);
    if (this.records.delete(dev.bdf)) b.acceptances.push({ bdf: dev.bdf, remove: true });
    b.decisions.push({
      bdf: dev.bdf,
      at,
      action: 'reject',
      ...(operator ? { operator } : {}),
      ...(reason ? { reason } : {}),
    });
    b.events.push({ type: 'acceptance', bdf: dev.bdf, acceptance: dev.acceptance });
    await this.commit(b);
    return deviceView(dev);
  }

  /** The view after a job, or DEVICE_NOT_FOUND when the function went away meanwhile. */
  private after(dev: Device, incarnation: number): DeviceView {
    if (!this.current(dev, incarnation))
      throw new SpdmError('DEVICE_NOT_FOUND', `${dev.bdf} was removed`, { bdf: dev.bdf });
    return deviceView(dev);
  }

  async reauthenticate(bdf: string, options: { readonly slot?: number } = {}): Promise<DeviceView> {
    this.open();
    const dev = this.present(bdf);
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (options.slot !== undefined) checkSlot(options.slot);
    this.notOwned(dev);
    if (options.slot !== undefined) dev.slot = options.slot;
    const inc = dev.incarnation;
    await this.authenticateQueued(dev);
    return this.after(dev, inc);
  }

  async notifyReset(bdf: string, kind: ResetKind = 'notified'): Promise<DeviceView> {
    this.open();
    const dev = this.present(bdf);
    if (!RESET_KINDS.includes(kind)) throw new TypeError(`kind must be one of ${RESET_KINDS.join(', ')}`);
    this.notOwned(dev);
    const inc = dev.incarnation;
    await this.resetDevice(dev, kind);
    return this.after(dev, inc);
  }

  // ------------------------------------------------------------------------------ ownership

  /** Lets the work in flight finish for the grace period, then aborts it and waits for it to stop. */
  private async quiesce(dev: Device, reason: AbortReason): Promise<void> {
    const job = dev.current;
    if (!job) return;
    const settled = job.then(
      () => true,
      () => true,
    );
    const finished = await Promise.race([settled, this.clock.sleep(this.graceMs).then(() => false)]);
    if (!finished) {
      await dev.running?.abort(reason);
      await settled;
    }
  }

  async connectTsm(bdf: string, tsm: string): Promise<DeviceView> {
    this.open();
    const dev = this.present(bdf);
    if (typeof tsm !== 'string' || !TSM_NAME.test(tsm))
      throw new TypeError(`tsm must be a TSM name ([A-Za-z0-9._:-], 1..64 characters), got ${JSON.stringify(tsm)}`);
    if (dev.owner.kind === 'tsm') {
      if (dev.owner.tsm === tsm) return deviceView(dev);
      throw new SpdmError('DEVICE_STATE', `${dev.bdf} is already connected to TSM ${dev.owner.tsm}`, {
        bdf: dev.bdf,
        owner: dev.owner.tsm,
      });
    }
    // From here on nothing new starts on the mailbox (every job checks the owner first).
    dev.owner = { kind: 'tsm', tsm, since: this.now() };
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'owner', bdf: dev.bdf, owner: dev.owner });
    await this.commit(b);
    await this.quiesce(dev, { code: 'DEVICE_OWNED', message: `${dev.bdf} was handed to TSM ${tsm} mid-flow` });
    return deviceView(dev);
  }

  async disconnectTsm(bdf: string): Promise<DeviceView> {
    this.open();
    const dev = this.present(bdf);
    if (dev.owner.kind !== 'tsm')
      throw new SpdmError('DEVICE_STATE', `${dev.bdf} is not connected to a TSM`, { bdf: dev.bdf });
    dev.owner = { kind: 'cma' };
    dev.needsAuth = false;
    dev.acceptable = false;
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'owner', bdf: dev.bdf, owner: dev.owner });
    // The TSM may have reset or re-keyed it: it is the accepted device only if it shows it again.
    this.pendSameDevice(dev, b, 'back from a TSM: accepted again only when the same-device check passes');
    await this.commit(b);
    const inc = dev.incarnation;
    await this.authenticateQueued(dev);
    return this.after(dev, inc);
  }

  // -------------------------------------------------------------------- signed measurements

  async signedMeasurements(
    bdf: string,
    options: { readonly nonce?: Uint8Array; readonly slot?: number; readonly indices?: readonly number[] } = {},
  ): Promise<SignedMeasurements> {
    this.open();
    const dev = this.present(bdf);
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (options.nonce !== undefined && (!(options.nonce instanceof Uint8Array) || options.nonce.length !== NONCE_SIZE))
      throw new TypeError(`nonce must be ${NONCE_SIZE} bytes`);
    const slot = options.slot === undefined ? 0 : checkSlot(options.slot);
    const indices = options.indices ?? [255];
    if (
      !Array.isArray(indices) ||
      indices.length === 0 ||
      indices.some((i) => !Number.isInteger(i) || i < 1 || i > 255) ||
      (indices.includes(255) && indices.length > 1) ||
      new Set(indices).size !== indices.length
    )
      throw new TypeError('indices must be [255] (all) or a list of distinct measurement indices 1..254');
    this.notOwned(dev);
    const nonce = options.nonce ? options.nonce.slice() : this.random(NONCE_SIZE);
    const inc = dev.incarnation;
    dev.busy++;
    const job = this.scheduler.run(dev.bdf, async (attempt) => {
      try {
        this.notOwned(dev);
        const run = this.flowWithRetries(dev, inc, attempt, () => nonce, {
          slot,
          // Exactly the blocks asked for, one request each, the signature on the last (Redfish).
          indices,
        });
        dev.current = run;
        const { result } = await run.finally(() => (dev.current = undefined));
        if (!this.current(dev, inc))
          throw new SpdmError('DEVICE_NOT_FOUND', `${dev.bdf} was removed`, { bdf: dev.bdf });
        if (!result.evidence)
          throw result.error instanceof Error
            ? result.error
            : new SpdmError('DEVICE_STATE', 'no evidence', { bdf: dev.bdf });
        const b = batch();
        b.devices.push(dev);
        await this.logSignatures(dev, result.evidence, b);
        await this.commit(b);
        return signedMeasurementsOf(result.evidence, slot);
      } finally {
        dev.busy--;
      }
    });
    return job;
  }

  // ------------------------------------------------------------------------------------- log

  logPublicKeyPem(): string {
    return this.log.publicKeyPem();
  }

  async treeHead(): Promise<SignedTreeHeadJson> {
    return sthToJson(await this.log.signedTreeHead(), this.log.logKey.logId);
  }

  async inclusionProof(index: number, treeSize?: number): Promise<{ leafHash: string; proof: string[] }> {
    if (!Number.isSafeInteger(index) || index < 0) throw new TypeError(`index must be a whole number`);
    if (treeSize !== undefined && (!Number.isSafeInteger(treeSize) || treeSize < 1))
      throw new TypeError('treeSize must be a positive whole number');
    const p = await this.log.inclusionProof(index, treeSize);
    return { leafHash: toHex(p.leafHash), proof: p.path.map(toHex) };
  }

  async consistencyProof(from: number, to?: number): Promise<{ proof: string[] }> {
    if (!Number.isSafeInteger(from) || from < 0) throw new TypeError('from must be a whole number');
    if (to !== undefined && (!Number.isSafeInteger(to) || to < 0)) throw new TypeError('to must be a whole number');
    const p = await this.log.consistencyProof(from, to);
    return { proof: p.path.map(toHex) };
  }

  // ------------------------------------------------------------------------------- lifecycle

  setPolicy(policy: Policy | undefined): void {
    this.policy = policy;
  }

  async idle(): Promise<void> {
    // Event handling queues jobs and jobs may trigger more: settle until both are empty at once.
    while (this.pendingWork.size > 0 || this.scheduler.size > 0) {
      await Promise.all([...this.pendingWork]);
      await this.scheduler.idle();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.scheduler.size > 0 || this.pendingWork.size > 0) {
      const done = await Promise.race([this.idle().then(() => true), this.clock.sleep(this.graceMs).then(() => false)]);
      if (!done) {
        for (const d of this.known.values())
          await d.running?.abort({ code: 'DEVICE_STATE', message: 'the CMA service is closing' });
        await this.idle();
      }
    }
    await this.commitLock.run(async () => undefined);
    if (this.ownsLog) await this.log.close();
    await this.store.close();
  }
}

/** Default signature log file in the data directory. */
export const CMA_LOG_FILE = 'signatures.sqlite';

/**
 * Opens the store and the signature log, loads what was known, subscribes to the platform and
 * queues the authentication of every function present. Returns once enumeration is done; the
 * authentications run on (await `idle()` for them).
 */
export async function createCma(options: CmaOptions): Promise<CmaService> {
  if (typeof options !== 'object' || options === null) throw new TypeError('createCma needs options');
  if (!options.platform || typeof options.platform.functions !== 'function')
    throw new TypeError('options.platform must be a Platform');
  if (!options.trust || !Array.isArray(options.trust.anchors))
    throw new TypeError('options.trust must be a TrustSource');
  if (typeof options.dataDir !== 'string' || options.dataDir === '')
    throw new TypeError('options.dataDir must be a directory path');
  if (options.store !== undefined && (typeof options.store !== 'string' || !/^postgres(ql)?:\/\//i.test(options.store)))
    throw new TypeError('options.store must be a postgres:// URL');
  const store = await openCmaStore(options.dataDir, options.store);
  let log: SignatureLog;
  const ownsLog = typeof options.log !== 'object';
  try {
    log =
      typeof options.log === 'object'
        ? options.log
        : await openLog(options.log ?? join(options.dataDir, CMA_LOG_FILE), {
            // A PostgreSQL log's key lives in the data directory, not in the user's ~/.config.
            configDir: options.dataDir,
            ...(options.clock ? { now: () => Math.floor((options.clock as Clock).now()) } : {}),
          });
  } catch (e) {
    await store.close();
    throw e;
  }
  const cma = new CmaManager(options, store, log, ownsLog);
  try {
    await cma.start();
  } catch (e) {
    await cma.close();
    throw e;
  }
  return cma;
}
