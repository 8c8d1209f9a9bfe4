import { checkSmoothing, fitLogPrior, runEm, type EmModel } from './em.ts';
import { encodeAnswers, voteShares, type Encoded } from './encode.ts';
import { argmaxChoices, buildResult, matrixRows, posteriorAgreement, answeredCounts } from './result.ts';
import type { Answer, ConsensusResult, DenseConsensus, EmOptions } from './types.ts';

export interface DawidSkeneOptions extends EmOptions {
  /** Additive smoothing α on every confusion cell and class prior. Default 0.01. */
  smoothing?: number;
}

/**
 * Dawid & Skene (1979), "Maximum likelihood estimation of observer error-rates using the EM
 * algorithm", J. Royal Statistical Society C 28(1):20–28.
 *
 * Model: item i has a hidden true class z_i ~ Categorical(π). Annotator w, shown item i, answers
 * l with probability θ_w[z_i][l] — a full K×K confusion matrix per annotator — independently of
 * the other answers given z_i.
 *
 * EM, started from soft majority vote T_ik = n_ik / n_i (the vote shares):
 *   M-step  π_k       = (α + Σ_i T_ik) / (Kα + n)
 *           θ_w[k][l] = (α + Σ_{answers (i,w,l)} T_ik) / (Kα + Σ_{answers (i,w,·)} T_ik)
 *   E-step  T_ik ∝ π_k · Π_{answers (i,w,l)} θ_w[k][l]          (normalised over k, in log space)
 *
 * α = `smoothing` (default 0.01) is a pseudo-count on every cell: without it an annotator who
 * never used a label gets probability 0 for it, and one answer can then veto a class for good
 * (log 0 = −∞). 0.01 leaves the estimates practically the maximum-likelihood ones, whereas
 * Laplace's α = 1 is a strong prior at the 10–100 answers a crowd worker typically gives.
 * With α > 0, EM maximises the penalised log-likelihood
 *   L = Σ_i log Σ_k π_k Π θ_w[k][l] + α (Σ_k log π_k + Σ_{w,k,l} log θ_w[k][l])
 * (the MAP estimate under symmetric Dirichlet(α+1) priors), which never decreases.
 *
 * Convergence: after each E-step, stop when the largest absolute change of any posterior
 * T_ik, or the absolute change of L, is below `tol` (default 1e-6); otherwise stop after
 * `maxIter` (default 100) iterations with converged = false.
 *
 * Labels are the posterior argmax (an exact tie → null); annotator stats carry the fitted
 * confusion matrix (rows: true class, columns: answered).
 */
export function dawidSkene(answers: readonly Answer[], opts: DawidSkeneOptions = {}): ConsensusResult {
  const e = encodeAnswers(answers, opts.labels);
  const { model, run } = fit(e, opts);
  // model.theta holds the parameters of the last M-step, i.e. the ones that gave run.T.
  const acc = posteriorAgreement(e, run.T);
  const answered = answeredCounts(e);
  const K = e.labels.length;
  return buildResult(
    e,
    run.T,
    argmaxChoices(run.T, e.items.length, K),
    (w) => ({
      accuracy: acc[w],
      confusion: matrixRows(model.theta, w * K * K, K),
      answered: answered[w],
    }),
    { iterations: run.iterations, converged: run.converged, logLikelihood: run.logLikelihood },
  );
}

function fit(e: Encoded, opts: DawidSkeneOptions) {
  const alpha = checkSmoothing(opts.smoothing ?? 0.01);
  const model = new ConfusionModel(e, alpha, opts.priors === 'uniform');
  return { model, run: runEm(e, model, voteShares(e), opts) };
}

/** Dawid-Skene over encoded answers: posteriors and choices only (see dawidSkene). */
export function dawidSkeneDense(e: Encoded, opts: DawidSkeneOptions = {}): DenseConsensus {
  const { model, run } = fit(e, opts);
  return { T: run.T, choice: argmaxChoices(run.T, e.items.length, e.labels.length), model, iterations: run.iterations, converged: run.converged, logLikelihood: run.logLikelihood };
}

/** θ_w[k][l] for every annotator, flat: index (w·K + k)·K + l. */
class ConfusionModel implements EmModel {
  readonly logPrior: Float64Array;
  readonly theta: Float64Array;
  private readonly logTheta: Float64Array;
  private readonly K: number;

  constructor(
    private readonly e: Encoded,
    private readonly alpha: number,
    private readonly uniformPriors: boolean,
  ) {
    this.K = e.labels.length;
    this.logPrior = new Float64Array(this.K);
    this.theta = new Float64Array(e.annotators.length * this.K * this.K);
    this.logTheta = new Float64Array(this.theta.length);
  }

  mStep(T: Float64Array): number {
    const { e, alpha, K, theta, logTheta } = this;
    let penalty = fitLogPrior(T, e.items.length, K, alpha, this.logPrior, this.uniformPriors);
    theta.fill(alpha);
    for (let a = 0; a < e.item.length; a++) {
      const base = e.annotator[a] * K * K + e.label[a];
      const row = e.item[a] * K;
      for (let k = 0; k < K; k++) theta[base + k * K] += T[row + k];
    }
    for (let r = 0; r < theta.length; r += K) {
      let s = 0;
      for (let l = 0; l < K; l++) s += theta[r + l];
      for (let l = 0; l < K; l++) {
        // A class this annotator never saw (s = 0, only with α = 0): no evidence, uniform row.
        theta[r + l] = s > 0 ? theta[r + l] / s : 1 / K;
        logTheta[r + l] = Math.log(theta[r + l]);
        if (alpha > 0) penalty += alpha * logTheta[r + l];
      }
    }
    return penalty;
  }

  logLik(a: number, k: number): number {
    const K = this.K;
    return this.logTheta[(this.e.annotator[a] * K + k) * K + this.e.label[a]];
  }

  logLikNew(w: number, l: number, k: number): number {
    const K = this.K;
    return w >= 0 ? this.logTheta[(w * K + k) * K + l] : this.pooled()[k * K + l];
  }

  /**
   * An annotator the fit never saw: the crowd's confusion matrix, log of θ averaged over the
   * annotators weighted by their answers (what a newcomer is expected to do until the next fit).
   */
  private pooledLog: Float64Array | undefined;
  private pooled(): Float64Array {
    if (this.pooledLog) return this.pooledLog;
    const { e, K, theta } = this;
    const n = new Float64Array(e.annotators.length);
    for (let a = 0; a < e.annotator.length; a++) n[e.annotator[a]]++;
    const out = new Float64Array(K * K);
    for (let w = 0; w < n.length; w++) for (let c = 0; c < K * K; c++) out[c] += (n[w] / e.annotator.length) * theta[w * K * K + c];
    for (let c = 0; c < out.length; c++) out[c] = Math.log(out[c]);
    return (this.pooledLog = out);
  }
}

export const aggregate = dawidSkene;
