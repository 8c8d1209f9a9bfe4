import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/** One embedding per (model, item): float32 little-endian bytes. */
export function up002(dialect: Dialect) {
  return async (db: Kysely<any>) => {
    await db.schema
      .createTable('embeddings')
      .addColumn('model_id', 'integer', (c) => c.notNull().references('models.id'))
      .addColumn('item_id', 'integer', (c) => c.notNull().references('items.id'))
      .addColumn('dim', 'integer', (c) => c.notNull())
      .addColumn('vector', (dialect === 'postgres' ? 'bytea' : 'blob') as 'blob', (c) => c.notNull())
      .addPrimaryKeyConstraint('embeddings_pk', ['model_id', 'item_id'])
      .execute();
  };
}
