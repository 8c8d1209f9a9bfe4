import { nowIso, parseJson } from '../core/json.ts';
import { auditFlagsFor } from '../audit/exclusions.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor, type TxCtx } from './context.ts';
import { consensusFor, judge, needsWholeProject, type ItemConsensus, type LabelAnswer } from './consensus.ts';
import { finalize, getLabelItem, provenanceAnswers, roundAnswers, type RoundAnswer } from './label-items.ts';
import { queueReview } from './review.ts';
import { rowsState } from './row-digest.ts';
import { getLabelSettings, type LabelSettings } from './settings.ts';
import { labelNames, type Taxonomy } from './taxonomy.ts';
import { currentTaxonomy } from './taxonomies.ts';
import type { Conn } from './tx.ts';
import { emit } from './webhooks.ts';
import { projectConsensus, readAnswerColumns } from './recompute.ts';
import { consensusByFit, type FitInfo } from './consensus-fit.ts';

/**
 * The answers consensus learns from: every submitted annotation of the current round of every
 * non-gold item, keeping only answers whose labels all exist in the current taxonomy (items
 * with older labels are in review anyway). Majority vote only needs `onlyItem`'s answers.
 */
export async function currentAnswers(db: Conn, projectId: number, taxonomy: Taxonomy, onlyItem?: number): Promise<LabelAnswer[]> {
  let q = db
    .selectFrom('annotations')
    .innerJoin('label_items', (j) => j.onRef('label_items.item_id', '=', 'annotations.item_id').onRef('label_items.round', '=', 'annotations.round'))
    .innerJoin('users', 'users.id', 'annotations.user_id')
    .select(['annotations.item_id', 'users.name', 'annotations.labels'])
    .where('label_items.project_id', '=', projectId)
    .where('annotations.skipped', '=', 0)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('gold_items').select('gold_items.item_id').whereRef('gold_items.item_id', '=', 'annotations.item_id'))));
  if (onlyItem !== undefined) q = q.where('annotations.item_id', '=', onlyItem);
  const names = new Set(labelNames(taxonomy));
  const out: LabelAnswer[] = [];
  for (const r of await q.orderBy('annotations.id').execute()) {
    const labels = parseJson<string[]>(r.labels, []);
    if (labels.every((l) => names.has(l))) out.push({ item: String(r.item_id), annotator: r.name, labels });
  }
  return out;
}

function consensusDetail(s: LabelSettings, c: ItemConsensus, fit?: FitInfo) {
  return { method: s.consensus.method, tie: s.consensus.method === 'majority' ? s.consensus.tie : null, labels: c.labels, confidence: c.confidence, posterior: c.posterior, ...(fit ? { fit } : {}) };
}

/**
 * Called after each submitted annotation of a non-gold item: once the round has `overlap`
 * answers, consensus decides — a final label (source 'consensus', with provenance) or a
 * review entry (disagreement, low confidence). Returns what happened.
 */
export async function settleItem(ctx: TxCtx, s: LabelSettings, taxonomy: Taxonomy, itemId: number): Promise<'waiting' | 'final' | 'review'> {
  const li = await getLabelItem(ctx.conn, itemId);
  if (!li || li.status !== 'open') return 'waiting';
  const answers = await roundAnswers(ctx.conn, itemId, li.round);
  if (answers.length < s.overlap) return 'waiting';
  const names = labelNames(taxonomy);
  if (answers.some((a) => a.labels.some((l) => !names.includes(l)))) {
    await queueReview(ctx, { itemId, round: li.round, reason: 'taxonomy_change', detail: { note: 'answers use labels of an older taxonomy version', toVersion: taxonomy.version }, proposal: null });
    return 'review';
  }
  if (needsWholeProject(s.consensus)) {
    const { consensus, fit } = await consensusByFit(ctx.store, ctx.conn, ctx.project.id, taxonomy, s.consensus, itemId, answers);
    return decide(ctx, s, taxonomy, itemId, li.round, answers, consensus, fit);
  }
  const pool = await currentAnswers(ctx.conn, ctx.project.id, taxonomy, itemId);
  const c = consensusFor(pool, { kind: taxonomy.kind, labels: labelNames(taxonomy) }, s.consensus).get(String(itemId))!;
  return decide(ctx, s, taxonomy, itemId, li.round, answers, c);
}

async function decide(ctx: TxCtx, s: LabelSettings, taxonomy: Taxonomy, itemId: number, round: number, answers: RoundAnswer[], c: ItemConsensus, fit?: FitInfo): Promise<'final' | 'review'> {
  const j = judge(
    answers.map((a) => ({ item: String(itemId), annotator: a.annotator, labels: a.labels })),
    c,
    s,
  );
  const consensus = consensusDetail(s, c, fit);
  if (j.kind === 'review') {
    await queueReview(ctx, { itemId, round, reason: j.reason, detail: { consensus, threshold: s.reviewThreshold, annotations: answers.map((a) => a.id) }, proposal: j.proposal });
    return 'review';
  }
  // The corpus audit flagged this item (outlier, conflicting source labels): a reviewer confirms
  // the consensus label before it becomes final.
  const flags = await auditFlagsFor(ctx.conn, ctx.project.id, itemId);
  if (flags) {
    await queueReview(ctx, { itemId, round, reason: 'audit_flag', detail: { consensus, audit: flags, annotations: answers.map((a) => a.id) }, proposal: j.labels });
    return 'review';
  }
  await finalize(ctx, itemId, {
    labels: j.labels,
    source: 'consensus',
    confidence: j.confidence,
    taxonomyVersion: taxonomy.version,
    provenance: { source: 'consensus', round, taxonomyVersion: taxonomy.version, consensus, annotations: provenanceAnswers(answers) },
  });
  await record(ctx, 'consensus.reached', `item:${itemId}`, { labels: j.labels, confidence: j.confidence, method: s.consensus.method, round, annotations: answers.map((a) => a.id), rows: await rowsState(ctx.conn, { label_items: [itemId] }) });
  await emit(ctx, 'consensus.reached', { itemId, labels: j.labels, confidence: j.confidence, method: s.consensus.method });
  return 'final';
}

/**
 * Re-runs consensus (the project's current method) over every item decided by consensus —
 * e.g. after switching to Dawid-Skene once enough answers exist. Items whose label or
 * confidence changes are re-decided: a new final label, or review. Reviewer decisions stand.
 * Scale (issue #8): the answers are read in keyset batches into typed arrays and the method
 * runs on those (recompute.ts: no object per answer or per item); the decided items are then
 * walked a page at a time. One transaction, as before: a re-run applies whole or not at all.
 */
export async function rerunConsensus(store: Store, project: Project, actor: Actor, opts: { pageSize?: number; answerBatch?: number } = {}): Promise<{ items: number; changed: number; toReview: number }> {
  const pageSize = opts.pageSize ?? 1000;
  return change(store, project, actor, async (ctx) => {
    const s = await getLabelSettings(ctx.conn, project.id);
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    const results = projectConsensus(await readAnswerColumns(ctx.conn, project.id, taxonomy, opts.answerBatch), { kind: taxonomy.kind, labels: labelNames(taxonomy) }, s.consensus);
    // Model-based methods: this re-run is an exact fit on every current answer.
    const wholeFit: FitInfo | undefined = needsWholeProject(s.consensus) ? { mode: 'exact', answers: results.answers, at: nowIso() } : undefined;
    let items = 0;
    let changed = 0;
    let toReview = 0;
    const changes: Array<{ item: number; from: string[]; to: string[] | null }> = [];
    for (let after = 0; ; ) {
      const page = await ctx.conn
        .selectFrom('label_items')
        .select(['item_id', 'round', 'final_labels', 'final_confidence'])
        .where('project_id', '=', project.id)
        .where('status', '=', 'done')
        .where('item_id', '>', after)
        .where('final_source', '=', 'consensus')
        .orderBy('item_id')
        .limit(pageSize)
        .execute();
      items += page.length;
      for (const d of page) {
        const c = results.get(d.item_id);
        if (!c) continue;
        const before = parseJson<string[]>(d.final_labels, []);
        const same = c.labels !== null && c.labels.length === before.length && c.labels.every((l) => before.includes(l)) && Math.abs(c.confidence - (d.final_confidence ?? 0)) < 1e-9;
        if (same) continue;
        changed++;
        if (changes.length < 1000) changes.push({ item: d.item_id, from: before, to: c.labels });
        const answers = await roundAnswers(ctx.conn, d.item_id, d.round);
        await ctx.conn.updateTable('label_items').set({ status: 'open' }).where('item_id', '=', d.item_id).execute();
        if ((await decide(ctx, s, taxonomy, d.item_id, d.round, answers, c, wholeFit)) === 'review') toReview++;
      }
      if (page.length < pageSize) break;
      after = page[page.length - 1].item_id;
    }
    await record(ctx, 'consensus.run', `project:${project.id}`, { method: s.consensus.method, items, changed, toReview, changes });
    return { items, changed, toReview };
  });
}
