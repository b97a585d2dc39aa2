/**
 * The CMA store on SQLite (better-sqlite3): one file in the data directory, WAL journal and
 * synchronous=FULL, so a batch is on disk when commit() returns and a SIGKILL loses nothing that
 * was committed.
 */
import Database from 'better-sqlite3';
import { storageError } from '../../log/store/errors.js';
import type { CmaEvent, DeviceSignature } from '../api.js';
import {
  acceptanceOf,
  byLogIndex,
  decisionOf,
  deviceOf,
  eventOf,
  DEVICE_SIGNATURES_SQL,
  schemaSql,
  signatureOf,
  type Row,
} from './rows.js';
import type { CmaStore, CommitBatch, LoadedState, StoredDecision } from './store.js';

function defined<T>(v: T | undefined): v is T {
  return v !== undefined;
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
      for (const sql of schemaSql('sqlite')) this.db.exec(sql);
    } catch (e) {
      this.db.close();
      throw storageError(e, { backend: 'sqlite', description, action: 'open' });
    }
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    return this.db.prepare(sql).all(...params) as Row[];
  }

  async load(options: { recentEvents: number }): Promise<LoadedState> {
    try {
      const last = this.db.prepare('SELECT MAX(id) AS id FROM cma_events').get() as { id: number | null };
      return {
        devices: this.all('SELECT bdf, state FROM cma_devices ORDER BY bdf').map(deviceOf).filter(defined),
        acceptances: this.all('SELECT * FROM cma_acceptances ORDER BY bdf').map(acceptanceOf).filter(defined),
        lastEventId: last.id ?? 0,
        recentEvents: this.all(
          'SELECT * FROM (SELECT * FROM cma_events ORDER BY id DESC LIMIT ?) ORDER BY id',
          options.recentEvents,
        )
          .map(eventOf)
          .filter(defined),
      };
    } catch (e) {
      throw storageError(e, { backend: 'sqlite', description: this.description, action: 'read' });
    }
  }

  /** The commit's statements, prepared once: preparing them for every group commit cost as much as running them. */
  private statements?: {
    readonly device: Database.Statement;
    readonly removeAcceptance: Database.Statement;
    readonly acceptance: Database.Statement;
    readonly decision: Database.Statement;
    readonly event: Database.Statement;
  };

  private prepared(): NonNullable<SqliteCmaStore['statements']> {
    const db = this.db;
    return (this.statements ??= {
      device: db.prepare(
        'INSERT INTO cma_devices (bdf, state) VALUES (?, ?) ON CONFLICT(bdf) DO UPDATE SET state = excluded.state',
      ),
      removeAcceptance: db.prepare('DELETE FROM cma_acceptances WHERE bdf = ?'),
      acceptance: db.prepare(
        'INSERT INTO cma_acceptances (bdf, record, by, at, operator, note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(bdf) DO UPDATE SET record = excluded.record, by = excluded.by, at = excluded.at, operator = excluded.operator, note = excluded.note',
      ),
      decision: db.prepare(
        'INSERT INTO cma_decisions (bdf, at, action, operator, reason, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      event: db.prepare('INSERT INTO cma_events (id, at, type, bdf, body) VALUES (?, ?, ?, ?, ?)'),
    });
  }

  async commit(batch: CommitBatch): Promise<void> {
    const db = this.db;
    const run = db.transaction(() => {
      const st = this.prepared();
      for (const d of batch.devices ?? []) st.device.run(d.bdf, JSON.stringify(d));
      for (const a of batch.acceptances ?? []) {
        if ('remove' in a) {
          st.removeAcceptance.run(a.bdf);
          continue;
        }
        st.acceptance.run(a.bdf, JSON.stringify(a.record), a.by, a.at, a.operator ?? null, a.note ?? null);
      }
      for (const d of batch.decisions ?? [])
        st.decision.run(
          d.bdf,
          d.at,
          d.action,
          d.operator ?? null,
          d.reason ?? null,
          d.detail === undefined ? null : JSON.stringify(d.detail),
        );
      for (const e of batch.events ?? []) {
        const { id, at, ...body } = e;
        st.event.run(id, at, e.type, 'bdf' in e ? e.bdf : null, JSON.stringify(body));
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
      return this.all('SELECT * FROM cma_events WHERE id > ? ORDER BY id LIMIT ?', afterId, limit)
        .map(eventOf)
        .filter(defined);
    } catch (e) {
      throw storageError(e, { backend: 'sqlite', description: this.description, action: 'read' });
    }
  }

  async signatures(bdf: string, limit: number): Promise<DeviceSignature[]> {
    try {
      return byLogIndex(this.all(DEVICE_SIGNATURES_SQL('?', '?'), bdf, limit).map(signatureOf).filter(defined));
    } catch (e) {
      throw storageError(e, { backend: 'sqlite', description: this.description, action: 'read' });
    }
  }

  async decisions(bdf: string): Promise<StoredDecision[]> {
    try {
      return this.all('SELECT * FROM cma_decisions WHERE bdf = ? ORDER BY id', bdf).map(decisionOf);
    } catch (e) {
      throw storageError(e, { backend: 'sqlite', description: this.description, action: 'read' });
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
