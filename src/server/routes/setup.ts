import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { createProjectAs } from '../../label/new-project.ts';
import { userOf } from '../auth.ts';
import { NoQuery } from '../schemas.ts';

const NewProject = Type.Object(
  {
    // Checked by createProjectAs, whose messages say what a name or tag may hold.
    name: Type.String({ minLength: 1, maxLength: 64, description: 'letters, digits, ".", "_" or "-", starting with a letter or digit' }),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'residency tag of imported items (default "local")' })),
  },
  { additionalProperties: false },
);

/** Setting up from the web UI: an instance admin creates a project and becomes its admin. */
export const setupRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.post<{ Body: Static<typeof NewProject> }>(
    '/api/projects',
    { config: { permission: 'instance.admin' }, schema: { tags: ['projects'], summary: 'create a project (instance admins); the caller becomes its admin', body: NewProject, querystring: NoQuery } },
    async (req, reply) => {
      const { user } = userOf(req);
      const p = await createProjectAs(store, user, req.body.name, req.body.region === undefined ? {} : { region: req.body.region });
      return reply.code(201).send({ name: p.name, createdAt: p.createdAt, settings: p.settings, role: 'admin' });
    },
  );
};
