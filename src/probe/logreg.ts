import { mulberry32, shuffled } from '../core/rng.ts';
import { accuracy } from './metrics.ts';
import { fitStandardizer, selectRows, standardize, type Features } from './features.ts';
import { argmaxRows, crossEntropy } from '../ml/rows.ts';

/**
 * Multinomial logistic regression — the "linear probe". Objective:
 *   f(W, b) = mean_i CE(softmax(x_i W + b), y_i) + (λ/2)‖W‖²
 * minimised with L-BFGS (memory 10, Armijo backtracking). Features are standardised with the
 * training rows' statistics. λ is chosen by stratified 3-fold cross-validation on the training
 * rows when every class has ≥ 3 of them, else λ = 1e-2 (`chooseLambda`); the classifier heads
 * (src/train) search it on a stratified subsample above CV_MAX_ROWS rows (`searchLambda`).
 * The one logistic regression of the probe, the linear heads and fine-tuning's LP-FT start.
 */
export interface LinearModel {
  W: Float64Array; // dim × classes
  b: Float64Array;
  dim: number;
  classes: number;
  mean: Float64Array;
  std: Float64Array;
  lambda: number;
}

export const LAMBDA_GRID = [1e-3, 1e-2, 1e-1, 1];

export function fitLinearProbe(x: Features, y: Int32Array, classes: number, opts: { lambda?: number; seed?: number; maxIter?: number } = {}): LinearModel {
  const lambda = opts.lambda ?? chooseLambda(x, y, classes, opts.seed ?? 0, opts.maxIter);
  const st = fitStandardizer(x);
  const xs = standardize(x, st);
  const { W, b } = fitLogistic(xs, y, classes, lambda, opts.maxIter ?? 200);
  return { W, b, dim: x.dim, classes, mean: st.mean, std: st.std, lambda };
}

export function predictProba(m: LinearModel, x: Features): Float64Array {
  const xs = standardize(x, m);
  const p = new Float64Array(x.rows * m.classes);
  for (let i = 0; i < x.rows; i++) logits(xs.data, i, m.W, m.b, m.dim, m.classes, p.subarray(i * m.classes, (i + 1) * m.classes), true);
  return p;
}

export function predictLinear(m: LinearModel, x: Features): Int32Array {
  return argmaxRows(predictProba(m, x), m.classes);
}

/** λ from LAMBDA_GRID by 3-fold stratified CV accuracy (1e-2 when a class has fewer than 3 rows): what fitLinearProbe uses when given none. */
export function chooseLambda(x: Features, y: Int32Array, classes: number, seed: number, maxIter = 100): number {
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]++;
  if (counts.some((n) => n > 0 && n < 3)) return 1e-2;
  const folds = stratifiedFolds(y, 3, seed);
  let best = LAMBDA_GRID[0];
  let bestAcc = -1;
  for (const lambda of LAMBDA_GRID) {
    let acc = 0;
    for (let f = 0; f < 3; f++) {
      const trainIdx = folds.flatMap((fold, g) => (g === f ? [] : fold));
      const m = fitLinearProbe(selectRows(x, trainIdx), Int32Array.from(trainIdx, (i) => y[i]), classes, { lambda, maxIter });
      acc += accuracy(Int32Array.from(folds[f], (i) => y[i]), predictLinear(m, selectRows(x, folds[f])));
    }
    if (acc > bestAcc + 1e-12) {
      bestAcc = acc;
      best = lambda;
    }
  }
  return best;
}

/** Above this many rows, λ is cross-validated on a stratified seeded subsample of this size (`cvLambda`). */
export const CV_MAX_ROWS = 8000;

/**
 * λ for an L2 logistic regression on `x`: undefined (chooseLambda cross-validates on every row)
 * up to CV_MAX_ROWS rows; above, 3-fold CV on a stratified seeded subsample of CV_MAX_ROWS rows.
 * (On Fashion-MNIST's 48,000 training embeddings the full CV grid took most of an hour; λ chosen
 * on 8,000 rows of 512-dimensional features is the same choice at a sixth of the cost.)
 */
export function cvLambda(x: Features, y: ArrayLike<number>, classes: number, seed: number): number | undefined {
  if (x.rows <= CV_MAX_ROWS) return undefined;
  const rand = mulberry32(seed ^ 0x5eed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < x.rows; i++) {
    if (!byClass.has(y[i])) byClass.set(y[i], []);
    byClass.get(y[i])!.push(i);
  }
  const sub: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = byClass.get(c)!;
    sub.push(...shuffled(rows, rand).slice(0, Math.max(1, Math.round((rows.length * CV_MAX_ROWS) / x.rows))));
  }
  sub.sort((a, b) => a - b);
  return fitLinearProbe(selectRows(x, sub), Int32Array.from(sub, (i) => y[i]), classes, { seed }).lambda;
}

/** λ for rows `x`: 3-fold CV on every row up to CV_MAX_ROWS (chooseLambda), on a stratified subsample above (cvLambda). */
export function searchLambda(x: Features, y: Int32Array, classes: number, seed: number): number {
  return cvLambda(x, y, classes, seed) ?? chooseLambda(x, y, classes, seed);
}

function stratifiedFolds(y: Int32Array, k: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  const byClass = new Map<number, number[]>();
  y.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) for (const i of shuffled(byClass.get(c)!, rand)) folds[next++ % k].push(i);
  return folds;
}

/** Writes the logits (or, with `softmax`, probabilities) of row i into `out`. */
function logits(x: Float32Array, i: number, W: Float64Array, b: Float64Array, d: number, C: number, out: Float64Array, softmax: boolean) {
  for (let c = 0; c < C; c++) out[c] = b[c];
  for (let j = 0; j < d; j++) {
    const v = x[i * d + j];
    if (v === 0) continue;
    for (let c = 0; c < C; c++) out[c] += v * W[j * C + c];
  }
  if (!softmax) return;
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, out[c]);
  let s = 0;
  for (let c = 0; c < C; c++) s += out[c] = Math.exp(out[c] - max);
  for (let c = 0; c < C; c++) out[c] /= s;
}

/** Objective and gradient at θ = [W (d×C), b (C)] (exported for the gradient check). */
export function logisticObjective(theta: Float64Array, x: Features, y: Int32Array, C: number, lambda: number, grad: Float64Array): number {
  const d = x.dim;
  const W = theta.subarray(0, d * C);
  const b = theta.subarray(d * C);
  grad.fill(0);
  const gW = grad.subarray(0, d * C);
  const gb = grad.subarray(d * C);
  const p = new Float64Array(C);
  let loss = 0;
  for (let i = 0; i < x.rows; i++) {
    logits(x.data, i, W, b, d, C, p, true);
    loss += crossEntropy(p, 0, C, y[i]);
    p[y[i]] -= 1;
    for (let c = 0; c < C; c++) gb[c] += p[c];
    for (let j = 0; j < d; j++) {
      const v = x.data[i * d + j];
      if (v === 0) continue;
      for (let c = 0; c < C; c++) gW[j * C + c] += v * p[c];
    }
  }
  const n = Math.max(1, x.rows);
  let reg = 0;
  for (let k = 0; k < d * C; k++) {
    gW[k] = gW[k] / n + lambda * W[k];
    reg += W[k] * W[k];
  }
  for (let c = 0; c < C; c++) gb[c] /= n;
  return loss / n + 0.5 * lambda * reg;
}

function fitLogistic(x: Features, y: Int32Array, C: number, lambda: number, maxIter: number) {
  const n = x.dim * C + C;
  const theta = new Float64Array(n);
  const g = new Float64Array(n);
  let f = logisticObjective(theta, x, y, C, lambda, g);
  const m = 10;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const dir = new Float64Array(n);
  const next = new Float64Array(n);
  const gNext = new Float64Array(n);
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let k = 0; k < a.length; k++) s += a[k] * b[k];
    return s;
  };
  const g0 = Math.sqrt(dot(g, g));
  for (let it = 0; it < maxIter; it++) {
    // Two-loop recursion: dir = -H g.
    dir.set(g);
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = dot(S[k], dir) / dot(Y[k], S[k]);
      alpha[k] = a;
      for (let t = 0; t < n; t++) dir[t] -= a * Y[k][t];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let t = 0; t < n; t++) dir[t] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = dot(Y[k], dir) / dot(Y[k], S[k]);
      for (let t = 0; t < n; t++) dir[t] += S[k][t] * (alpha[k] - beta);
    }
    for (let t = 0; t < n; t++) dir[t] = -dir[t];
    let slope = dot(g, dir);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      for (let t = 0; t < n; t++) dir[t] = -g[t];
      slope = dot(g, dir);
    }
    let step = S.length === 0 ? 1 / Math.max(1, Math.sqrt(dot(g, g))) : 1;
    let fNext = Infinity;
    for (let ls = 0; ls < 30; ls++) {
      for (let t = 0; t < n; t++) next[t] = theta[t] + step * dir[t];
      fNext = logisticObjective(next, x, y, C, lambda, gNext);
      if (fNext <= f + 1e-4 * step * slope) break;
      step /= 2;
    }
    const s = new Float64Array(n);
    const yv = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      s[t] = next[t] - theta[t];
      yv[t] = gNext[t] - g[t];
    }
    theta.set(next);
    g.set(gNext);
    const improved = f - fNext;
    f = fNext;
    if (dot(s, yv) > 1e-12) {
      S.push(s);
      Y.push(yv);
      if (S.length > m) {
        S.shift();
        Y.shift();
      }
    }
    if (Math.sqrt(dot(g, g)) < 1e-5 * Math.max(1, g0) || Math.abs(improved) < 1e-10 * Math.max(1, Math.abs(f))) break;
  }
  return { W: theta.slice(0, x.dim * C), b: theta.slice(x.dim * C) };
}
