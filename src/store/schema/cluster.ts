import type { Generated } from 'kysely';
import type { Json } from './columns.ts';

// Cluster mode (migration 006; src/jobs/cluster.ts, src/jobs/shards.ts).

export type ShardStatus = 'pending' | 'leased' | 'done';

export interface JobShardsTable {
  job_id: number;
  shard: number;
  /** First and last item id of the shard (inclusive). */
  lo: number;
  hi: number;
  items: number;
  status: ShardStatus;
  owner: string | null;
  lease_expires_at: string | null;
  attempts: Generated<number>;
  /** JSON array of every runner that leased the shard, in order. */
  owners: Generated<Json>;
  done_at: string | null;
  done_by: string | null;
}

export interface JobShardPlansTable {
  job_id: number;
  plan: Json;
  shards: number;
  items: number;
  created_at: string;
}

export interface JobDispatchTable {
  job_id: number;
  queue: string;
  boss_id: string;
  sent_at: string;
}

export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  /** JSON array of the job types the worker serves. */
  queues: Json;
  concurrency: number;
  started_at: string;
  heartbeat_at: string;
}

export interface ClusterTables {
  job_shards: JobShardsTable;
  job_shard_plans: JobShardPlansTable;
  job_dispatch: JobDispatchTable;
  workers: WorkersTable;
}
