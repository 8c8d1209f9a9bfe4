import { test } from 'node:test';
import assert from 'node:assert/strict';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely';
import { cachingDatabase, STATEMENT_CACHE_MAX_SQL } from '../../src/store/statement-cache.ts';

function fresh(max?: number) {
  const raw = new SQLite(':memory:');
  raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES (\'a\'), (\'b\'), (\'c\')');
  const cached = cachingDatabase(raw, max);
  return { raw, cached, db: new Kysely<{ t: { id: Generated<number>; v: string } }>({ dialect: new SqliteDialect({ database: cached }) }) };
}

test('the same SQL is prepared once and answers with the parameters of each call', async () => {
  const { cached, db } = fresh();
  for (const id of [1, 2, 3, 2]) {
    const r = await db.selectFrom('t').select('v').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(r.v, 'abc'[id - 1]);
  }
  assert.equal(cached.stats.misses, 1);
  assert.equal(cached.stats.hits, 3);
  // Writes too, and their insert ids are each call's own.
  const a = await db.insertInto('t').values({ v: 'd' }).executeTakeFirstOrThrow();
  const b = await db.insertInto('t').values({ v: 'e' }).executeTakeFirstOrThrow();
  assert.deepEqual([a.insertId, b.insertId], [4n, 5n]);
  await db.destroy();
});

test('a statement still being iterated is not handed out again (Kysely holds its one connection while streaming, so this is a guard, exercised directly)', async () => {
  const { cached, db } = fresh();
  const text = 'SELECT id, v FROM t ORDER BY id';
  const first = cached.prepare(text);
  const it = first.iterate([]);
  assert.deepEqual(it.next().value, { id: 1, v: 'a' });
  const second = cached.prepare(text);
  assert.notEqual(second, first, 'the busy statement was handed out again');
  assert.deepEqual(second.all([]), [{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { id: 3, v: 'c' }]);
  assert.deepEqual(it.next().value, { id: 2, v: 'b' }, 'the first iteration was disturbed');
  it.return?.();
  assert.equal(cached.prepare(text), first, 'once free, the cached statement is reused');
  // And a whole stream through Kysely, then the same query again: served from the cache.
  const q = db.selectFrom('t').select(['id', 'v']).orderBy('id');
  const rows: string[] = [];
  for await (const row of q.stream()) rows.push(row.v);
  const hits = cached.stats.hits;
  assert.equal((await q.execute()).length, 3);
  assert.deepEqual(rows, ['a', 'b', 'c']);
  assert.equal(cached.stats.hits, hits + 1);
  await db.destroy();
});

test('the cache is bounded (least recently used goes first) and long SQL is never kept', async () => {
  const { cached, db } = fresh(2);
  const q = (n: number) => sql`SELECT ${sql.lit(n)} AS n`.execute(db);
  await q(1);
  await q(2);
  await q(1); // hit: 1 is now the most recent
  await q(3); // evicts 2
  assert.equal(cached.stats.size(), 2);
  const before = cached.stats.hits;
  await q(1);
  assert.equal(cached.stats.hits, before + 1);
  await q(2);
  assert.equal(cached.stats.hits, before + 1, 'the evicted statement is prepared again');
  const long = `SELECT 1 AS n /* ${'x'.repeat(STATEMENT_CACHE_MAX_SQL)} */`;
  const misses = cached.stats.misses;
  await sql.raw(long).execute(db);
  await sql.raw(long).execute(db);
  assert.equal(cached.stats.misses, misses + 2);
  await db.destroy();
});

test('a cached statement follows a schema change (SQLite re-prepares it)', async () => {
  const { raw, db } = fresh();
  const all = () => sql<Record<string, unknown>>`SELECT * FROM t WHERE id = 1`.execute(db);
  assert.deepEqual((await all()).rows, [{ id: 1, v: 'a' }]);
  raw.exec("ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'z'");
  assert.deepEqual((await all()).rows, [{ id: 1, v: 'a', w: 'z' }]);
  raw.exec('DROP TABLE t');
  await assert.rejects(all(), /no such table/);
  await db.destroy();
});
