/**
 * The CMA store on PostgreSQL (pg): the same tables as the SQLite file (prefixed `cma_`, so the
 * signature log may share the database). One CMA service per database: the store holds a
 * session advisory lock for as long as it is open and refuses to open while another holds it,
 * since two services would each number events from their own counter. A batch is one
 * transaction; a lost connection fails what was in flight with a typed STORAGE_ERROR, and the
 * next operation connects (and takes the lock) again.
 */
import pg from 'pg';
import { storageError, type WriteOutcome } from '../../log/store/errors.js';
import { describePostgresUrl } from '../../log/store/postgres.js';
import { Mutex } from '../../log/store/store.js';
import { LIMITS } from '../../wire/limits.js';
import { SpdmError } from '../../wire/errors.js';
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

/** Advisory lock key of the CMA state ("spdm-cma" in ASCII, as a bigint). */
const CMA_LOCK_KEY = '8318258931829009761';
/** BIGINT comes back from pg as a string; ids are read as float8 (exact below 2^53). */
const EVENT_COLUMNS = 'id::float8 AS id, at, type, bdf, body';

function defined<T>(v: T | undefined): v is T {
  return v !== undefined;
}

export class PostgresCmaStore implements CmaStore {
  readonly backend = 'postgres' as const;
  readonly description: string;
  private client: pg.Client | undefined;
  private readonly mutex = new Mutex();
  private closed = false;

  private constructor(private readonly url: string) {
    this.description = describePostgresUrl(url);
  }

  static async connect(url: string): Promise<PostgresCmaStore> {
    const s = new PostgresCmaStore(url);
    await s.connection();
    return s;
  }

  private fail(e: unknown, action: string, outcome?: WriteOutcome): SpdmError {
    return storageError(e, {
      backend: 'postgres',
      description: this.description,
      action,
      ...(outcome ? { outcome } : {}),
    });
  }

  /** The open connection, or a new one holding the lock and the schema. */
  private async connection(): Promise<pg.Client> {
    if (this.closed) throw new SpdmError('STORAGE_ERROR', `${this.description}: the CMA store is closed`);
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: LIMITS.logConnectTimeoutMs,
      query_timeout: LIMITS.logBusyTimeoutMs,
      keepAlive: true,
    });
    const lost = () => {
      if (this.client === client) this.client = undefined;
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      const got = await client.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [CMA_LOCK_KEY]);
      if ((got.rows[0] as Row | undefined)?.['ok'] !== true)
        throw new SpdmError(
          'STORAGE_ERROR',
          `${this.description}: another CMA service holds this database (one service per database)`,
          { backend: 'postgres' },
        );
      for (const sql of schemaSql('postgres')) await client.query(sql);
    } catch (e) {
      await client.end().catch(() => undefined);
      throw this.fail(e, 'connect');
    }
    this.client = client;
    return client;
  }

  private async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    const c = await this.connection();
    return (await c.query(sql, params)).rows as Row[];
  }

  async load(options: { recentEvents: number }): Promise<LoadedState> {
    return this.mutex.run(async () => {
      try {
        const last = (await this.all('SELECT MAX(id)::float8 AS id FROM cma_events'))[0]?.['id'];
        return {
          devices: (await this.all('SELECT bdf, state FROM cma_devices ORDER BY bdf')).map(deviceOf).filter(defined),
          acceptances: (await this.all('SELECT * FROM cma_acceptances ORDER BY bdf')).map(acceptanceOf).filter(defined),
          lastEventId: typeof last === 'number' ? last : 0,
          recentEvents: (
            await this.all(
              `SELECT ${EVENT_COLUMNS} FROM (SELECT * FROM cma_events ORDER BY id DESC LIMIT $1) AS e ORDER BY id`,
              [options.recentEvents],
            )
          )
            .map(eventOf)
            .filter(defined),
        };
      } catch (e) {
        throw this.fail(e, 'read');
      }
    });
  }

  async commit(batch: CommitBatch): Promise<void> {
    await this.mutex.run(async () => {
      let c: pg.Client;
      try {
        c = await this.connection();
        await c.query('BEGIN');
      } catch (e) {
        throw this.fail(e, 'write', 'rolled-back');
      }
      try {
        for (const d of batch.devices ?? [])
          await c.query(
            'INSERT INTO cma_devices (bdf, state) VALUES ($1, $2) ON CONFLICT (bdf) DO UPDATE SET state = excluded.state',
            [d.bdf, JSON.stringify(d)],
          );
        for (const a of batch.acceptances ?? []) {
          if ('remove' in a) await c.query('DELETE FROM cma_acceptances WHERE bdf = $1', [a.bdf]);
          else
            await c.query(
              'INSERT INTO cma_acceptances (bdf, record, by, at, operator, note) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (bdf) DO UPDATE SET record = excluded.record, by = excluded.by, at = excluded.at, operator = excluded.operator, note = excluded.note',
              [a.bdf, JSON.stringify(a.record), a.by, a.at, a.operator ?? null, a.note ?? null],
            );
        }
        for (const d of batch.decisions ?? [])
          await c.query(
            'INSERT INTO cma_decisions (bdf, at, action, operator, reason, detail) VALUES ($1, $2, $3, $4, $5, $6)',
            [
              d.bdf,
              d.at,
              d.action,
              d.operator ?? null,
              d.reason ?? null,
              d.detail === undefined ? null : JSON.stringify(d.detail),
            ],
          );
        for (const e of batch.events ?? []) {
          const { id, at, ...body } = e;
          await c.query('INSERT INTO cma_events (id, at, type, bdf, body) VALUES ($1, $2, $3, $4, $5)', [
            id,
            at,
            e.type,
            'bdf' in e ? e.bdf : null,
            JSON.stringify(body),
          ]);
        }
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw this.fail(e, 'write', 'rolled-back');
      }
      try {
        await c.query('COMMIT');
      } catch (e) {
        // No answer to COMMIT: it may have happened.
        throw this.fail(e, 'commit', 'unknown');
      }
    });
  }

  async eventsSince(afterId: number, limit: number): Promise<CmaEvent[]> {
    return this.mutex.run(async () => {
      try {
        return (
          await this.all(`SELECT ${EVENT_COLUMNS} FROM cma_events WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit])
        )
          .map(eventOf)
          .filter(defined);
      } catch (e) {
        throw this.fail(e, 'read');
      }
    });
  }

  async signatures(bdf: string, limit: number): Promise<DeviceSignature[]> {
    return this.mutex.run(async () => {
      try {
        return byLogIndex(
          (await this.all(DEVICE_SIGNATURES_SQL('$1', '$2'), [bdf, limit])).map(signatureOf).filter(defined),
        );
      } catch (e) {
        throw this.fail(e, 'read');
      }
    });
  }

  async decisions(bdf: string): Promise<StoredDecision[]> {
    return this.mutex.run(async () => {
      try {
        return (await this.all('SELECT * FROM cma_decisions WHERE bdf = $1 ORDER BY id', [bdf])).map(decisionOf);
      } catch (e) {
        throw this.fail(e, 'read');
      }
    });
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      this.closed = true;
      const c = this.client;
      this.client = undefined;
      // Ending the session releases the advisory lock.
      await c?.end().catch(() => undefined);
    });
  }
}
