import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findProject, type Project } from '../store/projects.ts';
import type { Store } from '../store/db.ts';
import { userActor, type Actor } from '../store/context.ts';
import { ForbiddenError, UnauthorizedError } from '../label/errors.ts';
import { can, canIn, PERMISSIONS, type Permission, type Role } from '../label/roles.ts';
import { getLabelSettings } from '../label/settings.ts';
import { checkToken, isInstanceAdmin, roleIn, type User } from '../label/users.ts';
import { looksLikeToken, TOKEN_PREFIX, LOOKUP_CHARS } from '../label/tokens.ts';
import { scopeAllows, type TokenScope } from '../label/token-scopes.ts';
import { checkSession, touchSession, type SessionCheck, type SessionInfo } from '../label/sessions.ts';
import { AuthFailureLimiter, type AuthLimitOptions } from './auth-limit.ts';
import { RateLimitedError } from './errors.ts';
import { isApiRequest } from './security.ts';
import { clearSessionCookie, CSRF_HEADER, csrfMatches, csrfTokenFor, isSafeMethod, sessionCookieOf } from './session-auth.ts';

/**
 * Authentication and authorisation, deny by default. Every route under /api/ must declare
 * `config.permission`: a Permission (checked against the caller's role in the route's
 * :project), 'authenticated' (any valid token) — a route without one refuses to register.
 * Whether a request needs a token is decided on the route the router matched (its declared
 * pattern and permission), whatever spelling of the path reached it (`/%61pi/…` is `/api/…`);
 * a request that matches no route but reads as /api/… (`/API/`, `//api/`) needs one too.
 * Checks run in onRequest, before the body is even parsed: 401 without a valid bearer token
 * or session cookie, 403 when the caller is not a member of the project or the role lacks the
 * permission (a project that does not exist looks the same as one the caller is not in).
 *
 * Credentials: a bearer token (`Authorization: Bearer tsr_…`; an expired one is a 401 that says
 * so), limited by its scope (src/label/token-scopes.ts: a 403 when the route's method and
 * permission are outside it); or, when no Authorization header is sent, the session cookie of
 * an OpenID Connect sign-in (src/label/sessions.ts), whose requests that may change something
 * must carry its CSRF token (403 E_CSRF without it; see session-auth.ts). Bad session cookies
 * count against the failure limit of the client address like bad tokens.
 */
export type RoutePermission = Permission | 'authenticated';

export interface Auth {
  user: User;
  actor: Actor;
  /** How the caller authenticated: a bearer token (with its scope and expiry) or a session cookie (with its CSRF token). */
  via: { kind: 'token'; tokenId: number; scope: TokenScope; expiresAt: string | null } | { kind: 'session'; session: SessionInfo; csrfToken: string };
  /** Set on project routes. */
  project: Project | null;
  role: Role | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RoutePermission;
  }
  interface FastifyRequest {
    auth: Auth | null;
  }
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** Registers the checks on the root instance (so they cover every route plugin). */
export function registerAuth(app: FastifyInstance, store: Store, limit: AuthLimitOptions = {}) {
  const limiter = new AuthFailureLimiter(store, limit);
  app.decorateRequest('auth', null);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const p = route.config?.permission;
    if (p !== 'authenticated' && !(p !== undefined && p in PERMISSIONS)) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no permission (config.permission): refusing to register it`);
    }
  });
  /** The caller of a request that sends the session cookie (and no Authorization header). */
  async function sessionAuth(req: FastifyRequest, reply: FastifyReply, secret: string): Promise<Auth> {
    const keys = { ip: req.ip };
    const throttle = await limiter.check(keys);
    const checked: SessionCheck = await checkSession(store.db, secret);
    if (checked.status !== 'ok') {
      clearSessionCookie(req, reply);
      const wait = await limiter.fail(keys, throttle);
      if (wait !== null) throw new RateLimitedError(wait);
      throw new UnauthorizedError(
        checked.status === 'expired'
          ? checked.reason === 'idle'
            ? `your session ended after a time without activity (at ${checked.at}): sign in again`
            : `your session expired at ${checked.at}: sign in again`
          : checked.status === 'revoked'
            ? 'your session was signed out or revoked: sign in again'
            : 'unknown session: sign in again',
      );
    }
    if (!isSafeMethod(req.method) && !csrfMatches(secret, req.headers[CSRF_HEADER])) {
      throw new ForbiddenError(`a request signed in by the session cookie that changes something must send the session's CSRF token in the ${CSRF_HEADER} header (GET /api/me gives it)`, 'E_CSRF');
    }
    await touchSession(store, checked.session);
    const { user, session } = checked;
    return { user, actor: userActor(user), via: { kind: 'session', session, csrfToken: csrfTokenFor(secret) }, project: null, role: null };
  }

  app.addHook('onRequest', async (req, reply) => {
    // The matched route decides (its pattern and permission), not the URL as sent: the router
    // decodes `/%61pi/…` to `/api/…`, so a check on the raw URL would let that spelling through.
    if (!isApiRequest(req)) return;
    const permission = req.routeOptions.config?.permission;
    const token = bearerToken(req) ?? (req.headers.authorization ? '' : undefined);
    // The bearer token decides when one is sent; the session cookie only without one.
    const cookie = token === undefined ? sessionCookieOf(req) : undefined;
    if (cookie !== undefined) {
      req.auth = await sessionAuth(req, reply, cookie);
    } else {
      // A request that sends a credential is checked against the failure limits first (429; see
      // auth-limit.ts): a token key over its ceiling is refused unchecked; an address over its
      // ceiling still gets a correct token through, and a 429 for anything else.
      const keys = token === undefined ? null : { ip: req.ip, token: looksLikeToken(token) ? token.slice(0, TOKEN_PREFIX.length + LOOKUP_CHARS) : undefined };
      const throttle = keys ? await limiter.check(keys) : null;
      if (throttle?.token != null) throw new RateLimitedError(throttle.token);
      if (throttle?.address != null && !keys?.token) throw new RateLimitedError(throttle.address);
      const checked = token ? await checkToken(store.db, token) : undefined;
      if (checked?.status !== 'ok') {
        if (keys) {
          const wait = await limiter.fail(keys, throttle ?? undefined);
          if (wait !== null) throw new RateLimitedError(wait);
        }
        if (checked?.status === 'expired') throw new UnauthorizedError(`this token expired at ${checked.expiredAt}: ask an admin for a new one (tessera users token NAME)`);
        throw new UnauthorizedError(token ? 'invalid or revoked token' : token === '' ? 'the Authorization header must be "Bearer <token>"' : undefined);
      }
      const { user, tokenId, scope, expiresAt } = checked;
      req.auth = { user, actor: userActor(user), via: { kind: 'token', tokenId, scope, expiresAt }, project: null, role: null };
    }
    const { user } = req.auth;
    if (req.routeOptions.url === undefined) return; // no such route: the not-found handler answers 404
    if (permission === undefined) throw new ForbiddenError('this route is not open to anyone');
    const via = req.auth.via;
    if (via.kind === 'token' && !scopeAllows(via.scope, req.method, permission)) {
      throw new ForbiddenError(`this token's scope "${via.scope}" does not allow ${req.method} on this route (${permission}); scopes: read = GET routes, annotate = read and the task routes, full = everything the roles allow`);
    }
    if (permission === 'authenticated') return;
    if (permission === 'instance.admin') {
      if (!(await isInstanceAdmin(store.db, user.id))) throw new ForbiddenError('only an instance admin may do this (instance.admin); `tessera users admin NAME` makes one');
      return;
    }
    const name = (req.params as { project?: string }).project;
    const project = typeof name === 'string' ? await findProject(store.db, name) : undefined;
    const role = project ? await roleIn(store.db, user.id, project.id) : null;
    if (!project || role === null) throw new ForbiddenError(`no access to project "${name ?? ''}"`);
    if (!can(role, permission) && !canIn(role, permission, await getLabelSettings(store.db, project.id))) throw new ForbiddenError(`role ${role} may not do this (${permission}) in project "${project.name}"`);
    req.auth.project = project;
    req.auth.role = role;
  });
}

/** The caller on a route whose permission check passed (a programming error otherwise). */
export function authOf(req: FastifyRequest): Auth & { project: Project; role: Role } {
  const a = req.auth;
  if (!a?.project || !a.role) throw new Error('route used authOf() without a project permission');
  return a as Auth & { project: Project; role: Role };
}

export function userOf(req: FastifyRequest): Auth {
  if (!req.auth) throw new Error('route used userOf() without authentication');
  return req.auth;
}
