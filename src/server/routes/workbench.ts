import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { nowIso, parseJson } from '../../core/json.ts';
import type { Store } from '../../store/db.ts';
import { nextTask } from '../../label/assignment.ts';
import { getLabelSettings } from '../../label/settings.ts';
import { checkTaxonomy, labelNames, type TaxonomyInput } from '../../label/taxonomy.ts';
import { classQuestion, isLegacy } from '../../label/questions.ts';
import { findTaxonomy, touchedItems } from '../../label/taxonomies.ts';
import { MAX_HELD } from '../../label/limits.ts';
import { authOf } from '../auth.ts';
import { TAXONOMY_BODY_LIMIT } from '../security.ts';
import { Id, NoQuery, ProjectParams } from '../schemas.ts';
import { TaxonomyBody } from './taxonomy.ts';

const AheadBody = Type.Object(
  { holding: Type.Array(Id, { maxItems: MAX_HELD, description: 'ids of the live tasks the client already holds' }) },
  { additionalProperties: false },
);

/**
 * What the web UI's workbenches need beyond the core API: preloading the next task, and the
 * taxonomy editor's migration preview.
 */
export const workbenchRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.post<{ Params: ProjectParams; Body: Static<typeof AheadBody> }>(
    '/api/projects/:project/tasks/ahead',
    {
      config: { permission: 'task.annotate' },
      schema: {
        tags: ['tasks'],
        summary: `a task besides the ones the client holds (so the labelling view can preload the next item): another live lease, else a new one; {"task": null} when nothing is left or ${MAX_HELD} leases are live. The suggestion carries its confidence when the project shows suggestions (never its source)`,
        params: ProjectParams,
        querystring: NoQuery,
        body: AheadBody,
      },
    },
    async (req) => {
      const { project, user } = authOf(req);
      const holding = [...new Set(req.body.holding)];
      const live = await store.db
        .selectFrom('assignments')
        .select(['id', 'suggestion'])
        .where('project_id', '=', project.id)
        .where('user_id', '=', user.id)
        .where('status', '=', 'leased')
        .where('expires_at', '>', nowIso())
        .execute();
      const unheld = live.filter((a) => !holding.includes(a.id));
      if (unheld.length === 0 && live.length >= MAX_HELD) return { task: null, limit: true };
      const task = await nextTask(store, project, user, { exclude: holding });
      if (!task) return { task: null, limit: false };
      let suggestion: { labels: string[]; answers?: unknown; confidence?: number | null } | null = task.suggestion;
      if (suggestion && (await getLabelSettings(store.db, project.id)).showSuggestions) {
        const row = await store.db.selectFrom('assignments').select('suggestion').where('id', '=', task.id).executeTakeFirst();
        const stored = parseJson<{ confidence?: number | null } | null>(row?.suggestion, null);
        suggestion = { ...suggestion, confidence: stored?.confidence ?? null };
      }
      return { task: { ...task, suggestion }, limit: false };
    },
  );

  app.post<{ Params: ProjectParams; Body: Static<typeof TaxonomyBody> }>(
    '/api/projects/:project/taxonomy/preview',
    {
      config: { permission: 'taxonomy.write' },
      bodyLimit: TAXONOMY_BODY_LIMIT,
      schema: {
        tags: ['taxonomy'],
        summary: 'what creating this version would do (nothing is written): labels added, removed and mapped, and the items that would go to review, by state',
        params: ProjectParams,
        querystring: NoQuery,
        body: TaxonomyBody,
      },
    },
    async (req) => {
      const { project } = authOf(req);
      const previous = await findTaxonomy(store.db, project.id);
      const checked = checkTaxonomy(req.body as TaxonomyInput, previous);
      const before = previous ? labelNames(previous) : [];
      const after = labelNames(classQuestion(checked.input) ?? {});
      const items = [...checked.touchedBy.values()].some((t) => t.size > 0) ? await touchedItems(store.db, project.id, checked) : [];
      const byState: Record<string, number> = {};
      for (const t of items) byState[t.state] = (byState[t.state] ?? 0) + 1;
      return {
        version: (previous?.version ?? 0) + 1,
        previousVersion: previous?.version ?? null,
        added: after.filter((l) => !before.includes(l)),
        removed: before.filter((l) => !after.includes(l)),
        mapping: [...checked.map.entries()].map(([from, to]) => ({ from, to })),
        touched: [...checked.touched],
        ...(isLegacy(checked.input)
          ? {}
          : {
              questions: checked.input.questions.map((q) => {
                const was = previous?.questions.find((p) => p.name === q.name);
                const b = was ? labelNames(was) : [];
                const a = labelNames(q);
                return { name: q.name, kind: q.kind, new: !was, added: a.filter((l) => !b.includes(l)), removed: b.filter((l) => !a.includes(l)), mapping: [...(checked.maps.get(q.name) ?? new Map()).entries()].map(([from, to]) => ({ from, to })), touched: [...(checked.touchedBy.get(q.name) ?? [])] };
              }),
            }),
        sentToReview: items.length,
        byState,
        items: items.slice(0, 200),
      };
    },
  );
};
