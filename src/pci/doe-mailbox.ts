/**
 * Register-level driver for one DOE mailbox (PCIe r6.x sec 6.30), following the procedure Linux
 * implements in drivers/pci/doe.c: wait out Busy, abort a pending Error, write the object DW by
 * DW, Go, poll for Data Object Ready within 1 s, read and acknowledge every DW, check Error once
 * more; abort on any failure, and declare the mailbox dead if an abort does not complete in 1 s.
 *
 * One request is outstanding per mailbox: exchanges are queued and run one at a time.
 */
import { SpdmError, type SpdmErrorCode } from '../wire/errors.js';
import { LIMITS, LimitError } from '../wire/limits.js';
import { systemClock, type Clock } from '../transport/clock.js';
import {
  decodeDoeDiscoveryResponse,
  decodeDoeHeader,
  DOE_HEADER_DW,
  DOE_MAX_OBJECT_DW,
  DoeObjectType,
  encodeDoeDiscoveryRequest,
  encodeDoeHeader,
  PCI_SIG_VENDOR_ID,
  type DoeProtocol,
} from '../transport/doe.js';
import { decodeExtendedCapabilityHeader, PCI_EXT_CAP_ID_DOE, type ConfigSpace } from './config-space.js';

/** DOE register offsets from the capability start, and their bits (Linux pci_regs.h names). */
export const DoeReg = {
  HEADER: 0x00,
  CAP: 0x04,
  CTRL: 0x08,
  STATUS: 0x0c,
  WRITE: 0x10,
  READ: 0x14,
} as const;
export const DOE_CAP_SIZEOF = 0x18;
export const DOE_CAP_INT_SUP = 0x1;
export const DOE_CAP_INT_MSG_NUM = 0xffe;
export const DOE_CTRL_ABORT = 0x1;
export const DOE_CTRL_INT_EN = 0x2;
export const DOE_CTRL_GO = 0x80000000;
export const DOE_STATUS_BUSY = 0x1;
export const DOE_STATUS_INT_STATUS = 0x2;
export const DOE_STATUS_ERROR = 0x4;
export const DOE_STATUS_DATA_OBJECT_READY = 0x80000000;

/** PCIe r6.0 sec 6.30.2: a DOE instance has 1 s to produce a response. */
export const DOE_TIMEOUT_MS = LIMITS.doeTimeoutMs;

/** Why a mailbox operation failed (alongside the SpdmError code). */
export type DoeFailure =
  | 'busy' // Busy did not clear before we could write
  | 'device-error' // the DOE Error bit was set
  | 'timeout' // no Data Object Ready within the timeout
  | 'header-mismatch' // the response's vendor/type is not the request's, or its header is malformed
  | 'not-ready' // Data Object Ready dropped while reading (device reset, surprise)
  | 'response-too-large' // the response object exceeds the configured maximum (drained, discarded)
  | 'longer-than-announced' // Data Object Ready still set after the DWs the Length field announced
  | 'dead' // an abort did not complete: the mailbox is unusable
  | 'not-doe'; // the capability at the offset is not a DOE capability

export type DoePhase = 'open' | 'idle-check' | 'write' | 'wait' | 'read' | 'final-check' | 'abort';

export interface DoeStatusBits {
  readonly raw: number;
  readonly busy: boolean;
  readonly error: boolean;
  readonly dataObjectReady: boolean;
  readonly interruptStatus: boolean;
}

export function decodeDoeStatus(raw: number): DoeStatusBits {
  return {
    raw: raw >>> 0,
    busy: (raw & DOE_STATUS_BUSY) !== 0,
    error: (raw & DOE_STATUS_ERROR) !== 0,
    dataObjectReady: (raw & DOE_STATUS_DATA_OBJECT_READY) !== 0,
    interruptStatus: (raw & DOE_STATUS_INT_STATUS) !== 0,
  };
}

/** A mailbox failure: `failure` says what went wrong, `details` carries the register state. */
export class DoeMailboxError extends SpdmError {
  readonly failure: DoeFailure;
  readonly phase: DoePhase;
  constructor(
    code: SpdmErrorCode,
    failure: DoeFailure,
    phase: DoePhase,
    message: string,
    details: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(code, message, { failure, phase, ...details }, options);
    this.name = 'DoeMailboxError';
    this.failure = failure;
    this.phase = phase;
  }
}

export interface DoeMailboxOptions {
  readonly clock?: Clock;
  /** How long the device has to set Data Object Ready after Go (default 1000 ms, the PCIe limit). */
  readonly timeoutMs?: number;
  /** How long an abort may take before the mailbox is declared dead (default 1000 ms). */
  readonly abortTimeoutMs?: number;
  /** How long to wait for Busy to clear before writing a request (default 1000 ms, as Linux). */
  readonly busyWaitMs?: number;
  /** Status polling interval (default timeout / 128, as Linux). */
  readonly pollIntervalMs?: number;
  /** Largest response object accepted, in DW including the header (default 2^18, the DOE maximum). */
  readonly maxResponseDw?: number;
  /** Issue an abort when opening, to get the mailbox into a known state (default true, as Linux). */
  readonly abortOnOpen?: boolean;
}

export interface DoeExchangeOptions {
  /** Overrides the mailbox timeout for this exchange (e.g. the SPDM CT when it is longer). */
  readonly timeoutMs?: number;
  /** Overrides the maximum response size for this exchange (DW, header included). */
  readonly maxResponseDw?: number;
}

/** Check Status every this many DWs while streaming an object in either direction. */
const STATUS_CHECK_EVERY_DW = 64;

export class DoeMailbox {
  private readonly clock: Clock;
  readonly timeoutMs: number;
  readonly abortTimeoutMs: number;
  readonly busyWaitMs: number;
  readonly pollIntervalMs: number;
  readonly maxResponseDw: number;
  private tail: Promise<void> = Promise.resolve();
  private deadSince: number | undefined;
  /** Counters for diagnostics. */
  readonly stats = { exchanges: 0, failures: 0, aborts: 0 };

  private constructor(
    readonly cs: ConfigSpace,
    readonly capOffset: number,
    /** Version field of the DOE extended capability header (2+ means discovery version 2). */
    readonly capabilityVersion: number,
    /** DOE Capabilities register as read at open. */
    readonly capabilities: number,
    opts: DoeMailboxOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.timeoutMs = positive(opts.timeoutMs ?? DOE_TIMEOUT_MS, 'timeoutMs');
    this.abortTimeoutMs = positive(opts.abortTimeoutMs ?? DOE_TIMEOUT_MS, 'abortTimeoutMs');
    this.busyWaitMs = nonNegative(opts.busyWaitMs ?? DOE_TIMEOUT_MS, 'busyWaitMs');
    this.pollIntervalMs = positive(opts.pollIntervalMs ?? this.timeoutMs / 128, 'pollIntervalMs');
    this.maxResponseDw = checkMaxDw(opts.maxResponseDw ?? DOE_MAX_OBJECT_DW);
  }

  /**
   * Opens the DOE mailbox whose capability starts at `capOffset`: checks the capability ID and,
   * unless told otherwise, aborts to put the mailbox in a known state (as Linux does when it creates
   * a mailbox). Throws DoeMailboxError 'not-doe' or 'dead'.
   */
  static async open(cs: ConfigSpace, capOffset: number, opts: DoeMailboxOptions = {}): Promise<DoeMailbox> {
    if (
      !Number.isInteger(capOffset) ||
      capOffset < 0x100 ||
      capOffset % 4 !== 0 ||
      capOffset + DOE_CAP_SIZEOF > cs.size
    ) {
      throw new DoeMailboxError(
        'TRANSPORT_ERROR',
        'not-doe',
        'open',
        `0x${capOffset.toString(16)} cannot hold a DOE capability in a ${cs.size}-byte config space`,
        { capOffset },
      );
    }
    const header = decodeExtendedCapabilityHeader(capOffset, await cs.read32(capOffset + DoeReg.HEADER));
    if (header.id !== PCI_EXT_CAP_ID_DOE) {
      throw new DoeMailboxError(
        'UNSUPPORTED',
        'not-doe',
        'open',
        `capability at 0x${capOffset.toString(16)} has ID 0x${header.id.toString(16)}, not DOE (0x2e)`,
        {
          capOffset,
          capabilityId: header.id,
        },
      );
    }
    const capabilities = await cs.read32(capOffset + DoeReg.CAP);
    const mb = new DoeMailbox(cs, capOffset, header.version, capabilities, opts);
    if (opts.abortOnOpen ?? true) await mb.abort();
    return mb;
  }

  /** True once an abort has failed to complete; every exchange then fails until abort() succeeds. */
  get dead(): boolean {
    return this.deadSince !== undefined;
  }

  /**
   * Sends one data object and returns the payload of the response object (DW padding included).
   * Queued behind any exchange in progress.
   */
  exchange(vendorId: number, type: number, payload: Uint8Array, options: DoeExchangeOptions = {}): Promise<Uint8Array> {
    return this.serialise(() => this.doExchange(vendorId, type, payload, options));
  }

  /**
   * Aborts whatever the mailbox is doing: writes Abort and waits for Busy and Error to clear. If they
   * do not clear within abortTimeoutMs the mailbox is marked dead (and this throws 'dead'); a later
   * successful abort revives it. Queued behind any exchange in progress.
   */
  abort(): Promise<void> {
    return this.serialise(() => this.doAbort());
  }

  /**
   * DOE Discovery: every protocol the mailbox supports, in index order. The request carries
   * Discovery Version 2 when the capability version is 2 or more (as Linux sends it), else 0.
   */
  async discover(options: { version?: number; timeoutMs?: number } = {}): Promise<DoeProtocol[]> {
    const version = options.version ?? (this.capabilityVersion >= 2 ? 2 : 0);
    const out: DoeProtocol[] = [];
    const seen = new Set<number>();
    let index = 0;
    for (;;) {
      seen.add(index);
      const payload = await this.exchange(
        PCI_SIG_VENDOR_ID,
        DoeObjectType.DISCOVERY,
        encodeDoeDiscoveryRequest({ index, version }),
        {
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          maxResponseDw: DOE_HEADER_DW + 2,
        },
      );
      const entry = decodeDoeDiscoveryResponse(payload);
      out.push({ vendorId: entry.vendorId, type: entry.type });
      if (entry.nextIndex === 0) return out;
      if (seen.has(entry.nextIndex)) {
        throw new DoeMailboxError(
          'TRANSPORT_ERROR',
          'header-mismatch',
          'read',
          `DOE discovery loops: entry ${index} names index ${entry.nextIndex} again`,
          {
            capOffset: this.capOffset,
            index,
            nextIndex: entry.nextIndex,
          },
        );
      }
      index = entry.nextIndex;
    }
  }

  /** Reads the Status register (for diagnostics; not queued). */
  async status(): Promise<DoeStatusBits> {
    return decodeDoeStatus(await this.reg(DoeReg.STATUS));
  }

  // -------------------------------------------------------------------------------------------

  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private reg(off: number): Promise<number> {
    return this.cs.read32(this.capOffset + off);
  }

  private setReg(off: number, value: number): Promise<void> {
    return this.cs.write32(this.capOffset + off, value >>> 0);
  }

  private details(status: number | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      capOffset: this.capOffset,
      ...(status !== undefined ? { status: status >>> 0, statusBits: decodeDoeStatus(status) } : {}),
      ...extra,
    };
  }

  private deadError(phase: DoePhase, status: number | undefined, cause?: unknown): DoeMailboxError {
    return new DoeMailboxError(
      'TRANSPORT_ERROR',
      'dead',
      phase,
      `DOE mailbox dead: abort at 0x${this.capOffset.toString(16)} did not clear Busy/Error within ${this.abortTimeoutMs} ms`,
      this.details(status, { deadSince: this.deadSince }),
      cause !== undefined ? { cause } : undefined,
    );
  }

  private async doAbort(): Promise<void> {
    this.stats.aborts++;
    await this.setReg(DoeReg.CTRL, DOE_CTRL_ABORT);
    const deadline = this.clock.now() + this.abortTimeoutMs;
    let status: number;
    do {
      await this.clock.sleep(this.pollIntervalMs);
      status = await this.reg(DoeReg.STATUS);
      if ((status & (DOE_STATUS_BUSY | DOE_STATUS_ERROR)) === 0) {
        this.deadSince = undefined;
        return;
      }
    } while (this.clock.now() <= deadline);
    this.deadSince ??= this.clock.now();
    throw this.deadError('abort', status);
  }

  /** Aborts after a failure and throws `err` — or the dead-mailbox error if the abort fails. */
  private async failWithAbort(err: DoeMailboxError): Promise<never> {
    this.stats.failures++;
    try {
      await this.doAbort();
    } catch (abortErr) {
      if (abortErr instanceof DoeMailboxError && abortErr.failure === 'dead') {
        throw new DoeMailboxError(
          'TRANSPORT_ERROR',
          'dead',
          err.phase,
          `${abortErr.message} (after: ${err.message})`,
          { ...abortErr.details, after: err.failure },
          { cause: err },
        );
      }
      throw abortErr;
    }
    throw err;
  }

  private async doExchange(
    vendorId: number,
    type: number,
    payload: Uint8Array,
    options: DoeExchangeOptions,
  ): Promise<Uint8Array> {
    if (this.deadSince !== undefined) throw this.deadError('idle-check', undefined);
    const [dw0, dw1] = encodeDoeHeader({ vendorId, type, payloadBytes: payload.length }); // validates the size first
    const timeoutMs = positive(options.timeoutMs ?? this.timeoutMs, 'timeoutMs');
    const maxResponseDw = checkMaxDw(options.maxResponseDw ?? this.maxResponseDw);
    this.stats.exchanges++;
    const what = `DOE 0x${vendorId.toString(16)}:${type}`;

    // 1. Idle check: wait for Busy to clear (someone else's object); abort a pending Error.
    let status = await this.reg(DoeReg.STATUS);
    if (status & DOE_STATUS_BUSY) {
      const deadline = this.clock.now() + this.busyWaitMs;
      while (status & DOE_STATUS_BUSY && this.clock.now() < deadline) {
        await this.clock.sleep(this.pollIntervalMs);
        status = await this.reg(DoeReg.STATUS);
      }
      if (status & DOE_STATUS_BUSY) {
        // Not aborted: Busy means another entity (firmware, the kernel) owns the mailbox right now.
        this.stats.failures++;
        throw new DoeMailboxError(
          'BUSY',
          'busy',
          'idle-check',
          `${what}: mailbox still Busy after ${this.busyWaitMs} ms (another entity using it?)`,
          this.details(status),
        );
      }
    }
    if (status & DOE_STATUS_ERROR) {
      await this.doAbort();
      status = await this.reg(DoeReg.STATUS);
    }

    // 2. Write the object DW by DW, then 3. Go.
    await this.setReg(DoeReg.WRITE, dw0);
    await this.setReg(DoeReg.WRITE, dw1);
    const dwCount = Math.ceil(payload.length / 4);
    for (let i = 0; i < dwCount; i++) {
      await this.setReg(DoeReg.WRITE, dwAt(payload, i));
      if ((i + 1) % STATUS_CHECK_EVERY_DW === 0 || i === dwCount - 1) {
        status = await this.reg(DoeReg.STATUS);
        if (status & DOE_STATUS_ERROR) {
          return this.failWithAbort(
            new DoeMailboxError(
              'TRANSPORT_ERROR',
              'device-error',
              'write',
              `${what}: device set Error after ${DOE_HEADER_DW + i + 1} of ${DOE_HEADER_DW + dwCount} DWs (object too large for its mailbox?)`,
              this.details(status, { dwWritten: DOE_HEADER_DW + i + 1, objectDw: DOE_HEADER_DW + dwCount }),
            ),
          );
        }
      }
    }
    await this.setReg(DoeReg.CTRL, DOE_CTRL_GO);

    // 4. Poll for Data Object Ready or Error.
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      status = await this.reg(DoeReg.STATUS);
      if (status & DOE_STATUS_ERROR) {
        return this.failWithAbort(
          new DoeMailboxError(
            'TRANSPORT_ERROR',
            'device-error',
            'wait',
            `${what}: device set the DOE Error bit`,
            this.details(status),
          ),
        );
      }
      if (status & DOE_STATUS_DATA_OBJECT_READY) break;
      if (this.clock.now() >= deadline) {
        return this.failWithAbort(
          new DoeMailboxError(
            'TIMEOUT',
            'timeout',
            'wait',
            `${what}: no Data Object Ready within ${timeoutMs} ms`,
            this.details(status, { timeoutMs }),
          ),
        );
      }
      await this.clock.sleep(Math.min(this.pollIntervalMs, Math.max(0, deadline - this.clock.now())));
    }

    // 5. Read the header, acknowledging each DW.
    const rdw0 = await this.reg(DoeReg.READ);
    await this.setReg(DoeReg.READ, 0);
    const rdw1 = await this.reg(DoeReg.READ);
    await this.setReg(DoeReg.READ, 0);
    let lengthDw: number;
    try {
      const h = decodeDoeHeader(rdw0, rdw1, 'DOE response object');
      if (h.vendorId !== vendorId || h.type !== type) {
        return this.failWithAbort(
          new DoeMailboxError(
            'TRANSPORT_ERROR',
            'header-mismatch',
            'read',
            `${what}: response is 0x${h.vendorId.toString(16)}:${h.type}`,
            this.details(undefined, { header: [rdw0 >>> 0, rdw1 >>> 0] }),
          ),
        );
      }
      lengthDw = h.lengthDw;
    } catch (e) {
      return this.failWithAbort(
        new DoeMailboxError(
          'TRANSPORT_ERROR',
          'header-mismatch',
          'read',
          `${what}: malformed response header: ${e instanceof Error ? e.message : String(e)}`,
          this.details(undefined, { header: [rdw0 >>> 0, rdw1 >>> 0] }),
          { cause: e },
        ),
      );
    }
    const payloadDw = lengthDw - DOE_HEADER_DW;

    // 7. Too large: drain it (read and acknowledge without keeping anything), then reject.
    if (lengthDw > maxResponseDw) {
      for (let i = 0; i < payloadDw; i++) {
        if (i % STATUS_CHECK_EVERY_DW === 0) {
          status = await this.reg(DoeReg.STATUS);
          if (!(status & DOE_STATUS_DATA_OBJECT_READY)) break; // nothing left to drain: the abort below tidies up
        }
        await this.reg(DoeReg.READ);
        await this.setReg(DoeReg.READ, 0);
      }
      status = await this.reg(DoeReg.STATUS);
      const err = new DoeMailboxError(
        'TRANSPORT_ERROR',
        'response-too-large',
        'read',
        `${what}: response of ${lengthDw} DW exceeds the ${maxResponseDw}-DW maximum (drained and discarded)`,
        this.details(status, { lengthDw, maxResponseDw }),
      );
      if (status & (DOE_STATUS_ERROR | DOE_STATUS_DATA_OBJECT_READY | DOE_STATUS_BUSY)) return this.failWithAbort(err);
      this.stats.failures++;
      throw err;
    }

    const out = new Uint8Array(payloadDw * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < payloadDw; i++) {
      const last = i === payloadDw - 1;
      view.setUint32(i * 4, await this.reg(DoeReg.READ), true);
      // Ready must hold until the final acknowledge (Linux checks before the last one); we also look every 64 DWs.
      if (last || (i + 1) % STATUS_CHECK_EVERY_DW === 0) {
        status = await this.reg(DoeReg.STATUS);
        if (!(status & DOE_STATUS_DATA_OBJECT_READY) || status & DOE_STATUS_ERROR) {
          return this.failWithAbort(
            new DoeMailboxError(
              'TRANSPORT_ERROR',
              status & DOE_STATUS_ERROR ? 'device-error' : 'not-ready',
              'read',
              `${what}: Data Object Ready dropped after ${DOE_HEADER_DW + i + 1} of ${lengthDw} DWs (device reset?)`,
              this.details(status, { dwRead: DOE_HEADER_DW + i + 1, lengthDw }),
            ),
          );
        }
      }
      await this.setReg(DoeReg.READ, 0);
    }

    // 6. Final Error check.
    status = await this.reg(DoeReg.STATUS);
    if (status & DOE_STATUS_ERROR) {
      return this.failWithAbort(
        new DoeMailboxError(
          'TRANSPORT_ERROR',
          'device-error',
          'final-check',
          `${what}: device set Error after the response was read`,
          this.details(status),
        ),
      );
    }
    // One request, one response: Ready still set means the object went on past its Length field.
    // Left there, the rest would be read as the start of the next response.
    if (status & DOE_STATUS_DATA_OBJECT_READY) {
      return this.failWithAbort(
        new DoeMailboxError(
          'TRANSPORT_ERROR',
          'longer-than-announced',
          'final-check',
          `${what}: Data Object Ready still set after the ${lengthDw} DW the header announced: the object is longer than its Length field`,
          this.details(status, { lengthDw }),
        ),
      );
    }
    return out;
  }
}

function dwAt(bytes: Uint8Array, i: number): number {
  const o = i * 4;
  return (
    ((bytes[o] ?? 0) | ((bytes[o + 1] ?? 0) << 8) | ((bytes[o + 2] ?? 0) << 16) | ((bytes[o + 3] ?? 0) << 24)) >>> 0
  );
}

/**
 * A wait longer than a timer can hold (LIMITS.maxTimerMs) is refused: the requester passes T2
 * here, 2^CTExponent µs from the device, and an unbounded one (CTExponent 255: 5.8e73 ms) would
 * make the Data Object Ready poll a loop without a reachable deadline.
 */
function bounded(v: number, name: string): number {
  if (v > LIMITS.maxTimerMs)
    throw new LimitError(
      'maxTimerMs',
      v,
      LIMITS.maxTimerMs,
      `DOE mailbox ${name}`,
      `DOE mailbox ${name} of ${v} ms exceeds the ${LIMITS.maxTimerMs}-ms bound on any wait`,
    );
  return v;
}

function positive(v: number, name: string): number {
  if (!(Number.isFinite(v) && v > 0)) throw new TypeError(`${name} must be a positive number of ms, got ${v}`);
  return bounded(v, name);
}

function nonNegative(v: number, name: string): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new TypeError(`${name} must be a non-negative number of ms, got ${v}`);
  return bounded(v, name);
}

function checkMaxDw(v: number): number {
  if (!Number.isInteger(v) || v < DOE_HEADER_DW || v > DOE_MAX_OBJECT_DW) {
    throw new TypeError(`maxResponseDw must be an integer in ${DOE_HEADER_DW}..${DOE_MAX_OBJECT_DW}, got ${v}`);
  }
  return v;
}
