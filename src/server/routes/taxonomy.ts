import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../core/errors.ts';
import type { Store } from '../../store/db.ts';
import { createTaxonomy, findTaxonomy, listTaxonomies } from '../../label/taxonomies.ts';
import type { TaxonomyInput } from '../../label/taxonomy.ts';
import { MAX_QUESTIONS, QUESTION_KINDS } from '../../label/questions.ts';
import { authOf } from '../auth.ts';
import { TAXONOMY_BODY_LIMIT } from '../security.ts';
import { ProjectParams, NoQuery } from '../schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const LabelDefs = Type.Array(
  Type.Object({ name: Name, description: Type.Optional(Type.String({ maxLength: 10000 })), examples: Type.Optional(Type.Array(Type.String({ maxLength: 10000 }), { maxItems: 100 })) }, { additionalProperties: false }),
  { minItems: 1, maxItems: 1000 },
);
const QuestionName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_-]*$' });
const Question = Type.Object(
  {
    name: QuestionName,
    kind: Type.Union(QUESTION_KINDS.map((k) => Type.Literal(k))),
    labels: Type.Optional(LabelDefs),
    overlapping: Type.Optional(Type.Boolean({ description: 'spans, boxes, segments: whether regions may overlap (default: boxes yes, spans and segments no)' })),
    scale: Type.Optional(Type.Object({ min: Type.Integer({ minimum: 0, maximum: 1000 }), max: Type.Integer({ minimum: 1, maximum: 1100 }), labels: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 101 })) }, { additionalProperties: false, description: 'rating: the scale min..max' })),
    part: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'which part of a multimodal item the question is about' })),
    required: Type.Optional(Type.Boolean({ description: 'default true; single/multi questions are always required' })),
  },
  { additionalProperties: false },
);
const Step = { question: Type.Optional(QuestionName) };
export const TaxonomyBody = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('single'), Type.Literal('multi')], { description: 'legacy form: one single/multi question (with labels)' })),
    labels: Type.Optional(LabelDefs),
    questions: Type.Optional(Type.Array(Question, { minItems: 1, maxItems: MAX_QUESTIONS, description: 'questions of several kinds (instead of kind + labels)' })),
    guidelines: Type.Optional(Type.String({ maxLength: 200000 })),
    mapping: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Object({ op: Type.Literal('rename'), from: Name, to: Name, ...Step }, { additionalProperties: false }),
          Type.Object({ op: Type.Literal('merge'), from: Type.Array(Name, { minItems: 2 }), to: Name, ...Step }, { additionalProperties: false }),
          Type.Object({ op: Type.Literal('split'), from: Name, to: Type.Array(Name, { minItems: 2 }), ...Step }, { additionalProperties: false }),
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
