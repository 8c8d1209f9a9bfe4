import { isRole, ROLES, type Role } from '../../label/roles.ts';
import type { ExternalIdentity } from '../../label/external-users.ts';
import type { OidcSettings } from './settings.ts';

/**
 * From a provider's claims (the ID token's, completed by the userinfo endpoint's) to the
 * identity Tessera signs in: pure functions.
 *
 * Roles claim: a list of `project:role` entries (`["demo:annotator", "birds:reviewer"]`), as an
 * array or one space- or comma-separated string; a dotted claim name reaches into objects
 * (Keycloak's `realm_access.roles`). With a prefix only the entries that start with it count,
 * the prefix removed (`tessera:demo:annotator` with prefix `tessera:`; Keycloak group paths such
 * as `/tessera/demo:annotator` with prefix `/tessera/`), so the claim may hold unrelated groups.
 * An entry whose role is unknown is ignored (and reported); when one project is named with
 * several roles the first in the order admin, manager, annotator, reviewer, viewer wins.
 */
export type Claims = Record<string, unknown>;

/** The value at a claim name, a dot reaching into nested objects (unless the name exists as is). */
export function claimAt(claims: Claims, name: string): unknown {
  if (name in claims) return claims[name];
  let cur: unknown = claims;
  for (const part of name.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A claim's values as strings: an array of strings, or one string split on spaces and commas. */
export function claimValues(claims: Claims, name: string): string[] {
  const v = claimAt(claims, name);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  return [];
}

export interface RoleMapping {
  roles: Array<{ project: string; role: Role }>;
  /** Entries that matched the prefix but not `project:role` with a known role. */
  ignored: string[];
}

export function rolesFromValues(values: string[], prefix: string | null): RoleMapping {
  const best = new Map<string, Role>();
  const ignored: string[] = [];
  for (const raw of values) {
    if (prefix && !raw.startsWith(prefix)) continue;
    const v = prefix ? raw.slice(prefix.length) : raw;
    const i = v.lastIndexOf(':');
    const project = v.slice(0, i);
    const role = v.slice(i + 1);
    if (i <= 0 || !isRole(role) || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(project)) {
      ignored.push(raw);
      continue;
    }
    const had = best.get(project);
    if (had === undefined || ROLES.indexOf(role) < ROLES.indexOf(had)) best.set(project, role);
  }
  return { roles: [...best].map(([project, role]) => ({ project, role })).sort((a, b) => a.project.localeCompare(b.project)), ignored };
}

/** The claim names a login needs (to know whether the ID token is enough or userinfo must complete it). */
export function neededClaims(s: OidcSettings): string[] {
  return [s.usernameClaim, ...(s.rolesClaim ? [s.rolesClaim] : []), ...(s.adminGroup ? [s.groupsClaim] : [])];
}

export function hasClaims(claims: Claims, names: string[]): boolean {
  return names.every((n) => claimAt(claims, n) !== undefined);
}

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The identity to sign in, plus what the roles claim held that was ignored. */
export function identityFromClaims(claims: Claims, issuer: string, s: OidcSettings): { identity: ExternalIdentity; ignoredRoles: string[] } {
  const sub = text(claims.sub);
  if (!sub) throw new Error('the provider sent no subject (sub) claim');
  const name = text(claimAt(claims, s.usernameClaim)) ?? sub;
  const displayName = text(claims.name) ?? name;
  const mapping = s.rolesClaim ? rolesFromValues(claimValues(claims, s.rolesClaim), s.rolesPrefix) : null;
  const admin = s.adminGroup ? claimValues(claims, s.groupsClaim).includes(s.adminGroup) : null;
  return { identity: { issuer, sub, name, displayName: displayName.slice(0, 200), roles: mapping ? mapping.roles : null, admin }, ignoredRoles: mapping?.ignored ?? [] };
}
