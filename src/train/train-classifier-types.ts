/**
 * What trainClassifier (src/train/train-classifier.ts) takes and returns: its input, its options
 * and the trained classifier with everything the loop and the benchmark report about it.
 */
import type { Encoder, ModalityData } from '../ssl/types.ts';
import type { Features } from '../probe/features.ts';
import type { Head, Metrics } from './linear-head.ts';
import type { EpochReport, FineTuneResult } from './fine-tune.ts';
import type { NoisyStudentOptions } from './noisy-student.ts';
import type { FixMatchOptions } from './fixmatch.ts';
import type { ShiftValidation } from './prior-shift.ts';
import type { Estimator } from './estimator.ts';

export const TRAIN_METHODS = ['linear', 'fine-tune', 'auto'] as const;
export type TrainMethod = (typeof TRAIN_METHODS)[number];

export interface TrainClassifierInput {
  /** What the linear head reads, one row per position of `data` (frozen embeddings or raw features). */
  features: Features;
  /** Positions (rows of `features` / items of `data`) of the labelled items. */
  labelled: number[];
  /** Class id of each labelled item, in `labelled`'s order. */
  y: ArrayLike<number>;
  classes: string[];
  /**
   * With `tta`: the frozen features under the test-time views other than the item as it is (views
   * 1…, src/train/views.ts), row for row with `features`, computed with the encoder's starting
   * weights. The linear head then trains on every view and averages its logits over them, as the
   * fine-tuned models do. Without them the head reads `features` alone.
   */
  ttaFeatures?: Features[];
  /** The encoder to fine-tune (trained in place) and the data it reads; needed unless method is linear. */
  encoder?: Encoder;
  data?: ModalityData;
  /**
   * With `ensemble`: an encoder of the same architecture from random initialisation (trained in
   * place), whose fine-tuned network joins the ensemble candidate as a third, equal member (see
   * the file comment). Reads `data`, as `encoder` does.
   */
  scratchEncoder?: Encoder;
}

export interface TrainClassifierOptions {
  method: TrainMethod;
  seed: number;
  /** Most fine-tuning epochs (default FINE_TUNE_DEFAULTS.epochs). */
  epochs?: number;
  /** Encoder learning rate (default: fineTune's, a tenth of the head's). */
  encoderLr?: number;
  /** Fine-tuning's training budget floor in steps (FineTuneOptions.minSteps; default FINE_TUNE_DEFAULTS.minSteps). */
  minSteps?: number;
  /** Fine-tuning keeps its best-validation weights ('best', default) or its final ones (FineTuneOptions.keep). */
  keep?: 'best' | 'final';
  /** Fine-tune with FixMatch on these unlabelled positions. */
  fixmatchUnlabelled?: number[];
  /** FixMatch's τ, μ, λu where not the paper's (FIXMATCH_DEFAULTS); only with `fixmatchUnlabelled`. */
  fixmatch?: FixMatchOptions;
  /** Train a fine-tuned winner again on every label (see the file comment; not with noisy student). */
  refit?: boolean;
  /** In `auto`, let the average of the linear head and this many fine-tuned models (1–8) compete too (see the file comment; not with noisy student). */
  ensemble?: number;
  /** Encoder learning rate of `scratchEncoder`'s fine-tuning (default: the head's, FINE_TUNE_DEFAULTS.lr: no pretrained features to protect). */
  scratchEncoderLr?: number;
  /** Fine-tuned models predict with the test-time views (FineTuneOptions.tta; images only; see the file comment). */
  tta?: boolean;
  /** Noisy-student self-training on these unlabelled positions (see the file comment); needs a validation split. */
  noisyStudent?: NoisyStudentOptions & { unlabelled: number[] };
  /**
   * Positions whose teacher probabilities to keep in `noisyStudentInfo.teacherProba` (reporting
   * only, e.g. a test split: never used to choose anything).
   */
  alsoPredict?: number[];
  /**
   * In `auto`, a challenger (fine-tuning, the ensemble) replaces the linear head only when it is
   * better on validation at this significance level (McNemar's exact one-sided test on the
   * validation items, src/train/mcnemar.ts) — not merely not worse. For when there is reason to
   * doubt the challenger (the loop: when the probe found SSL does not help, the head reads raw
   * features and fine-tuning the SSL encoder is a long shot) and the validation split is small.
   */
  significance?: number;
  /** Validation fraction (default FINE_TUNE_DEFAULTS.valFraction). */
  valFraction?: number;
  /**
   * Move the trained classifier's probabilities from its labels' class prior to the prior EM
   * estimates on these unlabelled positions (src/train/prior-shift.ts): for labels whose class
   * mix active selection skewed. `proba` and `evaluate` return the adjusted probabilities.
   */
  priorShift?: { unlabelled: number[] };
  /**
   * Whether `features` are the encoder's own frozen embeddings (default true). When they are not
   * (the loop's raw features), fine-tuning's linear-probe start is a different model from the
   * linear head, and it may win on validation without moving off that start.
   */
  featuresAreEmbeddings?: boolean;
  signal?: AbortSignal;
  onEpoch?(e: EpochReport): void;
}

/** The noisy-student step: its teacher, pseudo-labels and whether the student won. */
export interface NoisyStudentInfo {
  /** What the teacher was. */
  teacher: 'linear' | 'fine-tune' | 'fixmatch';
  settings: Required<NoisyStudentOptions>;
  /** Pool items the teacher predicted (after poolLimit). */
  predicted: number;
  /** Pseudo-labelled positions and their pseudo-labels. */
  pseudo: { idx: number[]; y: number[]; perClass: number[]; passed: number };
  valTeacher: number | null;
  valStudent: number | null;
  studentEpochs: number | null;
  studentBestEpoch: number | null;
  studentSteps: number | null;
  /** Whether the student replaced the teacher. */
  won: boolean;
  /** Calibrated probabilities of `alsoPredict` (rows × classes) of the classifier as it would be without noisy student (the teacher; a linear one refitted on every label), when asked. */
  teacherProba: Float64Array | null;
}

/** A trained classifier: the linear head or the fine-tuned model, whichever the method chose. */
export interface TrainedClassifier {
  method: 'linear' | 'fine-tune' | 'fixmatch' | 'noisy-student' | 'ensemble';
  requested: TrainMethod;
  classes: string[];
  /** Labelled items, and how many trained / validated (a linear winner is refitted on all of them). */
  labels: number;
  trainCount: number;
  valCount: number;
  /** Positions of the validation items (empty when the split left none). */
  valPositions: number[];
  /** Validation accuracy of the linear head fitted on the training part (null when not computed). */
  valLinear: number | null;
  /** Validation accuracy of the fine-tuned model's best weights (null when it did not run or there was no validation). */
  valFineTune: number | null;
  /** Validation accuracy of the ensemble's averaged probabilities (null unless `ensemble` asked for it and fine-tuning moved off its start). */
  valEnsemble: number | null;
  /** Validation accuracy of the ensemble's network from random initialisation alone (null unless a scratchEncoder was given and the ensemble was scored). */
  valScratch: number | null;
  /** That network when the ensemble won (refitted with `refit`): its head; input.scratchEncoder holds its weights after it predicts. */
  scratchFineTune: FineTuneResult | null;
  /** With `significance`: each challenger that validated at least as well as the head, McNemar's test against it, and whether it passed. */
  challenges: Array<{ challenger: 'fine-tune' | 'ensemble'; b: number; c: number; pOneSided: number; alpha: number; passed: boolean }>;
  /** Fine-tuned models in the returned classifier: 0 (linear), 1, or `ensemble` (+ 1 with a scratch member) when the ensemble won. */
  fineTunedModels: number;
  fineTuneEpochs: number | null;
  /** The epoch whose weights fine-tuning kept (0 = it never beat its linear-probe start). */
  fineTuneBestEpoch: number | null;
  /** The linear head when it won, alone or in the ensemble (fitted on every label; with ttaFeatures, on every view, and meant to read them all: headProba with the views). */
  head: Head | null;
  /** The fine-tuning run when it won, alone or in the ensemble: `fineTune.model` holds the head, the encoder was trained in place. */
  fineTune: FineTuneResult | null;
  /** The noisy-student step, when asked for and there was a validation split. */
  noisyStudentInfo: NoisyStudentInfo | null;
  /** The refit on every label, when asked for and a fine-tuned model won: the steps its validated weights had, and the refit's (the first model's, in an ensemble). */
  refit: { validatedSteps: number; steps: number; seconds: number } | null;
  /** The prior correction, when asked for: the prior of the labels the winner trained on and the one EM estimated on the unlabelled items. */
  priorShift: {
    labelPrior: number[];
    poolPrior: number[];
    items: number;
    iterations: number;
    converged: boolean;
    /**
     * False when the pool's maximum-likelihood prior leaves out a labelled class (prior-shift.ts
     * collapsedClasses, named in `collapsed`), or when the shift makes held-out validation
     * log-loss worse or there is no held-out validation to check it on (`validation`): the
     * labels' prior is kept.
     */
    applied: boolean;
    collapsed: string[];
    /** The check on the validation items, with the held-out twin's probabilities (prior-shift.ts validateShift); null when there were none. */
    validation: ShiftValidation | null;
  } | null;
  /**
   * Calibrated probabilities (rows × classes) of the validation items (valPositions) from a model
   * trained without them — the linear head on the training part, the fine-tuned model (not
   * refitted), the ensemble's validated average — with the applied prior shift: what the returned
   * classifier's method scores on unseen items. Null without validation items, or after a refit.
   */
  valProba: Float64Array | null;
  seconds: number;
  /**
   * The returned classifier as an estimator (src/train/estimator.ts) over the same models, prior
   * correction included: what saves and loads. It frees the same models as `dispose` (call one).
   */
  estimator: Estimator;
  /** Calibrated class probabilities (rows × classes) of positions `pos`. */
  proba(pos: number[]): Promise<Float64Array>;
  evaluate(pos: number[], truth: ArrayLike<string> | ArrayLike<number>): Promise<Metrics>;
  /** Frees the fine-tuned head (the encoder belongs to the caller). */
  dispose(): void;
}
