/**
 * One authentication of one function, from config space to Evidence: open the config space, read
 * the PCI identity, find a DOE mailbox that lists CMA-SPDM, run the requester over it with our
 * nonce. It decides nothing: the verdict and the acceptance are the manager's. The flow can be
 * aborted from outside (a TSM takes the device, the device is unplugged, the service closes):
 * aborting closes the transport, which closes the config space, so the flow stops touching the
 * mailbox at its next register access and fails with the abort's reason.
 */
import type { Evidence, PciIdentity } from '../evidence/evidence.js';
import { findExtendedCapabilities, PCI_EXT_CAP_ID_DOE, type ConfigSpace } from '../pci/config-space.js';
import type { DoeMailboxOptions } from '../pci/doe-mailbox.js';
import { openDoeTransport } from '../pci/doe-transport.js';
import { readPciIdentity } from '../pci/identity.js';
import type { PlatformFunction } from '../platform/platform.js';
import type { RequesterOptions } from '../requester/options.js';
import { Requester, type AuthenticateOptions } from '../requester/requester.js';
import type { Clock } from '../transport/clock.js';
import type { RandomSource } from '../crypto/random.js';
import { SpdmError, type SpdmErrorCode } from '../wire/errors.js';
import type { DoeSupport } from './api.js';

/** Why a flow was stopped from outside: DEVICE_OWNED (a TSM took it), DEVICE_NOT_FOUND (unplugged), DEVICE_STATE (reset, closing). */
export interface AbortReason {
  readonly code: SpdmErrorCode;
  readonly message: string;
}

/** Lets the manager stop a flow in flight. */
export class FlowHandle {
  private closer: (() => Promise<void>) | undefined;
  private reason: AbortReason | undefined;

  get aborted(): AbortReason | undefined {
    return this.reason;
  }

  /** What closing the flow's resources takes (the transport, or the bare config space before it). */
  holds(close: (() => Promise<void>) | undefined): void {
    this.closer = close;
  }

  /** Marks the flow aborted and closes what it holds; the flow fails at its next access. */
  async abort(reason: AbortReason): Promise<void> {
    this.reason ??= reason;
    const c = this.closer;
    this.closer = undefined;
    try {
      await c?.();
    } catch {
      // Closing a handle of a vanished device may fail; the flow is stopped either way.
    }
  }

  /** Throws the abort reason when the flow was aborted. */
  check(): void {
    if (this.reason) throw new SpdmError(this.reason.code, this.reason.message);
  }
}

export interface FlowOptions {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly nonce: Uint8Array;
  readonly slot: number;
  readonly requester?: RequesterOptions;
  readonly doe?: Omit<DoeMailboxOptions, 'clock'>;
  readonly authenticate?: Omit<AuthenticateOptions, 'nonce' | 'slot'>;
}

export interface FlowResult {
  readonly identity?: PciIdentity;
  readonly doe: DoeSupport;
  readonly evidence?: Evidence;
  /** Why there is no evidence. */
  readonly error?: unknown;
}

/** Runs `f` at most once, however many of the flow's exits reach it. */
function once(f: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
}

export async function runFlow(fn: PlatformFunction, opts: FlowOptions, handle: FlowHandle): Promise<FlowResult> {
  let identity: PciIdentity | undefined;
  let doe: DoeSupport = 'unknown';
  let cs: ConfigSpace | undefined;
  let close: (() => Promise<void>) | undefined;
  try {
    handle.check();
    cs = await fn.openConfigSpace();
    const space = cs;
    close = once(async () => {
      await space.close?.();
    });
    handle.holds(close);
    handle.check();
    identity = await readPciIdentity(cs, fn.bdf);
    handle.check();
    if ((await findExtendedCapabilities(cs, PCI_EXT_CAP_ID_DOE)).length === 0) return { identity, doe: 'no-doe' };
    handle.check();
    let transport;
    try {
      transport = await openDoeTransport(cs, { ...opts.doe, clock: opts.clock, ownsConfigSpace: true });
    } catch (e) {
      handle.check();
      if (e instanceof SpdmError && e.code === 'UNSUPPORTED') return { identity, doe: 'no-cma' };
      throw e;
    }
    const t = transport;
    close = once(() => t.close());
    handle.holds(close);
    doe = 'cma';
    handle.check();
    const requester = new Requester(transport, {
      ...opts.requester,
      clock: opts.clock,
      random: opts.random,
      pci: identity,
      deviceName: fn.bdf,
      // Many devices at once: their signature checks go to other cores, the event loop serves the rest.
      signatureChecks: 'threadpool',
    });
    const evidence = await requester.authenticate({ ...opts.authenticate, nonce: opts.nonce, slot: opts.slot });
    handle.check();
    return { identity, doe, evidence };
  } catch (e) {
    // An aborted flow fails with the abort's reason, whatever the closed handle made it throw.
    const reason = handle.aborted;
    return {
      ...(identity ? { identity } : {}),
      doe,
      error: reason ? new SpdmError(reason.code, reason.message) : e,
    };
  } finally {
    handle.holds(undefined);
    try {
      await close?.();
    } catch {
      // already gone
    }
  }
}
