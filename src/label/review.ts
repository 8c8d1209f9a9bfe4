import type { Selectable } from 'kysely';
import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { getItem } from '../store/items.ts';
import type { Project } from '../store/projects.ts';
import type { ReviewQueueTable, ReviewReason } from '../store/schema.ts';
import { change, record, type Actor, type TxCtx } from '../store/context.ts';
import { ConflictError } from './errors.ts';
import { checkItemAnswers, classLabels } from './answers.ts';
import { ensureLabelItem, finalize, getLabelItem, isGold, provenanceAnswers, reopen, roundAnswers } from './label-items.ts';
import { answersHash, classQuestion, isLegacy, itemDimensions, storedAnswers, type AnswerValue, type Answers } from './questions.ts';
import { rowsState } from './row-digest.ts';
import { checkLabels } from './taxonomy.ts';
import { dict } from '../core/dict.ts';
import { currentTaxonomy } from './taxonomy-versions.ts';
import type { Conn } from '../store/tx.ts';
import { emit } from './webhooks.ts';

/**
 * The review queue: items land here when annotators disagree, consensus is not confident
 * enough, a gold check failed, or a taxonomy change touched their labels. A reviewer accepts
 * the proposal, fixes the label, or rejects (back to labelling, in a new round). An item has at
 * most one open entry: a newer reason supersedes the older entry (kept, closed, and cited).
 */
export interface ReviewEntry {
  id: number;
  itemId: number;
  round: number;
  reason: ReviewReason;
  detail: Record<string, unknown>;
  proposal: string[] | null;
  /** The proposal for every question (taxonomies beyond one legacy question); null otherwise. */
  proposalAnswers: Answers | null;
  status: 'open' | 'closed';
  createdAt: string;
  closedAt: string | null;
  reviewId: number | null;
}

const toEntry = (r: Selectable<ReviewQueueTable>): ReviewEntry => ({
  id: r.id,
  itemId: r.item_id,
  round: r.round,
  reason: r.reason,
  detail: parseJson(r.detail, {}),
  proposal: parseJson<string[] | null>(r.proposal, null),
  proposalAnswers: r.proposal_answers ? storedAnswers(r.proposal_answers, null, undefined) : null,
  status: r.status,
  createdAt: r.created_at,
  closedAt: r.closed_at,
  reviewId: r.review_id,
});

export interface QueueInput {
  itemId: number;
  round: number;
  reason: ReviewReason;
  detail: Record<string, unknown>;
  proposal: string[] | null;
  /** Every question's proposal (a question that cannot be proposed is left out). */
  proposalAnswers?: Answers | null;
}

/** Sends an item to review (inside the caller's change). */
export async function queueReview(ctx: TxCtx, q: QueueInput): Promise<number> {
  const at = nowIso();
  const open = await ctx.conn.selectFrom('review_queue').selectAll().where('item_id', '=', q.itemId).where('status', '=', 'open').execute();
  const supersedes = open.map((o) => ({ id: o.id, reason: o.reason, proposal: parseJson(o.proposal, null) }));
  if (open.length) await ctx.conn.updateTable('review_queue').set({ status: 'closed', closed_at: at }).where('item_id', '=', q.itemId).where('status', '=', 'open').execute();
  const detail = supersedes.length ? { ...q.detail, supersedes } : q.detail;
  const { id } = await ctx.conn
    .insertInto('review_queue')
    .values({
      project_id: ctx.project.id,
      item_id: q.itemId,
      round: q.round,
      reason: q.reason,
      detail: JSON.stringify(detail),
      proposal: q.proposal ? JSON.stringify(q.proposal) : null,
      proposal_answers: q.proposalAnswers ? JSON.stringify(q.proposalAnswers) : null,
      status: 'open',
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const gold = await isGold(ctx.conn, q.itemId);
  if (!gold) {
    await ensureLabelItem(ctx.conn, ctx.project.id, q.itemId);
    await ctx.conn.updateTable('label_items').set({ status: 'review', updated_at: at }).where('item_id', '=', q.itemId).execute();
  }
  const answers = q.proposalAnswers ? { proposalAnswers: q.proposalAnswers, proposalAnswersSha256: answersHash(q.proposalAnswers) } : {};
  const rows = await rowsState(ctx.conn, { label_items: gold ? [] : [q.itemId] });
  await record(ctx, 'review.queue', `item:${q.itemId}`, { review: id, reason: q.reason, proposal: q.proposal, round: q.round, supersedes: supersedes.map((s) => s.id), ...answers, rows });
  await emit(ctx, 'review.queued', { itemId: q.itemId, review: id, reason: q.reason });
  return id;
}

export async function listReviews(db: Conn, projectId: number, q: { status?: 'open' | 'closed'; reason?: ReviewReason; after?: number; limit?: number } = {}): Promise<ReviewEntry[]> {
  let query = db
    .selectFrom('review_queue')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('status', '=', q.status ?? 'open')
    .where('id', '>', q.after ?? 0)
    .orderBy('id')
    .limit(q.limit ?? 50);
  if (q.reason) query = query.where('reason', '=', q.reason);
  return (await query.execute()).map(toEntry);
}

export async function getReview(db: Conn, projectId: number, id: number): Promise<ReviewEntry> {
  const r = await db.selectFrom('review_queue').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  if (!r) throw new NotFoundError(`review ${id}`);
  return toEntry(r);
}

/** Everything a reviewer needs: the entry, the item, the round's annotations, gold and final labels. */
export async function reviewDetail(db: Conn, projectId: number, id: number) {
  const entry = await getReview(db, projectId, id);
  const item = await getItem(db, projectId, entry.itemId);
  const gold = await db.selectFrom('gold_items').select('labels').where('item_id', '=', entry.itemId).executeTakeFirst();
  const li = await getLabelItem(db, entry.itemId);
  const taxonomy = await currentTaxonomy(db, projectId);
  const cls = classQuestion(taxonomy);
  const final = li?.final_labels
    ? { labels: parseJson<string[]>(li.final_labels, []), source: li.final_source, taxonomyVersion: li.final_taxonomy_version, ...(li.final_answers ? { answers: storedAnswers(li.final_answers, null, undefined) } : {}) }
    : null;
  return {
    ...entry,
    item,
    // What a fix is checked against (text length in code points, image size, audio duration), beyond one legacy question.
    ...(isLegacy(taxonomy) ? {} : { dimensions: itemDimensions(item) }),
    annotations: provenanceAnswers(await roundAnswers(db, entry.itemId, entry.round, cls?.name ?? null)),
    gold: gold ? parseJson<string[]>(gold.labels, []) : null,
    final,
  };
}

export type Decision = 'accept' | 'reject' | 'fix';

export interface DecisionInput {
  decision: Decision;
  /** fix: the single/multi question's labels. */
  labels?: string[];
  /** fix: answers by question; a question left out keeps the proposal's answer. */
  answers?: Record<string, unknown>;
  note?: string;
}

/**
 * A reviewer's decision. accept: the proposal becomes final; fix: the reviewer's labels do;
 * reject: the item goes back to labelling in a new round. On a gold item the decision is about
 * the gold label itself: accept keeps it, fix replaces it, reject removes the item from gold.
 * The final label's provenance names the reviewer, the decision, the reason, the consensus
 * and every annotation it rests on.
 */
export async function decideReview(store: Store, project: Project, actor: Actor, id: number, input: DecisionInput) {
  if (actor.userId === null) throw new UserError('a review decision is made by a user (use the API with a reviewer token)');
  if (!['accept', 'reject', 'fix'].includes(input.decision)) throw new UserError(`decision: expected accept|reject|fix, got ${JSON.stringify(input.decision)}`);
  if (input.decision === 'fix' && !input.labels && !input.answers) throw new UserError('labels: "fix" needs the corrected labels (or answers)');
  if (input.decision !== 'fix' && input.labels) throw new UserError(`labels: only "fix" takes labels ("${input.decision}" does not)`);
  if (input.decision !== 'fix' && input.answers) throw new UserError(`answers: only "fix" takes answers ("${input.decision}" does not)`);
  return change(store, project, actor, async (ctx) => {
    const entry = await getReview(ctx.conn, project.id, id);
    if (entry.status !== 'open') throw new ConflictError(`review ${id} is closed (${entry.reviewId ? `decided in review decision ${entry.reviewId}` : 'superseded by a newer entry for this item'})`, 'E_REVIEW_CLOSED');
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    const legacy = isLegacy(taxonomy);
    const cls = classQuestion(taxonomy);
    let labels: string[] | null = null;
    let answers: Answers | null = null;
    if (input.decision === 'accept') {
      if (legacy || !entry.proposalAnswers) {
        if (!entry.proposal) throw new ConflictError(`review ${id} has nothing to accept (reason ${entry.reason}, no proposal): fix it with labels, or reject it`, 'E_NO_PROPOSAL');
        try {
          labels = checkLabels(taxonomy, entry.proposal);
        } catch (e) {
          throw new ConflictError(`the proposal ${JSON.stringify(entry.proposal)} no longer fits taxonomy version ${taxonomy.version} (${(e as Error).message}): fix it instead`, 'E_STALE_PROPOSAL');
        }
        if (!legacy) answers = await checkItemAnswers(ctx.conn, project.id, taxonomy, entry.itemId, cls ? { [cls.name]: labels } : {}, { where: 'proposal' }).catch((e: Error) => {
          throw new ConflictError(`review ${id}'s proposal answers only the single/multi question and this taxonomy asks more (${e.message}): fix it with answers`, 'E_NO_PROPOSAL');
        });
      } else {
        try {
          answers = await checkItemAnswers(ctx.conn, project.id, taxonomy, entry.itemId, entry.proposalAnswers, { where: 'proposal' });
        } catch (e) {
          throw new ConflictError(`the proposal does not answer taxonomy version ${taxonomy.version} (${(e as Error).message}): fix it with answers instead`, entry.proposal === null && cls ? 'E_NO_PROPOSAL' : 'E_STALE_PROPOSAL');
        }
        labels = classLabels(taxonomy, answers);
      }
    } else if (input.decision === 'fix') {
      if (legacy && input.answers === undefined) labels = checkLabels(taxonomy, input.labels);
      else {
        // Answers not given keep the proposal's; `labels` answers the class question.
        const merged = dict<unknown>();
        for (const [k, v] of Object.entries(entry.proposalAnswers ?? (entry.proposal && cls ? { [cls.name]: entry.proposal } : {}))) merged[k] = v as AnswerValue;
        if (input.labels !== undefined) merged[cls?.name ?? 'labels'] = checkLabels(taxonomy, input.labels);
        for (const [k, v] of Object.entries(input.answers ?? {})) merged[k] = v;
        answers = await checkItemAnswers(ctx.conn, project.id, taxonomy, entry.itemId, merged, { where: 'body/answers' });
        labels = classLabels(taxonomy, answers);
        if (legacy) answers = null;
      }
    }
    const at = nowIso();
    const { id: reviewId } = await ctx.conn
      .insertInto('reviews')
      .values({ project_id: project.id, item_id: entry.itemId, reviewer_id: actor.userId!, decision: input.decision, labels: labels ? JSON.stringify(labels) : null, note: input.note ?? null, created_at: at, answers: answers ? JSON.stringify(answers) : null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await ctx.conn.updateTable('review_queue').set({ status: 'closed', closed_at: at, review_id: reviewId }).where('id', '=', id).execute();
    const gold = await isGold(ctx.conn, entry.itemId);
    let outcome: Record<string, unknown>;
    if (gold) {
      if (input.decision === 'reject') await ctx.conn.deleteFrom('gold_items').where('item_id', '=', entry.itemId).execute();
      else await ctx.conn.updateTable('gold_items').set({ labels: JSON.stringify(labels) }).where('item_id', '=', entry.itemId).execute();
      outcome = { gold: input.decision === 'reject' ? null : labels };
    } else if (input.decision === 'reject') {
      outcome = { round: await reopen(ctx, entry.itemId) };
    } else {
      const round = await roundAnswers(ctx.conn, entry.itemId, entry.round, cls?.name ?? null);
      await finalize(ctx, entry.itemId, {
        labels: labels!,
        answers,
        source: 'review',
        confidence: null,
        taxonomyVersion: taxonomy.version,
        provenance: {
          source: 'review',
          round: entry.round,
          taxonomyVersion: taxonomy.version,
          review: { id: reviewId, reviewer: actor.name, decision: input.decision, note: input.note ?? null, reason: entry.reason, queueEntry: id, proposal: entry.proposal, ...(entry.proposalAnswers ? { proposalAnswers: entry.proposalAnswers } : {}), at },
          consensus: entry.detail.consensus ?? null,
          annotations: provenanceAnswers(round),
        },
      });
      outcome = answers ? { labels, answers } : { labels };
    }
    const extra = answers ? { answers, answersSha256: answersHash(answers) } : {};
    const rows = await rowsState(ctx.conn, { reviews: [reviewId], label_items: gold ? [] : [entry.itemId] });
    await record(ctx, 'review.decide', `item:${entry.itemId}`, { review: id, reviewDecisionId: reviewId, decision: input.decision, labels, reason: entry.reason, gold, note: input.note ?? null, ...extra, rows });
    await emit(ctx, 'review.done', { itemId: entry.itemId, review: id, decision: input.decision, labels, reason: entry.reason, ...(answers ? { answers } : {}) });
    return { review: id, reviewDecisionId: reviewId, itemId: entry.itemId, decision: input.decision, ...outcome };
  });
}
