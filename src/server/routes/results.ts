import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { projectAgreement } from '../../label/agreement-report.ts';
import type { AlphaMetric, KappaWeights } from '../../consensus/index.ts';
import { getFinalLabel, listAnnotations, listFinalLabels, nonBlindAnswers } from '../../label/results.ts';
import { rerunConsensus } from '../../label/settle.ts';
import { currentTaxonomy } from '../../label/taxonomies.ts';
import { authOf } from '../auth.ts';
import { Id, ProjectParams, withProject, NoQuery, NoBody } from '../schemas.ts';

const LabelsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    status: Type.Optional(Type.Union([Type.Literal('done'), Type.Literal('review'), Type.Literal('open')])),
  },
  { additionalProperties: false },
);
const AnnotationsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    user: Type.Optional(Type.String({ maxLength: 64 })),
    item: Type.Optional(Id),
    question: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const AgreementQuery = Type.Object(
  {
    level: Type.Optional(Type.Union(['nominal', 'ordinal', 'interval', 'ratio'].map((l) => Type.Literal(l)))),
    weights: Type.Optional(Type.Union(['none', 'linear', 'quadratic'].map((l) => Type.Literal(l)))),
  },
  { additionalProperties: false },
);
const ItemParams = withProject({ item: Id });

/** Results: final labels with provenance, raw annotations, agreement, consensus re-runs. */
export const resultRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams; Querystring: Static<typeof LabelsQuery> }>(
    '/api/projects/:project/labels',
    { config: { permission: 'results.read' }, schema: { tags: ['results'], summary: 'final labels with provenance (status done), or items open / in review', params: ProjectParams, querystring: LabelsQuery } },
    async (req) => ({ labels: await listFinalLabels(store.db, authOf(req).project.id, req.query) }),
  );
  app.get<{ Params: Static<typeof ItemParams> }>(
    '/api/projects/:project/labels/:item',
    { config: { permission: 'results.read' }, schema: { tags: ['results'], summary: "one item's final label and provenance", params: ItemParams, querystring: NoQuery } },
    async (req) => getFinalLabel(store.db, authOf(req).project.id, req.params.item),
  );
  app.get<{ Params: ProjectParams; Querystring: Static<typeof AnnotationsQuery> }>(
    '/api/projects/:project/annotations',
    { config: { permission: 'annotations.read' }, schema: { tags: ['results'], summary: 'raw annotations with annotators (filter: user, item, question)', params: ProjectParams, querystring: AnnotationsQuery } },
    async (req) => ({ annotations: await listAnnotations(store.db, authOf(req).project.id, { ...req.query, itemId: req.query.item }) }),
  );
  app.get<{ Params: ProjectParams; Querystring: Static<typeof AgreementQuery> }>(
    '/api/projects/:project/agreement',
    { config: { permission: 'results.read' }, schema: { tags: ['results'], summary: 'agreement per project, per label, per annotator pair (current rounds)', params: ProjectParams, querystring: AgreementQuery } },
    async (req) => {
      const { project } = authOf(req);
      const taxonomy = await currentTaxonomy(store.db, project.id);
      const opts = { level: req.query.level as AlphaMetric | undefined, weights: req.query.weights as KappaWeights | undefined };
      const report = await projectAgreement(store.db, project.id, taxonomy, opts);
      // Answers given without blindness (solo labelling) can agree for that reason alone: say how many
      // are in (only when there are any: the report is otherwise unchanged).
      const nonBlind = await nonBlindAnswers(store.db, project.id);
      if (nonBlind === 0) return report;
      return { ...report, nonBlindAnswers: nonBlind, note: `${nonBlind} of the current answers were given without blindness (solo labelling by an admin or manager): agreement that includes them may overstate how independent annotators agree` };
    },
  );
  app.post<{ Params: ProjectParams }>(
    '/api/projects/:project/consensus/run',
    { config: { permission: 'consensus.run' }, schema: { tags: ['results'], summary: "re-run consensus with the project's method over consensus-decided items", params: ProjectParams, querystring: NoQuery, body: NoBody } },
    async (req) => {
      const { project, actor } = authOf(req);
      return rerunConsensus(store, project, actor);
    },
  );
};
