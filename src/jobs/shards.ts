import { sql, type Selectable, type Updateable } from 'kysely';
import { CancelledError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { getModel } from '../store/models.ts';
import { modelInUse } from '../loop/incumbent.ts';
import { getProject } from '../store/projects.ts';
import type { JobShardsTable } from '../store/schema.ts';
import type { Encoder } from '../ssl/types.ts';
import { loadShard, planShards, type ShardPlan } from './shard-data.ts';
import { loadItemClassifier, writeShardSuggestions, type ItemClassifier, type SuggestPlan } from './suggest-shard.ts';
import { suggestionsFrom } from '../suggest/suggestions.ts';
import type { Conn } from '../store/tx.ts';

/**
 * Sharded jobs (cluster mode, PostgreSQL): a job's items are split into shards of consecutive item
 * ids; any number of runners lease shards with `FOR UPDATE SKIP LOCKED`, each lease expiring
 * unless renewed. A runner that dies stops renewing: once its lease expires another runner takes
 * the shard over and runs it again. A shard's output is written with an upsert keyed by
 * (model, item) in the same transaction that marks the shard done, so a shard run twice (a lease
 * taken over from a runner that was only slow) still leaves exactly one row per item.
 */

export type Shard = Selectable<JobShardsTable>;

/** A shard leased this many times without finishing fails its job (a shard that crashes every runner). */
export const MAX_SHARD_ATTEMPTS = 5;

export interface ShardOptions {
  /** Items per shard (default 2,000; TESSERA_SHARD_ITEMS). */
  shardItems?: number;
  /** A lease not renewed for this long is taken over (default 60 s; TESSERA_SHARD_LEASE_SECONDS). */
  leaseMs?: number;
  /** How often the coordinator looks again while other runners hold the last shards (ms). */
  pollMs?: number;
}

export function shardDefaults(env: NodeJS.ProcessEnv = process.env): Required<ShardOptions> {
  const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d);
  return {
    shardItems: Math.round(num(env.TESSERA_SHARD_ITEMS, 2000)),
    leaseMs: num(env.TESSERA_SHARD_LEASE_SECONDS, 60) * 1000,
    pollMs: 500,
  };
}

/** What a sharded job does with each shard (src/jobs/suggest-shard.ts for suggest). */
export type ShardJobPlan = EmbedPlan | SuggestPlan;

export interface EmbedPlan {
  kind: 'embed';
  projectId: number;
  modelId: number;
  checkpointPath: string;
  sampleRate: number | null;
  data: ShardPlan;
}

/**
 * Creates the shards of a job once (the plan row is the guard: a second coordinator, e.g. after
 * recovery, finds it and reuses the shards, keeping those already done).
 */
export async function ensureShards<P extends ShardJobPlan>(store: Store, jobId: number, make: () => Promise<{ plan: P; itemIds: number[] }>, shardItems: number): Promise<{ plan: P; created: boolean; shards: number; items: number }> {
  const existing = await store.db.selectFrom('job_shard_plans').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  if (existing) return { plan: parseJson(existing.plan, {} as P), created: false, shards: existing.shards, items: existing.items };
  const { plan, itemIds } = await make();
  const shards: Array<{ lo: number; hi: number; items: number }> = [];
  for (let i = 0; i < itemIds.length; i += shardItems) {
    const ids = itemIds.slice(i, i + shardItems);
    shards.push({ lo: ids[0], hi: ids[ids.length - 1], items: ids.length });
  }
  const created = await store.db.transaction().execute(async (trx) => {
    const ins = await trx
      .insertInto('job_shard_plans')
      .values({ job_id: jobId, plan: JSON.stringify(plan), shards: shards.length, items: itemIds.length, created_at: nowIso() })
      .onConflict((oc) => oc.column('job_id').doNothing())
      .returning('job_id')
      .executeTakeFirst();
    if (!ins) return false;
    for (let i = 0; i < shards.length; i += 1000) {
      await trx
        .insertInto('job_shards')
        .values(shards.slice(i, i + 1000).map((s, k) => ({ job_id: jobId, shard: i + k, lo: s.lo, hi: s.hi, items: s.items, status: 'pending' as const })))
        .execute();
    }
    return true;
  });
  if (!created) return ensureShards(store, jobId, make, shardItems);
  return { plan, created: true, shards: shards.length, items: itemIds.length };
}

/**
 * Leases the next shard that is pending, or whose lease has expired; undefined when none is
 * leasable now. Concurrent runners never get the same shard (row locks, SKIP LOCKED).
 */
export async function leaseShard(store: Store, jobId: number, owner: string, leaseMs: number): Promise<Shard | undefined> {
  const now = nowIso();
  const expires = new Date(Date.now() + leaseMs).toISOString();
  const leasable = store.db
    .selectFrom('job_shards')
    .select('shard')
    .where('job_id', '=', jobId)
    .where('attempts', '<', MAX_SHARD_ATTEMPTS)
    .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'leased'), eb('lease_expires_at', '<', now)])]))
    .orderBy('shard')
    .limit(1)
    .forUpdate()
    .skipLocked();
  // The lease and its line in the history in one statement: a runner killed right after taking a
  // lease is in the history too (two statements left a window the cluster test's kill could hit).
  const row = await store.db
    .updateTable('job_shards')
    .set((eb) => ({ status: 'leased', owner, lease_expires_at: expires, attempts: eb('attempts', '+', 1), owners: sql<string>`(${eb.ref('owners')}::jsonb || jsonb_build_array(${owner}::text))::text` }))
    .where('job_id', '=', jobId)
    .where('shard', '=', leasable)
    .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'leased'), eb('lease_expires_at', '<', now)])]))
    .returningAll()
    .executeTakeFirst();
  return row;
}

/** Extends a held lease; false when it was lost (expired and taken over, or the shard is done). */
export async function renewLease(store: Store, s: Shard, owner: string, leaseMs: number): Promise<boolean> {
  return updateHeldShard(store.db, s, owner, { lease_expires_at: new Date(Date.now() + leaseMs).toISOString() });
}

/** Updates a shard only while `owner` holds its lease; false when it lost it. */
async function updateHeldShard(conn: Conn, s: Shard, owner: string, set: Updateable<JobShardsTable>): Promise<boolean> {
  const r = await conn.updateTable('job_shards').set(set).where('job_id', '=', s.job_id).where('shard', '=', s.shard).where('owner', '=', owner).where('status', '=', 'leased').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Gives back every lease `owner` holds on a job (graceful shutdown, cancellation). */
export async function releaseLeases(store: Store, owner: string, jobId?: number): Promise<number> {
  let q = store.db.updateTable('job_shards').set({ status: 'pending', owner: null, lease_expires_at: null }).where('owner', '=', owner).where('status', '=', 'leased');
  if (jobId !== undefined) q = q.where('job_id', '=', jobId);
  return Number((await q.executeTakeFirst()).numUpdatedRows);
}

export async function shardCounts(store: Store, jobId: number): Promise<{ shards: number; done: number; items: number; doneItems: number; leased: number }> {
  const rows = await store.db
    .selectFrom('job_shards')
    .select(['status', (e) => e.fn.countAll<number>().as('n'), (e) => e.fn.sum<number>('items').as('items')])
    .where('job_id', '=', jobId)
    .groupBy('status')
    .execute();
  const out = { shards: 0, done: 0, items: 0, doneItems: 0, leased: 0 };
  for (const r of rows) {
    out.shards += Number(r.n);
    out.items += Number(r.items);
    if (r.status === 'done') {
      out.done += Number(r.n);
      out.doneItems += Number(r.items);
    }
    if (r.status === 'leased') out.leased += Number(r.n);
  }
  return out;
}

/** Whether helpers should keep working on a job: it is running and nobody asked it to stop. */
async function jobLive(store: Store, jobId: number): Promise<boolean> {
  const r = await store.db.selectFrom('jobs').select(['status', 'cancel_requested']).where('id', '=', jobId).executeTakeFirst();
  return r?.status === 'running' && r.cancel_requested !== 1;
}

// ---- the embed job, sharded ----

/**
 * Models loaded in this process (loading one costs far more than a shard): the two most recently
 * loaded are kept; an older one is disposed ten minutes later, when no shard of its can still run.
 */
class ModelCache<K, V extends { dispose(): void }> {
  readonly loaded = new Map<K, Promise<V>>();
  get(key: K, load: () => Promise<V>): Promise<V> {
    let v = this.loaded.get(key);
    if (!v) {
      v = load();
      this.loaded.set(key, v);
      v.catch(() => this.loaded.delete(key));
      while (this.loaded.size > 2) {
        const [oldest] = this.loaded.keys();
        const old = this.loaded.get(oldest)!;
        this.loaded.delete(oldest);
        setTimeout(() => void old.then((x) => x.dispose()).catch(() => {}), 10 * 60_000).unref();
      }
    }
    return v;
  }
}

/** Encoders by checkpoint path. */
const encoders = new ModelCache<string, Encoder>();
const encoderFor = (path: string) => encoders.get(path, () => import('../ssl/index.ts').then((m) => m.loadEncoder(path)));
/** Classifiers of the suggest job, by model id. */
// Keyed by store and model id: one process may hold several stores (tests, tools), whose model ids overlap.
const classifiers = new ModelCache<string, ItemClassifier>();
const classifierFor = (store: Store, projectId: number, modelId: number) =>
  classifiers.get(`${store.location}\u0000${modelId}`, () => getModel(store.db, projectId, modelId, 'classifier').then((m) => loadItemClassifier(store, m)));

/** Disposes every cached encoder (worker shutdown). */
export async function disposeEncoders(): Promise<void> {
  const all = [...encoders.loaded.values(), ...classifiers.loaded.values()];
  encoders.loaded.clear();
  classifiers.loaded.clear();
  for (const e of all) (await e.catch(() => undefined))?.dispose();
}

/** Hook for tests and benchmarks: runs before a shard's output is written (e.g. to slow a shard down). */
export const shardHooks: { beforeWrite?: (s: Shard) => Promise<void> } = {};

/**
 * Runs one leased embed shard: decode its items by the plan, embed, then in one transaction mark
 * the shard done and upsert the vectors — the mark first, and nothing written when this runner
 * no longer holds the lease (a late write after a partition or a pause changes no row).
 */
async function runEmbedShard(store: Store, plan: EmbedPlan, s: Shard, owner: string): Promise<{ items: number; held: boolean }> {
  const encoder = await encoderFor(plan.checkpointPath);
  const { itemIds, data } = await loadShard(store, plan.projectId, plan.data, s.lo, s.hi, plan.sampleRate ?? undefined);
  const vectors = itemIds.length ? await encoder.embed(data) : new Float32Array(0);
  const dim = encoder.dim;
  await shardHooks.beforeWrite?.(s);
  const held = await store.db.transaction().execute(async (trx) => {
    if (!(await markShardDone(trx, s, owner))) return false;
    for (let i = 0; i < itemIds.length; i += 1000) {
      const ids = itemIds.slice(i, i + 1000);
      await trx
        .insertInto('embeddings')
        .values(ids.map((item_id, k) => ({ model_id: plan.modelId, item_id, dim, vector: Buffer.from(vectors.buffer, vectors.byteOffset + (i + k) * dim * 4, dim * 4) })))
        .onConflict((oc) => oc.columns(['model_id', 'item_id']).doUpdateSet({ dim: (eb) => eb.ref('excluded.dim'), vector: (eb) => eb.ref('excluded.vector') }))
        .execute();
    }
    return true;
  });
  return { items: itemIds.length, held };
}

/** Marks a shard done if `owner` still holds its lease (inside the transaction that wrote its output); false if it lost it. */
const markShardDone = (conn: Conn, s: Shard, owner: string) => updateHeldShard(conn, s, owner, { status: 'done', done_at: nowIso(), done_by: owner, lease_expires_at: null });

// ---- the suggest job, sharded ----

/**
 * Runs one leased suggest shard: decode its items, predict them with the plan's classifier, then
 * in one labelling change write the suggestions of its undecided items and mark the shard done.
 */
async function runSuggestShard(store: Store, plan: SuggestPlan, s: Shard, owner: string): Promise<{ items: number; held: boolean }> {
  const r = await suggestRange(store, plan, s.lo, s.hi, () => shardHooks.beforeWrite?.(s), (conn) => markShardDone(conn, s, owner));
  return { items: r.items, held: r.held };
}

/**
 * Predicts the plan's items with ids lo..hi and writes their suggestions in one change that
 * `claim`s first (see writeShardSuggestions); the per-shard work of both the sharded and the
 * in-process suggest job.
 */
async function suggestRange(store: Store, plan: SuggestPlan, lo: number, hi: number, beforeWrite: () => Promise<void> | undefined, claim: (conn: Conn) => Promise<boolean>): Promise<{ items: number; written: number; held: boolean }> {
  const classifier = await classifierFor(store, plan.projectId, plan.modelId);
  const { itemIds, data } = await loadShard(store, plan.projectId, plan.data, lo, hi, plan.sampleRate ?? undefined);
  const entries = await suggestionsFrom({ id: plan.modelId, classes: classifier.classes, proba: (d: typeof data) => classifier.proba(d) }, { ids: itemIds, input: data });
  await beforeWrite();
  const { written, held } = await writeShardSuggestions(store, plan, entries, claim);
  return { items: itemIds.length, written, held };
}

/** The suggest job's plan: the project's items, the classifier (loaded here once, so a row the registry cannot read fails the job before any shard runs). */
async function planSuggest(store: Store, params: SuggestJobParams): Promise<{ plan: SuggestPlan; itemIds: number[] }> {
  const project = await getProject(store.db, params.project);
  // No id: the model in use — the newest the loop promoted; one it registered but did not promote never serves suggestions.
  const model = (params.model === undefined ? await modelInUse(store, project.id) : null) ?? (await getModel(store.db, project.id, params.model, 'classifier'));
  await classifierFor(store, project.id, model.id);
  const { projectModality } = await import('../ssl/data.ts');
  const { itemIds, plan: data } = await planShards(store, project.id, await projectModality(store, project.id));
  return { itemIds, plan: { kind: 'suggest', projectId: project.id, project: project.name, modelId: model.id, sampleRate: project.settings.sampleRate ?? null, data } };
}

/** Runs one leased shard of either kind, renewing its lease meanwhile. */
async function runShard(store: Store, plan: ShardJobPlan, s: Shard, owner: string, leaseMs: number): Promise<{ items: number; held: boolean }> {
  const renew = setInterval(() => void renewLease(store, s, owner, leaseMs).catch(() => {}), Math.max(250, leaseMs / 3));
  try {
    return await (plan.kind === 'suggest' ? runSuggestShard(store, plan, s, owner) : runEmbedShard(store, plan, s, owner));
  } finally {
    clearInterval(renew);
  }
}

/** Leases and runs shards of `jobId` until none is leasable; returns how many this runner ran. */
export async function workShards(store: Store, jobId: number, plan: ShardJobPlan, owner: string, opts: { leaseMs: number; signal?: AbortSignal; onShard?: (s: Shard, items: number) => void }): Promise<number> {
  let n = 0;
  for (;;) {
    if (opts.signal?.aborted) return n;
    if (!(await jobLive(store, jobId))) return n;
    const s = await leaseShard(store, jobId, owner, opts.leaseMs);
    if (!s) return n;
    const r = await runShard(store, plan, s, owner, opts.leaseMs);
    n++;
    opts.onShard?.(s, r.items);
  }
}

export interface EmbedJobParams {
  project: string;
  model?: number;
}

/**
 * The embed job as a cluster coordinator: plans the shards (once), asks other workers to help
 * (`askHelp(n)` sends n helper jobs), works shards itself, then waits for shards leased by others,
 * taking over any whose lease expires. Progress is the fraction of items in finished shards.
 */
export async function coordinateEmbed(
  store: Store,
  ctx: ShardCoordination<EmbedJobParams>,
  askHelp: (helpers: number) => Promise<void>,
  opts: ShardOptions = {},
): Promise<unknown> {
  const r = await coordinateShards(store, ctx, askHelp, opts, 'embed', async () => {
    const project = await getProject(store.db, ctx.params.project);
    const model = await getModel(store.db, project.id, ctx.params.model);
    const { projectModality } = await import('../ssl/data.ts');
    const modality = await projectModality(store, project.id);
    const { itemIds, plan: data } = await planShards(store, project.id, modality);
    return { itemIds, plan: { kind: 'embed' as const, projectId: project.id, modelId: model.id, checkpointPath: model.checkpointPath!, sampleRate: project.settings.sampleRate ?? null, data } };
  });
  const encoder = await encoderFor(r.plan.checkpointPath);
  return { model: r.plan.modelId, items: r.items, dim: encoder.dim, seconds: r.seconds, shards: r.shards, shardsByCoordinator: r.mine, shardsRerun: r.rerun, runners: r.runners, itemsPerSecond: r.items / r.seconds };
}

export interface SuggestJobParams {
  project: string;
  /** A classifier of the model registry; default the project's latest. */
  model?: number;
}

/**
 * The suggest job, sharded as embed: every item of the project is predicted by the classifier,
 * and every item without a final label gets (or has replaced) its suggestion — the predicted
 * label and its calibrated confidence, source `model:<id>`.
 */
export async function coordinateSuggest(
  store: Store,
  ctx: ShardCoordination<SuggestJobParams>,
  askHelp: (helpers: number) => Promise<void>,
  opts: ShardOptions = {},
): Promise<unknown> {
  const r = await coordinateShards(store, ctx, askHelp, opts, 'suggest', () => planSuggest(store, ctx.params));
  const suggested = await store.db.selectFrom('suggestions').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', r.plan.projectId).where('source', '=', `model:${r.plan.modelId}`).executeTakeFirstOrThrow();
  return { model: r.plan.modelId, items: r.items, suggested: Number(suggested.n), seconds: r.seconds, shards: r.shards, shardsByCoordinator: r.mine, shardsRerun: r.rerun, runners: r.runners, itemsPerSecond: r.items / r.seconds };
}

export interface ShardCoordination<P> {
  jobId: number;
  params: P;
  owner: string;
  signal: AbortSignal;
  progress(f: number | null, m?: string): void;
}

/** Plans (once), asks for help, works shards and waits for the others' (see coordinateEmbed). */
async function coordinateShards<P extends ShardJobPlan>(
  store: Store,
  ctx: ShardCoordination<unknown>,
  askHelp: (helpers: number) => Promise<void>,
  opts: ShardOptions,
  what: string,
  make: () => Promise<{ plan: P; itemIds: number[] }>,
): Promise<{ plan: P; items: number; shards: number; seconds: number; mine: number; rerun: number; runners: number }> {
  const o = { ...shardDefaults(), ...opts };
  const t0 = performance.now();
  const { plan, shards, items } = await ensureShards(store, ctx.jobId, make, o.shardItems);
  await askHelp(Math.min(shards - 1, 256));
  let mine = 0;
  const report = async () => {
    const c = await shardCounts(store, ctx.jobId);
    ctx.progress(c.items ? c.doneItems / c.items : 0, `${c.done}/${c.shards} shards (${c.doneItems.toLocaleString('en')} of ${c.items.toLocaleString('en')} items)`);
    return c;
  };
  for (;;) {
    if (ctx.signal.aborted) {
      await releaseLeases(store, ctx.owner, ctx.jobId);
      throw new CancelledError(`${what} job stopped`);
    }
    mine += await workShards(store, ctx.jobId, plan, ctx.owner, { leaseMs: o.leaseMs, signal: ctx.signal, onShard: () => void report().catch(() => {}) });
    const c = await report();
    if (c.done === c.shards) break;
    const stuck = await store.db
      .selectFrom('job_shards')
      .select(['shard', 'owners'])
      .where('job_id', '=', ctx.jobId)
      .where('status', '!=', 'done')
      .where('attempts', '>=', MAX_SHARD_ATTEMPTS)
      .where((eb) => eb.or([eb('status', '=', 'pending'), eb('lease_expires_at', '<', nowIso())]))
      .executeTakeFirst();
    if (stuck) throw new Error(`shard ${stuck.shard} of job ${ctx.jobId} did not finish after ${MAX_SHARD_ATTEMPTS} leases (runners: ${parseJson<string[]>(stuck.owners, []).join(', ')}); see those workers' logs`);
    if (ctx.signal.aborted) continue;
    await new Promise((res) => setTimeout(res, o.pollMs));
  }
  const stats = await store.db
    .selectFrom('job_shards')
    .select([(e) => e.fn.countAll<number>().as('n'), (e) => e.fn.max('attempts').as('maxAttempts'), (e) => e.fn.count<number>('done_by').distinct().as('runners')])
    .where('job_id', '=', ctx.jobId)
    .executeTakeFirstOrThrow();
  const rerun = await store.db.selectFrom('job_shards').select((e) => e.fn.countAll<number>().as('n')).where('job_id', '=', ctx.jobId).where('attempts', '>', 1).executeTakeFirstOrThrow();
  return { plan, items, shards, seconds: (performance.now() - t0) / 1000, mine, rerun: Number(rerun.n), runners: Number(stats.runners) };
}

/**
 * The suggest job without a cluster (SQLite, or no workers): the same plan and the same per-shard
 * work, shard after shard in this process — each shard's suggestions one change, as in cluster mode.
 */
export async function suggestInProcess(store: Store, params: SuggestJobParams, progress: (f: number | null, m?: string) => void, opts: ShardOptions = {}): Promise<unknown> {
  const o = { ...shardDefaults(), ...opts };
  const t0 = performance.now();
  const { plan, itemIds } = await planSuggest(store, params);
  let written = 0;
  for (let i = 0; i < itemIds.length; i += o.shardItems) {
    const ids = itemIds.slice(i, i + o.shardItems);
    written += (await suggestRange(store, plan, ids[0], ids[ids.length - 1], () => undefined, async () => true)).written;
    progress(Math.min(1, (i + ids.length) / itemIds.length), `${(i + ids.length).toLocaleString('en')} of ${itemIds.length.toLocaleString('en')} items`);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { model: plan.modelId, items: itemIds.length, suggested: written, seconds, shards: Math.ceil(itemIds.length / o.shardItems), itemsPerSecond: itemIds.length / seconds };
}
