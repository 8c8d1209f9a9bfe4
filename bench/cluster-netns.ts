/**
 * Cluster mode over real network interfaces: PostgreSQL and 1–3 `tessera worker` processes each in
 * a network namespace of its own on this machine (veth pairs on one bridge; test/cluster-netns/),
 * one embed job over N tabular items per run. Prints items/s with 1, 2 and 3 workers, then a run
 * with 3 workers where one worker's link is cut while it holds a shard lease, and one where
 * PostgreSQL is restarted mid-job; every run ends with the exactly-once check.
 *
 *   sudo npx tsx bench/cluster-netns.ts [--items 50000] [--shard 2000] [--width 64] [--lease 5] [--seed 1]
 *
 * Needs root (network namespaces) and the postgresql package's server binaries. The encoder is a
 * random-init tabular MLP (one layer of --width), so the numbers measure the cluster machinery
 * (leasing, loading, writing across the network), not the model. All processes share this
 * machine's cores: the speed-up is bounded by them, not by the network.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg, cpus } from 'node:os';
import { parseJson } from '../src/core/json.ts';
import { openStore } from '../src/store/db.ts';
import { submitToWorkers } from '../src/jobs/cluster.ts';
import { smallEncoder, tabularProject } from '../test/jobs/cluster-fixture.ts';
import { Lab, netnsSupport, type Proc } from '../test/cluster-netns/netns.ts';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('items', 50_000);
const SHARD = arg('shard', 2000);
const WIDTH = arg('width', 64);
const LEASE = arg('lease', 5);
const SEED = arg('seed', 1);
const ROOT = resolve(import.meta.dirname, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const support = netnsSupport();
if (!support.ok) {
  console.error(`cluster-netns bench: cannot run — ${support.reason}`);
  process.exit(2);
}
console.log(`cluster-netns: ${N.toLocaleString('en')} tabular items, shards of ${SHARD}, encoder width ${WIDTH}, lease ${LEASE} s, seed ${SEED}; ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

const lab = new Lab();
const results: Array<Record<string, unknown>> = [];
try {
  lab.addHost('db', 2);
  const W = ['w1', 'w2', 'w3'];
  W.forEach((w, i) => lab.addHost(w, 11 + i));
  const url = lab.startPostgres();
  const home = join(lab.dir, 'home');
  mkdirSync(home);
  const env = {
    TESSERA_DATABASE_URL: url,
    TESSERA_DATABASE_SCHEMA: undefined,
    TESSERA_PGBOSS_SCHEMA: undefined,
    TESSERA_HOME: home,
    TESSERA_SHARD_ITEMS: String(SHARD),
    TESSERA_SHARD_LEASE_SECONDS: String(LEASE),
    TESSERA_JOB_STALE_SECONDS: String(LEASE),
    TESSERA_RECOVER_SECONDS: '1',
  };
  const store = await openStore({ kind: 'postgres', location: url });
  try {
    const { projectId, seconds: importSeconds } = await tabularProject(store, 'bench', N, SEED);
    console.log(`PostgreSQL at ${url} (its own namespace); import ${importSeconds.toFixed(1)} s`);

    async function startWorkers(n: number): Promise<Proc[]> {
      const ws = W.slice(0, n).map((w) => lab.spawn(w, [process.execPath, '--import', 'tsx', join(ROOT, 'test/cluster-netns/worker.ts'), '--concurrency', '1'], env, { cwd: ROOT }));
      await Promise.all(ws.map((w) => w.waitFor(/serving .* with concurrency/, 180_000, 0)));
      return ws;
    }
    async function stopWorkers(ws: Proc[]) {
      for (const w of ws) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      await Promise.all(ws.map((w) => Promise.race([w.exited, sleep(60_000).then(() => w.child.kill('SIGKILL'))])));
    }
    async function exactlyOnce(modelId: number): Promise<boolean> {
      const r = await store.db.selectFrom('embeddings').select([(e) => e.fn.countAll<number>().as('rows'), (e) => e.fn.count<number>('item_id').distinct().as('items')]).where('model_id', '=', modelId).executeTakeFirstOrThrow();
      return Number(r.rows) === N && Number(r.items) === N;
    }
    async function run(label: string, n: number, fault?: 'cut' | 'restart') {
      const { modelId } = await smallEncoder(store, projectId, WIDTH);
      const ws = await startWorkers(n);
      const t0 = performance.now();
      const job = await submitToWorkers(store, 'embed', { project: 'bench', model: modelId }, projectId);
      let note = '';
      if (fault) {
        for (;;) {
          const j = await store.db.selectFrom('jobs').select(['owner', 'progress', 'status']).where('id', '=', job.id).executeTakeFirstOrThrow().catch(() => undefined);
          if (j && j.status !== 'running' && j.status !== 'queued') {
            note = `no fault: the job ${j.status} before it could be injected`;
            break;
          }
          if (j && j.progress >= 0.4) {
            if (fault === 'restart') {
              const r0 = performance.now();
              lab.restartPostgres();
              note = `PostgreSQL restarted at ${(j.progress * 100).toFixed(0)}% (${((performance.now() - r0) / 1000).toFixed(1)} s)`;
              break;
            }
            const held = await store.db.selectFrom('job_shards').select(['owner', 'shard']).where('job_id', '=', job.id).where('status', '=', 'leased').where('owner', '!=', j.owner).execute();
            if (held.length) {
              const host = held[0].owner!.split(':')[0];
              lab.cut(host);
              note = `${host}'s link cut at ${(j.progress * 100).toFixed(0)}% holding shard ${held[0].shard}`;
              break;
            }
          }
          await sleep(20);
        }
      }
      let done;
      for (;;) {
        done = await store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirst().catch(() => undefined);
        if (done && ['succeeded', 'failed', 'cancelled'].includes(done.status)) break;
        await sleep(200);
      }
      const s = (performance.now() - t0) / 1000;
      const r = parseJson<{ shards?: number; shardsRerun?: number; runners?: number }>(done.result, {});
      const once = await exactlyOnce(modelId);
      if (fault === 'cut') for (const w of W) lab.reconnect(w);
      results.push({ run: label, workers: n, status: done.status, seconds: Number(s.toFixed(2)), itemsPerSecond: Math.round(N / s), shards: r.shards, shardsRerun: r.shardsRerun, runners: r.runners, exactlyOnce: once, note });
      console.log(`${label}: ${done.status}, ${s.toFixed(1)} s, ${Math.round(N / s).toLocaleString('en')} items/s; ${r.shards} shards, ${r.runners} runner(s), re-run ${r.shardsRerun}; exactly once: ${once}${note ? `; ${note}` : ''}`);
      await stopWorkers(ws);
      return s;
    }
    const one = await run('1 worker', 1);
    const two = await run('2 workers', 2);
    const three = await run('3 workers', 3);
    console.log(`speed-up vs 1 worker: 2 workers ×${(one / two).toFixed(2)}, 3 workers ×${(one / three).toFixed(2)}`);
    await run('3 workers, one link cut', 3, 'cut');
    await run('3 workers, PostgreSQL restarted', 3, 'restart');
  } finally {
    await store.close();
  }
  console.log('\n| run | time | items/s | shards re-run | exactly once |\n|---|---|---|---|---|');
  for (const r of results) console.log(`| ${r.run} | ${r.seconds} s | ${Number(r.itemsPerSecond).toLocaleString('en')} | ${r.shardsRerun} | ${r.exactlyOnce ? 'yes' : 'NO'} |`);
  console.log(`\nload after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(JSON.stringify({ options: { items: N, shard: SHARD, width: WIDTH, lease: LEASE, seed: SEED }, results }, null, 1));
} finally {
  await lab.destroy();
}
