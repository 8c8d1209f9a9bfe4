/**
 * A PostgreSQL store outlives its connections: when the server closes them (a restart, an
 * administrator's pg_terminate_backend, a dropped link) the process keeps running and the next
 * query connects again. Before, an idle pooled connection's 'error' event had no listener and
 * killed the process (server, worker or CLI) — found by test/cluster-netns/ restarting PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { freshStore, PG_URL } from '../helpers/stores.ts';

test('postgres: the store survives its connections being terminated and reconnects', async () => {
  const t = await freshStore('postgres');
  try {
    // Two connections in the pool, both idle afterwards.
    const pids = await Promise.all([0, 1].map(async () => (await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(t.store.db)).rows[0].pid));
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const r = await admin.query('select pg_terminate_backend(pid) as ok from unnest($1::int[]) as pid', [pids]);
      assert.deepEqual(r.rows.map((x: { ok: boolean }) => x.ok), [true, true]);
    } finally {
      await admin.end();
    }
    // Let the termination notices reach the idle clients (that is where the process died).
    await new Promise((res) => setTimeout(res, 300));
    const after = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(t.store.db)).rows[0].pid;
    assert.ok(!pids.includes(after), 'a new connection serves the next query');
    assert.equal(Number((await t.store.db.selectFrom('projects').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n), 0);
  } finally {
    await t.cleanup();
  }
});

test('postgres: a connection lost inside a transaction fails that transaction, not the process', async () => {
  const t = await freshStore('postgres');
  try {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const err = await t.store.db
        .transaction()
        .execute(async (trx) => {
          const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0].pid;
          // Between two statements (the client is checked out, no query running): the server ends the session.
          await admin.query('select pg_terminate_backend($1)', [pid]);
          await new Promise((res) => setTimeout(res, 300));
          await trx.selectFrom('projects').selectAll().execute();
        })
        .then(
          () => undefined,
          (e: Error) => e,
        );
      assert.ok(err, 'the transaction failed');
    } finally {
      await admin.end();
    }
    assert.equal(Number((await t.store.db.selectFrom('projects').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n), 0, 'the next query runs on a new connection');
  } finally {
    await t.cleanup();
  }
});
