import { nowIso, parseJson } from '../core/json.ts';
import { dict, own } from '../core/dict.ts';
import { auditFlagsFor } from '../audit/exclusions.ts';
import type { Store } from '../store/db.ts';
import { getItem } from '../store/items.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor, type TxCtx } from '../store/context.ts';
import { consensusFor, judge, needsWholeProject, type ItemConsensus, type LabelAnswer } from './consensus.ts';
import { finalize, getLabelItem, provenanceAnswers, roundAnswers, type RoundAnswer } from './label-items.ts';
import { questionConsensus, type ItemAnswers, type QuestionResult } from './question-consensus.ts';
import { answerLabels, answersHash, classQuestion, isClassKind, isLegacy, labelNames as questionLabels, sameAnswer, storedAnswers, type AnswerValue, type Answers } from './questions.ts';
import { queueReview } from './review.ts';
import { rowsState } from './row-digest.ts';
import { getLabelSettings, type LabelSettings } from './settings.ts';
import { labelNames, type Taxonomy } from './taxonomy.ts';
import { currentTaxonomy } from './taxonomies.ts';
import type { Conn } from '../store/tx.ts';
import { emit } from './webhooks.ts';
import { projectConsensus, readAnswerColumns } from './recompute.ts';
import { consensusByFit, type FitInfo } from './consensus-fit.ts';

/**
 * The answers consensus learns from: every submitted annotation of the current round of every
 * non-gold item, keeping only answers whose labels all exist in the current taxonomy (items
 * with older labels are in review anyway). Majority vote only needs `onlyItem`'s answers.
 */
export async function currentAnswers(db: Conn, projectId: number, taxonomy: Taxonomy, onlyItem?: number): Promise<LabelAnswer[]> {
  if (!classQuestion(taxonomy)) return [];
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

/**
 * Every question's current answers (the current round of every non-gold item), with the texts of
 * text items when asked: what the per-question agreement and the model-based consensus of
 * spans and ratings read. Answers whose labels left the taxonomy are left out, as above.
 */
export async function currentQuestionAnswers(db: Conn, projectId: number, taxonomy: Taxonomy, opts: { texts?: boolean } = {}): Promise<{ answers: ItemAnswers[]; texts: Map<string, string> }> {
  const cls = classQuestion(taxonomy);
  const q = db
    .selectFrom('annotations')
    .innerJoin('label_items', (j) => j.onRef('label_items.item_id', '=', 'annotations.item_id').onRef('label_items.round', '=', 'annotations.round'))
    .innerJoin('users', 'users.id', 'annotations.user_id')
    .select(['annotations.item_id', 'users.name', 'annotations.labels', 'annotations.answers'])
    .where('label_items.project_id', '=', projectId)
    .where('annotations.skipped', '=', 0)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('gold_items').select('gold_items.item_id').whereRef('gold_items.item_id', '=', 'annotations.item_id'))));
  const answers: ItemAnswers[] = [];
  for (const r of await q.orderBy('annotations.id').execute()) {
    const a = storedAnswers(r.answers, cls ? parseJson<string[]>(r.labels, []) : null, cls?.name);
    if (!isCurrent(taxonomy, a)) continue;
    answers.push({ item: String(r.item_id), annotator: r.name, answers: a });
  }
  const texts = new Map<string, string>();
  if (opts.texts) {
    const ids = [...new Set(answers.map((a) => Number(a.item)))];
    for (let i = 0; i < ids.length; i += 500) {
      for (const r of await db.selectFrom('items').select(['id', 'text']).where('id', 'in', ids.slice(i, i + 500)).execute()) if (r.text !== null) texts.set(String(r.id), r.text);
    }
  }
  return { answers, texts };
}

/** Whether every label an answer uses is a label of its question in this taxonomy. */
function isCurrent(taxonomy: Taxonomy, a: Answers): boolean {
  return taxonomy.questions.every((q) => {
    const names = questionLabels(q);
    return answerLabels(q, own(a, q.name)).every((l) => names.includes(l));
  });
}

function consensusDetail(s: LabelSettings, c: ItemConsensus | undefined, fit?: FitInfo, questions?: readonly QuestionResult[]) {
  const method = { method: s.consensus.method, tie: s.consensus.method === 'majority' ? s.consensus.tie : null };
  const others = questions?.length ? { questions: Object.fromEntries(questions.map((r) => [r.name, { kind: r.kind, value: r.value, confidence: r.confidence, unanimous: r.unanimous, resolved: r.resolved, ...(r.detail ?? {}) }])) } : {};
  if (!c) return { ...method, confidence: questions?.length ? Math.min(...questions.map((r) => r.confidence)) : 1, ...others, ...(fit ? { fit } : {}) };
  return { ...method, labels: c.labels, confidence: c.confidence, posterior: c.posterior, ...(fit ? { fit } : {}), ...others };
}

/**
 * Called after each submitted annotation of a non-gold item: once the round has `overlap`
 * answers, consensus decides — a final label (source 'consensus', with provenance) or a
 * review entry (disagreement, low confidence). Returns what happened.
 */
export async function settleItem(ctx: TxCtx, s: LabelSettings, taxonomy: Taxonomy, itemId: number): Promise<'waiting' | 'final' | 'review'> {
  const li = await getLabelItem(ctx.conn, itemId);
  if (!li || li.status !== 'open') return 'waiting';
  const cls = classQuestion(taxonomy);
  const answers = await roundAnswers(ctx.conn, itemId, li.round, cls?.name ?? null);
  if (answers.length < s.overlap) return 'waiting';
  const names = labelNames(taxonomy);
  if ((cls && answers.some((a) => a.labels.some((l) => !names.includes(l)))) || answers.some((a) => !isCurrent(taxonomy, a.answers))) {
    await queueReview(ctx, { itemId, round: li.round, reason: 'taxonomy_change', detail: { note: 'answers use labels of an older taxonomy version', toVersion: taxonomy.version }, proposal: null });
    return 'review';
  }
  if (!cls) return decide(ctx, s, taxonomy, itemId, li.round, answers, undefined);
  if (needsWholeProject(s.consensus)) {
    const { consensus, fit } = await consensusByFit(ctx.store, ctx.conn, ctx.project.id, taxonomy, s.consensus, itemId, answers);
    return decide(ctx, s, taxonomy, itemId, li.round, answers, consensus, fit);
  }
  const pool = await currentAnswers(ctx.conn, ctx.project.id, taxonomy, itemId);
  const c = consensusFor(pool, { kind: cls.kind, labels: labelNames(taxonomy) }, s.consensus).get(String(itemId))!;
  return decide(ctx, s, taxonomy, itemId, li.round, answers, c);
}

/** What the project pool gives the questions beyond the class one (model-based methods only; read once per re-run). */
type Pool = Awaited<ReturnType<typeof currentQuestionAnswers>>;

/** Consensus of every question beyond the class question, for one item. */
async function otherQuestions(ctx: TxCtx, s: LabelSettings, taxonomy: Taxonomy, itemId: number, answers: readonly RoundAnswer[], pool?: Pool): Promise<QuestionResult[]> {
  const others = taxonomy.questions.filter((q) => !isClassKind(q.kind));
  if (others.length === 0) return [];
  const item = await getItem(ctx.conn, ctx.project.id, itemId);
  const model = needsWholeProject(s.consensus) && others.some((q) => q.kind === 'spans' || q.kind === 'rating');
  const p = model ? (pool ?? (await currentQuestionAnswers(ctx.conn, ctx.project.id, taxonomy, { texts: others.some((q) => q.kind === 'spans') }))) : undefined;
  const mine = answers.map((a) => ({ item: String(itemId), annotator: a.annotator, answers: a.answers }));
  return others.map((q) => questionConsensus(q, String(itemId), mine, { text: item.text, settings: s.consensus, pool: p?.answers, texts: p?.texts }));
}

interface Judged {
  kind: 'final' | 'review';
  reason?: 'disagreement' | 'low_confidence';
  labels: string[] | null;
  answers: Answers | null;
  confidence: number;
}

/**
 * Final, or review, over every question: the class question as `judge` decides it; any other
 * question unresolved, or (with reviewOnDisagreement) not unanimous — an unmatched span or box —
 * is a disagreement; the least confidence of all below the threshold (a box drawn with low IoU)
 * is low confidence. The proposal is every question's consensus.
 */
function judgeAll(taxonomy: Taxonomy, itemId: number, answers: readonly RoundAnswer[], c: ItemConsensus | undefined, others: readonly QuestionResult[], s: LabelSettings): Judged {
  const cls = classQuestion(taxonomy);
  const cj = c ? judge(answers.map((a) => ({ item: String(itemId), annotator: a.annotator, labels: a.labels })), c, s) : null;
  // Without a class question there is no class proposal (null); a final label's labels are then [].
  const labels = cj ? (cj.kind === 'final' ? cj.labels : cj.proposal) : null;
  const proposal = dict<AnswerValue>();
  if (cls && labels) proposal[cls.name] = labels;
  for (const r of others) if (r.value !== null) proposal[r.name] = r.value;
  const confidence = Math.min(cj?.confidence ?? 1, ...others.map((r) => r.confidence));
  const disagreement = (cj?.kind === 'review' && cj.reason === 'disagreement') || others.some((r) => !r.resolved || (s.reviewOnDisagreement && !r.unanimous));
  const low = (cj?.kind === 'review' && cj.reason === 'low_confidence') || others.some((r) => r.confidence < s.reviewThreshold);
  const reason = disagreement ? 'disagreement' : low ? 'low_confidence' : undefined;
  return { kind: reason ? 'review' : 'final', reason, labels, answers: isLegacy(taxonomy) ? null : proposal, confidence };
}

async function decide(ctx: TxCtx, s: LabelSettings, taxonomy: Taxonomy, itemId: number, round: number, answers: RoundAnswer[], c: ItemConsensus | undefined, fit?: FitInfo, pool?: Pool): Promise<'final' | 'review'> {
  const others = await otherQuestions(ctx, s, taxonomy, itemId, answers, pool);
  const j = judgeAll(taxonomy, itemId, answers, c, others, s);
  const consensus = consensusDetail(s, c, fit, others);
  const withAnswers = j.answers ? { proposalAnswers: j.answers } : {};
  if (j.kind === 'review') {
    await queueReview(ctx, { itemId, round, reason: j.reason!, detail: { consensus, threshold: s.reviewThreshold, annotations: answers.map((a) => a.id) }, proposal: j.labels, ...withAnswers });
    return 'review';
  }
  // The corpus audit flagged this item (outlier, conflicting source labels): a reviewer confirms
  // the consensus label before it becomes final.
  const flags = await auditFlagsFor(ctx.conn, ctx.project.id, itemId);
  if (flags) {
    await queueReview(ctx, { itemId, round, reason: 'audit_flag', detail: { consensus, audit: flags, annotations: answers.map((a) => a.id) }, proposal: j.labels, ...withAnswers });
    return 'review';
  }
  const labels = j.labels ?? [];
  await finalize(ctx, itemId, {
    labels,
    answers: j.answers,
    source: 'consensus',
    confidence: j.confidence,
    taxonomyVersion: taxonomy.version,
    provenance: { source: 'consensus', round, taxonomyVersion: taxonomy.version, consensus, annotations: provenanceAnswers(answers) },
  });
  const extra = j.answers ? { answers: j.answers, answersSha256: answersHash(j.answers) } : {};
  await record(ctx, 'consensus.reached', `item:${itemId}`, { labels, confidence: j.confidence, method: s.consensus.method, round, annotations: answers.map((a) => a.id), ...extra, rows: await rowsState(ctx.conn, { label_items: [itemId] }) });
  await emit(ctx, 'consensus.reached', { itemId, labels, confidence: j.confidence, method: s.consensus.method, ...(j.answers ? { answers: j.answers } : {}) });
  return 'final';
}

/**
 * Re-runs consensus (the project's current method) over every item decided by consensus —
 * e.g. after switching to Dawid-Skene once enough answers exist. Items whose label or
 * confidence changes are re-decided: a new final label, or review. Reviewer decisions stand.
 * Scale (issue #8): the answers are read in keyset batches into typed arrays and the method
 * runs on those (recompute.ts: no object per answer or per item); the decided items are then
 * walked a page at a time. One transaction, as before: a re-run applies whole or not at all.
 * Questions beyond the single/multi one are re-decided item by item (question-consensus.ts).
 */
export async function rerunConsensus(store: Store, project: Project, actor: Actor, opts: { pageSize?: number; answerBatch?: number } = {}): Promise<{ items: number; changed: number; toReview: number }> {
  const pageSize = opts.pageSize ?? 1000;
  return change(store, project, actor, async (ctx) => {
    const s = await getLabelSettings(ctx.conn, project.id);
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    const cls = classQuestion(taxonomy);
    const results = cls ? projectConsensus(await readAnswerColumns(ctx.conn, project.id, taxonomy, opts.answerBatch), { kind: cls.kind, labels: labelNames(taxonomy) }, s.consensus) : undefined;
    const others = taxonomy.questions.filter((q) => !isClassKind(q.kind));
    const pool = others.length && needsWholeProject(s.consensus) ? await currentQuestionAnswers(ctx.conn, project.id, taxonomy, { texts: others.some((q) => q.kind === 'spans') }) : undefined;
    // Model-based methods: this re-run is an exact fit on every current answer.
    const wholeFit: FitInfo | undefined = results && needsWholeProject(s.consensus) ? { mode: 'exact', answers: results.answers, at: nowIso() } : undefined;
    let items = 0;
    let changed = 0;
    let toReview = 0;
    const changes: Array<{ item: number; from: string[]; to: string[] | null; fromAnswers?: Answers | null; toAnswers?: Answers }> = [];
    for (let after = 0; ; ) {
      const page = await ctx.conn
        .selectFrom('label_items')
        .select(['item_id', 'round', 'final_labels', 'final_confidence', 'final_answers'])
        .where('project_id', '=', project.id)
        .where('status', '=', 'done')
        .where('item_id', '>', after)
        .where('final_source', '=', 'consensus')
        .orderBy('item_id')
        .limit(pageSize)
        .execute();
      items += page.length;
      for (const d of page) {
        const c = results?.get(d.item_id);
        if (cls && !c) continue;
        const before = parseJson<string[]>(d.final_labels, []);
        const answers = await roundAnswers(ctx.conn, d.item_id, d.round, cls?.name ?? null);
        let same = !c || (c.labels !== null && c.labels.length === before.length && c.labels.every((l) => before.includes(l)) && Math.abs(c.confidence - (d.final_confidence ?? 0)) < 1e-9);
        let toAnswers: Answers | undefined;
        if (others.length) {
          const r = await otherQuestions(ctx, s, taxonomy, d.item_id, answers, pool);
          const stored = storedAnswers(d.final_answers, null, undefined);
          const j = judgeAll(taxonomy, d.item_id, answers, c, r, s);
          same = same && r.every((x) => sameAnswer(x.value ?? undefined, own(stored, x.name))) && Math.abs(j.confidence - (d.final_confidence ?? 0)) < 1e-9;
          toAnswers = j.answers ?? undefined;
        }
        if (same) continue;
        changed++;
        if (changes.length < 1000) changes.push({ item: d.item_id, from: before, to: c ? c.labels : [], ...(toAnswers ? { fromAnswers: parseJson<Answers | null>(d.final_answers, null), toAnswers } : {}) });
        await ctx.conn.updateTable('label_items').set({ status: 'open' }).where('item_id', '=', d.item_id).execute();
        if ((await decide(ctx, s, taxonomy, d.item_id, d.round, answers, c, wholeFit, pool)) === 'review') toReview++;
      }
      if (page.length < pageSize) break;
      after = page[page.length - 1].item_id;
    }
    await record(ctx, 'consensus.run', `project:${project.id}`, { method: s.consensus.method, items, changed, toReview, changes });
    return { items, changed, toReview };
  });
}
