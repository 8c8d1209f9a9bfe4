import { sql, type RawBuilder } from 'kysely';
import type { Store } from '../store/db.ts';
import { eligible, heldOutFromServing, type LabellingMode } from './eligibility.ts';
import { onBatchRollback, type Conn } from '../store/tx.ts';

/**
 * Which item an annotator is served next: a gold item (at the gold rate), else the first servable
 * prioritised item, else the first servable item in import order. One candidate query each,
 * every one through the eligibility predicate.
 */

/** A gold item this annotator has never been served (and may be: eligible). */
export async function pickGold(db: Conn, projectId: number, userId: number, mode: LabellingMode): Promise<number | undefined> {
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
export async function pickPrioritised(
  db: Conn,
  projectId: number,
  userId: number,
  overlap: number,
  now: string,
  mode: LabellingMode,
): Promise<number | undefined> {
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
export async function pickInOrder(
  store: Store,
  db: Conn,
  projectId: number,
  userId: number,
  overlap: number,
  now: string,
  mode: LabellingMode,
): Promise<number | undefined> {
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
