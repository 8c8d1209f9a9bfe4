import type PgBoss from 'pg-boss';
import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';

/** Job types that run through the cluster, each with its pg-boss queue `tessera-<type>`. */
export const CLUSTER_JOB_TYPES = ['import', 'pretrain', 'embed', 'probe', 'suggest', 'audit'] as const;
/** Helper jobs: "lend a hand with job N's shards". */
export const SHARDS_QUEUE = 'tessera-shards';

export function queueName(type: string): string {
  return `tessera-${type}`;
}

/**
 * pg-boss keeps its tables in a schema of its own: TESSERA_PGBOSS_SCHEMA, else `<store schema>_pgboss`
 * when TESSERA_DATABASE_SCHEMA is set (tests isolate themselves that way), else `pgboss`.
 */
export function bossSchema(store: Store, env: NodeJS.ProcessEnv = process.env): string {
  const name = env.TESSERA_PGBOSS_SCHEMA || (store.connection?.schema ? `${store.connection.schema}_pgboss` : 'pgboss');
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new UserError(`invalid pg-boss schema name "${name}" (expected [a-z_][a-z0-9_]*)`);
  return name;
}

/**
 * Row-level recovery (the jobs row's heartbeat, shard leases) is what notices a dead runner within
 * a minute; pg-boss's own expiry is the backstop for a job that nobody heartbeats any more. pg-boss
 * 10 cannot extend a running job's expiry, so it must outlast the longest job (max < 24 h).
 */
const EXPIRE_SECONDS = 23 * 3600;

/**
 * Starts a pg-boss client on the store's database (creating its schema on first use).
 * `supervise`: run pg-boss maintenance (expiry, archiving) — workers do, submitters need not.
 */
export async function openBoss(store: Store, opts: { supervise?: boolean; max?: number } = {}): Promise<PgBoss> {
  if (store.dialect !== 'postgres' || !store.connection) throw new UserError('cluster mode needs PostgreSQL: set TESSERA_DATABASE_URL=postgres://…');
  const { default: PgBossClass } = await import('pg-boss');
  const boss = new PgBossClass({
    connectionString: store.connection.url,
    schema: bossSchema(store),
    max: opts.max ?? 3,
    application_name: 'tessera-jobs',
    supervise: opts.supervise ?? false,
    schedule: false,
    migrate: true,
  });
  boss.on('error', (e) => process.stderr.write(`tessera: pg-boss: ${e.message}\n`));
  try {
    await retryTransient(() => boss.start());
  } catch (e) {
    await boss.stop({ graceful: false, wait: true }).catch(() => {});
    throw e;
  }
  return boss;
}

/**
 * Workers starting together on a fresh database race to install pg-boss and create its queues
 * (partition tables): PostgreSQL may abort one with a deadlock or a unique violation. Retry those.
 */
async function retryTransient<T>(fn: () => Promise<T>, tries = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (i >= tries || !(code === '40P01' || code === '40001' || code === '23505' || code === '42P07' || code === '42710')) throw e;
      await new Promise((res) => setTimeout(res, 100 * i + Math.random() * 200));
    }
  }
}

const ensured = new WeakSet<PgBoss>();

/** Creates the queues (idempotent: ON CONFLICT DO NOTHING inside pg-boss). */
export async function ensureQueues(boss: PgBoss): Promise<void> {
  if (ensured.has(boss)) return;
  for (const name of [...CLUSTER_JOB_TYPES.map(queueName), SHARDS_QUEUE]) {
    await retryTransient(() => boss.createQueue(name, { name, policy: 'standard', retryLimit: 5, retryDelay: 1, expireInSeconds: EXPIRE_SECONDS, retentionMinutes: 7 * 24 * 60 }));
  }
  ensured.add(boss);
}
