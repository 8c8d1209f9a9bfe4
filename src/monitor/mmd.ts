import { mulberry32 } from '../core/rng.ts';
import type { DriftOptions, DriftResult, Sample } from './types.ts';

export interface MmdOptions extends DriftOptions {
  permutations?: number;
  /** Up to this many pooled rows the exact quadratic statistic is used; above, random Fourier features. */
  exactLimit?: number;
  /** Random Fourier features used above `exactLimit` (default 512). */
  features?: number;
}

/**
 * Maximum mean discrepancy with an RBF kernel k(x,y) = exp(−‖x−y‖²/(2σ²)), σ = median pairwise
 * distance of the pooled sample (median heuristic, on ≤ 1,000 pooled rows), and a permutation
 * p-value (1 + #{perm ≥ observed}) / (1 + permutations) (Gretton et al. 2012; as used by
 * Rabanser et al. 2019, "Failing Loudly").
 * Up to `exactLimit` pooled rows: the unbiased MMD²ᵤ over the full kernel matrix. Above: the
 * kernel is approximated by D random Fourier features (Rahimi & Recht 2007) and the statistic is
 * ‖mean φ(X) − mean φ(Y)‖², linear in the sample size; the permutation test calibrates it.
 */
export function mmdTest(ref: Sample, cur: Sample, opts: MmdOptions = {}): DriftResult & { sigma: number; method: 'exact' | 'rff' } {
  const alpha = opts.alpha ?? 0.05;
  const P = opts.permutations ?? 100;
  const rand = mulberry32(opts.seed ?? 0);
  const n = ref.rows;
  const N = n + cur.rows;
  const d = ref.dim;
  const row = (i: number) => (i < n ? ref.data.subarray(i * d, (i + 1) * d) : cur.data.subarray((i - n) * d, (i - n + 1) * d));
  const sigma = medianDistance(N, d, row, rand);
  const gamma = 1 / (2 * sigma * sigma);
  const perm = Int32Array.from({ length: N }, (_, i) => i);
  const shuffle = () => {
    for (let i = N - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
  };
  let stat: (isRef: (i: number) => boolean) => number;
  const exact = N <= (opts.exactLimit ?? 4000);
  if (exact) {
    const K = new Float32Array(N * N);
    for (let i = 0; i < N; i++) {
      const a = row(i);
      K[i * N + i] = 1;
      for (let j = i + 1; j < N; j++) {
        const b = row(j);
        let s = 0;
        for (let t = 0; t < d; t++) s += (a[t] - b[t]) ** 2;
        K[i * N + j] = K[j * N + i] = Math.exp(-gamma * s);
      }
    }
    const inRef = new Uint8Array(N);
    stat = (isRef) => {
      for (let i = 0; i < N; i++) inRef[i] = isRef(i) ? 1 : 0;
      let xx = 0;
      let yy = 0;
      let xy = 0;
      for (let i = 0; i < N; i++) {
        const ri = inRef[i];
        for (let j = i + 1; j < N; j++) {
          const k = K[i * N + j];
          if (ri && inRef[j]) xx += k;
          else if (!ri && !inRef[j]) yy += k;
          else xy += k;
        }
      }
      const m = N - n;
      return (2 * xx) / (n * (n - 1)) + (2 * yy) / (m * (m - 1)) - (2 * xy) / (n * m);
    };
  } else {
    const D = opts.features ?? 512;
    const phi = randomFourierFeatures(N, d, row, D, Math.sqrt(2 * gamma), rand);
    const total = new Float64Array(D);
    for (let i = 0; i < N; i++) for (let f = 0; f < D; f++) total[f] += phi[i * D + f];
    const sum = new Float64Array(D);
    stat = (isRef) => {
      sum.fill(0);
      for (let i = 0; i < N; i++) if (isRef(i)) for (let f = 0, o = i * D; f < D; f++) sum[f] += phi[o + f];
      let s = 0;
      const m = N - n;
      for (let f = 0; f < D; f++) s += (sum[f] / n - (total[f] - sum[f]) / m) ** 2;
      return s;
    };
  }
  const observed = stat((i) => i < n);
  // Permuted split: the first n positions of a shuffled order play the reference.
  const rank = new Int32Array(N);
  let ge = 0;
  for (let p = 0; p < P; p++) {
    shuffle();
    for (let k = 0; k < N; k++) rank[perm[k]] = k;
    if (stat((i) => rank[i] < n) >= observed) ge++;
  }
  const pValue = (1 + ge) / (1 + P);
  return { statistic: observed, pValue, drift: pValue < alpha, sigma, method: exact ? 'exact' : 'rff' };
}

function medianDistance(N: number, d: number, row: (i: number) => Float32Array | Float64Array, rand: () => number): number {
  const idx = Array.from({ length: Math.min(N, 1000) }, () => Math.floor(rand() * N));
  const ds: number[] = [];
  for (let a = 0; a < idx.length; a++)
    for (let b = a + 1; b < idx.length; b++) {
      const x = row(idx[a]);
      const y = row(idx[b]);
      let s = 0;
      for (let t = 0; t < d; t++) s += (x[t] - y[t]) ** 2;
      if (s > 0) ds.push(s);
    }
  if (ds.length === 0) return 1;
  ds.sort((p, q) => p - q);
  return Math.sqrt(ds[Math.floor(ds.length / 2)]);
}

/** φ(x) = √(2/D)·cos(ωᵀx + b), ω ~ N(0, 2γ·I), b ~ U[0, 2π): E[φ(x)ᵀφ(y)] = exp(−γ‖x−y‖²). */
function randomFourierFeatures(N: number, d: number, row: (i: number) => Float32Array | Float64Array, D: number, scale: number, rand: () => number): Float32Array {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const W = Float32Array.from({ length: D * d }, () => gauss() * scale);
  const b = Float32Array.from({ length: D }, () => rand() * 2 * Math.PI);
  const out = new Float32Array(N * D);
  const c = Math.sqrt(2 / D);
  for (let i = 0; i < N; i++) {
    const x = row(i);
    for (let f = 0; f < D; f++) {
      let s = b[f];
      const o = f * d;
      for (let t = 0; t < d; t++) s += W[o + t] * x[t];
      out[i * D + f] = c * Math.cos(s);
    }
  }
  return out;
}
