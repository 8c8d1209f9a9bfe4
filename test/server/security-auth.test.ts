// Three attacks on authentication, through the real HTTP server on both stores:
//  A. spelling /api/ another way (`/%61pi/…`, `/API/…`, `//api/…`) to skip the token check;
//  B. sending bad tokens to lock everyone behind one address (an office's NAT) out;
//  C. probing which user names exist in the store through the members route.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, startApi, usersWithRoles, type Api } from './helpers.ts';
import { apiSpellings } from './spellings.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { AuthFailureLimiter, authLimitCeilings, AUTH_LIMIT_DEFAULTS } from '../../src/server/auth-limit.ts';
import { looksLikeApiPath, securityHeaders } from '../../src/server/security.ts';
import { API_CSP } from '../../src/server/web.ts';

const fill = (url: string, itemId: number) =>
  url.replace(':project', 'enc').replace(':item', String(itemId)).replace(':task', '999999').replace(':review', '999999').replace(':webhook', '999999').replace(':user', 'nobody');

/** A well-formed token nobody holds. */
const guess = () => 'tsr_' + randomBytes(32).toString('base64url');
/** A wrong token with the same lookup key as `token` (a guess at its secret part). */
const sameKey = (token: string) => token.slice(0, 20) + randomBytes(24).toString('base64url').slice(0, 27);

test('looksLikeApiPath: every spelling of /api/ a lenient reader would take for it, and nothing else', () => {
  for (const p of ['/api/me', '/api', '/%61pi/me', '/%2561pi/me', '/%252561pi/me', '/API/me', '//api/me', '///api//me', '/api;x/me', '/Ap%49/me?x=1', '/%2F%61pi/me'])
    assert.equal(looksLikeApiPath(p), true, p);
  for (const p of ['/', '/apiary', '/docs/json', '/assets/api/x', '/x/api/me', '/%zz/api', '/ap/i'])
    assert.equal(looksLikeApiPath(p), false, p);
});

test('an HTML answer of an API route reached as /%61pi/ still gets the API policy (sandbox), not the UI\'s', async () => {
  const app = Fastify();
  securityHeaders(app);
  app.get('/api/page', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<p>item</p>'));
  try {
    for (const url of ['/api/page', '/%61pi/page', '/ap%69/page']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-security-policy'], API_CSP, url);
    }
  } finally {
    await app.close();
  }
});

for (const kind of STORE_KINDS) {
  describe(`security-auth A: authentication by matched route, whatever the spelling of /api/ (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let itemId = 0;
    let admin = '';

    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'enc', ['one', 'two']);
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
      ({ 'enc-admin': admin } = await usersWithRoles(t.store, p, { 'enc-admin': 'admin' }));
      itemId = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', p.id).orderBy('id').executeTakeFirstOrThrow()).id;
      api = await startApi(t.store, { pollMs: 3_600_000 });
    });
    after(async () => {
      await api.close();
      await t.cleanup();
    });

    test('GET /%61pi/projects/{p}/audit/verify without a token is 401 (it answered the audit chain)', async () => {
      const res = await api.call('GET', '/%61pi/projects/enc/audit/verify');
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.error.code, 'E_UNAUTHORIZED');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.equal(res.text.includes('"head"'), false);
      // The same route with the admin's token, so the spelling reaches it.
      assert.equal((await api.call('GET', '/%61pi/projects/enc/audit/verify', admin)).json.ok, true);
    });

    test('every registered route (and HEAD of each GET), under every spelling of /api/: 401 without a token or with a bad one, before its body is read — never 500', async () => {
      const failures: string[] = [];
      const routes = api.app.apiRoutes.flatMap((r) => (r.method === 'GET' ? [r.method, 'HEAD'] : [r.method]).map((method) => ({ method, url: r.url })));
      assert.ok(routes.length >= 50, `only ${routes.length} routes`);
      let calls = 0;
      for (const r of routes) {
        for (const s of apiSpellings(fill(r.url, itemId))) {
          for (const [who, token] of [['no token', undefined], ['unknown token', guess()], ['malformed token', 'tsr_short']] as const) {
            // A body that fails every route's schema: a 400 here would mean it was validated before authentication.
            const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) ? { surely: 'not allowed' } : undefined;
            const res = await api.call(r.method, s.path, token, body);
            calls++;
            if (res.status !== 401) failures.push(`${r.method} ${s.path} (${s.name}) with ${who}: ${res.status} ${res.text.slice(0, 120)}`);
            else if (r.method !== 'HEAD' && res.json?.error?.code !== 'E_UNAUTHORIZED') failures.push(`${r.method} ${s.path} (${s.name}) with ${who}: body ${res.text.slice(0, 120)}`);
            else if (res.headers.get('content-security-policy') !== API_CSP) failures.push(`${r.method} ${s.path} (${s.name}): CSP ${res.headers.get('content-security-policy')}`);
          }
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(calls > 1000, `${calls} calls`);
    });
  });

  describe(`security-auth B: failed authentications cannot lock an office out (${kind})`, () => {
    let t: TestStore;
    let tok: Record<string, string>;
    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'office', ['x']);
      tok = await usersWithRoles(t.store, p, { alice: 'viewer', bob: 'viewer', carol: 'annotator', dave: 'viewer' });
    });
    after(async () => t.cleanup());

    /** Every minute of these tests is its own window (the clock is fixed within a test). */
    let minute = 0;
    const clock = () => {
      const now = Date.UTC(2026, 0, 1, 9, minute++, 10);
      return () => now;
    };
    const office = (api: Api) => Promise.all(['alice', 'bob', 'carol'].map(async (u) => (await api.call('GET', '/api/me', tok[u])).status));

    test('office behind one address: one user mistyping their token 30 times locks only that token key there; everyone else signs in', async () => {
      const api = await startApi(t.store, undefined, { authLimit: { now: clock() } });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++) statuses.push((await api.call('GET', '/api/me', sameKey(tok.dave))).status);
        assert.deepEqual(statuses, [...Array(10).fill(401), ...Array(20).fill(429)]);
        assert.equal((await api.call('GET', '/api/me', tok.dave)).status, 429, 'dave\'s own token key is throttled from this address (no signal for a right guess)');
        assert.deepEqual(await office(api), [200, 200, 200]);
      } finally {
        await api.close();
      }
    });

    test('office behind one address: an attacker among them spraying 150 random tokens is cut off at the address ceiling (100: 401, then 429 with Retry-After), yet every correct token still signs in', async () => {
      const api = await startApi(t.store, undefined, { authLimit: { now: clock() } });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 150; i++) statuses.push((await api.call('GET', '/api/me', guess())).status);
        assert.deepEqual(statuses, [...Array(AUTH_LIMIT_DEFAULTS.perAddress).fill(401), ...Array(50).fill(429)]);
        const limited = await api.call('GET', '/api/me', guess());
        assert.equal(limited.status, 429);
        assert.equal(limited.json.error.code, 'E_RATE_LIMITED');
        assert.equal(limited.headers.get('retry-after'), '50');
        assert.equal((await api.call('GET', '/api/me', 'tsr_malformed')).status, 429, 'a malformed token from the throttled address');
        assert.equal((await api.call('GET', '/api/me', sameKey(tok.alice))).status, 429, 'a wrong secret for a real key from the throttled address');
        assert.deepEqual(await office(api), [200, 200, 200]);
        assert.equal((await api.call('GET', '/api/me')).status, 401, 'a request without a credential is not limited');
      } finally {
        await api.close();
      }
    });

    test('per token key and address: 10 wrong secrets for one key lock that key from that address (a correct token too) until the window ends; from another address it still works', async () => {
      let now = Date.UTC(2026, 0, 1, 10, 0, 10);
      const api = await startApi(t.store, undefined, { authLimit: { now: () => now }, trustProxy: true });
      try {
        const from = (token: string, ip: string) => fetch(`${api.base}/api/me`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip } });
        for (let i = 0; i < 10; i++) assert.equal((await from(sameKey(tok.bob), '203.0.113.7')).status, 401, `guess ${i + 1}`);
        const limited = await from(sameKey(tok.bob), '203.0.113.7');
        assert.equal(limited.status, 429);
        assert.equal(limited.headers.get('retry-after'), '50');
        assert.equal((await from(tok.bob, '203.0.113.7')).status, 429, 'bob\'s token is throttled from the guessing address');
        assert.equal((await from(tok.alice, '203.0.113.7')).status, 200, 'another token from the same address is not');
        assert.equal((await from(tok.bob, '203.0.113.8')).status, 200, 'bob from another address is not');
        now += 50_000;
        assert.equal((await from(tok.bob, '203.0.113.7')).status, 200, 'the next window starts clean');
      } finally {
        await api.close();
      }
    });

    test('per token key from all addresses: wrong secrets for one key, one per address, lock that key everywhere at its ceiling (here 15: each wrong secret costs an scrypt); other tokens are not', async () => {
      const api = await startApi(t.store, undefined, { authLimit: { now: clock(), perToken: 15 }, trustProxy: true });
      try {
        const from = (token: string, i: number) => fetch(`${api.base}/api/me`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': `198.51.100.${i}` } });
        for (let i = 0; i < 15; i++) assert.equal((await from(sameKey(tok.carol), i)).status, 401, `guess ${i + 1}`);
        assert.equal((await from(sameKey(tok.carol), 200)).status, 429, 'the next guess, from a fresh address');
        assert.equal((await from(tok.carol, 201)).status, 429, 'the attacked key is throttled from a fresh address too');
        assert.equal((await from(tok.bob, 202)).status, 200, 'another token is unaffected');
      } finally {
        await api.close();
      }
    });

    test('the ceilings come from the options, else TESSERA_AUTH_FAILURES_PER_{ADDRESS_TOKEN,TOKEN,ADDRESS}, else TESSERA_AUTH_FAILURES_PER_MINUTE, else 10/50/100; bad values are refused by name', async () => {
      assert.deepEqual(authLimitCeilings({}, {}), { perAddressToken: 10, perToken: 50, perAddress: 100 });
      assert.deepEqual(authLimitCeilings({}, { TESSERA_AUTH_FAILURES_PER_ADDRESS_TOKEN: '3', TESSERA_AUTH_FAILURES_PER_TOKEN: '7', TESSERA_AUTH_FAILURES_PER_ADDRESS: '500' }), { perAddressToken: 3, perToken: 7, perAddress: 500 });
      assert.deepEqual(authLimitCeilings({}, { TESSERA_AUTH_FAILURES_PER_MINUTE: '20', TESSERA_AUTH_FAILURES_PER_ADDRESS: '400' }), { perAddressToken: 20, perToken: 20, perAddress: 400 });
      assert.deepEqual(authLimitCeilings({ perAddress: 5 }, { TESSERA_AUTH_FAILURES_PER_ADDRESS: '400' }), { perAddressToken: 10, perToken: 50, perAddress: 5 });
      assert.deepEqual(authLimitCeilings({ max: 2, perToken: 9 }, { TESSERA_AUTH_FAILURES_PER_ADDRESS: '400' }), { perAddressToken: 2, perToken: 9, perAddress: 2 });
      assert.throws(() => authLimitCeilings({}, { TESSERA_AUTH_FAILURES_PER_ADDRESS: 'lots' }), /TESSERA_AUTH_FAILURES_PER_ADDRESS="lots": expected a positive whole number/);
      assert.throws(() => authLimitCeilings({}, { TESSERA_AUTH_FAILURES_PER_TOKEN: '0' }), /TESSERA_AUTH_FAILURES_PER_TOKEN="0"/);
      assert.throws(() => authLimitCeilings({ perAddress: 1.5 }, {}), /perAddress=1.5/);
      // Through the environment of a real server: an address ceiling of 3.
      const saved = process.env.TESSERA_AUTH_FAILURES_PER_ADDRESS;
      process.env.TESSERA_AUTH_FAILURES_PER_ADDRESS = '3';
      try {
        assert.equal(new AuthFailureLimiter(t.store).perAddress, 3);
        const api = await startApi(t.store, undefined, { authLimit: { now: clock() } });
        try {
          const statuses: number[] = [];
          for (let i = 0; i < 5; i++) statuses.push((await api.call('GET', '/api/me', guess())).status);
          assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
          assert.equal((await api.call('GET', '/api/me', tok.alice)).status, 200);
        } finally {
          await api.close();
        }
      } finally {
        if (saved === undefined) delete process.env.TESSERA_AUTH_FAILURES_PER_ADDRESS;
        else process.env.TESSERA_AUTH_FAILURES_PER_ADDRESS = saved;
      }
    });

    test('two server processes on one store add up their counts, per address and per token key (the auth_failures table, hashed keys)', async () => {
      const now = clock();
      const opts = { authLimit: { now, perAddress: 20 } };
      const a = await startApi(t.store, undefined, opts);
      const b = await startApi(t.store, undefined, opts);
      try {
        for (let i = 0; i < 5; i++) assert.equal((await a.call('GET', '/api/me', sameKey(tok.dave))).status, 401);
        for (let i = 0; i < 5; i++) assert.equal((await b.call('GET', '/api/me', sameKey(tok.dave))).status, 401);
        assert.equal((await a.call('GET', '/api/me', sameKey(tok.dave))).status, 429, 'A saw 5 failures for the key, B 5: the 11th is refused');
        assert.equal((await b.call('GET', '/api/me', tok.dave)).status, 429);
        assert.equal((await b.call('GET', '/api/me', tok.bob)).status, 200);
        for (let i = 0; i < 5; i++) assert.equal((await a.call('GET', '/api/me', guess())).status, 401);
        for (let i = 0; i < 5; i++) assert.equal((await b.call('GET', '/api/me', guess())).status, 401);
        assert.equal((await a.call('GET', '/api/me', guess())).status, 429, '20 failures from the address across A and B: the next is refused');
        assert.equal((await a.call('GET', '/api/me', tok.alice)).status, 200, 'a correct token still passes');
        const rows = await t.store.db.selectFrom('auth_failures').selectAll().execute();
        assert.ok(rows.length > 0);
        assert.ok(rows.every((r) => /^(ip|ik|tok):[0-9a-f]{32}$/.test(r.key)), 'keys are hashed: no address or token in the table');
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe(`security-auth C: the members route does not reveal which user names exist (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let ada = '';
    before(async () => {
      t = await freshStore(kind);
      const mine = await projectWithItems(t.store, 'mine', ['x']);
      const managed = await projectWithItems(t.store, 'managed', ['x']);
      const labelled = await projectWithItems(t.store, 'labelled', ['x']);
      const theirs = await projectWithItems(t.store, 'theirs', ['x']);
      ({ ada } = await usersWithRoles(t.store, mine, { ada: 'admin', mel: 'viewer' }));
      // ada manages "managed" (may list its members: bea is visible to her) …
      await usersWithRoles(t.store, managed, { bea: 'viewer' });
      await setRole(t.store, managed, OPERATOR, 'ada', 'manager');
      // … only annotates in "labelled" (may not list its members: sam is not) …
      await usersWithRoles(t.store, labelled, { sam: 'annotator' });
      await setRole(t.store, labelled, OPERATOR, 'ada', 'annotator');
      // … and is not in "theirs" at all; lone has no project.
      await usersWithRoles(t.store, theirs, { fay: 'admin', foe: 'annotator' });
      await createUser(t.store, OPERATOR, 'lone');
      api = await startApi(t.store);
    });
    after(async () => {
      await api.close();
      await t.cleanup();
    });

    const counts = async () => ({
      memberships: Number((await t.store.db.selectFrom('memberships').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
      audit: Number((await t.store.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    });
    /** The answer with the name it echoes replaced, so answers for different names compare. */
    const shape = (res: { status: number; text: string; headers: Headers }, name: string) => ({ status: res.status, body: res.text.replaceAll(`"${name}"`, '"<name>"').replaceAll(`\\"${name}\\"`, '\\"<name>\\"'), type: res.headers.get('content-type') });

    test('PUT …/members/{user}: an unknown name and a user ada may not see (other projects, a project she only annotates in, no project) get the same 404; nothing is written', async () => {
      const before = await counts();
      const answers = [];
      for (const name of ['ghost', 'fay', 'foe', 'sam', 'lone']) answers.push(shape(await api.call('PUT', `/api/projects/mine/members/${name}`, ada, { role: 'viewer' }), name));
      assert.equal(answers[0].status, 404);
      assert.match(answers[0].body, /"code":"E_NOT_FOUND"/);
      assert.match(answers[0].body, /user \\"<name>\\" not found among the members of the projects you manage/);
      for (const a of answers) assert.deepEqual(a, answers[0]);
      assert.deepEqual(await counts(), before, 'no membership and no audit event for a refused grant');
    });

    test('PUT …/members/{user}: users ada can see are granted (a member of a project she manages; a member of this one)', async () => {
      const bea = await api.call('PUT', '/api/projects/mine/members/bea', ada, { role: 'reviewer' });
      assert.equal(bea.status, 200, bea.text);
      assert.deepEqual(bea.json, { user: 'bea', role: 'reviewer', previous: null });
      const mel = await api.call('PUT', '/api/projects/mine/members/mel', ada, { role: 'annotator' });
      assert.deepEqual(mel.json, { user: 'mel', role: 'annotator', previous: 'viewer' });
      // Now a member of "mine", bea is visible to ada in every way.
      assert.equal((await api.call('DELETE', '/api/projects/mine/members/bea', ada)).status, 200);
    });

    test('DELETE …/members/{user}: an unknown name, a user ada may not see and a visible non-member get the same 404', async () => {
      const answers = [];
      for (const name of ['ghost', 'foe', 'lone', 'bea']) answers.push(shape(await api.call('DELETE', `/api/projects/mine/members/${name}`, ada), name));
      assert.equal(answers[0].status, 404);
      for (const a of answers) assert.deepEqual(a, answers[0]);
    });
  });
}
