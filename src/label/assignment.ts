import { sql, type RawBuilder } from 'kysely';
import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { getItem, type ItemRow } from '../store/items.ts';
import type { Project } from '../store/projects.ts';
import { change, record, userActor, type TxCtx } from '../store/context.ts';
import { eligible, heldOutFromServing, isEligible, labellingMode, type LabellingMode } from './eligibility.ts';
import { ConflictError } from './errors.ts';
import { checkGoldAnswer, drawGold } from './gold.ts';
import { ensureLabelItem, getLabelItem } from './label-items.ts';
import { rowsState } from './row-digest.ts';
import { getLabelSettings, type LabelSettings } from './settings.ts';
import { settleItem } from './settle.ts';
import { answerItem, classLabels } from './answers.ts';
import { answersHash, checkAnswers, classQuestion, isLegacy, itemDimensions, sameAnswers, storedAnswers, type Answers, type Dimensions, type Question } from './questions.ts';
import { checkLabels, type Taxonomy } from './taxonomy.ts';
import { currentTaxonomy } from './taxonomies.ts';
import { onBatchRollback, type Conn } from '../store/tx.ts';
import type { User } from './users.ts';
import { emit } from './webhooks.ts';

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
 */
export interface Task {
  id: number;
  expiresAt: string;
  item: AnnotatorItem;
  /** `kind`/`labels`: the single/multi question, when there is one (legacy clients); `questions`: all of them. */
  taxonomy: { version: number; kind?: 'single' | 'multi'; labels?: Taxonomy['labels']; questions: Question[]; guidelines: string };
  /** A suggestion's labels (and, beyond one legacy question, its answers): never its source. */
  suggestion: { labels: string[]; answers?: Answers } | null;
}

/** What an annotator may see of an item: content only, and what its answers are checked against. */
export interface AnnotatorItem {
  id: number;
  modality: ItemRow['modality'];
  text: string | null;
  values: Record<string, unknown> | null;
  content: { mime: string; size: number } | null;
  /**
   * What answers are checked against — text: length in code points; image: width/height in
   * source pixels; audio: duration in seconds. Served with tasks of a taxonomy beyond one
   * single/multi question (a legacy task is unchanged).
   */
  dimensions?: Dimensions | null;
}

export const annotatorView = (i: ItemRow, withDimensions = false): AnnotatorItem => ({
  id: i.id,
  modality: i.modality,
  text: i.text,
  values: i.values,
  content: i.blob ? { mime: i.blob.mime, size: i.blob.size } : null,
  ...(withDimensions ? { dimensions: itemDimensions(i) } : {}),
});

interface Stored {
  labels: string[];
  /** Pre-annotations of every question (beyond one legacy question). */
  answers?: Answers;
  source: string;
  confidence: number | null;
}

/**
 * A lease as the annotator sees it. The suggestion stored with the lease is shown only while the
 * project shows suggestions: switching them off hides it from leases taken before, too.
 */
async function taskOf(db: Conn, projectId: number, a: { id: number; item_id: number; expires_at: string; suggestion: string | null }, t: Taxonomy, settings: Pick<LabelSettings, 'showSuggestions'>): Promise<Task> {
  const s = settings.showSuggestions ? parseJson<Stored | null>(a.suggestion, null) : null;
  return {
    id: a.id,
    expiresAt: a.expires_at,
    item: annotatorView(await getItem(db, projectId, a.item_id), !isLegacy(t)),
    taxonomy: { version: t.version, ...(t.kind ? { kind: t.kind, labels: t.labels } : {}), questions: t.questions, guidelines: t.guidelines },
    suggestion: s ? { labels: s.labels, ...(s.answers ? { answers: s.answers } : {}) } : null,
  };
}

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
    const served = s.gold.rate > 0 ? Number((await ctx.conn.selectFrom('assignments').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', project.id).where('user_id', '=', user.id).executeTakeFirstOrThrow()).n) : 0;
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
    const sug = s.showSuggestions ? await ctx.conn.selectFrom('suggestions').select(['labels', 'source', 'confidence', 'answers']).where('item_id', '=', pick.itemId).executeTakeFirst() : undefined;
    const sugAnswers = sug?.answers ? { answers: storedAnswers(sug.answers, null, undefined) } : {};
    const suggestion = sug ? JSON.stringify({ labels: parseJson<string[]>(sug.labels, []), ...sugAnswers, source: sug.source, confidence: sug.confidence } satisfies Stored) : null;
    const expires = new Date(Date.now() + s.leaseSeconds * 1000).toISOString();
    const { id } = await ctx.conn
      .insertInto('assignments')
      .values({ project_id: project.id, item_id: pick.itemId, user_id: user.id, round: pick.round, status: 'leased', gold: pick.gold ? 1 : 0, taxonomy_version: taxonomy.version, suggestion, leased_at: now, expires_at: expires })
      .returning('id')
      .executeTakeFirstOrThrow();
    await record(ctx, 'task.lease', `item:${pick.itemId}`, { assignment: id, user: user.name, round: pick.round, gold: pick.gold, expiresAt: expires, ...(mode.blind ? {} : { blind: false }) });
    return taskOf(ctx.conn, project.id, { id, item_id: pick.itemId, expires_at: expires, suggestion }, taxonomy, s);
  });
}

/** A gold item this annotator has never been served (and may be: eligible). */
async function pickGold(db: Conn, projectId: number, userId: number, mode: LabellingMode): Promise<number | undefined> {
  const r = await sql<{ item_id: number }>`
    SELECT g.item_id FROM gold_items g
    WHERE g.project_id = ${projectId}
      AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = g.item_id AND a.user_id = ${userId})
      AND ${eligible(sql`g.item_id`, mode)}
    ORDER BY g.item_id
    LIMIT 1`.execute(db);
  return r.rows[0] === undefined ? undefined : Number(r.rows[0].item_id);
}

/**
 * Servable, for `userId`: not gold, eligible (not held out; for a demoted annotator, newer than
 * their last label-reading role), not yet served to this annotator in the item's round, and
 * with fewer than `overlap` live assignments (submitted, or leased and not expired) in it.
 * `s` is the item's label_items row (absent: round 0), `i` its id column.
 */
const servable = (i: RawBuilder<unknown>, round: RawBuilder<unknown>, userId: number, overlap: number, now: string, mode: LabellingMode) => sql`
      NOT EXISTS (SELECT 1 FROM gold_items g WHERE g.item_id = ${i})
      AND ${eligible(i, mode)}
      AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = ${i} AND a.user_id = ${userId} AND a.round = ${round})
      AND (SELECT COUNT(*) FROM assignments a WHERE a.item_id = ${i} AND a.round = ${round}
           AND (a.status = 'submitted' OR (a.status = 'leased' AND a.expires_at > ${now}))) < ${overlap}`;

/** The first servable prioritised item (open, with a priority), highest priority first. */
async function pickPrioritised(db: Conn, projectId: number, userId: number, overlap: number, now: string, mode: LabellingMode): Promise<number | undefined> {
  const r = await sql<{ item_id: number }>`
    SELECT s.item_id FROM label_items s
    WHERE s.project_id = ${projectId} AND s.status = 'open' AND s.priority IS NOT NULL
      AND ${servable(sql`s.item_id`, sql`s.round`, userId, overlap, now, mode)}
    ORDER BY s.priority DESC, s.item_id
    LIMIT 1`.execute(db);
  return r.rows[0]?.item_id;
}

/**
 * Per store and project, a *frontier*: every item of the project with a smaller id has a
 * label_items row (it was served, prioritised or decided once). Rows are never deleted, so the
 * frontier stays true and only moves forward; it lets the in-order pick skip the decided part of
 * a 1,000,000-item project instead of walking it on every request (that walk grew with the
 * number of items labelled: the load bench measured it). Gold and held-out items never get a
 * row; the walk steps over them. Kept per process, in memory, with what it depends on: the
 * project's import count and highest item id (new items — an import that committed since,
 * possibly with lower ids than one committed before it on PostgreSQL — reset it), its gold set's
 * count and id sum (an item that stops being gold is servable again: reset) and its held-out
 * test datasets' count and id sum (likewise).
 */
interface Frontier {
  below: number;
  key: string;
}
const frontiers = new WeakMap<Store, Map<number, Frontier>>();

async function frontierOf(store: Store, db: Conn, projectId: number): Promise<Frontier> {
  const [k] = (
    await sql<{ sources: number; max_item: number | null; gold: number; gold_sum: number | null; held: number; held_sum: number | null }>`
      SELECT (SELECT COUNT(*) FROM import_sources WHERE project_id = ${projectId}) AS sources,
             (SELECT MAX(id) FROM items WHERE project_id = ${projectId}) AS max_item,
             (SELECT COUNT(*) FROM gold_items WHERE project_id = ${projectId}) AS gold,
             (SELECT SUM(item_id) FROM gold_items WHERE project_id = ${projectId}) AS gold_sum,
             (SELECT COUNT(*) FROM datasets WHERE project_id = ${projectId} AND held_out = 'test') AS held,
             (SELECT SUM(id) FROM datasets WHERE project_id = ${projectId} AND held_out = 'test') AS held_sum`.execute(db)
  ).rows;
  const key = `${k.sources}/${k.max_item ?? 0}/${k.gold}/${k.gold_sum ?? 0}/${k.held}/${k.held_sum ?? 0}`;
  let byProject = frontiers.get(store);
  if (!byProject) {
    frontiers.set(store, (byProject = new Map()));
    // SQLite group commit: a batch that fails as a whole takes back rows the frontier may have
    // been moved past (earlier changes of the batch): forget it, the next call re-walks.
    const off = onBatchRollback(store, () => {
      frontiers.delete(store);
      off();
    });
  }
  const known = byProject.get(projectId);
  const f: Frontier = known && known.key === key ? known : { below: 0, key };
  // The first item at or after the frontier that has no labelling row and is neither gold nor held
  // out (the walk covers the rows labelled since the last call: amortised O(1) per task).
  const first = await sql<{ id: number }>`
    SELECT i.id FROM items i
    WHERE i.project_id = ${projectId} AND i.id >= ${f.below}
      AND NOT EXISTS (SELECT 1 FROM label_items s WHERE s.item_id = i.id)
      AND NOT EXISTS (SELECT 1 FROM gold_items g WHERE g.item_id = i.id)
      AND NOT ${heldOutFromServing(sql`i.id`)}
    ORDER BY i.id LIMIT 1`.execute(db);
  // Nothing untouched: every item up to the highest has a row (or is gold or held out).
  f.below = first.rows[0] ? Number(first.rows[0].id) : Number(k.max_item ?? 0) + 1;
  byProject.set(projectId, f);
  return f;
}

/**
 * The first servable item in import order (item id): either an item in labelling (a label_items
 * row, status open) or one never touched (no row, at or after the frontier) — whichever comes
 * first. Both walks stop at their first match: the open items are few (those in progress), and
 * untouched items are servable unless gold or, once gold was removed, already served.
 */
async function pickInOrder(store: Store, db: Conn, projectId: number, userId: number, overlap: number, now: string, mode: LabellingMode): Promise<number | undefined> {
  const open = await sql<{ item_id: number }>`
    SELECT s.item_id FROM label_items s
    WHERE s.project_id = ${projectId} AND s.status = 'open'
      AND ${servable(sql`s.item_id`, sql`s.round`, userId, overlap, now, mode)}
    ORDER BY s.item_id
    LIMIT 1`.execute(db);
  const f = await frontierOf(store, db, projectId);
  // A demoted annotator's untouched candidates begin at the first item created since (an index lookup, not a walk).
  const from = mode.blind && mode.readUntil !== null ? (mode.firstIdAfter === null ? null : Math.max(f.below, mode.firstIdAfter)) : f.below;
  const fresh =
    from === null
      ? { rows: [] as Array<{ id: number }> }
      : await sql<{ id: number }>`
    SELECT i.id FROM items i
    WHERE i.project_id = ${projectId} AND i.id >= ${from}
      AND NOT EXISTS (SELECT 1 FROM label_items s WHERE s.item_id = i.id)
      AND ${servable(sql`i.id`, sql`0`, userId, overlap, now, mode)}
    ORDER BY i.id
    LIMIT 1`.execute(db);
  const ids = [open.rows[0]?.item_id, fresh.rows[0]?.id].filter((x): x is number => x !== undefined && x !== null).map(Number);
  return ids.length ? Math.min(...ids) : undefined;
}

async function ownLease(ctx: TxCtx, userId: number, id: number) {
  const a = await ctx.conn.selectFrom('assignments').selectAll().where('id', '=', id).where('project_id', '=', ctx.project.id).where('user_id', '=', userId).executeTakeFirst();
  // Another annotator's task is "not found": its existence is none of this user's business.
  if (!a) throw new NotFoundError(`task ${id}`);
  if (a.status !== 'leased') throw new ConflictError(`task ${id} is already ${a.status}`, 'E_TASK_CLOSED');
  if (a.expires_at <= nowIso()) throw new ConflictError(`the lease on task ${id} expired at ${a.expires_at}; the item went back to the queue — ask for a new task`, 'E_LEASE_EXPIRED');
  return a;
}

export interface SubmitInput {
  /** The single/multi question's labels (legacy form). */
  labels?: string[];
  /** Answers by question name (every required question). */
  answers?: Record<string, unknown>;
  /** The taxonomy version the annotator saw; a newer one refuses the answer (409). */
  taxonomyVersion: number;
  /** Time spent, as measured by the client; default: since the lease began. */
  timeMs?: number;
  /** A question about the guidelines (with the text in `comment`). */
  question?: boolean;
  comment?: string;
}

/** Records an annotation; returns only its id (blind: nothing about others or consensus). */
export async function submitTask(store: Store, project: Project, user: User, id: number, input: SubmitInput): Promise<{ annotationId: number; taskId: number }> {
  return change(store, project, userActor(user), async (ctx) => {
    const a = await ownLease(ctx, user.id, id);
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    // Versions run 1, 2, … up to the current one: a larger number was never served by anyone.
    if (!Number.isInteger(input.taxonomyVersion) || input.taxonomyVersion < 1 || input.taxonomyVersion > taxonomy.version) {
      throw new UserError(`taxonomyVersion: version ${JSON.stringify(input.taxonomyVersion)} does not exist (this project's taxonomy is at version ${taxonomy.version}; send the version the task was served with)`);
    }
    if (input.taxonomyVersion !== taxonomy.version) {
      throw new ConflictError(`the taxonomy changed (version ${input.taxonomyVersion} → ${taxonomy.version}): reload the task and its labels`, 'E_TAXONOMY_CHANGED');
    }
    const legacy = isLegacy(taxonomy);
    const cls = classQuestion(taxonomy);
    let labels: string[];
    let answers: Answers | null = null;
    if (input.answers === undefined) {
      if (input.labels === undefined) throw new UserError(`body: give "answers" (by question: ${taxonomy.questions.map((q) => q.name).join(', ')}) or, for the single/multi question, "labels"`);
      labels = checkLabels(taxonomy, input.labels);
      if (!legacy) answers = checkAnswers(taxonomy.questions, { [cls!.name]: labels }, { where: 'body/answers', version: taxonomy.version, item: answerItem(await getItem(ctx.conn, project.id, a.item_id)) });
    } else {
      if (input.labels !== undefined) throw new UserError('body: give "answers" or "labels", not both (the single/multi question is one of the answers)');
      answers = checkAnswers(taxonomy.questions, input.answers, { where: 'body/answers', version: taxonomy.version, item: answerItem(await getItem(ctx.conn, project.id, a.item_id)) });
      labels = classLabels(taxonomy, answers);
      if (legacy) answers = null;
    }
    if (input.timeMs !== undefined && !(Number.isInteger(input.timeMs) && input.timeMs >= 0)) throw new UserError('timeMs: expected a whole number of milliseconds ≥ 0');
    if (!a.gold) {
      const li = await getLabelItem(ctx.conn, a.item_id);
      if (!li || li.round !== a.round || li.status !== 'open') throw new ConflictError(`item ${a.item_id} is no longer open for labelling in this round`, 'E_TASK_CLOSED');
    }
    const now = nowIso();
    const s = await getLabelSettings(ctx.conn, project.id);
    const mode = await labellingMode(ctx.conn, project.id, user.id, s);
    if (!(await isEligible(ctx.conn, a.item_id, mode))) {
      throw new ConflictError(`item ${a.item_id} may not be labelled by you any more (held out as a test split, or it existed while you held a role that reads labels): release task ${a.id}`, 'E_NOT_ELIGIBLE');
    }
    const sug = parseJson<Stored | null>(a.suggestion, null);
    const accepted = sug ? (answers && sug.answers ? sameAnswers(taxonomy.questions, sug.answers, answers) : sug.labels.length === labels.length && sug.labels.every((l) => labels.includes(l))) : null;
    const timeMs = input.timeMs ?? Math.max(0, Date.parse(now) - Date.parse(a.leased_at));
    const { id: annotationId } = await ctx.conn
      .insertInto('annotations')
      .values({
        project_id: project.id,
        item_id: a.item_id,
        user_id: user.id,
        taxonomy_version: taxonomy.version,
        labels: JSON.stringify(labels),
        answers: answers ? JSON.stringify(answers) : null,
        time_ms: timeMs,
        suggestion: a.suggestion,
        suggestion_accepted: accepted === null ? null : accepted ? 1 : 0,
        skipped: 0,
        skip_reason: null,
        question: input.question ? 1 : 0,
        comment: input.comment ?? null,
        created_at: now,
        round: a.round,
        assignment_id: a.id,
        blind: mode.blind ? 1 : 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await ctx.conn.updateTable('assignments').set({ status: 'submitted', closed_at: now, annotation_id: annotationId }).where('id', '=', a.id).execute();
    await record(ctx, 'annotation.create', `item:${a.item_id}`, {
      annotation: annotationId,
      task: a.id,
      labels,
      taxonomyVersion: taxonomy.version,
      timeMs,
      suggestion: sug,
      suggestionAccepted: accepted,
      question: Boolean(input.question),
      round: a.round,
      gold: a.gold === 1,
      ...(mode.blind ? {} : { blind: false }),
      ...(answers ? { answers, answersSha256: answersHash(answers) } : {}),
      rows: await rowsState(ctx.conn, { annotations: [annotationId] }),
    });
    await emit(ctx, 'annotation.created', { itemId: a.item_id, annotationId, annotator: user.name, labels, taxonomyVersion: taxonomy.version, question: Boolean(input.question), ...(answers ? { answers } : {}) });
    if (a.gold) await checkGoldAnswer(ctx, s, a.item_id, user.name, labels, annotationId);
    else await settleItem(ctx, s, taxonomy, a.item_id);
    return { annotationId, taskId: a.id };
  });
}

/** Skips a task with a reason (recorded as a skipped annotation); the slot goes to someone else. */
export async function skipTask(store: Store, project: Project, user: User, id: number, reason: string): Promise<{ annotationId: number; taskId: number }> {
  if (typeof reason !== 'string' || reason.trim() === '') throw new UserError('reason: a skip needs a reason');
  return change(store, project, userActor(user), async (ctx) => {
    const a = await ownLease(ctx, user.id, id);
    const mode = await labellingMode(ctx.conn, project.id, user.id, await getLabelSettings(ctx.conn, project.id));
    const now = nowIso();
    const { id: annotationId } = await ctx.conn
      .insertInto('annotations')
      .values({
        project_id: project.id,
        item_id: a.item_id,
        user_id: user.id,
        taxonomy_version: a.taxonomy_version,
        labels: '[]',
        time_ms: Math.max(0, Date.parse(now) - Date.parse(a.leased_at)),
        suggestion: a.suggestion,
        suggestion_accepted: null,
        skipped: 1,
        skip_reason: reason,
        question: 0,
        comment: null,
        created_at: now,
        round: a.round,
        assignment_id: a.id,
        blind: mode.blind ? 1 : 0,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await ctx.conn.updateTable('assignments').set({ status: 'skipped', closed_at: now, annotation_id: annotationId }).where('id', '=', a.id).execute();
    await record(ctx, 'annotation.skip', `item:${a.item_id}`, { annotation: annotationId, task: a.id, reason, round: a.round, rows: await rowsState(ctx.conn, { annotations: [annotationId] }) });
    return { annotationId, taskId: a.id };
  });
}

/** Gives a task back unanswered; the item returns to the queue (for others). */
export async function releaseTask(store: Store, project: Project, user: User, id: number): Promise<{ taskId: number }> {
  return change(store, project, userActor(user), async (ctx) => {
    const a = await ownLease(ctx, user.id, id);
    await ctx.conn.updateTable('assignments').set({ status: 'released', closed_at: nowIso() }).where('id', '=', a.id).execute();
    await record(ctx, 'task.release', `item:${a.item_id}`, { task: a.id });
    return { taskId: a.id };
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
  return (await db.selectFrom('assignments').select('id').where('user_id', '=', userId).where('item_id', '=', itemId).limit(1).executeTakeFirst()) !== undefined;
}
