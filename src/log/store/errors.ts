/**
 * Database and file-system failures of a signature log as typed errors. Whatever better-sqlite3,
 * pg or node:fs throws while a log is opened, read or written reaches the caller as an SpdmError:
 *
 *   STORAGE_FULL   the disk, a file-size limit or a quota is full — free space and try again;
 *   STORAGE_ERROR  anything else the database, the file or the connection did: I/O error, lost
 *                  connection, lock wait timed out, unreadable file.
 *
 * `details` holds `backend`, `cause` (the driver's own code: SQLITE_FULL, 53100, ENOSPC, 57P01,
 * …), `connectionLost` for PostgreSQL, and for a failed write `outcome`:
 *
 *   'rolled-back'  nothing of the write was committed: the append is not in the log;
 *   'unknown'      the failure hit the commit itself (the connection died before the server
 *                  answered, or SQLite could not sync the commit), so the append may be in the
 *                  log; it is then complete and verifies, but its position was never returned.
 *
 * An SpdmError thrown inside a transaction (the log's own checks) passes through unchanged.
 */
import { isSpdmError, SpdmError } from '../../wire/errors.js';

export type WriteOutcome = 'rolled-back' | 'unknown';

/** node:fs and SQLite codes that mean "no room": the disk, RLIMIT_FSIZE, a quota. */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'SQLITE_FULL', '53100']);

/** SQLSTATE classes and socket codes that mean the PostgreSQL connection is gone. */
function isConnectionLoss(code: string, message: string): boolean {
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  if (['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) return true;
  // pg reports a socket closed under it without a code.
  return /connection terminated|not queryable|connection (was )?closed|ended the connection|timeout expired|query read timeout/i.test(
    message,
  );
}

function causeCode(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
}

function causeMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function isStorageFull(e: unknown): boolean {
  return FULL_CODES.has(causeCode(e));
}

export function isConnectionLost(e: unknown): boolean {
  if (e instanceof SpdmError) return e.details['connectionLost'] === true;
  return isConnectionLoss(causeCode(e), causeMessage(e));
}

export interface StorageErrorContext {
  readonly backend: 'sqlite' | 'postgres';
  /** The log (path or URL without password). */
  readonly description: string;
  /** What was being done: "append", "open", "read", … */
  readonly action: string;
  /** For writes: whether the failure could have happened after the commit took effect. */
  readonly outcome?: WriteOutcome;
  /** What the user can do about it, appended to the message. */
  readonly hint?: string;
}

/** `e` as an SpdmError; one that already is passes through. */
export function storageError(e: unknown, ctx: StorageErrorContext): SpdmError {
  if (isSpdmError(e)) return e;
  const cause = causeCode(e);
  const message = causeMessage(e);
  const full = FULL_CODES.has(cause);
  const connectionLost = ctx.backend === 'postgres' && isConnectionLoss(cause, message);
  const details: Record<string, unknown> = { backend: ctx.backend, cause: cause || undefined, action: ctx.action };
  if (connectionLost) details['connectionLost'] = true;
  if (ctx.outcome) details['outcome'] = ctx.outcome;
  const what = full ? 'out of space' : connectionLost ? 'connection lost' : 'storage failure';
  const fate =
    ctx.outcome === 'unknown'
      ? '; the commit may or may not have taken effect'
      : ctx.outcome === 'rolled-back'
        ? '; nothing was written'
        : '';
  return new SpdmError(
    full ? 'STORAGE_FULL' : 'STORAGE_ERROR',
    `${ctx.description}: ${ctx.action} failed, ${what} (${cause ? `${cause}: ` : ''}${message})${fate}${ctx.hint ? `; ${ctx.hint}` : ''}`,
    details,
    { cause: e },
  );
}
