import { sql } from 'kysely';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { change, record, userActor } from '../store/context.ts';
import { eligible, labellingMode } from './eligibility.ts';
import { drawGold } from './gold.ts';
import { ensureLabelItem } from './label-items.ts';
import { getLabelSettings } from './settings.ts';
import { storedAnswers } from './questions.ts';
import { currentTaxonomy } from './taxonomies.ts';
import type { Conn } from '../store/tx.ts';
import type { User } from './users.ts';
import { pickGold, pickInOrder, pickPrioritised } from './next-item.ts';
import { taskOf, type StoredSuggestion, type Task } from './task-view.ts';

export { annotatorView, type AnnotatorItem, type Task } from './task-view.ts';
export { releaseTask, skipTask, submitTask, type SubmitInput } from './task-submit.ts';

/**
 * Assignment: which item an annotator labels next, under a lease.
 *
 * - Overlap N: an item takes at most N live assignments per round (submitted, or leased and
 *   not yet expired). Skipped, released and expired ones free the slot for someone else.
 * - Never twice: an annotator is served an item at most once per round (a unique key), so an
 *   expired or released lease does not come back to the same person. A reviewer's reject
 *   starts a new round, in which the item may be served to anyone again.
 * - Leases expire after the project's leaseSeconds: the item returns to the queue and the late
 *   submit is refused.
 * - Order: items with a priority (from a selection strategy) first, highest first; then the
 *   rest in import order. Gold items are mixed in at the gold rate.
 * - Blind: a task carries the item's content, the taxonomy and at most a suggestion's labels
 *   (only while the project shows suggestions) — never its source, the item's source label or
 *   metadata, other annotators' labels, or a consensus; submitting returns only the new
 *   annotation's id. An annotator who once held a label-reading role is never served an item
 *   that existed meanwhile; items held out as a test split are never served
 *   (eligibility.ts: one predicate in every candidate query). Solo labelling (an admin or
 *   manager, where the project allows it) is served the same way, and recorded as not blind.
 *
 * The serving order is in ./next-item.ts, what a task shows in ./task-view.ts, and submitting,
 * skipping and releasing in ./task-submit.ts.
 */

/**
 * The annotator's next task (their live lease if they hold one), or null when nothing is left.
 * `exclude`: live leases the client already holds (the web UI preloads the next item): another
 * live lease, else a new one.
 */
export async function nextTask(store: Store, project: Project, user: User, opts: { exclude?: readonly number[] } = {}): Promise<Task | null> {
  return change(store, project, userActor(user), async (ctx) => {
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    const s = await getLabelSettings(ctx.conn, project.id);
    const mode = await labellingMode(ctx.conn, project.id, user.id, s);
    const now = nowIso();
    const live = await ctx.conn
      .selectFrom('assignments')
      .select(['id', 'item_id', 'expires_at', 'suggestion'])
      .where('project_id', '=', project.id)
      .where('user_id', '=', user.id)
      .where('status', '=', 'leased')
      .where('expires_at', '>', now)
      // A lease on an item no longer eligible (held out, or taken before a role change) is not handed back.
      .where(sql<boolean>`${eligible(sql`assignments.item_id`, mode)}`)
      .$if((opts.exclude?.length ?? 0) > 0, (q) => q.where('id', 'not in', [...opts.exclude!]))
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (live) return taskOf(ctx.conn, project.id, live, taxonomy, s);

    let pick: { itemId: number; round: number; gold: boolean } | undefined;
    // How many tasks this annotator was served (the gold draw's input): only counted when gold is on.
    const countServed = () =>
      ctx.conn.selectFrom('assignments').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', project.id).where('user_id', '=', user.id);
    const served = s.gold.rate > 0 ? Number((await countServed().executeTakeFirstOrThrow()).n) : 0;
    if (s.gold.rate > 0 && drawGold(s.gold.rate, project.id, user.id, served)) {
      const g = await pickGold(ctx.conn, project.id, user.id, mode);
      if (g !== undefined) pick = { itemId: g, round: 0, gold: true };
    }
    if (!pick) {
      const itemId =
        (await pickPrioritised(ctx.conn, project.id, user.id, s.overlap, now, mode)) ??
        (s.servePrioritisedOnly ? undefined : await pickInOrder(store, ctx.conn, project.id, user.id, s.overlap, now, mode));
      if (itemId === undefined) return null;
      const li = await ensureLabelItem(ctx.conn, project.id, itemId);
      pick = { itemId, round: li.round, gold: false };
    }
    const sug = s.showSuggestions
      ? await ctx.conn.selectFrom('suggestions').select(['labels', 'source', 'confidence', 'answers']).where('item_id', '=', pick.itemId).executeTakeFirst()
      : undefined;
    const sugAnswers = sug?.answers ? { answers: storedAnswers(sug.answers, null, undefined) } : {};
    const suggestion = sug
      ? JSON.stringify({
          labels: parseJson<string[]>(sug.labels, []),
          ...sugAnswers,
          source: sug.source,
          confidence: sug.confidence,
        } satisfies StoredSuggestion)
      : null;
    const expires = new Date(Date.now() + s.leaseSeconds * 1000).toISOString();
    const { id } = await ctx.conn
      .insertInto('assignments')
      .values({
        project_id: project.id,
        item_id: pick.itemId,
        user_id: user.id,
        round: pick.round,
        status: 'leased',
        gold: pick.gold ? 1 : 0,
        taxonomy_version: taxonomy.version,
        suggestion,
        leased_at: now,
        expires_at: expires,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await record(ctx, 'task.lease', `item:${pick.itemId}`, {
      assignment: id,
      user: user.name,
      round: pick.round,
      gold: pick.gold,
      expiresAt: expires,
      ...(mode.blind ? {} : { blind: false }),
    });
    return taskOf(ctx.conn, project.id, { id, item_id: pick.itemId, expires_at: expires, suggestion }, taxonomy, s);
  });
}


/** The annotator's own annotations (and nobody else's). */
export async function ownAnnotations(db: Conn, projectId: number, userId: number, q: { after?: number; limit?: number } = {}) {
  const rows = await db
    .selectFrom('annotations')
    .select(['id', 'item_id', 'labels', 'answers', 'taxonomy_version', 'time_ms', 'skipped', 'skip_reason', 'question', 'comment', 'created_at'])
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .where('id', '>', q.after ?? 0)
    .orderBy('id')
    .limit(q.limit ?? 100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    itemId: r.item_id,
    labels: parseJson<string[]>(r.labels, []),
    ...(r.answers ? { answers: storedAnswers(r.answers, null, undefined) } : {}),
    taxonomyVersion: r.taxonomy_version,
    timeMs: r.time_ms,
    skipped: r.skipped === 1,
    skipReason: r.skip_reason,
    question: r.question === 1,
    comment: r.comment,
    createdAt: r.created_at,
  }));
}

/** Whether the annotator has ever been served this item (they may then fetch its content). */
export async function wasServed(db: Conn, userId: number, itemId: number): Promise<boolean> {
  const served = await db.selectFrom('assignments').select('id').where('user_id', '=', userId).where('item_id', '=', itemId).limit(1).executeTakeFirst();
  return served !== undefined;
}
