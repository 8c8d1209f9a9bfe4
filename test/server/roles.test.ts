// The role matrix, through the real HTTP API: every /api/ route × every role (plus no token, a
// bad token and a non-member) gets exactly the answer the table below says. The table is the
// specification, written out by hand; the test fails if a route exists that it does not list.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, oneOfEachRole, projectWithItems, startApi, usersWithRoles, type Api } from './helpers.ts';
import { apiSpellings, reachedRoute } from './spellings.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { ROLES, type Role } from '../../src/label/roles.ts';
import { createUser, revokeTokens } from '../../src/label/users.ts';
import { registerAuth } from '../../src/server/auth.ts';

const ALL = ROLES;
const STAFF: Role[] = ['admin', 'manager'];
const READERS: Role[] = ['admin', 'manager', 'reviewer', 'viewer'];
const REVIEWERS: Role[] = ['admin', 'manager', 'reviewer'];
const ANNOTATOR: Role[] = ['annotator'];
/** 'any' = every authenticated user, member or not; 'instance' = instance admins only (no project role). */
const MATRIX: Record<string, readonly Role[] | 'any' | 'instance'> = {
  'GET /api/me': 'any',
  'GET /api/projects': 'any',
  'GET /api/projects/:project': ALL,
  'GET /api/projects/:project/settings': ALL,
  'PATCH /api/projects/:project/settings': STAFF,
  'GET /api/projects/:project/members': STAFF,
  'PUT /api/projects/:project/members/:user': ['admin'],
  'DELETE /api/projects/:project/members/:user': ['admin'],
  'GET /api/projects/:project/taxonomy': ALL,
  'GET /api/projects/:project/taxonomy/versions': ALL,
  'POST /api/projects/:project/taxonomy': STAFF,
  'POST /api/projects/:project/tasks/next': ANNOTATOR,
  'POST /api/projects/:project/tasks/:task/submit': ANNOTATOR,
  'POST /api/projects/:project/tasks/:task/skip': ANNOTATOR,
  'POST /api/projects/:project/tasks/:task/release': ANNOTATOR,
  'GET /api/projects/:project/annotations/mine': ANNOTATOR,
  'GET /api/projects/:project/items': READERS,
  'GET /api/projects/:project/items/:item': ALL,
  'GET /api/projects/:project/items/:item/content': ALL,
  'GET /api/projects/:project/items/:item/annotations': REVIEWERS,
  'GET /api/projects/:project/labels': READERS,
  'GET /api/projects/:project/labels/:item': READERS,
  'GET /api/projects/:project/annotations': REVIEWERS,
  'GET /api/projects/:project/agreement': READERS,
  'POST /api/projects/:project/consensus/run': STAFF,
  'GET /api/projects/:project/reviews': REVIEWERS,
  'GET /api/projects/:project/reviews/:review': REVIEWERS,
  'POST /api/projects/:project/reviews/:review/decision': REVIEWERS,
  'GET /api/projects/:project/gold': STAFF,
  'PUT /api/projects/:project/gold': STAFF,
  'DELETE /api/projects/:project/gold/:item': STAFF,
  'GET /api/projects/:project/gold/report': STAFF,
  'PUT /api/projects/:project/suggestions': STAFF,
  'PUT /api/projects/:project/priorities': STAFF,
  'GET /api/projects/:project/export': STAFF,
  'GET /api/projects/:project/audit': STAFF,
  'GET /api/projects/:project/audit/verify': STAFF,
  'GET /api/projects/:project/webhooks': ['admin'],
  'POST /api/projects/:project/webhooks': ['admin'],
  'DELETE /api/projects/:project/webhooks/:webhook': ['admin'],
  'GET /api/projects/:project/webhooks/:webhook/deliveries': ['admin'],
  // The web UI's routes (src/server/routes/dashboard.ts, map.ts, workbench.ts).
  'GET /api/projects/:project/dashboard': READERS,
  'GET /api/projects/:project/audit/recent': STAFF,
  'GET /api/projects/:project/map': READERS,
  'POST /api/projects/:project/labels/bulk': REVIEWERS,
  'POST /api/projects/:project/tasks/ahead': ANNOTATOR,
  'POST /api/projects/:project/taxonomy/preview': STAFF,
  // Setting up from the web UI (src/server/routes/setup.ts, users.ts, imports.ts).
  'POST /api/projects': 'instance',
  'GET /api/users': 'instance',
  'POST /api/users': 'instance',
  'POST /api/users/:user/tokens': 'instance',
  // Sign-in sessions (src/server/routes/users.ts).
  'GET /api/users/:user/sessions': 'instance',
  'DELETE /api/users/:user/sessions': 'instance',
  'POST /api/projects/:project/imports': STAFF,
  'POST /api/projects/:project/annotations/import': STAFF,
};

for (const kind of STORE_KINDS) {
  describe(`role matrix (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let tok: Record<string, string>;
    let itemId = 0;

    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'rm', ['one', 'two', 'three']);
      const other = await projectWithItems(t.store, 'elsewhere', ['x']);
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
      tok = await usersWithRoles(t.store, p, oneOfEachRole('u'));
      // A user with every right in another project, none in this one.
      Object.assign(tok, await usersWithRoles(t.store, other, { outsider: 'admin' }));
      // An instance admin who is a member of no project.
      tok['instance-admin'] = (await createUser(t.store, OPERATOR, 'instance-admin', undefined, { admin: true })).token.token;
      itemId = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', p.id).orderBy('id').executeTakeFirstOrThrow()).id;
      api = await startApi(t.store);
    });
    after(async () => {
      await api.close();
      await t.cleanup();
    });

    test('the table lists exactly the routes the server has', () => {
      const routes = api.app.apiRoutes.map((r) => `${r.method} ${r.url}`).sort();
      assert.deepEqual(routes, Object.keys(MATRIX).sort());
    });

    const callers = (): Array<[string, string | undefined]> => [
      ['no token', undefined],
      ['malformed token', 'not-a-token'],
      ['unknown token', 'tsr_' + 'A'.repeat(43)],
      ...ROLES.map((r): [string, string] => [r, tok[`u-${r}`]]),
      ['outsider', tok.outsider],
      ['instance-admin', tok['instance-admin']],
    ];
    const pathOf = (url: string) => url.replace(':project', 'rm').replace(':item', String(itemId)).replace(':task', '999999').replace(':review', '999999').replace(':webhook', '999999').replace(':user', 'nobody');
    const wantOf = (who: string, token: string | undefined, allowed: readonly Role[] | 'any' | 'instance') =>
      token === undefined || who.endsWith('token')
        ? '401'
        : allowed === 'any' || (allowed === 'instance' ? who === 'instance-admin' : (allowed as readonly string[]).includes(who))
          ? 'allowed'
          : '403';
    const gotOf = (status: number) => (status === 401 || status === 403 ? String(status) : 'allowed');

    test('every route × every role: 401 without a valid token, 403 when the role lacks the right, allowed otherwise', async () => {
      const failures: string[] = [];
      for (const [route, allowed] of Object.entries(MATRIX)) {
        const [method, url] = route.split(' ');
        const path = pathOf(url);
        for (const [who, token] of callers()) {
          const res = await api.call(method, path, token, ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);
          const want = wantOf(who, token, allowed);
          const got = gotOf(res.status);
          if (got !== want) failures.push(`${route} as ${who}: expected ${want}, got ${res.status} ${res.text.slice(0, 120)}`);
          if (res.status === 401) assert.equal(res.headers.get('www-authenticate'), 'Bearer');
          if (res.status >= 400) assert.ok(res.json?.error?.code && res.json.error.message, `${route} as ${who}: error body ${res.text}`);
        }
      }
      assert.deepEqual(failures, []);
    });

    test('the same matrix under other spellings of /api/ (%61pi, mixed-case escapes, %2561pi, /API/, //api/, trailing slash, trailing ;x): each gets the answer of the route the router reaches (a trailing / or ;x may reach another one), 401 first without a valid token, 404 with one where no route is reached; never 500', async () => {
      const failures: string[] = [];
      const patterns = Object.keys(MATRIX);
      let reachedSame = 0;
      for (const [route, allowed] of Object.entries(MATRIX)) {
        const [method, url] = route.split(' ');
        for (const s of apiSpellings(pathOf(url))) {
          const reached = reachedRoute(patterns, method, s.path);
          if (s.sameRoute === true) assert.equal(reached?.route, route, `${s.path} should reach ${route}`);
          if (s.sameRoute === false) assert.equal(reached?.route, undefined, `${s.path} should reach no route`);
          if (reached?.route === route) reachedSame++;
          // A project that does not exist ("rm;x", "") is answered like one the caller is not in.
          const rules: readonly Role[] | 'any' | 'instance' = !reached ? allowed : reached.params.project !== undefined && reached.params.project !== 'rm' ? [] : MATRIX[reached.route];
          for (const [who, token] of callers()) {
            const res = await api.call(method, s.path, token, ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);
            const want = wantOf(who, token, rules);
            const noRoute = res.status === 404 && /^no route /.test(res.json?.error?.message ?? '');
            const where = `${route} as ${who} via ${s.path} (${s.name}, reaching ${reached?.route ?? 'no route'})`;
            if (res.status >= 500) failures.push(`${where}: ${res.status} ${res.text.slice(0, 120)}`);
            else if (want === '401' || reached) {
              if (gotOf(res.status) !== want || noRoute) failures.push(`${where}: expected ${want}, got ${res.status} ${res.text.slice(0, 120)}`);
            } else if (!noRoute) failures.push(`${where}: expected 404 (no such route), got ${res.status} ${res.text.slice(0, 120)}`);
          }
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(reachedSame >= patterns.length * 2, `only ${reachedSame} spellings reached their own route`);
    });

    test('tokens are stored hashed; a revoked token gets 401', async () => {
      const { token } = await createUser(t.store, OPERATOR, 'temp');
      assert.equal((await api.call('GET', '/api/me', token.token)).status, 200);
      const rows = await t.store.db.selectFrom('api_tokens').selectAll().execute();
      assert.ok(rows.every((r) => /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/.test(r.token_hash)), 'tokens are stored as salted scrypt');
      const dump = JSON.stringify(await t.store.db.selectFrom('audit_events').selectAll().execute()) + JSON.stringify(rows) + JSON.stringify(await t.store.db.selectFrom('users').selectAll().execute());
      for (const v of Object.values(tok).concat(token.token)) assert.ok(!dump.includes(v), 'a token is stored in clear');
      await revokeTokens(t.store, OPERATOR, 'temp');
      assert.equal((await api.call('GET', '/api/me', token.token)).status, 401);
    });
  });
}

test('deny by default: a route under /api/ without a declared permission refuses to register', async () => {
  const app = Fastify();
  registerAuth(app, {} as never);
  assert.throws(() => app.get('/api/oops', async () => 'open'), /declares no permission/);
  app.get('/api/fine', { config: { permission: 'authenticated' } }, async () => 'ok');
  await app.close();
});

test('OpenAPI document at /docs/json lists every route with its request schemas', async () => {
  const t = await freshStore('sqlite');
  const api = await startApi(t.store);
  try {
    const doc = (await api.call('GET', '/docs/json')).json;
    assert.match(doc.openapi, /^3\./);
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) => Object.keys(m).map((verb) => `${verb.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));
    assert.deepEqual(ops.sort(), Object.keys(MATRIX).sort());
    assert.ok(doc.paths['/api/projects/{project}/tasks/{task}/submit'].post.requestBody);
    assert.equal((await api.call('GET', '/docs')).status < 400, true);
  } finally {
    await api.close();
    await t.cleanup();
  }
});
