import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpdmError } from '../../src/wire/errors.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { rig } from './helpers.js';

let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

test('PostgreSQL store: state, records and event ids survive a restart; one service per database', async () => {
  const url = await server!.createDatabase('cma');
  const r = rig();
  try {
    await r.platform.add('0000:01:00.0', 'genuine', 0x1001);
    await r.platform.add('0000:02:00.0', 'counterfeit', 0x1002);
    let cma = await r.start({ store: url, log: url });
    await cma.idle();
    await cma.accept('0000:01:00.0');
    await cma.reject('0000:02:00.0', { operator: 'bob' });
    await assert.rejects(
      r.start({ store: url, log: url }),
      (e: unknown) => e instanceof SpdmError && e.code === 'STORAGE_ERROR' && /another CMA service/.test(e.message),
    );
    const lastId = r.events.at(-1)!.id;
    const sigs = (await cma.signatures('0000:01:00.0')).length;
    assert.equal(sigs, 2, 'CHALLENGE_AUTH and MEASUREMENTS, read back from the store');
    await cma.close();

    const seen = r.events.length;
    cma = await r.start({ store: url, log: url });
    assert.equal((await cma.signatures('0000:01:00.0')).length, sigs);
    assert.equal(cma.device('0000:02:00.0').acceptance.state, 'rejected');
    await cma.idle();
    const d = cma.device('0000:01:00.0');
    assert.equal(d.acceptance.state === 'accepted' && d.acceptance.by, 'same-device');
    assert.equal(r.events[seen]!.id, lastId + 1);
    assert.deepEqual(
      (await cma.decisions('0000:01:00.0')).map((x) => x.action),
      ['accept'],
    );
    assert.ok((await cma.treeHead()).treeSize >= 6);
  } finally {
    await r.cleanup();
  }
});
