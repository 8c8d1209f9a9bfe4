import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Sign-in for people (OpenID Connect) and limits on API tokens:
 * - `sessions`: browser sessions made by an OpenID Connect login. The cookie carries a random
 *   secret; only its sha256 is stored (`secret_hash`, unique). A session ends at `expires_at`
 *   (absolute), after `idle_seconds` without a request (measured from `last_seen_at`), or when
 *   revoked (`revoked_at`: signed out, or revoked by an admin). src/label/sessions.ts.
 * - `oidc_logins`: logins under way (between the redirect to the provider and its callback),
 *   found by the sha256 of their `state`; each is used once and lasts minutes.
 * - `users.external_issuer` / `users.external_sub`: the provider account a user is linked to
 *   (unique together). A login finds its user by these, never by name alone, so an account at
 *   the provider whose username equals a local user's name cannot take that user over.
 * - `api_tokens.expires_at` (null: never) and `api_tokens.scope` (`read`, `annotate` or `full`):
 *   every token issued before this migration is `full` and never expires, as before.
 */
export function up012(dialect: Dialect) {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  return async (db: Kysely<any>) => {
    await db.schema
      .createTable('sessions')
      .addColumn('id', id as 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
      .addColumn('issuer', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('idle_seconds', 'integer', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .addColumn('revoked_by', 'text')
      .execute();
    await db.schema.createIndex('sessions_user').on('sessions').columns(['user_id', 'revoked_at']).execute();

    await db.schema
      .createTable('oidc_logins')
      .addColumn('state_hash', 'text', (c) => c.primaryKey())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('code_verifier', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema.alterTable('users').addColumn('external_issuer', 'text').execute();
    await db.schema.alterTable('users').addColumn('external_sub', 'text').execute();
    await db.schema.createIndex('users_external').on('users').columns(['external_issuer', 'external_sub']).unique().execute();

    await db.schema.alterTable('api_tokens').addColumn('expires_at', 'text').execute();
    await db.schema.alterTable('api_tokens').addColumn('scope', 'text', (c) => c.notNull().defaultTo('full')).execute();
  };
}
