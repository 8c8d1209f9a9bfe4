import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Insertable } from 'kysely';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { getItem } from '../store/items.ts';
import type { Project } from '../store/projects.ts';
import { change, record, userActor, type TxCtx } from '../store/context.ts';
import { isEligible, labellingMode } from './eligibility.ts';
import { ConflictError } from './errors.ts';
import { checkGoldAnswer } from './gold.ts';
import { getLabelItem } from './label-items.ts';
import { rowsState } from './row-digest.ts';
import { getLabelSettings } from './settings.ts';
import { settleItem } from './settle.ts';
import { answerItem, classLabels } from './answers.ts';
import { answersHash, checkAnswers, classQuestion, isLegacy, sameAnswers, type Answers } from './questions.ts';
import { checkLabels } from './taxonomy.ts';
import { currentTaxonomy } from './taxonomies.ts';
import type { StoredSuggestion } from './task-view.ts';
import type { User } from './users.ts';
import { emit } from './webhooks.ts';

/**
 * Closing an annotator's lease: submitting an answer, skipping with a reason, or releasing it
 * unanswered. Each works only on the caller's own live lease.
 */

async function ownLease(ctx: TxCtx, userId: number, id: number) {
  const a = await ctx.conn
    .selectFrom('assignments')
    .selectAll()
    .where('id', '=', id)
    .where('project_id', '=', ctx.project.id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  // Another annotator's task is "not found": its existence is none of this user's business.
  if (!a) throw new NotFoundError(`task ${id}`);
  if (a.status !== 'leased') throw new ConflictError(`task ${id} is already ${a.status}`, 'E_TASK_CLOSED');
  if (a.expires_at <= nowIso()) {
    throw new ConflictError(`the lease on task ${id} expired at ${a.expires_at}; the item went back to the queue — ask for a new task`, 'E_LEASE_EXPIRED');
  }
  return a;
}

type Lease = Awaited<ReturnType<typeof ownLease>>;
type AnswerRow = Omit<Insertable<Database['annotations']>, 'project_id' | 'item_id' | 'user_id' | 'suggestion' | 'created_at' | 'round' | 'assignment_id' | 'blind'>;

/**
 * Closes a live lease with its one annotation row (an answer or a skip): the row carries the
 * lease's item, round, suggestion and blindness, and the assignment points at it.
 */
async function closeLease(ctx: TxCtx, a: Lease, userId: number, blind: boolean, now: string, status: 'submitted' | 'skipped', row: AnswerRow): Promise<number> {
  const { id } = await ctx.conn
    .insertInto('annotations')
    .values({ project_id: ctx.project.id, item_id: a.item_id, user_id: userId, suggestion: a.suggestion, created_at: now, round: a.round, assignment_id: a.id, blind: blind ? 1 : 0, ...row })
    .returning('id')
    .executeTakeFirstOrThrow();
  await ctx.conn.updateTable('assignments').set({ status, closed_at: now, annotation_id: id }).where('id', '=', a.id).execute();
  return id;
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
export async function submitTask(
  store: Store,
  project: Project,
  user: User,
  id: number,
  input: SubmitInput,
): Promise<{ annotationId: number; taskId: number }> {
  return change(store, project, userActor(user), async (ctx) => {
    const a = await ownLease(ctx, user.id, id);
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    // Versions run 1, 2, … up to the current one: a larger number was never served by anyone.
    if (!Number.isInteger(input.taxonomyVersion) || input.taxonomyVersion < 1 || input.taxonomyVersion > taxonomy.version) {
      throw new UserError(
        `taxonomyVersion: version ${JSON.stringify(input.taxonomyVersion)} does not exist ` +
          `(this project's taxonomy is at version ${taxonomy.version}; send the version the task was served with)`,
      );
    }
    if (input.taxonomyVersion !== taxonomy.version) {
      const versions = `version ${input.taxonomyVersion} → ${taxonomy.version}`;
      throw new ConflictError(`the taxonomy changed (${versions}): reload the task and its labels`, 'E_TAXONOMY_CHANGED');
    }
    const legacy = isLegacy(taxonomy);
    const cls = classQuestion(taxonomy);
    let labels: string[];
    let answers: Answers | null = null;
    if (input.answers === undefined) {
      if (input.labels === undefined) {
        const names = taxonomy.questions.map((q) => q.name).join(', ');
        throw new UserError(`body: give "answers" (by question: ${names}) or, for the single/multi question, "labels"`);
      }
      labels = checkLabels(taxonomy, input.labels);
      if (!legacy) {
        const item = answerItem(await getItem(ctx.conn, project.id, a.item_id));
        answers = checkAnswers(taxonomy.questions, { [cls!.name]: labels }, { where: 'body/answers', version: taxonomy.version, item });
      }
    } else {
      if (input.labels !== undefined) throw new UserError('body: give "answers" or "labels", not both (the single/multi question is one of the answers)');
      const item = answerItem(await getItem(ctx.conn, project.id, a.item_id));
      answers = checkAnswers(taxonomy.questions, input.answers, { where: 'body/answers', version: taxonomy.version, item });
      labels = classLabels(taxonomy, answers);
      if (legacy) answers = null;
    }
    if (input.timeMs !== undefined && !(Number.isInteger(input.timeMs) && input.timeMs >= 0)) {
      throw new UserError('timeMs: expected a whole number of milliseconds ≥ 0');
    }
    if (!a.gold) {
      const li = await getLabelItem(ctx.conn, a.item_id);
      if (!li || li.round !== a.round || li.status !== 'open') {
        throw new ConflictError(`item ${a.item_id} is no longer open for labelling in this round`, 'E_TASK_CLOSED');
      }
    }
    const now = nowIso();
    const s = await getLabelSettings(ctx.conn, project.id);
    const mode = await labellingMode(ctx.conn, project.id, user.id, s);
    if (!(await isEligible(ctx.conn, a.item_id, mode))) {
      throw new ConflictError(
        `item ${a.item_id} may not be labelled by you any more (held out as a test split, or it existed while you held a role that reads labels): ` +
          `release task ${a.id}`,
        'E_NOT_ELIGIBLE',
      );
    }
    const sug = parseJson<StoredSuggestion | null>(a.suggestion, null);
    const accepted = sug
      ? answers && sug.answers
        ? sameAnswers(taxonomy.questions, sug.answers, answers)
        : sug.labels.length === labels.length && sug.labels.every((l) => labels.includes(l))
      : null;
    const timeMs = input.timeMs ?? Math.max(0, Date.parse(now) - Date.parse(a.leased_at));
    const annotationId = await closeLease(ctx, a, user.id, mode.blind, now, 'submitted', {
      taxonomy_version: taxonomy.version,
      labels: JSON.stringify(labels),
      answers: answers ? JSON.stringify(answers) : null,
      time_ms: timeMs,
      suggestion_accepted: accepted === null ? null : accepted ? 1 : 0,
      skipped: 0,
      skip_reason: null,
      question: input.question ? 1 : 0,
      comment: input.comment ?? null,
    });
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
    await emit(ctx, 'annotation.created', {
      itemId: a.item_id,
      annotationId,
      annotator: user.name,
      labels,
      taxonomyVersion: taxonomy.version,
      question: Boolean(input.question),
      ...(answers ? { answers } : {}),
    });
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
    const annotationId = await closeLease(ctx, a, user.id, mode.blind, now, 'skipped', {
      taxonomy_version: a.taxonomy_version,
      labels: '[]',
      time_ms: Math.max(0, Date.parse(now) - Date.parse(a.leased_at)),
      suggestion_accepted: null,
      skipped: 1,
      skip_reason: reason,
      question: 0,
      comment: null,
    });
    await record(ctx, 'annotation.skip', `item:${a.item_id}`, {
      annotation: annotationId,
      task: a.id,
      reason,
      round: a.round,
      rows: await rowsState(ctx.conn, { annotations: [annotationId] }),
    });
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
