import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Instance admins: `users.is_admin` (0/1, default 0). An instance admin may create projects and
 * users and issue their tokens from the API and the web UI (`tessera users add NAME --admin`);
 * project roles are unchanged — the admin of a project is still a membership.
 */
export function up011(_dialect: Dialect) {
  return async (db: Kysely<any>) => {
    await db.schema.alterTable('users').addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  };
}
