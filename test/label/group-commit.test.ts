// Group commit on SQLite (src/store/tx.ts): concurrent writeTx calls share one transaction and
// one COMMIT, each in its own savepoint; a call is acknowledged only after the COMMIT; a failing
// call loses only its own writes; a failed COMMIT rejects the whole batch.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { GROUP_MAX, groupCommitStats, onBatchRollback, writeTx, type Conn } from '../../src/store/tx.ts';

const stores: TestStore[] = [];
after(async () => {
  for (const s of stores) await s.cleanup();
});

/**
 * A fresh SQLite store with a scratch table, a reader on its own connection (sees committed data
 * only), and a COMMIT counter that watches the statements the connection prepares (independent
 * of tx.ts's own counters).
 */
async function setup() {
  const t = await freshStore('sqlite');
  stores.push(t);
  const raw = t.store.sqlite!;
  raw.exec(`CREATE TABLE gc_parent (id INTEGER PRIMARY KEY);
            CREATE TABLE gc_t (k TEXT PRIMARY KEY, v INTEGER NOT NULL,
              parent INTEGER REFERENCES gc_parent(id) DEFERRABLE INITIALLY DEFERRED)`);
  const counts = { commits: 0, begins: 0 };
  // Counts executions, not prepares: the store reuses prepared statements (statement-cache.ts).
  const prepare = raw.prepare.bind(raw);
  (raw as { prepare: typeof raw.prepare }).prepare = ((source: string) => {
    const stmt = prepare(source);
    const kind = /^\s*commit\b/i.test(source) ? 'commits' : /^\s*begin\b/i.test(source) ? 'begins' : undefined;
    if (kind) {
      const run = stmt.run.bind(stmt);
      (stmt as { run: typeof stmt.run }).run = ((...args: unknown[]) => {
        counts[kind]++;
        return run(...(args as []));
      }) as typeof stmt.run;
    }
    return stmt;
  }) as typeof raw.prepare;
  const reader = new SQLite(t.store.location, { readonly: true });
  after(() => reader.close());
  const committed = (k: string): number | undefined => (reader.prepare('SELECT v FROM gc_t WHERE k = ?').get(k) as { v: number } | undefined)?.v;
  const keys = (): string[] => (reader.prepare('SELECT k FROM gc_t ORDER BY k').all() as Array<{ k: string }>).map((r) => r.k);
  return { store: t.store, counts, committed, keys };
}

const put = (conn: Conn, k: string, v: number, parent: number | null = null) => sql`INSERT INTO gc_t (k, v, parent) VALUES (${k}, ${v}, ${parent})`.execute(conn);
const get = async (conn: Conn, k: string) => (await sql<{ v: number }>`SELECT v FROM gc_t WHERE k = ${k}`.execute(conn)).rows[0]?.v;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const key = (i: number) => `k${String(i).padStart(3, '0')}`;

test('group commit: 40 concurrent changes commit in fewer transactions than 40, every effect present', async () => {
  const { store, counts, keys } = await setup();
  const before = { ...counts };
  const n = 40;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => writeTx(store, 1, async (conn) => (await put(conn, key(i), i), i * 10))));
  assert.deepEqual(results, Array.from({ length: n }, (_, i) => i * 10));
  const commits = counts.commits - before.commits;
  assert.ok(commits < n, `${commits} COMMITs for ${n} changes`);
  assert.equal(commits, 1, 'all queued in one turn: one batch');
  assert.equal(counts.begins - before.begins, commits);
  assert.deepEqual(keys(), Array.from({ length: n }, (_, i) => key(i)));
  const st = groupCommitStats(store);
  assert.equal(st.committed, n);
  assert.equal(st.commits, 1);
});

test('group commit: a batch is capped at GROUP_MAX changes', async () => {
  const { store, counts, keys } = await setup();
  const n = 2 * GROUP_MAX + 10;
  const c0 = counts.commits;
  await Promise.all(Array.from({ length: n }, (_, i) => writeTx(store, 1, (conn) => put(conn, key(i), i))));
  assert.equal(counts.commits - c0, 3);
  assert.equal(groupCommitStats(store).maxBatch, GROUP_MAX);
  assert.equal(keys().length, n);
});

test('group commit: a change that throws mid-batch leaves none of its writes and does not affect the others', async () => {
  const { store, counts, committed, keys } = await setup();
  const c0 = counts.commits;
  const boom = new Error('boom');
  const calls = [
    writeTx(store, 1, (conn) => put(conn, 'a', 1)),
    writeTx(store, 1, async (conn) => {
      await put(conn, 'b', 2);
      await put(conn, 'b2', 22);
      throw boom;
    }),
    // A constraint error (statement-level in SQLite) after a successful write of its own.
    writeTx(store, 1, async (conn) => {
      await put(conn, 'c', 3);
      await put(conn, 'a', 99);
    }),
    writeTx(store, 1, async (conn) => {
      await put(conn, 'd', 4);
      return { sawA: await get(conn, 'a'), sawB: await get(conn, 'b'), sawC: await get(conn, 'c') };
    }),
  ];
  const out = await Promise.allSettled(calls);
  assert.equal(out[0].status, 'fulfilled');
  assert.equal(out[1].status, 'rejected');
  assert.equal((out[1] as PromiseRejectedResult).reason, boom, 'the caller gets its own error');
  assert.equal(out[2].status, 'rejected');
  assert.match(String((out[2] as PromiseRejectedResult).reason), /UNIQUE constraint failed/);
  assert.deepEqual((out[3] as PromiseFulfilledResult<unknown>).value, { sawA: 1, sawB: undefined, sawC: undefined }, 'later changes never see a failed one');
  assert.equal(counts.commits - c0, 1, 'one batch');
  assert.deepEqual(keys(), ['a', 'd']);
  assert.equal(committed('a'), 1);
  const st = groupCommitStats(store);
  assert.equal(st.committed, 2);
  assert.equal(st.failed, 2);
});

test('group commit: serial semantics — each change sees the writes of the ones before it in the batch', async () => {
  const { store, counts, committed } = await setup();
  const c0 = counts.commits;
  const n = 20;
  const seen = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      writeTx(store, 1, async (conn) => {
        const prev = i === 0 ? 0 : await get(conn, 'counter');
        if (i === 0) await put(conn, 'counter', 1);
        else await sql`UPDATE gc_t SET v = v + 1 WHERE k = 'counter'`.execute(conn);
        return prev;
      }),
    ),
  );
  assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i));
  assert.equal(committed('counter'), n);
  assert.equal(counts.commits - c0, 1);
});

test('group commit: a change is acknowledged only after the COMMIT (visible to another connection when it resolves)', async () => {
  const { store, counts, committed } = await setup();
  const c0 = counts.commits;
  const checks: Array<{ k: string; visible: number | undefined; commits: number }> = [];
  const n = 8;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      writeTx(store, 1, async (conn) => {
        await put(conn, key(i), i);
        // The batch stays open across real event-loop turns: an early acknowledgement would show.
        if (i === n - 1) await pause(30);
      }).then(() => checks.push({ k: key(i), visible: committed(key(i)), commits: counts.commits - c0 })),
    ),
  );
  assert.equal(checks.length, n);
  for (const c of checks) {
    assert.equal(c.commits, 1, `${c.k} resolved after the COMMIT`);
    assert.notEqual(c.visible, undefined, `${c.k} committed when acknowledged`);
  }
});

test('group commit: changes arriving while a batch runs join it; reads outside writeTx wait for it and see only committed data', async () => {
  const { store, counts, committed } = await setup();
  const c0 = counts.commits;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = writeTx(store, 1, async (conn) => {
    await put(conn, 'first', 1);
    await gate;
  });
  await pause(10); // the batch has begun and waits inside `first`
  assert.equal(committed('first'), undefined, 'not committed while the batch runs');
  const late = writeTx(store, 1, (conn) => put(conn, 'late', 2));
  // A read on store.db (not in writeTx) waits for the connection instead of reading uncommitted data.
  let readDone = false;
  const read = store.db
    .selectFrom('projects')
    .select('id')
    .execute()
    .then(async () => {
      readDone = true;
      return (await sql<{ n: number }>`SELECT COUNT(*) AS n FROM gc_t`.execute(store.db)).rows[0].n;
    });
  // The side connection (WAL reader) is never blocked.
  assert.deepEqual(await store.side().selectFrom('projects').select('id').execute(), []);
  await pause(10);
  assert.equal(readDone, false, 'the read waits for the batch');
  release();
  await Promise.all([first, late]);
  assert.equal(await read, 2);
  assert.equal(counts.commits - c0, 1, 'the late change joined the running batch');
  assert.equal(committed('late'), 2);
});

test('group commit: a nested writeTx is refused instead of deadlocking', async () => {
  const { store, keys } = await setup();
  await assert.rejects(
    writeTx(store, 1, async (conn) => {
      await put(conn, 'outer', 1);
      await writeTx(store, 1, (c) => put(c, 'inner', 2));
    }),
    /inside a writeTx function/,
  );
  assert.deepEqual(keys(), []);
  // Once its function is done, the same async context may write again.
  await writeTx(store, 1, (conn) => put(conn, 'after', 3));
  assert.deepEqual(keys(), ['after']);
});

test('group commit: a failed COMMIT rejects every change of the batch and writes nothing; the next batch works', async () => {
  const { store, keys } = await setup();
  let rollbacks = 0;
  const off = onBatchRollback(store, () => rollbacks++);
  const out = await Promise.allSettled([
    writeTx(store, 1, (conn) => put(conn, 'x', 1)),
    // A deferred foreign key: the statement and the savepoint succeed, the COMMIT fails.
    writeTx(store, 1, (conn) => put(conn, 'orphan', 2, 12345)),
    writeTx(store, 1, (conn) => put(conn, 'y', 3)),
  ]);
  for (const o of out) {
    assert.equal(o.status, 'rejected');
    assert.match(String((o as PromiseRejectedResult).reason), /rolled back \(FOREIGN KEY constraint failed\)/);
  }
  assert.deepEqual(keys(), []);
  assert.equal(store.sqlite!.inTransaction, false);
  const st = groupCommitStats(store);
  assert.equal(st.batchFailures, 1);
  assert.equal(rollbacks, 1, 'caches filled inside the batch are told to drop');
  await writeTx(store, 1, (conn) => put(conn, 'z', 4));
  assert.deepEqual(keys(), ['z']);
  // A change failing alone does not count as a batch rollback.
  await assert.rejects(writeTx(store, 1, () => Promise.reject(new Error('alone'))), /alone/);
  assert.equal(rollbacks, 1);
  off();
});

test('group commit: an error that ends the whole transaction rejects the batch so far; the queued rest runs in the next batch', async () => {
  const { store, keys } = await setup();
  const out = await Promise.allSettled([
    writeTx(store, 1, (conn) => put(conn, 'p', 1)),
    writeTx(store, 1, async (conn) => {
      await put(conn, 'q', 2);
      // Stands in for SQLITE_FULL / IOERR, which roll back the transaction, savepoints and all.
      await sql`ROLLBACK`.execute(conn);
      throw new Error('disk trouble');
    }),
    ...Array.from({ length: GROUP_MAX }, (_, i) => writeTx(store, 1, (conn) => put(conn, key(i), i))),
  ]);
  assert.equal(out[0].status, 'rejected', 'its writes were rolled back with the transaction');
  assert.match(String((out[0] as PromiseRejectedResult).reason), /rolled back \(disk trouble\)/);
  assert.equal((out[1] as PromiseRejectedResult).reason.message, 'disk trouble');
  assert.ok(out.slice(2).every((o) => o.status === 'fulfilled'));
  assert.equal(store.sqlite!.inTransaction, false);
  assert.deepEqual(keys(), Array.from({ length: GROUP_MAX }, (_, i) => key(i)));
});
