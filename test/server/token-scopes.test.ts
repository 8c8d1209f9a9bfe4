// API tokens with an expiry and a scope: the scope table (pure), enforced on the matched route
// over HTTP (a scope never adds a right the roles lack), expired tokens refused with a message
// that only the token's holder gets, tokens from before scopes existed still full and without
// expiry (migration from a real pre-012 store), the admin route and the CLI; both stores.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import { freshStore, PG_URL, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';
import { OPERATOR, projectWithItems, startApi, usersWithRoles, type Api } from './helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { createUser, issueToken } from '../../src/label/users.ts';
import { generateToken } from '../../src/label/tokens.ts';
import { checkTokenScope, scopeAllows, TOKEN_SCOPES } from '../../src/label/token-scopes.ts';
import { expiryFrom, parseDuration } from '../../src/core/duration.ts';
import { migrations, openStore, type Store } from '../../src/store/db.ts';

test('scopes: read = GET only; annotate = read and the task.annotate routes; full = anything', () => {
  const cases: Array<[string, string, string, boolean[]]> = [
    // method, permission, what it is → [read, annotate, full]
    ['GET', 'items.read', 'list items', [true, true, true]],
    ['GET', 'authenticated', '/api/me', [true, true, true]],
    ['HEAD', 'project.read', 'HEAD', [true, true, true]],
    ['POST', 'task.annotate', 'lease / submit', [false, true, true]],
    ['GET', 'task.annotate', 'my annotations', [true, true, true]],
    ['PATCH', 'settings.write', 'settings', [false, false, true]],
    ['POST', 'review.decide', 'review decision', [false, false, true]],
    ['POST', 'instance.admin', 'create user', [false, false, true]],
    ['DELETE', 'gold.write', 'gold', [false, false, true]],
  ];
  for (const [method, permission, what, want] of cases) {
    assert.deepEqual(TOKEN_SCOPES.map((s) => scopeAllows(s, method, permission as never)), want, `${method} ${permission} (${what})`);
  }
  assert.equal(checkTokenScope('annotate'), 'annotate');
  assert.throws(() => checkTokenScope('admin', '--scope'), /--scope "admin": expected read\|annotate\|full/);
});

test('durations and expiry dates: units s m h d w, future dates; anything else named and explained', () => {
  assert.equal(parseDuration('30d', 'x'), 30 * 86_400_000);
  assert.equal(parseDuration('12h', 'x'), 12 * 3_600_000);
  assert.equal(parseDuration(' 2w ', 'x'), 14 * 86_400_000);
  assert.equal(parseDuration('90s', 'x'), 90_000);
  for (const bad of ['0d', '30', 'd', '1.5h', '30 days', '-1h', '']) assert.throws(() => parseDuration(bad, '--expires'), /--expires=".*": expected a positive whole number and a unit/, bad);
  const now = Date.parse('2030-01-01T00:00:00Z');
  assert.equal(expiryFrom('30d', 'e', now), '2030-01-31T00:00:00.000Z');
  assert.equal(expiryFrom('2030-06-30', 'e', now), '2030-06-30T00:00:00.000Z');
  assert.equal(expiryFrom('2030-06-30T18:00:00Z', 'e', now), '2030-06-30T18:00:00.000Z');
  assert.throws(() => expiryFrom('2029-12-31', '--expires', now), /has passed/);
  assert.throws(() => expiryFrom('2030-13-45', '--expires', now), /not a valid date/);
});

for (const kind of STORE_KINDS) {
  describe(`token scopes and expiry over HTTP (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let admin: string;

    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'sc', ['one', 'two', 'three']);
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
      await usersWithRoles(t.store, p, { mgr: 'manager', ann: 'annotator' });
      admin = (await createUser(t.store, OPERATOR, 'root', undefined, { admin: true })).token.token;
      api = await startApi(t.store);
    });
    after(async () => {
      await api.close();
      await t.cleanup();
    });

    const tokenFor = async (user: string, scope: 'read' | 'annotate' | 'full', expiresAt: string | null = null) => (await issueToken(t.store, OPERATOR, user, `${scope}-token`, { scope, expiresAt })).token;

    test('a read token reads and changes nothing; annotate adds the task routes; full is what the role allows; a scope never adds a right', async () => {
      const mgrRead = await tokenFor('mgr', 'read');
      const me = await api.call('GET', '/api/me', mgrRead);
      assert.equal(me.status, 200);
      assert.deepEqual(me.json.auth, { via: 'token', scope: 'read', expiresAt: null });
      assert.equal((await api.call('GET', '/api/projects/sc/settings', mgrRead)).status, 200);
      const denied = await api.call('PATCH', '/api/projects/sc/settings', mgrRead, { overlap: 2 });
      assert.equal(denied.status, 403);
      assert.match(denied.json.error.message, /scope "read" does not allow PATCH on this route \(settings.write\)/);

      const mgrAnnotate = await tokenFor('mgr', 'annotate');
      assert.equal((await api.call('PATCH', '/api/projects/sc/settings', mgrAnnotate, { overlap: 2 })).status, 403);
      const mgrFull = await tokenFor('mgr', 'full');
      assert.equal((await api.call('PATCH', '/api/projects/sc/settings', mgrFull, { overlap: 2 })).status, 200);

      const annRead = await tokenFor('ann', 'read');
      assert.equal((await api.call('POST', '/api/projects/sc/tasks/next', annRead, {})).status, 403);
      assert.equal((await api.call('GET', '/api/projects/sc/annotations/mine', annRead)).status, 200);
      const annAnnotate = await tokenFor('ann', 'annotate');
      const next = await api.call('POST', '/api/projects/sc/tasks/next', annAnnotate, {});
      assert.equal(next.status, 200, next.text);
      assert.ok(next.json.task?.id, next.text);
      // The role still decides: an annotator's full token cannot change settings.
      const annFull = await tokenFor('ann', 'full');
      const role = await api.call('PATCH', '/api/projects/sc/settings', annFull, { overlap: 2 });
      assert.equal(role.status, 403);
      assert.match(role.json.error.message, /role annotator may not/);
    });

    test('an expired token gets a 401 saying so — only when the token itself is presented; a token before its expiry works', async () => {
      const soon = new Date(Date.now() + 3_600_000).toISOString();
      const tok = await tokenFor('mgr', 'full', soon);
      const ok = await api.call('GET', '/api/me', tok);
      assert.equal(ok.status, 200);
      assert.equal(ok.json.auth.expiresAt, soon);
      const id = (await t.store.db.selectFrom('api_tokens').select('id').where('expires_at', '=', soon).executeTakeFirstOrThrow()).id;
      const past = new Date(Date.now() - 1000).toISOString();
      await t.store.db.updateTable('api_tokens').set({ expires_at: past }).where('id', '=', id).execute();
      const r = await api.call('GET', '/api/me', tok);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.message, `this token expired at ${past}: ask an admin for a new one (tessera users token NAME)`);
      // Same lookup key, wrong secret: nothing about the expiry is said.
      const forged = tok.slice(0, 4 + 16) + randomBytes(32).toString('base64url').slice(0, 27);
      assert.equal(forged.length, tok.length);
      const f = await api.call('GET', '/api/me', forged);
      assert.equal(f.status, 401);
      assert.equal(f.json.error.message, 'invalid or revoked token');
    });

    test('an instance admin issues a token with a scope and an expiry over the API; bad values are 400s naming the field', async () => {
      const r = await api.call('POST', '/api/users/mgr/tokens', admin, { name: 'script', scope: 'read', expires: '2h' });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.scope, 'read');
      const ms = Date.parse(r.json.expiresAt) - Date.now();
      assert.ok(ms > 7_100_000 && ms <= 7_200_000, r.json.expiresAt);
      assert.equal((await api.call('PATCH', '/api/projects/sc/settings', r.json.token, { overlap: 2 })).status, 403);
      const plain = await api.call('POST', '/api/users/mgr/tokens', admin, {});
      assert.equal(plain.json.scope, 'full');
      assert.equal(plain.json.expiresAt, null);
      const badExpiry = await api.call('POST', '/api/users/mgr/tokens', admin, { expires: 'soon' });
      assert.equal(badExpiry.status, 400);
      assert.match(badExpiry.json.error.message, /expires="soon"/);
      assert.equal((await api.call('POST', '/api/users/mgr/tokens', admin, { scope: 'admin' })).status, 400);
      const audit = await t.store.db.selectFrom('audit_events').select('payload').where('action', '=', 'token.issue').orderBy('seq', 'desc').limit(3).execute();
      assert.ok(audit.some((e) => JSON.parse(e.payload).scope === 'read' && JSON.parse(e.payload).expiresAt === r.json.expiresAt));
    });

    if (kind === 'sqlite') {
      test('CLI: tessera users token NAME --scope --expires; bad values exit 2 naming the flag', () => {
        const r = tessera(['users', 'token', 'ann', '--scope', 'annotate', '--expires', '30d', '--json'], t.env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.json.scope, 'annotate');
        const days = (Date.parse(r.json.expiresAt) - Date.now()) / 86_400_000;
        assert.ok(days > 29.9 && days <= 30, r.json.expiresAt);
        const bad = tessera(['users', 'token', 'ann', '--scope', 'everything'], t.env);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--scope "everything": expected read\|annotate\|full/);
        const badExp = tessera(['users', 'token', 'ann', '--expires', 'tomorrow'], t.env);
        assert.equal(badExp.code, 2);
        assert.match(badExp.stderr, /--expires="tomorrow"/);
      });
    }
  });

  test(`tokens issued before scopes and expiry existed keep working, full and without expiry (a pre-012 store migrated; ${kind})`, async () => {
    const all = migrations(kind);
    const names = Object.keys(all).sort();
    const before012 = names.slice(0, names.findIndex((n) => n.endsWith('_sessions')));
    assert.ok(before012.length >= 10);
    let db: Kysely<any>;
    let open: () => Promise<Store>;
    let cleanup: () => Promise<void>;
    if (kind === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-pre012-'));
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
      provider: { getMigrations: async () => Object.fromEntries(before012.map((n) => [n, all[n]])) },
      ...(kind === 'postgres' ? { migrationTableSchema: (await db.selectNoFrom((eb) => eb.fn<string>('current_schema', []).as('s')).executeTakeFirstOrThrow()).s } : {}),
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
    const t = await generateToken();
    const at = new Date().toISOString();
    const { id } = await db.insertInto('users').values({ name: 'old', display_name: 'old', token_hash: null, created_at: at }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('api_tokens').values({ user_id: id, name: 'default', token_hash: t.hash, lookup: t.lookup, prefix: t.prefix, created_at: at }).execute();
    await db.destroy();
    const store = await open();
    const api = await startApi(store);
    try {
      const row = await store.db.selectFrom('api_tokens').select(['scope', 'expires_at']).executeTakeFirstOrThrow();
      assert.deepEqual(row, { scope: 'full', expires_at: null });
      const me = await api.call('GET', '/api/me', t.token);
      assert.equal(me.status, 200, me.text);
      assert.deepEqual(me.json.auth, { via: 'token', scope: 'full', expiresAt: null });
      // A write is judged by the roles (not an instance admin: 403), never refused for its scope.
      const write = await api.call('POST', '/api/projects', t.token, { name: 'x' });
      assert.equal(write.status, 403);
      assert.doesNotMatch(write.json.error.message, /scope/);
    } finally {
      await api.close();
      await store.close();
      await cleanup();
    }
  });
}
