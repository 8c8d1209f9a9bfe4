import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { setPriorities, setSuggestions } from '../../label/results.ts';
import { authOf } from '../auth.ts';
import { BULK_BODY_LIMIT } from '../security.ts';
import { Answers, Id, LabelList, ProjectParams, NoQuery } from '../schemas.ts';

const SuggestionsBody = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        { itemId: Id, labels: Type.Optional(LabelList), answers: Type.Optional(Answers), source: Type.String({ minLength: 1, maxLength: 200 }), confidence: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10000 },
    ),
  },
  { additionalProperties: false },
);
const PrioritiesBody = Type.Object(
  { items: Type.Array(Type.Object({ itemId: Id, priority: Type.Union([Type.Number(), Type.Null()]) }, { additionalProperties: false }), { minItems: 1, maxItems: 100000 }) },
  { additionalProperties: false },
);

/** What feeds the queue: suggestions shown with tasks, and priorities from a selection strategy. */
export const curationRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.put<{ Params: ProjectParams; Body: Static<typeof SuggestionsBody> }>(
    '/api/projects/:project/suggestions',
    { config: { permission: 'suggestions.write' }, bodyLimit: BULK_BODY_LIMIT, schema: { tags: ['curation'], summary: 'set suggestions: labels (the single/multi question) or answers (pre-annotations of any questions; boxes may carry a score); annotators see them, never the source', params: ProjectParams, body: SuggestionsBody, querystring: NoQuery } },
    async (req) => {
      const { project, actor } = authOf(req);
      return setSuggestions(store, project, actor, req.body.items);
    },
  );
  app.put<{ Params: ProjectParams; Body: Static<typeof PrioritiesBody> }>(
    '/api/projects/:project/priorities',
    { config: { permission: 'priorities.write' }, bodyLimit: BULK_BODY_LIMIT, schema: { tags: ['curation'], summary: 'set item priorities (higher first; null = import order); items held out as a test split cannot be queued (409, naming them; null clears)', params: ProjectParams, body: PrioritiesBody, querystring: NoQuery } },
    async (req) => {
      const { project, actor } = authOf(req);
      return setPriorities(store, project, actor, req.body.items);
    },
  );
};
