import { UserError } from '../core/errors.ts';
import type { Permission } from './roles.ts';

/**
 * What an API token may reach, within what its user's roles allow (a scope never adds a right;
 * the role check still runs). Three nested levels, judged on the route the router matched:
 *
 * | scope      | may call                                                                  |
 * |------------|---------------------------------------------------------------------------|
 * | `read`     | GET routes only: nothing it sends changes anything                         |
 * | `annotate` | `read`, and the task routes (permission `task.annotate`: lease, submit, skip, release, ahead) |
 * | `full`     | every route the user's roles allow (tokens issued before scopes existed)   |
 *
 * A session made by signing in with OpenID Connect is `full`.
 */
export const TOKEN_SCOPES = ['read', 'annotate', 'full'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export function isTokenScope(x: unknown): x is TokenScope {
  return typeof x === 'string' && (TOKEN_SCOPES as readonly string[]).includes(x);
}

export function checkTokenScope(x: string, what = 'scope'): TokenScope {
  if (!isTokenScope(x)) throw new UserError(`${what} "${x}": expected ${TOKEN_SCOPES.join('|')} (read: GET routes only; annotate: read and the task routes; full: everything the user's roles allow)`);
  return x;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/** Whether a token of `scope` may call a route with this method and declared permission. */
export function scopeAllows(scope: TokenScope, method: string, permission: Permission | 'authenticated'): boolean {
  if (scope === 'full') return true;
  if (READ_METHODS.has(method.toUpperCase())) return true;
  return scope === 'annotate' && permission === 'task.annotate';
}
