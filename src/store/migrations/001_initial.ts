import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/** The initial schema. Column types differ only where the dialects do (ids, blobs, floats). */
export function up001(dialect: Dialect) {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  const float = dialect === 'postgres' ? 'double precision' : 'real';
  return async (db: Kysely<any>) => {
    // SQLite needs AUTOINCREMENT (ids never reused); on PostgreSQL `serial` carries the sequence.
    const table = (name: string) =>
      db.schema.createTable(name).addColumn(name === 'audit_events' ? 'seq' : 'id', id as 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      );

    await table('projects')
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();

    await table('taxonomies')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('guidelines', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('mapping', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addUniqueConstraint('taxonomies_project_version', ['project_id', 'version'])
      .execute();

    await table('users')
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('memberships')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('memberships_pk', ['project_id', 'user_id'])
      .execute();

    await table('import_sources')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('options', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('imported', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('unchanged', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('rejected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('errors', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();

    await db.schema
      .createTable('blobs')
      .addColumn('sha256', 'text', (c) => c.primaryKey())
      .addColumn('mime', 'text', (c) => c.notNull())
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('bytes', bytes as 'blob', (c) => c.notNull())
      .execute();

    await table('items')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('source_id', 'integer', (c) => c.notNull().references('import_sources.id'))
      .addColumn('source_key', 'text', (c) => c.notNull())
      .addColumn('modality', 'text', (c) => c.notNull())
      .addColumn('text', 'text')
      .addColumn('data', 'text')
      .addColumn('blob_sha256', 'text', (c) => c.references('blobs.sha256'))
      .addColumn('meta', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('locator', 'text', (c) => c.notNull())
      .addColumn('residency', 'text', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('source_label', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('items_project_key', ['project_id', 'source_key'])
      .execute();
    await db.schema.createIndex('items_project_id').on('items').columns(['project_id', 'id']).execute();

    await table('datasets')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('spec', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('item_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('dataset_items')
      .addColumn('dataset_id', 'integer', (c) => c.notNull().references('datasets.id'))
      .addColumn('item_id', 'integer', (c) => c.notNull().references('items.id'))
      .addColumn('label', 'text')
      .addColumn('decided_by', 'text')
      .addPrimaryKeyConstraint('dataset_items_pk', ['dataset_id', 'item_id'])
      .execute();

    await table('annotations')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('item_id', 'integer', (c) => c.notNull().references('items.id'))
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('taxonomy_version', 'integer', (c) => c.notNull())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('time_ms', 'integer', (c) => c.notNull())
      .addColumn('suggestion', 'text')
      .addColumn('suggestion_accepted', 'integer')
      .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('skip_reason', 'text')
      .addColumn('question', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('annotations_item').on('annotations').columns(['project_id', 'item_id']).execute();

    await table('reviews')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('item_id', 'integer', (c) => c.notNull().references('items.id'))
      .addColumn('reviewer_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('decision', 'text', (c) => c.notNull())
      .addColumn('labels', 'text')
      .addColumn('note', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await table('models')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('pretext', 'text')
      .addColumn('parent_id', 'integer', (c) => c.references('models.id'))
      .addColumn('dataset_id', 'integer', (c) => c.references('datasets.id'))
      .addColumn('taxonomy_version', 'integer')
      .addColumn('checkpoint_path', 'text')
      .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('metrics', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await table('jobs')
      .addColumn('project_id', 'integer', (c) => c.references('projects.id'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('progress', float as 'real', (c) => c.notNull().defaultTo(0))
      .addColumn('message', 'text')
      .addColumn('result', 'text')
      .addColumn('error', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('owner', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('heartbeat_at', 'text')
      .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('jobs_status').on('jobs').columns(['status', 'id']).execute();

    await table('audit_events')
      .addColumn('project_id', 'integer', (c) => c.references('projects.id'))
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .execute();
  };
}
