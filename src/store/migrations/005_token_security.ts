import { randomBytes, scrypt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * The legacy wrap, frozen here as this migration wrote it (src/label/tokens.ts verifies it):
 * `scrypt-sha256$N$r$p$salt$key` with scrypt(sha256 hex of the token, 16-byte salt), 32-byte key.
 */
function wrapLegacyHash(sha256hex: string): Promise<string> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) =>
    scrypt(sha256hex, salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 << 20 }, (err, key) =>
      err ? reject(err) : resolve(`scrypt-sha256$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`),
    ),
  );
}

/**
 * Token security (issue #8):
 * - `api_tokens.lookup`: the public lookup key of a token (its first 16 characters after `tsr_`),
 *   unique, so authentication finds the row by an index and then verifies an scrypt hash with a
 *   per-token salt (src/label/tokens.ts).
 * - Every token stored before this migration as a bare sha256 is wrapped in scrypt here
 *   (`scrypt-sha256$…`, scrypt over the old digest), so no fast hash of a token stays in the
 *   database. Such tokens keep working: their first successful use re-hashes them into the
 *   current form and records their lookup key (users.ts, authenticate). Until then they are found
 *   by their display prefix (indexed below). ~50 ms of scrypt per stored token, four at a time.
 * - `auth_failures`: failed authentications per (hashed) client address and token key, per time
 *   window, shared by every `tessera serve` process on the store (src/server/auth-limit.ts).
 */
export function up005(_dialect: Dialect) {
  return async (db: Kysely<any>) => {
    await db.schema.alterTable('api_tokens').addColumn('lookup', 'text').execute();
    await db.schema.createIndex('api_tokens_lookup').on('api_tokens').column('lookup').unique().execute();
    await db.schema.createIndex('api_tokens_prefix').on('api_tokens').columns(['prefix', 'lookup']).execute();

    const legacy = (await db.selectFrom('api_tokens').select(['id', 'token_hash']).execute()) as Array<{ id: number; token_hash: string }>;
    const bare = legacy.filter((r) => /^[0-9a-f]{64}$/.test(r.token_hash));
    for (let i = 0; i < bare.length; i += 4) {
      const batch = bare.slice(i, i + 4);
      const wrapped = await Promise.all(batch.map((r) => wrapLegacyHash(r.token_hash)));
      for (let j = 0; j < batch.length; j++) {
        await db.updateTable('api_tokens').set({ token_hash: wrapped[j] }).where('id', '=', batch[j].id).execute();
      }
    }

    await db.schema
      .createTable('auth_failures')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('bucket', 'bigint', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('auth_failures_pk', ['key', 'bucket'])
      .execute();
  };
}
