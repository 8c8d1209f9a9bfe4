/**
 * The label-efficiency benchmark's data: the shared datasets and their official splits, or a
 * labelled text CSV pair, imported through the real import path into a temporary SQLite store
 * and decoded into positions, classes and the train/test split.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../../src/core/errors.ts';
import type { Modality } from '../../src/core/modality.ts';
import { mulberry32 } from '../../src/core/rng.ts';
import { ImportRejectedError, runImport } from '../../src/ingest/import.ts';
import type { Format, ReaderOptions } from '../../src/ingest/types.ts';
import { openStore } from '../../src/store/db.ts';
import { getProject } from '../../src/store/projects.ts';
import { loadModalityData } from '../../src/ssl/data.ts';
import type { ModalityData } from '../../src/ssl/index.ts';
import { FASHION_MNIST_DIR, type BenchDatasetName, type LabelEfficiencyOptions } from '../../src/cli/label-efficiency-contract.ts';

export { FASHION_MNIST_DIR };

/** One file or folder of a bench dataset and the split its items belong to. */
export interface BenchSource {
  path: string;
  format?: Format;
  options?: ReaderOptions;
  role: 'train' | 'test';
}

interface DatasetSpec {
  sources(dirs: { datasets: string; fashion: string }): BenchSource[];
  /** Default pretraining epochs and batch (bench/probe-datasets.ts uses them too). */
  epochs: number;
  batch: number;
  /** Which rows are test rows when there is no test file. */
  testRows?: (meta: Array<Record<string, unknown>>) => boolean[];
  split: string;
}

const seededHoldout = (meta: unknown[]) => {
  const r = mulberry32(0);
  return meta.map(() => r() < 0.2);
};

/** The shared datasets (../shared/datasets) and their official splits; bench/probe-datasets.ts probes the first five. */
export const BENCH_DATASETS: Record<BenchDatasetName, DatasetSpec> = {
  'sms-spam': { sources: (d) => [{ path: join(d.datasets, 'text/sms-spam/SMSSpamCollection'), role: 'train' }], epochs: 8, batch: 128, testRows: seededHoldout, split: 'seeded 80/20 (mulberry32(0), r < 0.2 → test, in file order)' },
  trec: {
    sources: (d) => [
      { path: join(d.datasets, 'text/trec/TREC.train'), role: 'train' },
      { path: join(d.datasets, 'text/trec/TREC.test'), role: 'test' },
    ],
    epochs: 10,
    batch: 128,
    split: 'official: TREC.train / TREC.test',
  },
  digits: { sources: (d) => [{ path: join(d.datasets, 'images/digits/digits.csv.gz'), role: 'train' }], epochs: 40, batch: 256, testRows: seededHoldout, split: 'seeded 80/20 (mulberry32(0), r < 0.2 → test, in file order)' },
  fsdd: {
    sources: (d) => [{ path: join(d.datasets, 'audio/fsdd/recordings'), format: 'wav', options: { labelPattern: '{label}_{speaker}_{index}.wav' }, role: 'train' }],
    // 100, not 20: the frozen probe rose 82.0 → 89.2% and ssl_active at 100 labels 88.7 → 92.0%.
    epochs: 100,
    batch: 128,
    testRows: (meta) => meta.map((m) => Number(m.index) <= 4),
    split: 'official: recording index 0–4 → test',
  },
  'nsl-kdd': {
    sources: (d) => [
      { path: join(d.datasets, 'tabular/nsl-kdd/KDDTrain+_20Percent.txt'), role: 'train' },
      { path: join(d.datasets, 'tabular/nsl-kdd/KDDTest+.txt'), role: 'test' },
    ],
    epochs: 10,
    batch: 256,
    split: 'official: KDDTrain+_20Percent / KDDTest+',
  },
  'fashion-mnist': {
    sources: (d) => [
      { path: join(d.fashion, 'train-images-idx3-ubyte.gz'), format: 'idx', role: 'train' },
      { path: join(d.fashion, 't10k-images-idx3-ubyte.gz'), format: 'idx', role: 'test' },
    ],
    epochs: 20,
    batch: 256,
    split: 'official: 60,000 train / 10,000 test',
  },
};

export interface BenchData {
  name: string;
  modality: Modality;
  data: ModalityData;
  labels: Array<string | null>;
  /** Positions of the training items (labelled or not: all are pretraining data). */
  train: number[];
  /** Positions of the labelled test items. */
  test: number[];
  classes: string[];
  /** Class id per position, −1 when unlabelled. */
  y: Int32Array;
  split: string;
  pretrainEpochs: number;
  pretrainBatch: number;
}

type DataOptions = Pick<LabelEfficiencyOptions, 'dataset' | 'csv' | 'datasetsDir' | 'fashionDir'>;

async function importOrExplain(store: Awaited<ReturnType<typeof openStore>>, project: string, s: BenchSource): Promise<void> {
  if (!existsSync(s.path)) throw new UserError(`${s.path}: no such file or folder`);
  try {
    await runImport(store, { project, path: s.path, format: s.format, options: s.options ?? {}, actor: 'bench', region: s.role });
  } catch (e) {
    if (e instanceof ImportRejectedError) {
      const [first] = e.report.errors;
      const more = e.report.rejected > 1 ? ` (and ${e.report.rejected - 1} more rejected record(s))` : '';
      throw new UserError(`malformed ${s.role} file ${s.path}: ${first ? `${first.where}: ${first.message}` : 'records rejected'}${more}`);
    }
    throw e;
  }
}

/** The dataset's name, its files with their roles, and its spec (none for a CSV pair). */
function benchSources(opts: DataOptions): { name: string; sources: BenchSource[]; spec?: DatasetSpec } {
  if (opts.dataset !== undefined) {
    const spec = Object.hasOwn(BENCH_DATASETS, opts.dataset) ? BENCH_DATASETS[opts.dataset as BenchDatasetName] : undefined;
    if (!spec) throw new UserError(`unknown dataset "${opts.dataset}" (known: ${Object.keys(BENCH_DATASETS).join(', ')}); or give --train/--test/--text-column/--label-column`);
    if (opts.dataset === 'fashion-mnist' && !existsSync(opts.fashionDir)) {
      throw new UserError(`Fashion-MNIST not found in ${opts.fashionDir} (apt-get install -y dataset-fashion-mnist)`);
    }
    return { name: opts.dataset, sources: spec.sources({ datasets: opts.datasetsDir, fashion: opts.fashionDir }), spec };
  }
  if (!opts.csv) throw new UserError('give --dataset NAME, or --train FILE --test FILE --text-column C --label-column L');
  const c = opts.csv;
  const csvOpts: ReaderOptions = { textColumn: c.textColumn, labelColumn: c.labelColumn };
  return {
    name: `csv-${basename(c.train).replace(/\.[^.]*$/, '')}`,
    sources: [
      { path: resolve(c.train), format: 'csv', options: csvOpts, role: 'train' },
      { path: resolve(c.test), format: 'csv', options: csvOpts, role: 'test' },
    ],
  };
}

/** Imports the dataset through the real import path into a temporary SQLite store and decodes it. */
export async function loadBenchData(opts: DataOptions): Promise<BenchData> {
  const { name, sources, spec } = benchSources(opts);
  const dir = await mkdtemp(join(tmpdir(), 'tessera-label-efficiency-'));
  const store = await openStore({ kind: 'sqlite', location: join(dir, 'bench.db') });
  try {
    for (const s of sources) await importOrExplain(store, 'bench', s);
    const project = await getProject(store.db, 'bench');
    const first = await store.db.selectFrom('items').select('modality').where('project_id', '=', project.id).executeTakeFirst();
    if (!first) throw new UserError(`${sources.map((s) => s.path).join(', ')}: no items imported`);
    const loaded = await loadModalityData(store, project.id, first.modality, { sampleRate: project.settings.sampleRate });
    const rows = await store.db.selectFrom('items').select(['id', 'residency', 'meta']).where('project_id', '=', project.id).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const info = loaded.itemIds.map((id) => byId.get(id)!);
    const isTest = spec?.testRows ? spec.testRows(info.map((r) => JSON.parse(r.meta) as Record<string, unknown>)) : info.map((r) => r.residency === 'test');
    const split = splitPositions(loaded.labels, isTest, opts, name);
    return {
      name,
      modality: first.modality,
      data: loaded.data,
      labels: loaded.labels,
      ...split,
      split: spec?.split ?? `the given files: ${basename(sources[0].path)} (train) / ${basename(sources[1].path)} (test)`,
      pretrainEpochs: spec?.epochs ?? 8,
      pretrainBatch: spec?.batch ?? 128,
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Classes (sorted), class ids and the train/test positions; refuses data a benchmark cannot run on. */
function splitPositions(labels: Array<string | null>, isTest: boolean[], opts: DataOptions, name: string): Pick<BenchData, 'classes' | 'y' | 'train' | 'test'> {
  const classes = [...new Set(labels.filter((l): l is string => l !== null))].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from(labels, (l) => (l === null ? -1 : index.get(l)!));
  const train = labels.map((_, i) => i).filter((i) => !isTest[i]);
  const test = labels.map((_, i) => i).filter((i) => isTest[i] && y[i] >= 0);
  const where = opts.csv ? opts.csv.train : name;
  if (classes.length < 2) throw new UserError(`${where}: needs labels of at least 2 classes, found ${classes.length}${opts.csv ? ` in column "${opts.csv.labelColumn}"` : ''}`);
  if (test.length === 0) throw new UserError(`${opts.csv ? opts.csv.test : name}: no labelled test items`);
  if (!train.some((i) => y[i] >= 0)) throw new UserError(`${where}: no labelled training items`);
  return { classes, y, train, test };
}
