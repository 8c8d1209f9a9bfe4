// bench/scale-1m: one 1,000,000-item text project (issue #8 "Scale") on SQLite and PostgreSQL,
// beside the same steps at 100,000 items measured in the same run. Each step runs in a fresh child
// process over the persisted store, so its peak RSS and peak heap are its own; an `open` step
// (open the store, nothing else) gives the floor. If nothing loads the whole project, the memory
// of every step at 1M ≈ at 100k (ratio ≈ 1), and keyset pages cost the same at any depth.
//
// Steps: import (a generated JSONL file streamed through runImport, one transaction), annotate
// (fixture: 3 annotators on 50,000 items, bulk SQL — not a measured figure), list (first page vs
// the page at depth N−50 via keyset; the same with a source-label filter), next-task (nextTask
// from src/label/assignment.ts for a fresh annotator, 30 picks), consensus (rerunConsensus after
// switching the project to Dawid-Skene: every decided item is re-decided), recompute (the same
// re-run again: all answers read, DS fitted, nothing changes), export (JSONL stream to a file).
// Prints figures and ratios only: no wall-clock assertions.
//
// Usage: npx tsx bench/scale-1m.ts [--store sqlite|postgres|both] [--items 1000000]
//          [--baseline 100000] [--annotated 50000] [--seed 1] [--pg postgres://…]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openStore, type Store } from '../src/store/db.ts';
import type { StoreConfig } from '../src/core/config.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const PG = arg('--pg', 'postgres://postgres@127.0.0.1:5432/test');
const LABELS = ['spam', 'ham', 'other'];
const ANNOTATORS = ['ann-1', 'ann-2', 'ann-3'];

interface StepOut {
  seconds: number;
  peakRssMB: number;
  peakHeapMB: number;
  [k: string]: unknown;
}

// ---------------------------------------------------------------- child: one step, one process
async function child(step: string, kind: 'sqlite' | 'postgres', location: string, schema: string, size: number, file: string, annotated: number, seed: number) {
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 10);
  const config: StoreConfig = kind === 'sqlite' ? { kind, location } : { kind, location, schema };
  const store = await openStore(config);
  const t0 = performance.now();
  const extra = await runStep(step, store, size, file, annotated, seed);
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const out: StepOut = { seconds, peakRssMB: process.resourceUsage().maxRSS / 1024, peakHeapMB: peakHeap / 2 ** 20, ...extra };
  process.stdout.write(JSON.stringify(out) + '\n');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

async function timeIt(runs: number, f: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return ms;
}

async function runStep(step: string, store: Store, size: number, file: string, annotated: number, seed: number): Promise<Record<string, unknown>> {
  const { getProject } = await import('../src/store/projects.ts');
  const { cliActor } = await import('../src/store/context.ts');
  const OP = cliActor('cli:bench');
  if (step === 'open') return {};
  if (step === 'import') {
    const { runImport } = await import('../src/ingest/import.ts');
    const t = performance.now();
    const r = await runImport(store, { project: 'scale', path: file, format: 'jsonl', options: { idColumn: 'id', textColumn: 'text', labelColumn: 'label' }, actor: 'bench' });
    const s = (performance.now() - t) / 1000;
    if (r.imported !== size) throw new Error(`imported ${r.imported}, expected ${size}`);
    return { items: r.imported, itemsPerSec: r.imported / s };
  }
  const project = await getProject(store.db, 'scale');
  if (step === 'annotate') {
    const { createTaxonomy } = await import('../src/label/taxonomies.ts');
    const { getLabelSettings, mergeSettings, putLabelSettings } = await import('../src/label/settings.ts');
    const { seedAnnotations } = await import('../test/helpers/scale-fixture.ts');
    await createTaxonomy(store, project, OP, { kind: 'single', labels: LABELS.map((name) => ({ name })) });
    await store.db.transaction().execute(async (trx) => putLabelSettings(trx, project.id, mergeSettings(await getLabelSettings(trx, project.id), { overlap: 3 })));
    const ids = await seedAnnotations(store, project.id, { items: annotated, step: Math.max(1, Math.floor(size / annotated)), annotators: ANNOTATORS, labels: LABELS, accuracy: [0.9, 0.75, 0.6], seed });
    return { annotatedItems: ids.length, answers: ids.length * ANNOTATORS.length };
  }
  if (step === 'list') {
    const { listItems } = await import('../src/store/items.ts');
    // The cursors: the item before the last 50 (depth N−50), found outside the timing.
    const depthAfter = (await store.db.selectFrom('items').select('id').where('project_id', '=', project.id).orderBy('id', 'desc').offset(50).limit(1).executeTakeFirstOrThrow()).id;
    const spamAfter = (await store.db.selectFrom('items').select('id').where('project_id', '=', project.id).where('source_label', '=', 'spam').orderBy('id', 'desc').offset(50).limit(1).executeTakeFirstOrThrow()).id;
    const runs = 30;
    const first = await timeIt(runs, () => listItems(store.db, project.id, { limit: 100 }));
    const deep = await timeIt(runs, () => listItems(store.db, project.id, { after: depthAfter, limit: 100 }));
    const fFirst = await timeIt(runs, () => listItems(store.db, project.id, { limit: 100, sourceLabel: 'spam' }));
    const fDeep = await timeIt(runs, () => listItems(store.db, project.id, { after: spamAfter, limit: 100, sourceLabel: 'spam' }));
    const deepRows = (await listItems(store.db, project.id, { after: depthAfter, limit: 100 })).length;
    return { firstMs: median(first), deepMs: median(deep), filteredFirstMs: median(fFirst), filteredDeepMs: median(fDeep), deepRows, runs };
  }
  if (step === 'next-task') {
    const { nextTask } = await import('../src/label/assignment.ts');
    const now = new Date().toISOString();
    const u = await store.db.insertInto('users').values({ name: 'bench-next', display_name: 'bench-next', token_hash: null, created_at: now }).returning(['id', 'name', 'display_name']).executeTakeFirstOrThrow();
    await store.db.insertInto('memberships').values({ project_id: project.id, user_id: u.id, role: 'annotator' }).execute();
    const user = { id: u.id, name: u.name, displayName: u.display_name } as Parameters<typeof nextTask>[2];
    const held: number[] = [];
    const ms = await timeIt(30, async () => {
      const t = await nextTask(store, project, user, { exclude: held });
      if (!t) throw new Error('no task');
      held.push(t.id);
    });
    return { medianMs: median(ms), p95Ms: p95(ms), picks: ms.length };
  }
  if (step === 'consensus') {
    const { rerunConsensus } = await import('../src/label/settle.ts');
    const { getLabelSettings, mergeSettings, putLabelSettings } = await import('../src/label/settings.ts');
    await store.db.transaction().execute(async (trx) => putLabelSettings(trx, project.id, mergeSettings(await getLabelSettings(trx, project.id), { consensus: { method: 'dawid-skene' } })));
    const t = performance.now();
    const r = await rerunConsensus(store, project, OP);
    return { ...r, consensusSeconds: (performance.now() - t) / 1000 };
  }
  if (step === 'recompute') {
    // The same re-run again: every current answer read and Dawid-Skene fitted, the decided items
    // walked, nothing left to change (what a recompute costs when it is not re-deciding items).
    const { rerunConsensus } = await import('../src/label/settle.ts');
    const t = performance.now();
    const r = await rerunConsensus(store, project, OP);
    return { ...r, recomputeSeconds: (performance.now() - t) / 1000 };
  }
  if (step === 'export') {
    const { openExport } = await import('../src/label/export.ts');
    const { writeFileAtomically } = await import('../src/cli/atomic-file.ts');
    const out = join(tmpdir(), `tessera-scale-export-${process.pid}.jsonl`);
    const t = performance.now();
    const ex = await openExport(store, project, OP, 'jsonl');
    let chunks = 0;
    const bytes = await writeFileAtomically(out, (async function* () {
      for await (const c of ex.chunks()) {
        chunks++;
        yield c;
      }
    })());
    const s = (performance.now() - t) / 1000;
    rmSync(out, { force: true });
    return { exported: ex.items, bytes, chunks, exportSeconds: s };
  }
  throw new Error(`unknown step ${step}`);
}

// ---------------------------------------------------------------- parent
async function parent() {
  const which = arg('--store', 'both');
  const N = Number(arg('--items', '1000000'));
  const BASE = Number(arg('--baseline', String(Math.max(1, Math.round(N / 10)))));
  const ANNOTATED = Number(arg('--annotated', String(Math.min(50000, BASE))));
  const SEED = Number(arg('--seed', '1'));
  const kinds = which === 'both' ? (['sqlite', 'postgres'] as const) : ([which] as Array<'sqlite' | 'postgres'>);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
  const { writeTextJsonl } = await import('../test/helpers/scale-fixture.ts');

  console.log(`bench/scale-1m — protocol: synthetic text projects of ${BASE.toLocaleString('en')} and ${N.toLocaleString('en')} items (JSONL {id,text 5–24 words,label spam|ham|other}, seed ${SEED}),`);
  console.log(`  imported through runImport (one transaction); ${ANNOTATED.toLocaleString('en')} items spread over the project annotated by 3 annotators (accuracy 0.9/0.75/0.6, bulk fixture).`);
  console.log(`  Each step in a fresh child process over the persisted store: peak RSS = its maxRSS, peak heap = heapUsed sampled every 10 ms.`);
  console.log(`  list: median of 30 keyset pages of 100 (first page vs depth N−50; filter source_label=spam, every 3rd item). next-task: 30 picks by a fresh annotator (median, p95).`);
  console.log(`  consensus: rerunConsensus after switching to Dawid-Skene (re-decides items), then again (recompute only). export: JSONL stream to a file. node ${process.version}, ${process.platform}/${process.arch}.`);

  const files = new Map<number, string>();
  for (const n of [BASE, N]) {
    const f = join(dir, `items-${n}.jsonl`);
    await writeTextJsonl(f, n, { seed: SEED, labels: LABELS });
    files.set(n, f);
  }

  for (const kind of kinds) {
    const results = new Map<number, Map<string, StepOut>>();
    for (const n of [BASE, N]) {
      const schema = `bench_scale_${n}`;
      const location = kind === 'sqlite' ? join(dir, `${kind}-${n}`, 'tessera.db') : PG;
      if (kind === 'postgres') await dropSchema(schema);
      const steps = new Map<string, StepOut>();
      for (const step of ['open', 'import', 'annotate', 'list', 'next-task', 'consensus', 'recompute', 'export']) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', step, kind, location, schema, String(n), files.get(n)!, String(ANNOTATED), String(SEED)], { encoding: 'utf8', maxBuffer: 64 << 20 });
        if (r.status !== 0) throw new Error(`${kind} ${n} ${step} failed:\n${r.stderr}`);
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as StepOut;
        steps.set(step, out);
        console.error(`[${kind} ${n}] ${step}: ${JSON.stringify(out)}`);
      }
      if (kind === 'sqlite') console.error(`[${kind} ${n}] store file ${(statSync(location).size / 2 ** 20).toFixed(0)} MB`);
      results.set(n, steps);
      if (kind === 'postgres') await dropSchema(schema);
      else rmSync(join(dir, `${kind}-${n}`), { recursive: true, force: true });
    }
    report(kind, BASE, N, results);
  }
  rmSync(dir, { recursive: true, force: true });
}

function report(kind: string, BASE: number, N: number, results: Map<number, Map<string, StepOut>>) {
  const b = results.get(BASE)!;
  const m = results.get(N)!;
  const f = (x: number, d = 1) => x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
  const k = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
  console.log(`\n${kind}: ${k(BASE)} vs ${k(N)} items`);
  const lines: string[][] = [['step', `figure at ${k(BASE)}`, `figure at ${k(N)}`, 'ratio', `peak RSS ${k(BASE)} / ${k(N)} (ratio)`, `peak heap ${k(BASE)} / ${k(N)} (ratio)`]];
  const mem = (s: string) => [
    `${f(b.get(s)!.peakRssMB, 0)} / ${f(m.get(s)!.peakRssMB, 0)} MB (${f(m.get(s)!.peakRssMB / b.get(s)!.peakRssMB, 2)})`,
    `${f(b.get(s)!.peakHeapMB, 0)} / ${f(m.get(s)!.peakHeapMB, 0)} MB (${f(m.get(s)!.peakHeapMB / b.get(s)!.peakHeapMB, 2)})`,
  ];
  const n = (s: string, key: string) => m.get(s)![key] as number;
  const o = (s: string, key: string) => b.get(s)![key] as number;
  lines.push(['open store (floor)', '', '', '', ...mem('open')]);
  lines.push(['import items/s', f(o('import', 'itemsPerSec'), 0), f(n('import', 'itemsPerSec'), 0), f(n('import', 'itemsPerSec') / o('import', 'itemsPerSec'), 2), ...mem('import')]);
  lines.push(['list: first page ms', f(o('list', 'firstMs'), 2), f(n('list', 'firstMs'), 2), f(n('list', 'firstMs') / o('list', 'firstMs'), 2), ...mem('list')]);
  lines.push([`list: page at depth N−50 ms`, f(o('list', 'deepMs'), 2), f(n('list', 'deepMs'), 2), f(n('list', 'deepMs') / o('list', 'deepMs'), 2), '', '']);
  lines.push(['  deep / first', f(o('list', 'deepMs') / o('list', 'firstMs'), 2), f(n('list', 'deepMs') / n('list', 'firstMs'), 2), '', '', '']);
  lines.push(['list label=spam: first ms', f(o('list', 'filteredFirstMs'), 2), f(n('list', 'filteredFirstMs'), 2), f(n('list', 'filteredFirstMs') / o('list', 'filteredFirstMs'), 2), '', '']);
  lines.push(['list label=spam: at depth ms', f(o('list', 'filteredDeepMs'), 2), f(n('list', 'filteredDeepMs'), 2), f(n('list', 'filteredDeepMs') / o('list', 'filteredDeepMs'), 2), '', '']);
  lines.push(['next-task median / p95 ms', `${f(o('next-task', 'medianMs'), 1)} / ${f(o('next-task', 'p95Ms'), 1)}`, `${f(n('next-task', 'medianMs'), 1)} / ${f(n('next-task', 'p95Ms'), 1)}`, f(n('next-task', 'medianMs') / o('next-task', 'medianMs'), 2), ...mem('next-task')]);
  lines.push([`consensus → DS, re-decides ${o('consensus', 'changed')} items, s`, f(o('consensus', 'consensusSeconds'), 2), f(n('consensus', 'consensusSeconds'), 2), f(n('consensus', 'consensusSeconds') / o('consensus', 'consensusSeconds'), 2), ...mem('consensus')]);
  lines.push([`consensus recompute (DS over ${f(o('annotate', 'answers'), 0)} answers, ${o('recompute', 'changed')} changed), s`, f(o('recompute', 'recomputeSeconds'), 2), f(n('recompute', 'recomputeSeconds'), 2), f(n('recompute', 'recomputeSeconds') / o('recompute', 'recomputeSeconds'), 2), ...mem('recompute')]);
  lines.push([`export stream s (${o('export', 'exported')} labels)`, f(o('export', 'exportSeconds'), 2), f(n('export', 'exportSeconds'), 2), f(n('export', 'exportSeconds') / o('export', 'exportSeconds'), 2), ...mem('export')]);
  lines.push(['(annotate fixture s)', f(o('annotate', 'seconds'), 1), f(n('annotate', 'seconds'), 1), '', ...mem('annotate')]);
  lines.splice(1, 0, lines[0].map(() => '---'));
  console.log(lines.map((r) => `| ${r.join(' | ')} |`).join('\n'));
  console.log(`consensus at ${k(N)}: ${n('consensus', 'items')} decided items, ${n('consensus', 'changed')} changed, ${n('consensus', 'toReview')} to review; export: ${f(n('export', 'bytes') / 2 ** 20, 1)} MB in ${n('export', 'chunks')} chunks`);
}

async function dropSchema(schema: string) {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}

if (process.argv[2] === '--child') {
  const [, , , step, kind, location, schema, size, file, annotated, seed] = process.argv;
  await child(step, kind as 'sqlite' | 'postgres', location, schema, Number(size), file, Number(annotated), Number(seed));
} else {
  await parent();
}
