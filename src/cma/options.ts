/** What createCma needs and the defaults it takes; bad values are the caller's mistake (TypeError). */
import type { RandomSource } from '../crypto/random.js';
import type { SignatureLog } from '../log/log.js';
import type { DoeMailboxOptions } from '../pci/doe-mailbox.js';
import type { Platform } from '../platform/platform.js';
import type { RequesterOptions } from '../requester/options.js';
import type { AuthenticateOptions } from '../requester/requester.js';
import type { Clock } from '../transport/clock.js';
import type { DenyList } from '../verifier/deny-list.js';
import type { Policy } from '../verifier/policy.js';
import type { TrustSource } from '../verifier/trust-store.js';

export interface RetryOptions {
  /** Further attempts after a transient failure (TIMEOUT, BUSY, NOT_READY, TRANSPORT_ERROR); default 3. */
  readonly attempts?: number;
  /** First backoff (ms, default 200); it doubles each attempt. */
  readonly baseMs?: number;
  /** Longest backoff (ms, default 5000). */
  readonly maxMs?: number;
}

export interface CmaOptions {
  readonly platform: Platform;
  /** Root certificates (and a deny-list) the verifier holds chains against; read at every verification, so a reloading TrustStore takes effect. */
  readonly trust: TrustSource;
  /** Replaces the trust source's deny-list when given. */
  readonly deny?: DenyList;
  /** Verifier policy (default: the verifier's default policy). */
  readonly policy?: Policy;
  /** Where the CMA store (cma.sqlite) lives, and the signature log unless `log` says otherwise. */
  readonly dataDir: string;
  /**
   * Keep the CMA state in PostgreSQL instead (a postgres:// URL; one service per database, the
   * signature log may share it). Default: SQLite in `dataDir`.
   */
  readonly store?: string;
  /**
   * The signature log: an open SignatureLog (the caller closes it), or a target openLog takes (a
   * SQLite path or postgres:// URL; opened and closed by the service). Default
   * `<dataDir>/signatures.sqlite` with its key beside it; a PostgreSQL log's key is kept under
   * `<dataDir>/spdmkit/`.
   */
  readonly log?: SignatureLog | string;
  /**
   * Do the SQLite writes — the CMA store's commits and, for a log the service opens itself, the
   * signature log's appends — in durable-write threads (durable-thread.ts) rather than on the
   * event loop, where their disk flushes held up every device and API call (default true; a
   * PostgreSQL store or log writes over the network and is not affected).
   */
  readonly writeThreads?: boolean;
  /** How many functions may be in an attempt at once (default 4). */
  readonly concurrency?: number;
  /** Accept devices the verifier finds trusted without an operator (by 'auto'); default false. */
  readonly autoAccept?: boolean;
  /**
   * Hold back driver binding of refused functions and release it on accept (driver-hold.ts has
   * the rule; the platform must have holdDriver). Default false: drivers are not touched.
   */
  readonly holdDrivers?: boolean;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly retry?: RetryOptions;
  /** How long connectTsm, a reset and close() let an exchange in flight finish before aborting it (ms, default 2000). */
  readonly abortGraceMs?: number;
  /** Requester settings (clock, randomness, PCI identity and name are the service's). */
  readonly requester?: Omit<RequesterOptions, 'clock' | 'random' | 'pci' | 'deviceName'>;
  /** Per-flow settings of Requester.authenticate (nonce and slot are the service's; requireChallenge defaults to true, as PCIe CMA requires). */
  readonly authenticate?: Omit<AuthenticateOptions, 'nonce' | 'slot'>;
  /** DOE mailbox settings (timeouts, polling). */
  readonly doe?: Omit<DoeMailboxOptions, 'clock'>;
  /** Events kept in memory for eventsSince (default 10000; older ones are read from the store). */
  readonly recentEvents?: number;
  /** Signatures per device kept for signatures() and DeviceView.signatureEntries (default 256, the newest; the log keeps all). */
  readonly signaturesPerDevice?: number;
  /** Told about failures no caller awaits (a background authentication whose state could not be stored). */
  readonly onError?: (error: unknown) => void;
}

export function positiveInt(v: number | undefined, fallback: number, name: string): number {
  const n = v ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`${name} must be a positive integer, got ${String(v)}`);
  return n;
}

export function nonNegativeNumber(v: number | undefined, fallback: number, name: string): number {
  const n = v ?? fallback;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    throw new TypeError(`${name} must be a non-negative number, got ${String(v)}`);
  return n;
}
