/** Reply schemas of the account routes: who am I, sign-in, users, tokens, members (see common.ts). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Role, Timestamp } from './common.ts';

const Membership = Type.Object({ project: Type.String(), role: Role });

/** GET /api/me. */
export const Me = Type.Object({
  /** admin: an instance admin (may create projects and users). */
  user: Type.Object({ name: Type.String(), displayName: Type.String(), admin: Type.Optional(Type.Boolean()) }),
  memberships: Type.Array(Membership),
  /** How this caller signed in (a session carries its CSRF token). */
  auth: Type.Optional(
    Type.Union([
      Type.Object({ via: Type.Literal('token'), scope: Type.String(), expiresAt: Nullable(Timestamp) }),
      Type.Object({ via: Type.Literal('session'), expiresAt: Timestamp, idleExpiresAt: Timestamp, csrfToken: Type.String() }),
    ]),
  ),
});
export type Me = Static<typeof Me>;

/** GET /auth/config (public): sign-in with the organisation's provider, when the server offers it. */
export const AuthConfig = Type.Object({
  oidc: Nullable(Type.Object({ name: Type.String(), loginUrl: Type.String() })),
  /** This browser sends a session cookie (live or not: /api/me says). */
  sessionCookie: Type.Boolean(),
});
export type AuthConfig = Static<typeof AuthConfig>;

/** A user as an instance admin sees them (GET /api/users). */
export const UserRow = Type.Object({ name: Type.String(), displayName: Type.String(), admin: Type.Boolean(), createdAt: Timestamp, memberships: Type.Array(Membership) });
export type UserRow = Static<typeof UserRow>;
export const Users = Type.Object({ users: Type.Array(UserRow) });

/** A new token, shown once: POST /api/users (user: the new user) and POST /api/users/:user/tokens (user: the name, with scope and expiry). */
export const IssuedToken = Type.Object({
  user: Type.Union([Type.String(), Type.Object({ name: Type.String(), displayName: Type.String(), admin: Type.Boolean() })]),
  token: Type.String(),
  tokenId: Type.Integer(),
  scope: Type.Optional(Type.String()),
  expiresAt: Type.Optional(Nullable(Timestamp)),
});
export type IssuedToken = Static<typeof IssuedToken>;

export const Member = Type.Object({ user: Type.String(), displayName: Type.String(), role: Role });
export type Member = Static<typeof Member>;
export const Members = Type.Object({ members: Type.Array(Member) });
