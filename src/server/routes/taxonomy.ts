import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../core/errors.ts';
import type { Store } from '../../store/db.ts';
import { createTaxonomy, findTaxonomy, listTaxonomies } from '../../label/taxonomies.ts';
import type { TaxonomyInput } from '../../label/taxonomy.ts';
import { authOf } from '../auth.ts';
import { TAXONOMY_BODY_LIMIT } from '../security.ts';
import { ProjectParams, NoQuery } from '../schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 200 });
export const TaxonomyBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('single'), Type.Literal('multi')]),
    labels: Type.Array(
      Type.Object({ name: Name, description: Type.Optional(Type.String({ maxLength: 10000 })), examples: Type.Optional(Type.Array(Type.String({ maxLength: 10000 }), { maxItems: 100 })) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 1000 },
    ),
    guidelines: Type.Optional(Type.String({ maxLength: 200000 })),
    mapping: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Object({ op: Type.Literal('rename'), from: Name, to: Name }, { additionalProperties: false }),
          Type.Object({ op: Type.Literal('merge'), from: Type.Array(Name, { minItems: 2 }), to: Name }, { additionalProperties: false }),
          Type.Object({ op: Type.Literal('split'), from: Name, to: Type.Array(Name, { minItems: 2 }) }, { additionalProperties: false }),
        ]),
        { maxItems: 1000 },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Taxonomy versions: labels with guidelines and examples; a new version maps the old labels. */
export const taxonomyRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/taxonomy',
    { config: { permission: 'project.read' }, schema: { tags: ['taxonomy'], summary: 'the current taxonomy version', params: ProjectParams, querystring: NoQuery } },
    async (req) => {
      const t = await findTaxonomy(store.db, authOf(req).project.id);
      if (!t) throw new NotFoundError('taxonomy (none created yet)');
      return t;
    },
  );
  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/taxonomy/versions',
    { config: { permission: 'project.read' }, schema: { tags: ['taxonomy'], summary: 'every version with its mapping from the previous one', params: ProjectParams, querystring: NoQuery } },
    async (req) => ({ versions: await listTaxonomies(store.db, authOf(req).project.id) }),
  );
  app.post<{ Params: ProjectParams; Body: Static<typeof TaxonomyBody> }>(
    '/api/projects/:project/taxonomy',
    {
      config: { permission: 'taxonomy.write' },
      bodyLimit: TAXONOMY_BODY_LIMIT,
      schema: { tags: ['taxonomy'], summary: 'create the next version (items whose labels the mapping touches go to review)', params: ProjectParams, body: TaxonomyBody, querystring: NoQuery },
    },
    async (req, reply) => {
      const { project, actor } = authOf(req);
      const r = await createTaxonomy(store, project, actor, req.body as TaxonomyInput);
      return reply.code(201).send(r);
    },
  );
};
