import { UserError } from '../core/errors.ts';
import { checkSmoothing, fitLogPrior, runEm, type EmModel } from './em.ts';
import { encodeAnswers, voteShares, type Encoded } from './encode.ts';
import { answeredCounts, argmaxChoices, buildResult, posteriorAgreement } from './result.ts';
import type { Answer, ConsensusResult, DenseConsensus, EmOptions } from './types.ts';

export interface GladOptions extends EmOptions {
  /** Additive smoothing of the class priors (as in dawid-skene.ts). Default 0.01. */
  smoothing?: number;
  /** Gradient-ascent steps per M-step (each with backtracking). Default 25. */
  mStepIters?: number;
}

export interface GladResult extends ConsensusResult {
  /** α_w: annotator ability (0 = guessing, negative = adversarial). */
  ability: Map<string, number>;
  /** β_j > 0: inverse item difficulty (→ 0: even experts guess; large: easy). */
  inverseDifficulty: Map<string, number>;
}

/**
 * GLAD — Whitehill, Ruvolo, Wu, Bergsma & Movellan (2009), "Whose vote should count more:
 * optimal integration of labels from labelers of unknown expertise", NIPS 22.
 *
 * Model: annotator w with ability α_w ∈ ℝ labels item j of inverse difficulty β_j > 0
 * correctly with probability σ(α_w β_j) (σ = logistic), errors spread uniformly over the
 * other classes (the paper's model, in the K-class form crowd-kit also uses):
 *   P(l | z_j = k) = σ(α_w β_j)              if l = k
 *                  = (1 − σ(α_w β_j))/(K−1) otherwise.
 * β_j = exp(b_j) keeps it positive. Gaussian priors α_w ~ N(1, 1), b_j ~ N(0, 1) (MAP;
 * centred on the usual starting point α = 1, β = 1, and they keep a worker who answered
 * only unanimous items from running off to α = ∞). Class priors π: as in dawid-skene.ts.
 *
 * EM from soft majority vote:
 *   E-step  T_jk ∝ π_k Π_{answers (j,w,l)} P(l | z_j = k)
 *   M-step  maximise over (α, b), with p_a = T_{j,l} the posterior that answer a is right,
 *     Q = Σ_a [p_a log σ(x_a) + (1 − p_a) log(1 − σ(x_a))] − ½Σ_w(α_w − 1)² − ½Σ_j b_j²,
 *     x_a = α_w β_j,
 *     ∂Q/∂α_w = Σ_{a by w} (p_a − σ(x_a)) β_j − (α_w − 1)
 *     ∂Q/∂b_j = Σ_{a on j} (p_a − σ(x_a)) α_w β_j − b_j
 *   by gradient ascent (as in the paper), each step scaled by a Gauss-Newton curvature
 *   estimate per parameter and halved until Q increases — so Q, and therefore the EM
 *   objective, never decreases (generalised EM).
 * Stopping rule as in dawid-skene.ts (max |ΔT| < tol or |ΔL| < tol, default 1e-6; maxIter 100).
 * Like one-coin, GLAD cannot express class-specific bias: on bluebirds it scores 0.57
 * (0.72 with priors: 'uniform') against 0.90 for full Dawid-Skene.
 */
export function glad(answers: readonly Answer[], opts: GladOptions = {}): GladResult {
  const e = encodeAnswers(answers, opts.labels);
  const { model, run } = fit(e, opts);
  const K = e.labels.length;
  const acc = posteriorAgreement(e, run.T);
  const answered = answeredCounts(e);
  const result = buildResult(
    e,
    run.T,
    argmaxChoices(run.T, e.items.length, K),
    (w) => ({ accuracy: acc[w], answered: answered[w] }),
    { iterations: run.iterations, converged: run.converged, logLikelihood: run.logLikelihood },
  );
  return {
    ...result,
    ability: new Map(e.annotators.map((id, w) => [id, model.alpha[w]])),
    inverseDifficulty: new Map(e.items.map((id, j) => [id, Math.exp(model.b[j])])),
  };
}

function fit(e: Encoded, opts: GladOptions) {
  const mStepIters = opts.mStepIters ?? 25;
  if (!Number.isInteger(mStepIters) || mStepIters < 1) {
    throw new UserError(`mStepIters must be an integer ≥ 1, got ${mStepIters}`);
  }
  const model = new GladModel(e, checkSmoothing(opts.smoothing ?? 0.01), mStepIters, opts.priors === 'uniform');
  return { model, run: runEm(e, model, voteShares(e), opts) };
}

/** GLAD over encoded answers: posteriors and choices only (see glad). */
export function gladDense(e: Encoded, opts: GladOptions = {}): DenseConsensus {
  const { model, run } = fit(e, opts);
  return { T: run.T, choice: argmaxChoices(run.T, e.items.length, e.labels.length), model, iterations: run.iterations, converged: run.converged, logLikelihood: run.logLikelihood };
}

/** log σ(x) and log(1 − σ(x)) = log σ(−x), stable for large |x|. */
const logSigmoid = (x: number) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** p_a = T[item(a), label(a)]: the posterior that answer a is correct. */
function rightProbs(e: Encoded, T: Float64Array): Float64Array {
  const K = e.labels.length;
  const p = new Float64Array(e.item.length);
  for (let a = 0; a < p.length; a++) p[a] = T[e.item[a] * K + e.label[a]];
  return p;
}

/** The M-step objective Q(α, b) (without the constant −(1−p)log(K−1) terms). Exported for the gradient check. */
export function gladQ(e: Encoded, p: Float64Array, alpha: Float64Array, b: Float64Array): number {
  let q = 0;
  for (let a = 0; a < p.length; a++) {
    const x = alpha[e.annotator[a]] * Math.exp(b[e.item[a]]);
    q += p[a] * logSigmoid(x) + (1 - p[a]) * logSigmoid(-x);
  }
  for (const v of alpha) q -= 0.5 * (v - 1) ** 2;
  for (const v of b) q -= 0.5 * v * v;
  return q;
}

/** ∂Q/∂α and ∂Q/∂b, plus Gauss-Newton curvatures hα, hb (positive) used to scale steps. */
export function gladGradient(e: Encoded, p: Float64Array, alpha: Float64Array, b: Float64Array) {
  const gA = alpha.map((v) => -(v - 1));
  const gB = b.map((v) => -v);
  const hA = new Float64Array(alpha.length).fill(1);
  const hB = new Float64Array(b.length).fill(1);
  for (let a = 0; a < p.length; a++) {
    const w = e.annotator[a];
    const j = e.item[a];
    const beta = Math.exp(b[j]);
    const s = sigmoid(alpha[w] * beta);
    const r = p[a] - s;
    gA[w] += r * beta;
    gB[j] += r * alpha[w] * beta;
    const c = s * (1 - s);
    hA[w] += c * beta * beta;
    hB[j] += c * (alpha[w] * beta) ** 2;
  }
  return { gA, gB, hA, hB };
}

class GladModel implements EmModel {
  readonly logPrior: Float64Array;
  readonly alpha: Float64Array;
  readonly b: Float64Array;
  private readonly logRight: Float64Array;
  private readonly logWrong: Float64Array;

  constructor(
    private readonly e: Encoded,
    private readonly smoothing: number,
    private readonly mStepIters: number,
    private readonly uniformPriors: boolean,
  ) {
    this.logPrior = new Float64Array(e.labels.length);
    this.alpha = new Float64Array(e.annotators.length).fill(1); // the prior means
    this.b = new Float64Array(e.items.length);
    this.logRight = new Float64Array(e.item.length);
    this.logWrong = new Float64Array(e.item.length);
  }

  mStep(T: Float64Array): number {
    const { e, alpha, b } = this;
    const K = e.labels.length;
    const penalty = fitLogPrior(T, e.items.length, K, this.smoothing, this.logPrior, this.uniformPriors);
    const p = rightProbs(e, T);
    let q = gladQ(e, p, alpha, b);
    for (let it = 0; it < this.mStepIters; it++) {
      const { gA, gB, hA, hB } = gladGradient(e, p, alpha, b);
      const a0 = alpha.slice();
      const b0 = b.slice();
      let step = 1;
      let improved = false;
      for (let halvings = 0; halvings < 30; halvings++, step /= 2) {
        for (let w = 0; w < alpha.length; w++) alpha[w] = a0[w] + (step * gA[w]) / hA[w];
        for (let j = 0; j < b.length; j++) b[j] = b0[j] + (step * gB[j]) / hB[j];
        const q1 = gladQ(e, p, alpha, b);
        if (q1 > q) {
          improved = q1 - q > 1e-10 * Math.abs(q);
          q = q1;
          break;
        }
        alpha.set(a0);
        b.set(b0);
      }
      if (!improved) break;
    }
    const logKm1 = K > 1 ? Math.log(K - 1) : 0;
    for (let a = 0; a < e.item.length; a++) {
      const x = alpha[e.annotator[a]] * Math.exp(b[e.item[a]]);
      this.logRight[a] = logSigmoid(x);
      this.logWrong[a] = K > 1 ? logSigmoid(-x) - logKm1 : -Infinity;
    }
    let prior = 0;
    for (const v of alpha) prior -= 0.5 * (v - 1) ** 2;
    for (const v of b) prior -= 0.5 * v * v;
    return penalty + prior;
  }

  logLik(a: number, k: number): number {
    return this.e.label[a] === k ? this.logRight[a] : this.logWrong[a];
  }

  /**
   * A new item has no fitted difficulty: its prior mean (b = 0, β = 1). An annotator the fit
   * never saw: the prior mean ability α = 1.
   */
  logLikNew(w: number, l: number, k: number): number {
    const x = w >= 0 ? this.alpha[w] : 1;
    const K = this.e.labels.length;
    return l === k ? logSigmoid(x) : K > 1 ? logSigmoid(-x) - Math.log(K - 1) : -Infinity;
  }
}

export const aggregate = glad;
