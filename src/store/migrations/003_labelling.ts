import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Governed labelling (src/label/, src/server/): per-project labelling settings, the labelling
 * state of each item (round, priority, final label with provenance), assignments with leases,
 * gold items, suggestions, the review queue, API tokens (hashed) and webhooks with their
 * delivery outbox. Annotations gain the round they belong to and the assignment they answer.
 */
export function up003(dialect: Dialect) {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  const float = (dialect === 'postgres' ? 'double precision' : 'real') as 'real';
  return async (db: Kysely<any>) => {
    const table = (name: string) =>
      db.schema.createTable(name).addColumn('id', id as 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()));

    await db.schema
      .createTable('label_settings')
      .addColumn('project_id', 'integer', (c) => c.primaryKey().references('projects.id'))
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('label_items')
      .addColumn('item_id', 'integer', (c) => c.primaryKey().references('items.id'))
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('round', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('priority', float)
      .addColumn('final_labels', 'text')
      .addColumn('final_source', 'text')
      .addColumn('final_confidence', float)
      .addColumn('final_taxonomy_version', 'integer')
      .addColumn('final_provenance', 'text')
      .addColumn('decided_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('label_items_queue').on('label_items').columns(['project_id', 'status', 'priority']).execute();

    await table('assignments')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('item_id', 'integer', (c) => c.notNull().references('items.id'))
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('round', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('gold', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('taxonomy_version', 'integer', (c) => c.notNull())
      .addColumn('suggestion', 'text')
      .addColumn('leased_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('closed_at', 'text')
      .addColumn('annotation_id', 'integer')
      // An item is never served twice to the same annotator within a labelling round.
      .addUniqueConstraint('assignments_once', ['item_id', 'user_id', 'round'])
      .execute();
    await db.schema.createIndex('assignments_item_round').on('assignments').columns(['item_id', 'round', 'status']).execute();
    await db.schema.createIndex('assignments_user').on('assignments').columns(['project_id', 'user_id', 'status']).execute();

    await db.schema.alterTable('annotations').addColumn('round', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('annotations').addColumn('assignment_id', 'integer').execute();
    await db.schema.alterTable('annotations').addColumn('comment', 'text').execute();
    await db.schema.createIndex('annotations_user').on('annotations').columns(['project_id', 'user_id']).execute();

    await db.schema
      .createTable('gold_items')
      .addColumn('item_id', 'integer', (c) => c.primaryKey().references('items.id'))
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('gold_items_project').on('gold_items').columns(['project_id', 'item_id']).execute();

    await db.schema
      .createTable('suggestions')
      .addColumn('item_id', 'integer', (c) => c.primaryKey().references('items.id'))
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('confidence', float)
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await table('review_queue')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('item_id', 'integer', (c) => c.notNull().references('items.id'))
      .addColumn('round', 'integer', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('proposal', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('closed_at', 'text')
      .addColumn('review_id', 'integer', (c) => c.references('reviews.id'))
      .execute();
    await db.schema.createIndex('review_queue_open').on('review_queue').columns(['project_id', 'status', 'id']).execute();
    await db.schema.createIndex('review_queue_item').on('review_queue').columns(['item_id', 'status']).execute();

    await table('api_tokens')
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_used_at', 'text')
      .addColumn('revoked_at', 'text')
      .execute();

    await table('webhooks')
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();

    await table('webhook_deliveries')
      .addColumn('webhook_id', 'integer', (c) => c.notNull().references('webhooks.id'))
      .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'text', (c) => c.notNull())
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('delivered_at', 'text')
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  };
}
