/**
 * The loop's option and report types, apart from loop.ts so that its step modules (setup,
 * labelling, register, report) can name them without importing the module that runs them.
 */
import type { ProbeReport } from '../probe/probe.ts';
import type { Metrics } from '../train/linear-head.ts';
import type { TrainMethod, TrainedClassifier } from '../train/train-classifier.ts';
import type { CurvePoint, Economics } from './economics.ts';
import type { Promotion } from './promotion.ts';
import type { SettingsGuard } from './serving.ts';

/**
 * What the loop needs of a job runner (src/jobs/runner.ts InProcessRunner): submit a job and
 * wait for its end. Declared here, structurally, so the loop does not import the jobs layer,
 * which runs above it.
 */
export interface JobSubmitter {
  submitAndRun(type: string, params: object, projectId: number | null): Promise<{ status: string; result: unknown; error: string | null; message: string | null }>;
}

export interface LoopOptions {
  project: string;
  rounds: number;
  batch: number;
  annotators: { count: number; noise: number };
  /** Price of one answer (one annotator labelling one item) and of one review decision, in `currency`. */
  priceLabel: number;
  priceReview: number;
  /** What prices are counted in (default: none — "cost units"). */
  currency?: string;
  seed: number;
  /** Strategy after round 0 (round 0, with no labels yet, uses the TypiClust cold start). */
  strategy: string;
  /** Annotators per item (default min(K, 3)). */
  overlap?: number;
  /** Held-out test split: at most this many labelled items (default 1000, and ≤ 20%). */
  testSize?: number;
  pretrain: { epochs: number; batch: number; pretext?: string; config?: Record<string, unknown> };
  /**
   * How each round's classifier is trained (src/train/train-classifier.ts): `linear` head on the
   * frozen features, `fine-tune` the encoder, or `auto` (default) the better of the two on a
   * stratified validation split of the labels. `epochs`: most fine-tuning epochs (default 30).
   * `priorShift`: move each round's classifier from its labels' class prior to the prior EM
   * estimates on (up to PRIOR_SHIFT_POOL of) the items still unlabelled, test items excluded
   * (src/train/prior-shift.ts): active selection skews the class mix of the labels bought. The
   * evaluation, the suggestions and the registered model (its params.priorShift, which
   * `tessera suggest` applies too) all use the moved probabilities.
   */
  train?: { method?: TrainMethod; epochs?: number; priorShift?: boolean };
  /** Where fine-tuned classifiers are saved (default $TESSERA_HOME/models/<project>). */
  modelsDir?: string;
  actor: string;
}

/** How a round's classifier was trained. */
export interface RoundTraining {
  /** What won (or was asked for). */
  method: 'linear' | 'fine-tune';
  requested: TrainMethod;
  validationItems: number;
  /** Validation accuracy of the linear head (fitted on the training part) and of the fine-tuned model. */
  valLinear: number | null;
  valFineTune: number | null;
  fineTuneEpochs: number | null;
  fineTuneBestEpoch: number | null;
  /** With `train.priorShift`: the prior of the labels the classifier learnt from and the one EM estimated on the unlabelled items. */
  priorShift: TrainedClassifier['priorShift'];
  /** When the head reads raw features (the probe found SSL does not help): fine-tuning's McNemar test against the head on validation, which it must pass at CHALLENGER_ALPHA to win. */
  challenge: TrainedClassifier['challenges'][number] | null;
  seconds: number;
}


export interface RoundReport {
  round: number;
  strategy: string;
  selected: number;
  /** Answers bought this round (items × overlap, give or take leases): annotations, not labelled items. */
  labelsBought: number;
  reviews: number;
  cost: number;
  totalCost: number;
  /** Items with a final label so far. */
  labelledItems: number;
  model: number;
  /** Whether this round's model replaced the model in use (serves suggestions); see src/loop/promotion.ts. */
  promoted: boolean;
  promotion: Promotion;
  training: RoundTraining;
  test: Metrics;
  economics: Economics;
}

export interface LoopReport {
  project: string;
  encoder: number;
  /** What the classifier head read. */
  features: 'ssl' | 'raw';
  probe: Pick<ProbeReport, 'labels' | 'representations' | 'verdict'> | null;
  testItems: number;
  rounds: RoundReport[];
  baseline: CurvePoint[];
  summary: string;
}

export interface LoopHooks {
  log?(line: string): void;
  onRound?(r: RoundReport): void;
  /** While the loop's label settings are in force (src/loop/serving.ts SettingsGuard): e.g. restore them on Ctrl-C. */
  guardSettings?: SettingsGuard;
}
