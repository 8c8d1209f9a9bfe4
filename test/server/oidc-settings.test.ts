// Sign-in settings and claim mapping, pure: the TESSERA_OIDC_* variables (each bad value named),
// the roles claim (`project:role` entries, a prefix, nested claims, the strongest role per
// project), the admin group, the username claim and its fallback, and log lines free of the
// callback's code and state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oidcSettings, oidcSettingsFromEnv } from '../../src/server/oidc/settings.ts';
import { claimValues, identityFromClaims, rolesFromValues } from '../../src/server/oidc/claims.ts';
import { scrubUrl } from '../../src/server/security.ts';

const base = { TESSERA_OIDC_ISSUER: 'https://login.example.org/realms/team', TESSERA_OIDC_CLIENT_ID: 'tessera' };

test('no TESSERA_OIDC_ISSUER: no sign-in with a provider; with one, the defaults', () => {
  assert.equal(oidcSettingsFromEnv({}), null);
  const s = oidcSettingsFromEnv(base)!;
  assert.deepEqual(s, {
    issuer: 'https://login.example.org/realms/team',
    clientId: 'tessera',
    clientSecret: null,
    redirectUrl: null,
    scopes: ['openid', 'profile', 'email'],
    usernameClaim: 'preferred_username',
    rolesClaim: null,
    rolesPrefix: null,
    groupsClaim: 'groups',
    adminGroup: null,
    name: 'login.example.org',
    session: { maxAgeMs: 12 * 3_600_000, idleMs: 3_600_000 },
  });
  const full = oidcSettingsFromEnv({
    ...base,
    TESSERA_OIDC_CLIENT_SECRET: 's',
    TESSERA_OIDC_REDIRECT_URL: 'https://tessera.example.org/auth/callback',
    TESSERA_OIDC_SCOPES: 'openid, profile groups',
    TESSERA_OIDC_ROLES_CLAIM: 'realm_access.roles',
    TESSERA_OIDC_ROLES_PREFIX: 'tessera:',
    TESSERA_OIDC_ADMIN_GROUP: 'tessera-admins',
    TESSERA_OIDC_NAME: 'Keycloak',
    TESSERA_SESSION_MAX_AGE: '8h',
    TESSERA_SESSION_IDLE: '20m',
  })!;
  assert.equal(full.clientSecret, 's');
  assert.deepEqual(full.scopes, ['openid', 'profile', 'groups']);
  assert.equal(full.rolesClaim, 'realm_access.roles');
  assert.deepEqual(full.session, { maxAgeMs: 8 * 3_600_000, idleMs: 20 * 60_000 });
});

test('every bad setting stops the start with a message naming its variable', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ ...base, TESSERA_OIDC_ISSUER: 'http://login.example.org' }, /TESSERA_OIDC_ISSUER="http:\/\/login.example.org": expected an https:\/\/ URL \(plain http only on a loopback address/],
    [{ ...base, TESSERA_OIDC_ISSUER: 'login.example.org' }, /TESSERA_OIDC_ISSUER="login.example.org": not a URL/],
    [{ TESSERA_OIDC_ISSUER: base.TESSERA_OIDC_ISSUER }, /TESSERA_OIDC_CLIENT_ID is required with TESSERA_OIDC_ISSUER/],
    [{ ...base, TESSERA_OIDC_REDIRECT_URL: 'https://tessera.example.org/callback' }, /TESSERA_OIDC_REDIRECT_URL=.*the path must be \/auth\/callback/],
    [{ ...base, TESSERA_OIDC_REDIRECT_URL: 'http://tessera.example.org/auth/callback' }, /TESSERA_OIDC_REDIRECT_URL=.*expected an https:\/\//],
    [{ ...base, TESSERA_OIDC_SCOPES: 'profile email' }, /TESSERA_OIDC_SCOPES="profile email": must include openid/],
    [{ ...base, TESSERA_OIDC_ROLES_CLAIM: 'roles claim' }, /TESSERA_OIDC_ROLES_CLAIM="roles claim": expected a claim name/],
    [{ ...base, TESSERA_SESSION_IDLE: '1 hour' }, /TESSERA_SESSION_IDLE="1 hour": expected a positive whole number and a unit/],
  ];
  for (const [env, want] of bad) assert.throws(() => oidcSettingsFromEnv(env), want, JSON.stringify(env));
  // Plain http on loopback is fine (a provider on this machine, tests).
  assert.equal(oidcSettings({ issuer: 'http://127.0.0.1:8080', clientId: 'x' }).issuer, 'http://127.0.0.1:8080');
  assert.equal(oidcSettings({ issuer: 'http://localhost:8080/realms/a', clientId: 'x', redirectUrl: 'http://localhost:8787/auth/callback' }).redirectUrl, 'http://localhost:8787/auth/callback');
});

test('roles claim: project:role entries, the prefix, the strongest role per project; anything else ignored and reported', () => {
  assert.deepEqual(rolesFromValues(['demo:annotator', 'birds:reviewer'], null), {
    roles: [
      { project: 'birds', role: 'reviewer' },
      { project: 'demo', role: 'annotator' },
    ],
    ignored: [],
  });
  assert.deepEqual(rolesFromValues(['staff', 'tessera:demo:viewer', 'tessera:demo:manager', 'tessera:demo:owner', 'tessera::admin', 'other:demo:admin'], 'tessera:'), {
    roles: [{ project: 'demo', role: 'manager' }],
    ignored: ['tessera:demo:owner', 'tessera::admin'],
  });
  // Keycloak group paths.
  assert.deepEqual(rolesFromValues(['/tessera/demo:annotator', '/other/x:admin'], '/tessera/').roles, [{ project: 'demo', role: 'annotator' }]);
  // Nested claims and a space-separated string.
  assert.deepEqual(claimValues({ realm_access: { roles: ['demo:annotator', 7] } }, 'realm_access.roles'), ['demo:annotator']);
  assert.deepEqual(claimValues({ roles: 'demo:annotator birds:viewer' }, 'roles'), ['demo:annotator', 'birds:viewer']);
  assert.deepEqual(claimValues({ 'https://example.org/roles': ['a:viewer'] }, 'https://example.org/roles'), ['a:viewer']);
  assert.deepEqual(claimValues({}, 'roles'), []);
});

test('identity: the username claim or sub, the display name, roles (null when not configured), the admin group (null when not configured)', () => {
  const s = oidcSettings({ issuer: 'https://idp.example.org', clientId: 'x', rolesClaim: 'roles', adminGroup: 'admins' });
  const a = identityFromClaims({ sub: 'u-1', preferred_username: 'alice', name: 'Alice', roles: ['demo:annotator', 'bad'], groups: ['admins'] }, 'https://idp.example.org', s);
  assert.deepEqual(a.identity, { issuer: 'https://idp.example.org', sub: 'u-1', name: 'alice', displayName: 'Alice', roles: [{ project: 'demo', role: 'annotator' }], admin: true });
  assert.deepEqual(a.ignoredRoles, ['bad']);
  // No username claim: the sub; no roles claim at all means no roles (a provider omits an empty one).
  const b = identityFromClaims({ sub: 'u-2' }, 'https://idp.example.org', s);
  assert.deepEqual(b.identity, { issuer: 'https://idp.example.org', sub: 'u-2', name: 'u-2', displayName: 'u-2', roles: [], admin: false });
  const plain = oidcSettings({ issuer: 'https://idp.example.org', clientId: 'x', usernameClaim: 'email' });
  const c = identityFromClaims({ sub: 'u-3', email: 'c@example.org', roles: ['demo:admin'], groups: ['admins'] }, 'https://idp.example.org', plain);
  assert.equal(c.identity.name, 'c@example.org');
  assert.equal(c.identity.roles, null, 'roles stay as an admin sets them');
  assert.equal(c.identity.admin, null);
  assert.throws(() => identityFromClaims({ name: 'x' }, 'https://idp.example.org', plain), /no subject/);
});

test('log lines never carry the callback\'s code and state', () => {
  assert.equal(scrubUrl('/auth/callback?code=abc123&state=xyz&iss=http%3A%2F%2Fidp'), '/auth/callback?code=[redacted]&state=[redacted]&iss=http%3A%2F%2Fidp');
  assert.equal(scrubUrl('/api/x?token=tsr_' + 'a'.repeat(43)), '/api/x?token=tsr_[redacted]');
});
