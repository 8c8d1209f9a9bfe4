/**
 * The part every EM aggregator shares: the E-step over items and the stopping rule.
 * A model supplies the M-step and the per-answer likelihood; see dawid-skene.ts for the maths.
 */
import { UserError } from '../core/errors.ts';
import type { Encoded } from './encode.ts';
import type { EmModel, EmOptions } from './types.ts';

// The model's interface lives in types.ts (DenseConsensus carries one); its users import it from here.
export type { EmModel } from './types.ts';

export interface EmRun {
  T: Float64Array;
  iterations: number;
  converged: boolean;
  /** Penalised log-likelihood after the last iteration. */
  logLikelihood: number;
}

export function emSettings(opts: EmOptions): { tol: number; maxIter: number } {
  const tol = opts.tol ?? 1e-6;
  const maxIter = opts.maxIter ?? 100;
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new UserError(`tol must be a finite number ≥ 0, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new UserError(`maxIter must be an integer ≥ 1, got ${maxIter}`);
  return { tol, maxIter };
}

export function checkSmoothing(alpha: number): number {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new UserError(`smoothing must be a finite number ≥ 0, got ${alpha}`);
  return alpha;
}

/**
 * E-step: T_ik ∝ π_k Π_{answers a of i} P(a | k), computed in log space with log-sum-exp.
 * Returns the new posteriors and the data log-likelihood Σ_i log Σ_k π_k Π_a P(a | k).
 */
export function eStep(e: Encoded, model: EmModel): { T: Float64Array; logL: number } {
  const K = e.labels.length;
  const n = e.items.length;
  const T = new Float64Array(n * K);
  const s = new Float64Array(K);
  let logL = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let v = model.logPrior[k];
      for (let j = e.itemStart[i]; j < e.itemStart[i + 1]; j++) v += model.logLik(e.byItem[j], k);
      s[k] = v;
      if (v > max) max = v;
    }
    if (max === -Infinity) {
      // Every class impossible (only with smoothing 0): no information, keep it uniform.
      for (let k = 0; k < K; k++) T[i * K + k] = 1 / K;
      logL = -Infinity;
      continue;
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(s[k] - max);
    for (let k = 0; k < K; k++) T[i * K + k] = Math.exp(s[k] - max) / z;
    logL += max + Math.log(z);
  }
  return { T, logL };
}

/**
 * One E-step row for an item outside the fit: T_k ∝ π_k Π_answers P(l | k) under the fitted
 * parameters (the same arithmetic as eStep, so an item the fit did see, given its answers in the
 * same order, gets the same posterior). `answers`: annotator index in the fit (-1: unknown) and
 * label index. With no answers it is the prior.
 */
export function itemPosterior(model: EmModel, K: number, answers: ReadonlyArray<{ w: number; l: number }>): Float64Array {
  const s = new Float64Array(K);
  const T = new Float64Array(K);
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    let v = model.logPrior[k];
    for (const a of answers) v += model.logLikNew(a.w, a.l, k);
    s[k] = v;
    if (v > max) max = v;
  }
  if (max === -Infinity) return T.fill(1 / K);
  let z = 0;
  for (let k = 0; k < K; k++) z += Math.exp(s[k] - max);
  for (let k = 0; k < K; k++) T[k] = Math.exp(s[k] - max) / z;
  return T;
}

/**
 * EM from the starting posteriors T0: M-step, E-step, repeat. After each E-step it stops
 * when max_ik |ΔT_ik| < tol or |ΔL| < tol (L = log-likelihood + penalty), else after maxIter.
 */
export function runEm(e: Encoded, model: EmModel, T0: Float64Array, opts: EmOptions): EmRun {
  const { tol, maxIter } = emSettings(opts);
  let T = T0;
  let prev = -Infinity;
  let L = -Infinity;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    iterations++;
    const penalty = model.mStep(T);
    const next = eStep(e, model);
    L = next.logL + penalty;
    let change = 0;
    for (let j = 0; j < T.length; j++) change = Math.max(change, Math.abs(next.T[j] - T[j]));
    T = next.T;
    opts.onIteration?.(iterations, L, change);
    if (change < tol || Math.abs(L - prev) < tol) {
      converged = true;
      break;
    }
    prev = L;
  }
  return { T, iterations, converged, logLikelihood: L };
}

/**
 * Class priors π_k = (α + Σ_i T_ik) / (Kα + n), in log; returns α Σ_k log π_k (0 when α = 0).
 * With `uniform`, π_k = 1/K is kept fixed instead (Whitehill et al.'s GLAD code does this).
 */
export function fitLogPrior(
  T: Float64Array,
  n: number,
  K: number,
  alpha: number,
  out: Float64Array,
  uniform = false,
): number {
  if (uniform) {
    out.fill(-Math.log(K));
    return 0;
  }
  let penalty = 0;
  for (let k = 0; k < K; k++) {
    let s = alpha;
    for (let i = 0; i < n; i++) s += T[i * K + k];
    out[k] = Math.log(s / (K * alpha + n));
    if (alpha > 0) penalty += alpha * out[k];
  }
  return penalty;
}
