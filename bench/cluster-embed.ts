/**
 * Cluster mode: one embed job over N tabular items (default 100,000), run by 1 and then by 2
 * `tessera worker` processes against PostgreSQL; prints items/s for each and the speed-up, then a
 * third run with 2 workers where one is SIGKILLed midway (exactly-once check after each run).
 *
 *   npx tsx bench/cluster-embed.ts [--items 100000] [--shard 2000] [--width 64] [--seed 1]
 *
 * Needs PostgreSQL (TESSERA_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test); works in
 * a schema of its own, dropped at the end. The encoder is a random-init tabular MLP (one layer of
 * --width) so the numbers measure the cluster machinery (leasing, loading, writing), not the model.
 * Both workers run on this machine: on 2 cores the speed-up is bounded by the cores, and
 * PostgreSQL shares them too.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore } from '../src/store/db.ts';
import { submitToWorkers, waitForJob, liveWorkers } from '../src/jobs/cluster.ts';
import { bossSchema } from '../src/jobs/boss.ts';
import { smallEncoder, startWorker, tabularProject, type WorkerProcess } from '../test/jobs/cluster-fixture.ts';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('items', 100_000);
const SHARD = arg('shard', 2000);
const WIDTH = arg('width', 64);
const SEED = arg('seed', 1);
const PG_URL = process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_${randomBytes(4).toString('hex')}`;
const env = { TESSERA_DATABASE_URL: PG_URL, TESSERA_DATABASE_SCHEMA: schema, TESSERA_SHARD_ITEMS: String(SHARD), TESSERA_SHARD_LEASE_SECONDS: '5', TESSERA_JOB_STALE_SECONDS: '5', TESSERA_RECOVER_SECONDS: '1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

console.log(`cluster-embed: ${N.toLocaleString('en')} tabular items, shards of ${SHARD}, encoder width ${WIDTH}, seed ${SEED}, schema ${schema}`);
const store = await openStore({ kind: 'postgres', location: PG_URL, schema });
const workers: WorkerProcess[] = [];
try {
  const { projectId, seconds: importSeconds } = await tabularProject(store, 'bench', N, SEED);
  console.log(`import: ${importSeconds.toFixed(1)} s`);

  async function spawn(n: number): Promise<WorkerProcess[]> {
    const ws = Array.from({ length: n }, () => startWorker(env, ['--concurrency', '1']));
    for (const w of ws) w.owner = `${hostname()}:${w.pid}`;
    workers.push(...ws);
    for (;;) {
      const live = await liveWorkers(store);
      if (ws.every((w) => live.some((l) => l.id === w.owner))) return ws;
      if (ws.some((w) => w.child.exitCode !== null)) throw new Error(ws.map((w) => w.log.join('\n')).join('\n'));
      await sleep(100);
    }
  }
  async function stop(ws: WorkerProcess[]) {
    for (const w of ws) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all(ws.map((w) => w.exited));
  }
  async function check(modelId: number) {
    const r = await store.db
      .selectFrom('embeddings')
      .select([(e) => e.fn.countAll<number>().as('rows'), (e) => e.fn.count<number>('item_id').distinct().as('items')])
      .where('model_id', '=', modelId)
      .executeTakeFirstOrThrow();
    const ok = Number(r.rows) === N && Number(r.items) === N;
    return `${Number(r.rows).toLocaleString('en')} embedding rows for ${Number(r.items).toLocaleString('en')} distinct items: ${ok ? 'exactly once' : 'WRONG'}`;
  }
  async function run(label: string, n: number, kill = false) {
    const { modelId } = await smallEncoder(store, projectId, WIDTH);
    const ws = await spawn(n);
    // Warm-up: the first shard in each worker loads tfjs and the encoder; measure from submission anyway.
    const t0 = performance.now();
    const job = await submitToWorkers(store, 'embed', { project: 'bench', model: modelId }, projectId);
    let killed = '';
    if (kill) {
      for (;;) {
        const j = await store.db.selectFrom('jobs').select(['owner', 'progress']).where('id', '=', job.id).executeTakeFirstOrThrow();
        const victim = ws.find((w) => w.owner !== j.owner);
        const leased = victim && (await store.db.selectFrom('job_shards').select('shard').where('job_id', '=', job.id).where('owner', '=', victim.owner).where('status', '=', 'leased').execute());
        if (victim && j.progress >= 0.5 && leased && leased.length) {
          victim.child.kill('SIGKILL');
          killed = `killed ${victim.owner} at ${(j.progress * 100).toFixed(0)}% holding shard(s) ${leased.map((s) => s.shard).join(', ')}`;
          break;
        }
        await sleep(10);
      }
    }
    const done = await waitForJob(store, job.id);
    const s = (performance.now() - t0) / 1000;
    const r = done.result as { shards: number; shardsRerun: number; runners: number };
    console.log(`${label}: ${done.status}, ${s.toFixed(1)} s, ${Math.round(N / s).toLocaleString('en')} items/s; ${r.shards} shards, ${r.runners} runner(s), re-run ${r.shardsRerun}${killed ? `; ${killed}` : ''}`);
    console.log(`  ${await check(modelId)}`);
    await stop(ws);
    return s;
  }
  const one = await run('1 worker ', 1);
  const two = await run('2 workers', 2);
  console.log(`speed-up 2 vs 1 workers: ×${(one / two).toFixed(2)}`);
  await run('2 workers, one SIGKILLed midway', 2, true);
} finally {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  const boss = bossSchema(store);
  await store.close();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.query(`DROP SCHEMA IF EXISTS ${boss} CASCADE`);
  await c.end();
}
