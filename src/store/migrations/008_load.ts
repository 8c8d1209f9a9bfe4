import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Load (issue #8, 100 annotators on a 1,000,000-item project; bench/load-annotators.ts):
 * - `annotations_item_round`: every submit reads the answers of its item's round (settling the
 *   item: roundAnswers, majority consensus of one item). The only index with item_id led with
 *   project_id, which those queries do not give, so each submit scanned the whole annotations
 *   table (EXPLAIN QUERY PLAN: `SCAN annotations`): its cost grew with every answer ever given.
 * - `label_items_status_item`: next-task walks a project's open items in item order (the same
 *   index 007_scale creates for its lists; IF NOT EXISTS, whichever migration comes first).
 */
export function up008(_dialect: Dialect) {
  return async (db: Kysely<any>) => {
    await db.schema.createIndex('annotations_item_round').ifNotExists().on('annotations').columns(['item_id', 'round']).execute();
    await db.schema.createIndex('label_items_status_item').ifNotExists().on('label_items').columns(['project_id', 'status', 'item_id']).execute();
  };
}
