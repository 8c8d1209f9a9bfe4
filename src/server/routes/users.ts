import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Store } from '../../store/db.ts';
import { createUser, issueToken, listUsers } from '../../label/users.ts';
import { userOf } from '../auth.ts';
import { NoQuery } from '../schemas.ts';

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
const TokenBody = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'what the token is for (default "invite")' })) }, { additionalProperties: false });

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
      const t = await issueToken(store, actor, req.params.user, req.body.name ?? 'invite');
      return noStore(reply).code(201).send({ user: req.params.user, token: t.token, tokenId: t.id });
    },
  );
};
