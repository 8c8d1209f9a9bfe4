import { hostname } from 'node:os';
import type PgBoss from 'pg-boss';
import { UserError, errorMessage } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { CLUSTER_JOB_TYPES, SHARDS_QUEUE, ensureQueues, openBoss, queueName } from './boss.ts';
import { executeJob } from './execute.ts';
import { JOB_KINDS, jobHandlers, kindHandler } from './handlers.ts';
import { checkJobParams } from './params.ts';
import { JobQueue, THIS_OWNER, processAlive, type Job } from './queue.ts';
import type { JobContext, JobHandler } from './types.ts';
import { coordinateEmbed, coordinateSuggest, disposeEncoders, releaseLeases, shardDefaults, workShards, type ShardCoordination, type ShardJobPlan, type ShardOptions } from './shards.ts';

/**
 * Cluster mode (PostgreSQL). The `jobs` row stays the source of truth (status, progress, result,
 * cancel flag) for `tessera jobs list` and everything else; pg-boss only carries "job N is
 * waiting" to `tessera worker` processes on any host:
 *
 *   submit:  INSERT jobs row (queued) → pg-boss job {jobId} on queue `tessera-<type>` (+ job_dispatch)
 *   worker:  fetch → claim the row (queued → running, atomic) → run the handler with heartbeats →
 *            finish the row → complete the pg-boss job. A worker that finds the row already
 *            claimed or finished completes the pg-boss job and moves on (duplicates are harmless).
 *   death:   every worker periodically re-queues rows whose runner stopped heartbeating (60 s;
 *            JobQueue.recover) and re-sends queued rows whose pg-boss job is gone; pg-boss's own
 *            expiry + retry is the backstop. Sharded jobs (embed) re-run only the dead runner's
 *            leased shards (src/jobs/shards.ts).
 */

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const WAITING_BOSS_STATES = new Set(['created', 'retry']);

export type Route = 'here' | 'workers';

/** A worker is live if it heartbeat within this long. */
const WORKER_LIVE_MS = 15_000;

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  startedAt: string;
  heartbeatAt: string;
}

export async function liveWorkers(store: Store, withinMs = WORKER_LIVE_MS): Promise<WorkerInfo[]> {
  if (store.dialect !== 'postgres') return [];
  const since = new Date(Date.now() - withinMs).toISOString();
  const rows = await store.db.selectFrom('workers').selectAll().where('heartbeat_at', '>', since).orderBy('id').execute();
  // A worker on this host whose process is gone (SIGKILL, crash) is dead now, not in 15 s.
  const host = hostname();
  return rows
    .filter((r) => r.host !== host || processAlive(r.pid))
    .map((r) => ({ id: r.id, host: r.host, pid: r.pid, queues: parseJson(r.queues, [] as string[]), concurrency: r.concurrency, startedAt: r.started_at, heartbeatAt: r.heartbeat_at }));
}

/**
 * Where a submitted job runs. SQLite: here, always. PostgreSQL: TESSERA_JOBS=here|workers forces
 * it; by default (auto) to the workers when a live worker serves the job's type, else here (so a
 * store without workers behaves as before, and a submitter never waits for nobody).
 */
export async function routeFor(store: Store, type: string, env: NodeJS.ProcessEnv = process.env): Promise<Route> {
  if (store.dialect !== 'postgres') return 'here';
  const mode = (env.TESSERA_JOBS ?? 'auto').toLowerCase();
  if (mode === 'here') return 'here';
  if (!(CLUSTER_JOB_TYPES as readonly string[]).includes(type)) return 'here';
  if (mode === 'workers') return 'workers';
  if (mode !== 'auto') throw new UserError(`TESSERA_JOBS expects auto|here|workers, got "${env.TESSERA_JOBS}"`);
  return (await liveWorkers(store)).some((w) => w.queues.includes(type)) ? 'workers' : 'here';
}

/** Sends the pg-boss job that carries job `id` to the workers, and records it. */
export async function dispatch(store: Store, boss: PgBoss, job: Pick<Job, 'id' | 'type'>): Promise<string> {
  await ensureQueues(boss);
  const queue = queueName(job.type);
  const bossId = await boss.send(queue, { jobId: job.id });
  if (!bossId) throw new Error(`pg-boss refused job ${job.id}`);
  await store.db
    .insertInto('job_dispatch')
    .values({ job_id: job.id, queue, boss_id: bossId, sent_at: nowIso() })
    .onConflict((oc) => oc.column('job_id').doUpdateSet({ queue, boss_id: bossId, sent_at: nowIso() }))
    .execute();
  return bossId;
}

/** Enqueues a job for the workers: the jobs row, then its pg-boss job. Returns the queued job. */
export async function submitToWorkers(store: Store, type: string, params: object, projectId: number | null, boss?: PgBoss): Promise<Job> {
  if (!(CLUSTER_JOB_TYPES as readonly string[]).includes(type)) throw new UserError(`job type "${type}" cannot run on workers (known: ${CLUSTER_JOB_TYPES.join(', ')})`);
  checkJobParams(type, params);
  const queue = new JobQueue(store);
  const own = !boss;
  const b = boss ?? (await openBoss(store));
  try {
    const job = await queue.enqueue(type, params, projectId);
    await dispatch(store, b, job);
    return job;
  } finally {
    if (own) await b.stop({ graceful: false, wait: true });
  }
}

/**
 * Polls a job's row until it finishes, reporting progress; resolves with the finished job.
 * `orphaned()` runs when the job has stayed queued for `orphanMs` with no live worker serving its
 * type (they all stopped since it was submitted); it may run the job itself.
 */
export async function waitForJob(store: Store, id: number, onProgress?: (job: Job, fraction: number | null, message?: string) => void, pollMs = 500, orphaned?: () => Promise<void>, orphanMs = 5000): Promise<Job> {
  const queue = new JobQueue(store);
  let last = '';
  let queuedSince = Date.now();
  for (;;) {
    let job = await queue.get(id);
    if (job.status !== 'queued') queuedSince = Date.now();
    else if (orphaned && Date.now() - queuedSince > orphanMs) {
      queuedSince = Date.now();
      if (!(await liveWorkers(store)).some((w) => w.queues.includes(job.type))) {
        await orphaned();
        job = await queue.get(id);
      }
    }
    const key = `${job.status}|${job.progress}|${job.message}`;
    if (key !== last && job.status === 'running') onProgress?.(job, job.progress, job.message ?? undefined);
    last = key;
    if (TERMINAL.has(job.status)) return job;
    await new Promise((res) => setTimeout(res, pollMs));
  }
}

export interface WorkerOptions {
  /** Jobs (and shard helpers) run at once in this process (default 1). */
  concurrency?: number;
  /** Job types served (default: all). */
  queues?: string[];
  /** How often an idle slot asks pg-boss for work (ms, default 500). */
  pollMs?: number;
  heartbeatMs?: number;
  /** A running job silent this long is presumed dead and re-queued (default 60 s; TESSERA_JOB_STALE_SECONDS). */
  staleMs?: number;
  /** How often this worker looks for dead runners and undelivered jobs (default 10 s; TESSERA_RECOVER_SECONDS). */
  recoverMs?: number;
  /** Shard lease (default 60 s; TESSERA_SHARD_LEASE_SECONDS) and size (TESSERA_SHARD_ITEMS). */
  leaseMs?: number;
  shardItems?: number;
  owner?: string;
  log?: (line: string) => void;
}

type Slot = { controller: AbortController; what: string; reason?: 'shutdown' | 'cancel' };

/**
 * `tessera worker`: takes jobs from pg-boss and runs them against the shared store. Several
 * workers on several hosts share the queues; an embed job is sharded across all of them.
 */
export class ClusterWorker {
  readonly owner: string;
  private readonly o: Required<Omit<WorkerOptions, 'owner' | 'log'>>;
  private readonly queue: JobQueue;
  private readonly handlers: Record<string, JobHandler>;
  private boss?: PgBoss;
  private stopping = false;
  private slots: Promise<void>[] = [];
  private readonly running = new Set<Slot>();
  private timers: NodeJS.Timeout[] = [];
  private wakers = new Set<() => void>();
  private readonly log: (line: string) => void;
  /** Counters, for tests and `--json` summaries. */
  readonly stats = { jobs: 0, shardHelps: 0, shards: 0, skipped: 0, recovered: 0, redispatched: 0 };

  constructor(
    private readonly store: Store,
    opts: WorkerOptions = {},
  ) {
    const env = process.env;
    const sec = (v: string | undefined) => (v && Number(v) > 0 ? Number(v) * 1000 : undefined);
    const d = shardDefaults(env);
    this.o = {
      concurrency: Math.max(1, opts.concurrency ?? 1),
      queues: opts.queues ?? [...CLUSTER_JOB_TYPES],
      pollMs: opts.pollMs ?? 500,
      heartbeatMs: opts.heartbeatMs ?? 1000,
      staleMs: opts.staleMs ?? sec(env.TESSERA_JOB_STALE_SECONDS) ?? 60_000,
      recoverMs: opts.recoverMs ?? sec(env.TESSERA_RECOVER_SECONDS) ?? 10_000,
      leaseMs: opts.leaseMs ?? d.leaseMs,
      shardItems: opts.shardItems ?? d.shardItems,
    };
    for (const q of this.o.queues) if (!(CLUSTER_JOB_TYPES as readonly string[]).includes(q)) throw new UserError(`unknown queue "${q}" (known: ${CLUSTER_JOB_TYPES.join(', ')})`);
    this.owner = opts.owner ?? THIS_OWNER;
    this.log = opts.log ?? ((l) => process.stderr.write(`tessera worker: ${l}\n`));
    this.queue = new JobQueue(store);
    // Embed and suggest are sharded across the workers: this one coordinates, the others help.
    this.handlers = {
      ...jobHandlers(store),
      embed: kindHandler(store, 'embed', JOB_KINDS.embed, (_s, params, ctx) => this.sharded(coordinateEmbed, params, ctx)),
      suggest: kindHandler(store, 'suggest', JOB_KINDS.suggest, (_s, params, ctx) => this.sharded(coordinateSuggest, params, ctx)),
    };
  }

  async start(): Promise<void> {
    if (this.store.dialect !== 'postgres') throw new UserError('`tessera worker` needs the PostgreSQL store: set TESSERA_DATABASE_URL=postgres://… (SQLite runs jobs in-process)');
    this.boss = await openBoss(this.store, { supervise: true, max: 2 + this.o.concurrency });
    try {
      await ensureQueues(this.boss);
      await this.beat();
    } catch (e) {
      await this.boss.stop({ graceful: false, wait: true }).catch(() => {});
      throw e;
    }
    this.timers.push(setInterval(() => void this.beat().catch((e) => this.log(`heartbeat: ${errorMessage(e)}`)), 5000));
    this.timers.push(setInterval(() => void this.recover().catch((e) => this.log(`recovery: ${errorMessage(e)}`)), this.o.recoverMs));
    void this.recover().catch((e) => this.log(`recovery: ${errorMessage(e)}`));
    for (let i = 0; i < this.o.concurrency; i++) this.slots.push(this.slotLoop(i));
    this.log(`${this.owner} serving ${this.o.queues.join(', ')} with concurrency ${this.o.concurrency} on ${this.store.location}`);
  }

  /**
   * Stops taking work; waits up to `graceMs` for running jobs, then stops them and hands them back
   * (the row re-queued, the pg-boss job failed so pg-boss retries it elsewhere, shard leases released).
   */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const w of this.wakers) w();
    const all = Promise.all(this.slots);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((res) => (timer = setTimeout(() => res(true), graceMs)))]);
    clearTimeout(timer);
    if (timedOut) {
      this.log(`stopping ${this.running.size} running job(s) after ${graceMs / 1000} s; they go back to the queue`);
      for (const s of this.running) {
        s.reason = 'shutdown';
        s.controller.abort();
      }
      await releaseLeases(this.store, this.owner).catch(() => 0);
      await all;
    }
    for (const t of this.timers) clearInterval(t);
    await releaseLeases(this.store, this.owner).catch(() => 0);
    await this.store.db.deleteFrom('workers').where('id', '=', this.owner).execute().catch(() => {});
    await this.boss?.stop({ graceful: false, wait: true });
    await disposeEncoders();
  }

  private async beat(): Promise<void> {
    const now = nowIso();
    await this.store.db
      .insertInto('workers')
      .values({ id: this.owner, host: hostname(), pid: process.pid, queues: JSON.stringify(this.o.queues), concurrency: this.o.concurrency, started_at: now, heartbeat_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now, queues: JSON.stringify(this.o.queues), concurrency: this.o.concurrency }))
      .execute();
  }

  /** Re-queues jobs whose runner died and re-sends queued jobs that no pg-boss job carries. */
  async recover(): Promise<void> {
    if (this.stopping || !this.boss) return;
    const ids = await this.queue.recover(this.o.staleMs);
    if (ids.length) {
      this.stats.recovered += ids.length;
      this.log(`re-queued job(s) ${ids.join(', ')}: their runner stopped heartbeating`);
      const types = await this.store.db.selectFrom('jobs').select(['id', 'type']).where('id', 'in', ids).execute();
      for (const j of types) if ((CLUSTER_JOB_TYPES as readonly string[]).includes(j.type)) await dispatch(this.store, this.boss, j);
    }
    const before = new Date(Date.now() - 2000).toISOString();
    const queued = await this.store.db
      .selectFrom('jobs')
      .leftJoin('job_dispatch', 'job_dispatch.job_id', 'jobs.id')
      .select(['jobs.id', 'jobs.type', 'job_dispatch.queue', 'job_dispatch.boss_id'])
      .where('jobs.status', '=', 'queued')
      .where('jobs.type', 'in', this.o.queues)
      .where('jobs.created_at', '<', before)
      .orderBy('jobs.id')
      .limit(100)
      .execute();
    for (const q of queued) {
      if (q.boss_id && q.queue) {
        // Waiting in pg-boss, or fetched moments ago by a worker about to claim it: leave it. A
        // pg-boss job active for longer while its row is still queued lost its worker.
        const b = await this.boss.getJobById(q.queue, q.boss_id);
        if (b && (WAITING_BOSS_STATES.has(b.state) || (b.state === 'active' && Date.now() - new Date(b.startedOn).getTime() < 10_000))) continue;
      }
      await dispatch(this.store, this.boss, { id: q.id, type: q.type });
      this.stats.redispatched++;
    }
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((res) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wakers.delete(done);
        res();
      }
      this.wakers.add(done);
    });
  }

  private async slotLoop(slot: number): Promise<void> {
    // Shard helpers first: they finish jobs already running.
    const names = [SHARDS_QUEUE, ...this.o.queues.map(queueName)].filter((n) => n !== SHARDS_QUEUE || this.o.queues.includes('embed') || this.o.queues.includes('suggest'));
    let turn = slot;
    while (!this.stopping) {
      let got: { name: string; job: PgBoss.Job<{ jobId: number }> } | undefined;
      try {
        for (let k = 0; k < names.length && !got; k++) {
          const name = k === 0 ? names[0] : names[1 + ((turn + k - 1) % (names.length - 1))];
          const [job] = await this.boss!.fetch<{ jobId: number }>(name, { batchSize: 1 });
          if (job) got = { name, job };
        }
      } catch (e) {
        this.log(`fetch: ${errorMessage(e)}`);
      }
      turn++;
      if (!got) {
        await this.sleep(this.o.pollMs);
        continue;
      }
      await this.handle(got.name, got.job).catch((e) => this.log(`job ${got.job.data?.jobId}: ${errorMessage(e)}`));
    }
  }

  private async handle(name: string, bj: PgBoss.Job<{ jobId: number }>): Promise<void> {
    const jobId = Number(bj.data?.jobId);
    if (name === SHARDS_QUEUE) return this.help(bj, jobId);
    const slot: Slot = { controller: new AbortController(), what: `job ${jobId}` };
    this.running.add(slot);
    try {
      let outcome: string;
      try {
        outcome = await this.runJob(jobId, slot);
      } catch (e) {
        // Bookkeeping failed (e.g. the database went away): give the job back for a retry.
        this.log(`job ${jobId}: ${errorMessage(e)}`);
        await this.handBack(jobId, `re-queued: ${errorMessage(e)}`).catch(() => {});
        outcome = 'handed-back';
      }
      if (outcome === 'handed-back') await this.boss!.fail(name, bj.id, { handedBack: true, by: this.owner });
      else await this.boss!.complete(name, bj.id, { outcome, by: this.owner });
    } finally {
      this.running.delete(slot);
    }
  }

  /** Puts a job this worker runs back in the queue, for another runner. */
  private async handBack(jobId: number, message: string): Promise<void> {
    await this.store.db.updateTable('jobs').set({ status: 'queued', owner: null, message }).where('id', '=', jobId).where('status', '=', 'running').where('owner', '=', this.owner).execute();
  }

  /** Claims and runs one job row; what happened to it, for the pg-boss job's output. */
  private async runJob(jobId: number, slot: Slot): Promise<string> {
    let job: Job;
    try {
      job = await this.queue.get(jobId);
    } catch {
      return 'missing';
    }
    if (TERMINAL.has(job.status)) {
      this.stats.skipped++;
      return `already ${job.status}`;
    }
    if (job.status === 'running') {
      // Its runner is alive (or will be found dead by recovery, which re-sends it).
      this.stats.skipped++;
      return `running on ${job.owner}`;
    }
    if (!(await this.queue.claim(jobId, this.owner))) {
      this.stats.skipped++;
      return 'claimed elsewhere';
    }
    job = await this.queue.get(jobId);
    const handler = this.handlers[job.type];
    if (!handler || !this.o.queues.includes(job.type)) {
      await this.queue.finish(jobId, 'failed', { error: `no handler for job type "${job.type}" on worker ${this.owner}` });
      return 'failed';
    }
    this.stats.jobs++;
    this.log(`job ${jobId} (${job.type}) started`);
    const t0 = performance.now();
    const outcome = await executeJob(this.queue, job, handler, {
      controller: slot.controller,
      heartbeatMs: this.o.heartbeatMs,
      onCancelRequested: () => {
        if (slot.controller.signal.aborted) return;
        slot.reason = 'cancel';
        slot.controller.abort();
      },
      interrupted: () => slot.reason === 'shutdown',
    });
    if (outcome.status === 'succeeded') {
      this.log(`job ${jobId} (${job.type}) succeeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return 'succeeded';
    }
    if (outcome.status === 'interrupted') {
      await this.handBack(jobId, `re-queued: worker ${this.owner} stopped`);
      this.log(`job ${jobId} handed back`);
      return 'handed-back';
    }
    this.log(`job ${jobId} (${job.type}) ${outcome.status === 'cancelled' ? 'cancelled' : `failed: ${errorMessage(outcome.error)}`}`);
    return outcome.status;
  }

  /** A sharded job (embed, suggest): this worker coordinates it and asks the others for help. */
  private sharded<P>(
    coordinate: (store: Store, ctx: ShardCoordination<P>, askHelp: (n: number) => Promise<void>, opts: ShardOptions) => Promise<unknown>,
    params: P,
    { job, signal, progress }: JobContext,
  ): Promise<unknown> {
    return coordinate(
      this.store,
      { jobId: job.id, params, owner: this.owner, signal, progress },
      async (n) => {
        for (let i = 0; i < n; i++) await this.boss!.send(SHARDS_QUEUE, { jobId: job.id });
      },
      { leaseMs: this.o.leaseMs, shardItems: this.o.shardItems },
    );
  }

  /** A shard helper: lease and run shards of the job until none is left to lease. */
  private async help(bj: PgBoss.Job<{ jobId: number }>, jobId: number): Promise<void> {
    const slot: Slot = { controller: new AbortController(), what: `shards of job ${jobId}` };
    this.running.add(slot);
    try {
      const planRow = await this.store.db.selectFrom('job_shard_plans').select('plan').where('job_id', '=', jobId).executeTakeFirst();
      let n = 0;
      if (planRow) {
        const plan = parseJson(planRow.plan, {} as ShardJobPlan);
        n = await workShards(this.store, jobId, plan, this.owner, { leaseMs: this.o.leaseMs, signal: slot.controller.signal });
        if (n) {
          this.stats.shardHelps++;
          this.stats.shards += n;
        }
      }
      if (slot.reason === 'shutdown') await this.boss!.fail(SHARDS_QUEUE, bj.id, { handedBack: true });
      else await this.boss!.complete(SHARDS_QUEUE, bj.id, { shards: n, by: this.owner });
    } catch (e) {
      this.log(`shards of job ${jobId}: ${errorMessage(e)}`);
      await this.boss!.fail(SHARDS_QUEUE, bj.id, { error: errorMessage(e) }).catch(() => {});
    } finally {
      this.running.delete(slot);
    }
  }
}
