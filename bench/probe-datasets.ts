// bench/probe-datasets: the early probe on the five shared datasets (issue #3). For each:
// import through the real import path (temp SQLite store), pretrain the modality's default
// pretext on every training item WITHOUT labels, then probe at 10 labels per class and at 100
// labels: kNN and linear probes for the SSL encoder, the same architecture randomly
// initialised, and raw features — mean over 3 probe seeds, on each dataset's official test
// split where it has one (FSDD: recording index 0–4; TREC: TREC.test; NSL-KDD: KDDTest+),
// else a seeded 80/20 split (SMS Spam, digits; seed 0).
// Usage: npx tsx bench/probe-datasets.ts [--only sms-spam,digits] [--epochs-scale 1] [--seeds 3] [--workers 2]
//        npx tsx bench/probe-datasets.ts --only fsdd --encoders DIR[,DIR…]
// --encoders probes saved encoders (Encoder.save folders, e.g. bench/.cache/encoders/…) side by
// side on the same probe splits instead of pretraining one: an A/B of pretext settings.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../src/store/db.ts';
import { runImport } from '../src/ingest/import.ts';
import { getProject } from '../src/store/projects.ts';
import { loadModalityData, subsetData } from '../src/ssl/data.ts';
import { pretrain, randomEncoder, defaultPretext, loadEncoder, type Encoder } from '../src/ssl/index.ts';
import { SslEncoder } from '../src/ssl/encoder.ts';
import { chooseProbeSplit, labelIndex, probeReport, type ProbeReport } from '../src/probe/probe.ts';
import { rawFeatures } from '../src/probe/raw.ts';
import { selectRows } from '../src/probe/features.ts';
import { BENCH_DATASETS, FASHION_MNIST_DIR, type BenchSource } from './label-efficiency/datasets.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const D = resolve(import.meta.dirname, '../../shared/datasets');
const SEEDS = Array.from({ length: Number(arg('--seeds', '3')) }, (_, i) => i);
const SCALE = Number(arg('--epochs-scale', '1'));
const WORKERS = Number(arg('--workers', '2'));

interface Spec {
  name: string;
  sources: BenchSource[];
  epochs: number;
  batch: number;
  /** Which loaded rows are test rows when there is no test file. */
  testRows?: (meta: Array<Record<string, unknown>>) => boolean[];
}

// The label-efficiency bench's datasets, splits and pretraining settings (one table, so the two
// benches cannot drift apart); Fashion-MNIST is not probed.
const SPECS: Spec[] = (['sms-spam', 'trec', 'digits', 'fsdd', 'nsl-kdd'] as const).map((name) => {
  const b = BENCH_DATASETS[name];
  return { name, sources: b.sources({ datasets: D, fashion: FASHION_MNIST_DIR }), epochs: b.epochs, batch: b.batch, testRows: b.testRows };
});

const only = arg('--only', '');
const specs = only ? SPECS.filter((s) => only.split(',').includes(s.name)) : SPECS;
const encoderDirs = arg('--encoders', '').split(',').filter(Boolean);
if (encoderDirs.length && specs.length !== 1) throw new Error('--encoders needs --only with exactly one dataset (the one the encoders were trained on)');
const dir = mkdtempSync(join(tmpdir(), 'tessera-probe-bench-'));
const store = await openStore({ kind: 'sqlite', location: join(dir, 'tessera.db') });
console.log(`bench/probe-datasets — protocol: ${encoderDirs.length ? `saved encoders ${encoderDirs.join(', ')} (nothing pretrained)` : `default pretext per modality, pretrained on the training items only (no labels) on ${WORKERS} worker thread(s)`}, probes at 10/class and 100 labels, mean over probe seeds ${SEEDS.join(',')}; kNN k=5 cosine; linear = L2 logistic regression (λ by 3-fold CV); the random-init baseline is each encoder's architecture and config, untrained. node ${process.version}`);
const results: Record<string, unknown> = {};

for (const spec of specs) {
  const t0 = performance.now();
  for (const s of spec.sources) await runImport(store, { project: spec.name, path: s.path, format: s.format, options: s.options ?? {}, actor: 'bench', region: s.role });
  const project = await getProject(store.db, spec.name);
  const loaded = await loadModalityData(store, project.id, (await store.db.selectFrom('items').select('modality').where('project_id', '=', project.id).executeTakeFirstOrThrow()).modality, { sampleRate: project.settings.sampleRate });
  // The import's region tag marks each item's role (train/test file); FSDD/SMS/digits split by rule.
  const rows = await store.db.selectFrom('items').select(['id', 'residency', 'meta']).where('project_id', '=', project.id).orderBy('id').execute();
  const metas = rows.map((r) => JSON.parse(r.meta) as Record<string, unknown>);
  const isTest = spec.testRows ? spec.testRows(metas) : rows.map((r) => r.residency === 'test');
  const trainRows = rows.map((_, i) => i).filter((i) => !isTest[i]);
  const testRows = rows.map((_, i) => i).filter((i) => isTest[i]);
  const { y, classes } = labelIndex(loaded.labels);
  const raw = await rawFeatures(loaded.data);
  const out: Record<string, unknown> = { train: trainRows.length, test: testRows.length, classes: classes.length };
  const encoders: Array<{ name: string; encoder: Encoder }> = [];
  const perEncoder: Record<string, unknown> = {};
  if (encoderDirs.length) {
    for (const d of encoderDirs) encoders.push({ name: d, encoder: await loadEncoder(d) });
  } else {
    const trainData = subsetData(loaded.data, trainRows);
    const pretext = defaultPretext(loaded.data.modality);
    const epochs = Math.max(1, Math.round(spec.epochs * SCALE));
    const tp = performance.now();
    const res = await pretrain(trainData, { pretext, epochs, batch: spec.batch, seed: 0, workers: WORKERS });
    const pretrainSeconds = (performance.now() - tp) / 1000;
    Object.assign(out, { pretext, epochs, batch: spec.batch, pretrainSeconds, finalLoss: res.finalLoss });
    console.log(`${spec.name.padEnd(9)} ${pretext}, ${epochs} epochs on ${trainRows.length} items: ${pretrainSeconds.toFixed(0)} s pretraining, final loss ${res.finalLoss.toFixed(3)}`);
    encoders.push({ name: 'pretrained now', encoder: res.encoder });
  }
  for (const { name, encoder } of encoders) {
    if (encoders.length > 1) console.log(`${spec.name.padEnd(9)} encoder ${name} (${encoder.pretext})`);
    const byLabels: Record<string, unknown> = {};
    for (const [label, n] of [['10/class', 10 * classes.length], ['100', 100]] as const) {
      const reports: ProbeReport[] = [];
      for (const seed of SEEDS) {
        const split = chooseProbeSplit(y, n, seed, { trainPool: trainRows, testPool: testRows, testMax: 100_000 });
        const idx = [...split.train, ...split.test];
        const sub = subsetData(loaded.data, idx);
        // The same architecture as the encoder probed (a saved one may have a non-default config).
        const rnd = await randomEncoder(sub, { pretext: encoder.pretext, seed, config: encoder instanceof SslEncoder ? encoder.config : undefined });
        const reps = { ssl: { rows: idx.length, dim: encoder.dim, data: await encoder.embed(sub) }, random_init: { rows: idx.length, dim: rnd.dim, data: await rnd.embed(sub) }, raw: selectRows(raw, idx) };
        rnd.dispose();
        reports.push(probeReport(reps, y, classes, split, seed));
      }
      const mean = (f: (r: ProbeReport) => number) => reports.reduce((a, r) => a + f(r), 0) / reports.length;
      const table: Record<string, Record<string, number>> = {};
      for (const rep of ['ssl', 'random_init', 'raw'] as const) {
        table[rep] = { knn: mean((r) => r.representations[rep].knn), linear: mean((r) => r.representations[rep].linear), linearMacroF1: mean((r) => r.representations[rep].linearMacroF1) };
      }
      byLabels[label] = { labels: reports[0].labels, ...table, verdicts: reports.map((r) => r.verdict.text) };
      const pct = (v: number) => `${(v * 100).toFixed(1)}`.padStart(5);
      console.log(`${spec.name.padEnd(9)} ${label.padEnd(8)} n=${String(reports[0].labels).padEnd(4)} ` + ['ssl', 'random_init', 'raw'].map((r) => `${r} kNN ${pct(table[r].knn)} lin ${pct(table[r].linear)}`).join(' | ') + `  → ${reports[0].verdict.sslHelps ? 'SSL helps' : 'SSL does not help'} (${reports.map((r) => r.verdict.margin).join(', ')} pts)`);
    }
    encoder.dispose();
    if (encoderDirs.length) perEncoder[name] = byLabels;
    else Object.assign(out, byLabels);
  }
  if (encoderDirs.length) out.encoders = perEncoder;
  console.log(`${spec.name.padEnd(9)} total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  results[spec.name] = out;
}
await store.close();
rmSync(dir, { recursive: true, force: true });
mkdirSync(resolve(import.meta.dirname, 'out'), { recursive: true });
writeFileSync(resolve(import.meta.dirname, 'out', 'probe-datasets.json'), JSON.stringify(results, null, 2));
