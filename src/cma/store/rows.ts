/**
 * Rows back into the shapes of store.ts, for every backend: JSON columns are parsed defensively
 * (a row that does not read back is skipped, never trusted) and the SQL both backends share.
 */
import type { CmaEvent, DeviceSignature } from '../api.js';
import type { StoredAcceptance, StoredDecision, StoredDevice } from './store.js';

export function parseJson<T>(text: unknown): T | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type Row = Record<string, unknown>;

export function deviceOf(r: Row): StoredDevice | undefined {
  const s = parseJson<unknown>(r['state']);
  return isObj(s) ? { ...s, bdf: String(r['bdf']) } : undefined;
}

export function acceptanceOf(r: Row): StoredAcceptance | undefined {
  const record = parseJson<StoredAcceptance['record']>(r['record']);
  if (!isObj(record)) return undefined;
  return {
    bdf: String(r['bdf']),
    record,
    by: String(r['by']) as StoredAcceptance['by'],
    at: String(r['at']),
    ...(typeof r['operator'] === 'string' ? { operator: r['operator'] } : {}),
    ...(typeof r['note'] === 'string' ? { note: r['note'] } : {}),
  };
}

/** The signature a `signature` event row announces (the one copy of it the store keeps). */
export function signatureOf(r: Row): DeviceSignature | undefined {
  const body = parseJson<unknown>(r['body']);
  const s = isObj(body) ? body['signature'] : undefined;
  return isObj(s) && typeof s['logIndex'] === 'number' ? (s as unknown as DeviceSignature) : undefined;
}

/** Signatures read back, oldest first by their index in the signature log. */
export function byLogIndex(sigs: DeviceSignature[]): DeviceSignature[] {
  return sigs.sort((a, b) => a.logIndex - b.logIndex);
}

export function eventOf(r: Row): CmaEvent | undefined {
  const body = parseJson<unknown>(r['body']);
  if (!isObj(body) || typeof r['id'] !== 'number' || typeof body['type'] !== 'string') return undefined;
  return { ...body, id: r['id'], at: String(r['at']) } as unknown as CmaEvent;
}

export function decisionOf(r: Row): StoredDecision {
  return {
    bdf: String(r['bdf']),
    at: String(r['at']),
    action: String(r['action']) as StoredDecision['action'],
    ...(typeof r['operator'] === 'string' ? { operator: r['operator'] } : {}),
    ...(typeof r['reason'] === 'string' ? { reason: r['reason'] } : {}),
    ...(typeof r['detail'] === 'string' ? { detail: parseJson<unknown>(r['detail']) } : {}),
  };
}

/**
 * The newest signature events of one device (bdf, then how many), newest first; the partial index
 * on signature events serves it. A signature is stored once, in the event that announces it
 * (earlier versions also wrote it to a cma_signatures table, always with its event, so the events
 * hold every signature either way).
 */
export const DEVICE_SIGNATURES_SQL = (bdf: string, limit: string) =>
  `SELECT body FROM cma_events WHERE bdf = ${bdf} AND type = 'signature' ORDER BY id DESC LIMIT ${limit}`;

/** Tables of both backends; `serial` is how each spells an auto-increment key. */
export function schemaSql(backend: 'sqlite' | 'postgres'): string[] {
  const serial = backend === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
  const int = backend === 'sqlite' ? 'INTEGER' : 'BIGINT';
  return [
    `CREATE TABLE IF NOT EXISTS cma_devices (bdf TEXT PRIMARY KEY, state TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS cma_acceptances (bdf TEXT PRIMARY KEY, record TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL, operator TEXT, note TEXT)`,
    `CREATE TABLE IF NOT EXISTS cma_decisions (id ${serial}, bdf TEXT NOT NULL, at TEXT NOT NULL, action TEXT NOT NULL, operator TEXT, reason TEXT, detail TEXT)`,
    `CREATE TABLE IF NOT EXISTS cma_events (id ${int} PRIMARY KEY, at TEXT NOT NULL, type TEXT NOT NULL, bdf TEXT, body TEXT NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS cma_events_signatures ON cma_events (bdf, id) WHERE type = 'signature'`,
  ];
}
