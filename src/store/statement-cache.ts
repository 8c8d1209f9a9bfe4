import type { Database as SQLiteDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Statements kept per connection (least recently used dropped first). */
export const STATEMENT_CACHE_MAX = 256;
/** Longer SQL is not kept: bulk inserts with many VALUES rows vary in length and are rare. */
export const STATEMENT_CACHE_MAX_SQL = 4096;

/**
 * The handle Kysely's SQLite driver gets: `prepare` reuses compiled statements by SQL text.
 * The driver prepares every query anew, and a labelling request runs ~20 small queries, so
 * SQLite's parser and planner cost more than the queries themselves (the load bench's CPU
 * profile). A cached statement that is still being iterated (a streamed export) is busy: the
 * caller then gets a fresh one, as before. Statements survive schema changes (SQLite
 * re-prepares them on its own) and are finalised when the connection closes.
 */
export function cachingDatabase(raw: SQLiteDatabase, max = STATEMENT_CACHE_MAX): SqliteDatabase & { readonly stats: { hits: number; misses: number; size: () => number } } {
  const cache = new Map<string, Statement>();
  const stats = { hits: 0, misses: 0, size: () => cache.size };
  return {
    stats,
    close: () => raw.close(),
    prepare(sql: string) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        stats.hits++;
        // Map keeps insertion order: re-inserting marks it most recently used.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      stats.misses++;
      const stmt = raw.prepare(sql);
      if (!hit && sql.length <= STATEMENT_CACHE_MAX_SQL) {
        cache.set(sql, stmt);
        if (cache.size > max) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
  };
}
