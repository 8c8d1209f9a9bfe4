/**
 * What `tessera bench label-efficiency` (src/cli/commands/bench.ts) hands the label-efficiency
 * benchmark and what it reads back. The benchmark lives in bench/label-efficiency/, outside src/:
 * src/ never imports bench/, so the command loads it at run time (bench.ts) and this file is the
 * contract both sides type-check against — bench/label-efficiency/index.ts declares its export as
 * a `LabelEfficiencyBench`, so a change on either side fails `tsc` instead of at run time.
 */
import type { FixMatchOptions } from '../train/fixmatch.ts';
import type { NoisyStudentOptions } from '../train/noisy-student.ts';
import type { TrainMethod } from '../train/train-classifier.ts';

export const ARMS = ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised'] as const;
export type Arm = (typeof ARMS)[number];

/** The shared datasets the benchmark knows (its BENCH_DATASETS has exactly these keys). */
export const BENCH_DATASET_NAMES = ['sms-spam', 'trec', 'digits', 'fsdd', 'nsl-kdd', 'fashion-mnist'] as const;
export type BenchDatasetName = (typeof BENCH_DATASET_NAMES)[number];

/** Where Debian's dataset-fashion-mnist package puts the IDX files: the benches' default Fashion-MNIST folder. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface LabelEfficiencyOptions {
  /** A BENCH_DATASET_NAMES name, or… */
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
   * fine-tuned models (1–8; 0 or absent: off; the head weighs one half, the networks' mean the
   * other) competes on the validation split as a third candidate and wins when it validates
   * strictly better than both the head and the first fine-tuning run
   * (TrainClassifierOptions.ensemble). Only with --method auto, not with noisy student.
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
   * restored (on 20 validation items the chosen epoch was mostly chance, and 'final' measured
   * better on digits, SMS Spam and FSDD). The same for every arm.
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
   * that one only, whatever the validation split says. The same for every arm.
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
   * src/train/views.ts); the linear heads read those views' frozen embeddings and train on them
   * too (TrainClassifierInput.ttaFeatures). Image datasets only.
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

/** The benchmark's JSON report (the command prints it as it is with --json). */
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

/** What bench/label-efficiency/index.ts exports as `labelEfficiencyBench`. */
export interface LabelEfficiencyBench {
  runLabelEfficiency(opts: LabelEfficiencyOptions): Promise<LabelEfficiencyReport>;
}
