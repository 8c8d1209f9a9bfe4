import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Scale (issue #8, 1,000,000 items per project): indexes so that every keyset-paginated list
 * and filter reads only the rows of its page, at any depth, on both stores (checked with
 * EXPLAIN in test/store/scale-explain.test.ts):
 * - `items_project_label`, `items_project_modality`: `items list --label/--modality` and
 *   `GET …/items?label=&modality=` walk (project, filter, id) in id order from the cursor.
 * - `label_items_status_item`: `GET …/labels?status=`, the export stream and the consensus
 *   recompute walk a project's items of one status in item order.
 * - `annotations_project_id`: the consensus recompute and `GET …/annotations` page through a
 *   project's annotations in id order.
 */
export function up007(_dialect: Dialect) {
  return async (db: Kysely<any>) => {
    await db.schema.createIndex('items_project_label').ifNotExists().on('items').columns(['project_id', 'source_label', 'id']).execute();
    await db.schema.createIndex('items_project_modality').ifNotExists().on('items').columns(['project_id', 'modality', 'id']).execute();
    await db.schema.createIndex('label_items_status_item').ifNotExists().on('label_items').columns(['project_id', 'status', 'item_id']).execute();
    await db.schema.createIndex('annotations_project_id').ifNotExists().on('annotations').columns(['project_id', 'id']).execute();
  };
}
