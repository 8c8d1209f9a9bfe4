/**
 * Crash safety (issue #8): seeded runs that `kill -9` `tessera serve` — and the `tessera import`
 * processes running beside it — at a random moment while annotators stream answers through the
 * REST API. After each kill:
 *
 * - every annotation the server acknowledged (201) is in the store exactly once: its row with
 *   what was sent, its assignment closed with it, its audit event once;
 * - every import is all there or not there at all (never some of its rows), before and after
 *   recovery (`tessera jobs run`: a killed import's job is re-queued and re-run to completion);
 * - the audit chain verifies (`tessera audit-log verify` exits 0; in-process every run);
 * - leases: an annotator holds at most one live lease, a lease never carries an answer, and after
 *   the restart the first `tasks/next` of an annotator who held a live lease returns that same
 *   lease. Nothing else holds an item: the slot of a lease whose annotator never comes back is
 *   freed when the lease expires (leaseSeconds), as for any abandoned lease.
 *
 * Run r uses seed TESSERA_CRASH_SEED + r (default base 8000) for everything the driver chooses
 * (imports: count, size, a bad line, start jitter around the expected kill; the kill moment; each annotator's answers).
 * Timing itself is not reproducible; a failure names its seed and run. TESSERA_CRASH_RUNS sets
 * the number of SQLite runs (default 20), TESSERA_CRASH_PG_RUNS the PostgreSQL runs (default 4;
 * 0 skips them). One store per kind lives across the runs, as a real one would.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freshStore, PG_URL } from '../helpers/stores.ts';
import { BIN, tessera } from '../helpers/cli.ts';
import { OPERATOR, projectWithItems } from '../server/helpers.ts';
import { mulberry32, randomInt } from '../../src/core/rng.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { verifyAuditLog } from '../../src/label/audit-verify.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { openStore, syncEveryCommit, type Store } from '../../src/store/db.ts';
import type { StoreConfig } from '../../src/core/config.ts';
import { nowIso } from '../../src/core/json.ts';
import type { Project } from '../../src/store/projects.ts';
import { COMMAND_MODULES, buildProgram } from '../../src/cli/main.ts';

const envInt = (name: string, dflt: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} expects a whole number ≥ 0, got "${v}"`);
  return n;
};
const SEED_BASE = envInt('TESSERA_CRASH_SEED', 8000);
// npm test runs 20 + 4 (about 80 s); the longer run of the same test: TESSERA_CRASH_RUNS=50 TESSERA_CRASH_PG_RUNS=10.
const RUNS = { sqlite: envInt('TESSERA_CRASH_RUNS', 20), postgres: envInt('TESSERA_CRASH_PG_RUNS', 4) };
const ANNOTATORS = ['ann0', 'ann1', 'ann2', 'ann3'];
const LABELS = ['pos', 'neg', 'neutral'];
/** Every N-th run recovers and verifies through the CLI (`tessera jobs run`, `audit-log verify`); the others in-process (same code). */
const CLI_EVERY = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ack {
  kind: 'submit' | 'skip';
  user: string;
  taskId: number;
  itemId: number;
  annotationId: number;
  labels: string[];
}

interface ImportPlan {
  file: string;
  prefix: string;
  rows: number;
  /** A malformed line: the whole import must be refused. */
  bad: boolean;
  /** Seeded offset (ms) from the moment the import is expected to meet the kill (see `timing`). */
  jitterMs: number;
}

type ImportFate = 'done' | 'refused' | 'killed-running' | 'killed-after-commit' | 'killed-after-job' | 'killed-before-job';

interface RunStats {
  seed: number;
  readyMs: number;
  windowMs: number;
  wallMs: number;
  acks: number;
  imports: Array<{ rows: number; bad: boolean; fate: ImportFate; presentAfterKill: boolean }>;
}

/** Where one kind's store lives across the runs (the test opens and closes it around each server). */
async function crashHome(kind: 'sqlite' | 'postgres'): Promise<{ config: StoreConfig; env: Record<string, string>; cleanup(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-crash-store-'));
    return { config: { kind, location: join(dir, 'tessera.db') }, env: { TESSERA_HOME: dir, TESSERA_DATABASE_URL: '' }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `crash_${randomBytes(6).toString('hex')}`;
  return {
    config: { kind, location: PG_URL, schema },
    env: { TESSERA_DATABASE_URL: PG_URL, TESSERA_DATABASE_SCHEMA: schema },
    cleanup: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** Spawns `tessera serve --port 0` and resolves once it printed its machine-readable ready line. */
async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; ready: { synchronous: string; pid: number }; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const ready = await new Promise<{ url: string; pid: number; synchronous: string }>((resolve, reject) => {
    child.stderr!.on('data', (c) => {
      err += c;
      const m = /^tessera: ready (\{.*\})$/m.exec(err);
      if (m) resolve(JSON.parse(m[1]));
    });
    child.on('exit', (code, signal) => reject(new Error(`tessera serve exited (${code ?? signal}) before it was ready:\n${err.slice(-3000)}`)));
  });
  return { child, url: ready.url, ready, stderr: () => err };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

async function api(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  const runs = RUNS[kind];
  describe(`crash safety: kill -9 during annotations and imports (${kind})`, { skip: runs === 0 ? `TESSERA_CRASH_${kind === 'sqlite' ? '' : 'PG_'}RUNS=0` : false }, () => {
    let home: Awaited<ReturnType<typeof crashHome>>;
    /** The test's own connection: closed while a server runs, so every restart opens the store after a crash. */
    let store: Store;
    let project: Project;
    let work: string;
    const tokens: Record<string, string> = {};
    const userIds: Record<string, number> = {};
    const env = () => ({ ...home.env, TESSERA_LOG_LEVEL: 'warn', TESSERA_USER: 'cli:crash-test' });
    const P = '/api/projects/crash';
    /** Running estimates (ms): server spawn → kill, import spawn → its job starting. */
    const timing = { killOffsetMs: 3000, importStartMs: 2500 };

    before(async () => {
      home = await crashHome(kind);
      store = await openStore(home.config);
      work = mkdtempSync(join(tmpdir(), `tessera-crash-${kind}-`));
      project = await projectWithItems(store, 'crash', Array.from({ length: 1500 }, (_, i) => `message ${i}: something to label`));
      await createTaxonomy(store, project, OPERATOR, { kind: 'single', labels: LABELS.map((name) => ({ name })), guidelines: 'Is the message positive, negative or neutral?' });
      // Default lease (1800 s): a lease held at the kill is still live after the restart.
      await updateSettings(store, project, OPERATOR, { overlap: 2 });
      for (const name of ANNOTATORS) {
        const { user, token } = await createUser(store, OPERATOR, name);
        await setRole(store, project, OPERATOR, name, 'annotator');
        tokens[name] = token.token;
        userIds[name] = user.id;
      }
    });
    after(async () => {
      await store?.close();
      await home?.cleanup();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    /** Live leases per annotator (status leased, not expired). */
    async function liveLeases(): Promise<Record<string, number[]>> {
      const rows = await store.db.selectFrom('assignments').select(['id', 'user_id']).where('project_id', '=', project.id).where('status', '=', 'leased').where('expires_at', '>', nowIso()).orderBy('id').execute();
      const out: Record<string, number[]> = Object.fromEntries(ANNOTATORS.map((a) => [a, []]));
      for (const r of rows) out[ANNOTATORS.find((a) => userIds[a] === r.user_id)!].push(r.id);
      return out;
    }

    async function itemsWithPrefix(prefix: string): Promise<number> {
      const r = await store.db.selectFrom('items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', project.id).where('source_key', 'like', `id:${prefix}%`).executeTakeFirstOrThrow();
      return Number(r.n);
    }

    /** Store-wide invariants that hold at any moment after a kill. */
    async function invariants(where: string) {
      const db = store.db;
      // One annotation per assignment, and every assignment that says it was answered points at it.
      const dupes = await db.selectFrom('annotations').select(['assignment_id', (e) => e.fn.countAll<number>().as('n')]).where('assignment_id', 'is not', null).groupBy('assignment_id').having((e) => e.fn.countAll(), '>', 1).execute();
      assert.deepEqual(dupes, [], `${where}: assignments with more than one annotation`);
      const closedWithout = await db
        .selectFrom('assignments as a')
        .leftJoin('annotations as n', 'n.id', 'a.annotation_id')
        .select(['a.id', 'a.status'])
        .where('a.status', 'in', ['submitted', 'skipped'])
        .where((e) => e.or([e('n.id', 'is', null), e('n.assignment_id', '!=', e.ref('a.id'))]))
        .execute();
      assert.deepEqual(closedWithout, [], `${where}: answered assignments without their annotation`);
      const openWith = await db.selectFrom('assignments as a').innerJoin('annotations as n', 'n.assignment_id', 'a.id').select(['a.id', 'a.status']).where('a.status', 'in', ['leased', 'released']).execute();
      assert.deepEqual(openWith, [], `${where}: leased or released assignments that carry an annotation`);
      // Every annotation has exactly one audit event (same transaction).
      const annotations = Number((await db.selectFrom('annotations').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', project.id).executeTakeFirstOrThrow()).n);
      const events = Number((await db.selectFrom('audit_events').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', project.id).where('action', 'in', ['annotation.create', 'annotation.skip']).executeTakeFirstOrThrow()).n);
      assert.equal(events, annotations, `${where}: annotation audit events vs annotations`);
      // A visible import source is a committed one (its row and its items commit together).
      const sources = await db.selectFrom('import_sources').select(['id', 'status']).where('status', '!=', 'committed').execute();
      assert.deepEqual(sources, [], `${where}: import sources not committed`);
      // At most one live lease per annotator (the driver never preloads a second).
      for (const [who, ids] of Object.entries(await liveLeases())) assert.ok(ids.length <= 1, `${where}: ${who} holds live leases ${ids.join(', ')}`);
      const audit = await verifyAuditLog(db);
      assert.ok(audit.ok, `${where}: audit chain: ${JSON.stringify(audit.firstBad)}`);
    }

    async function checkAcks(acks: Ack[], where: string) {
      if (acks.length === 0) return;
      const ids = acks.map((a) => a.annotationId);
      const rows = await store.db.selectFrom('annotations').select(['id', 'item_id', 'user_id', 'labels', 'assignment_id', 'skipped']).where('id', 'in', ids).execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      const tasks = await store.db.selectFrom('assignments').select(['id', 'status', 'annotation_id']).where('id', 'in', acks.map((a) => a.taskId)).execute();
      const taskById = new Map(tasks.map((r) => [r.id, r]));
      const evRows = await store.db
        .selectFrom('audit_events')
        .select(['payload'])
        .where('project_id', '=', project.id)
        .where('action', 'in', ['annotation.create', 'annotation.skip'])
        .where('subject', 'in', [...new Set(acks.map((a) => `item:${a.itemId}`))])
        .execute();
      const eventsPer = new Map<number, number>();
      for (const e of evRows) {
        const id = (JSON.parse(e.payload) as { annotation: number }).annotation;
        eventsPer.set(id, (eventsPer.get(id) ?? 0) + 1);
      }
      for (const a of acks) {
        const r = byId.get(a.annotationId);
        assert.ok(r, `${where}: acknowledged annotation ${a.annotationId} (${a.user}, task ${a.taskId}) is missing`);
        assert.deepEqual(
          { item: r.item_id, user: r.user_id, task: r.assignment_id, skipped: r.skipped === 1, labels: JSON.parse(r.labels) },
          { item: a.itemId, user: userIds[a.user], task: a.taskId, skipped: a.kind === 'skip', labels: a.kind === 'skip' ? [] : a.labels },
          `${where}: acknowledged annotation ${a.annotationId} differs from what was sent`,
        );
        const task = taskById.get(a.taskId);
        assert.deepEqual([task?.status, task?.annotation_id], [a.kind === 'skip' ? 'skipped' : 'submitted', a.annotationId], `${where}: task ${a.taskId} of annotation ${a.annotationId}`);
        assert.equal(eventsPer.get(a.annotationId) ?? 0, 1, `${where}: audit events of annotation ${a.annotationId}`);
      }
    }

    /** `tessera jobs run` (CLI) or the same code in-process: re-queue killed imports, run them. */
    async function recover(viaCli: boolean): Promise<number[]> {
      if (viaCli) {
        const r = tessera(['jobs', 'run', '--json'], env());
        assert.equal(r.code, 0, r.stderr);
        return r.json.recovered;
      }
      const runner = new InProcessRunner(store, jobHandlers(store));
      const recovered = await runner.recover();
      for (;;) {
        const id = await runner.queue.nextQueued(['import']);
        if (id === undefined) break;
        await runner.runQueued(id);
      }
      return recovered;
    }

    test(`${runs} seeded runs (seeds ${SEED_BASE}…${SEED_BASE + runs - 1}): acknowledged annotations survive, imports are all or nothing, the audit chain verifies`, { timeout: 15 * 60_000 }, async (tc) => {
      const stats: RunStats[] = [];
      const t0 = performance.now();
      let acksTotal = 0;
      let leasesReturned = 0;
      for (let r = 0; r < runs; r++) {
        const seed = SEED_BASE + r;
        try {
          // Every CLI_EVERY-th run through the CLI, and the last one of a kind with fewer runs.
          const s = await oneRun(seed, r % CLI_EVERY === CLI_EVERY - 1 || (runs < CLI_EVERY && r === runs - 1));
          stats.push(s);
          acksTotal += s.acks;
          leasesReturned += (s as RunStats & { leasesReturned: number }).leasesReturned;
        } catch (e) {
          (e as Error).message = `crash run ${r} (seed ${seed}; the driver's choices again: TESSERA_CRASH_SEED=${seed} TESSERA_CRASH_RUNS=1): ${(e as Error).message}`;
          throw e;
        }
      }
      const total = (performance.now() - t0) / 1000;
      // The end state through the CLI as an operator would check it.
      const verify = tessera(['audit-log', 'verify', '--json'], env());
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.equal(verify.json.ok, true);
      const fates: Record<string, number> = {};
      for (const s of stats) for (const i of s.imports) fates[i.fate] = (fates[i.fate] ?? 0) + 1;
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const summary = {
        store: kind,
        runs,
        seconds: Number(total.toFixed(1)),
        perRunSeconds: Number((total / Math.max(1, runs)).toFixed(2)),
        serverReadyMs: { mean: Math.round(mean(stats.map((s) => s.readyMs))), max: Math.round(Math.max(...stats.map((s) => s.readyMs))) },
        killAfterStreamStartMs: { mean: Math.round(mean(stats.map((s) => s.windowMs))) },
        serverSpawnToKillMs: Math.round(timing.killOffsetMs),
        importSpawnToJobStartMs: Math.round(timing.importStartMs),
        acknowledgedAnnotations: acksTotal,
        leasesReturnedAfterRestart: leasesReturned,
        imports: fates,
        importsKilledWithRowsAbsent: stats.flatMap((s) => s.imports).filter((i) => i.fate === 'killed-running' && !i.presentAfterKill).length,
        auditEvents: verify.json.events,
      };
      tc.diagnostic(JSON.stringify(summary));
      console.log(`crash summary ${JSON.stringify(summary)}`);
      assert.ok(acksTotal >= runs, `the driver got only ${acksTotal} acknowledgements in ${runs} runs: the kill window is too short to test anything`);
    });

    async function oneRun(seed: number, viaCli: boolean): Promise<RunStats & { leasesReturned: number }> {
      const rand = mulberry32(seed);
      const runStart = performance.now();
      // Plan: 0–2 imports of 300–6,000 rows, some with a malformed line, started 0–1.8 s after the server.
      const nImports = [0, 1, 1, 2, 2][randomInt(rand, 5)];
      const plans: ImportPlan[] = [];
      for (let k = 0; k < nImports; k++) {
        const rows = 300 + randomInt(rand, 5700);
        const bad = rand() < 0.15;
        const prefix = `s${seed}-i${k}-`;
        const file = join(work, `${prefix}import.jsonl`);
        const badAt = bad ? randomInt(rand, rows) : -1;
        const lines: string[] = [];
        for (let j = 0; j < rows; j++) lines.push(j === badAt ? `{"id":"${prefix}${j}","text": oops` : JSON.stringify({ id: `${prefix}${j}`, text: `imported ${seed}/${k}/${j}: ${'lorem ipsum '.repeat(1 + (j % 5))}` }));
        writeFileSync(file, lines.join('\n') + '\n');
        plans.push({ file, prefix, rows, bad, jitterMs: randomInt(rand, 1100) - 800 });
      }
      const killAfterMs = 50 + randomInt(rand, 751);
      const answerSeeds = ANNOTATORS.map(() => Math.floor(rand() * 2 ** 32));

      const expectedLease = await liveLeases();
      const seqBefore = Number((await store.db.selectFrom('audit_events').select((e) => e.fn.max('seq').as('m')).executeTakeFirst())?.m ?? 0);
      // Nobody has the store open when the server starts, and the test reopens it after the kill:
      // each run goes through a real cold start after a crash (SQLite rebuilds its WAL index).
      await store.close();

      // Start the server and, on their own clocks, the imports.
      const serverStart = performance.now();
      const serverStartWall = Date.now();
      const serverP = startServer(env());
      const importers = plans.map((p) => {
        const state: { child?: ChildProcess; code?: number | null; exitedBeforeKill: boolean; stdout: string; stderr: string; spawnedAt?: number } = { exitedBeforeKill: false, stdout: '', stderr: '' };
        // An import child needs as long to start as the server: spawn it so that its transaction
        // begins around the kill (estimated from the previous runs), give or take the seeded jitter.
        const delayMs = Math.max(0, timing.killOffsetMs - timing.importStartMs + p.jitterMs);
        const timer = setTimeout(() => {
          state.spawnedAt = Date.now();
          const child = spawn(process.execPath, [BIN, 'import', p.file, '--project', 'crash', '--format', 'jsonl', '--id-column', 'id', '--json'], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
          child.stdout!.on('data', (c) => (state.stdout += c));
          child.stderr!.on('data', (c) => (state.stderr += c));
          child.on('exit', (code) => (state.code = code));
          state.child = child;
        }, delayMs);
        return { plan: p, state, timer };
      });
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await serverP;
      } catch (e) {
        for (const i of importers) {
          clearTimeout(i.timer);
          i.state.child?.kill('SIGKILL');
        }
        store = await openStore(home.config);
        throw e;
      }
      const readyMs = performance.now() - serverStart;
      assert.equal(server.ready.synchronous, kind === 'sqlite' ? 'FULL' : 'server', 'the server syncs every commit');

      // Annotators: next → submit (mostly), skip or release, until the server is gone.
      const acks: Ack[] = [];
      const unexpected: string[] = [];
      let killed = false;
      let leasesReturned = 0;
      let served!: () => void; // the first acknowledged answer
      const firstServed = new Promise<void>((r) => (served = r));
      const annotator = async (name: string, seedA: number) => {
        const rnd = mulberry32(seedA);
        const token = tokens[name];
        let first = true;
        while (!killed) {
          let res;
          try {
            res = await api(server.url, token, 'POST', `${P}/tasks/next`);
          } catch {
            return; // the server is gone
          }
          if (res.status !== 200) {
            if (!killed) unexpected.push(`${name} next → ${res.status} ${JSON.stringify(res.json)}`);
            return;
          }
          const task = res.json.task as { id: number; item: { id: number }; taxonomy: { version: number } } | null;
          if (first) {
            first = false;
            // A lease held when the previous server died comes back to its annotator.
            const held = expectedLease[name];
            if (held.length === 1) {
              if (task?.id !== held[0]) unexpected.push(`${name} held live lease ${held[0]} but was served ${task?.id ?? 'nothing'} after the restart`);
              else leasesReturned++;
            }
          }
          if (!task) {
            await sleep(25);
            continue;
          }
          const roll = rnd();
          try {
            if (roll < 0.08) {
              const s = await api(server.url, token, 'POST', `${P}/tasks/${task.id}/skip`, { reason: 'not sure' });
              if (s.status === 201) acks.push({ kind: 'skip', user: name, taskId: task.id, itemId: task.item.id, annotationId: s.json.annotationId, labels: [] });
              else if (!killed) unexpected.push(`${name} skip ${task.id} → ${s.status} ${JSON.stringify(s.json)}`);
            } else if (roll < 0.12) {
              const s = await api(server.url, token, 'POST', `${P}/tasks/${task.id}/release`);
              if (s.status !== 200 && !killed) unexpected.push(`${name} release ${task.id} → ${s.status} ${JSON.stringify(s.json)}`);
            } else {
              const labels = [LABELS[randomInt(rnd, LABELS.length)]];
              const s = await api(server.url, token, 'POST', `${P}/tasks/${task.id}/submit`, { labels, taxonomyVersion: task.taxonomy.version });
              if (s.status === 201) {
                assert.equal(s.json.taskId, task.id);
                acks.push({ kind: 'submit', user: name, taskId: task.id, itemId: task.item.id, annotationId: s.json.annotationId, labels });
                served();
              } else if (!killed) unexpected.push(`${name} submit ${task.id} → ${s.status} ${JSON.stringify(s.json)}`);
            }
          } catch {
            return; // the server died with the request in flight: not acknowledged
          }
        }
      };
      const driving = ANNOTATORS.map((a, i) => annotator(a, answerSeeds[i]));

      // The moment: 50–800 ms into the stream, counted from the first acknowledged answer (the
      // first requests of a fresh process pay for token verification and warm-up, which on a
      // loaded machine can outlast the whole window).
      const flowing = await Promise.race([firstServed.then(() => true), sleep(60_000).then(() => false), Promise.all(driving).then(() => false)]);
      if (!flowing) unexpected.push('no answer was acknowledged within 60 s of the server being ready');
      await sleep(killAfterMs);
      killed = true;
      server.child.kill('SIGKILL');
      const killOffsetMs = Date.now() - serverStartWall;
      for (const i of importers) {
        clearTimeout(i.timer);
        if (i.state.child && i.state.code === undefined) i.state.child.kill('SIGKILL');
      }
      await exited(server.child);
      for (const i of importers) {
        if (i.state.child) await exited(i.state.child);
        // An importer that had exited by itself before the kill reported its outcome.
        i.state.exitedBeforeKill = i.state.child !== undefined && i.state.child.signalCode === null;
      }
      await Promise.all(driving);
      store = await openStore(home.config);
      assert.deepEqual(unexpected, [], `seed ${seed}: unexpected answers while the server was up (stderr: ${server.stderr().slice(-2000)})`);

      // After the kill, before any recovery.
      await checkAcks(acks, `seed ${seed} after the kill`);
      await invariants(`seed ${seed} after the kill`);
      const fates: RunStats['imports'] = [];
      for (const { plan, state } of importers) {
        const n = await itemsWithPrefix(plan.prefix);
        assert.ok(n === 0 || n === plan.rows, `seed ${seed}: import ${plan.prefix} is partial after the kill: ${n} of ${plan.rows} rows`);
        let fate: ImportFate;
        if (state.exitedBeforeKill) {
          if (plan.bad) {
            assert.equal(state.code, 2, `seed ${seed}: import ${plan.prefix} with a bad line: ${state.stderr}`);
            assert.equal(n, 0, `seed ${seed}: a refused import left rows`);
            fate = 'refused';
          } else {
            assert.equal(state.code, 0, `seed ${seed}: import ${plan.prefix} failed on its own: ${state.stdout} ${state.stderr}`);
            assert.equal(n, plan.rows, `seed ${seed}: import ${plan.prefix} reported success but ${n} of ${plan.rows} rows are there`);
            fate = 'done';
          }
        } else {
          // Killed: before its job existed, while queued or running (its transaction open or not
          // yet begun), or after the job finished but before the process exited.
          const job = await store.db.selectFrom('jobs').select(['status']).where('type', '=', 'import').where('params', 'like', `%${plan.prefix}import.jsonl%`).executeTakeFirst();
          fate = !job ? 'killed-before-job' : job.status === 'running' || job.status === 'queued' ? 'killed-running' : 'killed-after-job';
          if (job?.status === 'succeeded') assert.equal(n, plan.rows, `seed ${seed}: import ${plan.prefix}'s job succeeded but ${n} of ${plan.rows} rows are there`);
          if (job?.status === 'failed') assert.deepEqual([plan.bad, n], [true, 0], `seed ${seed}: import ${plan.prefix}'s job failed`);
          if (job?.status === 'running' && n > 0) fate = 'killed-after-commit';
        }
        fates.push({ rows: plan.rows, bad: plan.bad, fate, presentAfterKill: n > 0 });
      }

      // Learn how long an import takes to start and when the kill comes, for the next run's timing.
      timing.killOffsetMs = (timing.killOffsetMs + killOffsetMs) / 2;
      for (const { plan, state } of importers) {
        const job = await store.db.selectFrom('jobs').select(['started_at']).where('type', '=', 'import').where('params', 'like', `%${plan.prefix}import.jsonl%`).executeTakeFirst();
        if (job?.started_at && state.spawnedAt) timing.importStartMs = (timing.importStartMs + (Date.parse(job.started_at) - state.spawnedAt)) / 2;
      }

      // Recovery: killed imports are re-queued and re-run to the end (all rows), or refused (none).
      await recover(viaCli);
      for (const { plan } of importers) {
        const n = await itemsWithPrefix(plan.prefix);
        const job = await store.db.selectFrom('jobs').select(['status']).where('type', '=', 'import').where('params', 'like', `%${plan.prefix}import.jsonl%`).executeTakeFirst();
        if (!job) assert.equal(n, 0, `seed ${seed}: import ${plan.prefix} never started but has rows`);
        else if (plan.bad) assert.deepEqual([job.status, n], ['failed', 0], `seed ${seed}: bad import ${plan.prefix} after recovery`);
        else assert.deepEqual([job.status, n], ['succeeded', plan.rows], `seed ${seed}: import ${plan.prefix} after recovery`);
      }
      const left = await store.db.selectFrom('jobs').select(['id', 'status']).where('status', 'in', ['queued', 'running']).execute();
      assert.deepEqual(left, [], `seed ${seed}: jobs left unfinished after recovery`);
      await invariants(`seed ${seed} after recovery`);
      if (viaCli) {
        const v = tessera(['audit-log', 'verify', '--json'], env());
        assert.equal(v.code, 0, `seed ${seed}: tessera audit-log verify: ${v.stdout} ${v.stderr}`);
      }
      // Nothing the driver saw acknowledged was written twice by recovery either.
      await checkAcks(acks, `seed ${seed} after recovery`);
      const newEvents = Number((await store.db.selectFrom('audit_events').select((e) => e.fn.countAll<number>().as('n')).where('seq', '>', seqBefore).where('action', 'in', ['annotation.create', 'annotation.skip']).executeTakeFirstOrThrow()).n);
      assert.ok(newEvents >= acks.length, `seed ${seed}: ${newEvents} annotation events for ${acks.length} acknowledgements`);
      return { seed, readyMs, windowMs: killAfterMs, wallMs: performance.now() - runStart, acks: acks.length, imports: fates, leasesReturned };
    }
  });
}

describe('what the crash test relies on', () => {
  test('`tessera serve` syncs every commit to disk before it acknowledges (SQLite synchronous=FULL)', async () => {
    const t = await freshStore('sqlite');
    try {
      assert.equal(t.store.sqlite!.pragma('synchronous', { simple: true }), 1, 'batch commands: NORMAL');
      assert.equal(syncEveryCommit(t.store), 'FULL');
      assert.equal(t.store.sqlite!.pragma('synchronous', { simple: true }), 2);
      // Still one store: WAL, and a commit after the switch is visible to a second connection.
      assert.equal(t.store.sqlite!.pragma('journal_mode', { simple: true }), 'wal');
      await sql`CREATE TABLE probe (x integer)`.execute(t.store.db);
      await sql`INSERT INTO probe VALUES (1)`.execute(t.store.db);
      assert.equal((await t.store.side().selectFrom('probe' as never).selectAll().execute()).length, 1);
    } finally {
      await t.cleanup();
    }
  });

  test('a store transaction takes the SQLite write lock at BEGIN (imports no longer fail with "database is locked" beside a server)', async () => {
    const t = await freshStore('sqlite');
    const other = new SQLite(t.store.location);
    other.pragma('busy_timeout = 0');
    try {
      await t.store.db.transaction().execute(async (trx) => {
        await trx.selectFrom('projects').selectAll().execute();
        // Deferred BEGIN let another process commit here, and the write below then failed at once.
        assert.throws(() => other.exec('CREATE TABLE probe (x integer)'), /database is locked/);
        await trx.insertInto('projects').values({ name: 'locked-in', created_at: nowIso(), settings: '{}' }).execute();
      });
      other.exec('CREATE TABLE probe (x integer)');
      assert.deepEqual(other.prepare("SELECT COUNT(*) AS n FROM projects WHERE name = 'locked-in'").get(), { n: 1 });
    } finally {
      other.close();
      await t.cleanup();
    }
  });

  test('the CLI loads only the named command’s module (serve starts without the ML stack); the table matches what each module registers', async () => {
    const all = await buildProgram();
    const registered = all.commands.map((c) => c.name()).filter((n) => n !== 'help');
    const listed = COMMAND_MODULES.flatMap((m) => m.commands);
    assert.deepEqual([...registered].sort(), [...listed].sort(), 'every top-level command is listed with its module');
    for (const m of COMMAND_MODULES) {
      for (const name of m.commands) {
        const own = await buildProgram(name);
        assert.deepEqual(own.commands.map((c) => c.name()).sort(), [...m.commands].sort(), `tessera ${name} loads its module alone`);
      }
    }
    assert.deepEqual(registered, listed, 'help lists commands in the table’s order');
  });
});
