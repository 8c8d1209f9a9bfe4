import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor, type TxCtx } from '../store/context.ts';
import { refuseHeldOut } from './eligibility.ts';
import { checkItem, ensureLabelItem } from './label-items.ts';
import { getLabelSettings, mergeSettings, putLabelSettings, type LabelSettings, type LabelSettingsPatch } from './settings.ts';
import { answerItem } from './answers.ts';
import { answersHash, checkAnswers, classQuestion, isLegacy, storedAnswers, type Answers } from './questions.ts';
import { checkLabels } from './taxonomy.ts';
import { currentTaxonomy, findTaxonomy } from './taxonomies.ts';
import { settleItem } from './settle.ts';
import type { Conn } from '../store/tx.ts';

/** Final labels, project status, raw annotations (for staff), and the manager's knobs. */

export interface FinalLabelRow {
  itemId: number;
  sourceKey: string;
  status: 'open' | 'review' | 'done';
  labels: string[] | null;
  source: 'consensus' | 'review' | 'import' | null;
  confidence: number | null;
  taxonomyVersion: number | null;
  decidedAt: string | null;
  provenance: Record<string, unknown> | null;
  /** Every question's final answer (taxonomies beyond one legacy question; absent otherwise). */
  answers?: Answers;
}

/** The query behind listFinalLabels (exported so tests can EXPLAIN it: label_items_status_item, 007_scale). */
export function finalLabelsQuery(db: Conn, projectId: number, q: { after?: number; limit?: number; status?: 'open' | 'review' | 'done' } = {}) {
  return db
    .selectFrom('label_items')
    .innerJoin('items', 'items.id', 'label_items.item_id')
    .select([
      'label_items.item_id',
      'items.source_key',
      'label_items.status',
      'label_items.final_labels',
      'label_items.final_source',
      'label_items.final_confidence',
      'label_items.final_taxonomy_version',
      'label_items.decided_at',
      'label_items.final_provenance',
      'label_items.final_answers',
    ])
    .where('label_items.project_id', '=', projectId)
    .where('label_items.status', '=', q.status ?? 'done')
    .where('label_items.item_id', '>', q.after ?? 0)
    .orderBy('label_items.item_id')
    .limit(q.limit ?? 100);
}

/** Decided items (status done) in item order, a page at a time (keyset on item id), with full provenance. */
export async function listFinalLabels(db: Conn, projectId: number, q: { after?: number; limit?: number; status?: 'open' | 'review' | 'done' } = {}): Promise<FinalLabelRow[]> {
  const rows = await finalLabelsQuery(db, projectId, q).execute();
  return rows.map(finalLabelOf);
}

/** A label_items row (with its item's source key) as the API shows a final label. */
export function finalLabelOf(r: {
  item_id: number;
  source_key: string;
  status: FinalLabelRow['status'];
  final_labels: string | null;
  final_source: FinalLabelRow['source'];
  final_confidence: number | string | null;
  final_taxonomy_version: FinalLabelRow['taxonomyVersion'];
  decided_at: FinalLabelRow['decidedAt'];
  final_provenance: string | null;
  final_answers: string | null;
}): FinalLabelRow {
  return {
    itemId: r.item_id,
    sourceKey: r.source_key,
    status: r.status,
    labels: parseJson<string[] | null>(r.final_labels, null),
    source: r.final_source,
    confidence: r.final_confidence === null ? null : Number(r.final_confidence),
    taxonomyVersion: r.final_taxonomy_version,
    decidedAt: r.decided_at,
    provenance: parseJson(r.final_provenance, null),
    ...(r.final_answers ? { answers: storedAnswers(r.final_answers, null, undefined) } : {}),
  };
}

export async function getFinalLabel(db: Conn, projectId: number, itemId: number): Promise<FinalLabelRow> {
  await checkItem(db, projectId, itemId);
  for (const status of ['done', 'review', 'open'] as const) {
    const [r] = await listFinalLabels(db, projectId, { after: itemId - 1, limit: 1, status });
    if (r && r.itemId === itemId) return r;
  }
  const item = await checkItem(db, projectId, itemId);
  return { itemId, sourceKey: item.source_key, status: 'open', labels: null, source: null, confidence: null, taxonomyVersion: null, decidedAt: null, provenance: null };
}

const count = async (q: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }) => Number((await q.executeTakeFirstOrThrow()).n);

/** Counts for a project's labelling: nothing here reveals a label. */
export async function labelStatus(db: Conn, projectId: number) {
  const items = await count(db.selectFrom('items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projectId));
  const gold = await count(db.selectFrom('gold_items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projectId));
  const byStatus = await db
    .selectFrom('label_items')
    .select(['status', (e) => e.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('gold_items').select('gold_items.item_id').whereRef('gold_items.item_id', '=', 'label_items.item_id'))))
    .groupBy('status')
    .execute();
  const st = Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])) as Record<string, number>;
  const annotations = await count(db.selectFrom('annotations').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projectId).where('skipped', '=', 0));
  const openReviews = await count(db.selectFrom('review_queue').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projectId).where('status', '=', 'open'));
  const done = st.done ?? 0;
  const review = st.review ?? 0;
  return { items, gold, open: items - gold - done - review, review, done, annotations, openReviews };
}

/** Raw annotations with their annotators (staff and reviewers only; never for annotators). */
export async function listAnnotations(db: Conn, projectId: number, q: { itemId?: number; user?: string; question?: boolean; after?: number; limit?: number } = {}) {
  let query = db
    .selectFrom('annotations')
    .innerJoin('users', 'users.id', 'annotations.user_id')
    .select([
      'annotations.id',
      'annotations.item_id',
      'users.name',
      'annotations.round',
      'annotations.labels',
      'annotations.taxonomy_version',
      'annotations.time_ms',
      'annotations.suggestion',
      'annotations.suggestion_accepted',
      'annotations.skipped',
      'annotations.skip_reason',
      'annotations.question',
      'annotations.comment',
      'annotations.created_at',
      'annotations.blind',
      'annotations.answers',
    ])
    .where('annotations.project_id', '=', projectId)
    .where('annotations.id', '>', q.after ?? 0)
    .orderBy('annotations.id')
    .limit(q.limit ?? 100);
  if (q.itemId !== undefined) query = query.where('annotations.item_id', '=', q.itemId);
  if (q.user !== undefined) query = query.where('users.name', '=', q.user);
  if (q.question !== undefined) query = query.where('annotations.question', '=', q.question ? 1 : 0);
  return (await query.execute()).map((r) => ({
    id: r.id,
    itemId: r.item_id,
    annotator: r.name,
    round: r.round,
    labels: parseJson<string[]>(r.labels, []),
    taxonomyVersion: r.taxonomy_version,
    timeMs: r.time_ms,
    suggestion: parseJson(r.suggestion, null),
    suggestionAccepted: r.suggestion_accepted === null ? null : r.suggestion_accepted === 1,
    skipped: r.skipped === 1,
    skipReason: r.skip_reason,
    question: r.question === 1,
    comment: r.comment,
    createdAt: r.created_at,
    blind: r.blind !== 0,
    ...(r.answers ? { answers: storedAnswers(r.answers, null, undefined) } : {}),
  }));
}

/**
 * How many of the current answers (the current round of each non-gold item, as agreement and
 * consensus read them) were given without blindness (solo labelling).
 */
export async function nonBlindAnswers(db: Conn, projectId: number): Promise<number> {
  const r = await db
    .selectFrom('annotations')
    .innerJoin('label_items', (j) => j.onRef('label_items.item_id', '=', 'annotations.item_id').onRef('label_items.round', '=', 'annotations.round'))
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('label_items.project_id', '=', projectId)
    .where('annotations.skipped', '=', 0)
    .where('annotations.blind', '=', 0)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('gold_items').select('gold_items.item_id').whereRef('gold_items.item_id', '=', 'annotations.item_id'))))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function updateSettings(store: Store, project: Project, actor: Actor, patch: LabelSettingsPatch): Promise<LabelSettings> {
  return change(store, project, actor, async (ctx) => {
    const before = await getLabelSettings(ctx.conn, project.id);
    const after = mergeSettings(before, patch);
    await putLabelSettings(ctx.conn, project.id, after);
    await record(ctx, 'settings.update', `project:${project.id}`, { before, after });
    if (after.overlap < before.overlap) {
      // Items already holding the new, smaller number of answers would otherwise wait forever.
      // A keyset page of open items at a time (label_items_status_item): never the whole project.
      const taxonomy = await findTaxonomy(ctx.conn, project.id);
      for (let last = 0; taxonomy; ) {
        const open = await ctx.conn.selectFrom('label_items').select('item_id').where('project_id', '=', project.id).where('status', '=', 'open').where('item_id', '>', last).orderBy('item_id').limit(1000).execute();
        for (const o of open) await settleItem(ctx, after, taxonomy, o.item_id);
        if (open.length < 1000) break;
        last = open[open.length - 1].item_id;
      }
    }
    return after;
  });
}

/**
 * Priorities from a selection strategy (higher first; null = back to import order). Queueing an
 * item held out as a test split is refused, the whole request (clearing its priority is not).
 */
export async function setPriorities(store: Store, project: Project, actor: Actor, entries: Array<{ itemId: number; priority: number | null }>): Promise<{ set: number }> {
  return change(store, project, actor, async (ctx) => {
    await refuseHeldOut(ctx.conn, project.id, entries.filter((e) => e.priority !== null).map((e) => e.itemId), 'priorities');
    for (const e of entries) {
      if (e.priority !== null && !Number.isFinite(e.priority)) throw new UserError(`priority of item ${e.itemId}: expected a finite number or null`);
      await checkItem(ctx.conn, project.id, e.itemId);
      await ensureLabelItem(ctx.conn, project.id, e.itemId);
      await ctx.conn.updateTable('label_items').set({ priority: e.priority, updated_at: nowIso() }).where('item_id', '=', e.itemId).execute();
    }
    await record(ctx, 'priority.set', `project:${project.id}`, { items: entries.length, first: entries.slice(0, 20) });
    return { set: entries.length };
  });
}

/** Suggestions (e.g. model predictions) shown with tasks: annotators see the labels only. */
export async function setSuggestions(store: Store, project: Project, actor: Actor, entries: SuggestionEntry[]): Promise<{ set: number }> {
  return change(store, project, actor, (ctx) => putSuggestions(ctx, entries));
}

export interface SuggestionEntry {
  itemId: number;
  /** The single/multi question's labels (or give answers). */
  labels?: string[];
  /** Pre-annotations by question (any subset of the questions; boxes may carry a score). */
  answers?: Record<string, unknown>;
  source: string;
  confidence?: number | null;
}

/** setSuggestions inside a change the caller runs (e.g. with a job shard's completion). */
export async function putSuggestions(ctx: TxCtx, entries: readonly SuggestionEntry[]): Promise<{ set: number }> {
  const taxonomy = await currentTaxonomy(ctx.conn, ctx.project.id);
  const legacy = isLegacy(taxonomy);
  const cls = classQuestion(taxonomy);
  const at = nowIso();
  const hashes: Array<{ item: number; answersSha256: string | null }> = [];
  // In chunks: a multi-row upsert and one lookup of the items per chunk (a suggest job shard
  // writes thousands; one statement per entry made it minutes on PostgreSQL).
  const CHUNK = 500;
  for (let i = 0; i < entries.length; i += CHUNK) {
    const chunk = entries.slice(i, i + CHUNK);
    const needItems = chunk.some((e) => e.answers !== undefined);
    const items = needItems ? new Map((await ctx.conn.selectFrom('items').select(['id', 'modality', 'text', 'meta']).where('project_id', '=', ctx.project.id).where('id', 'in', [...new Set(chunk.map((e) => e.itemId))]).execute()).map((r) => [r.id, r])) : new Map();
    const rows = chunk.map((e, k) => {
      if (!e.source) throw new UserError(`source of the suggestion for item ${e.itemId}: required (model name or id)`);
      let labels: string[];
      let answers: Answers | null = null;
      if (e.answers !== undefined) {
        const it = items.get(e.itemId);
        if (!it) throw new NotFoundError(`item ${e.itemId} in this project`);
        answers = checkAnswers(taxonomy.questions, e.answers, { where: `items/${i + k}/answers`, version: taxonomy.version, item: answerItem({ id: it.id, modality: it.modality, text: it.text, meta: JSON.parse(it.meta) }), scores: true, partial: true });
        labels = cls && answers[cls.name] !== undefined ? (answers[cls.name] as string[]) : [];
        if (e.labels !== undefined) throw new UserError(`items/${i + k}: give "answers" or "labels", not both`);
        hashes.push({ item: e.itemId, answersSha256: answersHash(answers) });
        if (legacy) answers = null;
      } else labels = checkLabels(taxonomy, e.labels ?? null);
      return { item_id: e.itemId, project_id: ctx.project.id, labels: JSON.stringify(labels), answers: answers ? JSON.stringify(answers) : null, source: e.source, confidence: e.confidence ?? null, created_at: at };
    });
    const ids = [...new Set(chunk.map((e) => e.itemId))];
    const found = new Set((await ctx.conn.selectFrom('items').select('id').where('project_id', '=', ctx.project.id).where('id', 'in', ids).execute()).map((r) => r.id));
    const missing = ids.find((id) => !found.has(id));
    if (missing !== undefined) throw new NotFoundError(`item ${missing} in this project`);
    const seen = new Set<number>();
    // The last entry for an item wins (as the one-by-one upsert did); one row per item per statement.
    const unique = rows.reverse().filter((r) => !seen.has(r.item_id) && seen.add(r.item_id)).reverse();
    await ctx.conn
      .insertInto('suggestions')
      .values(unique)
      .onConflict((oc) => oc.column('item_id').doUpdateSet((eb) => ({ labels: eb.ref('excluded.labels'), answers: eb.ref('excluded.answers'), source: eb.ref('excluded.source'), confidence: eb.ref('excluded.confidence'), created_at: eb.ref('excluded.created_at') })))
      .execute();
  }
  await record(ctx, 'suggestion.set', `project:${ctx.project.id}`, { items: entries.length, sources: [...new Set(entries.map((e) => e.source))], ...(hashes.length ? { answers: hashes } : {}) });
  return { set: entries.length };
}
