/**
 * Load bench (issue #8): N concurrent simulated annotators against a 1,000,000-item project,
 * over HTTP keep-alive on loopback, on SQLite and on PostgreSQL.
 *
 *   npx tsx bench/load-annotators.ts [--store sqlite|postgres|both] [--items 1000000]
 *     [--annotators 100] [--seconds 30] [--think-ms 0] [--baseline-items 10000] [--seed 1]
 *     [--max-tasks N] [--prelabelled N] [--consensus majority|dawid-skene|one-coin|glad] [--keep]
 *     [--server-node-args "--cpu-prof …"]
 *
 * Protocol, per store:
 * 1. Builds a fresh store (SQLite file in a temp dir / a PostgreSQL schema of its own, dropped
 *    afterwards) holding two projects: `base` (--baseline-items, the baseline) and `load`
 *    (--items). Items go in through the store layer (`writeItems`, the import path's writer,
 *    50,000 items per transaction) — the JSONL reader is skipped because parsing and hashing a
 *    1M-line file is not what is measured here. Taxonomy: single-label a/b/c; settings: overlap 2,
 *    lease 1800 s, consensus --consensus (default majority). N annotator users with API tokens.
 * 2. Starts the real server as a child process (`tessera serve --port 0 --host 127.0.0.1`,
 *    synchronous=FULL on SQLite as in production, log level info to a file): the server's event
 *    loop and CPU are then its own, and the client's timers do not share its loop, so the
 *    latencies measured are what a remote client would see (minus the network).
 * 3. Warm-up (not measured): every annotator authenticates once (scrypt, ~50 ms per token, once
 *    per process) and the route schemas compile.
 * 4. Runs N annotator loops at once over one keep-alive agent (node:http, one socket per
 *    annotator): next-task → (think time, uniform in [0, 2·think-ms]) → submit with a label
 *    (the item's "true" class with 80 % probability); paced annotators start spread over one
 *    think time instead of all at once; until --seconds pass, --max-tasks per
 *    annotator are done, or the queue is empty. Baseline first (project `base`), then `load`.
 *    --prelabelled N marks the first N items of `load` as already decided (label_items rows,
 *    status done, written in bulk before the server starts): a project far along, whose
 *    next-task has to get past N decided items.
 * 5. Stops the server, then checks the store (src/label/invariants.ts): nobody served an item
 *    twice, no item over the overlap, every 201 submit stored exactly once.
 *
 * Errors: any non-2xx answer or failed request (a `{"task": null}` is the expected "no task
 * left", not an error). Latency percentiles are nearest-rank over every request of the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { nowIso } from '../src/core/json.ts';
import { cliActor } from '../src/store/context.ts';
import { checkAssignmentInvariants, type Ack, type InvariantReport } from '../src/label/invariants.ts';
import { updateSettings } from '../src/label/results.ts';
import { METHOD_NAMES, type MethodName } from '../src/label/consensus.ts';
import { createTaxonomy } from '../src/label/taxonomies.ts';
import { createUser, setRole } from '../src/label/users.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { writeItems, type NewItem } from '../src/store/items.ts';
import { ensureProject, getProject, type Project } from '../src/store/projects.ts';
import { mulberry32 } from '../src/core/rng.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'tessera.js');
const PG_URL = process.env.TESSERA_BENCH_PG_URL ?? process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LABELS = ['a', 'b', 'c'];
const OPERATOR = cliActor('cli:bench');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}
const opts = {
  store: arg('store', 'both'),
  items: Number(arg('items', '1000000')),
  annotators: Number(arg('annotators', '100')),
  seconds: Number(arg('seconds', '30')),
  thinkMs: Number(arg('think-ms', '0')),
  baselineItems: Number(arg('baseline-items', '10000')),
  maxTasks: Number(arg('max-tasks', String(Number.MAX_SAFE_INTEGER))),
  seed: Number(arg('seed', '1')),
  prelabelled: Number(arg('prelabelled', '0')),
  keep: process.argv.includes('--keep'),
  /** Extra node flags for the server process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
  serverNodeArgs: arg('server-node-args', '').split(' ').filter(Boolean),
  /** The projects' consensus method: a model-based one learns from every answer when it settles an item. */
  consensus: arg('consensus', 'majority') as MethodName,
};
if (!(METHOD_NAMES as readonly string[]).includes(opts.consensus)) throw new Error(`--consensus: ${METHOD_NAMES.join('|')}`);
if (!['sqlite', 'postgres', 'both'].includes(opts.store)) throw new Error('--store: sqlite|postgres|both');

// ---------- setup through the store layer ----------

async function buildProject(store: Store, name: string, n: number): Promise<{ project: Project; ms: number }> {
  const t0 = performance.now();
  const { project } = await ensureProject(store.db, name);
  const at = nowIso();
  const source = await store.db
    .insertInto('import_sources')
    .values({ project_id: project.id, path: `bench:${name}`, format: 'bench', options: '{}', status: 'committed', started_at: at, finished_at: at, imported: n, unchanged: 0, rejected: 0, errors: '[]' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const PER_TX = 50_000;
  for (let lo = 0; lo < n; lo += PER_TX) {
    const batch: NewItem[] = [];
    for (let i = lo; i < Math.min(n, lo + PER_TX); i++) {
      const text = `${name} item ${i}: a short text to label, class ${LABELS[i % 3]}`;
      batch.push({ sourceKey: `id:${i}`, modality: 'text', text, data: null, blob: null, meta: '{}', locator: `bench#${i}`, residency: 'local', sha256: createHash('sha256').update(text).digest('hex'), sourceLabel: LABELS[i % 3] });
    }
    await store.db.transaction().execute(async (trx) => {
      // PostgreSQL: unnest() of 10k rows per statement keeps the parameter arrays reasonable.
      for (let j = 0; j < batch.length; j += 10_000) {
        const out = await writeItems(store, trx, project.id, source.id, batch.slice(j, j + 10_000), at);
        if (out.some((o) => o.kind !== 'inserted')) throw new Error('bench items: an insert did not happen');
      }
    });
  }
  if (store.dialect === 'postgres') await sql`ANALYZE`.execute(store.db);
  await createTaxonomy(store, project, OPERATOR, { kind: 'single', labels: LABELS.map((l) => ({ name: l })), guidelines: 'bench' });
  await updateSettings(store, project, OPERATOR, { overlap: 2, leaseSeconds: 1800, consensus: { method: opts.consensus } });
  return { project: await getProject(store.db, name), ms: performance.now() - t0 };
}

interface Annotator {
  name: string;
  userId: number;
  token: string;
}

async function makeAnnotators(store: Store, projects: Project[], n: number): Promise<Annotator[]> {
  const out: Annotator[] = [];
  for (let i = 0; i < n; i++) {
    const name = `annot${String(i).padStart(3, '0')}`;
    const { user, token } = await createUser(store, OPERATOR, name);
    for (const p of projects) await setRole(store, p, OPERATOR, name, 'annotator');
    out.push({ name, userId: user.id, token: token.token });
  }
  return out;
}

// ---------- the server child ----------

async function startServer(env: Record<string, string>, logFile: string): Promise<{ child: ChildProcess; url: string; synchronous: string }> {
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...opts.serverNodeArgs, BIN, 'serve', '--port', '0', '--host', '127.0.0.1'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  const t0 = Date.now();
  for (;;) {
    const m = /^tessera: ready (\{.*\})$/m.exec(readFileSync(logFile, 'utf8'));
    if (m) {
      const r = JSON.parse(m[1]) as { url: string; synchronous: string };
      return { child, url: r.url, synchronous: r.synchronous };
    }
    if (child.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`tessera serve did not start:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** A full garbage collection now (V8's gc(), exposed for this call without a command-line flag). */
function fullGc() {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

// ---------- the client ----------

interface Res {
  status: number;
  body: any;
}

function client(base: string, sockets: number) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  const post = (path: string, token: string, body: unknown): Promise<Res> =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request(
        { host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = text;
            }
            resolve({ status: res.statusCode ?? 0, body: json });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  const get = (path: string, token: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path, method: 'GET', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  return { post, get, close: () => agent.destroy() };
}

interface RunResult {
  project: string;
  items: number;
  annotators: number;
  wallMs: number;
  next: number[];
  submit: number[];
  acks: Ack[];
  errors: number;
  errorSamples: string[];
  noTaskLeft: number;
  clientDoubles: number;
  /** Wall-clock window of the measured loops (to pick this phase's lines from the server log). */
  from: number;
  to: number;
  /** The client process's own event-loop delay (ms): how much of a latency the load generator itself may have added. */
  clientLoopDelay: { p99: number; max: number };
}

async function runLoops(base: string, project: Project, items: number, annotators: Annotator[], seconds: number, thinkMs: number, maxTasks: number, seed: number): Promise<RunResult> {
  const c = client(base, annotators.length);
  const P = encodeURIComponent(project.name);
  // Warm-up, not measured: each token's scrypt check (once per server process), route compilation.
  await Promise.all(annotators.map(async (a) => {
    const s = await c.get(`/api/projects/${P}/annotations/mine?limit=1`, a.token);
    if (s !== 200) throw new Error(`warm-up: ${a.name} got ${s}`);
  }));
  const r: RunResult = { project: project.name, items, annotators: annotators.length, wallMs: 0, next: [], submit: [], acks: [], errors: 0, errorSamples: [], noTaskLeft: 0, clientDoubles: 0, from: Date.now(), to: 0, clientLoopDelay: { p99: NaN, max: NaN } };
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const fail = (what: string) => {
    r.errors++;
    if (r.errorSamples.length < 5) r.errorSamples.push(what);
  };
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    annotators.map(async (a, k) => {
      const rand = mulberry32(seed * 1000 + k);
      const seen = new Set<number>();
      // Paced annotators start spread over one think time (as if each had just finished an item),
      // not all in the same millisecond: that start-up stampede would be measured, not the load.
      if (thinkMs > 0) await new Promise((ok) => setTimeout(ok, rand() * 2 * thinkMs));
      for (let done = 0; done < maxTasks && performance.now() < deadline; ) {
        let t = performance.now();
        let res: Res;
        try {
          res = await c.post(`/api/projects/${P}/tasks/next`, a.token, {});
        } catch (e) {
          fail(`next: ${(e as Error).message}`);
          continue;
        }
        r.next.push(performance.now() - t);
        if (res.status !== 200) {
          fail(`next ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
          continue;
        }
        const task = res.body.task as { id: number; item: { id: number; text: string }; taxonomy: { version: number } } | null;
        if (!task) {
          r.noTaskLeft++;
          return;
        }
        if (seen.has(task.item.id)) r.clientDoubles++;
        seen.add(task.item.id);
        if (thinkMs > 0) await new Promise((ok) => setTimeout(ok, rand() * 2 * thinkMs));
        const truth = /class (\w)/.exec(task.item.text)?.[1] ?? 'a';
        const label = rand() < 0.8 ? truth : LABELS[Math.floor(rand() * 3)];
        t = performance.now();
        try {
          res = await c.post(`/api/projects/${P}/tasks/${task.id}/submit`, a.token, { labels: [label], taxonomyVersion: task.taxonomy.version });
        } catch (e) {
          fail(`submit: ${(e as Error).message}`);
          continue;
        }
        r.submit.push(performance.now() - t);
        if (res.status !== 201) {
          fail(`submit ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
          continue;
        }
        r.acks.push({ annotationId: res.body.annotationId, taskId: task.id, itemId: task.item.id, userId: a.userId });
        done++;
      }
    }),
  );
  r.wallMs = performance.now() - t0;
  r.to = Date.now();
  loop.disable();
  r.clientLoopDelay = { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
  c.close();
  return r;
}

// ---------- reporting ----------

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
function lat(xs: number[]) {
  const s = Float64Array.from(xs).sort();
  const a = Array.from(s);
  return { n: a.length, p50: pct(a, 50), p95: pct(a, 95), p99: pct(a, 99), max: a[a.length - 1] ?? NaN };
}
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');

/**
 * The server's own view: fastify logs each request's responseTime (from the request's arrival to
 * the reply's end) at info level. Every request of a phase's window is a next-task or a submit.
 * Client latency minus this = time in the client, the sockets and the kernel.
 */
function serverSide(logFile: string, r: RunResult) {
  const times: number[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"responseTime"')) continue;
    const j = JSON.parse(line) as { time: number; responseTime: number };
    if (j.time >= r.from && j.time <= r.to) times.push(j.responseTime);
  }
  return lat(times);
}

function summary(r: RunResult, inv: InvariantReport, server: ReturnType<typeof lat>) {
  const s = r.wallMs / 1000;
  return {
    project: r.project,
    serverSide: server,
    clientLoopDelay: r.clientLoopDelay,
    items: r.items,
    annotators: r.annotators,
    seconds: Number(s.toFixed(1)),
    next: lat(r.next),
    submit: lat(r.submit),
    requestsPerSec: Number(((r.next.length + r.submit.length) / s).toFixed(1)),
    annotationsPerSec: Number((r.acks.length / s).toFixed(1)),
    annotations: r.acks.length,
    errors: r.errors,
    errorSamples: r.errorSamples,
    noTaskLeft: r.noTaskLeft,
    clientSawItemTwice: r.clientDoubles,
    store: {
      assignments: inv.assignments,
      annotations: inv.annotations,
      servedTwice: inv.servedTwice.length,
      sameRound: inv.sameRound.length,
      overLiveOverlap: inv.overLiveOverlap.length,
      overAnswered: inv.overAnswered.length,
      lostAcknowledged: inv.lost.length,
      ackedTwice: inv.ackedTwice.length,
      taskAnsweredTwice: inv.taskAnsweredTwice.length,
      unacknowledgedStored: inv.unacknowledged,
      violations: inv.violations,
    },
  };
}

function printRow(store: string, x: ReturnType<typeof summary>) {
  console.log(
    `| ${store} | ${x.items.toLocaleString('en-US')} | ${x.annotators} | ${f1(x.next.p50)} / ${f1(x.next.p95)} / ${f1(x.next.p99)} / ${f1(x.next.max)} | ${f1(x.submit.p50)} / ${f1(x.submit.p95)} / ${f1(x.submit.p99)} / ${f1(x.submit.max)} | ${x.requestsPerSec} | ${x.annotationsPerSec} | ${x.errors} | ${x.store.servedTwice + x.store.sameRound + x.clientSawItemTwice} | ${x.store.overLiveOverlap + x.store.overAnswered} | ${x.store.lostAcknowledged} |`,
  );
}

// ---------- one store ----------

async function benchStore(kind: 'sqlite' | 'postgres') {
  let store: Store;
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-load-'));
  if (kind === 'sqlite') {
    store = await openStore({ kind: 'sqlite', location: join(dir, 'tessera.db') });
    env = { TESSERA_HOME: dir, TESSERA_DATABASE_URL: '' };
    cleanup = async () => undefined;
  } else {
    const schema = `bench_load_${randomBytes(4).toString('hex')}`;
    store = await openStore({ kind: 'postgres', location: PG_URL, schema });
    env = { TESSERA_DATABASE_URL: PG_URL, TESSERA_DATABASE_SCHEMA: schema };
    cleanup = async () => {
      if (opts.keep) return void console.error(`kept schema ${schema}`);
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    };
  }
  const log = (m: string) => process.stderr.write(`[${kind}] ${m}\n`);
  try {
    const baseP = await buildProject(store, 'base', opts.baselineItems);
    log(`baseline project: ${opts.baselineItems} items in ${(baseP.ms / 1000).toFixed(1)} s`);
    const loadP = await buildProject(store, 'load', opts.items);
    log(`load project: ${opts.items} items in ${(loadP.ms / 1000).toFixed(1)} s (${Math.round(opts.items / (loadP.ms / 1000))} items/s, writeItems, 50k per transaction)`);
    if (opts.prelabelled > 0) {
      const t1 = performance.now();
      await sql`INSERT INTO label_items (item_id, project_id, round, status, priority, updated_at)
        SELECT id, project_id, 0, 'done', NULL, ${nowIso()} FROM items WHERE project_id = ${loadP.project.id} ORDER BY id LIMIT ${opts.prelabelled}`.execute(store.db);
      if (store.dialect === 'postgres') await sql`ANALYZE label_items`.execute(store.db);
      log(`${opts.prelabelled} items of the load project marked decided in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    }
    const t = performance.now();
    const annotators = await makeAnnotators(store, [baseP.project, loadP.project], opts.annotators);
    log(`${annotators.length} annotators with tokens in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await store.close();

    // Everything the setup allocated (1M item rows went through this process) is collected now, not
    // in a major GC during the measured loops (the client's pauses would count as latency).
    fullGc();
    const server = await startServer(env, join(dir, 'serve.log'));
    log(`server ${server.url} (pid ${server.child.pid}, synchronous=${server.synchronous})`);
    let base: RunResult, load: RunResult;
    try {
      base = await runLoops(server.url, baseP.project, opts.baselineItems, annotators, opts.seconds, opts.thinkMs, opts.maxTasks, opts.seed);
      log(`baseline done: ${base.acks.length} annotations`);
      load = await runLoops(server.url, loadP.project, opts.items, annotators, opts.seconds, opts.thinkMs, opts.maxTasks, opts.seed + 1);
      log(`load done: ${load.acks.length} annotations`);
    } finally {
      await stopServer(server.child);
    }

    store = kind === 'sqlite' ? await openStore({ kind: 'sqlite', location: join(dir, 'tessera.db') }) : await openStore({ kind: 'postgres', location: PG_URL, schema: env.TESSERA_DATABASE_SCHEMA });
    const baseInv = await checkAssignmentInvariants(store.db, baseP.project.id, base.acks);
    const loadInv = await checkAssignmentInvariants(store.db, loadP.project.id, load.acks);
    const logFile = join(dir, 'serve.log');
    return { kind, synchronous: server.synchronous, baseline: summary(base, baseInv, serverSide(logFile, base)), load: summary(load, loadInv, serverSide(logFile, load)) };
  } finally {
    await store.close().catch(() => undefined);
    await cleanup();
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else console.error(`kept ${dir}`);
  }
}

const kinds = opts.store === 'both' ? (['sqlite', 'postgres'] as const) : [opts.store as 'sqlite' | 'postgres'];
const results = [];
for (const k of kinds) results.push(await benchStore(k));

console.log(`\nload bench: ${opts.annotators} annotators, ${opts.seconds} s per phase, think ${opts.thinkMs} ms (uniform 0–${2 * opts.thinkMs}), ${opts.prelabelled} items pre-decided, ${opts.consensus} consensus, seed ${opts.seed}, node ${process.version}, loopback, server = child \`tessera serve\``);
console.log('latency ms: p50 / p95 / p99 / max; double = item served twice to one user (store + client); over = items above the overlap; lost = 201 submits not stored once\n');
console.log('| store | items | annotators | next-task ms | submit ms | req/s | annotations/s | errors | double | over | lost |');
console.log('|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  printRow(`${r.kind} (baseline)`, r.baseline);
  printRow(r.kind, r.load);
}
console.log('\nserver side (fastify responseTime, every request of the phase) and the load generator\'s own event-loop delay, ms:\n');
console.log('| store | items | server p50 / p95 / p99 / max | client loop delay p99 / max |');
console.log('|---|---:|---|---|');
for (const r of results) {
  for (const [name, x] of [[`${r.kind} (baseline)`, r.baseline], [r.kind, r.load]] as const) {
    console.log(`| ${name} | ${x.items.toLocaleString('en-US')} | ${f1(x.serverSide.p50)} / ${f1(x.serverSide.p95)} / ${f1(x.serverSide.p99)} / ${f1(x.serverSide.max)} | ${f1(x.clientLoopDelay.p99)} / ${f1(x.clientLoopDelay.max)} |`);
  }
}
console.log('');
for (const r of results) {
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '–');
  console.log(
    `${r.kind}: ${r.load.items.toLocaleString('en-US')} vs ${r.baseline.items.toLocaleString('en-US')} items — p99 next-task ×${ratio(r.load.next.p99, r.baseline.next.p99)}, p99 submit ×${ratio(r.load.submit.p99, r.baseline.submit.p99)}, annotations/s ×${ratio(r.load.annotationsPerSec, r.baseline.annotationsPerSec)}`,
  );
}
console.log('\n' + JSON.stringify({ options: opts, results }, null, 1));
const bad = results.some((r) => r.load.errors + r.baseline.errors + r.load.store.violations + r.baseline.store.violations + r.load.clientSawItemTwice + r.baseline.clientSawItemTwice > 0);
process.exitCode = bad ? 1 : 0;
