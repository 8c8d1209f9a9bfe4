import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findProject, type Project } from '../store/projects.ts';
import type { Store } from '../store/db.ts';
import { userActor, type Actor } from '../label/context.ts';
import { ForbiddenError, UnauthorizedError } from '../label/errors.ts';
import { can, canIn, PERMISSIONS, type Permission, type Role } from '../label/roles.ts';
import { getLabelSettings } from '../label/settings.ts';
import { authenticate, isInstanceAdmin, roleIn, type User } from '../label/users.ts';
import { looksLikeToken, TOKEN_PREFIX, LOOKUP_CHARS } from '../label/tokens.ts';
import { AuthFailureLimiter, type AuthLimitOptions } from './auth-limit.ts';
import { RateLimitedError } from './errors.ts';
import { isApiRequest } from './security.ts';

/**
 * Authentication and authorisation, deny by default. Every route under /api/ must declare
 * `config.permission`: a Permission (checked against the caller's role in the route's
 * :project), 'authenticated' (any valid token) — a route without one refuses to register.
 * Whether a request needs a token is decided on the route the router matched (its declared
 * pattern and permission), whatever spelling of the path reached it (`/%61pi/…` is `/api/…`);
 * a request that matches no route but reads as /api/… (`/API/`, `//api/`) needs one too.
 * Checks run in onRequest, before the body is even parsed: 401 without a valid bearer token,
 * 403 when the caller is not a member of the project or the role lacks the permission (a
 * project that does not exist looks the same as one the caller is not in).
 */
export type RoutePermission = Permission | 'authenticated';

export interface Auth {
  user: User;
  actor: Actor;
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
  app.addHook('onRequest', async (req) => {
    // The matched route decides (its pattern and permission), not the URL as sent: the router
    // decodes `/%61pi/…` to `/api/…`, so a check on the raw URL would let that spelling through.
    if (!isApiRequest(req)) return;
    const permission = req.routeOptions.config?.permission;
    const token = bearerToken(req) ?? (req.headers.authorization ? '' : undefined);
    // A request that sends a credential is checked against the failure limits first (429; see
    // auth-limit.ts): a token key over its ceiling is refused unchecked; an address over its
    // ceiling still gets a correct token through, and a 429 for anything else.
    const keys = token === undefined ? null : { ip: req.ip, token: looksLikeToken(token) ? token.slice(0, TOKEN_PREFIX.length + LOOKUP_CHARS) : undefined };
    const throttle = keys ? await limiter.check(keys) : null;
    if (throttle?.token != null) throw new RateLimitedError(throttle.token);
    if (throttle?.address != null && !keys?.token) throw new RateLimitedError(throttle.address);
    const user = token ? await authenticate(store.db, token) : undefined;
    if (!user) {
      if (keys) {
        const wait = await limiter.fail(keys, throttle ?? undefined);
        if (wait !== null) throw new RateLimitedError(wait);
      }
      throw new UnauthorizedError(token ? 'invalid or revoked token' : token === '' ? 'the Authorization header must be "Bearer <token>"' : undefined);
    }
    req.auth = { user, actor: userActor(user), project: null, role: null };
    if (req.routeOptions.url === undefined) return; // no such route: the not-found handler answers 404
    if (permission === undefined) throw new ForbiddenError('this route is not open to anyone');
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
