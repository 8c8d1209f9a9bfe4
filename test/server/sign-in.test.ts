// Sign-in with OpenID Connect against a real provider (oidc-provider on 127.0.0.1, its own login
// form, test/helpers/oidc-provider.ts): the whole authorization-code flow over HTTP, each
// redirect followed by hand with a cookie jar — PKCE S256, state and nonce; wrong state, replayed
// code and a tampered verifier refused; the session cookie's attributes; expired, idle and
// revoked sessions refused; CSRF on cookie-authenticated writes while bearer tokens need none;
// the roles claim and the admin group applied at each login (audit-logged, role periods kept);
// a username that belongs to an unlinked local user refused; sign-out; bad session cookies
// counted by the failure limit; a public client; both stores.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { startOidcProvider, type TestProvider } from '../helpers/oidc-provider.ts';
import { CookieJar, type JarResponse } from '../helpers/cookie-jar.ts';
import { tessera } from '../helpers/cli.ts';
import { OPERATOR, projectWithItems, startApi, usersWithRoles, type Api } from './helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { createUser, findUser, isInstanceAdmin, membershipsOf } from '../../src/label/users.ts';
import { linkExternalUser } from '../../src/label/external-users.ts';
import type { OidcOptions } from '../../src/server/oidc/settings.ts';

const SECRET = 'tessera-test-client-secret';
const s256 = (v: string) => createHash('sha256').update(v).digest('base64url');
const sha256hex = (v: string) => createHash('sha256').update(v).digest('hex');

const oidcOptions = (issuer: string, extra: Partial<OidcOptions> = {}): OidcOptions => ({
  issuer,
  clientId: 'tessera',
  clientSecret: SECRET,
  scopes: ['openid', 'profile', 'email', 'groups', 'roles'],
  rolesClaim: 'tessera_roles',
  adminGroup: 'tessera-admins',
  name: 'Test IdP',
  ...extra,
});

interface Flow {
  /** The provider's authorization URL Tessera redirected to. */
  authorize: URL;
  /** Where the provider sent the browser back (Tessera's callback with code and state). */
  callback: string;
  /** The login cookie's state, as the browser held it before the callback. */
  loginState: string | undefined;
}

/**
 * A person signing in: Tessera's /auth/login, then the provider's pages (the login form is
 * filled in when it is shown; a provider session already open skips it), until the provider
 * redirects back to Tessera. The callback itself is left to the test.
 */
async function toCallback(jar: CookieJar, api: Api, idp: TestProvider, login: string, password: string): Promise<Flow> {
  const start = await jar.fetch(api.base + '/auth/login');
  assert.equal(start.status, 303, start.text);
  const authorize = new URL(start.location!);
  assert.equal(authorize.origin, idp.issuer);
  const loginState = jar.cookie(api.base, 'tessera_login');
  let r: JarResponse = await jar.fetch(authorize.href);
  for (let hops = 0; hops < 10; hops++) {
    if (r.location?.startsWith(api.base)) return { authorize, callback: r.location, loginState };
    if (r.status === 200 && /<form method="post"/.test(r.text)) {
      const action = /action="([^"]+)"/.exec(r.text)![1];
      r = await jar.fetch(new URL(action, idp.issuer).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ login, password }).toString() });
      if (r.status === 200) throw new Error(`the provider refused the login: ${r.text}`);
      continue;
    }
    assert.ok(r.location, `the provider answered ${r.status} without a redirect: ${r.text.slice(0, 300)}`);
    r = await jar.fetch(r.location);
  }
  throw new Error('too many redirects');
}

/** The whole sign-in; returns the callback's answer (a redirect to the UI with the session cookie, or a page). */
async function signIn(jar: CookieJar, api: Api, idp: TestProvider, login: string, password = 'pw-' + login): Promise<JarResponse> {
  const flow = await toCallback(jar, api, idp, login, password);
  return jar.fetch(flow.callback);
}

const withCookie = (jar: CookieJar, api: Api) => ({ cookie: `tessera_session=${jar.cookie(api.base, 'tessera_session')}` });

async function me(jar: CookieJar, api: Api): Promise<JarResponse> {
  return jar.fetch(api.base + '/api/me');
}

for (const kind of STORE_KINDS) {
  describe(`sign-in with OpenID Connect (${kind})`, () => {
    let t: TestStore;
    let idp: TestProvider;
    let api: Api;
    let pub: Api;
    let limited: Api;
    let tok: Record<string, string>;
    let adminToken: string;

    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'demo', ['one', 'two', 'three', 'four']);
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
      await projectWithItems(t.store, 'other', ['x']);
      tok = await usersWithRoles(t.store, p, { 'token-annotator': 'annotator', bob: 'viewer' });
      adminToken = (await createUser(t.store, OPERATOR, 'root', undefined, { admin: true })).token.token;
      idp = await startOidcProvider({
        alice: { password: 'pw-alice', claims: { preferred_username: 'alice', name: 'Alice Example', email: 'alice@example.org', groups: ['staff'], tessera_roles: ['demo:annotator', 'nosuch:viewer', 'demo:bogus'] } },
        'bob-idp': { password: 'pw-bob-idp', claims: { preferred_username: 'bob', name: 'Bob at the IdP', tessera_roles: ['demo:viewer'] } },
        carol: { password: 'pw-carol', claims: { preferred_username: 'carol', tessera_roles: ['demo:reviewer'], groups: ['tessera-admins'] } },
        dave: { password: 'pw-dave', claims: { preferred_username: 'dave', tessera_roles: [] } },
        erin: { password: 'pw-erin', claims: { preferred_username: 'erin', tessera_roles: ['demo:annotator'] } },
      });
      api = await startApi(t.store, undefined, { oidc: oidcOptions(idp.issuer) });
      pub = await startApi(t.store, undefined, { oidc: oidcOptions(idp.issuer, { clientId: 'tessera-public', clientSecret: undefined }) });
      limited = await startApi(t.store, undefined, { oidc: oidcOptions(idp.issuer), authLimit: { perAddress: 3, perAddressToken: 1000, perToken: 1000, shared: false } });
      idp.configure([
        { client_id: 'tessera', client_secret: SECRET, redirect_uris: [api.base + '/auth/callback', limited.base + '/auth/callback'] },
        { client_id: 'tessera-public', redirect_uris: [pub.base + '/auth/callback'] },
      ]);
    });
    after(async () => {
      await api.close();
      await pub.close();
      await limited.close();
      await idp.close();
      await t.cleanup();
    });

    test('GET /auth/config names the provider for the sign-in button', async () => {
      const r = await api.call('GET', '/auth/config');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { oidc: { name: 'Test IdP', loginUrl: '/auth/login' }, sessionCookie: false });
    });

    test('the whole code flow: PKCE S256, state and nonce to the provider; its login form; a session cookie (HttpOnly, SameSite=Strict, Path=/); signed in at /api/me with a CSRF token', async () => {
      const jar = new CookieJar();
      const flow = await toCallback(jar, api, idp, 'alice', 'pw-alice');
      const q = flow.authorize.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), 'tessera');
      assert.equal(q.get('redirect_uri'), api.base + '/auth/callback');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('scope')!, /\bopenid\b/);
      assert.ok(q.get('nonce') && q.get('state'));
      // The state is bound to this browser by a short-lived cookie; the verifier stays on the server.
      const loginCookie = jar.seen.find((c) => c.name === 'tessera_login')!;
      assert.equal(loginCookie.value, q.get('state'));
      assert.equal(loginCookie.attrs.httponly, true);
      assert.equal(String(loginCookie.attrs.samesite).toLowerCase(), 'lax');
      assert.equal(loginCookie.attrs.path, '/auth/callback');
      const row = await t.store.db.selectFrom('oidc_logins').selectAll().where('state_hash', '=', sha256hex(q.get('state')!)).executeTakeFirstOrThrow();
      assert.equal(s256(row.code_verifier), q.get('code_challenge'), 'the challenge is S256 of the stored verifier');
      assert.equal(row.nonce, q.get('nonce'));
      assert.ok(!JSON.stringify(q.toString()).includes(row.code_verifier), 'the verifier never leaves the server');
      // The provider used its token endpoint (the code exchange) and its userinfo endpoint.
      const done = await jar.fetch(flow.callback);
      assert.equal(done.status, 303, done.text);
      assert.equal(done.location, api.base + '/#/');
      const session = jar.lastSet(api.base, 'tessera_session')!;
      assert.match(session.value, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(session.attrs.httponly, true);
      assert.equal(String(session.attrs.samesite).toLowerCase(), 'strict');
      assert.equal(session.attrs.path, '/');
      assert.equal(session.attrs.secure, undefined, 'not Secure on a loopback http address');
      assert.equal(Number(session.attrs['max-age']), 12 * 3600);
      assert.equal(jar.cookie(api.base, 'tessera_login'), undefined, 'the login cookie is dropped');
      // The code was exchanged, the ID token's signature checked against the provider's keys, and
      // the profile claims fetched from userinfo (this provider keeps them out of the ID token).
      assert.ok(['POST /token', 'GET /jwks', 'GET /me'].every((x) => idp.seen.includes(x)), idp.seen.join(', '));
      assert.equal((await jar.fetch(api.base + '/auth/config')).json.sessionCookie, true);
      const m = await me(jar, api);
      assert.equal(m.status, 200, m.text);
      assert.equal(m.json.user.name, 'alice');
      assert.equal(m.json.user.displayName, 'Alice Example');
      assert.equal(m.json.auth.via, 'session');
      assert.match(m.json.auth.csrfToken, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(m.headers.get('cache-control'), 'no-store');
      // Only a hash of the session secret is stored.
      const stored = await t.store.db.selectFrom('sessions').selectAll().execute();
      assert.ok(stored.length >= 1 && !JSON.stringify(stored).includes(session.value));
      const user = await t.store.db.selectFrom('users').selectAll().where('name', '=', 'alice').executeTakeFirstOrThrow();
      assert.equal(user.external_issuer, idp.issuer);
      assert.equal(user.external_sub, 'alice');
      assert.equal((await t.store.db.selectFrom('api_tokens').select('id').where('user_id', '=', user.id).execute()).length, 0, 'no API token is made for a person who signs in');
    });

    test('the provider refuses a wrong password (its own form says so)', async () => {
      await assert.rejects(toCallback(new CookieJar(), api, idp, 'alice', 'wrong'), /wrong username or password/);
    });

    test('wrong state, no login cookie, a replayed callback and a code replayed into another login are refused; a tampered verifier fails the provider\'s PKCE check', async () => {
      const jar = new CookieJar();
      const flow = await toCallback(jar, api, idp, 'alice', 'pw-alice');
      const wrong = new URL(flow.callback);
      wrong.searchParams.set('state', 'x' + wrong.searchParams.get('state'));
      let r = await jar.fetch(wrong.href);
      assert.equal(r.status, 400);
      assert.match(r.text, /does not belong to a sign-in started in this browser/);
      assert.equal(jar.lastSet(api.base, 'tessera_session'), undefined);

      // The right callback from a browser without the login cookie (another browser): refused.
      r = await new CookieJar().fetch(flow.callback);
      assert.equal(r.status, 400);

      // With the cookie restored it goes through once; the same callback again finds nothing.
      jar.set(api.base, 'tessera_login', flow.loginState!, '/auth/callback');
      r = await jar.fetch(flow.callback);
      assert.equal(r.status, 303, r.text);
      jar.set(api.base, 'tessera_login', flow.loginState!, '/auth/callback');
      r = await jar.fetch(flow.callback);
      assert.equal(r.status, 400);
      assert.match(r.text, /already used or has expired/);

      // The used code inside a fresh login (new state, its own verifier): the provider refuses it.
      const jar2 = new CookieJar();
      const flow2 = await toCallback(jar2, api, idp, 'alice', 'pw-alice');
      const replay = new URL(flow2.callback);
      replay.searchParams.set('code', new URL(flow.callback).searchParams.get('code')!);
      r = await jar2.fetch(replay.href);
      assert.equal(r.status, 400);
      assert.match(r.text, /invalid_grant/);

      // A login whose stored verifier no longer matches the challenge the provider saw.
      const jar3 = new CookieJar();
      const flow3 = await toCallback(jar3, api, idp, 'alice', 'pw-alice');
      await t.store.db.updateTable('oidc_logins').set({ code_verifier: randomBytes(32).toString('base64url') }).where('state_hash', '=', sha256hex(flow3.authorize.searchParams.get('state')!)).execute();
      r = await jar3.fetch(flow3.callback);
      assert.equal(r.status, 400);
      assert.match(r.text, /invalid_grant/);
      assert.equal(jar3.lastSet(api.base, 'tessera_session'), undefined);
    });

    test('the roles claim sets the memberships at each login (unknown projects and roles ignored), through setRole: audit-logged, role periods kept', async () => {
      const jar = new CookieJar();
      assert.equal((await signIn(jar, api, idp, 'alice')).status, 303);
      const alice = (await findUser(t.store.db, 'alice'))!;
      assert.deepEqual((await membershipsOf(t.store.db, alice.id)).map((m) => `${m.project}:${m.role}`), ['demo:annotator']);

      // The provider now says reviewer in demo, viewer in other.
      idp.accounts.alice.claims.tessera_roles = ['demo:reviewer', 'other:viewer'];
      assert.equal((await signIn(new CookieJar(), api, idp, 'alice')).status, 303);
      assert.deepEqual((await membershipsOf(t.store.db, alice.id)).map((m) => `${m.project}:${m.role}`), ['demo:reviewer', 'other:viewer']);
      // Then nothing in other.
      idp.accounts.alice.claims.tessera_roles = ['demo:annotator'];
      assert.equal((await signIn(new CookieJar(), api, idp, 'alice')).status, 303);
      assert.deepEqual((await membershipsOf(t.store.db, alice.id)).map((m) => `${m.project}:${m.role}`), ['demo:annotator']);

      const events = await t.store.db.selectFrom('audit_events').select(['action', 'actor', 'payload']).where('subject', '=', `user:${alice.id}`).where('action', 'in', ['member.set', 'member.remove']).orderBy('seq').execute();
      const said = events.map((e) => {
        const p = JSON.parse(e.payload);
        return `${e.action} ${p.role ?? '-'} (was ${p.previous ?? '-'})`;
      });
      assert.ok(events.every((e) => e.actor === `oidc:${idp.issuer}`), JSON.stringify(events));
      assert.deepEqual(said.slice(-4), ['member.set reviewer (was annotator)', 'member.set viewer (was -)', 'member.set annotator (was reviewer)', 'member.remove - (was viewer)']);
      // The reviewer period is on record: assignment will not serve alice blind items from then.
      const periods = await t.store.db.selectFrom('role_periods').select(['role', 'to_at']).where('user_id', '=', alice.id).orderBy('id').execute();
      assert.ok(periods.some((p) => p.role === 'reviewer' && p.to_at !== null));
      assert.equal(periods.filter((p) => p.to_at === null).length, 1);
    });

    test('the admin group makes an instance admin, and taking it away at the provider takes it away at the next login', async () => {
      assert.equal((await signIn(new CookieJar(), api, idp, 'carol')).status, 303);
      const carol = (await findUser(t.store.db, 'carol'))!;
      assert.equal(await isInstanceAdmin(t.store.db, carol.id), true);
      idp.accounts.carol.claims.groups = ['staff'];
      assert.equal((await signIn(new CookieJar(), api, idp, 'carol')).status, 303);
      assert.equal(await isInstanceAdmin(t.store.db, carol.id), false);
      const admin = await t.store.db.selectFrom('audit_events').select('payload').where('action', '=', 'user.admin').where('subject', '=', `user:${carol.id}`).execute();
      assert.deepEqual(admin.map((e) => JSON.parse(e.payload).admin), [true, false]);
    });

    test('a provider account whose username is an existing local user is refused with a page saying why, until an operator links the two', async () => {
      const jar = new CookieJar();
      const r = await signIn(jar, api, idp, 'bob-idp');
      assert.equal(r.status, 403);
      assert.match(r.headers.get('content-type')!, /text\/html/);
      assert.match(r.text, /a Tessera user named &#34;bob&#34; already exists and is not linked/);
      assert.match(r.text, /tessera users link bob --sub bob-idp/);
      assert.equal(jar.lastSet(api.base, 'tessera_session'), undefined);
      const bob = (await findUser(t.store.db, 'bob'))!;
      assert.equal(bob.displayName, 'bob', 'the local account is untouched');
      await linkExternalUser(t.store, OPERATOR, 'bob', idp.issuer, 'bob-idp');
      const ok = await signIn(new CookieJar(), api, idp, 'bob-idp');
      assert.equal(ok.status, 303, ok.text);
      // bob's own token still works, and the session is bob's.
      assert.equal((await api.call('GET', '/api/me', tok.bob)).json.user.name, 'bob');
    });

    test('CSRF: a cookie-authenticated write without the token (or with a wrong one) is a 403 E_CSRF; with it, allowed; bearer requests need none; a bearer header wins over the cookie', async () => {
      // erin has only ever been an annotator (alice was a reviewer above: she is never served blind items from then).
      const jar = new CookieJar();
      assert.equal((await signIn(jar, api, idp, 'erin')).status, 303);
      const csrf = (await me(jar, api)).json.auth.csrfToken as string;
      const next = (headers: Record<string, string>) => jar.fetch(api.base + '/api/projects/demo/tasks/next', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
      let r = await next({});
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, 'E_CSRF');
      r = await next({ 'x-csrf-token': csrf.slice(1) + 'A' });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, 'E_CSRF');
      r = await next({ 'x-csrf-token': csrf });
      assert.ok(r.status === 200 || r.status === 201, `${r.status} ${r.text}`);
      assert.ok(r.json.task?.id, `a task was leased: ${r.text}`);
      // Another session's token does not fit this session.
      const other = new CookieJar();
      assert.equal((await signIn(other, api, idp, 'erin')).status, 303);
      const otherCsrf = (await me(other, api)).json.auth.csrfToken as string;
      assert.notEqual(otherCsrf, csrf);
      assert.equal((await next({ 'x-csrf-token': otherCsrf })).status, 403);
      // A bearer token: no CSRF token needed.
      const b = await api.call('POST', '/api/projects/demo/tasks/next', tok['token-annotator'], {});
      assert.ok(b.status === 200 || b.status === 201, `${b.status} ${b.text}`);
      assert.ok(b.json.task?.id, b.text);
      // An Authorization header decides, even next to a valid session cookie.
      const both = await fetch(api.base + '/api/me', { headers: { ...withCookie(jar, api), authorization: 'Bearer tsr_' + 'A'.repeat(43) } });
      assert.equal(both.status, 401);
      // GET needs no CSRF token.
      assert.equal((await me(jar, api)).status, 200);
    });

    test('an expired session and an idle one are refused with a message saying which, and the cookie is dropped', async () => {
      const jar = new CookieJar();
      assert.equal((await signIn(jar, api, idp, 'alice')).status, 303);
      const secret = jar.cookie(api.base, 'tessera_session')!;
      const row = await t.store.db.selectFrom('sessions').select(['id']).orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal((await me(jar, api)).status, 200);
      await t.store.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', row.id).execute();
      let r = await me(jar, api);
      assert.equal(r.status, 401);
      assert.match(r.json.error.message, /your session expired at/);
      const dropped = jar.lastSet(api.base, 'tessera_session')!;
      assert.equal(dropped.value, '');
      assert.equal(jar.cookie(api.base, 'tessera_session'), undefined);

      // Idle: no request for longer than the idle timeout (1 h by default).
      await t.store.db
        .updateTable('sessions')
        .set({ expires_at: new Date(Date.now() + 3_600_000).toISOString(), last_seen_at: new Date(Date.now() - 3_601_000).toISOString() })
        .where('id', '=', row.id)
        .execute();
      jar.set(api.base, 'tessera_session', secret);
      r = await me(jar, api);
      assert.equal(r.status, 401);
      assert.match(r.json.error.message, /without activity/);
    });

    test('an instance admin lists and revokes sessions (API); a revoked session is refused at its next request; others may not', async () => {
      const jar = new CookieJar();
      assert.equal((await signIn(jar, api, idp, 'dave')).status, 303);
      assert.equal((await me(jar, api)).status, 200);
      const list = await api.call('GET', '/api/users/dave/sessions', adminToken);
      assert.equal(list.status, 200);
      assert.equal(list.json.sessions[0].state, 'active');
      assert.equal((await api.call('GET', '/api/users/dave/sessions', tok['token-annotator'])).status, 403);
      // A user's session is not an admin's: dave may not list his own through the admin route.
      const davecsrf = (await me(jar, api)).json.auth.csrfToken;
      assert.equal((await jar.fetch(api.base + '/api/users/dave/sessions', { headers: { 'x-csrf-token': davecsrf } })).status, 403);
      const rev = await api.call('DELETE', '/api/users/dave/sessions', adminToken);
      assert.equal(rev.status, 200);
      assert.equal(rev.json.revoked, 1);
      const r = await me(jar, api);
      assert.equal(r.status, 401);
      assert.match(r.json.error.message, /signed out or revoked/);
      assert.equal((await api.call('GET', '/api/users/dave/sessions', adminToken)).json.sessions[0].state, 'revoked');
      assert.equal((await api.call('DELETE', '/api/users/dave/sessions?session=999999', adminToken)).status, 404);
      // dave had no roles in the claim: he exists with none.
      assert.deepEqual(await membershipsOf(t.store.db, (await findUser(t.store.db, 'dave'))!.id), []);
    });

    test('signing out needs the CSRF token, ends the session and drops the cookie', async () => {
      const jar = new CookieJar();
      assert.equal((await signIn(jar, api, idp, 'alice')).status, 303);
      const secret = jar.cookie(api.base, 'tessera_session')!;
      const csrf = (await me(jar, api)).json.auth.csrfToken;
      let r = await jar.fetch(api.base + '/auth/logout', { method: 'POST' });
      assert.equal(r.status, 403);
      assert.equal((await me(jar, api)).status, 200, 'still signed in');
      r = await jar.fetch(api.base + '/auth/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { signedOut: true });
      assert.equal(jar.cookie(api.base, 'tessera_session'), undefined);
      const again = await fetch(api.base + '/api/me', { headers: { cookie: `tessera_session=${secret}` } });
      assert.equal(again.status, 401);
      const ended = await t.store.db.selectFrom('sessions').select(['revoked_by']).where('secret_hash', '=', sha256hex(`tessera-session\n${secret}`)).executeTakeFirstOrThrow();
      assert.equal(ended.revoked_by, 'signed out');
    });

    test('bad session cookies count against the address\'s failure limit (429), while a valid session from that address still gets through', async () => {
      const jar = new CookieJar();
      assert.equal((await signIn(jar, limited, idp, 'alice')).status, 303);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(limited.base + '/api/me', { headers: { cookie: `tessera_session=${randomBytes(32).toString('base64url')}` } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      assert.equal((await me(jar, limited)).status, 200);
    });

    test('a public client (no secret) signs in with PKCE alone', async () => {
      const jar = new CookieJar();
      const flow = await toCallback(jar, pub, idp, 'alice', 'pw-alice');
      assert.equal(flow.authorize.searchParams.get('client_id'), 'tessera-public');
      const r = await jar.fetch(flow.callback);
      assert.equal(r.status, 303, r.text);
      assert.equal((await me(jar, pub)).json.user.name, 'alice');
    });

    if (kind === 'sqlite') {
      test('CLI: tessera users sessions NAME lists them; users revoke NAME --sessions revokes them', async () => {
        const jar = new CookieJar();
        assert.equal((await signIn(jar, api, idp, 'alice')).status, 303);
        const list = tessera(['users', 'sessions', 'alice', '--json'], t.env);
        assert.equal(list.code, 0, list.stderr);
        assert.ok(list.json.sessions.some((s: { state: string }) => s.state === 'active'));
        const rev = tessera(['users', 'revoke', 'alice', '--sessions', '--json'], t.env);
        assert.equal(rev.code, 0, rev.stderr);
        assert.ok(rev.json.sessionsRevoked >= 1);
        assert.equal((await me(jar, api)).status, 401);
        const bad = tessera(['users', 'revoke', 'alice', '--session-id', '1'], t.env);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--session-id goes with --sessions/);
      });
    }
  });
}

describe('sign-in not configured', () => {
  let t: TestStore;
  let api: Api;
  before(async () => {
    t = await freshStore('sqlite');
    api = await startApi(t.store, undefined, { oidc: false });
  });
  after(async () => {
    await api.close();
    await t.cleanup();
  });

  test('/auth/config says so, /auth/login and /auth/callback answer 404 pages, and a session cookie authenticates nobody', async () => {
    assert.deepEqual((await api.call('GET', '/auth/config')).json, { oidc: null, sessionCookie: false });
    const login = await fetch(api.base + '/auth/login', { redirect: 'manual' });
    assert.equal(login.status, 404);
    assert.match(await login.text(), /signs people in with API tokens only/);
    assert.equal((await fetch(api.base + '/auth/callback?code=x&state=y', { redirect: 'manual' })).status, 404);
    assert.equal((await fetch(api.base + '/api/me', { headers: { cookie: `tessera_session=${randomBytes(32).toString('base64url')}` } })).status, 401);
  });
});
