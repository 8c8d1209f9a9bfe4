import { goldAccuracy } from '../consensus/index.ts';
import { createHash } from 'node:crypto';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor, type TxCtx } from '../store/context.ts';
import { refuseHeldOut } from './eligibility.ts';
import { checkItem } from './label-items.ts';
import { queueReview } from './review.ts';
import type { LabelSettings } from './settings.ts';
import { checkLabels } from './taxonomy.ts';
import { currentTaxonomy } from './taxonomies.ts';
import type { Conn } from '../store/tx.ts';
import { emit } from './webhooks.ts';
import { NotFoundError } from '../core/errors.ts';

/**
 * Gold items: items with a known label, mixed into annotators' queues at the project's gold
 * rate (they cannot tell them apart). Answers on gold measure each annotator's accuracy
 * (src/consensus/gold.ts: Wilson intervals, alert below a threshold over enough answers); a
 * wrong answer sends the gold item to review (the gold label itself may be wrong).
 */

/** Multi-label answers are compared as sets. */
const setKey = (labels: readonly string[]) => [...labels].sort().join('\u001f');

export async function setGold(store: Store, project: Project, actor: Actor, entries: Array<{ itemId: number; labels: string[] }>): Promise<{ set: number }> {
  return change(store, project, actor, async (ctx) => {
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    // Gold items are served: never one held out as a test split.
    await refuseHeldOut(ctx.conn, project.id, entries.map((e) => e.itemId), 'gold');
    const at = nowIso();
    for (const e of entries) {
      await checkItem(ctx.conn, project.id, e.itemId);
      const labels = JSON.stringify(checkLabels(taxonomy, e.labels));
      await ctx.conn
        .insertInto('gold_items')
        .values({ item_id: e.itemId, project_id: project.id, labels, created_at: at, created_by: actor.name })
        .onConflict((oc) => oc.column('item_id').doUpdateSet({ labels }))
        .execute();
    }
    await record(ctx, 'gold.set', `project:${project.id}`, { items: entries.map((e) => e.itemId), taxonomyVersion: taxonomy.version });
    return { set: entries.length };
  });
}

export async function removeGold(store: Store, project: Project, actor: Actor, itemId: number): Promise<void> {
  await change(store, project, actor, async (ctx) => {
    const r = await ctx.conn.deleteFrom('gold_items').where('item_id', '=', itemId).where('project_id', '=', project.id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFoundError(`gold item ${itemId}`);
    await record(ctx, 'gold.remove', `item:${itemId}`, {});
  });
}

export async function listGold(db: Conn, projectId: number): Promise<Array<{ itemId: number; labels: string[]; createdAt: string; createdBy: string }>> {
  const rows = await db.selectFrom('gold_items').selectAll().where('project_id', '=', projectId).orderBy('item_id').execute();
  return rows.map((r) => ({ itemId: r.item_id, labels: parseJson<string[]>(r.labels, []), createdAt: r.created_at, createdBy: r.created_by }));
}

/** Every submitted answer on a gold item, as (item, annotator, label-set key), and the gold keys. */
async function goldAnswers(db: Conn, projectId: number, annotator?: string) {
  let q = db
    .selectFrom('annotations')
    .innerJoin('gold_items', 'gold_items.item_id', 'annotations.item_id')
    .innerJoin('users', 'users.id', 'annotations.user_id')
    .select(['annotations.item_id', 'users.name', 'annotations.labels', 'gold_items.labels as gold'])
    .where('gold_items.project_id', '=', projectId)
    .where('annotations.skipped', '=', 0);
  if (annotator) q = q.where('users.name', '=', annotator);
  const rows = await q.orderBy('annotations.id').execute();
  const truth = new Map<string, string>();
  const answers = rows.map((r) => {
    truth.set(String(r.item_id), setKey(parseJson<string[]>(r.gold, [])));
    return { item: String(r.item_id), annotator: r.name, label: setKey(parseJson<string[]>(r.labels, [])) };
  });
  return { answers, truth };
}

export async function goldReport(db: Conn, projectId: number, s: LabelSettings, annotator?: string) {
  const { answers, truth } = await goldAnswers(db, projectId, annotator);
  const r = goldAccuracy(answers, truth, { threshold: s.gold.threshold, minGoldAnswers: s.gold.minAnswers });
  const goldItems = Number((await db.selectFrom('gold_items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow()).n);
  return {
    threshold: s.gold.threshold,
    minAnswers: s.gold.minAnswers,
    rate: s.gold.rate,
    goldItems,
    goldItemsAnswered: r.goldItemsAnswered,
    annotators: [...r.perAnnotator].map(([name, a]) => ({ annotator: name, ...a })),
    alerts: r.alerts,
    watch: r.watch,
  };
}

/**
 * Checks an answer on a gold item (inside the submit's change): a wrong answer queues the item
 * for review, and an annotator who newly falls under the alert rule raises `gold.alert`
 * (audit event and webhook).
 */
export async function checkGoldAnswer(ctx: TxCtx, s: LabelSettings, itemId: number, annotator: string, labels: string[], annotationId: number): Promise<boolean> {
  const g = await ctx.conn.selectFrom('gold_items').select('labels').where('item_id', '=', itemId).executeTakeFirstOrThrow();
  const gold = parseJson<string[]>(g.labels, []);
  const correct = setKey(gold) === setKey(labels);
  if (correct) return true;
  await queueReview(ctx, { itemId, round: 0, reason: 'gold_failed', detail: { annotator, answer: labels, annotation: annotationId, gold }, proposal: gold });
  const after = await goldReport(ctx.conn, ctx.project.id, s, annotator);
  const alert = after.alerts.find((a) => a.annotator === annotator);
  if (alert) {
    // Alert on the transition only: was this annotator already under the rule before this answer?
    const prevTotal = alert.total - 1;
    const prevCorrect = alert.correct;
    const wasAlert = prevTotal >= s.gold.minAnswers && prevTotal > 0 && prevCorrect / prevTotal < s.gold.threshold;
    if (!wasAlert) {
      await record(ctx, 'gold.alert', `annotator:${annotator}`, { ...alert, threshold: s.gold.threshold });
      await emit(ctx, 'gold.alert', { annotator, accuracy: alert.accuracy, correct: alert.correct, total: alert.total, threshold: s.gold.threshold });
    }
  }
  return false;
}

/** Whether the n-th task served to this annotator is a gold one: a seeded draw at the gold rate. */
export function drawGold(rate: number, projectId: number, userId: number, n: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const h = createHash('sha256').update(`gold:${projectId}:${userId}:${n}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < rate;
}
