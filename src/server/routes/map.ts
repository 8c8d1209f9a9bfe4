import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, UserError } from '../../core/errors.ts';
import { nowIso, parseJson } from '../../core/json.ts';
import type { Store } from '../../store/db.ts';
import { readEmbeddings } from '../../store/models.ts';
import { tfidf } from '../../probe/raw.ts';
import { change, record } from '../../store/context.ts';
import { checkItem, ensureLabelItem, finalize, isGold, provenanceAnswers, roundAnswers } from '../../label/label-items.ts';
import { refuseHeldOut } from '../../label/eligibility.ts';
import { rowsState } from '../../label/row-digest.ts';
import { checkLabels, labelNames } from '../../label/taxonomy.ts';
import { classQuestion, isLegacy } from '../../label/questions.ts';
import { currentTaxonomy, findTaxonomy } from '../../label/taxonomies.ts';
import type { Conn } from '../../store/tx.ts';
import { authOf } from '../auth.ts';
import { lsa } from '../map-features.ts';
import { Id, LabelList, NoQuery, ProjectParams } from '../schemas.ts';

const MapQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 10, maximum: 20000, default: 2000, description: 'at most this many items, evenly spaced in import order' })),
    model: Type.Optional(Id),
  },
  { additionalProperties: false },
);
const BulkBody = Type.Object(
  {
    itemIds: Type.Array(Id, { minItems: 1, maxItems: 5000 }),
    labels: LabelList,
    note: Type.Optional(Type.String({ maxLength: 10000 })),
  },
  { additionalProperties: false },
);

/** Dimensions of the LSA features used when no embedding model exists yet. */
const RAW_DIM = 50;
const RAW_SEED = 7;

/** Evenly spaced picks of at most `k` of `xs` (deterministic: the same sample every time). */
export function evenSample<T>(xs: readonly T[], k: number): T[] {
  if (xs.length <= k) return xs.slice();
  const out: T[] = [];
  for (let i = 0; i < k; i++) out.push(xs[Math.floor((i * xs.length) / k)]);
  return out;
}

async function latestEmbeddingModel(db: Conn, projectId: number, modelId?: number) {
  let q = db
    .selectFrom('embeddings')
    .innerJoin('models', 'models.id', 'embeddings.model_id')
    .select(['models.id', 'models.kind', 'models.pretext', 'models.created_at', (e) => e.fn.countAll<number>().as('n')])
    .where('models.project_id', '=', projectId)
    .groupBy(['models.id', 'models.kind', 'models.pretext', 'models.created_at'])
    .orderBy('models.id', 'desc')
    .limit(1);
  if (modelId !== undefined) q = q.where('models.id', '=', modelId);
  return q.executeTakeFirst();
}

/**
 * The embedding map's data and its bulk actions. The browser lays the vectors out with UMAP
 * (umap-js); the server sends a deterministic sample of items with what the map colours by:
 * labelling status, final label, source label, suggestion confidence (uncertainty).
 */
export const mapRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams; Querystring: Static<typeof MapQuery> }>(
    '/api/projects/:project/map',
    {
      config: { permission: 'items.read' },
      schema: {
        tags: ['items'],
        summary: "vectors for the embedding map: the latest embedding model's (else LSA of the TF-IDF of text items), with each item's status, labels and suggestion",
        params: ProjectParams,
        querystring: MapQuery,
      },
    },
    async (req) => {
      const { project } = authOf(req);
      const db = store.db;
      const limit = req.query.limit ?? 2000;
      const total = Number((await db.selectFrom('items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', project.id).executeTakeFirstOrThrow()).n);
      const model = await latestEmbeddingModel(db, project.id, req.query.model);
      if (req.query.model !== undefined && !model) throw new NotFoundError(`embeddings of model ${req.query.model} in this project`);

      let ids: number[];
      let vectors: Float32Array;
      let dim: number;
      let source: Record<string, unknown>;
      if (model) {
        const all = (await db.selectFrom('embeddings').select('item_id').where('model_id', '=', model.id).orderBy('item_id').execute()).map((r) => r.item_id);
        ids = evenSample(all, limit);
        const e = await readEmbeddings(db, model.id, ids);
        vectors = e.data;
        dim = e.dim;
        source = { kind: 'model', model: model.id, modelKind: model.kind, pretext: model.pretext, createdAt: model.created_at, embedded: Number(model.n) };
      } else {
        const textIds = (await db.selectFrom('items').select('id').where('project_id', '=', project.id).where('modality', '=', 'text').orderBy('id').execute()).map((r) => r.id);
        if (textIds.length === 0) {
          return { source: { kind: 'none', reason: 'no embeddings yet: run `tessera pretrain` then `tessera embed` for this project' }, total, count: 0, dim: 0, vectors: '', items: [], labels: [] };
        }
        ids = evenSample(textIds, limit);
        const texts: string[] = [];
        for (let i = 0; i < ids.length; i += 1000) {
          const rows = await db.selectFrom('items').select(['id', 'text']).where('id', 'in', ids.slice(i, i + 1000)).execute();
          const byId = new Map(rows.map((r) => [r.id, r.text ?? '']));
          for (const id of ids.slice(i, i + 1000)) texts.push(byId.get(id) ?? '');
        }
        const f = tfidf(texts, 2000);
        const reduced = lsa(f.data, f.rows, f.dim, RAW_DIM, RAW_SEED);
        dim = reduced.dim;
        vectors = reduced.data;
        source = { kind: 'raw', features: `TF-IDF (${f.dim} terms) → LSA, ${dim} dimensions (randomized SVD, seed ${RAW_SEED})`, reason: 'no embedding model yet: `tessera pretrain` + `tessera embed` give better maps' };
      }

      const info = new Map<number, { modality: string; text: string | null; sourceLabel: string | null; status: string; labels: string[] | null; confidence: number | null; suggestion: { labels: string[]; confidence: number | null } | null }>();
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        const items = await db.selectFrom('items').select(['id', 'modality', 'text', 'source_label']).where('id', 'in', chunk).execute();
        const states = new Map((await db.selectFrom('label_items').select(['item_id', 'status', 'final_labels', 'final_confidence']).where('item_id', 'in', chunk).execute()).map((s) => [s.item_id, s]));
        const sugs = new Map((await db.selectFrom('suggestions').select(['item_id', 'labels', 'confidence']).where('item_id', 'in', chunk).execute()).map((s) => [s.item_id, s]));
        for (const it of items) {
          const s = states.get(it.id);
          const g = sugs.get(it.id);
          info.set(it.id, {
            modality: it.modality,
            text: it.text === null ? null : it.text.length > 280 ? it.text.slice(0, 280) + '…' : it.text,
            sourceLabel: it.source_label,
            status: s?.status ?? 'open',
            labels: s?.final_labels ? parseJson<string[]>(s.final_labels, []) : null,
            confidence: s?.final_confidence === null || s?.final_confidence === undefined ? null : Number(s.final_confidence),
            suggestion: g ? { labels: parseJson<string[]>(g.labels, []), confidence: g.confidence === null ? null : Number(g.confidence) } : null,
          });
        }
      }
      const taxonomy = await findTaxonomy(db, project.id);
      return {
        source,
        total,
        count: ids.length,
        dim,
        vectors: Buffer.from(vectors.buffer, vectors.byteOffset, ids.length * dim * 4).toString('base64'),
        items: ids.map((id) => ({ id, ...info.get(id)! })),
        labels: taxonomy ? labelNames(taxonomy) : [],
      };
    },
  );

  app.post<{ Params: ProjectParams; Body: Static<typeof BulkBody> }>(
    '/api/projects/:project/labels/bulk',
    {
      config: { permission: 'review.decide' },
      schema: {
        tags: ['results'],
        summary: "bulk-label items (e.g. a lasso on the embedding map): open items get these labels as a reviewer's final decision; items decided, in review or gold are left alone and listed; items held out as a test split refuse the whole request (409, naming them)",
        params: ProjectParams,
        querystring: NoQuery,
        body: BulkBody,
      },
    },
    async (req) => {
      const { project, actor } = authOf(req);
      if (actor.userId === null) throw new UserError('a bulk label is a reviewer decision: use a reviewer token');
      const ids = [...new Set(req.body.itemIds)];
      return change(store, project, actor, async (ctx) => {
        const taxonomy = await currentTaxonomy(ctx.conn, project.id);
        const labels = checkLabels(taxonomy, req.body.labels);
        // A bulk label answers the single/multi question only: not enough where others are required.
        const others = taxonomy.questions.filter((q) => q.required && q.kind !== 'single' && q.kind !== 'multi');
        if (others.length) throw new UserError(`labels: a bulk label answers the single/multi question only, and this taxonomy also requires ${others.map((q) => `"${q.name}" (${q.kind})`).join(', ')}: label these items through tasks, or import finished annotations`);
        const cls = classQuestion(taxonomy);
        const answers = isLegacy(taxonomy) ? null : { [cls!.name]: labels };
        // A test split's items are never labelled: the request is refused whole, nothing written.
        await refuseHeldOut(ctx.conn, project.id, ids, 'bulk label');
        const at = nowIso();
        const labelled: number[] = [];
        const reviewIds: number[] = [];
        const skipped: Array<{ itemId: number; reason: string }> = [];
        for (const itemId of ids) {
          await checkItem(ctx.conn, project.id, itemId);
          if (await isGold(ctx.conn, itemId)) {
            skipped.push({ itemId, reason: 'gold item' });
            continue;
          }
          const li = await ensureLabelItem(ctx.conn, project.id, itemId);
          if (li.status !== 'open') {
            skipped.push({ itemId, reason: li.status === 'done' ? 'already decided' : 'in review' });
            continue;
          }
          const { id: reviewId } = await ctx.conn
            .insertInto('reviews')
            .values({ project_id: project.id, item_id: itemId, reviewer_id: actor.userId!, decision: 'fix', labels: JSON.stringify(labels), note: `bulk label${req.body.note ? `: ${req.body.note}` : ''}`, created_at: at })
            .returning('id')
            .executeTakeFirstOrThrow();
          await finalize(ctx, itemId, {
            labels,
            answers,
            source: 'review',
            confidence: null,
            taxonomyVersion: taxonomy.version,
            provenance: {
              source: 'review',
              round: li.round,
              taxonomyVersion: taxonomy.version,
              review: { id: reviewId, reviewer: actor.name, decision: 'bulk', note: req.body.note ?? null, reason: 'bulk', queueEntry: null, proposal: null, at },
              consensus: null,
              annotations: provenanceAnswers(await roundAnswers(ctx.conn, itemId, li.round, cls?.name ?? null)),
            },
          });
          labelled.push(itemId);
          reviewIds.push(reviewId);
        }
        await record(ctx, 'label.bulk', `project:${project.id}`, { labels, items: labelled, skipped, note: req.body.note ?? null, taxonomyVersion: taxonomy.version, rows: await rowsState(ctx.conn, { reviews: reviewIds, label_items: labelled }) });
        return { labelled: labelled.length, skipped, labels };
      });
    },
  );
};
