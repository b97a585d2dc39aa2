/**
 * What the CMA layer keeps across restarts, behind a small interface so that a PostgreSQL store
 * can stand beside the SQLite one: the last known state of every function, the acceptance record
 * each accepted device rests on, the history of decisions (accept, override, reject, drop), the
 * event stream, and in it the signatures each device gave (as the kernel's `signatures/` views).
 *
 * Writes are batches committed in one transaction, in the order they are given: a state change
 * and the events that announce it land together or not at all, so a crash never leaves an event
 * without its state or a state nobody was told about. Reads happen once, at open (the service
 * serves from memory), except for old events, which are paged from the store, and for a device's
 * signatures, which are read when asked for (transcripts are most of what a device gives, and
 * the service should not hold every device's on its heap).
 */
import type { AcceptanceRecord } from '../../verifier/acceptance.js';
import type { CmaDecision, CmaEvent, DeviceSignature } from '../api.js';

/** A device's state as stored: the DeviceView fields that survive a restart (JSON). */
export type StoredDevice = { readonly bdf: string } & Readonly<Record<string, unknown>>;

/** The acceptance record a device's `accepted` state rests on. */
export interface StoredAcceptance {
  readonly bdf: string;
  readonly record: AcceptanceRecord;
  readonly by: 'verdict' | 'auto' | 'same-device' | 'operator';
  readonly at: string;
  readonly operator?: string;
  readonly note?: string;
}

/** One entry of the decision history: who decided what about which device, and why. */
export type StoredDecision = CmaDecision;

export interface CommitBatch {
  readonly devices?: readonly StoredDevice[];
  /** Acceptance records to write (`record`) or delete (`{ bdf, remove: true }`). */
  readonly acceptances?: readonly (StoredAcceptance | { readonly bdf: string; readonly remove: true })[];
  readonly decisions?: readonly StoredDecision[];
  /** Events with their ids already assigned (rising by one from the store's last id). */
  readonly events?: readonly CmaEvent[];
}

export interface LoadedState {
  readonly devices: readonly StoredDevice[];
  readonly acceptances: readonly StoredAcceptance[];
  /** The highest event id committed (0 when there is none). */
  readonly lastEventId: number;
  /** The newest events, oldest first. */
  readonly recentEvents: readonly CmaEvent[];
}

export interface CmaStore {
  readonly backend: 'sqlite' | 'postgres';
  readonly description: string;
  load(options: { readonly recentEvents: number }): Promise<LoadedState>;
  commit(batch: CommitBatch): Promise<void>;
  /** Events with id > afterId, oldest first, at most `limit`. */
  eventsSince(afterId: number, limit: number): Promise<CmaEvent[]>;
  decisions(bdf: string): Promise<StoredDecision[]>;
  /** The newest `limit` signatures of a function, oldest first. */
  signatures(bdf: string, limit: number): Promise<DeviceSignature[]>;
  close(): Promise<void>;
}
