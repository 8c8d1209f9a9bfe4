import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Keyed audit chain (src/store/audit-key.ts): `audit_events.chain` names how an event's hash was
 * made — null for plain sha256 (every event before this migration), `hmac-sha256:<key id>` for
 * HMAC-SHA256 under the key kept outside the database. The key itself is never stored.
 */
export function up009(_dialect: Dialect) {
  return async (db: Kysely<any>) => {
    await db.schema.alterTable('audit_events').addColumn('chain', 'text').execute();
  };
}
