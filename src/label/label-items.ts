import type { Selectable } from 'kysely';
import { NotFoundError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { LabelItemsTable } from '../store/schema.ts';
import type { TxCtx } from '../store/context.ts';
import { LEGACY_QUESTION, storedAnswers, type Answers } from './questions.ts';
import type { Conn } from '../store/tx.ts';

/** Labelling state of items and the answers of a round. */
export type LabelItemRow = Selectable<LabelItemsTable>;

export async function getLabelItem(db: Conn, itemId: number): Promise<LabelItemRow | undefined> {
  return db.selectFrom('label_items').selectAll().where('item_id', '=', itemId).executeTakeFirst();
}

/** The item's labelling row, created (open, round 0) on first need. */
export async function ensureLabelItem(conn: Conn, projectId: number, itemId: number): Promise<LabelItemRow> {
  const row = await getLabelItem(conn, itemId);
  if (row) return row;
  await conn.insertInto('label_items').values({ item_id: itemId, project_id: projectId, round: 0, status: 'open', priority: null, updated_at: nowIso() }).execute();
  return (await getLabelItem(conn, itemId))!;
}

/** Throws unless the item belongs to the project. */
export async function checkItem(db: Conn, projectId: number, itemId: number): Promise<{ id: number; source_key: string }> {
  const r = await db.selectFrom('items').select(['id', 'source_key']).where('id', '=', itemId).where('project_id', '=', projectId).executeTakeFirst();
  if (!r) throw new NotFoundError(`item ${itemId} in this project`);
  return r;
}

export async function isGold(db: Conn, itemId: number): Promise<boolean> {
  return (await db.selectFrom('gold_items').select('item_id').where('item_id', '=', itemId).executeTakeFirst()) !== undefined;
}

export interface FinalLabel {
  /** The single/multi question's labels ([] when the taxonomy has none). */
  labels: string[];
  /** Every question's final answer (taxonomies beyond one legacy question); null for a legacy taxonomy. */
  answers?: Answers | null;
  source: 'consensus' | 'review' | 'import';
  confidence: number | null;
  taxonomyVersion: number;
  provenance: Record<string, unknown>;
}

export async function finalize(ctx: TxCtx, itemId: number, f: FinalLabel): Promise<void> {
  await ensureLabelItem(ctx.conn, ctx.project.id, itemId);
  const at = nowIso();
  await ctx.conn
    .updateTable('label_items')
    .set({
      status: 'done',
      final_labels: JSON.stringify(f.labels),
      final_source: f.source,
      final_confidence: f.confidence,
      final_taxonomy_version: f.taxonomyVersion,
      final_provenance: JSON.stringify(f.provenance),
      final_answers: f.answers ? JSON.stringify(f.answers) : null,
      decided_at: at,
      updated_at: at,
    })
    .where('item_id', '=', itemId)
    .execute();
}

/** Back to labelling: a new round (earlier annotations stay on record, unused), no final label. */
export async function reopen(ctx: TxCtx, itemId: number): Promise<number> {
  const row = await ensureLabelItem(ctx.conn, ctx.project.id, itemId);
  const round = row.round + 1;
  await ctx.conn
    .updateTable('label_items')
    .set({ status: 'open', round, final_labels: null, final_source: null, final_confidence: null, final_taxonomy_version: null, final_provenance: null, final_answers: null, decided_at: null, updated_at: nowIso() })
    .where('item_id', '=', itemId)
    .execute();
  return round;
}

export interface RoundAnswer {
  id: number;
  annotator: string;
  userId: number;
  labels: string[];
  /** Every question's answer (the class question's from `labels`). */
  answers: Answers;
  /** Written with answers by question (a taxonomy beyond one legacy question): provenance shows them. */
  withAnswers: boolean;
  taxonomyVersion: number;
  timeMs: number;
  suggestion: unknown;
  suggestionAccepted: boolean | null;
  question: boolean;
  comment: string | null;
  createdAt: string;
  /** False for an answer given without blindness (solo labelling). */
  blind: boolean;
}

/**
 * The submitted (not skipped) annotations of one item in one round, oldest first. `className`:
 * the current class question's name, which takes the `labels` column (default `label`).
 */
export async function roundAnswers(db: Conn, itemId: number, round: number, className: string | null = LEGACY_QUESTION): Promise<RoundAnswer[]> {
  const rows = await db
    .selectFrom('annotations')
    .innerJoin('users', 'users.id', 'annotations.user_id')
    .select([
      'annotations.id',
      'users.name',
      'annotations.user_id',
      'annotations.labels',
      'annotations.taxonomy_version',
      'annotations.time_ms',
      'annotations.suggestion',
      'annotations.suggestion_accepted',
      'annotations.question',
      'annotations.comment',
      'annotations.created_at',
      'annotations.blind',
      'annotations.answers',
    ])
    .where('annotations.item_id', '=', itemId)
    .where('annotations.round', '=', round)
    .where('annotations.skipped', '=', 0)
    .orderBy('annotations.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    annotator: r.name,
    userId: r.user_id,
    labels: parseJson<string[]>(r.labels, []),
    answers: storedAnswers(r.answers, className === null ? null : parseJson<string[]>(r.labels, []), className ?? undefined),
    withAnswers: r.answers !== null,
    taxonomyVersion: r.taxonomy_version,
    timeMs: r.time_ms,
    suggestion: parseJson(r.suggestion, null),
    suggestionAccepted: r.suggestion_accepted === null ? null : r.suggestion_accepted === 1,
    question: r.question === 1,
    comment: r.comment,
    createdAt: r.created_at,
    blind: r.blind !== 0,
  }));
}

/** How each answer appears in a final label's provenance (`blind: false` marks a solo-labelling answer). */
export const provenanceAnswers = (answers: readonly RoundAnswer[]) =>
  answers.map((a) => ({
    id: a.id,
    annotator: a.annotator,
    labels: a.labels,
    at: a.createdAt,
    timeMs: a.timeMs,
    taxonomyVersion: a.taxonomyVersion,
    suggestion: a.suggestion,
    suggestionAccepted: a.suggestionAccepted,
    ...(a.blind ? {} : { blind: false as const }),
    ...(a.withAnswers ? { answers: a.answers } : {}),
  }));
