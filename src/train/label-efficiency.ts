/**
 * The label-efficiency benchmark behind `tessera bench label-efficiency`: how much accuracy a
 * label budget buys with SSL + active learning, against random labels and against training
 * from scratch, on one dataset (a shared benchmark set or any labelled text CSV pair).
 *
 * Arms (every one on the same held-out test split, which is never selected from):
 *  - ssl_active:     the SSL encoder (the modality's default pretext or `pretext`, pretrained on
 *                    the training items without labels, cached); labels bought in rounds — round 0
 *                    TypiClust (cold start), then the strategy on a linear head over the frozen SSL
 *                    embeddings (`selectWith: 'model'`: on the previous round's trained classifier's
 *                    calibrated probabilities); then trained.
 *  - ssl_random:     the same encoder and training, labels drawn uniformly at random (seeded).
 *  - scratch_random: the same architecture randomly initialised (`randomEncoder` with the SSL
 *                    encoder's pretext and config), the same random labels, augmentation,
 *                    regularisation and budget.
 *  - full_supervised: the SSL encoder with every training label (epochs capped for big sets).
 * "Trained" = the better on a validation split (20% of the labels, stratified) of a linear head on
 * the frozen encoder and full fine-tuning (src/train/fine-tune.ts; FixMatch on the unlabelled
 * pool with `fixmatch`); the linear head is refitted on every label when it wins
 * (src/train/train-classifier.ts, shared with the loop). Every fine-tuning run, in every arm, runs
 * at least `minSteps` optimiser steps before early stopping may end it (an epoch of 600 labels is
 * ~15 steps: patience counted in epochs alone stopped the scratch arm after ~100 steps).
 * `refit` trains every fine-tuned winner once more on all its labels, the validation items too
 * (src/train/train-classifier.ts), in every arm and curve point. Every fine-tuning schedule runs
 * to its end and keeps its last weights (`keep: 'best'`: early stopping, best-validation weights).
 * `noisyStudent` adds noisy-student self-training on the unlabelled training items to every budget
 * arm's final training (src/train/noisy-student.ts), kept only when it validates better.
 * The learning curve (test accuracy after each round) of both SSL arms gives labelsTo95pct: the
 * labels needed to reach 95% of full_supervised's accuracy (src/loop/economics.ts labelsToReach),
 * null when a curve never gets there within the budget.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import type { Modality } from '../core/modality.ts';
import { mulberry32, shuffled } from '../core/rng.ts';
import { ImportRejectedError, runImport } from '../ingest/import.ts';
import type { Format, ReaderOptions } from '../ingest/types.ts';
import { openStore } from '../store/db.ts';
import { getProject } from '../store/projects.ts';
import { loadModalityData, subsetData } from '../ssl/data.ts';
import { defaultPretext, loadEncoder, pretextsFor, pretrain, randomEncoder, type Encoder, type ModalityData } from '../ssl/index.ts';
import { SslEncoder } from '../ssl/encoder.ts';
import { selectRows, type Features } from '../probe/features.ts';
import { STRATEGIES } from '../select/index.ts';
import { activeLearningVerdict, labelsToReach, type CurvePoint } from '../loop/economics.ts';
import { fitHead, headProba, metricsFromProba } from './linear-head.ts';
import { FINE_TUNE_DEFAULTS, snapshotEncoder } from './fine-tune.ts';
import { TRAIN_METHODS, trainClassifier, type TrainedClassifier, type TrainMethod } from './train-classifier.ts';
import { FIXMATCH_DEFAULTS, resolveFixMatch, type FixMatchOptions } from './fixmatch.ts';
import { NOISY_STUDENT_DEFAULTS, limitPool, type NoisyStudentOptions } from './noisy-student.ts';
import { learningCurveSvg } from './curve-svg.ts';
import { viewsFor } from './views.ts';
import { PRIOR_SHIFT_POOL } from './prior-shift.ts';
import { runArmTasks } from './label-efficiency-jobs.ts';

export const ARMS = ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised'] as const;
export type Arm = (typeof ARMS)[number];

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

/** Where Debian's dataset-fashion-mnist package puts the IDX files: the benches' default fashionDir. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The shared datasets (../shared/datasets) and their official splits; bench/probe-datasets.ts probes the first five. */
export const BENCH_DATASETS: Record<string, DatasetSpec> = {
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
    // 100, not 20: the frozen probe rose 82.0 → 89.2% and ssl_active at 100 labels 88.7 → 92.0% (README ²⁸).
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

export interface LabelEfficiencyOptions {
  /** A BENCH_DATASETS name, or… */
  dataset?: string;
  /** …a labelled text CSV pair. */
  csv?: { train: string; test: string; textColumn: string; labelColumn: string };
  budget: number;
  /** Active-learning strategy after round 0 (a src/select STRATEGIES name; default badge). */
  strategy: string;
  seed: number;
  /** Selection rounds (round 0 = TypiClust cold start); the learning curve has one point per round. */
  rounds: number;
  /**
   * FixMatch on the unlabelled training items: in every fine-tuning run (`true`), or only in each
   * budget arm's final training (`'final'`: the learning curves' earlier rounds train without it;
   * a FixMatch step on Fashion-MNIST costs ~6× a plain one, as it also runs μ = 7 unlabelled
   * batches in two views).
   */
  fixmatch: boolean | 'final';
  /**
   * FixMatch's settings where not the paper's (τ 0.95, μ 7, λu 1); only with `fixmatch`. A smaller
   * μ makes a step cheaper where the unlabelled forward passes dominate (audio: ~2.7 s a step at μ 7).
   */
  fixmatchSettings?: FixMatchOptions;
  /** Use this saved encoder instead of the cache. */
  encoderDir?: string;
  /** Pretext to pretrain with (default: the modality's, defaultPretext); not with `encoderDir`, which has its own. */
  pretext?: string;
  pretrainEpochs?: number;
  /** Encoder cache root (bench/.cache/encoders). */
  cacheDir: string;
  /** ../shared/datasets and the Fashion-MNIST folder. */
  datasetsDir: string;
  fashionDir: string;
  /** Most fine-tuning epochs for the budget arms (default FINE_TUNE_DEFAULTS.epochs). */
  epochs?: number;
  /** Fine-tuning steps full_supervised gets at most (its epochs are capped to fit; default 600). */
  fullSteps?: number;
  /** Or an explicit epoch cap for full_supervised. */
  fullEpochs?: number;
  /**
   * Every fine-tuning run's training budget floor in optimiser steps (FineTuneOptions.minSteps;
   * default BENCH_STEPS_PER_EPOCH × the epochs, 1,200 at 30), the same for every arm: a run is
   * planned for at least that many steps and early stopping may not end it sooner.
   */
  minSteps?: number;
  /**
   * Noisy-student self-training on the unlabelled training items (src/train/noisy-student.ts) in
   * each budget arm's final training (the reported results; the learning curves' earlier rounds
   * train without it, to bound the cost): the student replaces the trained classifier only when it
   * validates better; the report gives both test accuracies.
   */
  noisyStudent?: boolean | NoisyStudentOptions;
  /**
   * Every fine-tuned winner is trained again on all its labels, the validation items too, for the
   * first run's learning-rate schedule replayed to its validated step (TrainClassifierOptions.refit),
   * in every arm and round. Not with noisy student.
   */
  refit?: boolean;
  /**
   * In every arm and round, the average of the probabilities of the linear head and of this many
   * fine-tuned models (1–8; 0 or absent: off; the head weighs one half, the networks' mean the other) competes on the validation split as a third
   * candidate and wins when it validates strictly better than both the head and the first
   * fine-tuning run (TrainClassifierOptions.ensemble). Only with --method auto, not with noisy student.
   */
  ensemble?: number;
  /**
   * With `ensemble`: in the SSL arms the ensemble candidate also averages a network fine-tuned from
   * the random-init encoder (scratch_random's) on the same training part, as a third member
   * weighing as much as the head and the SSL networks (TrainClassifierInput.scratchEncoder).
   */
  ensembleScratch?: boolean;
  /**
   * Which weights every fine-tuning run keeps (FineTuneOptions.keep): 'final' (default) — the
   * whole schedule, last weights; 'best' — early stopping on the validation split, best weights
   * restored (the default before 2026-12-02: on 20 validation items the chosen epoch was mostly
   * chance, and 'final' measured better on digits, SMS Spam and FSDD). The same for every arm.
   */
  keep?: 'best' | 'final';
  /**
   * Whose probabilities the uncertainty strategies read in rounds ≥ 1: 'head' (default) — a linear
   * head fitted on the frozen SSL embeddings of the labels so far; 'model' — the classifier the
   * previous round trained and reported (fine-tuned when fine-tuning won validation), calibrated.
   * Geometry (TypiClust, k-center, BADGE's embeddings) stays on the frozen SSL embeddings.
   */
  selectWith?: 'head' | 'model';
  /**
   * How every arm's classifier is trained (TrainClassifierOptions.method): 'auto' (default) — the
   * better on the validation split of a linear head and fine-tuning; 'linear' or 'fine-tune' —
   * that one only, whatever the validation split says (TrainClassifierOptions.method). The same
   * for every arm.
   */
  train?: TrainMethod;
  /**
   * Every trained classifier's probabilities are moved from its labels' class prior to the prior
   * EM estimates on (up to PRIOR_SHIFT_POOL of) the unlabelled training items
   * (TrainClassifierOptions.priorShift, src/train/prior-shift.ts), in every arm and round: active
   * selection skews the labels' class mix away from the pool's. Not with noisy student.
   */
  priorShift?: boolean;
  /**
   * Every model, in every arm and round, predicts (on validation too) by averaging its logits over
   * the test-time views: the image and its one-pixel shifts (TrainClassifierOptions.tta,
   * src/train/views.ts); the linear heads read those views' frozen embeddings (`embedViews`,
   * TrainClassifierInput.ttaFeatures) and train on them too. Image datasets only.
   */
  tta?: boolean;
  /** The SSL arms' encoder learning rate as a fraction of the head's (default 0.1, LP-FT's protection of pretrained features; scratch always uses 1). */
  sslEncoderLrRatio?: number;
  /**
   * Processes (worker threads: the wasm engine runs one thread per isolate) sharing the arms' tasks
   * (default 1). Every task starts its encoders from their initial weights and is seeded alike, so
   * the numbers are those of one job; the wall time is about the longest job's.
   */
  jobs?: number;
  /** Where to write the JSON report and the SVG (the SVG defaults to the report's path with .svg). */
  reportPath: string;
  svgPath?: string;
  log(line: string): void;
}

export interface ArmScore {
  labels: number;
  accuracy: number;
  macroF1: number;
  ece: number;
  /** What won on validation. */
  method: TrainedClassifier['method'];
  valLinear: number | null;
  valFineTune: number | null;
  /** The ensemble's averaged probabilities on validation (with `ensemble`; null otherwise or when fine-tuning did not move). */
  valEnsemble: number | null;
  /** The ensemble's random-init network alone on validation (with `ensembleScratch`, SSL arms; null otherwise). */
  valScratch: number | null;
  /** Fine-tuned models in the classifier: 0 (linear head), 1, or the ensemble's count when it won. */
  fineTunedModels: number;
  fineTuneEpochs: number | null;
  /** The epoch whose weights fine-tuning kept (0 = it never beat its linear-probe start). */
  fineTuneBestEpoch: number | null;
  /** Noisy student (when enabled): the teacher's and the student's validation and test accuracy, the pseudo-labels. */
  noisyStudent: NoisyStudentScore | null;
  /** The refit on every label (when enabled and fine-tuning won): the validated step count and the refit's. */
  refit: { validatedSteps: number; steps: number } | null;
  /** The prior correction (when enabled): the labels' class prior and the one EM estimated on the unlabelled items, by class. */
  priorShift: TrainedClassifier['priorShift'];
  seconds: number;
}

export interface NoisyStudentScore {
  teacher: string;
  pseudoLabels: number;
  perClass: number[];
  /** Fraction of the pseudo-labels equal to the item's true label (the benchmark knows it; the method never reads it). */
  pseudoLabelAccuracy: number | null;
  predicted: number;
  valTeacher: number | null;
  valStudent: number | null;
  /** Test accuracy of the teacher (= the arm without noisy student) and of whichever was kept. */
  testTeacher: number | null;
  testKept: number;
  studentSteps: number | null;
  studentWon: boolean;
}

/**
 * The benchmark's training budget floor per fine-tuning epoch asked for: every run is planned for
 * at least this × `epochs` steps of batch 32 (1,200 at the default 30 epochs ≈ 80 passes over 480
 * training labels), whatever its labelled set's size.
 */
export const BENCH_STEPS_PER_EPOCH = 40;

/**
 * Pool for pseudo-labelling: training positions outside the labelled set. Test positions are
 * never in it; a caller whose lists overlap gets an error rather than a leak.
 */
export function unlabelledCandidates(train: readonly number[], labelled: readonly number[], test: readonly number[]): number[] {
  const testSet = new Set(test);
  const leaked = train.find((p) => testSet.has(p));
  if (leaked !== undefined) throw new Error(`position ${leaked} is both a training and a test item`);
  const l = new Set(labelled);
  return train.filter((p) => !l.has(p));
}

export interface LabelEfficiencyReport {
  dataset: string;
  budget: number;
  strategy: string;
  seed: number;
  seconds: number;
  results: Record<Arm, { accuracy: number; macroF1: number }>;
  labelsTo95pct: { active: number | null; random: number | null };
  details: Record<string, unknown>;
}

interface BenchData {
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

/** Imports the dataset through the real import path into a temporary SQLite store and decodes it. */
export async function loadBenchData(opts: Pick<LabelEfficiencyOptions, 'dataset' | 'csv' | 'datasetsDir' | 'fashionDir'>): Promise<BenchData> {
  let name: string;
  let sources: BenchSource[];
  let spec: DatasetSpec | undefined;
  if (opts.dataset !== undefined) {
    spec = Object.hasOwn(BENCH_DATASETS, opts.dataset) ? BENCH_DATASETS[opts.dataset] : undefined;
    if (!spec) throw new UserError(`unknown dataset "${opts.dataset}" (known: ${Object.keys(BENCH_DATASETS).join(', ')}); or give --train/--test/--text-column/--label-column`);
    if (opts.dataset === 'fashion-mnist' && !existsSync(opts.fashionDir)) {
      throw new UserError(`Fashion-MNIST not found in ${opts.fashionDir} (apt-get install -y dataset-fashion-mnist)`);
    }
    name = opts.dataset;
    sources = spec.sources({ datasets: opts.datasetsDir, fashion: opts.fashionDir });
  } else if (opts.csv) {
    const c = opts.csv;
    name = `csv-${basename(c.train).replace(/\.[^.]*$/, '')}`;
    const csvOpts: ReaderOptions = { textColumn: c.textColumn, labelColumn: c.labelColumn };
    sources = [
      { path: resolve(c.train), format: 'csv', options: csvOpts, role: 'train' },
      { path: resolve(c.test), format: 'csv', options: csvOpts, role: 'test' },
    ];
  } else throw new UserError('give --dataset NAME, or --train FILE --test FILE --text-column C --label-column L');

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
    const classes = [...new Set(loaded.labels.filter((l): l is string => l !== null))].sort();
    const index = new Map(classes.map((c, i) => [c, i]));
    const y = Int32Array.from(loaded.labels, (l) => (l === null ? -1 : index.get(l)!));
    const train = info.map((_, i) => i).filter((i) => !isTest[i]);
    const test = info.map((_, i) => i).filter((i) => isTest[i] && y[i] >= 0);
    const where = opts.csv ? opts.csv.train : name;
    if (classes.length < 2) throw new UserError(`${where}: needs labels of at least 2 classes, found ${classes.length}${opts.csv ? ` in column "${opts.csv.labelColumn}"` : ''}`);
    if (test.length === 0) throw new UserError(`${opts.csv ? opts.csv.test : name}: no labelled test items`);
    if (!train.some((i) => y[i] >= 0)) throw new UserError(`${where}: no labelled training items`);
    return {
      name,
      modality: first.modality,
      data: loaded.data,
      labels: loaded.labels,
      train,
      test,
      classes,
      y,
      split: spec?.split ?? `the given files: ${basename(sources[0].path)} (train) / ${basename(sources[1].path)} (test)`,
      pretrainEpochs: spec?.epochs ?? 8,
      pretrainBatch: spec?.batch ?? 128,
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The default report file name's variant suffix, shared by `tessera bench` and bench/label-efficiency.ts. */
export function reportSuffix(o: { fixmatch: boolean | 'final'; fixmatchSettings?: FixMatchOptions; noisyStudent?: boolean; refit?: boolean; ensemble?: number; ensembleScratch?: boolean; keep?: 'best' | 'final'; pretext?: string; selectWith?: 'head' | 'model'; train?: TrainMethod; priorShift?: boolean; tta?: boolean }): string {
  const fm = o.fixmatchSettings ?? {};
  const fmSettings = `${fm.mu !== undefined && fm.mu !== FIXMATCH_DEFAULTS.mu ? `-mu${fm.mu}` : ''}${fm.tau !== undefined && fm.tau !== FIXMATCH_DEFAULTS.tau ? `-tau${fm.tau}` : ''}`;
  return `${o.pretext ? `-${o.pretext}` : ''}${o.train && o.train !== 'auto' ? `-${o.train}` : ''}${o.fixmatch ? `-fixmatch${o.fixmatch === 'final' ? '-final' : ''}${fmSettings}` : ''}${o.noisyStudent ? '-noisy-student' : ''}${o.refit ? '-refit' : ''}${o.ensemble ? `-ensemble${o.ensemble > 1 ? o.ensemble : ''}${o.ensembleScratch ? '-scratch' : ''}` : ''}${o.keep === 'best' ? '-keep-best' : ''}${o.selectWith === 'model' ? '-select-model' : ''}${o.priorShift ? '-prior-shift' : ''}${o.tta ? '-tta' : ''}`;
}

/** Cumulative labels after each round: budget split evenly over `rounds`, the last round takes the rest. */
export function roundSizes(budget: number, rounds: number): number[] {
  const out: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const n = Math.round((budget * r) / rounds);
    if (n > (out.at(-1) ?? 0)) out.push(n);
  }
  return out;
}

interface CachedEncoder {
  dir: string;
  /** Epochs the saved encoder was trained for (its encoder.json; a checkpoint of a run still going has fewer than its folder name says). */
  epochs: number;
  /** Epochs the folder name announces, when it follows the cache naming. */
  plannedEpochs: number | null;
  pretrainedNow: boolean;
  pretrainSeconds: number | null;
}

/** Cache key of the data: the dataset name; a CSV pair adds a hash of both files and the columns. */
function cacheName(bd: BenchData, csvHash: string | null): string {
  return csvHash ? `${bd.name}-${csvHash}` : bd.name;
}

async function trainedEpochs(dir: string): Promise<number> {
  const f = JSON.parse(await readFile(join(dir, 'encoder.json'), 'utf8')) as { epochs?: unknown };
  return typeof f.epochs === 'number' ? f.epochs : NaN;
}

/** The encoder folder to use: --encoder, else a cached one, else pretrain now and cache it. */
async function resolveEncoder(bd: BenchData, trainData: ModalityData, pretext: string, opts: LabelEfficiencyOptions, csvHash: string | null): Promise<CachedEncoder> {
  if (opts.encoderDir) {
    if (!existsSync(join(opts.encoderDir, 'encoder.json'))) throw new UserError(`--encoder ${opts.encoderDir}: no encoder.json there (expected a folder written by Encoder.save)`);
    return { dir: opts.encoderDir, epochs: await trainedEpochs(opts.encoderDir), plannedEpochs: null, pretrainedNow: false, pretrainSeconds: null };
  }
  const base = cacheName(bd, csvHash);
  const dirFor = (e: number) => join(opts.cacheDir, `${base}-${pretext}-e${e}-s${opts.seed}`);
  if (opts.pretrainEpochs === undefined && existsSync(opts.cacheDir)) {
    // Any cached encoder of this dataset and pretext: this seed first, then the most epochs.
    const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${pretext}-e(\\d+)-s(\\d+)$`);
    const found = readdirSync(opts.cacheDir)
      .map((n) => ({ n, m: re.exec(n) }))
      .filter((x) => x.m && existsSync(join(opts.cacheDir, x.n, 'encoder.json')) && statSync(join(opts.cacheDir, x.n)).isDirectory())
      .map((x) => ({ dir: join(opts.cacheDir, x.n), epochs: Number(x.m![1]), seed: Number(x.m![2]) }))
      .sort((a, b) => Number(b.seed === opts.seed) - Number(a.seed === opts.seed) || b.epochs - a.epochs);
    if (found.length) return { dir: found[0].dir, epochs: await trainedEpochs(found[0].dir), plannedEpochs: found[0].epochs, pretrainedNow: false, pretrainSeconds: null };
  }
  const epochs = opts.pretrainEpochs ?? bd.pretrainEpochs;
  const dir = dirFor(epochs);
  if (existsSync(join(dir, 'encoder.json'))) return { dir, epochs: await trainedEpochs(dir), plannedEpochs: epochs, pretrainedNow: false, pretrainSeconds: null };
  opts.log(`pretraining ${pretext} for ${epochs} epochs on ${trainData.modality === 'text' ? trainData.texts.length : 'the'} training items (no labels) → ${dir}`);
  const res = await pretrain(trainData, {
    pretext,
    epochs,
    batch: bd.pretrainBatch,
    seed: opts.seed,
    onEpoch: (e) => opts.log(`  pretrain epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)} (${e.seconds.toFixed(1)} s)`),
  });
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await res.encoder.save(tmp);
  res.encoder.dispose();
  await mkdir(dirname(dir), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return { dir, epochs, plannedEpochs: epochs, pretrainedNow: true, pretrainSeconds: res.seconds };
}

async function embedAll(enc: Encoder, data: ModalityData): Promise<Features> {
  const data32 = await enc.embed(data);
  return { rows: data32.length / enc.dim, dim: enc.dim, data: data32 };
}

/** Every item's embedding under each test-time view but the first (the item as it is: `embedAll`), in inference mode. */
export async function embedViews(enc: Encoder, data: ModalityData, batch = 256): Promise<Features[]> {
  const tta = enc instanceof SslEncoder ? viewsFor(enc).tta : null;
  if (!tta || !(enc instanceof SslEncoder)) throw new UserError('test-time views are defined for image encoders only');
  const n = enc.backbone.count(data);
  const out: Features[] = [];
  for (let v = 1; v < tta.count; v++) {
    const f: Features = { rows: n, dim: enc.dim, data: new Float32Array(n * enc.dim) };
    for (let s = 0; s < n; s += batch) {
      const idx = Int32Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
      const t = tta.forward(data, idx, v);
      f.data.set(await t.data(), s * enc.dim);
      t.dispose();
    }
    out.push(f);
  }
  return out;
}

/** The arms' training settings every job derives the same way from the options (checked here). */
interface ArmSettings {
  sslRatio: number;
  refit: boolean;
  ensemble: number;
  keep: 'best' | 'final';
  trainMethod: TrainMethod;
  selectWith: 'head' | 'model';
  fixmatchSettings: ReturnType<typeof resolveFixMatch>;
  epochs: number;
  minSteps: number;
  nsEnabled: boolean;
  nsOptions: NoisyStudentOptions;
}

function armSettings(opts: ArmOptions): ArmSettings {
  if (!STRATEGIES[opts.strategy]) throw new UserError(`unknown strategy "${opts.strategy}" (known: ${Object.keys(STRATEGIES).join(', ')})`);
  if (!Number.isInteger(opts.budget) || opts.budget < 2) throw new UserError(`--budget expects a whole number ≥ 2, got ${opts.budget}`);
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new UserError(`--rounds expects a whole number ≥ 1, got ${opts.rounds}`);
  const sslRatio = opts.sslEncoderLrRatio ?? 0.1;
  if (!(sslRatio >= 0 && sslRatio <= 10)) throw new UserError(`--ssl-encoder-lr expects a ratio between 0 and 10, got ${opts.sslEncoderLrRatio}`);
  const refit = Boolean(opts.refit);
  if (refit && opts.noisyStudent) throw new UserError('--refit and --noisy-student do not combine: the student is judged on the validation items a refit trains on');
  const ensemble = opts.ensemble ?? 0;
  if (!Number.isInteger(ensemble) || ensemble < 0 || ensemble > 8) throw new UserError(`--ensemble expects a whole number of fine-tuned models from 1 to 8, got ${opts.ensemble}`);
  if (ensemble && opts.noisyStudent) throw new UserError('--ensemble and --noisy-student do not combine: the student replaces one model of the ensemble');
  if (opts.priorShift && opts.noisyStudent) throw new UserError('--prior-shift and --noisy-student do not combine: the report compares the student with a teacher whose probabilities were not corrected');
  if (opts.pretext !== undefined && opts.encoderDir !== undefined) throw new UserError('give --pretext or --encoder, not both: a saved encoder has its own pretext');
  const keep = opts.keep ?? 'final';
  if (keep !== 'best' && keep !== 'final') throw new UserError(`--keep expects best or final, got ${JSON.stringify(opts.keep)}`);
  const trainMethod = opts.train ?? 'auto';
  if (!(TRAIN_METHODS as readonly string[]).includes(trainMethod)) throw new UserError(`--method expects ${TRAIN_METHODS.join('|')}, got ${JSON.stringify(opts.train)}`);
  if (opts.ensembleScratch && !ensemble) throw new UserError('--ensemble-scratch adds a member to the ensemble candidate: it needs --ensemble');
  if (ensemble && trainMethod !== 'auto') throw new UserError(`--ensemble needs --method auto (the average competes with both models on validation), got --method ${trainMethod}`);
  const selectWith = opts.selectWith ?? 'head';
  if (selectWith !== 'head' && selectWith !== 'model') throw new UserError(`--select-with expects head or model, got ${JSON.stringify(opts.selectWith)}`);
  const fixmatchFlag = (f: keyof FixMatchOptions) => `--fixmatch-${f === 'lambdaU' ? 'lambda-u' : f}`;
  const setFixmatch = Object.entries(opts.fixmatchSettings ?? {}).filter(([, v]) => v !== undefined);
  if (!opts.fixmatch && setFixmatch.length) throw new UserError(`${setFixmatch.map(([k]) => fixmatchFlag(k as keyof FixMatchOptions)).join(', ')} needs --fixmatch`);
  if (opts.fixmatch !== true && opts.fixmatch !== false && opts.fixmatch !== 'final') throw new UserError(`--fixmatch expects all or final, got ${String(opts.fixmatch)}`);
  const fixmatchSettings = resolveFixMatch(opts.fixmatchSettings, fixmatchFlag);
  const epochs = opts.epochs ?? FINE_TUNE_DEFAULTS.epochs;
  const minSteps = opts.minSteps ?? BENCH_STEPS_PER_EPOCH * epochs;
  if (!Number.isInteger(minSteps) || minSteps < 0) throw new UserError(`--min-steps expects a whole number ≥ 0, got ${opts.minSteps}`);
  const nsOptions: NoisyStudentOptions = typeof opts.noisyStudent === 'object' ? opts.noisyStudent : {};
  return { sslRatio, refit, ensemble, keep, trainMethod, selectWith, fixmatchSettings, epochs, minSteps, nsEnabled: Boolean(opts.noisyStudent), nsOptions };
}

/**
 * One independent piece of the arms' work, run in any order or process with the same result: the
 * active curve is one task (each round selects with the labels of the rounds before it); each
 * random curve point, the scratch arm and full supervision are one each.
 */
export type ArmTask = { arm: 'ssl_active' } | { arm: 'ssl_random'; labels: number } | { arm: 'scratch_random' } | { arm: 'full_supervised' };
export type ActivePoint = ArmScore & { strategy: string; uncertaintyFrom: string | null };
export type ArmTaskResult = { arm: 'ssl_active'; curve: ActivePoint[] } | { arm: 'ssl_random' | 'scratch_random' | 'full_supervised'; score: ArmScore };

/** Every task of a run, in the order one job runs them (the order the log has always had). */
export function armTasks(sizes: readonly number[]): ArmTask[] {
  return [{ arm: 'ssl_active' }, ...sizes.map((labels) => ({ arm: 'ssl_random' as const, labels })), { arm: 'scratch_random' }, { arm: 'full_supervised' }];
}

/** The arms' results from every task's (tasks and results in the same order). */
export function gatherArms(tasks: readonly ArmTask[], results: readonly ArmTaskResult[]): { activeCurve: ActivePoint[]; randomCurve: ArmScore[]; scratch: ArmScore; full: ArmScore } {
  if (tasks.length !== results.length) throw new Error(`${tasks.length} tasks but ${results.length} results`);
  const score = (arm: ArmTask['arm']) => {
    const r = results.find((x) => x.arm === arm);
    if (!r || !('score' in r)) throw new Error(`no ${arm} result`);
    return r.score;
  };
  const active = results.find((r) => r.arm === 'ssl_active');
  if (!active || !('curve' in active)) throw new Error('no ssl_active result');
  const randomCurve = tasks
    .map((t, i) => ({ t, r: results[i] }))
    .filter((x) => x.t.arm === 'ssl_random')
    .map((x) => {
      if (x.r.arm !== 'ssl_random' || !('score' in x.r)) throw new Error(`task ${JSON.stringify(x.t)} got a ${x.r.arm} result`);
      return x.r.score;
    })
    .sort((a, b) => a.labels - b.labels);
  return { activeCurve: active.curve, randomCurve, scratch: score('scratch_random'), full: score('full_supervised') };
}

/** full_supervised's fine-tuning epochs: --full-epochs, else as many as fit in `fullSteps` optimiser steps (at least 2, at most `epochs`). */
function fullSchedule(opts: ArmOptions, poolSize: number, epochs: number): { fullEpochs: number; fullSteps: number } {
  const fullSteps = opts.fullSteps ?? 600;
  const fullTrain = Math.round(poolSize * (1 - FINE_TUNE_DEFAULTS.valFraction));
  return { fullSteps, fullEpochs: opts.fullEpochs ?? Math.max(2, Math.min(epochs, Math.ceil((fullSteps * FINE_TUNE_DEFAULTS.batch) / Math.max(1, fullTrain)))) };
}

/** What a job needs to run tasks: the options without the log (a worker gets them as data). */
export type ArmOptions = Omit<LabelEfficiencyOptions, 'log'>;

export interface ArmsRunner {
  run(task: ArmTask): Promise<ArmTaskResult>;
  dispose(): void;
}

/**
 * Embeds the data under both encoders (and the test-time views) and returns a runner for the
 * tasks: every task starts each encoder from its initial weights, so results do not depend on
 * which tasks ran before in the same job.
 */
async function prepareArms(bd: BenchData, base: Encoder, opts: ArmOptions, s: ArmSettings, log: (line: string) => void): Promise<ArmsRunner> {
  const { data, classes, y, test } = bd;
  const pool = bd.train.filter((i) => y[i] >= 0);
  const unlabelledTrain = bd.train.filter((i) => y[i] < 0);
  const trainData = subsetData(data, bd.train);
  const sslEmb = await embedAll(base, data);
  // What --tta averages over (the same views for the scratch encoder: same architecture and config).
  const ttaViews = opts.tta && base instanceof SslEncoder ? viewsFor(base).tta : null;
  // The SSL encoder's own architecture and views, untrained (a saved encoder may have another pretext or config).
  const scratchEnc = await randomEncoder(trainData, { pretext: base.pretext, seed: opts.seed, config: base instanceof SslEncoder ? base.config : undefined });
  const scratchEmb = await embedAll(scratchEnc, data);
  // With --tta the linear heads read every test-time view too: embedded now, before any fine-tuning moves the encoders.
  const ttaEmb = ttaViews ? { ssl: await embedViews(base, data), scratch: await embedViews(scratchEnc, data) } : null;
  // One instance per kind, put back to its initial weights before every fine-tuning run (it keeps
  // its caches of tokenised texts / spectrograms of the whole dataset).
  const initial = { ssl: snapshotEncoder(base), scratch: snapshotEncoder(scratchEnc) };
  const encoders = { ssl: base, scratch: scratchEnc };
  const { sslRatio, refit, ensemble, keep, trainMethod, selectWith, fixmatchSettings, epochs, minSteps, nsEnabled, nsOptions } = s;

  const labelNames = (pos: number[]) => pos.map((p) => classes[y[p]]);
  /** Whether a budget arm's training (its final one when `last`) uses FixMatch. */
  const fixmatchIn = (last: boolean) => opts.fixmatch === true || (opts.fixmatch === 'final' && last);
  const testNames = labelNames(test);
  const sizes = roundSizes(opts.budget, opts.rounds);
  // ssl_random and scratch_random: nested random label sets (the first n of one seeded permutation).
  const order = shuffled(pool, mulberry32(opts.seed + 7919));

  /** Linear head vs fine-tuning (or FixMatch), chosen on a validation split of the labels (src/train/train-classifier.ts). */
  /** `o.predict`: positions whose calibrated probabilities under the trained classifier to return as well, as `predicted` (before it is freed). */
  const trainArm = async (kind: 'ssl' | 'scratch', labelled: number[], o: { epochs: number; fixmatch: boolean; noisyStudent: boolean; predict?: number[] }): Promise<ArmScore & { predicted?: Float64Array }> => {
    const ta = performance.now();
    // Fine-tuning trains the encoder in place: start from its initial weights.
    initial[kind].restore();
    const withScratch = kind === 'ssl' && Boolean(opts.ensembleScratch);
    if (withScratch) initial.scratch.restore();
    const labelledSet = new Set(labelled);
    const nsPool = o.noisyStudent ? unlabelledCandidates(bd.train, labelled, test) : null;
    const trained = await trainClassifier(
      { features: kind === 'ssl' ? sslEmb : scratchEmb, ttaFeatures: ttaEmb?.[kind], labelled, y: labelled.map((p) => y[p]), classes, encoder: encoders[kind], data, scratchEncoder: withScratch ? encoders.scratch : undefined },
      {
        method: trainMethod,
        seed: opts.seed,
        epochs: o.epochs,
        // No pretrained features to protect: the scratch encoder learns at the head's rate.
        encoderLr: kind === 'scratch' ? FINE_TUNE_DEFAULTS.lr : FINE_TUNE_DEFAULTS.lr * sslRatio,
        minSteps,
        fixmatchUnlabelled: o.fixmatch ? [...pool.filter((p) => !labelledSet.has(p)), ...unlabelledTrain] : undefined,
        fixmatch: fixmatchSettings,
        noisyStudent: nsPool ? { ...nsOptions, unlabelled: nsPool } : undefined,
        alsoPredict: nsPool ? test : undefined,
        refit,
        ensemble,
        scratchEncoderLr: FINE_TUNE_DEFAULTS.lr,
        keep,
        tta: opts.tta,
        priorShift: opts.priorShift ? { unlabelled: limitPool(unlabelledCandidates(bd.train, labelled, test), PRIOR_SHIFT_POOL, opts.seed) } : undefined,
      },
    );
    const metrics = await trained.evaluate(test, testNames);
    const predicted = o.predict ? { predicted: await trained.proba(o.predict) } : {};
    trained.dispose();
    const { method, valLinear, valFineTune, valEnsemble, valScratch, fineTunedModels, fineTuneEpochs, fineTuneBestEpoch } = trained;
    let noisyStudent: NoisyStudentScore | null = null;
    const ns = trained.noisyStudentInfo;
    if (ns) {
      const known = ns.pseudo.idx.map((p, i) => [y[p], ns.pseudo.y[i]]).filter(([t]) => t >= 0);
      noisyStudent = {
        teacher: ns.teacher,
        pseudoLabels: ns.pseudo.idx.length,
        perClass: ns.pseudo.perClass,
        pseudoLabelAccuracy: known.length ? known.filter(([t, p]) => t === p).length / known.length : null,
        predicted: ns.predicted,
        valTeacher: ns.valTeacher,
        valStudent: ns.valStudent,
        testTeacher: ns.teacherProba ? metricsFromProba(ns.teacherProba, classes, testNames).accuracy : null,
        testKept: metrics.accuracy,
        studentSteps: ns.studentSteps,
        studentWon: ns.won,
      };
    }
    const refitInfo = trained.refit ? { validatedSteps: trained.refit.validatedSteps, steps: trained.refit.steps } : null;
    return { labels: labelled.length, accuracy: metrics.accuracy, macroF1: metrics.macroF1, ece: metrics.ece, method, valLinear, valFineTune, valEnsemble, valScratch, fineTunedModels, fineTuneEpochs, fineTuneBestEpoch, noisyStudent, refit: refitInfo, priorShift: trained.priorShift, seconds: (performance.now() - ta) / 1000, ...predicted };
  };

  const showScore = (arm: string, s: ArmScore) => {
    const ns = s.noisyStudent;
    const nsText = ns
      ? `; noisy student: ${ns.pseudoLabels} pseudo-labels (${fmtPct(ns.pseudoLabelAccuracy)} right), validation teacher ${fmtPct(ns.valTeacher)} / student ${fmtPct(ns.valStudent)} → ${ns.studentWon ? 'student' : 'teacher'} kept; test teacher ${fmtPct(ns.testTeacher)}`
      : '';
    log(`${arm.padEnd(15)} ${String(s.labels).padStart(6)} labels: accuracy ${(s.accuracy * 100).toFixed(1)}%, macro-F1 ${(s.macroF1 * 100).toFixed(1)}% (${s.method}; validation: linear ${fmtPct(s.valLinear)}, fine-tune ${fmtPct(s.valFineTune)}${s.fineTuneBestEpoch !== null ? ` at epoch ${s.fineTuneBestEpoch}/${s.fineTuneEpochs}` : ''}${s.valEnsemble !== null ? `, ensemble ${fmtPct(s.valEnsemble)}` : ''}${s.valScratch !== null ? ` (its random-init network ${fmtPct(s.valScratch)})` : ''}${s.refit ? `; refitted on every label for ${s.refit.steps} steps` : ''}${s.priorShift ? (s.priorShift.applied ? `; prior moved to EM's on ${s.priorShift.items} unlabelled items (${s.priorShift.iterations} iterations)` : `; prior kept: EM collapsed ${s.priorShift.collapsed.join(', ')}`) : ''}${nsText}; ${s.seconds.toFixed(1)} s)`);
  };

  /** ssl_active: TypiClust in round 0, then the strategy on the probabilities of a linear head over the frozen SSL embeddings, or of the classifier the previous round trained (selectWith). */
  const activeCurveTask = async (): Promise<ActivePoint[]> => {
    const active: number[] = [];
    const curve: ActivePoint[] = [];
    const needsProbs = STRATEGIES[opts.strategy].needs.includes('probs');
    let previous: PreviousPrediction | null = null;
    for (let r = 0; r < sizes.length; r++) {
      const strategy = r === 0 ? 'typiclust' : opts.strategy;
      const { picked, uncertaintyFrom } = selectActiveBatch({ strategy, pool, active, k: sizes[r] - active.length, embeddings: sslEmb, labelNames: labelNames(active), classes, seed: opts.seed, round: r, selectWith, previous });
      active.push(...picked);
      const last = r === sizes.length - 1;
      const taken = new Set(active);
      const predict = selectWith === 'model' && needsProbs && !last ? pool.filter((p) => !taken.has(p)) : undefined;
      const { predicted, ...score } = await trainArm('ssl', active.slice(), { epochs, fixmatch: fixmatchIn(last), noisyStudent: nsEnabled && last, predict });
      previous = predict && predicted ? { method: score.method, positions: predict, proba: predicted } : null;
      curve.push({ ...score, strategy, uncertaintyFrom });
      showScore(`ssl_active r${r}`, score);
    }
    return curve;
  };

  return {
    async run(task) {
      switch (task.arm) {
        case 'ssl_active':
          return { arm: task.arm, curve: await activeCurveTask() };
        case 'ssl_random': {
          if (!sizes.includes(task.labels)) throw new Error(`ssl_random at ${task.labels} labels is not a curve point (${sizes.join(', ')})`);
          const last = task.labels === sizes.at(-1);
          const score = await trainArm('ssl', order.slice(0, task.labels), { epochs, fixmatch: fixmatchIn(last), noisyStudent: nsEnabled && last });
          showScore('ssl_random', score);
          return { arm: task.arm, score };
        }
        case 'scratch_random': {
          const score = await trainArm('scratch', order.slice(0, opts.budget), { epochs, fixmatch: fixmatchIn(true), noisyStudent: nsEnabled });
          showScore('scratch_random', score);
          return { arm: task.arm, score };
        }
        case 'full_supervised': {
          const score = await trainArm('ssl', pool, { epochs: fullSchedule(opts, pool.length, epochs).fullEpochs, fixmatch: false, noisyStudent: false });
          showScore('full_supervised', score);
          return { arm: task.arm, score };
        }
      }
    },
    dispose() {
      for (const k of ['ssl', 'scratch'] as const) {
        initial[k].dispose();
        encoders[k].dispose();
      }
    },
  };
}

/** A worker job's runner: loads the data and the (already resolved) encoder itself. */
export async function openArms(opts: ArmOptions, log: (line: string) => void): Promise<ArmsRunner> {
  if (!opts.encoderDir) throw new Error('a job needs the resolved encoder folder');
  const s = armSettings({ ...opts, pretext: undefined });
  const bd = await loadBenchData(opts);
  const base = await loadEncoder(opts.encoderDir);
  return prepareArms(bd, base, opts, s, log);
}

export async function runLabelEfficiency(opts: LabelEfficiencyOptions): Promise<LabelEfficiencyReport> {
  const t0 = performance.now();
  const { log, ...armOpts } = opts;
  const s = armSettings(armOpts);
  const { refit, ensemble, keep, trainMethod, selectWith, fixmatchSettings, epochs, minSteps, nsEnabled, nsOptions } = s;
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16) throw new UserError(`--jobs expects a whole number of processes from 1 to 16, got ${opts.jobs}`);
  const bd = await loadBenchData(opts);
  const { classes, y, test } = bd;
  if (opts.tta && bd.modality !== 'image') throw new UserError(`--tta needs an image dataset (its test-time views are image shifts); ${bd.name} is ${bd.modality}`);
  const pool = bd.train.filter((i) => y[i] >= 0);
  const unlabelledTrain = bd.train.filter((i) => y[i] < 0);
  if (opts.budget > pool.length) throw new UserError(`--budget ${opts.budget} is more than the ${pool.length} labelled training items`);
  const csvHash = opts.csv ? sha256Hex(Buffer.concat([await readFile(opts.csv.train), Buffer.from('\0'), await readFile(opts.csv.test), Buffer.from(`\0${opts.csv.textColumn}\0${opts.csv.labelColumn}`)])).slice(0, 12) : null;
  log(`${bd.name}: ${bd.modality}, ${bd.train.length} training items (${pool.length} labelled), ${test.length} test items, ${classes.length} classes; split: ${bd.split}`);

  const trainData = subsetData(bd.data, bd.train);
  const pretext = opts.pretext ?? defaultPretext(bd.modality);
  const known = pretextsFor(bd.modality);
  if (!known.includes(pretext)) throw new UserError(`--pretext ${JSON.stringify(pretext)} is not a pretext for ${bd.modality} data (${bd.name}); use one of: ${known.join(', ')}`);
  const cached = await resolveEncoder(bd, trainData, pretext, opts, csvHash);
  const base = await loadEncoder(cached.dir);
  if (base.modality !== bd.modality) {
    base.dispose();
    throw new UserError(`encoder ${cached.dir} is for ${base.modality} data, ${bd.name} is ${bd.modality}`);
  }
  log(`encoder: ${cached.dir} (${base.pretext}, ${cached.epochs} epochs${cached.pretrainedNow ? `, pretrained now in ${cached.pretrainSeconds?.toFixed(0)} s` : ', cached'})`);
  if (cached.plannedEpochs !== null && cached.epochs < cached.plannedEpochs) {
    log(`warning: ${cached.dir} holds ${cached.epochs} of ${cached.plannedEpochs} pretraining epochs (a checkpoint of an unfinished or running pretraining); the report says so`);
  }
  const basePretext = base.pretext;
  const ttaViews = opts.tta && base instanceof SslEncoder ? viewsFor(base).tta : null;
  const tta = ttaViews ? { count: ttaViews.count, describe: ttaViews.describe } : null;
  if (tta) log(`test-time views: ${tta.count - 1} more embeddings of every item per encoder (${tta.describe})`);
  const sizes = roundSizes(opts.budget, opts.rounds);
  const tasks = armTasks(sizes);
  let done: ArmTaskResult[];
  if (jobs > 1) {
    // Each job loads the data and embeds it itself; this process only hands out tasks.
    base.dispose();
    const jobOpts: ArmOptions = { ...armOpts, encoderDir: cached.dir, pretext: undefined, pretrainEpochs: undefined };
    log(`${Math.min(jobs, tasks.length)} jobs (one process thread each) share ${tasks.length} tasks: the active curve, ${sizes.length} random curve point(s), scratch, full supervision`);
    done = await runArmTasks(tasks, jobs, jobOpts, log);
  } else {
    const arms = await prepareArms(bd, base, armOpts, s, log);
    try {
      done = [];
      for (const t of tasks) done.push(await arms.run(t));
    } finally {
      arms.dispose();
    }
  }
  const { activeCurve, randomCurve, scratch, full } = gatherArms(tasks, done);
  const { fullEpochs, fullSteps } = fullSchedule(opts, pool.length, epochs);

  const target = 0.95 * full.accuracy;
  const curve = (c: ArmScore[]): CurvePoint[] => c.map((p) => ({ labels: p.labels, accuracy: p.accuracy }));
  const labelsTo95pct = { active: labelsToReach(curve(activeCurve), target), random: labelsToReach(curve(randomCurve), target) };
  const pick = (s: ArmScore) => ({ accuracy: s.accuracy, macroF1: s.macroF1 });
  const results: Record<Arm, { accuracy: number; macroF1: number }> = {
    ssl_active: pick(activeCurve.at(-1)!),
    ssl_random: pick(randomCurve.at(-1)!),
    scratch_random: pick(scratch),
    full_supervised: pick(full),
  };
  const svgPath = opts.svgPath ?? opts.reportPath.replace(/\.json$/i, '') + '.svg';
  const armDetail = (s: ArmScore) => ({ labels: s.labels, method: s.method, ece: s.ece, valLinear: s.valLinear, valFineTune: s.valFineTune, ...(ensemble ? { valEnsemble: s.valEnsemble, fineTunedModels: s.fineTunedModels } : {}), ...(opts.ensembleScratch ? { valScratch: s.valScratch } : {}), fineTuneEpochs: s.fineTuneEpochs, fineTuneBestEpoch: s.fineTuneBestEpoch, refit: s.refit, ...(s.noisyStudent ? { noisyStudent: s.noisyStudent } : {}), ...(s.priorShift ? { priorShift: s.priorShift } : {}), seconds: s.seconds });
  const report: LabelEfficiencyReport = {
    dataset: bd.name,
    budget: opts.budget,
    strategy: opts.strategy,
    seed: opts.seed,
    seconds: (performance.now() - t0) / 1000,
    results,
    labelsTo95pct,
    details: {
      protocol:
        'test split never selected from; SSL encoder pretrained on the training items without labels; ' +
        (trainMethod === 'auto' ? 'per arm the better on a 20% stratified validation split of its labels of' : `per arm, for every arm alike, only ${trainMethod === 'linear' ? 'the first' : 'the second'} of`) +
        ' a linear head (L2 logistic regression on frozen embeddings, refitted on all labels) and full fine-tuning (LP-FT head init, AdamW, warm-up+cosine, label smoothing, weak augmentation, ' +
        (keep === 'final' ? 'the whole schedule run and its final weights kept (validation only chooses the method and the temperature)' : 'early stopping with best-validation weights restored') +
        (opts.fixmatch ? `, FixMatch on the unlabelled training items${opts.fixmatch === 'final' ? " in each budget arm's final training (earlier curve points without)" : ''}` : '') +
        (keep === 'final' ? `; every fine-tuning run at least ${minSteps} steps` : `; every fine-tuning run at least ${minSteps} steps before early stopping may end it`) +
        (refit ? `; a fine-tuned winner trained again from the same start on all its labels (validation items too) replaying its learning-rate schedule to the ${keep === 'final' ? 'end' : 'validated step'}, keeping its temperature` : '') +
        (ensemble ? `; the average of the calibrated probabilities of the linear head and ${ensemble === 1 ? 'the fine-tuned model' : `${ensemble} fine-tuned models (seeds seed … seed+${ensemble - 1}; the head weighing one half, the networks' mean the other)`}${opts.ensembleScratch ? ' (in the SSL arms with a network fine-tuned from the random-init encoder on the same labels as a further member, head, SSL networks and it weighing a third each)' : ''}, competing as a third candidate, kept only when it validates strictly better than both` : '') +
        (nsEnabled ? '; noisy student: the trained classifier pseudo-labels the unlabelled training items class-balanced, a student is fine-tuned from the same start on labels + pseudo-labels with strong augmentation and kept only when it validates strictly better' : '') +
        (tta ? `; every model predicting (on validation too) with its logits averaged over ${tta.describe} (test-time augmentation): the fine-tuned networks over the shifted images, the linear heads over the frozen embeddings of those images, which they also train on` : '') +
        (opts.priorShift ? `; every classifier's probabilities moved from its labels' class prior to the prior EM estimates on up to ${PRIOR_SHIFT_POOL} unlabelled training items (Saerens et al. 2002)` : '') +
        `); ssl_active: round 0 TypiClust, later rounds the strategy on ${selectWith === 'model' ? "the calibrated probabilities of the previous round's trained classifier (with the frozen SSL embeddings for geometry)" : 'a linear head over frozen SSL embeddings'}; scratch_random: randomEncoder, same labels/augmentation/regularisation/epochs as ssl_random (encoder lr = head lr); labelsTo95pct from the per-round learning curves (linear interpolation, null if not reached within the budget)`,
      modality: bd.modality,
      classes: classes.length,
      split: { rule: bd.split, train: bd.train.length, labelledTrain: pool.length, unlabelledTrain: unlabelledTrain.length, test: test.length },
      encoder: { dir: cached.dir, pretext: basePretext, epochs: cached.epochs, plannedEpochs: cached.plannedEpochs, pretrainedNow: cached.pretrainedNow, pretrainSeconds: cached.pretrainSeconds },
      rounds: sizes,
      fixmatch: opts.fixmatch ? { enabled: true, when: opts.fixmatch === 'final' ? 'final' : 'all', ...fixmatchSettings } : { enabled: false },
      noisyStudent: nsEnabled ? { enabled: true, ...NOISY_STUDENT_DEFAULTS, ...nsOptions } : { enabled: false },
      refit,
      ensemble: ensemble ? { enabled: true, fineTunedModels: ensemble, scratchMember: Boolean(opts.ensembleScratch) } : { enabled: false },
      priorShift: opts.priorShift ? { enabled: true, poolLimit: PRIOR_SHIFT_POOL } : { enabled: false },
      tta: tta ? { enabled: true, views: tta.count, what: tta.describe, linearHead: 'trains on every view of the frozen embeddings, averages its logits over them' } : { enabled: false },
      train: trainMethod,
      selectWith,
      jobs: Math.min(jobs, tasks.length),
      fineTune: { ...FINE_TUNE_DEFAULTS, keep, epochs, minSteps, encoderLr: FINE_TUNE_DEFAULTS.lr * s.sslRatio, scratchEncoderLr: FINE_TUNE_DEFAULTS.lr },
      fullSupervised: { labels: pool.length, epochsCap: fullEpochs, note: `fine-tuning epochs capped at ${fullEpochs}${opts.fullEpochs === undefined ? ` (≈${fullSteps} steps of ${FINE_TUNE_DEFAULTS.batch})` : ' (--full-epochs)'} for the full label set; SSL encoder, no FixMatch` },
      arms: { ssl_active: armDetail(activeCurve.at(-1)!), ssl_random: armDetail(randomCurve.at(-1)!), scratch_random: armDetail(scratch), full_supervised: armDetail(full) },
      curves: {
        ssl_active: activeCurve.map((p) => ({ labels: p.labels, accuracy: p.accuracy, macroF1: p.macroF1, method: p.method, refitted: p.refit !== null, selectedBy: p.strategy, uncertaintyFrom: p.uncertaintyFrom, ...(p.noisyStudent ? { withoutNoisyStudent: p.noisyStudent.testTeacher } : {}) })),
        ssl_random: randomCurve.map((p) => ({ labels: p.labels, accuracy: p.accuracy, macroF1: p.macroF1, method: p.method, refitted: p.refit !== null, ...(p.noisyStudent ? { withoutNoisyStudent: p.noisyStudent.testTeacher } : {}) })),
      },
      target95pct: target,
      activeLearning: activeLearningVerdict(labelsTo95pct.active, labelsTo95pct.random, opts.budget),
      report: opts.reportPath,
      svg: svgPath,
    },
  };
  const svg = learningCurveSvg({
    title: `Label efficiency — ${bd.name} (budget ${opts.budget}, ${opts.strategy}, seed ${opts.seed})`,
    series: [
      { name: `SSL + ${opts.strategy}`, color: '#1f77b4', points: curve(activeCurve) },
      { name: 'SSL + random', color: '#ff7f0e', points: curve(randomCurve) },
      { name: 'scratch + random', color: '#7f7f7f', points: [{ labels: scratch.labels, accuracy: scratch.accuracy }] },
    ],
    lines: [
      { name: `full supervision (${pool.length})`, color: '#2ca02c', y: full.accuracy },
      { name: '95% of full', color: '#d62728', y: target },
    ],
    xLabel: 'labels bought',
    yLabel: 'test accuracy',
  });
  await mkdir(dirname(svgPath), { recursive: true });
  await writeFile(svgPath, svg);
  await mkdir(dirname(opts.reportPath), { recursive: true });
  await writeFile(opts.reportPath, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** Calibrated probabilities a trained classifier gave pool positions `positions` (rows × classes), and what it was. */
export interface PreviousPrediction {
  method: string;
  positions: number[];
  proba: Float64Array;
}

/**
 * One ssl_active round's purchase: `k` pool positions outside `active`, chosen by `strategy` on the
 * frozen `embeddings` and, for the uncertainty strategies after round 0, on class probabilities —
 * a linear head fitted on the embeddings of the labels so far (`selectWith` 'head'), or what the
 * previous round's trained classifier predicted for exactly these candidates ('model').
 * `uncertaintyFrom` says which ('head', that classifier's method, or null when none were read).
 */
export function selectActiveBatch(a: {
  strategy: string;
  pool: readonly number[];
  active: readonly number[];
  k: number;
  embeddings: Features;
  /** Labels of `active`, in order. */
  labelNames: string[];
  classes: string[];
  seed: number;
  round: number;
  selectWith: 'head' | 'model';
  previous: PreviousPrediction | null;
}): { picked: number[]; uncertaintyFrom: string | null } {
  const chosen = new Set(a.active);
  const candidates = a.pool.filter((p) => !chosen.has(p));
  const s = STRATEGIES[a.strategy];
  const candEmb = selectRows(a.embeddings, candidates);
  let probs: { rows: number; classes: number; data: Float64Array } | undefined;
  let uncertaintyFrom: string | null = null;
  if (a.round > 0 && s.needs.includes('probs')) {
    if (a.selectWith === 'model') {
      const p = a.previous;
      if (!p || p.positions.length !== candidates.length || p.positions.some((x, i) => x !== candidates[i])) {
        throw new Error(`round ${a.round}: selecting with the model needs the previous round's probabilities of exactly this round's ${candidates.length} candidates`);
      }
      probs = { rows: candidates.length, classes: a.classes.length, data: p.proba };
      uncertaintyFrom = p.method;
    } else {
      const h = fitHead(selectRows(a.embeddings, a.active), a.labelNames, a.classes, a.seed);
      probs = { rows: candidates.length, classes: a.classes.length, data: headProba(h, candEmb) };
      uncertaintyFrom = 'head';
    }
  }
  const picked = s.fn({ ids: candidates, embeddings: candEmb, probs }, a.k, { seed: a.seed + a.round, labelled: a.active.length ? selectRows(a.embeddings, a.active) : undefined });
  return { picked: picked.slice(0, a.k), uncertaintyFrom };
}

function fmtPct(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)}%`;
}
