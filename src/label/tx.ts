import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';

/** A connection inside a write transaction (or any Kysely handle for reads). */
export type Conn = Kysely<Database>;

/**
 * Runs `fn` in one write transaction that also serialises labelling changes per project:
 * SQLite takes the write lock up front (BEGIN IMMEDIATE, so two processes never deadlock
 * upgrading a read lock); PostgreSQL takes a transaction-scoped advisory lock on the project.
 * Reads inside `fn` (who holds which lease, how many annotations an item has) therefore see
 * a state no other writer changes before the commit. Every change and its audit event commit
 * together or not at all.
 */
export async function writeTx<T>(store: Store, projectId: number | null, fn: (conn: Conn) => Promise<T>): Promise<T> {
  if (store.dialect === 'postgres') {
    return store.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(7431002, ${projectId ?? 0}::int)`.execute(trx);
      return fn(trx);
    });
  }
  return store.db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const out = await fn(conn);
      await sql`COMMIT`.execute(conn);
      return out;
    } catch (e) {
      await sql`ROLLBACK`.execute(conn);
      throw e;
    }
  });
}
