import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { ROLES } from '../../label/roles.ts';
import { isInstanceAdmin, listMembers, removeRole, setRole } from '../../label/users.ts';
import { authOf } from '../auth.ts';
import { ProjectParams, withProject, NoQuery, NoBody } from '../schemas.ts';

const MemberParams = withProject({ user: Type.String({ minLength: 1, maxLength: 64 }) });
const RoleBody = Type.Object({ role: Type.Union(ROLES.map((r) => Type.Literal(r))) }, { additionalProperties: false });

/**
 * Project memberships: who has which role (role changes are audit-logged). An admin grants roles
 * to people they can already see — members of a project where they may list the members — and
 * gets the same 404 for anyone else as for a name that does not exist, so these routes do not
 * reveal which user names exist in the store. The operator grants anyone (`tessera users grant`),
 * and so does an instance admin (who may list every user anyway).
 */
export const memberRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  // An instance admin lists every user (GET /api/users) and creates them: they see everyone.
  const visibility = async (userId: number) => ((await isInstanceAdmin(store.db, userId)) ? {} : { visibleTo: userId });
  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/members',
    { config: { permission: 'members.read' }, schema: { tags: ['members'], summary: 'members and their roles', params: ProjectParams, querystring: NoQuery } },
    async (req) => ({ members: await listMembers(store.db, authOf(req).project.id) }),
  );
  app.put<{ Params: Static<typeof MemberParams>; Body: Static<typeof RoleBody> }>(
    '/api/projects/:project/members/:user',
    { config: { permission: 'members.write' }, schema: { tags: ['members'], summary: "grant or change a user's role", params: MemberParams, body: RoleBody, querystring: NoQuery } },
    async (req) => {
      const { project, actor, user } = authOf(req);
      // Only people the caller can already list (see findVisibleUser): no probing the store's user names.
      return setRole(store, project, actor, req.params.user, req.body.role, await visibility(user.id));
    },
  );
  app.delete<{ Params: Static<typeof MemberParams> }>(
    '/api/projects/:project/members/:user',
    { config: { permission: 'members.write' }, schema: { tags: ['members'], summary: 'remove a member', params: MemberParams, querystring: NoQuery, body: NoBody } },
    async (req) => {
      const { project, actor, user } = authOf(req);
      return removeRole(store, project, actor, req.params.user, await visibility(user.id));
    },
  );
};
