import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Store } from '../../store/db.ts';
import { NotFoundError } from '../../core/errors.ts';
import { expiryFrom } from '../../core/duration.ts';
import { createUser, issueToken, listUsers } from '../../label/users.ts';
import { listSessions, revokeSessions } from '../../label/sessions.ts';
import { TOKEN_SCOPES } from '../../label/token-scopes.ts';
import { userOf } from '../auth.ts';
import { Id, NoBody, NoQuery } from '../schemas.ts';

const UserName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]*$' });
const NewUser = Type.Object(
  {
    // Checked by createUser, whose message says what a name may hold.
    name: Type.String({ minLength: 1, maxLength: 64 }),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    admin: Type.Optional(Type.Boolean({ description: 'an instance admin too (may create projects and users)' })),
  },
  { additionalProperties: false },
);
const UserParams = Type.Object({ user: UserName }, { additionalProperties: false });
const TokenBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'what the token is for (default "invite")' })),
    scope: Type.Optional(Type.Union(TOKEN_SCOPES.map((x) => Type.Literal(x)), { description: 'read: GET routes only; annotate: read and the task routes; full (default): everything the roles allow' })),
    expires: Type.Optional(Type.String({ minLength: 2, maxLength: 40, description: 'when it stops working: a duration (30m, 12h, 30d, 2w) or a date (2027-06-30); default never' })),
  },
  { additionalProperties: false },
);
const SessionQuery = Type.Object({ session: Type.Optional(Id) }, { additionalProperties: false });

/** A reply that carries a token: never stored by a cache. */
const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

/**
 * Users and their tokens, for instance admins (the web UI's "add a person"): a token is in the
 * reply once, never again (only its hash is stored); creating users and issuing tokens is
 * audit-logged without the token.
 */
export const userRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/api/users',
    { config: { permission: 'instance.admin' }, schema: { tags: ['users'], summary: 'every user, whether an instance admin, and their project roles (instance admins)', querystring: NoQuery } },
    async () => ({
      users: (await listUsers(store.db)).map((u) => ({ name: u.name, displayName: u.displayName, admin: u.admin, createdAt: u.createdAt, memberships: u.memberships })),
    }),
  );
  app.post<{ Body: Static<typeof NewUser> }>(
    '/api/users',
    { config: { permission: 'instance.admin' }, schema: { tags: ['users'], summary: 'create a user with a first API token, shown in this reply only (instance admins)', body: NewUser, querystring: NoQuery } },
    async (req, reply) => {
      const { actor } = userOf(req);
      const { user, token } = await createUser(store, actor, req.body.name, req.body.displayName, { admin: req.body.admin === true });
      return noStore(reply)
        .code(201)
        .send({ user: { name: user.name, displayName: user.displayName, admin: req.body.admin === true }, token: token.token, tokenId: token.id });
    },
  );
  app.post<{ Params: Static<typeof UserParams>; Body: Static<typeof TokenBody> }>(
    '/api/users/:user/tokens',
    { config: { permission: 'instance.admin' }, schema: { tags: ['users'], summary: "issue another API token for a user, shown in this reply only (instance admins); the user's other tokens stay valid", params: UserParams, body: TokenBody, querystring: NoQuery } },
    async (req, reply) => {
      const { actor } = userOf(req);
      const expiresAt = req.body.expires === undefined ? null : expiryFrom(req.body.expires, 'expires');
      const t = await issueToken(store, actor, req.params.user, req.body.name ?? 'invite', { scope: req.body.scope, expiresAt });
      return noStore(reply).code(201).send({ user: req.params.user, token: t.token, tokenId: t.id, scope: t.scope, expiresAt: t.expiresAt });
    },
  );
  app.get<{ Params: Static<typeof UserParams> }>(
    '/api/users/:user/sessions',
    { config: { permission: 'instance.admin' }, schema: { tags: ['users'], summary: "a user's sign-in sessions, newest first: active, expired or revoked (instance admins)", params: UserParams, querystring: NoQuery } },
    async (req) => ({ user: req.params.user, sessions: await listSessions(store.db, req.params.user) }),
  );
  app.delete<{ Params: Static<typeof UserParams>; Querystring: Static<typeof SessionQuery> }>(
    '/api/users/:user/sessions',
    { config: { permission: 'instance.admin' }, schema: { tags: ['users'], summary: "revoke a user's live sessions, or one (?session=ID) (instance admins); takes effect at their next request", params: UserParams, querystring: SessionQuery, body: NoBody } },
    async (req) => {
      const { actor } = userOf(req);
      const revoked = await revokeSessions(store, actor, req.params.user, req.query.session);
      if (req.query.session !== undefined && revoked === 0) throw new NotFoundError(`live session ${req.query.session} of user "${req.params.user}"`);
      return { user: req.params.user, revoked };
    },
  );
};
