/**
 * The device lifecycle (CmaService): enumerate the platform's functions, authenticate each over
 * its DOE mailbox, have the verifier judge the evidence, log every signature, and keep user
 * space's decision. This module wires the parts together and answers queries; each rule has one
 * owner:
 *
 * - decisions.ts: `accepted` rests on an acceptance record; re-acceptance after a restart, reset,
 *   hot-plug or TSM hand-back only through the same-device check; autoAccept; reject.
 * - runner.ts: one flow per BDF, bounded concurrency, retries with backoff; result.ts: how a
 *   flow's result becomes `authenticated` and the verdict.
 * - ownership.ts: a function owned by a TSM is not touched (grace period, then abort).
 * - presence.ts: added, removed and reset functions.
 * - journal.ts: every state change and the events announcing it are committed together before
 *   anyone is told; events are served from memory or paged from the store.
 * - signature-book.ts: every signature in the log, the newest per device as kernel-like views.
 * - measurements.ts: Redfish SPDMGetSignedMeasurements.
 */
import type { Evidence } from '../evidence/evidence.js';
import { openLog, type AppendResult, type SignatureLog } from '../log/log.js';
import { DurableThread } from './durable-thread.js';
import type { ResetKind } from '../platform/platform.js';
import type { Policy } from '../verifier/policy.js';
import type { TrustSource } from '../verifier/trust-store.js';
import { SpdmError } from '../wire/errors.js';
import type { CmaEvent, CmaService, DeviceSignature, DeviceView, SignedMeasurements } from './api.js';
import { checkOptions, checkResetKind, checkSlot, checkTsmName } from './arguments.js';
import { checkBdf } from './bdf.js';
import { CmaCore } from './core.js';
import { Decisions } from './decisions.js';
import { deviceView, restoreDevice, type Device } from './device.js';
import { consistencyProofOf, inclusionProofOf, treeHeadOf } from './log-proofs.js';
import { signedMeasurements } from './measurements.js';
import { nonNegativeNumber, positiveInt, type CmaOptions } from './options.js';
import { assertNotOwned, Ownership } from './ownership.js';
import { Presence } from './presence.js';
import { FlowRunner } from './runner.js';
import { Scheduler } from './scheduler.js';
import { SignatureBook } from './signature-book.js';
import { openCmaStore } from './store/open.js';
import type { CmaStore, StoredDecision } from './store/store.js';
import { join } from 'node:path';

export { MAX_EVENTS_PAGE } from './journal.js';

class CmaManager implements CmaService {
  private readonly core: CmaCore;
  private readonly decisionBook: Decisions;
  private readonly sigs: SignatureBook;
  private readonly runner: FlowRunner;
  private readonly ownership: Ownership;
  private readonly presence: Presence;
  private readonly graceMs: number;
  private readonly sigsMax: number;
  private readonly recentMax: number;
  /** The verifier policy in force (setPolicy replaces it). */
  private policy: Policy | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly opts: CmaOptions,
    private readonly store: CmaStore,
    private readonly log: SignatureLog,
    private readonly ownsLog: boolean,
    /** Where the log's appends are done when not on this thread (a SQLite log the service opened). */
    private readonly logWriter?: { readonly thread: DurableThread; readonly now: () => number },
  ) {
    this.core = new CmaCore(opts, store);
    this.policy = opts.policy;
    const deny = opts.deny;
    const trust: TrustSource = deny
      ? {
          get anchors() {
            return opts.trust.anchors;
          },
          denyList: deny,
        }
      : opts.trust;
    const scheduler = new Scheduler(positiveInt(opts.concurrency, 4, 'concurrency'));
    const attempts = nonNegativeNumber(opts.retry?.attempts, 3, 'retry.attempts');
    if (!Number.isInteger(attempts)) throw new TypeError('retry.attempts must be an integer');
    const retry = {
      attempts,
      baseMs: nonNegativeNumber(opts.retry?.baseMs, 200, 'retry.baseMs'),
      maxMs: nonNegativeNumber(opts.retry?.maxMs, 5000, 'retry.maxMs'),
    };
    this.graceMs = nonNegativeNumber(opts.abortGraceMs, 2000, 'abortGraceMs');
    this.recentMax = positiveInt(opts.recentEvents, 10_000, 'recentEvents');
    this.sigsMax = positiveInt(opts.signaturesPerDevice, 256, 'signaturesPerDevice');
    const now = () => this.core.now();
    this.decisionBook = new Decisions(opts.autoAccept === true, now);
    const append = logWriter
      ? (group: readonly Evidence[]) =>
          logWriter.thread.call<AppendResult[]>('append', { evidences: group, now: logWriter.now() })
      : (group: readonly Evidence[]) => log.appendEvidences(group);
    this.sigs = new SignatureBook(append, store, this.sigsMax, now, () => this.core.clock.sleep(0));
    this.runner = new FlowRunner(this.core, scheduler, retry, this.sigs, this.decisionBook, trust, () => this.policy);
    this.ownership = new Ownership(this.core, this.graceMs, (dev, b, m) => this.decisionBook.pendSameDevice(dev, b, m));
    this.presence = new Presence(this.core, this.decisionBook, this.runner);
  }

  async start(): Promise<void> {
    const loaded = await this.store.load({ recentEvents: this.recentMax });
    for (const s of loaded.devices) this.core.known.set(s.bdf, restoreDevice(s));
    this.decisionBook.restore(loaded.acceptances);
    this.core.journal.restore(loaded.lastEventId, loaded.recentEvents);
    this.unsubscribe = this.opts.platform.subscribe((e) => this.presence.onPlatformEvent(e));
    const fns = await this.opts.platform.functions();
    // All at once: their device-added commits go to the store in a few group commits (journal.ts),
    // not one disk flush per function, and each function's authentication starts as soon as its
    // own commit is written.
    await Promise.all(fns.map((fn) => this.presence.plugged(fn)));
  }

  // ------------------------------------------------------------------------------- queries

  devices(): readonly DeviceView[] {
    return [...this.core.known.values()]
      .filter((d) => d.present)
      .sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0))
      .map(deviceView);
  }

  device(bdf: string): DeviceView {
    return deviceView(this.core.present(bdf));
  }

  evidence(bdf: string): Evidence | undefined {
    return this.core.present(bdf).evidence?.evidence();
  }

  signatures(bdf: string): Promise<readonly DeviceSignature[]> {
    return this.sigs.list(this.core.present(bdf).bdf);
  }

  /** The decision history of a device (accept, override, reject, drop), oldest first. */
  decisions(bdf: string): Promise<StoredDecision[]> {
    return this.store.decisions(checkBdf(bdf));
  }

  eventsSince(afterId: number, limit?: number): Promise<readonly CmaEvent[]> {
    return this.core.journal.eventsSince(afterId, limit);
  }

  subscribe(listener: (event: CmaEvent) => void): () => void {
    return this.core.journal.subscribe(listener);
  }

  // ------------------------------------------------------------------------------ decisions

  async accept(
    bdf: string,
    options: { readonly override?: { readonly operator: string; readonly reason: string } } = {},
  ): Promise<DeviceView> {
    this.core.open();
    const dev = this.core.present(bdf);
    await this.core.commit(this.decisionBook.accept(dev, options));
    return deviceView(dev);
  }

  async reject(
    bdf: string,
    options: { readonly operator?: string; readonly reason?: string } = {},
  ): Promise<DeviceView> {
    this.core.open();
    const dev = this.core.present(bdf);
    await this.core.commit(this.decisionBook.reject(dev, options));
    return deviceView(dev);
  }

  /** The view after a job, or DEVICE_NOT_FOUND when the function went away meanwhile. */
  private after(dev: Device, incarnation: number): DeviceView {
    if (!this.core.current(dev, incarnation))
      throw new SpdmError('DEVICE_NOT_FOUND', `${dev.bdf} was removed`, { bdf: dev.bdf });
    return deviceView(dev);
  }

  async reauthenticate(bdf: string, options: { readonly slot?: number } = {}): Promise<DeviceView> {
    this.core.open();
    const dev = this.core.present(bdf);
    checkOptions(options);
    if (options.slot !== undefined) checkSlot(options.slot);
    assertNotOwned(dev);
    if (options.slot !== undefined) dev.slot = options.slot;
    const inc = dev.incarnation;
    await this.runner.authenticateQueued(dev);
    return this.after(dev, inc);
  }

  async notifyReset(bdf: string, kind: ResetKind = 'notified'): Promise<DeviceView> {
    this.core.open();
    const dev = this.core.present(bdf);
    checkResetKind(kind);
    assertNotOwned(dev);
    const inc = dev.incarnation;
    await this.presence.reset(dev, kind);
    return this.after(dev, inc);
  }

  // ------------------------------------------------------------------------------ ownership

  async connectTsm(bdf: string, tsm: string): Promise<DeviceView> {
    this.core.open();
    const dev = this.core.present(bdf);
    return this.ownership.connect(dev, checkTsmName(tsm));
  }

  async disconnectTsm(bdf: string): Promise<DeviceView> {
    this.core.open();
    const dev = this.core.present(bdf);
    await this.ownership.disconnect(dev);
    const inc = dev.incarnation;
    await this.runner.authenticateQueued(dev);
    return this.after(dev, inc);
  }

  async signedMeasurements(
    bdf: string,
    options: { readonly nonce?: Uint8Array; readonly slot?: number; readonly indices?: readonly number[] } = {},
  ): Promise<SignedMeasurements> {
    this.core.open();
    const dev = this.core.present(bdf);
    return signedMeasurements(this.core, this.runner, this.sigs, dev, options);
  }

  // ------------------------------------------------------------------------------------- log

  logPublicKeyPem(): string {
    return this.log.publicKeyPem();
  }

  treeHead() {
    return treeHeadOf(this.log);
  }

  inclusionProof(index: number, treeSize?: number) {
    return inclusionProofOf(this.log, index, treeSize);
  }

  consistencyProof(from: number, to?: number) {
    return consistencyProofOf(this.log, from, to);
  }

  // ------------------------------------------------------------------------------- lifecycle

  setPolicy(policy: Policy | undefined): void {
    this.policy = policy;
  }

  async idle(): Promise<void> {
    // Event handling queues jobs and jobs may trigger more: settle until both are empty at once.
    const scheduler = this.runner.scheduler;
    while (this.core.pending > 0 || scheduler.size > 0) {
      await this.core.settleBackground();
      await scheduler.idle();
    }
  }

  async close(): Promise<void> {
    if (this.core.closed) return;
    this.core.close();
    this.unsubscribe?.();
    if (this.runner.scheduler.size > 0 || this.core.pending > 0) {
      const done = await Promise.race([
        this.idle().then(() => true),
        this.core.clock.sleep(this.graceMs).then(() => false),
      ]);
      if (!done) {
        for (const d of this.core.known.values())
          await d.running?.abort({ code: 'DEVICE_STATE', message: 'the CMA service is closing' });
        await this.idle();
      }
    }
    await this.sigs.settled();
    await this.core.journal.settled();
    await this.logWriter?.thread.close();
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
  if (options.holdDrivers !== undefined && typeof options.holdDrivers !== 'boolean')
    throw new TypeError('options.holdDrivers must be a boolean');
  if (options.holdDrivers && typeof options.platform.holdDriver !== 'function')
    throw new TypeError(
      `options.holdDrivers needs a platform that can hold drivers (the ${options.platform.kind} one cannot)`,
    );
  if (options.writeThreads !== undefined && typeof options.writeThreads !== 'boolean')
    throw new TypeError('options.writeThreads must be a boolean');
  const writeThreads = options.writeThreads ?? true;
  const store = await openCmaStore(options.dataDir, options.store, { writeThread: writeThreads });
  let log: SignatureLog;
  const ownsLog = typeof options.log !== 'object';
  const clock = options.clock;
  const logNow = clock ? () => Math.floor(clock.now()) : Date.now;
  const logTarget = typeof options.log === 'object' ? undefined : (options.log ?? join(options.dataDir, CMA_LOG_FILE));
  let logWriter: { thread: DurableThread; now: () => number } | undefined;
  try {
    log =
      logTarget === undefined
        ? (options.log as SignatureLog)
        : await openLog(logTarget, {
            // A PostgreSQL log's key lives in the data directory, not in the user's ~/.config.
            configDir: options.dataDir,
            ...(clock ? { now: logNow } : {}),
          });
    // The log is created (tables, key) by now: the thread opens it as it is.
    if (logTarget !== undefined && writeThreads && log.backend === 'sqlite') {
      try {
        const thread = await DurableThread.start(
          { kind: 'log', target: logTarget, configDir: options.dataDir },
          { description: log.description },
        );
        logWriter = { thread, now: logNow };
      } catch (e) {
        await log.close();
        throw e;
      }
    }
  } catch (e) {
    await store.close();
    throw e;
  }
  const cma = new CmaManager(options, store, log, ownsLog, logWriter);
  try {
    await cma.start();
  } catch (e) {
    await cma.close();
    throw e;
  }
  return cma;
}
