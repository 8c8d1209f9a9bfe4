import { checkSmoothing, fitLogPrior, runEm, type EmModel } from './em.ts';
import { encodeAnswers, voteShares, type Encoded } from './encode.ts';
import { answeredCounts, argmaxChoices, buildResult } from './result.ts';
import type { Answer, ConsensusResult, DenseConsensus, EmOptions } from './types.ts';

export interface OneCoinOptions extends EmOptions {
  /** Beta pseudo-count α on each annotator's right/wrong counts and on the class priors. Default 0.01. */
  smoothing?: number;
}

/**
 * One-coin Dawid-Skene: Dawid & Skene (1979) with each confusion matrix reduced to a single
 * accuracy ("coin") per annotator and errors spread uniformly over the other classes — the
 * "one-coin" special case common in the crowdsourcing literature:
 *   P(l | z_i = k) = p_w            if l = k
 *                  = (1 − p_w)/(K−1) otherwise.
 * Fewer parameters than the full model (1 instead of K(K−1) per annotator): steadier for
 * annotators with few answers, blind to class-specific bias.
 *
 * EM from soft majority vote; with α = `smoothing` (default 0.01):
 *   M-step  π_k = (α + Σ_i T_ik) / (Kα + n)
 *           p_w = (α + Σ_{answers (i,w,l)} T_il) / (2α + n_w)   (expected share of right answers)
 *   E-step  T_ik ∝ π_k Π_{answers (i,w,l)} P(l | k)
 * The objective (log-likelihood + α Σ log π_k + α Σ_w [log p_w + log(1 − p_w)]) never
 * decreases. Stopping rule as in dawid-skene.ts: max |ΔT_ik| < tol or |ΔL| < tol (1e-6),
 * else maxIter (100). Annotator accuracy is p_w itself; the confusion matrix is the one
 * p_w implies. Beware class-specific bias: on the bluebirds set (workers biased towards one
 * class) it scores 0.58 where majority vote scores 0.76 and full DS 0.90 — use dawid-skene.
 */
export function oneCoin(answers: readonly Answer[], opts: OneCoinOptions = {}): ConsensusResult {
  const e = encodeAnswers(answers, opts.labels);
  const { model, run } = fit(e, opts);
  const K = e.labels.length;
  const answered = answeredCounts(e);
  return buildResult(
    e,
    run.T,
    argmaxChoices(run.T, e.items.length, K),
    (w) => {
      const p = model.p[w];
      const off = K > 1 ? (1 - p) / (K - 1) : 0;
      const confusion = Array.from({ length: K }, (_, k) => Array.from({ length: K }, (_, l) => (k === l ? p : off)));
      return { accuracy: p, confusion, answered: answered[w] };
    },
    { iterations: run.iterations, converged: run.converged, logLikelihood: run.logLikelihood },
  );
}

function fit(e: Encoded, opts: OneCoinOptions) {
  const model = new CoinModel(e, checkSmoothing(opts.smoothing ?? 0.01), opts.priors === 'uniform');
  return { model, run: runEm(e, model, voteShares(e), opts) };
}

/** One-coin DS over encoded answers: posteriors and choices only (see oneCoin). */
export function oneCoinDense(e: Encoded, opts: OneCoinOptions = {}): DenseConsensus {
  const { model, run } = fit(e, opts);
  return { T: run.T, choice: argmaxChoices(run.T, e.items.length, e.labels.length), model, iterations: run.iterations, converged: run.converged, logLikelihood: run.logLikelihood };
}

class CoinModel implements EmModel {
  readonly logPrior: Float64Array;
  readonly p: Float64Array;
  private readonly logRight: Float64Array;
  private readonly logWrong: Float64Array;

  constructor(
    private readonly e: Encoded,
    private readonly alpha: number,
    private readonly uniformPriors: boolean,
  ) {
    const m = e.annotators.length;
    this.logPrior = new Float64Array(e.labels.length);
    this.p = new Float64Array(m);
    this.logRight = new Float64Array(m);
    this.logWrong = new Float64Array(m);
  }

  mStep(T: Float64Array): number {
    const { e, alpha } = this;
    const K = e.labels.length;
    let penalty = fitLogPrior(T, e.items.length, K, alpha, this.logPrior, this.uniformPriors);
    const right = new Float64Array(e.annotators.length).fill(alpha);
    const total = new Float64Array(e.annotators.length).fill(2 * alpha);
    for (let a = 0; a < e.item.length; a++) {
      right[e.annotator[a]] += T[e.item[a] * K + e.label[a]];
      total[e.annotator[a]] += 1;
    }
    for (let w = 0; w < right.length; w++) {
      const p = total[w] > 0 ? right[w] / total[w] : 0.5;
      this.p[w] = p;
      this.logRight[w] = Math.log(p);
      // K = 1: every answer is the only class, "wrong" never happens.
      this.logWrong[w] = K > 1 ? Math.log((1 - p) / (K - 1)) : -Infinity;
      if (alpha > 0) penalty += alpha * (Math.log(p) + Math.log(1 - p));
    }
    return penalty;
  }

  logLik(a: number, k: number): number {
    const w = this.e.annotator[a];
    return this.e.label[a] === k ? this.logRight[w] : this.logWrong[w];
  }

  private pooledP: number | undefined;
  logLikNew(w: number, l: number, k: number): number {
    if (w >= 0) return l === k ? this.logRight[w] : this.logWrong[w];
    // An annotator the fit never saw: the crowd's accuracy, averaged over answers.
    const { e } = this;
    if (this.pooledP === undefined) {
      let p = 0;
      for (let a = 0; a < e.annotator.length; a++) p += this.p[e.annotator[a]];
      this.pooledP = p / e.annotator.length;
    }
    const p = this.pooledP;
    const K = e.labels.length;
    return l === k ? Math.log(p) : K > 1 ? Math.log((1 - p) / (K - 1)) : -Infinity;
  }
}

export const aggregate = oneCoin;
