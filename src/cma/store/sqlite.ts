/**
 * The CMA store on SQLite (better-sqlite3): one file in the data directory, WAL journal and
 * synchronous=FULL, so a batch is on disk when commit() returns and a SIGKILL loses nothing that
 * was committed. JSON columns hold the shapes of api.ts as they are; the service reads them back
 * defensively (a row it cannot read is skipped, never trusted).
 */
import Database from 'better-sqlite3';
import { storageError } from '../../log/store/errors.js';
import type { CmaEvent, DeviceSignature } from '../api.js';
import type { CmaStore, CommitBatch, LoadedState, StoredAcceptance, StoredDecision, StoredDevice } from './store.js';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS devices (bdf TEXT PRIMARY KEY, state TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS acceptances (bdf TEXT PRIMARY KEY, record TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL, operator TEXT, note TEXT)`,
  `CREATE TABLE IF NOT EXISTS decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, bdf TEXT NOT NULL, at TEXT NOT NULL, action TEXT NOT NULL, operator TEXT, reason TEXT, detail TEXT)`,
  `CREATE TABLE IF NOT EXISTS signatures (log_index INTEGER PRIMARY KEY, bdf TEXT NOT NULL, body TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS signatures_bdf ON signatures (bdf, log_index)`,
  `CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at TEXT NOT NULL, type TEXT NOT NULL, bdf TEXT, body TEXT NOT NULL)`,
];

function parse<T>(text: unknown): T | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function eventOf(row: Record<string, unknown>): CmaEvent | undefined {
  const body = parse<unknown>(row['body']);
  if (!isObj(body) || typeof row['id'] !== 'number' || typeof body['type'] !== 'string') return undefined;
  return { ...body, id: row['id'], at: String(row['at']) } as unknown as CmaEvent;
}

export class SqliteCmaStore implements CmaStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(readonly description: string) {
    try {
      this.db = new Database(description);
    } catch (e) {
      throw storageError(e, { backend: 'sqlite', description, action: 'open' });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      for (const sql of SCHEMA) this.db.exec(sql);
    } catch (e) {
      this.db.close();
      throw storageError(e, { backend: 'sqlite', description, action: 'open' });
    }
  }

  async load(options: { recentEvents: number; signaturesPerDevice: number }): Promise<LoadedState> {
    try {
      const devices: StoredDevice[] = [];
      for (const r of this.db.prepare('SELECT bdf, state FROM devices ORDER BY bdf').all() as Record<
        string,
        unknown
      >[]) {
        const s = parse<unknown>(r['state']);
        if (isObj(s)) devices.push({ ...s, bdf: String(r['bdf']) });
      }
      const acceptances: StoredAcceptance[] = [];
      for (const r of this.db.prepare('SELECT * FROM acceptances ORDER BY bdf').all() as Record<string, unknown>[]) {
        const record = parse<StoredAcceptance['record']>(r['record']);
        if (!record) continue;
        acceptances.push({
          bdf: String(r['bdf']),
          record,
          by: String(r['by']) as StoredAcceptance['by'],
          at: String(r['at']),
          ...(typeof r['operator'] === 'string' ? { operator: r['operator'] } : {}),
          ...(typeof r['note'] === 'string' ? { note: r['note'] } : {}),
        });
      }
      const signatures: DeviceSignature[] = [];
      const sigRows = this.db
        .prepare(
          `SELECT body FROM (SELECT body, log_index, ROW_NUMBER() OVER (PARTITION BY bdf ORDER BY log_index DESC) AS n FROM signatures) WHERE n <= ? ORDER BY log_index`,
        )
        .all(options.signaturesPerDevice) as Record<string, unknown>[];
      for (const r of sigRows) {
        const s = parse<DeviceSignature>(r['body']);
        if (isObj(s)) signatures.push(s);
      }
      const last = this.db.prepare('SELECT MAX(id) AS id FROM events').get() as { id: number | null };
      const recent = (
        this.db
          .prepare('SELECT * FROM (SELECT * FROM events ORDER BY id DESC LIMIT ?) ORDER BY id')
          .all(options.recentEvents) as Record<string, unknown>[]
      )
        .map(eventOf)
        .filter((e): e is CmaEvent => e !== undefined);
      return { devices, acceptances, signatures, lastEventId: last.id ?? 0, recentEvents: recent };
    } catch (e) {
      throw storageError(e, { backend: 'sqlite', description: this.description, action: 'read' });
    }
  }

  async commit(batch: CommitBatch): Promise<void> {
    const db = this.db;
    const run = db.transaction(() => {
      const dev = db.prepare(
        'INSERT INTO devices (bdf, state) VALUES (?, ?) ON CONFLICT(bdf) DO UPDATE SET state = excluded.state',
      );
      for (const d of batch.devices ?? []) dev.run(d.bdf, JSON.stringify(d));
      for (const a of batch.acceptances ?? []) {
        if ('remove' in a) {
          db.prepare('DELETE FROM acceptances WHERE bdf = ?').run(a.bdf);
          continue;
        }
        db.prepare(
          'INSERT INTO acceptances (bdf, record, by, at, operator, note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(bdf) DO UPDATE SET record = excluded.record, by = excluded.by, at = excluded.at, operator = excluded.operator, note = excluded.note',
        ).run(a.bdf, JSON.stringify(a.record), a.by, a.at, a.operator ?? null, a.note ?? null);
      }
      const dec = db.prepare(
        'INSERT INTO decisions (bdf, at, action, operator, reason, detail) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const d of batch.decisions ?? [])
        dec.run(
          d.bdf,
          d.at,
          d.action,
          d.operator ?? null,
          d.reason ?? null,
          d.detail === undefined ? null : JSON.stringify(d.detail),
        );
      const sig = db.prepare('INSERT OR REPLACE INTO signatures (log_index, bdf, body) VALUES (?, ?, ?)');
      for (const s of batch.signatures ?? []) sig.run(s.logIndex, s.bdf, JSON.stringify(s));
      const ev = db.prepare('INSERT INTO events (id, at, type, bdf, body) VALUES (?, ?, ?, ?, ?)');
      for (const e of batch.events ?? []) {
        const { id, at, ...body } = e;
        ev.run(id, at, e.type, 'bdf' in e ? e.bdf : null, JSON.stringify(body));
      }
    });
    try {
      run.immediate();
    } catch (e) {
      throw storageError(e, {
        backend: 'sqlite',
        description: this.description,
        action: 'write',
        outcome: 'rolled-back',
      });
    }
  }

  async eventsSince(afterId: number, limit: number): Promise<CmaEvent[]> {
    try {
      return (
        this.db.prepare('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as Record<
          string,
          unknown
        >[]
      )
        .map(eventOf)
        .filter((e): e is CmaEvent => e !== undefined);
    } catch (e) {
      throw storageError(e, { backend: 'sqlite', description: this.description, action: 'read' });
    }
  }

  async decisions(bdf: string): Promise<StoredDecision[]> {
    const rows = this.db.prepare('SELECT * FROM decisions WHERE bdf = ? ORDER BY id').all(bdf) as Record<
      string,
      unknown
    >[];
    return rows.map((r) => ({
      bdf: String(r['bdf']),
      at: String(r['at']),
      action: String(r['action']) as StoredDecision['action'],
      ...(typeof r['operator'] === 'string' ? { operator: r['operator'] } : {}),
      ...(typeof r['reason'] === 'string' ? { reason: r['reason'] } : {}),
      ...(typeof r['detail'] === 'string' ? { detail: parse<unknown>(r['detail']) } : {}),
    }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
