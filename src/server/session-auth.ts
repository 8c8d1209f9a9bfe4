import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';
import { digestsEqual } from '../label/tokens.ts';

/**
 * The browser session's cookie and its CSRF token.
 *
 * Cookie `tessera_session`: the session secret (src/label/sessions.ts); HttpOnly (no script
 * reads it), SameSite=Strict (no other site's page or link sends it), Path=/, Secure when
 * Tessera's public address is https (the redirect URL; plain http is allowed only on a loopback
 * address), Max-Age = the session's absolute lifetime.
 *
 * CSRF: a request authenticated by the cookie that may change something (any method but GET,
 * HEAD, OPTIONS) must carry `X-CSRF-Token`: HMAC-SHA256 keyed by the session secret over a fixed
 * label, base64url. It is never stored; the UI reads it from `GET /api/me` (a same-origin answer
 * no other origin can read) and the server recomputes it from the cookie. SameSite=Strict stops
 * cross-site requests already; the token also stops a sibling host of the same site (SameSite
 * treats `evil.example.org` and `tessera.example.org` as one site). A bearer-token request
 * needs no CSRF token: a browser never adds an Authorization header by itself.
 */
export const SESSION_COOKIE = 'tessera_session';
/** The login under way (its `state`), from /auth/login to /auth/callback: SameSite=Lax, as the provider's redirect back is a cross-site navigation. */
export const LOGIN_COOKIE = 'tessera_login';
export const CSRF_HEADER = 'x-csrf-token';

export function csrfTokenFor(secret: string): string {
  return createHmac('sha256', secret).update('tessera-csrf-v1').digest('base64url');
}

export function csrfMatches(secret: string, sent: string | string[] | undefined): boolean {
  return typeof sent === 'string' && digestsEqual(sent, csrfTokenFor(secret));
}

/** Methods that change nothing (and need no CSRF token). */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

export function sessionCookieOf(req: FastifyRequest): string | undefined {
  const v = req.cookies?.[SESSION_COOKIE];
  return v === undefined || v === '' ? undefined : v;
}

export function sessionCookieOptions(secure: boolean, maxAgeMs: number): CookieSerializeOptions {
  return { path: '/', httpOnly: true, sameSite: 'strict', secure, maxAge: Math.floor(maxAgeMs / 1000) };
}

/** Tells the browser to drop the session cookie. */
export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply) {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https' });
}
