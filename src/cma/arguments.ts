/**
 * What an API caller may pass to the service: anything else is the caller's mistake, a
 * `TypeError` naming the argument, thrown before any state is touched.
 */
import type { ResetKind } from '../platform/platform.js';
import { NONCE_SIZE } from '../spdm/messages/challenge.js';

export const RESET_KINDS: readonly ResetKind[] = ['flr', 'secondary-bus', 'resume', 'notified'];
const TSM_NAME = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_TEXT = 1024;

export function checkOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
}

export function checkSlot(slot: unknown): number {
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot > 7)
    throw new TypeError(`slot must be an integer 0..7, got ${String(slot)}`);
  return slot;
}

export function checkText(v: unknown, name: string, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT)
    throw new TypeError(`${name} must be a non-empty string of at most ${MAX_TEXT} characters`);
  return v;
}

export function checkResetKind(kind: ResetKind): ResetKind {
  if (!RESET_KINDS.includes(kind)) throw new TypeError(`kind must be one of ${RESET_KINDS.join(', ')}`);
  return kind;
}

export function checkTsmName(tsm: unknown): string {
  if (typeof tsm !== 'string' || !TSM_NAME.test(tsm))
    throw new TypeError(`tsm must be a TSM name ([A-Za-z0-9._:-], 1..64 characters), got ${JSON.stringify(tsm)}`);
  return tsm;
}

export function checkNonce(nonce: unknown): void {
  if (nonce !== undefined && (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_SIZE))
    throw new TypeError(`nonce must be ${NONCE_SIZE} bytes`);
}

/** Redfish MeasurementIndices: [255] for all, or distinct indices 1..254. */
export function checkIndices(indices: unknown): readonly number[] {
  if (
    !Array.isArray(indices) ||
    indices.length === 0 ||
    indices.some((i) => !Number.isInteger(i) || (i as number) < 1 || (i as number) > 255) ||
    (indices.includes(255) && indices.length > 1) ||
    new Set(indices).size !== indices.length
  )
    throw new TypeError('indices must be [255] (all) or a list of distinct measurement indices 1..254');
  return indices as number[];
}
