import { mulberry32, shuffled } from '../core/rng.ts';
import type { Csr } from '../ssl/text/sparse.ts';
import { argmaxRows, crossEntropy } from '../ml/rows.ts';

/**
 * Multinomial logistic regression over sparse rows — the head for TF-IDF n-grams (10⁵ columns)
 * alone or concatenated with dense blocks. Objective, with optional per-row weights wᵢ:
 *   f(W, b) = Σᵢ wᵢ CE(softmax(xᵢW + b), yᵢ) / Σᵢ wᵢ + (λ/2)‖W‖²
 * minimised with L-BFGS (memory 10, Armijo backtracking), bias unpenalised. Only the columns
 * that occur in the training rows get parameters: every other weight has zero gradient and stays
 * at zero, so the fit costs O(nnz·C) per pass whatever the vocabulary size. No standardisation:
 * rows are expected on a common scale (unit-norm blocks), as TF-IDF is used everywhere.
 */
export interface SparseLinearModel {
  classes: number;
  dim: number;
  /** Input column → row of W (−1: never seen in training, weight 0). */
  colMap: Int32Array;
  W: Float64Array; // active × classes
  b: Float64Array;
  lambda: number;
}

export interface SparseFitOptions {
  lambda?: number;
  weights?: Float32Array;
  maxIter?: number;
  seed?: number;
  /** λ candidates for cross-validation (default SPARSE_LAMBDA_GRID). */
  grid?: number[];
}

/** λ candidates: with unit-norm rows and tens of labels the best λ is small (near the hard-margin end: 60 random TREC labels score 51% at λ = 1e-7 and 40% at 1e-2). */
export const SPARSE_LAMBDA_GRID = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2];

export function fitSparseLogistic(x: Csr, y: Int32Array, classes: number, opts: SparseFitOptions = {}): SparseLinearModel {
  const lambda = opts.lambda ?? chooseSparseLambda(x, y, classes, opts);
  const colMap = new Int32Array(x.dim).fill(-1);
  let active = 0;
  for (let p = 0; p < x.indptr[x.rows]; p++) if (colMap[x.indices[p]] === -1) colMap[x.indices[p]] = active++;
  const cols = new Int32Array(x.indices.length);
  for (let p = 0; p < cols.length; p++) cols[p] = colMap[x.indices[p]];
  const local: Csr = { rows: x.rows, dim: active, indptr: x.indptr, indices: cols, values: x.values };
  const weights = opts.weights ?? new Float32Array(x.rows).fill(1);
  const theta = lbfgs((t, g) => objective(t, local, y, classes, lambda, weights, g), active * classes + classes, opts.maxIter ?? 200);
  return { classes, dim: x.dim, colMap, W: theta.slice(0, active * classes), b: theta.slice(active * classes), lambda };
}

/** Class probabilities, rows × classes. */
export function sparsePredictProba(m: SparseLinearModel, x: Csr): Float64Array {
  const C = m.classes;
  const out = new Float64Array(x.rows * C);
  for (let r = 0; r < x.rows; r++) {
    const o = out.subarray(r * C, (r + 1) * C);
    o.set(m.b);
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) {
      const a = x.indices[p] < m.dim ? m.colMap[x.indices[p]] : -1;
      if (a < 0) continue;
      const v = x.values[p];
      for (let c = 0; c < C; c++) o[c] += v * m.W[a * C + c];
    }
    softmaxInPlace(o);
  }
  return out;
}

export { argmaxRows };

/**
 * λ from the grid by stratified 3-fold cross-validation accuracy on the training rows alone
 * (ties to the larger λ); the middle of the grid when some class has fewer than 3 rows.
 */
export function chooseSparseLambda(x: Csr, y: Int32Array, classes: number, opts: SparseFitOptions = {}): number {
  const grid = opts.grid ?? SPARSE_LAMBDA_GRID;
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]++;
  const present = counts.filter((n) => n > 0);
  if (present.length < 2 || present.some((n) => n < 3)) return grid[Math.floor(grid.length / 2)];
  const folds = stratifiedFolds(y, 3, opts.seed ?? 0);
  let best = grid[0];
  let bestAcc = -1;
  for (const lambda of [...grid].sort((a, b) => b - a)) {
    let ok = 0;
    for (let f = 0; f < 3; f++) {
      const tr = folds.flatMap((fold, g) => (g === f ? [] : fold));
      const m = fitSparseLogistic(rowsOf(x, tr), Int32Array.from(tr, (i) => y[i]), classes, { lambda, maxIter: opts.maxIter ?? 100, weights: opts.weights && Float32Array.from(tr, (i) => opts.weights![i]) });
      const pred = argmaxRows(sparsePredictProba(m, rowsOf(x, folds[f])), classes);
      folds[f].forEach((i, k) => (ok += pred[k] === y[i] ? 1 : 0));
    }
    if (ok > bestAcc) {
      bestAcc = ok;
      best = lambda;
    }
  }
  return best;
}

function rowsOf(x: Csr, idx: number[]): Csr {
  let nnz = 0;
  for (const i of idx) nnz += x.indptr[i + 1] - x.indptr[i];
  const indptr = new Int32Array(idx.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  idx.forEach((i, r) => {
    indices.set(x.indices.subarray(x.indptr[i], x.indptr[i + 1]), k);
    values.set(x.values.subarray(x.indptr[i], x.indptr[i + 1]), k);
    k += x.indptr[i + 1] - x.indptr[i];
    indptr[r + 1] = k;
  });
  return { rows: idx.length, dim: x.dim, indptr, indices, values };
}

export function stratifiedFolds(y: Int32Array, k: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  const byClass = new Map<number, number[]>();
  y.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) for (const i of shuffled(byClass.get(c)!, rand)) folds[next++ % k].push(i);
  return folds;
}

function softmaxInPlace(o: Float64Array) {
  let max = -Infinity;
  for (const v of o) max = Math.max(max, v);
  let s = 0;
  for (let c = 0; c < o.length; c++) s += o[c] = Math.exp(o[c] - max);
  for (let c = 0; c < o.length; c++) o[c] /= s;
}

/** Objective and gradient at θ = [W (active×C), b (C)] (exported for the gradient check). */
export function objective(theta: Float64Array, x: Csr, y: Int32Array, C: number, lambda: number, w: Float32Array, grad: Float64Array): number {
  const W = theta.subarray(0, x.dim * C);
  const b = theta.subarray(x.dim * C);
  grad.fill(0);
  const gW = grad.subarray(0, x.dim * C);
  const gb = grad.subarray(x.dim * C);
  const p = new Float64Array(C);
  let loss = 0;
  let wsum = 0;
  for (let i = 0; i < x.rows; i++) wsum += w[i];
  const inv = 1 / Math.max(wsum, 1e-12);
  for (let i = 0; i < x.rows; i++) {
    if (w[i] === 0) continue;
    p.set(b);
    for (let q = x.indptr[i]; q < x.indptr[i + 1]; q++) {
      const j = x.indices[q];
      const v = x.values[q];
      for (let c = 0; c < C; c++) p[c] += v * W[j * C + c];
    }
    softmaxInPlace(p);
    loss += w[i] * crossEntropy(p, 0, C, y[i]);
    p[y[i]] -= 1;
    const wi = w[i] * inv;
    for (let c = 0; c < C; c++) gb[c] += wi * p[c];
    for (let q = x.indptr[i]; q < x.indptr[i + 1]; q++) {
      const j = x.indices[q];
      const v = x.values[q] * wi;
      for (let c = 0; c < C; c++) gW[j * C + c] += v * p[c];
    }
  }
  let reg = 0;
  for (let k = 0; k < W.length; k++) {
    gW[k] += lambda * W[k];
    reg += W[k] * W[k];
  }
  return loss * inv + 0.5 * lambda * reg;
}

/** L-BFGS (memory 10) with Armijo backtracking from θ = 0; returns the minimiser found. */
export function lbfgs(f: (theta: Float64Array, grad: Float64Array) => number, n: number, maxIter: number): Float64Array {
  const theta = new Float64Array(n);
  const g = new Float64Array(n);
  let fx = f(theta, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
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
    dir.set(g);
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], dir);
      for (let t = 0; t < n; t++) dir[t] -= alpha[k] * Y[k][t];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let t = 0; t < n; t++) dir[t] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], dir);
      for (let t = 0; t < n; t++) dir[t] += S[k][t] * (alpha[k] - beta);
    }
    for (let t = 0; t < n; t++) dir[t] = -dir[t];
    let slope = dot(g, dir);
    if (slope >= 0) {
      S.length = Y.length = rho.length = 0;
      for (let t = 0; t < n; t++) dir[t] = -g[t];
      slope = dot(g, dir);
    }
    let step = S.length === 0 ? 1 / Math.max(1, Math.sqrt(dot(g, g))) : 1;
    let fNext = Infinity;
    for (let ls = 0; ls < 30; ls++) {
      for (let t = 0; t < n; t++) next[t] = theta[t] + step * dir[t];
      fNext = f(next, gNext);
      if (fNext <= fx + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNext < fx)) break;
    const s = new Float64Array(n);
    const yv = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      s[t] = next[t] - theta[t];
      yv[t] = gNext[t] - g[t];
    }
    theta.set(next);
    g.set(gNext);
    const improved = fx - fNext;
    fx = fNext;
    const sy = dot(s, yv);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > 10) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    if (Math.sqrt(dot(g, g)) < 1e-5 * Math.max(1, g0) || improved < 1e-9 * Math.max(1, Math.abs(fx))) break;
  }
  return theta;
}
