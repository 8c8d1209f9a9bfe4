/**
 * The consensus contract: every aggregation method in this folder is a pure function
 * `aggregate(answers, opts) → ConsensusResult` (one file per method, like crowd-kit).
 *
 * Conventions shared by all methods:
 * - The label set is `opts.labels` in the order given, or else every label seen in the
 *   answers, sorted by UTF-16 code units (plain `<`, locale-independent). Posteriors,
 *   confusion matrices and tie rules use this order.
 * - Every answer counts once, even if an annotator answered the same item twice.
 * - Results never depend on the order of `answers`: answers are sorted by (item, annotator,
 *   label) before any arithmetic, so any permutation gives the same output bit for bit
 *   (randomness, where used, is seeded).
 */

export interface Answer {
  item: string;
  annotator: string;
  label: string;
}

export interface AnnotatorStats {
  /**
   * The method's estimate of the probability that this annotator's answer is correct.
   * Model-based methods: mean over the annotator's answers of P(true label = answer | data)
   * under the final posteriors (this is exactly the M-step quantity of one-coin DS).
   * Majority vote: share of answers equal to the consensus label, over resolved items.
   * NaN when there is nothing to measure it on.
   */
  accuracy: number;
  /** Rows: true class, columns: answered class, in label-set order; each row sums to 1. */
  confusion?: number[][];
  /** Number of answers this annotator gave. */
  answered: number;
}

export interface ConsensusResult {
  /** Consensus label per item; null when unresolved (a tie): send the item to review. */
  labels: Map<string, string | null>;
  /** Probability (or vote share) of the chosen label; for a tie, the tied top share. */
  confidence: Map<string, number>;
  /**
   * Full distribution over the label set per item (sums to 1). Each is an object with no
   * prototype (src/core/dict.ts): every label is a key, even `__proto__` or `constructor`.
   */
  posteriors: Map<string, Record<string, number>>;
  annotatorStats: Map<string, AnnotatorStats>;
  /** The label order used for posteriors and confusion matrices. */
  labelSet: string[];
  iterations?: number;
  converged?: boolean;
  /** Iterative methods: the final value of the (penalised) log-likelihood EM maximises. */
  logLikelihood?: number;
}

/** What an EM aggregator fits: em.ts runs the E-step and the stopping rule, the model supplies the rest. */
export interface EmModel {
  /** Log class priors log π_k, refreshed by mStep. */
  logPrior: Float64Array;
  /** Refit every parameter from the posteriors T (n×K); returns the log-prior (penalty) term of the objective. */
  mStep(T: Float64Array): number;
  /** log P(answer a's label | answer a's item has true class k), under the current parameters. */
  logLik(a: number, k: number): number;
  /**
   * log P(annotator w answers l | true class k) for an item the fit did not see, under the
   * current parameters; w = -1 for an annotator the fit never saw (each model says what it
   * assumes then). Lets a fitted model decide a new item without refitting (itemPosterior).
   */
  logLikNew(w: number, l: number, k: number): number;
}

/**
 * A method's result before it is turned into Maps: posteriors T (n×K, items in the Encoded
 * order) and the chosen label index per item (-1 = unresolved). For callers that hold many
 * items (src/label/recompute.ts): no object per item.
 */
export interface DenseConsensus {
  T: Float64Array;
  choice: Int32Array;
  /** The fitted model (EM methods): decides items outside the fit (em.ts itemPosterior). */
  model?: EmModel;
  iterations?: number;
  converged?: boolean;
  logLikelihood?: number;
}

export interface ConsensusOptions {
  /** The label set, in order; answers with other labels are rejected. */
  labels?: readonly string[];
}

/** Options shared by the EM-based methods. */
export interface EmOptions extends ConsensusOptions {
  /** Convergence tolerance (see each method's doc for the rule). Default 1e-6. */
  tol?: number;
  /** Maximum number of EM iterations. Default 100. */
  maxIter?: number;
  /**
   * Class priors π: 'fit' (default) re-estimates them in every M-step; 'uniform' fixes 1/K,
   * which keeps EM from drifting to one class when the annotator model is too coarse.
   */
  priors?: 'fit' | 'uniform';
  /** Called after each iteration (progress, or checking that the objective never falls). */
  onIteration?: (iteration: number, logLikelihood: number, maxPosteriorChange: number) => void;
}

export type Aggregate<O extends ConsensusOptions = ConsensusOptions> = (
  answers: readonly Answer[],
  opts?: O,
) => ConsensusResult;
