/**
 * Cluster mode (PostgreSQL only): `tessera worker` child processes take jobs through pg-boss, an
 * embed job is sharded across them, and killing a worker with SIGKILL mid-job loses nothing.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { submitToWorkers, routeFor, liveWorkers, waitForJob } from '../../src/jobs/cluster.ts';
import { leaseShard, renewLease, ensureShards, type EmbedPlan } from '../../src/jobs/shards.ts';
import { JobQueue } from '../../src/jobs/queue.ts';
import { bossSchema } from '../../src/jobs/boss.ts';
import { readEmbeddings } from '../../src/store/models.ts';
import { parseJson } from '../../src/core/json.ts';
import { freshStore, PG_URL, type TestStore } from '../helpers/stores.ts';
import { smallClassifier, smallEncoder, startWorker, tabularProject, type WorkerProcess } from './cluster-fixture.ts';
import { loadItemClassifier } from '../../src/jobs/suggest-shard.ts';
import { loadModalityData } from '../../src/ssl/data.ts';
import { getModel } from '../../src/store/models.ts';

/** 50,000 keeps the file under 90 s on a busy 2-core machine; TESSERA_CLUSTER_TEST_ITEMS=100000 for the full size (bench/cluster-embed.ts runs 100,000 too). */
const N = Number(process.env.TESSERA_CLUSTER_TEST_ITEMS ?? 50_000);
const SHARD = 2000;
/** The second scenario (the CLI, a killed coordinator) runs on a smaller project. */
const SMALL = 20_000;
const ROOT = resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 25): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

describe('cluster mode: pg-boss workers, sharded embedding (postgres)', () => {
  let t: TestStore;
  let projectId: number;
  let modelId: number;
  const small = { projectId: 0, modelId: 0, dir: '' };
  let env: Record<string, string>;
  const workers: WorkerProcess[] = [];

  before(async () => {
    t = await freshStore('postgres');
    const t0 = performance.now();
    projectId = (await tabularProject(t.store, 'rows', N)).projectId;
    modelId = (await smallEncoder(t.store, projectId)).modelId;
    small.projectId = (await tabularProject(t.store, 'small', SMALL, 2)).projectId;
    const smallEnc = await smallEncoder(t.store, small.projectId);
    small.modelId = smallEnc.modelId;
    small.dir = smallEnc.dir;
    process.stderr.write(`cluster test: set-up (import ${N} + ${SMALL} rows, 2 encoders) ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    env = {
      ...t.env,
      TESSERA_SHARD_ITEMS: String(SHARD),
      TESSERA_SHARD_LEASE_SECONDS: '3',
      TESSERA_JOB_STALE_SECONDS: '3',
      TESSERA_RECOVER_SECONDS: '1',
      TESSERA_TEST_SHARD_DELAY_MS: '200',
    };
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    const schema = bossSchema(t.store);
    await t.cleanup();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });

  async function spawnWorkers(n: number): Promise<WorkerProcess[]> {
    const started = Array.from({ length: n }, () => startWorker(env, ['--concurrency', '1']));
    workers.push(...started);
    for (const w of started) w.owner = `${hostname()}:${w.pid}`;
    await until('workers to register', async () => {
      const live = await liveWorkers(t.store);
      if (started.some((w) => w.child.exitCode !== null)) throw new Error(`a worker exited:\n${started.map((w) => w.log.join('\n')).join('\n')}`);
      return started.every((w) => live.some((l) => l.id === w.owner));
    }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${started.map((w) => `${w.owner}:\n${w.log.join('\n')}`).join('\n')}`);
    });
    return started;
  }

  async function embeddingCounts(p = { projectId, modelId }) {
    const { projectId, modelId } = p;
    const r = await t.store.db
      .selectFrom('embeddings')
      .select([(e) => e.fn.countAll<number>().as('rows'), (e) => e.fn.count<number>('item_id').distinct().as('items')])
      .where('model_id', '=', modelId)
      .executeTakeFirstOrThrow();
    const missing = await t.store.db
      .selectFrom('items')
      .leftJoin('embeddings', (j) => j.onRef('embeddings.item_id', '=', 'items.id').on('embeddings.model_id', '=', modelId))
      .select((e) => e.fn.countAll<number>().as('n'))
      .where('items.project_id', '=', projectId)
      .where('embeddings.item_id', 'is', null)
      .executeTakeFirstOrThrow();
    return { rows: Number(r.rows), items: Number(r.items), missing: Number(missing.n) };
  }

  test('without live workers a job runs where it is submitted; TESSERA_JOBS forces either way', async () => {
    assert.equal(await routeFor(t.store, 'embed', {}), 'here');
    assert.equal(await routeFor(t.store, 'embed', { TESSERA_JOBS: 'workers' }), 'workers');
    assert.equal(await routeFor(t.store, 'embed', { TESSERA_JOBS: 'here' }), 'here');
    assert.equal(await routeFor(t.store, 'some-local-type', { TESSERA_JOBS: 'workers' }), 'here');
  });

  test('shard leases: never the same shard twice at once; an expired lease is taken over', async () => {
    const queue = new JobQueue(t.store);
    const job = await queue.enqueue('embed-lease-test', {}, projectId);
    await queue.claim(job.id, 'test');
    const plan = { kind: 'embed', projectId, modelId, checkpointPath: '', sampleRate: null, data: { modality: 'text' } } as EmbedPlan;
    const ids = Array.from({ length: 10 }, (_, i) => i + 1);
    await ensureShards(t.store, job.id, async () => ({ plan, itemIds: ids }), 2); // 5 shards
    const leased = await Promise.all(Array.from({ length: 8 }, (_, i) => leaseShard(t.store, job.id, `r${i}`, 60_000)));
    const got = leased.filter((s) => s !== undefined).map((s) => s!.shard);
    assert.deepEqual([...got].sort(), [0, 1, 2, 3, 4], 'each of the 5 shards leased exactly once by 8 concurrent runners');
    assert.equal(await leaseShard(t.store, job.id, 'late', 60_000), undefined);
    const short = await leaseShard(t.store, (await queue.enqueue('x', {}, null)).id, 'none', 1);
    assert.equal(short, undefined, 'a job without shards has nothing to lease');
    // Expire shard 0's lease by hand: the next runner takes it over, the old holder can no longer renew.
    const holder = leased.find((s) => s?.shard === 0)!;
    await t.store.db.updateTable('job_shards').set({ lease_expires_at: new Date(Date.now() - 1000).toISOString() }).where('job_id', '=', job.id).where('shard', '=', 0).execute();
    const taken = await leaseShard(t.store, job.id, 'rescuer', 60_000);
    assert.equal(taken?.shard, 0);
    assert.equal(taken?.attempts, 2);
    assert.deepEqual(parseJson(taken!.owners, []), [holder.owner, 'rescuer']);
    assert.equal(await renewLease(t.store, holder, holder.owner!, 60_000), false);
  });

  test(`two workers share an embed job over ${N.toLocaleString('en')} items; SIGKILL of one mid-shard loses nothing`, async () => {
    const [a, b] = await spawnWorkers(2);
    assert.equal(await routeFor(t.store, 'embed', {}), 'workers', 'live workers serve embed');
    const t0 = performance.now();
    const job = await submitToWorkers(t.store, 'embed', { project: 'rows', model: modelId }, projectId);

    // The coordinator is whichever worker claimed the job; kill the other one once it has finished
    // a shard and holds a lease (it is inside the 200 ms delay before writing that shard).
    const coordinator = await until('a worker to claim the job', async () => (await new JobQueue(t.store).get(job.id)).owner ?? undefined);
    const victim = coordinator === a.owner ? b : a;
    const survivor = victim === a ? b : a;
    const held = await until(
      'the helper to finish a shard and hold a lease',
      async () => {
        const rows = await t.store.db.selectFrom('job_shards').select(['shard', 'status', 'owner', 'done_by']).where('job_id', '=', job.id).execute();
        const done = rows.filter((r) => r.done_by === victim.owner).length;
        const leased = rows.filter((r) => r.status === 'leased' && r.owner === victim.owner).map((r) => r.shard);
        const all = rows.filter((r) => r.status === 'done').length;
        // Midway: at least 40% of the shards done, one of them by the victim, which holds a lease now.
        return all >= 0.4 * rows.length && done >= 1 && leased.length >= 1 ? { done, leased } : undefined;
      },
      60_000,
      10,
    );
    victim.child.kill('SIGKILL');
    await victim.exited;
    const doneAtKill = await t.store.db.selectFrom('job_shards').select(['shard', 'attempts', 'done_by']).where('job_id', '=', job.id).where('status', '=', 'done').execute();
    // What the dead worker held (it cannot change any more; read again in case it finished one between look and kill).
    const heldAtDeath = (await t.store.db.selectFrom('job_shards').select('shard').where('job_id', '=', job.id).where('status', '=', 'leased').where('owner', '=', victim.owner).execute()).map((r) => r.shard);
    assert.ok(heldAtDeath.length >= 1, `the killed worker held a lease (seen: ${held.leased.join(', ')})`);

    const finished = await waitForJob(t.store, job.id);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(finished.status, 'succeeded', finished.error ?? '');
    assert.equal(finished.progress, 1);
    const result = finished.result as { items: number; shards: number; shardsRerun: number; runners: number };
    assert.equal(result.items, N);
    assert.equal(result.shards, Math.ceil(N / SHARD));

    // Every item has exactly one embedding row (PK (model, item) + none missing).
    assert.deepEqual(await embeddingCounts(), { rows: N, items: N, missing: 0 });
    // Every shard done; the shard(s) the killed worker held were re-run by the survivor.
    const shards = await t.store.db.selectFrom('job_shards').selectAll().where('job_id', '=', job.id).orderBy('shard').execute();
    assert.ok(shards.every((s) => s.status === 'done'));
    assert.equal(
      shards.reduce((n, s) => n + s.items, 0),
      N,
    );
    for (const k of heldAtDeath) {
      const s = shards[k];
      assert.equal(s.done_by, survivor.owner, `shard ${k} re-run by the survivor`);
      assert.ok(s.attempts >= 2, `shard ${k} leased again (attempts ${s.attempts})`);
      assert.deepEqual(parseJson<string[]>(s.owners, []).slice(0, 2), [victim.owner, survivor.owner]);
    }
    // Both workers did real work; no shard finished before the kill was run again.
    assert.ok(shards.filter((s) => s.done_by === victim.owner).length >= held.done);
    for (const d of doneAtKill) assert.deepEqual({ attempts: shards[d.shard].attempts, by: shards[d.shard].done_by }, { attempts: d.attempts, by: d.done_by }, `shard ${d.shard} untouched after the kill`);
    assert.ok(result.shardsRerun >= heldAtDeath.length);
    assert.equal(result.runners, 2);

    process.stderr.write(`cluster test: ${N.toLocaleString('en')} items in ${seconds.toFixed(1)} s over 2 workers (one killed with ${doneAtKill.length}/${result.shards} shards done, holding shard ${heldAtDeath.join(', ')}); shards re-run: ${result.shardsRerun}\n`);
  });

  test(`two workers share a suggest job over the ${SMALL.toLocaleString('en')}-item project: one suggestion per undecided item, as the classifier predicts it`, async () => {
    const [a, b] = await spawnWorkers(2);
    assert.equal(await routeFor(t.store, 'suggest', {}), 'workers', 'live workers serve suggest');
    const classifierId = await smallClassifier(t.store, small.projectId, small.modelId, small.dir);
    const ids = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', small.projectId).orderBy('id').execute()).map((r) => r.id);
    const decided = ids.filter((_, i) => i % 97 === 0);
    await t.store.db.insertInto('label_items').values(decided.map((item_id) => ({ item_id, project_id: small.projectId, round: 0, status: 'done' as const, priority: null, final_labels: '["y"]', final_source: 'review', final_confidence: 1, final_taxonomy_version: 1, final_provenance: null, decided_at: new Date().toISOString(), updated_at: new Date().toISOString() }))).execute();
    const job = await submitToWorkers(t.store, 'suggest', { project: 'small', model: classifierId }, small.projectId);
    const finished = await waitForJob(t.store, job.id);
    assert.equal(finished.status, 'succeeded', finished.error ?? '');
    const result = finished.result as { items: number; suggested: number; shards: number; runners: number };
    assert.equal(result.items, SMALL);
    assert.equal(result.suggested, SMALL - decided.length);
    assert.equal(result.shards, Math.ceil(SMALL / SHARD));
    const shards = await t.store.db.selectFrom('job_shards').select(['done_by']).where('job_id', '=', job.id).execute();
    const by = new Set(shards.map((s) => s.done_by));
    assert.ok(by.has(a.owner) || by.has(b.owner));
    assert.ok(result.runners >= 2, `shared by ${result.runners} runners`);
    // One suggestion per undecided item (the table is keyed by item), none for a decided one.
    const rows = await t.store.db.selectFrom('suggestions').select(['item_id', 'labels', 'confidence']).where('project_id', '=', small.projectId).orderBy('item_id').execute();
    assert.equal(rows.length, SMALL - decided.length);
    assert.ok(!rows.some((r) => decided.includes(r.item_id)));
    // As the classifier predicts the whole project at once in this process.
    const c = await loadItemClassifier(t.store, await getModel(t.store.db, small.projectId, classifierId, 'classifier'));
    const { data } = await loadModalityData(t.store, small.projectId, 'tabular');
    const p = await c.proba(data);
    c.dispose();
    const at = new Map(ids.map((id, i) => [id, i]));
    let differ = 0;
    for (const r of rows) {
      const i = at.get(r.item_id)!;
      const row = Array.from(p.slice(i * 3, i * 3 + 3));
      const best = row.indexOf(Math.max(...row));
      if (JSON.parse(r.labels)[0] !== ['x', 'y', 'z'][best] || Math.abs((r.confidence ?? 0) - row[best]) > 1e-6) differ++;
    }
    assert.equal(differ, 0);
    // These two stop cleanly (deregister): the next test counts on its own workers only.
    for (const w of [a, b]) w.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  });

  test('the CLI hands `tessera embed` to live workers and waits; a killed coordinator\'s job is re-queued and finished, keeping its done shards', async () => {
    const [c] = await spawnWorkers(1);
    const survivor = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null && w !== c)!;
    const before = await t.store.db.selectFrom('jobs').select((e) => e.fn.max('id').as('id')).executeTakeFirstOrThrow();
    const cli = new Promise<{ code: number | null; out: string; stdout: string }>((res) => {
      const p = spawn(process.execPath, [join(ROOT, 'bin/tessera.js'), 'embed', '--project', 'small', '--model', String(small.modelId), '--json'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let stdout = '';
      p.stdout.on('data', (d: Buffer) => ((out += d), (stdout += d)));
      p.stderr.on('data', (d: Buffer) => (out += d));
      p.on('exit', (code: number | null) => res({ code, out, stdout }));
    });
    const jobId = await until('the CLI to submit', async () => {
      const r = await t.store.db.selectFrom('jobs').select(['id', 'owner', 'status']).where('type', '=', 'embed').where('id', '>', Number(before.id ?? 0)).executeTakeFirst();
      return r?.owner ? r.id : undefined;
    });
    const coordinatorOwner = (await new JobQueue(t.store).get(jobId)).owner!;
    const coordinator = [c, survivor].find((w) => w.owner === coordinatorOwner)!;
    const other = coordinator === c ? survivor : c;
    assert.ok(coordinator, `coordinator ${coordinatorOwner} is one of the workers (not the CLI)`);
    await until(
      'the coordinator to finish a shard and hold a lease',
      async () => {
        const rows = await t.store.db.selectFrom('job_shards').select(['status', 'owner', 'done_by']).where('job_id', '=', jobId).execute();
        return rows.some((r) => r.done_by === coordinator.owner) && rows.some((r) => r.status === 'leased' && r.owner === coordinator.owner);
      },
      60_000,
      10,
    );
    const doneAtKill = await t.store.db.selectFrom('job_shards').select(['shard', 'attempts']).where('job_id', '=', jobId).where('status', '=', 'done').execute();
    coordinator.child.kill('SIGKILL');
    const { code, out, stdout } = await cli;
    assert.equal(code, 0, out);
    assert.equal(JSON.parse(stdout).items, SMALL, 'the CLI printed the job\'s result');
    const job = await new JobQueue(t.store).get(jobId);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.owner, other.owner, 'the other worker finished it');
    assert.equal(job.attempts, 2, 're-queued once after the coordinator died');
    assert.equal((job.result as { items: number }).items, SMALL);
    const shards = await t.store.db.selectFrom('job_shards').selectAll().where('job_id', '=', jobId).execute();
    assert.ok(shards.every((s) => s.status === 'done'));
    for (const d of doneAtKill) assert.equal(shards.find((s) => s.shard === d.shard)!.attempts, d.attempts, `shard ${d.shard}, done before the kill, was not run again`);
    assert.deepEqual(await embeddingCounts(small), { rows: SMALL, items: SMALL, missing: 0 });
    // The sharded vectors are the ones the in-process embed computes (same plan, same encoder).
    const { loadModalityData, subsetData } = await import('../../src/ssl/data.ts');
    const { loadEncoder } = await import('../../src/ssl/index.ts');
    const all = await loadModalityData(t.store, small.projectId, 'tabular');
    const sample = Array.from({ length: 500 }, (_, i) => Math.floor((i * all.itemIds.length) / 500));
    const model = await t.store.db.selectFrom('models').select('checkpoint_path').where('id', '=', small.modelId).executeTakeFirstOrThrow();
    const enc = await loadEncoder(model.checkpoint_path!);
    const want = await enc.embed(subsetData(all.data, sample));
    const got = await readEmbeddings(t.store.db, small.modelId, sample.map((i) => all.itemIds[i]));
    assert.equal(got.missing, 0);
    assert.equal(got.dim, enc.dim);
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - got.data[i]));
    enc.dispose();
    assert.ok(maxDiff < 1e-4, `max |Δ| ${maxDiff}`);
  });

  test('SIGTERM: a worker stops cleanly and deregisters', async () => {
    const live = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    assert.ok(live.length >= 1);
    for (const w of live) w.child.kill('SIGTERM');
    const codes = await Promise.all(live.map((w) => w.exited));
    assert.deepEqual(codes, live.map(() => 0));
    const rows = await t.store.db.selectFrom('workers').select('id').execute();
    assert.ok(live.every((w) => !rows.some((r) => r.id === w.owner)), 'stopped workers deregistered');
    assert.deepEqual(await liveWorkers(t.store), [], 'SIGKILLed workers on this host are not live either');
    assert.equal(await routeFor(t.store, 'embed', {}), 'here');
  });
});
