/**
 * How a failed authentication reads in the kernel's `authenticated` terms: `no` when the device
 * answered and its answer was wrong (a bad signature, a protocol fault, a broken chain), `unknown`
 * when nothing could be determined (timeouts and transport failures after the retries, a device
 * that went away or was handed to a TSM mid-flow). Transient codes are retried first.
 */
import { SpdmError, type SpdmErrorCode } from '../wire/errors.js';
import type { StateReason } from './api.js';

/** Worth another attempt after a backoff: the device or its mailbox may answer next time. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set<SpdmErrorCode>([
  'TIMEOUT',
  'BUSY',
  'NOT_READY',
  'TRANSPORT_ERROR',
]);

/** Says nothing about the device's honesty: authenticated stays `unknown`. */
const UNDETERMINED_CODES: ReadonlySet<string> = new Set<string>([
  ...TRANSIENT_CODES,
  'DEVICE_OWNED',
  'DEVICE_NOT_FOUND',
  'STORAGE_ERROR',
  'STORAGE_FULL',
  'LOG_CORRUPT',
  'LOG_KEY_MISSING',
  'LOG_CLOSED',
]);

/** The code of an SpdmError (instanceof alone leaves the generic parameter open). */
function codeOf(e: unknown): string | undefined {
  return e instanceof SpdmError ? (e as SpdmError).code : undefined;
}

export function isTransient(e: unknown): boolean {
  const code = codeOf(e);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

export function reasonOf(e: unknown): StateReason {
  const code = codeOf(e);
  if (code !== undefined) return { code, message: (e as Error).message };
  // A defect below us (a TypeError from a closed transport, say) is not the device's fault.
  return { code: 'INTERNAL_ERROR', message: e instanceof Error ? e.message : String(e) };
}

/** `no` (the device answered wrongly) or `unknown` (it could not be told). */
export function failureState(e: unknown): 'no' | 'unknown' {
  const code = codeOf(e);
  if (code === undefined) return 'unknown';
  return UNDETERMINED_CODES.has(code) ? 'unknown' : 'no';
}
