// Token storage (issue #8): migration 005 on a store that holds tokens from before it (bare
// sha256): every one is wrapped in scrypt at once (no fast hash left), keeps working, and is
// re-hashed into the current form (scrypt + lookup key) on its first use; revoked ones stay
// refused. A bare sha256 written later by an older process (rolling upgrade) works the same way.
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { openStore, type Store } from '../../src/store/db.ts';
import { up001 } from '../../src/store/migrations/001_initial.ts';
import { up002 } from '../../src/store/migrations/002_embeddings.ts';
import { up003 } from '../../src/store/migrations/003_labelling.ts';
import { up004 } from '../../src/store/migrations/004_audit.ts';
import { authenticate, createUser, forgetVerifiedTokens } from '../../src/label/users.ts';
import { hashToken } from '../../src/label/tokens.ts';
import { PG_URL, STORE_KINDS } from '../helpers/stores.ts';
import { OPERATOR } from './helpers.ts';

const legacyToken = () => 'tsr_' + randomBytes(32).toString('base64url');

/** A store as version 004 left it, with users holding pre-005 (sha256) tokens; then opened (→ 005). */
async function storeWithLegacyTokens(kind: 'sqlite' | 'postgres', tokens: Array<{ user: string; token: string; revoked?: boolean }>) {
  const before = ['001_initial', '002_embeddings', '003_labelling', '004_audit'];
  const ups = [up001, up002, up003, up004];
  let db: Kysely<any>;
  let open: () => Promise<Store>;
  let cleanup: () => Promise<void>;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-legacy-'));
    const file = join(dir, 'tessera.db');
    db = new Kysely({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    open = () => openStore({ kind: 'sqlite', location: file });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.end();
    db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${schema}` }) }) });
    open = () => openStore({ kind: 'postgres', location: PG_URL, schema });
    cleanup = async () => {
      const c2 = new pg.Client({ connectionString: PG_URL });
      await c2.connect();
      await c2.query(`DROP SCHEMA ${schema} CASCADE`);
      await c2.end();
    };
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => Object.fromEntries(before.map((name, i) => [name, { up: ups[i](kind) }])) },
    ...(kind === 'postgres' ? { migrationTableSchema: (await db.selectNoFrom((eb) => eb.fn<string>('current_schema', []).as('s')).executeTakeFirstOrThrow()).s } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
  const at = new Date().toISOString();
  for (const t of tokens) {
    const { id } = await db.insertInto('users').values({ name: t.user, display_name: t.user, token_hash: null, created_at: at }).returning('id').executeTakeFirstOrThrow();
    await db
      .insertInto('api_tokens')
      .values({ user_id: id, name: 'default', token_hash: hashToken(t.token), prefix: t.token.slice(0, 10), created_at: at, revoked_at: t.revoked ? at : null })
      .execute();
  }
  await db.destroy();
  const store = await open();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await cleanup();
    },
  };
}

for (const kind of STORE_KINDS) {
  describe(`token storage: migration 005 and re-hash on use (${kind})`, () => {
    const alice = legacyToken();
    const bob = legacyToken();
    const carol = legacyToken();
    let s: Awaited<ReturnType<typeof storeWithLegacyTokens>>;
    before(async () => {
      s = await storeWithLegacyTokens(kind, [
        { user: 'alice', token: alice },
        { user: 'bob', token: bob },
        { user: 'carol', token: carol, revoked: true },
      ]);
      forgetVerifiedTokens();
    });
    after(async () => s.cleanup());

    test('the migration leaves no fast hash: every stored sha256 is wrapped in salted scrypt', async () => {
      const rows = await s.store.db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
      assert.equal(rows.length, 3);
      for (const [r, t] of rows.map((r, i) => [r, [alice, bob, carol][i]] as const)) {
        assert.match(r.token_hash, /^scrypt-sha256\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
        assert.ok(!r.token_hash.includes(hashToken(t)));
        assert.equal(r.lookup, null);
      }
    });

    test('pre-005 tokens keep working, and their first use re-hashes them (scrypt of the token + lookup key)', async () => {
      assert.equal((await authenticate(s.store.db, alice))?.name, 'alice');
      const row = await s.store.db.selectFrom('api_tokens').selectAll().where('lookup', '=', alice.slice(4, 20)).executeTakeFirstOrThrow();
      assert.match(row.token_hash, /^scrypt\$16384\$8\$1\$/);
      assert.ok(row.last_used_at);
      forgetVerifiedTokens();
      assert.equal((await authenticate(s.store.db, alice))?.name, 'alice', 'after the re-hash, by its lookup key');
      // Bob, not used yet, is still in the wrapped form and still works.
      assert.match((await s.store.db.selectFrom('api_tokens').select('token_hash').where('prefix', '=', bob.slice(0, 10)).executeTakeFirstOrThrow()).token_hash, /^scrypt-sha256\$/);
      assert.equal((await authenticate(s.store.db, bob))?.name, 'bob');
    });

    test('a revoked pre-005 token stays refused; a wrong token sharing a prefix is refused', async () => {
      assert.equal(await authenticate(s.store.db, carol), undefined);
      assert.match((await s.store.db.selectFrom('api_tokens').select('token_hash').where('prefix', '=', carol.slice(0, 10)).executeTakeFirstOrThrow()).token_hash, /^scrypt-sha256\$/, 'not re-hashed');
      const impostor = bob.slice(0, 10) + randomBytes(32).toString('base64url').slice(0, 39);
      assert.equal(await authenticate(s.store.db, impostor), undefined);
      const impostorByKey = alice.slice(0, 20) + randomBytes(32).toString('base64url').slice(0, 27);
      assert.equal(await authenticate(s.store.db, impostorByKey), undefined);
    });

    test('rolling upgrade: a bare sha256 written by an older process after the migration works and is re-hashed', async () => {
      const { user } = await createUser(s.store, OPERATOR, 'dave');
      const old = legacyToken();
      await s.store.db.insertInto('api_tokens').values({ user_id: user.id, name: 'old-process', token_hash: hashToken(old), lookup: null, prefix: old.slice(0, 10), created_at: new Date().toISOString() }).execute();
      assert.equal((await authenticate(s.store.db, old))?.name, 'dave');
      const row = await s.store.db.selectFrom('api_tokens').selectAll().where('name', '=', 'old-process').executeTakeFirstOrThrow();
      assert.match(row.token_hash, /^scrypt\$/);
      assert.equal(row.lookup, old.slice(4, 20));
    });

    test('new tokens: scrypt + lookup key; verified once per process, yet a changed hash or a revocation applies at once', async () => {
      const { token } = await createUser(s.store, OPERATOR, 'erin');
      const row = await s.store.db.selectFrom('api_tokens').selectAll().where('prefix', '=', token.prefix).executeTakeFirstOrThrow();
      assert.equal(row.lookup, token.token.slice(4, 20));
      assert.ok(!JSON.stringify(row).includes(token.token.slice(20)), 'nothing secret is stored');
      assert.equal((await authenticate(s.store.db, token.token))?.name, 'erin');
      for (let i = 0; i < 5; i++) assert.equal((await authenticate(s.store.db, token.token))?.name, 'erin');
      // The per-process memory of verified tokens is bound to the stored hash: change it and the token is checked afresh.
      const stored = row.token_hash;
      await s.store.db.updateTable('api_tokens').set({ token_hash: 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }).where('id', '=', row.id).execute();
      assert.equal(await authenticate(s.store.db, token.token), undefined);
      await s.store.db.updateTable('api_tokens').set({ token_hash: stored }).where('id', '=', row.id).execute();
      assert.equal((await authenticate(s.store.db, token.token))?.name, 'erin');
      await s.store.db.updateTable('api_tokens').set({ revoked_at: new Date().toISOString() }).where('id', '=', row.id).execute();
      assert.equal(await authenticate(s.store.db, token.token), undefined);
    });
  });
}
