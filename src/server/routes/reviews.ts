import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { decideReview, listReviews, reviewDetail } from '../../label/review.ts';
import type { ReviewReason } from '../../store/schema.ts';
import { authOf } from '../auth.ts';
import { Answers, Id, LabelList, ProjectParams, withProject, NoQuery } from '../schemas.ts';

const ReviewParams = withProject({ review: Id });
const ReviewsQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
    reason: Type.Optional(Type.Union(['disagreement', 'low_confidence', 'gold_failed', 'taxonomy_change', 'audit_flag'].map((r) => Type.Literal(r)))),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
const DecisionBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('accept'), Type.Literal('reject'), Type.Literal('fix')]),
    labels: Type.Optional(LabelList),
    answers: Type.Optional(Answers),
    note: Type.Optional(Type.String({ maxLength: 10000 })),
  },
  { additionalProperties: false },
);

/** The review queue: disagreements, low confidence, failed gold checks, taxonomy changes. */
export const reviewRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams; Querystring: Static<typeof ReviewsQuery> }>(
    '/api/projects/:project/reviews',
    { config: { permission: 'review.read' }, schema: { tags: ['reviews'], summary: 'the review queue (open entries by default)', params: ProjectParams, querystring: ReviewsQuery } },
    async (req) => ({ reviews: await listReviews(store.db, authOf(req).project.id, { ...req.query, reason: req.query.reason as ReviewReason | undefined }) }),
  );
  app.get<{ Params: Static<typeof ReviewParams> }>(
    '/api/projects/:project/reviews/:review',
    { config: { permission: 'review.read' }, schema: { tags: ['reviews'], summary: 'one entry with the item, its annotations, the proposal and the gold label', params: ReviewParams, querystring: NoQuery } },
    async (req) => reviewDetail(store.db, authOf(req).project.id, req.params.review),
  );
  app.post<{ Params: Static<typeof ReviewParams>; Body: Static<typeof DecisionBody> }>(
    '/api/projects/:project/reviews/:review/decision',
    { config: { permission: 'review.decide' }, schema: { tags: ['reviews'], summary: 'accept the proposal, fix with labels or answers (answers left out keep the proposal), or reject (back to labelling)', params: ReviewParams, body: DecisionBody, querystring: NoQuery } },
    async (req) => {
      const { project, actor } = authOf(req);
      return decideReview(store, project, actor, req.params.review, req.body);
    },
  );
};
