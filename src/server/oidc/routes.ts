import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { nowIso } from '../../core/json.ts';
import { sha256Hex } from '../../core/hash.ts';
import type { Store } from '../../store/db.ts';
import { SignInRefusedError, signInExternal } from '../../label/external-users.ts';
import { checkSession, createSession, endSession } from '../../label/sessions.ts';
import { writeTx } from '../../store/tx.ts';
import { digestsEqual } from '../../label/tokens.ts';
import { clearSessionCookie, CSRF_HEADER, csrfMatches, LOGIN_COOKIE, SESSION_COOKIE, sessionCookieOf, sessionCookieOptions } from '../session-auth.ts';
import { hasClaims, identityFromClaims, neededClaims, type Claims } from './claims.ts';
import { OidcProvider, providerErrorMessage } from './provider.ts';
import { checkHttpUrl, type OidcSettings } from './settings.ts';

/**
 * Sign-in with OpenID Connect (authorization code flow with PKCE S256, state and nonce), outside
 * /api/ like the UI — public routes, listed in test/server/security.test.ts:
 *
 * - `GET /auth/config`: whether sign-in with a provider is offered, and its name (the UI's button);
 *   whether the request carries a session cookie at all (not whether it is valid: that is for
 *   the API to say, under the failure limit), so the UI asks /api/me only when there is one.
 * - `GET /auth/login`: a new login — state, nonce and PKCE verifier kept server-side
 *   (`oidc_logins`, found by the state's sha256, used once, 10 minutes), the state also in a
 *   short-lived cookie that binds the login to this browser — then a redirect to the provider.
 * - `GET /auth/callback`: the provider's answer. The state must match the cookie's and a login
 *   under way (taken out of the table in the same statement: a replay finds nothing); the code
 *   is exchanged with the verifier (openid-client validates the ID token: signature, issuer,
 *   audience, expiry, nonce); the user is found or created (src/label/external-users.ts); then a
 *   session cookie and a redirect to the UI. Every failure is a page saying what happened.
 * - `POST /auth/logout`: ends the session of the cookie (its CSRF token required) and drops the cookie.
 *
 * Registered whether or not a provider is configured (without one: `/auth/config` says so and
 * login answers 404), so the set of public routes does not depend on the settings.
 */

/** Logins under way at most (a flood of /auth/login cannot fill the store). */
export const MAX_PENDING_LOGINS = 10_000;
const LOGIN_TTL_MS = 10 * 60_000;
const LOGIN_COOKIE_PATH = '/auth/callback';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain page (no script, no style: the UI's CSP applies) with a way back to the UI. */
function page(reply: FastifyReply, status: number, title: string, message: string) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — Tessera</title></head><body><main><h1 data-signin-error="">${esc(title)}</h1><p data-signin-message="">${esc(message)}</p><p><a href="/">Back to Tessera</a> · <a href="/auth/login">Sign in again</a></p></main></body></html>`,
    );
}

export function registerOidcRoutes(app: FastifyInstance, store: Store, settings: OidcSettings | null) {
  const provider = settings ? new OidcProvider(settings) : null;
  const hide = { schema: { hide: true } };

  app.get('/auth/config', hide, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return { oidc: settings ? { name: settings.name, loginUrl: '/auth/login' } : null, sessionCookie: sessionCookieOf(req) !== undefined };
  });

  /** Where the provider sends the browser back: the configured URL, else this request's own origin. */
  const redirectUriFor = (req: FastifyRequest): string => {
    if (settings?.redirectUrl) return settings.redirectUrl;
    return checkHttpUrl(`${req.protocol}://${req.host}/auth/callback`, 'the redirect URL derived from this request (set TESSERA_OIDC_REDIRECT_URL, or TESSERA_TRUST_PROXY behind an https proxy)').href;
  };

  app.get('/auth/login', hide, async (req, reply) => {
    if (!settings || !provider) return page(reply, 404, 'Sign-in with a provider is not set up', 'This Tessera server signs people in with API tokens only (an operator sets TESSERA_OIDC_ISSUER to add a provider).');
    let redirectUri: string;
    try {
      redirectUri = redirectUriFor(req);
    } catch (e) {
      return page(reply, 400, 'Sign-in is not possible at this address', (e as Error).message);
    }
    let config: client.Configuration;
    try {
      config = await provider.configuration();
    } catch (e) {
      req.log.warn({ issuer: settings.issuer, err: providerErrorMessage(e) }, 'OpenID Connect discovery failed');
      return page(reply, 502, `Could not reach ${settings.name}`, `The sign-in provider (${settings.issuer}) did not answer as expected: ${providerErrorMessage(e)}. Try again later, or tell the operator.`);
    }
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const now = Date.now();
    const open = await writeTx(store, null, async (conn) => {
      await conn.deleteFrom('oidc_logins').where('expires_at', '<=', nowIso()).execute();
      const n = Number((await conn.selectFrom('oidc_logins').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      if (n >= MAX_PENDING_LOGINS) return false;
      await conn
        .insertInto('oidc_logins')
        .values({ state_hash: sha256Hex(state), nonce, code_verifier: verifier, redirect_uri: redirectUri, created_at: new Date(now).toISOString(), expires_at: new Date(now + LOGIN_TTL_MS).toISOString() })
        .execute();
      return true;
    });
    if (!open) return page(reply, 503, 'Too many sign-ins under way', 'Try again in a few minutes.');
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: settings.scopes.join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    reply.setCookie(LOGIN_COOKIE, state, { path: LOGIN_COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure: redirectUri.startsWith('https:'), maxAge: LOGIN_TTL_MS / 1000 });
    return reply.header('cache-control', 'no-store').redirect(url.href, 303);
  });

  app.get('/auth/callback', hide, async (req, reply) => {
    if (!settings || !provider) return page(reply, 404, 'Sign-in with a provider is not set up', 'This Tessera server signs people in with API tokens only.');
    const query = req.query as Record<string, unknown>;
    const state = typeof query.state === 'string' ? query.state : '';
    const cookieState = req.cookies?.[LOGIN_COOKIE] ?? '';
    reply.clearCookie(LOGIN_COOKIE, { path: LOGIN_COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure: req.protocol === 'https' });
    if (!state || !cookieState || !digestsEqual(state, cookieState)) {
      return page(reply, 400, 'Sign-in failed', 'This answer from the sign-in provider does not belong to a sign-in started in this browser (or that sign-in was already used or has expired). Start again.');
    }
    // Taken out as it is read: a second callback with the same state (a replay) finds nothing.
    const login = await writeTx(store, null, (conn) => conn.deleteFrom('oidc_logins').where('state_hash', '=', sha256Hex(state)).returningAll().executeTakeFirst());
    if (!login || login.expires_at <= nowIso()) {
      return page(reply, 400, 'Sign-in failed', 'This sign-in was already used or has expired (it lasts 10 minutes). Start again.');
    }
    if (typeof query.error === 'string') {
      const desc = typeof query.error_description === 'string' ? `: ${query.error_description}` : '';
      return page(reply, 400, 'Sign-in was not completed', `${settings.name} answered ${query.error}${desc}.`);
    }
    let claims: Claims;
    let issuer: string;
    try {
      const config = await provider.configuration();
      issuer = config.serverMetadata().issuer;
      const current = new URL(login.redirect_uri);
      current.search = new URL(req.url, 'http://x').search;
      const tokens = await client.authorizationCodeGrant(config, current, { pkceCodeVerifier: login.code_verifier, expectedState: state, expectedNonce: login.nonce, idTokenExpected: true });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('the provider sent no ID token');
      claims = { ...idClaims };
      // Some providers put profile claims in the ID token, others only at the userinfo endpoint.
      if (!hasClaims(claims, neededClaims(settings)) && config.serverMetadata().userinfo_endpoint) {
        const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims };
      }
    } catch (e) {
      req.log.warn({ err: providerErrorMessage(e) }, 'OpenID Connect sign-in failed');
      return page(reply, 400, 'Sign-in failed', `The answer of ${settings.name} could not be accepted: ${providerErrorMessage(e)}. Start again.`);
    }
    try {
      const { identity, ignoredRoles } = identityFromClaims(claims, issuer, settings);
      const result = await signInExternal(store, identity);
      if (ignoredRoles.length || result.unknownProjects.length) {
        req.log.warn({ user: result.user.name, ignoredRoles, unknownProjects: result.unknownProjects }, 'roles claim entries ignored');
      }
      const old = sessionCookieOf(req);
      if (old) await endSession(store, old);
      const session = await createSession(store, result.user, issuer, settings.session);
      reply.setCookie(SESSION_COOKIE, session.secret, sessionCookieOptions(login.redirect_uri.startsWith('https:'), settings.session.maxAgeMs));
      return reply.header('cache-control', 'no-store').redirect('/#/', 303);
    } catch (e) {
      if (e instanceof SignInRefusedError) return page(reply, 403, 'Sign-in refused', e.message);
      req.log.error(e);
      return page(reply, 500, 'Sign-in failed', 'An internal error stopped the sign-in (it is logged on the server). Try again, or tell the operator.');
    }
  });

  app.post('/auth/logout', hide, async (req, reply) => {
    const secret = sessionCookieOf(req);
    let signedOut = false;
    if (secret) {
      const s = await checkSession(store.db, secret);
      if (s.status === 'ok') {
        if (!csrfMatches(secret, req.headers[CSRF_HEADER])) {
          return reply.code(403).send({ error: { code: 'E_CSRF', message: `signing out needs the session's CSRF token in the ${CSRF_HEADER} header` } });
        }
        signedOut = await endSession(store, secret);
      }
    }
    clearSessionCookie(req, reply);
    return reply.header('cache-control', 'no-store').send({ signedOut });
  });
}
