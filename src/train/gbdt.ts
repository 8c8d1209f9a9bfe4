import type { Features } from '../probe/features.ts';

/**
 * Gradient-boosted decision trees for multiclass classification — the head tabular users compare
 * against. Friedman's gradient boosting with XGBoost's second-order leaves (Chen & Guestrin 2016):
 * each round fits one regression tree per class to the softmax loss's gradients gᵢ = pᵢ − yᵢ and
 * hessians hᵢ = pᵢ(1 − pᵢ); a split's gain is G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ), a leaf's
 * value −G/(H+λ) times the learning rate. Splits are searched over quantile bins of each column
 * (LightGBM's histogram method), computed on `binFrom` rows when given (e.g. the whole unlabelled
 * pool: thresholds then follow the data's distribution, not only the few labelled rows').
 */
export interface GbdtOptions {
  rounds?: number;
  learningRate?: number;
  maxDepth?: number;
  /** L2 penalty λ on leaf values. */
  lambda?: number;
  /** Smallest hessian sum in a child. */
  minChildWeight?: number;
  bins?: number;
  weights?: Float32Array;
  binFrom?: Features;
}

export const GBDT_DEFAULTS = { rounds: 100, learningRate: 0.1, maxDepth: 3, lambda: 1, minChildWeight: 1e-3, bins: 32 };

interface Tree {
  feature: Int32Array; // −1 for a leaf
  /** Go left when value ≤ threshold. */
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
}

export interface GbdtModel {
  classes: number;
  dim: number;
  base: Float64Array;
  /** trees[round * classes + c]. */
  trees: Tree[];
}

/** Per column: ascending cut points (bin b holds values ≤ cuts[b], the last bin the rest). */
export function quantileCuts(x: Features, bins: number): Float32Array[] {
  const cuts: Float32Array[] = [];
  const col = new Float32Array(x.rows);
  for (let j = 0; j < x.dim; j++) {
    for (let i = 0; i < x.rows; i++) col[i] = x.data[i * x.dim + j];
    const sorted = Float32Array.from(col).sort();
    const out: number[] = [];
    for (let b = 1; b < bins; b++) {
      const v = sorted[Math.min(sorted.length - 1, Math.floor((b * sorted.length) / bins))];
      if (out.length === 0 || v > out[out.length - 1]) out.push(v);
    }
    // Values equal to the maximum go to the last bin: drop a cut at the maximum.
    while (out.length && out[out.length - 1] >= sorted[sorted.length - 1]) out.pop();
    cuts.push(Float32Array.from(out));
  }
  return cuts;
}

function binOf(cuts: Float32Array, v: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= cuts[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function fitGbdt(x: Features, y: Int32Array, classes: number, options: GbdtOptions = {}): GbdtModel {
  const o = { ...GBDT_DEFAULTS, ...options };
  if (!Number.isInteger(o.bins) || o.bins < 2 || o.bins > 256) throw new Error(`GBDT bins must be a whole number in 2…256 (one byte per binned value), got ${o.bins}`);
  const n = x.rows;
  const d = x.dim;
  const C = classes;
  const w = o.weights ?? new Float32Array(n).fill(1);
  const cuts = quantileCuts(o.binFrom ?? x, o.bins);
  const B = o.bins;
  const binned = new Uint8Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) binned[i * d + j] = binOf(cuts[j], x.data[i * d + j]);
  // Start from the (weighted) class log-priors.
  const prior = new Float64Array(C).fill(1e-3);
  for (let i = 0; i < n; i++) prior[y[i]] += w[i];
  const ps = prior.reduce((a, b) => a + b, 0);
  const base = Float64Array.from(prior, (p) => Math.log(p / ps));
  const F = new Float64Array(n * C);
  for (let i = 0; i < n; i++) F.set(base, i * C);
  const trees: Tree[] = [];
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const p = new Float64Array(C);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let round = 0; round < o.rounds; round++) {
    const grads: Array<{ g: Float64Array; h: Float64Array }> = Array.from({ length: C }, () => ({ g: new Float64Array(n), h: new Float64Array(n) }));
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, F[i * C + c]);
      let s = 0;
      for (let c = 0; c < C; c++) s += p[c] = Math.exp(F[i * C + c] - max);
      for (let c = 0; c < C; c++) {
        const pc = p[c] / s;
        grads[c].g[i] = w[i] * (pc - (y[i] === c ? 1 : 0));
        grads[c].h[i] = w[i] * Math.max(pc * (1 - pc), 1e-6);
      }
    }
    for (let c = 0; c < C; c++) {
      g.set(grads[c].g);
      h.set(grads[c].h);
      const tree = growTree(binned, cuts, d, B, g, h, all, o);
      trees.push(tree);
      for (let i = 0; i < n; i++) F[i * C + c] += leafValue(tree, (j) => x.data[i * d + j]);
    }
  }
  return { classes: C, dim: d, base, trees };
}

function growTree(binned: Uint8Array, cuts: Float32Array[], d: number, B: number, g: Float64Array, h: Float64Array, rows: Int32Array, o: typeof GBDT_DEFAULTS): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const HG = new Float64Array(B);
  const HH = new Float64Array(B);
  const node = (idx: Int32Array, depth: number): number => {
    const id = feature.length;
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    let G = 0;
    let H = 0;
    for (const i of idx) {
      G += g[i];
      H += h[i];
    }
    value.push((-G / (H + o.lambda)) * o.learningRate);
    if (depth >= o.maxDepth || idx.length < 2) return id;
    const parent = (G * G) / (H + o.lambda);
    let bestGain = 1e-9;
    let bestF = -1;
    let bestB = -1;
    for (let j = 0; j < d; j++) {
      const nb = cuts[j].length + 1;
      if (nb < 2) continue;
      HG.fill(0, 0, nb);
      HH.fill(0, 0, nb);
      for (const i of idx) {
        const b = binned[i * d + j];
        HG[b] += g[i];
        HH[b] += h[i];
      }
      let gl = 0;
      let hl = 0;
      for (let b = 0; b < nb - 1; b++) {
        gl += HG[b];
        hl += HH[b];
        const hr = H - hl;
        if (hl < o.minChildWeight || hr < o.minChildWeight) continue;
        const gr = G - gl;
        const gain = (gl * gl) / (hl + o.lambda) + (gr * gr) / (hr + o.lambda) - parent;
        if (gain > bestGain) {
          bestGain = gain;
          bestF = j;
          bestB = b;
        }
      }
    }
    if (bestF < 0) return id;
    const l: number[] = [];
    const r: number[] = [];
    for (const i of idx) (binned[i * d + bestF] <= bestB ? l : r).push(i);
    if (l.length === 0 || r.length === 0) return id;
    feature[id] = bestF;
    threshold[id] = cuts[bestF][bestB];
    left[id] = node(Int32Array.from(l), depth + 1);
    right[id] = node(Int32Array.from(r), depth + 1);
    return id;
  };
  node(rows, 0);
  return { feature: Int32Array.from(feature), threshold: Float32Array.from(threshold), left: Int32Array.from(left), right: Int32Array.from(right), value: Float32Array.from(value) };
}

function leafValue(t: Tree, at: (j: number) => number): number {
  let k = 0;
  while (t.feature[k] >= 0) k = at(t.feature[k]) <= t.threshold[k] ? t.left[k] : t.right[k];
  return t.value[k];
}

/** Class probabilities, rows × classes. */
export function gbdtPredictProba(m: GbdtModel, x: Features): Float64Array {
  const C = m.classes;
  const out = new Float64Array(x.rows * C);
  for (let i = 0; i < x.rows; i++) {
    const o = out.subarray(i * C, (i + 1) * C);
    o.set(m.base);
    const at = (j: number) => x.data[i * x.dim + j];
    for (let t = 0; t < m.trees.length; t++) o[t % C] += leafValue(m.trees[t], at);
    let max = -Infinity;
    for (const v of o) max = Math.max(max, v);
    let s = 0;
    for (let c = 0; c < C; c++) s += o[c] = Math.exp(o[c] - max);
    for (let c = 0; c < C; c++) o[c] /= s;
  }
  return out;
}
