import { UserError } from '../../core/errors.ts';
import { checkPolicy, SESSION_DEFAULTS, sessionPolicyFromEnv, type SessionPolicy } from '../../label/sessions.ts';

/**
 * Sign-in with OpenID Connect: the settings, from the environment (`tessera serve`) or from
 * `AppOptions.oidc` (tests, embedding). Unset TESSERA_OIDC_ISSUER: no OpenID Connect sign-in
 * (API tokens only, as before). See docs/sign-in.md.
 *
 * | variable                     | default                 | meaning |
 * |------------------------------|-------------------------|---------|
 * | TESSERA_OIDC_ISSUER          | —                       | the provider's issuer URL (https; http only on a loopback address) |
 * | TESSERA_OIDC_CLIENT_ID       | —                       | this server's client id at the provider (required with the issuer) |
 * | TESSERA_OIDC_CLIENT_SECRET   | none: a public client   | the client secret (client_secret_basic); PKCE is used either way |
 * | TESSERA_OIDC_REDIRECT_URL    | from the request        | `https://tessera.example.org/auth/callback`, as registered at the provider |
 * | TESSERA_OIDC_SCOPES          | `openid profile email`  | scopes asked for (space- or comma-separated; must include openid) |
 * | TESSERA_OIDC_USERNAME_CLAIM  | `preferred_username`    | the claim that names a new user (falls back to `sub`) |
 * | TESSERA_OIDC_ROLES_CLAIM     | —                       | a claim listing `project:role` entries; when set, each login sets the memberships |
 * | TESSERA_OIDC_ROLES_PREFIX    | —                       | only entries starting with this count (e.g. `tessera:` in a shared groups claim) |
 * | TESSERA_OIDC_GROUPS_CLAIM    | `groups`                | the claim TESSERA_OIDC_ADMIN_GROUP is looked for in |
 * | TESSERA_OIDC_ADMIN_GROUP     | —                       | members of this group are instance admins (set at each login) |
 * | TESSERA_OIDC_NAME            | the issuer's host       | the provider's name on the sign-in button |
 * | TESSERA_SESSION_MAX_AGE      | `12h`                   | a session's absolute lifetime |
 * | TESSERA_SESSION_IDLE         | `1h`                    | a session ends after this long without a request |
 */
export interface OidcOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  redirectUrl?: string;
  scopes?: string[];
  usernameClaim?: string;
  rolesClaim?: string;
  rolesPrefix?: string;
  groupsClaim?: string;
  adminGroup?: string;
  name?: string;
  session?: Partial<SessionPolicy>;
}

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  redirectUrl: string | null;
  scopes: string[];
  usernameClaim: string;
  rolesClaim: string | null;
  rolesPrefix: string | null;
  groupsClaim: string;
  adminGroup: string | null;
  name: string;
  session: SessionPolicy;
}

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|\[::1\]|localhost)$/i;

/** Whether a URL's host is a loopback address (where plain http is allowed). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/** An https URL, or http on a loopback address (a provider or Tessera run on this machine); `what` names the setting in errors. */
export function checkHttpUrl(value: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UserError(`${what}="${value}": not a URL (expected e.g. https://login.example.org/realms/team)`);
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return u;
  throw new UserError(`${what}="${value}": expected an https:// URL (plain http only on a loopback address such as 127.0.0.1)`);
}

const list = (v: string) => v.split(/[\s,]+/).filter(Boolean);
const CLAIM = /^[A-Za-z0-9_:\-./]{1,200}$/;

/** Checks and completes the options; every problem names the setting. */
export function oidcSettings(o: OidcOptions, names: Partial<Record<keyof OidcOptions, string>> = {}): OidcSettings {
  const n = (k: keyof OidcOptions) => names[k] ?? `oidc.${k}`;
  // Kept as written: it must equal the provider's own issuer identifier (some end in "/", some do not).
  const issuer = o.issuer.trim();
  checkHttpUrl(issuer, n('issuer'));
  if (!o.clientId) throw new UserError(`${n('clientId')} is required with ${n('issuer')}: the client id this server has at the provider`);
  const redirect = o.redirectUrl ? checkHttpUrl(o.redirectUrl, n('redirectUrl')) : null;
  if (redirect && (redirect.search || redirect.hash)) throw new UserError(`${n('redirectUrl')}="${o.redirectUrl}": no query or fragment (expected e.g. https://tessera.example.org/auth/callback)`);
  if (redirect && redirect.pathname !== '/auth/callback') throw new UserError(`${n('redirectUrl')}="${o.redirectUrl}": the path must be /auth/callback (where this server takes the provider's answer)`);
  const scopes = o.scopes?.length ? o.scopes : ['openid', 'profile', 'email'];
  if (!scopes.includes('openid')) throw new UserError(`${n('scopes')}="${scopes.join(' ')}": must include openid`);
  for (const [k, v] of [['usernameClaim', o.usernameClaim], ['rolesClaim', o.rolesClaim], ['groupsClaim', o.groupsClaim]] as const) {
    if (v !== undefined && !CLAIM.test(v)) throw new UserError(`${n(k)}="${v}": expected a claim name (letters, digits, _ : - . /; a dot reaches into an object, e.g. realm_access.roles)`);
  }
  return {
    issuer,
    clientId: o.clientId,
    clientSecret: o.clientSecret || null,
    redirectUrl: redirect ? redirect.href : null,
    scopes,
    usernameClaim: o.usernameClaim || 'preferred_username',
    rolesClaim: o.rolesClaim || null,
    rolesPrefix: o.rolesPrefix || null,
    groupsClaim: o.groupsClaim || 'groups',
    adminGroup: o.adminGroup || null,
    name: o.name || new URL(issuer).host,
    session: checkPolicy({ ...SESSION_DEFAULTS, ...o.session }),
  };
}

const ENV_NAMES: Record<keyof OidcOptions, string> = {
  issuer: 'TESSERA_OIDC_ISSUER',
  clientId: 'TESSERA_OIDC_CLIENT_ID',
  clientSecret: 'TESSERA_OIDC_CLIENT_SECRET',
  redirectUrl: 'TESSERA_OIDC_REDIRECT_URL',
  scopes: 'TESSERA_OIDC_SCOPES',
  usernameClaim: 'TESSERA_OIDC_USERNAME_CLAIM',
  rolesClaim: 'TESSERA_OIDC_ROLES_CLAIM',
  rolesPrefix: 'TESSERA_OIDC_ROLES_PREFIX',
  groupsClaim: 'TESSERA_OIDC_GROUPS_CLAIM',
  adminGroup: 'TESSERA_OIDC_ADMIN_GROUP',
  name: 'TESSERA_OIDC_NAME',
  session: 'TESSERA_SESSION_MAX_AGE / TESSERA_SESSION_IDLE',
};

/** The settings from the environment, or null when TESSERA_OIDC_ISSUER is unset; a bad value is an error naming its variable. */
export function oidcSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): OidcSettings | null {
  const get = (k: keyof OidcOptions) => env[ENV_NAMES[k]]?.trim() || undefined;
  const issuer = get('issuer');
  if (!issuer) return null;
  const scopes = get('scopes');
  return oidcSettings(
    {
      issuer,
      clientId: get('clientId') ?? '',
      clientSecret: get('clientSecret'),
      redirectUrl: get('redirectUrl'),
      scopes: scopes ? list(scopes) : undefined,
      usernameClaim: get('usernameClaim'),
      rolesClaim: get('rolesClaim'),
      rolesPrefix: get('rolesPrefix'),
      groupsClaim: get('groupsClaim'),
      adminGroup: get('adminGroup'),
      name: get('name'),
      session: sessionPolicyFromEnv(env),
    },
    ENV_NAMES,
  );
}
