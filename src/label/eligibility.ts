import { sql, type RawBuilder } from 'kysely';
import { nowIso } from '../core/json.ts';
import type { HeldOut } from '../store/schema.ts';
import { ConflictError, ForbiddenError } from './errors.ts';
import { canIn, readsLabels, SOLO_ROLES, type Role } from './roles.ts';
import type { LabelSettings } from './settings.ts';
import type { Conn } from '../store/tx.ts';
import { roleIn } from './users.ts';

/**
 * Which items may reach a person: the one place the assignment code asks. Two rules:
 *
 * - **Held out.** A dataset marked `held_out = 'test'` (the loop's `loop-test` split, any split
 *   kept for a final score) is never served, queued (priorities, the map's lasso), labelled in
 *   bulk or made gold; a dataset marked 'evaluation' is served and labelled like any item but
 *   never trained on. `heldOutItems(…, 'serve' | 'train')` answers both questions.
 * - **Blind.** Whoever held a role that reads labels (reviewer, manager, admin, viewer) could list
 *   every item of the project with its source label, metadata, suggestion and source, answers,
 *   reviews and final label. So an annotator is never served blind an item that existed (items
 *   are immutable; `created_at` is set before the import commits) while they last held such a
 *   role. A narrower rule ("items that had an annotation, a suggestion or a final label then")
 *   would rest on timestamps the store overwrites (a new suggestion replaces the old, a reject
 *   clears `decided_at`); existence is the one that stays true. Items imported after the
 *   demotion are served as usual. Solo labelling (an admin or manager labelling where the
 *   project allows it) is not blind, and recorded so.
 */

/** How a user labels in a project: blind (as an annotator) or not (solo labelling). */
export type LabellingMode =
  | {
      blind: true;
      /** The end of the user's last label-reading role here: items created up to it are never served to them. */
      readUntil: string | null;
      /** The smallest id among items created after `readUntil` (a bound for the in-order walk); null when none. */
      firstIdAfter: number | null;
    }
  | { blind: false };

/** The user's labelling mode in the project; refuses a role that may not label there. */
export async function labellingMode(db: Conn, projectId: number, userId: number, settings: Pick<LabelSettings, 'soloLabelling'>): Promise<LabellingMode> {
  const role = await roleIn(db, userId, projectId);
  if (role === 'annotator') {
    const readUntil = await labelReadingEnd(db, projectId, userId);
    if (readUntil === null) return { blind: true, readUntil: null, firstIdAfter: null };
    const first = await db.selectFrom('items').select((e) => e.fn.min<number>('id').as('id')).where('project_id', '=', projectId).where('created_at', '>', readUntil).executeTakeFirst();
    return { blind: true, readUntil, firstIdAfter: first?.id == null ? null : Number(first.id) };
  }
  if (canIn(role, 'task.annotate', settings)) return { blind: false };
  throw new ForbiddenError(
    role !== null && SOLO_ROLES.includes(role)
      ? `role ${role} may label in this project only with its soloLabelling setting on (tessera label settings --solo-labelling true)`
      : `role ${role ?? '(none)'} may not label in this project`,
  );
}

/** When the user last stopped holding a label-reading role in the project (now, if they hold one); null: never held one. */
export async function labelReadingEnd(db: Conn, projectId: number, userId: number): Promise<string | null> {
  const periods = await db.selectFrom('role_periods').select(['role', 'to_at']).where('project_id', '=', projectId).where('user_id', '=', userId).execute();
  let end: string | null = null;
  for (const p of periods) {
    if (!readsLabels(p.role as Role)) continue;
    const until = p.to_at ?? nowIso();
    if (end === null || until > end) end = until;
  }
  return end;
}

/** SQL: the item `i` (an id expression) belongs to a dataset held out from serving. */
export const heldOutFromServing = (i: RawBuilder<unknown>) =>
  sql`EXISTS (SELECT 1 FROM dataset_items hd INNER JOIN datasets hs ON hs.id = hd.dataset_id WHERE hd.item_id = ${i} AND hs.held_out = 'test')`;

/**
 * SQL: the item `i` may be served to a labeller in `mode`: not held out from serving and, for a
 * blind annotator who once read labels, created after they last could. Every candidate query of
 * the assignment (prioritised, in order, gold) carries it.
 */
export function eligible(i: RawBuilder<unknown>, mode: LabellingMode): RawBuilder<unknown> {
  const blind = mode.blind && mode.readUntil !== null ? sql`AND (SELECT bx.created_at FROM items bx WHERE bx.id = ${i}) > ${mode.readUntil}` : sql``;
  return sql`NOT ${heldOutFromServing(i)} ${blind}`;
}

/** Whether one item may be served to (and answered by) a labeller in `mode`. */
export async function isEligible(db: Conn, itemId: number, mode: LabellingMode): Promise<boolean> {
  const r = await sql<{ ok: number }>`SELECT 1 AS ok FROM items WHERE id = ${itemId} AND ${eligible(sql`${itemId}`, mode)}`.execute(db);
  return r.rows.length > 0;
}

/** Which held-out markers keep an item from a use: serving (test splits) or training (test and evaluation sets). */
const HELD_OUT_FROM: Record<'serve' | 'train', HeldOut[]> = { serve: ['test'], train: ['test', 'evaluation'] };

/** The project's items held out from `use`. */
export async function heldOutItems(db: Conn, projectId: number, use: 'serve' | 'train'): Promise<Set<number>> {
  const rows = await db
    .selectFrom('dataset_items')
    .innerJoin('datasets', 'datasets.id', 'dataset_items.dataset_id')
    .select('dataset_items.item_id')
    .where('datasets.project_id', '=', projectId)
    .where('datasets.held_out', 'in', HELD_OUT_FROM[use])
    .execute();
  return new Set(rows.map((r) => Number(r.item_id)));
}

/**
 * Refuses (409, nothing written) an action that would queue, label or serve items held out from
 * serving, naming how many, the first few ids and the dataset that holds them out.
 */
export async function refuseHeldOut(db: Conn, projectId: number, itemIds: readonly number[], action: string): Promise<void> {
  const found: Array<{ item: number; dataset: string }> = [];
  const ids = [...new Set(itemIds)];
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db
      .selectFrom('dataset_items')
      .innerJoin('datasets', 'datasets.id', 'dataset_items.dataset_id')
      .select(['dataset_items.item_id', 'datasets.name'])
      .where('datasets.project_id', '=', projectId)
      .where('datasets.held_out', 'in', HELD_OUT_FROM.serve)
      .where('dataset_items.item_id', 'in', ids.slice(i, i + 1000))
      .execute();
    for (const r of rows) found.push({ item: Number(r.item_id), dataset: r.name });
  }
  if (found.length === 0) return;
  const items = [...new Set(found.map((f) => f.item))].sort((a, b) => a - b);
  const datasets = [...new Set(found.map((f) => f.dataset))].sort();
  const FIRST = 10;
  const list = items.slice(0, FIRST).join(', ') + (items.length > FIRST ? ` … (${items.length - FIRST} more)` : '');
  throw new ConflictError(
    `${action}: ${items.length} item(s) are held out as a test split (dataset ${datasets.map((d) => `"${d}"`).join(', ')}) and are never queued, served or labelled: items ${list}. Leave them out of the request`,
    'E_HELD_OUT',
  );
}
