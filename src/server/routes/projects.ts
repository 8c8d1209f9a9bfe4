import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { isInstanceAdmin, membershipsOf } from '../../label/users.ts';
import { getLabelSettings, type LabelSettingsPatch } from '../../label/settings.ts';
import { findTaxonomy } from '../../label/taxonomies.ts';
import { labelStatus, updateSettings } from '../../label/results.ts';
import { METHOD_NAMES } from '../../label/consensus.ts';
import { authOf, userOf } from '../auth.ts';
import { can } from '../../label/roles.ts';
import { ProjectParams, errors, NoQuery } from '../schemas.ts';

const SettingsPatch = Type.Object(
  {
    overlap: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    leaseSeconds: Type.Optional(Type.Number({ minimum: 0.1, maximum: 604800 })),
    consensus: Type.Optional(
      Type.Object(
        {
          method: Type.Optional(Type.Union(METHOD_NAMES.map((m) => Type.Literal(m)))),
          tie: Type.Optional(Type.Union([Type.Literal('unresolved'), Type.Literal('random'), Type.Literal('first')])),
          seed: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false },
      ),
    ),
    reviewThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    reviewOnDisagreement: Type.Optional(Type.Boolean()),
    gold: Type.Optional(
      Type.Object(
        {
          rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          minAnswers: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    showSuggestions: Type.Optional(Type.Boolean()),
    servePrioritisedOnly: Type.Optional(Type.Boolean()),
    soloLabelling: Type.Optional(Type.Boolean({ description: 'admins and managers may label here too (not blind; their annotations are marked blind: false)' })),
  },
  { additionalProperties: false },
);

/** Who am I, my projects, a project's summary and its labelling settings. */
export const projectRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/api/me',
    { config: { permission: 'authenticated' }, schema: { tags: ['projects'], summary: 'the calling user, their memberships, and how they signed in (a session also gets its CSRF token here)', querystring: NoQuery, response: errors } },
    async (req, reply) => {
      const { user, via } = userOf(req);
      const auth =
        via.kind === 'token'
          ? { via: 'token', scope: via.scope, expiresAt: via.expiresAt }
          : { via: 'session', expiresAt: via.session.expiresAt, idleExpiresAt: via.session.idleExpiresAt, csrfToken: via.csrfToken };
      // The CSRF token is in this answer: never stored by a cache.
      if (via.kind === 'session') reply.header('cache-control', 'no-store');
      return { user: { name: user.name, displayName: user.displayName, admin: await isInstanceAdmin(store.db, user.id) }, memberships: (await membershipsOf(store.db, user.id)).map((m) => ({ project: m.project, role: m.role })), auth };
    },
  );

  app.get('/api/projects', { config: { permission: 'authenticated' }, schema: { tags: ['projects'], summary: 'projects the caller is a member of', querystring: NoQuery } }, async (req) => {
    const { user } = userOf(req);
    return { projects: (await membershipsOf(store.db, user.id)).map((m) => ({ name: m.project, role: m.role })) };
  });

  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project',
    { config: { permission: 'project.read' }, schema: { tags: ['projects'], summary: 'project summary: role, taxonomy version, labelling counts (not for annotators)', params: ProjectParams, querystring: NoQuery } },
    async (req) => {
      const { project, role } = authOf(req);
      const taxonomy = await findTaxonomy(store.db, project.id);
      const summary = { name: project.name, createdAt: project.createdAt, role, taxonomyVersion: taxonomy?.version ?? null };
      // Counts of decided and disputed items are results: not for annotators (blind).
      return can(role, 'results.read') ? { ...summary, status: await labelStatus(store.db, project.id) } : summary;
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/settings',
    { config: { permission: 'project.read' }, schema: { tags: ['projects'], summary: 'labelling settings (overlap, leases, consensus, review, gold, suggestions, servePrioritisedOnly, soloLabelling)', params: ProjectParams, querystring: NoQuery } },
    async (req) => getLabelSettings(store.db, authOf(req).project.id),
  );

  app.patch<{ Params: ProjectParams; Body: Static<typeof SettingsPatch> }>(
    '/api/projects/:project/settings',
    { config: { permission: 'settings.write' }, schema: { tags: ['projects'], summary: 'change labelling settings (partial update)', params: ProjectParams, body: SettingsPatch, querystring: NoQuery } },
    async (req) => {
      const { project, actor } = authOf(req);
      return updateSettings(store, project, actor, req.body as LabelSettingsPatch);
    },
  );
};
