import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Cluster mode (issue #8; src/jobs/cluster.ts, src/jobs/shards.ts):
 * - `job_shards`: a sharded job (embed) split into ranges of item ids. A shard is leased by one
 *   runner at a time (`owner`, `lease_expires_at`, renewed while it works); an expired lease is
 *   taken over by another runner, so a dead worker's shard is re-run. `attempts` counts leases.
 * - `job_shard_plans`: per sharded job, the corpus-wide decisions every shard must share
 *   (modality, tabular column types, image size), computed once by the job's coordinator.
 * - `job_dispatch`: the pg-boss job that carries each queued job to the workers (a worker re-sends
 *   a queued job whose pg-boss job is gone, e.g. one re-queued after its runner died).
 * - `workers`: live `tessera worker` processes (heartbeat) and the job types they serve, so a
 *   CLI command knows whether to hand its job to them or run it itself.
 */
export function up006(_dialect: Dialect) {
  return async (db: Kysely<any>) => {
    await db.schema
      .createTable('job_shards')
      .addColumn('job_id', 'integer', (c) => c.notNull().references('jobs.id'))
      .addColumn('shard', 'integer', (c) => c.notNull())
      .addColumn('lo', 'integer', (c) => c.notNull())
      .addColumn('hi', 'integer', (c) => c.notNull())
      .addColumn('items', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('owner', 'text')
      .addColumn('lease_expires_at', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('owners', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('done_at', 'text')
      .addColumn('done_by', 'text')
      .addPrimaryKeyConstraint('job_shards_pk', ['job_id', 'shard'])
      .execute();
    await db.schema.createIndex('job_shards_status').on('job_shards').columns(['job_id', 'status', 'lease_expires_at']).execute();
    await db.schema
      .createTable('job_shard_plans')
      .addColumn('job_id', 'integer', (c) => c.primaryKey().references('jobs.id'))
      .addColumn('plan', 'text', (c) => c.notNull())
      .addColumn('shards', 'integer', (c) => c.notNull())
      .addColumn('items', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('job_dispatch')
      .addColumn('job_id', 'integer', (c) => c.primaryKey().references('jobs.id'))
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('boss_id', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('workers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('queues', 'text', (c) => c.notNull())
      .addColumn('concurrency', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('heartbeat_at', 'text', (c) => c.notNull())
      .execute();
  };
}
